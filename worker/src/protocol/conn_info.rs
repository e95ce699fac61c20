//! Where a helper server (barrier, broadcast decryption, state server) listens:
//! shared by the task header and the commands, so it lives below both.

/// Where a helper server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnInfo {
    /// A loopback TCP port (0 or −1 when there is none).
    Port(i32),
    /// A Unix-domain socket path (4.1+, sent as port −1 then the path).
    Path(String),
}
