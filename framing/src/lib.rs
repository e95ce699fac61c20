//! # sparkwire-framing
//!
//! The lowest layer of sparkwire: the length-prefixed byte streams that Spark's JVM
//! and PySpark exchange on every local socket (worker connections, collect and
//! parallelize servers, broadcast servers).
//!
//! * [`Frame`] and [`SpecialLength`]: `i32 len` + payload, or a negative marker.
//! * [`FrameDecoder`]: a streaming, zero-copy, I/O-free decoder. Feed it bytes in any
//!   chunking; it yields frames (payloads are [`bytes::Bytes`] slices of your
//!   buffer), answers [`Step::NeedMore`], or returns a [`DecodeError`] with byte
//!   offset and frame index. It also reads the `i32`/`i64`/`bool`/string fields
//!   PySpark interleaves with frames.
//! * [`FrameWriter`]: the exact bytes `write_int`, `write_long`, `write_with_length`
//!   and the JVM's `DataOutputStream` produce.
//! * [`utf8`]: UTF-8 record streams (`PythonRDD.writeUTF` / `UTF8Deserializer`).
//! * [`ChunkedEncoder`] / [`ChunkedDecoder`]: PySpark's `ChunkedStream`.
//! * [`auth`]: the `SocketAuthHelper` handshake, client and server.
//!
//! ```
//! use bytes::BytesMut;
//! use sparkwire_framing::{Frame, FrameDecoder, FrameWriter, SpecialLength};
//!
//! // What a JVM sends a worker after the command: two records, a null, the end.
//! let mut w = FrameWriter::new(BytesMut::new());
//! w.frame(b"\x80\x05K\x01.")?.frame(b"")?.null();
//! w.marker(SpecialLength::EndOfDataSection).marker(SpecialLength::EndOfStream);
//! let mut wire = w.into_inner();
//! let original = wire.clone();
//!
//! let mut dec = FrameDecoder::new();
//! let mut frames = Vec::new();
//! while let Some(frame) = dec.decode_eof(&mut wire)? {
//!     frames.push(frame);
//! }
//! assert_eq!(frames[2], Frame::Null);
//! assert_eq!(frames[4], Frame::Marker(SpecialLength::EndOfStream));
//!
//! // Re-encoding reproduces the stream byte for byte.
//! let mut again = Vec::new();
//! for f in &frames {
//!     f.encode(&mut again)?;
//! }
//! assert_eq!(again, original);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## One convention for every streaming decoder
//! Every decoder of sparkwire that reads a stream — here [`FrameDecoder`],
//! [`utf8::Utf8Decoder`], [`ChunkedDecoder`]; above, the serializers'
//! `StreamDecoder`, `ShuffleDecoder` and Arrow decoders, the worker protocol's
//! `TaskDecoder` and `ReplyDecoder` — has the shape of tokio-util's `Decoder`:
//!
//! * `decode(&mut self, buf: &mut BytesMut) -> Result<Step<Item>, Error>` takes
//!   the bytes of one item off the front of `buf` and returns it, or returns
//!   [`Step::NeedMore`] and leaves `buf` as it was, or fails with an error that
//!   says where (byte offset, frame index, section). It never blocks, never
//!   reads a socket and never waits for a declared length it would refuse.
//!   Decoders of a bounded sequence (a batch stream, a reply) return
//!   `Step::Item(None)` once it is complete.
//! * `finish(&self, …) -> Result<(), Error>` is called at the end of input and
//!   fails when the input stopped inside an item, so a cut stream is reported
//!   rather than silently taken as complete.
//!
//! ## Guarantees
//! * No input makes a decoder panic, recurse or allocate more than the bytes that
//!   actually arrived; declared lengths are checked against [`Limits`] first.
//! * Errors are typed and positioned; [`DecodeError::is_stream_corrupt`] tells a
//!   broken stream from one bad value in an intact frame.
//! * Nothing here executes or interprets payloads; that is the serializers' job.
//! * No `unsafe` code.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod auth;
mod chunked;
mod decoder;
mod error;
mod frame;
mod limits;
mod special;
pub mod utf8;
mod writer;

pub use auth::Secret;
pub use chunked::{Chunk, ChunkedDecoder, ChunkedEncoder, PYSPARK_CHUNK_SIZE};
pub use decoder::{i32_at, FrameDecoder, Step};
pub use error::{DecodeError, EncodeError};
pub use frame::{length_prefix, Frame};
pub use limits::Limits;
pub use special::{SpecialLength, SpecialSet};
pub use writer::FrameWriter;
