//! Capture directories, as `sparkwire tap` writes them: `to_worker[.N].bin` and
//! `from_worker[.N].bin` for each worker connection, and for a daemon its side
//! channels `daemon_stdout.bin` (the announcement) and `daemon_stdin.bin` (the
//! JVM's kill-by-pid requests).

use std::path::{Path, PathBuf};

use sparkwire_framing::i32_at;
use sparkwire_worker::protocol::daemon::{kill_requests, Announcement};

use crate::error::InspectError;

/// One recorded connection: its name (the file number), then both directions.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// `N` of `to_worker.N.bin` (`0` for an unnumbered pair).
    pub name: String,
    /// JVM → worker bytes.
    pub to_worker: Vec<u8>,
    /// Worker → JVM bytes.
    pub from_worker: Vec<u8>,
}

/// Reads a file, naming it in the error.
pub fn read_file(path: &Path) -> Result<Vec<u8>, InspectError> {
    std::fs::read(path).map_err(|source| InspectError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Every recorded connection of a capture directory, in file-number order.
pub fn read_dir(dir: &Path) -> Result<Vec<Recorded>, InspectError> {
    let io = |source| InspectError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut found: Vec<(u64, String, PathBuf)> = Vec::new();
    for e in std::fs::read_dir(dir).map_err(io)? {
        let name = e.map_err(io)?.file_name().to_string_lossy().to_string();
        let Some(rest) = name
            .strip_prefix("to_worker")
            .and_then(|r| r.strip_suffix(".bin"))
        else {
            continue;
        };
        let n = rest.strip_prefix('.').unwrap_or(rest);
        let key = n.parse::<u64>().unwrap_or(0);
        found.push((key, n.to_string(), dir.join(&name)));
    }
    found.sort();
    if found.is_empty() {
        return Err(InspectError::NoConnections {
            dir: dir.to_path_buf(),
        });
    }
    let mut out = Vec::new();
    for (_, n, to) in found {
        let from_name = to
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .replacen("to_worker", "from_worker", 1);
        let from = to.with_file_name(from_name);
        out.push(Recorded {
            name: if n.is_empty() { "0".into() } else { n },
            to_worker: read_file(&to)?,
            from_worker: read_file(&from)?,
        });
    }
    Ok(out)
}

/// The daemon's side channels as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaemonChannel {
    /// The port it announced: the first `i32` of its stdout, as sent.
    pub port: Option<i32>,
    /// Or the Unix-socket path it announced.
    pub socket_path: Option<String>,
    /// Bytes on its stdout after the announcement.
    pub stdout_extra_bytes: usize,
    /// The pids the JVM asked it to kill, in order.
    pub kill_pids: Vec<i32>,
}

impl DaemonChannel {
    /// Reads the recorded stdout (the announcement) and stdin (kill requests).
    /// Whether Unix sockets were enabled is not recorded, so the announcement
    /// is a path exactly when its bytes are one ([`Announcement::sniff`]).
    pub fn from_recorded(stdout: &[u8], stdin: Option<&[u8]>) -> DaemonChannel {
        let kill_pids = stdin.map(|s| kill_requests(s).0).unwrap_or_default();
        let (port, socket_path, used) = match Announcement::sniff(stdout) {
            Some((Announcement::SocketPath(p), used)) => (None, Some(p), used),
            _ => (i32_at(stdout, 0), None, 4),
        };
        DaemonChannel {
            port,
            socket_path,
            stdout_extra_bytes: stdout.len().saturating_sub(used),
            kill_pids,
        }
    }
}

/// The daemon's side channels of a capture directory, when recorded.
pub fn read_daemon(dir: &Path) -> Result<Option<DaemonChannel>, InspectError> {
    let read = |name: &str| -> Result<Option<Vec<u8>>, InspectError> {
        let p = dir.join(name);
        if p.exists() {
            read_file(&p).map(Some)
        } else {
            Ok(None)
        }
    };
    let (Some(stdout), stdin) = (read("daemon_stdout.bin")?, read("daemon_stdin.bin")?) else {
        return Ok(None);
    };
    Ok(Some(DaemonChannel::from_recorded(
        &stdout,
        stdin.as_deref(),
    )))
}
