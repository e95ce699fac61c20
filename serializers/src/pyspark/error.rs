//! Errors of the serializer layer, with the frame and byte offset they concern.

use thiserror::Error;

use crate::marshal::MarshalError;
use crate::pickle;

/// A frame's bytes were well framed but its value could not be decoded.
#[derive(Debug, Error)]
pub enum ValueError {
    /// The pickle is malformed.
    #[error(transparent)]
    Pickle(#[from] pickle::DecodeError),
    /// The marshal data is malformed.
    #[error(transparent)]
    Marshal(#[from] MarshalError),
    /// zlib refused the payload (or it inflates beyond the bound).
    #[error("zlib: {0}")]
    Zlib(String),
    /// The text is not UTF-8 (`UTF8Deserializer` uses strict decoding).
    #[error("invalid UTF-8 at byte {0} of the frame")]
    Utf8(usize),
    /// An `AutoSerializer` payload starts with neither `M` nor `P`.
    #[error("AutoSerializer payload starts with neither 'M' nor 'P'")]
    AutoPrefix,
    /// A shuffle partition id frame is not 8 bytes.
    #[error("a shuffle partition id must be 8 bytes, found {0}")]
    PartitionId(usize),
    /// An Arrow IPC message is malformed.
    #[error("Arrow IPC: {0}")]
    Arrow(&'static str),
    /// A batch frame does not hold a list or tuple.
    #[error("a batch must be a list or tuple, found {0}")]
    NotABatch(&'static str),
}

/// Why a stream could not be loaded.
#[derive(Debug, Error)]
pub enum LoadError {
    /// The framing itself is broken (bad length, truncation, limit).
    #[error(transparent)]
    Frame(#[from] sparkwire_framing::DecodeError),
    /// A frame's content is bad.
    #[error("frame {frame} at byte {offset}: {source}")]
    Value {
        /// Index of the frame in the stream.
        frame: u64,
        /// Offset of the frame's length prefix.
        offset: u64,
        /// What was wrong.
        #[source]
        source: Box<ValueError>,
    },
    /// A marker this serializer never reads in a data section.
    #[error("frame {frame} at byte {offset}: unexpected marker {marker} in a data stream")]
    UnexpectedMarker {
        /// Index of the slot.
        frame: u64,
        /// Offset of the slot.
        offset: u64,
        /// The special length.
        marker: i32,
    },
    /// A null frame where a batch was expected (Python raises `TypeError` there).
    #[error("frame {frame} at byte {offset}: a null frame where {serializer} expects a batch")]
    NullBatch {
        /// Index of the slot.
        frame: u64,
        /// Offset of the slot.
        offset: u64,
        /// The serializer.
        serializer: String,
    },
    /// `PairDeserializer` saw batches of different lengths (Python: `ValueError`).
    #[error("frame {frame} at byte {offset}: key batch of {keys} and value batch of {values} items cannot be paired")]
    PairLengths {
        /// Index of the value batch.
        frame: u64,
        /// Its offset.
        offset: u64,
        /// Key batch length.
        keys: usize,
        /// Value batch length.
        values: usize,
    },
    /// The serializer has no per-frame `loads` (e.g. a pair inside a batch).
    #[error("{0} cannot be used here: it reads whole streams, not frames")]
    NotFramed(String),
}

/// Why values could not be written.
#[derive(Debug, Error)]
pub enum DumpError {
    /// The pickle encoder refused the value.
    #[error(transparent)]
    Pickle(#[from] pickle::EncodeError),
    /// marshal cannot hold the value.
    #[error(transparent)]
    Marshal(#[from] MarshalError),
    /// A frame would exceed 2^31 − 1 bytes.
    #[error(transparent)]
    Frame(#[from] sparkwire_framing::EncodeError),
    /// zlib failed.
    #[error("zlib: {0}")]
    Zlib(String),
    /// `NoOpSerializer` writes bytes only.
    #[error("NoOpSerializer can only write bytes, not {0}")]
    NotBytes(&'static str),
    /// `UTF8` frames are str (or None).
    #[error("UTF-8 frames hold str or None, not {0}")]
    NotText(&'static str),
    /// An element must be a 2-tuple here (FlattenedValues, Pair).
    #[error("{0} needs (key, value) 2-tuples")]
    NotAPair(String),
    /// FlattenedValues needs a list of values in each pair.
    #[error("FlattenedValuesSerializer needs a list of values, not {0}")]
    NotAList(&'static str),
    /// The serializer has no `dumps` of one object.
    #[error("{0} has no per-object dumps")]
    NotFramed(String),
    /// PySpark itself cannot write this (e.g. `CartesianDeserializer`).
    #[error("{0}")]
    Unsupported(String),
    /// The version raises here (4.3's `islice` with a negative batch size).
    #[error("BatchedSerializer({0}) raises ValueError in PySpark {1}")]
    BadBatchSize(i64, crate::SparkVersion),
}
