//! `scala.Tuple2`: what `SparkConf.getAll()` returns an array of, read from
//! Python with `_1()` and `_2()`.

use std::any::Any;
use std::sync::Arc;

use crate::jvm::model::no_ctor;
use crate::jvm::model::{ClassTable, JavaClass};
use crate::jvm::{CallError, Cx, JValue, JvmObject, ObjRef};

/// A `scala.Tuple2`.
#[derive(Debug, Clone)]
pub struct Tuple2(pub JValue, pub JValue);

impl JvmObject for Tuple2 {
    fn java_method_names(&self) -> &'static [&'static str] {
        &[
            "_1",
            "_2",
            "canEqual",
            "copy",
            "equals",
            "getClass",
            "hashCode",
            "notify",
            "notifyAll",
            "productArity",
            "productElement",
            "productElementName",
            "productElementNames",
            "productIterator",
            "productPrefix",
            "swap",
            "toString",
            "wait",
        ]
    }

    fn class_name(&self) -> String {
        "scala.Tuple2".into()
    }

    fn call(
        &self,
        _: &ObjRef,
        method: &str,
        args: &[JValue],
        _: &mut Cx<'_>,
    ) -> Result<JValue, CallError> {
        match (method, args) {
            ("_1", []) => Ok(self.0.clone()),
            ("_2", []) => Ok(self.1.clone()),
            ("productArity", []) => Ok(JValue::Int(2)),
            ("swap", []) => Ok(JValue::Object(Arc::new(Tuple2(
                self.1.clone(),
                self.0.clone(),
            )))),
            _ => Err(CallError::no_such_method(method, args)),
        }
    }

    fn instance_of(&self, fqn: &str) -> bool {
        matches!(
            fqn,
            "scala.Tuple2"
                | "scala.Product"
                | "scala.Product2"
                | "java.io.Serializable"
                | "java.lang.Object"
        )
    }

    fn method_names(&self) -> Vec<&'static str> {
        vec!["_1", "_2", "productArity", "swap"]
    }

    /// Scala's `(a,b)`: no space after the comma.
    fn to_java_string(&self) -> String {
        format!("({},{})", self.0.java_string(), self.1.java_string())
    }

    fn java_equals(&self, other: &ObjRef) -> bool {
        other
            .as_any()
            .downcast_ref::<Tuple2>()
            .is_some_and(|o| self.0.java_equals(&o.0) && self.1.java_equals(&o.1))
    }

    fn hash_code(&self) -> i32 {
        crate::jvm::model::java_hash(&self.0)
            .wrapping_mul(31)
            .wrapping_add(crate::jvm::model::java_hash(&self.1))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

pub(super) fn install(classes: &ClassTable) {
    // Scala collections are modelled as their Java counterparts already.
    for name in [
        "scala.jdk.javaapi.CollectionConverters",
        "scala.collection.JavaConverters",
    ] {
        classes.add(
            JavaClass::new(name)
                .static_method("asJava", |args, _| match args {
                    [v] => Ok(v.clone()),
                    _ => Err(CallError::no_such_method("asJava", args)),
                })
                .static_method("asScala", |args, _| match args {
                    [v] => Ok(v.clone()),
                    _ => Err(CallError::no_such_method("asScala", args)),
                })
                .static_method("seqAsJavaList", |args, _| match args {
                    [v] => Ok(v.clone()),
                    _ => Err(CallError::no_such_method("seqAsJavaList", args)),
                })
                .static_method("mapAsJavaMap", |args, _| match args {
                    [v] => Ok(v.clone()),
                    _ => Err(CallError::no_such_method("mapAsJavaMap", args)),
                }),
        );
    }
    classes.add(
        JavaClass::new("scala.Tuple2")
            .constructor(|args, _| match args {
                [a, b] => Ok(JValue::Object(Arc::new(Tuple2(a.clone(), b.clone())))),
                _ => Err(no_ctor("scala.Tuple2", args)),
            })
            .instance_methods(&["_1", "_2", "productArity", "swap"]),
    );
}
