//! Between py4j's wire values and the model's values: what a call returns
//! (objects registered under fresh ids) and what an argument means
//! (references looked up, Python proxies wrapped).

use std::sync::Arc;

use super::model::{JValue, Jvm, Shape};
use super::proxy::PythonProxy;
use crate::py4j::{Double, Spelling, Value};

impl Jvm {
    /// The reply value for a Java value, as py4j's `getReturnObject` builds it:
    /// primitives inline (Java spellings), every object registered under a
    /// fresh id with the letter of its [`Shape`].
    pub fn to_value(&self, v: &JValue) -> Value {
        match v {
            JValue::Null => Value::Null,
            JValue::Bool(b) => Value::Bool(*b, Spelling::Java),
            JValue::Int(n) => Value::Int(*n),
            JValue::Long(n) => Value::Long(*n),
            JValue::Double(d) => Value::Double(Double::java(*d)),
            JValue::Decimal(d) => Value::Decimal(d.to_plain()),
            JValue::Str(s) => Value::Str(s.to_string()),
            JValue::Bytes(b) => Value::Bytes(b.clone()),
            JValue::Object(o) => {
                let id = self.registry.put(o.clone());
                match o.shape() {
                    Shape::Object => Value::Ref(id),
                    Shape::List => Value::List(id),
                    Shape::Map => Value::Map(id),
                    Shape::Set => Value::Set(id),
                    Shape::Array => Value::Array(id),
                    Shape::Iterator => Value::Iterator(id),
                }
            }
        }
    }

    /// The Java value of an argument, as py4j's `Protocol.getObject` reads it:
    /// references looked up, a Python proxy wrapped. The error is py4j's text.
    pub fn from_value(&self, v: &Value) -> Result<JValue, String> {
        Ok(match v {
            Value::Null | Value::Void => JValue::Null,
            Value::Bool(b, _) => JValue::Bool(*b),
            Value::Int(n) => JValue::Int(*n),
            Value::Long(n) => JValue::Long(*n),
            Value::Double(d) => JValue::Double(d.value()),
            Value::Decimal(d) => match d.to_plain_checked() {
                // Java's `new BigDecimal(text)` refuses Python's specials.
                Some(_) => JValue::Decimal(d.clone()),
                None => {
                    return Err(format!(
                        "Character array is missing \"exponent\" mark 'e' or 'E'. ({})",
                        d.text()
                    ))
                }
            },
            Value::Str(s) => JValue::str(s.as_str()),
            Value::Bytes(b) => JValue::Bytes(b.clone()),
            Value::Ref(id)
            | Value::List(id)
            | Value::Map(id)
            | Value::Set(id)
            | Value::Array(id)
            | Value::Iterator(id) => match self.registry.get(id) {
                Some(o) => JValue::Object(o),
                None => {
                    return Err(format!(
                        "Target Object ID does not exist for this gateway :{id}"
                    ))
                }
            },
            Value::Proxy { id, interfaces } => {
                JValue::Object(Arc::new(PythonProxy::new(id.clone(), interfaces.clone())))
            }
            Value::Package | Value::Class(_) | Value::Method | Value::NoMember => {
                return Err(format!(
                    "Type not supported as an argument: {}",
                    v.to_part()
                ))
            }
        })
    }
}
