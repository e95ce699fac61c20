//! `RDD.pipe` for one partition: the partition's elements go to an external
//! command's stdin, one per line, and the command's stdout comes back as lines.
//!
//! Two front ends exist and differ in small ways that change results, so the
//! difference is a value ([`Dialect`]) rather than scattered flags:
//!
//! | | Scala `PipedRDD` ([`PipeCommand::parse`]) | PySpark `RDD.pipe` ([`PipeCommand::shell_words`]) |
//! |---|---|---|
//! | command string | split at `java.util.StringTokenizer`'s default delimiters (space, tab, `\n`, `\r`, form feed); quotes are ordinary characters | `shlex.split` (POSIX quoting and backslash escapes) |
//! | environment | inherited, then `envVars` added | exactly the `env` dict (an empty one when none is given: `Popen(env={})`) |
//! | element → stdin | `println(elem)`: the element, then `\n` | `str(x).rstrip("\n") + "\n"`, UTF-8 |
//! | stdout → lines | `BufferedReader.readLine`: ends at `\n`, `\r` or `\r\n` | `readline()` then `rstrip(b"\n")`: ends at `\n` only, a `\r` stays |
//! | exit status | always checked: "Subprocess exited with status N. Command ran: …" | checked only with `checkCode=True`: `PIPE_FUNCTION_EXITED` with the return code |
//! | stderr | a thread copies it to the executor's stderr | inherited |
//!
//! What both share, and this module keeps: a separate thread writes stdin (a
//! single thread could deadlock once the command's stdout pipe and our stdin
//! pipe are both full); stdout is streamed line by line, never a whole
//! partition in memory; the exit status is looked at only once stdout has
//! ended; and a command that exits without reading all its input (`head -n 1`)
//! is not an error: the writer stops quietly at the broken pipe (the JVM's
//! `PrintWriter` swallows the error; Python's writer thread dies of it without
//! failing the task).
//!
//! Where this module goes further, on purpose:
//! - stderr is captured, bounded to a tail ([`PipeCommand::stderr_tail_limit`]),
//!   and attached to [`PipeError::Exited`], instead of being echoed or lost;
//! - a failure of the input (an `Err` item, see [`pipe_fallible`]) or of a
//!   write other than a broken pipe is propagated, as `PipedRDD` propagates its
//!   writer thread's exception: the command is killed and the error is returned
//!   in the place of the next line. Where both the input failed and the command
//!   exited non-zero, the input error is returned, being the likely cause;
//! - a line longer than [`PipeCommand::max_line_len`] stops the stream with a
//!   typed error instead of growing without bound;
//! - dropping [`PipeOutput`] early kills (SIGKILL) and reaps the command, where
//!   Spark sends SIGTERM from a task-completion listener.
//!
//! The hooks of Scala's `RDD.pipe` are iterator adapters here:
//! `printPipeContext` is lines chained before the input
//! (`context.into_iter().chain(input)`), and `printRDDElement` is a
//! `flat_map` over the input. `separateWorkingDir` (a fresh `tasks/<uuid>`
//! directory of symlinks) and Hadoop's `map_input_file`-style variables are the
//! engine's business; this module only runs the command in
//! [`PipeCommand::current_dir`] with [`PipeCommand::env`].
//!
//! Bytes, not text: elements are written as the bytes they are, and lines come
//! back as bytes exactly as the command wrote them (minus the terminator).
//! Both Spark (its decoder reports malformed input) and PySpark (strict
//! `decode("utf-8")`) fail a task on output that is not valid in the chosen
//! encoding; [`PipeOutput::utf8`] does the same for UTF-8, as a per-line
//! [`PipeError::NotUtf8`] naming the line, after which the stream goes on.
//! Other encodings are the caller's to transcode on both sides.
//!
//! Two things follow from running real processes. Only the direct child is
//! killed on early drop or on error, as `Process.destroy` does; grandchildren
//! that keep stdout open keep the stream open too. And a write to a command
//! that has exited raises `SIGPIPE`: Rust programs ignore it (so the write
//! fails with `EPIPE`, which the writer treats as "the command has had
//! enough"), but a host that restores the default disposition would be killed.
//! With a cleared environment the program is still looked up on this
//! process's `PATH` (Rust's rule), where Python would search `/bin:/usr/bin`.

use std::convert::Infallible;
use std::error::Error as StdError;
use std::ffi::OsString;
use std::fmt;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::iter::FusedIterator;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

use sparkwire_framing::Step;
use thiserror::Error;

/// Bytes the stdin writer gathers before a write: `RDD.pipe`'s default
/// `bufferSize` (8192), also Python's `io.DEFAULT_BUFFER_SIZE`.
pub const DEFAULT_WRITE_BUFFER: usize = 8192;

/// Bytes of stderr kept for error reports: enough for a traceback or a usage
/// message, small enough to keep for every running pipe.
pub const DEFAULT_STDERR_TAIL: usize = 64 * 1024;

/// Longest stdout line accepted (terminator excluded). Neither Spark nor
/// PySpark has a limit; this one is far above any line meant as a record and
/// stops a command that never writes a newline from exhausting memory.
pub const DEFAULT_MAX_LINE_LEN: usize = 64 * 1024 * 1024;

/// How long to wait, once the command has exited, for its stderr to reach end
/// of file. It normally does at once; a background grandchild that inherited
/// stderr could hold it open for as long as it lives, and the report should not
/// wait for that.
pub const DEFAULT_STDERR_GRACE: Duration = Duration::from_secs(2);

/// Bytes read from stdout or stderr at a time.
const READ_CHUNK: usize = 64 * 1024;

/// Which front end's line conventions to follow (see the module table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// Scala `PipedRDD`: each element then `\n`; output lines end at `\n`,
    /// `\r` or `\r\n`.
    Jvm,
    /// PySpark `RDD.pipe`: each element with trailing `\n`s removed, then
    /// `\n`; output lines end at `\n` only.
    Python,
}

impl Dialect {
    /// How this dialect splits stdout into lines.
    pub fn line_split(self) -> LineSplit {
        match self {
            Dialect::Jvm => LineSplit::JvmReadLine,
            Dialect::Python => LineSplit::Lf,
        }
    }
}

/// Why a command string or argument list cannot be run.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CommandError {
    /// No program: the string was empty or only separators.
    #[error("the pipe command is empty")]
    Empty,
    /// A quote opened at `offset` (bytes into the string) is never closed
    /// (Python: "No closing quotation").
    #[error("pipe command: the {quote} quote at byte {offset} is never closed")]
    UnclosedQuote {
        /// The quote character.
        quote: char,
        /// Its byte offset in the command string.
        offset: usize,
    },
    /// The string ends with a backslash that escapes nothing (Python: "No
    /// escaped character").
    #[error("pipe command: the backslash at byte {offset} escapes nothing")]
    TrailingEscape {
        /// Its byte offset in the command string.
        offset: usize,
    },
}

/// A command to pipe a partition through, with the conventions to use.
#[derive(Debug, Clone)]
pub struct PipeCommand {
    argv: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    clear_env: bool,
    current_dir: Option<PathBuf>,
    check_exit: bool,
    dialect: Dialect,
    write_buffer: usize,
    stderr_tail_limit: usize,
    stderr_grace: Duration,
    max_line_len: usize,
}

impl PipeCommand {
    /// A command from its argument list, with `PipedRDD`'s conventions
    /// (inherited environment, exit status checked, [`Dialect::Jvm`]).
    pub fn new<I, S>(argv: I) -> Result<PipeCommand, CommandError>
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        let argv: Vec<OsString> = argv.into_iter().map(Into::into).collect();
        if argv.is_empty() {
            return Err(CommandError::Empty);
        }
        Ok(PipeCommand {
            argv,
            env: Vec::new(),
            clear_env: false,
            current_dir: None,
            check_exit: true,
            dialect: Dialect::Jvm,
            write_buffer: DEFAULT_WRITE_BUFFER,
            stderr_tail_limit: DEFAULT_STDERR_TAIL,
            stderr_grace: DEFAULT_STDERR_GRACE,
            max_line_len: DEFAULT_MAX_LINE_LEN,
        })
    }

    /// Scala's `rdd.pipe(command: String)`: the string is split like
    /// `java.util.StringTokenizer` with its default delimiters, so quotes and
    /// backslashes are ordinary characters; conventions as [`PipeCommand::new`].
    pub fn parse(command: &str) -> Result<PipeCommand, CommandError> {
        PipeCommand::new(tokenize(command))
    }

    /// PySpark's `rdd.pipe(command)`: the string is split like Python's
    /// `shlex.split`, and the conventions are PySpark's: an environment made of
    /// [`PipeCommand::env`] alone, the exit status ignored unless
    /// [`PipeCommand::check_exit`] is set (`checkCode=True`), [`Dialect::Python`].
    pub fn shell_words(command: &str) -> Result<PipeCommand, CommandError> {
        Ok(PipeCommand::new(shell_split(command)?)?
            .clear_env(true)
            .check_exit(false)
            .dialect(Dialect::Python))
    }

    /// Sets one environment variable (later settings of a name win).
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Sets environment variables, in order.
    pub fn envs<I, K, V>(mut self, vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<OsString>,
        V: Into<OsString>,
    {
        self.env
            .extend(vars.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    /// Whether the command sees only [`PipeCommand::env`] (PySpark) rather than
    /// this process's environment plus those (Spark).
    pub fn clear_env(mut self, clear: bool) -> Self {
        self.clear_env = clear;
        self
    }

    /// The directory to run the command in (Spark's `separateWorkingDir`
    /// prepares one per task).
    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.current_dir = Some(dir.into());
        self
    }

    /// Whether a non-zero exit (or a signal) ends the stream with
    /// [`PipeError::Exited`].
    pub fn check_exit(mut self, check: bool) -> Self {
        self.check_exit = check;
        self
    }

    /// The line conventions to follow.
    pub fn dialect(mut self, dialect: Dialect) -> Self {
        self.dialect = dialect;
        self
    }

    /// Bytes gathered before each write to stdin (`bufferSize`; at least 1).
    pub fn write_buffer(mut self, bytes: usize) -> Self {
        self.write_buffer = bytes.max(1);
        self
    }

    /// Bytes of stderr kept (the last ones) for reports.
    pub fn stderr_tail_limit(mut self, bytes: usize) -> Self {
        self.stderr_tail_limit = bytes;
        self
    }

    /// How long to wait for stderr's end once the command has exited.
    pub fn stderr_grace(mut self, grace: Duration) -> Self {
        self.stderr_grace = grace;
        self
    }

    /// Longest stdout line accepted, terminator excluded.
    pub fn max_line_len(mut self, bytes: usize) -> Self {
        self.max_line_len = bytes;
        self
    }

    /// The program and its arguments.
    pub fn argv(&self) -> &[OsString] {
        &self.argv
    }

    /// The dialect in use.
    pub fn get_dialect(&self) -> Dialect {
        self.dialect
    }

    /// The working directory asked for, if any.
    pub fn get_current_dir(&self) -> Option<&Path> {
        self.current_dir.as_deref()
    }

    /// The command as errors name it: the arguments joined by spaces, as
    /// Spark's `command.mkString(" ")`.
    pub fn display(&self) -> String {
        let words: Vec<_> = self.argv.iter().map(|a| a.to_string_lossy()).collect();
        words.join(" ")
    }
}

/// `java.util.StringTokenizer`'s default delimiters.
fn is_java_delimiter(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\u{c}')
}

/// Maximal runs of non-delimiters, as `StringTokenizer` yields them.
fn tokenize(command: &str) -> Vec<String> {
    command
        .split(is_java_delimiter)
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Python `shlex`'s whitespace in POSIX mode.
fn is_shlex_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Words as `shlex.split(command)` (POSIX mode, no comments) gives them:
/// outside quotes a backslash takes the next character literally; inside
/// single quotes nothing is special; inside double quotes a backslash escapes
/// only `"` and `\` and is otherwise kept; quoted parts join the word around
/// them, and a word that had quotes is kept even when empty.
fn shell_split(command: &str) -> Result<Vec<String>, CommandError> {
    let mut words = Vec::new();
    let mut word = String::new();
    // Whether a word has started (a character or a quote was seen).
    let mut in_word = false;
    let mut chars = command.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            c if is_shlex_space(c) => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\\' => {
                let (_, next) = chars
                    .next()
                    .ok_or(CommandError::TrailingEscape { offset: at })?;
                word.push(next);
                in_word = true;
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        None => {
                            return Err(CommandError::UnclosedQuote {
                                quote: '\'',
                                offset: at,
                            })
                        }
                        Some((_, '\'')) => break,
                        Some((_, q)) => word.push(q),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        None => {
                            return Err(CommandError::UnclosedQuote {
                                quote: '"',
                                offset: at,
                            })
                        }
                        Some((_, '"')) => break,
                        Some((esc, '\\')) => match chars.next() {
                            None => return Err(CommandError::TrailingEscape { offset: esc }),
                            Some((_, e)) => {
                                if e != '"' && e != '\\' {
                                    word.push('\\');
                                }
                                word.push(e);
                            }
                        },
                        Some((_, q)) => word.push(q),
                    }
                }
            }
            c => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// It exited with this status.
    Code(i32),
    /// A signal killed it.
    Signal(i32),
}

impl Exit {
    fn from_status(status: ExitStatus) -> Exit {
        #[cfg(unix)]
        {
            use std::os::unix::process::ExitStatusExt;
            if let Some(sig) = status.signal() {
                return Exit::Signal(sig);
            }
        }
        // Without a code or a signal (not seen on the platforms we run on),
        // report a failure rather than invent a success.
        Exit::Code(status.code().unwrap_or(-1))
    }

    /// Whether the command succeeded.
    pub fn success(self) -> bool {
        self == Exit::Code(0)
    }

    /// The status Spark sees from `Process.waitFor` (a signal `s` is `128 + s`).
    pub fn jvm_status(self) -> i32 {
        match self {
            Exit::Code(c) => c,
            Exit::Signal(s) => 128 + s,
        }
    }

    /// The `returncode` PySpark sees (a signal `s` is `-s`), which is the
    /// `error_code` of `PIPE_FUNCTION_EXITED`.
    pub fn python_returncode(self) -> i32 {
        match self {
            Exit::Code(c) => c,
            Exit::Signal(s) => -s,
        }
    }
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exit::Code(c) => write!(f, "exited with status {c}"),
            Exit::Signal(s) => write!(f, "was killed by signal {s}"),
        }
    }
}

/// The last bytes a command wrote to stderr.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StderrTail {
    /// The kept bytes, at most the configured limit.
    pub bytes: Vec<u8>,
    /// How many earlier bytes were dropped to keep within the limit.
    pub omitted: u64,
}

impl StderrTail {
    /// Appends `chunk`, dropping the oldest bytes beyond `limit`.
    fn push(&mut self, chunk: &[u8], limit: usize) {
        if chunk.len() >= limit {
            let skip = chunk.len() - limit;
            self.omitted += (self.bytes.len() + skip) as u64;
            self.bytes.clear();
            self.bytes.extend_from_slice(&chunk[skip..]);
            return;
        }
        self.bytes.extend_from_slice(chunk);
        if self.bytes.len() > limit {
            let excess = self.bytes.len() - limit;
            self.bytes.drain(..excess);
            self.omitted += excess as u64;
        }
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty() && self.omitted == 0
    }
}

impl fmt::Display for StderrTail {
    /// The tail as text (invalid UTF-8 replaced), noting dropped bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.omitted > 0 {
            write!(f, "[{} earlier bytes omitted] ", self.omitted)?;
        }
        f.write_str(String::from_utf8_lossy(&self.bytes).trim_end())
    }
}

/// "; stderr: …" when there was any, for error messages.
fn stderr_suffix(tail: &StderrTail) -> String {
    if tail.is_empty() {
        String::new()
    } else {
        format!("; stderr: {tail}")
    }
}

/// Why piping failed. Every variant but [`PipeError::NotUtf8`] ends the stream.
#[derive(Debug, Error)]
pub enum PipeError {
    /// The command could not be started (no such program, not executable, no
    /// such working directory…).
    #[error("cannot start `{program}`{}: {source}", .dir.as_ref().map(|d| format!(" in {}", d.display())).unwrap_or_default())]
    Spawn {
        /// The program as given.
        program: String,
        /// The working directory asked for, if any.
        dir: Option<PathBuf>,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// A helper thread could not be started; the command was killed.
    #[error("cannot start the {what} thread for `{command}`: {source}")]
    Thread {
        /// Which thread.
        what: &'static str,
        /// The command.
        command: String,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The command failed, and its exit was being checked. The message starts
    /// as Spark's does.
    #[error("Subprocess {exit}. Command ran: {command}{}", stderr_suffix(.stderr))]
    Exited {
        /// The command.
        command: String,
        /// How it ended.
        exit: Exit,
        /// What it last wrote to stderr.
        stderr: StderrTail,
    },
    /// The input failed; the command was killed (Spark propagates its parent
    /// iterator's exception the same way).
    #[error("the input of `{command}` failed: {source}")]
    Input {
        /// The command.
        command: String,
        /// The input's error.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
    /// The input panicked while the writer thread pulled from it.
    #[error("the input of `{command}` panicked")]
    InputPanicked {
        /// The command.
        command: String,
    },
    /// Writing to the command's stdin failed other than by a broken pipe.
    #[error("writing to `{command}`: {source}")]
    Write {
        /// The command.
        command: String,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// Reading the command's stdout failed.
    #[error("reading from `{command}`: {source}")]
    Read {
        /// The command.
        command: String,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// Waiting for the command failed.
    #[error("waiting for `{command}`: {source}")]
    Wait {
        /// The command.
        command: String,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// A stdout line exceeded the limit; the command was killed.
    #[error("`{command}`: output line {line} is longer than {max} bytes")]
    LineTooLong {
        /// The command.
        command: String,
        /// The line's number, from 1.
        line: u64,
        /// The limit.
        max: usize,
    },
    /// A stdout line is not UTF-8 (only from [`Utf8Lines`]); the stream goes on.
    #[error("`{command}`: output line {line} is not UTF-8 (valid up to byte {valid_up_to})")]
    NotUtf8 {
        /// The command.
        command: String,
        /// The line's number, from 1.
        line: u64,
        /// Bytes of the line that are valid UTF-8.
        valid_up_to: usize,
    },
}

/// Where stdout lines end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineSplit {
    /// At `\n` only, as Python's `readline` (a `\r` before it stays).
    Lf,
    /// At `\n`, `\r` or `\r\n`, as Java's `BufferedReader.readLine`.
    JvmReadLine,
}

/// A line longer than the decoder's limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("line {line} is longer than {max} bytes")]
pub struct LineTooLong {
    /// The line's number, from 1.
    pub line: u64,
    /// The limit.
    pub max: usize,
}

/// Splits a byte stream into lines without I/O: fed whatever bytes have
/// arrived, it answers a line or "need more" and never waits for a byte that
/// would only decide how the *next* line starts (a `\r\n` split across two
/// reads is remembered instead).
#[derive(Debug, Clone)]
pub struct LineDecoder {
    split: LineSplit,
    max: usize,
    pending: Vec<u8>,
    /// The last line ended at a `\r` that closed its buffer; a `\n` opening the
    /// next one belongs to it.
    skip_lf: bool,
    lines: u64,
}

impl LineDecoder {
    /// A decoder accepting lines of at most `max` bytes.
    pub fn new(split: LineSplit, max: usize) -> LineDecoder {
        LineDecoder {
            split,
            max,
            pending: Vec::new(),
            skip_lf: false,
            lines: 0,
        }
    }

    /// Lines returned so far.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Takes bytes from the front of `buf`: returns how many it consumed and
    /// the line they completed, if any. The bytes of an unfinished line are
    /// kept inside, so every byte of `buf` up to the count is used.
    pub fn decode(&mut self, buf: &[u8]) -> Result<(usize, Step<Vec<u8>>), LineTooLong> {
        let mut start = 0;
        if self.skip_lf && !buf.is_empty() {
            self.skip_lf = false;
            if buf[0] == b'\n' {
                start = 1;
            }
        }
        let rest = &buf[start..];
        let end = match self.split {
            LineSplit::Lf => rest.iter().position(|&b| b == b'\n'),
            LineSplit::JvmReadLine => rest.iter().position(|&b| b == b'\n' || b == b'\r'),
        };
        let body = end.map_or(rest, |i| &rest[..i]);
        if self.pending.len() + body.len() > self.max {
            return Err(LineTooLong {
                line: self.lines + 1,
                max: self.max,
            });
        }
        self.pending.extend_from_slice(body);
        let Some(i) = end else {
            return Ok((buf.len(), Step::NeedMore));
        };
        let mut used = start + i + 1;
        if rest[i] == b'\r' {
            match rest.get(i + 1) {
                Some(b'\n') => used += 1,
                Some(_) => {}
                None => self.skip_lf = true,
            }
        }
        self.lines += 1;
        Ok((used, Step::Item(std::mem::take(&mut self.pending))))
    }

    /// At end of input: the last line, if it had no terminator.
    pub fn finish(&mut self) -> Option<Vec<u8>> {
        if self.pending.is_empty() {
            return None;
        }
        self.lines += 1;
        Some(std::mem::take(&mut self.pending))
    }
}

/// A value one thread sets and another reads; poisoning is ignored because the
/// value is replaced whole.
type Slot<T> = Arc<Mutex<T>>;

fn lock<T>(slot: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    slot.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Pipes `input` through `cmd`, one element per line: see [`pipe_fallible`].
pub fn pipe<I>(cmd: &PipeCommand, input: I) -> Result<PipeOutput, PipeError>
where
    I: IntoIterator,
    I::Item: AsRef<[u8]>,
    I::IntoIter: Send + 'static,
{
    pipe_fallible(cmd, Infallibly(input.into_iter()))
}

/// An iterator whose items cannot fail. (A `map(Ok)` would name the item type
/// in its own, and a thread would then need that type to be `'static` too.)
struct Infallibly<I>(I);

impl<I: Iterator> Iterator for Infallibly<I> {
    type Item = Result<I::Item, Infallible>;

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(Ok)
    }
}

/// Starts `cmd` and a thread writing `input` to its stdin, one element per
/// line; returns its stdout lines as they come. An `Err` item stops the input
/// (stdin is closed), kills the command and comes out of the returned iterator
/// as [`PipeError::Input`]. Elements are written as bytes: map values through
/// `to_string()` for PySpark's `str(x)` or Java's `println`.
pub fn pipe_fallible<I, T, E>(cmd: &PipeCommand, input: I) -> Result<PipeOutput, PipeError>
where
    I: IntoIterator<Item = Result<T, E>>,
    I::IntoIter: Send + 'static,
    T: AsRef<[u8]>,
    E: Into<Box<dyn StdError + Send + Sync>>,
{
    let command = cmd.display();
    let program = &cmd.argv[0];
    let mut proc = Command::new(program);
    proc.args(&cmd.argv[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if cmd.clear_env {
        proc.env_clear();
    }
    proc.envs(cmd.env.iter().map(|(k, v)| (k, v)));
    if let Some(dir) = &cmd.current_dir {
        proc.current_dir(dir);
    }
    let spawn_error = |source| PipeError::Spawn {
        program: program.to_string_lossy().into_owned(),
        dir: cmd.current_dir.clone(),
        source,
    };
    let mut child = proc.spawn().map_err(spawn_error)?;
    let (Some(stdin), Some(stdout), Some(stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        reap(&mut child);
        return Err(spawn_error(io::Error::other("stdio was not captured")));
    };

    let tail: Slot<StderrTail> = Arc::default();
    let (stderr_done_tx, stderr_done) = mpsc::channel::<Infallible>();
    let reader_tail = Arc::clone(&tail);
    let limit = cmd.stderr_tail_limit;
    let spawned = thread::Builder::new()
        .name(thread_name("stderr reader for", &command))
        .spawn(move || {
            // Holding the sender until the end is the "done" signal.
            let _done = stderr_done_tx;
            read_stderr(stderr, &reader_tail, limit);
        });
    if let Err(source) = spawned {
        reap(&mut child);
        return Err(PipeError::Thread {
            what: "stderr reader",
            command,
            source,
        });
    }

    let writer_error: Slot<Option<PipeError>> = Arc::default();
    let cancel = Arc::new(AtomicBool::new(false));
    let (slot, stop) = (Arc::clone(&writer_error), Arc::clone(&cancel));
    let (dialect, buffer, name) = (cmd.dialect, cmd.write_buffer, command.clone());
    let input = input.into_iter();
    let spawned = thread::Builder::new()
        .name(thread_name("stdin writer for", &command))
        .spawn(move || write_stdin(input, stdin, dialect, buffer, &stop, &slot, name));
    if let Err(source) = spawned {
        reap(&mut child);
        return Err(PipeError::Thread {
            what: "stdin writer",
            command,
            source,
        });
    }

    Ok(PipeOutput {
        child,
        stdout: BufReader::with_capacity(READ_CHUNK, stdout),
        decoder: LineDecoder::new(cmd.dialect.line_split(), cmd.max_line_len),
        command,
        check_exit: cmd.check_exit,
        stderr_grace: cmd.stderr_grace,
        writer_error,
        cancel,
        tail,
        stderr_done,
        done: false,
        exit: None,
        stderr: None,
    })
}

/// A thread name without the NUL that `thread::Builder` rejects.
fn thread_name(role: &str, command: &str) -> String {
    format!("{role} {command}").replace('\0', " ")
}

/// Kills and reaps a child we give up on; errors are moot (it may be gone).
fn reap(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Copies stderr into the shared tail until end of file.
fn read_stderr(mut stderr: impl Read, tail: &Mutex<StderrTail>, limit: usize) {
    let mut buf = vec![0u8; READ_CHUNK];
    loop {
        match stderr.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => lock(tail).push(&buf[..n], limit),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

/// The stdin writer thread: records its error (if any) *before* closing stdin,
/// so that a command which sees end of input because the input failed cannot
/// finish without the failure being visible.
fn write_stdin<I, T, E>(
    input: I,
    stdin: ChildStdin,
    dialect: Dialect,
    buffer: usize,
    cancel: &AtomicBool,
    slot: &Mutex<Option<PipeError>>,
    command: String,
) where
    I: Iterator<Item = Result<T, E>>,
    T: AsRef<[u8]>,
    E: Into<Box<dyn StdError + Send + Sync>>,
{
    let mut out = BufWriter::with_capacity(buffer, stdin);
    let fed = panic::catch_unwind(AssertUnwindSafe(|| feed(input, &mut out, dialect, cancel)));
    let error = match fed {
        Ok(Ok(())) => None,
        Ok(Err(Fed::Input(source))) => Some(PipeError::Input { command, source }),
        Ok(Err(Fed::Write(source))) => Some(PipeError::Write { command, source }),
        Err(_) => Some(PipeError::InputPanicked { command }),
    };
    if error.is_some() {
        // Hand the command what was written before the failure, as Spark's
        // `finally { out.close() }` does; it is being killed anyway.
        let _ = out.flush();
    }
    *lock(slot) = error;
    // Closing stdin without another flush attempt.
    drop(out.into_parts());
}

/// Why feeding stopped early.
enum Fed {
    Input(Box<dyn StdError + Send + Sync>),
    Write(io::Error),
}

/// Writes the input, one line per element; a broken pipe (the command exited
/// or closed stdin) ends it quietly, as in Spark and PySpark.
fn feed<I, T, E, W>(
    mut input: I,
    out: &mut W,
    dialect: Dialect,
    cancel: &AtomicBool,
) -> Result<(), Fed>
where
    I: Iterator<Item = Result<T, E>>,
    T: AsRef<[u8]>,
    E: Into<Box<dyn StdError + Send + Sync>>,
    W: Write,
{
    let quiet = |e: io::Error| {
        if e.kind() == io::ErrorKind::BrokenPipe {
            Ok(())
        } else {
            Err(Fed::Write(e))
        }
    };
    while !cancel.load(Ordering::Relaxed) {
        let Some(item) = input.next() else {
            return out.flush().or_else(quiet);
        };
        let item = item.map_err(|e| Fed::Input(e.into()))?;
        let mut line = item.as_ref();
        if dialect == Dialect::Python {
            while let [rest @ .., b'\n'] = line {
                line = rest;
            }
        }
        if let Err(e) = out.write_all(line).and_then(|()| out.write_all(b"\n")) {
            return quiet(e);
        }
    }
    Ok(())
}

/// The lines a piped command writes to stdout, as they come.
///
/// Each item is one line without its terminator. The stream ends (`None`)
/// after the command has exited and its status was found acceptable, or after
/// one error. Dropping it before then kills and reaps the command; the helper
/// threads end on their own (the writer at its next element or write, the
/// stderr reader at end of file).
pub struct PipeOutput {
    child: Child,
    stdout: BufReader<ChildStdout>,
    decoder: LineDecoder,
    command: String,
    check_exit: bool,
    stderr_grace: Duration,
    writer_error: Slot<Option<PipeError>>,
    cancel: Arc<AtomicBool>,
    tail: Slot<StderrTail>,
    stderr_done: Receiver<Infallible>,
    done: bool,
    exit: Option<Exit>,
    stderr: Option<StderrTail>,
}

impl fmt::Debug for PipeOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PipeOutput")
            .field("command", &self.command)
            .field("pid", &self.child.id())
            .field("lines", &self.decoder.lines())
            .field("done", &self.done)
            .field("exit", &self.exit)
            .finish_non_exhaustive()
    }
}

impl PipeOutput {
    /// The command's process id (for logs, and to check it is gone).
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The command as errors name it.
    pub fn command(&self) -> &str {
        &self.command
    }

    /// Lines returned so far.
    pub fn lines_read(&self) -> u64 {
        self.decoder.lines()
    }

    /// How the command ended, once the stream has ended (useful when the exit
    /// is not checked).
    pub fn exit(&self) -> Option<Exit> {
        self.exit
    }

    /// What the command wrote last to stderr, once the stream has ended.
    pub fn stderr_tail(&self) -> Option<&StderrTail> {
        self.stderr.as_ref()
    }

    /// The same lines as `String`s, each checked to be UTF-8.
    pub fn utf8(self) -> Utf8Lines {
        Utf8Lines { inner: self }
    }

    /// The next line, or `None` at end of stdout.
    fn read_line(&mut self) -> Result<Option<Vec<u8>>, PipeError> {
        loop {
            let buf = match self.stdout.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(PipeError::Read {
                        command: self.command.clone(),
                        source,
                    })
                }
            };
            if buf.is_empty() {
                return Ok(self.decoder.finish());
            }
            let (used, step) = self
                .decoder
                .decode(buf)
                .map_err(|e| PipeError::LineTooLong {
                    command: self.command.clone(),
                    line: e.line,
                    max: e.max,
                })?;
            self.stdout.consume(used);
            if let Step::Item(line) = step {
                return Ok(Some(line));
            }
        }
    }

    /// Ends the stream with `error`: the command is killed and reaped first.
    fn fail(&mut self, error: PipeError) -> PipeError {
        self.done = true;
        self.cancel.store(true, Ordering::Relaxed);
        let _ = self.child.kill();
        if let Ok(status) = self.child.wait() {
            self.exit = Some(Exit::from_status(status));
        }
        self.stderr = Some(self.collect_stderr());
        error
    }

    /// End of stdout: wait for the command, then report the input's failure,
    /// else an unacceptable exit.
    fn finish(&mut self) -> Option<PipeError> {
        self.done = true;
        let status = self.child.wait();
        // The command has no use for more input now.
        self.cancel.store(true, Ordering::Relaxed);
        let stderr = self.collect_stderr();
        let exit = match status {
            Ok(status) => Exit::from_status(status),
            Err(source) => {
                self.stderr = Some(stderr);
                return Some(PipeError::Wait {
                    command: self.command.clone(),
                    source,
                });
            }
        };
        self.exit = Some(exit);
        self.stderr = Some(stderr.clone());
        if let Some(e) = lock(&self.writer_error).take() {
            return Some(e);
        }
        (self.check_exit && !exit.success()).then(|| PipeError::Exited {
            command: self.command.clone(),
            exit,
            stderr,
        })
    }

    /// The stderr tail, after giving the reader a grace period to reach end of
    /// file (the command has exited, so it normally has).
    fn collect_stderr(&self) -> StderrTail {
        match self.stderr_done.recv_timeout(self.stderr_grace) {
            Ok(never) => match never {},
            Err(RecvTimeoutError::Disconnected | RecvTimeoutError::Timeout) => {}
        }
        lock(&self.tail).clone()
    }
}

impl Iterator for PipeOutput {
    type Item = Result<Vec<u8>, PipeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.read_line() {
            Ok(Some(line)) => {
                let failed = lock(&self.writer_error).take();
                match failed {
                    Some(e) => Some(Err(self.fail(e))),
                    None => Some(Ok(line)),
                }
            }
            Ok(None) => self.finish().map(Err),
            Err(e) => Some(Err(self.fail(e))),
        }
    }
}

impl FusedIterator for PipeOutput {}

impl Drop for PipeOutput {
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::Relaxed);
        if !self.done {
            reap(&mut self.child);
        }
    }
}

/// [`PipeOutput`]'s lines as text; a line that is not UTF-8 is an error item
/// naming it, and the lines after it still come.
#[derive(Debug)]
pub struct Utf8Lines {
    inner: PipeOutput,
}

impl Utf8Lines {
    /// The byte-line stream underneath (for [`PipeOutput::exit`] and the like).
    pub fn get_ref(&self) -> &PipeOutput {
        &self.inner
    }
}

impl Iterator for Utf8Lines {
    type Item = Result<String, PipeError>;

    fn next(&mut self) -> Option<Self::Item> {
        let line = match self.inner.next()? {
            Ok(line) => line,
            Err(e) => return Some(Err(e)),
        };
        Some(String::from_utf8(line).map_err(|e| PipeError::NotUtf8 {
            command: self.inner.command.clone(),
            line: self.inner.lines_read(),
            valid_up_to: e.utf8_error().valid_up_to(),
        }))
    }
}

impl FusedIterator for Utf8Lines {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::Sender;

    /// Runs `cmd` over `input` and collects every item.
    fn run<I>(cmd: &PipeCommand, input: I) -> Vec<Result<String, PipeError>>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
        I::IntoIter: Send + 'static,
    {
        match pipe(cmd, input) {
            Ok(out) => out.utf8().collect(),
            Err(e) => vec![Err(e)],
        }
    }

    /// Runs `cmd` over `input`, expecting only lines.
    fn lines<I>(cmd: &PipeCommand, input: I) -> Vec<String>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
        I::IntoIter: Send + 'static,
    {
        run(cmd, input)
            .into_iter()
            .map(|l| l.unwrap_or_else(|e| panic!("{e}")))
            .collect()
    }

    fn sh(script: &str) -> PipeCommand {
        PipeCommand::new(["sh", "-c", script]).unwrap()
    }

    const NONE: [&str; 0] = [];

    #[test]
    fn parse_splits_at_string_tokenizer_delimiters_only() {
        let cmd = PipeCommand::parse(" cat\t-n\r\n\u{c}'a b' \"c\\ d\"  ").unwrap();
        assert_eq!(cmd.argv(), ["cat", "-n", "'a", "b'", "\"c\\", "d\""]);
        assert_eq!(cmd.display(), "cat -n 'a b' \"c\\ d\"");
        // A vertical tab is not a StringTokenizer delimiter.
        assert_eq!(PipeCommand::parse("a\u{b}b").unwrap().argv(), ["a\u{b}b"]);
    }

    #[test]
    fn empty_commands_are_refused() {
        assert_eq!(
            PipeCommand::parse(" \t\n").unwrap_err(),
            CommandError::Empty
        );
        assert_eq!(
            PipeCommand::shell_words("").unwrap_err(),
            CommandError::Empty
        );
        assert_eq!(PipeCommand::new(NONE).unwrap_err(), CommandError::Empty);
    }

    /// Expected words were printed by CPython 3.11's `shlex.split`.
    #[test]
    fn shell_words_split_like_cpython_shlex() {
        let cases: &[(&str, &[&str])] = &[
            ("a\\ b", &["a b"]),
            ("\"a\\b\\\"c\"", &["a\\b\"c"]),
            ("\"a\\\\b\"", &["a\\b"]),
            ("a''", &["a"]),
            ("'' x", &["", "x"]),
            ("a\"b c\"d", &["ab cd"]),
            ("x\\\ny", &["x\ny"]),
            ("#c d", &["#c", "d"]),
            ("'a\\b' \"$HOME\"", &["a\\b", "$HOME"]),
            ("  grep -v  'x y'\t\r\n", &["grep", "-v", "x y"]),
            ("\"\"", &[""]),
        ];
        for (input, want) in cases {
            let got = shell_split(input).unwrap();
            assert_eq!(&got, want, "shlex.split({input:?})");
        }
    }

    #[test]
    fn shell_words_name_the_unbalanced_quote_or_escape() {
        assert_eq!(
            PipeCommand::shell_words("echo 'a b").unwrap_err(),
            CommandError::UnclosedQuote {
                quote: '\'',
                offset: 5
            }
        );
        assert_eq!(
            PipeCommand::shell_words("x \"it's").unwrap_err(),
            CommandError::UnclosedQuote {
                quote: '"',
                offset: 2
            }
        );
        assert_eq!(
            PipeCommand::shell_words("echo a\\").unwrap_err(),
            CommandError::TrailingEscape { offset: 6 }
        );
        assert_eq!(
            PipeCommand::shell_words("\"a\\").unwrap_err(),
            CommandError::TrailingEscape { offset: 2 }
        );
    }

    /// Feeds `input` to a decoder in pieces of `chunk` bytes.
    fn split(split: LineSplit, input: &[u8], chunk: usize) -> Vec<Vec<u8>> {
        let mut d = LineDecoder::new(split, usize::MAX);
        let mut out = Vec::new();
        for piece in input.chunks(chunk) {
            let mut piece = piece;
            while !piece.is_empty() {
                let (used, step) = d.decode(piece).unwrap();
                piece = &piece[used..];
                if let Step::Item(line) = step {
                    out.push(line);
                }
            }
        }
        out.extend(d.finish());
        out
    }

    #[test]
    fn jvm_lines_end_at_lf_cr_or_crlf_however_the_bytes_arrive() {
        let input = b"a\r\nb\rc\n\nd\r\r\ne";
        let want: Vec<&[u8]> = vec![b"a", b"b", b"c", b"", b"d", b"", b"e"];
        for chunk in 1..=input.len() {
            assert_eq!(split(LineSplit::JvmReadLine, input, chunk), want, "{chunk}");
        }
    }

    #[test]
    fn python_lines_end_at_lf_only() {
        let input = b"a\r\nb\rc\n\nd";
        let want: Vec<&[u8]> = vec![b"a\r", b"b\rc", b"", b"d"];
        for chunk in 1..=input.len() {
            assert_eq!(split(LineSplit::Lf, input, chunk), want, "{chunk}");
        }
        assert!(split(LineSplit::Lf, b"", 1).is_empty());
        assert_eq!(split(LineSplit::Lf, b"\n", 1), vec![b"".to_vec()]);
    }

    #[test]
    fn line_limit_is_inclusive() {
        let mut d = LineDecoder::new(LineSplit::Lf, 3);
        assert_eq!(
            d.decode(b"abc\n").unwrap(),
            (4, Step::Item(b"abc".to_vec()))
        );
        assert_eq!(d.decode(b"ab").unwrap(), (2, Step::NeedMore));
        assert_eq!(d.decode(b"cd\n"), Err(LineTooLong { line: 2, max: 3 }));
        let mut d = LineDecoder::new(LineSplit::JvmReadLine, 3);
        assert_eq!(d.decode(b"abcd"), Err(LineTooLong { line: 1, max: 3 }));
    }

    #[test]
    fn stderr_tail_keeps_the_last_bytes_at_its_limit() {
        let mut t = StderrTail::default();
        t.push(b"0123456789abcdef", 16);
        assert_eq!(
            (t.bytes.as_slice(), t.omitted),
            (&b"0123456789abcdef"[..], 0)
        );
        let mut t = StderrTail::default();
        t.push(b"0123456789abcdef", 15);
        assert_eq!(
            (t.bytes.as_slice(), t.omitted),
            (&b"123456789abcdef"[..], 1)
        );
        let mut t = StderrTail::default();
        t.push(b"0123", 6);
        t.push(b"4567", 6);
        assert_eq!((t.bytes.as_slice(), t.omitted), (&b"234567"[..], 2));
        t.push(b"89abcdef", 6);
        assert_eq!((t.bytes.as_slice(), t.omitted), (&b"abcdef"[..], 10));
        assert_eq!(t.to_string(), "[10 earlier bytes omitted] abcdef");
    }

    #[test]
    fn cat_returns_the_elements() {
        let cmd = PipeCommand::parse("cat").unwrap();
        assert_eq!(lines(&cmd, ["1", "2", "", "3"]), ["1", "2", "", "3"]);
        assert_eq!(lines(&cmd, NONE), Vec::<String>::new());
    }

    #[test]
    fn dialects_frame_elements_and_split_output_differently() {
        let input = ["x\n\n", "a\rb"];
        let jvm = PipeCommand::parse("cat").unwrap();
        assert_eq!(lines(&jvm, input), ["x", "", "", "a", "b"]);
        let python = PipeCommand::shell_words("cat").unwrap();
        assert_eq!(lines(&python, input), ["x", "a\rb"]);
    }

    #[test]
    fn wc_counts_the_lines_written() {
        let cmd = PipeCommand::shell_words("wc -l").unwrap();
        let out = lines(&cmd, (0..1000).map(|i| i.to_string()));
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].trim(), "1000");
    }

    #[test]
    fn a_pipe_context_is_lines_chained_before_the_input() {
        let context = ["# partition 0".to_string()];
        let input = (1..=2).map(|i| format!("row {i}"));
        let cmd = PipeCommand::parse("cat").unwrap();
        assert_eq!(
            lines(&cmd, context.into_iter().chain(input)),
            ["# partition 0", "row 1", "row 2"]
        );
    }

    #[test]
    fn a_hundred_thousand_lines_stream_through_cat() {
        fn checksum(acc: u64, line: &[u8]) -> u64 {
            line.iter().fold(acc.rotate_left(5) ^ 0x9e37, |h, &b| {
                h.wrapping_mul(31) ^ u64::from(b)
            })
        }
        let n = 100_000u64;
        let input = (0..n).map(|i| format!("line {i} {}", i * i));
        let want = input.clone().fold(0, |acc, l| checksum(acc, l.as_bytes()));
        let cmd = PipeCommand::parse("cat").unwrap();
        let (mut count, mut sum) = (0u64, 0u64);
        for line in pipe(&cmd, input).unwrap() {
            let line = line.unwrap();
            count += 1;
            sum = checksum(sum, &line);
        }
        assert_eq!((count, sum), (n, want));
    }

    #[test]
    fn false_fails_with_its_status_and_the_command() {
        let cmd = PipeCommand::parse("false").unwrap();
        let out = run(&cmd, ["a"]);
        let [Err(PipeError::Exited { command, exit, .. })] = &out[..] else {
            panic!("{out:?}");
        };
        assert_eq!((command.as_str(), *exit), ("false", Exit::Code(1)));
        assert_eq!(
            out[0].as_ref().unwrap_err().to_string(),
            "Subprocess exited with status 1. Command ran: false"
        );
    }

    #[test]
    fn an_unchecked_exit_is_reported_but_not_an_error() {
        // PySpark's default, checkCode=False.
        let cmd = PipeCommand::shell_words("sh -c 'echo out; exit 3'").unwrap();
        let mut out = pipe(&cmd, NONE).unwrap();
        assert_eq!(out.next().unwrap().unwrap(), b"out");
        assert!(out.next().is_none());
        assert_eq!(out.exit(), Some(Exit::Code(3)));
        assert_eq!(Exit::Code(3).python_returncode(), 3);
    }

    #[test]
    fn death_by_signal_is_a_failure() {
        let out = run(&sh("kill -9 $$"), NONE);
        let [Err(PipeError::Exited { exit, .. })] = &out[..] else {
            panic!("{out:?}");
        };
        assert_eq!(*exit, Exit::Signal(9));
        assert_eq!((exit.jvm_status(), exit.python_returncode()), (137, -9));
    }

    #[test]
    fn a_command_that_stops_reading_early_is_not_an_error() {
        // `head` exits after one line; the writer meets a broken pipe with most
        // of the million lines unwritten and stops quietly.
        let cmd = PipeCommand::parse("head -n 1").unwrap();
        assert_eq!(lines(&cmd, (0..1_000_000).map(|i| i.to_string())), ["0"]);
        // Not even a command that reads nothing.
        let cmd = PipeCommand::parse("true").unwrap();
        assert!(lines(&cmd, (0..1_000_000).map(|i| i.to_string())).is_empty());
    }

    #[test]
    fn a_missing_program_is_named() {
        let cmd = PipeCommand::parse("sparkwire-no-such-program --flag").unwrap();
        let err = pipe(&cmd, NONE).unwrap_err();
        let PipeError::Spawn {
            program, source, ..
        } = &err
        else {
            panic!("{err:?}");
        };
        assert_eq!(program, "sparkwire-no-such-program");
        assert_eq!(source.kind(), io::ErrorKind::NotFound);
        assert!(
            err.to_string().contains("`sparkwire-no-such-program`"),
            "{err}"
        );
    }

    #[test]
    fn stderr_is_attached_to_the_failure() {
        let out = run(&sh("cat; echo 'bad input' >&2; exit 2"), ["a"]);
        let [Ok(line), Err(err @ PipeError::Exited { stderr, .. })] = &out[..] else {
            panic!("{out:?}");
        };
        assert_eq!(line, "a");
        assert_eq!(stderr.bytes, b"bad input\n");
        assert_eq!(
            err.to_string(),
            "Subprocess exited with status 2. Command ran: sh -c cat; echo 'bad input' >&2; \
             exit 2; stderr: bad input"
        );
    }

    #[test]
    fn stderr_is_bounded_to_its_tail() {
        let cmd = sh("printf 0123456789abcdef >&2").stderr_tail_limit(4);
        let mut out = pipe(&cmd, NONE).unwrap();
        assert!(out.next().is_none());
        let tail = out.stderr_tail().unwrap();
        assert_eq!((tail.bytes.as_slice(), tail.omitted), (&b"cdef"[..], 12));
    }

    #[test]
    fn env_vars_are_added_to_the_inherited_environment() {
        let cmd = sh("printf '%s|%s\\n' \"$SPARKWIRE_PIPE_TEST\" \"${PATH:+has-path}\"")
            .env("SPARKWIRE_PIPE_TEST", "first")
            .env("SPARKWIRE_PIPE_TEST", "value");
        assert_eq!(lines(&cmd, NONE), ["value|has-path"]);
    }

    #[test]
    fn python_dialect_passes_only_the_given_environment() {
        let cmd = PipeCommand::shell_words("env").unwrap().env("ONLY", "this");
        assert_eq!(lines(&cmd, NONE), ["ONLY=this"]);
    }

    #[test]
    fn runs_in_the_given_directory() {
        let dir = std::env::temp_dir().canonicalize().unwrap();
        let cmd = PipeCommand::parse("pwd").unwrap().current_dir(&dir);
        assert_eq!(lines(&cmd, NONE), [dir.to_string_lossy()]);
        let cmd = cmd.current_dir(dir.join("sparkwire-no-such-dir"));
        assert!(matches!(
            pipe(&cmd, NONE),
            Err(PipeError::Spawn { dir: Some(_), .. })
        ));
    }

    #[derive(Debug)]
    struct Upstream;
    impl fmt::Display for Upstream {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("upstream partition lost")
        }
    }
    impl StdError for Upstream {}

    #[test]
    fn an_input_failure_is_propagated_and_ends_the_stream() {
        let input = vec![Ok("a"), Ok("b"), Err(Upstream), Ok("never")];
        let cmd = PipeCommand::parse("cat").unwrap();
        let out: Vec<_> = pipe_fallible(&cmd, input).unwrap().collect();
        let (last, lines) = out.split_last().unwrap();
        // Lines written before the failure may or may not come out first.
        for (line, want) in lines.iter().zip(["a", "b"]) {
            assert_eq!(line.as_ref().unwrap(), want.as_bytes());
        }
        let Err(PipeError::Input { source, .. }) = last else {
            panic!("{out:?}");
        };
        assert_eq!(source.to_string(), "upstream partition lost");
    }

    #[test]
    fn an_input_failure_wins_over_the_exit_status_it_caused() {
        let input = vec![Ok("a"), Err(Upstream)];
        let out: Vec<_> = pipe_fallible(&sh("cat >/dev/null; exit 4"), input)
            .unwrap()
            .collect();
        assert!(
            matches!(&out[..], [Err(PipeError::Input { .. })]),
            "{out:?}"
        );
    }

    #[test]
    fn a_panicking_input_is_an_error_not_a_hang() {
        let input = (0..3).map(|i| {
            assert!(i < 1, "the input gives out");
            i.to_string()
        });
        let out: Vec<_> = pipe(&PipeCommand::parse("cat").unwrap(), input)
            .unwrap()
            .collect();
        assert!(
            matches!(out.last(), Some(Err(PipeError::InputPanicked { .. }))),
            "{out:?}"
        );
    }

    #[test]
    fn non_utf8_lines_are_named_and_the_stream_goes_on() {
        let cmd = sh("printf 'ok\\n\\377x\\nfine\\n'");
        let out = run(&cmd, NONE);
        let [Ok(a), Err(PipeError::NotUtf8 {
            line, valid_up_to, ..
        }), Ok(c)] = &out[..]
        else {
            panic!("{out:?}");
        };
        assert_eq!(
            (a.as_str(), *line, *valid_up_to, c.as_str()),
            ("ok", 2, 0, "fine")
        );
        // The byte API hands the line over as it is.
        let raw: Vec<_> = pipe(&cmd, NONE).unwrap().map(Result::unwrap).collect();
        assert_eq!(raw[1], b"\xffx");
    }

    #[test]
    fn an_overlong_line_stops_the_stream() {
        let cmd = sh("printf 'abc\\nabcdefgh\\nabc\\n'").max_line_len(3);
        let out: Vec<_> = pipe(&cmd, NONE).unwrap().collect();
        let [Ok(a), Err(PipeError::LineTooLong {
            line: 2, max: 3, ..
        })] = &out[..]
        else {
            panic!("{out:?}");
        };
        assert_eq!(a, b"abc");
    }

    /// An endless input that reports when the writer thread lets go of it.
    struct Endless(Sender<()>);
    impl Iterator for Endless {
        type Item = &'static str;
        fn next(&mut self) -> Option<&'static str> {
            Some("y")
        }
    }
    impl Drop for Endless {
        fn drop(&mut self) {
            let _ = self.0.send(());
        }
    }

    #[test]
    fn dropping_the_output_early_kills_and_reaps_the_command() {
        let (tx, released) = mpsc::channel();
        let cmd = PipeCommand::parse("cat").unwrap();
        let mut out = pipe(&cmd, Endless(tx)).unwrap();
        assert_eq!(out.next().unwrap().unwrap(), b"y");
        let pid = out.id();
        drop(out);
        // Reaped: not even a zombie is left.
        #[cfg(target_os = "linux")]
        assert!(!Path::new(&format!("/proc/{pid}")).exists(), "{pid}");
        #[cfg(not(target_os = "linux"))]
        let _ = pid;
        // The writer thread ends and drops the input; the bound only keeps a
        // regression from hanging the test run.
        assert_eq!(released.recv_timeout(Duration::from_secs(60)), Ok(()));
    }
}
