//! A recorded worker connection decoded from where its bytes are — two files
//! of a capture directory, or two buffers — without holding more than one
//! task of it: the layout is chosen by reading the bytes once per candidate
//! release and keeping only each task's header ([`crate::capture::read_skeleton`]),
//! and the tasks are read again, one at a time, when they are rendered
//! ([`Recording::task_reports`]) or verified ([`Recording::verify`]).
//!
//! Memory is bounded by the largest item of the recording (see
//! [`ConnReader`]), plus one header per task: the layout search, the text
//! reports ([`TaskSource::task_reports`]) and the verification read each task
//! a frame or reply item at a time ([`ConnReader::next_task_with`]) and hold
//! none of its data, so memory grows neither with the number of tasks nor
//! with a task's records, frames or bytes. The JSON report reads each task
//! once for its report and once more for each list of records it writes
//! from the frames ([`TaskSource::json_tasks`]); an Arrow task is held
//! whole while it is written.

use std::borrow::Cow;
use std::cell::RefCell;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use sparkwire_framing::Frame;
use sparkwire_worker::protocol::{ReplyItem, SparkVersion};

use crate::capture::{
    read_skeleton, Best, CaptureError, ConnReader, Connection, Direction, Piece, PieceEncoder,
    Stop, Task,
};
use crate::error::InspectError;
use crate::report::{TaskReport, TaskReportBuilder};
use crate::streamed::{JsonTask, Keep, List, Reread, TaskIter, TaskSource};

/// Where a recording's two directions are.
#[derive(Debug, Clone)]
pub enum Origin {
    /// Two files (`to_worker.N.bin`, `from_worker.N.bin`).
    Files {
        /// JVM → worker.
        to: PathBuf,
        /// Worker → JVM.
        from: PathBuf,
    },
    /// Two buffers (standard input, or a pcap's reassembled streams).
    Memory {
        /// JVM → worker.
        to: Vec<u8>,
        /// Worker → JVM.
        from: Vec<u8>,
    },
}

/// The two directions opened for reading, with their lengths.
type Opened<'a> = (Box<dyn Read + 'a>, u64, Box<dyn Read + 'a>, u64);

impl Origin {
    fn open(&self) -> Result<Opened<'_>, InspectError> {
        match self {
            Origin::Files { to, from } => {
                let (t, tl) = open_file(to)?;
                let (f, fl) = open_file(from)?;
                Ok((Box::new(t), tl, Box::new(f), fl))
            }
            Origin::Memory { to, from } => Ok((
                Box::new(&to[..]),
                to.len() as u64,
                Box::new(&from[..]),
                from.len() as u64,
            )),
        }
    }

    /// A read error, named by the file it happened in when there is one.
    fn io_error(&self, source: std::io::Error) -> InspectError {
        let path = match self {
            Origin::Files { to, from } => {
                if source.to_string().starts_with("from_worker") {
                    from.clone()
                } else {
                    to.clone()
                }
            }
            Origin::Memory { .. } => PathBuf::from("-"),
        };
        InspectError::Io { path, source }
    }
}

fn open_file(path: &Path) -> Result<(File, u64), InspectError> {
    let io = |source| InspectError::Io {
        path: path.to_path_buf(),
        source,
    };
    let f = File::open(path).map_err(io)?;
    let len = f.metadata().map_err(io)?.len();
    Ok((f, len))
}

/// A decoded recording: the connection without its tasks' data and replies
/// (each task's header, whether its reply was complete, where decoding
/// stopped), and where to read the tasks again.
#[derive(Debug)]
pub struct Recording {
    /// The connection's name.
    pub name: String,
    /// Where its bytes are.
    pub origin: Origin,
    /// The connection as [`crate::capture::decode_best`] gives it, except that its
    /// tasks hold only their headers and reply flags.
    pub conn: Connection,
}

impl Recording {
    /// Decodes a recording as [`crate::capture::decode_best`] does — with `spark`'s
    /// layout, or choosing among every release's — reading it once per layout
    /// tried. The inner `Err` is a recording whose prelude no layout reads.
    pub fn decode(
        name: &str,
        origin: Origin,
        spark: Option<SparkVersion>,
    ) -> Result<Result<Recording, Stop>, InspectError> {
        let read = |v: SparkVersion| -> Result<_, InspectError> {
            let (t, tl, f, fl) = origin.open()?;
            read_skeleton(t, tl, f, fl, v).map_err(|e| origin.io_error(e))
        };
        let conn = match spark {
            Some(v) => match read(v)? {
                Ok((c, _)) => Ok(c),
                Err(e) => Err(Stop::from(&e)),
            },
            None => {
                let mut best = Best::default();
                for v in SparkVersion::ALL {
                    best.push(read(v)?);
                }
                best.finish()
            }
        };
        Ok(conn.map(|conn| Recording {
            name: name.to_owned(),
            origin,
            conn,
        }))
    }

    /// A recording already decoded whole (a pcap's worker connection): its
    /// tasks are dropped, to be read again from `origin` one at a time.
    pub fn from_decoded(name: &str, origin: Origin, mut conn: Connection) -> Recording {
        for t in &mut conn.tasks {
            t.input = Vec::new();
            t.arrow_input = Vec::new();
            t.reply = Vec::new();
        }
        Recording {
            name: name.to_owned(),
            origin,
            conn,
        }
    }

    /// The tasks, read again one at a time with the chosen layout; each
    /// comes with its index on the connection.
    pub fn tasks(&self) -> Result<Tasks<'_>, InspectError> {
        let (t, tl, f, fl) = self.origin.open()?;
        let reader = match ConnReader::open(t, tl, f, fl, self.conn.version) {
            Ok(Ok(r)) => Some(r),
            // It was read once: it reads again, unless the files changed.
            Ok(Err(e)) => return Err(changed(&self.origin, &e)),
            Err(e) => return Err(self.origin.io_error(e)),
        };
        Ok(Tasks {
            origin: &self.origin,
            reader,
            index: 0,
            skeleton: &self.conn.tasks,
        })
    }

    /// Re-encodes the recording task by task, frame by frame, and compares
    /// each direction with the recorded bytes as it goes: the first byte at which each
    /// direction (JVM → worker, worker → JVM) differs from its re-encoding,
    /// up to the bytes decoding accounted for.
    pub fn verify(&self) -> Result<[Option<u64>; 2], InspectError> {
        let (t, tl, f, fl) = self.origin.open()?;
        let io = |e| self.origin.io_error(e);
        let mut to = Compare::new(t, tl.min(self.conn.decoded.0));
        let mut from = Compare::new(f, fl.min(self.conn.decoded.1));
        to.push(&self.conn.prelude.0).map_err(io)?;
        from.push(&self.conn.prelude.1).map_err(io)?;
        let mut tasks = self.tasks()?;
        let v = self.conn.version;
        // Compared a frame (or reply item) at a time, as it is read: neither
        // the task nor its re-encoding is held. The first read error is kept
        // and stops the comparing; so does the first re-encoding error.
        let mut failed = None;
        let mut compare = |d: Direction, bytes: &[u8]| {
            if failed.is_none() {
                let side = match d {
                    Direction::ToWorker => &mut to,
                    Direction::FromWorker => &mut from,
                };
                failed = side.push(bytes).err();
            }
        };
        let mut enc: Option<PieceEncoder> = None;
        let mut bad = None;
        loop {
            let next = tasks.read(&mut |i, p| {
                if let Piece::Header(_) = p {
                    enc = Some(PieceEncoder::new(i, v));
                }
                if let (Some(e), None) = (&mut enc, &bad) {
                    bad = e.piece(p, &mut compare).err();
                }
            });
            let Some(next) = next else { break };
            let (_, task) = next?;
            if let (Some(e), None) = (enc.take(), &bad) {
                bad = e.finish(&task, &mut compare).err();
            }
            if let Some(source) = bad.take() {
                return Err(InspectError::Reencode { source });
            }
        }
        if let Some(e) = failed {
            return Err(io(e));
        }
        from.push(&self.conn.trailing).map_err(io)?;
        Ok([to.end(), from.end()])
    }
}

/// The recording no longer reads as it did.
fn changed(origin: &Origin, e: &CaptureError) -> InspectError {
    origin.io_error(std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!("the recording changed while it was decoded: {e}"),
    ))
}

/// A recording's tasks, read one at a time ([`Recording::tasks`]).
pub struct Tasks<'a> {
    origin: &'a Origin,
    reader: Option<ConnReader<Box<dyn Read + 'a>>>,
    index: usize,
    /// The tasks the first reading found, headers only.
    skeleton: &'a [Task],
}

impl Tasks<'_> {
    /// The next task read a piece at a time, each piece handed to `visit`
    /// with the task's index as it is read and dropped
    /// ([`ConnReader::next_task_with`]); the task comes back without its data.
    pub fn read(
        &mut self,
        visit: &mut dyn FnMut(usize, Piece<'_>),
    ) -> Option<Result<(usize, Task), InspectError>> {
        let i = self.index;
        self.next_read(false, &mut |p| visit(i, p))
    }

    /// The header of the next task as the first reading found it (what
    /// [`Keep`] is asked about before the task is read).
    pub fn next_header(&self) -> Option<&Task> {
        self.skeleton.get(self.index)
    }

    fn next_read(
        &mut self,
        whole: bool,
        visit: &mut dyn FnMut(Piece<'_>),
    ) -> Option<Result<(usize, Task), InspectError>> {
        let reader = self.reader.as_mut()?;
        let read = if whole {
            reader.next_task()
        } else {
            reader.next_task_with(visit)
        };
        let next = match read {
            Ok(Some(t)) if self.index < self.skeleton.len() => {
                self.index += 1;
                Some(Ok((self.index - 1, t)))
            }
            Ok(Some(_)) => Some(Err(self.origin.io_error(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "the recording changed while it was decoded: more tasks than before",
            )))),
            Ok(None) => None,
            Err(e) => Some(Err(self.origin.io_error(e))),
        };
        if !matches!(next, Some(Ok(_))) {
            self.reader = None;
        }
        next
    }
}

impl Iterator for Tasks<'_> {
    type Item = Result<(usize, Task), InspectError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_read(true, &mut |_| {})
    }
}

/// Task reports built as each task is read, a piece at a time
/// ([`TaskReportBuilder`]): what is held is one frame or reply item of the
/// task, its records and the records shown.
struct Reports<'a> {
    tasks: Tasks<'a>,
    keep: Keep<'a>,
    shown: Option<usize>,
    version: SparkVersion,
}

impl Iterator for Reports<'_> {
    type Item = Result<(usize, Task, TaskReport), InspectError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            // Tasks the filter leaves out are read and dropped; past the
            // first reading's tasks, `read` says the recording changed.
            let kept = self
                .tasks
                .next_header()
                .is_none_or(|t| (self.keep)(self.tasks.index, t));
            let (v, shown) = (self.version, self.shown);
            let mut b: Option<TaskReportBuilder> = None;
            let read = self.tasks.read(&mut |_, p| match (p, &mut b) {
                (Piece::Header(h), _) if kept => b = Some(TaskReportBuilder::new(h, v, shown)),
                (Piece::Input(f), Some(b)) => b.input(f),
                (Piece::Reply(item), Some(b)) => b.reply(item),
                _ => {}
            });
            match (read?, b) {
                (Ok((i, t)), Some(b)) => {
                    let report = b.finish(&t, i);
                    return Some(Ok((i, t, report)));
                }
                (Ok(_), None) => {}
                (Err(e), _) => return Some(Err(e)),
            }
        }
    }
}

impl TaskSource for Recording {
    fn version(&self) -> SparkVersion {
        self.conn.version
    }

    fn task_reports<'a>(
        &'a self,
        keep: Keep<'a>,
        shown: Option<usize>,
    ) -> Box<dyn Iterator<Item = Result<TaskReport, InspectError>> + 'a> {
        match Recording::tasks(self) {
            Ok(tasks) => Box::new(
                Reports {
                    tasks,
                    keep,
                    shown,
                    version: self.conn.version,
                }
                .map(|r| r.map(|(_, _, report)| report)),
            ),
            Err(e) => Box::new(std::iter::once(Err(e))),
        }
    }

    fn json_tasks<'a>(
        &'a self,
        keep: Keep<'a>,
        shown: usize,
    ) -> Box<dyn Iterator<Item = Result<JsonTask<'a>, InspectError>> + 'a> {
        let tasks = match Recording::tasks(self) {
            Ok(tasks) => tasks,
            Err(e) => return Box::new(std::iter::once(Err(e))),
        };
        let again: Rc<dyn Reread + 'a> = Rc::new(Rereader {
            recording: self,
            readers: RefCell::new(Vec::new()),
        });
        let reports = Reports {
            tasks,
            keep,
            shown: Some(shown),
            version: self.conn.version,
        };
        Box::new(reports.map(move |r| {
            r.map(|(index, task, report)| JsonTask {
                index,
                task: Cow::Owned(task),
                report,
                again: Some(again.clone()),
            })
        }))
    }

    fn tasks<'a>(&'a self, keep: Keep<'a>) -> TaskIter<'a> {
        match Recording::tasks(self) {
            Ok(tasks) => Box::new(tasks.filter_map(move |t| match t {
                Ok((i, t)) => keep(i, &t).then(|| Ok((i, Cow::Owned(t)))),
                Err(e) => Some(Err(e)),
            })),
            Err(e) => Box::new(std::iter::once(Err(e))),
        }
    }
}

/// A recording's tasks read again, each from a reader that has read the
/// tasks before it (without holding them): the JSON report reads each list of
/// a task's records from the task's frames while it writes them, one reader
/// per list, each going through the recording once.
struct Rereader<'a> {
    recording: &'a Recording,
    /// Readers not in use, each before the task it reads next.
    readers: RefCell<Vec<Tasks<'a>>>,
}

impl<'a> Rereader<'a> {
    /// A reader before task `index`: the one closest to it of those not
    /// past it, or a new one.
    fn at(&self, index: usize) -> Result<Tasks<'a>, InspectError> {
        let mut readers = self.readers.borrow_mut();
        let closest = (readers.iter().enumerate())
            .filter(|(_, t)| t.index <= index)
            .max_by_key(|(_, t)| t.index)
            .map(|(i, _)| i);
        let mut tasks = match closest {
            Some(i) => readers.swap_remove(i),
            None => self.recording.tasks()?,
        };
        drop(readers);
        while tasks.index < index {
            match tasks.read(&mut |_, _| {}) {
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e),
                None => return Err(fewer(&self.recording.origin)),
            }
        }
        Ok(tasks)
    }
}

/// The recording no longer holds a task it held.
fn fewer(origin: &Origin) -> InspectError {
    origin.io_error(std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        "the recording changed while it was decoded: fewer tasks than before",
    ))
}

impl Reread for Rereader<'_> {
    fn frames(
        &self,
        index: usize,
        list: List,
        visit: &mut dyn FnMut(&Frame),
    ) -> Result<(), InspectError> {
        let mut tasks = self.at(index)?;
        let read = tasks.read(&mut |_, p| match (p, list) {
            (Piece::Input(f), List::Input) => visit(f),
            (Piece::Reply(ReplyItem::Data(b)), List::Output) => visit(&Frame::Data(b.clone())),
            (Piece::Reply(ReplyItem::Null), List::Output) => visit(&Frame::Null),
            _ => {}
        });
        self.readers.borrow_mut().push(tasks);
        match read {
            Some(Ok(_)) => Ok(()),
            Some(Err(e)) => Err(e),
            None => Err(fewer(&self.recording.origin)),
        }
    }

    fn whole(&self, index: usize) -> Result<Task, InspectError> {
        let mut tasks = self.at(index)?;
        let read = tasks.next();
        self.readers.borrow_mut().push(tasks);
        match read {
            Some(Ok((_, t))) => Ok(t),
            Some(Err(e)) => Err(e),
            None => Err(fewer(&self.recording.origin)),
        }
    }
}

/// Compares bytes pushed in order with a recording's, reading it as it goes:
/// where they first differ, within the recording's first `limit` bytes.
struct Compare<R> {
    reader: R,
    limit: u64,
    at: u64,
    differs: Option<u64>,
    buf: Vec<u8>,
}

impl<R: Read> Compare<R> {
    fn new(reader: R, limit: u64) -> Compare<R> {
        Compare {
            reader,
            limit,
            at: 0,
            differs: None,
            buf: Vec::new(),
        }
    }

    fn push(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if self.differs.is_some() {
            return Ok(());
        }
        let n = usize::try_from(self.limit - self.at)
            .unwrap_or(usize::MAX)
            .min(bytes.len());
        self.buf.resize(n, 0);
        self.reader.read_exact(&mut self.buf)?;
        if let Some(i) = self.buf.iter().zip(bytes).position(|(a, b)| a != b) {
            self.differs = Some(self.at + i as u64);
        } else if n < bytes.len() {
            // Longer than the recording's decoded bytes.
            self.differs = Some(self.limit);
        }
        self.at += n as u64;
        Ok(())
    }

    /// Where they differ, if they do (a re-encoding shorter than the
    /// recording differs where it ends).
    fn end(self) -> Option<u64> {
        self.differs.or((self.at < self.limit).then_some(self.at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where the whole-buffer comparison `verify` made before says two
    /// byte strings differ: the first unequal byte, or the shorter's end.
    fn whole(recorded: &[u8], limit: usize, again: &[u8]) -> Option<u64> {
        let a = &recorded[..limit.min(recorded.len())];
        (a != again).then(|| {
            a.iter()
                .zip(again)
                .position(|(x, y)| x != y)
                .unwrap_or(a.len().min(again.len())) as u64
        })
    }

    #[test]
    fn comparing_piece_by_piece_finds_what_comparing_whole_finds() {
        let recorded: Vec<u8> = (0..40u8).collect();
        let mut cases: Vec<(usize, Vec<u8>)> =
            vec![(40, recorded.clone()), (25, recorded[..25].to_vec())];
        for at in [0, 7, 24, 39] {
            let mut b = recorded.clone();
            b[at] ^= 1;
            cases.push((40, b));
        }
        cases.push((40, recorded[..31].to_vec()));
        cases.push((25, recorded.clone()));
        cases.push((40, [&recorded[..], b"more"].concat()));
        for (limit, again) in &cases {
            for piece in [1, 3, 16, 64] {
                let mut c = Compare::new(&recorded[..], *limit as u64);
                for p in again.chunks(piece) {
                    c.push(p).unwrap();
                }
                assert_eq!(
                    c.end(),
                    whole(&recorded, *limit, again),
                    "limit {limit}, pieces of {piece}, {again:?}"
                );
            }
        }
    }
}
