//! `tap`: a recording relay between the JVM and a real Python worker.
//!
//! Used as the executors' Python (`spark.pyspark.python`, through a one-line
//! wrapper script), it starts the real interpreter with the same arguments and
//! environment, except that a non-daemon worker (`-m pyspark.worker`, told where
//! to connect by `PYTHON_WORKER_FACTORY_PORT`) is pointed at a loopback port of
//! ours. We accept its connection, connect to the JVM's port, and copy bytes
//! both ways, writing each direction to `to_worker.N.bin` / `from_worker.N.bin`
//! in the capture directory as they pass. The copy is a blocking loop per
//! direction (256 KiB reads) with the capture file written by a thread of its
//! own, so the relay adds one extra hop.
//!
//! In daemon mode (`-m pyspark.daemon`) the real daemon's 4-byte port
//! announcement is replaced by ours; each JVM connection to our port is relayed
//! to the daemon's and recorded the same way, and the daemon's stdin (the JVM's
//! kill-by-pid requests) and stdout are relayed and recorded as
//! `daemon_stdin.bin` / `daemon_stdout.bin`.
//!
//! With Unix-domain sockets (`spark.python.unix.domain.socket.enabled`, 4.1+)
//! the same happens over a socket file of ours next to the JVM's or the
//! daemon's: `PYTHON_WORKER_FACTORY_SOCK_PATH` is replaced for a simple worker,
//! the daemon's announced path (`i32` length + path) for a daemon.
//!
//! A worker reads each broadcast's pickled value from a file the task header
//! names, which the executor deletes when the broadcast goes. So that a capture
//! holds everything the worker read, the capture writer of each JVM → worker
//! direction also feeds the bytes to [`watch::BroadcastWatch`] (a sans-I/O
//! reading of the task headers) and [`broadcasts::BroadcastRecorder`] copies
//! each file named into `broadcasts/<id>` of the capture directory, or writes
//! `broadcasts/<id>.missing` saying why it could not (see [`broadcasts`]). This
//! runs off the forwarding thread; when the headers cannot be read, tap notes
//! why in `tap.log` (and on stderr) and goes on relaying.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::thread;

use crate::host::Duplex;
use crate::protocol::daemon::Announcement;
use std::time::{Duration, Instant};

pub mod broadcasts;
pub mod watch;

use broadcasts::BroadcastRecorder;
use watch::Prelude;

/// How the relay was configured.
#[derive(Debug, Clone)]
pub struct TapConfig {
    /// The real Python interpreter.
    pub python: PathBuf,
    /// Where captures go.
    pub dir: PathBuf,
}

/// Runs the real Python with `args`, relaying and recording a worker
/// connection if there is one; returns its exit code.
pub fn run(config: &TapConfig, args: &[String]) -> io::Result<i32> {
    let relays = std::env::var_os("PYTHON_WORKER_FACTORY_SOCK_PATH").is_some()
        || std::env::var_os("PYTHON_WORKER_FACTORY_PORT").is_some()
        || args.iter().any(|a| a.contains("daemon"));
    if relays {
        prepare_capture_dir(&config.dir)?;
    }
    if let Some(jvm_path) = std::env::var_os("PYTHON_WORKER_FACTORY_SOCK_PATH") {
        return run_simple_unix(config, args, Path::new(&jvm_path));
    }
    let jvm_port = std::env::var("PYTHON_WORKER_FACTORY_PORT")
        .ok()
        .and_then(|p| p.parse::<u16>().ok());
    let Some(jvm_port) = jvm_port else {
        if args.iter().any(|a| a.contains("daemon")) {
            return run_daemon(config, args);
        }
        let status = Command::new(&config.python).args(args).status()?;
        return Ok(status.code().unwrap_or(1));
    };
    let listener = TcpListener::bind(("127.0.0.1", 0))?;
    let port = listener.local_addr()?.port();
    let mut child = Command::new(&config.python)
        .args(args)
        .env("PYTHON_WORKER_FACTORY_PORT", port.to_string())
        .spawn()?;
    listener.set_nonblocking(true)?;
    let worker = match accept_within(|| listener.accept().map(|(s, _)| s)) {
        Ok(s) => s,
        Err(e) => {
            let _ = child.kill();
            return Err(e);
        }
    };
    worker.set_nonblocking(false)?;
    let jvm = TcpStream::connect(("127.0.0.1", jvm_port))?;
    // The JVM answers the worker's secret with "ok".
    let (down, up) = relay_pair(jvm, worker, &config.dir, Prelude::Str)?;
    let status = child.wait()?;
    let _ = up.join();
    let _ = down.join();
    Ok(status.code().unwrap_or(1))
}

/// Makes sure the capture directory exists and takes files, before any
/// interpreter starts or any connection is accepted: a capture path that is a
/// file, or a directory that cannot be written, then fails here with the path
/// named, rather than as a worker connection reset mid-handshake.
pub fn prepare_capture_dir(dir: &Path) -> io::Result<()> {
    let named = |what: &str, e: io::Error| {
        io::Error::new(
            e.kind(),
            format!(
                "capture directory {} (SPARKWIRE_TAP_DIR): {what}: {e}",
                dir.display()
            ),
        )
    };
    if dir.exists() && !dir.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!(
                "capture directory {} (SPARKWIRE_TAP_DIR) is not a directory",
                dir.display()
            ),
        ));
    }
    std::fs::create_dir_all(dir).map_err(|e| named("cannot create it", e))?;
    let probe = dir.join(format!(".sparkwire-tap-probe-{}", std::process::id()));
    File::create(&probe).map_err(|e| named("cannot write into it", e))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// A socket file of ours beside `theirs` (a directory Spark made for them).
fn our_socket_path(theirs: &Path) -> PathBuf {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let dir = theirs.parent().unwrap_or(Path::new("."));
    let n = std::process::id();
    let k = NEXT.fetch_add(1, Ordering::Relaxed);
    dir.join(format!(".sparkwire-tap-{n}-{k}.sock"))
}

/// A simple worker told to connect to the JVM's Unix socket.
fn run_simple_unix(config: &TapConfig, args: &[String], jvm_path: &Path) -> io::Result<i32> {
    let ours = our_socket_path(jvm_path);
    let listener = UnixListener::bind(&ours)?;
    let mut child = Command::new(&config.python)
        .args(args)
        .env("PYTHON_WORKER_FACTORY_SOCK_PATH", &ours)
        .spawn()?;
    listener.set_nonblocking(true)?;
    let accepted = accept_within(|| listener.accept().map(|(s, _)| s));
    let _ = std::fs::remove_file(&ours);
    let worker = match accepted {
        Ok(s) => s,
        Err(e) => {
            let _ = child.kill();
            return Err(e);
        }
    };
    worker.set_nonblocking(false)?;
    let jvm = UnixStream::connect(jvm_path)?;
    let (down, up) = relay_pair(jvm, worker, &config.dir, Prelude::Nothing)?;
    let status = child.wait()?;
    let _ = up.join();
    let _ = down.join();
    Ok(status.code().unwrap_or(1))
}

/// Relays and records both directions between the JVM and a worker, and the
/// broadcasts the JVM's task headers add (`prelude`: what the JVM sends first).
#[allow(clippy::type_complexity)]
fn relay_pair<A: Duplex, B: Duplex>(
    jvm: A,
    worker: B,
    dir: &Path,
    prelude: Prelude,
) -> io::Result<(
    thread::JoinHandle<io::Result<u64>>,
    thread::JoinHandle<io::Result<u64>>,
)> {
    std::fs::create_dir_all(dir)?;
    let (n, to_worker, from_worker) = capture_files(dir)?;
    let recorder = BroadcastRecorder::new(dir, &format!("to_worker.{n}.bin"), prelude);
    let down = relay_to_worker(jvm.try_clone()?, worker.try_clone()?, to_worker, recorder);
    let up = relay(worker, jvm, from_worker);
    Ok((down, up))
}

/// Daemon mode: our listener stands in for the daemon's.
fn run_daemon(config: &TapConfig, args: &[String]) -> io::Result<i32> {
    std::fs::create_dir_all(&config.dir)?;
    let mut child = Command::new(&config.python)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut daemon_out = child
        .stdout
        .take()
        .ok_or_else(|| io::Error::other("no daemon stdout"))?;
    let daemon_in = child
        .stdin
        .take()
        .ok_or_else(|| io::Error::other("no daemon stdin"))?;
    let mut out_record = File::create(config.dir.join("daemon_stdout.bin"))?;
    let unix =
        std::env::var("PYTHON_UNIX_DOMAIN_ENABLED").is_ok_and(|v| v.eq_ignore_ascii_case("true"));
    // The announcement is a few bytes: read them one at a time until the
    // side-channel codec has all of it, so nothing after it is taken.
    let mut head = Vec::new();
    let announced = loop {
        match Announcement::decode(&head, unix).map_err(io::Error::other)? {
            Some((a, _)) => break a,
            None => {
                let mut b = [0u8; 1];
                daemon_out.read_exact(&mut b)?;
                head.push(b[0]);
            }
        }
    };
    out_record.write_all(&head)?;
    let mut stdout = io::stdout();
    let dir = config.dir.clone();
    let mut socket_file = None;
    match announced {
        Announcement::SocketPath(path) => {
            let theirs = PathBuf::from(path);
            let ours = our_socket_path(&theirs);
            let listener = UnixListener::bind(&ours)?;
            socket_file = Some(ours.clone());
            let name = ours.to_string_lossy().into_owned();
            stdout.write_all(&Announcement::SocketPath(name).encode())?;
            stdout.flush()?;
            thread::spawn(move || {
                for jvm in listener.incoming() {
                    let (Ok(jvm), Ok(daemon)) = (jvm, UnixStream::connect(&theirs)) else {
                        continue;
                    };
                    let _ = relay_pair(jvm, daemon, &dir, Prelude::Nothing);
                }
            });
        }
        Announcement::Port(daemon_port) => {
            let listener = TcpListener::bind(("127.0.0.1", 0))?;
            let ours = listener.local_addr()?.port();
            stdout.write_all(&Announcement::Port(ours).encode())?;
            stdout.flush()?;
            thread::spawn(move || {
                for jvm in listener.incoming() {
                    let (Ok(jvm), Ok(daemon)) =
                        (jvm, TcpStream::connect(("127.0.0.1", daemon_port)))
                    else {
                        continue;
                    };
                    // The JVM authenticates to the forked worker with the secret.
                    let _ = relay_pair(jvm, daemon, &dir, Prelude::Str);
                }
            });
        }
    }
    // The rest of the daemon's stdout (normally nothing) and the JVM's requests
    // on its stdin (pids to kill; EOF to shut down) pass through, recorded.
    thread::spawn(move || pump(daemon_out, io::stdout(), out_record));
    let in_record = File::create(config.dir.join("daemon_stdin.bin"))?;
    thread::spawn(move || pump(io::stdin(), daemon_in, in_record));
    let status = child.wait()?;
    if let Some(f) = socket_file {
        let _ = std::fs::remove_file(f);
    }
    // Relays are detached threads: let broadcast copies under way complete.
    broadcasts::wait_for_copies(Duration::from_secs(10));
    Ok(status.code().unwrap_or(1))
}

/// Copies a pipe, recording what passes, until it ends.
fn pump(mut from: impl Read, mut to: impl Write, mut record: File) -> io::Result<()> {
    let mut buf = [0u8; 4096];
    loop {
        let n = from.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        record.write_all(&buf[..n])?;
        to.write_all(&buf[..n])?;
        to.flush()?;
    }
}

/// Polls a non-blocking `accept` for up to a minute: a worker that never
/// connects must not hang the executor.
fn accept_within<S>(mut accept: impl FnMut() -> io::Result<S>) -> io::Result<S> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match accept() {
            Ok(s) => return Ok(s),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && Instant::now() < deadline => {
                thread::sleep(Duration::from_millis(5));
            }
            Err(e) => return Err(e),
        }
    }
}

/// `to_worker.N.bin` and `from_worker.N.bin` for the first N not yet taken
/// (several relays record into one directory at once), and N.
fn capture_files(dir: &Path) -> io::Result<(u32, File, File)> {
    for n in 0..100_000u32 {
        let to = dir.join(format!("to_worker.{n}.bin"));
        match OpenOptions::new().write(true).create_new(true).open(&to) {
            Ok(f) => {
                let from = File::create(dir.join(format!("from_worker.{n}.bin")))?;
                return Ok((n, f, from));
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other("no free capture index"))
}

/// Relay buffer size: large reads keep syscalls per byte low.
const RELAY_BUFFER: usize = 256 * 1024;
/// Buffers queued for the capture writer; bounds the relay's memory.
const RELAY_QUEUE: usize = 4;

/// Copies `from` → `to`, recording into `file`, until `from` ends; then passes
/// the end on. The capture file is written by a second thread, so forwarding
/// never waits on the disk (at most `RELAY_QUEUE` buffers wait for it).
pub fn relay<A: Duplex, B: Duplex>(
    from: A,
    to: B,
    file: File,
) -> thread::JoinHandle<io::Result<u64>> {
    relay_recording(from, to, file, None)
}

/// [`relay`] for the JVM → worker direction: the capture writer also shows
/// every byte to `broadcasts`, which copies the broadcast files the task
/// headers name (on threads other than the forwarding one).
pub fn relay_to_worker<A: Duplex, B: Duplex>(
    from: A,
    to: B,
    file: File,
    broadcasts: BroadcastRecorder,
) -> thread::JoinHandle<io::Result<u64>> {
    relay_recording(from, to, file, Some(broadcasts))
}

fn relay_recording<A: Duplex, B: Duplex>(
    mut from: A,
    mut to: B,
    mut file: File,
    mut broadcasts: Option<BroadcastRecorder>,
) -> thread::JoinHandle<io::Result<u64>> {
    thread::spawn(move || {
        let (full_tx, full_rx) = mpsc::sync_channel::<(Vec<u8>, usize)>(RELAY_QUEUE);
        let (empty_tx, empty_rx) = mpsc::channel::<Vec<u8>>();
        let writer = thread::spawn(move || -> io::Result<()> {
            let written = (|| {
                for (buf, n) in full_rx {
                    file.write_all(&buf[..n])?;
                    if let Some(b) = broadcasts.as_mut() {
                        b.observe(&buf[..n]);
                    }
                    let _ = empty_tx.send(buf);
                }
                file.flush()
            })();
            if let Some(b) = broadcasts {
                b.finish();
            }
            written
        });
        let mut total = 0u64;
        loop {
            let mut buf = empty_rx
                .try_recv()
                .unwrap_or_else(|_| vec![0u8; RELAY_BUFFER]);
            let n = match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let forwarded = to.write_all(&buf[..n]);
            // The writer only stops on a write error, reported below.
            if full_tx.send((buf, n)).is_err() || forwarded.is_err() {
                break;
            }
            total += n as u64;
        }
        drop(full_tx);
        to.shutdown_write();
        writer
            .join()
            .map_err(|_| io::Error::other("the capture writer panicked"))??;
        Ok(total)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Relays 3 MiB of varied bytes over loopback (more than the writer's queue
    /// holds): the far end and the capture file both get every byte, in order,
    /// and the far end sees the close.
    #[test]
    fn relay_forwards_and_records_every_byte() {
        let data: Vec<u8> = (0..3 << 20).map(|i: u32| (i * 7 % 251) as u8).collect();
        let far = TcpListener::bind("127.0.0.1:0").unwrap();
        let front = TcpListener::bind("127.0.0.1:0").unwrap();
        let (far_port, front_port) = (
            far.local_addr().unwrap().port(),
            front.local_addr().unwrap().port(),
        );
        let reader = thread::spawn(move || {
            let (mut s, _) = far.accept().unwrap();
            let mut got = Vec::new();
            s.read_to_end(&mut got).unwrap();
            got
        });
        let sender = {
            let data = data.clone();
            thread::spawn(move || {
                let mut s = TcpStream::connect(("127.0.0.1", front_port)).unwrap();
                s.write_all(&data).unwrap();
            })
        };
        let (jvm, _) = front.accept().unwrap();
        let worker = TcpStream::connect(("127.0.0.1", far_port)).unwrap();
        let path =
            std::env::temp_dir().join(format!("sparkwire-relay-test-{}", std::process::id()));
        let file = File::create(&path).unwrap();
        let total = relay(jvm, worker, file).join().unwrap().unwrap();
        sender.join().unwrap();
        assert_eq!(total, data.len() as u64);
        assert!(reader.join().unwrap() == data, "forwarded bytes differ");
        let recorded = std::fs::read(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        assert!(recorded == data, "recorded bytes differ");
    }
}
