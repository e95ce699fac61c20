//! The reader: one marshalled object, read with an explicit stack (never
//! recursing on the input's nesting), keeping every type code, `FLAG_REF` bit
//! and back-reference.

use bytes::Bytes;
use num_bigint::BigInt;

use super::error::MarshalError;
use super::model::{IntCode, MNodeId, MValue, Marshalled, StrCode, FLAG_REF, MAX_DEPTH};
use crate::pickle::{Int, PyStr};

/// Decodes one marshalled object that fills `data` exactly.
pub fn decode(data: &Bytes) -> Result<Marshalled, MarshalError> {
    let mut r = Reader {
        data,
        pos: 0,
        out: Marshalled::default(),
        complete: Vec::new(),
    };
    let root = r.object()?;
    r.out.root = Some(root);
    if r.pos != data.len() {
        return Err(MarshalError::Trailing {
            offset: r.pos,
            extra: data.len() - r.pos,
        });
    }
    Ok(r.out)
}

/// A container whose items are still being read.
enum Open {
    Seq {
        id: MNodeId,
        code: u8,
        items: Vec<MNodeId>,
        left: usize,
        slot: Option<usize>,
    },
    Dict {
        id: MNodeId,
        #[allow(dead_code)]
        slot: Option<usize>,
        pairs: Vec<(MNodeId, MNodeId)>,
        key: Option<MNodeId>,
    },
}

enum Read {
    Done(MNodeId),
    Open(Open),
}

struct Reader<'a> {
    data: &'a Bytes,
    pos: usize,
    out: Marshalled,
    /// Per reference slot: false while a frozenset is still being read
    /// (CPython reserves the slot with a placeholder and refuses references to it).
    complete: Vec<bool>,
}

impl Reader<'_> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&[u8], MarshalError> {
        let avail = self.data.len() - self.pos;
        if avail < n {
            return Err(MarshalError::Truncated {
                offset: self.pos,
                what,
                needed: n - avail,
            });
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, MarshalError> {
        Ok(self.take(1, what)?[0])
    }

    fn i32(&mut self, what: &'static str) -> Result<i32, MarshalError> {
        let b = self.take(4, what)?;
        Ok(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn f64(&mut self, what: &'static str) -> Result<f64, MarshalError> {
        let b = self.take(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(f64::from_le_bytes(a))
    }

    /// A u32 count, as CPython reads it: negative (as i32) is bad data.
    fn count(&mut self, what: &'static str) -> Result<usize, MarshalError> {
        let at = self.pos;
        let n = self.i32(what)?;
        usize::try_from(n).map_err(|_| MarshalError::Bad {
            offset: at,
            why: "size out of range",
        })
    }

    fn slice(&mut self, n: usize, what: &'static str) -> Result<Bytes, MarshalError> {
        let start = self.pos;
        self.take(n, what)?;
        Ok(self.data.slice(start..start + n))
    }

    fn reserve_ref(&mut self, flagged: bool) -> Option<usize> {
        flagged.then(|| {
            // The node id is patched in once the container exists.
            self.out.refs.push(MNodeId(u32::MAX));
            self.complete.push(false);
            self.out.refs.len() - 1
        })
    }

    /// Reads one object, iteratively: containers wait on an explicit stack.
    fn object(&mut self) -> Result<MNodeId, MarshalError> {
        let mut open: Vec<Open> = Vec::new();
        loop {
            // Dicts end at a TYPE_NULL where a key would start.
            if let Some(Open::Dict {
                id,
                pairs,
                key: None,
                ..
            }) = open.last_mut()
            {
                if self.data.get(self.pos) == Some(&b'0') {
                    self.pos += 1;
                    let (id, pairs) = (*id, std::mem::take(pairs));
                    self.out.nodes[id.0 as usize].value = MValue::Dict(pairs);
                    open.pop();
                    if let Some(done) = self.deliver(&mut open, id) {
                        return Ok(done);
                    }
                    continue;
                }
            }
            if open.len() >= MAX_DEPTH {
                return Err(MarshalError::TooDeep { offset: self.pos });
            }
            let id = match self.header()? {
                Read::Done(id) => id,
                Read::Open(Open::Seq {
                    id,
                    code,
                    items,
                    left: 0,
                    slot,
                }) => {
                    open.push(Open::Seq {
                        id,
                        code,
                        items,
                        left: 0,
                        slot,
                    });
                    self.close_seq(&mut open);
                    id
                }
                Read::Open(o) => {
                    open.push(o);
                    continue;
                }
            };
            if let Some(done) = self.deliver(&mut open, id) {
                return Ok(done);
            }
        }
    }

    /// Hands a finished object up, closing every sequence it completes; returns
    /// the root once nothing is open.
    fn deliver(&mut self, open: &mut Vec<Open>, id: MNodeId) -> Option<MNodeId> {
        let mut id = id;
        loop {
            if let Some(done) = self.attach(open, id) {
                return Some(done);
            }
            match open.last() {
                Some(Open::Seq {
                    left: 0, id: sid, ..
                }) => {
                    id = *sid;
                    self.close_seq(open);
                }
                _ => return None,
            }
        }
    }

    /// Gives a finished object to the innermost open container; returns it if
    /// nothing is open (it is the root).
    fn attach(&mut self, open: &mut [Open], id: MNodeId) -> Option<MNodeId> {
        match open.last_mut() {
            None => Some(id),
            Some(Open::Seq { items, left, .. }) => {
                items.push(id);
                *left = left.saturating_sub(1);
                None
            }
            Some(Open::Dict { pairs, key, .. }) => {
                match key.take() {
                    None => *key = Some(id),
                    Some(k) => pairs.push((k, id)),
                }
                None
            }
        }
    }

    fn close_seq(&mut self, open: &mut Vec<Open>) {
        if let Some(Open::Seq {
            id,
            code,
            items,
            slot,
            ..
        }) = open.pop()
        {
            if let Some(s) = slot {
                self.complete[s] = true;
            }
            self.out.nodes[id.0 as usize].value = match code {
                b')' => MValue::Tuple(items, true),
                b'(' => MValue::Tuple(items, false),
                b'[' => MValue::List(items),
                b'<' => MValue::Set(items),
                _ => MValue::FrozenSet(items),
            };
        }
    }

    /// Reads a type byte and whatever a scalar needs; containers come back open.
    fn header(&mut self) -> Result<Read, MarshalError> {
        let at = self.pos;
        let code = self.u8("type code")?;
        let flagged = code & FLAG_REF != 0;
        let t = code & !FLAG_REF;
        let v = match t {
            b'N' | b'T' | b'F' | b'.' | b'S' => {
                let v = match t {
                    b'N' => MValue::None,
                    b'T' => MValue::True,
                    b'F' => MValue::False,
                    b'.' => MValue::Ellipsis,
                    _ => MValue::StopIteration,
                };
                // CPython never flags these, and its reader does not register them either.
                return Ok(Read::Done(self.out.add(v, flagged)));
            }
            b'i' => {
                let v = self.i32("int")?;
                MValue::Int(Int::Small(v.into()), IntCode::I32)
            }
            b'l' => MValue::Int(self.long(at)?, IntCode::Long),
            b'g' => MValue::Float(self.f64("float")?),
            b'y' => {
                let re = self.f64("complex")?;
                MValue::Complex(re, self.f64("complex")?)
            }
            b'f' => {
                let n = self.u8("float length")? as usize;
                MValue::FloatText(self.slice(n, "float text")?)
            }
            b'x' => {
                let n = self.u8("complex length")? as usize;
                let re = self.slice(n, "complex text")?;
                let n = self.u8("complex length")? as usize;
                MValue::ComplexText(re, self.slice(n, "complex text")?)
            }
            b'z' | b'Z' | b'a' | b'A' => {
                // Short forms have a u8 length, long ones a u32; bytes are latin-1.
                let n = if matches!(t, b'z' | b'Z') {
                    self.u8("string length")? as usize
                } else {
                    self.count("string length")?
                };
                let raw = self.take(n, "string")?;
                let s = PyStr::from_code_points(raw.iter().map(|&b| u32::from(b)));
                let c = match t {
                    b'z' => StrCode::ShortAscii,
                    b'Z' => StrCode::ShortAsciiInterned,
                    b'a' => StrCode::Ascii,
                    _ => StrCode::AsciiInterned,
                };
                MValue::Str(s, c)
            }
            b'u' | b't' => {
                let n = self.count("string length")?;
                let start = self.pos;
                let raw = self.slice(n, "string")?;
                let s = PyStr::from_utf8(raw).map_err(|_| MarshalError::Bad {
                    offset: start,
                    why: "invalid UTF-8 in string",
                })?;
                MValue::Str(
                    s,
                    if t == b'u' {
                        StrCode::Unicode
                    } else {
                        StrCode::Interned
                    },
                )
            }
            b's' => {
                let n = self.count("bytes length")?;
                MValue::Bytes(self.slice(n, "bytes")?)
            }
            b')' | b'(' | b'[' | b'<' | b'>' | b'{' => {
                let n = match t {
                    b')' => self.u8("tuple size")? as usize,
                    b'{' => 0,
                    _ => self.count("container size")?,
                };
                // CPython 3.11 creates and registers every container before its
                // items, except a frozenset, whose slot is a placeholder until built.
                let slot = self.reserve_ref(flagged);
                let id = self.out.add(MValue::None, flagged);
                if let Some(s) = slot {
                    self.out.refs[s] = id;
                    self.complete[s] = t != b'>';
                }
                if t == b'{' {
                    return Ok(Read::Open(Open::Dict {
                        id,
                        slot,
                        pairs: Vec::new(),
                        key: None,
                    }));
                }
                return Ok(Read::Open(Open::Seq {
                    id,
                    code: t,
                    items: Vec::new(),
                    left: n,
                    slot,
                }));
            }
            b'r' => {
                let n = self.i32("reference")?;
                let ok = usize::try_from(n)
                    .ok()
                    .filter(|&i| self.complete.get(i).copied().unwrap_or(false));
                if ok.is_none() {
                    return Err(MarshalError::Bad {
                        offset: at,
                        why: "invalid reference",
                    });
                }
                return Ok(Read::Done(self.out.add(MValue::Ref(n as u32), flagged)));
            }
            b'c' => return Err(MarshalError::CodeObject { offset: at }),
            _ => {
                return Err(MarshalError::UnknownType {
                    offset: at,
                    code: t,
                })
            }
        };
        let id = self.out.add(v, flagged);
        if flagged {
            self.out.refs.push(id);
            self.complete.push(true);
        }
        Ok(Read::Done(id))
    }

    fn long(&mut self, at: usize) -> Result<Int, MarshalError> {
        let n = self.i32("long size")?;
        let count = n.unsigned_abs() as usize;
        let mut digits = Vec::new();
        for j in 0..count {
            let b = self.take(2, "long digit")?;
            let d = u16::from_le_bytes([b[0], b[1]]);
            if d > 0x7fff {
                return Err(MarshalError::Bad {
                    offset: at,
                    why: "digit out of range in long",
                });
            }
            if d == 0 && j + 1 == count {
                return Err(MarshalError::Bad {
                    offset: at,
                    why: "unnormalized long data",
                });
            }
            digits.push(d);
        }
        let mut v = BigInt::from(0);
        for &d in digits.iter().rev() {
            v = (v << 15) + d;
        }
        if n < 0 {
            v = -v;
        }
        Ok(Int::from_big(v))
    }
}
