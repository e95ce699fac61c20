//! Equal keys collapse when Python builds a dict or set: `{1: 'a', 1.0: 'b'}`
//! is `{1: 'b'}`. A pickle may still carry both (SETITEMS with a repeated
//! key, a hand-made set), so the repr drops them as `pickle.loads` would.
//! What is equal is what `classes` puts in one class.

use std::collections::{HashMap, HashSet};

use super::super::value::NodeId;
use super::shape::Ctx;

/// Set elements in stored order, later equal ones dropped.
pub(crate) fn dedup_items(cx: &Ctx<'_>, items: &[NodeId]) -> Vec<NodeId> {
    let mut classes = cx.classes.borrow_mut();
    let mut seen = HashSet::with_capacity(items.len());
    let mut out = Vec::with_capacity(items.len());
    for &it in items {
        if seen.insert(classes.class(it)) {
            out.push(it);
        }
    }
    out
}

/// Dict pairs as `dict.__setitem__` leaves them: the first key and its
/// position, the last value.
pub(crate) fn dedup_pairs(cx: &Ctx<'_>, kv: &[(NodeId, NodeId)]) -> Vec<(NodeId, NodeId)> {
    let mut classes = cx.classes.borrow_mut();
    let mut at: HashMap<_, usize> = HashMap::with_capacity(kv.len());
    let mut out: Vec<(NodeId, NodeId)> = Vec::with_capacity(kv.len());
    for &(k, v) in kv {
        let class = classes.class(k);
        match at.get(&class) {
            Some(&i) => out[i].1 = v,
            None => {
                at.insert(class, out.len());
                out.push((k, v));
            }
        }
    }
    out
}
