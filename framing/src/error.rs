//! Errors of the framing layer. Every decode error says where: byte offset from the
//! start of the stream and the index of the length slot it happened in.

use thiserror::Error;

/// Why a byte stream could not be decoded.
///
/// `offset` is the byte offset of the item (its length prefix, for frames) from the
/// start of the stream; `index` counts the length slots (data frames, nulls and
/// markers) decoded before it, so the first frame has index 0.
// Field meanings are given once, in the enum's doc comment.
#[allow(missing_docs)]
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum DecodeError {
    /// A length prefix above the configured maximum.
    #[error("frame {index} at byte {offset}: length {len} exceeds limit {max}")]
    FrameTooLong {
        index: u64,
        offset: u64,
        len: u64,
        max: u64,
    },
    /// A negative length that is not an accepted special length.
    #[error("frame {index} at byte {offset}: unknown special length {value}")]
    UnknownSpecial { index: u64, offset: u64, value: i32 },
    /// A special length where the protocol needs something else (e.g. a string).
    #[error("frame {index} at byte {offset}: expected {expected}, found special length {value}")]
    UnexpectedSpecial {
        index: u64,
        offset: u64,
        expected: &'static str,
        value: i32,
    },
    /// The input ended inside an item.
    #[error("stream ended inside {what} {index} at byte {offset}: {missing} more bytes expected")]
    Truncated {
        what: &'static str,
        index: u64,
        offset: u64,
        missing: u64,
    },
    /// A string frame whose payload is not UTF-8. The frame itself was consumed, so
    /// the stream can go on.
    #[error("frame {index} at byte {offset}: payload is not UTF-8 (valid up to byte {valid_up_to} of the payload)")]
    InvalidUtf8 {
        index: u64,
        offset: u64,
        valid_up_to: u64,
    },
    /// A boolean byte other than 0 or 1. Both peers would read it as `true`, but no
    /// real writer produces it and it could not be re-encoded identically.
    #[error("bool at byte {offset}: value {value:#04x} is neither 0 nor 1")]
    InvalidBool { offset: u64, value: u8 },
    /// A chunk length that is negative but not the `-1` terminator.
    #[error("chunk {index} at byte {offset}: invalid chunk length {value}")]
    InvalidChunkLength { index: u64, offset: u64, value: i32 },
}

impl DecodeError {
    /// Whether the stream is unusable after this error ("stop reading") as opposed to
    /// one bad value inside an intact frame ("the stream goes on").
    pub fn is_stream_corrupt(&self) -> bool {
        !matches!(self, DecodeError::InvalidUtf8 { .. })
    }

    /// Byte offset from the start of the stream at which the offending item starts.
    pub fn offset(&self) -> u64 {
        match *self {
            DecodeError::FrameTooLong { offset, .. }
            | DecodeError::UnknownSpecial { offset, .. }
            | DecodeError::UnexpectedSpecial { offset, .. }
            | DecodeError::Truncated { offset, .. }
            | DecodeError::InvalidUtf8 { offset, .. }
            | DecodeError::InvalidBool { offset, .. }
            | DecodeError::InvalidChunkLength { offset, .. } => offset,
        }
    }
}

/// Why a value could not be written.
#[allow(missing_docs)]
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum EncodeError {
    /// A payload longer than an `i32` length can express.
    #[error("payload of {len} bytes does not fit an i32 length (max 2147483647)")]
    FrameTooLong { len: u64 },
    /// A chunk buffer size that is zero or does not fit an `i32` length.
    #[error("chunk buffer size {size} must be between 1 and 2147483647")]
    InvalidChunkSize { size: usize },
}
