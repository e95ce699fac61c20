//! Describes a pickle value graph as JSON for the oracle's `build_graph`, which
//! turns it into real Python objects with the same sharing.

use serde_json::{json, Value as J};
use sparkwire_serializers::pickle::{Construct, Graph, Int, NodeId, Value};

use crate::hex;

fn idx(id: &NodeId) -> J {
    json!(id.index())
}

/// JSON description of every node; `root` is the graph's root. Fails for node
/// kinds the builder cannot express (objects other than plain REDUCE).
pub fn describe(g: &Graph) -> Result<J, String> {
    let mut nodes = Vec::with_capacity(g.len());
    for id in g.ids() {
        nodes.push(match g.get(id) {
            Value::None => json!(["none"]),
            Value::Bool(b) => json!(["bool", b]),
            Value::Int(Int::Small(v)) => json!(["int", v.to_string()]),
            Value::Int(Int::Big(v)) => json!(["int", v.to_string()]),
            Value::Float(f) => json!(["float", hex(&f.to_be_bytes())]),
            Value::Str(s) => json!(["str", hex(s.as_bytes())]),
            Value::Bytes(b) => json!(["bytes", hex(b)]),
            Value::ByteArray(b) => json!(["bytearray", hex(b)]),
            Value::Tuple(v) => json!(["tuple", v.iter().map(idx).collect::<Vec<_>>()]),
            Value::List(v) => json!(["list", v.iter().map(idx).collect::<Vec<_>>()]),
            Value::Set(v) => json!(["set", v.iter().map(idx).collect::<Vec<_>>()]),
            Value::FrozenSet(v) => json!(["frozenset", v.iter().map(idx).collect::<Vec<_>>()]),
            Value::Dict(kv) => json!([
                "dict",
                kv.iter()
                    .map(|(k, v)| json!([k.index(), v.index()]))
                    .collect::<Vec<_>>()
            ]),
            Value::Global { module, name } => json!(["global", module.index(), name.index()]),
            Value::Object(o) => match (
                &o.construct,
                o.states.is_empty() && o.list_items.is_empty() && o.dict_items.is_empty(),
            ) {
                (Construct::Reduce { callable, args }, true) => {
                    json!(["reduce", callable.index(), args.index()])
                }
                _ => return Err("only plain REDUCE objects can be described".into()),
            },
            other => return Err(format!("cannot describe {}", other.type_name())),
        });
    }
    let root = g.root().ok_or("no root")?;
    Ok(json!({"nodes": nodes, "root": root.index()}))
}
