//! `java.lang.Class` objects (`r c`, `getClass()`, `Class.forName`).

use std::any::Any;

use super::model::{CallError, Cx, JValue, JavaClass, JvmObject, ObjRef};

/// A `java.lang.Class` object (`r c`, `getClass()`).
#[derive(Debug)]
pub struct ClassObject {
    name: String,
    interface: bool,
}

impl ClassObject {
    /// The `Class` of `name`.
    pub fn new(name: &str, interface: bool) -> ClassObject {
        ClassObject {
            name: name.to_owned(),
            interface,
        }
    }

    /// For a class of the table.
    pub fn of(class: &JavaClass) -> ClassObject {
        ClassObject::new(class.name(), class.is_interface())
    }
}

impl JvmObject for ClassObject {
    fn class_name(&self) -> String {
        "java.lang.Class".into()
    }

    fn call(
        &self,
        _: &ObjRef,
        method: &str,
        args: &[JValue],
        _: &mut Cx<'_>,
    ) -> Result<JValue, CallError> {
        match (method, args) {
            ("getName" | "getTypeName" | "getCanonicalName", []) => Ok(JValue::str(
                self.name
                    .replace('$', if method == "getName" { "$" } else { "." }),
            )),
            ("getSimpleName", []) => Ok(JValue::str(
                self.name.rsplit(['.', '$']).next().unwrap_or(&self.name),
            )),
            ("isInterface", []) => Ok(JValue::Bool(self.interface)),
            ("isArray", []) => Ok(JValue::Bool(self.name.starts_with('['))),
            _ => Err(CallError::no_such_method(method, args)),
        }
    }

    fn method_names(&self) -> Vec<&'static str> {
        vec![
            "getCanonicalName",
            "getName",
            "getSimpleName",
            "getTypeName",
            "isArray",
            "isInterface",
        ]
    }

    fn to_java_string(&self) -> String {
        let kind = if self.interface { "interface" } else { "class" };
        format!("{kind} {}", self.name)
    }

    fn java_equals(&self, other: &ObjRef) -> bool {
        other
            .as_any()
            .downcast_ref::<ClassObject>()
            .is_some_and(|o| o.name == self.name)
    }

    fn hash_code(&self) -> i32 {
        super::model::java_string_hash(&self.name)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
