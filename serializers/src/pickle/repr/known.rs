//! Objects `pickle.loads` would build from a reduce form whose repr is
//! deterministic, recognized from the form alone (nothing is imported or
//! called): the dispatch from a call's module to the module that knows it.

use super::super::value::NodeId;
use super::output::ReprError;
use super::shape::{call, Ctx, Shape};
use super::{
    array, collections, datetime, decimal, exceptions, functional, jvm_rows, numbers, pyspark,
    stdlib,
};

/// The shape of a known object, or `None` to show it as a call.
pub(crate) fn recognize(cx: &Ctx<'_>, id: NodeId) -> Result<Option<Shape>, ReprError> {
    if let Some(row) = jvm_rows::shape(cx, id) {
        return Ok(Some(row));
    }
    let Some(c) = call(cx, id) else {
        return Ok(None);
    };
    if !c.no_kwargs(cx) {
        return Ok(None);
    }
    let m = &*c.target.module;
    Ok(match m {
        "datetime" => datetime::shape(cx, &c)?,
        "decimal" | "_decimal" | "_pydecimal" => decimal::shape(cx, &c),
        "builtins" => match numbers::shape(cx, &c)? {
            Some(s) => Some(s),
            None => exceptions::exception(cx, &c),
        },
        "collections" => collections::shape(cx, &c),
        "array" => array::array(cx, &c),
        "uuid" => stdlib::uuid(cx, &c).or_else(|| stdlib::enum_member(cx, &c)),
        "http" | "signal" | "socket" | "re" => stdlib::enum_member(cx, &c),
        "http.cookies" => stdlib::cookie(cx, &c),
        "fractions" => numbers::fraction(cx, &c),
        "functools" | "_functools" => functional::partial(cx, &c),
        "operator" | "_operator" => functional::operator(cx, &c),
        "time" => stdlib::struct_time(cx, &c),
        "zoneinfo" => stdlib::zoneinfo(cx, &c),
        m if m.starts_with("pyspark") => pyspark::shape(cx, &c),
        _ => None,
    })
}
