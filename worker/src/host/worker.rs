//! One connected worker process and where it came from: a simple worker we
//! started ourselves, or a worker forked by a daemon. Killing, liveness and the
//! worker's stderr differ between the two; everything else is the connection.

use std::collections::BTreeSet;
use std::process::Child;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::blocking::BlockingSession;
use super::daemon::Daemon;
use super::private_dir::PrivateDir;
use super::signal;
use super::stream::Socket;
use super::tail::Tail;

/// How long a simple worker is given to exit on its own after its connection
/// closes before it is killed.
const EXIT_GRACE: Duration = Duration::from_secs(2);

/// Where a worker came from.
pub(crate) enum Origin {
    /// A `pyspark.worker` process of ours.
    Simple {
        child: Child,
        output: Tail,
        _dir: Option<PrivateDir>,
    },
    /// A process the daemon forked.
    Forked { daemon: Arc<Daemon> },
}

/// A connected worker.
pub struct Worker {
    pub(crate) conn: BlockingSession<Socket>,
    pub(crate) origin: Origin,
    /// Broadcast ids this worker has loaded (PythonRunner keeps the same set
    /// per worker, to send only additions and removals).
    pub(crate) broadcasts: BTreeSet<i64>,
    pub(crate) idle_since: Instant,
    pub(crate) tasks: usize,
}

/// Kills one worker from any thread (cancellation).
#[derive(Clone)]
pub struct Killer {
    pid: i32,
    daemon: Option<Arc<Daemon>>,
}

impl Killer {
    /// SIGKILLs the worker: directly for a simple worker, through the daemon's
    /// stdin for a forked one, as Spark does (the daemon is its parent).
    pub fn kill(&self) {
        match &self.daemon {
            Some(d) => {
                if d.kill_worker(self.pid).is_err() {
                    signal::kill(self.pid);
                }
            }
            None => signal::kill(self.pid),
        }
    }
}

impl Worker {
    /// A worker `daemon` forked for the connection `conn`.
    pub(crate) fn forked(daemon: Arc<Daemon>, conn: BlockingSession<Socket>) -> Worker {
        Worker {
            conn,
            origin: Origin::Forked { daemon },
            broadcasts: BTreeSet::new(),
            idle_since: Instant::now(),
            tasks: 0,
        }
    }

    /// The worker's pid.
    pub fn pid(&self) -> i32 {
        self.conn.pid()
    }

    /// A handle that kills this worker.
    pub fn killer(&self) -> Killer {
        Killer {
            pid: self.pid(),
            daemon: match &self.origin {
                Origin::Simple { .. } => None,
                Origin::Forked { daemon } => Some(daemon.clone()),
            },
        }
    }

    /// What the worker wrote on stderr and stdout (a forked worker shares the
    /// daemon's), with a faulthandler dump when `dir` holds one for its pid.
    pub fn stderr(&self, faulthandler_dir: Option<&std::path::Path>) -> String {
        let mut text = match &self.origin {
            Origin::Simple { output, .. } => output.text(),
            Origin::Forked { daemon } => daemon.output(),
        };
        if let Some(dump) = faulthandler_dir
            .map(|d| d.join(self.pid().to_string()))
            .and_then(|p| std::fs::read_to_string(p).ok())
        {
            text.push_str("\nfaulthandler:\n");
            text.push_str(&dump);
        }
        text
    }

    /// The exit status of a simple worker that has exited (waiting briefly for
    /// it); `None` for a forked worker (the daemon reaps it) or one still
    /// running.
    pub fn exit_status(&mut self) -> Option<String> {
        let Origin::Simple { child, .. } = &mut self.origin else {
            return None;
        };
        let deadline = Instant::now() + Duration::from_millis(500);
        loop {
            match child.try_wait() {
                Ok(Some(status)) => return Some(status.to_string()),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5))
                }
                _ => return None,
            }
        }
    }

    /// Whether an idle pooled worker can take a task: its connection shows
    /// nothing unexpected and (forked) its daemon still runs.
    pub(crate) fn is_usable(&mut self) -> bool {
        let daemon_alive = match &self.origin {
            Origin::Forked { daemon } => daemon.is_alive(),
            Origin::Simple { .. } => false,
        };
        daemon_alive && self.conn.is_healthy_idle() && signal::exists(self.pid())
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Closing the connection ends the worker: a simple worker exits after
        // its one task, a forked one drains its socket and exits.
        self.conn.close_now();
        if let Origin::Simple { child, .. } = &mut self.origin {
            let deadline = Instant::now() + EXIT_GRACE;
            while matches!(child.try_wait(), Ok(None)) {
                if Instant::now() >= deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }
}
