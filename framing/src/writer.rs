//! Writing the exact bytes PySpark and the JVM write.

use bytes::BufMut;

use crate::error::EncodeError;
use crate::frame::{length_prefix, Frame};
use crate::special::SpecialLength;

/// Appends frames, markers and fixed-width fields to any [`BufMut`] (`Vec<u8>`,
/// `BytesMut`, …), byte for byte as `pyspark.serializers.write_int` /
/// `write_long` / `write_with_length` and the JVM's `DataOutputStream` write them.
///
/// ```
/// use sparkwire_framing::{FrameWriter, SpecialLength};
///
/// let mut w = FrameWriter::new(Vec::new());
/// w.str("3.11").unwrap();
/// w.marker(SpecialLength::EndOfDataSection);
/// assert_eq!(w.into_inner(), b"\0\0\0\x043.11\xff\xff\xff\xff");
/// ```
#[derive(Debug, Default)]
pub struct FrameWriter<B> {
    out: B,
}

impl<B: BufMut> FrameWriter<B> {
    /// A writer appending to `out`.
    pub fn new(out: B) -> FrameWriter<B> {
        FrameWriter { out }
    }

    /// `i32 len` + `payload` (`write_with_length`). Fails above 2^31 − 1 bytes.
    pub fn frame(&mut self, payload: &[u8]) -> Result<&mut Self, EncodeError> {
        let prefix = length_prefix(payload.len())?;
        self.out.put_slice(&prefix);
        self.out.put_slice(payload);
        Ok(self)
    }

    /// `i32 -5`, the JVM's encoding of a `null` element.
    pub fn null(&mut self) -> &mut Self {
        self.out.put_i32(SpecialLength::Null.value());
        self
    }

    /// A special length on its own.
    pub fn marker(&mut self, s: SpecialLength) -> &mut Self {
        self.out.put_i32(s.value());
        self
    }

    /// Any [`Frame`].
    pub fn item(&mut self, frame: &Frame) -> Result<&mut Self, EncodeError> {
        frame.encode(&mut self.out)?;
        Ok(self)
    }

    /// `i32 len` + UTF-8 bytes: `PythonRDD.writeUTF` and
    /// `write_with_length(s.encode("utf-8"))` (not Java's modified UTF-8).
    pub fn str(&mut self, s: &str) -> Result<&mut Self, EncodeError> {
        self.frame(s.as_bytes())
    }

    /// A big-endian `i32` (`write_int`, `DataOutputStream.writeInt`).
    pub fn i32(&mut self, v: i32) -> &mut Self {
        self.out.put_i32(v);
        self
    }

    /// A big-endian `i64` (`write_long`, `DataOutputStream.writeLong`).
    pub fn i64(&mut self, v: i64) -> &mut Self {
        self.out.put_i64(v);
        self
    }

    /// One byte, 1 or 0 (`DataOutputStream.writeBoolean`).
    pub fn bool(&mut self, v: bool) -> &mut Self {
        self.out.put_u8(u8::from(v));
        self
    }

    /// The underlying buffer.
    pub fn get_ref(&self) -> &B {
        &self.out
    }

    /// The underlying buffer, mutably.
    pub fn get_mut(&mut self) -> &mut B {
        &mut self.out
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> B {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primitives_are_big_endian() {
        let mut w = FrameWriter::new(Vec::new());
        w.i32(-1).i32(0x0102_0304).i64(-2).bool(true).bool(false);
        assert_eq!(
            w.into_inner(),
            [
                0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
                1, 0
            ]
        );
    }

    #[test]
    fn strings_are_plain_utf8() {
        // Java's modified UTF-8 would write U+0000 as C0 80 and a supplementary
        // character as a surrogate pair; PySpark's framing writes standard UTF-8.
        let mut w = FrameWriter::new(Vec::new());
        w.str("\0😀").unwrap();
        assert_eq!(w.into_inner(), [0, 0, 0, 5, 0, 0xf0, 0x9f, 0x98, 0x80]);
    }
}
