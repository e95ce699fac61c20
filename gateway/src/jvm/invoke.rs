//! Calling a method on an object of the model, with the `java.lang.Object`
//! methods answered for every object, and the marker of a `void` result.

use std::sync::Arc;

use super::class::ClassObject;
use super::model::{unsupported, CallError, Cx, JValue, ObjRef};

/// Invokes `method` on `obj`, answering the `java.lang.Object` methods the
/// object does not define itself.
pub fn invoke(
    obj: &ObjRef,
    method: &str,
    args: &[JValue],
    cx: &mut Cx<'_>,
) -> Result<JValue, CallError> {
    match obj.call(obj, method, args, cx) {
        Err(CallError::NoSuchMethod { .. }) => match (method, args) {
            ("toString", []) => Ok(JValue::str(obj.to_java_string())),
            ("hashCode", []) => Ok(JValue::Int(obj.hash_code())),
            ("equals", [other]) => Ok(JValue::Bool(match other {
                JValue::Object(o) => obj.java_equals(o),
                _ => false,
            })),
            ("getClass", []) => Ok(JValue::Object(Arc::new(ClassObject::new(
                &obj.class_name(),
                false,
            )))),
            _ => {
                let java = obj.java_method_names();
                let implemented = obj.method_names().contains(&method);
                if !implemented && (java.is_empty() || java.contains(&method)) {
                    Err(unsupported(&obj.class_name(), method))
                } else {
                    Err(CallError::no_such_method(method, args))
                }
            }
        },
        other => other,
    }
}

/// The marker a method returns to say "void" (py4j answers `!yv`, not `!yn`).
pub fn void_result() -> JValue {
    JValue::Object(Arc::clone(&VOID))
}

static VOID: std::sync::LazyLock<ObjRef> = std::sync::LazyLock::new(|| Arc::new(VoidMarker));

pub fn is_void(v: &JValue) -> bool {
    matches!(v, JValue::Object(o) if o.as_any().is::<VoidMarker>())
}

#[derive(Debug)]
struct VoidMarker;

impl super::model::JvmObject for VoidMarker {
    fn class_name(&self) -> String {
        "void".into()
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
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
