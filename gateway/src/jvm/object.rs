//! The trait every JVM-side object implements, and how a returned object is
//! announced to Python.

use std::any::Any;
use std::sync::Arc;

use super::array::JArray;
use super::context::Cx;
use super::error::CallError;
use super::throwable::Throwable;
use super::value::JValue;
use super::view::JvmView;

/// A shared handle to a JVM-side object; the registry hands out one id per
/// return, each holding one of these.
pub type ObjRef = Arc<dyn JvmObject>;

/// How py4j announces a returned object: the letter decides which Python
/// wrapper (`JavaList`, `JavaMap`, `JavaArray`, …) the client builds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// `r`: a plain `JavaObject`.
    Object,
    /// `l`: a `java.util.List`.
    List,
    /// `a`: a `java.util.Map`.
    Map,
    /// `h`: a `java.util.Set`.
    Set,
    /// `t`: a Java array.
    Array,
    /// `g`: a `java.util.Iterator`.
    Iterator,
}

/// A JVM-side object: what py4j's reflection would find on a Java object.
///
/// `call` receives the decoded arguments and answers with a value, a thrown
/// Java exception ([`CallError::Throw`]) or py4j's own failure
/// ([`CallError::NoSuchMethod`] and friends). The `java.lang.Object` methods
/// (`toString`, `equals`, `hashCode`, `getClass`) are answered by the
/// dispatcher when `call` does not know them.
pub trait JvmObject: Send + Sync + Any {
    /// `getClass().getName()`.
    fn class_name(&self) -> String;

    /// Invokes an instance method. `this` is the handle the call came through
    /// (for methods that return their receiver).
    fn call(
        &self,
        this: &ObjRef,
        method: &str,
        args: &[JValue],
        cx: &mut Cx<'_>,
    ) -> Result<JValue, CallError>;

    /// The reply letter for this object.
    fn shape(&self) -> Shape {
        Shape::Object
    }

    /// `fqn` is this object's class, a superclass or an implemented interface.
    fn instance_of(&self, fqn: &str) -> bool {
        fqn == "java.lang.Object" || fqn == self.class_name()
    }

    /// Public instance method names (`dir()`, help pages, `r m` answers).
    fn method_names(&self) -> Vec<&'static str> {
        Vec::new()
    }

    /// Every public instance method name of the real Java class, implemented
    /// or not. A call to a name listed here that the model does not answer
    /// fails as "not implemented" (a Java exception naming class and method);
    /// a name the real class lacks fails as py4j's "Method … does not exist".
    /// Empty (the default) means "not listed": every unanswered name is then
    /// "not implemented".
    fn java_method_names(&self) -> &'static [&'static str] {
        &[]
    }

    /// Public field names.
    fn field_names(&self) -> Vec<&'static str> {
        Vec::new()
    }

    /// Reads a public field (`f g`); `None` when there is no such field.
    fn get_field(&self, _name: &str) -> Option<JValue> {
        None
    }

    /// Writes a public field (`f s`).
    fn set_field(&self, name: &str, _value: JValue) -> Result<(), CallError> {
        Err(CallError::NoSuchField(name.to_owned()))
    }

    /// `toString()`; the default is `Object.toString`'s `class@hash`.
    fn to_java_string(&self) -> String {
        format!("{}@{:x}", self.class_name(), self.identity_hash())
    }

    /// `equals`; identity by default.
    fn java_equals(&self, other: &ObjRef) -> bool {
        std::ptr::addr_eq(self as *const Self, Arc::as_ptr(other))
    }

    /// `hashCode()`; the identity hash by default.
    fn hash_code(&self) -> i32 {
        self.identity_hash() as i32
    }

    /// A stable per-object number (the address), like `System.identityHashCode`.
    fn identity_hash(&self) -> u32 {
        let addr = self as *const Self as *const () as usize as u64;
        ((addr >> 4) ^ (addr >> 36)) as u32 & 0x7fff_ffff
    }

    /// This object as a Java array, for the `a` commands.
    fn as_array(&self) -> Option<&JArray> {
        None
    }

    /// This object as a `java.util.List`, for the `l` commands.
    fn as_list(&self) -> Option<&super::jdk::collections::JList> {
        None
    }

    /// This object as a `Throwable`, for `p` and `!xro…`.
    fn as_throwable(&self) -> Option<&Throwable> {
        None
    }

    /// This object as a JVM view, for `r u` and `j`.
    fn as_view(&self) -> Option<&JvmView> {
        None
    }

    /// The bytes a `ReadableByteChannel` would yield, for the `S` command.
    fn channel_bytes(&self) -> Option<bytes::Bytes> {
        None
    }

    /// For downcasting to concrete engine types.
    fn as_any(&self) -> &dyn Any;
}

impl std::fmt::Debug for dyn JvmObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<{}@{:x}>", self.class_name(), self.identity_hash())
    }
}
