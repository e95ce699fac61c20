//! Decoding recorded worker connections (both directions, as `tap` writes them),
//! with the auth prelude, every task on the connection, and the version found
//! from the bytes when it is not given.

use std::fmt;
use std::io::Read;

use bytes::BytesMut;
use sparkwire_framing::auth::REPLY_OK;
use sparkwire_framing::{i32_at, Frame, Step};
use sparkwire_serializers::pyspark::arrow::SectionItem;
use sparkwire_worker::protocol::{
    encode_reply, encode_reply_declaring, HeaderCut, HeaderError, Limits, PartialHeader, PrefixEnd,
    ReplyDecoder, ReplyError, ReplyItem, SparkVersion, TaskDecoder, TaskEncoder, TaskError,
    TaskHeader, TaskItem,
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
    /// The recording could not be read.
    #[error("reading the recording: {0}")]
    Io(std::io::Error),
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
fn to_worker_section(
    n: usize,
    items: Option<usize>,
    pos: Pos,
) -> (Section, Option<usize>, &'static str) {
    match (pos, items) {
        (Pos::InData, Some(items)) => (Section::Data(n - 1), Some(items), "a data section item"),
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
    read_chunked(to, from, v, READ_CHUNK)
}

/// [`read`] fed `chunk` bytes at a time (at least).
fn read_chunked(
    to: &[u8],
    from: &[u8],
    v: SparkVersion,
    chunk: usize,
) -> Result<(Connection, Option<CaptureError>), CaptureError> {
    // Reading a slice cannot fail.
    let io = |e: std::io::Error| err(Direction::ToWorker, Section::Auth, Problem::Io(e));
    let (tl, fl) = (to.len() as u64, from.len() as u64);
    let mut r = match ConnReader::open_chunked(to, tl, from, fl, v, chunk) {
        Ok(r) => r?,
        Err(e) => return Err(io(e)),
    };
    let mut tasks = Vec::new();
    while let Some(t) = r.next_task().map_err(io)? {
        tasks.push(t);
    }
    let (mut c, first) = r.finish().map_err(io)?;
    c.tasks = tasks;
    Ok((c, first))
}

/// Like [`decode_partial`] over two readers (files, usually), keeping of each
/// task only its header (copied out of the read buffers; a command equal to
/// the previous task's is shared with it) and whether its reply was
/// complete: the skeleton a report's summary is made from, with the tasks'
/// frames and replies dropped as they are read
/// ([`ConnReader::next_task_with`]), so that what is held is one frame of a
/// task at a time. The outer `Err` is a read error.
pub fn read_skeleton<R: Read>(
    to: R,
    to_len: u64,
    from: R,
    from_len: u64,
    v: SparkVersion,
) -> std::io::Result<Result<(Connection, Option<CaptureError>), CaptureError>> {
    let mut r = match ConnReader::open(to, to_len, from, from_len, v)? {
        Ok(r) => r,
        Err(e) => return Ok(Err(e)),
    };
    let mut tasks: Vec<Task> = Vec::new();
    while let Some(t) = r.next_task_with(&mut |_| {})? {
        let mut t = skeleton(t, v);
        // The tasks of a stage carry the same command: kept once.
        if let Some(prev) = tasks
            .last()
            .filter(|p| p.header.command == t.header.command)
        {
            t.header.command = prev.header.command.clone();
        }
        tasks.push(t);
    }
    let (mut c, first) = r.finish()?;
    c.tasks = tasks;
    Ok(Ok((c, first)))
}

/// A task without its data and reply items, its header copied out of the
/// buffer it was read from (a shared slice would keep that whole buffer, data
/// frames and all, alive).
fn skeleton(t: Task, v: SparkVersion) -> Task {
    let header = t
        .header
        .encode(v)
        .ok()
        .and_then(|b| TaskHeader::decode(&b, v).ok().flatten())
        .map_or(t.header, |(h, _)| h);
    Task {
        header,
        input: Vec::new(),
        arrow_input: Vec::new(),
        end_of_data: t.end_of_data,
        finish: t.finish,
        reply: Vec::new(),
        reply_complete: t.reply_complete,
        declared_accumulators: t.declared_accumulators,
    }
}

/// A piece of a task as [`ConnReader::next_task_with`] reads it.
#[derive(Debug, Clone, Copy)]
pub enum Piece<'a> {
    /// The header: a task begins.
    Header(&'a TaskHeader),
    /// A frame of its data section.
    Input(&'a Frame),
    /// An item of its reply.
    Reply(&'a ReplyItem),
}

/// Whether a reply item begins the reply's tail: the accumulator updates and
/// the end marker, re-encoded as one piece (the accumulator count goes before
/// the first update), and kept in the task even when read piece by piece.
fn starts_tail(item: &ReplyItem) -> bool {
    matches!(item, ReplyItem::Accumulator(_) | ReplyItem::End(_))
}

/// The smallest read from a recording; a read is at least as large as what
/// is already buffered, so that an item of `n` bytes takes O(log n) reads and
/// O(n) copying however large it is.
const READ_CHUNK: usize = 256 << 10;

/// One direction of a recording, read as the decoder needs it: the buffer
/// holds the item being read (and at most one read beyond it), not the
/// recording.
struct Input<R> {
    reader: R,
    buf: BytesMut,
    /// Bytes of the recording not read yet.
    left: u64,
    /// The smallest read.
    chunk: usize,
    /// Named in read errors.
    direction: Direction,
}

impl<R: Read> Input<R> {
    fn new(reader: R, len: u64, chunk: usize, direction: Direction) -> Input<R> {
        Input {
            reader,
            buf: BytesMut::new(),
            left: len,
            chunk: chunk.max(1),
            direction,
        }
    }

    /// Reads more into the buffer; false at the end of the recording.
    fn more(&mut self) -> std::io::Result<bool> {
        if self.left == 0 {
            return Ok(false);
        }
        let want = usize::try_from(self.left)
            .unwrap_or(usize::MAX)
            .min(self.chunk.max(self.buf.len()));
        let start = self.buf.len();
        self.buf.resize(start + want, 0);
        let mut got = 0;
        while got < want {
            match self.reader.read(&mut self.buf[start + got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.buf.truncate(start + got);
                    let what = format!("{}: {e}", self.direction);
                    return Err(std::io::Error::new(e.kind(), what));
                }
            }
        }
        self.buf.truncate(start + got);
        // A file that got shorter since its length was taken ends here.
        self.left = if got < want {
            0
        } else {
            self.left - got as u64
        };
        Ok(got > 0)
    }

    /// Reads until at least `n` bytes are buffered or the recording ends.
    fn fill(&mut self, n: usize) -> std::io::Result<()> {
        while self.buf.len() < n && self.more()? {}
        Ok(())
    }

    /// Bytes not consumed: buffered or not read yet.
    fn remaining(&self) -> u64 {
        self.buf.len() as u64 + self.left
    }
}

/// A recorded connection decoded with one layout, task by task, from two
/// readers: each task is handed out with its reply as soon as both are read,
/// so that what is held is one task (its frames and reply), not the
/// recording — or, read with [`ConnReader::next_task_with`], one frame or
/// reply item of it. It reads what [`decode_partial`] reads and stops where it stops;
/// [`ConnReader::finish`] says where.
///
/// Memory: besides the task handed out, each direction's buffer holds the
/// item being read and at most one read beyond it. An item is held whole
/// before it is handed out, so the bound is the largest item: a data frame
/// or reply frame (at most the frame limit of [`sparkwire_worker::protocol::Limits`]),
/// a header or an Arrow message; and the worker's bytes after its last
/// reply, which are kept as they are ([`Connection::trailing`]).
pub struct ConnReader<R> {
    version: SparkVersion,
    to: Input<R>,
    from: Input<R>,
    dec: TaskDecoder,
    /// The JVM → worker prelude's length.
    pt: u64,
    mode: Mode,
    pid: i32,
    prelude: (Vec<u8>, Vec<u8>),
    /// A failed fork: the whole connection, without tasks.
    fork: Option<Connection>,
    pos: Pos,
    /// Task headers read.
    tasks: usize,
    /// The JVM → worker direction was read to its end or its stop.
    to_done: bool,
    to_stop: Option<CaptureError>,
    to_decoded: u64,
    from_stop: Option<CaptureError>,
    /// Worker → JVM bytes accounted for, prelude included.
    consumed: u64,
    from_len: u64,
}

impl<R: Read> ConnReader<R> {
    /// Reads the prelude. The outer `Err` is a read error, the inner one a
    /// prelude that cannot be read.
    pub fn open(
        to: R,
        to_len: u64,
        from: R,
        from_len: u64,
        version: SparkVersion,
    ) -> std::io::Result<Result<ConnReader<R>, CaptureError>> {
        ConnReader::open_chunked(to, to_len, from, from_len, version, READ_CHUNK)
    }

    /// [`ConnReader::open`] with reads of at least `chunk` bytes (tests
    /// read with tiny ones, to show that where the reads fall changes
    /// nothing).
    fn open_chunked(
        to: R,
        to_len: u64,
        from: R,
        from_len: u64,
        version: SparkVersion,
        chunk: usize,
    ) -> std::io::Result<Result<ConnReader<R>, CaptureError>> {
        let (mut to, mut from) = (
            Input::new(to, to_len, chunk, Direction::ToWorker),
            Input::new(from, from_len, chunk, Direction::FromWorker),
        );
        // Enough of both directions for the prelude: a secret (of the length
        // its prefix declares, when the recording holds that many bytes), the
        // pid and the "ok"; a shorter recording is read whole.
        to.fill(4)?;
        from.fill(4)?;
        let declared = |b: &BytesMut, len: u64| {
            i32_at(b, 0).map_or(0, |n| u64::try_from(n).unwrap_or(0).min(len))
        };
        let want = 16 + declared(&to.buf, to_len).max(declared(&from.buf, from_len));
        let want = usize::try_from(want).unwrap_or(usize::MAX);
        to.fill(want)?;
        from.fill(want)?;
        let whole = to.left == 0 && from.left == 0;
        let mut r = ConnReader {
            version,
            dec: TaskDecoder::new(version),
            pt: 0,
            mode: Mode::Simple,
            pid: 0,
            prelude: (Vec::new(), Vec::new()),
            fork: None,
            pos: Pos::BeforeHeader,
            tasks: 0,
            to_done: false,
            to_stop: None,
            to_decoded: 0,
            from_stop: None,
            consumed: 0,
            from_len,
            to,
            from,
        };
        if whole {
            if let Some(c) = fork_failure(&r.to.buf, &r.from.buf, version) {
                r.fork = Some(c);
                r.to_done = true;
                return Ok(Ok(r));
            }
        }
        let (mode, pid, pt, pf) = match prelude(&r.to.buf, &r.from.buf) {
            Ok(p) => p,
            Err(e) => return Ok(Err(e)),
        };
        r.prelude = (
            r.to.buf.split_to(pt).to_vec(),
            r.from.buf.split_to(pf).to_vec(),
        );
        (r.mode, r.pid, r.pt, r.consumed) = (mode, pid, pt as u64, pf as u64);
        Ok(Ok(r))
    }

    /// The next task with its reply, or `None` after the last one.
    pub fn next_task(&mut self) -> std::io::Result<Option<Task>> {
        self.read_task(true, &mut |_| {})
    }

    /// The next task, its pieces handed to `visit` as they are read — the
    /// header, each data frame, each reply item — and dropped: the task
    /// returned holds neither its data frames nor the reply's data items
    /// ([`ReplyItem::Data`], [`ReplyItem::Null`]) before its first
    /// accumulator or end marker (see [`Piece`]), so that what is held of a
    /// task is one frame or reply item, however many it has. Everything else
    /// (header, Arrow sections, markers) is kept as [`ConnReader::next_task`]
    /// keeps it, and it reads and stops exactly where that does.
    pub fn next_task_with(
        &mut self,
        visit: &mut dyn FnMut(Piece<'_>),
    ) -> std::io::Result<Option<Task>> {
        self.read_task(false, visit)
    }

    /// [`ConnReader::next_task`] (`keep`: data kept in the task) or
    /// [`ConnReader::next_task_with`].
    fn read_task(
        &mut self,
        keep: bool,
        visit: &mut dyn FnMut(Piece<'_>),
    ) -> std::io::Result<Option<Task>> {
        if self.to_done {
            return Ok(None);
        }
        let mut task: Option<Task> = None;
        // Data section items read, kept or not (named in a stop).
        let mut inputs = 0usize;
        loop {
            let items = task.as_ref().map(|t| inputs + t.arrow_input.len());
            let at = self.pt + self.dec.offset();
            let item = match self.dec.decode(&mut self.to.buf) {
                Ok(Step::Item(i)) => i,
                Ok(Step::NeedMore) if self.to.more()? => continue,
                Ok(Step::NeedMore) => {
                    self.end_to(items);
                    break;
                }
                Err(source) => {
                    let (section, item, _) = to_worker_section(self.tasks, items, self.pos);
                    self.to_stop = Some(CaptureError {
                        direction: Direction::ToWorker,
                        section,
                        item,
                        problem: Problem::Task { source, at },
                    });
                    self.end_to(items);
                    break;
                }
            };
            self.pos = match &item {
                TaskItem::Header(_) | TaskItem::Data(_) => Pos::InData,
                TaskItem::Arrow(SectionItem::End) | TaskItem::EndOfData => Pos::AfterData,
                TaskItem::Arrow(_) => Pos::InData,
                TaskItem::Finish(_) => Pos::BeforeHeader,
            };
            match item {
                TaskItem::Header(h) => {
                    self.tasks += 1;
                    inputs = 0;
                    visit(Piece::Header(&h));
                    task = Some(Task {
                        header: *h,
                        input: Vec::new(),
                        arrow_input: Vec::new(),
                        end_of_data: false,
                        finish: None,
                        reply: Vec::new(),
                        reply_complete: false,
                        declared_accumulators: None,
                    });
                }
                TaskItem::Data(f) => {
                    if let Some(t) = &mut task {
                        inputs += 1;
                        visit(Piece::Input(&f));
                        if keep {
                            t.input.push(f)
                        }
                    }
                }
                TaskItem::Arrow(a) => {
                    if let Some(t) = &mut task {
                        t.arrow_input.push(a)
                    }
                }
                TaskItem::EndOfData => {
                    if let Some(t) = &mut task {
                        t.end_of_data = true
                    }
                }
                TaskItem::Finish(x) => {
                    if let Some(t) = &mut task {
                        t.finish = Some(x);
                        break;
                    }
                }
            }
        }
        let Some(mut task) = task else {
            return Ok(None);
        };
        if self.from_stop.is_none() {
            self.read_reply(&mut task, keep, visit)?;
        }
        Ok(Some(task))
    }

    /// Where the JVM → worker direction stopped, once it has.
    fn end_to(&mut self, current: Option<usize>) {
        self.to_done = true;
        let at = self.pt + self.dec.offset();
        let buf = &self.to.buf;
        if self.to_stop.is_none() && !buf.is_empty() {
            let (section, item, what) = to_worker_section(self.tasks, current, self.pos);
            // Inside a header: every field read before the cut.
            let prefix = matches!(section, Section::Header(_))
                .then(|| TaskHeader::decode_prefix(buf, self.version, &Limits::default()));
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
            self.to_stop = Some(CaptureError {
                direction: Direction::ToWorker,
                section,
                item,
                problem: problem.unwrap_or(Problem::CutInsideItem {
                    what,
                    at,
                    recorded: buf.len(),
                    declared: matches!(section, Section::Data(_))
                        .then(|| declared_len(buf))
                        .flatten(),
                }),
            });
        } else if self.to_stop.is_none() && !self.dec.between_tasks() {
            let (section, item, _) = to_worker_section(self.tasks, current, self.pos);
            self.to_stop = Some(CaptureError {
                direction: Direction::ToWorker,
                section,
                item,
                problem: Problem::EndsInside { what: "task", at },
            });
        } else if self.to_stop.is_none() && self.tasks == 0 {
            self.to_stop = Some(err(
                Direction::ToWorker,
                Section::Header(0),
                Problem::NoTaskHeader { at },
            ));
        }
        self.to_decoded = match &self.to_stop {
            Some(e) => e.problem.offset().unwrap_or(at),
            None => at,
        };
    }

    /// The worker's reply to the task just read (the `self.tasks`th).
    fn read_reply(
        &mut self,
        task: &mut Task,
        keep: bool,
        visit: &mut dyn FnMut(Piece<'_>),
    ) -> std::io::Result<()> {
        let i = self.tasks.saturating_sub(1);
        let mut r = ReplyDecoder::new(self.version);
        // Items read, kept or not (named in a stop); whether the reply's
        // tail (its first accumulator or end marker on) has begun.
        let (mut items, mut tail) = (0usize, false);
        loop {
            let at = self.consumed + r.offset();
            let step = r.decode(&mut self.from.buf);
            // The count the worker declared, once read; not from an item that
            // turns out damaged, where decoding (and re-encoding) stops before
            // the item, count included.
            if step.is_ok() {
                task.declared_accumulators = r.declared_accumulators();
            }
            match step {
                Ok(Step::Item(Some(item))) => {
                    items += 1;
                    tail |= starts_tail(&item);
                    visit(Piece::Reply(&item));
                    if keep || tail || !matches!(item, ReplyItem::Data(_) | ReplyItem::Null) {
                        task.reply.push(item)
                    }
                }
                Ok(Step::Item(None)) => break,
                Err(source) => {
                    self.from_stop = Some(err_at(
                        Direction::FromWorker,
                        Section::Reply(i),
                        items,
                        Problem::Reply { source, at },
                    ));
                    self.consumed = at;
                    return Ok(());
                }
                Ok(Step::NeedMore) if self.from.more()? => {}
                // The worker was killed, or the recording ends, mid-reply: the
                // rest of the connection is missing, which `reply_complete` says.
                Ok(Step::NeedMore) => {
                    let buf = &self.from.buf;
                    let problem = if buf.is_empty() {
                        Problem::EndsInside { what: "reply", at }
                    } else {
                        Problem::CutInsideItem {
                            what: "a reply item",
                            at,
                            recorded: buf.len(),
                            declared: None,
                        }
                    };
                    self.from_stop = Some(err_at(
                        Direction::FromWorker,
                        Section::Reply(i),
                        items,
                        problem,
                    ));
                    self.consumed = at;
                    return Ok(());
                }
            }
        }
        task.reply_complete = true;
        self.consumed += r.offset();
        Ok(())
    }

    /// The connection without its tasks (each was handed out by
    /// [`ConnReader::next_task`]; any not taken are read and dropped), and
    /// the first stop that is damage rather than an end.
    pub fn finish(mut self) -> std::io::Result<(Connection, Option<CaptureError>)> {
        if let Some(c) = self.fork.take() {
            return Ok((c, None));
        }
        while self.next_task_with(&mut |_| {})?.is_some() {}
        // Bytes after the last reply are the worker's (tolerated, spec §10) only
        // when every reply was read: otherwise they are the unread rest.
        let to_damaged = self
            .to_stop
            .as_ref()
            .is_some_and(|e| e.problem.kind() != StopKind::Ended);
        let rest = self.from.remaining();
        let trailing = if self.from_stop.is_some() {
            Vec::new()
        } else if to_damaged && rest > 0 {
            // Replies to tasks whose bytes the JVM → worker direction does not
            // hold readably: unread, not the worker's tolerated extra bytes.
            self.from_stop = Some(err(
                Direction::FromWorker,
                Section::Reply(self.tasks),
                Problem::Unpaired {
                    bytes: usize::try_from(rest).unwrap_or(usize::MAX),
                    at: self.consumed,
                },
            ));
            Vec::new()
        } else {
            while self.from.more()? {}
            self.consumed = self.from_len;
            self.from.buf.to_vec()
        };
        let stops: Vec<Stop> = [&self.to_stop, &self.from_stop]
            .into_iter()
            .flatten()
            .map(Stop::from)
            .collect();
        // A recording that ends between items is what a killed worker leaves:
        // kept in `stops`, not an error of the strict decode.
        let first = [self.to_stop, self.from_stop]
            .into_iter()
            .flatten()
            .find(|e| e.problem.kind() != StopKind::Ended);
        let c = Connection {
            version: self.version,
            fits: vec![self.version],
            mode: self.mode,
            pid: self.pid,
            prelude: self.prelude,
            tasks: Vec::new(),
            trailing,
            fork_errno: None,
            stops,
            decoded: (self.to_decoded, self.consumed),
        };
        Ok((c, first))
    }
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
    let mut best = Best::default();
    for v in SparkVersion::ALL {
        best.push(read(to, from, v));
    }
    best.finish()
}

/// Chooses among the reads of one connection with each layout, as
/// [`decode_best`] does, holding only the candidates still in the running,
/// and the tasks of only the one that would be chosen now: the clean reads
/// are chosen among as [`decode`] chooses, else the furthest.
#[derive(Default)]
pub struct Best {
    /// Each clean read, and whether every reply in it was complete.
    clean: Vec<(Connection, bool)>,
    furthest: Vec<Connection>,
    last_err: Option<Stop>,
}

impl Best {
    /// One layout's read: the connection and the damage it stopped at, or
    /// the prelude it could not read.
    pub fn push(&mut self, read: Result<(Connection, Option<CaptureError>), CaptureError>) {
        match read {
            Ok((mut c, None)) => {
                // A clean read beats every read that stopped.
                self.furthest.clear();
                let complete = c.is_complete();
                let chosen_now = if complete {
                    !self.clean.iter().any(|(_, k)| *k)
                } else {
                    self.clean.is_empty()
                };
                if chosen_now {
                    for (o, _) in &mut self.clean {
                        o.tasks = Vec::new();
                    }
                } else {
                    c.tasks = Vec::new();
                }
                self.clean.push((c, complete));
            }
            Ok((mut c, Some(_))) if self.clean.is_empty() => {
                // A cut header's fields read in full count: the layout got
                // that far into it.
                let reach = |c: &Connection| {
                    let header = c.stops.iter().filter_map(|s| s.header.as_ref());
                    c.decoded.0 + c.decoded.1 + header.map(|h| h.cut.offset).sum::<u64>()
                };
                match self.furthest.first().map(reach) {
                    Some(r) if r > reach(&c) => {}
                    Some(r) if r == reach(&c) => {
                        c.tasks = Vec::new();
                        self.furthest.push(c);
                    }
                    _ => self.furthest = vec![c],
                }
            }
            Ok(_) => {}
            Err(e) => self.last_err = Some(Stop::from(&e)),
        }
    }

    /// The chosen read, with every layout that did as well in `fits`.
    pub fn finish(self) -> Result<Connection, Stop> {
        let Best {
            mut clean,
            mut furthest,
            last_err,
        } = self;
        if !clean.is_empty() {
            // A layout that reads every reply to its end beats one that stops
            // inside a reply (a wrong timing layout can look like a reply cut short).
            if clean.iter().any(|(_, complete)| *complete) {
                clean.retain(|(_, complete)| *complete);
            }
            furthest = clean.into_iter().map(|(c, _)| c).collect();
        }
        let fits: Vec<SparkVersion> = furthest.iter().map(|c| c.version).collect();
        match furthest.into_iter().next() {
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
}

/// The two directions re-encoded from the decoded connection: equal to the
/// recording when nothing was lost. The JVM → worker direction is written by
/// the same [`TaskEncoder`] a host's session uses.
pub fn reencode(c: &Connection) -> Result<(Vec<u8>, Vec<u8>), CaptureError> {
    let mut to = c.prelude.0.clone();
    let mut from = c.prelude.1.clone();
    for (i, t) in c.tasks.iter().enumerate() {
        reencode_task(t, i, c.version, &mut to, &mut from)?;
    }
    from.extend(&c.trailing);
    Ok((to, from))
}

/// Task `i` of a connection re-encoded with `v`'s layout, appended to the two
/// directions: what [`reencode`] writes for it.
pub fn reencode_task(
    t: &Task,
    i: usize,
    v: SparkVersion,
    to: &mut Vec<u8>,
    from: &mut Vec<u8>,
) -> Result<(), CaptureError> {
    reencode_task_with(t, i, v, &mut |d, bytes| match d {
        Direction::ToWorker => to.extend_from_slice(bytes),
        Direction::FromWorker => from.extend_from_slice(bytes),
    })
}

/// Task `i` re-encoded with `v`'s layout a piece at a time — the header, each
/// data frame, the section's end, each reply item ([`PieceEncoder`]) — each piece handed to
/// `emit` with its direction as soon as it is written, so that a
/// verification can compare frame by frame without the task's bytes
/// re-encoded whole (an Arrow data section is one piece). The pieces of a
/// direction, concatenated, are what [`reencode_task`] writes.
pub fn reencode_task_with(
    t: &Task,
    i: usize,
    v: SparkVersion,
    emit: &mut dyn FnMut(Direction, &[u8]),
) -> Result<(), CaptureError> {
    let mut enc = PieceEncoder::new(i, v);
    enc.piece(Piece::Header(&t.header), emit)?;
    for f in &t.input {
        enc.piece(Piece::Input(f), emit)?;
    }
    for item in &t.reply {
        enc.piece(Piece::Reply(item), emit)?;
    }
    enc.finish(t, emit)
}

/// Task `i` re-encoded a piece at a time as it is read
/// ([`ConnReader::next_task_with`]): each piece with [`PieceEncoder::piece`]
/// as it comes, then the rest with [`PieceEncoder::finish`] and the task the
/// reader returned. What it emits is what [`reencode_task_with`] emits for
/// the task read whole.
pub struct PieceEncoder {
    i: usize,
    v: SparkVersion,
    enc: TaskEncoder,
    /// The reply's tail has begun: its items are written by `finish`.
    tail: bool,
    buf: Vec<u8>,
}

impl PieceEncoder {
    /// For task `i`, with `v`'s layout.
    pub fn new(i: usize, v: SparkVersion) -> PieceEncoder {
        PieceEncoder {
            i,
            v,
            enc: TaskEncoder::new(v),
            tail: false,
            buf: Vec::new(),
        }
    }

    fn to_err(&self, p: Problem) -> CaptureError {
        err(Direction::ToWorker, Section::Header(self.i), p)
    }

    fn reply_err(&self, e: ReplyError) -> CaptureError {
        err(
            Direction::FromWorker,
            Section::Reply(self.i),
            Problem::ReplyEncode(e),
        )
    }

    /// Re-encodes one piece: the header, a data frame, or a reply item
    /// before the reply's tail (the items before the first accumulator or
    /// end marker stand alone; from there on the reply is one piece, written
    /// by `finish`).
    pub fn piece(
        &mut self,
        p: Piece<'_>,
        emit: &mut dyn FnMut(Direction, &[u8]),
    ) -> Result<(), CaptureError> {
        self.buf.clear();
        match p {
            Piece::Header(h) => {
                let r = self.enc.header(h, &mut self.buf);
                r.map_err(|e| self.to_err(e.into()))?;
                emit(Direction::ToWorker, &self.buf);
            }
            Piece::Input(f) => {
                let r = self.enc.frame(f, &mut self.buf);
                r.map_err(|e| self.to_err(e.into()))?;
                emit(Direction::ToWorker, &self.buf);
            }
            Piece::Reply(item) => {
                self.tail |= starts_tail(item);
                if !self.tail {
                    let b = encode_reply(std::slice::from_ref(item), self.v)
                        .map_err(|e| self.reply_err(e))?;
                    emit(Direction::FromWorker, &b);
                }
            }
        }
        Ok(())
    }

    /// The end of the data section (or the Arrow section), the `i32` after
    /// it, and the reply's tail, from the task as it was returned.
    pub fn finish(
        mut self,
        t: &Task,
        emit: &mut dyn FnMut(Direction, &[u8]),
    ) -> Result<(), CaptureError> {
        self.buf.clear();
        if t.header.eval_type.is_arrow() {
            self.enc.arrow(&t.arrow_input, &mut self.buf);
        } else if t.end_of_data {
            self.enc.end_of_data(&mut self.buf);
        }
        if let Some(x) = t.finish {
            self.enc.finish(x, &mut self.buf);
        }
        emit(Direction::ToWorker, &self.buf);
        let k = t
            .reply
            .iter()
            .position(starts_tail)
            .unwrap_or(t.reply.len());
        let b = encode_reply_declaring(&t.reply[k..], self.v, t.declared_accumulators)
            .map_err(|e| self.reply_err(e))?;
        emit(Direction::FromWorker, &b);
        Ok(())
    }
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

    /// Every third golden worker connection (two per job), whole, cut in
    /// either direction and with a byte flipped: (job, to, from).
    fn golden_cases() -> Vec<(String, Vec<u8>, Vec<u8>)> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/golden/worker");
        let mut dirs = Vec::new();
        for release in std::fs::read_dir(&root).unwrap() {
            let release = release.unwrap().path();
            if !release.is_dir() {
                continue;
            }
            for job in std::fs::read_dir(release).unwrap() {
                dirs.push(job.unwrap().path());
            }
        }
        dirs.sort();
        assert!(dirs.len() > 20, "{dirs:?}");
        let mut cases = Vec::new();
        for dir in dirs.iter().step_by(3) {
            let Ok(recorded) = crate::capture_dir::read_dir(dir) else {
                continue;
            };
            let name = dir.display().to_string();
            for r in recorded.iter().take(2) {
                let (to, from) = (&r.to_worker, &r.from_worker);
                cases.push((name.clone(), to.clone(), from.clone()));
                for k in 1..4 {
                    let cut_to = to[..to.len() * k / 4].to_vec();
                    cases.push((name.clone(), cut_to, from.clone()));
                    let cut_from = from[..from.len() * k / 4].to_vec();
                    cases.push((name.clone(), to.clone(), cut_from));
                    let mut bad = to.clone();
                    let at = bad.len() * k / 4;
                    if let Some(b) = bad.get_mut(at) {
                        *b ^= 0x5a;
                    }
                    cases.push((name.clone(), bad, from.clone()));
                }
            }
        }
        cases
    }

    /// Every golden capture, whole and cut or damaged at a spread of bytes,
    /// reads the same however the reads fall: one byte at a time, a few, or
    /// all at once.
    #[test]
    fn where_the_reads_fall_changes_nothing() {
        let mut checked = 0;
        for (dir, t, f) in &golden_cases() {
            for v in [SparkVersion::V3_5, SparkVersion::V4_3] {
                let whole = format!("{:?}", read_chunked(t, f, v, usize::MAX));
                for chunk in [1, 7, 4096] {
                    let got = format!("{:?}", read_chunked(t, f, v, chunk));
                    assert!(got == whole, "{dir} chunk {chunk}");
                }
                checked += 1;
            }
        }
        assert!(checked > 100, "{checked}");
    }

    /// Reading a task a piece at a time hands out every data frame and reply
    /// item, in order, keeps none of the data it handed out before the
    /// reply's tail, and reads and stops where reading it whole does; its
    /// pieces re-encode to what the whole task re-encodes to.
    #[test]
    fn reading_a_piece_at_a_time_hands_out_what_reading_whole_keeps() {
        let mut checked = 0;
        for (dir, t, f) in &golden_cases() {
            for v in [SparkVersion::V3_5, SparkVersion::V4_3] {
                let whole = read_chunked(t, f, v, usize::MAX);
                let (tl, fl) = (t.len() as u64, f.len() as u64);
                let mut r = match ConnReader::open(&t[..], tl, &f[..], fl, v).unwrap() {
                    Ok(r) => r,
                    Err(e) => {
                        assert_eq!(format!("{whole:?}"), format!("{:?}", Err::<(), _>(e)));
                        continue;
                    }
                };
                let mut tasks = Vec::new();
                loop {
                    let (mut input, mut reply) = (Vec::new(), Vec::new());
                    let mut enc = PieceEncoder::new(tasks.len(), v);
                    let (mut to, mut from) = (Vec::new(), Vec::new());
                    let mut emit = |d: Direction, b: &[u8]| match d {
                        Direction::ToWorker => to.extend_from_slice(b),
                        Direction::FromWorker => from.extend_from_slice(b),
                    };
                    let mut encoded = Ok(());
                    let read = r.next_task_with(&mut |p| {
                        match p {
                            Piece::Input(f) => input.push(f.clone()),
                            Piece::Reply(item) => reply.push(item.clone()),
                            Piece::Header(_) => {}
                        }
                        if encoded.is_ok() {
                            encoded = enc.piece(p, &mut emit);
                        }
                    });
                    let Some(mut task) = read.unwrap() else { break };
                    assert!(task.input.is_empty(), "{dir}");
                    // Kept: the reply's markers, and its tail whole.
                    let tail = reply.iter().position(starts_tail).unwrap_or(reply.len());
                    let kept: Vec<&ReplyItem> = (reply[..tail].iter())
                        .filter(|i| !matches!(i, ReplyItem::Data(_) | ReplyItem::Null))
                        .chain(&reply[tail..])
                        .collect();
                    assert_eq!(
                        format!("{:?}", task.reply.iter().collect::<Vec<_>>()),
                        format!("{kept:?}"),
                        "{dir}"
                    );
                    task.input = input;
                    task.reply = reply;
                    if encoded.is_ok() {
                        encoded = enc.finish(&task, &mut emit);
                    }
                    let (mut to_whole, mut from_whole) = (Vec::new(), Vec::new());
                    let again =
                        reencode_task(&task, tasks.len(), v, &mut to_whole, &mut from_whole);
                    assert_eq!(format!("{encoded:?}"), format!("{again:?}"), "{dir}");
                    if again.is_ok() {
                        assert!(to == to_whole && from == from_whole, "{dir}");
                    }
                    tasks.push(task);
                }
                let (mut c, first) = r.finish().unwrap();
                c.tasks = tasks;
                assert!(
                    format!("{:?}", Ok::<_, CaptureError>((c, first))) == format!("{whole:?}"),
                    "{dir}"
                );
                checked += 1;
            }
        }
        assert!(checked > 100, "{checked}");
    }
}
