//! A blocking adapter: one [`Session`] over one connected socket, with a reader
//! thread and a writer thread, so that a task's input streams to the worker
//! while its output is read (as `PythonRunner` does), with bounded memory: at
//! most [`MAX_IN_FLIGHT`] chunks of about [`CHUNK`] bytes wait for the writer.

use std::io;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use bytes::Bytes;
use sparkwire_framing::Frame;
use thiserror::Error;

use super::stream::Duplex;
use crate::protocol::session::{Event, Session, SessionError};
use crate::protocol::{ReplyItem, TaskHeader};

/// Input bytes gathered before they are handed to the writer thread.
pub const CHUNK: usize = 64 * 1024;
/// Chunks handed to the writer thread and not yet written.
pub const MAX_IN_FLIGHT: usize = 4;
/// Messages of the reader and writer threads (reads of up to [`CHUNK`] bytes)
/// that may wait for the caller: the output buffered ahead of the consumer is
/// bounded by about `READ_AHEAD × CHUNK`.
pub const READ_AHEAD: usize = 16;

/// Why a task could not be run.
#[derive(Debug, Error)]
pub enum HostError {
    /// The protocol failed (the worker's bytes, or a call out of order).
    #[error(transparent)]
    Session(#[from] SessionError),
    /// The socket failed.
    #[error("{during}: {source}")]
    Io {
        /// What was being done.
        during: &'static str,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// The worker sent nothing for too long.
    #[error("{during}: the worker sent nothing for {waited:?}")]
    Timeout {
        /// What was awaited.
        during: &'static str,
        /// How long.
        waited: Duration,
    },
}

/// What one task gave back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskOutcome {
    /// Every reply item, in order (data, timing, accumulators, end marker, or
    /// the exception).
    pub items: Vec<ReplyItem>,
    /// Whether the worker can take another task on this connection.
    pub reusable: bool,
}

impl TaskOutcome {
    /// The traceback, when the task failed in Python.
    pub fn exception(&self) -> Option<&str> {
        self.items.iter().find_map(|i| match i {
            ReplyItem::Exception(t) => Some(t.as_str()),
            _ => None,
        })
    }
}

/// What the reader and writer threads report.
enum Msg {
    Read(Vec<u8>),
    Eof,
    ReadError(io::Error),
    Written,
    WriteError(io::Error),
}

/// The input of one task: frames for a framed data section, raw bytes (IPC
/// streams with their group headers, in any chunking) for an Arrow one.
pub enum TaskInput<'a> {
    /// Frames (NON_UDF, SQL_BATCHED_UDF, SQL_TABLE_UDF).
    Frames(Box<dyn Iterator<Item = Frame> + Send + 'a>),
    /// Arrow data-section bytes.
    Arrow(Box<dyn Iterator<Item = Bytes> + Send + 'a>),
}

impl<'a> TaskInput<'a> {
    /// Frames from any iterator.
    pub fn frames(it: impl IntoIterator<Item = Frame, IntoIter: Send + 'a>) -> TaskInput<'a> {
        TaskInput::Frames(Box::new(it.into_iter()))
    }

    /// Arrow bytes from any iterator.
    pub fn arrow(it: impl IntoIterator<Item = Bytes, IntoIter: Send + 'a>) -> TaskInput<'a> {
        TaskInput::Arrow(Box::new(it.into_iter()))
    }

    /// Queues the next piece of input on `session`; false when the input ended.
    fn feed(&mut self, session: &mut Session) -> Result<bool, SessionError> {
        let more = match self {
            TaskInput::Frames(it) => it.next().map(|f| session.send_frame(&f)),
            TaskInput::Arrow(it) => it.next().map(|b| session.send_arrow(&b)),
        };
        match more {
            Some(r) => r.map(|()| true),
            None => Ok(false),
        }
    }
}

/// What driving a running task produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// The next reply item.
    Item(ReplyItem),
    /// The reply is complete.
    Done {
        /// Whether the worker can take another task on this connection.
        reusable: bool,
    },
}

/// One worker connection driven by a [`Session`]. Dropping it closes the
/// connection and joins its threads.
pub struct BlockingSession<S: Duplex> {
    session: Session,
    stream: S,
    to_writer: Option<SyncSender<Bytes>>,
    events: Receiver<Msg>,
    threads: Vec<JoinHandle<()>>,
    in_flight: usize,
    /// The running task's input has ended (or was abandoned).
    input_done: bool,
    /// Why the writer thread stopped, if it failed: reported only if the
    /// reply does not complete (a worker that failed sends its traceback
    /// after it stopped reading).
    write_failed: Option<io::Error>,
    /// Bytes of the worker's output received, handshake included.
    received: u64,
    timeout: Duration,
    pid: i32,
}

impl<S: Duplex> BlockingSession<S> {
    /// Runs `session`'s handshake on `stream`, reading no more than the session
    /// allows (an unauthenticated peer cannot make it read past the secret),
    /// then starts the reader and writer threads. `timeout` bounds every wait
    /// for the worker.
    pub fn connect(
        mut stream: S,
        mut session: Session,
        timeout: Duration,
    ) -> Result<BlockingSession<S>, HostError> {
        let io = |during| move |source| HostError::Io { during, source };
        stream
            .set_read_timeout(Some(timeout))
            .map_err(io("setting the read timeout"))?;
        let pid = loop {
            let flush = |s: &mut Session, stream: &mut S| -> Result<(), HostError> {
                if let Some(b) = s.poll_transmit() {
                    stream.write_all(&b).map_err(io("sending the handshake"))?;
                }
                Ok(())
            };
            flush(&mut session, &mut stream)?;
            if let Some(Event::Ready { pid }) = session.poll_event() {
                break pid;
            }
            let mut buf = [0u8; 4096];
            let limit = session.read_limit().min(buf.len());
            let n = match stream.read(&mut buf[..limit]) {
                Ok(n) => n,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err(HostError::Timeout {
                        during: "the handshake",
                        waited: timeout,
                    })
                }
                Err(e) => return Err(io("reading the handshake")(e)),
            };
            let fed = if n == 0 {
                session.handle_eof()
            } else {
                session.handle_input(&buf[..n])
            };
            if let Err(e) = fed {
                // A rejected secret is answered before the connection closes.
                let _ = flush(&mut session, &mut stream);
                return Err(e.into());
            }
        };
        stream
            .set_read_timeout(None)
            .map_err(io("clearing the read timeout"))?;
        // Bounded, so that a slow consumer slows the worker down instead of
        // its output piling up here: at most READ_AHEAD chunks wait.
        let (tx, events) = mpsc::sync_channel(READ_AHEAD);
        let (to_writer, writer_rx) = mpsc::sync_channel::<Bytes>(MAX_IN_FLIGHT);
        let mut reader = stream.try_clone().map_err(io("cloning the socket"))?;
        let mut writer = stream.try_clone().map_err(io("cloning the socket"))?;
        let reader_tx = tx.clone();
        let threads = vec![
            thread::spawn(move || {
                let mut buf = vec![0u8; CHUNK];
                loop {
                    let msg = match reader.read(&mut buf) {
                        Ok(0) => Msg::Eof,
                        Ok(n) => Msg::Read(buf[..n].to_vec()),
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => Msg::ReadError(e),
                    };
                    let last = !matches!(msg, Msg::Read(_));
                    if reader_tx.send(msg).is_err() || last {
                        return;
                    }
                }
            }),
            thread::spawn(move || {
                for chunk in writer_rx {
                    let msg = match writer.write_all(&chunk) {
                        Ok(()) => Msg::Written,
                        Err(e) => Msg::WriteError(e),
                    };
                    let failed = matches!(msg, Msg::WriteError(_));
                    if tx.send(msg).is_err() || failed {
                        return;
                    }
                }
            }),
        ];
        Ok(BlockingSession {
            session,
            stream,
            to_writer: Some(to_writer),
            events,
            threads,
            in_flight: 0,
            input_done: true,
            write_failed: None,
            received: 0,
            timeout,
            pid,
        })
    }

    /// The worker's pid.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// The protocol state.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Whether an idle connection still looks usable: an idle worker sends
    /// nothing, so any bytes, an end of stream or a read error since its last
    /// task mean it died or broke the protocol.
    pub fn is_healthy_idle(&mut self) -> bool {
        if !self.session.is_idle() || self.to_writer.is_none() || self.write_failed.is_some() {
            return false;
        }
        loop {
            match self.events.try_recv() {
                Ok(Msg::Written) => self.in_flight = self.in_flight.saturating_sub(1),
                Ok(_) | Err(mpsc::TryRecvError::Disconnected) => return false,
                Err(mpsc::TryRecvError::Empty) => return true,
            }
        }
    }

    /// Bytes received from the worker since the handshake.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Runs a task with a framed data section (NON_UDF, SQL_BATCHED_UDF,
    /// SQL_TABLE_UDF), collecting its reply.
    pub fn run_task(
        &mut self,
        header: &TaskHeader,
        input: impl IntoIterator<Item = Frame, IntoIter: Send>,
    ) -> Result<TaskOutcome, HostError> {
        self.collect(header, TaskInput::frames(input))
    }

    /// Runs a task with a framed data section, handing each reply item to
    /// `on_item` as it arrives (nothing is collected); whether the worker is
    /// reusable afterwards.
    pub fn run_task_with(
        &mut self,
        header: &TaskHeader,
        input: impl IntoIterator<Item = Frame, IntoIter: Send>,
        mut on_item: impl FnMut(ReplyItem),
    ) -> Result<bool, HostError> {
        let mut input = TaskInput::frames(input);
        self.start(header)?;
        loop {
            match self.next_progress(&mut input)? {
                Progress::Item(i) => on_item(i),
                Progress::Done { reusable } => return Ok(reusable),
            }
        }
    }

    /// Runs an Arrow or pandas task: `input` is the data section's bytes
    /// (IPC streams with their group headers), in any chunking.
    pub fn run_arrow_task(
        &mut self,
        header: &TaskHeader,
        input: impl IntoIterator<Item = Bytes, IntoIter: Send>,
    ) -> Result<TaskOutcome, HostError> {
        self.collect(header, TaskInput::arrow(input))
    }

    /// Runs a task, collecting its reply items.
    fn collect(
        &mut self,
        header: &TaskHeader,
        mut input: TaskInput<'_>,
    ) -> Result<TaskOutcome, HostError> {
        let mut items = Vec::new();
        self.start(header)?;
        loop {
            match self.next_progress(&mut input)? {
                Progress::Item(i) => items.push(i),
                Progress::Done { reusable } => return Ok(TaskOutcome { items, reusable }),
            }
        }
    }

    /// Queues a task's header; its input then goes out, and its reply comes
    /// back, through [`BlockingSession::next_progress`].
    pub fn start(&mut self, header: &TaskHeader) -> Result<(), HostError> {
        self.session.start_task(header)?;
        self.input_done = false;
        Ok(())
    }

    /// Drives the running task until its next reply item or its end: input is
    /// pulled from `input` only while fewer than [`MAX_IN_FLIGHT`] chunks wait
    /// for the writer, so a slow worker slows the input down (back-pressure)
    /// and no more than a few chunks are ever buffered.
    pub fn next_progress(&mut self, input: &mut TaskInput<'_>) -> Result<Progress, HostError> {
        loop {
            while let Some(event) = self.session.poll_event() {
                match event {
                    Event::Reply(item) => return Ok(Progress::Item(item)),
                    Event::TaskDone { reusable, .. } => {
                        // A reply that ends before the input (the worker failed)
                        // stops the input, as the JVM's writer stops.
                        if !self.input_done {
                            self.session.abandon_input();
                            self.input_done = true;
                        }
                        // Not with a failed writer, which no later task could use.
                        let reusable = reusable && self.to_writer.is_some();
                        return Ok(Progress::Done { reusable });
                    }
                    Event::Ready { .. } | Event::Closed => {}
                }
            }
            while self.in_flight < MAX_IN_FLIGHT && !self.input_done {
                while self.session.pending_transmit() < CHUNK {
                    if !input.feed(&mut self.session)? {
                        self.session.end_input()?;
                        self.input_done = true;
                        break;
                    }
                }
                self.flush()?;
            }
            if self.in_flight < MAX_IN_FLIGHT {
                // The header alone, or what the last input left.
                self.flush()?;
            }
            self.wait()?;
        }
    }

    /// Hands pending bytes to the writer thread.
    fn flush(&mut self) -> Result<(), HostError> {
        if let (Some(bytes), Some(tx)) = (self.session.poll_transmit(), &self.to_writer) {
            if tx.send(bytes).is_err() {
                // It failed; its error is on its way to `wait`.
                self.stop_writing();
            } else {
                self.in_flight += 1;
            }
        }
        Ok(())
    }

    /// The writer thread stopped: the worker no longer reads. No more input
    /// is sent, but the reply is read on, as the JVM's reader goes on after
    /// its writer thread failed: a worker whose code raised stops reading and
    /// then sends its traceback, which is the task's real error.
    fn stop_writing(&mut self) {
        self.to_writer = None;
        if !self.input_done {
            self.session.abandon_input();
            self.input_done = true;
        }
    }

    /// The writer's failure, when the reply ended without completing.
    fn write_failure(&mut self) -> Option<HostError> {
        self.write_failed.take().map(|source| HostError::Io {
            during: "sending a task",
            source,
        })
    }

    /// Waits for the reader or the writer and feeds the session.
    fn wait(&mut self) -> Result<(), HostError> {
        let msg = match self.events.recv_timeout(self.timeout) {
            Ok(m) => m,
            Err(RecvTimeoutError::Timeout) => {
                return Err(HostError::Timeout {
                    during: "a task's reply",
                    waited: self.timeout,
                })
            }
            Err(RecvTimeoutError::Disconnected) => Msg::Eof,
        };
        match msg {
            Msg::Read(bytes) => {
                self.received += bytes.len() as u64;
                self.session.handle_input(&bytes)?
            }
            Msg::Eof => {
                if let Err(e) = self.session.handle_eof() {
                    return Err(self.write_failure().unwrap_or(e.into()));
                }
            }
            Msg::ReadError(source) => {
                return Err(self.write_failure().unwrap_or(HostError::Io {
                    during: "reading a task's reply",
                    source,
                }))
            }
            Msg::Written => self.in_flight -= 1,
            Msg::WriteError(source) => {
                self.write_failed.get_or_insert(source);
                self.stop_writing();
            }
        }
        Ok(())
    }

    /// Bounds each wait for the worker from now on.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// Closes the connection and joins the threads, leaving the value inert.
    pub fn close_now(&mut self) {
        self.shutdown();
    }

    /// Closes the connection and joins the threads.
    pub fn close(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.to_writer = None;
        self.stream.shutdown_both();
        // A reader blocked on a full channel wakes when its receiver is gone.
        let (_, inert) = mpsc::sync_channel(0);
        drop(std::mem::replace(&mut self.events, inert));
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl<S: Duplex> Drop for BlockingSession<S> {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::Shutdown;
    use std::os::unix::net::UnixStream;

    use super::*;
    use crate::protocol::session::Handshake;
    use crate::protocol::{encode_reply, SparkVersion};

    /// A worker whose UDF raises on its first row stops reading its input and
    /// sends its traceback, so our writer may fail (EPIPE) before the
    /// traceback is read. The task must still end with the traceback, as in
    /// Spark, whose writer thread records its failure and lets the reader go
    /// on. (Seen against pyspark 4.2's simple worker: about one task in 60
    /// reported "sending a task: Connection reset by peer" instead.)
    #[test]
    fn a_traceback_sent_after_the_worker_stopped_reading_is_not_lost() {
        let v = SparkVersion::V4_1;
        let (ours, mut theirs) = UnixStream::pair().unwrap();
        let worker = thread::spawn(move || {
            theirs.write_all(&4242i32.to_be_bytes()).unwrap();
            let mut start = [0u8; 1024];
            theirs.read_exact(&mut start).unwrap();
            theirs.shutdown(Shutdown::Read).unwrap();
            // Our writer's failure comes first: the traceback follows later.
            thread::sleep(Duration::from_millis(300));
            let tb = ReplyItem::Exception("ValueError: early".into());
            theirs.write_all(&encode_reply(&[tb], v).unwrap()).unwrap();
        });
        let session = Session::new(v, Handshake::Unix);
        let mut conn = BlockingSession::connect(ours, session, Duration::from_secs(10)).unwrap();
        // 8 MiB of input: far more than the socket's buffers hold.
        let input = (0..128).map(|_| Frame::Data(Bytes::from(vec![0u8; 64 * 1024])));
        let header = TaskHeader::example(Bytes::from_static(b"\x80\x05N."));
        let outcome = conn.run_task(&header, input).unwrap();
        assert_eq!(outcome.exception(), Some("ValueError: early"));
        assert!(!outcome.reusable);
        assert!(!conn.is_healthy_idle());
        worker.join().unwrap();
    }

    /// A worker that stops reading and closes without a reply: the write
    /// failure is the error, once the reader has shown nothing more comes.
    #[test]
    fn a_worker_that_stops_reading_and_closes_fails_with_the_write_error() {
        let v = SparkVersion::V4_1;
        let (ours, mut theirs) = UnixStream::pair().unwrap();
        let worker = thread::spawn(move || {
            theirs.write_all(&4242i32.to_be_bytes()).unwrap();
            let mut start = [0u8; 1024];
            theirs.read_exact(&mut start).unwrap();
            theirs.shutdown(Shutdown::Read).unwrap();
            thread::sleep(Duration::from_millis(300));
        });
        let session = Session::new(v, Handshake::Unix);
        let mut conn = BlockingSession::connect(ours, session, Duration::from_secs(10)).unwrap();
        let input = (0..128).map(|_| Frame::Data(Bytes::from(vec![0u8; 64 * 1024])));
        let header = TaskHeader::example(Bytes::from_static(b"\x80\x05N."));
        match conn.run_task(&header, input) {
            Err(HostError::Io { during, .. }) => assert_eq!(during, "sending a task"),
            other => panic!("{other:?}"),
        }
        worker.join().unwrap();
    }
}
