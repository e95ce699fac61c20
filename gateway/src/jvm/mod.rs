//! The driver-side JVM as PySpark sees it through py4j: an object model
//! ([`JvmObject`]), a class table with name resolution ([`ClassTable`]),
//! Java-style exceptions ([`Throwable`]), the gateway-wide [`Registry`], the
//! JDK pieces py4j's auto-conversion and PySpark use ([`jdk`]), and the
//! executor of py4j commands against all of that ([`Jvm::execute`]).
//!
//! Everything here is sans-I/O: a command goes in, a reply comes out; the only
//! way out of the process is a [`Callbacks`] route, which the server supplies.

mod array;
mod class;
pub(crate) mod commands;
mod context;
mod error;
pub mod jdk;
mod object;
mod proxy;
mod registry;
pub mod spark;
mod throwable;
mod value;
mod view;

use std::sync::Arc;

pub use array::{array_class_name, JArray};
pub use class::{is_unmodelled_class, ClassObject, ClassTable, JavaClass, Member, StaticFn};
pub use commands::Outcome;
pub use context::{CallbackError, Callbacks, Cx, NoCallbacks};
pub use error::{unsupported, CallError};
pub use object::{JvmObject, ObjRef, Shape};
pub use proxy::PythonProxy;
pub use registry::{Registry, RESERVED_IDS};
pub use throwable::Throwable;
pub use value::{java_hash, java_string_hash, JKey, JValue};
pub use view::JvmView;

use crate::py4j::{Double, Spelling, Value};

/// Most elements one command may make the model allocate: a new array's slots
/// (all dimensions together) or a list repeated by `l m`/`l i`. A JVM is bound
/// only by its heap; a gateway serving a driver on a shared machine refuses
/// more with `OutOfMemoryError`, thrown as Java would. 2^20 elements is far
/// beyond what PySpark or a py4j user builds through `a c` (PySpark never
/// does), and a few tens of MiB at most.
pub const MAX_ELEMENTS_PER_COMMAND: usize = 1 << 20;

/// The id of the default JVM view (`rj` on the wire).
pub const DEFAULT_VIEW_ID: &str = "j";

/// The JVM state shared by every connection of a gateway: objects, classes,
/// the default view.
pub struct Jvm {
    registry: Registry,
    classes: ClassTable,
    default_view: Arc<JvmView>,
}

impl Default for Jvm {
    fn default() -> Self {
        Jvm::new()
    }
}

impl Jvm {
    /// A JVM with the JDK pieces of [`jdk::install`] and the default view `j`.
    pub fn new() -> Jvm {
        let jvm = Jvm::bare();
        jdk::install(&jvm.classes);
        jvm
    }

    /// A JVM with no classes at all (only the default view).
    pub fn bare() -> Jvm {
        let default_view = Arc::new(JvmView::new("default"));
        let registry = Registry::new();
        registry.bind(DEFAULT_VIEW_ID, default_view.clone());
        Jvm {
            registry,
            classes: ClassTable::new(),
            default_view,
        }
    }

    /// The object registry.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The class table.
    pub fn classes(&self) -> &ClassTable {
        &self.classes
    }

    /// The default view (`j`).
    pub fn default_view(&self) -> &Arc<JvmView> {
        &self.default_view
    }

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
