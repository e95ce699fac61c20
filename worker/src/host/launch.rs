//! Starting a simple worker as Spark's non-daemon mode does (spec §2.3): we
//! listen, start `python -m pyspark.worker` with where to connect back, and
//! run the handshake on the connection it makes.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};
use std::os::unix::net::UnixListener;
use std::process::Stdio;
use std::time::{Duration, Instant};

use sparkwire_framing::Secret;

use crate::protocol::session::{Handshake, Session};

use super::blocking::BlockingSession;
use super::config::HostConfig;
use super::env::{spawn, worker_env, Rendezvous};
use super::error::LaunchError;
use super::private_dir::PrivateDir;
use super::python::Python;
use super::stream::Socket;
use super::tail::Tail;
use super::worker::{Origin, Worker};

/// A listener for the worker to connect back to.
enum Listener {
    Tcp(TcpListener),
    Unix(UnixListener, PrivateDir),
}

impl Listener {
    fn accept(&self) -> std::io::Result<Socket> {
        match self {
            Listener::Tcp(l) => l.accept().map(|(s, _)| Socket::Tcp(s)),
            Listener::Unix(l, _) => l.accept().map(|(s, _)| Socket::Unix(s)),
        }
    }
}

/// Starts a simple worker and completes its handshake.
pub fn start_simple(
    python: &Python,
    config: &HostConfig,
    task_env: &[(String, String)],
) -> Result<Worker, LaunchError> {
    let io = |during| move |source| LaunchError::Io { during, source };
    let secret = Secret::generate().map_err(|e| LaunchError::Io {
        during: "generating a worker secret",
        source: std::io::Error::other(e.to_string()),
    })?;
    let listener = if config.unix_sockets {
        let dir = PrivateDir::new()?;
        let l = UnixListener::bind(dir.path().join("w.sock"))
            .map_err(io("listening on a Unix socket"))?;
        Listener::Unix(l, dir)
    } else {
        let ip: SocketAddr = if config.prefer_ipv6 {
            (Ipv6Addr::LOCALHOST, 0).into()
        } else {
            (Ipv4Addr::LOCALHOST, 0).into()
        };
        Listener::Tcp(TcpListener::bind(ip).map_err(io("listening on loopback"))?)
    };
    let sock_path;
    let (at, secret_env, handshake) = match &listener {
        Listener::Tcp(l) => (
            Rendezvous::Port(l.local_addr().map_err(io("reading our port"))?.port()),
            Some(secret.as_str()),
            Handshake::Simple(secret.clone()),
        ),
        Listener::Unix(_, dir) => {
            sock_path = dir.path().join("w.sock");
            // No secret: Python decides "Unix socket, no handshake" from a
            // socket path with no secret.
            (Rendezvous::SockPath(&sock_path), None, Handshake::Unix)
        }
    };
    let env = worker_env(python, config, secret_env, at, task_env);
    let mut child = spawn(python, config, env, Stdio::null())?;
    // Spark pumps both of the worker's outputs into its log; we keep their end.
    let output = Tail::default();
    if let Some(e) = child.stderr.take() {
        output.follow(e);
    }
    if let Some(o) = child.stdout.take() {
        output.follow(o);
    }
    let fail = |child: &mut std::process::Child, e: LaunchError| {
        let _ = child.kill();
        let _ = child.wait();
        Err(e)
    };
    let nonblocking = match &listener {
        Listener::Tcp(l) => l.set_nonblocking(true),
        Listener::Unix(l, _) => l.set_nonblocking(true),
    };
    if let Err(e) = nonblocking {
        return fail(&mut child, io("setting up the listener")(e));
    }
    let deadline = Instant::now() + config.connect_timeout;
    let socket = loop {
        match listener.accept() {
            Ok(s) => break s,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if let Ok(Some(status)) = child.try_wait() {
                    return Err(LaunchError::Exited {
                        what: "pyspark.worker",
                        during: "connecting back",
                        status: status.to_string(),
                        stderr: output.text(),
                    });
                }
                if Instant::now() >= deadline {
                    let stderr = output.text();
                    return fail(
                        &mut child,
                        LaunchError::Timeout {
                            what: "pyspark.worker",
                            during: "connect back",
                            waited: config.connect_timeout,
                            stderr,
                        },
                    );
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(e) => return fail(&mut child, io("accepting the worker")(e)),
        }
    };
    let blocking = match &socket {
        Socket::Tcp(s) => s.set_nonblocking(false),
        Socket::Unix(s) => s.set_nonblocking(false),
    };
    if let Err(e) = blocking {
        return fail(&mut child, io("setting up the worker's socket")(e));
    }
    let session = Session::new(python.spark, handshake);
    let conn = match BlockingSession::connect(socket, session, config.connect_timeout) {
        Ok(c) => c,
        Err(source) => {
            let stderr = output.text();
            return fail(&mut child, LaunchError::Handshake { source, stderr });
        }
    };
    let dir = match listener {
        Listener::Unix(_, dir) => Some(dir),
        Listener::Tcp(_) => None,
    };
    Ok(Worker {
        conn,
        origin: Origin::Simple {
            child,
            output,
            _dir: dir,
        },
        broadcasts: Default::default(),
        idle_since: Instant::now(),
        tasks: 0,
    })
}
