//! Standard-library objects besides datetime, decimal and collections:
//! builtin exceptions, `array.array` and `uuid.UUID`.

use num_traits::ToPrimitive;

use super::super::pystr::PyStr;
use super::super::pytext::{float_repr, str_repr};
use super::super::value::{Int, NodeId, State, Value};
use super::names::{exception as exception_name, is_os_error};
use super::shape::{Call, Ctx, Shape};
use super::tables::ENUM_REPRS;

/// `BaseException.__repr__`: `Name(arg)` for one argument, `Name(a, b)` or
/// `Name()` otherwise. Attributes set by BUILD do not show (unless they
/// replace `args`, which is left to the call form).
pub(crate) fn exception(cx: &Ctx<'_>, c: &Call<'_>) -> Option<Shape> {
    let name = exception_name(&c.target)?;
    if name.ends_with("ExceptionGroup")
        || !c.obj.list_items.is_empty()
        || !c.obj.dict_items.is_empty()
    {
        return None;
    }
    for st in &c.obj.states {
        match st {
            State::Build(s) => match cx.get(*s)? {
                Value::None => {}
                Value::Dict(kv) if !kv.iter().any(|(k, _)| cx.text(*k) == Some(b"args")) => {}
                _ => return None,
            },
            State::Setter { .. } => return None,
        }
    }
    // OSError(errno, strerror, …) builds the subclass errno selects.
    if is_os_error(name) && c.args.len() >= 2 {
        return None;
    }
    let is = |i: usize, want: &str| -> bool {
        let Some(&a) = c.args.get(i) else {
            return false;
        };
        match want {
            "str" => cx.text(a).is_some(),
            "int" => cx.int(a).is_some(),
            "bytes" => {
                matches!(cx.get(a), Some(Value::Bytes(_) | Value::ByteArray(_)))
                    || cx.state_bytes(a).is_some()
            }
            _ => false,
        }
    };
    let valid = match name {
        "UnicodeEncodeError" => {
            c.args.len() == 5
                && is(0, "str")
                && is(1, "str")
                && is(2, "int")
                && is(3, "int")
                && is(4, "str")
        }
        "UnicodeDecodeError" => {
            c.args.len() == 5
                && is(0, "str")
                && is(1, "bytes")
                && is(2, "int")
                && is(3, "int")
                && is(4, "str")
        }
        "UnicodeTranslateError" => {
            c.args.len() == 4 && is(0, "str") && is(1, "int") && is(2, "int") && is(3, "str")
        }
        _ => true,
    };
    if !valid {
        return None;
    }
    let mut s = Shape::new();
    s.push(format!("{name}(")).joined(&c.args).push(")");
    Some(s.recursive("..."))
}

/// How an `array` typecode stores items on 64-bit Linux.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Signed(u8),
    Unsigned(u8),
    Float(u8),
    Unicode,
}

fn typecode_kind(t: &str) -> Option<Kind> {
    Some(match t {
        "b" => Kind::Signed(1),
        "B" => Kind::Unsigned(1),
        "h" => Kind::Signed(2),
        "H" => Kind::Unsigned(2),
        "i" => Kind::Signed(4),
        "I" => Kind::Unsigned(4),
        "l" | "q" => Kind::Signed(8),
        "L" | "Q" => Kind::Unsigned(8),
        "f" => Kind::Float(4),
        "d" => Kind::Float(8),
        "u" => Kind::Unicode,
        _ => return None,
    })
}

/// One array item, decoded.
enum Item {
    Int(i128),
    Float(f64),
}

/// `array.array` from `array._array_reconstructor(array.array, typecode,
/// mformat_code, bytes)` (protocol 3+) or `array.array(typecode, list)`.
pub(crate) fn array(cx: &Ctx<'_>, c: &Call<'_>) -> Option<Shape> {
    if !c.bare() || c.new {
        return None;
    }
    let (typecode, items, text): (&str, Vec<Item>, Option<Vec<u32>>) =
        match (&*c.target.name, &c.args[..]) {
            ("_array_reconstructor", [cls, t, m, b]) => {
                if !cx.global(*cls)?.is("array", "array") {
                    return None;
                }
                let t = cx.string(*t)?;
                let data = match cx.get(*b)? {
                    Value::Bytes(d) => d.to_vec(),
                    _ => cx.state_bytes(*b)?,
                };
                let (items, text) = machine(u8::try_from(cx.small(*m)?).ok()?, &data)?;
                (t, items, text)
            }
            ("array", [t]) => (cx.string(*t)?, Vec::new(), None),
            ("array", [t, list]) => {
                let t = cx.string(*t)?;
                let Value::List(v) = cx.get(*list)? else {
                    return None;
                };
                if t == "u" {
                    let mut cps = Vec::with_capacity(v.len());
                    for &it in v {
                        cps.push(
                            PyStr::from_utf8(bytes::Bytes::copy_from_slice(cx.text(it)?))
                                .ok()?
                                .single_char()?,
                        );
                    }
                    (t, Vec::new(), Some(cps))
                } else {
                    let mut items = Vec::with_capacity(v.len());
                    for &it in v {
                        items.push(match cx.get(it)? {
                            Value::Float(f) => Item::Float(*f),
                            _ => Item::Int(cx.int(it)?.to_big().to_i128()?),
                        });
                    }
                    (t, items, None)
                }
            }
            _ => return None,
        };
    let kind = typecode_kind(typecode)?;
    let mut out = format!("array('{typecode}'");
    match (kind, text) {
        (Kind::Unicode, Some(cps)) => {
            if !cps.is_empty() {
                out.push_str(", ");
                out.push_str(&str_repr(PyStr::from_code_points(cps).as_bytes()));
            }
        }
        (Kind::Unicode, None) if items.is_empty() => {}
        (Kind::Unicode, None) | (_, Some(_)) => return None,
        (kind, None) => {
            if !items.is_empty() {
                let mut parts = Vec::with_capacity(items.len());
                for it in items {
                    parts.push(item_repr(kind, it)?);
                }
                out.push_str(&format!(", [{}]", parts.join(", ")));
            }
        }
    }
    out.push(')');
    Some(Shape::text(out))
}

/// An item stored under `kind`, printed; `None` where the array refuses it.
fn item_repr(kind: Kind, it: Item) -> Option<String> {
    match (kind, it) {
        (Kind::Signed(n), Item::Int(v)) => {
            let lim = 1i128 << (8 * u32::from(n) - 1);
            (-lim..lim).contains(&v).then(|| v.to_string())
        }
        (Kind::Unsigned(n), Item::Int(v)) => {
            let lim = 1i128 << (8 * u32::from(n));
            (0..lim).contains(&v).then(|| v.to_string())
        }
        (Kind::Float(4), Item::Float(f)) => Some(float_repr(f64::from(f as f32))),
        (Kind::Float(4), Item::Int(v)) => Some(float_repr(f64::from(v as f64 as f32))),
        (Kind::Float(_), Item::Float(f)) => Some(float_repr(f)),
        (Kind::Float(_), Item::Int(v)) => Some(float_repr(v as f64)),
        _ => None,
    }
}

/// Decodes `array`'s machine format (`enum machine_format_code`): items, or
/// the code points of the UTF-16/32 formats.
fn machine(code: u8, data: &[u8]) -> Option<(Vec<Item>, Option<Vec<u32>>)> {
    let (size, kind) = match code {
        0 => (1, 'u'),
        1 => (1, 's'),
        2..=5 => (2, if code < 4 { 'u' } else { 's' }),
        6..=9 => (4, if code < 8 { 'u' } else { 's' }),
        10..=13 => (8, if code < 12 { 'u' } else { 's' }),
        14 | 15 => (4, 'f'),
        16 | 17 => (8, 'f'),
        18 | 19 => (2, 't'),
        20 | 21 => (4, 't'),
        _ => return None,
    };
    // Odd codes from 2 on are big-endian.
    let big = code >= 2 && code % 2 == 1;
    if !data.len().is_multiple_of(size) {
        return None;
    }
    let words = data.chunks_exact(size).map(|ch| {
        let mut w = [0u8; 8];
        if big {
            w[8 - size..].copy_from_slice(ch);
            u64::from_be_bytes(w)
        } else {
            w[..size].copy_from_slice(ch);
            u64::from_le_bytes(w)
        }
    });
    Some(match kind {
        'u' => (words.map(|w| Item::Int(i128::from(w))).collect(), None),
        's' => {
            let shift = 64 - 8 * size as u32;
            (
                words
                    .map(|w| Item::Int(i128::from(((w << shift) as i64) >> shift)))
                    .collect(),
                None,
            )
        }
        'f' if size == 4 => (
            words
                .map(|w| Item::Float(f64::from(f32::from_bits(w as u32))))
                .collect(),
            None,
        ),
        'f' => (
            words.map(|w| Item::Float(f64::from_bits(w))).collect(),
            None,
        ),
        _ if size == 4 => {
            let cps: Vec<u32> = words.map(|w| w as u32).collect();
            if cps.iter().any(|&c| c > 0x10_FFFF) {
                return None;
            }
            (Vec::new(), Some(cps))
        }
        _ => {
            let units: Vec<u16> = words.map(|w| w as u16).collect();
            let cps: Option<Vec<u32>> = char::decode_utf16(units)
                .map(|r| r.ok().map(u32::from))
                .collect();
            (Vec::new(), Some(cps?))
        }
    })
}

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
        let &(_, value) = state
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
            Value::Dict(kv) => kv.clone(),
            _ => return None,
        },
        _ => return None,
    };
    kv.extend(&c.obj.dict_items);
    Some(super::keys::dedup_pairs(cx.g, &kv))
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
        Value::Tuple(v) | Value::List(v) if (9..=11).contains(&v.len()) => v,
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
    for &(k, v) in kv {
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
