//! Describes a pickle value graph as JSON for the oracle's `build_graph`, which
//! turns it into real Python objects with the same sharing.

use serde_json::{json, Value as J};
use sparkwire_serializers::pickle::{Construct, Graph, Int, NodeId, Object, State, Value};

use crate::hex;

fn idx(id: &NodeId) -> J {
    json!(id.index())
}

/// JSON description of every node; `root` is the graph's root. Objects built by
/// REDUCE, NEWOBJ or NEWOBJ_EX (with their list items, dict items and states)
/// are described too; the oracle builds them only from the globals on its
/// allowlist. Fails for node kinds the builder cannot express (OBJ, INST,
/// persistent ids, extension codes, out-of-band buffers).
pub fn describe(g: &Graph) -> Result<J, String> {
    let mut nodes = Vec::with_capacity(g.len());
    for id in g.ids() {
        nodes.push(match g.get(id) {
            Value::None => json!(["none"]),
            Value::Bool(b) => json!(["bool", b]),
            Value::Int(Int::Small(v)) => json!(["int", v.to_string()]),
            Value::Int(Int::Big(v)) => json!(["int", v.to_string()]),
            Value::Float(f) => json!(["float", hex(&f.to_be_bytes())]),
            // An interned identifier (Graph::intern) is built with sys.intern.
            Value::Str(s) if g.is_interned(id) => json!(["istr", hex(s.as_bytes())]),
            Value::Str(s) => json!(["str", hex(s.as_bytes())]),
            Value::Bytes(b) => json!(["bytes", hex(b)]),
            Value::ByteArray(b) => json!(["bytearray", hex(b)]),
            Value::Tuple(v) => json!(["tuple", g.items(*v).iter().map(idx).collect::<Vec<_>>()]),
            Value::List(v) => json!(["list", g.items(*v).iter().map(idx).collect::<Vec<_>>()]),
            Value::Set(v) => json!(["set", g.items(*v).iter().map(idx).collect::<Vec<_>>()]),
            Value::FrozenSet(v) => {
                json!(["frozenset", g.items(*v).iter().map(idx).collect::<Vec<_>>()])
            }
            Value::Dict(kv) => json!([
                "dict",
                g.pairs(*kv)
                    .iter()
                    .map(|(k, v)| json!([k.index(), v.index()]))
                    .collect::<Vec<_>>()
            ]),
            Value::Global { module, name } => json!(["global", module.index(), name.index()]),
            Value::Object(o) => describe_object(o)?,
            other => return Err(format!("cannot describe {}", other.type_name())),
        });
    }
    let root = g.root().ok_or("no root")?;
    Ok(json!({"nodes": nodes, "root": root.index()}))
}

/// `["reduce" | "newobj" | "newobj_ex", operands…, extras]`, extras being
/// `{"items": [...], "pairs": [[k, v]...], "states": [["build", s] | ["setter", f, s]]}`
/// (absent when the object has none).
fn describe_object(o: &Object) -> Result<J, String> {
    let mut d = match &o.construct {
        Construct::Reduce { callable, args } => vec![json!("reduce"), idx(callable), idx(args)],
        Construct::NewObj { cls, args } => vec![json!("newobj"), idx(cls), idx(args)],
        Construct::NewObjEx { cls, args, kwargs } => {
            vec![json!("newobj_ex"), idx(cls), idx(args), idx(kwargs)]
        }
        Construct::Obj { .. } | Construct::Inst { .. } => {
            return Err("OBJ and INST objects (protocols 0-1) cannot be described".into())
        }
    };
    if !(o.list_items.is_empty() && o.dict_items.is_empty() && o.states.is_empty()) {
        let states: Vec<J> = o
            .states
            .iter()
            .map(|s| match s {
                State::Build(s) => json!(["build", s.index()]),
                State::Setter { setter, state } => {
                    json!(["setter", setter.index(), state.index()])
                }
            })
            .collect();
        d.push(json!({
            "items": o.list_items.iter().map(idx).collect::<Vec<_>>(),
            "pairs": o.dict_items.iter().map(|(k, v)| json!([k.index(), v.index()])).collect::<Vec<_>>(),
            "states": states,
        }));
    }
    Ok(J::Array(d))
}

/// Puts every set of `g` in the order Python iterated it, as the oracle reports
/// it (`set_orders`: node index → positions in the description).
pub fn apply_set_orders(g: &mut Graph, orders: &J) {
    let Some(map) = orders.as_object() else {
        return;
    };
    for (k, order) in map {
        let Some(id) = k.parse::<usize>().ok().and_then(|i| g.ids().nth(i)) else {
            continue;
        };
        let order: Vec<usize> = order
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_u64())
                    .map(|v| v as usize)
                    .collect()
            })
            .unwrap_or_default();
        let Some(old) = g.seq_items(id).map(<[NodeId]>::to_vec) else {
            continue;
        };
        if !matches!(g.get(id), Value::Set(_) | Value::FrozenSet(_)) {
            continue;
        }
        if order.iter().all(|&i| i < old.len()) && order.len() == old.len() {
            let new: Vec<NodeId> = order.iter().map(|&i| old[i]).collect();
            g.replace_items(id, &new)
                .expect("a reordering needs no more room than the set had");
        }
    }
}

/// The JSON tree the oracle's `make_serializer` builds a PySpark serializer from.
pub fn serializer_spec(s: &sparkwire_serializers::pyspark::Serializer) -> J {
    use sparkwire_serializers::pyspark::{PickleFlavor, Serializer as S};
    match s {
        S::CPickle => serde_json::json!(["cpickle"]),
        S::Pickled(PickleFlavor::CloudPickle) => serde_json::json!(["cloudpickle"]),
        S::Pickled(PickleFlavor::Pickle) => serde_json::json!(["pickle"]),
        S::Marshal => serde_json::json!(["marshal"]),
        S::NoOp => serde_json::json!(["noop"]),
        S::Utf8 { use_unicode } => serde_json::json!(["utf8", use_unicode]),
        S::Auto => serde_json::json!(["auto"]),
        S::Compressed(i) => serde_json::json!(["compressed", serializer_spec(i)]),
        S::Batched(i, n) => serde_json::json!(["batched", serializer_spec(i), n]),
        S::AutoBatched(i, best) => serde_json::json!(["autobatched", serializer_spec(i), best]),
        S::FlattenedValues(i, n) => serde_json::json!(["flattened", serializer_spec(i), n]),
        S::Pair(k, v) => serde_json::json!(["pair", serializer_spec(k), serializer_spec(v)]),
        S::Cartesian(k, v) => {
            serde_json::json!(["cartesian", serializer_spec(k), serializer_spec(v)])
        }
        S::JvmAutoBatched => serde_json::json!(["jvm"]),
    }
}
