//! Errors of the worker-protocol codecs: what was expected, in which section,
//! at which byte offset.

use thiserror::Error;

/// A task header could not be decoded or encoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HeaderError {
    /// A field holds a value the worker would refuse.
    #[error("task header, field {field} at byte {offset}: {why}")]
    Field {
        /// The field (spec name).
        field: &'static str,
        /// Offset of the field from the start of the header.
        offset: u64,
        /// What was wrong.
        why: String,
    },
    /// 4.3's init message length does not match its body.
    #[error("init message declares {declared} bytes but its fields take {consumed}")]
    InitLength {
        /// The `i32` after START_OF_INIT_MESSAGE.
        declared: u64,
        /// What the fields used.
        consumed: u64,
    },
    /// A value cannot be written in this version's layout.
    #[error("cannot encode for Spark {version}: {why}")]
    Unencodable {
        /// The version.
        version: String,
        /// Why.
        why: String,
    },
}

/// A worker reply could not be decoded.
#[derive(Debug, Error)]
pub enum ReplyError {
    /// The framing is broken.
    #[error("worker reply: {0}")]
    Frame(#[from] sparkwire_framing::DecodeError),
    /// A marker that cannot come at this point.
    #[error("worker reply, {section} at byte {offset}: unexpected {value}")]
    Unexpected {
        /// Where in the reply.
        section: &'static str,
        /// Offset.
        offset: u64,
        /// The value read.
        value: i32,
    },
    /// The input ended before the reply did.
    #[error("worker reply: the input ends at byte {offset}, inside the reply")]
    Truncated {
        /// Bytes decoded.
        offset: u64,
    },
    /// The Arrow stream after START_ARROW_STREAM is malformed.
    #[error("worker reply, Arrow stream at byte {offset}: {source}")]
    Arrow {
        /// Offset of the failing message in the reply.
        offset: u64,
        /// What was wrong.
        #[source]
        source: sparkwire_serializers::pyspark::LoadError,
    },
    /// Bytes after the reply ended (the caller may tolerate them: spec §10).
    #[error("worker reply ended at byte {offset}; {extra} more bytes follow")]
    Trailing {
        /// Where the reply ended.
        offset: u64,
        /// How many bytes follow.
        extra: u64,
    },
}
