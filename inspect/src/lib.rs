//! Captured PySpark traffic, read back.
//!
//! * [`capture_dir`]: capture directories as `sparkwire tap` writes them (each
//!   worker connection's two directions, a daemon's side channels, the
//!   broadcast files the tasks read);
//! * [`capture`]: one recorded worker connection decoded completely — the auth
//!   prelude, every task, the release found from the bytes when not given —
//!   and re-encoded for `--verify`;
//! * [`pcap`]: pcap and pcapng files of loopback traffic, TCP reassembled;
//! * [`traffic`]: what each reassembled connection is (worker, Py4J, data
//!   socket, accumulator updates);
//! * [`py4j`]: a Py4J connection read with the gateway's codec (commands,
//!   calls, replies, Java exceptions, callbacks, where decoding stopped);
//! * [`report`]: the typed report `sparkwire decode` renders as text and JSON;
//! * [`recording`]: a recorded connection decoded from its files (or
//!   buffers) without holding it: its tasks are read again one at a time to
//!   be rendered or verified;
//! * [`streamed`]: that report's JSON written task by task, one task's
//!   records in memory at a time.
//!
//! It sits above the worker protocol and the gateway and uses their codecs;
//! nothing below depends on it. Nothing read here is ever executed: pickles are
//! decoded into values and inspected as data.
//!
//! ```
//! use sparkwire_inspect::{capture, report::ConnectionReport};
//!
//! let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/capture-spark-4.3.0");
//! let recorded = sparkwire_inspect::capture_dir::read_dir(&dir)?;
//! let c = capture::decode(&recorded[0].to_worker, &recorded[0].from_worker, None)?;
//! let report = ConnectionReport::new(&recorded[0].name, &c);
//! assert_eq!(report.tasks[0].output_records, ["101", "102", "103", "104"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod capture;
pub mod capture_dir;
mod error;
pub mod pcap;
pub mod py4j;
pub mod recording;
pub mod replay;
pub mod report;
pub mod streamed;
pub mod traffic;

pub use error::InspectError;
