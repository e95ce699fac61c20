//! A Py4J connection read with the gateway's codec: what Python asked the JVM,
//! what came back, which Java exceptions were thrown, which callbacks ran, and
//! where decoding stopped when the bytes are damaged.
//!
//! Python's bytes are decoded as [`Direction::ToJava`] (its commands, and its
//! answers to callbacks), the JVM's as [`Direction::ToPython`] (replies, and
//! callback commands). The two are then walked together in py4j's discipline
//! — each command waits for its one reply line, and a callback arriving
//! meanwhile is answered first — which pairs every reply with its command:
//! that is how an `!xro…` is attributed to the call that threw, and how an
//! object id is known to be of the class a constructor made.

use std::collections::HashMap;

use bytes::BytesMut;
use sparkwire_gateway::py4j::{
    Command, DecodeError, Direction, Message, Py4jDecoder, Reply, Value,
};

/// Characters of a py4j error text (`!xs…`, `!zs…`) kept: the exception's
/// class and message, and the first frames of its trace.
pub const MAX_ERROR_TEXT: usize = 240;

/// Error texts kept per connection; the rest are only counted.
pub const MAX_ERROR_TEXTS: usize = 16;

/// Skipped (bad-value) messages kept per direction; the rest are only counted.
pub const MAX_SKIPPED: usize = 16;

/// How far one direction decoded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Py4jStream {
    /// Messages decoded.
    pub messages: usize,
    /// Bytes decoded: all of them unless decoding stopped, else the offset of
    /// the message it stopped in.
    pub decoded_bytes: u64,
    /// Messages refused for a bad value or reply line, which the decoder
    /// skipped before going on (the first [`MAX_SKIPPED`]).
    pub skipped: Vec<DecodeError>,
    /// How many were skipped in all.
    pub skipped_total: usize,
    /// Why decoding stopped before the end: damaged framing, or the bytes end
    /// inside a message.
    pub stopped: Option<DecodeError>,
}

/// Replies by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplyCounts {
    /// `!y…`.
    pub success: usize,
    /// `!x…`: a Java exception (`!xr…`), a py4j error text (`!xs…`) or a bare `!x`.
    pub error: usize,
    /// `!z…`: the JVM's connection loop itself failed.
    pub fatal: usize,
}

impl ReplyCounts {
    fn add(&mut self, r: &Reply) {
        match r {
            Reply::Success(_) | Reply::Ack => self.success += 1,
            Reply::Error(_) => self.error += 1,
            Reply::Fatal(_) => self.fatal += 1,
        }
    }

    /// All replies.
    pub fn total(&self) -> usize {
        self.success + self.error + self.fatal
    }
}

/// What one Py4J connection carried.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Py4jSummary {
    /// The connection opened with an authentication command that the other
    /// side accepted (the token itself is never kept).
    pub authenticated: bool,
    /// The JVM opened the connection: a callback connection to a Python
    /// callback server, where the JVM sends the commands.
    pub jvm_is_client: bool,
    /// Commands Python sent.
    pub commands: usize,
    /// `(kind, count)` of Python's commands in first-seen order; kinds are
    /// the codec's names (`call`, `constructor`, `reflection unknown`,
    /// `view import`, `array get`, `memory delete`, `exception`, …).
    pub command_kinds: Vec<(&'static str, usize)>,
    /// `(receiver.method, count)` of the calls in first-call order. The
    /// receiver is the class of a static call (`z:<fqn>`) or of an object a
    /// constructor on this connection made, `<object>` for other objects
    /// (Python holds a fresh id per returned object, so ids would not add up),
    /// else the target as sent (`t`, `GATEWAY_SERVER`).
    pub calls: Vec<(String, usize)>,
    /// `(class, count)` of the constructors.
    pub constructors: Vec<(String, usize)>,
    /// The JVM's replies to Python, by status.
    pub replies: ReplyCounts,
    /// Replies carrying a thrown Java object (`!xr…`).
    pub java_exceptions: usize,
    /// `(receiver.method, count)` of the calls and constructors that answered
    /// with a thrown Java object (`new <class>` for constructors).
    pub thrown_by: Vec<(String, usize)>,
    /// The texts of py4j-level errors (`!xs…`, `!zs…`), each cut to
    /// [`MAX_ERROR_TEXT`] characters; at most [`MAX_ERROR_TEXTS`].
    pub error_texts: Vec<String>,
    /// `(method, count)` of the JVM's commands to Python: callbacks into Python
    /// objects (`c` on a proxy) by method; `proxy collected` (`g`) and
    /// `callback auth` by those names.
    pub callbacks: Vec<(String, usize)>,
    /// Python's error answers (`!x…`) to callbacks.
    pub callback_errors: usize,
    /// Python → JVM decoding.
    pub to_java: Py4jStream,
    /// JVM → Python decoding.
    pub to_python: Py4jStream,
}

/// One decoded item of a direction, or a message the decoder skipped.
enum Item {
    Message(Message),
    /// A command (`command`) or reply refused for a bad value; it still takes
    /// part in the command/reply pairing.
    Skipped {
        command: bool,
        /// A command the other side answers (all but `z`, cancel).
        reply_due: bool,
    },
}

/// One direction, decoded lazily as the walk asks for it.
struct Side<'a> {
    dec: Py4jDecoder,
    buf: BytesMut,
    stream: &'a mut Py4jStream,
    done: bool,
}

impl<'a> Side<'a> {
    fn new(bytes: &[u8], dir: Direction, stream: &'a mut Py4jStream) -> Side<'a> {
        Side {
            dec: Py4jDecoder::new(dir),
            buf: BytesMut::from(bytes),
            stream,
            done: false,
        }
    }

    fn next(&mut self) -> Option<Item> {
        if self.done {
            return None;
        }
        let item = match self.dec.decode_eof(&mut self.buf) {
            Ok(Some(m)) => {
                self.stream.messages += 1;
                Some(Item::Message(m))
            }
            Ok(None) => None,
            Err(e) if e.is_stream_corrupt() => {
                self.stream.stopped = Some(e);
                None
            }
            Err(e) => {
                let (command, reply_due) = match &e {
                    DecodeError::BadValue { name, .. } => (true, *name != "cancel"),
                    _ => (false, false),
                };
                self.stream.skipped_total += 1;
                if self.stream.skipped.len() < MAX_SKIPPED {
                    self.stream.skipped.push(e);
                }
                Some(Item::Skipped { command, reply_due })
            }
        };
        self.stream.decoded_bytes = self.dec.offset();
        self.done = item.is_none();
        item
    }
}

/// What a command waiting for its reply was, for attributing the reply.
enum Pending {
    /// A call, named as in [`Py4jSummary::calls`].
    Call(String),
    /// A constructor of this class.
    Constructor(String),
    /// The authentication command.
    Auth,
    /// Anything else (or a skipped command).
    Other,
}

/// Counts a command kind: there are a few dozen, so a scan is enough.
fn bump(counts: &mut Vec<(&'static str, usize)>, key: &'static str) {
    match counts.iter_mut().find(|(k, _)| *k == key) {
        Some((_, n)) => *n += 1,
        None => counts.push((key, 1)),
    }
}

/// Counts of names in first-seen order, indexed: a connection can name as
/// many distinct methods or classes as it has bytes for, and a scan per
/// command would make that quadratic.
#[derive(Default)]
struct Tally {
    index: HashMap<String, usize>,
}

impl Tally {
    fn add(&mut self, counts: &mut Vec<(String, usize)>, key: String) {
        match self.index.get(&key) {
            Some(&i) => counts[i].1 += 1,
            None => {
                self.index.insert(key.clone(), counts.len());
                counts.push((key, 1));
            }
        }
    }
}

fn cut(text: &str) -> String {
    match text.char_indices().nth(MAX_ERROR_TEXT) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// Whether the client's bytes open a JVM → Python callback connection:
/// `A⏎<token>⏎e⏎` (Python's own auth command has no `e` line).
fn jvm_opens(client: &[u8]) -> bool {
    let mut lines = client.split(|&b| b == b'\n');
    lines.next() == Some(b"A") && lines.next().is_some() && lines.next() == Some(b"e")
}

/// The walk's knowledge of the connection so far.
struct Walk {
    s: Py4jSummary,
    /// Python's commands waiting for replies, innermost last.
    pending: Vec<Pending>,
    /// Classes of the objects constructors returned, by id.
    classes: HashMap<String, String>,
    /// Whether the authentication came first.
    auth_first: bool,
    started: bool,
    calls: Tally,
    constructors: Tally,
    thrown_by: Tally,
    callbacks: Tally,
}

impl Walk {
    fn receiver(&self, target: &str) -> String {
        if let Some(fqn) = target.strip_prefix("z:") {
            return fqn.to_owned();
        }
        if let Some(class) = self.classes.get(target) {
            return class.clone();
        }
        let id = target.strip_prefix('o').unwrap_or_default();
        if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
            "<object>".to_owned()
        } else {
            target.to_owned()
        }
    }

    /// A command Python sent; whether a reply is due.
    fn python_command(&mut self, cmd: &Command) -> bool {
        let first = !std::mem::replace(&mut self.started, true);
        self.s.commands += 1;
        bump(&mut self.s.command_kinds, cmd.name());
        let pending = match cmd {
            Command::Auth { .. } => {
                self.auth_first |= first;
                Pending::Auth
            }
            Command::Call { target, method, .. } => {
                let name = format!("{}.{method}", self.receiver(target));
                self.calls.add(&mut self.s.calls, name.clone());
                Pending::Call(name)
            }
            Command::Constructor { class, .. } => {
                self.constructors
                    .add(&mut self.s.constructors, class.clone());
                Pending::Constructor(class.clone())
            }
            Command::MemoryDelete { target } => {
                self.classes.remove(target);
                Pending::Other
            }
            _ => Pending::Other,
        };
        let due = !matches!(cmd, Command::Shutdown | Command::Cancel { .. });
        if due {
            self.pending.push(pending);
        }
        due
    }

    /// A reply the JVM sent to Python's innermost waiting command.
    fn jvm_reply(&mut self, reply: Option<&Reply>) {
        let pending = self.pending.pop().unwrap_or(Pending::Other);
        let Some(reply) = reply else { return };
        self.s.replies.add(reply);
        match (reply, &pending) {
            (Reply::Success(Value::Void), Pending::Auth) => {
                self.s.authenticated = self.auth_first;
            }
            (
                Reply::Success(
                    Value::Ref(id)
                    | Value::List(id)
                    | Value::Map(id)
                    | Value::Set(id)
                    | Value::Array(id),
                ),
                Pending::Constructor(class),
            ) => {
                self.classes.insert(id.clone(), class.clone());
            }
            (Reply::Error(Some(Value::Ref(_))), _) => {
                self.s.java_exceptions += 1;
                match pending {
                    Pending::Call(name) => self.thrown_by.add(&mut self.s.thrown_by, name),
                    Pending::Constructor(class) => self
                        .thrown_by
                        .add(&mut self.s.thrown_by, format!("new {class}")),
                    Pending::Auth | Pending::Other => {}
                }
            }
            (Reply::Error(Some(Value::Str(t))) | Reply::Fatal(Some(Value::Str(t))), _)
                if self.s.error_texts.len() < MAX_ERROR_TEXTS =>
            {
                self.s.error_texts.push(cut(t));
            }
            _ => {}
        }
    }

    /// A command the JVM sent to Python (a callback).
    fn jvm_command(&mut self, cmd: &Command) {
        let first = !std::mem::replace(&mut self.started, true);
        if matches!(cmd, Command::CallbackAuth { .. }) {
            self.auth_first |= first;
        }
        match cmd {
            Command::ProxyCall { method, .. } => {
                self.callbacks.add(&mut self.s.callbacks, method.clone())
            }
            other => self
                .callbacks
                .add(&mut self.s.callbacks, other.name().to_owned()),
        }
    }

    /// Python's answer to the innermost open callback.
    fn python_reply(&mut self, reply: Option<&Reply>, callback_auth: bool) {
        match reply {
            Some(Reply::Error(_) | Reply::Fatal(_)) => self.s.callback_errors += 1,
            Some(Reply::Success(Value::Void)) if callback_auth => {
                self.s.authenticated = self.auth_first;
            }
            _ => {}
        }
    }
}

/// Reads a Py4J connection: `client` and `server` are the bytes each side sent.
pub fn summarize(client: &[u8], server: &[u8]) -> Py4jSummary {
    let jvm_is_client = jvm_opens(client);
    let (python_bytes, jvm_bytes) = if jvm_is_client {
        (server, client)
    } else {
        (client, server)
    };
    let (mut to_java, mut to_python) = (Py4jStream::default(), Py4jStream::default());
    let mut w = Walk {
        s: Py4jSummary {
            jvm_is_client,
            ..Py4jSummary::default()
        },
        pending: Vec::new(),
        classes: HashMap::new(),
        auth_first: false,
        started: false,
        calls: Tally::default(),
        constructors: Tally::default(),
        thrown_by: Tally::default(),
        callbacks: Tally::default(),
    };
    {
        let mut python = Side::new(python_bytes, Direction::ToJava, &mut to_java);
        let mut jvm = Side::new(jvm_bytes, Direction::ToPython, &mut to_python);
        // Who speaks next: the JVM after a command that awaits a reply and
        // after Python answered a callback; Python otherwise. A callback
        // connection starts with the JVM.
        let mut jvm_next = jvm_is_client;
        let mut callback_auth = false;
        loop {
            if jvm_next {
                match jvm.next() {
                    Some(Item::Message(Message::Reply(r))) => {
                        w.jvm_reply(Some(&r));
                        jvm_next = false;
                    }
                    Some(Item::Skipped { command: false, .. }) => {
                        w.jvm_reply(None);
                        jvm_next = false;
                    }
                    Some(Item::Message(Message::Command(c))) => {
                        callback_auth = matches!(c, Command::CallbackAuth { .. });
                        w.jvm_command(&c);
                        jvm_next = false;
                    }
                    Some(Item::Skipped { command: true, .. }) => jvm_next = false,
                    None => break,
                }
            } else {
                match python.next() {
                    Some(Item::Message(Message::Command(c))) => jvm_next = w.python_command(&c),
                    Some(Item::Skipped {
                        command: true,
                        reply_due,
                    }) => {
                        if reply_due {
                            w.pending.push(Pending::Other);
                        }
                        jvm_next = reply_due;
                    }
                    Some(Item::Message(Message::Reply(r))) => {
                        w.python_reply(Some(&r), callback_auth);
                        callback_auth = false;
                        jvm_next = true;
                    }
                    Some(Item::Skipped { command: false, .. }) => {
                        w.python_reply(None, false);
                        jvm_next = true;
                    }
                    None => break,
                }
            }
        }
        // One side ended (or stopped): the rest of the other is still counted,
        // without pairing.
        while let Some(item) = python.next() {
            match item {
                Item::Message(Message::Command(c)) => {
                    w.python_command(&c);
                }
                Item::Message(Message::Reply(r)) => w.python_reply(Some(&r), false),
                Item::Skipped { .. } => {}
            }
        }
        w.pending.clear();
        while let Some(item) = jvm.next() {
            match item {
                Item::Message(Message::Reply(r)) => w.jvm_reply(Some(&r)),
                Item::Message(Message::Command(c)) => w.jvm_command(&c),
                Item::Skipped { .. } => {}
            }
        }
    }
    w.s.to_java = to_java;
    w.s.to_python = to_python;
    w.s
}

#[cfg(test)]
mod tests {
    use super::*;

    const AUTH: &str = "A\n0123abcd\n";

    /// A start like PySpark's: auth, an import, a constructor whose object is
    /// then called, a static call that throws, its trace, a memory delete.
    fn conversation() -> (String, String) {
        let client = [
            AUTH,
            "j\ni\nrj\norg.apache.spark.SparkConf\ne\n",
            "i\norg.apache.spark.SparkConf\nbTrue\ne\n",
            "c\no0\nset\nsspark.master\nslocal[2]\ne\n",
            "c\no1\nget\nsspark.master\ne\n",
            "c\nz:org.apache.spark.api.python.PythonRDD\ncollectAndServe\nro3\ne\n",
            "p\nro4\ne\n",
            "m\nd\no0\ne\n",
        ]
        .concat();
        let server = [
            "!yv\n",
            "!yv\n",
            "!yro0\n",
            "!yro1\n",
            "!yslocal[2]\n",
            "!xro4\n",
            "!ysorg.apache.spark.SparkException: boom\\n\tat x\n",
            "!yv\n",
        ]
        .concat();
        (client, server)
    }

    #[test]
    fn a_whole_conversation_by_kind_call_and_status() {
        let (c, s) = conversation();
        let p = summarize(c.as_bytes(), s.as_bytes());
        assert!(p.authenticated && !p.jvm_is_client);
        assert_eq!(p.commands, 8);
        assert_eq!(
            p.command_kinds,
            [
                ("auth", 1),
                ("view import", 1),
                ("constructor", 1),
                ("call", 3),
                ("exception", 1),
                ("memory delete", 1)
            ]
        );
        assert_eq!(
            p.calls,
            [
                ("org.apache.spark.SparkConf.set".to_owned(), 1),
                ("<object>.get".to_owned(), 1),
                (
                    "org.apache.spark.api.python.PythonRDD.collectAndServe".to_owned(),
                    1
                ),
            ]
        );
        assert_eq!(
            p.constructors,
            [("org.apache.spark.SparkConf".to_owned(), 1)]
        );
        assert_eq!(
            p.replies,
            ReplyCounts {
                success: 7,
                error: 1,
                fatal: 0
            }
        );
        assert_eq!(p.java_exceptions, 1);
        assert_eq!(
            p.thrown_by,
            [(
                "org.apache.spark.api.python.PythonRDD.collectAndServe".to_owned(),
                1
            )]
        );
        assert!(p.error_texts.is_empty() && p.callbacks.is_empty());
        for (stream, len) in [(&p.to_java, c.len()), (&p.to_python, s.len())] {
            assert_eq!(stream.decoded_bytes, len as u64);
            assert!(stream.stopped.is_none() && stream.skipped.is_empty());
        }
        assert_eq!((p.to_java.messages, p.to_python.messages), (8, 8));
    }

    #[test]
    fn a_connection_cut_mid_command_shows_everything_before_the_cut() {
        let (c, s) = conversation();
        // Cut inside the collectAndServe call (after its method line); the JVM
        // side has the replies up to the one before it.
        let at = c.find("c\nz:").unwrap();
        let cut_client =
            &c[..at + "c\nz:org.apache.spark.api.python.PythonRDD\ncollectAndServe\n".len()];
        let cut_server: String = s.lines().take(5).map(|l| format!("{l}\n")).collect();
        let p = summarize(cut_client.as_bytes(), cut_server.as_bytes());
        assert_eq!(p.commands, 5, "auth, import, constructor, set, get");
        assert_eq!(p.replies.success, 5);
        assert_eq!(p.calls.len(), 2);
        assert_eq!(
            p.to_java.stopped,
            Some(DecodeError::Truncated {
                message: 5,
                name: "call",
                offset: at as u64,
                lines: 3
            })
        );
        assert_eq!(p.to_java.decoded_bytes, at as u64);
        assert!(p.to_python.stopped.is_none());
        assert!(p.authenticated);
    }

    #[test]
    fn a_bad_value_line_is_skipped_and_the_pairing_holds() {
        let client = [
            AUTH,
            // `i007` is no integer py4j writes: the command is skipped.
            "c\nz:java.lang.Math\nmax\ni007\ni1\ne\n",
            "i\njava.util.ArrayList\ne\n",
            "c\no5\nget\ni9\ne\n",
        ]
        .concat();
        let server = [
            "!yv\n",
            "!xsMethod max does not exist\n",
            "!ylo5\n",
            "!xro6\n",
        ]
        .concat();
        let p = summarize(client.as_bytes(), server.as_bytes());
        assert_eq!(p.to_java.skipped_total, 1);
        assert!(matches!(
            p.to_java.skipped[0],
            DecodeError::BadValue {
                message: 1,
                name: "call",
                line: 4,
                ..
            }
        ));
        assert!(p.to_java.stopped.is_none());
        assert_eq!(p.to_java.decoded_bytes, client.len() as u64);
        // The skipped call's reply does not shift the pairing: the list made by
        // the constructor is known, and its get threw.
        assert_eq!(p.commands, 3);
        assert_eq!(p.thrown_by, [("java.util.ArrayList.get".to_owned(), 1)]);
        assert_eq!(p.error_texts, ["Method max does not exist"]);
        assert_eq!(p.replies.error, 2);
    }

    #[test]
    fn a_damaged_reply_stream_stops_where_the_damage_is() {
        let client = [AUTH, "c\nz:a.B\nm\ne\n", "c\nz:a.B\nn\ne\n"].concat();
        let server = "!yv\n!yi1\nq\n!yi2\n";
        let p = summarize(client.as_bytes(), server.as_bytes());
        assert_eq!(
            p.to_python.stopped,
            Some(DecodeError::UnknownCommand {
                message: 2,
                offset: 9,
                name: "q".into()
            })
        );
        assert_eq!(p.to_python.decoded_bytes, 9);
        assert_eq!((p.commands, p.replies.success), (3, 2));
    }

    #[test]
    fn callbacks_on_the_same_socket_with_a_nested_call() {
        let client = [
            AUTH,
            "c\nz:java.util.Collections\nsort\nro1\nfp0;java.util.Comparator\ne\n",
            // Inside the first compare, Python calls Java, then answers.
            "c\no2\ngetX\ne\n",
            "!yi-1\n",
            "!xsTraceback (most recent call last):\\nValueError\n",
            "i\njava.awt.Point\ne\n",
            "c\no9\ngetY\ne\n",
        ]
        .concat();
        let server = [
            "!yv\n",
            "c\np0\ncompare\nro2\nro3\ne\n",
            "!yd1.0\n",
            "c\np0\ncompare\nro3\nro2\ne\n",
            "!xro7\n",
            "!yro9\n",
            "!yd2.0\n",
        ]
        .concat();
        let p = summarize(client.as_bytes(), server.as_bytes());
        assert_eq!(p.callbacks, [("compare".to_owned(), 2)]);
        assert_eq!(p.callback_errors, 1);
        assert_eq!(p.thrown_by, [("java.util.Collections.sort".to_owned(), 1)]);
        assert_eq!(
            p.calls,
            [
                ("java.util.Collections.sort".to_owned(), 1),
                ("<object>.getX".to_owned(), 1),
                ("java.awt.Point.getY".to_owned(), 1),
            ]
        );
        assert_eq!(p.replies.total(), 5);
    }

    #[test]
    fn a_callback_connection_opened_by_the_jvm() {
        let client = "A\n0123abcd\ne\nc\np0\nrun\ne\n";
        let server = "!yv\n!yn\n";
        let p = summarize(client.as_bytes(), server.as_bytes());
        assert!(p.jvm_is_client && p.authenticated);
        assert_eq!(
            p.callbacks,
            [("callback auth".to_owned(), 1), ("run".to_owned(), 1)]
        );
        assert_eq!(p.commands, 0);
        assert!(p.to_java.stopped.is_none() && p.to_python.stopped.is_none());
    }

    #[test]
    fn error_texts_are_cut() {
        let long = "x".repeat(MAX_ERROR_TEXT + 10);
        let client = [AUTH, "c\nt\nm\ne\n"].concat();
        let server = format!("!yv\n!xs{long}\n");
        let p = summarize(client.as_bytes(), server.as_bytes());
        assert_eq!(p.error_texts[0].chars().count(), MAX_ERROR_TEXT + 1);
        assert!(p.error_texts[0].ends_with('…'));
    }

    /// Every connection recorded from real drivers (tests/golden/py4j) reads
    /// to the end, each command paired with its reply.
    #[test]
    fn every_recorded_conversation_reads_completely() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/golden/py4j");
        let mut connections = 0;
        let mut callbacks = 0;
        for version in std::fs::read_dir(&root).unwrap() {
            let version = version.unwrap().path();
            if !version.is_dir() {
                continue;
            }
            for program in std::fs::read_dir(&version).unwrap() {
                let program = program.unwrap().path();
                for n in 1.. {
                    let Ok(client) = std::fs::read(program.join(format!("C{n}.to_java.bin")))
                    else {
                        break;
                    };
                    let server =
                        std::fs::read(program.join(format!("C{n}.to_python.bin"))).unwrap();
                    let p = summarize(&client, &server);
                    let at = format!("{}/C{n}", program.display());
                    assert!(p.authenticated && !p.jvm_is_client, "{at}");
                    assert!(
                        p.to_java.stopped.is_none() && p.to_python.stopped.is_none(),
                        "{at}"
                    );
                    assert_eq!(
                        p.to_java.skipped_total + p.to_python.skipped_total,
                        0,
                        "{at}"
                    );
                    assert_eq!(p.commands, p.replies.total(), "{at}");
                    assert_eq!(p.commands + callbacks_of(&p), p.to_java.messages, "{at}");
                    connections += 1;
                    callbacks += callbacks_of(&p);
                }
            }
        }
        assert!(connections >= 70, "{connections} connections");
        assert!(callbacks > 0);
    }

    fn callbacks_of(p: &Py4jSummary) -> usize {
        p.callbacks.iter().map(|(_, n)| n).sum()
    }

    /// A real recording (tests/golden/py4j): the lambda that raised inside
    /// collect, and the exception's text asked for afterwards.
    #[test]
    fn recorded_lambda_exception() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/golden/py4j/pyspark-4.3.0/lambda_exception");
        let read = |f: &str| std::fs::read(dir.join(f)).unwrap();
        let p = summarize(&read("C1.to_java.bin"), &read("C1.to_python.bin"));
        assert!(p.authenticated);
        assert_eq!(p.commands, p.replies.total());
        assert_eq!(
            p.thrown_by,
            [(
                "org.apache.spark.api.python.PythonRDD.collectAndServe".to_owned(),
                1
            )]
        );
        assert!(p.command_kinds.contains(&("exception", 1)));
        assert!(p.to_java.stopped.is_none() && p.to_python.stopped.is_none());
    }
}
