//! The JVM ⇄ PySpark worker protocol (spec `worker-protocol.md`).
//!
//! [`protocol`] encodes and decodes, without any I/O, what crosses a worker
//! connection: the task header of each Spark release ([`protocol::SparkVersion`]
//! is a value that selects the layout), the data section, and the worker's
//! reply (data, exception, timing, accumulator updates, end marker).
//! [`protocol::session`] is the JVM side of one connection as a state machine,
//! which [`host`] drives over real sockets; [`tap`] is the thin I/O adapter
//! that records real worker connections. Reading captures is the job of the
//! `sparkwire-inspect` crate above this one.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "proptest")]
pub mod generate;
pub mod host;
pub mod protocol;
pub mod tap;
