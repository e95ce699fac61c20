//! The driver-side Spark classes PySpark's RDD API calls through Py4J
//! (`../shared/spec/gateway.md` §d), backed by the [`crate::engine`].

mod conf;
mod context;
pub mod python;
mod rdd;
mod session;
mod state;
mod status;

use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;

pub use conf::SparkConf;
pub use context::Context;
pub use rdd::{RddHandle, View};
pub use state::Spark;

use crate::engine::{rdd::slice, serve, Elem, RddKind};
use crate::jvm::invoke::void_result;
use crate::jvm::jdk::io::File;
use crate::jvm::{CallError, ClassTable, JArray, JValue, JavaClass, Jvm};
use python::{
    Accumulator, BytesToString, Function, Partitioner, PythonBroadcast, ServeResult, StorageLevel,
};
use rdd::rdd_of;
use state::{job_error, properties};

/// py4j's "Constructor C([…]) does not exist".
fn no_ctor(class: &str, args: &[JValue]) -> CallError {
    crate::jvm::jdk::no_ctor(class, args)
}

fn obj<T: crate::jvm::JvmObject>(t: T) -> JValue {
    JValue::Object(Arc::new(t))
}

/// Adds the Spark classes of this module to `jvm`, sharing `spark`.
pub fn install(jvm: &Jvm, spark: Arc<Spark>) {
    state::set_error_style(&spark.version);
    let classes = jvm.classes();
    let s = spark.clone();
    classes.add(JavaClass::new("org.apache.spark.SparkConf").constructor(
        move |args, _| match args {
            [] | [JValue::Bool(true)] => Ok(obj(SparkConf::with(s.defaults.clone()))),
            [JValue::Bool(false)] => Ok(obj(SparkConf::default())),
            _ => Err(no_ctor("org.apache.spark.SparkConf", args)),
        },
    ));
    let s = spark.clone();
    classes.add(
        JavaClass::new("org.apache.spark.api.java.JavaSparkContext").constructor(move |args, _| {
            match args {
                [JValue::Object(o)] => match o.clone().as_any().downcast_ref::<SparkConf>() {
                    Some(conf) => {
                        let conf = Arc::new(SparkConf::with(conf.all()));
                        let ctx: crate::jvm::ObjRef = Arc::new(Context::start(s.clone(), conf)?);
                        *s.context.lock().unwrap_or_else(|p| p.into_inner()) = Some(ctx.clone());
                        // PySpark's default worker environment: start its daemon now.
                        s.engine
                            .warm_up(vec![("PYTHONHASHSEED".into(), "0".into())]);
                        Ok(JValue::Object(ctx))
                    }
                    None => Err(no_ctor("org.apache.spark.api.java.JavaSparkContext", args)),
                },
                _ => Err(no_ctor("org.apache.spark.api.java.JavaSparkContext", args)),
            }
        }),
    );
    for c in [
        "org.apache.spark.SparkContext",
        "org.apache.spark.api.java.JavaRDD",
        "org.apache.spark.api.java.JavaPairRDD",
        "org.apache.spark.api.java.JavaDoubleRDD",
        "org.apache.spark.rdd.RDD",
    ] {
        classes.add(JavaClass::new(c));
    }
    session::install(classes, spark.clone());
    install_python_rdd(classes, spark.clone());
    install_helpers(classes, spark);
}

fn install_python_rdd(classes: &ClassTable, spark: Arc<Spark>) {
    let s = spark.clone();
    let s2 = spark.clone();
    let s3 = spark.clone();
    let s4 = spark.clone();
    let s5 = spark.clone();
    let s6 = spark.clone();
    let s7 = spark.clone();
    let s8 = spark.clone();
    let s9 = spark.clone();
    classes.add(
        JavaClass::new("org.apache.spark.api.python.PythonRDD")
            .constructor(move |args, _| match args {
                [parent, f, JValue::Bool(preserve), JValue::Bool(barrier)] => {
                    let parent = rdd_of(parent)
                        .ok_or_else(|| no_ctor("org.apache.spark.api.python.PythonRDD", args))?;
                    let func = f
                        .as_object()
                        .and_then(|o| o.as_any().downcast_ref::<Function>().map(|f| f.0.clone()))
                        .ok_or_else(|| no_ctor("org.apache.spark.api.python.PythonRDD", args))?;
                    let id = s
                        .engine
                        .add(RddKind::Python {
                            parent,
                            func,
                            preserve: *preserve,
                            barrier: *barrier,
                        })
                        .map_err(|e| job_error(&e))?;
                    Ok(obj(RddHandle::new(s.clone(), id, View::Scala)))
                }
                _ => Err(no_ctor("org.apache.spark.api.python.PythonRDD", args)),
            })
            .static_method("readRDDFromFile", move |args, _| match args {
                [_, JValue::Str(path), JValue::Int(n)] => {
                    let frames = read_frames(path)?;
                    let n = (*n).max(1) as usize;
                    if n > crate::engine::MAX_PARTITIONS {
                        return Err(CallError::throw(
                            "java.lang.IllegalArgumentException",
                            format!("{n} slices: more than the {} sparkwire submit handles", crate::engine::MAX_PARTITIONS),
                            "org.apache.spark.api.python.PythonRDD.readRDDFromFile",
                        ));
                    }
                    let slices = slice(&frames, n);
                    let id = s2
                        .engine
                        .add(RddKind::Parallel(slices))
                        .map_err(|e| job_error(&e))?;
                    Ok(obj(RddHandle::new(s2.clone(), id, View::Java)))
                }
                _ => Err(CallError::no_such_method("readRDDFromFile", args)),
            })
            .static_method("collectAndServe", move |args, _| match args {
                [rdd] => serve_all(&s3, rdd, None),
                _ => Err(CallError::no_such_method("collectAndServe", args)),
            })
            .static_method("collectAndServeWithJobGroup", move |args, _| match args {
                [rdd, JValue::Str(group), desc, JValue::Bool(_)] => {
                    state::set_property("spark.jobGroup.id", Some(group));
                    if let JValue::Str(d) = desc {
                        state::set_property("spark.job.description", Some(d));
                    }
                    serve_all(&s4, rdd, None)
                }
                _ => Err(CallError::no_such_method(
                    "collectAndServeWithJobGroup",
                    args,
                )),
            })
            .static_method("runJob", move |args, _| match args {
                [_, rdd, parts] => {
                    let list = parts
                        .as_object()
                        .and_then(|o| o.as_any().downcast_ref::<crate::jvm::jdk::collections::JList>().map(|l| l.items()))
                        .ok_or_else(|| CallError::no_such_method("runJob", args))?;
                    let parts = list
                        .iter()
                        .map(|p| match p {
                            JValue::Int(i) if *i >= 0 => Ok(*i as usize),
                            _ => Err(CallError::no_such_method("runJob", args)),
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    serve_all(&s5, rdd, Some(parts))
                }
                _ => Err(CallError::no_such_method("runJob", args)),
            })
            .static_method("toLocalIteratorAndServe", move |args, _| match args {
                [rdd, JValue::Bool(_)] | [rdd] => serve_iterator(&s7, rdd),
                _ => Err(CallError::no_such_method("toLocalIteratorAndServe", args)),
            })
            .static_method("saveAsSequenceFile", move |args, _| match args {
                [rdd, JValue::Bool(true), JValue::Str(path), codec] => {
                    if !matches!(codec, JValue::Null) {
                        return Err(crate::jvm::model::unsupported("org.apache.spark.api.python.PythonRDD", "saveAsSequenceFile (with a compression codec)"));
                    }
                    crate::engine::output::check_new(path).map_err(|e| job_error(&e))?;
                    let id = rdd_of(rdd).ok_or_else(|| CallError::no_such_method("saveAsSequenceFile", args))?;
                    let n = s8.engine.rdd(id).map_err(|e| job_error(&e))?.partitions;
                    let all: Vec<usize> = (0..n).collect();
                    let parts = s8.engine.run_job(id, &all, &properties()).map_err(|e| job_error(&e))?;
                    let parts: Vec<Vec<Elem>> = parts.iter().map(|p| p.to_vec()).collect();
                    crate::engine::output::write_sequence(path, &parts).map_err(|e| job_error(&e))?;
                    Ok(void_result())
                }
                _ => Err(CallError::no_such_method("saveAsSequenceFile", args)),
            })
            .static_method("sequenceFile", move |args, _| match args {
                [_, JValue::Str(path), JValue::Null, JValue::Null, JValue::Null, JValue::Null, JValue::Int(min), JValue::Int(_)] => {
                    let files = crate::engine::textfile::list_inputs(path)
                        .map_err(|e| CallError::throw("org.apache.hadoop.mapred.InvalidInputException", e.to_string(), "org.apache.hadoop.mapred.FileInputFormat.listStatus"))?;
                    let splits = crate::engine::textfile::splits(&files, (*min).max(1) as usize)
                        .map_err(|e| CallError::throw("java.io.IOException", e.to_string(), "org.apache.hadoop.mapred.FileInputFormat.getSplits"))?;
                    let version: sparkwire_serializers::SparkVersion = s9
                        .version
                        .parse()
                        .map_err(|e: sparkwire_serializers::UnknownVersion| CallError::Py4j(e.to_string()))?;
                    let id = s9.engine.add(RddKind::Sequence(splits, version)).map_err(|e| job_error(&e))?;
                    Ok(obj(RddHandle::new(s9.clone(), id, View::Java)))
                }
                [_, JValue::Str(_), ..] => Err(crate::jvm::model::unsupported("org.apache.spark.api.python.PythonRDD", "sequenceFile (with key/value classes or converters)")),
                _ => Err(CallError::no_such_method("sequenceFile", args)),
            })
            .static_method("setupBroadcast", |args, _| match args {
                [JValue::Str(path)] => Ok(obj(PythonBroadcast {
                    path: PathBuf::from(&**path),
                })),
                _ => Err(CallError::no_such_method("setupBroadcast", args)),
            })
            .static_method("valueOfPair", move |args, _| match args {
                [rdd] => {
                    let parent = rdd_of(rdd)
                        .ok_or_else(|| CallError::no_such_method("valueOfPair", args))?;
                    let id = s6
                        .engine
                        .add(RddKind::Values { parent })
                        .map_err(|e| job_error(&e))?;
                    Ok(obj(RddHandle::new(s6.clone(), id, View::Java)))
                }
                _ => Err(CallError::no_such_method("valueOfPair", args)),
            }),
    );
    let s = spark.clone();
    classes.add(
        JavaClass::new("org.apache.spark.api.python.PairwiseRDD").constructor(move |args, _| {
            match args {
                [rdd] => {
                    let parent = rdd_of(rdd)
                        .ok_or_else(|| no_ctor("org.apache.spark.api.python.PairwiseRDD", args))?;
                    let id = s
                        .engine
                        .add(RddKind::Pairwise { parent })
                        .map_err(|e| job_error(&e))?;
                    Ok(obj(RddHandle::new(s.clone(), id, View::Scala)))
                }
                _ => Err(no_ctor("org.apache.spark.api.python.PairwiseRDD", args)),
            }
        }),
    );
    classes.add(
        JavaClass::new("org.apache.spark.api.python.PythonPartitioner")
            .constructor(|args, _| Ok(obj(Partitioner::construct(args)?))),
    );
    classes.add(
        JavaClass::new("org.apache.spark.api.python.SimplePythonFunction")
            .constructor(|args, _| Ok(obj(Function::construct(args)?))),
    );
    classes.add(
        JavaClass::new("org.apache.spark.api.python.PythonAccumulatorV2")
            .constructor(|args, _| Ok(obj(Accumulator::construct(args)?))),
    );
    classes.add(JavaClass::new(
        "org.apache.spark.api.python.PythonBroadcast",
    ));
    classes.add(
        JavaClass::new("org.apache.spark.api.python.BytesToString").constructor(
            |args, _| match args {
                [] => Ok(obj(BytesToString)),
                _ => Err(no_ctor("org.apache.spark.api.python.BytesToString", args)),
            },
        ),
    );
    classes.add(
        JavaClass::new("org.apache.spark.storage.StorageLevel")
            .constructor(|args, _| Ok(obj(StorageLevel::construct(args)?)))
            .static_method("apply", |args, _| Ok(obj(StorageLevel::construct(args)?))),
    );
}

fn install_helpers(classes: &ClassTable, spark: Arc<Spark>) {
    classes.add(
        JavaClass::new("org.apache.spark.api.python.PythonUtils")
            .static_method("isEncryptionEnabled", |_, _| Ok(JValue::Bool(false)))
            .static_method("getPythonAuthSocketTimeout", |_, _| Ok(JValue::Long(15)))
            .static_method("getSparkBufferSize", |_, _| Ok(JValue::Int(65536)))
            .static_method("getBroadcastThreshold", |_, _| Ok(JValue::Long(1 << 20)))
            .static_method("toSeq", |args, _| {
                args.first()
                    .cloned()
                    .ok_or_else(|| CallError::no_such_method("toSeq", args))
            })
            .static_method("toList", |args, _| {
                args.first()
                    .cloned()
                    .ok_or_else(|| CallError::no_such_method("toList", args))
            }),
    );
    let s = spark.clone();
    let s2 = spark.clone();
    classes.add(
        JavaClass::new("org.apache.spark.util.Utils")
            .static_method("exceptionString", |args, _| match args {
                [JValue::Object(t)] => Ok(JValue::str(
                    t.as_throwable()
                        .map(|t| t.stack_trace())
                        .unwrap_or_else(|| t.to_java_string()),
                )),
                [JValue::Null] => Ok(JValue::str("")),
                _ => Err(CallError::no_such_method("exceptionString", args)),
            })
            .static_method("getLocalDir", move |_, _| {
                Ok(JValue::str(s.local_dir.display().to_string()))
            })
            .static_method("createTempDir", move |args, _| {
                let (root, prefix) = match args {
                    [JValue::Str(r), JValue::Str(p)] => (PathBuf::from(&**r), p.to_string()),
                    [] => (s2.local_dir.clone(), "spark".to_owned()),
                    _ => return Err(CallError::no_such_method("createTempDir", args)),
                };
                let secret = sparkwire_framing::auth::Secret::generate().map_err(|e| {
                    CallError::throw(
                        "java.io.IOException",
                        e.to_string(),
                        "org.apache.spark.util.Utils.createTempDir",
                    )
                })?;
                let dir = root.join(format!("{prefix}-{}", &secret.as_str()[..32]));
                std::fs::create_dir_all(&dir).map_err(|e| {
                    CallError::throw(
                        "java.io.IOException",
                        format!(
                            "Failed to create a temp directory (under {}): {e}",
                            root.display()
                        ),
                        "org.apache.spark.util.Utils.createTempDir",
                    )
                })?;
                Ok(obj(File::new(&dir.display().to_string())))
            }),
    );
    let s = spark.clone();
    let s2 = spark;
    classes.add(
        JavaClass::new("org.apache.spark.SparkFiles")
            .static_method("getRootDirectory", move |_, _| {
                Ok(JValue::str(s.engine.files_dir().display().to_string()))
            })
            .static_method("get", move |args, _| match args {
                [JValue::Str(name)] => Ok(JValue::str(
                    s2.engine.files_dir().join(&**name).display().to_string(),
                )),
                _ => Err(CallError::no_such_method("get", args)),
            }),
    );
    let _ = void_result;
}

/// A file of `int32 len + bytes` frames (what PySpark writes for `parallelize`).
fn read_frames(path: &str) -> Result<Vec<Elem>, CallError> {
    let data = std::fs::read(path).map_err(|e| {
        CallError::throw(
            "java.io.FileNotFoundException",
            format!("{path} ({e})"),
            "java.io.FileInputStream.open",
        )
    })?;
    let data = Bytes::from(data);
    let mut out = Vec::new();
    let mut at = 0usize;
    while at < data.len() {
        let bad = || {
            CallError::throw(
                "java.io.EOFException",
                format!("{path}: a frame is cut at byte {at}"),
                "java.io.DataInputStream.readFully",
            )
        };
        let len_bytes: [u8; 4] = data
            .get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(bad)?;
        let len = i32::from_be_bytes(len_bytes);
        let len = usize::try_from(len).map_err(|_| bad())?;
        let end = at + 4 + len;
        if end > data.len() {
            return Err(bad());
        }
        out.push(Elem::Bytes(data.slice(at + 4..end)));
        at = end;
    }
    Ok(out)
}

/// Runs a job over `partitions` (all when `None`) and serves the elements.
fn serve_all(
    spark: &Arc<Spark>,
    rdd: &JValue,
    partitions: Option<Vec<usize>>,
) -> Result<JValue, CallError> {
    let id = rdd_of(rdd).ok_or_else(|| CallError::Py4j("not an RDD".into()))?;
    let parts = match partitions {
        Some(p) => p,
        None => (0..spark.engine.rdd(id).map_err(|e| job_error(&e))?.partitions).collect(),
    };
    let results = spark
        .engine
        .run_job(id, &parts, &properties())
        .map_err(|e| job_error(&e))?;
    let served = serve::serve(payloads_of(&results)).map_err(serve_error)?;
    Ok(served_answer(served, ServeResult::default()))
}

/// The frames of computed partitions, in order.
fn payloads_of(parts: &[Arc<Vec<Elem>>]) -> Vec<Bytes> {
    let mut payloads = Vec::new();
    for part in parts {
        for e in part.iter() {
            e.write_payloads(&mut payloads);
        }
    }
    payloads
}

fn serve_error(e: std::io::Error) -> CallError {
    CallError::throw(
        "java.io.IOException",
        e.to_string(),
        "org.apache.spark.security.SocketAuthServer.<init>",
    )
}

/// What a serve-to-socket call returns: `Object[]{port, secret, server}`.
fn served_answer(served: serve::Served, server: ServeResult) -> JValue {
    obj(JArray::new(
        "java.lang.Object",
        vec![
            JValue::Int(i32::from(served.port)),
            JValue::str(served.secret),
            obj(server),
        ],
    ))
}

/// `toLocalIteratorAndServe(rdd, prefetch)`: one job per partition, each run
/// when the driver asks for it.
fn serve_iterator(spark: &Arc<Spark>, rdd: &JValue) -> Result<JValue, CallError> {
    let id = rdd_of(rdd).ok_or_else(|| CallError::Py4j("not an RDD".into()))?;
    let n = spark.engine.rdd(id).map_err(|e| job_error(&e))?.partitions;
    let props = properties();
    let engine = spark.engine.clone();
    let (served, outcome) = serve::serve_partitions(n, move |p| {
        let parts = engine
            .run_job(id, &[p], &props)
            .map_err(|e| job_error(&e))?;
        Ok(payloads_of(&parts))
    })
    .map_err(serve_error)?;
    Ok(served_answer(
        served,
        ServeResult {
            error: Some(outcome),
        },
    ))
}
