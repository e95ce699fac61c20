//! Java exceptions: what `!xro<id>` points at, and the `printStackTrace` text
//! py4j's `p` command returns (which PySpark prints in `Py4JJavaError`).

use std::any::Any;
use std::sync::Arc;

use super::context::Cx;
use super::error::CallError;
use super::object::{JvmObject, ObjRef};
use super::value::JValue;

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
