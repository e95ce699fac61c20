//! What can go wrong starting workers and running tasks on them. Every error
//! that a worker caused carries what it wrote on stderr, because that is where
//! a dying Python process says why.

use std::path::PathBuf;
use std::time::Duration;

use thiserror::Error;

use super::blocking::HostError;

/// Why a worker (or the daemon, or the interpreter probe) could not start.
#[derive(Debug, Error)]
pub enum LaunchError {
    /// The program could not be started.
    #[error("cannot start {program}: {source}")]
    Spawn {
        /// What was started.
        program: PathBuf,
        /// Why not.
        #[source]
        source: std::io::Error,
    },
    /// The interpreter did not answer the probe.
    #[error("{python} did not report its versions within {waited:?}")]
    ProbeTimeout {
        /// The interpreter.
        python: PathBuf,
        /// How long we waited.
        waited: Duration,
    },
    /// The interpreter cannot import pyspark.
    #[error("{python} cannot import pyspark (exit {status}): {stderr}")]
    NoPyspark {
        /// The interpreter.
        python: PathBuf,
        /// How it exited.
        status: String,
        /// What it said.
        stderr: String,
    },
    /// Its pyspark is a release whose protocol is not modelled.
    #[error("{python} has pyspark {pyspark}; sparkwire speaks 3.5, 4.0, 4.1, 4.2 and 4.3")]
    UnsupportedPyspark {
        /// The interpreter.
        python: PathBuf,
        /// Its pyspark version.
        pyspark: String,
    },
    /// No candidate interpreter has the pyspark release needed.
    #[error("no Python with pyspark {wanted} found (tried: {})", tried.join("; "))]
    NoPythonFor {
        /// The release needed.
        wanted: String,
        /// What each candidate had.
        tried: Vec<String>,
    },
    /// Unix-domain sockets were asked of a release without them.
    #[error("pyspark {pyspark} workers cannot use Unix-domain sockets (4.1+ only)")]
    NoUnixSockets {
        /// The interpreter's pyspark.
        pyspark: String,
    },
    /// A local socket or directory could not be set up.
    #[error("{during}: {source}")]
    Io {
        /// What was being done.
        during: &'static str,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// The process exited before it connected or announced itself.
    #[error("{what} exited ({status}) before {during}; stderr:\n{stderr}")]
    Exited {
        /// Worker or daemon.
        what: &'static str,
        /// What was awaited.
        during: &'static str,
        /// Its exit status.
        status: String,
        /// Its stderr.
        stderr: String,
    },
    /// The process did not connect back or announce itself in time.
    #[error("{what} did not {during} within {waited:?}; stderr:\n{stderr}")]
    Timeout {
        /// Worker or daemon.
        what: &'static str,
        /// What was awaited.
        during: &'static str,
        /// How long.
        waited: Duration,
        /// Its stderr so far.
        stderr: String,
    },
    /// The daemon's stdout did not hold a port or socket path (something
    /// printed at import time, e.g. from `sitecustomize.py`, as Spark warns).
    #[error("bad data in pyspark.daemon's standard output: {problem}; stderr:\n{stderr}")]
    BadAnnouncement {
        /// What was wrong.
        problem: String,
        /// Its stderr.
        stderr: String,
    },
    /// The connection's handshake failed.
    #[error("the worker's handshake failed: {source}; stderr:\n{stderr}")]
    Handshake {
        /// The failure.
        #[source]
        source: HostError,
        /// The worker's (or daemon's) stderr.
        stderr: String,
    },
}

/// Which task, for errors: the partition and the attempt id of its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskId {
    /// `partition_index` of the header.
    pub partition: i32,
    /// `taskAttemptId` of the header.
    pub attempt: i64,
}

impl std::fmt::Display for TaskId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "task {} (partition {})", self.attempt, self.partition)
    }
}

/// Why a task failed.
#[derive(Debug, Error)]
pub enum TaskError {
    /// No worker could be started for it.
    #[error("{task}: no worker: {source}")]
    Launch {
        /// The task.
        task: TaskId,
        /// Why.
        #[source]
        source: Box<LaunchError>,
    },
    /// Every worker slot stayed busy for the whole queue timeout.
    #[error("{task}: no worker became free within {waited:?} ({max_workers} in use)")]
    PoolExhausted {
        /// The task.
        task: TaskId,
        /// How long it queued.
        waited: Duration,
        /// The pool's bound.
        max_workers: usize,
    },
    /// The Python code raised; the worker sent the traceback and exits.
    #[error("{task}: Python raised:\n{traceback}")]
    Python {
        /// The task.
        task: TaskId,
        /// The traceback text the worker sent.
        traceback: String,
        /// The worker's stderr (the daemon's, for a forked worker).
        stderr: String,
    },
    /// The command was pickled by another Python minor version than the
    /// worker's: PySpark's `PYTHON_VERSION_MISMATCH`.
    #[error("{task}: Python in worker has version {worker} but the task was made by Python {driver}; PySpark cannot run with different minor versions")]
    PythonVersionMismatch {
        /// The task.
        task: TaskId,
        /// The worker's `"major.minor"`.
        worker: String,
        /// The header's (the driver's) `"major.minor"`.
        driver: String,
        /// The worker's traceback.
        traceback: String,
    },
    /// The worker died or closed the connection mid-task (crash, SIGKILL, EOF).
    #[error("{task}: Python worker {pid} exited unexpectedly{}: {source}; last received: {last}; stderr:\n{stderr}", exit.as_deref().map(|e| format!(" ({e})")).unwrap_or_default())]
    WorkerDied {
        /// The task.
        task: TaskId,
        /// The worker's pid.
        pid: i32,
        /// Its exit status, when we could learn it (simple workers).
        exit: Option<String>,
        /// What was last received, e.g. `"3 data frames (1 204 bytes in all)"`.
        last: String,
        /// The transport or protocol failure that showed it.
        #[source]
        source: Box<HostError>,
        /// The worker's stderr (the daemon's, for a forked worker), with a
        /// faulthandler dump when one was written.
        stderr: String,
    },
    /// The worker stayed silent for the whole reply timeout; it was killed.
    #[error(
        "{task}: worker {pid} sent nothing for {waited:?}; it was killed; last received: {last}"
    )]
    Timeout {
        /// The task.
        task: TaskId,
        /// The worker's pid.
        pid: i32,
        /// How long.
        waited: Duration,
        /// What was last received.
        last: String,
    },
    /// The worker's bytes broke the protocol; it was killed.
    #[error("{task}: worker {pid} broke the protocol: {source}")]
    Protocol {
        /// The task.
        task: TaskId,
        /// The worker's pid.
        pid: i32,
        /// What was wrong.
        #[source]
        source: Box<HostError>,
    },
    /// The task was cancelled; its worker was killed.
    #[error("{task}: cancelled; worker {pid} was killed")]
    Cancelled {
        /// The task.
        task: TaskId,
        /// The killed worker's pid.
        pid: i32,
    },
}
