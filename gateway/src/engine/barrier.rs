//! Barrier stages (`rdd.barrier().mapPartitions(…)`): every task of the stage
//! runs at once, and `BarrierTaskContext.barrier()`/`allGather()` calls meet
//! here. Each task gets its own loopback server (port and secret in its
//! header); the worker opens one connection per call, sends the function
//! (`1` barrier, `2` allGather + its message) and reads `int32 n` and `n`
//! strings back once every task of the stage made the same call.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use sparkwire_framing::auth::{blocking::authenticate_client, Secret, Verdict};

/// What `barrier()` answers each task (`BARRIER_RESULT_SUCCESS`).
const SUCCESS: &str = "success";

#[derive(Default)]
struct Round {
    /// A task of the stage failed: nobody waits any more.
    aborted: bool,
    generation: u64,
    arrived: usize,
    messages: Vec<Option<String>>,
    results: HashMap<u64, Arc<Vec<String>>>,
}

/// The meeting point of one barrier stage's tasks.
pub struct BarrierGroup {
    tasks: usize,
    round: Mutex<Round>,
    all_here: Condvar,
}

impl BarrierGroup {
    /// A group of `tasks` tasks.
    pub fn new(tasks: usize) -> BarrierGroup {
        BarrierGroup {
            tasks,
            round: Mutex::new(Round {
                messages: vec![None; tasks],
                ..Round::default()
            }),
            all_here: Condvar::new(),
        }
    }

    /// Waits until every task called; everyone's messages by partition.
    fn meet(&self, partition: usize, message: String) -> Arc<Vec<String>> {
        let mut r = self.round.lock().unwrap_or_else(|p| p.into_inner());
        let generation = r.generation;
        if let Some(slot) = r.messages.get_mut(partition) {
            *slot = Some(message);
        }
        r.arrived += 1;
        if r.arrived >= self.tasks {
            let gathered: Vec<String> = r
                .messages
                .iter_mut()
                .map(|m| m.take().unwrap_or_default())
                .collect();
            r.results.insert(generation, Arc::new(gathered));
            r.results.retain(|g, _| *g + 2 > generation);
            r.generation += 1;
            r.arrived = 0;
            self.all_here.notify_all();
        }
        while r.generation == generation && !r.aborted {
            r = self.all_here.wait(r).unwrap_or_else(|p| p.into_inner());
        }
        r.results.get(&generation).cloned().unwrap_or_default()
    }

    /// A task failed: release every task waiting at a barrier (Spark kills
    /// the stage's other tasks; here they stop waiting and finish).
    pub fn abort(&self) {
        let mut r = self.round.lock().unwrap_or_else(|p| p.into_inner());
        r.aborted = true;
        self.all_here.notify_all();
    }
}

/// One task's barrier server; stops when dropped.
pub struct BarrierServer {
    /// Its port.
    pub port: u16,
    /// Its secret.
    pub secret: String,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl BarrierServer {
    /// Serves task `partition` of `group`.
    pub fn start(group: Arc<BarrierGroup>, partition: usize) -> std::io::Result<BarrierServer> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let secret = Secret::generate().map_err(|e| std::io::Error::other(e.to_string()))?;
        let text = secret.as_str().to_owned();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("barrier".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let _ = serve_call(stream, &secret, &group, partition);
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                            std::thread::sleep(Duration::from_millis(2));
                        }
                        Err(_) => return,
                    }
                }
            })?;
        Ok(BarrierServer {
            port,
            secret: text,
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for BarrierServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve_call(
    stream: std::net::TcpStream,
    secret: &Secret,
    group: &BarrierGroup,
    partition: usize,
) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    let mut s = stream;
    if let Verdict::Rejected(_) = authenticate_client(&mut s, secret)? {
        return Ok(());
    }
    let mut word = [0u8; 4];
    s.read_exact(&mut word)?;
    let results = match i32::from_be_bytes(word) {
        1 => {
            group.meet(partition, String::new());
            Arc::new(vec![SUCCESS.to_owned()])
        }
        2 => {
            s.read_exact(&mut word)?;
            let len = usize::try_from(i32::from_be_bytes(word)).map_err(std::io::Error::other)?;
            // A message is one task's string; 16 MiB is far beyond any sane one.
            if len > 16 << 20 {
                return Err(std::io::Error::other("allGather message too long"));
            }
            let mut msg = vec![0u8; len];
            s.read_exact(&mut msg)?;
            group.meet(partition, String::from_utf8_lossy(&msg).into_owned())
        }
        _ => return Ok(()),
    };
    let mut out = Vec::new();
    out.extend_from_slice(&(results.len() as i32).to_be_bytes());
    for r in results.iter() {
        out.extend_from_slice(&(r.len() as i32).to_be_bytes());
        out.extend_from_slice(r.as_bytes());
    }
    s.write_all(&out)
}
