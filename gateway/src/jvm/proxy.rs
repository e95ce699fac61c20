//! Python objects that implement Java interfaces (`f<id>;<iface>…` arguments):
//! calling one sends a callback command to Python.

use std::any::Any;

use super::model::CallError;
use super::model::Cx;
use super::model::JValue;
use super::model::Throwable;
use super::model::{JvmObject, ObjRef};
use crate::py4j::{Reply, Value};

/// A Python proxy (py4j's `PythonProxyHandler`): an id in Python's proxy pool
/// and the interfaces it claims.
#[derive(Debug)]
pub struct PythonProxy {
    id: String,
    interfaces: Vec<String>,
}

impl PythonProxy {
    /// A proxy of Python object `id`.
    pub fn new(id: String, interfaces: Vec<String>) -> PythonProxy {
        PythonProxy { id, interfaces }
    }

    /// Its id in Python's pool.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The interfaces it implements.
    pub fn interfaces(&self) -> &[String] {
        &self.interfaces
    }
}

impl JvmObject for PythonProxy {
    fn class_name(&self) -> String {
        // Java names dynamic proxy classes `jdk.proxy1.$Proxy12`.
        "jdk.proxy1.$Proxy0".into()
    }

    /// Sends the call to Python and turns its answer into a Java result: a
    /// value, or the `Py4JException` py4j's proxy handler throws with Python's
    /// error text.
    fn call(
        &self,
        _: &ObjRef,
        method: &str,
        args: &[JValue],
        cx: &mut Cx<'_>,
    ) -> Result<JValue, CallError> {
        let parts: Vec<Value> = args.iter().map(|a| cx.jvm.to_value(a)).collect();
        let reply = cx
            .callbacks
            .call_proxy(cx.jvm, &self.id, method, &parts)
            .map_err(|e| {
                CallError::Throw(std::sync::Arc::new(Throwable::new(
                    "py4j.Py4JException",
                    Some(format!(
                        "Error while obtaining a new communication channel: {e}"
                    )),
                    "py4j.CallbackClient.sendCommand",
                )))
            })?;
        match reply {
            Reply::Success(v) => cx.jvm.from_value(&v).map_err(CallError::Py4j),
            Reply::Ack => Ok(JValue::Null),
            Reply::Error(v) | Reply::Fatal(v) => {
                // As py4j's `Protocol.getReturnValue`: a thrown Java object is
                // rethrown, anything else becomes the text of a Py4JException.
                let value = match v {
                    Some(v) => cx.jvm.from_value(&v).unwrap_or(JValue::Null),
                    None => JValue::Null,
                };
                if let JValue::Object(o) = &value {
                    if let Some(t) = o.as_throwable() {
                        return Err(CallError::Throw(std::sync::Arc::new(t.clone())));
                    }
                }
                Err(CallError::Throw(std::sync::Arc::new(Throwable::new(
                    "py4j.Py4JException",
                    Some(format!(
                        "An exception was raised by the Python Proxy. Return Message: {}",
                        value.java_string()
                    )),
                    "py4j.Protocol.getReturnValue",
                ))))
            }
        }
    }

    fn instance_of(&self, fqn: &str) -> bool {
        fqn == "java.lang.Object" || self.interfaces.iter().any(|i| i == fqn)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
