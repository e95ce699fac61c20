//! The py4j gateway server: a loopback listener that plays the JVM's
//! `GatewayServer`/`ClientServer` for real py4j clients, one thread per
//! connection, every command executed against one shared [`Jvm`].
//!
//! ```no_run
//! use std::sync::Arc;
//! use sparkwire_gateway::jvm::Jvm;
//! use sparkwire_gateway::py4j::server::{Server, ServerConfig};
//!
//! let server = Server::start(ServerConfig::new("secret"), Arc::new(Jvm::new()))?;
//! println!("PYSPARK_GATEWAY_PORT={}", server.port());
//! server.wait();
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! ## As py4j's Java side does
//! * Every connection authenticates first (`A⏎<token>⏎`); the token is compared
//!   in constant time, and a wrong token or another first command is answered
//!   with the JVM's exact `!xs…` line and the connection closed. A line that is
//!   no command at all, and the end of the stream between commands, get the
//!   JVM's fatal `!z` ("Unknown command received: …").
//! * One registry for all connections; `m d` of an unknown or released id is
//!   answered `!yv`.
//! * ClientServer mode sends callbacks down the connection of the Python thread
//!   that is waiting, and serves the commands Python sends meanwhile;
//!   JavaGateway mode opens (and pools) connections to Python's callback
//!   server, authenticated with `A⏎<token>⏎e⏎`.
//! * `s` shuts the server down; `z` closes another connection's socket.
//!
//! ## Deliberately different
//! * A refused connection is closed normally; the JVM resets it (RST).
//! * A malformed value inside a well-framed command is answered with a py4j
//!   error (`!xs`) and the connection goes on; in the JVM the parse error
//!   escapes the command and ends the connection with `!z`. Likewise an index
//!   out of range or an incompatible element in the `a` and `l` commands is a
//!   thrown Java exception here (`!xro…`), not the end of the connection.
//! * A connection has [`ServerConfig::auth_timeout`] to authenticate, and at
//!   most [`ServerConfig::max_connections`] are served; py4j has neither bound.
//! * `resetCallbackClient` keeps the auth token (py4j's Java side drops it, so
//!   an authenticated JavaGateway's callbacks fail after a reset).
//! * `m d` of the reserved ids (`j`, `t`, `GATEWAY_SERVER`) frees nothing; py4j
//!   means to skip them but compares the strings by reference.
//! * No `g` (proxy collected) messages are sent to Python: a proxy's Python
//!   object stays in py4j's pool until the client's gateway closes.

mod auth;
mod callback;
mod config;
mod connection;
mod shared;

use std::collections::HashMap;
use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

pub use auth::token_matches;
pub use config::{Mode, ServerConfig};

use crate::jvm::jdk::py4j::GatewayServerObject;
use crate::jvm::Jvm;
use connection::{Connection, End};
pub use shared::Stats;
use shared::{relock, Live, Shared};

/// A running gateway server.
pub struct Server {
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl Server {
    /// Binds the listener and starts accepting connections.
    ///
    /// Refuses a non-loopback address or callback address and an empty token.
    pub fn start(config: ServerConfig, jvm: Arc<Jvm>) -> io::Result<Server> {
        if !config.address.is_loopback() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "the gateway binds loopback addresses only, not {}",
                    config.address
                ),
            ));
        }
        if config.auth_token.is_empty() || config.auth_token.contains(['\n', '\r']) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the gateway needs a non-empty auth token without line breaks",
            ));
        }
        let gateway_object = Arc::new(GatewayServerObject::default());
        gateway_object
            .set_callback_address(config.callback_address)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("{e:?}")))?;
        jvm.registry()
            .bind("GATEWAY_SERVER", gateway_object.clone());
        let listener = TcpListener::bind((config.address, config.port))?;
        let local_addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            jvm,
            config,
            local_addr,
            gateway_object,
            stopping: AtomicBool::new(false),
            next_id: AtomicU64::new(0),
            live: Mutex::new(HashMap::new()),
            stats: Mutex::new(Stats::default()),
            stopped: Condvar::new(),
            callback_pool: Mutex::new(Vec::new()),
            last_error: Mutex::new(None),
        });
        let acceptor = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("py4j-accept".into())
                .spawn(move || accept_loop(listener, shared))?
        };
        Ok(Server {
            shared,
            acceptor: Some(acceptor),
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.local_addr
    }

    /// The bound port (`PYSPARK_GATEWAY_PORT`).
    pub fn port(&self) -> u16 {
        self.shared.local_addr.port()
    }

    /// The JVM the server executes commands against.
    pub fn jvm(&self) -> &Arc<Jvm> {
        &self.shared.jvm
    }

    /// Counters so far.
    pub fn stats(&self) -> Stats {
        *relock(&self.shared.stats)
    }

    /// Why the last connection that ended badly ended (a decoding error with
    /// its offset, a socket error, a refused token), for diagnostics.
    pub fn last_error(&self) -> Option<String> {
        relock(&self.shared.last_error).clone()
    }

    /// Whether the server is shutting down or stopped (`shutdown`, or a
    /// client's `s` command).
    pub fn is_stopped(&self) -> bool {
        self.shared.stopping.load(Ordering::SeqCst)
    }

    /// Blocks until the server stops (a client's `s` command or [`Server::shutdown`]
    /// from another thread through [`Server::handle`]).
    pub fn wait(&self) {
        let mut stats = relock(&self.shared.stats);
        while !self.shared.stopping.load(Ordering::SeqCst) {
            stats = self
                .shared
                .stopped
                .wait(stats)
                .unwrap_or_else(|p| p.into_inner());
        }
    }

    /// A handle that can stop the server from another thread.
    pub fn handle(&self) -> ServerHandle {
        ServerHandle(Arc::clone(&self.shared))
    }

    /// Stops accepting, closes every connection, and waits for the acceptor.
    /// Connection threads finish on their own once their socket is closed.
    pub fn shutdown(mut self) {
        self.shared.stop();
        if let Some(a) = self.acceptor.take() {
            let _ = a.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shared.stop();
        if let Some(a) = self.acceptor.take() {
            let _ = a.join();
        }
    }
}

/// Stops a [`Server`] from anywhere.
#[derive(Clone)]
pub struct ServerHandle(Arc<Shared>);

impl ServerHandle {
    /// Stops the server (idempotent).
    pub fn stop(&self) {
        self.0.stop();
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        relock(&shared.stats).accepted += 1;
        let open = relock(&shared.live).len();
        if open >= shared.config.max_connections {
            let _ = stream.shutdown(Shutdown::Both);
            continue;
        }
        let shared2 = Arc::clone(&shared);
        let spawned = std::thread::Builder::new()
            .name("py4j-conn".into())
            .spawn(move || serve_connection(stream, shared2));
        if spawned.is_err() {
            // Out of threads: the stream was moved into the failed closure and
            // is closed with it.
            continue;
        }
    }
}

fn serve_connection(stream: TcpStream, shared: Arc<Shared>) {
    let (Ok(peer), Ok(local), Ok(handle)) =
        (stream.peer_addr(), stream.local_addr(), stream.try_clone())
    else {
        return;
    };
    let _ = stream.set_nodelay(true);
    let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
    relock(&shared.live).insert(
        id,
        Live {
            stream: handle,
            peer,
            local,
        },
    );
    relock(&shared.stats).open += 1;
    let _ = stream.set_read_timeout(Some(shared.config.auth_timeout));
    let stream2 = stream.try_clone();
    let mut conn = Connection::new(stream, Arc::clone(&shared));
    let end = match conn.authenticate() {
        Ok(()) => {
            relock(&shared.stats).authenticated += 1;
            if let Ok(s) = &stream2 {
                let _ = s.set_read_timeout(None);
            }
            conn.serve()
        }
        Err(e) => e,
    };
    {
        let mut st = relock(&shared.stats);
        match end {
            End::AuthFailed => st.auth_failures += 1,
            End::Corrupt(_) => st.corrupt += 1,
            _ => {}
        }
        st.open -= 1;
    }
    let why = match &end {
        End::Closed | End::Shutdown => None,
        End::AuthFailed => Some(format!("{peer}: authentication failed")),
        End::Corrupt(e) => Some(format!("{peer}: {e}")),
        End::Io(e) => Some(format!("{peer}: {e}")),
    };
    if why.is_some() {
        *relock(&shared.last_error) = why;
    }
    if let Ok(s) = stream2 {
        let _ = s.shutdown(Shutdown::Both);
    }
    relock(&shared.live).remove(&id);
    if matches!(end, End::Shutdown) {
        shared.stop();
    }
}
