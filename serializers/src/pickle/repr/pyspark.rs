//! PySpark objects whose repr is deterministic: `pyspark.sql.Row` (named:
//! `_create_row(fields, values)` → `Row(a=1, b='x')`; positional:
//! `copyreg._reconstructor(Row, tuple, values)` → `<Row(1, 2)>`) and
//! `StorageLevel` (an empty `__new__` plus a BUILD of its five attributes).

use super::super::value::Value;
use super::shape::{call, Call, Ctx, Shape};

pub(crate) fn shape(cx: &Ctx<'_>, c: &Call<'_>) -> Option<Shape> {
    match (&*c.target.module, &*c.target.name) {
        ("pyspark.sql.types", "_create_row") => named_row(cx, c),
        ("pyspark.sql.types", "Row") => positional_row(cx, c),
        ("pyspark.storagelevel", "StorageLevel") => storage_level(cx, c),
        _ => None,
    }
}

/// `Row.__repr__` with `__fields__`: `name=repr(value)` pairs, `zip`-truncated.
fn named_row(cx: &Ctx<'_>, c: &Call<'_>) -> Option<Shape> {
    if !c.bare() || c.new {
        return None;
    }
    let [fields, values] = c.args[..] else {
        return None;
    };
    // A Row "class" (`Row('a', 'b')(1, 2)`) passes itself, a positional Row.
    let fields: &[_] = match cx.get(fields)? {
        Value::List(f) | Value::Tuple(f) => cx.items(*f),
        Value::Object(_) => {
            let fc = call(cx, fields)?;
            if !fc.target.is("pyspark.sql.types", "Row") || !fc.new || !fc.bare() {
                return None;
            }
            match fc.args[..] {
                [t] => cx.tuple(t)?,
                _ => return None,
            }
        }
        _ => return None,
    };
    let (Value::List(values) | Value::Tuple(values)) = cx.get(values)? else {
        return None;
    };
    let mut s = Shape::new();
    s.push("Row(");
    for (i, (&f, &v)) in fields.iter().zip(cx.items(*values)).enumerate() {
        // `%s` of the field name: its text as it is.
        let name = cx.string(f)?;
        s.push(if i > 0 {
            format!(", {name}=")
        } else {
            format!("{name}=")
        })
        .node(v);
    }
    s.push(")");
    Some(s)
}

/// `Row.__repr__` without `__fields__`: `<Row(v1, v2)>`.
fn positional_row(cx: &Ctx<'_>, c: &Call<'_>) -> Option<Shape> {
    if !c.bare() || !c.new || !c.base.as_ref()?.is("builtins", "tuple") {
        return None;
    }
    let items: &[_] = match c.args[..] {
        [] => &[],
        [t] => cx.tuple(t)?,
        _ => return None,
    };
    let mut s = Shape::new();
    s.push("<Row(").joined(items).push(")>");
    Some(s)
}

/// `StorageLevel.__repr__`: `%s` of the five attributes.
fn storage_level(cx: &Ctx<'_>, c: &Call<'_>) -> Option<Shape> {
    if !c.new || !c.args.is_empty() || c.base.as_ref().is_some_and(|b| !b.is("builtins", "object"))
    {
        return None;
    }
    let Value::Dict(kv) = cx.get(c.only_state()?)? else {
        return None;
    };
    let field = |name: &[u8]| -> Option<String> {
        let &(_, v) = cx
            .pairs(*kv)
            .iter()
            .rev()
            .find(|(k, _)| cx.text(*k) == Some(name))?;
        Some(match cx.get(v)? {
            Value::Bool(b) => if *b { "True" } else { "False" }.to_owned(),
            Value::Int(i) => i.as_i64()?.to_string(),
            _ => return None,
        })
    };
    Some(Shape::text(format!(
        "StorageLevel({}, {}, {}, {}, {})",
        field(b"useDisk")?,
        field(b"useMemory")?,
        field(b"useOffHeap")?,
        field(b"deserialized")?,
        field(b"replication")?
    )))
}
