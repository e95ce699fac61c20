//! The small objects of `org.apache.spark.api.python` and friends that
//! PySpark builds and passes back: functions, partitioners, accumulators,
//! broadcasts, storage levels, options, serve results.

use std::any::Any;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use crate::engine::accumulators::AccumulatorTarget;
use crate::engine::python::PythonFunction;
use crate::jvm::invoke::void_result;
use crate::jvm::jdk::collections::JMap;
use crate::jvm::{CallError, Cx, JValue, JvmObject, ObjRef, Throwable};

macro_rules! plain_object {
    ($t:ty, $class:expr) => {
        impl JvmObject for $t {
            fn class_name(&self) -> String {
                $class.into()
            }
            fn call(
                &self,
                this: &ObjRef,
                method: &str,
                args: &[JValue],
                cx: &mut Cx<'_>,
            ) -> Result<JValue, CallError> {
                self.dispatch(this, method, args, cx)
            }
            fn method_names(&self) -> Vec<&'static str> {
                Self::METHODS.to_vec()
            }
            fn as_any(&self) -> &dyn Any {
                self
            }
        }
    };
}

/// A `SimplePythonFunction`.
pub struct Function(pub Arc<PythonFunction>);

impl Function {
    const METHODS: &'static [&'static str] = &["command", "pythonExec", "pythonVer"];

    /// `new SimplePythonFunction(command, envVars, pythonIncludes, pythonExec,
    /// pythonVer, broadcastVars, accumulator)`.
    pub fn construct(args: &[JValue]) -> Result<Function, CallError> {
        let [JValue::Bytes(command), env, includes, JValue::Str(exec), JValue::Str(ver), broadcasts, acc] =
            args
        else {
            return Err(crate::jvm::jdk::no_ctor(
                "org.apache.spark.api.python.SimplePythonFunction",
                args,
            ));
        };
        let env = env
            .as_object()
            .and_then(|o| o.as_any().downcast_ref::<JMap>())
            .map(|m| {
                m.entries()
                    .into_iter()
                    .map(|(k, v)| (k.java_string(), v.java_string()))
                    .collect()
            })
            .unwrap_or_default();
        let list = |v: &JValue| {
            v.as_object()
                .and_then(|o| {
                    o.as_any()
                        .downcast_ref::<crate::jvm::jdk::collections::JList>()
                        .map(|l| l.items())
                })
                .unwrap_or_default()
        };
        let includes = list(includes).iter().map(JValue::java_string).collect();
        let broadcasts = list(broadcasts)
            .iter()
            .filter_map(|b| {
                b.as_object()?
                    .as_any()
                    .downcast_ref::<Broadcast>()
                    .map(|b| crate::engine::python::BroadcastVar {
                        id: b.id,
                        path: b.path.clone(),
                        destroyed: b.destroyed.clone(),
                    })
            })
            .collect();
        let accumulator = acc
            .as_object()
            .and_then(|o| o.as_any().downcast_ref::<Accumulator>())
            .map(|a| a.target.clone());
        Ok(Function(Arc::new(PythonFunction {
            command: command.clone(),
            env,
            includes,
            python_exec: exec.to_string(),
            python_version: ver.to_string(),
            broadcasts,
            accumulator,
        })))
    }

    fn dispatch(
        &self,
        _: &ObjRef,
        method: &str,
        args: &[JValue],
        _: &mut Cx<'_>,
    ) -> Result<JValue, CallError> {
        match (method, args) {
            ("command", []) => Ok(JValue::Bytes(self.0.command.clone())),
            ("pythonExec", []) => Ok(JValue::str(self.0.python_exec.as_str())),
            ("pythonVer", []) => Ok(JValue::str(self.0.python_version.as_str())),
            _ => Err(CallError::no_such_method(method, args)),
        }
    }
}
plain_object!(Function, "org.apache.spark.api.python.SimplePythonFunction");

/// A `PythonPartitioner(numPartitions, pyPartitionFunctionId)`.
pub struct Partitioner {
    /// Partitions.
    pub partitions: usize,
    /// `id(partitionFunc)` on the Python side: with the count, what makes two
    /// partitioners equal.
    pub function_id: i64,
}

impl Partitioner {
    const METHODS: &'static [&'static str] = &["numPartitions", "pyPartitionFunctionId"];

    /// From the constructor's arguments.
    pub fn construct(args: &[JValue]) -> Result<Partitioner, CallError> {
        match args {
            [JValue::Int(n), id @ (JValue::Int(_) | JValue::Long(_))] if *n > 0 => {
                Ok(Partitioner {
                    partitions: *n as usize,
                    function_id: match id {
                        JValue::Int(i) => i64::from(*i),
                        JValue::Long(l) => *l,
                        _ => 0,
                    },
                })
            }
            [JValue::Int(n), _] => Err(CallError::throw(
                "java.lang.IllegalArgumentException",
                format!("requirement failed: Number of partitions ({n}) cannot be negative."),
                "org.apache.spark.HashPartitioner.<init>",
            )),
            _ => Err(crate::jvm::jdk::no_ctor(
                "org.apache.spark.api.python.PythonPartitioner",
                args,
            )),
        }
    }

    fn dispatch(
        &self,
        _: &ObjRef,
        method: &str,
        args: &[JValue],
        _: &mut Cx<'_>,
    ) -> Result<JValue, CallError> {
        match (method, args) {
            ("numPartitions", []) => Ok(JValue::Int(self.partitions as i32)),
            ("pyPartitionFunctionId", []) => Ok(JValue::Long(self.function_id)),
            _ => Err(CallError::no_such_method(method, args)),
        }
    }
}
plain_object!(Partitioner, "org.apache.spark.api.python.PythonPartitioner");

/// A `PythonAccumulatorV2(serverHost, serverPort, secretToken)`.
pub struct Accumulator {
    target: Arc<AccumulatorTarget>,
}

impl Accumulator {
    const METHODS: &'static [&'static str] = &["copyAndReset", "isZero", "reset"];

    /// From the constructor's arguments; only loopback servers are accepted.
    pub fn construct(args: &[JValue]) -> Result<Accumulator, CallError> {
        let [JValue::Str(host), JValue::Int(port), JValue::Str(secret)] = args else {
            return Err(crate::jvm::jdk::no_ctor(
                "org.apache.spark.api.python.PythonAccumulatorV2",
                args,
            ));
        };
        let ip: IpAddr = match &**host {
            "localhost" => IpAddr::from([127, 0, 0, 1]),
            h => h.parse().map_err(|_| {
                CallError::throw(
                    "java.net.UnknownHostException",
                    h.to_owned(),
                    "java.net.InetAddress.getByName",
                )
            })?,
        };
        let port = u16::try_from(*port).map_err(|_| {
            CallError::throw(
                "java.lang.IllegalArgumentException",
                format!("port out of range:{port}"),
                "java.net.InetSocketAddress.<init>",
            )
        })?;
        Ok(Accumulator {
            target: Arc::new(AccumulatorTarget::new(
                SocketAddr::new(ip, port),
                secret.to_string(),
            )),
        })
    }

    fn dispatch(
        &self,
        _: &ObjRef,
        method: &str,
        args: &[JValue],
        _: &mut Cx<'_>,
    ) -> Result<JValue, CallError> {
        match (method, args) {
            ("isZero", []) => Ok(JValue::Bool(true)),
            ("reset", []) => Ok(void_result()),
            _ => Err(CallError::no_such_method(method, args)),
        }
    }
}
plain_object!(
    Accumulator,
    "org.apache.spark.api.python.PythonAccumulatorV2"
);

/// A `PythonBroadcast` (the file the driver pickled the value into).
pub struct PythonBroadcast {
    /// The file.
    pub path: PathBuf,
}

impl PythonBroadcast {
    const METHODS: &'static [&'static str] = &["path"];

    fn dispatch(
        &self,
        _: &ObjRef,
        method: &str,
        args: &[JValue],
        _: &mut Cx<'_>,
    ) -> Result<JValue, CallError> {
        match (method, args) {
            ("path", []) => Ok(JValue::str(self.path.display().to_string())),
            _ => Err(CallError::no_such_method(method, args)),
        }
    }
}
plain_object!(
    PythonBroadcast,
    "org.apache.spark.api.python.PythonBroadcast"
);

/// A `TorrentBroadcast` of a `PythonBroadcast`.
pub struct Broadcast {
    /// `id()`.
    pub id: i64,
    /// The value's file.
    pub path: PathBuf,
    /// Set by `destroy()`: tasks may no longer use it.
    pub destroyed: Arc<std::sync::atomic::AtomicBool>,
}

impl Broadcast {
    const METHODS: &'static [&'static str] = &["destroy", "id", "unpersist", "value"];

    fn dispatch(
        &self,
        _: &ObjRef,
        method: &str,
        args: &[JValue],
        _: &mut Cx<'_>,
    ) -> Result<JValue, CallError> {
        match (method, args) {
            ("id", []) => Ok(JValue::Long(self.id)),
            ("value", []) => Ok(JValue::Object(Arc::new(PythonBroadcast {
                path: self.path.clone(),
            }))),
            ("unpersist", [] | [JValue::Bool(_)]) => Ok(void_result()),
            ("destroy", [] | [JValue::Bool(_)]) => {
                self.destroyed
                    .store(true, std::sync::atomic::Ordering::Relaxed);
                Ok(void_result())
            }
            _ => Err(CallError::no_such_method(method, args)),
        }
    }
}
plain_object!(Broadcast, "org.apache.spark.broadcast.TorrentBroadcast");

/// `BytesToString`, the function `saveAsTextFile` maps with.
pub struct BytesToString;

impl BytesToString {
    const METHODS: &'static [&'static str] = &["call"];

    fn dispatch(
        &self,
        _: &ObjRef,
        method: &str,
        args: &[JValue],
        _: &mut Cx<'_>,
    ) -> Result<JValue, CallError> {
        match (method, args) {
            ("call", [JValue::Bytes(b)]) => {
                Ok(JValue::str(String::from_utf8_lossy(b).into_owned()))
            }
            _ => Err(CallError::no_such_method(method, args)),
        }
    }
}
plain_object!(BytesToString, "org.apache.spark.api.python.BytesToString");

/// A `StorageLevel`.
#[derive(Clone, Copy, Debug)]
pub struct StorageLevel {
    disk: bool,
    memory: bool,
    off_heap: bool,
    deserialized: bool,
    replication: i32,
}

impl StorageLevel {
    const METHODS: &'static [&'static str] = &[
        "deserialized",
        "replication",
        "useDisk",
        "useMemory",
        "useOffHeap",
    ];
    /// `StorageLevel.NONE`.
    pub const NONE: StorageLevel = StorageLevel {
        disk: false,
        memory: false,
        off_heap: false,
        deserialized: false,
        replication: 1,
    };
    /// `StorageLevel.MEMORY_ONLY` (what `cache()` asks for).
    pub const MEMORY_ONLY: StorageLevel = StorageLevel {
        disk: false,
        memory: true,
        off_heap: false,
        deserialized: true,
        replication: 1,
    };

    /// `StorageLevel.apply(useDisk, useMemory, useOffHeap, deserialized, replication)`.
    pub fn construct(args: &[JValue]) -> Result<StorageLevel, CallError> {
        match args {
            [JValue::Bool(d), JValue::Bool(m), JValue::Bool(o), JValue::Bool(s), JValue::Int(r)] => {
                Ok(StorageLevel {
                    disk: *d,
                    memory: *m,
                    off_heap: *o,
                    deserialized: *s,
                    replication: *r,
                })
            }
            _ => Err(CallError::no_such_method("apply", args)),
        }
    }

    /// Whether partitions are kept at all.
    pub fn keeps(&self) -> bool {
        self.disk || self.memory || self.off_heap
    }

    fn dispatch(
        &self,
        _: &ObjRef,
        method: &str,
        args: &[JValue],
        _: &mut Cx<'_>,
    ) -> Result<JValue, CallError> {
        match (method, args) {
            ("useDisk", []) => Ok(JValue::Bool(self.disk)),
            ("useMemory", []) => Ok(JValue::Bool(self.memory)),
            ("useOffHeap", []) => Ok(JValue::Bool(self.off_heap)),
            ("deserialized", []) => Ok(JValue::Bool(self.deserialized)),
            ("replication", []) => Ok(JValue::Int(self.replication)),
            _ => Err(CallError::no_such_method(method, args)),
        }
    }
}
plain_object!(StorageLevel, "org.apache.spark.storage.StorageLevel");

/// A `scala.Option`.
pub struct ScalaOption(pub Option<JValue>);

impl ScalaOption {
    const METHODS: &'static [&'static str] =
        &["get", "getOrElse", "isDefined", "isEmpty", "nonEmpty"];

    fn dispatch(
        &self,
        _: &ObjRef,
        method: &str,
        args: &[JValue],
        _: &mut Cx<'_>,
    ) -> Result<JValue, CallError> {
        match (method, args, &self.0) {
            ("isDefined" | "nonEmpty", [], v) => Ok(JValue::Bool(v.is_some())),
            ("isEmpty", [], v) => Ok(JValue::Bool(v.is_none())),
            ("get", [], Some(v)) => Ok(v.clone()),
            ("get", [], None) => Err(CallError::Throw(Arc::new(Throwable::new(
                "java.util.NoSuchElementException",
                Some("None.get".into()),
                "scala.None$.get",
            )))),
            ("getOrElse", [d], v) => Ok(v.clone().unwrap_or_else(|| d.clone())),
            _ => Err(CallError::no_such_method(method, args)),
        }
    }
}
plain_object!(ScalaOption, "scala.Option");

/// The third element of a serve-to-socket answer (`SocketFuncServer`):
/// `getResult` waits for nothing (results were computed before serving) and
/// rethrows what a partition-by-partition server failed with.
#[derive(Default)]
pub struct ServeResult {
    /// The failure of a `toLocalIterator` partition, once it happened.
    pub error: Option<crate::engine::serve::Outcome<CallError>>,
}

impl ServeResult {
    const METHODS: &'static [&'static str] = &["getResult"];

    fn dispatch(
        &self,
        _: &ObjRef,
        method: &str,
        args: &[JValue],
        _: &mut Cx<'_>,
    ) -> Result<JValue, CallError> {
        match (method, args) {
            ("getResult", []) => {
                let failed = self
                    .error
                    .as_ref()
                    .and_then(|e| e.lock().unwrap_or_else(|p| p.into_inner()).clone());
                match failed {
                    Some(e) => Err(e),
                    None => Ok(JValue::Null),
                }
            }
            _ => Err(CallError::no_such_method(method, args)),
        }
    }
}
plain_object!(ServeResult, "org.apache.spark.security.SocketAuthServer");
