//! Explicit bounds on what a peer can make a decoder hold.

/// Limits checked by the framing decoders *before* they wait for or keep any bytes.
///
/// Every limit is a plain value with a safe default; callers that trust their peer
/// (for example replaying their own captures) can raise them, up to what the wire can
/// express at all: an `i32` length, so 2^31 − 1 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest data frame accepted, in bytes.
    ///
    /// Default 256 MiB. PySpark's AutoBatchedSerializer halves its batch once a
    /// pickled batch exceeds 640 KiB and the JVM's once it exceeds 10 MiB, so real
    /// frames are far smaller unless a single record is huge; 256 MiB leaves room for
    /// such records while keeping a lying length prefix from pinning gigabytes of
    /// buffer per connection. The wire maximum is [`Limits::WIRE_MAX`].
    pub max_frame_len: u32,
    /// Largest chunk accepted by the chunked-stream decoder, in bytes.
    ///
    /// Default 1 MiB. PySpark's `ChunkedStream` is always created with an 8192-byte
    /// buffer and never writes a larger chunk; the JVM's `DechunkedInputStream`
    /// accepts any size, so we keep generous headroom.
    pub max_chunk_len: u32,
}

impl Limits {
    /// The largest length an `i32` slot can express.
    pub const WIRE_MAX: u32 = i32::MAX as u32;

    /// Limits as wide as the wire allows, for trusted input.
    pub const fn unbounded() -> Limits {
        Limits {
            max_frame_len: Limits::WIRE_MAX,
            max_chunk_len: Limits::WIRE_MAX,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_frame_len: 256 << 20,
            max_chunk_len: 1 << 20,
        }
    }
}
