//! Commands: every request form py4j 0.10.9.x puts on the wire, in both
//! directions, with its grammar (how many lines, whether an `e` line ends it)
//! and its exact encoding.

use super::value::{escape_into, unescape, Value, ValueError};

/// Which way the bytes flow; it decides what `c` and `A` mean.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// What a Python client writes to the JVM's gateway: its commands, plus (in
    /// ClientServer mode) its replies to callbacks.
    ToJava,
    /// What the JVM writes to Python: replies, plus callback commands
    /// (`c` on a Python proxy, `g` proxy collected, `A` on a callback connection).
    ToPython,
}

/// A py4j command. Bare lines (object ids, class and member names) are kept as
/// written; typed lines are [`Value`]s.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// `A⏎<token>⏎` — first message of every Python → JVM connection (no `e`).
    Auth {
        /// The token, exactly as sent (Python does not escape it).
        token: String,
    },
    /// `c⏎<target>⏎<method>⏎<part>*e⏎` — call a method. The target is an
    /// object id, `t` (entry point) or `z:<fqn>` (static).
    Call {
        /// Object id or `z:<fqn>`.
        target: String,
        /// Method name.
        method: String,
        /// Arguments.
        args: Vec<Value>,
    },
    /// `i⏎<fqn>⏎<part>*e⏎` — construct an object.
    Constructor {
        /// Class name.
        class: String,
        /// Constructor arguments.
        args: Vec<Value>,
    },
    /// `f⏎g⏎<id>⏎<field>⏎e⏎` — read a field.
    FieldGet {
        /// Object id.
        target: String,
        /// Field name.
        field: String,
    },
    /// `f⏎s⏎<id>⏎<field>⏎<part>⏎e⏎` — write a field.
    FieldSet {
        /// Object id.
        target: String,
        /// Field name.
        field: String,
        /// New value.
        value: Value,
    },
    /// `r⏎u⏎<name>⏎<view part>⏎e⏎` — is this name a class or a package, in
    /// this JVM view (`rj` is the default view)?
    ReflectUnknown {
        /// Simple or dotted name, as written (not escaped).
        name: String,
        /// The JVM view, a reference part.
        view: Value,
    },
    /// `r⏎m⏎<fqn>⏎<member>⏎e⏎` — static member lookup.
    ReflectMember {
        /// Class name.
        class: String,
        /// Member name.
        member: String,
    },
    /// `r⏎c⏎<fqn>⏎e⏎` — the `java.lang.Class` object of a class.
    ReflectClass {
        /// Class name.
        class: String,
    },
    /// `j⏎c⏎<name part>⏎e⏎` — create a JVM view.
    ViewCreate {
        /// The view's name (Python sends an `s` part).
        name: Value,
    },
    /// `j⏎i⏎<view part>⏎<escaped import>⏎e⏎` — import into a view.
    ViewImport {
        /// The view (`rj` for the default one).
        view: Value,
        /// `a.b.C` or `a.b.*`, unescaped.
        import: String,
    },
    /// `j⏎r⏎<view part>⏎<escaped import>⏎e⏎` — remove an import.
    ViewRemoveImport {
        /// The view.
        view: Value,
        /// The import, unescaped.
        import: String,
    },
    /// `a⏎g⏎<id>⏎<index part>⏎e⏎` — array element.
    ArrayGet {
        /// Array id.
        target: String,
        /// Index (an `i` part from Python).
        index: Value,
    },
    /// `a⏎s⏎<id>⏎<index part>⏎<value part>⏎e⏎` — set an array element.
    ArraySet {
        /// Array id.
        target: String,
        /// Index.
        index: Value,
        /// New element.
        value: Value,
    },
    /// `a⏎l⏎<id>⏎<index part>*e⏎` — a new array of the listed elements.
    ArraySlice {
        /// Array id.
        target: String,
        /// Indices, one part each.
        indices: Vec<Value>,
    },
    /// `a⏎e⏎<id>⏎e⏎` — array length.
    ArrayLen {
        /// Array id.
        target: String,
    },
    /// `a⏎c⏎<class part>⏎<dimension part>*e⏎` — new array.
    ArrayCreate {
        /// Component class (an `s` part from Python).
        class: Value,
        /// Dimensions.
        dimensions: Vec<Value>,
    },
    /// `l⏎s⏎<id>⏎e⏎` — `Collections.sort`.
    ListSort {
        /// List id.
        target: String,
    },
    /// `l⏎r⏎<id>⏎e⏎` — `Collections.reverse`.
    ListReverse {
        /// List id.
        target: String,
    },
    /// `l⏎x⏎<id>⏎e⏎` — `Collections.max` (Java accepts it; Python never sends it).
    ListMax {
        /// List id.
        target: String,
    },
    /// `l⏎n⏎<id>⏎e⏎` — `Collections.min` (likewise).
    ListMin {
        /// List id.
        target: String,
    },
    /// `l⏎l⏎<id>⏎<index part>*e⏎` — a new list of the listed elements.
    ListSlice {
        /// List id.
        target: String,
        /// Indices.
        indices: Vec<Value>,
    },
    /// `l⏎a⏎<id>⏎<id>⏎e⏎` — concatenation into a new list.
    ListConcat {
        /// First list id.
        target: String,
        /// Second list id.
        other: String,
    },
    /// `l⏎m⏎<id>⏎<n part>⏎e⏎` — `list * n` into a new list.
    ListMult {
        /// List id.
        target: String,
        /// Factor (an `i` part).
        n: Value,
    },
    /// `l⏎i⏎<id>⏎<n part>⏎e⏎` — `list *= n` in place.
    ListIMult {
        /// List id.
        target: String,
        /// Factor.
        n: Value,
    },
    /// `l⏎f⏎<id>⏎<part>⏎e⏎` — `Collections.frequency`.
    ListCount {
        /// List id.
        target: String,
        /// Value counted.
        value: Value,
    },
    /// `m⏎d⏎<id>⏎e⏎` — Python dropped its last reference to this id.
    MemoryDelete {
        /// Object id.
        target: String,
    },
    /// `h⏎o⏎<id>⏎<pattern part>⏎<short-name part>⏎e⏎` — help page of an object.
    HelpObject {
        /// Object id.
        target: String,
        /// Method pattern (`s…`) or `n`.
        pattern: Value,
        /// Whether to print simple names (a `b` part).
        short_name: Value,
    },
    /// `h⏎c⏎<fqn>⏎<pattern part>⏎<short-name part>⏎e⏎` — help page of a class.
    HelpClass {
        /// Class name.
        class: String,
        /// Method pattern or `n`.
        pattern: Value,
        /// Short names flag.
        short_name: Value,
    },
    /// `p⏎<throwable part>⏎e⏎` — stack trace text of a thrown object.
    Exception {
        /// The Throwable, an `r` part.
        throwable: Value,
    },
    /// `d⏎f⏎<id>⏎e⏎` — public field names.
    DirFields {
        /// Object id.
        target: String,
    },
    /// `d⏎m⏎<id>⏎e⏎` — public method names.
    DirMethods {
        /// Object id.
        target: String,
    },
    /// `d⏎s⏎<fqn>⏎e⏎` — public static member names.
    DirStatics {
        /// Class name.
        class: String,
    },
    /// `d⏎v⏎<view part>⏎<sequence part>⏎e⏎` — names imported into a view.
    DirView {
        /// The view (`rj`).
        view: Value,
        /// The last sequence id Python saw (`s<n>`) or `n`.
        sequence: Value,
    },
    /// `S⏎<target>⏎<method>⏎<part>*e⏎` — call a method returning a
    /// `ReadableByteChannel`; a success reply is followed by raw bytes until the
    /// JVM closes the connection.
    Stream {
        /// Object id or `z:<fqn>`.
        target: String,
        /// Method name.
        method: String,
        /// Arguments.
        args: Vec<Value>,
    },
    /// `s⏎` — shut the whole gateway server down; no reply.
    Shutdown,
    /// `z⏎<address>⏎<remote port>⏎<local port>⏎` — ClientServer only: close the
    /// JVM's socket of another connection; no reply.
    Cancel {
        /// Address as sent (`127.0.0.1`).
        address: String,
        /// The JVM socket's remote port.
        remote_port: i32,
        /// The JVM socket's local port.
        local_port: i32,
    },
    /// `c⏎<proxy id>⏎<method>⏎<part>*e⏎` from the JVM — call a Python object.
    ProxyCall {
        /// Python proxy id (`p0`, …).
        proxy: String,
        /// Method name.
        method: String,
        /// Arguments, as Java writes return values (`ro3`, `lo4`, …).
        args: Vec<Value>,
    },
    /// `g⏎<proxy id>⏎e⏎` from the JVM — the Java proxy was collected.
    ProxyCollected {
        /// Python proxy id.
        proxy: String,
    },
    /// `A⏎<token>⏎e⏎` — first message on a JVM → Python callback connection
    /// (with an `e` line, unlike the other direction).
    CallbackAuth {
        /// The token line as sent (Java escapes it first; Python compares the
        /// raw line).
        token: String,
    },
}

/// How many lines a command takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    /// Exactly this many lines; the last is `e` when `end` is set.
    Fixed { lines: usize, end: bool },
    /// `header` lines, then parts until an `e` line.
    Variable { header: usize },
}

/// What the first line(s) say about a command's shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// The shape and a name for messages.
    Known(&'static str, Shape),
    /// The sub-command line is needed.
    NeedsSub(&'static str),
    /// Not a command name in this direction.
    Unknown,
}

/// The shape of command `name` in direction `dir`, given its sub-command line
/// if it has one.
pub(crate) fn lookup(dir: Direction, name: &str, sub: Option<&str>) -> Lookup {
    use Lookup::*;
    use Shape::*;
    let fixed = |lines| Fixed { lines, end: true };
    let family = match (dir, name) {
        (Direction::ToJava, "A") => {
            return Known(
                "auth",
                Fixed {
                    lines: 2,
                    end: false,
                },
            )
        }
        (Direction::ToJava, "c") => return Known("call", Variable { header: 3 }),
        (Direction::ToJava, "i") => return Known("constructor", Variable { header: 2 }),
        (Direction::ToJava, "p") => return Known("exception", fixed(3)),
        (Direction::ToJava, "S") => return Known("stream", Variable { header: 3 }),
        (Direction::ToJava, "s") => {
            return Known(
                "shutdown",
                Fixed {
                    lines: 1,
                    end: false,
                },
            )
        }
        (Direction::ToJava, "z") => {
            return Known(
                "cancel",
                Fixed {
                    lines: 4,
                    end: false,
                },
            )
        }
        (Direction::ToJava, "f") => "field",
        (Direction::ToJava, "r") => "reflection",
        (Direction::ToJava, "j") => "jvm view",
        (Direction::ToJava, "a") => "array",
        (Direction::ToJava, "l") => "list",
        (Direction::ToJava, "m") => "memory",
        (Direction::ToJava, "h") => "help",
        (Direction::ToJava, "d") => "dir",
        (Direction::ToPython, "c") => return Known("proxy call", Variable { header: 3 }),
        (Direction::ToPython, "g") => return Known("proxy collected", fixed(3)),
        (Direction::ToPython, "A") => return Known("callback auth", fixed(3)),
        _ => return Unknown,
    };
    let Some(sub) = sub else {
        return NeedsSub(family);
    };
    let known = match (name, sub) {
        ("f", "g") => ("field get", fixed(5)),
        ("f", "s") => ("field set", fixed(6)),
        ("r", "u") => ("reflection unknown", fixed(5)),
        ("r", "m") => ("reflection member", fixed(5)),
        ("r", "c") => ("reflection class", fixed(4)),
        ("j", "c") => ("view create", fixed(4)),
        ("j", "i") => ("view import", fixed(5)),
        ("j", "r") => ("view remove import", fixed(5)),
        ("a", "g") => ("array get", fixed(5)),
        ("a", "s") => ("array set", fixed(6)),
        ("a", "l") => ("array slice", Variable { header: 3 }),
        ("a", "e") => ("array length", fixed(4)),
        ("a", "c") => ("array create", Variable { header: 3 }),
        ("l", "s") => ("list sort", fixed(4)),
        ("l", "r") => ("list reverse", fixed(4)),
        ("l", "x") => ("list max", fixed(4)),
        ("l", "n") => ("list min", fixed(4)),
        ("l", "l") => ("list slice", Variable { header: 3 }),
        ("l", "a") => ("list concat", fixed(5)),
        ("l", "m") => ("list mult", fixed(5)),
        ("l", "i") => ("list imult", fixed(5)),
        ("l", "f") => ("list count", fixed(5)),
        ("m", "d") => ("memory delete", fixed(4)),
        ("h", "o") => ("help object", fixed(6)),
        ("h", "c") => ("help class", fixed(6)),
        ("d", "f") => ("dir fields", fixed(4)),
        ("d", "m") => ("dir methods", fixed(4)),
        ("d", "s") => ("dir statics", fixed(4)),
        ("d", "v") => ("dir view", fixed(5)),
        _ => return Unknown,
    };
    Known(known.0, known.1)
}

/// A value error at a line of the command (0-based).
pub(crate) type LineError = (usize, ValueError);

fn part(lines: &[&str], i: usize) -> Result<Value, LineError> {
    Value::parse(lines[i]).map_err(|e| (i, e))
}

fn parts(lines: &[&str], from: usize) -> Result<Vec<Value>, LineError> {
    // The last line is the `e`.
    (from..lines.len() - 1).map(|i| part(lines, i)).collect()
}

fn escaped(lines: &[&str], i: usize) -> Result<String, LineError> {
    unescape(lines[i]).map_err(|at| (i, ValueError::Escape { at }))
}

fn port(lines: &[&str], i: usize) -> Result<i32, LineError> {
    match Value::parse(&format!("i{}", lines[i])) {
        Ok(Value::Int(n)) => Ok(n),
        _ => Err((i, ValueError::Int)),
    }
}

impl Command {
    /// Builds the command from its complete lines (shape already checked by the
    /// decoder: the count is right and an `e` ends it where one is due).
    pub(crate) fn from_lines(dir: Direction, lines: &[&str]) -> Result<Command, LineError> {
        let s = |i: usize| lines[i].to_owned();
        let sub = lines.get(1).copied().unwrap_or_default();
        Ok(match (dir, lines[0], sub) {
            (Direction::ToJava, "A", _) => Command::Auth { token: s(1) },
            (Direction::ToJava, "c", _) => Command::Call {
                target: s(1),
                method: s(2),
                args: parts(lines, 3)?,
            },
            (Direction::ToJava, "S", _) => Command::Stream {
                target: s(1),
                method: s(2),
                args: parts(lines, 3)?,
            },
            (Direction::ToJava, "i", _) => Command::Constructor {
                class: s(1),
                args: parts(lines, 2)?,
            },
            (Direction::ToJava, "p", _) => Command::Exception {
                throwable: part(lines, 1)?,
            },
            (Direction::ToJava, "s", _) => Command::Shutdown,
            (Direction::ToJava, "z", _) => Command::Cancel {
                address: s(1),
                remote_port: port(lines, 2)?,
                local_port: port(lines, 3)?,
            },
            (Direction::ToJava, "f", "g") => Command::FieldGet {
                target: s(2),
                field: s(3),
            },
            (Direction::ToJava, "f", "s") => Command::FieldSet {
                target: s(2),
                field: s(3),
                value: part(lines, 4)?,
            },
            (Direction::ToJava, "r", "u") => Command::ReflectUnknown {
                name: s(2),
                view: part(lines, 3)?,
            },
            (Direction::ToJava, "r", "m") => Command::ReflectMember {
                class: s(2),
                member: s(3),
            },
            (Direction::ToJava, "r", "c") => Command::ReflectClass { class: s(2) },
            (Direction::ToJava, "j", "c") => Command::ViewCreate {
                name: part(lines, 2)?,
            },
            (Direction::ToJava, "j", "i") => Command::ViewImport {
                view: part(lines, 2)?,
                import: escaped(lines, 3)?,
            },
            (Direction::ToJava, "j", "r") => Command::ViewRemoveImport {
                view: part(lines, 2)?,
                import: escaped(lines, 3)?,
            },
            (Direction::ToJava, "a", "g") => Command::ArrayGet {
                target: s(2),
                index: part(lines, 3)?,
            },
            (Direction::ToJava, "a", "s") => Command::ArraySet {
                target: s(2),
                index: part(lines, 3)?,
                value: part(lines, 4)?,
            },
            (Direction::ToJava, "a", "l") => Command::ArraySlice {
                target: s(2),
                indices: parts(lines, 3)?,
            },
            (Direction::ToJava, "a", "e") => Command::ArrayLen { target: s(2) },
            (Direction::ToJava, "a", "c") => Command::ArrayCreate {
                class: part(lines, 2)?,
                dimensions: parts(lines, 3)?,
            },
            (Direction::ToJava, "l", "s") => Command::ListSort { target: s(2) },
            (Direction::ToJava, "l", "r") => Command::ListReverse { target: s(2) },
            (Direction::ToJava, "l", "x") => Command::ListMax { target: s(2) },
            (Direction::ToJava, "l", "n") => Command::ListMin { target: s(2) },
            (Direction::ToJava, "l", "l") => Command::ListSlice {
                target: s(2),
                indices: parts(lines, 3)?,
            },
            (Direction::ToJava, "l", "a") => Command::ListConcat {
                target: s(2),
                other: s(3),
            },
            (Direction::ToJava, "l", "m") => Command::ListMult {
                target: s(2),
                n: part(lines, 3)?,
            },
            (Direction::ToJava, "l", "i") => Command::ListIMult {
                target: s(2),
                n: part(lines, 3)?,
            },
            (Direction::ToJava, "l", "f") => Command::ListCount {
                target: s(2),
                value: part(lines, 3)?,
            },
            (Direction::ToJava, "m", "d") => Command::MemoryDelete { target: s(2) },
            (Direction::ToJava, "h", "o") => Command::HelpObject {
                target: s(2),
                pattern: part(lines, 3)?,
                short_name: part(lines, 4)?,
            },
            (Direction::ToJava, "h", "c") => Command::HelpClass {
                class: s(2),
                pattern: part(lines, 3)?,
                short_name: part(lines, 4)?,
            },
            (Direction::ToJava, "d", "f") => Command::DirFields { target: s(2) },
            (Direction::ToJava, "d", "m") => Command::DirMethods { target: s(2) },
            (Direction::ToJava, "d", "s") => Command::DirStatics { class: s(2) },
            (Direction::ToJava, "d", "v") => Command::DirView {
                view: part(lines, 2)?,
                sequence: part(lines, 3)?,
            },
            (Direction::ToPython, "c", _) => Command::ProxyCall {
                proxy: s(1),
                method: s(2),
                args: parts(lines, 3)?,
            },
            (Direction::ToPython, "g", _) => Command::ProxyCollected { proxy: s(1) },
            (Direction::ToPython, "A", _) => Command::CallbackAuth { token: s(1) },
            // The decoder only calls this after `lookup` said Known.
            _ => {
                return Err((
                    0,
                    ValueError::UnknownType(lines[0].chars().next().unwrap_or('?')),
                ))
            }
        })
    }

    /// The direction this command travels in.
    pub fn direction(&self) -> Direction {
        match self {
            Command::ProxyCall { .. }
            | Command::ProxyCollected { .. }
            | Command::CallbackAuth { .. } => Direction::ToPython,
            _ => Direction::ToJava,
        }
    }

    /// A short name for logs and errors (`"call"`, `"array get"`, …).
    pub fn name(&self) -> &'static str {
        let (name, sub) = self.head();
        match lookup(self.direction(), name, sub) {
            Lookup::Known(n, _) => n,
            Lookup::NeedsSub(n) => n,
            Lookup::Unknown => "?",
        }
    }

    /// The command and sub-command letters.
    fn head(&self) -> (&'static str, Option<&'static str>) {
        use Command::*;
        match self {
            Auth { .. } | CallbackAuth { .. } => ("A", None),
            Call { .. } | ProxyCall { .. } => ("c", None),
            Constructor { .. } => ("i", None),
            FieldGet { .. } => ("f", Some("g")),
            FieldSet { .. } => ("f", Some("s")),
            ReflectUnknown { .. } => ("r", Some("u")),
            ReflectMember { .. } => ("r", Some("m")),
            ReflectClass { .. } => ("r", Some("c")),
            ViewCreate { .. } => ("j", Some("c")),
            ViewImport { .. } => ("j", Some("i")),
            ViewRemoveImport { .. } => ("j", Some("r")),
            ArrayGet { .. } => ("a", Some("g")),
            ArraySet { .. } => ("a", Some("s")),
            ArraySlice { .. } => ("a", Some("l")),
            ArrayLen { .. } => ("a", Some("e")),
            ArrayCreate { .. } => ("a", Some("c")),
            ListSort { .. } => ("l", Some("s")),
            ListReverse { .. } => ("l", Some("r")),
            ListMax { .. } => ("l", Some("x")),
            ListMin { .. } => ("l", Some("n")),
            ListSlice { .. } => ("l", Some("l")),
            ListConcat { .. } => ("l", Some("a")),
            ListMult { .. } => ("l", Some("m")),
            ListIMult { .. } => ("l", Some("i")),
            ListCount { .. } => ("l", Some("f")),
            MemoryDelete { .. } => ("m", Some("d")),
            HelpObject { .. } => ("h", Some("o")),
            HelpClass { .. } => ("h", Some("c")),
            Exception { .. } => ("p", None),
            DirFields { .. } => ("d", Some("f")),
            DirMethods { .. } => ("d", Some("m")),
            DirStatics { .. } => ("d", Some("s")),
            DirView { .. } => ("d", Some("v")),
            Stream { .. } => ("S", None),
            Shutdown => ("s", None),
            Cancel { .. } => ("z", None),
            ProxyCollected { .. } => ("g", None),
        }
    }

    /// Appends the exact bytes py4j writes for this command.
    pub fn encode(&self, out: &mut Vec<u8>) {
        use Command::*;
        fn line(out: &mut Vec<u8>, text: &str) {
            out.extend_from_slice(text.as_bytes());
            out.push(b'\n');
        }
        fn value(out: &mut Vec<u8>, v: &Value) {
            v.encode(out);
            out.push(b'\n');
        }
        fn esc(out: &mut Vec<u8>, text: &str) {
            escape_into(text, out);
            out.push(b'\n');
        }
        let (name, sub) = self.head();
        line(out, name);
        if let Some(sub) = sub {
            line(out, sub);
        }
        let mut end = true;
        match self {
            Auth { token } => {
                line(out, token);
                end = false;
            }
            CallbackAuth { token } => line(out, token),
            Call {
                target,
                method,
                args,
            }
            | Stream {
                target,
                method,
                args,
            }
            | ProxyCall {
                proxy: target,
                method,
                args,
            } => {
                line(out, target);
                line(out, method);
                args.iter().for_each(|a| value(out, a));
            }
            Constructor { class, args } => {
                line(out, class);
                args.iter().for_each(|a| value(out, a));
            }
            FieldGet { target, field } => {
                line(out, target);
                line(out, field);
            }
            FieldSet {
                target,
                field,
                value: v,
            } => {
                line(out, target);
                line(out, field);
                value(out, v);
            }
            ReflectUnknown { name, view } => {
                line(out, name);
                value(out, view);
            }
            ReflectMember { class, member } => {
                line(out, class);
                line(out, member);
            }
            ReflectClass { class } | DirStatics { class } => line(out, class),
            ViewCreate { name } => value(out, name),
            ViewImport { view, import } | ViewRemoveImport { view, import } => {
                value(out, view);
                esc(out, import);
            }
            ArrayGet { target, index } => {
                line(out, target);
                value(out, index);
            }
            ArraySet {
                target,
                index,
                value: v,
            } => {
                line(out, target);
                value(out, index);
                value(out, v);
            }
            ArraySlice { target, indices } | ListSlice { target, indices } => {
                line(out, target);
                indices.iter().for_each(|a| value(out, a));
            }
            ArrayCreate { class, dimensions } => {
                value(out, class);
                dimensions.iter().for_each(|a| value(out, a));
            }
            ArrayLen { target }
            | ListSort { target }
            | ListReverse { target }
            | ListMax { target }
            | ListMin { target }
            | MemoryDelete { target }
            | DirFields { target }
            | DirMethods { target }
            | ProxyCollected { proxy: target } => line(out, target),
            ListConcat { target, other } => {
                line(out, target);
                line(out, other);
            }
            ListMult { target, n } | ListIMult { target, n } => {
                line(out, target);
                value(out, n);
            }
            ListCount { target, value: v } => {
                line(out, target);
                value(out, v);
            }
            HelpObject {
                target,
                pattern,
                short_name,
            }
            | HelpClass {
                class: target,
                pattern,
                short_name,
            } => {
                line(out, target);
                value(out, pattern);
                value(out, short_name);
            }
            Exception { throwable } => value(out, throwable),
            DirView { view, sequence } => {
                value(out, view);
                value(out, sequence);
            }
            Shutdown => end = false,
            Cancel {
                address,
                remote_port,
                local_port,
            } => {
                line(out, address);
                line(out, &remote_port.to_string());
                line(out, &local_port.to_string());
                end = false;
            }
        }
        if end {
            line(out, "e");
        }
    }

    /// [`Command::encode`] into a fresh vector.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }
}
