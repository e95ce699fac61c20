//! A few `java.lang` classes with statics py4j users reach for:
//! `Integer`, `Long`, `Math`, `String`, `System`, and plain `Object`.

use std::any::Any;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::jvm::model::no_ctor;
use crate::jvm::model::{ClassTable, JavaClass};
use crate::jvm::{CallError, Cx, JValue, JvmObject, ObjRef};

/// A plain `new java.lang.Object()`.
#[derive(Debug, Default)]
pub struct PlainObject;

impl JvmObject for PlainObject {
    fn java_method_names(&self) -> &'static [&'static str] {
        &[
            "equals",
            "getClass",
            "hashCode",
            "notify",
            "notifyAll",
            "toString",
            "wait",
        ]
    }

    fn class_name(&self) -> String {
        "java.lang.Object".into()
    }

    fn call(
        &self,
        _: &ObjRef,
        method: &str,
        args: &[JValue],
        _: &mut Cx<'_>,
    ) -> Result<JValue, CallError> {
        Err(CallError::no_such_method(method, args))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

fn number_format(text: &str, radix: i64, at: &str) -> CallError {
    let suffix = if radix == 10 {
        String::new()
    } else {
        format!(" under radix {radix}")
    };
    CallError::throw(
        "java.lang.NumberFormatException",
        format!("For input string: \"{text}\"{suffix}"),
        at,
    )
}

/// `Long.parseLong(s, radix)`: an optional sign, then digits of the radix.
fn parse_java_integer(s: &str, radix: i64, min: i64, max: i64, at: &str) -> Result<i64, CallError> {
    if !(2..=36).contains(&radix) {
        return Err(CallError::throw(
            "java.lang.NumberFormatException",
            format!("radix {radix} out of range"),
            at,
        ));
    }
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() {
        return Err(number_format(s, radix, at));
    }
    let mut n: i128 = 0;
    for c in digits.chars() {
        let d = c
            .to_digit(radix as u32)
            .ok_or_else(|| number_format(s, radix, at))?;
        n = n * i128::from(radix) + i128::from(d);
        if n > i128::from(max) + 1 {
            return Err(number_format(s, radix, at));
        }
    }
    let n = if neg { -n } else { n };
    if n < i128::from(min) || n > i128::from(max) {
        return Err(number_format(s, radix, at));
    }
    Ok(n as i64)
}

/// `Math.max`/`min` with Java's overload choice: both `int` → `int`, any
/// `long` → `long`, any `double` → `double`.
fn min_max(args: &[JValue], max: bool, name: &str) -> Result<JValue, CallError> {
    let pick_i = |a: i64, b: i64| if max { a.max(b) } else { a.min(b) };
    match args {
        [JValue::Int(a), JValue::Int(b)] => {
            Ok(JValue::Int(pick_i((*a).into(), (*b).into()) as i32))
        }
        [a @ (JValue::Int(_) | JValue::Long(_)), b @ (JValue::Int(_) | JValue::Long(_))] => {
            let (a, b) = (long_of(a), long_of(b));
            Ok(JValue::Long(pick_i(a, b)))
        }
        // py4j converts neither `Integer` nor `Long` to `double`.
        [JValue::Double(a), JValue::Double(b)] => Ok(JValue::Double(java_min_max(*a, *b, max))),
        _ => Err(CallError::no_such_method(name, args)),
    }
}

/// `Math.max`/`Math.min` on doubles: NaN wins, and -0.0 is below 0.0.
fn java_min_max(a: f64, b: f64, max: bool) -> f64 {
    if a.is_nan() || b.is_nan() {
        return f64::NAN;
    }
    if a == 0.0 && b == 0.0 {
        let a_wins = if max {
            !a.is_sign_negative()
        } else {
            a.is_sign_negative()
        };
        return if a_wins { a } else { b };
    }
    if (a >= b) == max {
        a
    } else {
        b
    }
}

fn long_of(v: &JValue) -> i64 {
    match v {
        JValue::Int(n) => (*n).into(),
        JValue::Long(n) => *n,
        _ => 0,
    }
}

pub(super) fn install(classes: &ClassTable) {
    classes.add(
        JavaClass::new("java.lang.Object")
            .constructor(|args, _| match args {
                [] => Ok(JValue::Object(Arc::new(PlainObject))),
                _ => Err(no_ctor("java.lang.Object", args)),
            })
            .instance_methods(&["equals", "getClass", "hashCode", "toString"]),
    );
    classes.add(JavaClass::new("java.lang.Class").static_method(
        "forName",
        |args, cx| match args {
            [JValue::Str(name)] | [JValue::Str(name), _, _] => {
                let known = cx.jvm.classes().get(name);
                match known {
                    Some(c) => Ok(JValue::Object(Arc::new(crate::jvm::ClassObject::of(&c)))),
                    // Names a real JVM would load (Hadoop codecs, …) resolve to a
                    // `Class` the model can pass around by name.
                    None if name.starts_with("org.apache.hadoop.")
                        || crate::jvm::model::is_unmodelled_class(name) =>
                    {
                        Ok(JValue::Object(Arc::new(crate::jvm::ClassObject::new(
                            name, false,
                        ))))
                    }
                    None => Err(CallError::throw(
                        "java.lang.ClassNotFoundException",
                        name.to_string(),
                        "java.lang.Class.forName",
                    )),
                }
            }
            _ => Err(CallError::no_such_method("forName", args)),
        },
    ));
    classes.add(
        JavaClass::new("java.lang.Integer")
            .static_field("MAX_VALUE", JValue::Int(i32::MAX))
            .static_field("MIN_VALUE", JValue::Int(i32::MIN))
            .static_field("SIZE", JValue::Int(32))
            .static_method("parseInt", |args, _| {
                let at = "java.lang.Integer.parseInt";
                match args {
                    [JValue::Str(s)] => {
                        parse_java_integer(s, 10, i32::MIN.into(), i32::MAX.into(), at)
                            .map(|n| JValue::Int(n as i32))
                    }
                    [JValue::Str(s), JValue::Int(r)] => {
                        parse_java_integer(s, (*r).into(), i32::MIN.into(), i32::MAX.into(), at)
                            .map(|n| JValue::Int(n as i32))
                    }
                    [JValue::Null] => Err(CallError::throw(
                        "java.lang.NumberFormatException",
                        "Cannot parse null string: null",
                        at,
                    )),
                    _ => Err(CallError::no_such_method("parseInt", args)),
                }
            })
            .static_method("valueOf", |args, _| match args {
                [JValue::Int(n)] => Ok(JValue::Int(*n)),
                [JValue::Str(s)] => parse_java_integer(
                    s,
                    10,
                    i32::MIN.into(),
                    i32::MAX.into(),
                    "java.lang.Integer.valueOf",
                )
                .map(|n| JValue::Int(n as i32)),
                _ => Err(CallError::no_such_method("valueOf", args)),
            })
            .static_method("toString", |args, _| match args {
                [JValue::Int(n)] => Ok(JValue::str(n.to_string())),
                _ => Err(CallError::no_such_method("toString", args)),
            })
            .instance_methods(&["intValue", "longValue", "doubleValue", "compareTo"]),
    );
    classes.add(
        JavaClass::new("java.lang.Long")
            .static_field("MAX_VALUE", JValue::Long(i64::MAX))
            .static_field("MIN_VALUE", JValue::Long(i64::MIN))
            .static_method("parseLong", |args, _| match args {
                [JValue::Str(s)] => {
                    parse_java_integer(s, 10, i64::MIN, i64::MAX, "java.lang.Long.parseLong")
                        .map(JValue::Long)
                }
                _ => Err(CallError::no_such_method("parseLong", args)),
            })
            .static_method("valueOf", |args, _| match args {
                [JValue::Long(n)] => Ok(JValue::Long(*n)),
                [JValue::Int(n)] => Ok(JValue::Long((*n).into())),
                _ => Err(CallError::no_such_method("valueOf", args)),
            })
            .instance_methods(&["intValue", "longValue", "doubleValue", "compareTo"]),
    );
    classes.add(
        JavaClass::new("java.lang.Math")
            .static_field("PI", JValue::Double(std::f64::consts::PI))
            .static_field("E", JValue::Double(std::f64::consts::E))
            .static_method("max", |args, _| min_max(args, true, "max"))
            .static_method("min", |args, _| min_max(args, false, "min"))
            .static_method("abs", |args, _| match args {
                [JValue::Int(n)] => Ok(JValue::Int(n.wrapping_abs())),
                [JValue::Long(n)] => Ok(JValue::Long(n.wrapping_abs())),
                [JValue::Double(d)] => Ok(JValue::Double(d.abs())),
                _ => Err(CallError::no_such_method("abs", args)),
            })
            .static_method("sqrt", |args, _| match args {
                [JValue::Double(x)] => Ok(JValue::Double(x.sqrt())),
                _ => Err(CallError::no_such_method("sqrt", args)),
            })
            .static_method("floorDiv", |args, _| match args {
                [JValue::Int(_), JValue::Int(0)] | [JValue::Long(_), JValue::Long(0)] => {
                    Err(CallError::throw(
                        "java.lang.ArithmeticException",
                        "/ by zero",
                        "java.lang.Math.floorDiv",
                    ))
                }
                [JValue::Int(a), JValue::Int(b)] => {
                    let (a, b) = (i64::from(*a), i64::from(*b));
                    Ok(JValue::Int(
                        (a.div_euclid(b) - i64::from(b < 0 && a.rem_euclid(b) != 0)) as i32,
                    ))
                }
                _ => Err(CallError::no_such_method("floorDiv", args)),
            }),
    );
    classes.add(
        JavaClass::new("java.lang.String")
            .constructor(|args, _| match args {
                [] => Ok(JValue::str("")),
                [JValue::Str(s)] => Ok(JValue::Str(s.clone())),
                [JValue::Bytes(b)] => Ok(JValue::str(String::from_utf8_lossy(b).into_owned())),
                _ => Err(no_ctor("java.lang.String", args)),
            })
            .static_method("valueOf", |args, _| match args {
                [v] => Ok(JValue::str(v.java_string())),
                _ => Err(CallError::no_such_method("valueOf", args)),
            })
            .instance_methods(&["length", "substring", "toUpperCase"]),
    );
    classes.add(
        JavaClass::new("java.lang.System")
            .static_method("currentTimeMillis", |args, _| match args {
                [] => Ok(JValue::Long(
                    SystemTime::now()
                        .duration_since(UNIX_EPOCH)
                        .map(|d| d.as_millis() as i64)
                        .unwrap_or(0),
                )),
                _ => Err(CallError::no_such_method("currentTimeMillis", args)),
            })
            .static_method("nanoTime", |args, _| match args {
                [] => Ok(JValue::Long(
                    SystemTime::now()
                        .duration_since(UNIX_EPOCH)
                        .map(|d| d.as_nanos() as i64)
                        .unwrap_or(0),
                )),
                _ => Err(CallError::no_such_method("nanoTime", args)),
            })
            .static_method("lineSeparator", |args, _| match args {
                [] => Ok(JValue::str("\n")),
                _ => Err(CallError::no_such_method("lineSeparator", args)),
            }),
    );
}
