//! Standard-library objects without a module of their own here: `uuid.UUID`,
//! members of a few standard enums, `http.cookies.SimpleCookie`,
//! `time.struct_time` and `zoneinfo.ZoneInfo`.

use super::super::pytext::str_repr;
use super::super::value::{Int, NodeId, State, Value};
use super::shape::{Call, Ctx, Shape};
use super::tables::ENUM_REPRS;

/// A member of a standard enum: `cls(value)` → `<Cls.NAME: value>`, looked up
/// in the generated table by the value's repr (ints, str and None only).
pub(crate) fn enum_member(cx: &Ctx<'_>, c: &Call<'_>) -> Option<Shape> {
    if !c.bare() || c.new {
        return None;
    }
    let [v] = c.args[..] else { return None };
    let value = match cx.get(v)? {
        Value::None => "None".to_owned(),
        Value::Int(Int::Small(i)) => i.to_string(),
        Value::Str(s) => str_repr(s.as_bytes()),
        _ => return None,
    };
    let key = (&*c.target.module, &*c.target.name, value.as_str());
    let i = ENUM_REPRS
        .binary_search_by(|(k, _)| (k.0, k.1, k.2).cmp(&key))
        .ok()?;
    Some(Shape::text(ENUM_REPRS[i].1))
}

/// `http.cookies.SimpleCookie` (Python 2's `Cookie.SimpleCookie`): an empty
/// dict subclass whose items are `Morsel`s, each an empty dict subclass with
/// its attributes as items and `key`/`value`/`coded_value` as BUILD state.
/// `BaseCookie.__repr__`: `<SimpleCookie: k='v' …>`, sorted by key.
pub(crate) fn cookie(cx: &Ctx<'_>, c: &Call<'_>) -> Option<Shape> {
    let attrs_only = |o: &super::super::value::Object| {
        o.list_items.is_empty()
            && o.states.iter().all(|st| {
                matches!(st, State::Build(b) if matches!(cx.get(*b), Some(Value::Dict(_) | Value::None)))
            })
    };
    if c.target.name != "SimpleCookie" || !c.new || !attrs_only(c.obj) {
        return None;
    }
    let pairs = dict_subclass_items(cx, c)?;
    let mut items = Vec::with_capacity(pairs.len());
    for (k, m) in pairs {
        let key = cx.string(k)?;
        let morsel = super::shape::call(cx, m)?;
        if !morsel.target.is("http.cookies", "Morsel") || dict_subclass_items(cx, &morsel).is_none()
        {
            return None;
        }
        let Value::Dict(state) = cx.get(morsel.obj.states.first().and_then(|s| match s {
            State::Build(b) if morsel.obj.states.len() == 1 => Some(*b),
            _ => None,
        })?)?
        else {
            return None;
        };
        let &(_, value) = cx
            .pairs(*state)
            .iter()
            .rev()
            .find(|(k, _)| cx.text(*k) == Some(b"value"))?;
        items.push((key, value));
    }
    items.sort_by(|a, b| a.0.cmp(b.0));
    let mut s = Shape::new();
    s.push("<SimpleCookie: ");
    for (i, (k, v)) in items.into_iter().enumerate() {
        s.push(format!("{}{k}=", if i > 0 { " " } else { "" }))
            .node(v);
    }
    s.push(">");
    Some(s)
}

/// The items of a dict subclass built by `cls.__new__(cls)` plus SETITEMS, or
/// by `copyreg._reconstructor(cls, dict, items)` (protocols 0–1, where
/// `dict.__init__` fills it) plus SETITEMS.
fn dict_subclass_items(cx: &Ctx<'_>, c: &Call<'_>) -> Option<Vec<(NodeId, NodeId)>> {
    if !c.new {
        return None;
    }
    let mut kv: Vec<(NodeId, NodeId)> = match (&c.base, &c.args[..]) {
        (None, []) => Vec::new(),
        (Some(b), []) if b.is("builtins", "dict") => Vec::new(),
        (Some(b), [d]) if b.is("builtins", "dict") => match cx.get(*d)? {
            Value::Dict(kv) => cx.pairs(*kv).to_vec(),
            _ => return None,
        },
        _ => return None,
    };
    kv.extend(&c.obj.dict_items);
    Some(super::keys::dedup_pairs(cx, &kv))
}

/// `time.struct_time((fields…), {extra})` → `time.struct_time(tm_year=…, …)`:
/// a struct sequence prints its nine visible fields.
pub(crate) fn struct_time(cx: &Ctx<'_>, c: &Call<'_>) -> Option<Shape> {
    const FIELDS: [&str; 9] = [
        "tm_year", "tm_mon", "tm_mday", "tm_hour", "tm_min", "tm_sec", "tm_wday", "tm_yday",
        "tm_isdst",
    ];
    if c.target.name != "struct_time" || !c.bare() || c.new {
        return None;
    }
    let (seq, extra) = match c.args[..] {
        [seq] => (seq, None),
        [seq, extra] => (seq, Some(extra)),
        _ => return None,
    };
    let items = match cx.get(seq)? {
        Value::Tuple(v) | Value::List(v) if (9..=11).contains(&v.len()) => cx.items(*v),
        _ => return None,
    };
    if let Some(e) = extra {
        if !matches!(cx.get(e)?, Value::Dict(_) | Value::None) {
            return None;
        }
    }
    let mut s = Shape::new();
    s.push("time.struct_time(");
    for (i, (f, &v)) in FIELDS.iter().zip(items).enumerate() {
        s.push(format!("{}{f}=", if i > 0 { ", " } else { "" }))
            .node(v);
    }
    s.push(")");
    Some(s)
}

/// `zoneinfo.ZoneInfo._unpickle(key, from_cache)` → `zoneinfo.ZoneInfo(key='…')`.
pub(crate) fn zoneinfo(cx: &Ctx<'_>, c: &Call<'_>) -> Option<Shape> {
    if c.target.name != "ZoneInfo._unpickle" || !c.bare() {
        return None;
    }
    let [key, from_cache] = c.args[..] else {
        return None;
    };
    cx.text(key)?;
    cx.int(from_cache)?;
    let mut s = Shape::new();
    s.push("zoneinfo.ZoneInfo(key=").node(key).push(")");
    Some(s)
}

/// `uuid.UUID`: an empty `__new__` plus a BUILD of `{'int': n[, 'is_safe': …]}`.
pub(crate) fn uuid(cx: &Ctx<'_>, c: &Call<'_>) -> Option<Shape> {
    if c.target.name != "UUID" || !c.new || !c.args.is_empty() {
        return None;
    }
    if c.base.as_ref().is_some_and(|b| !b.is("builtins", "object")) {
        return None;
    }
    let Value::Dict(kv) = cx.get(c.only_state()?)? else {
        return None;
    };
    let mut int: Option<Int> = None;
    for &(k, v) in cx.pairs(*kv) {
        match cx.text(k)? {
            b"int" => int = Some(cx.int(v)?),
            b"is_safe" => {}
            _ => return None,
        }
    }
    let n = int?.to_big();
    if n.sign() == num_bigint::Sign::Minus || n.bits() > 128 {
        return None;
    }
    let h = format!("{:032x}", n);
    Some(Shape::text(format!(
        "UUID('{}-{}-{}-{}-{}')",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )))
}
