//! A disassembler whose output is `python -m pickletools FILE`'s, line for line:
//! the same column layout, MARK indentation, `(MARK at N)` / `(as N)` notes,
//! argument reprs, the stack and memo checks, and the closing
//! `highest protocol among opcodes = N`. Where pickletools raises, [`dis`]
//! returns the same message after writing the same lines.
//!
//! Lines are written to the output as they are made, so a disassembly held
//! by a writer that streams (the CLI's stdout) costs memory for the input, the
//! emulated stack and the memo keys only, however long the text.

use std::collections::HashMap;
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

/// The emulated memo: the stack object stored under each key, as an index
/// into [`NAMES`]. Keys below [`Memo::DENSE`] (all that picklers write:
/// MEMOIZE counts from 0, PUT/BINPUT follow the memo's size) are one byte
/// each, a few megabytes at most whatever the input; the rest are in a map.
#[derive(Default)]
struct Memo {
    /// `NAMES` index + 1 per dense key; 0 = not stored.
    dense: Vec<u8>,
    other: HashMap<Key, u8>,
    len: usize,
}

impl Memo {
    /// Keys below this are bytes: at most 4 MiB of them.
    const DENSE: i64 = 1 << 22;

    fn dense(k: &Key) -> Option<usize> {
        match k {
            Key::Small(v) if (0..Memo::DENSE).contains(v) => usize::try_from(*v).ok(),
            _ => None,
        }
    }

    /// The stack object stored under `k`.
    fn get(&self, k: &Key) -> Option<&'static str> {
        let code = match Memo::dense(k) {
            Some(i) => self.dense.get(i).copied().filter(|&c| c != 0)? - 1,
            None => *self.other.get(k)?,
        };
        NAMES.get(usize::from(code)).copied()
    }

    fn contains(&self, k: &Key) -> bool {
        self.get(k).is_some()
    }

    /// Stores a stack object under a key known to be absent.
    fn insert(&mut self, k: Key, name: &'static str) {
        let code = NAMES.iter().position(|n| *n == name).unwrap_or(0) as u8;
        match Memo::dense(&k) {
            Some(i) => {
                if self.dense.len() <= i {
                    self.dense.resize(i + 1, 0);
                }
                self.dense[i] = code + 1;
            }
            None => {
                self.other.insert(k, code);
            }
        }
        self.len += 1;
    }

    fn len(&self) -> usize {
        self.len
    }
}

/// pickletools' stack objects, by name (their repr in its messages).
const NAMES: &[&str] = &[
    "any",
    "mark",
    "int_or_bool",
    "int",
    "bytes_or_str",
    "bytes",
    "bytearray",
    "buffer",
    "None",
    "bool",
    "str",
    "float",
    "list",
    "tuple",
    "dict",
    "set",
    "frozenset",
];

/// pickletools' MARK object.
const MARK: &str = "mark";

/// What an opcode leaves on pickletools' stack (its `stack_after`), by name.
fn pushed(op: Op) -> &'static [&'static str] {
    match op.name() {
        "INT" => &["int_or_bool"],
        "BININT" | "BININT1" | "BININT2" | "LONG" | "LONG1" | "LONG4" => &["int"],
        "STRING" | "BINSTRING" | "SHORT_BINSTRING" => &["bytes_or_str"],
        "BINBYTES" | "SHORT_BINBYTES" | "BINBYTES8" => &["bytes"],
        "BYTEARRAY8" => &["bytearray"],
        "NEXT_BUFFER" | "READONLY_BUFFER" => &["buffer"],
        "NONE" => &["None"],
        "NEWTRUE" | "NEWFALSE" => &["bool"],
        "UNICODE" | "SHORT_BINUNICODE" | "BINUNICODE" | "BINUNICODE8" => &["str"],
        "FLOAT" | "BINFLOAT" => &["float"],
        "EMPTY_LIST" | "APPEND" | "APPENDS" | "LIST" => &["list"],
        "EMPTY_TUPLE" | "TUPLE" | "TUPLE1" | "TUPLE2" | "TUPLE3" => &["tuple"],
        "EMPTY_DICT" | "DICT" | "SETITEM" | "SETITEMS" => &["dict"],
        "EMPTY_SET" | "ADDITEMS" => &["set"],
        "FROZENSET" => &["frozenset"],
        "DUP" => &["any", "any"],
        "MARK" => &[MARK],
        _ => match op.stack_after().len() {
            0 => &[],
            _ => &["any"],
        },
    }
}

/// The names [`pushed`] gives every opcode, for the test against
/// pickletools' own table.
pub fn stack_after_names(op: Op) -> &'static [&'static str] {
    pushed(op)
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
    let mut d = Disassembler::new(indent);
    let mut pos = 0usize;
    loop {
        let window = data.get(pos..).unwrap_or_default();
        match d.step(window, true, out)? {
            DisStep::Op(n) => pos += n,
            DisStep::Stop(n) => return Ok(pos + n),
            // Not reached (at the end of the input a step never asks for
            // more), and were it, the input has no STOP.
            DisStep::NeedMore => {
                return Err(DisError {
                    message: "pickle exhausted before seeing STOP".into(),
                    offset: d.offset(),
                })
            }
        }
    }
}

/// What one [`Disassembler::step`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisStep {
    /// One opcode was disassembled; this many bytes of the window are used.
    Op(usize),
    /// STOP was disassembled (and the closing line written); this many bytes
    /// of the window are used.
    Stop(usize),
    /// The window ends inside the next opcode: call again with more bytes.
    NeedMore,
}

/// pickletools' disassembly as a state machine fed with bytes, so that input
/// of any size is disassembled in a window of the size of its largest opcode.
#[derive(Default)]
pub struct Disassembler {
    /// The emulated stack: pickletools' stack objects, by name.
    stack: Vec<&'static str>,
    /// Memo entries are never marks (storing one is an error), so a set of
    /// keys is the memo.
    memo: Memo,
    markstack: Vec<u64>,
    maxproto: i32,
    indent: usize,
    /// Offset of the next opcode in the whole input.
    pos: u64,
}

impl Disassembler {
    /// A disassembler at offset 0, with pickletools' `indentlevel`.
    pub fn new(indent: usize) -> Disassembler {
        Disassembler {
            maxproto: -1,
            indent,
            ..Disassembler::default()
        }
    }

    /// Offset of the next opcode in the whole input.
    pub fn offset(&self) -> u64 {
        self.pos
    }

    /// Disassembles the opcode at the start of `window`, which begins at
    /// [`Self::offset`]; `eof` says that no byte follows the window. Writes
    /// its line (and after STOP the closing line) to `out`.
    pub fn step<W: Write>(
        &mut self,
        window: &[u8],
        eof: bool,
        out: &mut W,
    ) -> Result<DisStep, DisError> {
        let base = self.pos;
        let indent = self.indent;
        let Disassembler {
            stack,
            memo,
            markstack,
            maxproto,
            ..
        } = self;
        let pos = base;
        let fail = |message: String| DisError {
            message,
            offset: pos,
        };
        let r = match read_op(window, 0) {
            Ok(Some(r)) => r,
            Ok(None) if !eof => return Ok(DisStep::NeedMore),
            Ok(None) => return Err(fail("pickle exhausted before seeing STOP".into())),
            Err(super::error::DecodeError::Truncated { .. }) if !eof => {
                return Ok(DisStep::NeedMore)
            }
            Err(super::error::DecodeError::UnknownOpcode { byte, .. }) => {
                return Err(fail(format!(
                    "at position {pos}, opcode {} unknown",
                    bytes_repr(&[byte])
                )))
            }
            Err(e) => {
                return Err(fail(
                    argument_message(window).unwrap_or_else(|| reader_message(&rebased(e, base))),
                ))
            }
        };
        let op = r.op;
        let arg = arg_repr(op, r.arg).map_err(fail)?;
        let code = code_repr(op.byte());
        let mut line = format!(
            "{:5}: {code:<4} {}{}",
            pos,
            " ".repeat(indent * markstack.len()),
            op.name()
        );
        *maxproto = (*maxproto).max(op.proto() as i32);
        let before = op.stack_before();
        let mut numtopop = before.len();
        let mut markmsg: Option<String> = None;
        let mut errormsg: Option<String> = None;
        let takes_mark =
            before.contains(&StackItem::Mark) || (op == Op::Pop && stack.last() == Some(&MARK));
        if takes_mark {
            match markstack.pop() {
                Some(markpos) => {
                    markmsg = Some(format!("(MARK at {markpos})"));
                    while stack.last().is_some_and(|s| *s != MARK) {
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
        let mut pushes: Vec<&'static str> = pushed(op).to_vec();
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
                } else if let Some(&top) = stack.last().filter(|s| **s != MARK) {
                    // pickletools stores the object on top before the
                    // opcode's own stack effect (MEMOIZE pushes `any`).
                    memo.insert(idx, top);
                } else {
                    errormsg = Some("can't store markobject in the memo".into());
                }
            }
            Op::Get | Op::BinGet | Op::LongBinGet => {
                let idx = arg_key(op, r.arg);
                match memo.get(&idx) {
                    Some(stored) => pushes = vec![stored],
                    None => {
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
        if pushes.contains(&MARK) {
            markstack.push(pos);
        }
        stack.extend(pushes);
        self.pos = base + r.end as u64;
        if op != Op::Stop {
            return Ok(DisStep::Op(r.end));
        }
        self.finish(out)?;
        Ok(DisStep::Stop(r.end))
    }

    /// The closing line, and pickletools' check that STOP left nothing but
    /// the result on the stack.
    fn finish<W: Write>(&mut self, out: &mut W) -> Result<(), DisError> {
        let maxproto = self.maxproto;
        writeln!(out, "highest protocol among opcodes = {maxproto}").map_err(|_| DisError {
            message: OUTPUT_FAILED.into(),
            offset: self.pos,
        })?;
        if !self.stack.is_empty() {
            return Err(DisError {
                message: format!("stack not empty after STOP: [{}]", self.stack.join(", ")),
                offset: self.pos,
            });
        }
        Ok(())
    }
}

/// `repr(opcode.code)[1:-1]`: opcodes from 0x80 are C1 controls, so `\x..`.
fn code_repr(b: u8) -> String {
    if b >= 0x80 {
        format!("\\x{b:02x}")
    } else {
        (b as char).to_string()
    }
}

/// pickletools' message for an opcode at the start of `op_and_rest` whose
/// argument is cut short or has an impossible length: which reader failed
/// and, for a payload, how many bytes it expected and found. `None` for line
/// arguments and opcodes whose argument reads.
fn argument_message(op_and_rest: &[u8]) -> Option<String> {
    use super::op::ArgKind as K;
    let op = Op::from_byte(*op_and_rest.first()?)?;
    let rest = op_and_rest.get(1..).unwrap_or_default();
    let short = |what: &str| Some(format!("not enough data in stream to read {what}"));
    let le = |n: usize| -> Option<u64> {
        let b = rest.get(..n)?;
        Some(b.iter().rev().fold(0u64, |v, &x| (v << 8) | u64::from(x)))
    };
    // (length reader, payload name, width of the length field)
    let (len_reader, name, width) = match op.arg() {
        K::Uint1 => return rest.is_empty().then(|| short("uint1")).flatten(),
        K::Uint2 => return (rest.len() < 2).then(|| short("uint2")).flatten(),
        K::Int4 => return (rest.len() < 4).then(|| short("int4")).flatten(),
        K::Uint4 => return (rest.len() < 4).then(|| short("uint4")).flatten(),
        K::Uint8 => return (rest.len() < 8).then(|| short("uint8")).flatten(),
        K::Float8 => return (rest.len() < 8).then(|| short("float8")).flatten(),
        K::String1 => ("uint1", "string1", 1),
        K::Bytes1 => ("uint1", "bytes1", 1),
        K::UnicodeString1 => ("uint1", "unicodestring1", 1),
        K::Long1 => ("uint1", "long1", 1),
        K::String4 => ("int4", "string4", 4),
        K::Long4 => ("int4", "long4", 4),
        K::Bytes4 => ("uint4", "bytes4", 4),
        K::UnicodeString4 => ("uint4", "unicodestring4", 4),
        K::Bytes8 => ("uint8", "bytes8", 8),
        K::ByteArray8 => ("uint8", "bytearray8", 8),
        K::UnicodeString8 => ("uint8", "unicodestring8", 8),
        // GLOBAL and INST read and decode their first line before looking
        // for the second: a bad first line is the error even then.
        K::StringNlNoescapePair => {
            let nl = rest.iter().position(|&b| b == b'\n')?;
            return stringnl(&rest[..nl], false).err();
        }
        _ => return None,
    };
    let Some(raw) = le(width) else {
        return short(len_reader);
    };
    // int4 lengths are signed; uint8 ones beyond sys.maxsize are refused.
    let n: i128 = if width == 4 && len_reader == "int4" {
        i128::from(raw as u32 as i32)
    } else {
        i128::from(raw)
    };
    if n < 0 {
        return Some(format!("{name} byte count < 0: {n}"));
    }
    if width == 8 && n > i128::from(i64::MAX) {
        return Some(format!("{name} byte count > sys.maxsize: {n}"));
    }
    let remain = rest.len() - width;
    if n <= remain as i128 {
        return None;
    }
    Some(match name {
        "long1" | "long4" => format!("not enough data in stream to read {name}"),
        _ => format!("expected {n} bytes in a {name}, but only {remain} remain"),
    })
}

/// A reader error of a window, with its offset in the whole input.
fn rebased(e: super::error::DecodeError, base: u64) -> super::error::DecodeError {
    use super::error::DecodeError as E;
    match e {
        E::BadArgument { offset, op, what } => E::BadArgument {
            offset: offset + base,
            op,
            what,
        },
        E::Truncated { offset, op, what } => E::Truncated {
            offset: offset + base,
            op,
            what,
        },
        other => other,
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

/// `repr(str(data, 'utf-8', 'surrogatepass'))` as pickletools reads it, or
/// the codec's message: where the bad sequence starts, and whether its first
/// byte cannot start one, a later byte does not continue it, or the data
/// ends inside it.
fn utf8_repr(b: &[u8]) -> Result<String, String> {
    validate(b).map_err(|i| utf8_message(b, i))?;
    Ok(str_repr(
        &PyStr::from_utf8(bytes::Bytes::copy_from_slice(b)).expect("validated"),
    ))
}

/// The message of CPython's UTF-8 decoder for a bad sequence at `i`.
fn utf8_message(b: &[u8], i: usize) -> String {
    let first = b.get(i).copied().unwrap_or_default();
    let error_len = match std::str::from_utf8(b.get(i..).unwrap_or_default()) {
        Err(e) if e.valid_up_to() == 0 => e.error_len(),
        _ => Some(1),
    };
    match error_len {
        None if b.len() - i > 1 => format!(
            "'utf-8' codec can't decode bytes in position {i}-{}: unexpected end of data",
            b.len() - 1
        ),
        None => format!(
            "'utf-8' codec can't decode byte 0x{first:02x} in position {i}: unexpected end of data"
        ),
        Some(_) if (0xc2..=0xf4).contains(&first) => format!(
            "'utf-8' codec can't decode byte 0x{first:02x} in position {i}: invalid continuation byte"
        ),
        Some(_) => format!(
            "'utf-8' codec can't decode byte 0x{first:02x} in position {i}: invalid start byte"
        ),
    }
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
