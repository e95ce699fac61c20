//! What a call into the object model can reach: the JVM state and, for
//! Python proxies, the way back to Python.

use super::Jvm;
use crate::py4j::{Reply, Value};

/// Why a callback into Python could not be made or answered.
#[derive(Debug, thiserror::Error)]
pub enum CallbackError {
    /// No way to reach Python from this call (no pinned connection, no
    /// callback server).
    #[error("no callback route to Python: {0}")]
    Unavailable(String),
    /// Reaching Python failed.
    #[error("callback connection: {0}")]
    Io(#[from] std::io::Error),
    /// Python's bytes were not a py4j reply.
    #[error("callback reply: {0}")]
    Protocol(String),
    /// Callbacks nested deeper than the limit (Python calling Java calling
    /// Python …).
    #[error("callbacks nested deeper than {0}")]
    TooDeep(u32),
}

/// The way from the JVM to Python objects (py4j's "Python proxies"): in
/// ClientServer mode the connection of the Python thread that is waiting for
/// this call (re-entrant commands on the same socket), in JavaGateway mode a
/// connection to Python's callback server.
pub trait Callbacks {
    /// Sends `c⏎<proxy>⏎<method>⏎<args>e⏎` and returns Python's reply line,
    /// serving any commands Python sends meanwhile.
    fn call_proxy(
        &mut self,
        jvm: &Jvm,
        proxy: &str,
        method: &str,
        args: &[Value],
    ) -> Result<Reply, CallbackError>;
}

/// For calls that can never reach Python (tests, in-process use).
#[derive(Debug, Default)]
pub struct NoCallbacks;

impl Callbacks for NoCallbacks {
    fn call_proxy(
        &mut self,
        _: &Jvm,
        proxy: &str,
        _: &str,
        _: &[Value],
    ) -> Result<Reply, CallbackError> {
        Err(CallbackError::Unavailable(format!("proxy {proxy}")))
    }
}

/// The context of one call: the JVM and the callback route of the connection
/// the call came on.
pub struct Cx<'a> {
    /// The JVM state.
    pub jvm: &'a Jvm,
    /// The route to Python.
    pub callbacks: &'a mut dyn Callbacks,
}

impl<'a> Cx<'a> {
    /// A context.
    pub fn new(jvm: &'a Jvm, callbacks: &'a mut dyn Callbacks) -> Cx<'a> {
        Cx { jvm, callbacks }
    }
}
