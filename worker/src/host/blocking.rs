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

/// The input of one task.
enum Input<'a> {
    Frames(Box<dyn Iterator<Item = Frame> + 'a>),
    Arrow(Box<dyn Iterator<Item = Bytes> + 'a>),
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
        let (tx, events) = mpsc::channel();
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

    /// Runs a task with a framed data section (NON_UDF, SQL_BATCHED_UDF,
    /// SQL_TABLE_UDF), collecting its reply.
    pub fn run_task(
        &mut self,
        header: &TaskHeader,
        input: impl IntoIterator<Item = Frame>,
    ) -> Result<TaskOutcome, HostError> {
        self.collect(header, Input::Frames(Box::new(input.into_iter())))
    }

    /// Runs a task with a framed data section, handing each reply item to
    /// `on_item` as it arrives (nothing is collected); whether the worker is
    /// reusable afterwards.
    pub fn run_task_with(
        &mut self,
        header: &TaskHeader,
        input: impl IntoIterator<Item = Frame>,
        mut on_item: impl FnMut(ReplyItem),
    ) -> Result<bool, HostError> {
        self.run(
            header,
            Input::Frames(Box::new(input.into_iter())),
            &mut on_item,
        )
    }

    /// Runs an Arrow or pandas task: `input` is the data section's bytes
    /// (IPC streams with their group headers), in any chunking.
    pub fn run_arrow_task(
        &mut self,
        header: &TaskHeader,
        input: impl IntoIterator<Item = Bytes>,
    ) -> Result<TaskOutcome, HostError> {
        self.collect(header, Input::Arrow(Box::new(input.into_iter())))
    }

    /// Runs a task, collecting its reply items.
    fn collect(&mut self, header: &TaskHeader, input: Input<'_>) -> Result<TaskOutcome, HostError> {
        let mut items = Vec::new();
        let reusable = self.run(header, input, &mut |i| items.push(i))?;
        Ok(TaskOutcome { items, reusable })
    }

    fn run(
        &mut self,
        header: &TaskHeader,
        mut input: Input<'_>,
        on_item: &mut dyn FnMut(ReplyItem),
    ) -> Result<bool, HostError> {
        self.session.start_task(header)?;
        let mut input_done = false;
        loop {
            while self.in_flight < MAX_IN_FLIGHT && !input_done {
                while self.session.pending_transmit() < CHUNK {
                    let more = match &mut input {
                        Input::Frames(it) => it.next().map(|f| self.session.send_frame(&f)),
                        Input::Arrow(it) => it.next().map(|b| self.session.send_arrow(&b)),
                    };
                    match more {
                        Some(r) => r?,
                        None => {
                            self.session.end_input()?;
                            input_done = true;
                            break;
                        }
                    }
                }
                self.flush()?;
            }
            if self.in_flight < MAX_IN_FLIGHT {
                // The header alone, or what the last input left.
                self.flush()?;
            }
            while let Some(event) = self.session.poll_event() {
                match event {
                    Event::Reply(item) => on_item(item),
                    Event::TaskDone { reusable, .. } => {
                        // A reply that ends before the input (the worker failed)
                        // stops the input, as the JVM's writer stops.
                        if !input_done {
                            self.session.abandon_input();
                        }
                        return Ok(reusable);
                    }
                    Event::Ready { .. } | Event::Closed => {}
                }
            }
            self.wait()?;
        }
    }

    /// Hands pending bytes to the writer thread.
    fn flush(&mut self) -> Result<(), HostError> {
        if let (Some(bytes), Some(tx)) = (self.session.poll_transmit(), &self.to_writer) {
            tx.send(bytes).map_err(|_| HostError::Io {
                during: "sending a task",
                source: io::Error::new(io::ErrorKind::BrokenPipe, "the writer thread stopped"),
            })?;
            self.in_flight += 1;
        }
        Ok(())
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
            Msg::Read(bytes) => self.session.handle_input(&bytes)?,
            Msg::Eof => self.session.handle_eof()?,
            Msg::ReadError(source) => {
                return Err(HostError::Io {
                    during: "reading a task's reply",
                    source,
                })
            }
            Msg::Written => self.in_flight -= 1,
            Msg::WriteError(source) => {
                return Err(HostError::Io {
                    during: "sending a task",
                    source,
                })
            }
        }
        Ok(())
    }

    /// Closes the connection and joins the threads.
    pub fn close(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.to_writer = None;
        self.stream.shutdown_both();
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
