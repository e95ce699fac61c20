//! How a gateway server is set up.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use crate::jvm::jdk::py4j::DEFAULT_CALLBACK_PORT;
use crate::py4j::Limits;

/// Which py4j server PySpark's `PYSPARK_PIN_THREAD` selects. Commands and
/// replies are the same bytes in both; the modes differ in where the JVM sends
/// calls to Python objects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `ClientServer` (PySpark's default): one connection per Python thread;
    /// a callback goes down the connection of the Python thread that is waiting
    /// for the call that triggered it.
    ClientServer,
    /// Classic `GatewayServer`: Python pools connections; callbacks go to
    /// Python's callback server on a connection of their own.
    JavaGateway,
}

/// Server settings. Only loopback addresses are accepted, for binding and for
/// callbacks.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// The token every connection must send first (`A⏎<token>⏎`). Required:
    /// PySpark always uses one, and a gateway without one runs arbitrary calls
    /// for anyone on the machine.
    pub auth_token: String,
    /// The wire mode.
    pub mode: Mode,
    /// Address to bind; must be loopback (`127.0.0.1` by default, as py4j).
    pub address: IpAddr,
    /// Port; 0 for an ephemeral one (what Spark uses).
    pub port: u16,
    /// Decoder limits per connection.
    pub limits: Limits,
    /// Connections served at once; more are closed at once. py4j has no bound;
    /// each connection costs one thread here.
    pub max_connections: usize,
    /// How long a new connection may take to authenticate before it is closed
    /// (py4j waits forever; an idle unauthenticated socket should not hold a
    /// thread).
    pub auth_timeout: Duration,
    /// Python's callback server, for [`Mode::JavaGateway`] (py4j's default
    /// `127.0.0.1:25334`; a client may change it with `resetCallbackClient`).
    pub callback_address: SocketAddr,
    /// How deep Python → Java → Python call chains may nest on one connection.
    pub max_callback_depth: u32,
    /// Whether the `s` command may shut the server down (py4j allows it).
    pub allow_shutdown: bool,
}

impl ServerConfig {
    /// Defaults with this token.
    pub fn new(auth_token: impl Into<String>) -> ServerConfig {
        ServerConfig {
            auth_token: auth_token.into(),
            mode: Mode::ClientServer,
            address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            limits: Limits::default(),
            max_connections: 1024,
            auth_timeout: Duration::from_secs(30),
            callback_address: SocketAddr::new(
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                DEFAULT_CALLBACK_PORT,
            ),
            max_callback_depth: 64,
            allow_shutdown: true,
        }
    }

    /// The same settings in another mode.
    pub fn mode(mut self, mode: Mode) -> ServerConfig {
        self.mode = mode;
        self
    }
}
