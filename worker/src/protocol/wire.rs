//! Field readers and writers over byte slices, with the header's conventions:
//! big-endian `i32`/`i64`, one-byte bools, `i32`-length-prefixed UTF-8 strings.

use bytes::Bytes;

use super::error::{EncodeProblem, FieldProblem, HeaderError};

/// Where a header's bytes ran out: the field being read, where it starts, how
/// many bytes it needs as far as its prefix tells, and how many were there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderCut {
    /// The field (spec name), as in [`HeaderError::Field`]; `init message` when
    /// 4.3's fields all end before the length its init message declares (the
    /// cut is then in the rest of that body).
    pub field: &'static str,
    /// Offset of its first byte from the start of the header.
    pub offset: u64,
    /// Bytes it takes: its whole length once its length prefix was read, else
    /// what the part being read takes (4 for a length prefix, 8 for an `i64`).
    pub needed: u64,
    /// Its bytes that are present (fewer than `needed`).
    pub had: u64,
}

impl std::fmt::Display for HeaderCut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "inside {} at header byte {}: {} of {} bytes",
            self.field, self.offset, self.had, self.needed
        )
    }
}

/// One field read in full: its name and the bytes it took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpan {
    /// The field (spec name).
    pub field: &'static str,
    /// Offset of its first byte from the start of the header.
    pub offset: u64,
    /// Its length, length prefix included.
    pub len: u64,
}

/// Why a read stopped.
#[derive(Debug)]
pub(crate) enum Stop {
    /// Not enough bytes yet: where they ran out.
    Incomplete(HeaderCut),
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
    /// Every field read in full, when asked for ([`Reader::traced`]).
    pub(crate) trace: Option<Vec<FieldSpan>>,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8], max_field: usize, payloads: Payloads<'a>) -> Reader<'a> {
        Reader {
            data,
            pos: 0,
            base: 0,
            max_field,
            payloads,
            trace: None,
        }
    }

    /// The same reader, recording a [`FieldSpan`] for every field it reads.
    pub(crate) fn traced(mut self) -> Reader<'a> {
        self.trace = Some(Vec::new());
        self
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
            trace: self.trace.as_ref().map(|_| Vec::new()),
        }
    }

    /// Appends the fields a [`Reader::nested`] reader read.
    pub(crate) fn absorb(&mut self, inner: Reader<'a>) {
        if let (Some(outer), Some(inner)) = (&mut self.trace, inner.trace) {
            outer.extend(inner);
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

    /// `n` more bytes of the field `field` that starts at `start` (a position
    /// in `data`).
    fn take(&mut self, field: &'static str, start: usize, n: usize) -> Result<&'a [u8], Stop> {
        let end = self.pos.saturating_add(n);
        match self.data.get(self.pos..end) {
            Some(s) => {
                self.pos = end;
                Ok(s)
            }
            None => Err(Stop::Incomplete(HeaderCut {
                field,
                offset: self.base + start as u64,
                needed: (self.pos - start) as u64 + n as u64,
                had: (self.data.len() - start) as u64,
            })),
        }
    }

    /// Records the field that started at `start` and ends here.
    fn read(&mut self, field: &'static str, start: usize) {
        if let Some(t) = &mut self.trace {
            t.push(FieldSpan {
                field,
                offset: self.base + start as u64,
                len: (self.pos - start) as u64,
            });
        }
    }

    fn raw_i32(&mut self, field: &'static str, start: usize) -> Result<i32, Stop> {
        let b = self.take(field, start, 4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(crate) fn i32(&mut self, field: &'static str) -> Result<i32, Stop> {
        let start = self.pos;
        let v = self.raw_i32(field, start)?;
        self.read(field, start);
        Ok(v)
    }

    pub(crate) fn i64(&mut self, field: &'static str) -> Result<i64, Stop> {
        let start = self.pos;
        let b = self.take(field, start, 8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        self.read(field, start);
        Ok(i64::from_be_bytes(a))
    }

    pub(crate) fn bool(&mut self, field: &'static str) -> Result<bool, Stop> {
        let (start, at) = (self.pos, self.offset());
        let v = match self.take(field, start, 1)?[0] {
            0 => false,
            1 => true,
            found => return Err(self.bad(field, at, FieldProblem::NotBool { found })),
        };
        self.read(field, start);
        Ok(v)
    }

    /// A count that drives a loop: negative is refused (Python's `range` would
    /// silently run zero times; the JVM never writes one).
    pub(crate) fn count(&mut self, field: &'static str) -> Result<usize, Stop> {
        let (start, at) = (self.pos, self.offset());
        let n = self.raw_i32(field, start)?;
        let n = usize::try_from(n)
            .map_err(|_| self.bad(field, at, FieldProblem::NegativeCount { count: n }))?;
        self.read(field, start);
        Ok(n)
    }

    /// The length prefix of a byte string, checked against the field limit.
    fn len_prefix(&mut self, field: &'static str, start: usize) -> Result<usize, Stop> {
        let at = self.offset();
        let n = self.raw_i32(field, start)?;
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
        Ok(n)
    }

    fn raw_bytes(&mut self, field: &'static str, start: usize) -> Result<&'a [u8], Stop> {
        let n = self.len_prefix(field, start)?;
        self.take(field, start, n)
    }

    pub(crate) fn bytes(&mut self, field: &'static str) -> Result<&'a [u8], Stop> {
        let start = self.pos;
        let b = self.raw_bytes(field, start)?;
        self.read(field, start);
        Ok(b)
    }

    /// A length-prefixed field that holds the fields after it (4.3's init
    /// message): its declared length and as much of its body as is present,
    /// the length prefix recorded as the field.
    pub(crate) fn enclosing(&mut self, field: &'static str) -> Result<(&'a [u8], usize), Stop> {
        let start = self.pos;
        let declared = self.len_prefix(field, start)?;
        self.read(field, start);
        let present = declared.min(self.data.len() - self.pos);
        let body = self.take(field, start, present)?;
        Ok((body, declared))
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
        let (start, at) = (self.pos, self.offset());
        let b = self.raw_bytes(field, start)?;
        match std::str::from_utf8(b) {
            Ok(s) => {
                self.read(field, start);
                Ok(s.to_owned())
            }
            Err(e) => Err(self.bad(
                field,
                at,
                FieldProblem::NotUtf8 {
                    valid_up_to: e.valid_up_to() as u64,
                },
            )),
        }
    }

    /// A map of `str` pairs, each read in full pushed onto `out` (so that a
    /// caller keeps the pairs read before a cut).
    pub(crate) fn map_into(
        &mut self,
        field: &'static str,
        out: &mut Vec<(String, String)>,
    ) -> Result<(), Stop> {
        let n = self.count(field)?;
        for _ in 0..n {
            let k = self.str(field)?;
            let v = self.str(field)?;
            out.push((k, v));
        }
        Ok(())
    }

    pub(crate) fn map(&mut self, field: &'static str) -> Result<Vec<(String, String)>, Stop> {
        let mut out = Vec::new();
        self.map_into(field, &mut out)?;
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
