//! How a [`Host`](super::Host) starts and keeps workers: the knobs Spark's
//! `PythonWorkerFactory` and `PythonRunner` read from `spark.python.*`, with
//! Spark's defaults.

use std::path::PathBuf;
use std::time::Duration;

/// How workers are started (spec §2.3, §2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// One `python -m pyspark.worker` per task, connecting back to us
    /// (`spark.python.use.daemon=false`). Never reused.
    Simple,
    /// One `python -m pyspark.daemon` per (python, environment) key, forking a
    /// worker per connection; workers are reused across tasks (Spark's default
    /// on Linux and macOS).
    Daemon,
}

/// The host's settings.
#[derive(Debug, Clone)]
pub struct HostConfig {
    /// Simple or daemon workers.
    pub mode: Mode,
    /// Unix-domain sockets in a private 0700 directory instead of loopback TCP
    /// (`spark.python.unix.domain.socket.enabled`; pyspark 4.1+ only).
    pub unix_sockets: bool,
    /// Reuse daemon workers across tasks (`spark.python.worker.reuse`).
    pub reuse: bool,
    /// How long a simple worker may take to connect back, a daemon to
    /// announce itself, and a handshake to complete.
    pub connect_timeout: Duration,
    /// `SPARK_AUTH_SOCKET_TIMEOUT`, in seconds: the worker's own bound on its
    /// connect and handshake.
    pub auth_timeout_secs: u32,
    /// How long a running task's worker may stay silent while we wait for it
    /// (Spark waits for ever; a host embedded in an engine wants a bound).
    pub reply_timeout: Duration,
    /// Idle daemon workers older than this are closed
    /// (`spark.python.factory.idleWorkerMaxPoolSize`'s companion idle timeout).
    pub idle_timeout: Duration,
    /// Workers alive at once, idle or busy; further tasks queue.
    pub max_workers: usize,
    /// How long a task may queue for a worker before failing.
    pub queue_timeout: Duration,
    /// `SPARK_BUFFER_SIZE` (`spark.buffer.size`).
    pub buffer_size: usize,
    /// `PYTHONHASHSEED`: PySpark's driver sets `0` unless the user chose one, so
    /// that `portable_hash` agrees across workers.
    pub hash_seed: String,
    /// Directory for faulthandler dumps (`PYTHON_FAULTHANDLER_DIR`): a crashed
    /// worker's Python stack is attached to its error.
    pub faulthandler_dir: Option<PathBuf>,
    /// 4.1+ daemon workers: let a failed flush of the output kill the worker
    /// instead of risking a desynchronised stream
    /// (`spark.python.daemon.killWorkerOnFlushFailure`, default on).
    pub kill_worker_on_flush_failure: bool,
    /// 4.1+: with a faulthandler directory, dump the worker's Python stacks
    /// there every this many seconds (`spark.python.worker.tracebackDumpIntervalSeconds`),
    /// to see where a slow task is.
    pub traceback_dump_interval_secs: Option<u32>,
    /// Connect over `::1` (`SPARK_PREFER_IPV6`).
    pub prefer_ipv6: bool,
    /// More environment for every worker (after Spark's own variables, so they
    /// can be overridden).
    pub env: Vec<(String, String)>,
}

impl Default for HostConfig {
    fn default() -> HostConfig {
        HostConfig {
            mode: Mode::Daemon,
            unix_sockets: false,
            reuse: true,
            connect_timeout: Duration::from_secs(30),
            auth_timeout_secs: 15,
            reply_timeout: Duration::from_secs(600),
            idle_timeout: Duration::from_secs(60),
            max_workers: 8,
            queue_timeout: Duration::from_secs(600),
            buffer_size: 65536,
            hash_seed: "0".into(),
            faulthandler_dir: None,
            kill_worker_on_flush_failure: true,
            traceback_dump_interval_secs: None,
            prefer_ipv6: false,
            env: Vec::new(),
        }
    }
}
