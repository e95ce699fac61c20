//! Rows as the JVM sends them to Python (`df.rdd`, `javaToPython`): Spark's
//! `EvaluatePython` pickler writes each row as
//! `_create_row_inbound_converter(_parse_datatype_json_string(schema_json))(*values)`,
//! which PySpark turns into `StructType.fromInternal(values)`: a named `Row`
//! whose date, timestamp_ntz and day-time interval fields (also inside
//! arrays, maps and nested structs) are converted from their internal ints.
//!
//! Fields whose conversion depends on the reader (`timestamp` uses the local
//! time zone) or on newer PySpark types leave the row to the call form.

use std::rc::Rc;

use super::super::value::{Construct, NodeId, Value};
use super::datetime::{clock, timedelta_repr};
use super::schema::{parse_struct, DType};
use super::shape::{Ctx, Shape};

/// Ordinal (`date.toordinal()`) of 1970-01-01, PySpark's `EPOCH_ORDINAL`.
const EPOCH_ORDINAL: i64 = 719_163;
/// `date.max.toordinal()`.
const MAX_ORDINAL: i64 = 3_652_059;
const US_PER_S: i64 = 1_000_000;

pub(crate) fn shape(cx: &Ctx<'_>, id: NodeId) -> Option<Shape> {
    let Some(Value::Object(o)) = cx.get(id) else {
        return None;
    };
    let Construct::Reduce { callable, args } = &o.construct else {
        return None;
    };
    if !(o.list_items.is_empty() && o.dict_items.is_empty() && o.states.is_empty()) {
        return None;
    }
    let schema = converter_schema(cx, *callable)?;
    let values = cx.tuple(*args)?;
    let mut s = Shape::new();
    named_row(cx, &schema, values, &mut s, 0)?;
    Some(s)
}

/// The schema of `_create_row_inbound_converter(_parse_datatype_json_string(json))`.
fn converter_schema(cx: &Ctx<'_>, conv: NodeId) -> Option<Rc<DType>> {
    let (target, args) = reduce(cx, conv)?;
    if !target {
        return None;
    }
    let [schema] = args else { return None };
    if let Some(cached) = cx.schemas.borrow().get(schema) {
        return cached.clone();
    }
    let parsed = (|| {
        let (Value::Object(o), true) = (cx.get(*schema)?, true) else {
            return None;
        };
        let Construct::Reduce { callable, args } = &o.construct else {
            return None;
        };
        if !cx
            .global(*callable)?
            .is("pyspark.sql.types", "_parse_datatype_json_string")
            || !o.states.is_empty()
        {
            return None;
        }
        let [json] = cx.tuple(*args)? else {
            return None;
        };
        parse_struct(cx.string(*json)?).map(Rc::new)
    })();
    cx.schemas.borrow_mut().insert(*schema, parsed.clone());
    parsed
}

/// `(callable is _create_row_inbound_converter, args)` of a bare REDUCE.
fn reduce<'g>(cx: &Ctx<'g>, id: NodeId) -> Option<(bool, &'g [NodeId])> {
    let Value::Object(o) = cx.get(id)? else {
        return None;
    };
    let Construct::Reduce { callable, args } = &o.construct else {
        return None;
    };
    if !(o.list_items.is_empty() && o.dict_items.is_empty() && o.states.is_empty()) {
        return None;
    }
    let is_conv = cx
        .global(*callable)?
        .is("pyspark.sql.types", "_create_row_inbound_converter");
    Some((is_conv, cx.tuple(*args)?))
}

/// `_create_row(names, converted values)` → `Row(a=…, b=…)`.
fn named_row(
    cx: &Ctx<'_>,
    schema: &DType,
    values: &[NodeId],
    s: &mut Shape,
    depth: u32,
) -> Option<()> {
    let DType::Struct(fields) = schema else {
        return None;
    };
    s.push("Row(");
    for (i, ((name, ty), &v)) in fields.iter().zip(values).enumerate() {
        s.push(format!("{}{name}=", if i > 0 { ", " } else { "" }));
        convert(cx, ty, v, s, depth + 1)?;
    }
    s.push(")");
    Some(())
}

/// `ty.fromInternal(v)`, appended to `s`.
fn convert(cx: &Ctx<'_>, ty: &DType, v: NodeId, s: &mut Shape, depth: u32) -> Option<()> {
    if depth > 64 {
        return None;
    }
    if !ty.needs_conversion() {
        s.node(v);
        return Some(());
    }
    let value = cx.get(v)?;
    if matches!(value, Value::None) {
        s.push("None");
        return Some(());
    }
    match ty {
        DType::Plain => {
            s.node(v);
        }
        DType::Date => {
            let (y, m, d) = civil(cx.small(v)?.checked_add(EPOCH_ORDINAL)?)?;
            s.push(format!("datetime.date({y}, {m}, {d})"));
        }
        DType::TimestampNtz => {
            let ts = cx.small(v)?;
            let (secs, us) = (ts.div_euclid(US_PER_S), ts.rem_euclid(US_PER_S));
            let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
            let (y, m, d) = civil(days.checked_add(EPOCH_ORDINAL)?)?;
            let hm = [y as u32, m, d, (sod / 3600) as u32, (sod / 60 % 60) as u32];
            s.push(format!(
                "datetime.datetime({})",
                clock(&hm, (sod % 60) as u32, us as u32)
            ));
        }
        DType::DayTimeInterval => {
            let us = i128::from(cx.small(v)?);
            if us.div_euclid(86_400_000_000).abs() > 999_999_999 {
                return None;
            }
            s.push(timedelta_repr(us));
        }
        DType::Array(e) => {
            let Value::List(items) = value else {
                return None;
            };
            s.push("[");
            for (i, &it) in cx.items(*items).iter().enumerate() {
                if i > 0 {
                    s.push(", ");
                }
                convert(cx, e, it, s, depth + 1)?;
            }
            s.push("]");
        }
        DType::Map(k, val) => {
            let Value::Dict(kv) = value else { return None };
            s.push("{");
            for (i, &(key, it)) in cx.pairs(*kv).iter().enumerate() {
                if i > 0 {
                    s.push(", ");
                }
                convert(cx, k, key, s, depth + 1)?;
                s.push(": ");
                convert(cx, val, it, s, depth + 1)?;
            }
            s.push("}");
        }
        DType::Struct(_) => match value {
            // Already a Row: the JVM pickled the nested row with its own converter.
            Value::Object(o) => {
                let Construct::Reduce { callable, .. } = &o.construct else {
                    return None;
                };
                converter_schema(cx, *callable)?;
                s.node(v);
            }
            Value::Tuple(items) | Value::List(items) => {
                named_row(cx, ty, cx.items(*items), s, depth + 1)?
            }
            _ => return None,
        },
    }
    Some(())
}

/// `date.fromordinal(n)` as (year, month, day); `None` outside 1..=9999.
fn civil(ordinal: i64) -> Option<(i64, u32, u32)> {
    if !(1..=MAX_ORDINAL).contains(&ordinal) {
        return None;
    }
    Some(crate::calendar::civil_from_days(ordinal - EPOCH_ORDINAL))
}

#[cfg(test)]
mod tests {
    use super::civil;

    // Expected values: date.fromordinal(n) on CPython 3.11.
    #[test]
    fn ordinals_like_python() {
        assert_eq!(civil(1), Some((1, 1, 1)));
        assert_eq!(civil(719_163), Some((1970, 1, 1)));
        assert_eq!(civil(737_426), Some((2020, 1, 2)));
        assert_eq!(civil(3_652_059), Some((9999, 12, 31)));
        assert_eq!(civil(0), None);
    }
}
