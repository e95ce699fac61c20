//! The worker pool: idle daemon workers kept per (python, environment) key
//! for reuse, as `PythonWorkerFactory` keeps them; a bound on live workers with
//! a queue; idle workers closed after a timeout; dead ones detected and
//! replaced; a dead daemon restarted once.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use super::config::{HostConfig, Mode};
use super::daemon::Daemon;
use super::error::{LaunchError, TaskError, TaskId};
use super::launch::start_simple;
use super::python::Python;
use super::worker::Worker;

/// Workers with the same extra environment share a pool.
pub type EnvKey = Vec<(String, String)>;

/// The pool's counts, for callers that watch it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolStats {
    /// Workers alive, busy or idle.
    pub live: usize,
    /// Idle workers waiting for a task.
    pub idle: usize,
    /// Daemons running.
    pub daemons: usize,
}

#[derive(Default)]
struct Keyed {
    daemon: Option<Arc<Daemon>>,
    idle: Vec<Worker>,
}

#[derive(Default)]
struct State {
    keys: HashMap<EnvKey, Keyed>,
    live: usize,
}

/// Workers of one interpreter.
pub struct Pool {
    python: Python,
    config: HostConfig,
    state: Mutex<State>,
    freed: Condvar,
}

impl Pool {
    /// An empty pool; a reaper thread closes idle workers past the idle
    /// timeout for as long as the pool lives.
    pub fn new(python: Python, config: HostConfig) -> Arc<Pool> {
        let pool = Arc::new(Pool {
            python,
            config,
            state: Mutex::new(State::default()),
            freed: Condvar::new(),
        });
        let weak = Arc::downgrade(&pool);
        let every =
            (pool.config.idle_timeout / 2).clamp(Duration::from_millis(50), Duration::from_secs(1));
        std::thread::spawn(move || reap(weak, every));
        pool
    }

    /// The interpreter.
    pub fn python(&self) -> &Python {
        &self.python
    }

    /// The settings.
    pub fn config(&self) -> &HostConfig {
        &self.config
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts.
    pub fn stats(&self) -> PoolStats {
        let st = self.lock();
        PoolStats {
            live: st.live,
            idle: st.keys.values().map(|k| k.idle.len()).sum(),
            daemons: st.keys.values().filter(|k| k.daemon.is_some()).count(),
        }
    }

    /// A worker for a task: an idle one of this key if one is usable, else a
    /// new one once the live count allows (queueing up to the queue timeout).
    pub fn acquire(&self, key: &EnvKey, task: TaskId) -> Result<Worker, TaskError> {
        let deadline = Instant::now() + self.config.queue_timeout;
        let mut discard = Vec::new();
        let mut st = self.lock();
        loop {
            discard.extend(expired(&mut st, self.config.idle_timeout));
            if let Some(k) = st.keys.get_mut(key) {
                if let Some(mut w) = k.idle.pop() {
                    if w.is_usable() {
                        drop(st);
                        drop(discard);
                        return Ok(w);
                    }
                    // "process from idle queue is dead, discarding"
                    st.live -= 1;
                    discard.push(w);
                    continue;
                }
            }
            if st.live < self.config.max_workers {
                st.live += 1;
                break;
            }
            // Make room by closing an idle worker of another environment.
            if let Some(w) = st.keys.values_mut().find_map(|k| k.idle.pop()) {
                discard.push(w);
                break;
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(TaskError::PoolExhausted {
                    task,
                    waited: self.config.queue_timeout,
                    max_workers: self.config.max_workers,
                });
            }
            st = self
                .freed
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        drop(st);
        drop(discard);
        self.launch(key).map_err(|source| {
            self.lock().live -= 1;
            self.freed.notify_one();
            TaskError::Launch {
                task,
                source: Box::new(source),
            }
        })
    }

    /// Starts a worker for `key` (its slot is already counted).
    fn launch(&self, key: &EnvKey) -> Result<Worker, LaunchError> {
        if self.config.mode == Mode::Simple {
            return start_simple(&self.python, &self.config, key);
        }
        let daemon = self.daemon(key, None)?;
        match daemon.connect() {
            Ok(conn) => Ok(Worker::forked(daemon, conn)),
            // "Assuming that daemon unexpectedly quit, attempting to restart"
            Err(LaunchError::Io { .. }) if !daemon.is_alive() => {
                let fresh = self.daemon(key, Some(&daemon))?;
                let conn = fresh.connect()?;
                Ok(Worker::forked(fresh, conn))
            }
            Err(e) => Err(e),
        }
    }

    /// Starts the daemon of `key` now (daemon mode), so that the first task
    /// does not wait for the interpreter and its imports.
    pub fn prestart(&self, key: &EnvKey) -> Result<(), LaunchError> {
        if self.config.mode == super::Mode::Daemon {
            self.daemon(key, None)?;
        }
        Ok(())
    }

    /// The running daemon of `key`, started if there is none or if the one
    /// there is `dead` (found dead by the caller). Nothing is stopped or
    /// started while the pool is locked: a daemon's stop can take seconds.
    fn daemon(&self, key: &EnvKey, dead: Option<&Arc<Daemon>>) -> Result<Arc<Daemon>, LaunchError> {
        let (discard, old) = {
            let mut st = self.lock();
            let k = st.keys.entry(key.clone()).or_default();
            match &k.daemon {
                Some(d) if d.is_alive() && !dead.is_some_and(|x| Arc::ptr_eq(x, d)) => {
                    return Ok(d.clone())
                }
                // Its idle workers die with it.
                _ => {
                    let idle = std::mem::take(&mut k.idle);
                    let old = k.daemon.take();
                    st.live -= idle.len();
                    (idle, old)
                }
            }
        };
        drop(discard);
        drop(old);
        let fresh = Daemon::start(&self.python, &self.config, key)?;
        let (chosen, spare) = {
            let mut st = self.lock();
            let k = st.keys.entry(key.clone()).or_default();
            match &k.daemon {
                // Another task started one meanwhile: use it; ours stops below.
                Some(d) if d.is_alive() => (d.clone(), Some(fresh)),
                _ => {
                    k.daemon = Some(fresh.clone());
                    (fresh, None)
                }
            }
        };
        drop(spare);
        Ok(chosen)
    }

    /// Takes a worker back after a task: kept idle when the task left it
    /// reusable (daemon mode with reuse on), closed otherwise.
    pub fn release(&self, mut worker: Worker, key: &EnvKey, reusable: bool) {
        let keep = reusable && self.config.mode == Mode::Daemon && self.config.reuse;
        let mut st = self.lock();
        if keep {
            worker.idle_since = Instant::now();
            st.keys.entry(key.clone()).or_default().idle.push(worker);
            drop(st);
        } else {
            st.live -= 1;
            drop(st);
            drop(worker);
        }
        self.freed.notify_one();
    }

    /// Closes every idle worker past the idle timeout.
    pub fn evict_idle(&self) {
        let gone = expired(&mut self.lock(), self.config.idle_timeout);
        if !gone.is_empty() {
            self.freed.notify_all();
        }
        drop(gone);
    }
}

/// Removes idle workers idle for longer than `timeout`, uncounting them;
/// the caller drops them outside the lock.
fn expired(st: &mut State, timeout: Duration) -> Vec<Worker> {
    let mut gone = Vec::new();
    for k in st.keys.values_mut() {
        let (old, keep): (Vec<Worker>, Vec<Worker>) = std::mem::take(&mut k.idle)
            .into_iter()
            .partition(|w| w.idle_since.elapsed() > timeout);
        k.idle = keep;
        gone.extend(old);
    }
    st.live -= gone.len();
    gone
}

fn reap(pool: Weak<Pool>, every: Duration) {
    loop {
        std::thread::sleep(every);
        match pool.upgrade() {
            Some(p) => p.evict_idle(),
            None => return,
        }
    }
}
