//! RDD handles: `JavaRDD`, `JavaPairRDD` and the Scala `RDD` behind them, one
//! object type over an engine RDD id, seen through one of three views.

use std::any::Any;
use std::sync::Arc;

use super::python::{BytesToString, Partitioner, StorageLevel};
use super::state::{job_error, properties, Spark};
use crate::engine::{output, Elem, RddId, RddKind};
use crate::jvm::invoke::void_result;
use crate::jvm::jdk::collections::JList;
use crate::jvm::{unsupported, CallError, Cx, JValue, JvmObject, ObjRef};

/// Which Java type a handle is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// `org.apache.spark.api.java.JavaRDD`.
    Java,
    /// `org.apache.spark.api.java.JavaPairRDD`.
    JavaPair,
    /// The Scala `RDD` itself.
    Scala,
}

/// A handle on an RDD of the engine.
pub struct RddHandle {
    spark: Arc<Spark>,
    /// The RDD.
    pub id: RddId,
    /// The Java type.
    pub view: View,
}

impl RddHandle {
    /// A handle.
    pub fn new(spark: Arc<Spark>, id: RddId, view: View) -> RddHandle {
        RddHandle { spark, id, view }
    }

    fn with_view(&self, view: View) -> JValue {
        JValue::Object(Arc::new(RddHandle::new(self.spark.clone(), self.id, view)))
    }

    fn add(&self, kind: RddKind, view: View) -> Result<JValue, CallError> {
        let id = self.spark.engine.add(kind).map_err(|e| job_error(&e))?;
        Ok(JValue::Object(Arc::new(RddHandle::new(
            self.spark.clone(),
            id,
            view,
        ))))
    }

    fn partitions(&self) -> Result<usize, CallError> {
        Ok(self
            .spark
            .engine
            .rdd(self.id)
            .map_err(|e| job_error(&e))?
            .partitions)
    }

    /// Every element, computed as one job.
    pub fn collect(&self) -> Result<Vec<Arc<Vec<Elem>>>, CallError> {
        let n = self.partitions()?;
        let all: Vec<usize> = (0..n).collect();
        self.spark
            .engine
            .run_job(self.id, &all, &properties())
            .map_err(|e| job_error(&e))
    }
}

/// The engine id behind an RDD argument.
pub fn rdd_of(v: &JValue) -> Option<RddId> {
    v.as_object()?
        .as_any()
        .downcast_ref::<RddHandle>()
        .map(|h| h.id)
}

impl JvmObject for RddHandle {
    fn class_name(&self) -> String {
        match self.view {
            View::Java => "org.apache.spark.api.java.JavaRDD".into(),
            View::JavaPair => "org.apache.spark.api.java.JavaPairRDD".into(),
            View::Scala => self
                .spark
                .engine
                .rdd(self.id)
                .map(|r| r.class_name())
                .unwrap_or("org.apache.spark.rdd.RDD")
                .into(),
        }
    }

    fn call(
        &self,
        this: &ObjRef,
        method: &str,
        args: &[JValue],
        _cx: &mut Cx<'_>,
    ) -> Result<JValue, CallError> {
        let engine = &self.spark.engine;
        let me = || Ok(JValue::Object(this.clone()));
        match (method, args) {
            ("id", []) => Ok(JValue::Int(self.id)),
            ("rdd", []) => Ok(self.with_view(View::Scala)),
            ("asJavaRDD", []) | ("toJavaRDD", []) => Ok(self.with_view(View::Java)),
            ("asJavaPairRDD", []) => Ok(self.with_view(View::JavaPair)),
            ("isBarrier", []) => Ok(JValue::Bool(false)),
            ("getNumPartitions", []) => Ok(JValue::Int(self.partitions()? as i32)),
            ("partitions", []) => {
                let n = self.partitions()?;
                let list = JList::from_vec(
                    (0..n)
                        .map(|i| JValue::Object(Arc::new(Partition(i as i32))))
                        .collect(),
                );
                Ok(JValue::Object(Arc::new(list)))
            }
            ("name", []) => {
                let rdd = engine.rdd(self.id).map_err(|e| job_error(&e))?;
                let name = rdd.name.lock().unwrap_or_else(|p| p.into_inner()).clone();
                Ok(name.map(JValue::str).unwrap_or(JValue::Null))
            }
            ("setName", [n]) => {
                let rdd = engine.rdd(self.id).map_err(|e| job_error(&e))?;
                *rdd.name.lock().unwrap_or_else(|p| p.into_inner()) = match n {
                    JValue::Str(s) => Some(s.to_string()),
                    _ => None,
                };
                me()
            }
            ("toDebugString", []) => {
                let rdd = engine.rdd(self.id).map_err(|e| job_error(&e))?;
                Ok(JValue::str(format!(
                    "({}) {}[{}]",
                    rdd.partitions,
                    rdd.class_name().rsplit('.').next().unwrap_or(""),
                    self.id
                )))
            }
            ("persist", [level]) => {
                let level = level
                    .as_object()
                    .and_then(|o| o.as_any().downcast_ref::<StorageLevel>())
                    .copied()
                    .ok_or_else(|| CallError::no_such_method(method, args))?;
                self.spark.set_storage_level(self.id, level);
                engine
                    .set_cached(self.id, level.keeps())
                    .map_err(|e| job_error(&e))?;
                me()
            }
            ("cache", []) => {
                self.spark
                    .set_storage_level(self.id, StorageLevel::MEMORY_ONLY);
                engine
                    .set_cached(self.id, true)
                    .map_err(|e| job_error(&e))?;
                me()
            }
            ("unpersist", _) => {
                self.spark.set_storage_level(self.id, StorageLevel::NONE);
                engine
                    .set_cached(self.id, false)
                    .map_err(|e| job_error(&e))?;
                me()
            }
            ("getStorageLevel", []) => {
                Ok(JValue::Object(Arc::new(self.spark.storage_level(self.id))))
            }
            ("checkpoint", []) => {
                if self
                    .spark
                    .checkpoint_dir
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .is_none()
                {
                    return Err(CallError::throw(
                        "org.apache.spark.SparkException",
                        "Checkpoint directory has not been set in the SparkContext",
                        "org.apache.spark.rdd.RDD.checkpoint",
                    ));
                }
                engine
                    .request_checkpoint(self.id)
                    .map_err(|e| job_error(&e))?;
                Ok(void_result())
            }
            ("localCheckpoint", []) => {
                engine
                    .request_checkpoint(self.id)
                    .map_err(|e| job_error(&e))?;
                me()
            }
            ("isLocallyCheckpointed", []) => Ok(JValue::Bool(
                engine.is_checkpointed(self.id).map_err(|e| job_error(&e))?,
            )),
            ("cleanShuffleDependencies", [_]) => Ok(void_result()),
            ("getResourceProfile", []) => Ok(JValue::Null),
            ("isCheckpointed", []) => Ok(JValue::Bool(
                engine.is_checkpointed(self.id).map_err(|e| job_error(&e))?,
            )),
            ("union", [other]) => {
                let o = rdd_of(other).ok_or_else(|| CallError::no_such_method(method, args))?;
                self.add(RddKind::Union(vec![self.id, o]), self.view)
            }
            ("zip", [other]) => {
                let o = rdd_of(other).ok_or_else(|| CallError::no_such_method(method, args))?;
                self.add(RddKind::Zip(self.id, o), View::JavaPair)
            }
            ("cartesian", [other]) => {
                let o = rdd_of(other).ok_or_else(|| CallError::no_such_method(method, args))?;
                self.add(RddKind::Cartesian(self.id, o), View::JavaPair)
            }
            ("partitionBy", [p]) => {
                let (n, fid) = p
                    .as_object()
                    .and_then(|o| o.as_any().downcast_ref::<Partitioner>())
                    .map(|p| (p.partitions, p.function_id))
                    .ok_or_else(|| CallError::no_such_method(method, args))?;
                let id = engine
                    .add_partitioned(
                        RddKind::Shuffled {
                            parent: self.id,
                            partitions: n,
                        },
                        Some((n, fid)),
                    )
                    .map_err(|e| job_error(&e))?;
                Ok(JValue::Object(Arc::new(RddHandle::new(
                    self.spark.clone(),
                    id,
                    View::JavaPair,
                ))))
            }
            ("map", [f])
                if f.as_object()
                    .is_some_and(|o| o.as_any().is::<BytesToString>()) =>
            {
                self.add(RddKind::BytesToString { parent: self.id }, View::Java)
            }
            ("coalesce", [JValue::Int(n), JValue::Bool(true)])
            | ("repartition", [JValue::Int(n)]) => {
                let n = (*n).max(1) as usize;
                self.add(
                    RddKind::Repartition {
                        parent: self.id,
                        partitions: n,
                    },
                    self.view,
                )
            }
            ("coalesce", [JValue::Int(n)])
            | ("coalesce", [JValue::Int(n), JValue::Bool(false)]) => {
                let prev = self.partitions()?;
                let n = (*n).max(1) as usize;
                let groups = coalesce_groups(prev, n);
                self.add(
                    RddKind::Coalesce {
                        parent: self.id,
                        groups,
                    },
                    self.view,
                )
            }
            ("saveAsObjectFile", [JValue::Str(path)]) => {
                output::check_new(path).map_err(|e| job_error(&e))?;
                let parts = self.collect()?;
                let parts: Vec<Vec<Elem>> = parts.iter().map(|p| p.to_vec()).collect();
                output::write_objects(path, &parts).map_err(|e| job_error(&e))?;
                Ok(void_result())
            }
            ("saveAsTextFile", [JValue::Str(path), JValue::Object(codec)]) => {
                let codec = crate::jvm::invoke::invoke(codec, "getName", &[], _cx)?.java_string();
                let codec = output::Codec::from_class(&codec).ok_or_else(|| {
                    CallError::throw(
                        "java.lang.IllegalArgumentException",
                        format!("Compression codec {codec} is not supported by sparkwire submit (gzip and deflate are)"),
                        "org.apache.hadoop.io.compress.CompressionCodecFactory.getCodecByName",
                    )
                })?;
                output::check_new(path).map_err(|e| job_error(&e))?;
                let parts = self.collect()?;
                let parts: Vec<Vec<Elem>> = parts.iter().map(|p| p.to_vec()).collect();
                output::write_text_with(path, &parts, codec).map_err(|e| job_error(&e))?;
                Ok(void_result())
            }
            ("saveAsTextFile", [JValue::Str(path)]) => {
                output::check_new(path).map_err(|e| job_error(&e))?;
                let parts = self.collect()?;
                let parts: Vec<Vec<Elem>> = parts.iter().map(|p| p.to_vec()).collect();
                output::write_text(path, &parts).map_err(|e| job_error(&e))?;
                Ok(void_result())
            }
            ("count", []) => Ok(JValue::Long(
                self.collect()?.iter().map(|p| p.len() as i64).sum(),
            )),
            ("getCheckpointFile", []) => {
                let done = engine.is_checkpointed(self.id).map_err(|e| job_error(&e))?;
                let dir = self
                    .spark
                    .checkpoint_dir
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .clone();
                let file = match (done, dir) {
                    (true, Some(d)) => Some(JValue::str(format!(
                        "{}/rdd-{}",
                        d.trim_end_matches('/'),
                        self.id
                    ))),
                    _ => None,
                };
                Ok(JValue::Object(Arc::new(super::python::ScalaOption(file))))
            }
            _ => {
                let known = self.method_names().contains(&method);
                if known {
                    Err(CallError::no_such_method(method, args))
                } else {
                    Err(unsupported(&self.class_name(), method))
                }
            }
        }
    }

    fn instance_of(&self, fqn: &str) -> bool {
        match self.view {
            View::Java => matches!(
                fqn,
                "org.apache.spark.api.java.JavaRDD"
                    | "org.apache.spark.api.java.AbstractJavaRDDLike"
                    | "org.apache.spark.api.java.JavaRDDLike"
                    | "java.lang.Object"
            ),
            View::JavaPair => matches!(
                fqn,
                "org.apache.spark.api.java.JavaPairRDD"
                    | "org.apache.spark.api.java.AbstractJavaRDDLike"
                    | "org.apache.spark.api.java.JavaRDDLike"
                    | "java.lang.Object"
            ),
            View::Scala => {
                fqn == "org.apache.spark.rdd.RDD"
                    || fqn == "java.lang.Object"
                    || fqn == self.class_name()
            }
        }
    }

    fn method_names(&self) -> Vec<&'static str> {
        vec![
            "asJavaPairRDD",
            "asJavaRDD",
            "cache",
            "cartesian",
            "checkpoint",
            "coalesce",
            "count",
            "getCheckpointFile",
            "getNumPartitions",
            "getStorageLevel",
            "id",
            "isBarrier",
            "isCheckpointed",
            "isLocallyCheckpointed",
            "localCheckpoint",
            "cleanShuffleDependencies",
            "getResourceProfile",
            "map",
            "name",
            "partitionBy",
            "partitions",
            "persist",
            "rdd",
            "saveAsObjectFile",
            "saveAsTextFile",
            "setName",
            "toDebugString",
            "union",
            "unpersist",
            "zip",
        ]
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// `CoalescedRDD` without locality: new partition `g` takes the parent
/// partitions `[g·prev/n, (g+1)·prev/n)`.
fn coalesce_groups(prev: usize, n: usize) -> Vec<Vec<usize>> {
    let n = n.min(prev.max(1));
    (0..n)
        .map(|g| (g * prev / n..(g + 1) * prev / n).collect())
        .collect()
}

/// A `Partition`: only its index is asked for.
#[derive(Debug)]
pub struct Partition(i32);

impl JvmObject for Partition {
    fn class_name(&self) -> String {
        "org.apache.spark.Partition".into()
    }

    fn call(
        &self,
        _: &ObjRef,
        method: &str,
        args: &[JValue],
        _: &mut Cx<'_>,
    ) -> Result<JValue, CallError> {
        match (method, args) {
            ("index", []) => Ok(JValue::Int(self.0)),
            _ => Err(CallError::no_such_method(method, args)),
        }
    }

    fn method_names(&self) -> Vec<&'static str> {
        vec!["index"]
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
