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
mod convert;
pub(crate) mod invoke;
pub mod jdk;
pub(crate) mod model;
mod proxy;
pub mod spark;
mod view;

use std::sync::Arc;

pub use array::{array_class_name, JArray};
pub use class::ClassObject;
pub use commands::Outcome;
pub use invoke::{invoke, void_result};
pub use model::{
    is_unmodelled_class, java_hash, java_string_hash, no_ctor, unsupported, CallError,
    CallbackError, Callbacks, ClassTable, Cx, JKey, JValue, JavaClass, Jvm, JvmObject, Member,
    NoCallbacks, ObjRef, Registry, Shape, StaticFn, Throwable, DEFAULT_VIEW_ID,
    MAX_ELEMENTS_PER_COMMAND, RESERVED_IDS,
};
pub use proxy::PythonProxy;
pub use view::JvmView;

impl Default for Jvm {
    fn default() -> Self {
        Jvm::new()
    }
}

impl Jvm {
    /// A JVM with the JDK pieces of [`jdk::install`] and the default view `j`.
    pub fn new() -> Jvm {
        let jvm = Jvm::bare();
        jdk::install(jvm.classes());
        jvm
    }

    /// A JVM with no classes at all (only the default view).
    pub fn bare() -> Jvm {
        let default_view: ObjRef = Arc::new(JvmView::new("default"));
        let registry = Registry::new();
        registry.bind(DEFAULT_VIEW_ID, default_view.clone());
        Jvm {
            registry,
            classes: ClassTable::new(),
            default_view,
        }
    }
}
