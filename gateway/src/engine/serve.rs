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
