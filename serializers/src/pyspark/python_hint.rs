//! Which Python wrote a cloudpickled code object, from evidence that cannot be
//! mistaken for another release's.
//!
//! Opcode numbers alone mislead: 149 is `COPY_FREE_VARS` in 3.11 and 3.12 but
//! `RESUME` in 3.13, so "the first 149 or 151" sends every 3.11 closure to 3.13.
//! Instead each code object is checked against every release this crate has
//! tables for (recorded from the interpreters themselves, see
//! [`python_opcodes`](super::python_opcodes)), and a release stays a candidate
//! only if all of these hold:
//!
//! - the `CodeType` argument count matches: 16 arguments up to 3.10, 18 (with
//!   `co_qualname` and `co_exceptiontable`) from 3.11;
//! - up to 3.10, the line table is the one of the release: 3.10's
//!   `co_linetable` covers every bytecode byte (its address deltas add up to
//!   `len(co_code)`), 3.8 and 3.9's `co_lnotab` stops at the last line's
//!   start (fewer, and empty for one-line code);
//! - every instruction is a real opcode of the release, and every
//!   `COMPARE_OP` names one of the release's comparison operators (3.8 also
//!   compared with `in`, `is` and exception matches, indexes 6–11; 3.12 and
//!   3.13 shift the index left by 4 and 5 bits: all measured by the recorder);
//! - from 3.11, the code starts with `RESUME` after at most the release's
//!   prologue instructions, and each instruction is followed by exactly the
//!   number of inline `CACHE` units the release gives it, all zero (cloudpickle
//!   pickles `co_code`, which CPython returns with its caches cleared).
//!
//! The candidates of all code objects of a payload are intersected: they were
//! made by one interpreter. The answer is a set, said as such ("3.11 or 3.12")
//! when the evidence does not separate the releases — a function as small as
//! `lambda x: x` compiles to the same bytes in 3.11 and 3.12 — and never a
//! single release the evidence does not single out.

use super::python_opcodes::{Release, RELEASES};

/// The newest minor version of Python 3 the tables know.
fn newest() -> u8 {
    RELEASES.last().map_or(0, |r| r.minor)
}

/// What the code objects of a payload say about the Python that pickled them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PythonHint {
    /// Minor versions of Python 3 that every code object fits, oldest first.
    pub candidates: Vec<u8>,
    /// The code objects fit none of the known releases but have the layout of
    /// the newest: a later release than the tables know is likely.
    pub newer: bool,
    /// The code objects have the 15-argument layout of Python 3.7 and earlier.
    pub older: bool,
    /// Code objects the answer rests on.
    pub code_objects: usize,
}

impl PythonHint {
    /// Whether the evidence singles out one release.
    pub fn is_certain(&self) -> bool {
        self.candidates.len() == 1 && !self.newer && !self.older
    }

    /// The answer as a reader should see it: `3.11`, `3.11 or 3.12`, `3.8, 3.9
    /// or 3.10`, `newer than 3.13`, `3.7 or earlier`, or `unknown` when code
    /// objects disagree.
    pub fn label(&self) -> String {
        let names: Vec<String> = self.candidates.iter().map(|m| format!("3.{m}")).collect();
        match (names.as_slice(), self.newer, self.older) {
            ([], true, false) => format!("newer than 3.{}", newest()),
            ([], false, true) => "3.7 or earlier".into(),
            ([], _, _) | (_, true, _) | (_, _, true) => "unknown".into(),
            ([one], false, false) => one.clone(),
            ([rest @ .., last], false, false) => format!("{} or {last}", rest.join(", ")),
        }
    }
}

/// The evidence of one code object: its `CodeType` arguments' count, its
/// `co_code` and its line table.
pub(crate) struct CodeEvidence<'a> {
    /// How many arguments `CodeType(...)` was given.
    pub args: usize,
    /// `co_code`.
    pub code: &'a [u8],
    /// `co_lnotab` (≤ 3.9) or `co_linetable` (≥ 3.10).
    pub line_table: &'a [u8],
}

/// What one code object is consistent with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fit {
    /// Bit `m` set: minor version `m` of Python 3 fits.
    minors: u64,
    newer: bool,
    older: bool,
}

fn fit(e: &CodeEvidence) -> Fit {
    let mut minors = 0u64;
    match e.args {
        15 => {
            return Fit {
                minors: 0,
                newer: false,
                older: true,
            }
        }
        16 | 18 => {}
        _ => {
            return Fit {
                minors: 0,
                newer: false,
                older: false,
            }
        }
    }
    for r in RELEASES {
        let layout = if r.minor >= 11 { 18 } else { 16 };
        if layout == e.args && lines_fit(r, e) && code_fits(r, e.code) {
            minors |= 1 << r.minor;
        }
    }
    Fit {
        minors,
        // The newest layout with bytecode no known release reads.
        newer: minors == 0 && e.args == 18 && newest() >= 11,
        older: false,
    }
}

/// The line-table rule separating 3.10 from 3.8 and 3.9.
fn lines_fit(r: &Release, e: &CodeEvidence) -> bool {
    let covered: usize = e
        .line_table
        .iter()
        .step_by(2)
        .map(|&b| usize::from(b))
        .sum();
    match r.minor {
        10 => covered == e.code.len(),
        8 | 9 => covered < e.code.len() || e.code.is_empty(),
        _ => true,
    }
}

fn defined(r: &Release, op: u8) -> bool {
    r.defined[usize::from(op / 64)] >> (op % 64) & 1 == 1
}

fn caches(r: &Release, op: u8) -> usize {
    r.caches
        .iter()
        .find(|&&(o, _)| o == op)
        .map_or(0, |&(_, n)| usize::from(n))
}

/// Whether `code` reads as bytecode of release `r`.
fn code_fits(r: &Release, code: &[u8]) -> bool {
    if !code.len().is_multiple_of(2) || code.is_empty() {
        return false;
    }
    // Units are (opcode, argument) pairs; the Vec is as long as bytes present.
    let units: Vec<(u8, u8)> = code.chunks_exact(2).map(|u| (u[0], u[1])).collect();
    if let Some(resume) = r.resume {
        let start = units.iter().position(|&(op, _)| !r.prologue.contains(&op));
        match start {
            Some(i) if units[i].0 == resume => {}
            _ => return false,
        }
    }
    let (compare, operators, shift) = r.compare;
    let mut i = 0;
    while let Some(&(op, arg)) = units.get(i) {
        if !defined(r, op) {
            return false;
        }
        let widened = i > 0 && units[i - 1].0 == r.extended_arg;
        if op == compare && !widened && arg >> shift >= operators {
            return false;
        }
        let n = caches(r, op);
        let Some(cache) = units.get(i + 1..i + 1 + n) else {
            return false;
        };
        if cache.iter().any(|&u| u != (0, 0)) {
            return false;
        }
        i += 1 + n;
    }
    true
}

/// Combines the evidence of every code object of one payload.
#[derive(Debug, Clone, Default)]
pub(crate) struct HintBuilder {
    fit: Option<Fit>,
    code_objects: usize,
}

impl HintBuilder {
    /// Adds one code object's evidence.
    pub fn add(&mut self, e: &CodeEvidence) {
        let f = fit(e);
        self.code_objects += 1;
        self.fit = Some(match self.fit {
            None => f,
            Some(g) => Fit {
                minors: g.minors & f.minors,
                newer: g.newer && f.newer,
                older: g.older && f.older,
            },
        });
    }

    /// The hint, or `None` without any code object.
    pub fn finish(self) -> Option<PythonHint> {
        let f = self.fit?;
        Some(PythonHint {
            candidates: (0..64u8).filter(|m| f.minors >> m & 1 == 1).collect(),
            newer: f.newer,
            older: f.older,
            code_objects: self.code_objects,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The generated tables hold what the interpreters recorded.
    #[test]
    fn tables_match_the_recorded_opcode_facts() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/golden/python-hint/opcodes");
        let mut seen = 0;
        for r in RELEASES {
            let path = dir.join(format!("py3.{}.json", r.minor));
            let text = std::fs::read_to_string(&path).expect("recorded opcode facts");
            let facts: serde_json::Value = serde_json::from_str(&text).expect("json");
            let ops = facts["opcodes"].as_object().expect("opcodes");
            let mut want = [0u64; 4];
            for (name, v) in ops {
                let op = v[0].as_u64().expect("number") as u8;
                let n = v[1].as_u64().expect("caches") as usize;
                want[usize::from(op / 64)] |= 1 << (op % 64);
                assert_eq!(caches(r, op), n, "3.{} {name}", r.minor);
                if name == "RESUME" {
                    assert_eq!(r.resume, Some(op));
                }
                if name == "EXTENDED_ARG" {
                    assert_eq!(r.extended_arg, op);
                }
            }
            assert_eq!(r.defined, want, "3.{}", r.minor);
            let c = &facts["compare"];
            let n = |k: &str| c[k].as_u64().expect("compare facts") as u8;
            assert_eq!(r.compare, (n("opcode"), n("operators"), n("shift")));
            seen += 1;
        }
        assert_eq!(seen, 6, "3.8 to 3.13");
    }

    #[test]
    fn labels_say_how_sure_they_are() {
        let h = |c: &[u8], newer, older| PythonHint {
            candidates: c.to_vec(),
            newer,
            older,
            code_objects: 1,
        };
        assert_eq!(h(&[11], false, false).label(), "3.11");
        assert!(h(&[11], false, false).is_certain());
        assert_eq!(h(&[11, 12], false, false).label(), "3.11 or 3.12");
        assert!(!h(&[11, 12], false, false).is_certain());
        assert_eq!(h(&[8, 9, 10], false, false).label(), "3.8, 3.9 or 3.10");
        assert_eq!(h(&[], true, false).label(), "newer than 3.13");
        assert_eq!(h(&[], false, true).label(), "3.7 or earlier");
        assert_eq!(h(&[], false, false).label(), "unknown");
    }

    #[test]
    fn bytecode_no_release_reads_is_not_given_a_release() {
        // The 3.11+ layout, but no RESUME any known release would start with.
        let mut b = HintBuilder::default();
        b.add(&CodeEvidence {
            args: 18,
            code: &[0xff, 0, 0xff, 0],
            line_table: b"",
        });
        let h = b.finish().unwrap();
        assert_eq!((h.candidates.len(), h.newer), (0, true));
        assert_eq!(h.label(), "newer than 3.13");
        // 3.7's 15-argument layout is older than every table.
        let mut b = HintBuilder::default();
        b.add(&CodeEvidence {
            args: 15,
            code: &[100, 0, 83, 0],
            line_table: b"",
        });
        assert_eq!(b.finish().unwrap().label(), "3.7 or earlier");
    }

    #[test]
    fn odd_or_empty_bytecode_fits_nothing() {
        for code in [&b""[..], &b"\x97"[..]] {
            let e = CodeEvidence {
                args: 18,
                code,
                line_table: b"",
            };
            assert_eq!(fit(&e).minors, 0);
        }
    }
}
