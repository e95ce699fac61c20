//! A running task: an iterator over its output as the worker sends it, with
//! the input pulled on the same thread as the worker takes it. When the reply
//! ends the worker goes back to the pool (or is closed); a task dropped or
//! cancelled mid-way kills its worker.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::protocol::session::SessionError;

use super::blocking::{HostError, Progress, TaskInput};
use super::collect::{Collected, Collector, Output, TaskSummary};
use super::error::{TaskError, TaskId};
use super::pool::{EnvKey, Pool};
use super::worker::{Killer, Worker};

/// How to kill the task's worker, for as long as the task has it: taken (and
/// so disarmed) before the worker goes back to the pool or is closed, so that
/// a late cancel can never hit a pooled worker running another task, or a pid
/// the system has reused.
type Armed = Arc<Mutex<Option<Killer>>>;

fn disarm(armed: &Armed) -> Option<Killer> {
    armed.lock().unwrap_or_else(|p| p.into_inner()).take()
}

/// Cancels a running task from any thread: its worker is killed and the task's
/// iterator ends with [`TaskError::Cancelled`]. Once the task has ended it
/// does nothing.
#[derive(Clone)]
pub struct Canceller {
    flag: Arc<AtomicBool>,
    killer: Armed,
}

impl Canceller {
    /// Kills the task's worker (through the daemon in daemon mode), if the
    /// task still runs.
    pub fn cancel(&self) {
        let armed = self.killer.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(k) = armed.as_ref() {
            self.flag.store(true, Ordering::SeqCst);
            k.kill();
        }
    }
}

/// A running task. Iterate for its output; [`TaskRun::finish`] drains the
/// rest and returns the summary.
pub struct TaskRun {
    pool: Arc<Pool>,
    key: EnvKey,
    worker: Option<Worker>,
    input: TaskInput<'static>,
    id: TaskId,
    driver_python: String,
    pid: i32,
    collector: Collector,
    cancelled: Arc<AtomicBool>,
    killer: Armed,
}

impl TaskRun {
    pub(crate) fn new(
        pool: Arc<Pool>,
        key: EnvKey,
        worker: Worker,
        input: TaskInput<'static>,
        id: TaskId,
        driver_python: String,
    ) -> TaskRun {
        let killer = Arc::new(Mutex::new(Some(worker.killer())));
        let pid = worker.pid();
        TaskRun {
            pool,
            key,
            pid,
            worker: Some(worker),
            input,
            id,
            driver_python,
            collector: Collector::for_worker(pid),
            cancelled: Arc::new(AtomicBool::new(false)),
            killer,
        }
    }

    /// Which task this is.
    pub fn id(&self) -> TaskId {
        self.id
    }

    /// The worker's pid.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// A handle that cancels this task from another thread.
    pub fn canceller(&self) -> Canceller {
        Canceller {
            flag: self.cancelled.clone(),
            killer: self.killer.clone(),
        }
    }

    /// Cancels the task: kills its worker and ends the output.
    pub fn cancel(&mut self) -> TaskError {
        self.cancelled.store(true, Ordering::SeqCst);
        self.kill_and_discard();
        TaskError::Cancelled {
            task: self.id,
            pid: self.pid,
        }
    }

    /// What the worker reported so far besides output (complete once the
    /// iterator has ended).
    pub fn summary(&self) -> &TaskSummary {
        &self.collector.summary
    }

    /// Reads the rest of the output, discarding it, and returns the summary.
    pub fn finish(mut self) -> Result<TaskSummary, TaskError> {
        for item in self.by_ref() {
            item?;
        }
        Ok(std::mem::take(&mut self.collector.summary))
    }

    fn kill_and_discard(&mut self) {
        if let Some(w) = self.worker.take() {
            if let Some(k) = disarm(&self.killer) {
                k.kill();
            }
            self.pool.release(w, &self.key, false);
        }
    }

    /// The error for a header the session refused (a call out of order, or a
    /// header this release cannot encode).
    pub(crate) fn fail_to_start(&mut self, source: HostError) -> TaskError {
        self.kill_and_discard();
        TaskError::Protocol {
            task: self.id,
            pid: self.pid,
            source: Box::new(source),
        }
    }

    /// The error for a failure of the connection, with what the worker left.
    fn failure(&mut self, source: HostError) -> TaskError {
        let pid = self.pid;
        let killer = disarm(&self.killer);
        let Some(mut w) = self.worker.take() else {
            return TaskError::Cancelled { task: self.id, pid };
        };
        let kill = || {
            if let Some(k) = &killer {
                k.kill();
            }
        };
        let last = self.collector.describe(w.conn.received());
        let err = if self.cancelled.load(Ordering::SeqCst) {
            TaskError::Cancelled { task: self.id, pid }
        } else {
            match source {
                HostError::Timeout { waited, .. } => {
                    kill();
                    TaskError::Timeout {
                        task: self.id,
                        pid,
                        waited,
                        last,
                    }
                }
                // The worker's connection ended or broke: it died.
                HostError::Io { .. } | HostError::Session(SessionError::Closed { .. }) => {
                    let exit = w.exit_status();
                    TaskError::WorkerDied {
                        task: self.id,
                        pid,
                        exit,
                        last,
                        source: Box::new(source),
                        stderr: w.stderr(self.pool.config().faulthandler_dir.as_deref()),
                    }
                }
                // A reply that breaks the protocol, or a task the session
                // refused (the caller's frames or header): the worker lives
                // on in an unknown state.
                source => {
                    kill();
                    TaskError::Protocol {
                        task: self.id,
                        pid,
                        source: Box::new(source),
                    }
                }
            }
        };
        self.pool.release(w, &self.key, false);
        err
    }

    /// The error for a traceback the worker sent.
    fn python_error(&mut self, traceback: String) -> TaskError {
        let stderr = self
            .worker
            .as_ref()
            .map(|w| w.stderr(self.pool.config().faulthandler_dir.as_deref()))
            .unwrap_or_default();
        disarm(&self.killer);
        if let Some(w) = self.worker.take() {
            self.pool.release(w, &self.key, false);
        }
        if traceback.contains("PYTHON_VERSION_MISMATCH")
            || traceback.contains("Python in worker has different version")
        {
            return TaskError::PythonVersionMismatch {
                task: self.id,
                worker: self.pool.python().version.clone(),
                driver: self.driver_python.clone(),
                traceback,
            };
        }
        TaskError::Python {
            task: self.id,
            traceback,
            stderr,
        }
    }
}

impl Iterator for TaskRun {
    type Item = Result<Output, TaskError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let w = self.worker.as_mut()?;
            let step = w.conn.next_progress(&mut self.input);
            let item = match step {
                Ok(Progress::Item(item)) => item,
                Ok(Progress::Done { reusable }) => {
                    // Disarmed first: a cancel from now on does nothing; one
                    // that came before keeps the worker out of the pool (its
                    // kill may still be on its way through the daemon).
                    disarm(&self.killer);
                    let reusable = reusable && !self.cancelled.load(Ordering::SeqCst);
                    self.collector.summary.reusable = reusable
                        && self.pool.config().reuse
                        && self.pool.config().mode == super::Mode::Daemon;
                    if let Some(w) = self.worker.take() {
                        self.pool.release(w, &self.key, reusable);
                    }
                    return None;
                }
                Err(e) => return Some(Err(self.failure(e))),
            };
            match self.collector.take(item) {
                Collected::Output(o) => return Some(Ok(o)),
                Collected::Raised(tb) => return Some(Err(self.python_error(tb))),
                Collected::Kept => {}
            }
        }
    }
}

impl Drop for TaskRun {
    /// A task abandoned mid-way leaves its worker in an unknown state: it is
    /// killed, as Spark kills the worker of an interrupted task.
    fn drop(&mut self) {
        self.kill_and_discard();
    }
}
