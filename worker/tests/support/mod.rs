//! What the real-worker tests share: starting a real `pyspark.worker` the way
//! Spark's simple (non-daemon) mode does, and running its handshake through
//! the session and the blocking host adapter.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sparkwire_framing::Secret;
use sparkwire_testkit::oracle::python_for;
use sparkwire_worker::host::BlockingSession;
use sparkwire_worker::protocol::session::{Handshake, Session};
use sparkwire_worker::protocol::SparkVersion;

/// Bounds every wait for a worker, so a layout mistake fails instead of hanging.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// Where a worker's stderr goes: `sparkwire-worker-<tag>.log` in the temp dir.
pub fn worker_log(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("sparkwire-worker-{tag}.log"))
}

/// Starts a simple worker of pyspark `release` that connects back to a
/// loopback listener of ours; the session after its handshake, whose pid must
/// be the process we started. Its stderr goes to [`worker_log`]`(tag)`.
pub fn simple_worker(release: &str, tag: &str) -> (Child, BlockingSession<TcpStream>) {
    let v = SparkVersion::of_release(release).unwrap();
    let python = python_for(release).expect("venv");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let secret = Secret::generate().unwrap();
    let child = Command::new(python)
        .args(["-m", "pyspark.worker"])
        .env("PYTHON_WORKER_FACTORY_PORT", port.to_string())
        .env("PYTHON_WORKER_FACTORY_SECRET", secret.as_str())
        .env("SPARK_AUTH_SOCKET_TIMEOUT", "10")
        .env("PYTHONHASHSEED", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(worker_log(tag)).unwrap())
        .spawn()
        .unwrap();
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + TIMEOUT;
    let stream: TcpStream = loop {
        match listener.accept() {
            Ok((s, _)) => break s,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => panic!("{release}: the worker did not connect back: {e}"),
        }
    };
    stream.set_nonblocking(false).unwrap();
    let session = Session::new(v, Handshake::Simple(secret));
    let conn = BlockingSession::connect(stream, session, TIMEOUT).unwrap();
    assert_eq!(
        conn.pid() as u32,
        child.id(),
        "{release}: the pid it announced"
    );
    (child, conn)
}
