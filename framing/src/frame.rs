//! One item of a length-prefixed stream: data, a null, or a marker.

use bytes::{BufMut, Bytes};

use crate::error::EncodeError;
use crate::special::SpecialLength;

/// One length slot of a stream and what it introduced.
///
/// `Data` holds its payload as a [`Bytes`] slice of the decoder's buffer, so
/// decoding never copies payloads.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Frame {
    /// `i32 n` (n ≥ 0) followed by `n` bytes.
    Data(Bytes),
    /// `i32 -5`: a null element (the JVM writes it for a Java `null`).
    Null,
    /// Any other special length. Never holds [`SpecialLength::Null`].
    Marker(SpecialLength),
}

impl Frame {
    /// The marker frame for `s`; [`SpecialLength::Null`] gives [`Frame::Null`].
    pub fn special(s: SpecialLength) -> Frame {
        match s {
            SpecialLength::Null => Frame::Null,
            other => Frame::Marker(other),
        }
    }

    /// The payload of a data frame.
    pub fn data(&self) -> Option<&Bytes> {
        match self {
            Frame::Data(b) => Some(b),
            _ => None,
        }
    }

    /// The marker, with `Null` reported as [`SpecialLength::Null`].
    pub fn special_length(&self) -> Option<SpecialLength> {
        match self {
            Frame::Data(_) => None,
            Frame::Null => Some(SpecialLength::Null),
            Frame::Marker(s) => Some(*s),
        }
    }

    /// Bytes this frame occupies on the wire.
    pub fn encoded_len(&self) -> usize {
        4 + self.data().map_or(0, Bytes::len)
    }

    /// Appends the exact bytes PySpark and the JVM write for this frame.
    pub fn encode<B: BufMut>(&self, out: &mut B) -> Result<(), EncodeError> {
        match self {
            Frame::Data(payload) => {
                out.put_slice(&length_prefix(payload.len())?);
                out.put_slice(payload);
            }
            Frame::Null => out.put_i32(SpecialLength::Null.value()),
            Frame::Marker(s) => out.put_i32(s.value()),
        }
        Ok(())
    }
}

/// The 4-byte big-endian length prefix for a payload of `len` bytes.
///
/// Fails for `len > 2^31 − 1`. (PySpark's `FramedSerializer` checks `len > 2^31`,
/// off by one, and then fails inside `struct.pack`; either way such a frame cannot be
/// written.)
pub fn length_prefix(len: usize) -> Result<[u8; 4], EncodeError> {
    match i32::try_from(len) {
        Ok(n) => Ok(n.to_be_bytes()),
        Err(_) => Err(EncodeError::FrameTooLong { len: len as u64 }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_exact_bytes() {
        let mut out = Vec::new();
        Frame::Data(Bytes::from_static(b"ab"))
            .encode(&mut out)
            .unwrap();
        Frame::Data(Bytes::new()).encode(&mut out).unwrap();
        Frame::Null.encode(&mut out).unwrap();
        Frame::Marker(SpecialLength::EndOfStream)
            .encode(&mut out)
            .unwrap();
        assert_eq!(
            out,
            [0, 0, 0, 2, b'a', b'b', 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xfb, 0xff, 0xff, 0xff, 0xfc]
        );
    }

    #[test]
    fn length_prefix_at_the_wire_maximum() {
        assert_eq!(
            length_prefix(i32::MAX as usize).unwrap(),
            [0x7f, 0xff, 0xff, 0xff]
        );
        assert_eq!(
            length_prefix(1 << 31),
            Err(EncodeError::FrameTooLong { len: 1 << 31 })
        );
    }

    #[test]
    fn special_null_is_the_null_frame() {
        assert_eq!(Frame::special(SpecialLength::Null), Frame::Null);
        assert_eq!(Frame::Null.special_length(), Some(SpecialLength::Null));
        assert_eq!(
            Frame::special(SpecialLength::TimingData),
            Frame::Marker(SpecialLength::TimingData)
        );
    }
}
