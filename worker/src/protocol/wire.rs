//! Field readers and writers over byte slices, with the header's conventions:
//! big-endian `i32`/`i64`, one-byte bools, `i32`-length-prefixed UTF-8 strings.

use bytes::Bytes;

use super::error::{EncodeProblem, FieldProblem, HeaderError};

/// Why a read stopped.
#[derive(Debug)]
pub(crate) enum Stop {
    /// Not enough bytes yet.
    Incomplete,
    /// The bytes are wrong.
    Bad(HeaderError),
}

impl From<HeaderError> for Stop {
    fn from(e: HeaderError) -> Stop {
        Stop::Bad(e)
    }
}

/// What [`Reader::payload`] gives for a pickled payload field.
#[derive(Clone, Copy)]
pub(crate) enum Payloads<'a> {
    /// A copy (the input is a borrowed slice).
    Copy,
    /// Nothing: only the header's length is wanted.
    Skip,
    /// A zero-copy slice of `whole`, in which `data[0]` sits at `at`.
    Share { whole: &'a Bytes, at: usize },
}

pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pub(crate) pos: usize,
    /// Offset of `data[0]` in the header, for error positions.
    base: u64,
    /// Longest field accepted ([`super::Limits::max_field`]).
    max_field: usize,
    payloads: Payloads<'a>,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8], max_field: usize, payloads: Payloads<'a>) -> Reader<'a> {
        Reader {
            data,
            pos: 0,
            base: 0,
            max_field,
            payloads,
        }
    }

    /// A reader over `body`, the field just read (4.3's init message): same
    /// limits and payload mode, positions still counted from the header start.
    pub(crate) fn nested(&self, body: &'a [u8]) -> Reader<'a> {
        let start = self.pos - body.len();
        Reader {
            data: body,
            pos: 0,
            base: self.base + start as u64,
            max_field: self.max_field,
            payloads: match self.payloads {
                Payloads::Share { whole, at } => Payloads::Share {
                    whole,
                    at: at + start,
                },
                other => other,
            },
        }
    }

    pub(crate) fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    pub(crate) fn bad(&self, field: &'static str, at: u64, why: FieldProblem) -> Stop {
        Stop::Bad(HeaderError::Field {
            field,
            offset: at,
            why,
        })
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Stop> {
        let end = self.pos.checked_add(n).ok_or(Stop::Incomplete)?;
        let s = self.data.get(self.pos..end).ok_or(Stop::Incomplete)?;
        self.pos = end;
        Ok(s)
    }

    pub(crate) fn i32(&mut self) -> Result<i32, Stop> {
        let b = self.take(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(crate) fn i64(&mut self) -> Result<i64, Stop> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(i64::from_be_bytes(a))
    }

    pub(crate) fn bool(&mut self, field: &'static str) -> Result<bool, Stop> {
        let at = self.offset();
        match self.take(1)?[0] {
            0 => Ok(false),
            1 => Ok(true),
            found => Err(self.bad(field, at, FieldProblem::NotBool { found })),
        }
    }

    /// A count that drives a loop: negative is refused (Python's `range` would
    /// silently run zero times; the JVM never writes one).
    pub(crate) fn count(&mut self, field: &'static str) -> Result<usize, Stop> {
        let at = self.offset();
        let n = self.i32()?;
        usize::try_from(n)
            .map_err(|_| self.bad(field, at, FieldProblem::NegativeCount { count: n }))
    }

    pub(crate) fn bytes(&mut self, field: &'static str) -> Result<&'a [u8], Stop> {
        let at = self.offset();
        let n = self.i32()?;
        let n = usize::try_from(n)
            .map_err(|_| self.bad(field, at, FieldProblem::NegativeLength { len: n }))?;
        if n > self.max_field {
            return Err(self.bad(
                field,
                at,
                FieldProblem::TooLong {
                    len: n as u64,
                    max: self.max_field as u64,
                },
            ));
        }
        self.take(n)
    }

    /// A pickled payload: a length-prefixed byte field as [`Bytes`], shared with
    /// the input when it is a [`Bytes`] (no copy), copied otherwise.
    pub(crate) fn payload(&mut self, field: &'static str) -> Result<Bytes, Stop> {
        let b = self.bytes(field)?;
        Ok(match self.payloads {
            Payloads::Copy => Bytes::copy_from_slice(b),
            Payloads::Skip => Bytes::new(),
            Payloads::Share { whole, at } => whole.slice(at + self.pos - b.len()..at + self.pos),
        })
    }

    pub(crate) fn str(&mut self, field: &'static str) -> Result<String, Stop> {
        let at = self.offset();
        let b = self.bytes(field)?;
        match std::str::from_utf8(b) {
            Ok(s) => Ok(s.to_owned()),
            Err(e) => Err(self.bad(
                field,
                at,
                FieldProblem::NotUtf8 {
                    valid_up_to: e.valid_up_to() as u64,
                },
            )),
        }
    }

    pub(crate) fn map(&mut self, field: &'static str) -> Result<Vec<(String, String)>, Stop> {
        let n = self.count(field)?;
        let mut out = Vec::new();
        for _ in 0..n {
            let k = self.str(field)?;
            let v = self.str(field)?;
            out.push((k, v));
        }
        Ok(out)
    }
}

/// Appends header fields.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    pub(crate) out: Vec<u8>,
}

impl Writer {
    pub(crate) fn i32(&mut self, v: i32) {
        self.out.extend_from_slice(&v.to_be_bytes());
    }

    pub(crate) fn i64(&mut self, v: i64) {
        self.out.extend_from_slice(&v.to_be_bytes());
    }

    pub(crate) fn bool(&mut self, v: bool) {
        self.out.push(u8::from(v));
    }

    pub(crate) fn len(&mut self, n: usize, field: &'static str) -> Result<(), EncodeProblem> {
        let n = i32::try_from(n).map_err(|_| EncodeProblem::TooLong { field })?;
        self.i32(n);
        Ok(())
    }

    pub(crate) fn bytes(&mut self, b: &[u8], field: &'static str) -> Result<(), EncodeProblem> {
        self.len(b.len(), field)?;
        self.out.extend_from_slice(b);
        Ok(())
    }

    pub(crate) fn str(&mut self, s: &str, field: &'static str) -> Result<(), EncodeProblem> {
        self.bytes(s.as_bytes(), field)
    }

    pub(crate) fn map(
        &mut self,
        m: &[(String, String)],
        field: &'static str,
    ) -> Result<(), EncodeProblem> {
        self.len(m.len(), field)?;
        for (k, v) in m {
            self.str(k, field)?;
            self.str(v, field)?;
        }
        Ok(())
    }
}
