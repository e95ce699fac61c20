//! The JVM side of one worker connection as a state machine with no I/O: the
//! handshake, then tasks back to back — header, data section, END_OF_STREAM out;
//! the reply in — until the worker is done or is not reusable.
//!
//! It is driven the way quinn-proto's connections are: bytes the worker sent go
//! in through [`Session::handle_input`] (and its closing through
//! [`Session::handle_eof`]); what to send comes out of
//! [`Session::poll_transmit`]; what happened comes out of [`Session::poll_event`].
//! The caller owns the socket, the threads and the clock, so the same session
//! runs over TCP, a Unix-domain socket, or two buffers in a test.
//!
//! ```
//! use sparkwire_framing::{Frame, Secret};
//! use sparkwire_worker::protocol::session::{Event, Handshake, Session};
//! use sparkwire_worker::protocol::{SparkVersion, TaskHeader};
//!
//! let secret = Secret::new("c0ffee");
//! let mut s = Session::new(SparkVersion::V4_3, Handshake::Simple(secret.clone()));
//! // A simple worker connects back and sends the secret, then its pid.
//! s.handle_input(&secret.hello())?;
//! assert_eq!(s.poll_transmit().as_deref(), Some(&b"\0\0\0\x02ok"[..]));
//! s.handle_input(&4242i32.to_be_bytes())?;
//! assert_eq!(s.poll_event(), Some(Event::Ready { pid: 4242 }));
//! // One task: header, one frame, END_OF_DATA_SECTION and END_OF_STREAM go out.
//! s.start_task(&TaskHeader::example(b"\x80\x05N.".to_vec().into()))?;
//! s.send_frame(&Frame::Data(b"\x80\x05K\x01.".to_vec().into()))?;
//! s.end_input()?;
//! assert!(s.poll_transmit().is_some());
//! # Ok::<(), sparkwire_worker::protocol::session::SessionError>(())
//! ```

use std::collections::VecDeque;

use bytes::{Buf, Bytes, BytesMut};
use sparkwire_framing::auth::{AuthError, ClientHandshake, Rejection, ServerHandshake, Verdict};
use sparkwire_framing::{Frame, Secret, Step};
use thiserror::Error;

use super::encode::TaskEncoder;
use super::error::{HeaderError, ReplyError};
use super::eval_type::{DataLayout, EvalType};
use super::header::TaskHeader;
use super::limits::Limits;
use super::reply::{End, ReplyDecoder, ReplyItem};
use super::version::SparkVersion;

/// How the connection opens (spec §2.2).
#[derive(Debug, Clone)]
pub enum Handshake {
    /// A simple worker (`python -m pyspark.worker`) connected back to the JVM's
    /// listener: it sends the secret as a `str`, the JVM answers `ok` (or `err`
    /// and closes), then the worker sends its pid.
    Simple(Secret),
    /// A worker forked by `pyspark.daemon`, to which the JVM connected: it sends
    /// its pid, then the JVM sends the secret and the worker answers `ok`.
    Daemon(Secret),
    /// A worker on a Unix-domain socket (4.1+), simple or daemon: it sends its
    /// pid; there is no authentication (the socket lives in a private directory).
    Unix,
}

/// What happened on the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The handshake is done and the worker announced its pid: tasks may start.
    Ready {
        /// The worker's process id.
        pid: i32,
    },
    /// One item of the running task's reply, in order.
    Reply(ReplyItem),
    /// The running task's reply is complete.
    TaskDone {
        /// Index of the task on the connection.
        task: usize,
        /// The worker answered END_OF_STREAM: another task may follow on this
        /// connection. False after an exception or END_OF_DATA_SECTION, when
        /// the worker exits.
        reusable: bool,
    },
    /// The worker closed the connection at a clean point.
    Closed,
}

/// Why the session cannot go on. Errors of the worker's bytes carry the byte
/// offset in the worker → JVM direction.
#[derive(Debug, Error)]
pub enum SessionError {
    /// A simple worker presented a wrong secret; `err` was queued for it.
    #[error("worker → JVM byte {offset}: the worker's secret was rejected ({rejection:?})")]
    AuthRejected {
        /// Where the secret started.
        offset: u64,
        /// How it was wrong.
        rejection: Rejection,
    },
    /// A daemon worker did not accept the JVM's secret.
    #[error("worker → JVM byte {offset}: the worker refused our secret: {source}")]
    AuthRefused {
        /// Where its reply started.
        offset: u64,
        /// Its reply.
        #[source]
        source: AuthError,
    },
    /// The daemon could not fork a worker: it sent this errno where the pid
    /// belongs and closed the connection (`daemon.py`).
    #[error("the daemon could not fork a worker: errno {errno}")]
    ForkFailed {
        /// The errno.
        errno: i32,
    },
    /// The worker's reply to a task is malformed.
    #[error("worker → JVM, reply to task {task}, at byte {offset}: {source}")]
    Reply {
        /// Index of the task.
        task: usize,
        /// Where the reply started.
        offset: u64,
        /// What was wrong (offsets within the reply).
        #[source]
        source: ReplyError,
    },
    /// The worker closed the connection where more was due.
    #[error("worker → JVM byte {offset}: the worker closed the connection during {during}")]
    Closed {
        /// Bytes received in all.
        offset: u64,
        /// What was awaited.
        during: &'static str,
    },
    /// A call that the connection's state does not allow (a caller's mistake,
    /// not the worker's).
    #[error("{call} is not possible {state}")]
    Misuse {
        /// The method called.
        call: &'static str,
        /// The state it was called in.
        state: &'static str,
    },
    /// The task header cannot be written in this release's layout.
    #[error("task {task}: {source}")]
    Header {
        /// Index of the task.
        task: usize,
        /// Why.
        #[source]
        source: HeaderError,
    },
    /// A data frame cannot be written.
    #[error("task {task}: {source}")]
    Frame {
        /// Index of the task.
        task: usize,
        /// Why.
        #[source]
        source: sparkwire_framing::EncodeError,
    },
}

#[derive(Debug)]
enum State {
    /// Simple: waiting for the worker's secret.
    AwaitSecret,
    /// Waiting for the pid (after the secret in simple mode).
    AwaitPid,
    /// Daemon: our secret is sent; waiting for `ok`.
    AwaitAuthReply { pid: i32 },
    /// Between tasks.
    Idle,
    /// A task is running.
    Running(Running),
    /// The worker will take no more tasks (it was not reusable, or it closed).
    Done,
    /// An error ended the session.
    Failed,
}

#[derive(Debug)]
struct Running {
    task: usize,
    reply: ReplyDecoder,
    /// Offset of the reply in the worker → JVM direction.
    reply_start: u64,
    reusable: bool,
}

/// The JVM side of one worker connection. See the [module docs](self).
#[derive(Debug)]
pub struct Session {
    encoder: TaskEncoder,
    limits: Limits,
    handshake: Handshake,
    state: State,
    /// Bytes the worker sent that are not consumed yet.
    received: BytesMut,
    /// Bytes consumed from the worker so far.
    consumed: u64,
    transmit: BytesMut,
    /// The data-section layout of the task whose input is still open. The
    /// input half is separate from the reply half: a worker may answer (an
    /// exception) before its input ends, and a recording keeps every byte the
    /// JVM wrote regardless.
    input: Option<DataLayout>,
    events: VecDeque<Event>,
    pid: Option<i32>,
    tasks: usize,
}

impl Session {
    /// A connection to a worker speaking `version`'s protocol, opening with
    /// `handshake`.
    pub fn new(version: SparkVersion, handshake: Handshake) -> Session {
        Session::with_limits(version, handshake, Limits::default())
    }

    /// [`Session::new`] with explicit limits on what the worker's replies may
    /// make it hold.
    pub fn with_limits(version: SparkVersion, handshake: Handshake, limits: Limits) -> Session {
        let state = match handshake {
            Handshake::Simple(_) => State::AwaitSecret,
            Handshake::Daemon(_) | Handshake::Unix => State::AwaitPid,
        };
        Session {
            encoder: TaskEncoder::new(version),
            limits,
            handshake,
            state,
            received: BytesMut::new(),
            consumed: 0,
            transmit: BytesMut::new(),
            input: None,
            events: VecDeque::new(),
            pid: None,
            tasks: 0,
        }
    }

    /// The protocol version.
    pub fn version(&self) -> SparkVersion {
        self.encoder.version()
    }

    /// The worker's pid, once announced.
    pub fn pid(&self) -> Option<i32> {
        self.pid
    }

    /// Tasks started on this connection.
    pub fn tasks(&self) -> usize {
        self.tasks
    }

    /// Whether a task can start now: the worker is between tasks and the last
    /// task's input is closed.
    pub fn is_idle(&self) -> bool {
        matches!(self.state, State::Idle) && self.input.is_none()
    }

    /// Whether the connection is finished: the worker takes no more tasks,
    /// closed, or an error ended the session.
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done | State::Failed)
    }

    /// The most bytes the caller should read from the worker now. During the
    /// handshake it is exactly what the handshake can still use, so that an
    /// unauthenticated peer can make the JVM read at most `4 + secret length`
    /// bytes; afterwards it is unbounded (`usize::MAX`).
    pub fn read_limit(&self) -> usize {
        match (&self.state, &self.handshake) {
            (State::AwaitSecret, Handshake::Simple(secret)) => {
                ServerHandshake::new(secret).wants(&self.received)
            }
            (State::AwaitPid, _) => 4usize.saturating_sub(self.received.len()),
            (State::AwaitAuthReply { .. }, _) => ClientHandshake::new().wants(&self.received),
            (State::Done | State::Failed, _) => 0,
            _ => usize::MAX,
        }
    }

    /// Bytes to send to the worker, if any.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        (!self.transmit.is_empty()).then(|| self.transmit.split().freeze())
    }

    /// Bytes queued by [`Session::start_task`], [`Session::send_frame`] … and not
    /// yet taken by [`Session::poll_transmit`]: an adapter stops pulling input
    /// past a bound of its own, so memory stays bounded.
    pub fn pending_transmit(&self) -> usize {
        self.transmit.len()
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Starts a task: queues its header. Then send its data section
    /// ([`Session::send_frame`] or [`Session::send_arrow`]) and
    /// [`Session::end_input`].
    pub fn start_task(&mut self, header: &TaskHeader) -> Result<(), SessionError> {
        if !self.is_idle() {
            return Err(self.misuse("start_task"));
        }
        let task = self.tasks;
        self.encoder
            .header(header, &mut self.transmit)
            .map_err(|source| SessionError::Header { task, source })?;
        self.tasks += 1;
        self.input = Some(header.eval_type.data_layout());
        self.state = State::Running(Running {
            task,
            reply: ReplyDecoder::with_limits(self.version(), self.limits),
            reply_start: self.consumed,
            reusable: false,
        });
        // Bytes the worker sent early belong to this reply.
        self.process()
    }

    /// Queues one item of a framed data section (NON_UDF, SQL_BATCHED_UDF,
    /// SQL_TABLE_UDF). Input may go on after the reply ended (the worker failed
    /// early); an adapter normally stops sending then, as the JVM's writer does.
    pub fn send_frame(&mut self, frame: &Frame) -> Result<(), SessionError> {
        if self.input != Some(DataLayout::Framed) {
            return Err(self.misuse("send_frame"));
        }
        let task = self.tasks - 1;
        self.encoder
            .frame(frame, &mut self.transmit)
            .map_err(|source| SessionError::Frame { task, source })
    }

    /// Queues raw bytes of an Arrow data section (the Arrow and pandas eval
    /// types, and eval types whose layout is unknown): IPC streams with their
    /// group headers, exactly as the worker reads them.
    pub fn send_arrow(&mut self, bytes: &[u8]) -> Result<(), SessionError> {
        match self.input {
            Some(DataLayout::Arrow | DataLayout::Unknown) => {
                self.transmit.extend_from_slice(bytes);
                Ok(())
            }
            _ => Err(self.misuse("send_arrow")),
        }
    }

    /// Ends the input: END_OF_DATA_SECTION for a framed section, then
    /// END_OF_STREAM, which the JVM always sends and which lets the worker be
    /// reused.
    pub fn end_input(&mut self) -> Result<(), SessionError> {
        let Some(layout) = self.input.take() else {
            return Err(self.misuse("end_input"));
        };
        if layout == DataLayout::Framed {
            self.encoder.end_of_data(&mut self.transmit);
        }
        self.encoder.finish(
            sparkwire_framing::SpecialLength::EndOfStream.value(),
            &mut self.transmit,
        );
        Ok(())
    }

    /// Closes the input without END_OF_STREAM, for a task whose reply ended
    /// first (the worker failed and will exit): no further byte is owed to it.
    pub fn abandon_input(&mut self) {
        self.input = None;
    }

    /// Bytes received from the worker, in any chunking.
    pub fn handle_input(&mut self, data: &[u8]) -> Result<(), SessionError> {
        if matches!(self.state, State::Failed) {
            return Err(self.misuse("handle_input"));
        }
        self.received.extend_from_slice(data);
        self.process()
    }

    /// The worker closed its side. Fine between tasks and after its last reply;
    /// an error anywhere else.
    pub fn handle_eof(&mut self) -> Result<(), SessionError> {
        self.process()?;
        let offset = self.consumed + self.received.len() as u64;
        let during = match &self.state {
            State::Idle | State::Done if self.received.is_empty() => {
                self.state = State::Done;
                self.events.push_back(Event::Closed);
                return Ok(());
            }
            State::AwaitAuthReply { pid } if self.received.is_empty() && *pid > 0 => {
                // daemon.py writes the fork's errno in place of a pid and closes.
                let errno = *pid;
                self.state = State::Failed;
                return Err(SessionError::ForkFailed { errno });
            }
            State::AwaitSecret => "the handshake (awaiting the secret)",
            State::AwaitPid => "the handshake (awaiting the pid)",
            State::AwaitAuthReply { .. } => "the handshake (awaiting `ok`)",
            State::Running(_) => "a task's reply",
            State::Idle | State::Done => "idle time (unsolicited bytes)",
            State::Failed => return Err(self.misuse("handle_eof")),
        };
        self.state = State::Failed;
        Err(SessionError::Closed { offset, during })
    }

    fn misuse(&self, call: &'static str) -> SessionError {
        let state = match self.state {
            State::Failed => "after an error",
            _ if call.starts_with("send_") || call == "end_input" => {
                if self.input.is_some() {
                    "for this task's data layout"
                } else {
                    "with no task input open"
                }
            }
            State::Idle if self.input.is_some() => "while the last task's input is open",
            State::AwaitSecret | State::AwaitPid | State::AwaitAuthReply { .. } => {
                "before the handshake is done"
            }
            State::Idle => "between tasks",
            State::Running(_) => "while a task runs",
            State::Done => "after the worker's last task",
        };
        SessionError::Misuse { call, state }
    }

    /// Advances as far as the received bytes allow.
    fn process(&mut self) -> Result<(), SessionError> {
        let r = self.advance();
        if r.is_err() {
            self.state = State::Failed;
        }
        r
    }

    fn advance(&mut self) -> Result<(), SessionError> {
        loop {
            match &mut self.state {
                State::AwaitSecret => {
                    let Handshake::Simple(secret) = &self.handshake else {
                        unreachable!("only simple sessions await a secret")
                    };
                    let before = self.received.len();
                    let Step::Item(verdict) =
                        ServerHandshake::new(secret).decode(&mut self.received)
                    else {
                        return Ok(());
                    };
                    let offset = self.consumed;
                    self.consumed += (before - self.received.len()) as u64;
                    self.transmit.extend_from_slice(verdict.reply());
                    match verdict {
                        Verdict::Accepted => self.state = State::AwaitPid,
                        Verdict::Rejected(rejection) => {
                            return Err(SessionError::AuthRejected { offset, rejection })
                        }
                    }
                }
                State::AwaitPid => {
                    if self.received.len() < 4 {
                        return Ok(());
                    }
                    let pid = self.received.get_i32();
                    self.consumed += 4;
                    match &self.handshake {
                        Handshake::Daemon(secret) => {
                            self.transmit.extend_from_slice(&secret.hello());
                            self.state = State::AwaitAuthReply { pid };
                        }
                        _ => self.ready(pid),
                    }
                }
                State::AwaitAuthReply { pid } => {
                    let pid = *pid;
                    let before = self.received.len();
                    let offset = self.consumed;
                    match ClientHandshake::new().decode(&mut self.received) {
                        Ok(Step::NeedMore) => return Ok(()),
                        Ok(Step::Item(())) => {
                            self.consumed += (before - self.received.len()) as u64;
                            self.ready(pid);
                        }
                        Err(source) => return Err(SessionError::AuthRefused { offset, source }),
                    }
                }
                State::Running(run) => {
                    let item = run.reply.decode(&mut self.received).map_err(|source| {
                        SessionError::Reply {
                            task: run.task,
                            offset: run.reply_start,
                            source,
                        }
                    })?;
                    match item {
                        Step::NeedMore => return Ok(()),
                        Step::Item(Some(item)) => {
                            if let ReplyItem::End(end) = item {
                                run.reusable = end == End::Reuse;
                            }
                            self.events.push_back(Event::Reply(item));
                        }
                        Step::Item(None) => {
                            let (task, reusable) = (run.task, run.reusable);
                            self.consumed = run.reply_start + run.reply.offset();
                            self.events.push_back(Event::TaskDone { task, reusable });
                            self.state = if reusable { State::Idle } else { State::Done };
                        }
                    }
                }
                State::Idle | State::Done | State::Failed => return Ok(()),
            }
        }
    }

    fn ready(&mut self, pid: i32) {
        self.pid = Some(pid);
        self.state = State::Idle;
        self.events.push_back(Event::Ready { pid });
    }
}

/// Whether `eval_type`'s input goes through [`Session::send_frame`] (else
/// [`Session::send_arrow`]).
pub fn takes_frames(eval_type: EvalType) -> bool {
    eval_type.data_layout() == DataLayout::Framed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::reply::encode_reply;
    use crate::protocol::task::{TaskDecoder, TaskItem};
    use crate::protocol::{Timing, WorkerLayout};

    /// The worker's side of an in-memory pair: it decodes what the session
    /// sends with the worker-direction decoder and answers each task with
    /// `encode_reply`: every input frame echoed, timing, one accumulator, END.
    struct FakeWorker {
        version: SparkVersion,
        decoder: TaskDecoder,
        buf: BytesMut,
        echoed: Vec<ReplyItem>,
    }

    impl FakeWorker {
        fn new(version: SparkVersion) -> FakeWorker {
            FakeWorker {
                version,
                decoder: TaskDecoder::new(version),
                buf: BytesMut::new(),
                echoed: Vec::new(),
            }
        }

        /// Feeds the JVM's bytes; returns the reply bytes of each task completed.
        fn feed(&mut self, bytes: &[u8], reuse: bool) -> Vec<u8> {
            self.buf.extend_from_slice(bytes);
            let mut out = Vec::new();
            while let Step::Item(item) = self.decoder.decode(&mut self.buf).unwrap() {
                match item {
                    TaskItem::Data(Frame::Data(b)) => self.echoed.push(ReplyItem::Data(b)),
                    TaskItem::Finish(-4) => {
                        let mut reply = std::mem::take(&mut self.echoed);
                        reply.push(ReplyItem::Timing(Timing {
                            boot_ms: 1,
                            init_ms: 2,
                            finish_ms: 3,
                            processing_ms: (self.version.timing_longs() == 4).then_some(0),
                            memory_bytes_spilled: 0,
                            disk_bytes_spilled: 0,
                        }));
                        reply.push(ReplyItem::Accumulator(Bytes::from_static(b"\x80\x05acc.")));
                        reply.push(ReplyItem::End(if reuse {
                            End::Reuse
                        } else {
                            End::NoReuse
                        }));
                        out.extend(encode_reply(&reply, self.version).unwrap());
                    }
                    _ => {}
                }
            }
            out
        }
    }

    fn events(s: &mut Session) -> Vec<Event> {
        std::iter::from_fn(|| s.poll_event()).collect()
    }

    #[test]
    fn runs_tasks_back_to_back_against_the_worker_side_codec_in_every_version() {
        for v in SparkVersion::ALL {
            for (handshake, worker_hello) in [
                (Handshake::Unix, 77i32.to_be_bytes().to_vec()),
                (Handshake::Daemon(Secret::new("s3cr3t")), {
                    let mut b = 77i32.to_be_bytes().to_vec();
                    b.extend(b"\0\0\0\x02ok");
                    b
                }),
            ] {
                let mut s = Session::new(v, handshake);
                let mut worker = FakeWorker::new(v);
                // Fed one byte at a time: the handshake never reads past its need.
                for b in &worker_hello {
                    assert!(s.read_limit() >= 1);
                    s.handle_input(std::slice::from_ref(b)).unwrap();
                }
                assert_eq!(events(&mut s), [Event::Ready { pid: 77 }]);
                let _ = s.poll_transmit();
                for task in 0..3 {
                    let last = task == 2;
                    s.start_task(&TaskHeader::example(Bytes::from_static(b"\x80\x05N.")))
                        .unwrap();
                    for i in 0..task + 1 {
                        s.send_frame(&Frame::Data(vec![i as u8; 3].into())).unwrap();
                    }
                    s.end_input().unwrap();
                    let sent = s.poll_transmit().unwrap();
                    let reply = worker.feed(&sent, !last);
                    for chunk in reply.chunks(5) {
                        s.handle_input(chunk).unwrap();
                    }
                    let ev = events(&mut s);
                    let data = ev
                        .iter()
                        .filter(|e| matches!(e, Event::Reply(ReplyItem::Data(_))))
                        .count();
                    assert_eq!(data, task + 1, "{v} task {task}");
                    assert_eq!(
                        ev.last(),
                        Some(&Event::TaskDone {
                            task,
                            reusable: !last
                        })
                    );
                }
                assert!(s.is_done());
                assert!(matches!(
                    s.start_task(&TaskHeader::example(Bytes::new())),
                    Err(SessionError::Misuse { .. })
                ));
                s.handle_eof().unwrap();
                assert_eq!(events(&mut s), [Event::Closed]);
            }
        }
    }

    #[test]
    fn a_wrong_secret_is_answered_err_after_reading_only_its_length() {
        let mut s = Session::new(SparkVersion::V4_0, Handshake::Simple(Secret::new("abcd")));
        assert_eq!(s.read_limit(), 4);
        let e = s.handle_input(&100i32.to_be_bytes()).unwrap_err();
        assert!(
            matches!(e, SessionError::AuthRejected { offset: 0, .. }),
            "{e}"
        );
        assert_eq!(s.poll_transmit().as_deref(), Some(&b"\0\0\0\x03err"[..]));
        assert_eq!(s.read_limit(), 0);
    }

    #[test]
    fn a_fork_failure_and_a_reply_cut_short_are_errors_that_say_where() {
        let mut s = Session::new(SparkVersion::V3_5, Handshake::Daemon(Secret::new("x")));
        s.handle_input(&12i32.to_be_bytes()).unwrap();
        assert!(matches!(
            s.handle_eof(),
            Err(SessionError::ForkFailed { errno: 12 })
        ));

        let mut s = Session::new(SparkVersion::V4_3, Handshake::Unix);
        s.handle_input(&5i32.to_be_bytes()).unwrap();
        s.start_task(&TaskHeader::example(Bytes::from_static(b"N.")))
            .unwrap();
        s.handle_input(&[0, 0, 0, 9, 1, 2]).unwrap();
        let e = s.handle_eof().unwrap_err();
        assert!(
            matches!(
                e,
                SessionError::Closed {
                    offset: 10,
                    during: "a task's reply"
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn misuse_is_reported_not_encoded() {
        let mut s = Session::new(SparkVersion::V4_2, Handshake::Unix);
        assert!(matches!(
            s.send_frame(&Frame::Null),
            Err(SessionError::Misuse { .. })
        ));
        s.handle_input(&1i32.to_be_bytes()).unwrap();
        let mut arrow = TaskHeader::example(Bytes::from_static(b"N."));
        arrow.eval_type = EvalType::SQL_SCALAR_PANDAS_UDF;
        arrow.command = crate::protocol::Command::Udfs(crate::protocol::UdfCommand::default());
        s.start_task(&arrow).unwrap();
        assert!(matches!(
            s.send_frame(&Frame::Null),
            Err(SessionError::Misuse { .. })
        ));
        s.send_arrow(&[0, 0, 0, 0]).unwrap();
        s.end_input().unwrap();
    }
}
