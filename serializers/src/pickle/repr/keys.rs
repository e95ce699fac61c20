//! Equal keys collapse when Python builds a dict or set: `{1: 'a', 1.0: 'b'}`
//! is `{1: 'b'}`. A pickle may still carry both (SETITEMS with a repeated
//! key, a hand-made set), so the repr drops them as `pickle.loads` would.
//!
//! Keys are compared through a canonical form (numbers by value, str and
//! bytes by content, tuples item by item, extension-registry references by
//! code, since every EXT of one code loads the same registered object);
//! anything else — objects whose `__eq__` would decide, NaN — only equals
//! itself (the same node).

use std::collections::HashMap;

use num_bigint::BigInt;
use num_traits::ToPrimitive;

use super::super::value::{Graph, Int, NodeId, Value};
use super::hash::{budget, float_as_int};

/// Deepest tuple nesting canonicalized; deeper tuples compare by identity.
const MAX_DEPTH: u32 = 32;

#[derive(Debug, PartialEq, Eq, Hash)]
enum Key {
    None,
    /// An int that fits in `i64` (always this variant then, so equal ints
    /// have equal keys).
    Small(i64),
    Int(BigInt),
    Float(u64),
    Str(Vec<u8>),
    Bytes(Vec<u8>),
    Tuple(Vec<Key>),
    /// `copyreg._extension_registry[code]`: CPython's pickler writes an EXT
    /// opcode for each reference (no memo), so the same object comes back as
    /// several nodes.
    Ext(i64),
    Node(NodeId),
}

/// Past the depth or visit bound a tuple stands for itself alone: two equal
/// tuples that large are then kept apart (a shown duplicate, never a lost key).
fn key_at(g: &Graph, id: NodeId, depth: u32, visits: &mut u32) -> Key {
    *visits = visits.saturating_sub(1);
    match g.try_get(id) {
        Some(Value::None) => Key::None,
        Some(Value::Bool(b)) => Key::Small(i64::from(*b)),
        Some(Value::Ext(code)) => Key::Ext(*code),
        Some(Value::Int(Int::Small(i))) => Key::Small(*i),
        Some(Value::Int(Int::Big(b))) => int_key(b.clone()),
        Some(Value::Float(f)) if f.is_nan() => Key::Node(id),
        Some(Value::Float(f)) => match float_as_int(*f) {
            Some(i) => int_key(i),
            None => Key::Float(f.to_bits()),
        },
        Some(Value::Str(s)) => Key::Str(s.as_bytes().to_vec()),
        Some(Value::Bytes(b)) => Key::Bytes(b.to_vec()),
        Some(Value::Tuple(items)) if depth < MAX_DEPTH && *visits as usize > items.len() => {
            Key::Tuple(
                g.items(*items)
                    .iter()
                    .map(|&i| key_at(g, i, depth + 1, visits))
                    .collect(),
            )
        }
        _ => Key::Node(id),
    }
}

fn int_key(i: BigInt) -> Key {
    match i.to_i64() {
        Some(s) => Key::Small(s),
        None => Key::Int(i),
    }
}

/// Set elements in stored order, later equal ones dropped.
pub(crate) fn dedup_items(g: &Graph, items: &[NodeId]) -> Vec<NodeId> {
    let mut visits = budget(items.len());
    let mut seen = HashMap::with_capacity(items.len());
    let mut out = Vec::with_capacity(items.len());
    for &it in items {
        if seen.insert(key_at(g, it, 0, &mut visits), ()).is_none() {
            out.push(it);
        }
    }
    out
}

/// Dict pairs as `dict.__setitem__` leaves them: the first key and its
/// position, the last value.
pub(crate) fn dedup_pairs(g: &Graph, kv: &[(NodeId, NodeId)]) -> Vec<(NodeId, NodeId)> {
    let mut visits = budget(kv.len());
    let mut at: HashMap<Key, usize> = HashMap::with_capacity(kv.len());
    let mut out: Vec<(NodeId, NodeId)> = Vec::with_capacity(kv.len());
    for &(k, v) in kv {
        let key = key_at(g, k, 0, &mut visits);
        match at.get(&key) {
            Some(&i) => out[i].1 = v,
            None => {
                at.insert(key, out.len());
                out.push((k, v));
            }
        }
    }
    out
}
