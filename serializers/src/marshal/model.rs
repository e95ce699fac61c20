//! The decoded form of a marshal value: an arena of nodes that keeps each
//! object's type code and `FLAG_REF` bit, which is what lets
//! [`encode`](super::encode) give back the bytes a value was read from; and
//! Python's `repr` of it, so marshalled batches read like pickled ones.

use bytes::Bytes;

use crate::pickle::{Int, PyStr};

/// CPython's `MAX_MARSHAL_STACK_DEPTH`.
pub const MAX_DEPTH: usize = 2000;

/// The type-byte bit that registers an object for back-references (`r`).
pub(super) const FLAG_REF: u8 = 0x80;

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
    pub(super) fn byte(self) -> u8 {
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
    pub(super) nodes: Vec<MNode>,
    pub(super) refs: Vec<MNodeId>,
    pub(super) root: Option<MNodeId>,
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

    pub(super) fn add(&mut self, value: MValue, flagged: bool) -> MNodeId {
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
