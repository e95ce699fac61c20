//! Serve-to-socket: how `collectAndServe`, `runJob` and friends hand results
//! to Python. A loopback listener with a fresh secret, one connection within
//! the timeout, the `SocketAuthHelper` handshake, then `int32 len + bytes`
//! frames until the server closes.

use std::io::{BufWriter, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use bytes::Bytes;
use sparkwire_framing::auth::{blocking::authenticate_client, Secret, Verdict};

/// How long Python has to connect (`spark.python.authenticate.socketTimeout`).
const ACCEPT_TIMEOUT: Duration = Duration::from_secs(15);

/// A started server: what Python is told.
#[derive(Debug, Clone)]
pub struct Served {
    /// The port.
    pub port: u16,
    /// The secret to send first.
    pub secret: String,
}

/// Starts a server that sends `payloads` to the first client that
/// authenticates, then closes.
pub fn serve(payloads: Vec<Bytes>) -> std::io::Result<Served> {
    let listener = TcpListener::bind(("127.0.0.1", 0))?;
    let port = listener.local_addr()?.port();
    let secret = Secret::generate().map_err(|e| std::io::Error::other(e.to_string()))?;
    let text = secret.as_str().to_owned();
    listener.set_nonblocking(true)?;
    std::thread::Builder::new()
        .name("serve-to-socket".into())
        .spawn(move || {
            let deadline = Instant::now() + ACCEPT_TIMEOUT;
            while Instant::now() < deadline {
                match listener.accept() {
                    Ok((stream, _)) => {
                        if send(stream, &secret, &payloads).unwrap_or(false) {
                            return;
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(2));
                    }
                    Err(_) => return,
                }
            }
        })?;
    Ok(Served { port, secret: text })
}

/// Authenticates and writes; `Ok(true)` when the client got the data.
fn send(stream: TcpStream, secret: &Secret, payloads: &[Bytes]) -> std::io::Result<bool> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(ACCEPT_TIMEOUT))?;
    stream.set_nodelay(true)?;
    let mut s = stream;
    if let Verdict::Rejected(_) = authenticate_client(&mut s, secret)? {
        return Ok(false);
    }
    let mut w = BufWriter::with_capacity(64 * 1024, &s);
    for p in payloads {
        w.write_all(&(p.len() as i32).to_be_bytes())?;
        w.write_all(p)?;
    }
    w.flush()?;
    drop(w);
    let _ = s.shutdown(std::net::Shutdown::Write);
    Ok(true)
}

/// How a partition-by-partition server went.
pub type Outcome<E> = std::sync::Arc<std::sync::Mutex<Option<E>>>;

/// `toLocalIteratorAndServe`: after the handshake, the client asks with an
/// `int32` (non-zero: the next partition, 0: stop); the server answers `1`,
/// the partition's frames and `END_OF_DATA_SECTION`, or `0` when none is left,
/// or `-1` when computing it failed (the error is kept in the returned
/// outcome, which the driver reads through `getResult`). Each partition is
/// computed only when asked for.
pub fn serve_partitions<E: Send + 'static>(
    partitions: usize,
    compute: impl Fn(usize) -> Result<Vec<Bytes>, E> + Send + 'static,
) -> std::io::Result<(Served, Outcome<E>)> {
    use std::io::Read;
    let listener = TcpListener::bind(("127.0.0.1", 0))?;
    let port = listener.local_addr()?.port();
    let secret = Secret::generate().map_err(|e| std::io::Error::other(e.to_string()))?;
    let text = secret.as_str().to_owned();
    let outcome: Outcome<E> = Default::default();
    let result = outcome.clone();
    listener.set_nonblocking(true)?;
    std::thread::Builder::new()
        .name("serve-partitions".into())
        .spawn(move || {
            let deadline = Instant::now() + ACCEPT_TIMEOUT;
            let stream = loop {
                if Instant::now() >= deadline {
                    return;
                }
                match listener.accept() {
                    Ok((s, _)) => break s,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(2));
                    }
                    Err(_) => return,
                }
            };
            let run = || -> std::io::Result<()> {
                stream.set_nonblocking(false)?;
                stream.set_nodelay(true)?;
                let mut s = stream;
                if let Verdict::Rejected(_) = authenticate_client(&mut s, &secret)? {
                    return Ok(());
                }
                // The driver may hold the iterator for as long as it likes.
                s.set_read_timeout(None)?;
                let mut next = 0;
                loop {
                    let mut req = [0u8; 4];
                    if s.read_exact(&mut req).is_err() || i32::from_be_bytes(req) == 0 {
                        return Ok(());
                    }
                    if next >= partitions {
                        s.write_all(&0i32.to_be_bytes())?;
                        return Ok(());
                    }
                    match compute(next) {
                        Ok(payloads) => {
                            let mut w = BufWriter::with_capacity(64 * 1024, &s);
                            w.write_all(&1i32.to_be_bytes())?;
                            for p in &payloads {
                                w.write_all(&(p.len() as i32).to_be_bytes())?;
                                w.write_all(p)?;
                            }
                            w.write_all(&(-1i32).to_be_bytes())?;
                            w.flush()?;
                        }
                        Err(e) => {
                            *result.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                            s.write_all(&(-1i32).to_be_bytes())?;
                            return Ok(());
                        }
                    }
                    next += 1;
                }
            };
            let _ = run();
        })?;
    Ok((Served { port, secret: text }, outcome))
}
