//! Running tasks on real PySpark workers: the role of the JVM's
//! `PythonWorkerFactory` (start, pool, reuse and kill workers) and
//! `PythonRunner` (stream a task's input while reading its output). Every byte
//! decision stays in the sans-I/O [`Session`](crate::protocol::session::Session);
//! this module only moves bytes, runs processes and threads, and keeps time.
//!
//! ```no_run
//! use sparkwire_worker::host::{Host, HostConfig, Python, Task, TaskInput};
//! # fn command() -> bytes::Bytes { unimplemented!() }
//! # fn frames() -> Vec<sparkwire_framing::Frame> { unimplemented!() }
//! let host = Host::new(Python::probe("python3")?, HostConfig::default())?;
//! let mut run = host.run(Task::rdd(command(), 0, TaskInput::frames(frames())))?;
//! for output in &mut run {
//!     let _batch = output?; // a pickled batch, as the worker wrote it
//! }
//! let summary = run.finish()?; // timing, spill figures, accumulator updates
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`pipe::pipe`] runs `RDD.pipe` for one partition: elements to an external
//! command's stdin, its stdout back as lines, with Scala's and PySpark's
//! conventions as values.
//!
//! A pickle is code: the host sends commands and data to real Python workers,
//! which unpickle and run them. It inherits pickle's threat model — only run
//! tasks you would run in Spark. (sparkwire's own decoders never execute.)

pub mod blocking;
pub mod collect;
pub mod config;
pub mod daemon;
pub mod env;
pub mod error;
pub mod launch;
pub mod pipe;
pub mod pool;
pub mod private_dir;
pub mod python;
pub mod run;
pub mod signal;
pub mod stream;
pub mod tail;
pub mod task;
pub mod worker;

use std::sync::Arc;

pub use blocking::{BlockingSession, HostError, Progress, TaskInput, TaskOutcome};
pub use collect::{Output, TaskSummary};
pub use config::{HostConfig, Mode};
pub use error::{LaunchError, TaskError, TaskId};
pub use pipe::{
    pipe, pipe_fallible, CommandError, Dialect, Exit, PipeCommand, PipeError, PipeOutput,
    StderrTail, Utf8Lines,
};
pub use pool::PoolStats;
pub use python::Python;
pub use run::{Canceller, TaskRun};
pub use stream::{Duplex, Socket};
pub use task::Task;

use pool::Pool;

/// Runs tasks on workers of one Python interpreter.
#[derive(Clone)]
pub struct Host {
    pool: Arc<Pool>,
}

impl Host {
    /// A host for `python` (see [`Python::probe`]). Checks the settings
    /// against the interpreter's pyspark: Unix-domain sockets need 4.1+.
    pub fn new(python: Python, config: HostConfig) -> Result<Host, LaunchError> {
        if config.unix_sockets && !env::supports_unix_sockets(python.spark) {
            return Err(LaunchError::NoUnixSockets {
                pyspark: python.pyspark,
            });
        }
        Ok(Host {
            pool: Pool::new(python, config),
        })
    }

    /// The interpreter.
    pub fn python(&self) -> &Python {
        self.pool.python()
    }

    /// The settings.
    pub fn config(&self) -> &HostConfig {
        self.pool.config()
    }

    /// Worker counts.
    pub fn stats(&self) -> PoolStats {
        self.pool.stats()
    }

    /// Starts a task on a worker (reused, started, or waited for) and returns
    /// its output as it arrives.
    pub fn run(&self, task: Task) -> Result<TaskRun, TaskError> {
        self.run_task(task)
    }

    /// Starts the daemon of tasks with this environment ahead of the first
    /// task (daemon mode; a no-op for simple workers). An engine calls it when
    /// a job is likely to come, hiding the interpreter's start.
    pub fn prestart(&self, env: &[(String, String)]) -> Result<(), LaunchError> {
        self.pool.prestart(&env.to_vec())
    }

    fn run_task(&self, task: Task) -> Result<TaskRun, TaskError> {
        let Task {
            mut header,
            input,
            broadcasts,
            env,
        } = task;
        let id = TaskId {
            partition: header.partition_index,
            attempt: header.context.task_attempt_id,
        };
        if header.python_version.is_empty() {
            header.python_version = self.python().version.clone();
        }
        let mut worker = self.pool.acquire(&env, id)?;
        match &broadcasts {
            Some(wanted) => {
                header.broadcasts = task::broadcast_changes(&mut worker.broadcasts, wanted)
            }
            None => task::apply_broadcasts(&mut worker.broadcasts, &header.broadcasts),
        }
        worker.tasks += 1;
        worker.conn.set_timeout(self.config().reply_timeout);
        let driver = header.python_version.clone();
        let started = worker.conn.start(&header);
        let mut run = TaskRun::new(self.pool.clone(), env, worker, input, id, driver);
        match started {
            Ok(()) => Ok(run),
            Err(e) => Err(run.fail_to_start(e)),
        }
    }
}
