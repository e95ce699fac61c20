//! One client connection: authenticate, then decode commands, execute them
//! against the JVM model and write the replies; in ClientServer mode also the
//! route for callbacks to the Python thread on the other end.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

use bytes::BytesMut;
use sparkwire_framing::Step;

use super::auth;
use super::callback::CallbackClient;
use super::config::Mode;
use super::shared::Shared;
use crate::jvm::{CallbackError, Callbacks, Jvm, Outcome, Throwable};
use crate::py4j::{Command, DecodeError, Direction, Message, Py4jDecoder, Reply, Value};

/// Bytes read from the socket at a time.
const READ_CHUNK: usize = 64 * 1024;

/// Why a connection ended.
#[derive(Debug)]
pub(super) enum End {
    /// The client closed it between commands.
    Closed,
    /// Authentication failed (wrong token, or another command first).
    AuthFailed,
    /// The stream could not be decoded; a `!z` reply was sent.
    Corrupt(DecodeError),
    /// The client sent `s`.
    Shutdown,
    /// A socket error (including a `z` cancel from another connection).
    Io(io::Error),
}

/// What reading one message gave.
enum Read1 {
    Message(Message),
    /// A bad value inside a well-framed command: answered, and the stream goes on.
    BadValue(DecodeError),
    Eof,
}

pub(super) struct Connection {
    stream: TcpStream,
    out: Vec<u8>,
    buf: BytesMut,
    decoder: Py4jDecoder,
    shared: Arc<Shared>,
    /// Re-entrant callback depth on this connection.
    depth: u32,
}

impl Connection {
    pub(super) fn new(stream: TcpStream, shared: Arc<Shared>) -> Connection {
        let limits = shared.config.limits;
        Connection {
            stream,
            out: Vec::with_capacity(256),
            buf: BytesMut::with_capacity(READ_CHUNK),
            decoder: Py4jDecoder::with_limits(Direction::ToJava, limits),
            shared,
            depth: 0,
        }
    }

    fn read_message(&mut self) -> Result<Read1, End> {
        loop {
            match self.decoder.decode(&mut self.buf) {
                Ok(Step::Item(m)) => return Ok(Read1::Message(m)),
                Ok(Step::NeedMore) => {}
                Err(e) if !e.is_stream_corrupt() => return Ok(Read1::BadValue(e)),
                Err(e) => return Err(self.fatal(e)),
            }
            self.buf.reserve(READ_CHUNK);
            let start = self.buf.len();
            // Read into the spare capacity without exposing uninitialised bytes.
            self.buf.resize(start + READ_CHUNK, 0);
            let n = match self.stream.read(&mut self.buf[start..]) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                    self.buf.truncate(start);
                    continue;
                }
                Err(e) => {
                    self.buf.truncate(start);
                    return Err(End::Io(e));
                }
            };
            self.buf.truncate(start + n);
            if n == 0 {
                return match self.decoder.finish(&self.buf) {
                    Ok(()) => Ok(Read1::Eof),
                    // Cut mid-command: nothing to answer, the peer is gone.
                    Err(e) => Err(End::Corrupt(e)),
                };
            }
        }
    }

    /// A stream error: answer `!z` with py4j's trace, as the JVM's connection
    /// loop does before it closes.
    fn fatal(&mut self, e: DecodeError) -> End {
        let message = match &e {
            DecodeError::UnknownCommand { name, .. } => format!("Unknown command received: {name}"),
            other => format!("Error while reading a command: {other}"),
        };
        self.send_fatal(message);
        End::Corrupt(e)
    }

    /// `!z` + the trace of a `Py4JException` with `message`, as the JVM's
    /// connection loop writes before closing. Write errors are ignored: the
    /// peer may be gone already.
    fn send_fatal(&mut self, message: String) {
        let text = Throwable::new(
            "py4j.Py4JException",
            Some(message),
            "py4j.GatewayConnection.run",
        )
        .stack_trace();
        let _ = self.write_reply(&Reply::Fatal(Some(Value::Str(text))));
    }

    /// The end of the client's stream between commands: the JVM reads it as a
    /// null command line and answers "Unknown command received: null" before
    /// it closes (a client that only half-closed its socket sees it).
    fn end_of_stream(&mut self) -> End {
        self.send_fatal("Unknown command received: null".into());
        End::Closed
    }

    fn write_reply(&mut self, r: &Reply) -> io::Result<()> {
        self.out.clear();
        r.encode(&mut self.out);
        self.stream.write_all(&self.out)
    }

    /// Reads the auth command and answers it as the JVM does.
    pub(super) fn authenticate(&mut self) -> Result<(), End> {
        let msg = match self.read_message()? {
            Read1::Message(m) => m,
            Read1::BadValue(_) => {
                let _ = self.stream.write_all(auth::UNEXPECTED_COMMAND);
                return Err(End::AuthFailed);
            }
            Read1::Eof => return Err(self.end_of_stream()),
        };
        match msg {
            Message::Command(Command::Auth { token }) => {
                if auth::token_matches(&self.shared.config.auth_token, &token) {
                    self.stream.write_all(auth::OK).map_err(End::Io)?;
                    Ok(())
                } else {
                    let _ = self.stream.write_all(auth::BAD_TOKEN);
                    Err(End::AuthFailed)
                }
            }
            _ => {
                let _ = self.stream.write_all(auth::UNEXPECTED_COMMAND);
                Err(End::AuthFailed)
            }
        }
    }

    /// Serves commands until the client leaves or something ends the connection.
    pub(super) fn serve(&mut self) -> End {
        loop {
            match self.serve_one() {
                Ok(None) => {}
                Ok(Some(end)) | Err(end) => return end,
            }
        }
    }

    /// Reads and answers one message. A reply here (no callback is waiting) is
    /// a protocol error, as it is to the JVM.
    fn serve_one(&mut self) -> Result<Option<End>, End> {
        match self.read_message()? {
            Read1::Eof => Ok(Some(self.end_of_stream())),
            Read1::BadValue(e) => {
                self.answer_bad_value(&e)?;
                Ok(None)
            }
            Read1::Message(Message::Reply(_)) => {
                Err(self.unexpected("a reply while no callback was waiting"))
            }
            Read1::Message(Message::Command(c)) => self.run(&c),
        }
    }

    fn answer_bad_value(&mut self, e: &DecodeError) -> Result<(), End> {
        let text = Throwable::new(
            "py4j.Py4JException",
            Some(e.to_string()),
            "py4j.Protocol.getObject",
        )
        .stack_trace();
        self.write_reply(&Reply::Error(Some(Value::Str(text))))
            .map_err(End::Io)
    }

    fn unexpected(&mut self, what: &str) -> End {
        self.send_fatal(format!("Unknown command received: {what}"));
        End::Corrupt(DecodeError::UnknownCommand {
            message: self.decoder.messages(),
            offset: self.decoder.offset(),
            name: what.into(),
        })
    }

    /// Executes a command and writes its outcome.
    fn run(&mut self, command: &Command) -> Result<Option<End>, End> {
        let jvm = Arc::clone(&self.shared.jvm);
        if let Command::Auth { token } = command {
            // py4j's Java side checks the token again.
            return if auth::token_matches(&self.shared.config.auth_token, token) {
                self.stream.write_all(auth::OK).map_err(End::Io)?;
                Ok(None)
            } else {
                let _ = self.stream.write_all(auth::BAD_TOKEN);
                Err(End::AuthFailed)
            };
        }
        // A bug in the model must not take the connection (or the process)
        // down with it: the command fails as a Java error would.
        let outcome = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            jvm.execute(command, self)
        })) {
            Ok(o) => o,
            Err(_) => Outcome::Reply(Reply::Error(Some(Value::Str(
                Throwable::new(
                    "java.lang.InternalError",
                    Some(format!(
                        "the sparkwire gateway failed executing {}",
                        command.name()
                    )),
                    "py4j.GatewayConnection.run",
                )
                .stack_trace(),
            )))),
        };
        match outcome {
            Outcome::Reply(r) => self.write_reply(&r).map_err(End::Io)?,
            Outcome::Stream(r, bytes) => {
                self.write_reply(&r).map_err(End::Io)?;
                self.stream.write_all(&bytes).map_err(End::Io)?;
            }
            Outcome::Fatal(r) => {
                let _ = self.write_reply(&r);
                return Err(End::Corrupt(DecodeError::UnknownCommand {
                    message: self.decoder.messages(),
                    offset: self.decoder.offset(),
                    name: command.name().into(),
                }));
            }
            Outcome::Shutdown => {
                if self.shared.config.allow_shutdown {
                    return Ok(Some(End::Shutdown));
                }
            }
            Outcome::Cancel {
                remote_port,
                local_port,
                ..
            } => {
                self.shared.cancel(remote_port, local_port);
            }
        }
        Ok(None)
    }
}

impl Callbacks for Connection {
    fn call_proxy(
        &mut self,
        jvm: &Jvm,
        proxy: &str,
        method: &str,
        args: &[Value],
    ) -> Result<Reply, CallbackError> {
        if self.shared.config.mode == Mode::JavaGateway {
            let client = CallbackClient::new(Arc::clone(&self.shared));
            return client.call(proxy, method, args);
        }
        let max = self.shared.config.max_callback_depth;
        if self.depth >= max {
            return Err(CallbackError::TooDeep(max));
        }
        let call = Command::ProxyCall {
            proxy: proxy.to_owned(),
            method: method.to_owned(),
            args: args.to_vec(),
        };
        self.stream.write_all(&call.to_bytes())?;
        self.depth += 1;
        let result = self.await_reply(jvm);
        self.depth -= 1;
        result
    }
}

impl Connection {
    /// Waits for Python's answer to a callback, serving the commands the
    /// Python side sends meanwhile (the proxy method may call Java again).
    fn await_reply(&mut self, _jvm: &Jvm) -> Result<Reply, CallbackError> {
        loop {
            match self.read_message() {
                Ok(Read1::Message(Message::Reply(r))) => return Ok(r),
                Ok(Read1::Message(Message::Command(c))) => match self.run(&c) {
                    Ok(None) => {}
                    Ok(Some(_)) | Err(_) => {
                        return Err(CallbackError::Protocol(format!(
                            "the connection ended while waiting for a callback reply (after {})",
                            c.name()
                        )))
                    }
                },
                Ok(Read1::BadValue(e)) => return Err(CallbackError::Protocol(e.to_string())),
                Ok(Read1::Eof) => {
                    return Err(CallbackError::Protocol(
                        "the client closed the connection while a callback was waiting".into(),
                    ))
                }
                Err(End::Io(e)) => return Err(CallbackError::Io(e)),
                Err(other) => return Err(CallbackError::Protocol(format!("{other:?}"))),
            }
        }
    }
}
