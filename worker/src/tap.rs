//! `tap`: a recording relay between the JVM and a real Python worker.
//!
//! Used as the executors' Python (`spark.pyspark.python`, through a one-line
//! wrapper script), it starts the real interpreter with the same arguments and
//! environment, except that a non-daemon worker (`-m pyspark.worker`, told where
//! to connect by `PYTHON_WORKER_FACTORY_PORT`) is pointed at a loopback port of
//! ours. We accept its connection, connect to the JVM's port, and copy bytes
//! both ways, writing each direction to `to_worker.N.bin` / `from_worker.N.bin`
//! in the capture directory as they pass. The copy is a plain blocking loop per
//! direction (64 KiB reads), so the relay adds one extra hop and a file write.
//!
//! In daemon mode (`-m pyspark.daemon`) the real daemon's 4-byte port
//! announcement is replaced by ours; each JVM connection to our port is relayed
//! to the daemon's and recorded the same way, and the daemon's stdin (the JVM's
//! kill-by-pid requests) and stdout are relayed and recorded as
//! `daemon_stdin.bin` / `daemon_stdout.bin`. (4.3's Unix-socket daemons are
//! passed through unrecorded.)

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

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
    let jvm_port = std::env::var("PYTHON_WORKER_FACTORY_PORT")
        .ok()
        .and_then(|p| p.parse::<u16>().ok());
    let Some(jvm_port) = jvm_port else {
        let daemon = args.iter().any(|a| a.contains("daemon"));
        let uds = std::env::var("PYTHON_UNIX_DOMAIN_ENABLED")
            .is_ok_and(|v| v.eq_ignore_ascii_case("true"));
        if daemon && !uds {
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
    let worker = match accept_within(&listener, Duration::from_secs(60)) {
        Ok(s) => s,
        Err(e) => {
            let _ = child.kill();
            return Err(e);
        }
    };
    let jvm = TcpStream::connect(("127.0.0.1", jvm_port))?;
    std::fs::create_dir_all(&config.dir)?;
    let (to_worker, from_worker) = capture_files(&config.dir)?;
    let down = relay(jvm.try_clone()?, worker.try_clone()?, to_worker);
    let up = relay(worker, jvm, from_worker);
    let status = child.wait()?;
    let _ = up.join();
    let _ = down.join();
    Ok(status.code().unwrap_or(1))
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
    let mut port = [0u8; 4];
    daemon_out.read_exact(&mut port)?;
    out_record.write_all(&port)?;
    let daemon_port = u16::try_from(i32::from_be_bytes(port))
        .map_err(|_| io::Error::other("the daemon did not announce a TCP port"))?;
    let listener = TcpListener::bind(("127.0.0.1", 0))?;
    let ours = i32::from(listener.local_addr()?.port());
    let mut stdout = io::stdout();
    stdout.write_all(&ours.to_be_bytes())?;
    stdout.flush()?;
    // The rest of the daemon's stdout (normally nothing) and the JVM's requests
    // on its stdin (pids to kill; EOF to shut down) pass through, recorded.
    thread::spawn(move || pump(daemon_out, io::stdout(), out_record));
    let in_record = File::create(config.dir.join("daemon_stdin.bin"))?;
    thread::spawn(move || pump(io::stdin(), daemon_in, in_record));
    let dir = config.dir.clone();
    thread::spawn(move || {
        for jvm in listener.incoming() {
            let Ok(jvm) = jvm else { continue };
            let Ok(daemon) = TcpStream::connect(("127.0.0.1", daemon_port)) else {
                continue;
            };
            let Ok((to_worker, from_worker)) = capture_files(&dir) else {
                continue;
            };
            if let (Ok(j2), Ok(d2)) = (jvm.try_clone(), daemon.try_clone()) {
                relay(j2, daemon, to_worker);
                relay(d2, jvm, from_worker);
            }
        }
    });
    let status = child.wait()?;
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

fn accept_within(listener: &TcpListener, limit: Duration) -> io::Result<TcpStream> {
    listener.set_nonblocking(true)?;
    let deadline = Instant::now() + limit;
    loop {
        match listener.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(false)?;
                return Ok(s);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && Instant::now() < deadline => {
                thread::sleep(Duration::from_millis(5));
            }
            Err(e) => return Err(e),
        }
    }
}

/// `to_worker.N.bin` and `from_worker.N.bin` for the first N not yet taken
/// (several relays record into one directory at once).
fn capture_files(dir: &Path) -> io::Result<(File, File)> {
    for n in 0..100_000u32 {
        let to = dir.join(format!("to_worker.{n}.bin"));
        match OpenOptions::new().write(true).create_new(true).open(&to) {
            Ok(f) => {
                let from = File::create(dir.join(format!("from_worker.{n}.bin")))?;
                return Ok((f, from));
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
pub fn relay(
    mut from: TcpStream,
    mut to: TcpStream,
    mut file: File,
) -> thread::JoinHandle<io::Result<u64>> {
    thread::spawn(move || {
        let (full_tx, full_rx) = mpsc::sync_channel::<(Vec<u8>, usize)>(RELAY_QUEUE);
        let (empty_tx, empty_rx) = mpsc::channel::<Vec<u8>>();
        let writer = thread::spawn(move || -> io::Result<()> {
            for (buf, n) in full_rx {
                file.write_all(&buf[..n])?;
                let _ = empty_tx.send(buf);
            }
            file.flush()
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
        let _ = to.shutdown(Shutdown::Write);
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
