//! The streaming frame decoder: bytes in, frames out, never blocking.

use bytes::{Buf, BytesMut};

use crate::error::DecodeError;
use crate::frame::Frame;
use crate::limits::Limits;
use crate::special::{SpecialLength, SpecialSet};

/// The result of one decode call: an item, or "feed me more bytes".
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step<T> {
    /// A complete item; its bytes were removed from the buffer.
    Item(T),
    /// The buffer does not yet hold a complete item; nothing was consumed.
    NeedMore,
}

impl<T> Step<T> {
    /// The item, if there is one.
    pub fn item(self) -> Option<T> {
        match self {
            Step::Item(t) => Some(t),
            Step::NeedMore => None,
        }
    }
}

/// What the decoder was asked for when it last answered [`Step::NeedMore`]; used to
/// describe a truncation precisely when the input ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Pending {
    what: &'static str,
    /// Bytes the item needs in total, when known (a frame's length is known only
    /// once its prefix has arrived).
    total: Option<u64>,
}

/// A sans-I/O decoder for PySpark's length-prefixed streams.
///
/// Feed it a [`BytesMut`] that you append to as bytes arrive, in chunks of any size
/// (one byte at a time works). Each call either removes one complete item from the
/// front of the buffer, answers [`Step::NeedMore`] without consuming anything, or
/// returns a [`DecodeError`] naming the byte offset and frame index.
///
/// Payloads are split off the buffer as [`bytes::Bytes`] without copying. Length
/// prefixes are checked against [`Limits`] before the decoder waits for the payload,
/// and the decoder never reserves memory for a declared length: the buffer grows only
/// with bytes that actually arrived.
///
/// Besides frames ([`FrameDecoder::decode`]) it reads the fixed-width fields that
/// PySpark interleaves with frames (`i32`, `i64`, `bool`, length-prefixed strings),
/// so protocol layers can drive it field by field.
///
/// ```
/// use bytes::BytesMut;
/// use sparkwire_framing::{FrameDecoder, Frame, SpecialLength, Step};
///
/// let mut dec = FrameDecoder::new();
/// let mut buf = BytesMut::new();
/// buf.extend_from_slice(&[0, 0, 0, 2, b'h']);
/// assert_eq!(dec.decode(&mut buf).unwrap(), Step::NeedMore);
/// buf.extend_from_slice(&[b'i', 0xff, 0xff, 0xff, 0xff]);
/// assert_eq!(dec.decode(&mut buf).unwrap(), Step::Item(Frame::Data("hi".into())));
/// assert_eq!(dec.decode(&mut buf).unwrap(), Step::Item(Frame::Marker(SpecialLength::EndOfDataSection)));
/// assert_eq!(dec.decode_eof(&mut buf).unwrap(), None);
/// ```
#[derive(Clone, Debug)]
pub struct FrameDecoder {
    limits: Limits,
    specials: SpecialSet,
    offset: u64,
    index: u64,
    pending: Option<Pending>,
}

impl Default for FrameDecoder {
    fn default() -> Self {
        FrameDecoder::new()
    }
}

impl FrameDecoder {
    /// A decoder with default [`Limits`] that accepts every special length.
    pub fn new() -> FrameDecoder {
        FrameDecoder::with_limits(Limits::default())
    }

    /// A decoder with the given limits.
    pub fn with_limits(limits: Limits) -> FrameDecoder {
        FrameDecoder {
            limits,
            specials: SpecialSet::ALL,
            offset: 0,
            index: 0,
            pending: None,
        }
    }

    /// Restricts the special lengths accepted; others become
    /// [`DecodeError::UnknownSpecial`].
    pub fn with_specials(mut self, specials: SpecialSet) -> FrameDecoder {
        self.specials = specials;
        self
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Bytes consumed since the start of the stream.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Length slots (frames, nulls, markers) decoded so far.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// Decodes the next length slot: a data frame, a null or a marker.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Step<Frame>, DecodeError> {
        let Some(head) = peek_i32(buf) else {
            return Ok(self.need("frame", None));
        };
        if head < 0 {
            let special = self.special(head)?;
            buf.advance(4);
            self.consumed_slot(4);
            return Ok(Step::Item(Frame::special(special)));
        }
        let len = self.checked_len(head, self.limits.max_frame_len)?;
        let total = 4 + len;
        if buf.len() < total {
            return Ok(self.need("frame", Some(total as u64)));
        }
        buf.advance(4);
        let payload = buf.split_to(len).freeze();
        self.consumed_slot(total);
        Ok(Step::Item(Frame::Data(payload)))
    }

    /// Like [`FrameDecoder::decode`], for when the input has ended: `Ok(None)` if the
    /// buffer is empty, [`DecodeError::Truncated`] if it holds a partial frame.
    pub fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, DecodeError> {
        match self.decode(buf)? {
            Step::Item(frame) => Ok(Some(frame)),
            Step::NeedMore => self.finish(buf).map(|()| None),
        }
    }

    /// Call when the input has ended: succeeds if nothing is left over, otherwise
    /// reports what the last incomplete item was and how many bytes it lacks.
    pub fn finish(&self, buf: &BytesMut) -> Result<(), DecodeError> {
        if buf.is_empty() {
            return Ok(());
        }
        let pending = self.pending.unwrap_or(Pending {
            what: "frame",
            total: None,
        });
        // Without a known total the length prefix itself is incomplete.
        let total = pending.total.unwrap_or(4);
        Err(DecodeError::Truncated {
            what: pending.what,
            index: self.index,
            offset: self.offset,
            missing: total.saturating_sub(buf.len() as u64),
        })
    }

    /// Reads a big-endian `i32` field (not counted as a frame).
    pub fn decode_i32(&mut self, buf: &mut BytesMut) -> Result<Step<i32>, DecodeError> {
        Ok(match self.take_fixed::<4>(buf, "i32") {
            Some(b) => Step::Item(i32::from_be_bytes(b)),
            None => Step::NeedMore,
        })
    }

    /// Reads a big-endian `i64` field (not counted as a frame).
    pub fn decode_i64(&mut self, buf: &mut BytesMut) -> Result<Step<i64>, DecodeError> {
        Ok(match self.take_fixed::<8>(buf, "i64") {
            Some(b) => Step::Item(i64::from_be_bytes(b)),
            None => Step::NeedMore,
        })
    }

    /// Reads a one-byte boolean field; bytes other than 0 and 1 are rejected.
    pub fn decode_bool(&mut self, buf: &mut BytesMut) -> Result<Step<bool>, DecodeError> {
        let offset = self.offset;
        Ok(match self.take_fixed::<1>(buf, "bool") {
            Some([0]) => Step::Item(false),
            Some([1]) => Step::Item(true),
            Some([value]) => return Err(DecodeError::InvalidBool { offset, value }),
            None => Step::NeedMore,
        })
    }

    /// Reads a length-prefixed UTF-8 string (`PythonRDD.writeUTF`, `write_with_length`
    /// of encoded text). A special length here is [`DecodeError::UnexpectedSpecial`];
    /// invalid UTF-8 is [`DecodeError::InvalidUtf8`] after the frame was consumed.
    pub fn decode_str(&mut self, buf: &mut BytesMut) -> Result<Step<String>, DecodeError> {
        let (index, offset) = (self.index, self.offset);
        if let Some(head) = peek_i32(buf) {
            if head < 0 {
                return Err(DecodeError::UnexpectedSpecial {
                    index,
                    offset,
                    expected: "str",
                    value: head,
                });
            }
        }
        match self.decode(buf)? {
            Step::Item(Frame::Data(payload)) => match std::str::from_utf8(&payload) {
                Ok(s) => Ok(Step::Item(s.to_owned())),
                Err(e) => Err(DecodeError::InvalidUtf8 {
                    index,
                    offset,
                    valid_up_to: e.valid_up_to() as u64,
                }),
            },
            // Negative heads were rejected above, so this is not reached; an error all
            // the same rather than a panic.
            Step::Item(other) => Err(DecodeError::UnexpectedSpecial {
                index,
                offset,
                expected: "str",
                value: other.special_length().map_or(0, SpecialLength::value),
            }),
            Step::NeedMore => {
                if let Some(p) = self.pending.as_mut() {
                    p.what = "str";
                }
                Ok(Step::NeedMore)
            }
        }
    }

    fn special(&self, value: i32) -> Result<SpecialLength, DecodeError> {
        self.specials
            .lookup(value)
            .ok_or(DecodeError::UnknownSpecial {
                index: self.index,
                offset: self.offset,
                value,
            })
    }

    fn checked_len(&self, head: i32, max: u32) -> Result<usize, DecodeError> {
        // `head` is non-negative here, so the cast is lossless.
        let len = head as u32;
        if len > max {
            return Err(DecodeError::FrameTooLong {
                index: self.index,
                offset: self.offset,
                len: u64::from(len),
                max: u64::from(max),
            });
        }
        Ok(len as usize)
    }

    fn take_fixed<const N: usize>(
        &mut self,
        buf: &mut BytesMut,
        what: &'static str,
    ) -> Option<[u8; N]> {
        let Some(bytes) = buf.get(..N) else {
            self.need::<()>(what, Some(N as u64));
            return None;
        };
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        buf.advance(N);
        self.offset += N as u64;
        self.pending = None;
        Some(out)
    }

    fn need<T>(&mut self, what: &'static str, total: Option<u64>) -> Step<T> {
        self.pending = Some(Pending { what, total });
        Step::NeedMore
    }

    fn consumed_slot(&mut self, n: usize) {
        self.offset += n as u64;
        self.index += 1;
        self.pending = None;
    }
}

/// The big-endian `i32` at the front of `buf`, without consuming it.
pub(crate) fn peek_i32(buf: &[u8]) -> Option<i32> {
    i32_at(buf, 0)
}

/// The big-endian `i32` (`DataOutputStream.writeInt`, `struct.pack("!i")`) at
/// byte `at` of `buf`, if all four bytes are there: the one place the workspace
/// reads a length or marker out of a byte slice by hand.
///
/// ```
/// assert_eq!(sparkwire_framing::i32_at(b"\x00\xff\xff\xff\xfc", 1), Some(-4));
/// assert_eq!(sparkwire_framing::i32_at(b"\xff\xff\xff", 0), None);
/// assert_eq!(sparkwire_framing::i32_at(b"", usize::MAX), None);
/// ```
pub fn i32_at(buf: &[u8], at: usize) -> Option<i32> {
    let b: [u8; 4] = buf.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(i32::from_be_bytes(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FrameWriter;
    use bytes::Bytes;

    fn frames_of(input: &[u8], dec: &mut FrameDecoder) -> Result<Vec<Frame>, DecodeError> {
        let mut buf = BytesMut::from(input);
        let mut out = Vec::new();
        while let Some(f) = dec.decode_eof(&mut buf)? {
            out.push(f);
        }
        Ok(out)
    }

    #[test]
    fn one_byte_at_a_time() {
        let mut w = FrameWriter::new(Vec::new());
        w.frame(b"hello").unwrap();
        w.null().frame(b"").unwrap();
        w.marker(SpecialLength::EndOfDataSection)
            .marker(SpecialLength::EndOfStream);
        let input = w.into_inner();
        let mut dec = FrameDecoder::new();
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        for b in &input {
            buf.extend_from_slice(&[*b]);
            while let Step::Item(f) = dec.decode(&mut buf).unwrap() {
                got.push(f);
            }
        }
        assert_eq!(
            got,
            vec![
                Frame::Data(Bytes::from_static(b"hello")),
                Frame::Null,
                Frame::Data(Bytes::new()),
                Frame::Marker(SpecialLength::EndOfDataSection),
                Frame::Marker(SpecialLength::EndOfStream),
            ]
        );
        assert_eq!(dec.offset(), input.len() as u64);
        assert_eq!(dec.index(), 5);
        assert!(buf.is_empty());
    }

    #[test]
    fn limit_is_inclusive() {
        let limits = Limits {
            max_frame_len: 3,
            ..Limits::default()
        };
        let mut dec = FrameDecoder::with_limits(limits);
        assert_eq!(
            frames_of(&[0, 0, 0, 3, 1, 2, 3], &mut dec).unwrap(),
            vec![Frame::Data(Bytes::from_static(&[1, 2, 3]))]
        );
        let mut dec = FrameDecoder::with_limits(limits);
        assert_eq!(
            frames_of(&[0, 0, 0, 3, 1, 2, 3, 0, 0, 0, 4, 1, 2, 3, 4], &mut dec),
            Err(DecodeError::FrameTooLong {
                index: 1,
                offset: 7,
                len: 4,
                max: 3
            })
        );
    }

    #[test]
    fn limit_is_checked_before_waiting_for_the_payload() {
        let mut dec = FrameDecoder::new();
        let mut buf = BytesMut::from(&[0x10, 0, 0, 1][..]);
        assert_eq!(
            dec.decode(&mut buf),
            Err(DecodeError::FrameTooLong {
                index: 0,
                offset: 0,
                len: (256 << 20) + 1,
                max: 256 << 20
            })
        );
        assert_eq!(
            buf.capacity(),
            4,
            "nothing reserved for the declared length"
        );
    }

    #[test]
    fn wire_maximum_is_representable_when_allowed() {
        let mut dec = FrameDecoder::with_limits(Limits::unbounded());
        let mut buf = BytesMut::from(&[0x7f, 0xff, 0xff, 0xff, 0xaa][..]);
        assert_eq!(dec.decode(&mut buf), Ok(Step::NeedMore));
        assert_eq!(
            dec.finish(&buf),
            Err(DecodeError::Truncated {
                what: "frame",
                index: 0,
                offset: 0,
                missing: (i32::MAX as u64 + 4) - 5,
            })
        );
        // One below the limit passes the check, the limit itself too.
        let limits = Limits {
            max_frame_len: i32::MAX as u32 - 1,
            ..Limits::unbounded()
        };
        let mut dec = FrameDecoder::with_limits(limits);
        let mut buf = BytesMut::from(&[0x7f, 0xff, 0xff, 0xfe][..]);
        assert_eq!(dec.decode(&mut buf), Ok(Step::NeedMore));
        let mut buf = BytesMut::from(&[0x7f, 0xff, 0xff, 0xff][..]);
        assert!(matches!(
            dec.decode(&mut buf),
            Err(DecodeError::FrameTooLong {
                len: 2147483647,
                ..
            })
        ));
    }

    #[test]
    fn unknown_specials_are_errors_with_position() {
        let mut dec = FrameDecoder::new();
        let input = [0, 0, 0, 1, b'x', 0xff, 0xff, 0xff, 0xf9];
        assert_eq!(
            frames_of(&input, &mut dec),
            Err(DecodeError::UnknownSpecial {
                index: 1,
                offset: 5,
                value: -7
            })
        );
        let mut dec = FrameDecoder::new()
            .with_specials(SpecialSet::ALL.without(SpecialLength::StartOfInitMessage));
        assert_eq!(
            frames_of(&(-8i32).to_be_bytes(), &mut dec),
            Err(DecodeError::UnknownSpecial {
                index: 0,
                offset: 0,
                value: -8
            })
        );
        let mut dec = FrameDecoder::new();
        assert_eq!(
            frames_of(&i32::MIN.to_be_bytes(), &mut dec),
            Err(DecodeError::UnknownSpecial {
                index: 0,
                offset: 0,
                value: i32::MIN
            })
        );
    }

    #[test]
    fn truncation_is_reported_at_eof() {
        for (input, missing) in [
            (&[0u8, 0, 0][..], 1),
            (&[0, 0, 0, 5, 1, 2][..], 3),
            (&[0, 0, 0, 1][..], 1),
        ] {
            let mut dec = FrameDecoder::new();
            assert_eq!(
                frames_of(input, &mut dec),
                Err(DecodeError::Truncated {
                    what: "frame",
                    index: 0,
                    offset: 0,
                    missing
                }),
                "{input:?}"
            );
        }
    }

    #[test]
    fn fields_and_strings() {
        let mut w = FrameWriter::new(Vec::new());
        w.i32(-3).i64(1_700_000_000_123).bool(true).bool(false);
        w.str("3.11").unwrap();
        w.str("héllo").unwrap();
        let mut buf = BytesMut::from(&w.into_inner()[..]);
        let mut dec = FrameDecoder::new();
        assert_eq!(dec.decode_i32(&mut buf), Ok(Step::Item(-3)));
        assert_eq!(dec.decode_i64(&mut buf), Ok(Step::Item(1_700_000_000_123)));
        assert_eq!(dec.decode_bool(&mut buf), Ok(Step::Item(true)));
        assert_eq!(dec.decode_bool(&mut buf), Ok(Step::Item(false)));
        assert_eq!(dec.decode_str(&mut buf), Ok(Step::Item("3.11".into())));
        assert_eq!(dec.decode_str(&mut buf), Ok(Step::Item("héllo".into())));
        assert_eq!(dec.index(), 2, "fields are not frames; strings are");
        assert!(buf.is_empty());
    }

    #[test]
    fn field_truncation_names_the_field() {
        let mut dec = FrameDecoder::new();
        let mut buf = BytesMut::from(&[0, 0, 0, 0, 1, 2, 3][..]);
        assert_eq!(dec.decode_i32(&mut buf), Ok(Step::Item(0)));
        assert_eq!(dec.decode_i64(&mut buf), Ok(Step::NeedMore));
        assert_eq!(
            dec.finish(&buf),
            Err(DecodeError::Truncated {
                what: "i64",
                index: 0,
                offset: 4,
                missing: 5
            })
        );
    }

    #[test]
    fn bad_strings_and_bools() {
        let mut dec = FrameDecoder::new();
        let mut buf = BytesMut::from(&[0, 0, 0, 2, 0xc3, 0x28, 2, 0xff, 0xff, 0xff, 0xfb][..]);
        assert_eq!(
            dec.decode_str(&mut buf),
            Err(DecodeError::InvalidUtf8 {
                index: 0,
                offset: 0,
                valid_up_to: 0
            })
        );
        assert_eq!(dec.decode_str(&mut BytesMut::new()), Ok(Step::NeedMore));
        assert_eq!(
            dec.decode_bool(&mut buf),
            Err(DecodeError::InvalidBool {
                offset: 6,
                value: 2
            })
        );
        assert_eq!(
            dec.decode_str(&mut buf),
            Err(DecodeError::UnexpectedSpecial {
                index: 1,
                offset: 7,
                expected: "str",
                value: -5
            })
        );
    }
}
