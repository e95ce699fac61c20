//! The py4j codec against conversations recorded from real PySpark drivers
//! (`tests/golden/py4j`, written by `scripts/record-py4j.sh`: every pinned
//! pyspark, small RDD programs plus one that walks py4j's wider surface).
//!
//! Each recorded stream must decode completely in its direction
//! (`to_java` → [`Direction::ToJava`], `to_python` → [`Direction::ToPython`])
//! and re-encode to the same bytes. Beyond the bytes, the two directions of a
//! connection must pair up as py4j's request/reply discipline says, and some
//! facts every run shows must hold: authentication first, the exception
//! exchange of `lambda_exception`, where JavaGateway mode sends its memory
//! deletes, the callback round trips of `py4j_surface`.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use bytes::BytesMut;
use sparkwire_gateway::py4j::{Command, Direction, Message, Py4jDecoder, Reply, Value};
use sparkwire_testkit::{byte_diff, golden_dir};

/// The pinned PySpark releases the recording script covers.
const MIN_VERSIONS: usize = 5;

/// Programs every version directory must hold.
const PROGRAMS: &[&str] = &[
    "context_only",
    "map_collect",
    "map_collect_nopin",
    "reducebykey",
    "broadcast_accumulator",
    "textfile",
    "lambda_exception",
    "py4j_surface",
];

fn root() -> PathBuf {
    golden_dir().join("py4j")
}

/// `pyspark-<version>` directories, sorted; fails loudly when they are missing.
fn versions() -> Vec<PathBuf> {
    let root = root();
    let entries = fs::read_dir(&root).unwrap_or_else(|e| {
        panic!(
            "{}: {e} — the golden py4j conversations are missing; record them with scripts/record-py4j.sh",
            root.display()
        )
    });
    let mut dirs: Vec<PathBuf> = entries
        .map(|e| e.expect("directory entry").path())
        .filter(|p| {
            p.is_dir()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("pyspark-"))
        })
        .collect();
    dirs.sort();
    assert!(
        dirs.len() >= MIN_VERSIONS,
        "{}: {} pyspark version directories, expected at least {MIN_VERSIONS}; re-record with scripts/record-py4j.sh",
        root.display(),
        dirs.len()
    );
    dirs
}

/// One recorded connection: both directions, decoded.
struct Connection {
    name: String,
    to_java: Vec<Message>,
    to_python: Vec<Message>,
}

/// Decodes a whole stream, checks every byte was used and re-encodes it.
fn decode_exactly(path: &Path, dir: Direction) -> Vec<Message> {
    let wire = fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut dec = Py4jDecoder::new(dir);
    let mut buf = BytesMut::from(&wire[..]);
    let mut msgs = Vec::new();
    loop {
        match dec.decode_eof(&mut buf) {
            Ok(Some(m)) => msgs.push(m),
            Ok(None) => break,
            Err(e) => panic!(
                "{}: {e} (after {} messages, {} of {} bytes decoded)",
                path.display(),
                msgs.len(),
                dec.offset(),
                wire.len()
            ),
        }
    }
    assert_eq!(dec.offset(), wire.len() as u64, "{}", path.display());
    assert!(buf.is_empty(), "{}: bytes left over", path.display());
    dec.finish(&buf)
        .unwrap_or_else(|e| panic!("{}: finish: {e}", path.display()));
    let mut again = Vec::with_capacity(wire.len());
    for m in &msgs {
        m.encode(&mut again);
    }
    if let Some(diff) = byte_diff(&path.display().to_string(), &again, &wire, "recorded") {
        panic!("re-encoding differs: {diff}");
    }
    msgs
}

/// Every connection of one program run, in open order (C1, C2, …).
fn connections(program: &Path) -> Vec<Connection> {
    let mut out = Vec::new();
    for n in 1.. {
        let java = program.join(format!("C{n}.to_java.bin"));
        let python = program.join(format!("C{n}.to_python.bin"));
        if !java.exists() {
            assert!(
                !python.exists(),
                "{} without its to_java half",
                python.display()
            );
            break;
        }
        out.push(Connection {
            name: format!("{}/C{n}", program.display()),
            to_java: decode_exactly(&java, Direction::ToJava),
            to_python: decode_exactly(&python, Direction::ToPython),
        });
    }
    let files = fs::read_dir(program).expect("program directory").count();
    assert_eq!(
        files,
        out.len() * 2,
        "{}: files that are not C<n>.to_java.bin / C<n>.to_python.bin pairs",
        program.display()
    );
    assert!(!out.is_empty(), "{}: no connections", program.display());
    out
}

/// Whether the JVM answers this command with a reply line. py4j's `s`
/// (shutdown) and `z` (ClientServer cancel) get none; every other command,
/// authentication included, gets exactly one.
fn expects_reply(cmd: &Command) -> bool {
    !matches!(cmd, Command::Shutdown | Command::Cancel { .. })
}

/// A command and the reply that answered it.
type Exchange = (Command, Option<Reply>);

/// What [`pair_up`] found on one connection (or, summed, one program run).
#[derive(Default)]
struct Pairs {
    calls: Vec<Exchange>,
    callbacks: Vec<Exchange>,
    nested: usize,
}

/// Replays one connection in py4j's discipline and pairs every command with its
/// reply: Python sends a command and reads lines until a reply comes; a
/// non-reply line on the way is a Java callback, which Python answers on its
/// side (possibly after calling Java again, recursively) before reading on.
/// Returns the Python → Java exchanges, the Java → Python (callback) ones, and
/// how many of the former Python made while answering a callback.
fn pair_up(c: &Connection) -> Pairs {
    struct Walk<'a> {
        name: &'a str,
        java: std::slice::Iter<'a, Message>,
        python: std::slice::Iter<'a, Message>,
        calls: Vec<Exchange>,
        callbacks: Vec<Exchange>,
        depth: usize,
        nested: usize,
    }
    impl Walk<'_> {
        /// Python sent `cmd`; read until its reply.
        fn exchange(&mut self, cmd: &Command) {
            if self.depth > 0 {
                self.nested += 1;
            }
            if !expects_reply(cmd) {
                self.calls.push((cmd.clone(), None));
                return;
            }
            loop {
                match self.python.next() {
                    Some(Message::Reply(r)) => {
                        self.calls.push((cmd.clone(), Some(r.clone())));
                        return;
                    }
                    Some(Message::Command(cb)) => self.callback(cb),
                    None => panic!("{}: no reply to {cmd:?}", self.name),
                }
            }
        }

        /// Java sent `cb` to Python; Python answers, maybe after calls of its own.
        fn callback(&mut self, cb: &Command) {
            self.depth += 1;
            loop {
                match self.java.next() {
                    Some(Message::Reply(r)) => {
                        self.callbacks.push((cb.clone(), Some(r.clone())));
                        self.depth -= 1;
                        return;
                    }
                    Some(Message::Command(cmd)) => self.exchange(cmd),
                    None => panic!("{}: Python never answered callback {cb:?}", self.name),
                }
            }
        }
    }
    let mut w = Walk {
        name: &c.name,
        java: c.to_java.iter(),
        python: c.to_python.iter(),
        calls: Vec::new(),
        callbacks: Vec::new(),
        depth: 0,
        nested: 0,
    };
    while let Some(m) = w.java.next() {
        match m {
            Message::Command(cmd) => w.exchange(cmd),
            Message::Reply(r) => panic!("{}: Python sent reply {r:?} to no callback", c.name),
        }
    }
    if let Some(extra) = w.python.next() {
        panic!("{}: the JVM sent {extra:?} after the last exchange", c.name);
    }
    Pairs {
        calls: w.calls,
        callbacks: w.callbacks,
        nested: w.nested,
    }
}

fn count<T>(items: &[T], f: impl Fn(&T) -> bool) -> usize {
    items.iter().filter(|x| f(x)).count()
}

fn is_reply(m: &Message) -> bool {
    matches!(m, Message::Reply(_))
}

fn commands(msgs: &[Message]) -> impl Iterator<Item = &Command> {
    msgs.iter().filter_map(|m| match m {
        Message::Command(c) => Some(c),
        Message::Reply(_) => None,
    })
}

/// Checks what holds for every connection of every recording.
fn check_connection(c: &Connection) -> Pairs {
    match c.to_java.first() {
        Some(Message::Command(Command::Auth { token })) => assert!(
            token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()),
            "{}: Spark's secret is 64 hex digits, got {token:?}",
            c.name
        ),
        other => panic!("{}: first message to Java is {other:?}, not auth", c.name),
    }
    assert_eq!(
        c.to_python.first(),
        Some(&Message::Reply(Reply::Success(Value::Void))),
        "{}: first message to Python is not !yv",
        c.name
    );
    assert_eq!(
        count(&c.to_java, |m| matches!(
            m,
            Message::Command(Command::Auth { .. })
        )),
        1,
        "{}: one authentication per connection",
        c.name
    );
    // One reply per command that expects one, each way.
    let to_java_expecting = commands(&c.to_java).filter(|x| expects_reply(x)).count();
    let to_python_expecting = commands(&c.to_python).filter(|x| expects_reply(x)).count();
    assert_eq!(
        count(&c.to_python, is_reply),
        to_java_expecting,
        "{}: replies to Python vs commands to Java",
        c.name
    );
    assert_eq!(
        count(&c.to_java, is_reply),
        to_python_expecting,
        "{}: replies to Java vs callbacks to Python",
        c.name
    );
    // `S` (stream) replies are followed by raw bytes the codec does not model;
    // PySpark never sends it, and none of these runs do.
    assert!(
        !commands(&c.to_java).any(|x| matches!(x, Command::Stream { .. })),
        "{}: a stream command",
        c.name
    );
    pair_up(c)
}

/// The (command name, class or method) sequence of the main connection without
/// memory deletes: what the program asked the JVM, independent of ids and of
/// when the garbage collector ran.
fn main_sequence(conns: &[Connection]) -> Vec<String> {
    commands(&conns[0].to_java)
        .filter(|c| !matches!(c, Command::MemoryDelete { .. }))
        .map(|c| match c {
            Command::Call { method, .. } => format!("call {method}"),
            Command::Constructor { class, .. } => format!("new {class}"),
            other => other.name().to_owned(),
        })
        .collect()
}

fn memory_deletes(c: &Connection) -> usize {
    count(&c.to_java, |m| {
        matches!(m, Message::Command(Command::MemoryDelete { .. }))
    })
}

/// Pinned-thread (ClientServer) mode: py4j's FinalizerWorker sends every
/// `m d` on its own connection, so the main one carries none and every
/// connection that carries any carries nothing else.
fn assert_client_server_mode(name: &str, conns: &[Connection]) {
    assert_eq!(
        memory_deletes(&conns[0]),
        0,
        "{name}: m d on the main connection"
    );
    let mut deletes = 0;
    for c in &conns[1..] {
        let n = memory_deletes(c);
        deletes += n;
        if n > 0 {
            assert_eq!(
                commands(&c.to_java).count(),
                n + 1,
                "{}: a finalizer connection carries only auth and m d",
                c.name
            );
        }
    }
    assert!(deletes > 0, "{name}: no memory deletes at all");
}

/// JavaGateway mode: no finalizer thread; whatever thread ran the weakref
/// callback sends `m d` synchronously, mostly the main thread on the main
/// connection, between its other calls.
fn assert_java_gateway_mode(name: &str, conns: &[Connection]) {
    let main = &conns[0].to_java;
    let first_delete = main
        .iter()
        .position(|m| matches!(m, Message::Command(Command::MemoryDelete { .. })))
        .unwrap_or_else(|| panic!("{name}: no m d on the main connection"));
    assert!(
        commands(&main[first_delete..])
            .any(|c| !matches!(c, Command::MemoryDelete { .. })
                && !matches!(c, Command::Auth { .. })),
        "{name}: the main connection's m d are not interleaved with calls"
    );
}

fn assert_lambda_exception(name: &str, calls: &[Exchange]) {
    let thrown = calls
        .iter()
        .find_map(|(cmd, reply)| match (cmd, reply) {
            (Command::Call { target, method, .. }, Some(Reply::Error(Some(Value::Ref(id)))))
                if method == "collectAndServe"
                    && target == "z:org.apache.spark.api.python.PythonRDD" =>
            {
                Some(id.clone())
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("{name}: collectAndServe did not answer !xro…"));
    let trace = calls
        .iter()
        .find_map(|(cmd, reply)| match (cmd, reply) {
            (
                Command::Exception {
                    throwable: Value::Ref(id),
                },
                Some(Reply::Success(Value::Str(t))),
            ) if *id == thrown => Some(t.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{name}: no p command for the thrown {thrown}"));
    assert!(
        trace.contains("ZeroDivisionError") && trace.contains('\n'),
        "{name}: the trace lacks the worker's Python error: {trace:.200}"
    );
}

fn assert_py4j_surface(name: &str, conns: &[Connection], pairs: &Pairs) {
    let (calls, callbacks) = (&pairs.calls, &pairs.callbacks);
    let kinds: BTreeSet<&str> = conns
        .iter()
        .flat_map(|c| commands(&c.to_java))
        .map(Command::name)
        .collect();
    for kind in [
        "array create",
        "array set",
        "array get",
        "array length",
        "array slice",
        "list slice",
        "list count",
        "list sort",
        "list reverse",
        "list mult",
        "list imult",
        "list concat",
        "reflection unknown",
        "reflection member",
        "reflection class",
        "view create",
        "view import",
        "field get",
        "field set",
        "help object",
        "help class",
        "dir methods",
        "dir statics",
        "dir view",
        "exception",
        "memory delete",
        "constructor",
        "call",
    ] {
        assert!(
            kinds.contains(kind),
            "{name}: no {kind} command; saw {kinds:?}"
        );
    }
    // The comparators: Java called compare on the Python proxy, on the same
    // connection, while Python waited for Collections.sort.
    let sorts: Vec<&Option<Reply>> = calls
        .iter()
        .filter(|(c, _)| {
            matches!(c, Command::Call { method, args, .. }
                if method == "sort" && args.iter().any(|a| matches!(a, Value::Proxy { interfaces, .. }
                    if interfaces == &["java.util.Comparator"])))
        })
        .map(|(_, r)| r)
        .collect();
    assert_eq!(
        sorts.len(),
        3,
        "{name}: Collections.sort with a Python comparator"
    );
    assert_eq!(sorts[0], &Some(Reply::Success(Value::Void)), "{name}: sort");
    // The raising comparator makes the sort throw on the Java side.
    assert!(
        matches!(sorts[2], Some(Reply::Error(Some(Value::Ref(_))))),
        "{name}: sort with the raising comparator: {:?}",
        sorts[2]
    );
    let mut answers = BTreeSet::new();
    for (cb, reply) in callbacks {
        let Command::ProxyCall { method, args, .. } = cb else {
            panic!("{name}: callback {cb:?}");
        };
        let answer = match (method.as_str(), reply) {
            ("compare", Some(Reply::Success(Value::Int(_)))) => "int",
            ("compare", Some(Reply::Error(Some(Value::Str(t)))))
                if t.starts_with("Traceback") && t.contains("ValueError: no order\nhere") =>
            {
                "python error"
            }
            ("call", Some(Reply::Success(Value::Str(t)))) if t == "called\nback \\ é" => "string",
            _ => panic!("{name}: callback {cb:?} answered {reply:?}"),
        };
        answers.insert(answer);
        if method == "compare" {
            assert_eq!(args.len(), 2, "{name}: compare arguments");
        }
    }
    assert_eq!(answers.len(), 3, "{name}: callback answers {answers:?}");
    // The Point comparator reads getX() of its Java arguments: calls made while
    // Python answers Java, on the same connection.
    assert!(
        pairs.nested >= 2,
        "{name}: calls nested in callbacks: {}",
        pairs.nested
    );
    // Values that need escaping or a second spelling come back as sent.
    let echo = |arg: &Value| {
        calls.iter().find_map(|(c, r)| match c {
            Command::Call { method, args, .. }
                if method == "requireNonNull" && args == std::slice::from_ref(arg) =>
            {
                r.clone()
            }
            _ => None,
        })
    };
    for text in ["a\nb", "back\\slash", "cr\rlf", "é 中 🎉", ""] {
        let v = Value::Str(text.into());
        assert_eq!(
            echo(&v),
            Some(Reply::Success(v.clone())),
            "{name}: {text:?}"
        );
    }
    let doubles: BTreeSet<String> = calls
        .iter()
        .filter_map(|(_, r)| match r {
            Some(Reply::Success(Value::Double(d))) => Some(d.text().to_owned()),
            _ => None,
        })
        .collect();
    for spelled in ["Infinity", "-Infinity", "NaN", "1.0E16", "4.9E-324", "-0.0"] {
        assert!(
            doubles.contains(spelled),
            "{name}: Java's d{spelled} missing: {doubles:?}"
        );
    }
    assert!(
        calls
            .iter()
            .any(|(c, _)| matches!(c, Command::Call { args, .. }
            if args.iter().any(|a| matches!(a, Value::Long(2_147_483_648))))),
        "{name}: no L argument"
    );
    assert!(
        calls
            .iter()
            .any(|(_, r)| matches!(r, Some(Reply::Error(Some(Value::Str(t))))
            if t.contains("noSuchMethod"))),
        "{name}: no !xs reply for the missing method"
    );
}

#[test]
fn recorded_py4j_conversations_decode_reencode_and_pair_up() {
    let mut streams = 0;
    let mut bytes = 0;
    let mut exchanges = 0;
    let mut callbacks_seen = 0;
    for version in versions() {
        let v = version
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("?")
            .to_owned();
        let mut sequences = Vec::new();
        for program in PROGRAMS {
            let dir = version.join(program);
            assert!(dir.is_dir(), "{}: missing", dir.display());
            let name = format!("{v}/{program}");
            let conns = connections(&dir);
            let mut pairs = Pairs::default();
            for c in &conns {
                let p = check_connection(c);
                pairs.calls.extend(p.calls);
                pairs.callbacks.extend(p.callbacks);
                pairs.nested += p.nested;
                streams += 2;
            }
            bytes += fs::read_dir(&dir)
                .expect("program directory")
                .map(|e| e.expect("entry").metadata().expect("metadata").len())
                .sum::<u64>();
            exchanges += pairs.calls.len();
            callbacks_seen += pairs.callbacks.len();
            // Only py4j_surface hands Java a Python object to call.
            assert_eq!(
                pairs.callbacks.is_empty(),
                *program != "py4j_surface",
                "{name}: callbacks"
            );
            match *program {
                "map_collect" => {
                    assert_client_server_mode(&name, &conns);
                    sequences.push(main_sequence(&conns));
                }
                "map_collect_nopin" => {
                    assert_java_gateway_mode(&name, &conns);
                    sequences.push(main_sequence(&conns));
                }
                "lambda_exception" => assert_lambda_exception(&name, &pairs.calls),
                "py4j_surface" => assert_py4j_surface(&name, &conns, &pairs),
                _ => assert_client_server_mode(&name, &conns),
            }
        }
        // The two modes differ in where m d goes, not in what the program asks.
        assert_eq!(
            sequences[0], sequences[1],
            "{v}: map_collect vs map_collect_nopin"
        );
    }
    eprintln!(
        "py4j golden: {streams} streams, {bytes} bytes, {exchanges} exchanges, {callbacks_seen} callbacks"
    );
}
