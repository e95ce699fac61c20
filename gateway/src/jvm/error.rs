//! How a call into the object model fails, mapped to py4j's error replies.

use std::sync::Arc;

use super::throwable::Throwable;
use super::value::JValue;

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
