//! serde support: pickle any `Serialize` type, or read any `Deserialize` type
//! from a pickle, through the value graph (so the bytes are CPython's or
//! Pyrolite's, memo and framing included).
//!
//! Mapping (the one serde-pickle uses, so data moves between the two crates):
//! integers → int, floats → float, `str`/`char` → str, `serde_bytes` → bytes,
//! `None`/`()` → None, sequences → list, tuples and tuple structs → tuple,
//! maps and structs → dict, unit variants → str, other variants →
//! `{variant: content}`. Reading also accepts sets (as sequences) and bytearray
//! (as bytes). Objects (globals, REDUCE, …) cannot be deserialized.
//!
//! Reading walks the graph recursively, as serde does, so nesting is limited
//! ([`MAX_SERDE_DEPTH`]), which also stops cycles; and every visited node is
//! charged against [`Limits::max_expanded`] so shared nodes cannot blow up.

use std::cell::Cell;

use bytes::Bytes;
use num_bigint::BigInt;
use num_traits::ToPrimitive;
use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};
use serde::ser::{self, Serialize};

use super::decode::decode_with;
use super::encode::{encode, Profile};
use super::limits::Limits;
use super::pystr::PyStr;
use super::value::{Builtin, Graph, Int, NodeId, Value};

/// Deepest nesting `from_slice` follows (serde deserializers recurse).
pub const MAX_SERDE_DEPTH: usize = 256;

/// Errors of the serde adapter.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[allow(missing_docs)]
pub enum SerdeError {
    #[error("{0}")]
    Message(String),
    #[error(transparent)]
    Decode(#[from] super::error::DecodeError),
    #[error(transparent)]
    Encode(#[from] super::error::EncodeError),
    #[error("node {node}: expected {expected}, found {found}")]
    Type {
        node: u32,
        expected: &'static str,
        found: &'static str,
    },
    #[error("nesting deeper than {0}")]
    TooDeep(usize),
    #[error("more than {0} nodes visited")]
    TooLarge(u64),
}

impl ser::Error for SerdeError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        SerdeError::Message(msg.to_string())
    }
}

impl de::Error for SerdeError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        SerdeError::Message(msg.to_string())
    }
}

/// Pickles a serde value with the given profile.
pub fn to_vec<T: Serialize + ?Sized>(value: &T, profile: Profile) -> Result<Vec<u8>, SerdeError> {
    Ok(encode(&to_graph(value)?, profile)?)
}

/// Builds the value graph of a serde value.
pub fn to_graph<T: Serialize + ?Sized>(value: &T) -> Result<Graph, SerdeError> {
    let mut g = Graph::new();
    let root = value.serialize(GraphSer { g: &mut g })?;
    g.set_root(root);
    Ok(g)
}

/// Reads a serde value from a pickle.
///
/// Batches of plain data (ints, floats, str, bytes, None, bools in tuples,
/// lists, dicts and sets, as CPython and Pyrolite lay them out) are read straight
/// from the bytes into `T`; any other pickle goes through the value graph. Both
/// give the same result and the same errors (see `serde_direct`).
pub fn from_slice<T: DeserializeOwned>(data: &[u8]) -> Result<T, SerdeError> {
    let limits = Limits::default();
    if let Some(v) = super::serde_direct::try_from_slice(data, &limits, MAX_SERDE_DEPTH) {
        return Ok(v);
    }
    from_slice_via_graph(data)
}

/// Reads a serde value that may borrow from `data`: `&str` and `&[u8]` fields
/// (and `Cow`s) point into the pickle instead of being copied.
///
/// Borrowing needs the direct path (see [`from_slice`]); a pickle that needs the
/// value graph (shared containers, objects, protocol 0/1 text opcodes, …) is
/// read through the graph, where a borrowed field fails with serde's "expected a
/// borrowed string" error and owned fields work as in [`from_slice`].
pub fn from_slice_borrowed<'a, T: serde::Deserialize<'a>>(data: &'a [u8]) -> Result<T, SerdeError> {
    let limits = Limits::default();
    if let Some(v) = super::serde_direct::try_from_slice(data, &limits, MAX_SERDE_DEPTH) {
        return Ok(v);
    }
    let d = decode_with(&Bytes::copy_from_slice(data), &limits)?;
    let budget = Cell::new(limits.max_expanded);
    T::deserialize(NodeDe {
        g: &d.graph,
        id: d.root(),
        depth: 0,
        budget: &budget,
        max: limits.max_expanded,
    })
}

/// The direct path of [`from_slice`] alone: `None` where the pickle needs the
/// value graph. For benchmarks and for the tests that prove both paths agree.
pub fn from_slice_direct<T: DeserializeOwned>(data: &[u8]) -> Option<T> {
    super::serde_direct::try_from_slice(data, &Limits::default(), MAX_SERDE_DEPTH)
}

/// [`from_slice`] through the value graph only, never the direct path.
pub fn from_slice_via_graph<T: DeserializeOwned>(data: &[u8]) -> Result<T, SerdeError> {
    let limits = Limits::default();
    let d = decode_with(&Bytes::copy_from_slice(data), &limits)?;
    from_graph(&d.graph, d.root(), &limits)
}

/// Reads a serde value from one node of a graph.
pub fn from_graph<T: DeserializeOwned>(
    g: &Graph,
    node: NodeId,
    limits: &Limits,
) -> Result<T, SerdeError> {
    let budget = Cell::new(limits.max_expanded);
    T::deserialize(NodeDe {
        g,
        id: node,
        depth: 0,
        budget: &budget,
        max: limits.max_expanded,
    })
}

struct GraphSer<'g> {
    g: &'g mut Graph,
}

struct SeqSer<'g> {
    g: &'g mut Graph,
    items: Vec<NodeId>,
    kind: SeqKind,
    variant: Option<&'static str>,
}

#[derive(Clone, Copy)]
enum SeqKind {
    List,
    Tuple,
}

struct MapSer<'g> {
    g: &'g mut Graph,
    pairs: Vec<(NodeId, NodeId)>,
    key: Option<NodeId>,
    variant: Option<&'static str>,
}

fn wrap_variant(g: &mut Graph, variant: Option<&'static str>, inner: NodeId) -> NodeId {
    match variant {
        None => inner,
        Some(v) => {
            let k = g.add(Value::Str(PyStr::from(v)));
            g.add_dict(&[(k, inner)])
        }
    }
}

impl<'g> ser::Serializer for GraphSer<'g> {
    type Ok = NodeId;
    type Error = SerdeError;
    type SerializeSeq = SeqSer<'g>;
    type SerializeTuple = SeqSer<'g>;
    type SerializeTupleStruct = SeqSer<'g>;
    type SerializeTupleVariant = SeqSer<'g>;
    type SerializeMap = MapSer<'g>;
    type SerializeStruct = MapSer<'g>;
    type SerializeStructVariant = MapSer<'g>;

    fn serialize_bool(self, v: bool) -> Result<NodeId, SerdeError> {
        Ok(self.g.add(Value::Bool(v)))
    }
    fn serialize_i8(self, v: i8) -> Result<NodeId, SerdeError> {
        self.serialize_i64(v as i64)
    }
    fn serialize_i16(self, v: i16) -> Result<NodeId, SerdeError> {
        self.serialize_i64(v as i64)
    }
    fn serialize_i32(self, v: i32) -> Result<NodeId, SerdeError> {
        self.serialize_i64(v as i64)
    }
    fn serialize_i64(self, v: i64) -> Result<NodeId, SerdeError> {
        Ok(self.g.add(Value::Int(Int::Small(v))))
    }
    fn serialize_i128(self, v: i128) -> Result<NodeId, SerdeError> {
        Ok(self.g.add(Value::Int(Int::from_big(BigInt::from(v)))))
    }
    fn serialize_u8(self, v: u8) -> Result<NodeId, SerdeError> {
        self.serialize_i64(v as i64)
    }
    fn serialize_u16(self, v: u16) -> Result<NodeId, SerdeError> {
        self.serialize_i64(v as i64)
    }
    fn serialize_u32(self, v: u32) -> Result<NodeId, SerdeError> {
        self.serialize_i64(v as i64)
    }
    fn serialize_u64(self, v: u64) -> Result<NodeId, SerdeError> {
        Ok(self.g.add(Value::Int(Int::from_big(BigInt::from(v)))))
    }
    fn serialize_u128(self, v: u128) -> Result<NodeId, SerdeError> {
        Ok(self.g.add(Value::Int(Int::from_big(BigInt::from(v)))))
    }
    fn serialize_f32(self, v: f32) -> Result<NodeId, SerdeError> {
        self.serialize_f64(v as f64)
    }
    fn serialize_f64(self, v: f64) -> Result<NodeId, SerdeError> {
        Ok(self.g.add(Value::Float(v)))
    }
    fn serialize_char(self, v: char) -> Result<NodeId, SerdeError> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<NodeId, SerdeError> {
        Ok(self.g.add(Value::Str(PyStr::from(v))))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<NodeId, SerdeError> {
        Ok(self.g.add(Value::Bytes(Bytes::copy_from_slice(v))))
    }
    fn serialize_none(self) -> Result<NodeId, SerdeError> {
        Ok(self.g.add(Value::None))
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<NodeId, SerdeError> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<NodeId, SerdeError> {
        self.serialize_none()
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<NodeId, SerdeError> {
        self.serialize_none()
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<NodeId, SerdeError> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<NodeId, SerdeError> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        v: &T,
    ) -> Result<NodeId, SerdeError> {
        let inner = v.serialize(GraphSer { g: self.g })?;
        Ok(wrap_variant(self.g, Some(variant), inner))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqSer<'g>, SerdeError> {
        Ok(SeqSer {
            g: self.g,
            items: Vec::with_capacity(len.unwrap_or(0).min(4096)),
            kind: SeqKind::List,
            variant: None,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqSer<'g>, SerdeError> {
        Ok(SeqSer {
            g: self.g,
            items: Vec::with_capacity(len.min(4096)),
            kind: SeqKind::Tuple,
            variant: None,
        })
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<SeqSer<'g>, SerdeError> {
        self.serialize_tuple(len)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<SeqSer<'g>, SerdeError> {
        Ok(SeqSer {
            g: self.g,
            items: Vec::with_capacity(len.min(4096)),
            kind: SeqKind::Tuple,
            variant: Some(variant),
        })
    }
    fn serialize_map(self, _: Option<usize>) -> Result<MapSer<'g>, SerdeError> {
        Ok(MapSer {
            g: self.g,
            pairs: Vec::new(),
            key: None,
            variant: None,
        })
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<MapSer<'g>, SerdeError> {
        self.serialize_map(None)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<MapSer<'g>, SerdeError> {
        Ok(MapSer {
            g: self.g,
            pairs: Vec::new(),
            key: None,
            variant: Some(variant),
        })
    }
}

impl SeqSer<'_> {
    fn push<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), SerdeError> {
        let id = v.serialize(GraphSer { g: self.g })?;
        self.items.push(id);
        Ok(())
    }
    fn finish(self) -> Result<NodeId, SerdeError> {
        let v = match self.kind {
            SeqKind::List => Value::List(self.g.new_items(&self.items)),
            SeqKind::Tuple => Value::Tuple(self.g.new_items(&self.items)),
        };
        let id = self.g.add(v);
        Ok(wrap_variant(self.g, self.variant, id))
    }
}

macro_rules! seq_impl {
    ($trait:ident, $method:ident) => {
        impl ser::$trait for SeqSer<'_> {
            type Ok = NodeId;
            type Error = SerdeError;
            fn $method<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), SerdeError> {
                self.push(v)
            }
            fn end(self) -> Result<NodeId, SerdeError> {
                self.finish()
            }
        }
    };
}
seq_impl!(SerializeSeq, serialize_element);
seq_impl!(SerializeTuple, serialize_element);
seq_impl!(SerializeTupleStruct, serialize_field);
seq_impl!(SerializeTupleVariant, serialize_field);

impl MapSer<'_> {
    fn finish(self) -> Result<NodeId, SerdeError> {
        let id = self.g.add_dict(&self.pairs);
        Ok(wrap_variant(self.g, self.variant, id))
    }
    fn field<T: Serialize + ?Sized>(&mut self, key: &'static str, v: &T) -> Result<(), SerdeError> {
        let k = self.g.add(Value::Str(PyStr::from(key)));
        let v = v.serialize(GraphSer { g: self.g })?;
        self.pairs.push((k, v));
        Ok(())
    }
}

impl ser::SerializeMap for MapSer<'_> {
    type Ok = NodeId;
    type Error = SerdeError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, k: &T) -> Result<(), SerdeError> {
        self.key = Some(k.serialize(GraphSer { g: self.g })?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), SerdeError> {
        let k = self
            .key
            .take()
            .ok_or_else(|| SerdeError::Message("value without a key".into()))?;
        let v = v.serialize(GraphSer { g: self.g })?;
        self.pairs.push((k, v));
        Ok(())
    }
    fn end(self) -> Result<NodeId, SerdeError> {
        self.finish()
    }
}

macro_rules! struct_impl {
    ($trait:ident) => {
        impl ser::$trait for MapSer<'_> {
            type Ok = NodeId;
            type Error = SerdeError;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                v: &T,
            ) -> Result<(), SerdeError> {
                self.field(key, v)
            }
            fn end(self) -> Result<NodeId, SerdeError> {
                self.finish()
            }
        }
    };
}
struct_impl!(SerializeStruct);
struct_impl!(SerializeStructVariant);

#[derive(Clone, Copy)]
struct NodeDe<'a> {
    g: &'a Graph,
    id: NodeId,
    depth: usize,
    budget: &'a Cell<u64>,
    max: u64,
}

impl<'a> NodeDe<'a> {
    fn child(&self, id: NodeId) -> Result<NodeDe<'a>, SerdeError> {
        if self.depth + 1 > MAX_SERDE_DEPTH {
            return Err(SerdeError::TooDeep(MAX_SERDE_DEPTH));
        }
        let left = self.budget.get();
        if left == 0 {
            return Err(SerdeError::TooLarge(self.max));
        }
        self.budget.set(left - 1);
        Ok(NodeDe {
            id,
            depth: self.depth + 1,
            ..*self
        })
    }
    fn value(&self) -> Result<&'a Value, SerdeError> {
        self.g
            .try_get(self.id)
            .ok_or_else(|| SerdeError::Message(format!("node {} does not exist", self.id.0)))
    }
    fn wrong(&self, expected: &'static str) -> SerdeError {
        SerdeError::Type {
            node: self.id.0,
            expected,
            found: self.value().map(Value::type_name).unwrap_or("nothing"),
        }
    }
}

/// The elements of a tuple, list or set, as a serde sequence.
struct Items<'a, I> {
    parent: NodeDe<'a>,
    items: I,
}

impl<'de, I: ExactSizeIterator<Item = NodeId>> de::SeqAccess<'de> for Items<'_, I> {
    type Error = SerdeError;
    fn next_element_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, SerdeError> {
        match self.items.next() {
            Some(id) => seed.deserialize(self.parent.child(id)?).map(Some),
            None => Ok(None),
        }
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct Pairs<'a> {
    parent: NodeDe<'a>,
    pairs: std::slice::Iter<'a, (NodeId, NodeId)>,
    value: Option<NodeId>,
}

impl<'de> de::MapAccess<'de> for Pairs<'_> {
    type Error = SerdeError;
    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, SerdeError> {
        match self.pairs.next() {
            Some(&(k, v)) => {
                self.value = Some(v);
                seed.deserialize(self.parent.child(k)?).map(Some)
            }
            None => Ok(None),
        }
    }
    fn next_value_seed<V: de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, SerdeError> {
        let v = self
            .value
            .take()
            .ok_or_else(|| SerdeError::Message("value without a key".into()))?;
        seed.deserialize(self.parent.child(v)?)
    }
}

struct Variant<'a> {
    parent: NodeDe<'a>,
    content: Option<NodeId>,
}

impl<'de> de::VariantAccess<'de> for Variant<'_> {
    type Error = SerdeError;
    fn unit_variant(self) -> Result<(), SerdeError> {
        Ok(())
    }
    fn newtype_variant_seed<T: de::DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, SerdeError> {
        let c = self
            .content
            .ok_or_else(|| self.parent.wrong("a variant with content"))?;
        seed.deserialize(self.parent.child(c)?)
    }
    fn tuple_variant<V: Visitor<'de>>(self, _: usize, visitor: V) -> Result<V::Value, SerdeError> {
        let c = self
            .content
            .ok_or_else(|| self.parent.wrong("a tuple variant"))?;
        de::Deserializer::deserialize_any(self.parent.child(c)?, visitor)
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        let c = self
            .content
            .ok_or_else(|| self.parent.wrong("a struct variant"))?;
        de::Deserializer::deserialize_any(self.parent.child(c)?, visitor)
    }
}

impl<'de> de::EnumAccess<'de> for Variant<'_> {
    type Error = SerdeError;
    type Variant = Self;
    fn variant_seed<V: de::DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self), SerdeError> {
        let name = match self.parent.value()? {
            Value::Str(s) => s,
            Value::Dict(kv) if kv.len() == 1 => self
                .parent
                .g
                .str_of(self.parent.g.pairs(*kv)[0].0)
                .ok_or_else(|| self.parent.wrong("a str variant name"))?,
            _ => return Err(self.parent.wrong("an enum (str or one-entry dict)")),
        };
        let name = name
            .as_str()
            .ok_or_else(|| self.parent.wrong("a variant name without surrogates"))?
            .to_string();
        let v = seed.deserialize(IntoDeserializer::<SerdeError>::into_deserializer(name))?;
        Ok((v, self))
    }
}

impl<'de> de::Deserializer<'de> for NodeDe<'_> {
    type Error = SerdeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        match self.value()? {
            Value::None => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Int(Int::Small(v)) => visitor.visit_i64(*v),
            Value::Int(Int::Big(b)) => match (b.to_u64(), b.to_i128(), b.to_u128()) {
                (Some(v), _, _) => visitor.visit_u64(v),
                (None, Some(v), _) => visitor.visit_i128(v),
                (None, None, Some(v)) => visitor.visit_u128(v),
                _ => Err(self.wrong("an int that fits 128 bits")),
            },
            Value::Float(f) => visitor.visit_f64(*f),
            Value::Str(s) => match s.as_str() {
                Some(t) => visitor.visit_str(t),
                None => Err(self.wrong("a str without lone surrogates")),
            },
            Value::Bytes(b) | Value::ByteArray(b) => visitor.visit_bytes(b),
            Value::Tuple(items)
            | Value::List(items)
            | Value::Set(items)
            | Value::FrozenSet(items) => visitor.visit_seq(Items {
                parent: self,
                items: self.g.items(*items).iter().copied(),
            }),
            Value::Dict(pairs) => visitor.visit_map(Pairs {
                parent: self,
                pairs: self.g.pairs(*pairs).iter(),
                value: None,
            }),
            Value::Object(_) => match self.g.builtin(self.id) {
                Some(Builtin::Bytes(b) | Builtin::ByteArray(b)) => visitor.visit_byte_buf(b),
                Some(Builtin::Set(items) | Builtin::FrozenSet(items)) => visitor.visit_seq(Items {
                    parent: self,
                    items: items.into_iter(),
                }),
                None => Err(self.wrong("builtin data")),
            },
            _ => Err(self.wrong("builtin data")),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        match self.value()? {
            Value::None => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        let content = match self.value()? {
            Value::Dict(kv) if kv.len() == 1 => Some(self.g.pairs(*kv)[0].1),
            _ => None,
        };
        visitor.visit_enum(Variant {
            parent: self,
            content,
        })
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

/// Conversion to and from `serde_pickle::Value` (feature `serde-pickle`).
#[cfg(feature = "serde-pickle")]
pub mod serde_pickle_value {
    use super::*;
    use serde_pickle::{HashableValue as H, Value as SP};

    /// Converts one node to serde-pickle's value (a tree: shared nodes are
    /// copied, within the [`Limits::max_expanded`] budget; cycles and objects
    /// are errors, as serde-pickle has no form for them).
    pub fn to_serde_pickle(g: &Graph, node: NodeId, limits: &Limits) -> Result<SP, SerdeError> {
        let budget = Cell::new(limits.max_expanded);
        conv(NodeDe {
            g,
            id: node,
            depth: 0,
            budget: &budget,
            max: limits.max_expanded,
        })
    }

    fn conv(n: NodeDe) -> Result<SP, SerdeError> {
        let items = |n: &NodeDe, v: &[NodeId]| {
            v.iter()
                .map(|&i| conv(n.child(i)?))
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(match n.value()? {
            Value::None => SP::None,
            Value::Bool(b) => SP::Bool(*b),
            Value::Int(Int::Small(v)) => SP::I64(*v),
            Value::Int(Int::Big(b)) => SP::Int(b.clone()),
            Value::Float(f) => SP::F64(*f),
            Value::Str(s) => SP::String(
                s.as_str()
                    .ok_or_else(|| n.wrong("a str without lone surrogates"))?
                    .to_string(),
            ),
            Value::Bytes(b) | Value::ByteArray(b) => SP::Bytes(b.to_vec()),
            Value::List(v) => SP::List(items(&n, n.g.items(*v))?),
            Value::Tuple(v) => SP::Tuple(items(&n, n.g.items(*v))?),
            Value::Set(v) => SP::Set(
                items(&n, n.g.items(*v))?
                    .into_iter()
                    .map(hashable)
                    .collect::<Result<_, _>>()?,
            ),
            Value::FrozenSet(v) => SP::FrozenSet(
                items(&n, n.g.items(*v))?
                    .into_iter()
                    .map(hashable)
                    .collect::<Result<_, _>>()?,
            ),
            Value::Dict(kv) => {
                let mut m = std::collections::BTreeMap::new();
                for (k, v) in n.g.pairs(*kv) {
                    m.insert(hashable(conv(n.child(*k)?)?)?, conv(n.child(*v)?)?);
                }
                SP::Dict(m)
            }
            Value::Object(_) => match n.g.builtin(n.id) {
                Some(Builtin::Bytes(b) | Builtin::ByteArray(b)) => SP::Bytes(b),
                Some(Builtin::Set(v)) => SP::Set(
                    items(&n, &v)?
                        .into_iter()
                        .map(hashable)
                        .collect::<Result<_, _>>()?,
                ),
                Some(Builtin::FrozenSet(v)) => SP::FrozenSet(
                    items(&n, &v)?
                        .into_iter()
                        .map(hashable)
                        .collect::<Result<_, _>>()?,
                ),
                None => return Err(n.wrong("builtin data")),
            },
            _ => return Err(n.wrong("builtin data")),
        })
    }

    fn hashable(v: SP) -> Result<H, SerdeError> {
        v.into_hashable()
            .map_err(|e| SerdeError::Message(e.to_string()))
    }

    /// Builds a graph from serde-pickle's value (dicts and sets in its sorted order).
    pub fn from_serde_pickle(v: &SP) -> Graph {
        let mut g = Graph::new();
        let root = add(&mut g, v);
        g.set_root(root);
        g
    }

    fn add(g: &mut Graph, v: &SP) -> NodeId {
        let val = match v {
            SP::None => Value::None,
            SP::Bool(b) => Value::Bool(*b),
            SP::I64(i) => Value::Int(Int::Small(*i)),
            SP::Int(b) => Value::Int(Int::from_big(b.clone())),
            SP::F64(f) => Value::Float(*f),
            SP::Bytes(b) => Value::Bytes(Bytes::copy_from_slice(b)),
            SP::String(s) => Value::Str(PyStr::from(s.as_str())),
            SP::List(items) => {
                let ids: Vec<NodeId> = items.iter().map(|i| add(g, i)).collect();
                Value::List(g.new_items(&ids))
            }
            SP::Tuple(items) => {
                let ids: Vec<NodeId> = items.iter().map(|i| add(g, i)).collect();
                Value::Tuple(g.new_items(&ids))
            }
            SP::Set(items) => {
                let ids: Vec<NodeId> = items
                    .iter()
                    .map(|i| add(g, &i.clone().into_value()))
                    .collect();
                Value::Set(g.new_items(&ids))
            }
            SP::FrozenSet(items) => {
                let ids: Vec<NodeId> = items
                    .iter()
                    .map(|i| add(g, &i.clone().into_value()))
                    .collect();
                Value::FrozenSet(g.new_items(&ids))
            }
            SP::Dict(m) => {
                let kv: Vec<(NodeId, NodeId)> = m
                    .iter()
                    .map(|(k, v)| (add(g, &k.clone().into_value()), add(g, v)))
                    .collect();
                Value::Dict(g.new_pairs(&kv))
            }
        };
        g.add(val)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    enum Shape {
        Unit,
        Circle(f64),
        Rect { w: u32, h: u32 },
        Pair(i8, String),
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Row {
        id: i64,
        name: String,
        score: Option<f64>,
        tags: Vec<String>,
        shapes: Vec<Shape>,
        big: u64,
        pair: (bool, char),
    }

    #[test]
    fn structs_round_trip_and_read_like_python_dicts() {
        let row = Row {
            id: -7,
            name: "é".into(),
            score: None,
            tags: vec!["a".into(), "b".into()],
            shapes: vec![
                Shape::Unit,
                Shape::Circle(1.5),
                Shape::Rect { w: 2, h: 3 },
                Shape::Pair(-1, "x".into()),
            ],
            big: u64::MAX,
            pair: (true, 'z'),
        };
        let bytes = to_vec(&row, Profile::PYSPARK).unwrap();
        let back: Row = from_slice(&bytes).unwrap();
        assert_eq!(back, row);
        let d = crate::pickle::decode_slice(&bytes).unwrap();
        assert_eq!(
            crate::pickle::repr(&d.graph).unwrap(),
            "{'id': -7, 'name': 'é', 'score': None, 'tags': ['a', 'b'], 'shapes': ['Unit', {'Circle': 1.5}, {'Rect': {'w': 2, 'h': 3}}, {'Pair': (-1, 'x')}], 'big': 18446744073709551615, 'pair': (True, 'z')}"
        );
    }

    #[test]
    fn cycles_and_depth_are_errors_not_overflows() {
        // l = []; l.append(l)
        let err = from_slice::<serde::de::IgnoredAny>(b"\x80\x04]\x94h\x00a.").unwrap_err();
        assert_eq!(err, SerdeError::TooDeep(MAX_SERDE_DEPTH));
        let mut deep = vec![b'('; 10_000];
        deep.push(b'N');
        deep.extend(std::iter::repeat_n(b'l', 10_000));
        deep.push(b'.');
        assert!(from_slice::<serde::de::IgnoredAny>(&deep).is_err());
    }
}
