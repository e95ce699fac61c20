//! Decoding recorded worker connections (both directions, as `tap` writes them),
//! with the auth prelude, every task on the connection, and the version found
//! from the bytes when it is not given.

use std::fmt;

use bytes::BytesMut;
use sparkwire_framing::auth::REPLY_OK;
use sparkwire_framing::{i32_at, Frame, Step};
use sparkwire_serializers::pyspark::arrow::SectionItem;
use sparkwire_worker::protocol::{
    encode_reply_declaring, HeaderCut, HeaderError, Limits, PartialHeader, PrefixEnd, ReplyDecoder,
    ReplyError, ReplyItem, SparkVersion, TaskDecoder, TaskEncoder, TaskError, TaskHeader, TaskItem,
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
    /// The accumulator count the reply announced, when it was read.
    pub declared_accumulators: Option<usize>,
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
    /// Where decoding stopped short of a direction's last byte, at most one
    /// per direction (JVM → worker first); empty when every byte was read.
    /// Everything before a stop is in `tasks`.
    pub stops: Vec<Stop>,
    /// Bytes of each direction (JVM → worker, worker → JVM) accounted for,
    /// prelude included: how far the layout got.
    pub decoded: (u64, u64),
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
    /// The header (with the command) of task `n`.
    Header(usize),
    /// The data section of task `n`.
    Data(usize),
    /// The `i32` after task `n`'s data section (END_OF_STREAM when the worker
    /// may be reused).
    Finish(usize),
    /// The worker's reply to task `n`.
    Reply(usize),
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Section::Auth => f.write_str("auth"),
            Section::Pid => f.write_str("pid"),
            Section::Header(n) => write!(f, "task {n} header"),
            Section::Data(n) => write!(f, "task {n} data section"),
            Section::Finish(n) => write!(f, "task {n} end-of-stream marker"),
            Section::Reply(n) => write!(f, "reply to task {n}"),
        }
    }
}

/// What was wrong. Stream byte offsets count from the start of the direction,
/// prelude included.
#[derive(Debug, Error)]
pub enum Problem {
    /// The auth prelude does not start with a `str` (a negative length).
    #[error("byte 0: expected the secret as a str")]
    ExpectedSecret,
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
    /// The recording ends inside an item (a connection closed mid-item, a
    /// capture cut short, or a wrong layout).
    #[error("the recording ends inside {what} at stream byte {at} ({recorded} bytes of it recorded{declared})", declared = declared.map(|n| format!(", {n} declared")).unwrap_or_default())]
    CutInsideItem {
        /// What was being read.
        what: &'static str,
        /// Where the item starts.
        at: u64,
        /// Its bytes that are in the recording.
        recorded: usize,
        /// Its length as its prefix declares, when that was read.
        declared: Option<u64>,
    },
    /// The recording ends inside a task header: what was read of it.
    #[error("{0}")]
    CutInsideHeader(Box<CutHeader>),
    /// The recording ends between two items of a task or a reply: the rest of
    /// the connection is missing (the worker was killed or died, or the capture
    /// stops there).
    #[error("the recording ends at stream byte {at}, inside the {what}")]
    EndsInside {
        /// `task` or `reply`.
        what: &'static str,
        /// Where it ends.
        at: u64,
    },
    /// Reply bytes after the replies to every task read: the JVM → worker
    /// direction stopped before the tasks they answer.
    #[error("{bytes} bytes from stream byte {at} answer tasks the to_worker direction does not hold readably (it stopped first)")]
    Unpaired {
        /// How many.
        bytes: usize,
        /// Where they start.
        at: u64,
    },
    /// The JVM sent no task: the recording ends after the prelude.
    #[error("no task header: the recording ends at stream byte {at}")]
    NoTaskHeader {
        /// Where the first header belongs.
        at: u64,
    },
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

impl Problem {
    /// How bad it is for a reader of the capture.
    pub fn kind(&self) -> StopKind {
        match self {
            Problem::CutInsideItem { .. }
            | Problem::CutInsideHeader(_)
            | Problem::Task {
                source: TaskError::Truncated { .. },
                ..
            }
            | Problem::Reply {
                source:
                    ReplyError::Truncated { .. }
                    | ReplyError::Frame(sparkwire_framing::DecodeError::Truncated { .. }),
                ..
            } => StopKind::Cut,
            Problem::EndsInside { .. } | Problem::NoTaskHeader { .. } => StopKind::Ended,
            Problem::Unpaired { .. } => StopKind::Cut,
            _ => StopKind::Corrupt,
        }
    }

    /// The stream byte offset it names, when it names one.
    pub fn offset(&self) -> Option<u64> {
        match self {
            Problem::ExpectedSecret => Some(0),
            Problem::Task { at, .. }
            | Problem::Reply { at, .. }
            | Problem::CutInsideItem { at, .. }
            | Problem::EndsInside { at, .. }
            | Problem::Unpaired { at, .. }
            | Problem::NoTaskHeader { at } => Some(*at),
            Problem::CutInsideHeader(h) => Some(h.at),
            _ => None,
        }
    }
}

/// What was read of a task header the recording ends inside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CutHeader {
    /// The stream byte the header starts at.
    pub at: u64,
    /// Its bytes that are in the recording.
    pub recorded: usize,
    /// Every field read in full.
    pub read: PartialHeader,
    /// The field the recording ends in (offset from the header's start).
    pub cut: HeaderCut,
}

impl fmt::Display for CutHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.cut;
        write!(
            f,
            "the recording ends inside a task header at stream byte {} ({} bytes of it \
             recorded), in field {} at stream byte {} ({} of {} bytes)",
            self.at,
            self.recorded,
            c.field,
            self.at + c.offset,
            c.had,
            c.needed
        )
    }
}

/// Why a recorded connection could not be decoded (or re-encoded): direction,
/// section, the item within it and what was wrong.
#[derive(Debug, Error)]
#[error("{direction}, {section}{}: {problem}", item.map(|i| format!(", item {i}")).unwrap_or_default())]
pub struct CaptureError {
    /// Which direction.
    pub direction: Direction,
    /// Where.
    pub section: Section,
    /// The index of the failing item within the section (a data frame of the
    /// task's input, an item of the reply), when the section has items.
    pub item: Option<usize>,
    /// What went wrong, with the byte offset.
    pub problem: Problem,
}

/// How a connection's decoding stopped short of its last byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopKind {
    /// The recording ends inside an item.
    Cut,
    /// The recording ends between items of a task or reply: the worker was
    /// killed or died, the connection was closed, or the capture stops there.
    Ended,
    /// The bytes are not what the layout expects there (damage, or a wrong
    /// layout).
    Corrupt,
}

impl StopKind {
    /// Its name in the report.
    pub fn name(self) -> &'static str {
        match self {
            StopKind::Cut => "cut",
            StopKind::Ended => "ended",
            StopKind::Corrupt => "corrupt",
        }
    }
}

/// Where and why decoding stopped, kept with the partly decoded connection
/// (a [`CaptureError`] made cloneable: the codec's error as text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stop {
    /// Which direction.
    pub direction: Direction,
    /// Which section.
    pub section: Section,
    /// The item within the section (see [`CaptureError::item`]).
    pub item: Option<usize>,
    /// The stream byte offset where the unread item starts.
    pub offset: u64,
    /// Cut, ended or corrupt.
    pub kind: StopKind,
    /// What was wrong, as the codec says it.
    pub reason: String,
    /// When the recording ends inside a task header: what was read of it.
    pub header: Option<Box<CutHeader>>,
}

impl From<&CaptureError> for Stop {
    fn from(e: &CaptureError) -> Stop {
        Stop {
            header: match &e.problem {
                Problem::CutInsideHeader(h) => Some(h.clone()),
                _ => None,
            },
            direction: e.direction,
            section: e.section,
            item: e.item,
            offset: e.problem.offset().unwrap_or(0),
            kind: e.problem.kind(),
            reason: e.problem.to_string(),
        }
    }
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}, {}", self.direction, self.section)?;
        if let Some(i) = self.item {
            write!(f, ", item {i}")?;
        }
        write!(f, ": {}", self.reason)
    }
}

fn err(direction: Direction, section: Section, problem: Problem) -> CaptureError {
    CaptureError {
        direction,
        section,
        item: None,
        problem,
    }
}

fn err_at(direction: Direction, section: Section, item: usize, problem: Problem) -> CaptureError {
    CaptureError {
        direction,
        section,
        item: Some(item),
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
    // A missing secret or pid: cut when the recording ends before it would,
    // corrupt otherwise.
    let secret = |b: &[u8], direction| {
        str_len(b, 0).ok_or_else(|| {
            let declared = i32_at(b, 0).and_then(|n| u64::try_from(n).ok());
            let problem = match declared {
                Some(n) if n + 4 > b.len() as u64 => Some(n + 4),
                None if b.len() < 4 => None,
                _ => return err(direction, Section::Auth, Problem::ExpectedSecret),
            };
            err(
                direction,
                Section::Auth,
                Problem::CutInsideItem {
                    what: "the secret",
                    at: 0,
                    recorded: b.len(),
                    declared: problem,
                },
            )
        })
    };
    let pid = |at: usize| {
        i32_at(from, at).ok_or_else(|| {
            err(
                Direction::FromWorker,
                Section::Pid,
                Problem::CutInsideItem {
                    what: "the pid",
                    at: at as u64,
                    recorded: from.len().saturating_sub(at),
                    declared: Some(4),
                },
            )
        })
    };
    if to.starts_with(REPLY_OK) {
        // Simple: worker → JVM str secret, i32 pid; JVM → worker str "ok".
        let n = secret(from, Direction::FromWorker)?;
        return Ok((Mode::Simple, pid(4 + n)?, 6, 4 + n + 4));
    }
    // Daemon: worker → JVM i32 pid, str "ok"; JVM → worker str secret.
    let pid = pid(0)?;
    if from.get(4..10) != Some(REPLY_OK) {
        // A Unix socket: no auth at all, the task header comes first.
        return Ok((Mode::Unix, pid, 0, 4));
    }
    let n = secret(to, Direction::ToWorker)?;
    Ok((Mode::Daemon, pid, 4 + n, 10))
}

/// Decodes one connection with version `v`; fails at the first byte the
/// layout does not account for (see [`decode_partial`] for everything up to it).
pub fn decode_with(to: &[u8], from: &[u8], v: SparkVersion) -> Result<Connection, CaptureError> {
    let (c, e) = read(to, from, v)?;
    match e {
        Some(e) => Err(e),
        None => Ok(c),
    }
}

/// Decodes one connection with version `v` as far as its bytes go: every
/// task, data frame and reply item before the first damage is kept, and where
/// and why each direction stopped is in [`Connection::stops`]. Fails only when
/// not even the auth prelude and the pid can be read.
pub fn decode_partial(to: &[u8], from: &[u8], v: SparkVersion) -> Result<Connection, Stop> {
    match read(to, from, v) {
        Ok((c, _)) => Ok(c),
        Err(e) => Err(Stop::from(&e)),
    }
}

/// Where the JVM → worker decoder is, by the last item it returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pos {
    /// Before a task header (at the start, or after a task's final `i32`).
    BeforeHeader,
    /// Inside a task's data section.
    InData,
    /// After the data section, before its final `i32`.
    AfterData,
}

/// The section (and item within it) the decoder is reading at `pos`, and
/// what it is reading there.
fn to_worker_section(tasks: &[Task], pos: Pos) -> (Section, Option<usize>, &'static str) {
    let n = tasks.len();
    match (pos, tasks.last()) {
        (Pos::InData, Some(t)) => (
            Section::Data(n - 1),
            Some(t.input.len() + t.arrow_input.len()),
            "a data section item",
        ),
        (Pos::AfterData, Some(_)) => (
            Section::Finish(n - 1),
            None,
            "the i32 after the data section",
        ),
        _ => (Section::Header(n), None, "a task header"),
    }
}

/// The length a frame's prefix declares, when the cut item is a frame whose
/// prefix was recorded.
fn declared_len(buf: &[u8]) -> Option<u64> {
    i32_at(buf, 0)
        .and_then(|n| u64::try_from(n).ok())
        .map(|n| n + 4)
}

/// Decodes both directions; the error is where decoding stopped (the
/// connection holds everything before it). `Err`: no prelude.
fn read(
    to: &[u8],
    from: &[u8],
    v: SparkVersion,
) -> Result<(Connection, Option<CaptureError>), CaptureError> {
    if let Some(c) = fork_failure(to, from, v) {
        return Ok((c, None));
    }
    let (mode, pid, pt, pf) = prelude(to, from)?;
    let mut dec = TaskDecoder::new(v);
    let mut buf = BytesMut::from(&to[pt..]);
    let mut tasks: Vec<Task> = Vec::new();
    let mut pos = Pos::BeforeHeader;
    let mut to_stop = None;
    loop {
        let at = pt as u64 + dec.offset();
        let item = match dec.decode(&mut buf) {
            Ok(Step::Item(i)) => i,
            Ok(Step::NeedMore) => break,
            Err(source) => {
                let (section, item, _) = to_worker_section(&tasks, pos);
                to_stop = Some(CaptureError {
                    direction: Direction::ToWorker,
                    section,
                    item,
                    problem: Problem::Task { source, at },
                });
                break;
            }
        };
        pos = match &item {
            TaskItem::Header(_) | TaskItem::Data(_) => Pos::InData,
            TaskItem::Arrow(SectionItem::End) | TaskItem::EndOfData => Pos::AfterData,
            TaskItem::Arrow(_) => Pos::InData,
            TaskItem::Finish(_) => Pos::BeforeHeader,
        };
        match item {
            TaskItem::Header(h) => tasks.push(Task {
                header: *h,
                input: Vec::new(),
                arrow_input: Vec::new(),
                end_of_data: false,
                finish: None,
                reply: Vec::new(),
                reply_complete: false,
                declared_accumulators: None,
            }),
            TaskItem::Data(f) => {
                if let Some(t) = tasks.last_mut() {
                    t.input.push(f)
                }
            }
            TaskItem::Arrow(a) => {
                if let Some(t) = tasks.last_mut() {
                    t.arrow_input.push(a)
                }
            }
            TaskItem::EndOfData => {
                if let Some(t) = tasks.last_mut() {
                    t.end_of_data = true
                }
            }
            TaskItem::Finish(x) => {
                if let Some(t) = tasks.last_mut() {
                    t.finish = Some(x)
                }
            }
        }
    }
    let at = pt as u64 + dec.offset();
    if to_stop.is_none() && !buf.is_empty() {
        let (section, item, what) = to_worker_section(&tasks, pos);
        // Inside a header: every field read before the cut.
        let prefix = matches!(section, Section::Header(_))
            .then(|| TaskHeader::decode_prefix(&buf, v, &Limits::default()));
        let problem = match prefix.map(|p| (p.read, p.end)) {
            Some((read, PrefixEnd::Cut(cut))) => {
                Some(Problem::CutInsideHeader(Box::new(CutHeader {
                    at,
                    recorded: buf.len(),
                    read,
                    cut,
                })))
            }
            _ => None,
        };
        to_stop = Some(CaptureError {
            direction: Direction::ToWorker,
            section,
            item,
            problem: problem.unwrap_or(Problem::CutInsideItem {
                what,
                at,
                recorded: buf.len(),
                declared: matches!(section, Section::Data(_))
                    .then(|| declared_len(&buf))
                    .flatten(),
            }),
        });
    } else if to_stop.is_none() && !dec.between_tasks() {
        let (section, item, _) = to_worker_section(&tasks, pos);
        to_stop = Some(CaptureError {
            direction: Direction::ToWorker,
            section,
            item,
            problem: Problem::EndsInside { what: "task", at },
        });
    } else if to_stop.is_none() && tasks.is_empty() {
        to_stop = Some(err(
            Direction::ToWorker,
            Section::Header(0),
            Problem::NoTaskHeader { at },
        ));
    }
    let to_decoded = match &to_stop {
        Some(e) => e.problem.offset().unwrap_or(at),
        None => at,
    };
    let mut rbuf = BytesMut::from(&from[pf..]);
    let mut consumed = pf as u64;
    let mut from_stop = None;
    'tasks: for (i, task) in tasks.iter_mut().enumerate() {
        let mut r = ReplyDecoder::new(v);
        loop {
            let at = consumed + r.offset();
            let step = r.decode(&mut rbuf);
            task.declared_accumulators = r.declared_accumulators();
            match step {
                Ok(Step::Item(Some(item))) => task.reply.push(item),
                Ok(Step::Item(None)) => break,
                Err(source) => {
                    from_stop = Some(err_at(
                        Direction::FromWorker,
                        Section::Reply(i),
                        task.reply.len(),
                        Problem::Reply { source, at },
                    ));
                    consumed = at;
                    break 'tasks;
                }
                // The worker was killed, or the recording ends, mid-reply: the
                // rest of the connection is missing, which `reply_complete` says.
                Ok(Step::NeedMore) => {
                    let problem = if rbuf.is_empty() {
                        Problem::EndsInside { what: "reply", at }
                    } else {
                        Problem::CutInsideItem {
                            what: "a reply item",
                            at,
                            recorded: rbuf.len(),
                            declared: None,
                        }
                    };
                    from_stop = Some(err_at(
                        Direction::FromWorker,
                        Section::Reply(i),
                        task.reply.len(),
                        problem,
                    ));
                    consumed = at;
                    break 'tasks;
                }
            }
        }
        task.reply_complete = true;
        consumed += r.offset();
    }
    // Bytes after the last reply are the worker's (tolerated, spec §10) only
    // when every reply was read: otherwise they are the unread rest.
    let to_damaged = to_stop
        .as_ref()
        .is_some_and(|e| e.problem.kind() != StopKind::Ended);
    let trailing = if from_stop.is_some() {
        Vec::new()
    } else if to_damaged && !rbuf.is_empty() {
        // Replies to tasks whose bytes the JVM → worker direction does not
        // hold readably: unread, not the worker's tolerated extra bytes.
        from_stop = Some(err(
            Direction::FromWorker,
            Section::Reply(tasks.len()),
            Problem::Unpaired {
                bytes: rbuf.len(),
                at: consumed,
            },
        ));
        Vec::new()
    } else {
        consumed = from.len() as u64;
        rbuf.to_vec()
    };
    let stops: Vec<Stop> = [&to_stop, &from_stop]
        .into_iter()
        .flatten()
        .map(Stop::from)
        .collect();
    // A recording that ends between items is what a killed worker leaves:
    // kept in `stops`, not an error of the strict decode.
    let first = [to_stop, from_stop]
        .into_iter()
        .flatten()
        .find(|e| e.problem.kind() != StopKind::Ended);
    let c = Connection {
        version: v,
        fits: vec![v],
        mode,
        pid,
        prelude: (to[..pt].to_vec(), from[..pf].to_vec()),
        tasks,
        trailing,
        fork_errno: None,
        stops,
        decoded: (to_decoded, consumed),
    };
    Ok((c, first))
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
        stops: Vec::new(),
        decoded: (to.len() as u64, from.len() as u64),
    })
}

/// Decodes one connection, trying every version when `v` is `None`: the first
/// (oldest) layout that accounts for every byte is used and all that do are
/// listed. Fails at the first byte the layout does not account for.
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
        None => Err(last_err.unwrap_or_else(|| {
            err(
                Direction::ToWorker,
                Section::Header(0),
                Problem::NoLayoutFits,
            )
        })),
    }
}

/// Like [`decode`], but as far as the bytes go ([`decode_partial`]). With
/// `v` `None`: when some layout reads every byte, as [`decode`] chooses;
/// otherwise the layout that got furthest (most bytes of both directions
/// accounted for; the oldest of a tie), with every layout that got as far in
/// `fits`, so that damage is reported where the right layout meets it rather
/// than where a wrong one fails early. `Err`: no layout reads the prelude.
pub fn decode_best(to: &[u8], from: &[u8], v: Option<SparkVersion>) -> Result<Connection, Stop> {
    if let Some(v) = v {
        return decode_partial(to, from, v);
    }
    // Each layout reads the bytes once; the clean reads are chosen among as
    // `decode` chooses, else the furthest.
    let mut clean = Vec::new();
    let mut best: Vec<Connection> = Vec::new();
    let mut last_err = None;
    for v in SparkVersion::ALL {
        match read(to, from, v) {
            Ok((c, None)) => clean.push(c),
            Ok((c, Some(_))) if clean.is_empty() => {
                // A cut header's fields read in full count: the layout got
                // that far into it.
                let reach = |c: &Connection| {
                    let header = c.stops.iter().filter_map(|s| s.header.as_ref());
                    c.decoded.0 + c.decoded.1 + header.map(|h| h.cut.offset).sum::<u64>()
                };
                match best.first().map(reach) {
                    Some(r) if r > reach(&c) => {}
                    Some(r) if r == reach(&c) => best.push(c),
                    _ => best = vec![c],
                }
            }
            Ok(_) => {}
            Err(e) => last_err = Some(Stop::from(&e)),
        }
    }
    if !clean.is_empty() {
        // A layout that reads every reply to its end beats one that stops
        // inside a reply (a wrong timing layout can look like a reply cut short).
        if clean.iter().any(Connection::is_complete) {
            clean.retain(Connection::is_complete);
        }
        best = clean;
    }
    let fits: Vec<SparkVersion> = best.iter().map(|c| c.version).collect();
    match best.into_iter().next() {
        Some(mut c) => {
            c.fits = fits;
            Ok(c)
        }
        None => Err(last_err.unwrap_or_else(|| {
            Stop::from(&err(
                Direction::ToWorker,
                Section::Header(0),
                Problem::NoLayoutFits,
            ))
        })),
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
        let to_err = |p: Problem| err(Direction::ToWorker, Section::Header(i), p);
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
        let reply = encode_reply_declaring(&t.reply, c.version, t.declared_accumulators);
        from.extend(reply.map_err(|e| {
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
        assert!(
            e.to_string().contains(
                "reply to task 0, item 0: the recording ends inside a reply item at stream byte 12"
            ),
            "{e}"
        );
        // Read as far as it goes: the task is there, and the stop says where.
        let c = decode_partial(&to, &from, SparkVersion::V4_3).unwrap();
        assert_eq!((c.tasks.len(), c.tasks[0].reply.len()), (1, 0));
        assert_eq!(
            (
                c.stops[0].section,
                c.stops[0].item,
                c.stops[0].offset,
                c.stops[0].kind
            ),
            (Section::Reply(0), Some(0), 12, StopKind::Cut)
        );
        assert_eq!(c.decoded, (to.len() as u64, 12));
    }
}
