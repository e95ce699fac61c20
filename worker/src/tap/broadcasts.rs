//! Broadcast files copied into the capture directory, so that a capture holds
//! everything a worker read and can be replayed after the job (and its
//! executors' temporary files) are gone.
//!
//! Layout, under the capture directory:
//!
//! * `broadcasts/<id>`: the bytes of the file a task header named for
//!   broadcast `<id>` (its pickled value), copied byte for byte;
//! * `broadcasts/<id>.missing`: there is no copy, and this JSON object says why
//!   ([`Missing`]): `{"reason": "encrypted"}` (sent through the decryption
//!   server, so there was no file), or `{"reason": "unreadable", "path": …,
//!   "error": …}`;
//! * `tap.log`: one line per connection whose headers tap stopped watching,
//!   with why (broadcasts that connection added later are not recorded).
//!
//! Each id is recorded once per directory, first copy wins: a copy is written
//! to a temporary file (a dot-name in `broadcasts/`) and then hard-linked to its
//! final name, which fails when another connection — a thread of this process
//! in daemon mode, another `tap` process in simple mode — got there first. A
//! reader therefore never sees a partial `<id>`; when both `<id>` and
//! `<id>.missing` exist, the copy wins. Ids are unique within one Spark
//! application only: use one capture directory per application.

use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value as Json};

use super::watch::{BroadcastWatch, Prelude, WatchError};
use crate::protocol::BroadcastEntry;

/// The directory under a capture directory that holds broadcast files.
pub const BROADCASTS_DIR: &str = "broadcasts";
/// The suffix of the file saying why a broadcast has no copy.
pub const MISSING_SUFFIX: &str = ".missing";
/// The capture directory's log of what tap could not record.
pub const TAP_LOG: &str = "tap.log";

/// Why a broadcast has no copy in the capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Missing {
    /// Sent through the broadcast decryption server (`spark.io.encryption.enabled`):
    /// the header names no file, and the bytes on that server's socket are
    /// encrypted with a key tap does not have.
    Encrypted,
    /// The file the header named could not be read (gone, no permission).
    Unreadable {
        /// The path in the header.
        path: String,
        /// The operating system's error.
        error: String,
    },
    /// A reason this version does not know (the file's JSON text).
    Other(String),
}

impl Missing {
    /// The `<id>.missing` file's text: a JSON object, so later reasons can add
    /// fields without breaking readers.
    pub fn to_json_text(&self) -> String {
        let j = match self {
            Missing::Encrypted => json!({ "reason": "encrypted" }),
            Missing::Unreadable { path, error } => {
                json!({ "reason": "unreadable", "path": path, "error": error })
            }
            Missing::Other(text) => return text.clone(),
        };
        format!("{j}\n")
    }

    /// Reads an `<id>.missing` file's text; what it does not recognise is kept
    /// as [`Missing::Other`].
    pub fn parse(text: &str) -> Missing {
        let j: Json = serde_json::from_str(text).unwrap_or(Json::Null);
        let field = |k: &str| j.get(k).and_then(Json::as_str).map(str::to_owned);
        match field("reason").as_deref() {
            Some("encrypted") => Missing::Encrypted,
            Some("unreadable") => Missing::Unreadable {
                path: field("path").unwrap_or_default(),
                error: field("error").unwrap_or_default(),
            },
            _ => Missing::Other(text.to_owned()),
        }
    }
}

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Missing::Encrypted => f.write_str("sent through the decryption server (encrypted)"),
            Missing::Unreadable { path, error } => write!(f, "{path} unreadable: {error}"),
            Missing::Other(text) => write!(f, "{}", text.trim_end()),
        }
    }
}

/// What recording one broadcast did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// Its bytes were copied to `broadcasts/<id>` (when another connection
    /// published its copy first, that one stands: the bytes are the same).
    Copied {
        /// How many.
        bytes: u64,
    },
    /// `broadcasts/<id>` was already there (an earlier task or connection), or
    /// another connection of this process is recording it.
    AlreadyThere,
    /// There is no copy; `broadcasts/<id>.missing` says why (unless another
    /// connection recorded it meanwhile).
    Missing(Missing),
}

/// Why a broadcast could not be recorded: writing the capture directory failed
/// (reading the broadcast's own file failing is a [`Recorded::Missing`]).
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct RecordError {
    /// The capture file.
    pub path: PathBuf,
    /// Why.
    #[source]
    pub source: io::Error,
}

fn capture_error(path: &Path) -> impl FnOnce(io::Error) -> RecordError + '_ {
    move |source| RecordError {
        path: path.to_path_buf(),
        source,
    }
}

/// Ids this process has started recording, per capture directory: concurrent
/// connections of one daemon then copy a broadcast once, not once each.
static CLAIMED: Mutex<BTreeSet<(PathBuf, i64)>> = Mutex::new(BTreeSet::new());

/// Broadcasts handed to copiers and not recorded yet, over the process: a
/// daemon's relays are detached threads, so tap waits on this before it exits.
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);

/// Waits, at most `timeout`, until every broadcast handed to a copier is
/// recorded: what `tap` does before it exits with the daemon it wraps.
pub fn wait_for_copies(timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while IN_FLIGHT.load(Ordering::Acquire) > 0 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(5));
    }
}

/// Temporary names are unique per process and call.
static NEXT_TEMP: AtomicU64 = AtomicU64::new(0);

/// Records broadcast `entry` (an addition) into capture directory `capture`:
/// copies its file, or writes why there is none.
pub fn record(capture: &Path, entry: &BroadcastEntry) -> Result<Recorded, RecordError> {
    let dir = capture.join(BROADCASTS_DIR);
    let claimed = CLAIMED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .insert((dir, entry.id));
    if !claimed {
        return Ok(Recorded::AlreadyThere);
    }
    record_unclaimed(capture, entry)
}

/// [`record`] without this process's claim: what racing processes do.
fn record_unclaimed(capture: &Path, entry: &BroadcastEntry) -> Result<Recorded, RecordError> {
    let dir = capture.join(BROADCASTS_DIR);
    let copy = dir.join(entry.id.to_string());
    if copy.exists() {
        return Ok(Recorded::AlreadyThere);
    }
    std::fs::create_dir_all(&dir).map_err(capture_error(&dir))?;
    let missing = match &entry.path {
        None => Missing::Encrypted,
        Some(path) => match copy_file(Path::new(path), &dir, entry.id, &copy)? {
            Ok(bytes) => return Ok(Recorded::Copied { bytes }),
            Err(error) => Missing::Unreadable {
                path: path.clone(),
                error: error.to_string(),
            },
        },
    };
    let note = dir.join(format!("{}{MISSING_SUFFIX}", entry.id));
    if !copy.exists() {
        let temp = temp_name(&dir, entry.id);
        let written = create_new(&temp)?.write_all(missing.to_json_text().as_bytes());
        if let Err(e) = written {
            let _ = std::fs::remove_file(&temp);
            return Err(capture_error(&temp)(e));
        }
        publish(&temp, &note)?;
    }
    Ok(Recorded::Missing(missing))
}

/// Copies `from` to `to` through a temporary file in `dir`: `Ok(Err)` when
/// `from` cannot be read, `Err` when the capture cannot be written.
fn copy_file(
    from: &Path,
    dir: &Path,
    id: i64,
    to: &Path,
) -> Result<Result<u64, io::Error>, RecordError> {
    let mut src = match File::open(from) {
        Ok(f) => f,
        Err(e) => return Ok(Err(e)),
    };
    let temp = temp_name(dir, id);
    let mut out = create_new(&temp)?;
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    loop {
        let n = match src.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let _ = std::fs::remove_file(&temp);
                return Ok(Err(e));
            }
        };
        if let Err(e) = out.write_all(&buf[..n]) {
            let _ = std::fs::remove_file(&temp);
            return Err(capture_error(&temp)(e));
        }
        total += n as u64;
    }
    drop(out);
    publish(&temp, to)?;
    Ok(Ok(total))
}

/// A fresh dot-name in `dir`, which readers skip.
fn temp_name(dir: &Path, id: i64) -> PathBuf {
    let k = NEXT_TEMP.fetch_add(1, Ordering::Relaxed);
    dir.join(format!(".{id}.{}.{k}.partial", std::process::id()))
}

fn create_new(path: &Path) -> Result<File, RecordError> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(capture_error(path))
}

/// Gives the complete `temp` its final name unless that name exists: a hard
/// link is created only when the name is free, so the first writer wins and no
/// reader sees a partial file. Where links are not supported, a rename (last
/// writer wins; the bytes of one id are the same everywhere).
fn publish(temp: &Path, to: &Path) -> Result<(), RecordError> {
    let linked = std::fs::hard_link(temp, to);
    let result = match linked {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(_) => std::fs::rename(temp, to).map_err(capture_error(to)),
    };
    let _ = std::fs::remove_file(temp);
    result
}

/// Appends a line to the capture's `tap.log` and to stderr (the executor's log
/// when tap runs under Spark); failing to write it must not stop the relay.
pub fn note(capture: &Path, line: &str) {
    eprintln!("sparkwire tap: {line}");
    let log = capture.join(TAP_LOG);
    if let Ok(mut f) = OpenOptions::new().create(true).append(true).open(log) {
        // One write per line: appends of one line do not interleave.
        let _ = f.write_all(format!("{line}\n").as_bytes());
    }
}

/// Watches one connection's JVM → worker bytes and records the broadcasts its
/// headers add. Fed on the relay's capture-writer thread; the copies are made
/// by a thread of its own, so a large file never holds the writer (and through
/// its bounded queue, the relay) up.
#[derive(Debug)]
pub struct BroadcastRecorder {
    /// `None` once watching stopped.
    watch: Option<BroadcastWatch>,
    capture: PathBuf,
    /// The recorded stream's file name, for notes.
    stream: String,
    copier: Option<(mpsc::Sender<BroadcastEntry>, thread::JoinHandle<()>)>,
}

impl BroadcastRecorder {
    /// A recorder for the stream recorded as `stream` in `capture`.
    pub fn new(capture: &Path, stream: &str, prelude: Prelude) -> BroadcastRecorder {
        BroadcastRecorder::with_watch(capture, stream, BroadcastWatch::new(prelude))
    }

    /// A recorder with an explicitly configured watch.
    pub fn with_watch(capture: &Path, stream: &str, watch: BroadcastWatch) -> BroadcastRecorder {
        BroadcastRecorder {
            watch: Some(watch),
            capture: capture.to_path_buf(),
            stream: stream.to_owned(),
            copier: None,
        }
    }

    /// The next bytes of the stream. Never fails: when watching stops, this
    /// notes why and ignores the rest.
    pub fn observe(&mut self, bytes: &[u8]) {
        self.step(|watch, added| watch.feed(bytes, added));
    }

    /// The end of the stream: records what the last headers added and waits
    /// for every copy.
    pub fn finish(mut self) {
        self.step(|watch, added| watch.finish(added));
        self.watch = None;
        if let Some((tx, copier)) = self.copier.take() {
            drop(tx);
            let _ = copier.join();
        }
    }

    /// Runs `f` on the watch, hands what it settled to the copier and notes a
    /// stop. A panic in the decoders (which they promise not to do) stops the
    /// watch, not the relay.
    fn step(
        &mut self,
        f: impl FnOnce(&mut BroadcastWatch, &mut Vec<BroadcastEntry>) -> Result<(), WatchError>,
    ) {
        let Some(watch) = self.watch.as_mut() else {
            return;
        };
        let mut added = Vec::new();
        let fed = std::panic::catch_unwind(AssertUnwindSafe(|| f(watch, &mut added)));
        for entry in added {
            self.copy(entry);
        }
        let why = match fed {
            Ok(Ok(())) => return,
            Ok(Err(e)) => e.to_string(),
            Err(_) => "the header decoder panicked".to_owned(),
        };
        self.watch = None;
        note(
            &self.capture,
            &format!(
                "{}: not recording broadcasts from here on: {why}",
                self.stream
            ),
        );
    }

    fn copy(&mut self, entry: BroadcastEntry) {
        let (tx, _) = self.copier.get_or_insert_with(|| {
            let (tx, rx) = mpsc::channel::<BroadcastEntry>();
            let capture = self.capture.clone();
            let stream = self.stream.clone();
            let handle = thread::spawn(move || {
                for entry in rx {
                    if let Err(e) = record(&capture, &entry) {
                        note(
                            &capture,
                            &format!("{stream}: broadcast {}: not recorded: {e}", entry.id),
                        );
                    }
                    IN_FLIGHT.fetch_sub(1, Ordering::AcqRel);
                }
            });
            (tx, handle)
        });
        IN_FLIGHT.fetch_add(1, Ordering::AcqRel);
        // The copier ends only when this sender is dropped.
        if tx.send(entry).is_err() {
            IN_FLIGHT.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{SparkVersion, TaskEncoder, TaskHeader};
    use bytes::Bytes;

    /// A fresh directory under the system's temporary one.
    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "sparkwire-broadcasts-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn entry(id: i64, path: &Path) -> BroadcastEntry {
        BroadcastEntry {
            id,
            path: Some(path.display().to_string()),
        }
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn copies_each_id_once_byte_for_byte_and_the_first_copy_wins() {
        let d = scratch("once");
        let value: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
        std::fs::write(d.join("src-a"), &value).unwrap();
        std::fs::write(d.join("src-b"), b"another value").unwrap();
        let capture = d.join("capture");
        assert_eq!(
            record(&capture, &entry(7, &d.join("src-a"))).unwrap(),
            Recorded::Copied {
                bytes: value.len() as u64
            }
        );
        assert!(std::fs::read(capture.join("broadcasts/7")).unwrap() == value);
        // Another connection naming id 7 again (or wrongly, another file).
        assert_eq!(
            record(&capture, &entry(7, &d.join("src-b"))).unwrap(),
            Recorded::AlreadyThere
        );
        assert_eq!(
            record_unclaimed(&capture, &entry(7, &d.join("src-b"))).unwrap(),
            Recorded::AlreadyThere
        );
        assert!(std::fs::read(capture.join("broadcasts/7")).unwrap() == value);
        assert_eq!(names(&capture.join("broadcasts")), ["7"]);
        let _ = std::fs::remove_dir_all(&d);
    }

    /// Processes racing on one id (simple-mode workers of one job run a tap
    /// each): exactly one complete copy is published, and no temporary file
    /// is left behind.
    #[test]
    fn racing_writers_publish_exactly_one_complete_copy() {
        let d = scratch("race");
        let capture = d.join("capture");
        let sources: Vec<PathBuf> = (0..8u8)
            .map(|k| {
                let p = d.join(format!("src-{k}"));
                std::fs::write(&p, vec![k; 100_000 + usize::from(k)]).unwrap();
                p
            })
            .collect();
        let handles: Vec<_> = sources
            .iter()
            .map(|p| {
                let (capture, e) = (capture.clone(), entry(3, p));
                thread::spawn(move || record_unclaimed(&capture, &e).unwrap())
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(names(&capture.join("broadcasts")), ["3"]);
        let got = std::fs::read(capture.join("broadcasts/3")).unwrap();
        let k = got[0];
        assert!(got == vec![k; 100_000 + usize::from(k)], "a mixed copy");
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn unreadable_and_encrypted_broadcasts_say_why_they_are_missing() {
        let d = scratch("missing");
        let capture = d.join("capture");
        let gone = d.join("deleted-broadcast");
        let r = record(&capture, &entry(1, &gone)).unwrap();
        let Recorded::Missing(Missing::Unreadable { path, error }) = &r else {
            panic!("{r:?}");
        };
        assert_eq!(path, &gone.display().to_string());
        assert!(error.contains("os error 2"), "{error}");
        let text = std::fs::read_to_string(capture.join("broadcasts/1.missing")).unwrap();
        assert_eq!(
            Missing::parse(&text),
            Missing::Unreadable {
                path: path.clone(),
                error: error.clone()
            }
        );
        let r = record(&capture, &BroadcastEntry { id: 2, path: None }).unwrap();
        assert_eq!(r, Recorded::Missing(Missing::Encrypted));
        let text = std::fs::read_to_string(capture.join("broadcasts/2.missing")).unwrap();
        assert_eq!(text, "{\"reason\":\"encrypted\"}\n");
        assert_eq!(Missing::parse(&text), Missing::Encrypted);
        assert_eq!(
            names(&capture.join("broadcasts")),
            ["1.missing", "2.missing"]
        );
        assert_eq!(
            Missing::parse("{\"reason\":\"later\"}"),
            Missing::Other("{\"reason\":\"later\"}".into())
        );
        let _ = std::fs::remove_dir_all(&d);
    }

    /// The recorder as the relay drives it, in memory: a header naming a real
    /// file, fed byte by byte, ends with the copy in place once `finish`
    /// returns; a stream it cannot read leaves a line in `tap.log`.
    #[test]
    fn the_recorder_copies_what_headers_name_and_logs_a_stop() {
        let d = scratch("recorder");
        let capture = d.join("capture");
        std::fs::create_dir_all(&capture).unwrap();
        std::fs::write(d.join("value"), b"\x80\x05K\x64.").unwrap();
        let v = SparkVersion::V4_1;
        let mut h = TaskHeader::example(Bytes::from_static(b"\x80\x05N."));
        h.broadcasts.entries = vec![entry(11, &d.join("value"))];
        let enc = TaskEncoder::new(v);
        let mut wire = b"\0\0\0\x02ok".to_vec();
        enc.header(&h, &mut wire).unwrap();
        enc.end_of_data(&mut wire);
        enc.finish(-4, &mut wire);
        let mut r = BroadcastRecorder::new(&capture, "to_worker.0.bin", Prelude::Str);
        for b in wire.chunks(1) {
            r.observe(b);
        }
        r.finish();
        assert_eq!(
            std::fs::read(capture.join("broadcasts/11")).unwrap(),
            b"\x80\x05K\x64."
        );
        assert!(!capture.join(TAP_LOG).exists());

        let mut r = BroadcastRecorder::new(&capture, "to_worker.1.bin", Prelude::Str);
        r.observe(&[0x80, 0, 0, 0]);
        r.observe(&wire);
        r.finish();
        let log = std::fs::read_to_string(capture.join(TAP_LOG)).unwrap();
        assert_eq!(log.lines().count(), 1, "{log}");
        assert!(
            log.starts_with("to_worker.1.bin: not recording broadcasts from here on: byte 0:"),
            "{log}"
        );
        let _ = std::fs::remove_dir_all(&d);
    }
}
