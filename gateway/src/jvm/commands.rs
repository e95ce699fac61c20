//! Executing py4j commands against the object model: the part of py4j's Java
//! `commands` package that is not I/O. Each command gives one [`Outcome`].

use std::sync::Arc;

use bytes::Bytes;

use super::array::JArray;
use super::class::ClassObject;
use super::invoke::{invoke, is_void, void_result};
use super::jdk::collections::JList;
use super::model::JValue;
use super::model::Jvm;
use super::model::Throwable;
use super::model::{is_unmodelled_class, Member, ObjRef};
use super::model::{unsupported, CallError};
use super::model::{Callbacks, Cx};
use super::view::JvmView;
use crate::py4j::{Command, Reply, Spelling, Value};

/// What the connection does after a command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Write this reply line.
    Reply(Reply),
    /// Write this reply line, then these raw bytes (the `S` stream command).
    Stream(Reply, Bytes),
    /// Nothing to write (`m d` never has this; `s` and `z` do).
    Shutdown,
    /// Close the peer socket of another connection (`z`, ClientServer only):
    /// the one whose remote port is `remote_port` on local port `local_port`.
    Cancel {
        /// The address the client named.
        address: String,
        /// That connection's remote (Python-side) port.
        remote_port: i32,
        /// That connection's local (server-side) port.
        local_port: i32,
    },
    /// A command of the other direction or an auth command after auth: py4j's
    /// Java side answers with a fatal error and closes.
    Fatal(Reply),
}

fn ok(v: Value) -> Outcome {
    Outcome::Reply(Reply::Success(v))
}

/// `!xs<text>`: py4j's error with a message.
fn error_text(text: impl Into<String>) -> Outcome {
    Outcome::Reply(Reply::Error(Some(Value::Str(text.into()))))
}

/// `!x`: py4j's bare error.
fn bare_error() -> Outcome {
    Outcome::Reply(Reply::Error(None))
}

impl Jvm {
    /// Executes one command that arrived from Python. `callbacks` is the route
    /// to Python for proxies the command's code may call.
    pub fn execute(&self, command: &Command, callbacks: &mut dyn Callbacks) -> Outcome {
        let mut cx = Cx::new(self, callbacks);
        match command {
            Command::Call {
                target,
                method,
                args,
            } => self.call(target, method, args, &mut cx),
            Command::Constructor { class, args } => self.construct(class, args, &mut cx),
            Command::FieldGet { target, field } => match self.registry().get(target) {
                Some(o) => match o.get_field(field) {
                    Some(v) => ok(self.to_value(&v)),
                    None => ok(Value::NoMember),
                },
                None => self.py4j_error(&missing_target(target)),
            },
            Command::FieldSet {
                target,
                field,
                value,
            } => {
                let outcome = self
                    .registry()
                    .get(target)
                    .ok_or_else(|| missing_target(target))
                    .and_then(|o| {
                        let v = self.from_value(value).map_err(CallError::Py4j)?;
                        o.set_field(field, v)
                    });
                self.finish(outcome.map(|()| void_result()))
            }
            Command::ReflectUnknown { name, view } => {
                match self.with_view(view, |v| self.classes().resolve(name, &|s| v.candidates(s))) {
                    Ok(Some(fqn)) => ok(Value::Class(fqn)),
                    Ok(None) => ok(Value::Package),
                    Err(e) => self.py4j_error(&e),
                }
            }
            Command::ReflectMember { class, member } => self.member(class, member),
            Command::ReflectClass { class } => match self.classes().get(class) {
                Some(c) => ok(self.to_value(&JValue::Object(Arc::new(ClassObject::of(&c))))),
                None => error_text(format!("The class {class} does not exist.")),
            },
            Command::ViewCreate { name } => {
                let name = match name {
                    Value::Str(s) => s.clone(),
                    other => other.to_part(),
                };
                ok(self.to_value(&JValue::Object(Arc::new(JvmView::new(&name)))))
            }
            Command::ViewImport { view, import } => {
                match self.with_view(view, |v| v.import(import)) {
                    Ok(()) => ok(Value::Void),
                    Err(e) => self.py4j_error(&e),
                }
            }
            Command::ViewRemoveImport { view, import } => {
                match self.with_view(view, |v| v.remove_import(import)) {
                    Ok(b) => ok(Value::Bool(b, Spelling::Java)),
                    Err(e) => self.py4j_error(&e),
                }
            }
            Command::ArrayGet { target, index } => self.with_array(target, |a| {
                let i = index_arg(index)?;
                a.get(i)
            }),
            Command::ArraySet {
                target,
                index,
                value,
            } => self.with_array(target, |a| {
                let i = index_arg(index)?;
                let v = self.from_value(value).map_err(CallError::Py4j)?;
                a.set(i, v).map(|()| void_result())
            }),
            Command::ArraySlice { target, indices } => self.with_array(target, |a| {
                let elements = indices
                    .iter()
                    .map(|i| index_arg(i).and_then(|i| a.get(i)))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(JValue::Object(Arc::new(JArray::new(
                    a.component(),
                    elements,
                ))))
            }),
            Command::ArrayLen { target } => self.with_array(target, |a| {
                Ok(JValue::Int(i32::try_from(a.len()).unwrap_or(i32::MAX)))
            }),
            Command::ArrayCreate { class, dimensions } => self.create_array(class, dimensions),
            Command::ListSort { target } => {
                self.with_list(target, |l| l.sort_natural().map(|()| void_result()))
            }
            Command::ListReverse { target } => self.with_list(target, |l| {
                l.reverse();
                Ok(void_result())
            }),
            Command::ListMax { target } => self.with_list(target, |l| l.extreme(true)),
            Command::ListMin { target } => self.with_list(target, |l| l.extreme(false)),
            Command::ListSlice { target, indices } => self.with_list(target, |l| {
                let idx = indices
                    .iter()
                    .map(index_arg)
                    .collect::<Result<Vec<_>, _>>()?;
                let items = idx
                    .into_iter()
                    .map(|i| l.get(i))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(JValue::Object(Arc::new(JList::from_vec(items))))
            }),
            Command::ListConcat { target, other } => self.with_list(target, |l| {
                let o = self
                    .registry()
                    .get(other)
                    .ok_or_else(|| missing_target(other))?;
                let o = o
                    .as_any()
                    .downcast_ref::<crate::jvm::jdk::collections::JList>()
                    .ok_or_else(|| CallError::Py4j(format!("{other} is not a list")))?;
                let mut items = l.items();
                items.extend(o.items());
                Ok(JValue::Object(Arc::new(JList::from_vec(items))))
            }),
            Command::ListMult { target, n } => self.with_list(target, |l| {
                let n = index_arg(n)?;
                Ok(JValue::Object(Arc::new(JList::from_vec(l.repeated(n)?))))
            }),
            Command::ListIMult { target, n } => self.with_list(target, |l| {
                let n = index_arg(n)?;
                l.repeat_in_place(n).map(|()| void_result())
            }),
            Command::ListCount { target, value } => self.with_list(target, |l| {
                let v = self.from_value(value).map_err(CallError::Py4j)?;
                Ok(JValue::Int(l.frequency(&v)))
            }),
            Command::MemoryDelete { target } => {
                self.registry().release(target);
                ok(Value::Void)
            }
            Command::HelpObject {
                target, pattern, ..
            } => match self.registry().get(target) {
                Some(o) => ok(Value::Str(help_page(
                    &o.class_name(),
                    o.method_names(),
                    o.field_names(),
                    pattern,
                ))),
                None => self.py4j_error(&missing_target(target)),
            },
            Command::HelpClass { class, pattern, .. } => match self.classes().get(class) {
                Some(c) => ok(Value::Str(
                    help_page(class, Vec::new(), Vec::new(), pattern).replace(
                        "|  Methods defined here:\n|  \n",
                        &format!(
                            "|  Methods defined here:\n|  \n{}",
                            c.static_names()
                                .iter()
                                .map(|n| format!("|  {n}(...)\n|  \n"))
                                .collect::<String>()
                        ),
                    ),
                )),
                None => self.py4j_error(&CallError::NoSuchClass(class.clone())),
            },
            Command::Exception { throwable } => match self.from_value(throwable) {
                Ok(JValue::Object(o)) => match o.as_throwable() {
                    Some(t) => ok(Value::Str(t.stack_trace())),
                    None => self.py4j_error(&CallError::throw(
                        "java.lang.ClassCastException",
                        format!(
                            "class {} cannot be cast to class java.lang.Throwable",
                            o.class_name()
                        ),
                        "py4j.commands.ExceptionCommand.execute",
                    )),
                },
                Ok(_) => self.py4j_error(&CallError::Py4j("not a throwable".into())),
                Err(e) => self.py4j_error(&CallError::Py4j(e)),
            },
            Command::DirFields { target } => match self.registry().get(target) {
                Some(o) => ok(Value::Str(join_names(o.field_names()))),
                None => bare_error(),
            },
            Command::DirMethods { target } => match self.registry().get(target) {
                Some(o) => {
                    let mut names = o.method_names();
                    names.extend(["equals", "getClass", "hashCode", "toString"]);
                    ok(Value::Str(join_names(names)))
                }
                None => bare_error(),
            },
            Command::DirStatics { class } => match self.classes().get(class) {
                Some(c) => ok(Value::Str(c.static_names().join("\n"))),
                None => bare_error(),
            },
            Command::DirView { view, sequence } => {
                match self.with_view(view, JvmView::imported_names) {
                    Ok((seq, names)) => {
                        let last = match sequence {
                            Value::Str(s) => s.parse::<i32>().ok(),
                            _ => Some(0),
                        };
                        if last == Some(seq) {
                            ok(Value::Null)
                        } else {
                            let mut all = vec![seq.to_string()];
                            all.extend(names);
                            ok(Value::Str(all.join("\n")))
                        }
                    }
                    Err(_) => bare_error(),
                }
            }
            Command::Stream {
                target,
                method,
                args,
            } => match self.call(target, method, args, &mut cx) {
                Outcome::Reply(Reply::Success(Value::Ref(id))) => {
                    match self.registry().get(&id).and_then(|o| o.channel_bytes()) {
                        Some(bytes) => {
                            self.registry().release(&id);
                            Outcome::Stream(Reply::Success(Value::Void), bytes)
                        }
                        None => self.py4j_error(&CallError::throw(
                            "java.lang.ClassCastException",
                            "expected the method to return a ReadableByteChannel",
                            "py4j.commands.StreamCommand.execute",
                        )),
                    }
                }
                Outcome::Reply(Reply::Success(_)) => self.py4j_error(&CallError::throw(
                    "java.lang.ClassCastException",
                    "expected the method to return an Object",
                    "py4j.commands.StreamCommand.execute",
                )),
                other => other,
            },
            Command::Shutdown => Outcome::Shutdown,
            Command::Cancel {
                address,
                remote_port,
                local_port,
            } => Outcome::Cancel {
                address: address.clone(),
                remote_port: *remote_port,
                local_port: *local_port,
            },
            Command::Auth { .. }
            | Command::ProxyCall { .. }
            | Command::ProxyCollected { .. }
            | Command::CallbackAuth { .. } => Outcome::Fatal(Reply::Fatal(Some(Value::Str(
                Throwable::new(
                    "py4j.Py4JException",
                    Some(format!("Unknown command received: {}", command.name())),
                    "py4j.GatewayConnection.run",
                )
                .stack_trace(),
            )))),
        }
    }

    /// `!xs` with the stack trace py4j prints for its own failure.
    fn py4j_error(&self, e: &CallError) -> Outcome {
        match e {
            CallError::Throw(t) => {
                let id = self.registry().put(t.clone());
                Outcome::Reply(Reply::Error(Some(Value::Ref(id))))
            }
            other => error_text(other.py4j_throwable().stack_trace()),
        }
    }

    /// The reply for a call's result: the value, `!yv` for a void method
    /// ([`void_result`]), or the error.
    fn finish(&self, result: Result<JValue, CallError>) -> Outcome {
        match result {
            Ok(v) if is_void(&v) => ok(Value::Void),
            Ok(v) => ok(self.to_value(&v)),
            Err(e) => self.py4j_error(&e),
        }
    }

    fn args(&self, args: &[Value]) -> Result<Vec<JValue>, CallError> {
        args.iter()
            .map(|a| self.from_value(a).map_err(CallError::Py4j))
            .collect()
    }

    fn call(&self, target: &str, method: &str, args: &[Value], cx: &mut Cx<'_>) -> Outcome {
        let result = self.args(args).and_then(|args| {
            if let Some(fqn) = target.strip_prefix("z:") {
                let class = self.classes().get(fqn).ok_or_else(|| {
                    if is_unmodelled_class(fqn) {
                        unsupported(fqn, method)
                    } else {
                        CallError::NoSuchClass(fqn.to_owned())
                    }
                })?;
                return match class.call_static(method, &args, cx) {
                    Err(CallError::NoSuchMethod { .. })
                        if fqn.starts_with("org.apache.spark.") && !class.has_static(method) =>
                    {
                        Err(unsupported(fqn, method))
                    }
                    other => other,
                };
            }
            let obj = self
                .registry()
                .get(target)
                .ok_or_else(|| missing_target(target))?;
            invoke(&obj, method, &args, cx)
        });
        self.finish(result)
    }

    fn construct(&self, class: &str, args: &[Value], cx: &mut Cx<'_>) -> Outcome {
        let result = self.args(args).and_then(|args| {
            let c = self.classes().get(class).ok_or_else(|| {
                if is_unmodelled_class(class) {
                    unsupported(class, "<init>")
                } else {
                    CallError::NoSuchClass(class.to_owned())
                }
            })?;
            c.construct(&args, cx)
        });
        self.finish(result)
    }

    fn member(&self, class: &str, member: &str) -> Outcome {
        let Some(c) = self.classes().get(class) else {
            // A class the model lacks: assume the member is a static method, so
            // that the call that follows fails naming it.
            return if is_unmodelled_class(class) {
                ok(Value::Method)
            } else {
                bare_error()
            };
        };
        match c.member(member) {
            Member::Field(v) => ok(self.to_value(&v)),
            Member::StaticMethod => ok(Value::Method),
            Member::InstanceMethod => {
                error_text("Trying to access a non-static member from a static context.")
            }
            Member::Class => ok(Value::Class(String::new())),
            // A Spark class of the model lacks most of the real one's statics:
            // say "a method" so that the call fails naming what is missing.
            Member::None if class.starts_with("org.apache.spark.") => ok(Value::Method),
            Member::None => bare_error(),
        }
    }

    /// Runs `f` on the JVM view a `r…` part names.
    fn with_view<R>(&self, view: &Value, f: impl FnOnce(&JvmView) -> R) -> Result<R, CallError> {
        let id = match view {
            Value::Ref(id) => id,
            other => {
                return Err(CallError::Py4j(format!(
                    "not a JVM view: {}",
                    other.to_part()
                )))
            }
        };
        let o = self.registry().get(id).ok_or_else(|| missing_target(id))?;
        match o.as_any().downcast_ref::<crate::jvm::JvmView>() {
            Some(v) => Ok(f(v)),
            None => Err(CallError::Py4j(format!("{id} is not a JVM view"))),
        }
    }

    /// Runs `f` on the object `target` names as a `T`; `not_t` is the Java
    /// exception for an object of another type.
    fn with_target<T: 'static>(
        &self,
        target: &str,
        not_t: impl FnOnce(&ObjRef) -> CallError,
        f: impl FnOnce(&T) -> Result<JValue, CallError>,
    ) -> Outcome {
        let result = self
            .registry()
            .get(target)
            .ok_or_else(|| missing_target(target))
            .and_then(|o| match o.as_any().downcast_ref::<T>() {
                Some(t) => f(t),
                None => Err(not_t(&o)),
            });
        self.finish(result)
    }

    fn with_array(
        &self,
        target: &str,
        f: impl FnOnce(&JArray) -> Result<JValue, CallError>,
    ) -> Outcome {
        let not_array = |_: &ObjRef| {
            CallError::throw(
                "java.lang.IllegalArgumentException",
                "Argument is not an array",
                "java.lang.reflect.Array.getLength",
            )
        };
        self.with_target(target, not_array, f)
    }

    fn with_list(
        &self,
        target: &str,
        f: impl FnOnce(&JList) -> Result<JValue, CallError>,
    ) -> Outcome {
        let not_list = |o: &ObjRef| {
            CallError::throw(
                "java.lang.ClassCastException",
                format!(
                    "class {} cannot be cast to class java.util.List",
                    o.class_name()
                ),
                "py4j.commands.ListCommand.execute",
            )
        };
        self.with_target(target, not_list, f)
    }

    fn create_array(&self, class: &Value, dimensions: &[Value]) -> Outcome {
        let result = (|| {
            let Value::Str(component) = class else {
                return Err(CallError::Py4j(format!(
                    "not a class name: {}",
                    class.to_part()
                )));
            };
            if !self.classes().knows(component) {
                return Err(CallError::NoSuchClass(component.clone()));
            }
            let dims = dimensions
                .iter()
                .map(index_arg)
                .collect::<Result<Vec<_>, _>>()?;
            if dims.is_empty() {
                return Err(CallError::Py4j(
                    "an array needs at least one dimension".into(),
                ));
            }
            // Refuse before allocating what the client merely declares.
            // Count every array the command creates, not only the leaf slots:
            // `new int[n][0]` makes n arrays.
            let mut total: u64 = 0;
            let mut level: u64 = 1;
            for d in &dims {
                if *d < 0 {
                    return Err(CallError::throw(
                        "java.lang.NegativeArraySizeException",
                        d.to_string(),
                        "java.lang.reflect.Array.newInstance",
                    ));
                }
                level = level.saturating_mul(*d as u64);
                total = total.saturating_add(level);
                if level == 0 {
                    break;
                }
            }
            if total > super::MAX_ELEMENTS_PER_COMMAND as u64 {
                return Err(CallError::throw(
                    "java.lang.OutOfMemoryError",
                    "Requested array size exceeds the gateway's limit",
                    "java.lang.reflect.Array.newInstance",
                ));
            }
            Ok(JValue::Object(Arc::new(nested_array(component, &dims))))
        })();
        self.finish(result)
    }
}

/// `new component[d0][d1]…`.
fn nested_array(component: &str, dims: &[i32]) -> JArray {
    let len = usize::try_from(dims[0]).unwrap_or(0);
    if dims.len() == 1 {
        return JArray::with_len(component, len);
    }
    let inner_component = format!("{component}{}", "[]".repeat(dims.len() - 1));
    let elements = (0..len)
        .map(|_| JValue::Object(Arc::new(nested_array(component, &dims[1..]))))
        .collect();
    JArray::new(&inner_component, elements)
}

fn missing_target(id: &str) -> CallError {
    CallError::Py4j(format!(
        "Target Object ID does not exist for this gateway :{id}"
    ))
}

fn index_arg(v: &Value) -> Result<i32, CallError> {
    match v {
        Value::Int(i) => Ok(*i),
        other => Err(CallError::Py4j(format!(
            "expected an int index, got {}",
            other.to_part()
        ))),
    }
}

fn join_names(mut names: Vec<&'static str>) -> String {
    names.sort_unstable();
    names.dedup();
    names.join("\n")
}

/// A help page in the shape of py4j's `HelpPageGenerator`.
fn help_page(
    class: &str,
    methods: Vec<&'static str>,
    fields: Vec<&'static str>,
    pattern: &Value,
) -> String {
    let (package, simple) = class.rsplit_once('.').unwrap_or(("", class));
    let pattern = match pattern {
        Value::Str(p) => Some(p.as_str()),
        _ => None,
    };
    let matches = |name: &str| pattern.is_none_or(|p| glob(p, name));
    let mut out = format!("Help on class {simple} in package {package}:\n\n{simple} {{\n|  \n|  Methods defined here:\n|  \n");
    let mut methods = methods;
    methods.sort_unstable();
    methods.dedup();
    for m in methods.into_iter().filter(|m| matches(m)) {
        out.push_str(&format!("|  {m}(...)\n|  \n"));
    }
    out.push_str("|  ------------------------------------------------------------\n|  Fields defined here:\n|  \n");
    for f in fields.into_iter().filter(|f| matches(f)) {
        out.push_str(&format!("|  {f}\n|  \n"));
    }
    out.push_str("|  ------------------------------------------------------------\n|  Internal classes defined here:\n|  \n}\n");
    out
}

/// py4j's help filter: `*` matches any run of characters.
fn glob(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let mut rest = name;
    for (i, p) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(p) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(p);
        } else {
            match rest.find(p) {
                Some(at) => rest = &rest[at + p.len()..],
                None => return false,
            }
        }
    }
    rest.is_empty() || parts.len() > 1
}
