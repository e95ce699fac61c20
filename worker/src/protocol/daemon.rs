//! `pyspark.daemon`'s side channel (spec §2.3): what the daemon announces on its
//! stdout when it starts, and the kill-by-pid requests the JVM writes to its
//! stdin. Used by `tap` (which replaces the announcement with its own), by the
//! capture decoder, and by a host that starts daemons.
//!
//! Each worker connection to the daemon then opens with the forked worker's pid
//! (or, when the fork failed, an errno in its place); that part is the
//! [`Session`](super::session::Session)'s.

use sparkwire_framing::i32_at;
use thiserror::Error;

/// Longest Unix-socket path accepted in an announcement: `sun_path` holds 108
/// bytes on Linux and 104 on the BSDs, so anything longer cannot be a socket the
/// daemon bound; the margin keeps unusual platforms working.
pub const MAX_SOCKET_PATH: usize = 4096;

/// Where the daemon listens, as it announced it on its stdout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Announcement {
    /// `i32 port` of its loopback TCP listener.
    Port(u16),
    /// `i32 length` + UTF-8 path of its Unix-domain socket (4.1+, when
    /// `spark.python.unix.domain.socket.enabled`).
    SocketPath(String),
}

/// Why an announcement could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AnnouncementError {
    /// A TCP daemon announced a number that is not a port.
    #[error("daemon stdout byte 0: announced port {0} is not in 1..=65535")]
    BadPort(i32),
    /// A Unix-socket daemon announced a length that no socket path has.
    #[error(
        "daemon stdout byte 0: announced socket path length {0} is not in 1..={MAX_SOCKET_PATH}"
    )]
    BadPathLength(i32),
    /// The path is not UTF-8 (the daemon writes `str.encode("utf-8")`).
    #[error("daemon stdout byte 4: the socket path is not UTF-8")]
    PathNotUtf8,
}

impl Announcement {
    /// Reads the announcement from the start of the daemon's stdout. `unix`: the
    /// daemon was started with Unix-domain sockets enabled
    /// (`PYTHON_UNIX_DOMAIN_ENABLED`), which the bytes alone cannot tell.
    /// `Ok(None)`: more bytes are needed; otherwise the announcement and the
    /// bytes it took.
    pub fn decode(
        buf: &[u8],
        unix: bool,
    ) -> Result<Option<(Announcement, usize)>, AnnouncementError> {
        let Some(n) = i32_at(buf, 0) else {
            return Ok(None);
        };
        if !unix {
            return match u16::try_from(n) {
                Ok(port) if port > 0 => Ok(Some((Announcement::Port(port), 4))),
                _ => Err(AnnouncementError::BadPort(n)),
            };
        }
        let len = usize::try_from(n)
            .ok()
            .filter(|&len| (1..=MAX_SOCKET_PATH).contains(&len))
            .ok_or(AnnouncementError::BadPathLength(n))?;
        let Some(path) = buf.get(4..4 + len) else {
            return Ok(None);
        };
        let path = std::str::from_utf8(path).map_err(|_| AnnouncementError::PathNotUtf8)?;
        Ok(Some((Announcement::SocketPath(path.to_string()), 4 + len)))
    }

    /// Guesses the form from a whole recorded stdout: a path when the first
    /// `i32` is exactly the length of an absolute UTF-8 path that follows, a
    /// port otherwise. For recordings, where whether Unix sockets were enabled
    /// was not kept.
    pub fn sniff(recorded: &[u8]) -> Option<(Announcement, usize)> {
        match Announcement::decode(recorded, true) {
            Ok(Some((a @ Announcement::SocketPath(_), used)))
                if used == recorded.len() && recorded.get(4) == Some(&b'/') =>
            {
                Some((a, used))
            }
            _ => Announcement::decode(recorded, false).ok().flatten(),
        }
    }

    /// The bytes the daemon writes.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Announcement::Port(p) => i32::from(*p).to_be_bytes().to_vec(),
            Announcement::SocketPath(path) => {
                let mut out = (path.len() as i32).to_be_bytes().to_vec();
                out.extend_from_slice(path.as_bytes());
                out
            }
        }
    }
}

/// The JVM's request to kill a worker: its pid as an `i32` on the daemon's stdin
/// (`PythonWorkerFactory.stopWorker`); the daemon sends it SIGKILL.
pub fn kill_request(pid: i32) -> [u8; 4] {
    pid.to_be_bytes()
}

/// The pids in a recorded daemon stdin, and how many bytes trail the last whole one.
pub fn kill_requests(recorded: &[u8]) -> (Vec<i32>, usize) {
    let whole = recorded.len() / 4;
    let pids = (0..whole).filter_map(|i| i32_at(recorded, 4 * i)).collect();
    (pids, recorded.len() % 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn announcements_round_trip_and_wait_for_their_bytes() {
        for a in [
            Announcement::Port(41237),
            Announcement::SocketPath("/tmp/spark-x/daemon.sock".into()),
        ] {
            let unix = matches!(a, Announcement::SocketPath(_));
            let bytes = a.encode();
            for cut in 0..bytes.len() {
                assert_eq!(Announcement::decode(&bytes[..cut], unix), Ok(None));
            }
            assert_eq!(
                Announcement::decode(&bytes, unix),
                Ok(Some((a.clone(), bytes.len())))
            );
            assert_eq!(Announcement::sniff(&bytes), Some((a, bytes.len())));
        }
    }

    #[test]
    fn impossible_announcements_are_refused_before_reading_further() {
        assert_eq!(
            Announcement::decode(&0i32.to_be_bytes(), false),
            Err(AnnouncementError::BadPort(0))
        );
        assert_eq!(
            Announcement::decode(&70000i32.to_be_bytes(), false),
            Err(AnnouncementError::BadPort(70000))
        );
        // A declared length past the limit is refused without waiting for it.
        assert_eq!(
            Announcement::decode(&i32::MAX.to_be_bytes(), true),
            Err(AnnouncementError::BadPathLength(i32::MAX))
        );
        assert_eq!(
            Announcement::decode(&[0, 0, 0, 1, 0xff], true),
            Err(AnnouncementError::PathNotUtf8)
        );
    }

    #[test]
    fn kill_requests_are_pids() {
        let mut stdin = kill_request(1234).to_vec();
        stdin.extend(kill_request(99));
        stdin.push(7);
        assert_eq!(kill_requests(&stdin), (vec![1234, 99], 1));
    }
}
