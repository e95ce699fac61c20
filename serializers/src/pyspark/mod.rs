//! The PySpark serializer family (`pyspark/serializers.py`), on top of the framing
//! and pickle layers, in both directions.
//!
//! A [`Serializer`] is a value describing the object tree PySpark builds, e.g.
//! `AutoBatchedSerializer(CloudPickleSerializer())` or
//! `PairDeserializer(UTF8Deserializer(), NoOpSerializer())`. [`StreamEncoder`]
//! turns values into exactly the bytes that serializer's `dump_stream` writes (or,
//! for the JVM-written formats, what the JVM writes), and [`StreamDecoder`] turns
//! a stream back into the elements `load_stream` yields. Both work one batch at a
//! time, so memory stays constant on long streams; the decoder is sans-I/O.
//!
//! Behaviour that changed between releases is selected by [`SparkVersion`](crate::SparkVersion), in one
//! place ([`SparkVersion::batching`](crate::SparkVersion::batching)).
//!
//! ```
//! use sparkwire_serializers::pickle::{Int, Value};
//! use sparkwire_serializers::pyspark::{Serializer, StreamDecoder, StreamEncoder};
//! use sparkwire_serializers::SparkVersion;
//!
//! // BatchedSerializer(CPickleSerializer(), 2).dump_stream(range(5)), spec example E2.
//! let ser = Serializer::batched(Serializer::CPickle, 2);
//! let mut enc = StreamEncoder::new(ser.clone(), SparkVersion::V4_3)?;
//! for i in 0..5 {
//!     enc.push_with(|g| g.add(Value::Int(Int::Small(i))))?;
//! }
//! let bytes = enc.finish()?;
//! assert_eq!(bytes.len(), 69);
//!
//! let items = StreamDecoder::new(ser, SparkVersion::V4_3).load_all(&bytes)?;
//! let reprs: Vec<String> = items.iter().map(|e| e.repr()).collect::<Result<_, _>>()?;
//! assert_eq!(reprs, ["0", "1", "2", "3", "4"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod arrow;
pub mod arrow_rows;
pub mod cloudpickle;
mod dump;
mod element;
mod error;
mod load;
pub mod python_hint;
mod python_opcodes;
mod serializer;
pub mod shuffle;
mod version;

pub use dump::StreamEncoder;
pub use element::{Chunk, Element};
pub use error::{DumpError, LoadError};
pub use load::StreamDecoder;
pub use serializer::{PickleFlavor, Serializer, JVM_BEST_SIZE, PYTHON_BEST_SIZE};
pub use version::Batching;
