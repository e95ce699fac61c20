//! Inspecting cloudpickled functions and commands without executing them.
//!
//! A PySpark command is cloudpickled code: functions are rebuilt by
//! `cloudpickle._make_function(code, globals, name, argdefs, closure)` from a
//! code object `_builtin_type('CodeType')(*args)`, then given their state by
//! `_function_setstate`; modules the function uses arrive as
//! `subimport('name')`. The decoder keeps all of that as data, so this module
//! can read it: the globals and modules referenced, each code object's name,
//! file and first line, and which Python wrote it ([`python_hint`](super::python_hint):
//! the `CodeType` layout, line table and bytecode checked against each
//! release's recorded opcode tables). The serializers a
//! NON_UDF command names are mapped back to [`Serializer`] values.

use crate::pickle::{Construct, Graph, Int, NodeId, State, Value};

use super::python_hint::{CodeEvidence, HintBuilder, PythonHint};
use super::serializer::{PickleFlavor, Serializer, PYTHON_BEST_SIZE};

/// One code object found in the payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeInfo {
    /// `co_name`.
    pub name: String,
    /// `co_qualname` (Python ≥ 3.11).
    pub qualname: Option<String>,
    /// `co_filename`.
    pub filename: String,
    /// `co_firstlineno`.
    pub first_line: i64,
    /// `co_argcount`.
    pub arg_count: i64,
    /// `co_names`: the globals and attributes the code reads.
    pub names: Vec<String>,
}

/// What a cloudpickle payload references.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inspection {
    /// Every `module.name` global, in first-seen order, without repeats.
    pub globals: Vec<(String, String)>,
    /// Modules imported by `subimport` / `import_module`, and the modules of the globals.
    pub modules: Vec<String>,
    /// Code objects, in the order they appear.
    pub code: Vec<CodeInfo>,
    /// Which Python wrote the code objects, as [`PythonHint::label`] says it
    /// (`3.11`, `3.11 or 3.12`, …): a set when the evidence is ambiguous.
    pub python: Option<String>,
    /// The same, with the candidates and whether it is certain.
    pub python_hint: Option<PythonHint>,
}

fn text(g: &Graph, id: NodeId) -> Option<String> {
    g.str_of(id).map(|s| {
        s.as_str()
            .map(str::to_string)
            .unwrap_or_else(|| String::from_utf8_lossy(s.as_bytes()).into_owned())
    })
}

fn int(g: &Graph, id: NodeId) -> Option<i64> {
    match g.try_get(id)? {
        Value::Int(Int::Small(v)) => Some(*v),
        _ => None,
    }
}

fn tuple(g: &Graph, id: NodeId) -> Option<&[NodeId]> {
    match g.try_get(id)? {
        Value::Tuple(items) => Some(g.items(*items)),
        _ => None,
    }
}

fn global(g: &Graph, id: NodeId) -> Option<(String, String)> {
    let (m, n) = g.global_name(id)?;
    let s = |p: &crate::pickle::PyStr| String::from_utf8_lossy(p.as_bytes()).into_owned();
    Some((s(m), s(n)))
}

/// Reads everything [`Inspection`] describes from a decoded payload.
pub fn inspect(g: &Graph) -> Inspection {
    let mut out = Inspection::default();
    let mut hint = HintBuilder::default();
    let push_module = |out: &mut Inspection, m: String| {
        if !out.modules.contains(&m) {
            out.modules.push(m);
        }
    };
    for id in g.ids() {
        match g.get(id) {
            Value::Global { .. } => {
                if let Some((m, n)) = global(g, id) {
                    push_module(&mut out, m.clone());
                    if !out.globals.contains(&(m.clone(), n.clone())) {
                        out.globals.push((m, n));
                    }
                }
            }
            Value::Object(o) => {
                let Construct::Reduce { callable, args } = o.construct else {
                    continue;
                };
                let Some(args) = tuple(g, args) else { continue };
                if let Some((_, n)) = global(g, callable) {
                    if matches!(
                        n.as_str(),
                        "subimport" | "import_module" | "dynamic_subimport"
                    ) {
                        if let Some(m) = args.first().and_then(|&a| text(g, a)) {
                            push_module(&mut out, m);
                        }
                    }
                } else if is_code_type(g, callable) {
                    if let Some(info) = code_info(g, args) {
                        out.code.push(info);
                    }
                    if let Some(e) = code_evidence(g, args) {
                        hint.add(&e);
                    }
                }
            }
            _ => {}
        }
    }
    out.python_hint = hint.finish();
    out.python = out.python_hint.as_ref().map(PythonHint::label);
    out
}

/// `_builtin_type('CodeType')`.
fn is_code_type(g: &Graph, id: NodeId) -> bool {
    let Some(Value::Object(o)) = g.try_get(id) else {
        return false;
    };
    let Construct::Reduce { callable, args } = o.construct else {
        return false;
    };
    global(g, callable).is_some_and(|(_, n)| n == "_builtin_type")
        && tuple(g, args)
            .and_then(|a| a.first().and_then(|&x| text(g, x)))
            .as_deref()
            == Some("CodeType")
}

/// Reads the `CodeType(...)` arguments: 18 of them on Python 3.11–3.13
/// (with `co_qualname` and the exception table), 16 on 3.8–3.10.
fn code_info(g: &Graph, a: &[NodeId]) -> Option<CodeInfo> {
    let names = |id: NodeId| -> Vec<String> {
        tuple(g, id)
            .map(|t| t.iter().filter_map(|&x| text(g, x)).collect())
            .unwrap_or_default()
    };
    let (qualname, first_line) = match a.len() {
        18 => (text(g, a[12]), int(g, a[13])?),
        16 => (None, int(g, a[12])?),
        _ => return None,
    };
    Some(CodeInfo {
        arg_count: int(g, a[0])?,
        names: names(a[8]),
        filename: text(g, a[10])?,
        name: text(g, a[11])?,
        qualname,
        first_line,
    })
}

/// What the `CodeType(...)` arguments tell about the Python that made them:
/// their count, `co_code` and the line table (`co_lnotab` or `co_linetable`),
/// by position in each layout (the 15-argument one is 3.7's and earlier).
fn code_evidence<'g>(g: &'g Graph, a: &[NodeId]) -> Option<CodeEvidence<'g>> {
    let bytes = |i: usize| match g.try_get(*a.get(i)?)? {
        Value::Bytes(b) => Some(&b[..]),
        _ => None,
    };
    let (code, line_table) = match a.len() {
        18 => (6, 14),
        16 => (6, 13),
        15 => (5, 12),
        _ => return None,
    };
    Some(CodeEvidence {
        args: a.len(),
        code: bytes(code)?,
        line_table: bytes(line_table)?,
    })
}

/// The state dict a serializer object was given (`BUILD`).
fn state(g: &Graph, id: NodeId) -> Option<(String, Vec<(String, NodeId)>)> {
    let Value::Object(o) = g.try_get(id)? else {
        return None;
    };
    let cls = match o.construct {
        Construct::NewObj { cls, .. } | Construct::NewObjEx { cls, .. } => cls,
        Construct::Reduce { callable, args } => {
            // copyreg._reconstructor(cls, object, None)
            tuple(g, args)
                .and_then(|a| a.first().copied())
                .filter(|_| global(g, callable).is_some())?
        }
        _ => return None,
    };
    let (module, name) = global(g, cls)?;
    if !module.starts_with("pyspark") {
        return None;
    }
    let mut fields = Vec::new();
    for s in &o.states {
        if let State::Build(d) = s {
            if let Some(Value::Dict(kv)) = g.try_get(*d) {
                fields.extend(
                    g.pairs(*kv)
                        .iter()
                        .filter_map(|&(k, v)| Some((text(g, k)?, v))),
                );
            }
        }
    }
    Some((name, fields))
}

/// The [`Serializer`] a pickled PySpark serializer object stands for, read from
/// its class and state without executing anything.
pub fn serializer_of(g: &Graph, id: NodeId) -> Option<Serializer> {
    serializer_at(g, id, 0)
}

fn serializer_at(g: &Graph, id: NodeId, depth: usize) -> Option<Serializer> {
    if depth > 16 {
        return None;
    }
    let (name, fields) = state(g, id)?;
    let field = |k: &str| fields.iter().find(|(n, _)| n == k).map(|&(_, v)| v);
    let inner = |k: &str| field(k).and_then(|v| serializer_at(g, v, depth + 1));
    Some(match name.as_str() {
        // CPickleSerializer is an alias: the class pickled is CloudPickleSerializer.
        "CPickleSerializer" | "CloudPickleSerializer" => Serializer::CPickle,
        "PickleSerializer" => Serializer::Pickled(PickleFlavor::Pickle),
        "MarshalSerializer" => Serializer::Marshal,
        "NoOpSerializer" => Serializer::NoOp,
        "AutoSerializer" => Serializer::Auto,
        "UTF8Deserializer" => Serializer::Utf8 {
            use_unicode: field("use_unicode")
                .is_none_or(|v| !matches!(g.get(v), Value::Bool(false))),
        },
        "CompressedSerializer" => Serializer::Compressed(Box::new(inner("serializer")?)),
        "BatchedSerializer" => Serializer::Batched(
            Box::new(inner("serializer")?),
            field("batchSize").and_then(|v| int(g, v))?,
        ),
        "AutoBatchedSerializer" => Serializer::AutoBatched(
            Box::new(inner("serializer")?),
            field("bestSize")
                .and_then(|v| int(g, v))
                .and_then(|v| usize::try_from(v).ok())
                .unwrap_or(PYTHON_BEST_SIZE),
        ),
        "FlattenedValuesSerializer" => Serializer::FlattenedValues(
            Box::new(inner("serializer")?),
            field("batchSize")
                .and_then(|v| int(g, v))
                .and_then(|v| usize::try_from(v).ok())?,
        ),
        "PairDeserializer" => {
            Serializer::Pair(Box::new(inner("key_ser")?), Box::new(inner("val_ser")?))
        }
        "CartesianDeserializer" => {
            Serializer::Cartesian(Box::new(inner("key_ser")?), Box::new(inner("val_ser")?))
        }
        _ => return None,
    })
}

/// For a NON_UDF command `(func, profiler, deserializer, serializer)`: the
/// input and output serializers.
pub fn command_serializers(g: &Graph) -> Option<(Serializer, Serializer)> {
    let root = g.root()?;
    let items = tuple(g, root)?;
    if items.len() != 4 {
        return None;
    }
    Some((serializer_of(g, items[2])?, serializer_of(g, items[3])?))
}
