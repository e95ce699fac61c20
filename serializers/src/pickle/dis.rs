//! A disassembler whose output is `python -m pickletools FILE`'s, line for line:
//! the same column layout, MARK indentation, `(MARK at N)` / `(as N)` notes,
//! argument reprs, the stack and memo checks, and the closing
//! `highest protocol among opcodes = N`. Where pickletools raises, [`dis`]
//! returns the same message after writing the same lines.
//!
//! Lines are written to the output as they are made, so a disassembly held
//! by a writer that streams (the CLI's stdout) costs memory for the input, the
//! emulated stack and the memo keys only, however long the text.

use std::collections::HashSet;
use std::fmt::Write;

use num_bigint::BigInt;

use super::decode::{escape_decode, raw_unicode_escape_decode};
use super::op::{Op, StackItem};
use super::pyparse::{parse_float, parse_int, IntTextError};
use super::pystr::PyStr;
use super::pytext::validate;
use super::reader::{read_op, Arg};
use super::repr::{bytearray_repr, bytes_repr, float_repr, int_repr, str_repr};
use super::value::Int;

/// Where and why disassembly stopped, with pickletools' own message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct DisError {
    /// pickletools' `ValueError` text (or the codec error it would raise).
    pub message: String,
    /// Offset of the opcode being processed.
    pub offset: u64,
}

/// Memo keys as pickletools sees them: Python ints (True == 1). Nearly all
/// fit an `i64`, kept inline so that a memo of millions of entries stays
/// small; the rest are normalised to `Big` only when they do not fit, so
/// equal numbers are equal keys.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Small(i64),
    Big(BigInt),
}

impl From<BigInt> for Key {
    fn from(b: BigInt) -> Key {
        match i64::try_from(&b) {
            Ok(v) => Key::Small(v),
            Err(_) => Key::Big(b),
        }
    }
}

/// The emulated memo: which keys are stored. Keys below [`Memo::DENSE`] (all
/// that picklers write: MEMOIZE counts from 0, PUT/BINPUT follow the memo's
/// size) are bits, a few megabytes at most whatever the input; the rest, set.
#[derive(Default)]
struct Memo {
    bits: Vec<u64>,
    other: HashSet<Key>,
    len: usize,
}

impl Memo {
    /// Keys below this are bits: at most 8 MiB of them.
    const DENSE: i64 = 1 << 26;

    fn dense(k: &Key) -> Option<usize> {
        match k {
            Key::Small(v) if (0..Memo::DENSE).contains(v) => usize::try_from(*v).ok(),
            _ => None,
        }
    }

    fn contains(&self, k: &Key) -> bool {
        match Memo::dense(k) {
            Some(i) => self
                .bits
                .get(i / 64)
                .is_some_and(|w| w & (1 << (i % 64)) != 0),
            None => self.other.contains(k),
        }
    }

    /// Stores a key known to be absent.
    fn insert(&mut self, k: Key) {
        match Memo::dense(&k) {
            Some(i) => {
                if self.bits.len() <= i / 64 {
                    self.bits.resize(i / 64 + 1, 0);
                }
                self.bits[i / 64] |= 1 << (i % 64);
            }
            None => {
                self.other.insert(k);
            }
        }
        self.len += 1;
    }

    fn len(&self) -> usize {
        self.len
    }
}

/// What [`dis_with`] reports when the output refused a line (the writer's
/// own error, e.g. a closed pipe, is the caller's to keep).
pub const OUTPUT_FAILED: &str = "the output refused a line";

/// Disassembles the pickle at the start of `data` into `out`.
/// Returns the offset just past STOP.
pub fn dis(data: &[u8], out: &mut String) -> Result<usize, DisError> {
    dis_with(data, out, 4)
}

/// [`dis`] with pickletools' `indentlevel`, into any writer; each line is
/// written as soon as it is known. A writer error stops disassembly with
/// [`OUTPUT_FAILED`].
pub fn dis_with<W: Write>(data: &[u8], out: &mut W, indent: usize) -> Result<usize, DisError> {
    // The emulated stack: true for the MARK object. Memo entries are never
    // marks (storing one is an error), so a set of keys is the memo.
    let mut stack: Vec<bool> = Vec::new();
    let mut memo = Memo::default();
    let mut markstack: Vec<usize> = Vec::new();
    let mut maxproto: i32 = -1;
    let mut pos = 0usize;
    loop {
        let fail = |message: String| DisError {
            message,
            offset: pos as u64,
        };
        let r = match read_op(data, pos) {
            Ok(Some(r)) => r,
            Ok(None) => return Err(fail("pickle exhausted before seeing STOP".into())),
            Err(super::error::DecodeError::UnknownOpcode { byte, .. }) => {
                return Err(fail(format!(
                    "at position {pos}, opcode {} unknown",
                    bytes_repr(&[byte])
                )))
            }
            Err(e) => return Err(fail(reader_message(&e))),
        };
        let op = r.op;
        let arg = arg_repr(op, r.arg).map_err(fail)?;
        let code = code_repr(op.byte());
        let mut line = format!(
            "{:5}: {code:<4} {}{}",
            r.offset,
            " ".repeat(indent * markstack.len()),
            op.name()
        );
        maxproto = maxproto.max(op.proto() as i32);
        let before = op.stack_before();
        let mut numtopop = before.len();
        let mut markmsg: Option<String> = None;
        let mut errormsg: Option<String> = None;
        let takes_mark =
            before.contains(&StackItem::Mark) || (op == Op::Pop && stack.last() == Some(&true));
        if takes_mark {
            match markstack.pop() {
                Some(markpos) => {
                    markmsg = Some(format!("(MARK at {markpos})"));
                    while stack.last() == Some(&false) {
                        stack.pop();
                    }
                    stack.pop();
                    numtopop = before
                        .iter()
                        .position(|s| *s == StackItem::Mark)
                        .unwrap_or(0);
                }
                None => {
                    let m = "no MARK exists on stack".to_string();
                    errormsg = Some(m.clone());
                    markmsg = Some(m);
                }
            }
        }
        let mut pushes: Vec<bool> = op
            .stack_after()
            .iter()
            .map(|s| *s == StackItem::Mark)
            .collect();
        match op {
            Op::Put | Op::BinPut | Op::LongBinPut | Op::Memoize => {
                let idx: Key = if op == Op::Memoize {
                    let n = memo.len();
                    markmsg = Some(format!("(as {n})"));
                    Key::from(BigInt::from(n))
                } else {
                    arg_key(op, r.arg)
                };
                if memo.contains(&idx) {
                    let shown = if op == Op::Memoize {
                        "None".to_string()
                    } else {
                        arg.clone().unwrap_or_default()
                    };
                    errormsg = Some(format!("memo key {shown} already defined"));
                } else if stack.is_empty() {
                    errormsg = Some("stack is empty -- can't store into memo".into());
                } else if stack.last() == Some(&true) {
                    errormsg = Some("can't store markobject in the memo".into());
                } else {
                    memo.insert(idx);
                }
            }
            Op::Get | Op::BinGet | Op::LongBinGet => {
                let idx = arg_key(op, r.arg);
                match memo.contains(&idx) {
                    true => pushes = vec![false],
                    false => {
                        errormsg = Some(format!(
                            "memo key {} has never been stored into",
                            arg.clone().unwrap_or_default()
                        ))
                    }
                }
            }
            _ => {}
        }
        if arg.is_some() || markmsg.is_some() {
            line.push_str(&" ".repeat(10usize.saturating_sub(op.name().len())));
            if let Some(a) = &arg {
                line.push(' ');
                line.push_str(a);
            }
            if let Some(m) = &markmsg {
                line.push(' ');
                line.push_str(m);
            }
        }
        line.push('\n');
        out.write_str(&line)
            .map_err(|_| fail(OUTPUT_FAILED.into()))?;
        if let Some(m) = errormsg {
            return Err(fail(m));
        }
        if stack.len() < numtopop {
            return Err(fail(format!(
                "tries to pop {numtopop} items from stack with only {} items",
                stack.len()
            )));
        }
        stack.truncate(stack.len() - numtopop);
        if pushes.contains(&true) {
            markstack.push(r.offset);
        }
        stack.extend(pushes);
        pos = r.end;
        if op == Op::Stop {
            break;
        }
    }
    writeln!(out, "highest protocol among opcodes = {maxproto}").map_err(|_| DisError {
        message: OUTPUT_FAILED.into(),
        offset: pos as u64,
    })?;
    if !stack.is_empty() {
        let items: Vec<&str> = stack
            .iter()
            .map(|&m| if m { "markobject" } else { "any" })
            .collect();
        return Err(DisError {
            message: format!("stack not empty after STOP: [{}]", items.join(", ")),
            offset: pos as u64,
        });
    }
    Ok(pos)
}

/// `repr(opcode.code)[1:-1]`: opcodes from 0x80 are C1 controls, so `\x..`.
fn code_repr(b: u8) -> String {
    if b >= 0x80 {
        format!("\\x{b:02x}")
    } else {
        (b as char).to_string()
    }
}

fn reader_message(e: &super::error::DecodeError) -> String {
    use super::error::DecodeError as E;
    match e {
        E::Truncated {
            op: Some(op), what, ..
        } => match op.arg() {
            super::op::ArgKind::StringNlNoescapePair
            | super::op::ArgKind::StringNl
            | super::op::ArgKind::StringNlNoescape
            | super::op::ArgKind::DecimalNlShort
            | super::op::ArgKind::DecimalNlLong
            | super::op::ArgKind::FloatNl => "no newline found when trying to read stringnl".into(),
            super::op::ArgKind::UnicodeStringNl => {
                "no newline found when trying to read unicodestringnl".into()
            }
            _ => format!("not enough data in stream: {what}"),
        },
        other => other.to_string(),
    }
}

fn arg_key(op: Op, arg: Arg) -> Key {
    match arg {
        Arg::Uint(v) => i64::try_from(v).map_or_else(|_| Key::Big(BigInt::from(v)), Key::Small),
        Arg::Line(s) => match s {
            b"00" => Key::Small(0),
            b"01" => Key::Small(1),
            _ => match parse_int(s, usize::MAX) {
                Ok(Int::Small(v)) => Key::Small(v),
                Ok(i) => Key::from(i.to_big()),
                Err(_) => Key::Small(0),
            },
        },
        _ => {
            let _ = op;
            Key::Small(-1)
        }
    }
}

fn text_int(s: &[u8]) -> Result<Int, String> {
    parse_int(s, 4300).map_err(|e| match e {
        IntTextError::Invalid => format!("invalid literal for int() with base 10: {}", bytes_repr(s)),
        IntTextError::TooManyDigits => "Exceeds the limit (4300 digits) for integer string conversion: value has more digits; use sys.set_int_max_str_digits() to increase the limit".into(),
    })
}

fn latin1_repr(b: &[u8]) -> String {
    str_repr(&PyStr::from_code_points(b.iter().map(|&c| c as u32)))
}

fn utf8_repr(b: &[u8]) -> Result<String, String> {
    validate(b).map_err(|i| {
        format!(
            "'utf-8' codec can't decode byte 0x{:02x} in position {i}: invalid start byte",
            b[i]
        )
    })?;
    Ok(str_repr(
        &PyStr::from_utf8(bytes::Bytes::copy_from_slice(b)).expect("validated"),
    ))
}

fn stringnl(s: &[u8], strip_quotes: bool) -> Result<String, String> {
    let mut data = s;
    if strip_quotes {
        let q = match data.first() {
            Some(&q @ (b'"' | b'\'')) => q,
            _ => return Err(format!("no string quotes around {}", bytes_repr(data))),
        };
        if data.last() != Some(&q) {
            return Err(format!(
                "strinq quote {} not found at both ends of {}",
                bytes_repr(&[q]),
                bytes_repr(data)
            ));
        }
        // `data[1:-1]`: a lone quote is both ends, and what lies between is
        // empty (pickletools accepts `S'`, where `pickle.loads` refuses it).
        data = data.get(1..data.len() - 1).unwrap_or_default();
    }
    let decoded = escape_decode(data).ok_or_else(|| escape_error(data))?;
    if let Some(i) = decoded.iter().position(|c| !c.is_ascii()) {
        return Err(format!(
            "'ascii' codec can't decode byte 0x{:02x} in position {i}: ordinal not in range(128)",
            decoded[i]
        ));
    }
    Ok(String::from_utf8(decoded).expect("ASCII"))
}

/// `codecs.escape_decode`'s message for bytes it refuses.
fn escape_error(s: &[u8]) -> String {
    let mut i = 0;
    while i < s.len() {
        if s[i] != b'\\' {
            i += 1;
            continue;
        }
        match s.get(i + 1) {
            None => return "Trailing \\ in string".into(),
            Some(b'x') => {
                let ok = s
                    .get(i + 2..i + 4)
                    .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit));
                if !ok {
                    return format!("invalid \\x escape at position {i}");
                }
                i += 4;
            }
            Some(_) => i += 2,
        }
    }
    "invalid escape".into()
}

/// The `raw-unicode-escape` codec's message for bytes it refuses: where the
/// escape starts and where reading it stopped.
fn raw_unicode_escape_error(s: &[u8]) -> String {
    let mut i = 0;
    while i < s.len() {
        let run = s[i..].iter().take_while(|&&b| b == b'\\').count();
        if run == 0 {
            i += 1;
            continue;
        }
        let at = i + run;
        let kind = s.get(at).copied();
        if run % 2 == 0 || !matches!(kind, Some(b'u' | b'U')) {
            i = at;
            continue;
        }
        let start = at - 1;
        let n = if kind == Some(b'u') { 4 } else { 8 };
        let digits = s[at + 1..]
            .iter()
            .take(n)
            .take_while(|b| b.is_ascii_hexdigit())
            .count();
        let end = at + 1 + digits;
        let problem = if digits < n {
            if n == 4 {
                "truncated \\uXXXX escape"
            } else {
                "truncated \\UXXXXXXXX escape"
            }
        } else {
            "\\Uxxxxxxxx out of range"
        };
        let hex = std::str::from_utf8(&s[at + 1..end]).unwrap_or("");
        if digits < n || u32::from_str_radix(hex, 16).is_ok_and(|cp| cp > 0x10FFFF) {
            return format!(
                "'rawunicodeescape' codec can't decode bytes in position {start}-{}: {problem}",
                end - 1
            );
        }
        i = end;
    }
    "'rawunicodeescape' codec can't decode bytes".into()
}

/// `repr(arg)` as pickletools prints it, or its error.
fn arg_repr(op: Op, arg: Arg) -> Result<Option<String>, String> {
    use super::op::ArgKind as K;
    let s = match (op.arg(), arg) {
        (K::None, _) => return Ok(None),
        (_, Arg::Uint(v)) => v.to_string(),
        (_, Arg::Int4(v)) => v.to_string(),
        (_, Arg::Float(f)) => float_repr(f),
        (K::DecimalNlShort, Arg::Line(s)) => match s {
            b"00" => "False".into(),
            b"01" => "True".into(),
            _ => int_repr(&text_int(s)?, 4300).map_err(|e| e.to_string())?,
        },
        (K::DecimalNlLong, Arg::Line(s)) => {
            let s = s.strip_suffix(b"L").unwrap_or(s);
            int_repr(&text_int(s)?, 4300).map_err(|e| e.to_string())?
        }
        (K::FloatNl, Arg::Line(s)) => float_repr(
            parse_float(s)
                .ok_or_else(|| format!("could not convert string to float: {}", bytes_repr(s)))?,
        ),
        (K::StringNl, Arg::Line(s)) => str_repr(&PyStr::from(stringnl(s, true)?)),
        (K::StringNlNoescape, Arg::Line(s)) => str_repr(&PyStr::from(stringnl(s, false)?)),
        (K::StringNlNoescapePair, Arg::Pair(a, b)) => str_repr(&PyStr::from(format!(
            "{} {}",
            stringnl(a, false)?,
            stringnl(b, false)?
        ))),
        (K::UnicodeStringNl, Arg::Line(s)) => {
            str_repr(&raw_unicode_escape_decode(s).ok_or_else(|| raw_unicode_escape_error(s))?)
        }
        (K::String1 | K::String4, Arg::Data(d)) => latin1_repr(d),
        (K::Bytes1 | K::Bytes4 | K::Bytes8, Arg::Data(d)) => bytes_repr(d),
        (K::ByteArray8, Arg::Data(d)) => bytearray_repr(d),
        (K::UnicodeString1 | K::UnicodeString4 | K::UnicodeString8, Arg::Data(d)) => utf8_repr(d)?,
        (K::Long1 | K::Long4, Arg::Data(d)) => {
            int_repr(&Int::from_big(BigInt::from_signed_bytes_le(d)), 4300)
                .map_err(|e| e.to_string())?
        }
        _ => return Ok(None),
    };
    Ok(Some(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_pickletools() {
        // pickle.dumps([1, 2], 4)
        let p = b"\x80\x04\x95\x0b\x00\x00\x00\x00\x00\x00\x00]\x94(K\x01K\x02e.";
        let mut out = String::new();
        dis(p, &mut out).unwrap();
        let want = "    0: \\x80 PROTO      4
    2: \\x95 FRAME      11
   11: ]    EMPTY_LIST
   12: \\x94 MEMOIZE    (as 0)
   13: (    MARK
   14: K        BININT1    1
   16: K        BININT1    2
   18: e        APPENDS    (MARK at 13)
   19: .    STOP
highest protocol among opcodes = 4
";
        assert_eq!(out, want);
    }
}
