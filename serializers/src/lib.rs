//! # sparkwire-serializers
//!
//! The value layer of sparkwire: how PySpark turns Python objects into bytes.
//!
//! * [`pickle`]: protocols 0–5. A lossless decoder into a graph with shared
//!   nodes (memo references, cycles), encoders that write exactly what CPython's C
//!   pickler (PySpark's Python side) or Pyrolite (Spark's JVM side) would write for
//!   the same object graph, a `pickletools`-identical disassembler, a `repr` view,
//!   a Python-literal parser, serde `to_vec`/`from_slice` (and `serde_pickle::Value`
//!   conversion with the `serde-pickle` feature), and generators of value graphs and
//!   valid pickles for fuzzing (features `proptest` and `arbitrary`).
//!
//! * [`marshal`]: version 4, lossless decode → encode, and CPython's canonical
//!   form for fresh values.
//! * [`pyspark`]: the serializer family as a value, stream encoders and sans-I/O
//!   stream decoders, shuffle blocks, Arrow IPC boundaries and record-batch rows.
//!
//! Streaming decoders follow the workspace convention written down in
//! `sparkwire_framing` (`decode` → `Step`, then `finish` at the end of input).
//!
//! Guarantees: decoding untrusted bytes never panics, never executes or imports
//! anything, never recurses on input depth and never allocates what the input
//! merely declares; see [`pickle::Limits`]. A pickle is still code for whoever
//! *loads* it with Python: feeding these bytes to a real Python process inherits
//! pickle's threat model.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod calendar;
pub mod marshal;
pub mod pickle;
pub mod pyspark;
mod release;

pub use release::{SparkVersion, UnknownVersion};
