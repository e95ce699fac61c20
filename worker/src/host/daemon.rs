//! A running `pyspark.daemon`: started once per (python, environment) key,
//! it announces where it listens on stdout, forks a worker for every
//! connection, kills a worker whose pid is written to its stdin, and shuts its
//! whole process group down when its stdin closes (spec §2.4).

use std::io::{Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sparkwire_framing::Secret;

use crate::protocol::daemon::{kill_request, Announcement};
use crate::protocol::session::{Handshake, Session};

use super::blocking::BlockingSession;
use super::config::HostConfig;
use super::env::{spawn, worker_env, Rendezvous};
use super::error::LaunchError;
use super::private_dir::PrivateDir;
use super::python::Python;
use super::stream::Socket;
use super::tail::Tail;

/// How long the daemon is given to exit after its stdin closes.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// Where the daemon listens.
#[derive(Debug, Clone)]
enum Listening {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

/// A daemon process of ours.
pub struct Daemon {
    child: Mutex<Child>,
    stdin: Mutex<Option<ChildStdin>>,
    at: Listening,
    secret: Secret,
    output: Tail,
    python: Python,
    connect_timeout: Duration,
    _dir: Option<PrivateDir>,
}

impl Daemon {
    /// Starts a daemon and waits (bounded) for its announcement.
    pub fn start(
        python: &Python,
        config: &HostConfig,
        task_env: &[(String, String)],
    ) -> Result<Arc<Daemon>, LaunchError> {
        let secret = Secret::generate().map_err(|e| LaunchError::Io {
            during: "generating the daemon's secret",
            source: std::io::Error::other(e.to_string()),
        })?;
        let dir = if config.unix_sockets {
            Some(PrivateDir::new()?)
        } else {
            None
        };
        let at = match &dir {
            Some(d) => Rendezvous::DaemonSockDir(d.path()),
            None => Rendezvous::DaemonTcp,
        };
        // Spark sets the secret for Unix-socket daemons too; their workers skip
        // the handshake.
        let env = worker_env(python, config, Some(secret.as_str()), at, task_env);
        let mut child = spawn(python, config, env, Stdio::piped())?;
        let output = Tail::default();
        if let Some(e) = child.stderr.take() {
            output.follow(e);
        }
        let stdout = child.stdout.take();
        let stdin = child.stdin.take();
        let unix = dir.is_some();
        let (tx, rx) = mpsc::channel();
        let rest = output.clone();
        // The announcement comes first on stdout; whatever follows goes to
        // the output tail, as Spark pumps the daemon's stdout into its log.
        std::thread::spawn(move || {
            let Some(mut stdout) = stdout else { return };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let mut announced = false;
            loop {
                let n = match stdout.read(&mut chunk) {
                    Ok(0) | Err(_) => {
                        if !announced {
                            let _ = tx.send(Err(format!(
                                "stdout ended after {} bytes, before a complete announcement",
                                buf.len()
                            )));
                        }
                        return;
                    }
                    Ok(n) => n,
                };
                if announced {
                    rest.push(&chunk[..n]);
                    continue;
                }
                buf.extend_from_slice(&chunk[..n]);
                match Announcement::decode(&buf, unix) {
                    Ok(None) => {}
                    Ok(Some((a, used))) => {
                        announced = true;
                        rest.push(&buf[used..]);
                        let _ = tx.send(Ok(a));
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e.to_string()));
                        rest.push(&buf);
                        announced = true;
                    }
                }
            }
        });
        let deadline = Instant::now() + config.connect_timeout;
        let announcement = loop {
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(Ok(a)) => break a,
                Ok(Err(problem)) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(LaunchError::BadAnnouncement {
                        problem,
                        stderr: output.text(),
                    });
                }
                Err(_) => {
                    if let Ok(Some(status)) = child.try_wait() {
                        return Err(LaunchError::Exited {
                            what: "pyspark.daemon",
                            during: "announcing where it listens",
                            status: status.to_string(),
                            stderr: output.text(),
                        });
                    }
                    if Instant::now() >= deadline {
                        let _ = child.kill();
                        let _ = child.wait();
                        return Err(LaunchError::Timeout {
                            what: "pyspark.daemon",
                            during: "announce where it listens",
                            waited: config.connect_timeout,
                            stderr: output.text(),
                        });
                    }
                }
            }
        };
        let at = match announcement {
            Announcement::Port(p) if config.prefer_ipv6 => {
                Listening::Tcp(SocketAddr::from((Ipv6Addr::LOCALHOST, p)))
            }
            Announcement::Port(p) => Listening::Tcp(SocketAddr::from((Ipv4Addr::LOCALHOST, p))),
            Announcement::SocketPath(p) => Listening::Unix(PathBuf::from(p)),
        };
        Ok(Arc::new(Daemon {
            child: Mutex::new(child),
            stdin: Mutex::new(stdin),
            at,
            secret,
            output,
            python: python.clone(),
            connect_timeout: config.connect_timeout,
            _dir: dir,
        }))
    }

    /// Connects, which makes the daemon fork a worker, and runs the handshake
    /// (pid, then our secret, unless on a Unix socket): the forked worker's
    /// connection.
    pub fn connect(&self) -> Result<BlockingSession<Socket>, LaunchError> {
        let io = |during| move |source| LaunchError::Io { during, source };
        let (socket, handshake) = match &self.at {
            Listening::Tcp(addr) => (
                Socket::Tcp(
                    TcpStream::connect_timeout(addr, self.connect_timeout)
                        .map_err(io("connecting to pyspark.daemon"))?,
                ),
                Handshake::Daemon(self.secret.clone()),
            ),
            Listening::Unix(path) => (
                Socket::Unix(
                    UnixStream::connect(path).map_err(io("connecting to pyspark.daemon"))?,
                ),
                Handshake::Unix,
            ),
        };
        let session = Session::new(self.python.spark, handshake);
        BlockingSession::connect(socket, session, self.connect_timeout).map_err(|source| {
            LaunchError::Handshake {
                source,
                stderr: self.output(),
            }
        })
    }

    /// Asks the daemon to SIGKILL one of its workers.
    pub fn kill_worker(&self, pid: i32) -> std::io::Result<()> {
        let mut stdin = self.stdin.lock().unwrap_or_else(|p| p.into_inner());
        match stdin.as_mut() {
            Some(s) => {
                s.write_all(&kill_request(pid))?;
                s.flush()
            }
            None => Err(std::io::ErrorKind::BrokenPipe.into()),
        }
    }

    /// Whether the daemon process is still running.
    pub fn is_alive(&self) -> bool {
        let mut child = self.child.lock().unwrap_or_else(|p| p.into_inner());
        matches!(child.try_wait(), Ok(None))
    }

    /// The daemon's pid.
    pub fn pid(&self) -> u32 {
        self.child.lock().unwrap_or_else(|p| p.into_inner()).id()
    }

    /// The end of what the daemon and its workers wrote on stderr (and on
    /// stdout after the announcement).
    pub fn output(&self) -> String {
        self.output.text()
    }

    /// Closes its stdin, which shuts it and its workers down; kills it if it
    /// does not exit within a few seconds.
    pub fn stop(&self) {
        self.stdin.lock().unwrap_or_else(|p| p.into_inner()).take();
        let mut child = self.child.lock().unwrap_or_else(|p| p.into_inner());
        let deadline = Instant::now() + STOP_GRACE;
        while matches!(child.try_wait(), Ok(None)) {
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop();
    }
}
