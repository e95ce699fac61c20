//! The object model's core: the types that refer to one another — values
//! (`JValue`), objects (`JvmObject`), Java exceptions (`Throwable`,
//! `CallError`), the call context and the callback route (`Cx`, `Callbacks`),
//! the class table, the registry and the `Jvm` that holds them. One file
//! because each names the others; everything built on them (arrays, views,
//! proxies, the JDK pieces, command execution) lives in modules of its own.

use std::any::Any;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use bytes::Bytes;

use crate::py4j::{Decimal, Reply, Value};

// ---- value ----
/// A Java value as the object model sees it: a boxed primitive, a string,
/// a `byte[]`, or an object.
#[derive(Clone, Debug)]
pub enum JValue {
    /// `null`.
    Null,
    /// `java.lang.Boolean`.
    Bool(bool),
    /// `java.lang.Integer`.
    Int(i32),
    /// `java.lang.Long`.
    Long(i64),
    /// `java.lang.Double`.
    Double(f64),
    /// `java.math.BigDecimal`, as its text.
    Decimal(Decimal),
    /// `java.lang.String`.
    Str(Arc<str>),
    /// `byte[]` (py4j passes it by value, base64 on the wire).
    Bytes(Bytes),
    /// Any other object.
    Object(ObjRef),
}

impl JValue {
    /// A string value.
    pub fn str(s: impl Into<Arc<str>>) -> JValue {
        JValue::Str(s.into())
    }

    /// The class Java would report for the value, as `Arrays.toString` of a
    /// parameter-class array prints it (`class java.lang.String`, `null`): what
    /// py4j's "Method m([…]) does not exist" message lists.
    pub fn class_description(&self) -> String {
        match self.class_name() {
            Some(c) => format!("class {c}"),
            None => "null".into(),
        }
    }

    /// The runtime class name, `None` for `null`.
    pub fn class_name(&self) -> Option<String> {
        Some(
            match self {
                JValue::Null => return None,
                JValue::Bool(_) => "java.lang.Boolean",
                JValue::Int(_) => "java.lang.Integer",
                JValue::Long(_) => "java.lang.Long",
                JValue::Double(_) => "java.lang.Double",
                JValue::Decimal(_) => "java.math.BigDecimal",
                JValue::Str(_) => "java.lang.String",
                JValue::Bytes(_) => "[B",
                JValue::Object(o) => return Some(o.class_name()),
            }
            .to_owned(),
        )
    }

    /// The object, if this is one.
    pub fn as_object(&self) -> Option<&ObjRef> {
        match self {
            JValue::Object(o) => Some(o),
            _ => None,
        }
    }

    /// `String.valueOf(x)`: what `toString` of the value gives (and what Java's
    /// collections print for their elements).
    pub fn java_string(&self) -> String {
        match self {
            JValue::Null => "null".into(),
            JValue::Bool(b) => b.to_string(),
            JValue::Int(n) => n.to_string(),
            JValue::Long(n) => n.to_string(),
            JValue::Double(d) => crate::py4j::Double::java(*d).text().to_owned(),
            JValue::Decimal(d) => d.text().to_owned(),
            JValue::Str(s) => s.to_string(),
            JValue::Bytes(b) => format!("[B@{:x}", b.as_ptr() as usize & 0xfff_ffff),
            JValue::Object(o) => o.to_java_string(),
        }
    }

    /// `Objects.equals(self, other)` for the values this model has: boxed
    /// primitives and strings by value (an `Integer` never equals a `Long`),
    /// arrays and objects by identity unless the object defines equality.
    pub fn java_equals(&self, other: &JValue) -> bool {
        match (self, other) {
            (JValue::Null, JValue::Null) => true,
            (JValue::Bool(a), JValue::Bool(b)) => a == b,
            (JValue::Int(a), JValue::Int(b)) => a == b,
            (JValue::Long(a), JValue::Long(b)) => a == b,
            // Double.equals compares bits (NaN equals NaN, 0.0 is not -0.0).
            (JValue::Double(a), JValue::Double(b)) => a.to_bits() == b.to_bits(),
            (JValue::Decimal(a), JValue::Decimal(b)) => a == b,
            (JValue::Str(a), JValue::Str(b)) => a == b,
            (JValue::Bytes(a), JValue::Bytes(b)) => a.as_ptr() == b.as_ptr() && a.len() == b.len(),
            (JValue::Object(a), JValue::Object(b)) => a.java_equals(b),
            _ => false,
        }
    }

    /// The ordering `Comparable.compareTo` gives between two values of the same
    /// comparable class; `None` where Java would throw `ClassCastException`.
    pub fn java_compare(&self, other: &JValue) -> Option<std::cmp::Ordering> {
        match (self, other) {
            (JValue::Bool(a), JValue::Bool(b)) => Some(a.cmp(b)),
            (JValue::Int(a), JValue::Int(b)) => Some(a.cmp(b)),
            (JValue::Long(a), JValue::Long(b)) => Some(a.cmp(b)),
            (JValue::Double(a), JValue::Double(b)) => Some(java_double_compare(*a, *b)),
            // String.compareTo compares UTF-16 code units.
            (JValue::Str(a), JValue::Str(b)) => Some(a.encode_utf16().cmp(b.encode_utf16())),
            _ => None,
        }
    }
}

/// `Double.compare`: -0.0 < 0.0, NaN greater than everything and equal to itself.
fn java_double_compare(a: f64, b: f64) -> std::cmp::Ordering {
    a.partial_cmp(&b)
        .unwrap_or_else(|| a.is_nan().cmp(&b.is_nan()))
        .then_with(|| {
            if a == b {
                b.is_sign_negative().cmp(&a.is_sign_negative())
            } else {
                std::cmp::Ordering::Equal
            }
        })
}

/// A [`JValue`] as a hash key with Java's `equals`/`hashCode` contract (for
/// `HashMap` and `HashSet`): value types by value, objects by identity.
#[derive(Clone, Debug)]
pub struct JKey(pub JValue);

impl PartialEq for JKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.java_equals(&other.0)
    }
}

impl Eq for JKey {}

impl Hash for JKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match &self.0 {
            JValue::Null => 0u8.hash(state),
            JValue::Bool(b) => (1u8, b).hash(state),
            JValue::Int(n) => (2u8, n).hash(state),
            JValue::Long(n) => (3u8, n).hash(state),
            JValue::Double(d) => (4u8, d.to_bits()).hash(state),
            JValue::Decimal(d) => (5u8, d.text()).hash(state),
            JValue::Str(s) => (6u8, s).hash(state),
            JValue::Bytes(b) => (7u8, b.as_ptr() as usize, b.len()).hash(state),
            JValue::Object(o) => (8u8, o.hash_code()).hash(state),
        }
    }
}

/// `String.hashCode()`: `s[0]*31^(n-1) + … + s[n-1]` over UTF-16 code units,
/// wrapping.
pub fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

/// `hashCode()` of a value, as Java's boxed types define it.
pub fn java_hash(v: &JValue) -> i32 {
    match v {
        JValue::Null => 0,
        JValue::Bool(b) => {
            if *b {
                1231
            } else {
                1237
            }
        }
        JValue::Int(n) => *n,
        JValue::Long(n) => (*n ^ (*n >> 32)) as i32,
        JValue::Double(d) => {
            let bits = if d.is_nan() {
                0x7ff8_0000_0000_0000
            } else {
                d.to_bits()
            };
            (bits ^ (bits >> 32)) as i32
        }
        JValue::Decimal(d) => java_string_hash(d.text()),
        JValue::Str(s) => java_string_hash(s),
        JValue::Bytes(b) => (b.as_ptr() as usize >> 4) as i32,
        JValue::Object(o) => o.hash_code(),
    }
}

// ---- object ----
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

    /// This object as a `Throwable`, for `p` and `!xro…`.
    fn as_throwable(&self) -> Option<&Throwable> {
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

// ---- error ----
/// A failed call. [`CallError::Throw`] is a Java exception the method threw
/// (py4j answers `!xro<id>` and Python raises `Py4JJavaError`); every other
/// variant is py4j's own failure (answered `!xs<stack trace>`, Python raises
/// `Py4JError`), with py4j's message texts.
#[derive(Clone, Debug)]
pub enum CallError {
    /// The Java method threw this.
    Throw(Arc<Throwable>),
    /// No method of that name accepts these arguments.
    NoSuchMethod {
        /// Method name.
        method: String,
        /// `class java.lang.String`-style descriptions of the arguments.
        args: Vec<String>,
    },
    /// No constructor accepts these arguments.
    NoSuchConstructor {
        /// Class name.
        class: String,
        /// Argument descriptions.
        args: Vec<String>,
    },
    /// The class is not in the model.
    NoSuchClass(String),
    /// No such field.
    NoSuchField(String),
    /// Any other py4j-level failure, with its message.
    Py4j(String),
}

/// py4j's "Constructor C([…]) does not exist".
pub fn no_ctor(class: &str, args: &[JValue]) -> CallError {
    CallError::NoSuchConstructor {
        class: class.to_owned(),
        args: args.iter().map(JValue::class_description).collect(),
    }
}

/// The exception for a class, constructor or method a real JVM has and this
/// model does not: a Java exception (Python raises `Py4JJavaError`) whose
/// message names the class and the member.
pub fn unsupported(class: &str, member: &str) -> CallError {
    CallError::throw(
        "java.lang.UnsupportedOperationException",
        format!("{class}.{member} is not implemented by the sparkwire gateway"),
        &format!("{class}.{member}"),
    )
}

impl CallError {
    /// "Method m([…]) does not exist" for these arguments.
    pub fn no_such_method(method: &str, args: &[JValue]) -> CallError {
        CallError::NoSuchMethod {
            method: method.to_owned(),
            args: args.iter().map(JValue::class_description).collect(),
        }
    }

    /// A Java exception of class `class` with `message`, thrown from `at`
    /// (`java.lang.Integer.parseInt`): the frame its stack trace shows.
    pub fn throw(class: &str, message: impl Into<String>, at: &str) -> CallError {
        CallError::Throw(Arc::new(Throwable::new(class, Some(message.into()), at)))
    }

    /// The throwable py4j reports for a py4j-level failure: a
    /// `py4j.Py4JException` (or the `ClassNotFoundException` it wraps, which
    /// py4j's `getRootThrowable` unwraps), whose stack trace is the `!xs` text.
    pub fn py4j_throwable(&self) -> Throwable {
        let (class, message) = match self {
            CallError::Throw(t) => return (**t).clone(),
            CallError::NoSuchMethod { method, args } => (
                "py4j.Py4JException",
                format!("Method {method}([{}]) does not exist", args.join(", ")),
            ),
            CallError::NoSuchConstructor { class, args } => (
                "py4j.Py4JException",
                format!("Constructor {class}([{}]) does not exist", args.join(", ")),
            ),
            CallError::NoSuchClass(c) => ("java.lang.ClassNotFoundException", c.clone()),
            CallError::NoSuchField(f) => {
                ("py4j.Py4JException", format!("Field {f} does not exist"))
            }
            CallError::Py4j(m) => ("py4j.Py4JException", m.clone()),
        };
        Throwable::new(
            class,
            Some(message),
            "py4j.reflection.ReflectionEngine.invoke",
        )
    }
}

// ---- throwable ----
/// A `java.lang.Throwable`: class, message, stack frames and cause.
#[derive(Clone, Debug)]
pub struct Throwable {
    class: String,
    message: Option<String>,
    frames: Vec<String>,
    cause: Option<Arc<Throwable>>,
}

/// Superclass chains of the exception classes the model throws, for
/// `instanceof` checks (py4j's `JavaIterator` asks whether an exception is a
/// `NoSuchElementException`).
const SUPERS: &[(&str, &str)] = &[
    ("java.lang.Exception", "java.lang.Throwable"),
    ("java.lang.Error", "java.lang.Throwable"),
    ("java.lang.RuntimeException", "java.lang.Exception"),
    (
        "java.lang.ClassNotFoundException",
        "java.lang.ReflectiveOperationException",
    ),
    (
        "java.lang.ReflectiveOperationException",
        "java.lang.Exception",
    ),
    ("java.io.IOException", "java.lang.Exception"),
    (
        "java.lang.IllegalArgumentException",
        "java.lang.RuntimeException",
    ),
    (
        "java.lang.NumberFormatException",
        "java.lang.IllegalArgumentException",
    ),
    (
        "java.lang.IllegalStateException",
        "java.lang.RuntimeException",
    ),
    (
        "java.lang.IndexOutOfBoundsException",
        "java.lang.RuntimeException",
    ),
    (
        "java.lang.ArrayIndexOutOfBoundsException",
        "java.lang.IndexOutOfBoundsException",
    ),
    (
        "java.lang.ArithmeticException",
        "java.lang.RuntimeException",
    ),
    ("java.lang.ClassCastException", "java.lang.RuntimeException"),
    (
        "java.lang.NullPointerException",
        "java.lang.RuntimeException",
    ),
    (
        "java.lang.UnsupportedOperationException",
        "java.lang.RuntimeException",
    ),
    (
        "java.util.NoSuchElementException",
        "java.lang.RuntimeException",
    ),
    (
        "java.util.ConcurrentModificationException",
        "java.lang.RuntimeException",
    ),
    ("py4j.Py4JException", "java.lang.RuntimeException"),
    ("org.apache.spark.SparkException", "java.lang.Exception"),
    (
        "org.apache.spark.api.python.PythonException",
        "java.lang.RuntimeException",
    ),
];

impl Throwable {
    /// A throwable of `class` thrown from the method `at` (a `pkg.Class.method`
    /// name, shown as its one stack frame).
    pub fn new(class: &str, message: Option<String>, at: &str) -> Throwable {
        Throwable {
            class: class.to_owned(),
            message,
            frames: vec![format!("{at}(sparkwire)")],
            cause: None,
        }
    }

    /// The same throwable with `cause` (printed as "Caused by: …").
    pub fn with_cause(mut self, cause: Arc<Throwable>) -> Throwable {
        self.cause = Some(cause);
        self
    }

    /// The same throwable with these stack frames instead (`pkg.Class.method(File.java:1)`).
    pub fn with_frames(mut self, frames: Vec<String>) -> Throwable {
        self.frames = frames;
        self
    }

    /// The class name.
    pub fn class(&self) -> &str {
        &self.class
    }

    /// `getMessage()`.
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// `getCause()`.
    pub fn cause(&self) -> Option<&Arc<Throwable>> {
        self.cause.as_ref()
    }

    /// `Throwable.toString()`: the class, then `": " + message` if there is one.
    pub fn describe(&self) -> String {
        match &self.message {
            Some(m) => format!("{}: {m}", self.class),
            None => self.class.clone(),
        }
    }

    /// `printStackTrace()` into a string, as Java prints it on Linux: the
    /// description, one `\tat frame` line per frame, then each cause as
    /// `Caused by: …` with its frames. Causes are bounded (Java detects cycles;
    /// an `Arc` chain has none, but a deep one is cut).
    pub fn stack_trace(&self) -> String {
        let mut out = String::new();
        let mut current = Some(self);
        let mut first = true;
        let mut depth = 0;
        while let Some(t) = current {
            if !first {
                out.push_str("Caused by: ");
            }
            out.push_str(&t.describe());
            out.push('\n');
            for f in &t.frames {
                out.push_str("\tat ");
                out.push_str(f);
                out.push('\n');
            }
            first = false;
            depth += 1;
            current = if depth < 64 { t.cause.as_deref() } else { None };
        }
        out
    }

    fn is_a(&self, fqn: &str) -> bool {
        let mut c = self.class.as_str();
        for _ in 0..16 {
            if c == fqn {
                return true;
            }
            match SUPERS.iter().find(|(k, _)| *k == c) {
                Some((_, s)) => c = s,
                None => break,
            }
        }
        fqn == "java.lang.Throwable" || fqn == "java.lang.Object"
    }
}

impl JvmObject for Throwable {
    fn java_method_names(&self) -> &'static [&'static str] {
        &[
            "addSuppressed",
            "equals",
            "fillInStackTrace",
            "getCause",
            "getClass",
            "getLocalizedMessage",
            "getMessage",
            "getStackTrace",
            "getSuppressed",
            "hashCode",
            "initCause",
            "notify",
            "notifyAll",
            "printStackTrace",
            "setStackTrace",
            "toString",
            "wait",
        ]
    }

    fn class_name(&self) -> String {
        self.class.clone()
    }

    fn call(
        &self,
        _this: &ObjRef,
        method: &str,
        args: &[JValue],
        _cx: &mut Cx<'_>,
    ) -> Result<JValue, CallError> {
        match (method, args) {
            ("getMessage" | "getLocalizedMessage", []) => Ok(self
                .message
                .as_deref()
                .map(JValue::str)
                .unwrap_or(JValue::Null)),
            ("getCause", []) => Ok(match &self.cause {
                Some(c) => JValue::Object(c.clone()),
                None => JValue::Null,
            }),
            _ => Err(CallError::no_such_method(method, args)),
        }
    }

    fn instance_of(&self, fqn: &str) -> bool {
        self.is_a(fqn)
    }

    fn method_names(&self) -> Vec<&'static str> {
        vec![
            "getCause",
            "getLocalizedMessage",
            "getMessage",
            "printStackTrace",
        ]
    }

    fn to_java_string(&self) -> String {
        self.describe()
    }

    fn as_throwable(&self) -> Option<&Throwable> {
        Some(self)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

// ---- context ----
/// Why a callback into Python could not be made or answered.
#[derive(Debug, thiserror::Error)]
pub enum CallbackError {
    /// No way to reach Python from this call (no pinned connection, no
    /// callback server).
    #[error("no callback route to Python: {0}")]
    Unavailable(String),
    /// Reaching Python failed.
    #[error("callback connection: {0}")]
    Io(#[from] std::io::Error),
    /// Python's bytes were not a py4j reply.
    #[error("callback reply: {0}")]
    Protocol(String),
    /// Callbacks nested deeper than the limit (Python calling Java calling
    /// Python …).
    #[error("callbacks nested deeper than {0}")]
    TooDeep(u32),
}

/// The way from the JVM to Python objects (py4j's "Python proxies"): in
/// ClientServer mode the connection of the Python thread that is waiting for
/// this call (re-entrant commands on the same socket), in JavaGateway mode a
/// connection to Python's callback server.
pub trait Callbacks {
    /// Sends `c⏎<proxy>⏎<method>⏎<args>e⏎` and returns Python's reply line,
    /// serving any commands Python sends meanwhile.
    fn call_proxy(
        &mut self,
        jvm: &Jvm,
        proxy: &str,
        method: &str,
        args: &[Value],
    ) -> Result<Reply, CallbackError>;
}

/// For calls that can never reach Python (tests, in-process use).
#[derive(Debug, Default)]
pub struct NoCallbacks;

impl Callbacks for NoCallbacks {
    fn call_proxy(
        &mut self,
        _: &Jvm,
        proxy: &str,
        _: &str,
        _: &[Value],
    ) -> Result<Reply, CallbackError> {
        Err(CallbackError::Unavailable(format!("proxy {proxy}")))
    }
}

/// The context of one call: the JVM and the callback route of the connection
/// the call came on.
pub struct Cx<'a> {
    /// The JVM state.
    pub jvm: &'a Jvm,
    /// The route to Python.
    pub callbacks: &'a mut dyn Callbacks,
}

impl<'a> Cx<'a> {
    /// A context.
    pub fn new(jvm: &'a Jvm, callbacks: &'a mut dyn Callbacks) -> Cx<'a> {
        Cx { jvm, callbacks }
    }
}

// ---- registry ----
/// Ids py4j reserves: the entry point, the default JVM view and the gateway
/// server object. `m d` never frees them (py4j's Java side means to skip them).
pub const RESERVED_IDS: &[&str] = &["t", "j", "GATEWAY_SERVER"];

/// Thread-safe map from object id to object.
///
/// py4j registers a returned object under a **fresh** id every time, even when
/// it is the same object (each `SparkConf.set` returns a new id), and Python
/// releases ids one by one (`m d`), from any connection, sometimes twice. Each
/// id holds its own `Arc`, so an object lives until its last id is released
/// (and nothing else holds it) — exactly the JVM's reachability.
#[derive(Default)]
pub struct Registry {
    objects: Mutex<HashMap<Box<str>, ObjRef>>,
    next: AtomicU64,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Registry {
        Registry::default()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Box<str>, ObjRef>> {
        // A panic while holding the lock cannot leave the map half-updated
        // (every operation is one insert or remove), so a poisoned lock is safe
        // to keep using.
        self.objects.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers `obj` under a fresh `o<N>` id and returns the id.
    pub fn put(&self, obj: ObjRef) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let id = format!("o{n}");
        self.lock().insert(id.as_str().into(), obj);
        id
    }

    /// Registers `obj` under a fixed id (`j`, `GATEWAY_SERVER`, `t`).
    pub fn bind(&self, id: &str, obj: ObjRef) {
        self.lock().insert(id.into(), obj);
    }

    /// The object behind `id`.
    pub fn get(&self, id: &str) -> Option<ObjRef> {
        self.lock().get(id).map(Arc::clone)
    }

    /// Releases `id`; unknown, already released and reserved ids are ignored,
    /// as py4j's Java side ignores them. Returns whether an id was released.
    pub fn release(&self, id: &str) -> bool {
        if RESERVED_IDS.contains(&id) {
            return false;
        }
        // Drop the object outside the lock: its destructor may be arbitrary.
        let removed = self.lock().remove(id);
        removed.is_some()
    }

    /// Ids currently registered, reserved ones included.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether nothing is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Ids handed out so far.
    pub fn issued(&self) -> u64 {
        self.next.load(Ordering::Relaxed)
    }
}

// ---- class table ----

/// A constructor or static method body.
pub type StaticFn = Arc<dyn Fn(&[JValue], &mut Cx<'_>) -> Result<JValue, CallError> + Send + Sync>;

/// One class of the model.
#[derive(Clone)]
pub struct JavaClass {
    name: String,
    interface: bool,
    constructor: Option<StaticFn>,
    statics: HashMap<String, StaticFn>,
    static_fields: HashMap<String, JValue>,
    instance_methods: Vec<String>,
    nested: Vec<String>,
}

impl std::fmt::Debug for JavaClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JavaClass")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl JavaClass {
    /// A class with no members yet.
    pub fn new(name: &str) -> JavaClass {
        JavaClass {
            name: name.to_owned(),
            interface: false,
            constructor: None,
            statics: HashMap::new(),
            static_fields: HashMap::new(),
            instance_methods: Vec::new(),
            nested: Vec::new(),
        }
    }

    /// Marks it an interface (`java.lang.Class.toString` says so).
    pub fn interface(mut self) -> JavaClass {
        self.interface = true;
        self
    }

    /// Its constructors (one body; it dispatches on the arguments).
    pub fn constructor(
        mut self,
        f: impl Fn(&[JValue], &mut Cx<'_>) -> Result<JValue, CallError> + Send + Sync + 'static,
    ) -> JavaClass {
        self.constructor = Some(Arc::new(f));
        self
    }

    /// A static method (one body for all overloads of the name).
    pub fn static_method(
        mut self,
        name: &str,
        f: impl Fn(&[JValue], &mut Cx<'_>) -> Result<JValue, CallError> + Send + Sync + 'static,
    ) -> JavaClass {
        self.statics.insert(name.to_owned(), Arc::new(f));
        self
    }

    /// A static field with a constant value.
    pub fn static_field(mut self, name: &str, value: JValue) -> JavaClass {
        self.static_fields.insert(name.to_owned(), value);
        self
    }

    /// Names of instance methods: `r m` on them answers py4j's "non-static
    /// member" error instead of "no such member".
    pub fn instance_methods(mut self, names: &[&str]) -> JavaClass {
        self.instance_methods
            .extend(names.iter().map(|s| (*s).to_owned()));
        self
    }

    /// Simple names of nested classes (`Outer$Inner`).
    pub fn nested(mut self, names: &[&str]) -> JavaClass {
        self.nested.extend(names.iter().map(|s| (*s).to_owned()));
        self
    }

    /// The fully qualified name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether it is an interface.
    pub fn is_interface(&self) -> bool {
        self.interface
    }

    /// Calls the constructor.
    pub fn construct(&self, args: &[JValue], cx: &mut Cx<'_>) -> Result<JValue, CallError> {
        match &self.constructor {
            Some(f) => f(args, cx),
            None => Err(CallError::NoSuchConstructor {
                class: self.name.clone(),
                args: args.iter().map(JValue::class_description).collect(),
            }),
        }
    }

    /// Calls a static method.
    pub fn call_static(
        &self,
        method: &str,
        args: &[JValue],
        cx: &mut Cx<'_>,
    ) -> Result<JValue, CallError> {
        match self.statics.get(method) {
            Some(f) => f(args, cx),
            None => Err(CallError::no_such_method(method, args)),
        }
    }

    /// Whether a static method of that name is modelled.
    pub fn has_static(&self, method: &str) -> bool {
        self.statics.contains_key(method)
    }

    /// What `r m` finds for `member`.
    pub fn member(&self, member: &str) -> Member {
        if let Some(v) = self.static_fields.get(member) {
            Member::Field(v.clone())
        } else if self.statics.contains_key(member) {
            Member::StaticMethod
        } else if self.instance_methods.iter().any(|m| m == member) {
            Member::InstanceMethod
        } else if self.nested.iter().any(|n| n == member) {
            Member::Class
        } else {
            Member::None
        }
    }

    /// Public static member names (`d s`), sorted.
    pub fn static_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .statics
            .keys()
            .chain(self.static_fields.keys())
            .chain(self.nested.iter())
            .cloned()
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

/// The result of a static member lookup.
#[derive(Clone, Debug)]
pub enum Member {
    /// A static field's value.
    Field(JValue),
    /// A static method.
    StaticMethod,
    /// A method that exists but is not static.
    InstanceMethod,
    /// A nested class.
    Class,
    /// Nothing of that name.
    None,
}

/// Primitive type names py4j's `TypeUtil.forName` knows without a class.
const PRIMITIVE_TYPES: &[&str] = &[
    "boolean", "byte", "char", "short", "int", "long", "float", "double", "void",
];

/// All classes of the model, by fully qualified name. Thread-safe: the engine
/// may add classes while connections resolve names.
#[derive(Default)]
pub struct ClassTable {
    classes: RwLock<HashMap<String, Arc<JavaClass>>>,
}

impl ClassTable {
    /// An empty table.
    pub fn new() -> ClassTable {
        ClassTable::default()
    }

    /// Adds or replaces a class.
    pub fn add(&self, class: JavaClass) {
        let mut map = self.classes.write().unwrap_or_else(|p| p.into_inner());
        map.insert(class.name.clone(), Arc::new(class));
    }

    /// The class of a fully qualified name (nested classes as `Outer$Inner`).
    pub fn get(&self, fqn: &str) -> Option<Arc<JavaClass>> {
        let map = self.classes.read().unwrap_or_else(|p| p.into_inner());
        map.get(fqn).cloned()
    }

    /// py4j's `r u` resolution of `name` in `view`: a primitive type name; a
    /// dotted name as a fully qualified class; a simple name through the view's
    /// single import, then its imported packages in order. `None` means "not a
    /// class", which py4j answers as "a package".
    pub fn resolve(&self, name: &str, candidates: &dyn Fn(&str) -> Vec<String>) -> Option<String> {
        if PRIMITIVE_TYPES.contains(&name) {
            return Some(name.to_owned());
        }
        if name.contains('.') || self.get(name).is_some() {
            return match self.get(name) {
                Some(c) => Some(c.name.clone()),
                None => is_unmodelled_class(name).then(|| name.to_owned()),
            };
        }
        candidates(name)
            .into_iter()
            .find(|fqn| self.get(fqn).is_some())
    }

    /// Whether `fqn` names a class of the model or a primitive type.
    pub fn knows(&self, fqn: &str) -> bool {
        PRIMITIVE_TYPES.contains(&fqn) || self.get(fqn).is_some()
    }
}

/// Package prefixes of the JVM PySpark talks to (the JDK, Scala, Spark, py4j).
/// A dotted name under one of them whose last part is capitalised is taken to
/// be a class that exists in a real JVM but not in this model: name resolution
/// answers "a class" so that a call to it reaches the model and fails with an
/// exception naming the class and method, instead of Python's "Trying to call
/// a package".
const JVM_PACKAGES: &[&str] = &["java.", "javax.", "scala.", "org.apache.spark.", "py4j."];

/// Whether `fqn` looks like a class of the real JVM that the model lacks.
pub fn is_unmodelled_class(fqn: &str) -> bool {
    JVM_PACKAGES.iter().any(|p| fqn.starts_with(p))
        && fqn
            .rsplit('.')
            .next()
            .and_then(|last| last.chars().next())
            .is_some_and(char::is_uppercase)
}

// ---- the JVM ----
/// The id of the default JVM view (`rj` on the wire).
pub const DEFAULT_VIEW_ID: &str = "j";

/// The JVM state shared by every connection of a gateway: objects, classes,
/// the default view.
pub struct Jvm {
    pub(super) registry: Registry,
    pub(super) classes: ClassTable,
    pub(super) default_view: ObjRef,
}

impl Jvm {
    /// The object registry.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The class table.
    pub fn classes(&self) -> &ClassTable {
        &self.classes
    }

    /// The default view (`j`).
    pub fn default_view(&self) -> &ObjRef {
        &self.default_view
    }
}

/// Most elements one command may make the model allocate: a new array's slots
/// (all dimensions together) or a list repeated by `l m`/`l i`. A JVM is bound
/// only by its heap; a gateway serving a driver on a shared machine refuses
/// more with `OutOfMemoryError`, thrown as Java would. 2^20 elements is far
/// beyond what PySpark or a py4j user builds through `a c` (PySpark never
/// does), and a few tens of MiB at most.
pub const MAX_ELEMENTS_PER_COMMAND: usize = 1 << 20;
