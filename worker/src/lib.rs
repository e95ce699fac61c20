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
//!
//! Streaming decoders follow the workspace convention written down in
//! `sparkwire_framing` (`decode` → `Step`, then `finish` at the end of input).
//!
//! Guarantees: the codecs never panic on untrusted bytes, never wait for a
//! declared length above their limits, and never execute anything; the command
//! payloads they carry are pickles, which a real Python worker *does* execute —
//! a host feeding them to `pyspark.worker` inherits pickle's threat model.
//!
//! The only `unsafe` is `host::signal`: two calls of `kill(2)`, which the
//! standard library does not offer by pid (a daemon's forked workers are not
//! our children, yet must be checked and killed).
#![deny(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "proptest")]
pub mod generate;
pub mod host;
pub mod protocol;
pub mod tap;
