//! `collections`' containers as Python 3.11 prints them: `OrderedDict([(k,
//! v)])`, `defaultdict(factory, {k: v})`, `deque([...], maxlen=n)`,
//! `Counter({k: n})` in `most_common()` order.
//!
//! Their reducers pickle an empty (or factory-only) call followed by the
//! items as SETITEMS/APPENDS, except Counter, which passes a plain dict.

use std::cmp::Ordering;

use super::super::value::{Int, NodeId, State, Value};
use super::keys::dedup_pairs;
use super::shape::{Call, Ctx, Shape};

pub(crate) fn shape(cx: &Ctx<'_>, c: &Call<'_>) -> Option<Shape> {
    match &*c.target.name {
        "OrderedDict" => ordered_dict(cx, c),
        "defaultdict" => defaultdict(cx, c),
        "deque" => deque(cx, c),
        "Counter" => counter(cx, c),
        _ => None,
    }
}

/// `k: v, …` or `(k, v), …`.
fn pairs(s: &mut Shape, kv: &[(NodeId, NodeId)], tuples: bool) {
    for (i, &(k, v)) in kv.iter().enumerate() {
        if i > 0 {
            s.push(", ");
        }
        if tuples {
            s.push("(").node(k).push(", ").node(v).push(")");
        } else {
            s.node(k).push(": ").node(v);
        }
    }
}

/// BUILD states that only set instance attributes (a dict or None), which
/// these reprs do not show.
fn attrs_only(cx: &Ctx<'_>, c: &Call<'_>) -> bool {
    c.obj.states.iter().all(|s| match s {
        State::Build(st) => matches!(cx.get(*st), Some(Value::Dict(_) | Value::None)),
        State::Setter { .. } => false,
    })
}

fn ordered_dict(cx: &Ctx<'_>, c: &Call<'_>) -> Option<Shape> {
    if !c.obj.list_items.is_empty() || !attrs_only(cx, c) {
        return None;
    }
    // Python 2 pickles `OrderedDict([[k, v], …])`; Python 3 an empty call and SETITEMS.
    let mut all: Vec<(NodeId, NodeId)> = match c.args[..] {
        [] => Vec::new(),
        [items] => match cx.get(items)? {
            Value::List(v) | Value::Tuple(v) => {
                let mut pairs = Vec::with_capacity(v.len());
                for &p in cx.items(*v) {
                    match cx.get(p)? {
                        Value::List(kv) | Value::Tuple(kv) if kv.len() == 2 => {
                            pairs.push((cx.items(*kv)[0], cx.items(*kv)[1]))
                        }
                        _ => return None,
                    }
                }
                pairs
            }
            _ => return None,
        },
        _ => return None,
    };
    all.extend(&c.obj.dict_items);
    let kv = dedup_pairs(cx, &all);
    if kv.is_empty() {
        return Some(Shape::text("OrderedDict()"));
    }
    let mut s = Shape::new();
    s.push("OrderedDict([");
    pairs(&mut s, &kv, true);
    s.push("])");
    Some(s.recursive("..."))
}

fn defaultdict(cx: &Ctx<'_>, c: &Call<'_>) -> Option<Shape> {
    if c.args.len() > 1 || !c.obj.list_items.is_empty() || !c.obj.states.is_empty() {
        return None;
    }
    let kv = dedup_pairs(cx, &c.obj.dict_items);
    let mut s = Shape::new();
    s.push("defaultdict(");
    match c.args.first() {
        Some(&f) if !cx.is_none(f) => s.node(f),
        _ => s.push("None"),
    };
    s.push(", {");
    pairs(&mut s, &kv, false);
    s.push("})");
    Some(s)
}

fn deque(cx: &Ctx<'_>, c: &Call<'_>) -> Option<Shape> {
    if !c.obj.dict_items.is_empty() || !attrs_only(cx, c) || c.args.len() > 2 {
        return None;
    }
    let mut items: Vec<NodeId> = match c.args.first().map(|&a| cx.get(a)) {
        None => Vec::new(),
        Some(Some(Value::List(v) | Value::Tuple(v))) => cx.items(*v).to_vec(),
        Some(_) => return None,
    };
    let maxlen = match c.args.get(1) {
        None => None,
        Some(&m) if cx.is_none(m) => None,
        Some(&m) => Some(usize::try_from(cx.small(m)?).ok()?),
    };
    items.extend(&c.obj.list_items);
    if let Some(m) = maxlen {
        // A bounded deque drops from the left as items are appended.
        let drop = items.len().saturating_sub(m);
        items.drain(..drop);
    }
    let mut s = Shape::new();
    s.push("deque([").joined(&items).push("]");
    if let Some(m) = maxlen {
        s.push(format!(", maxlen={m}"));
    }
    s.push(")");
    Some(s.recursive("[...]"))
}

fn counter(cx: &Ctx<'_>, c: &Call<'_>) -> Option<Shape> {
    if !c.bare() {
        return None;
    }
    let kv = match c.args[..] {
        [] => Vec::new(),
        [d] => match cx.get(d)? {
            Value::Dict(kv) => dedup_pairs(cx, cx.pairs(*kv)),
            _ => return None,
        },
        _ => return None,
    };
    if kv.is_empty() {
        return Some(Shape::text("Counter()"));
    }
    // most_common(): sorted by count, descending, ties in insertion order.
    let mut counted = Vec::with_capacity(kv.len());
    for &(k, v) in &kv {
        counted.push((number(cx, v)?, k, v));
    }
    counted.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap_or(Ordering::Equal));
    let sorted: Vec<(NodeId, NodeId)> = counted.into_iter().map(|(_, k, v)| (k, v)).collect();
    let mut s = Shape::new();
    s.push("Counter({");
    pairs(&mut s, &sorted, false);
    s.push("})");
    Some(s)
}

/// A count that sorts as Python would compare it (NaN refused: its
/// comparisons make the order depend on the sort's internals).
fn number(cx: &Ctx<'_>, id: NodeId) -> Option<f64> {
    match cx.get(id)? {
        Value::Int(Int::Small(v)) if v.unsigned_abs() < (1 << 53) => Some(*v as f64),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::Float(f) if !f.is_nan() => Some(*f),
        _ => None,
    }
}
