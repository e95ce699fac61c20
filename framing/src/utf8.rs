//! Streams of UTF-8 records: what `PythonRDD.writeUTF` writes (e.g. `textFile` lines
//! sent to a worker) and `pyspark.serializers.UTF8Deserializer` reads.
//!
//! Record = `i32 len` + UTF-8 bytes; `i32 -5` is a null; `i32 -1` ends the stream.
//!
//! Two readers: [`Utf8Decoder`] is strict and streaming (every malformation is a
//! typed error); [`load_like_pyspark`] reproduces exactly what `UTF8Deserializer`
//! returns for a complete input, including its silent tolerance of truncation, for
//! people asking "what did the worker actually see?".

use bytes::BytesMut;

use crate::decoder::{FrameDecoder, Step};
use crate::error::DecodeError;
use crate::frame::Frame;
use crate::limits::Limits;
use crate::special::{SpecialLength, SpecialSet};

/// One item of a UTF-8 record stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Utf8Item {
    /// A string record.
    Str(String),
    /// `i32 -5`, read by PySpark as `None`.
    Null,
    /// `i32 -1`: the end of the section.
    End,
}

/// Strict streaming reader of UTF-8 record streams.
#[derive(Debug, Clone)]
pub struct Utf8Decoder {
    frames: FrameDecoder,
    ended: bool,
}

impl Default for Utf8Decoder {
    fn default() -> Self {
        Utf8Decoder::new()
    }
}

impl Utf8Decoder {
    /// A reader with default limits.
    pub fn new() -> Utf8Decoder {
        Utf8Decoder::with_limits(Limits::default())
    }

    /// A reader with the given limits.
    pub fn with_limits(limits: Limits) -> Utf8Decoder {
        let specials = SpecialSet::NONE
            .with(SpecialLength::EndOfDataSection)
            .with(SpecialLength::Null);
        Utf8Decoder {
            frames: FrameDecoder::with_limits(limits).with_specials(specials),
            ended: false,
        }
    }

    /// The next item; after [`Utf8Item::End`] it keeps answering `End`.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Step<Utf8Item>, DecodeError> {
        if self.ended {
            return Ok(Step::Item(Utf8Item::End));
        }
        let (index, offset) = (self.frames.index(), self.frames.offset());
        Ok(Step::Item(match self.frames.decode(buf)? {
            Step::NeedMore => return Ok(Step::NeedMore),
            Step::Item(Frame::Data(b)) => match std::str::from_utf8(&b) {
                Ok(s) => Utf8Item::Str(s.to_owned()),
                Err(e) => {
                    return Err(DecodeError::InvalidUtf8 {
                        index,
                        offset,
                        valid_up_to: e.valid_up_to() as u64,
                    })
                }
            },
            Step::Item(Frame::Null) => Utf8Item::Null,
            Step::Item(Frame::Marker(_)) => {
                self.ended = true;
                Utf8Item::End
            }
        }))
    }

    /// Call at end of input. A stream may end without `-1` (collect sockets do),
    /// but not inside a record.
    pub fn finish(&self, buf: &BytesMut) -> Result<(), DecodeError> {
        if self.ended {
            Ok(())
        } else {
            self.frames.finish(buf)
        }
    }
}

/// `UTF8Deserializer.loads` raised `UnicodeDecodeError`: the records before it,
/// and where the bad record started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PysparkUtf8Error {
    /// What `load_stream` had yielded before raising.
    pub items: Vec<Option<String>>,
    /// Byte offset of the offending record's length prefix.
    pub offset: u64,
}

/// Exactly what `list(UTF8Deserializer().load_stream(BytesIO(input)))` returns in
/// PySpark 3.5–4.3: `None` for nulls; stops silently at `-1`, at the end of input and
/// on a partial length prefix (`struct.error`); a short final record yields its
/// partial text; any other negative length reads to the end of the input. Invalid
/// UTF-8 raises in Python, and is an `Err` here.
pub fn load_like_pyspark(input: &[u8]) -> Result<Vec<Option<String>>, PysparkUtf8Error> {
    let mut items = Vec::new();
    let mut pos = 0usize;
    while let Some(head) = input.get(pos..pos + 4) {
        let start = pos;
        pos += 4;
        let len = i32::from_be_bytes([head[0], head[1], head[2], head[3]]);
        let body = match len {
            -1 => break,
            -5 => {
                items.push(None);
                continue;
            }
            // `stream.read(n)` with any other negative n reads everything left.
            n if n < 0 => &input[pos..],
            n => &input[pos..input.len().min(pos + n as usize)],
        };
        pos += body.len();
        match std::str::from_utf8(body) {
            Ok(s) => items.push(Some(s.to_owned())),
            Err(_) => {
                return Err(PysparkUtf8Error {
                    items,
                    offset: start as u64,
                })
            }
        }
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pyspark_example_e16() {
        // serializers.md E16: the 'z' after -1 is never read.
        let input = b"\0\0\0\x02hi\xff\xff\xff\xfb\0\0\0\0\xff\xff\xff\xff\0\0\0\x01z";
        assert_eq!(
            load_like_pyspark(input),
            Ok(vec![Some("hi".into()), None, Some(String::new())])
        );
        let mut dec = Utf8Decoder::new();
        let mut buf = BytesMut::from(&input[..]);
        let mut got = Vec::new();
        loop {
            match dec.decode(&mut buf).unwrap() {
                Step::Item(Utf8Item::End) => break,
                Step::Item(item) => got.push(item),
                Step::NeedMore => panic!("complete"),
            }
        }
        assert_eq!(
            got,
            vec![
                Utf8Item::Str("hi".into()),
                Utf8Item::Null,
                Utf8Item::Str(String::new())
            ]
        );
        assert_eq!(&buf[..], b"\0\0\0\x01z");
    }

    #[test]
    fn pyspark_tolerates_what_we_report() {
        // A short final record: PySpark yields the partial text.
        assert_eq!(
            load_like_pyspark(b"\0\0\0\x05abc"),
            Ok(vec![Some("abc".into())])
        );
        // Two trailing bytes: struct.error, silently the end.
        assert_eq!(
            load_like_pyspark(b"\0\0\0\x01a\0\0"),
            Ok(vec![Some("a".into())])
        );
        // -7 reads the rest as one record.
        assert_eq!(
            load_like_pyspark(b"\xff\xff\xff\xf9\0\0\0\x01a"),
            Ok(vec![Some("\0\0\0\x01a".into())])
        );
        let mut dec = Utf8Decoder::new();
        let mut buf = BytesMut::from(&b"\0\0\0\x05abc"[..]);
        assert_eq!(dec.decode(&mut buf), Ok(Step::NeedMore));
        assert!(matches!(
            dec.finish(&buf),
            Err(DecodeError::Truncated { missing: 2, .. })
        ));
        let mut buf = BytesMut::from(&b"\xff\xff\xff\xf9"[..]);
        assert!(matches!(
            dec.decode(&mut buf),
            Err(DecodeError::UnknownSpecial { value: -7, .. })
        ));
    }

    #[test]
    fn invalid_utf8_is_an_error_in_both() {
        let input = b"\0\0\0\x01a\0\0\0\x01\xff";
        assert_eq!(
            load_like_pyspark(input),
            Err(PysparkUtf8Error {
                items: vec![Some("a".into())],
                offset: 5
            })
        );
        let mut dec = Utf8Decoder::new();
        let mut buf = BytesMut::from(&input[..]);
        assert!(dec.decode(&mut buf).is_ok());
        assert_eq!(
            dec.decode(&mut buf),
            Err(DecodeError::InvalidUtf8 {
                index: 1,
                offset: 5,
                valid_up_to: 0
            })
        );
    }
}
