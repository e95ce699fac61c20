//! Decoding recorded worker connections (both directions, as `tap` writes them),
//! with the auth prelude, every task on the connection, and the version found
//! from the bytes when it is not given.

use std::fmt;

use bytes::BytesMut;
use sparkwire_framing::auth::REPLY_OK;
use sparkwire_framing::{i32_at, Frame, Step};
use sparkwire_serializers::pyspark::arrow::SectionItem;
use sparkwire_worker::protocol::{
    encode_reply, HeaderError, ReplyDecoder, ReplyError, ReplyItem, SparkVersion, TaskDecoder,
    TaskEncoder, TaskError, TaskHeader, TaskItem,
};
use thiserror::Error;

/// How the worker was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `-m pyspark.worker` connecting back: the worker authenticates to the JVM.
    Simple,
    /// A daemon-forked worker: it sends its pid, then the JVM authenticates.
    Daemon,
    /// A Unix-domain socket (4.1+, `spark.python.unix.domain.socket.enabled`),
    /// simple or daemon alike: no authentication, the worker sends its pid and
    /// the task follows.
    Unix,
}

/// One task of a connection.
#[derive(Debug, Clone)]
pub struct Task {
    /// The header.
    pub header: TaskHeader,
    /// The data section's frames, END_OF_DATA_SECTION excluded (pickled and
    /// UTF-8 eval types).
    pub input: Vec<Frame>,
    /// The Arrow data section (Arrow and pandas eval types).
    pub arrow_input: Vec<SectionItem>,
    /// Whether END_OF_DATA_SECTION closed a framed data section (a recording
    /// may end before it).
    pub end_of_data: bool,
    /// The `i32` after the data section (−4: END_OF_STREAM).
    pub finish: Option<i32>,
    /// The worker's reply.
    pub reply: Vec<ReplyItem>,
    /// False when the recording ends inside the reply: the worker was killed
    /// (daemon mode: its pid on the daemon's stdin) or the connection dropped.
    pub reply_complete: bool,
}

/// A decoded connection.
#[derive(Debug, Clone)]
pub struct Connection {
    /// The version used.
    pub version: SparkVersion,
    /// Every version whose layout accounts for the bytes (3.5 and 4.0 share theirs).
    pub fits: Vec<SparkVersion>,
    /// Simple or daemon.
    pub mode: Mode,
    /// The worker's pid, as it announced it.
    pub pid: i32,
    /// The auth exchange as recorded (JVM → worker, worker → JVM).
    pub prelude: (Vec<u8>, Vec<u8>),
    /// The tasks.
    pub tasks: Vec<Task>,
    /// Bytes the worker wrote after its last reply (spec §10: tolerated).
    pub trailing: Vec<u8>,
    /// Daemon mode: the daemon could not fork a worker and sent this errno where
    /// the worker's pid belongs (`pid` holds it too); there are no tasks.
    pub fork_errno: Option<i32>,
}

impl Connection {
    /// Whether every task's reply was read to its end.
    pub fn is_complete(&self) -> bool {
        self.tasks.iter().all(|t| t.reply_complete)
    }

    /// The traceback, when the trailing bytes are exactly one
    /// PYTHON_EXCEPTION_THROWN: a reused worker that met EOF while waiting for
    /// another task (4.3 daemon workers do this when the JVM closes the
    /// connection).
    pub fn trailing_exception(&self) -> Option<String> {
        let t = &self.trailing;
        if t.get(..4)? != (-2i32).to_be_bytes() {
            return None;
        }
        let n = usize::try_from(i32_at(t, 4)?).ok()?;
        (t.len() == 8 + n).then(|| String::from_utf8_lossy(&t[8..]).into_owned())
    }
}

/// Which direction of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// JVM → worker.
    ToWorker,
    /// Worker → JVM.
    FromWorker,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::ToWorker => "to_worker",
            Direction::FromWorker => "from_worker",
        })
    }
}

/// Where in a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// The auth exchange.
    Auth,
    /// The worker's pid.
    Pid,
    /// The first task header, when no layout reads it.
    Header,
    /// Task `n` of the JVM → worker direction.
    Task(usize),
    /// The worker's reply to task `n`.
    Reply(usize),
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Section::Auth => f.write_str("auth"),
            Section::Pid => f.write_str("pid"),
            Section::Header => f.write_str("header"),
            Section::Task(n) => write!(f, "task {n}"),
            Section::Reply(n) => write!(f, "reply to task {n}"),
        }
    }
}

/// What was wrong. Stream byte offsets count from the start of the direction,
/// prelude included.
#[derive(Debug, Error)]
pub enum Problem {
    /// The auth prelude does not start with a `str`.
    #[error("byte 0: expected the secret as a str")]
    ExpectedSecret,
    /// The pid is missing.
    #[error("byte {at}: expected i32 pid")]
    ExpectedPid {
        /// Where it belongs.
        at: usize,
    },
    /// The JVM → worker stream is malformed.
    #[error("{source} (stream byte {at})")]
    Task {
        /// The codec's error.
        #[source]
        source: TaskError,
        /// Where the failing item starts.
        at: u64,
    },
    /// The reply is malformed.
    #[error("{source} (stream byte {at})")]
    Reply {
        /// The codec's error.
        #[source]
        source: ReplyError,
        /// Where the failing item starts.
        at: u64,
    },
    /// A task was cut short: the connection was closed mid-task (or the layout
    /// is wrong).
    #[error("{bytes} bytes left undecoded at stream byte {at}")]
    Undecoded {
        /// Bytes left.
        bytes: usize,
        /// Where they start.
        at: u64,
    },
    /// The reply ends inside an item.
    #[error("cut short inside an item at stream byte {at}")]
    CutInsideItem {
        /// Where the item starts.
        at: u64,
    },
    /// The JVM sent no task.
    #[error("no task header")]
    NoTaskHeader,
    /// No modelled release reads the connection.
    #[error("no layout fits")]
    NoLayoutFits,
    /// Re-encoding: a header cannot be written.
    #[error(transparent)]
    Header(#[from] HeaderError),
    /// Re-encoding: a frame cannot be written.
    #[error(transparent)]
    Frame(#[from] sparkwire_framing::EncodeError),
    /// Re-encoding: a reply cannot be written.
    #[error(transparent)]
    ReplyEncode(ReplyError),
}

/// Why a recorded connection could not be decoded (or re-encoded): direction,
/// section and what was wrong.
#[derive(Debug, Error)]
#[error("{direction}, {section}: {problem}")]
pub struct CaptureError {
    /// Which direction.
    pub direction: Direction,
    /// Where.
    pub section: Section,
    /// What went wrong, with the byte offset.
    pub problem: Problem,
}

fn err(direction: Direction, section: Section, problem: Problem) -> CaptureError {
    CaptureError {
        direction,
        section,
        problem,
    }
}

fn str_len(b: &[u8], at: usize) -> Option<usize> {
    let n = i32_at(b, at)?;
    usize::try_from(n).ok().filter(|&n| at + 4 + n <= b.len())
}

/// Splits off the auth prelude: (mode, pid, JVM → worker prelude length,
/// worker → JVM prelude length).
fn prelude(to: &[u8], from: &[u8]) -> Result<(Mode, i32, usize, usize), CaptureError> {
    if to.starts_with(REPLY_OK) {
        // Simple: worker → JVM str secret, i32 pid; JVM → worker str "ok".
        let n = str_len(from, 0).ok_or_else(|| {
            err(
                Direction::FromWorker,
                Section::Auth,
                Problem::ExpectedSecret,
            )
        })?;
        let pid = i32_at(from, 4 + n).ok_or_else(|| {
            err(
                Direction::FromWorker,
                Section::Pid,
                Problem::ExpectedPid { at: 4 + n },
            )
        })?;
        return Ok((Mode::Simple, pid, 6, 4 + n + 4));
    }
    // Daemon: worker → JVM i32 pid, str "ok"; JVM → worker str secret.
    let pid = i32_at(from, 0).ok_or_else(|| {
        err(
            Direction::FromWorker,
            Section::Pid,
            Problem::ExpectedPid { at: 0 },
        )
    })?;
    if from.get(4..10) != Some(REPLY_OK) {
        // A Unix socket: no auth at all, the task header comes first.
        return Ok((Mode::Unix, pid, 0, 4));
    }
    let n = str_len(to, 0)
        .ok_or_else(|| err(Direction::ToWorker, Section::Auth, Problem::ExpectedSecret))?;
    Ok((Mode::Daemon, pid, 4 + n, 10))
}

/// Decodes one connection with version `v`.
pub fn decode_with(to: &[u8], from: &[u8], v: SparkVersion) -> Result<Connection, CaptureError> {
    if let Some(c) = fork_failure(to, from, v) {
        return Ok(c);
    }
    let (mode, pid, pt, pf) = prelude(to, from)?;
    let mut dec = TaskDecoder::new(v);
    let mut buf = BytesMut::from(&to[pt..]);
    let mut tasks: Vec<Task> = Vec::new();
    loop {
        let at = pt as u64 + dec.offset();
        let item = dec.decode(&mut buf).map_err(|source| {
            err(
                Direction::ToWorker,
                Section::Task(tasks.len()),
                Problem::Task { source, at },
            )
        })?;
        match item {
            Step::Item(TaskItem::Header(h)) => tasks.push(Task {
                header: *h,
                input: Vec::new(),
                arrow_input: Vec::new(),
                end_of_data: false,
                finish: None,
                reply: Vec::new(),
                reply_complete: false,
            }),
            Step::Item(TaskItem::Data(f)) => {
                if let Some(t) = tasks.last_mut() {
                    t.input.push(f)
                }
            }
            Step::Item(TaskItem::Arrow(a)) => {
                if let Some(t) = tasks.last_mut() {
                    t.arrow_input.push(a)
                }
            }
            Step::Item(TaskItem::EndOfData) => {
                if let Some(t) = tasks.last_mut() {
                    t.end_of_data = true
                }
            }
            Step::Item(TaskItem::Finish(x)) => {
                if let Some(t) = tasks.last_mut() {
                    t.finish = Some(x)
                }
            }
            Step::NeedMore => break,
        }
    }
    if !buf.is_empty() {
        // A task cut short: the connection was closed mid-task (or the layout is wrong).
        return Err(err(
            Direction::ToWorker,
            Section::Task(tasks.len().saturating_sub(1)),
            Problem::Undecoded {
                bytes: buf.len(),
                at: pt as u64 + dec.offset(),
            },
        ));
    }
    if tasks.is_empty() {
        return Err(err(
            Direction::ToWorker,
            Section::Task(0),
            Problem::NoTaskHeader,
        ));
    }
    let mut rbuf = BytesMut::from(&from[pf..]);
    let mut consumed = pf as u64;
    'tasks: for (i, task) in tasks.iter_mut().enumerate() {
        let mut r = ReplyDecoder::new(v);
        loop {
            let at = consumed + r.offset();
            match r.decode(&mut rbuf).map_err(|source| {
                err(
                    Direction::FromWorker,
                    Section::Reply(i),
                    Problem::Reply { source, at },
                )
            })? {
                Step::Item(Some(item)) => task.reply.push(item),
                Step::Item(None) => break,
                // The worker was killed, or the recording ends, mid-reply: the
                // rest of the connection is missing, which `reply_complete` says.
                Step::NeedMore => {
                    if !rbuf.is_empty() {
                        return Err(err(
                            Direction::FromWorker,
                            Section::Reply(i),
                            Problem::CutInsideItem { at },
                        ));
                    }
                    break 'tasks;
                }
            }
        }
        task.reply_complete = true;
        consumed += r.offset();
    }
    let trailing = rbuf.to_vec();
    Ok(Connection {
        version: v,
        fits: vec![v],
        mode,
        pid,
        prelude: (to[..pt].to_vec(), from[..pf].to_vec()),
        tasks,
        trailing,
        fork_errno: None,
    })
}

/// Daemon mode, fork failure: the daemon wrote one `i32` errno where the
/// worker's pid belongs and closed the connection (the JVM may have sent the
/// secret already).
fn fork_failure(to: &[u8], from: &[u8], v: SparkVersion) -> Option<Connection> {
    let errno = i32_at(from, 0).filter(|_| from.len() == 4)?;
    let secret_only = to.is_empty() || str_len(to, 0).is_some_and(|n| 4 + n == to.len());
    (errno > 0 && secret_only).then(|| Connection {
        version: v,
        fits: vec![v],
        mode: Mode::Daemon,
        pid: errno,
        prelude: (to.to_vec(), from.to_vec()),
        tasks: Vec::new(),
        trailing: Vec::new(),
        fork_errno: Some(errno),
    })
}

/// Decodes one connection, trying every version when `v` is `None`: the first
/// (oldest) layout that accounts for every byte is used and all that do are listed.
pub fn decode(to: &[u8], from: &[u8], v: Option<SparkVersion>) -> Result<Connection, CaptureError> {
    if let Some(v) = v {
        return decode_with(to, from, v);
    }
    let mut decoded = Vec::new();
    let mut last_err = None;
    for v in SparkVersion::ALL {
        match decode_with(to, from, v) {
            Ok(c) => decoded.push(c),
            Err(e) => last_err = Some(e),
        }
    }
    // A layout that reads every reply to its end beats one that stops inside a
    // reply (a wrong timing layout can look like a reply cut short).
    if decoded.iter().any(Connection::is_complete) {
        decoded.retain(Connection::is_complete);
    }
    let fits: Vec<SparkVersion> = decoded.iter().map(|c| c.version).collect();
    match decoded.into_iter().next() {
        Some(mut c) => {
            c.fits = fits;
            Ok(c)
        }
        None => Err(last_err
            .unwrap_or_else(|| err(Direction::ToWorker, Section::Header, Problem::NoLayoutFits))),
    }
}

/// The two directions re-encoded from the decoded connection: equal to the
/// recording when nothing was lost. The JVM → worker direction is written by
/// the same [`TaskEncoder`] a host's session uses.
pub fn reencode(c: &Connection) -> Result<(Vec<u8>, Vec<u8>), CaptureError> {
    let enc = TaskEncoder::new(c.version);
    let mut to = c.prelude.0.clone();
    let mut from = c.prelude.1.clone();
    for (i, t) in c.tasks.iter().enumerate() {
        let to_err = |p: Problem| err(Direction::ToWorker, Section::Task(i), p);
        enc.header(&t.header, &mut to)
            .map_err(|e| to_err(e.into()))?;
        for f in &t.input {
            enc.frame(f, &mut to).map_err(|e| to_err(e.into()))?;
        }
        if t.header.eval_type.is_arrow() {
            enc.arrow(&t.arrow_input, &mut to);
        } else if t.end_of_data {
            enc.end_of_data(&mut to);
        }
        if let Some(x) = t.finish {
            enc.finish(x, &mut to);
        }
        from.extend(encode_reply(&t.reply, c.version).map_err(|e| {
            err(
                Direction::FromWorker,
                Section::Reply(i),
                Problem::ReplyEncode(e),
            )
        })?);
    }
    from.extend(&c.trailing);
    Ok((to, from))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> Vec<u8> {
        let mut s = 4i32.to_be_bytes().to_vec();
        s.extend(b"c0de");
        s
    }

    #[test]
    fn a_fork_failure_is_an_errno_where_the_pid_belongs() {
        // EAGAIN-like errors are retried by the daemon; ENOMEM (12) is sent.
        let from = 12i32.to_be_bytes();
        for to in [Vec::new(), secret()] {
            let c = decode(&to, &from, None).unwrap();
            assert_eq!(
                (c.mode, c.fork_errno, c.tasks.len()),
                (Mode::Daemon, Some(12), 0)
            );
            assert_eq!(reencode(&c).unwrap(), (to.clone(), from.to_vec()));
        }
        // Anything after the pid is a worker, not a fork failure.
        assert!(decode(&secret(), &[0, 0, 0, 12, 0], None).is_err());
    }

    #[test]
    fn a_reply_cut_at_an_item_boundary_is_incomplete_not_an_error() {
        let header = TaskHeader::example(b"\x80\x05N.".to_vec().into());
        let mut to = b"\0\0\0\x02ok".to_vec();
        to.extend(header.encode(SparkVersion::V4_3).unwrap());
        to.extend((-1i32).to_be_bytes());
        to.extend((-4i32).to_be_bytes());
        let mut from = secret();
        from.extend(77i32.to_be_bytes());
        from.extend(3i32.to_be_bytes());
        from.extend(b"abc");
        let c = decode(&to, &from, None).unwrap();
        assert!(!c.is_complete());
        assert_eq!(c.tasks[0].reply.len(), 1);
        assert_eq!(reencode(&c).unwrap(), (to.clone(), from.clone()));
        // Cut inside an item: that is an error, with where.
        from.truncate(from.len() - 1);
        let e = decode(&to, &from, Some(SparkVersion::V4_3)).unwrap_err();
        assert!(matches!(e.problem, Problem::CutInsideItem { .. }), "{e}");
        assert!(e.to_string().contains("cut short inside an item"), "{e}");
    }
}
