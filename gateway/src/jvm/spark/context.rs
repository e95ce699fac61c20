//! `JavaSparkContext` and the Scala `SparkContext` behind it.

use std::any::Any;
use std::path::PathBuf;
use std::sync::Arc;

use super::conf::SparkConf;
use super::python::{Broadcast, PythonBroadcast, ScalaOption};
use super::rdd::{rdd_of, RddHandle, View};
use super::state::{job_error, property, set_property, Spark};
use crate::engine::{textfile, Elem, RddKind};
use crate::jvm::invoke::void_result;
use crate::jvm::{unsupported, CallError, Cx, JValue, JvmObject, ObjRef};

/// The running context: both `JavaSparkContext` and `SparkContext` are views
/// of it.
pub struct Context {
    spark: Arc<Spark>,
    conf: Arc<SparkConf>,
    scala: bool,
}

impl Context {
    /// `new JavaSparkContext(conf)`: checks what Spark checks first.
    pub fn start(spark: Arc<Spark>, conf: Arc<SparkConf>) -> Result<Context, CallError> {
        let fail = |m: &str| {
            CallError::throw(
                "org.apache.spark.SparkException",
                m.to_owned(),
                "org.apache.spark.SparkContext.<init>",
            )
        };
        if conf.get("spark.master").is_none() {
            return Err(fail("A master URL must be set in your configuration"));
        }
        if conf.get("spark.app.name").is_none() {
            return Err(fail(
                "An application name must be set in your configuration",
            ));
        }
        conf.set("spark.app.id", &spark.app_id);
        conf.set("spark.app.startTime", &spark.start_time.to_string());
        if let Some(n) = conf
            .get("spark.shuffle.spill.numElementsForceSpillThreshold")
            .and_then(|v| v.trim().parse::<usize>().ok())
        {
            spark.engine.set_spill_elements(n);
        }
        if conf.get("spark.driver.host").is_none() {
            conf.set("spark.driver.host", "localhost");
        }
        Ok(Context {
            spark,
            conf,
            scala: false,
        })
    }

    /// The context's settings now.
    pub fn conf_snapshot(&self) -> Vec<(String, String)> {
        self.conf.all()
    }

    fn view(&self, scala: bool) -> JValue {
        JValue::Object(Arc::new(Context {
            spark: self.spark.clone(),
            conf: self.conf.clone(),
            scala,
        }))
    }

    fn rdd(&self, kind: RddKind, view: View) -> Result<JValue, CallError> {
        let id = self.spark.engine.add(kind).map_err(|e| job_error(&e))?;
        Ok(JValue::Object(Arc::new(RddHandle::new(
            self.spark.clone(),
            id,
            view,
        ))))
    }

    fn parallelism(&self) -> i32 {
        self.spark.engine.config().parallelism as i32
    }
}

impl JvmObject for Context {
    fn class_name(&self) -> String {
        if self.scala {
            "org.apache.spark.SparkContext"
        } else {
            "org.apache.spark.api.java.JavaSparkContext"
        }
        .into()
    }

    fn call(
        &self,
        _: &ObjRef,
        method: &str,
        args: &[JValue],
        _: &mut Cx<'_>,
    ) -> Result<JValue, CallError> {
        let text_error = |e: textfile::TextError| match e {
            textfile::TextError::Missing(_) => CallError::throw(
                "org.apache.hadoop.mapred.InvalidInputException",
                e.to_string(),
                "org.apache.hadoop.mapred.FileInputFormat.singleThreadedListStatus",
            ),
            other => CallError::throw(
                "java.io.IOException",
                other.to_string(),
                "org.apache.hadoop.mapred.LineRecordReader.next",
            ),
        };
        match (method, args) {
            ("sc", []) => Ok(self.view(true)),
            ("conf" | "getConf", []) if self.scala && method == "conf" => {
                Ok(JValue::Object(self.conf.clone()))
            }
            ("getConf", []) => Ok(JValue::Object(Arc::new(SparkConf::with(self.conf.all())))),
            ("stop", []) => {
                *self.spark.context.lock().unwrap_or_else(|p| p.into_inner()) = None;
                Ok(void_result())
            }
            ("isStopped", []) => Ok(JValue::Bool(self.spark.context().is_none())),
            ("setCallSite", [site]) => {
                let site = match site {
                    JValue::Str(s) => Some(s.to_string()),
                    _ => None,
                };
                set_property("callSite.short", site.as_deref());
                set_property("callSite.long", site.as_deref());
                Ok(void_result())
            }
            ("setLocalProperty", [JValue::Str(k), v]) => {
                let v = match v {
                    JValue::Str(s) => Some(s.to_string()),
                    _ => None,
                };
                set_property(k, v.as_deref());
                Ok(void_result())
            }
            ("getLocalProperty", [JValue::Str(k)]) => {
                Ok(property(k).map(JValue::str).unwrap_or(JValue::Null))
            }
            ("setJobGroup", [JValue::Str(id), desc, JValue::Bool(interrupt)]) => {
                set_property("spark.jobGroup.id", Some(id));
                set_property(
                    "spark.job.description",
                    match desc {
                        JValue::Str(s) => Some(s),
                        _ => None,
                    },
                );
                set_property(
                    "spark.job.interruptOnCancel",
                    Some(if *interrupt { "true" } else { "false" }),
                );
                Ok(void_result())
            }
            ("clearJobGroup", []) => {
                for k in [
                    "spark.jobGroup.id",
                    "spark.job.description",
                    "spark.job.interruptOnCancel",
                ] {
                    set_property(k, None);
                }
                Ok(void_result())
            }
            ("setJobDescription", [d]) => {
                set_property(
                    "spark.job.description",
                    match d {
                        JValue::Str(s) => Some(s),
                        _ => None,
                    },
                );
                Ok(void_result())
            }
            ("setInterruptOnCancel", [JValue::Bool(b)]) => {
                set_property(
                    "spark.job.interruptOnCancel",
                    Some(if *b { "true" } else { "false" }),
                );
                Ok(void_result())
            }
            ("setLogLevel", [JValue::Str(l)]) => {
                *self
                    .spark
                    .log_level
                    .lock()
                    .unwrap_or_else(|p| p.into_inner()) = l.to_string();
                Ok(void_result())
            }
            ("version", []) => Ok(JValue::str(self.spark.version.as_str())),
            ("startTime", []) => Ok(JValue::Long(self.spark.start_time)),
            ("applicationId", []) => Ok(JValue::str(self.spark.app_id.as_str())),
            ("appName", []) => Ok(self
                .conf
                .get("spark.app.name")
                .map(JValue::str)
                .unwrap_or(JValue::Null)),
            ("master", []) => Ok(self
                .conf
                .get("spark.master")
                .map(JValue::str)
                .unwrap_or(JValue::Null)),
            ("isLocal", []) => Ok(JValue::Bool(true)),
            ("defaultParallelism", []) => Ok(JValue::Int(self.parallelism())),
            ("defaultMinPartitions", []) => Ok(JValue::Int(self.parallelism().min(2))),
            // Spark answers its UI's address; no UI is served here, but PySpark
            // programs read the value as a string.
            ("uiWebUrl", []) => Ok(JValue::Object(Arc::new(ScalaOption(Some(JValue::str(
                "http://localhost:4040",
            )))))),
            ("register", [_]) | ("register", [_, _]) => Ok(void_result()),
            ("textFile", [JValue::Str(path), JValue::Int(min)]) => {
                let files = textfile::list_inputs(path).map_err(text_error)?;
                let splits =
                    textfile::splits(&files, (*min).max(1) as usize).map_err(text_error)?;
                self.rdd(RddKind::Text(splits), View::Java)
            }
            ("binaryFiles", [JValue::Str(path), JValue::Int(min)]) => {
                let files = textfile::list_inputs(path).map_err(text_error)?;
                let mut pairs = Vec::new();
                for f in &files {
                    let data = std::fs::read(f).map_err(|e| {
                        CallError::throw(
                            "java.io.IOException",
                            format!("{}: {e}", f.display()),
                            "org.apache.spark.input.PortableDataStream.toArray",
                        )
                    })?;
                    let abs = std::fs::canonicalize(f).unwrap_or_else(|_| f.clone());
                    pairs.push(Elem::pair(
                        Elem::Str(format!("file:{}", abs.display()).into()),
                        Elem::Bytes(bytes::Bytes::from(data)),
                    ));
                }
                let n = ((*min).max(1) as usize).min(pairs.len().max(1));
                self.rdd(
                    RddKind::Parallel(crate::engine::rdd::slice(&pairs, n)),
                    View::JavaPair,
                )
            }
            ("binaryRecords", [JValue::Str(path), JValue::Int(len)]) => {
                let len = usize::try_from(*len).ok().filter(|l| *l > 0).ok_or_else(|| {
                    CallError::throw(
                        "java.lang.IllegalArgumentException",
                        format!("Fixed record length {len} is invalid.  It should be set to a value greater than zero"),
                        "org.apache.hadoop.mapreduce.lib.input.FixedLengthInputFormat.getRecordLength",
                    )
                })?;
                let files = textfile::list_inputs(path).map_err(text_error)?;
                let splits = textfile::splits(&files, self.parallelism().min(2) as usize)
                    .map_err(text_error)?;
                let mut parts = Vec::with_capacity(splits.len());
                for sp in &splits {
                    let data = std::fs::read(&sp.path).map_err(|e| {
                        CallError::throw("java.io.IOException", format!("{}: {e}", sp.path.display()), "org.apache.hadoop.mapreduce.lib.input.FixedLengthRecordReader.initialize")
                    })?;
                    let data = bytes::Bytes::from(data);
                    let (start, end) = (sp.start as usize, (sp.start + sp.len) as usize);
                    let first = start.div_ceil(len) * len;
                    let mut records = Vec::new();
                    let mut at = first;
                    while at < end && at + len <= data.len() {
                        records.push(Elem::Bytes(data.slice(at..at + len)));
                        at += len;
                    }
                    parts.push(records);
                }
                self.rdd(RddKind::Parallel(parts), View::Java)
            }
            ("listFiles", []) => Ok(JValue::Object(Arc::new(
                crate::jvm::jdk::collections::JList::from_vec(
                    self.spark
                        .added_files()
                        .into_iter()
                        .map(JValue::str)
                        .collect(),
                ),
            ))),
            ("listArchives", []) => Ok(JValue::Object(Arc::new(
                crate::jvm::jdk::collections::JList::new(),
            ))),
            ("statusTracker", []) => Ok(JValue::Object(Arc::new(
                super::status::StatusTracker::new(self.spark.clone()),
            ))),
            ("sparkUser", []) => Ok(JValue::str(user_name())),
            ("getLocalProperties", []) => Ok(JValue::Object(Arc::new(
                super::status::Properties::snapshot(),
            ))),
            ("setLocalProperties", [p]) => {
                if let Some(props) = p
                    .as_object()
                    .and_then(|o| o.as_any().downcast_ref::<super::status::Properties>())
                {
                    props.install();
                }
                Ok(void_result())
            }
            ("cancelJobGroup", _) | ("cancelAllJobs", []) | ("cancelJobsWithTag", _) => {
                Ok(void_result())
            }
            ("objectFile", [JValue::Str(path), JValue::Int(min)]) => {
                let files = textfile::list_inputs(path).map_err(text_error)?;
                let splits =
                    textfile::splits(&files, (*min).max(1) as usize).map_err(text_error)?;
                self.rdd(RddKind::Object(splits), View::Java)
            }
            ("wholeTextFiles", [JValue::Str(path), JValue::Int(min)]) => {
                let files = textfile::list_inputs(path).map_err(text_error)?;
                let pairs: Vec<Elem> = textfile::whole_files(&files)
                    .map_err(text_error)?
                    .into_iter()
                    .map(|(p, t)| Elem::pair(Elem::Str(p.into()), Elem::Str(t.into())))
                    .collect();
                let n = ((*min).max(1) as usize).min(pairs.len().max(1));
                self.rdd(
                    RddKind::Parallel(crate::engine::rdd::slice(&pairs, n)),
                    View::JavaPair,
                )
            }
            ("emptyRDD", []) => self.rdd(RddKind::Empty, View::Java),
            ("union", [JValue::Object(arr)])
                if arr.as_any().downcast_ref::<crate::jvm::JArray>().is_some() =>
            {
                let ids = arr
                    .as_any()
                    .downcast_ref::<crate::jvm::JArray>()
                    .map(|a| a.elements())
                    .unwrap_or_default()
                    .iter()
                    .map(rdd_of)
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| CallError::no_such_method(method, args))?;
                let pair = arr
                    .as_any()
                    .downcast_ref::<crate::jvm::JArray>()
                    .is_some_and(|a| a.component().ends_with("JavaPairRDD"));
                self.rdd(
                    RddKind::Union(ids),
                    if pair { View::JavaPair } else { View::Java },
                )
            }
            ("union", [first, rest]) => {
                let mut ids =
                    vec![rdd_of(first).ok_or_else(|| CallError::no_such_method(method, args))?];
                let more = rest
                    .as_object()
                    .and_then(|o| {
                        o.as_any()
                            .downcast_ref::<crate::jvm::jdk::collections::JList>()
                            .map(|l| l.items())
                    })
                    .unwrap_or_default();
                for r in &more {
                    ids.push(rdd_of(r).ok_or_else(|| CallError::no_such_method(method, args))?);
                }
                self.rdd(RddKind::Union(ids), View::Java)
            }
            ("broadcast", [pb]) => {
                let path = pb
                    .as_object()
                    .and_then(|o| o.as_any().downcast_ref::<PythonBroadcast>())
                    .map(|b| b.path.clone())
                    .ok_or_else(|| CallError::no_such_method(method, args))?;
                Ok(JValue::Object(Arc::new(Broadcast {
                    id: self.spark.engine.new_broadcast_id(),
                    path,
                    destroyed: Default::default(),
                })))
            }
            ("setCheckpointDir", [JValue::Str(d)]) => {
                let dir = PathBuf::from(d.strip_prefix("file:").unwrap_or(d));
                let _ = std::fs::create_dir_all(&dir);
                *self
                    .spark
                    .checkpoint_dir
                    .lock()
                    .unwrap_or_else(|p| p.into_inner()) = Some(d.to_string());
                Ok(void_result())
            }
            ("getCheckpointDir", []) => {
                let d = self
                    .spark
                    .checkpoint_dir
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .clone();
                Ok(JValue::Object(Arc::new(ScalaOption(d.map(JValue::str)))))
            }
            ("addFile", [JValue::Str(path)])
            | ("addFile", [JValue::Str(path), JValue::Bool(_)]) => {
                let recursive = matches!(args.get(1), Some(JValue::Bool(true)));
                let src = PathBuf::from(path.strip_prefix("file:").unwrap_or(path));
                let name = src.file_name().map(|n| n.to_owned()).unwrap_or_default();
                let dest = self.spark.engine.files_dir().join(&name);
                let fail = |m: String| {
                    CallError::throw(
                        "java.io.FileNotFoundException",
                        m,
                        "org.apache.spark.SparkContext.addFile",
                    )
                };
                self.spark.add_file(format!(
                    "file:{}",
                    std::fs::canonicalize(&src)
                        .unwrap_or_else(|_| src.clone())
                        .display()
                ));
                if src.is_dir() {
                    if !recursive {
                        return Err(CallError::throw(
                            "org.apache.spark.SparkException",
                            format!(
                                "Added file file:{} is a directory and recursive is not turned on.",
                                src.display()
                            ),
                            "org.apache.spark.SparkContext.addFile",
                        ));
                    }
                    copy_dir(&src, &dest).map_err(|e| fail(format!("{path}: {e}")))?;
                } else {
                    std::fs::copy(&src, &dest).map_err(|e| fail(format!("{path}: {e}")))?;
                }
                Ok(void_result())
            }
            _ => {
                if self.method_names().contains(&method) {
                    Err(CallError::no_such_method(method, args))
                } else {
                    Err(unsupported(&self.class_name(), method))
                }
            }
        }
    }

    fn method_names(&self) -> Vec<&'static str> {
        vec![
            "addFile",
            "appName",
            "applicationId",
            "broadcast",
            "clearJobGroup",
            "conf",
            "defaultMinPartitions",
            "defaultParallelism",
            "emptyRDD",
            "getCheckpointDir",
            "getConf",
            "getLocalProperty",
            "isLocal",
            "isStopped",
            "master",
            "objectFile",
            "binaryFiles",
            "binaryRecords",
            "listFiles",
            "listArchives",
            "statusTracker",
            "sparkUser",
            "getLocalProperties",
            "setLocalProperties",
            "register",
            "sc",
            "setCallSite",
            "setCheckpointDir",
            "setInterruptOnCancel",
            "setJobDescription",
            "setJobGroup",
            "setLocalProperty",
            "setLogLevel",
            "startTime",
            "stop",
            "textFile",
            "uiWebUrl",
            "union",
            "version",
            "wholeTextFiles",
        ]
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Copies a directory tree (what `addFile(dir, recursive = true)` ships).
fn copy_dir(src: &std::path::Path, dest: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dest)?;
    for entry in std::fs::read_dir(src)? {
        let entry = entry?;
        let target = dest.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

/// The user Spark reports (`SPARK_USER`, else the login name of this
/// process's uid from `/etc/passwd`).
fn user_name() -> String {
    if let Ok(u) = std::env::var("SPARK_USER") {
        return u;
    }
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata("/proc/self").map(|m| m.uid()).ok();
    if let (Some(uid), Ok(passwd)) = (uid, std::fs::read_to_string("/etc/passwd")) {
        for line in passwd.lines() {
            let f: Vec<&str> = line.split(':').collect();
            if f.len() > 2 && f[2].parse::<u32>().ok() == Some(uid) {
                return f[0].to_owned();
            }
        }
    }
    std::env::var("USER").unwrap_or_else(|_| "unknown".into())
}
