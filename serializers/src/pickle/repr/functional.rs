//! Callables built from other callables: `functools.partial` (a REDUCE of
//! `partial(func)` then a BUILD of `(func, args, keywords, dict)`) and the
//! `operator` getters (`itemgetter`, `attrgetter`, `methodcaller` with
//! positional arguments), printed as their C reprs do.

use super::super::value::{State, Value};
use super::shape::{Call, Ctx, Shape};

/// `functools.partial(<func>, a, b, k=v)`.
pub(crate) fn partial(cx: &Ctx<'_>, c: &Call<'_>) -> Option<Shape> {
    if c.target.name != "partial" || c.new || c.args.len() != 1 {
        return None;
    }
    if !c.obj.list_items.is_empty() || !c.obj.dict_items.is_empty() {
        return None;
    }
    let [State::Build(state)] = c.obj.states[..] else {
        return None;
    };
    let [func, args, kw, attrs] = cx.tuple(state)? else {
        return None;
    };
    let args = cx.tuple(*args)?;
    let kw: &[_] = match cx.get(*kw)? {
        Value::None => &[],
        Value::Dict(kv) => cx.pairs(*kv),
        _ => return None,
    };
    if !matches!(cx.get(*attrs)?, Value::None | Value::Dict(_)) {
        return None;
    }
    let mut s = Shape::new();
    s.push("functools.partial(").node(*func);
    for &a in args {
        s.push(", ").node(a);
    }
    for &(k, v) in kw {
        // `%S` of the keyword: its text.
        s.push(format!(", {}=", cx.string(k)?)).node(v);
    }
    s.push(")");
    Some(s.recursive("..."))
}

/// `operator.itemgetter(1)`, `operator.attrgetter('a.b', 'c')`,
/// `operator.methodcaller('split', ',')`.
pub(crate) fn operator(cx: &Ctx<'_>, c: &Call<'_>) -> Option<Shape> {
    if !c.bare() || c.new || c.args.is_empty() {
        return None;
    }
    let name = match &*c.target.name {
        "itemgetter" => "itemgetter",
        "attrgetter" if c.args.iter().all(|&a| cx.string(a).is_some()) => "attrgetter",
        "methodcaller" if cx.string(c.args[0]).is_some() => "methodcaller",
        _ => return None,
    };
    let mut s = Shape::new();
    s.push(format!("operator.{name}("))
        .joined(&c.args)
        .push(")");
    Some(s.recursive("..."))
}
