//! The JVM ⇄ PySpark worker protocol (spec `worker-protocol.md`).
//!
//! [`protocol`] encodes and decodes, without any I/O, what crosses a worker
//! connection: the task header of each Spark release ([`protocol::SparkVersion`]
//! is a value that selects the layout), the data section, and the worker's
//! reply (data, exception, timing, accumulator updates, end marker).
//! [`tap`] is the thin I/O adapter that records real worker connections;
//! [`pcap`] reassembles loopback captures and [`traffic`] tells their
//! connections apart.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod capture;
#[cfg(feature = "proptest")]
pub mod generate;
pub mod host;
pub mod pcap;
pub mod protocol;
pub mod tap;
pub mod traffic;
