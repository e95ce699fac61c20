//! `org.apache.spark.SparkConf`: a string map the driver sets and reads back.

use std::any::Any;
use std::sync::{Arc, Mutex};

use crate::jvm::jdk::scala::Tuple2;
use crate::jvm::{CallError, Cx, JArray, JValue, JvmObject, ObjRef, Throwable};

/// A `SparkConf`: settings in the order they were first set.
#[derive(Debug, Default)]
pub struct SparkConf {
    entries: Mutex<Vec<(String, String)>>,
}

fn no_such_element(key: &str) -> CallError {
    CallError::Throw(Arc::new(Throwable::new(
        "java.util.NoSuchElementException",
        Some(key.to_owned()),
        "org.apache.spark.SparkConf.get",
    )))
}

impl SparkConf {
    /// A conf with these settings.
    pub fn with(entries: Vec<(String, String)>) -> SparkConf {
        SparkConf {
            entries: Mutex::new(entries),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(String, String)>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `get(key)`.
    pub fn get(&self, key: &str) -> Option<String> {
        self.lock()
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }

    /// `set(key, value)`.
    pub fn set(&self, key: &str, value: &str) {
        let mut e = self.lock();
        match e.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value.to_owned(),
            None => e.push((key.to_owned(), value.to_owned())),
        }
    }

    /// `remove(key)`.
    pub fn remove(&self, key: &str) {
        self.lock().retain(|(k, _)| k != key);
    }

    /// Every setting.
    pub fn all(&self) -> Vec<(String, String)> {
        self.lock().clone()
    }

    fn getter<T>(
        &self,
        key: &str,
        default: T,
        parse: impl Fn(&str) -> Option<T>,
        java: &str,
    ) -> Result<T, CallError> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => parse(v.trim()).ok_or_else(|| {
                CallError::throw(
                    "java.lang.NumberFormatException",
                    format!("{key} should be {java}, but was {v}"),
                    "org.apache.spark.SparkConf.get",
                )
            }),
        }
    }
}

impl JvmObject for SparkConf {
    fn class_name(&self) -> String {
        "org.apache.spark.SparkConf".into()
    }

    fn call(
        &self,
        this: &ObjRef,
        method: &str,
        args: &[JValue],
        _: &mut Cx<'_>,
    ) -> Result<JValue, CallError> {
        let me = || Ok(JValue::Object(this.clone()));
        match (method, args) {
            ("set", [JValue::Str(k), v]) => {
                let v = match v {
                    JValue::Null => {
                        return Err(CallError::throw(
                            "java.lang.NullPointerException",
                            format!("null value for {k}"),
                            "org.apache.spark.SparkConf.set",
                        ))
                    }
                    other => other.java_string(),
                };
                self.set(k, &v);
                me()
            }
            ("set", [JValue::Null, _]) => Err(CallError::throw(
                "java.lang.NullPointerException",
                "null key",
                "org.apache.spark.SparkConf.set",
            )),
            ("setIfMissing", [JValue::Str(k), JValue::Str(v)]) => {
                if self.get(k).is_none() {
                    self.set(k, v);
                }
                me()
            }
            ("setMaster", [JValue::Str(v)]) => {
                self.set("spark.master", v);
                me()
            }
            ("setAppName", [JValue::Str(v)]) => {
                self.set("spark.app.name", v);
                me()
            }
            ("setSparkHome", [JValue::Str(v)]) => {
                self.set("spark.home", v);
                me()
            }
            ("setExecutorEnv", [JValue::Str(k), JValue::Str(v)]) => {
                self.set(&format!("spark.executorEnv.{k}"), v);
                me()
            }
            ("remove", [JValue::Str(k)]) => {
                self.lock().retain(|(key, _)| key != &**k);
                me()
            }
            ("get", [JValue::Str(k)]) => self
                .get(k)
                .map(JValue::str)
                .ok_or_else(|| no_such_element(k)),
            ("get", [JValue::Str(k), d]) => {
                Ok(self.get(k).map(JValue::str).unwrap_or_else(|| d.clone()))
            }
            ("contains", [JValue::Str(k)]) => Ok(JValue::Bool(self.get(k).is_some())),
            ("getInt", [JValue::Str(k), JValue::Int(d)]) => self
                .getter(k, *d, |s| s.parse().ok(), "int")
                .map(JValue::Int),
            ("getLong", [JValue::Str(k), d]) => {
                let d = match d {
                    JValue::Int(n) => i64::from(*n),
                    JValue::Long(n) => *n,
                    _ => return Err(CallError::no_such_method(method, args)),
                };
                self.getter(k, d, |s| s.parse().ok(), "long")
                    .map(JValue::Long)
            }
            ("getBoolean", [JValue::Str(k), JValue::Bool(d)]) => self
                .getter(k, *d, |s| s.to_ascii_lowercase().parse().ok(), "boolean")
                .map(JValue::Bool),
            ("getDouble", [JValue::Str(k), JValue::Double(d)]) => self
                .getter(k, *d, |s| s.parse().ok(), "double")
                .map(JValue::Double),
            ("getAll", []) => Ok(JValue::Object(Arc::new(JArray::new(
                "scala.Tuple2",
                self.all()
                    .into_iter()
                    .map(|(k, v)| JValue::Object(Arc::new(Tuple2(JValue::str(k), JValue::str(v)))))
                    .collect(),
            )))),
            ("toDebugString", []) => {
                let mut all = self.all();
                all.sort();
                Ok(JValue::str(
                    all.iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join("\n"),
                ))
            }
            ("clone", []) => Ok(JValue::Object(Arc::new(SparkConf::with(self.all())))),
            ("getAppId", []) => self
                .get("spark.app.id")
                .map(JValue::str)
                .ok_or_else(|| no_such_element("spark.app.id")),
            _ => Err(CallError::no_such_method(method, args)),
        }
    }

    fn method_names(&self) -> Vec<&'static str> {
        vec![
            "clone",
            "contains",
            "get",
            "getAll",
            "getAppId",
            "getBoolean",
            "getDouble",
            "getInt",
            "getLong",
            "remove",
            "set",
            "setAppName",
            "setExecutorEnv",
            "setIfMissing",
            "setMaster",
            "setSparkHome",
            "toDebugString",
        ]
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
