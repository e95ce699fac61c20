//! Capture directories, as `sparkwire tap` writes them: `to_worker[.N].bin` and
//! `from_worker[.N].bin` for each worker connection, and for a daemon its side
//! channels `daemon_stdout.bin` (the announcement) and `daemon_stdin.bin` (the
//! JVM's kill-by-pid requests).
//!
//! A worker also reads each broadcast's pickled value from a file the task
//! header names; tap copies those files in, so that the capture is complete
//! after the executors' temporary files are gone (read by [`broadcasts`]):
//!
//! * `broadcasts/<id>`: the bytes of the file a header named for broadcast
//!   `<id>`, copied byte for byte, once per id (first copy wins);
//! * `broadcasts/<id>.missing`: no copy, and a JSON object saying why:
//!   `{"reason":"encrypted"}` (I/O encryption on: the value came through the
//!   decryption server, there was no file) or `{"reason":"unreadable",
//!   "path":…,"error":…}` (the file was gone or not readable);
//! * `tap.log` (read by [`tap_log`]): a line for each connection whose headers
//!   tap stopped reading, and why; broadcasts that connection added after that
//!   point are not in `broadcasts/`.
//!
//! Dot-files in `broadcasts/` are copies still being written (or left by a tap
//! that was killed) and are skipped. Captures recorded before broadcasts were
//! copied have no `broadcasts/`: [`broadcasts`] is then empty. Broadcast ids
//! restart with each Spark application, so one capture directory should hold
//! one application.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sparkwire_framing::i32_at;
use sparkwire_worker::protocol::daemon::{kill_requests, Announcement};
pub use sparkwire_worker::tap::broadcasts::Missing;
use sparkwire_worker::tap::broadcasts::{BROADCASTS_DIR, MISSING_SUFFIX, TAP_LOG};

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

/// One recorded connection's files: its name (the file number), then both
/// directions' paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedFiles {
    /// `N` of `to_worker.N.bin` (`0` for an unnumbered pair).
    pub name: String,
    /// The JVM → worker file.
    pub to_worker: PathBuf,
    /// The worker → JVM file.
    pub from_worker: PathBuf,
}

/// Every recorded connection of a capture directory, in file-number order,
/// read whole.
pub fn read_dir(dir: &Path) -> Result<Vec<Recorded>, InspectError> {
    list_dir(dir)?
        .into_iter()
        .map(|f| {
            Ok(Recorded {
                to_worker: read_file(&f.to_worker)?,
                from_worker: read_file(&f.from_worker)?,
                name: f.name,
            })
        })
        .collect()
}

/// The files of every recorded connection of a capture directory, in
/// file-number order, without reading them (a large capture is decoded from
/// its files a task at a time).
pub fn list_dir(dir: &Path) -> Result<Vec<RecordedFiles>, InspectError> {
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
    Ok(found
        .into_iter()
        .map(|(_, n, to)| {
            let from_name = to
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .replacen("to_worker", "from_worker", 1);
            RecordedFiles {
                name: if n.is_empty() { "0".into() } else { n },
                from_worker: to.with_file_name(from_name),
                to_worker: to,
            }
        })
        .collect())
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

/// One broadcast of a capture directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BroadcastFile {
    /// Its pickled value, copied from the file the header named: a replay
    /// points the header's path at `path`.
    Recorded {
        /// `broadcasts/<id>` in the capture directory.
        path: PathBuf,
        /// Its length in bytes.
        len: u64,
    },
    /// Not in the capture, and why.
    Missing(Missing),
}

/// Every broadcast a capture directory holds or knows to be missing, by id:
/// empty when there is no `broadcasts/` (a capture from before tap copied them,
/// or one whose tasks added none). When both a copy and a `.missing` exist
/// (two connections racing), the copy wins.
pub fn broadcasts(dir: &Path) -> Result<BTreeMap<i64, BroadcastFile>, InspectError> {
    let bdir = dir.join(BROADCASTS_DIR);
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| InspectError::Io { path, source }
    };
    let entries = match std::fs::read_dir(&bdir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(io(&bdir)(e)),
    };
    let mut out = BTreeMap::new();
    for e in entries {
        let e = e.map_err(io(&bdir))?;
        let name = e.file_name().to_string_lossy().into_owned();
        let path = e.path();
        if let Some(id) = name.parse::<i64>().ok().filter(|id| *id >= 0) {
            let len = e.metadata().map_err(io(&path))?.len();
            out.insert(id, BroadcastFile::Recorded { path, len });
        } else if let Some(id) = name
            .strip_suffix(MISSING_SUFFIX)
            .and_then(|n| n.parse::<i64>().ok())
            .filter(|id| *id >= 0)
        {
            let text = std::fs::read_to_string(&path).map_err(io(&path))?;
            out.entry(id)
                .or_insert(BroadcastFile::Missing(Missing::parse(&text)));
        }
    }
    Ok(out)
}

/// The lines of the capture's `tap.log` (what tap could not record), or none.
pub fn tap_log(dir: &Path) -> Result<Option<Vec<String>>, InspectError> {
    let path = dir.join(TAP_LOG);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some(text.lines().map(str::to_owned).collect())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(InspectError::Io { path, source }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasts_reads_copies_and_reasons_and_skips_the_rest() {
        let dir = std::env::temp_dir().join(format!("sparkwire-capture-bc-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(broadcasts(&dir).unwrap(), BTreeMap::new());
        let b = dir.join("broadcasts");
        std::fs::create_dir_all(&b).unwrap();
        std::fs::write(b.join("0"), b"\x80\x05K\x64.").unwrap();
        std::fs::write(
            b.join("1.missing"),
            "{\"reason\":\"unreadable\",\"path\":\"/tmp/x\",\"error\":\"gone\"}\n",
        )
        .unwrap();
        std::fs::write(b.join("2.missing"), "{\"reason\":\"encrypted\"}\n").unwrap();
        // A race left both: the copy wins.
        std::fs::write(b.join("3"), b"abc").unwrap();
        std::fs::write(b.join("3.missing"), "{\"reason\":\"encrypted\"}\n").unwrap();
        // A copy under way, and names that are not ours.
        std::fs::write(b.join(".4.77.0.partial"), b"ab").unwrap();
        std::fs::write(b.join("-1"), b"").unwrap();
        std::fs::write(b.join("notes"), b"").unwrap();
        let got = broadcasts(&dir).unwrap();
        let expected = BTreeMap::from([
            (
                0,
                BroadcastFile::Recorded {
                    path: b.join("0"),
                    len: 5,
                },
            ),
            (
                1,
                BroadcastFile::Missing(Missing::Unreadable {
                    path: "/tmp/x".into(),
                    error: "gone".into(),
                }),
            ),
            (2, BroadcastFile::Missing(Missing::Encrypted)),
            (
                3,
                BroadcastFile::Recorded {
                    path: b.join("3"),
                    len: 3,
                },
            ),
        ]);
        assert_eq!(got, expected);
        assert_eq!(tap_log(&dir).unwrap(), None);
        std::fs::write(
            dir.join("tap.log"),
            "to_worker.2.bin: not recording broadcasts from here on: x\n",
        )
        .unwrap();
        assert_eq!(
            tap_log(&dir).unwrap(),
            Some(vec![
                "to_worker.2.bin: not recording broadcasts from here on: x".to_owned()
            ])
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
