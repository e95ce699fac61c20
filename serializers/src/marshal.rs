//! Python's `marshal` format, version 4, as `MarshalSerializer` uses it.
//!
//! Decoding is lossless: every type code, the `FLAG_REF` bit of every object and
//! every back-reference is kept, so [`encode`] of a decoded value gives back the
//! same bytes. That matters because marshal's flags are not a function of the
//! value: CPython (`w_ref` in `marshal.c`, version ≥ 3) sets `FLAG_REF` on an
//! object only when its **reference count is above one** at dump time, and writes
//! `r index` for a second occurrence of a flagged object. So `marshal.dumps(x)`
//! depends on who else holds `x`'s parts — a cached small int or a one-character
//! string is flagged, a freshly computed `1000` is not, and the same string twice
//! is written once plus a reference.
//!
//! [`from_pickle`] therefore writes the *canonical* form CPython gives a value
//! freshly built and held only by its container (what `MarshalSerializer` sees for
//! a batch it just assembled): the top object flagged (the caller holds it), the
//! cached singletons flagged (ints −5…256, `''`, one-character latin-1 strings,
//! `b''`, one-byte bytes, `()`), every object that occurs twice flagged on its first
//! occurrence and referenced afterwards, everything else unflagged. Where a
//! user's values have other holders, CPython's bytes differ in flag bits only;
//! both forms decode to the same value.
//!
//! Decoding never executes anything: code objects (`c`) are refused. Nesting is
//! limited to 2000 levels, CPython's `MAX_MARSHAL_STACK_DEPTH`, and read with an
//! explicit stack; declared counts are never used to reserve memory.

use bytes::Bytes;
use num_bigint::{BigInt, Sign};
use thiserror::Error;

use crate::pickle::{Graph, Int, NodeId, PyStr, Value as PValue};

/// CPython's `MAX_MARSHAL_STACK_DEPTH`.
pub const MAX_DEPTH: usize = 2000;

const FLAG_REF: u8 = 0x80;

/// Index of a node in a [`Marshalled`] arena.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MNodeId(pub u32);

/// How an integer was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntCode {
    /// `i`: 32-bit little-endian.
    I32,
    /// `l`: sign-and-count then 15-bit digits.
    Long,
}

/// How a string was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrCode {
    /// `z`: ASCII, u8 length.
    ShortAscii,
    /// `Z`: interned ASCII, u8 length.
    ShortAsciiInterned,
    /// `a`: ASCII, u32 length.
    Ascii,
    /// `A`: interned ASCII, u32 length.
    AsciiInterned,
    /// `u`: UTF-8 (surrogatepass), u32 length.
    Unicode,
    /// `t`: interned UTF-8, u32 length.
    Interned,
}

impl StrCode {
    fn byte(self) -> u8 {
        match self {
            StrCode::ShortAscii => b'z',
            StrCode::ShortAsciiInterned => b'Z',
            StrCode::Ascii => b'a',
            StrCode::AsciiInterned => b'A',
            StrCode::Unicode => b'u',
            StrCode::Interned => b't',
        }
    }
}

/// One marshalled object.
#[derive(Debug, Clone, PartialEq)]
pub enum MValue {
    /// `N`.
    None,
    /// `T`.
    True,
    /// `F`.
    False,
    /// `.`.
    Ellipsis,
    /// `S`.
    StopIteration,
    /// `i` or `l`.
    Int(Int, IntCode),
    /// `g`: binary float.
    Float(f64),
    /// `f`: textual float (marshal version 0/1), kept as written.
    FloatText(Bytes),
    /// `y`: binary complex.
    Complex(f64, f64),
    /// `x`: textual complex, kept as written.
    ComplexText(Bytes, Bytes),
    /// A str; ASCII codes hold latin-1 bytes, which CPython reads one byte per code point.
    Str(PyStr, StrCode),
    /// `s`: bytes (bytearray and memoryview are written the same way).
    Bytes(Bytes),
    /// `)` (small) or `(`.
    Tuple(Vec<MNodeId>, bool),
    /// `[`.
    List(Vec<MNodeId>),
    /// `{` … `0`.
    Dict(Vec<(MNodeId, MNodeId)>),
    /// `<`.
    Set(Vec<MNodeId>),
    /// `>`.
    FrozenSet(Vec<MNodeId>),
    /// `r`: a back-reference to the n-th flagged object.
    Ref(u32),
}

/// A node: the value and whether its type byte carries `FLAG_REF`.
#[derive(Debug, Clone, PartialEq)]
pub struct MNode {
    /// The object.
    pub value: MValue,
    /// `FLAG_REF` was set: the object is registered for back-references.
    pub flagged: bool,
}

/// A decoded marshal value: an arena, the root, and the reference table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Marshalled {
    nodes: Vec<MNode>,
    refs: Vec<MNodeId>,
    root: Option<MNodeId>,
}

/// Why marshal data was refused, and where.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MarshalError {
    /// The data ended inside an object.
    #[error("marshal data truncated at byte {offset}: {what} needs {needed} more bytes")]
    Truncated {
        /// Where the incomplete item starts.
        offset: usize,
        /// What was being read.
        what: &'static str,
        /// Bytes missing.
        needed: usize,
    },
    /// An unknown or unsupported type code.
    #[error("bad marshal data at byte {offset}: unknown type code 0x{code:02x}")]
    UnknownType {
        /// Offset of the type byte.
        offset: usize,
        /// The byte, without `FLAG_REF`.
        code: u8,
    },
    /// Code objects are refused: sparkwire never builds executable objects.
    #[error("marshal data at byte {offset} holds a code object, which sparkwire does not decode")]
    CodeObject {
        /// Offset of the type byte.
        offset: usize,
    },
    /// Something CPython's reader rejects too.
    #[error("bad marshal data at byte {offset}: {why}")]
    Bad {
        /// Offset of the offending item.
        offset: usize,
        /// CPython's wording where it has one.
        why: &'static str,
    },
    /// More than [`MAX_DEPTH`] nested containers.
    #[error("marshal data nested deeper than {MAX_DEPTH} at byte {offset}")]
    TooDeep {
        /// Where the limit was hit.
        offset: usize,
    },
    /// Bytes after the object (`marshal.loads` ignores them; the serializer's frame must not have any).
    #[error("{extra} bytes after the marshalled object at byte {offset}")]
    Trailing {
        /// Where the object ended.
        offset: usize,
        /// How many bytes follow.
        extra: usize,
    },
    /// A value marshal cannot represent (e.g. a pickled object with a reducer).
    #[error("marshal cannot represent a {0}")]
    Unmarshallable(&'static str),
}

impl Marshalled {
    /// The root object.
    pub fn root(&self) -> Option<MNodeId> {
        self.root
    }

    /// A node.
    pub fn get(&self, id: MNodeId) -> Option<&MNode> {
        self.nodes.get(id.0 as usize)
    }

    /// The object a back-reference points at.
    pub fn resolve(&self, id: MNodeId) -> Option<MNodeId> {
        let mut id = id;
        // A reference always names a flagged non-reference node, so one hop suffices;
        // the loop is bounded regardless.
        for _ in 0..2 {
            match self.get(id)?.value {
                MValue::Ref(n) => id = *self.refs.get(n as usize)?,
                _ => return Some(id),
            }
        }
        None
    }

    fn add(&mut self, value: MValue, flagged: bool) -> MNodeId {
        let id = MNodeId(self.nodes.len() as u32);
        self.nodes.push(MNode { value, flagged });
        id
    }

    /// Python's `repr` of the root, with `[...]`-style placeholders for cycles.
    pub fn repr(&self) -> String {
        let mut out = String::new();
        if let Some(root) = self.root {
            self.repr_into(root, &mut out, &mut Vec::new());
        }
        out
    }

    /// Python's `repr` of one node.
    pub fn repr_node(&self, id: MNodeId) -> String {
        let mut out = String::new();
        self.repr_into(id, &mut out, &mut Vec::new());
        out
    }

    fn repr_into(&self, id: MNodeId, out: &mut String, open: &mut Vec<MNodeId>) {
        use crate::pickle::repr::{bytes_repr, float_repr, int_repr, str_repr};
        let Some(id) = self.resolve(id) else {
            out.push_str("<dangling>");
            return;
        };
        let Some(node) = self.get(id) else { return };
        let seq = |this: &Self, items: &[MNodeId], out: &mut String, open: &mut Vec<MNodeId>| {
            for (i, &c) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                this.repr_into(c, out, open);
            }
        };
        let container = matches!(
            node.value,
            MValue::List(_)
                | MValue::Dict(_)
                | MValue::Set(_)
                | MValue::FrozenSet(_)
                | MValue::Tuple(..)
        );
        if container && open.len() >= MAX_DEPTH / 2 {
            // Deeper than Python's own recursion limit (where repr raises RecursionError).
            out.push_str("...");
            return;
        }
        if container && open.contains(&id) {
            out.push_str(match node.value {
                MValue::List(_) => "[...]",
                MValue::Dict(_) => "{...}",
                _ => "...",
            });
            return;
        }
        if container {
            open.push(id);
        }
        match &node.value {
            MValue::None => out.push_str("None"),
            MValue::True => out.push_str("True"),
            MValue::False => out.push_str("False"),
            MValue::Ellipsis => out.push_str("Ellipsis"),
            MValue::StopIteration => out.push_str("<class 'StopIteration'>"),
            MValue::Int(v, _) => out.push_str(&int_repr(v, usize::MAX).unwrap_or_default()),
            MValue::Float(v) => out.push_str(&float_repr(*v)),
            MValue::FloatText(t) => out.push_str(&String::from_utf8_lossy(t)),
            MValue::Complex(re, im) => out.push_str(&complex_repr(*re, *im)),
            MValue::ComplexText(re, im) => out.push_str(&format!(
                "({}+{}j)",
                String::from_utf8_lossy(re),
                String::from_utf8_lossy(im)
            )),
            MValue::Str(s, _) => out.push_str(&str_repr(s)),
            MValue::Bytes(b) => out.push_str(&bytes_repr(b)),
            MValue::Tuple(items, _) => {
                out.push('(');
                seq(self, items, out, open);
                if items.len() == 1 {
                    out.push(',');
                }
                out.push(')');
            }
            MValue::List(items) => {
                out.push('[');
                seq(self, items, out, open);
                out.push(']');
            }
            MValue::Set(items) | MValue::FrozenSet(items) => {
                let frozen = matches!(node.value, MValue::FrozenSet(_));
                if items.is_empty() {
                    out.push_str(if frozen { "frozenset()" } else { "set()" });
                } else {
                    out.push_str(if frozen { "frozenset({" } else { "{" });
                    seq(self, items, out, open);
                    out.push_str(if frozen { "})" } else { "}" });
                }
            }
            MValue::Dict(pairs) => {
                out.push('{');
                for (i, &(k, v)) in pairs.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    self.repr_into(k, out, open);
                    out.push_str(": ");
                    self.repr_into(v, out, open);
                }
                out.push('}');
            }
            MValue::Ref(_) => out.push_str("<dangling>"),
        }
        if container {
            open.pop();
        }
    }
}

/// `repr(complex(re, im))`.
fn complex_repr(re: f64, im: f64) -> String {
    use crate::pickle::repr::float_repr;
    let part = |v: f64| {
        let s = float_repr(v);
        s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
    };
    if re == 0.0 && re.is_sign_positive() {
        format!("{}j", part(im))
    } else {
        let sign = if im.is_sign_negative() || (im.is_nan() && im.is_sign_negative()) {
            ""
        } else {
            "+"
        };
        format!("({}{}{}j)", part(re), sign, part(im))
    }
}

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

/// Writes a decoded value back: the same type codes, flags and references.
pub fn encode(m: &Marshalled) -> Result<Vec<u8>, MarshalError> {
    let mut out = Vec::new();
    let root = m
        .root
        .ok_or(MarshalError::Unmarshallable("value without a root"))?;
    // Explicit stack: items are written in pre-order; dicts need a terminator.
    enum Task {
        Node(MNodeId),
        Byte(u8),
    }
    let mut tasks = vec![Task::Node(root)];
    while let Some(t) = tasks.pop() {
        let id = match t {
            Task::Byte(b) => {
                out.push(b);
                continue;
            }
            Task::Node(id) => id,
        };
        let node = m
            .get(id)
            .ok_or(MarshalError::Unmarshallable("dangling node"))?;
        let flag = if node.flagged { FLAG_REF } else { 0 };
        match &node.value {
            MValue::None => out.push(b'N' | flag),
            MValue::True => out.push(b'T' | flag),
            MValue::False => out.push(b'F' | flag),
            MValue::Ellipsis => out.push(b'.' | flag),
            MValue::StopIteration => out.push(b'S' | flag),
            MValue::Int(v, code) => write_int(&mut out, v, *code, flag),
            MValue::Float(v) => {
                out.push(b'g' | flag);
                out.extend_from_slice(&v.to_le_bytes());
            }
            MValue::FloatText(t) => {
                out.push(b'f' | flag);
                out.push(t.len() as u8);
                out.extend_from_slice(t);
            }
            MValue::Complex(re, im) => {
                out.push(b'y' | flag);
                out.extend_from_slice(&re.to_le_bytes());
                out.extend_from_slice(&im.to_le_bytes());
            }
            MValue::ComplexText(re, im) => {
                out.push(b'x' | flag);
                for t in [re, im] {
                    out.push(t.len() as u8);
                    out.extend_from_slice(t);
                }
            }
            MValue::Str(s, code) => write_str(&mut out, s, *code, flag),
            MValue::Bytes(b) => {
                out.push(b's' | flag);
                out.extend_from_slice(&(b.len() as u32).to_le_bytes());
                out.extend_from_slice(b);
            }
            MValue::Tuple(items, small) => {
                if *small {
                    out.push(b')' | flag);
                    out.push(items.len() as u8);
                } else {
                    out.push(b'(' | flag);
                    out.extend_from_slice(&(items.len() as u32).to_le_bytes());
                }
                tasks.extend(items.iter().rev().map(|&c| Task::Node(c)));
            }
            MValue::List(items) | MValue::Set(items) | MValue::FrozenSet(items) => {
                let c = match node.value {
                    MValue::List(_) => b'[',
                    MValue::Set(_) => b'<',
                    _ => b'>',
                };
                out.push(c | flag);
                out.extend_from_slice(&(items.len() as u32).to_le_bytes());
                tasks.extend(items.iter().rev().map(|&c| Task::Node(c)));
            }
            MValue::Dict(pairs) => {
                out.push(b'{' | flag);
                tasks.push(Task::Byte(b'0'));
                for &(k, v) in pairs.iter().rev() {
                    tasks.push(Task::Node(v));
                    tasks.push(Task::Node(k));
                }
            }
            MValue::Ref(n) => {
                // CPython never flags a reference, but its reader accepts one.
                out.push(b'r' | flag);
                out.extend_from_slice(&n.to_le_bytes());
            }
        }
    }
    Ok(out)
}

fn write_int(out: &mut Vec<u8>, v: &Int, code: IntCode, flag: u8) {
    if let (IntCode::I32, Some(x)) = (code, v.as_i64().and_then(|x| i32::try_from(x).ok())) {
        out.push(b'i' | flag);
        out.extend_from_slice(&x.to_le_bytes());
        return;
    }
    out.push(b'l' | flag);
    let big = v.to_big();
    let (sign, mut mag) = (big.sign(), big.magnitude().clone());
    let mut digits = Vec::new();
    let mask = num_bigint::BigUint::from(0x7fffu32);
    while mag.bits() > 0 {
        let d = (&mag & &mask).to_u32_digits().first().copied().unwrap_or(0) as u16;
        digits.push(d);
        mag >>= 15;
    }
    let n = digits.len() as i32;
    out.extend_from_slice(&(if sign == Sign::Minus { -n } else { n }).to_le_bytes());
    for d in digits {
        out.extend_from_slice(&d.to_le_bytes());
    }
}

fn write_str(out: &mut Vec<u8>, s: &PyStr, code: StrCode, flag: u8) {
    out.push(code.byte() | flag);
    match code {
        StrCode::ShortAscii
        | StrCode::ShortAsciiInterned
        | StrCode::Ascii
        | StrCode::AsciiInterned => {
            let raw: Vec<u8> = s.code_points().map(|c| c as u8).collect();
            if matches!(code, StrCode::ShortAscii | StrCode::ShortAsciiInterned) {
                out.push(raw.len() as u8);
            } else {
                out.extend_from_slice(&(raw.len() as u32).to_le_bytes());
            }
            out.extend_from_slice(&raw);
        }
        StrCode::Unicode | StrCode::Interned => {
            out.extend_from_slice(&(s.as_bytes().len() as u32).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        }
    }
}

/// `marshal.dumps(value)` for a pickle-model value, in the canonical flag form
/// described in the module docs. Refuses what marshal cannot hold (objects,
/// globals) the way `marshal.dumps` raises `ValueError`.
pub fn from_pickle(g: &Graph, root: NodeId) -> Result<Vec<u8>, MarshalError> {
    from_pickle_held(g, root, &[])
}

/// [`from_pickle`] where the nodes in `held` have another holder besides their
/// container (so CPython flags them), e.g. the loop variable of PySpark ≤ 4.1's
/// `BatchedSerializer._batched`, which still names a batch's last item when the
/// batch is written.
pub fn from_pickle_held(g: &Graph, root: NodeId, held: &[NodeId]) -> Result<Vec<u8>, MarshalError> {
    canonical(g, root, held, true, 0)
}

/// The canonical writer; `top_held` says whether the caller holds the root.
fn canonical(
    g: &Graph,
    root: NodeId,
    held: &[NodeId],
    top_held: bool,
    sets: usize,
) -> Result<Vec<u8>, MarshalError> {
    // Sets nest only through tuples and frozensets (elements must be hashable);
    // a deeper chain is a cycle no Python value has.
    if sets > 64 {
        return Err(MarshalError::Unmarshallable("set nested in itself"));
    }
    // Which nodes occur more than once (they are flagged on first write).
    let mut seen = vec![0u8; g.len()];
    let mut stack = vec![root];
    while let Some(id) = stack.pop() {
        let Some(c) = seen.get_mut(id.index()) else {
            return Err(MarshalError::Unmarshallable("dangling node"));
        };
        *c = c.saturating_add(1);
        if *c == 1 {
            stack.extend(g.children(id));
        }
    }
    for h in held {
        if let Some(c) = seen.get_mut(h.index()) {
            *c = c.saturating_add(1);
        }
    }
    let mut w = Canon {
        top_held,
        sets,
        singletons: std::collections::HashMap::new(),
        g,
        seen,
        index: vec![u32::MAX; g.len()],
        next: 0,
        out: Vec::new(),
    };
    w.write(root)?;
    Ok(w.out)
}

/// A value CPython keeps one shared object for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Singleton {
    Int(i64),
    Str(Vec<u8>),
    Bytes(Vec<u8>),
    EmptyTuple,
}

fn singleton_key(v: &PValue) -> Option<Singleton> {
    match v {
        PValue::Int(n) => n
            .as_i64()
            .filter(|x| (-5..=256).contains(x))
            .map(Singleton::Int),
        PValue::Str(s) if s.as_bytes().is_empty() || s.single_char().is_some_and(|c| c < 256) => {
            Some(Singleton::Str(s.as_bytes().to_vec()))
        }
        PValue::Bytes(b) if b.len() <= 1 => Some(Singleton::Bytes(b.to_vec())),
        PValue::Tuple(t) if t.is_empty() => Some(Singleton::EmptyTuple),
        _ => None,
    }
}

struct Canon<'g> {
    top_held: bool,
    sets: usize,
    singletons: std::collections::HashMap<Singleton, u32>,
    g: &'g Graph,
    seen: Vec<u8>,
    index: Vec<u32>,
    next: u32,
    out: Vec<u8>,
}

impl Canon<'_> {
    fn write(&mut self, root: NodeId) -> Result<(), MarshalError> {
        enum Task {
            Node(NodeId, bool),
            Byte(u8),
        }
        let mut tasks = vec![Task::Node(root, self.top_held)];
        let mut depth_guard = 0usize;
        while let Some(t) = tasks.pop() {
            let (id, top) = match t {
                Task::Byte(b) => {
                    self.out.push(b);
                    continue;
                }
                Task::Node(id, top) => (id, top),
            };
            depth_guard += 1;
            if depth_guard > 1 << 28 {
                return Err(MarshalError::Unmarshallable("graph too large"));
            }
            let v = self.g.get(id);
            let i = id.index();
            // Cached singletons are one object however many nodes spell them.
            let key = singleton_key(v);
            let known = key
                .as_ref()
                .and_then(|k| self.singletons.get(k).copied())
                .or((self.index[i] != u32::MAX).then(|| self.index[i]));
            if let Some(idx) = known {
                self.out.push(b'r');
                self.out.extend_from_slice(&idx.to_le_bytes());
                continue;
            }
            let singleton = key.is_some();
            let never = matches!(v, PValue::None | PValue::Bool(_));
            let flagged = !never && (top || singleton || self.seen[i] > 1);
            if flagged {
                self.index[i] = self.next;
                if let Some(k) = key {
                    self.singletons.insert(k, self.next);
                }
                self.next += 1;
            }
            let flag = if flagged { FLAG_REF } else { 0 };
            match v {
                PValue::None => self.out.push(b'N'),
                PValue::Bool(b) => self.out.push(if *b { b'T' } else { b'F' }),
                PValue::Int(n) => {
                    let code = if n.as_i64().is_some_and(|x| i32::try_from(x).is_ok()) {
                        IntCode::I32
                    } else {
                        IntCode::Long
                    };
                    write_int(&mut self.out, n, code, flag);
                }
                PValue::Float(f) => {
                    self.out.push(b'g' | flag);
                    self.out.extend_from_slice(&f.to_le_bytes());
                }
                PValue::Str(s) => {
                    let ascii = s.as_bytes().is_ascii();
                    // '' is interned. One-character latin-1 strings made at run time
                    // (decoded, sliced) are the cached singletons, which CPython 3.11
                    // does not mark interned; the same letter as a code constant is a
                    // different, interned object, but data never holds those.
                    let interned = s.as_bytes().is_empty();
                    let code = match (ascii, s.as_bytes().len() < 256, interned) {
                        (true, true, false) => StrCode::ShortAscii,
                        (true, true, true) => StrCode::ShortAsciiInterned,
                        (true, false, _) => StrCode::Ascii,
                        (false, _, false) => StrCode::Unicode,
                        (false, _, true) => StrCode::Interned,
                    };
                    write_str(&mut self.out, s, code, flag);
                }
                PValue::Bytes(b) | PValue::ByteArray(b) => {
                    self.out.push(b's' | flag);
                    self.out.extend_from_slice(&(b.len() as u32).to_le_bytes());
                    self.out.extend_from_slice(b);
                }
                PValue::Tuple(items) => {
                    if items.len() < 256 {
                        self.out.push(b')' | flag);
                        self.out.push(items.len() as u8);
                    } else {
                        self.out.push(b'(' | flag);
                        self.out
                            .extend_from_slice(&(items.len() as u32).to_le_bytes());
                    }
                    tasks.extend(items.iter().rev().map(|&c| Task::Node(c, false)));
                }
                PValue::List(items) => {
                    self.out.push(b'[' | flag);
                    self.out
                        .extend_from_slice(&(items.len() as u32).to_le_bytes());
                    tasks.extend(items.iter().rev().map(|&c| Task::Node(c, false)));
                }
                PValue::Set(items) | PValue::FrozenSet(items) => {
                    let c = if matches!(v, PValue::Set(_)) {
                        b'<'
                    } else {
                        b'>'
                    };
                    self.out.push(c | flag);
                    self.out
                        .extend_from_slice(&(items.len() as u32).to_le_bytes());
                    // CPython ≥ 3.11 writes set elements sorted by each element's
                    // own `marshal.dumps`, made while only the set holds it.
                    let mut keyed = items
                        .iter()
                        .map(|&c| canonical(self.g, c, &[], false, self.sets + 1).map(|k| (k, c)))
                        .collect::<Result<Vec<_>, _>>()?;
                    keyed.sort_by(|a, b| a.0.cmp(&b.0));
                    // While written, each element is also held by its sort pair.
                    tasks.extend(keyed.iter().rev().map(|&(_, c)| Task::Node(c, true)));
                }
                PValue::Dict(pairs) => {
                    self.out.push(b'{' | flag);
                    tasks.push(Task::Byte(b'0'));
                    for &(k, val) in pairs.iter().rev() {
                        tasks.push(Task::Node(val, false));
                        tasks.push(Task::Node(k, false));
                    }
                }
                other => return Err(MarshalError::Unmarshallable(other.type_name())),
            }
        }
        Ok(())
    }
}

/// Converts a decoded marshal value to the pickle value model (bytes stay bytes;
/// Ellipsis, StopIteration and complex numbers become the globals and reduces
/// `pickle` would write for them), so both formats share `repr` and encoders.
pub fn to_pickle(m: &Marshalled) -> Result<Graph, MarshalError> {
    let root = m
        .root
        .ok_or(MarshalError::Unmarshallable("value without a root"))?;
    to_pickle_node(m, root)
}

/// [`to_pickle`] with `root` as the graph's root.
pub fn to_pickle_node(m: &Marshalled, root: MNodeId) -> Result<Graph, MarshalError> {
    let mut g = Graph::new();
    let mut map: Vec<Option<NodeId>> = vec![None; m.nodes.len()];
    // Two passes: allocate every node, then fill containers (handles cycles through refs).
    for (i, n) in m.nodes.iter().enumerate() {
        let v = match &n.value {
            MValue::Ref(_) => continue,
            MValue::None => PValue::None,
            MValue::True => PValue::Bool(true),
            MValue::False => PValue::Bool(false),
            MValue::Ellipsis | MValue::StopIteration => {
                let name = if n.value == MValue::Ellipsis {
                    "Ellipsis"
                } else {
                    "StopIteration"
                };
                map[i] = Some(g.global("builtins", name));
                continue;
            }
            MValue::Int(v, _) => PValue::Int(v.clone()),
            MValue::Float(f) => PValue::Float(*f),
            MValue::FloatText(t) => PValue::Float(
                std::str::from_utf8(t)
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .ok_or(MarshalError::Bad {
                        offset: 0,
                        why: "unparsable float text",
                    })?,
            ),
            MValue::Complex(..) | MValue::ComplexText(..) => {
                return Err(MarshalError::Unmarshallable("complex"))
            }
            MValue::Str(s, _) => PValue::Str(s.clone()),
            MValue::Bytes(b) => PValue::Bytes(b.clone()),
            MValue::Tuple(..)
            | MValue::List(_)
            | MValue::Dict(_)
            | MValue::Set(_)
            | MValue::FrozenSet(_) => PValue::None,
        };
        map[i] = Some(g.add(v));
    }
    let lookup = |id: MNodeId| -> Result<NodeId, MarshalError> {
        m.resolve(id)
            .and_then(|r| map.get(r.0 as usize).copied().flatten())
            .ok_or(MarshalError::Unmarshallable("dangling reference"))
    };
    for (i, n) in m.nodes.iter().enumerate() {
        let ids = |items: &Vec<MNodeId>| {
            items
                .iter()
                .map(|&c| lookup(c))
                .collect::<Result<Vec<_>, _>>()
        };
        let v = match &n.value {
            MValue::Tuple(items, _) => PValue::Tuple(ids(items)?),
            MValue::List(items) => PValue::List(ids(items)?),
            MValue::Set(items) => PValue::Set(ids(items)?),
            MValue::FrozenSet(items) => PValue::FrozenSet(ids(items)?),
            MValue::Dict(pairs) => PValue::Dict(
                pairs
                    .iter()
                    .map(|&(k, v)| Ok((lookup(k)?, lookup(v)?)))
                    .collect::<Result<Vec<_>, MarshalError>>()?,
            ),
            _ => continue,
        };
        if let Some(id) = map[i] {
            *g.get_mut(id) = v;
        }
    }
    g.set_root(lookup(root)?);
    Ok(g)
}
