//! `ChunkedStream`: data of unknown length sent as chunks, ended by `i32 -1`.
//!
//! PySpark's `ChunkedStream(wrapped, buffer_size)` (used with an 8192-byte buffer
//! for encrypted `parallelize` and broadcast uploads) buffers writes and sends
//! `i32 buffer_size` + the buffer each time the buffer is exactly full; `close()`
//! sends the remainder as a shorter chunk (if any) and then `i32 -1`. The JVM's
//! `DechunkedInputStream` reads chunks of any size until `-1`.
//!
//! The bytes depend only on the concatenated data and the buffer size, never on how
//! the data was split into writes, which is what lets [`ChunkedEncoder`] copy as
//! little as possible.

use bytes::{BufMut, Bytes, BytesMut};

use crate::decoder::{FrameDecoder, Step};
use crate::error::{DecodeError, EncodeError};
use crate::frame::{length_prefix, Frame};
use crate::limits::Limits;
use crate::special::{SpecialLength, SpecialSet};

/// The buffer size PySpark always uses for `ChunkedStream`.
pub const PYSPARK_CHUNK_SIZE: usize = 8192;

/// Produces exactly the bytes of PySpark's `ChunkedStream` for a given buffer size.
///
/// ```
/// use sparkwire_framing::ChunkedEncoder;
///
/// let mut out = Vec::new();
/// let mut enc = ChunkedEncoder::new(4).unwrap();
/// enc.write(b"abcdefghij", &mut out);
/// enc.finish(&mut out);
/// assert_eq!(out, b"\0\0\0\x04abcd\0\0\0\x04efgh\0\0\0\x02ij\xff\xff\xff\xff");
/// ```
#[derive(Debug, Clone)]
pub struct ChunkedEncoder {
    buffer_size: usize,
    prefix: [u8; 4],
    pending: Vec<u8>,
}

impl ChunkedEncoder {
    /// An encoder with PySpark's buffer size `buffer_size` (1 ..= 2^31 − 1; PySpark
    /// itself loops forever on 0).
    pub fn new(buffer_size: usize) -> Result<ChunkedEncoder, EncodeError> {
        if buffer_size == 0 {
            return Err(EncodeError::InvalidChunkSize { size: 0 });
        }
        let prefix = length_prefix(buffer_size)
            .map_err(|_| EncodeError::InvalidChunkSize { size: buffer_size })?;
        Ok(ChunkedEncoder {
            buffer_size,
            prefix,
            pending: Vec::new(),
        })
    }

    /// Adds `data`, appending every chunk it completes to `out`.
    pub fn write<B: BufMut>(&mut self, mut data: &[u8], out: &mut B) {
        while self.pending.len() + data.len() >= self.buffer_size {
            let take = self.buffer_size - self.pending.len();
            out.put_slice(&self.prefix);
            out.put_slice(&self.pending);
            out.put_slice(&data[..take]);
            self.pending.clear();
            data = &data[take..];
        }
        self.pending.extend_from_slice(data);
    }

    /// Appends the last partial chunk, if any, and the `-1` terminator.
    pub fn finish<B: BufMut>(self, out: &mut B) {
        if !self.pending.is_empty() {
            // pending.len() < buffer_size ≤ i32::MAX, so this always fits.
            out.put_i32(self.pending.len() as i32);
            out.put_slice(&self.pending);
        }
        out.put_i32(SpecialLength::EndOfDataSection.value());
    }
}

/// One item of a chunked stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Chunk {
    /// A chunk's payload (possibly empty: the JVM accepts zero-length chunks).
    Data(Bytes),
    /// The `-1` terminator.
    End,
}

/// Sans-I/O reader of chunked streams, with `DechunkedInputStream`'s acceptance
/// rules: any chunk length from 0 up to [`Limits::max_chunk_len`], `-1` to end,
/// anything else negative is [`DecodeError::InvalidChunkLength`].
#[derive(Debug, Clone)]
pub struct ChunkedDecoder {
    frames: FrameDecoder,
    ended: bool,
}

impl Default for ChunkedDecoder {
    fn default() -> Self {
        ChunkedDecoder::new()
    }
}

impl ChunkedDecoder {
    /// A decoder with default limits.
    pub fn new() -> ChunkedDecoder {
        ChunkedDecoder::with_limits(Limits::default())
    }

    /// A decoder whose chunks may be at most `limits.max_chunk_len` bytes.
    pub fn with_limits(limits: Limits) -> ChunkedDecoder {
        let frame_limits = Limits {
            max_frame_len: limits.max_chunk_len,
            ..limits
        };
        ChunkedDecoder {
            frames: FrameDecoder::with_limits(frame_limits)
                .with_specials(SpecialSet::NONE.with(SpecialLength::EndOfDataSection)),
            ended: false,
        }
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.frames.offset()
    }

    /// Whether the terminator has been read.
    pub fn is_ended(&self) -> bool {
        self.ended
    }

    /// The next chunk. After [`Chunk::End`] it keeps answering `End` and leaves any
    /// further bytes in the buffer for the caller.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Step<Chunk>, DecodeError> {
        if self.ended {
            return Ok(Step::Item(Chunk::End));
        }
        match self.frames.decode(buf).map_err(chunk_error)? {
            Step::NeedMore => Ok(Step::NeedMore),
            Step::Item(Frame::Data(b)) => Ok(Step::Item(Chunk::Data(b))),
            Step::Item(_) => {
                self.ended = true;
                Ok(Step::Item(Chunk::End))
            }
        }
    }

    /// Call at end of input: an error unless the terminator was read.
    pub fn finish(&self, buf: &BytesMut) -> Result<(), DecodeError> {
        if self.ended {
            return Ok(());
        }
        self.frames.finish(buf).map_err(chunk_error)?;
        // Clean end of input but no terminator: the JVM's readInt hits EOF.
        Err(DecodeError::Truncated {
            what: "chunk",
            index: self.frames.index(),
            offset: self.frames.offset(),
            missing: 4,
        })
    }
}

fn chunk_error(e: DecodeError) -> DecodeError {
    match e {
        DecodeError::UnknownSpecial {
            index,
            offset,
            value,
        } => DecodeError::InvalidChunkLength {
            index,
            offset,
            value,
        },
        DecodeError::Truncated {
            index,
            offset,
            missing,
            ..
        } => DecodeError::Truncated {
            what: "chunk",
            index,
            offset,
            missing,
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(size: usize, writes: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut enc = ChunkedEncoder::new(size).unwrap();
        for w in writes {
            enc.write(w, &mut out);
        }
        enc.finish(&mut out);
        out
    }

    #[test]
    fn matches_pyspark_examples() {
        // serializers.md E13–E15, and PySpark's own test_chunked_stream shapes.
        assert_eq!(
            encode(4, &[b"abcd"]),
            b"\0\0\0\x04abcd\xff\xff\xff\xff".to_vec()
        );
        assert_eq!(encode(4, &[]), b"\xff\xff\xff\xff".to_vec());
        assert_eq!(
            encode(4, &[b"ab", b"", b"cdefghi", b"j"]),
            encode(4, &[b"abcdefghij"])
        );
    }

    #[test]
    fn rejects_unusable_buffer_sizes() {
        assert!(ChunkedEncoder::new(0).is_err());
        assert!(ChunkedEncoder::new(1 << 31).is_err());
        assert!(ChunkedEncoder::new(i32::MAX as usize).is_ok());
    }

    #[test]
    fn decodes_and_ends() {
        let bytes = encode(3, &[b"abcdefg"]);
        let mut buf = BytesMut::from(&bytes[..]);
        let mut dec = ChunkedDecoder::new();
        let mut data = Vec::new();
        loop {
            match dec.decode(&mut buf).unwrap() {
                Step::Item(Chunk::Data(b)) => data.extend_from_slice(&b),
                Step::Item(Chunk::End) => break,
                Step::NeedMore => panic!("complete input"),
            }
        }
        assert_eq!(data, b"abcdefg");
        assert!(dec.finish(&buf).is_ok());
        assert_eq!(dec.decode(&mut buf), Ok(Step::Item(Chunk::End)));
    }

    #[test]
    fn chunk_errors_say_chunk() {
        let mut dec = ChunkedDecoder::new();
        let mut buf = BytesMut::from(&[0xff, 0xff, 0xff, 0xfe][..]);
        assert_eq!(
            dec.decode(&mut buf),
            Err(DecodeError::InvalidChunkLength {
                index: 0,
                offset: 0,
                value: -2
            })
        );
        let mut dec = ChunkedDecoder::new();
        let mut buf = BytesMut::from(&[0, 0, 0, 2, b'a'][..]);
        assert_eq!(dec.decode(&mut buf), Ok(Step::NeedMore));
        assert_eq!(
            dec.finish(&buf),
            Err(DecodeError::Truncated {
                what: "chunk",
                index: 0,
                offset: 0,
                missing: 1
            })
        );
        let dec = ChunkedDecoder::new();
        assert!(matches!(
            dec.finish(&BytesMut::new()),
            Err(DecodeError::Truncated {
                what: "chunk",
                missing: 4,
                ..
            })
        ));
        let limits = Limits {
            max_chunk_len: 2,
            ..Limits::default()
        };
        let mut dec = ChunkedDecoder::with_limits(limits);
        let mut buf = BytesMut::from(&[0, 0, 0, 2, b'a', b'b', 0, 0, 0, 3][..]);
        assert!(matches!(
            dec.decode(&mut buf),
            Ok(Step::Item(Chunk::Data(_)))
        ));
        assert!(matches!(
            dec.decode(&mut buf),
            Err(DecodeError::FrameTooLong { len: 3, max: 2, .. })
        ));
    }
}
