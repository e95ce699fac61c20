//! What every connection of a server shares: the JVM, the settings, the live
//! connections (for cancel and shutdown), the counters and the pooled
//! connections to Python's callback server.

use std::collections::HashMap;
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use bytes::BytesMut;

use super::config::ServerConfig;
use crate::jvm::jdk::py4j::GatewayServerObject;
use crate::jvm::Jvm;
use crate::py4j::Py4jDecoder;

/// Idle callback connections kept for reuse.
const CALLBACK_POOL: usize = 4;

/// An authenticated connection to Python's callback server.
pub(crate) struct CallbackConnection {
    pub(super) stream: TcpStream,
    pub(super) buf: BytesMut,
    pub(super) decoder: Py4jDecoder,
}

/// Statistics of a server's life so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Connections accepted.
    pub accepted: u64,
    /// Connections that authenticated.
    pub authenticated: u64,
    /// Connections refused for a wrong or missing token.
    pub auth_failures: u64,
    /// Connections closed for an undecodable stream.
    pub corrupt: u64,
    /// Connections open now.
    pub open: u64,
}

pub(super) struct Live {
    pub(super) stream: TcpStream,
    pub(super) peer: SocketAddr,
    pub(super) local: SocketAddr,
}

pub(crate) struct Shared {
    pub(super) jvm: Arc<Jvm>,
    pub(super) config: ServerConfig,
    pub(super) local_addr: SocketAddr,
    pub(super) gateway_object: Arc<GatewayServerObject>,
    pub(super) stopping: AtomicBool,
    pub(super) next_id: AtomicU64,
    pub(super) live: Mutex<HashMap<u64, Live>>,
    pub(super) stats: Mutex<Stats>,
    pub(super) stopped: Condvar,
    pub(super) callback_pool: Mutex<Vec<CallbackConnection>>,
    pub(super) last_error: Mutex<Option<String>>,
}

pub(super) fn relock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    /// Closes the connection whose peer port is `remote_port` and local port
    /// `local_port` (py4j's `z` cancel command).
    pub(super) fn cancel(&self, remote_port: i32, local_port: i32) {
        for l in relock(&self.live).values() {
            if i32::from(l.peer.port()) == remote_port && i32::from(l.local.port()) == local_port {
                let _ = l.stream.shutdown(Shutdown::Both);
            }
        }
    }

    pub(super) fn take_callback_connection(&self) -> Option<CallbackConnection> {
        relock(&self.callback_pool).pop()
    }

    pub(super) fn return_callback_connection(&self, c: CallbackConnection) {
        let mut pool = relock(&self.callback_pool);
        if pool.len() < CALLBACK_POOL {
            pool.push(c);
        }
    }

    pub(super) fn stop(&self) {
        if self.stopping.swap(true, Ordering::SeqCst) {
            return;
        }
        for l in relock(&self.live).values() {
            let _ = l.stream.shutdown(Shutdown::Both);
        }
        relock(&self.callback_pool).clear();
        // Wake the acceptor blocked in accept().
        let _ = TcpStream::connect(self.local_addr);
        // Under the lock `wait` checks `stopping` with: a waiter is then either
        // before its check (and sees the flag) or asleep (and is woken), never
        // between the two, where the notification would be lost.
        let _guard = relock(&self.stats);
        self.stopped.notify_all();
    }
}
