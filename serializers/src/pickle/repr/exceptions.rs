//! Builtin exceptions as `BaseException.__repr__` prints them after
//! `pickle.loads` rebuilt them from `(cls, args[, state])`.

use super::super::value::{State, Value};
use super::names::{exception as exception_name, is_os_error};
use super::shape::{Call, Ctx, Shape};

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
                Value::Dict(kv)
                    if !cx
                        .pairs(*kv)
                        .iter()
                        .any(|(k, _)| cx.text(*k) == Some(b"args")) => {}
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
