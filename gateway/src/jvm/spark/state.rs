//! What the driver-side Spark objects share: the engine, the settings the
//! launcher passes (spark-submit's system properties), the running context,
//! and the thread-local job properties.

use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::engine::{Engine, JobError};
use crate::jvm::{CallError, Throwable};

/// The Spark side of a gateway.
pub struct Spark {
    /// Runs the jobs.
    pub engine: Arc<Engine>,
    /// The Spark release the driver's pyspark is (what `version()` answers).
    pub version: String,
    /// The properties a `new SparkConf(true)` starts with (`spark.master`,
    /// `spark.app.name`, `spark.submit.deployMode`, …).
    pub defaults: Vec<(String, String)>,
    /// `startTime`, ms since the epoch.
    pub start_time: i64,
    /// `applicationId`.
    pub app_id: String,
    /// Where `Utils.createTempDir` puts PySpark's directories.
    pub local_dir: PathBuf,
    /// `setCheckpointDir`.
    pub checkpoint_dir: Mutex<Option<String>>,
    /// `setLogLevel`.
    pub log_level: Mutex<String>,
    /// The running `SparkContext` (its Scala view), for `SparkSession`.
    pub context: Mutex<Option<crate::jvm::ObjRef>>,
    /// `addFile`d paths, as `file:` URIs.
    pub files: Mutex<Vec<String>>,
    /// Storage levels asked for, by RDD.
    pub storage_levels: Mutex<std::collections::HashMap<i32, super::python::StorageLevel>>,
}

impl Spark {
    /// Records an added file.
    pub fn add_file(&self, uri: String) {
        let mut f = self.files.lock().unwrap_or_else(|p| p.into_inner());
        if !f.contains(&uri) {
            f.push(uri);
        }
    }

    /// The added files.
    pub fn added_files(&self) -> Vec<String> {
        self.files.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The running context, if any.
    pub fn context(&self) -> Option<crate::jvm::ObjRef> {
        self.context
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Records `persist(level)`.
    pub fn set_storage_level(&self, id: i32, level: super::python::StorageLevel) {
        self.storage_levels
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, level);
    }

    /// `getStorageLevel()`.
    pub fn storage_level(&self, id: i32) -> super::python::StorageLevel {
        self.storage_levels
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
            .copied()
            .unwrap_or(super::python::StorageLevel::NONE)
    }
}

thread_local! {
    /// Spark's local properties are inheritable thread-locals; one server
    /// thread serves one Python thread (ClientServer), so a thread-local here
    /// follows the Python thread as in the JVM.
    static PROPERTIES: RefCell<Vec<(String, String)>> = const { RefCell::new(Vec::new()) };
}

/// This thread's local properties.
pub fn properties() -> Vec<(String, String)> {
    PROPERTIES.with(|p| p.borrow().clone())
}

/// Sets (or with `None` removes) a local property.
pub fn set_property(key: &str, value: Option<&str>) {
    PROPERTIES.with(|p| {
        let mut p = p.borrow_mut();
        p.retain(|(k, _)| k != key);
        if let Some(v) = value {
            p.push((key.to_owned(), v.to_owned()));
        }
    });
}

/// A local property.
pub fn property(key: &str) -> Option<String> {
    PROPERTIES.with(|p| {
        p.borrow()
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    })
}

/// Whether a failed Python task reaches the driver as the
/// `PythonException` itself (as real 4.2 and later do) rather than wrapped in
/// the `SparkException` that aborts the job (3.5, 4.0, 4.1).
static SPARK4_ERRORS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Selects the error shape of `version` (`"3.5.9"`, `"4.0.1"`, …).
pub fn set_error_style(version: &str) {
    let wrapped = ["3.", "4.0.", "4.1."]
        .iter()
        .any(|p| version.starts_with(p));
    SPARK4_ERRORS.store(!wrapped, std::sync::atomic::Ordering::Relaxed);
}

/// The Java exception a failed job gives the driver, as Spark words it.
pub fn job_error(e: &JobError) -> CallError {
    let spark4 = SPARK4_ERRORS.load(std::sync::atomic::Ordering::Relaxed);
    match e {
        JobError::Task { place, error } => {
            if let (true, sparkwire_worker::host::TaskError::Python { traceback, .. }) =
                (spark4, &**error)
            {
                return CallError::Throw(Arc::new(Throwable::new(
                    "org.apache.spark.api.python.PythonException",
                    Some(format!(
                        "[PYTHON_EXCEPTION] An exception was thrown from the Python worker: {traceback} SQLSTATE: 38000"
                    )),
                    "org.apache.spark.api.python.BasePythonRunner$ReaderIterator.handlePythonException",
                )));
            }
            let (cause_class, cause_message) = match &**error {
                sparkwire_worker::host::TaskError::Python { traceback, .. } => (
                    "org.apache.spark.api.python.PythonException",
                    traceback.clone(),
                ),
                other => ("org.apache.spark.SparkException", other.to_string()),
            };
            let cause = Arc::new(Throwable::new(
                cause_class,
                Some(cause_message.clone()),
                "org.apache.spark.api.python.BasePythonRunner$ReaderIterator.handlePythonException",
            ));
            let message = format!(
                "Job aborted due to stage failure: Task {p} in stage {s}.0 failed 1 times, most recent failure: \
                 Lost task {p}.0 in stage {s}.0 (TID {t}) (localhost executor driver): {cause_class}: {cause_message}\n\
                 Driver stacktrace:",
                p = place.partition,
                s = place.stage,
                t = place.task_id,
            );
            CallError::Throw(Arc::new(
                Throwable::new(
                    "org.apache.spark.SparkException",
                    Some(message),
                    "org.apache.spark.scheduler.DAGScheduler.failJobAndIndependentStages",
                )
                .with_cause(cause),
            ))
        }
        JobError::Exception { class, message } => CallError::throw(
            class,
            message.clone(),
            "org.apache.spark.rdd.RDD.partitions",
        ),
        JobError::Accumulators(m) => CallError::throw(
            "org.apache.spark.SparkException",
            m.clone(),
            "org.apache.spark.api.python.PythonAccumulatorV2.merge",
        ),
        JobError::Host(m) => CallError::throw(
            "org.apache.spark.SparkException",
            m.clone(),
            "org.apache.spark.api.python.PythonWorkerFactory.create",
        ),
    }
}
