//! The JDK (and Scala, and py4j) classes py4j clients and PySpark touch:
//! collections built by auto-conversion, arrays, `scala.Tuple2`, `java.io.File`,
//! a few `java.lang` statics, py4j's own `TypeUtil` and gateway object.

pub mod collections;
pub mod io;
pub mod lang;
pub mod py4j;
pub mod scala;

use std::sync::Arc;

use super::model::{ClassTable, JavaClass};
use super::{CallError, JValue};
use collections::{JList, JMap, JSet};

/// Adds every class of this module to `classes`.
pub fn install(classes: &ClassTable) {
    classes.add(
        JavaClass::new("java.util.ArrayList")
            .constructor(|args, _| match args {
                [] | [JValue::Int(_)] => Ok(JValue::Object(Arc::new(JList::new()))),
                [c @ JValue::Object(o)]
                    if o.as_any()
                        .downcast_ref::<crate::jvm::jdk::collections::JList>()
                        .is_some()
                        || o.as_any().is::<JSet>() =>
                {
                    let l = JList::new();
                    let _ = c;
                    if let Some(src) = o
                        .as_any()
                        .downcast_ref::<crate::jvm::jdk::collections::JList>()
                    {
                        for x in src.items() {
                            l.push(x);
                        }
                    } else if let Some(s) = o.as_any().downcast_ref::<JSet>() {
                        for x in s.items() {
                            l.push(x);
                        }
                    }
                    Ok(JValue::Object(Arc::new(l)))
                }
                _ => Err(no_ctor("java.util.ArrayList", args)),
            })
            .instance_methods(&["add", "addAll", "get", "set", "remove", "size", "iterator"]),
    );
    classes.add(
        JavaClass::new("java.util.HashMap")
            .constructor(|args, _| match args {
                [] | [JValue::Int(_)] => Ok(JValue::Object(Arc::new(JMap::new()))),
                _ => Err(no_ctor("java.util.HashMap", args)),
            })
            .instance_methods(&["get", "put", "remove", "size", "keySet", "containsKey"]),
    );
    classes.add(
        JavaClass::new("java.util.HashSet")
            .constructor(|args, _| match args {
                [] | [JValue::Int(_)] => Ok(JValue::Object(Arc::new(JSet::new()))),
                _ => Err(no_ctor("java.util.HashSet", args)),
            })
            .instance_methods(&["add", "remove", "contains", "size", "iterator"]),
    );
    for iface in [
        "java.util.List",
        "java.util.Map",
        "java.util.Set",
        "java.util.Comparator",
        "java.util.Iterator",
    ] {
        classes.add(JavaClass::new(iface).interface());
    }
    classes.add(JavaClass::new("java.util.function.Consumer").interface());
    scala::install(classes);
    io::install(classes);
    lang::install(classes);
    py4j::install(classes);
}

/// py4j's "Constructor C([…]) does not exist".
pub fn no_ctor(class: &str, args: &[JValue]) -> CallError {
    CallError::NoSuchConstructor {
        class: class.to_owned(),
        args: args.iter().map(JValue::class_description).collect(),
    }
}
