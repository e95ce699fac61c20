//! Test support shared by every sparkwire crate.
//!
//! * [`oracle`]: long-lived Python processes that run real PySpark (one per pinned
//!   version, per test binary) and answer requests over stdin/stdout, so
//!   differential property tests can run thousands of cases quickly.
//! * [`hex`] / [`unhex`] and [`golden_dir`] for golden files.
//!
//! Oracles are found through the environment that `scripts/setup.sh` prints
//! (`SPARKWIRE_PY_3_5_9=…/bin/python` etc.), falling back to its default cache
//! location. A missing oracle fails the test that needs it, naming what is
//! missing — everywhere, not only under CI: a differential test that compared
//! nothing must not count as a pass. `SPARKWIRE_ALLOW_MISSING_ORACLES=1` is the
//! explicit, visible opt-out (the test then says on stderr what it skipped).
//!
//! With `SPARKWIRE_ORACLE_COUNTS=DIR` each oracle process records how many
//! requests it answered (`DIR/<oracle>-<version>.<pid>`), which the test command
//! sums up at the end.

pub mod oracle;
pub mod pickle_desc;
pub mod pyrolite;

use std::path::PathBuf;

pub use oracle::{oracle_versions, with_oracle, Oracle, OracleError};

/// Lowercase hex, as the oracle protocol carries bytes.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

/// `None` when the byte strings are equal; otherwise a report naming the first
/// differing offset, both lengths and 16 bytes of context on each side.
pub fn byte_diff(what: &str, ours: &[u8], theirs: &[u8], them: &str) -> Option<String> {
    if ours == theirs {
        return None;
    }
    let at = ours
        .iter()
        .zip(theirs)
        .position(|(x, y)| x != y)
        .unwrap_or(ours.len().min(theirs.len()));
    let lo = at.saturating_sub(16);
    Some(format!(
        "{what}: first difference at byte {at} (ours {} bytes, {them} {} bytes)\n ours: {}\n them: {}",
        ours.len(),
        theirs.len(),
        hex(&ours[lo..(at + 16).min(ours.len())]),
        hex(&theirs[lo..(at + 16).min(theirs.len())]),
    ))
}

/// Inverse of [`hex`]; panics on malformed input (test data only).
pub fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd-length hex string");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digit"))
        .collect()
}

/// The repository's `tests/golden` directory.
pub fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("tests")
        .join("golden")
}

/// Whether a missing oracle may be skipped: only when
/// `SPARKWIRE_ALLOW_MISSING_ORACLES` is set to `1` (or `true`). Otherwise a test
/// whose oracle is missing fails.
pub fn missing_oracles_allowed() -> bool {
    std::env::var("SPARKWIRE_ALLOW_MISSING_ORACLES").is_ok_and(|v| v == "1" || v == "true")
}

/// The answer to a missing oracle: a panic naming it (and the opt-out), or,
/// when [`missing_oracles_allowed`], a line on stderr saying what is skipped.
pub fn oracle_missing(what: &str, why: &str) {
    if !missing_oracles_allowed() {
        panic!(
            "{what} is missing: {why}. Run scripts/setup.sh, or set \
             SPARKWIRE_ALLOW_MISSING_ORACLES=1 to skip oracle checks on purpose"
        );
    }
    eprintln!("SKIPPING {what} (SPARKWIRE_ALLOW_MISSING_ORACLES=1): {why}");
}

/// The command that runs a JDK tool (`java`, `javac`): `SPARKWIRE_JAVA` /
/// `SPARKWIRE_JAVAC` when set, else the name on `PATH`.
pub fn jdk_tool(name: &str) -> std::ffi::OsString {
    std::env::var_os(format!("SPARKWIRE_{}", name.to_ascii_uppercase()))
        .unwrap_or_else(|| name.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips() {
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(unhex(&hex(&all)), all);
        assert_eq!(hex(b"\x00\xff"), "00ff");
    }
}
