//! `JavaSparkStatusTracker` and `java.util.Properties` (local properties).

use std::any::Any;
use std::sync::{Arc, Mutex};

use super::state::{properties, set_property, Spark};
use crate::jvm::{CallError, Cx, JArray, JValue, JvmObject, ObjRef};

/// `sc.statusTracker()`: jobs finish before their call returns here, so no
/// job or stage is ever active; finished jobs are looked up by group.
pub struct StatusTracker {
    spark: Arc<Spark>,
}

impl StatusTracker {
    /// A tracker of `spark`'s jobs.
    pub fn new(spark: Arc<Spark>) -> StatusTracker {
        StatusTracker { spark }
    }
}

fn int_array(v: Vec<i32>) -> JValue {
    JValue::Object(Arc::new(JArray::new(
        "int",
        v.into_iter().map(JValue::Int).collect(),
    )))
}

impl JvmObject for StatusTracker {
    fn class_name(&self) -> String {
        "org.apache.spark.api.java.JavaSparkStatusTracker".into()
    }

    fn call(
        &self,
        _: &ObjRef,
        method: &str,
        args: &[JValue],
        _: &mut Cx<'_>,
    ) -> Result<JValue, CallError> {
        match (method, args) {
            ("getJobIdsForGroup", [g]) => {
                let group = match g {
                    JValue::Str(s) => Some(s.to_string()),
                    _ => None,
                };
                Ok(int_array(self.spark.engine.jobs_in_group(group.as_deref())))
            }
            ("getJobIdsForTag", [_]) | ("getActiveStageIds", []) | ("getActiveJobIds", []) => {
                Ok(int_array(Vec::new()))
            }
            ("getJobInfo", [JValue::Int(id)]) => Ok(match self.spark.engine.job_stages(*id) {
                Some(stages) => JValue::Object(Arc::new(JobInfo { id: *id, stages })),
                None => JValue::Null,
            }),
            ("getStageInfo", [_]) => Ok(JValue::Null),
            _ => Err(crate::jvm::model::unsupported(&self.class_name(), method)),
        }
    }

    fn method_names(&self) -> Vec<&'static str> {
        vec![
            "getActiveJobIds",
            "getActiveStageIds",
            "getJobIdsForGroup",
            "getJobIdsForTag",
            "getJobInfo",
            "getStageInfo",
        ]
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A `SparkJobInfo` of a finished job.
struct JobInfo {
    id: i32,
    stages: Vec<i32>,
}

impl JvmObject for JobInfo {
    fn class_name(&self) -> String {
        "org.apache.spark.SparkJobInfoImpl".into()
    }

    fn call(
        &self,
        _: &ObjRef,
        method: &str,
        args: &[JValue],
        _: &mut Cx<'_>,
    ) -> Result<JValue, CallError> {
        match (method, args) {
            ("jobId", []) => Ok(JValue::Int(self.id)),
            ("stageIds", []) => Ok(int_array(self.stages.clone())),
            ("status", []) => Ok(JValue::Object(Arc::new(Status))),
            _ => Err(CallError::no_such_method(method, args)),
        }
    }

    fn method_names(&self) -> Vec<&'static str> {
        vec!["jobId", "stageIds", "status"]
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// `JobExecutionStatus.SUCCEEDED`.
struct Status;

impl JvmObject for Status {
    fn class_name(&self) -> String {
        "org.apache.spark.JobExecutionStatus".into()
    }

    fn call(
        &self,
        _: &ObjRef,
        method: &str,
        args: &[JValue],
        _: &mut Cx<'_>,
    ) -> Result<JValue, CallError> {
        match (method, args) {
            ("name", []) => Ok(JValue::str("SUCCEEDED")),
            _ => Err(CallError::no_such_method(method, args)),
        }
    }

    fn to_java_string(&self) -> String {
        "SUCCEEDED".into()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A `java.util.Properties` snapshot of a thread's local properties.
pub struct Properties(Mutex<Vec<(String, String)>>);

impl Properties {
    /// This thread's local properties now.
    pub fn snapshot() -> Properties {
        Properties(Mutex::new(properties()))
    }

    /// Makes them this thread's local properties.
    pub fn install(&self) {
        for (k, _) in properties() {
            set_property(&k, None);
        }
        for (k, v) in self.0.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            set_property(k, Some(v));
        }
    }
}

impl JvmObject for Properties {
    fn class_name(&self) -> String {
        "java.util.Properties".into()
    }

    fn call(
        &self,
        this: &ObjRef,
        method: &str,
        args: &[JValue],
        _: &mut Cx<'_>,
    ) -> Result<JValue, CallError> {
        let mut p = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match (method, args) {
            ("getProperty", [JValue::Str(k)]) => Ok(p
                .iter()
                .find(|(key, _)| key == &**k)
                .map(|(_, v)| JValue::str(v.as_str()))
                .unwrap_or(JValue::Null)),
            ("setProperty", [JValue::Str(k), JValue::Str(v)]) => {
                let old = p
                    .iter()
                    .position(|(key, _)| key == &**k)
                    .map(|i| p.remove(i).1);
                p.push((k.to_string(), v.to_string()));
                Ok(old.map(JValue::str).unwrap_or(JValue::Null))
            }
            ("clone", []) => Ok(JValue::Object(Arc::new(Properties(Mutex::new(p.clone()))))),
            ("size", []) => Ok(JValue::Int(p.len() as i32)),
            _ => {
                drop(p);
                let _ = this;
                Err(CallError::no_such_method(method, args))
            }
        }
    }

    fn method_names(&self) -> Vec<&'static str> {
        vec!["clone", "getProperty", "setProperty", "size"]
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
