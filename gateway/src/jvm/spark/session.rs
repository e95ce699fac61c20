//! `SparkSession` as far as RDD programs need it: `builder…getOrCreate()`,
//! `spark.sparkContext`, `spark.conf`, `spark.version`, `spark.stop()`. Every
//! DataFrame and SQL entry point answers with an exception saying that it
//! needs Spark's SQL engine, which `sparkwire submit` does not have.

use std::any::Any;
use std::sync::{Arc, Mutex};

use super::conf::SparkConf;
use super::python::ScalaOption;
use super::state::Spark;
use crate::jvm::invoke::void_result;
use crate::jvm::jdk::collections::JMap;
use crate::jvm::{CallError, ClassTable, Cx, JValue, JavaClass, JvmObject, ObjRef, Throwable};

/// The class names PySpark 3.5 and 4.x use.
const SESSION_CLASSES: &[&str] = &[
    "org.apache.spark.sql.SparkSession",
    "org.apache.spark.sql.classic.SparkSession",
];

/// What a DataFrame or SQL call answers.
pub fn sql_unsupported(class: &str, method: &str) -> CallError {
    CallError::Throw(Arc::new(Throwable::new(
        "java.lang.UnsupportedOperationException",
        Some(format!(
            "{class}.{method} is not supported by sparkwire submit: DataFrames and SQL need Spark's SQL engine, \
             which sparkwire does not have (RDD programs only; run this program with spark-submit)"
        )),
        &format!("{class}.{method}"),
    )))
}

/// A `SparkSession`.
pub struct Session {
    spark: Arc<Spark>,
    context: ObjRef,
    conf: Arc<SparkConf>,
}

impl JvmObject for Session {
    fn class_name(&self) -> String {
        let v4 = !self.spark.version.starts_with('3');
        SESSION_CLASSES[usize::from(v4)].into()
    }

    fn call(
        &self,
        _: &ObjRef,
        method: &str,
        args: &[JValue],
        _: &mut Cx<'_>,
    ) -> Result<JValue, CallError> {
        match (method, args) {
            ("sparkContext", []) => Ok(JValue::Object(self.context.clone())),
            ("version", []) => Ok(JValue::str(self.spark.version.as_str())),
            ("conf", []) => Ok(JValue::Object(Arc::new(RuntimeConfig(self.conf.clone())))),
            ("newSession", []) => Ok(JValue::Object(Arc::new(Session {
                spark: self.spark.clone(),
                context: self.context.clone(),
                conf: Arc::new(SparkConf::with(self.conf.all())),
            }))),
            ("stop" | "close", []) => Ok(void_result()),
            _ => Err(sql_unsupported(&self.class_name(), method)),
        }
    }

    fn method_names(&self) -> Vec<&'static str> {
        vec!["conf", "newSession", "sparkContext", "stop", "version"]
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// `spark.conf`: the session's settings over the context's.
pub struct RuntimeConfig(Arc<SparkConf>);

impl JvmObject for RuntimeConfig {
    fn class_name(&self) -> String {
        "org.apache.spark.sql.RuntimeConfig".into()
    }

    fn call(
        &self,
        _: &ObjRef,
        method: &str,
        args: &[JValue],
        _: &mut Cx<'_>,
    ) -> Result<JValue, CallError> {
        match (method, args) {
            ("get", [JValue::Str(k)]) => self.0.get(k).map(JValue::str).ok_or_else(|| {
                CallError::Throw(Arc::new(Throwable::new(
                    "java.util.NoSuchElementException",
                    Some(k.to_string()),
                    "org.apache.spark.sql.RuntimeConfig.get",
                )))
            }),
            ("get", [JValue::Str(k), d]) => {
                Ok(self.0.get(k).map(JValue::str).unwrap_or_else(|| d.clone()))
            }
            ("getOption", [JValue::Str(k)]) => Ok(JValue::Object(Arc::new(ScalaOption(
                self.0.get(k).map(JValue::str),
            )))),
            ("contains", [JValue::Str(k)]) => Ok(JValue::Bool(self.0.get(k).is_some())),
            ("set", [JValue::Str(k), v]) => {
                self.0.set(k, &v.java_string());
                Ok(void_result())
            }
            ("unset", [JValue::Str(k)]) => {
                self.0.remove(k);
                Ok(void_result())
            }
            ("isModifiable", [JValue::Str(k)]) => Ok(JValue::Bool(
                !k.starts_with("spark.") || k.starts_with("spark.sql."),
            )),
            _ => Err(CallError::no_such_method(method, args)),
        }
    }

    fn method_names(&self) -> Vec<&'static str> {
        vec![
            "contains",
            "get",
            "getOption",
            "isModifiable",
            "set",
            "unset",
        ]
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The `SparkSession$` module: only `applyModifiableSettings` is called.
struct SessionModule;

impl JvmObject for SessionModule {
    fn class_name(&self) -> String {
        "org.apache.spark.sql.SparkSession$".into()
    }

    fn call(
        &self,
        _: &ObjRef,
        method: &str,
        args: &[JValue],
        _: &mut Cx<'_>,
    ) -> Result<JValue, CallError> {
        match (method, args) {
            ("applyModifiableSettings", [JValue::Object(s), opts]) => {
                if let (Some(session), Some(map)) = (
                    s.as_any().downcast_ref::<Session>(),
                    opts.as_object()
                        .and_then(|o| o.as_any().downcast_ref::<JMap>()),
                ) {
                    for (k, v) in map.entries() {
                        session.conf.set(&k.java_string(), &v.java_string());
                    }
                }
                Ok(void_result())
            }
            _ => Err(CallError::no_such_method(method, args)),
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// `SparkSession.builder()` as the JVM-side builder PySpark 4 uses.
struct Builder {
    spark: Arc<Spark>,
    default: Arc<Mutex<Option<ObjRef>>>,
    options: Mutex<Vec<(String, String)>>,
}

impl JvmObject for Builder {
    fn class_name(&self) -> String {
        "org.apache.spark.sql.classic.SparkSession$Builder".into()
    }

    fn call(
        &self,
        this: &ObjRef,
        method: &str,
        args: &[JValue],
        _: &mut Cx<'_>,
    ) -> Result<JValue, CallError> {
        match (method, args) {
            ("config", [JValue::Object(o)]) => {
                if let Some(map) = o.as_any().downcast_ref::<JMap>() {
                    let mut opts = self.options.lock().unwrap_or_else(|p| p.into_inner());
                    for (k, v) in map.entries() {
                        opts.push((k.java_string(), v.java_string()));
                    }
                }
                Ok(JValue::Object(this.clone()))
            }
            ("config", [JValue::Str(k), v]) => {
                self.options
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push((k.to_string(), v.java_string()));
                Ok(JValue::Object(this.clone()))
            }
            ("create" | "getOrCreate", []) => {
                let ctx = self.spark.context().ok_or_else(|| {
                    CallError::throw(
                        "java.lang.IllegalStateException",
                        "no SparkContext is running",
                        "org.apache.spark.sql.SparkSession$Builder.getOrCreate",
                    )
                })?;
                let session = new_session(
                    &self.spark,
                    ctx,
                    &self.options.lock().unwrap_or_else(|p| p.into_inner()),
                );
                *self.default.lock().unwrap_or_else(|p| p.into_inner()) = Some(session.clone());
                Ok(JValue::Object(session))
            }
            _ => Err(CallError::no_such_method(method, args)),
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

fn new_session(spark: &Arc<Spark>, context: ObjRef, options: &[(String, String)]) -> ObjRef {
    let conf = match context.as_any().downcast_ref::<super::context::Context>() {
        Some(c) => c.conf_snapshot(),
        None => Vec::new(),
    };
    let conf = Arc::new(SparkConf::with(conf));
    for (k, v) in options {
        conf.set(k, v);
    }
    Arc::new(Session {
        spark: spark.clone(),
        context,
        conf,
    })
}

/// Adds the session classes.
pub fn install(classes: &ClassTable, spark: Arc<Spark>) {
    let default: Arc<Mutex<Option<ObjRef>>> = Arc::default();
    let active: Arc<Mutex<Option<ObjRef>>> = Arc::default();
    for name in SESSION_CLASSES {
        let option = |slot: &Arc<Mutex<Option<ObjRef>>>| {
            let slot = slot.clone();
            move |_: &[JValue], _: &mut Cx<'_>| {
                let v = slot.lock().unwrap_or_else(|p| p.into_inner()).clone();
                Ok(JValue::Object(Arc::new(ScalaOption(v.map(JValue::Object)))))
            }
        };
        let setter = |slot: &Arc<Mutex<Option<ObjRef>>>| {
            let slot = slot.clone();
            move |args: &[JValue], _: &mut Cx<'_>| {
                *slot.lock().unwrap_or_else(|p| p.into_inner()) =
                    args.first().and_then(|a| a.as_object().cloned());
                Ok(void_result())
            }
        };
        let clearer = |slot: &Arc<Mutex<Option<ObjRef>>>| {
            let slot = slot.clone();
            move |_: &[JValue], _: &mut Cx<'_>| {
                *slot.lock().unwrap_or_else(|p| p.into_inner()) = None;
                Ok(void_result())
            }
        };
        let s = spark.clone();
        let s2 = spark.clone();
        let d = default.clone();
        let class = name.to_string();
        classes.add(
            JavaClass::new(name)
                .constructor(move |args, _| match args {
                    [JValue::Object(sc), opts] => {
                        let options: Vec<(String, String)> = opts
                            .as_object()
                            .and_then(|o| o.as_any().downcast_ref::<JMap>())
                            .map(|m| {
                                m.entries()
                                    .into_iter()
                                    .map(|(k, v)| (k.java_string(), v.java_string()))
                                    .collect()
                            })
                            .unwrap_or_default();
                        Ok(JValue::Object(new_session(&s, sc.clone(), &options)))
                    }
                    _ => Err(crate::jvm::jdk::no_ctor(&class, args)),
                })
                .static_method("getDefaultSession", option(&default))
                .static_method("getActiveSession", option(&active))
                .static_method("setDefaultSession", setter(&default))
                .static_method("setActiveSession", setter(&active))
                .static_method("clearDefaultSession", clearer(&default))
                .static_method("clearActiveSession", clearer(&active))
                .static_method("builder", move |_, _| {
                    Ok(JValue::Object(Arc::new(Builder {
                        spark: s2.clone(),
                        default: d.clone(),
                        options: Mutex::new(Vec::new()),
                    })))
                })
                .instance_methods(&["sparkContext", "version", "conf", "newSession", "stop"]),
        );
        classes.add(
            JavaClass::new(&format!("{name}$"))
                .static_field("MODULE$", JValue::Object(Arc::new(SessionModule))),
        );
    }
}
