//! Calls of builtins that `pickle.loads` makes and whose result prints
//! without the call: `complex`, `range` (Python 2's `xrange`), `slice`,
//! `type(None)`, and pure conversions such as `int()` → `0`,
//! `float('1.5')` → `1.5`, `tuple([1])` → `(1,)`.

use num_bigint::BigInt;

use super::super::pytext::float_repr;
use super::super::value::{Int, NodeId, Value};
use super::hash::{float_as_int, is_zero};
use super::output::{int_repr, ReprError};
use super::shape::{Call, Ctx, Shape};

pub(crate) fn shape(cx: &Ctx<'_>, c: &Call<'_>) -> Result<Option<Shape>, ReprError> {
    if !c.bare() {
        return Ok(None);
    }
    let args = &c.args[..];
    let digits = cx.max_int_digits;
    Ok(match (&*c.target.name, args) {
        ("complex", _) => complex(cx, args).map(Shape::text),
        ("range", [_] | [_, _] | [_, _, _]) => {
            let ints: Option<Vec<Int>> = args.iter().map(|&a| cx.int(a)).collect();
            let Some(mut ints) = ints else {
                return Ok(None);
            };
            if ints.len() == 1 {
                ints.insert(0, Int::Small(0));
            }
            if ints.get(2).is_some_and(|s| s.as_i64() == Some(0)) {
                return Ok(None);
            }
            let mut text = format!(
                "range({}, {}",
                int_repr(&ints[0], digits)?,
                int_repr(&ints[1], digits)?
            );
            if let Some(step) = ints.get(2).filter(|s| s.as_i64() != Some(1)) {
                text.push_str(", ");
                text.push_str(&int_repr(step, digits)?);
            }
            text.push(')');
            Some(Shape::text(text))
        }
        ("slice", [_] | [_, _] | [_, _, _]) => {
            let mut s = Shape::new();
            s.push("slice(");
            let parts: [Option<NodeId>; 3] = match args {
                [stop] => [None, Some(*stop), None],
                [a, b] => [Some(*a), Some(*b), None],
                [a, b, c] => [Some(*a), Some(*b), Some(*c)],
                _ => return Ok(None),
            };
            for (i, p) in parts.iter().enumerate() {
                if i > 0 {
                    s.push(", ");
                }
                match p {
                    Some(n) => s.node(*n),
                    None => s.push("None"),
                };
            }
            s.push(")");
            Some(s.recursive("..."))
        }
        ("type", [a]) => type_of(cx, *a).map(Shape::text),
        ("int", []) => Some(Shape::text("0")),
        ("int", [a]) => int_of(cx, *a)
            .map(|i| int_repr(&i, digits))
            .transpose()?
            .map(Shape::text),
        ("float", []) => Some(Shape::text("0.0")),
        ("float", [a]) => float_of(cx, *a).map(|f| Shape::text(float_repr(f))),
        ("bool", []) => Some(Shape::text("False")),
        ("bool", [a]) => truth(cx, *a).map(|b| Shape::text(if b { "True" } else { "False" })),
        ("str", []) => Some(Shape::text("''")),
        ("str", [a]) if matches!(cx.get(*a), Some(Value::Str(_))) => {
            let mut s = Shape::new();
            s.node(*a);
            Some(s)
        }
        ("tuple", []) => Some(Shape::text("()")),
        ("list", []) => Some(Shape::text("[]")),
        ("dict", []) => Some(Shape::text("{}")),
        ("tuple" | "list", [a]) => match cx.get(*a) {
            Some(Value::List(items) | Value::Tuple(items)) => {
                let tuple = c.target.name == "tuple";
                let mut s = Shape::new();
                s.push(if tuple { "(" } else { "[" })
                    .joined(cx.items(*items));
                s.push(match (tuple, items.len()) {
                    (true, 1) => ",)",
                    (true, _) => ")",
                    _ => "]",
                });
                Some(s.recursive("..."))
            }
            _ => None,
        },
        _ => None,
    })
}

/// `fractions.Fraction('n/d')` (what `Fraction.__reduce__` pickles) →
/// `Fraction(n, d)`; the text is taken only in its canonical lowest-terms form.
pub(crate) fn fraction(cx: &Ctx<'_>, c: &Call<'_>) -> Option<Shape> {
    if c.target.name != "Fraction" || !c.bare() || c.new {
        return None;
    }
    let [a] = c.args[..] else { return None };
    let t = cx.string(a)?;
    let (n, d) = t.split_once('/').unwrap_or((t, "1"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let body = n.strip_prefix('-').unwrap_or(n);
    // Past 4300 digits `int(text)` inside Fraction refuses, as repr would.
    if !digits(body)
        || !digits(d)
        || (body.len() > 1 && body.starts_with('0'))
        || d.starts_with('0')
        || body.len().max(d.len()) > 4300
    {
        return None;
    }
    let (nb, db): (BigInt, BigInt) = (n.parse().ok()?, d.parse().ok()?);
    let (mut x, mut y) = (nb.clone(), db.clone());
    while y != BigInt::from(0) {
        let r = &x % &y;
        x = y;
        y = r;
    }
    if x != BigInt::from(1) && x != BigInt::from(-1) && nb != BigInt::from(0) {
        return None;
    }
    if nb == BigInt::from(0) && d != "1" {
        return None;
    }
    Some(Shape::text(format!("Fraction({nb}, {db})")))
}

/// `repr(complex(re, im))`: the parts in `repr` style without `.0`, the real
/// part left out when it is `+0.0`.
fn complex(cx: &Ctx<'_>, args: &[NodeId]) -> Option<String> {
    let part = |i: usize| -> Option<f64> {
        match args.get(i) {
            None => Some(0.0),
            Some(&a) => match cx.get(a)? {
                Value::Float(f) => Some(*f),
                Value::Int(Int::Small(v)) => Some(*v as f64),
                Value::Bool(b) => Some(f64::from(u8::from(*b))),
                _ => None,
            },
        }
    };
    if args.len() > 2 {
        return None;
    }
    let (re, im) = (part(0)?, part(1)?);
    Some(complex_repr(re, im))
}

pub(crate) fn complex_repr(re: f64, im: f64) -> String {
    let bare = |v: f64| {
        let s = float_repr(v);
        match s.strip_suffix(".0") {
            Some(t) => t.to_owned(),
            None => s,
        }
    };
    if re == 0.0 && re.is_sign_positive() {
        return format!("{}j", bare(im));
    }
    let mut i = bare(im);
    if !i.starts_with('-') {
        i.insert(0, '+');
    }
    format!("({}{i}j)", bare(re))
}

fn type_of(cx: &Ctx<'_>, a: NodeId) -> Option<&'static str> {
    Some(match cx.get(a)? {
        Value::None => "<class 'NoneType'>",
        Value::Bool(_) => "<class 'bool'>",
        Value::Int(_) => "<class 'int'>",
        Value::Float(_) => "<class 'float'>",
        Value::Str(_) => "<class 'str'>",
        Value::Bytes(_) if !cx.py2_str => "<class 'bytes'>",
        Value::ByteArray(_) => "<class 'bytearray'>",
        Value::Tuple(_) => "<class 'tuple'>",
        Value::List(_) => "<class 'list'>",
        Value::Dict(_) => "<class 'dict'>",
        Value::Set(_) => "<class 'set'>",
        Value::FrozenSet(_) => "<class 'frozenset'>",
        Value::Global { .. } => {
            let n = cx.global(a)?;
            match (&*n.module, &*n.name) {
                ("builtins", "Ellipsis") => "<class 'ellipsis'>",
                ("builtins", "NotImplemented") => "<class 'NotImplementedType'>",
                _ => return None,
            }
        }
        _ => return None,
    })
}

fn int_of(cx: &Ctx<'_>, a: NodeId) -> Option<Int> {
    match cx.get(a)? {
        Value::Float(f) => Some(Int::from_big(float_as_int(f.trunc())?)),
        Value::Str(_) | Value::Bytes(_) => {
            let t = std::str::from_utf8(cx.text(a)?).ok()?;
            let t = t.trim_matches(|c: char| c.is_ascii_whitespace());
            let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
            if digits.is_empty()
                || !digits.bytes().all(|b| b.is_ascii_digit())
                || digits.len() > 4300
            {
                return None;
            }
            Some(Int::from_big(t.parse::<BigInt>().ok()?))
        }
        _ => cx.int(a),
    }
}

fn float_of(cx: &Ctx<'_>, a: NodeId) -> Option<f64> {
    match cx.get(a)? {
        Value::Float(f) => Some(*f),
        Value::Int(Int::Small(v)) => Some(*v as f64),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::Str(_) | Value::Bytes(_) => {
            let t = std::str::from_utf8(cx.text(a)?).ok()?;
            let t = t.trim_matches(|c: char| c.is_ascii_whitespace());
            let body = t.strip_prefix(['+', '-']).unwrap_or(t);
            let plain = !body.is_empty()
                && body
                    .bytes()
                    .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
                && body
                    .bytes()
                    .next()
                    .is_some_and(|b| b.is_ascii_digit() || b == b'.');
            let word = ["inf", "infinity", "nan"].contains(&body.to_ascii_lowercase().as_str());
            if !(plain || word) {
                return None;
            }
            t.parse().ok()
        }
        _ => None,
    }
}

fn truth(cx: &Ctx<'_>, a: NodeId) -> Option<bool> {
    let v = cx.get(a)?;
    if let Some(z) = is_zero(v) {
        return Some(!z);
    }
    Some(match v {
        Value::None => false,
        Value::Str(s) => !s.as_bytes().is_empty(),
        Value::Bytes(b) | Value::ByteArray(b) => !b.is_empty(),
        Value::Tuple(v) | Value::List(v) => !v.is_empty(),
        Value::Dict(kv) => !kv.is_empty(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::complex_repr;

    // Expected values: repr(complex(re, im)) on CPython 3.11.
    #[test]
    fn complex_like_python() {
        assert_eq!(complex_repr(1.0, 2.0), "(1+2j)");
        assert_eq!(complex_repr(0.0, 1.0), "1j");
        assert_eq!(complex_repr(-0.0, -0.0), "(-0-0j)");
        assert_eq!(complex_repr(0.0, 0.0), "0j");
        assert_eq!(complex_repr(f64::INFINITY, f64::NAN), "(inf+nanj)");
        assert_eq!(complex_repr(1e16, -1e-5), "(1e+16-1e-05j)");
    }
}
