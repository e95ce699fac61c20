//! Why marshal data was refused, with the byte offset of the fault, or why a
//! value has no marshal form.

use thiserror::Error;

use super::model::MAX_DEPTH;

/// Why marshal data was refused, and where.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MarshalError {
    /// The data ended inside an object.
    #[error("marshal data truncated at byte {offset}: {what} needs {needed} more bytes")]
    Truncated {
        /// Where the incomplete item starts.
        offset: usize,
        /// What was being read.
        what: &'static str,
        /// Bytes missing.
        needed: usize,
    },
    /// An unknown or unsupported type code.
    #[error("bad marshal data at byte {offset}: unknown type code 0x{code:02x}")]
    UnknownType {
        /// Offset of the type byte.
        offset: usize,
        /// The byte, without `FLAG_REF`.
        code: u8,
    },
    /// Code objects are refused: sparkwire never builds executable objects.
    #[error("marshal data at byte {offset} holds a code object, which sparkwire does not decode")]
    CodeObject {
        /// Offset of the type byte.
        offset: usize,
    },
    /// Something CPython's reader rejects too.
    #[error("bad marshal data at byte {offset}: {why}")]
    Bad {
        /// Offset of the offending item.
        offset: usize,
        /// CPython's wording where it has one.
        why: &'static str,
    },
    /// More than [`MAX_DEPTH`] nested containers.
    #[error("marshal data nested deeper than {MAX_DEPTH} at byte {offset}")]
    TooDeep {
        /// Where the limit was hit.
        offset: usize,
    },
    /// Bytes after the object (`marshal.loads` ignores them; the serializer's frame must not have any).
    #[error("{extra} bytes after the marshalled object at byte {offset}")]
    Trailing {
        /// Where the object ended.
        offset: usize,
        /// How many bytes follow.
        extra: usize,
    },
    /// A value marshal cannot represent (e.g. a pickled object with a reducer).
    #[error("marshal cannot represent a {0}")]
    Unmarshallable(&'static str),
}
