//! Thin I/O adapters that drive the sans-I/O [`Session`](crate::protocol::session::Session)
//! over real sockets. Every byte decision stays in the protocol code; this
//! module only moves bytes, runs threads and keeps time.
//!
//! [`blocking::BlockingSession`] runs tasks on one connected worker with a
//! writer thread and a reader thread, as the JVM's `PythonRunner` writes input
//! while it reads output (a single thread could deadlock when both the worker's
//! output and the task's input fill their socket buffers).
//!
//! [`pipe::pipe`] runs `RDD.pipe` for one partition: elements to an external
//! command's stdin, its stdout back as lines, with Scala's and PySpark's
//! conventions as values.

pub mod blocking;
pub mod pipe;
pub mod stream;

pub use blocking::{BlockingSession, HostError, TaskOutcome};
pub use pipe::{
    pipe, pipe_fallible, CommandError, Dialect, Exit, PipeCommand, PipeError, PipeOutput,
    StderrTail, Utf8Lines,
};
pub use stream::Duplex;
