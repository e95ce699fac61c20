//! What a peer can make the worker-protocol decoders hold, with safe defaults.

/// Bounds checked before the decoders wait for, or keep, declared bytes.
///
/// Passed to [`TaskDecoder::with_limits`](super::TaskDecoder::with_limits),
/// [`ReplyDecoder::with_limits`](super::ReplyDecoder::with_limits),
/// [`TaskHeader::decode_with`](super::TaskHeader::decode_with) and
/// [`Session::with_limits`](super::session::Session::with_limits); the plain
/// constructors use [`Limits::default`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest single header field (a string, a command payload, 4.3's init
    /// message), in bytes.
    ///
    /// Default 256 MiB: a cloudpickled closure that captures a large object can
    /// be tens of MiB (Spark warns past 1 MiB and broadcasts are the intended
    /// way), and a lying length must not pin gigabytes per connection.
    pub max_field: usize,
    /// Data frames of the data section and of the reply (framing's limits).
    pub frames: sparkwire_framing::Limits,
    /// Longest Arrow IPC message (metadata plus body), in bytes.
    ///
    /// Default 2 GiB − 1, what an `i32` body length allows: Arrow batches are
    /// sized by `spark.sql.execution.arrow.maxRecordsPerBatch`, not by bytes.
    pub max_arrow_message: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_field: 256 << 20,
            frames: sparkwire_framing::Limits::default(),
            max_arrow_message: i32::MAX as u64,
        }
    }
}
