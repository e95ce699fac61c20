//! Splits a pickle into opcodes and their raw inline arguments, without
//! interpreting them. Shared by the decoder and the disassembler. Every length is
//! checked against the bytes that remain before anything is sliced, so a declared
//! length never causes an allocation.

use super::error::DecodeError;
use super::op::{ArgKind, Op};

/// An inline argument, as raw as possible (slices borrow the input).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Arg<'a> {
    /// No argument.
    None,
    /// uint1 / uint2 / uint4 / uint8.
    Uint(u64),
    /// int4.
    Int4(i32),
    /// A line without its `\n` (decimal, float, STRING, UNICODE, PERSID).
    Line(&'a [u8]),
    /// Two lines (GLOBAL, INST).
    Pair(&'a [u8], &'a [u8]),
    /// A length-prefixed payload (strings, bytes, LONG1/LONG4 digits).
    Data(&'a [u8]),
    /// float8, already decoded (big-endian IEEE 754).
    Float(f64),
}

/// One opcode with its argument.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RawOp<'a> {
    /// Byte offset of the opcode.
    pub offset: usize,
    /// The opcode.
    pub op: Op,
    /// Its inline argument.
    pub arg: Arg<'a>,
    /// Offset just after the argument.
    pub end: usize,
}

/// Reads the opcode at `pos`. `Ok(None)` at the end of the input.
pub fn read_op(data: &[u8], pos: usize) -> Result<Option<RawOp<'_>>, DecodeError> {
    let Some(&byte) = data.get(pos) else {
        return Ok(None);
    };
    let offset = pos as u64;
    let op = Op::from_byte(byte).ok_or(DecodeError::UnknownOpcode { offset, byte })?;
    let mut cur = Cursor {
        data,
        pos: pos + 1,
        offset,
        op,
    };
    let arg = match op.arg() {
        ArgKind::None => Arg::None,
        ArgKind::Uint1 => Arg::Uint(cur.fixed::<1>("uint1")?[0] as u64),
        ArgKind::Uint2 => Arg::Uint(u16::from_le_bytes(cur.fixed("uint2")?) as u64),
        ArgKind::Int4 => Arg::Int4(i32::from_le_bytes(cur.fixed("int4")?)),
        ArgKind::Uint4 => Arg::Uint(u32::from_le_bytes(cur.fixed("uint4")?) as u64),
        ArgKind::Uint8 => Arg::Uint(u64::from_le_bytes(cur.fixed("uint8")?)),
        ArgKind::Float8 => Arg::Float(f64::from_be_bytes(cur.fixed("float8")?)),
        ArgKind::DecimalNlShort
        | ArgKind::DecimalNlLong
        | ArgKind::StringNl
        | ArgKind::StringNlNoescape
        | ArgKind::UnicodeStringNl
        | ArgKind::FloatNl => Arg::Line(cur.line()?),
        ArgKind::StringNlNoescapePair => {
            let a = cur.line()?;
            Arg::Pair(a, cur.line()?)
        }
        ArgKind::String1 | ArgKind::Bytes1 | ArgKind::UnicodeString1 | ArgKind::Long1 => {
            let n = cur.fixed::<1>("length")?[0] as u64;
            Arg::Data(cur.take(n)?)
        }
        ArgKind::String4 | ArgKind::Long4 => {
            let n = i32::from_le_bytes(cur.fixed("length")?);
            if n < 0 {
                return Err(DecodeError::BadArgument {
                    offset,
                    op,
                    what: format!("negative byte count {n}"),
                });
            }
            Arg::Data(cur.take(n as u64)?)
        }
        ArgKind::Bytes4 | ArgKind::UnicodeString4 => {
            let n = u32::from_le_bytes(cur.fixed("length")?) as u64;
            Arg::Data(cur.take(n)?)
        }
        ArgKind::Bytes8 | ArgKind::ByteArray8 | ArgKind::UnicodeString8 => {
            let n = u64::from_le_bytes(cur.fixed("length")?);
            Arg::Data(cur.take(n)?)
        }
    };
    Ok(Some(RawOp {
        offset: pos,
        op,
        arg,
        end: cur.pos,
    }))
}

struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
    offset: u64,
    op: Op,
}

impl<'a> Cursor<'a> {
    fn truncated(&self, what: String) -> DecodeError {
        DecodeError::Truncated {
            offset: self.offset,
            op: Some(self.op),
            what,
        }
    }

    fn fixed<const N: usize>(&mut self, what: &str) -> Result<[u8; N], DecodeError> {
        let left = self.data.len() - self.pos;
        let b = self
            .data
            .get(self.pos..self.pos + N)
            .ok_or_else(|| self.truncated(format!("{what} needs {N} bytes, {left} left")))?;
        self.pos += N;
        let mut out = [0u8; N];
        out.copy_from_slice(b);
        Ok(out)
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8], DecodeError> {
        let left = (self.data.len() - self.pos) as u64;
        if n > left {
            return Err(self.truncated(format!("argument of {n} bytes, {left} left")));
        }
        let s = &self.data[self.pos..self.pos + n as usize];
        self.pos += n as usize;
        Ok(s)
    }

    fn line(&mut self) -> Result<&'a [u8], DecodeError> {
        let rest = &self.data[self.pos..];
        match rest.iter().position(|&b| b == b'\n') {
            Some(i) => {
                self.pos += i + 1;
                Ok(&rest[..i])
            }
            None => Err(self.truncated("no newline after the argument".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_lengths_are_checked_before_slicing() {
        // BINUNICODE8 claiming 2^63 bytes.
        let mut p = vec![0x8d];
        p.extend((1u64 << 63).to_le_bytes());
        assert!(matches!(read_op(&p, 0), Err(DecodeError::Truncated { .. })));
        // LONG4 with a negative length.
        assert!(matches!(
            read_op(&[0x8b, 0xff, 0xff, 0xff, 0xff], 0),
            Err(DecodeError::BadArgument { .. })
        ));
        assert_eq!(
            read_op(&[0xff], 0),
            Err(DecodeError::UnknownOpcode {
                offset: 0,
                byte: 0xff
            })
        );
        assert_eq!(read_op(&[], 0), Ok(None));
    }
}
