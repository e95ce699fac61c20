//! Where a task ran and why a job failed: shared by every part of the engine.

use std::sync::Arc;

use sparkwire_worker::host::TaskError;

/// Where a task runs, for its header and its error messages.
#[derive(Clone, Debug)]
pub struct TaskPlace {
    /// Stage id.
    pub stage: i32,
    /// Partition.
    pub partition: usize,
    /// Task attempt id (Spark's TID).
    pub task_id: i64,
    /// The job's local properties.
    pub properties: Vec<(String, String)>,
}

/// Why a job failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum JobError {
    /// A task failed.
    #[error("task {} in stage {}: {error}", place.partition, place.stage)]
    Task {
        /// Where.
        place: TaskPlace,
        /// What the host reported.
        error: Arc<TaskError>,
    },
    /// A Java exception the JVM would throw (class, message).
    #[error("{class}: {message}")]
    Exception {
        /// Java class.
        class: String,
        /// Message.
        message: String,
    },
    /// The driver's accumulator server could not be reached.
    #[error("accumulator server: {0}")]
    Accumulators(String),
    /// The worker host could not start.
    #[error("worker host: {0}")]
    Host(String),
}

impl JobError {
    pub(crate) fn exception(class: &str, message: impl Into<String>) -> JobError {
        JobError::Exception {
            class: class.into(),
            message: message.into(),
        }
    }
}
