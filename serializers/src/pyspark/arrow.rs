//! Arrow eval types: Arrow IPC streams carried through as opaque bytes, with
//! their boundaries found exactly.
//!
//! An IPC stream is a sequence of encapsulated messages — `FF FF FF FF`
//! (continuation, absent in the pre-0.15 format), `i32` LE metadata length, a
//! flatbuffer `Message`, then `bodyLength` bytes of body — ended by a zero
//! metadata length (`FF FF FF FF 00 00 00 00`). Only the `Message` table's
//! `header_type` and `bodyLength` are read, from the flatbuffer by hand: that is
//! all that is needed to find the boundaries, so no Arrow dependency is taken.
//!
//! Around the streams, PySpark frames:
//! - worker output: `i32 -6` (START_ARROW_STREAM), then one stream;
//! - plain input (scalar and map pandas/Arrow UDFs): one stream;
//! - grouped input (grouped map, applyInPandas…): per group `i32 1` and one
//!   stream, then `i32 0`; cogrouped input: `i32 2` and two streams, then `i32 0`.

use bytes::{Buf, Bytes, BytesMut};
use sparkwire_framing::Step;

use super::error::{LoadError, ValueError};

/// What an IPC message carries (`MessageHeader` union tag).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// 1.
    Schema,
    /// 2.
    DictionaryBatch,
    /// 3.
    RecordBatch,
    /// 4 and 5, or an unknown tag.
    Other(u8),
}

/// One item of an IPC stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArrowItem {
    /// A message: its kind and its exact bytes (prefix, metadata and body).
    Message {
        /// The header type.
        kind: MessageKind,
        /// The whole encapsulated message.
        bytes: Bytes,
    },
    /// The end-of-stream marker, as written (8 bytes, or 4 in the legacy format).
    End(Bytes),
}

/// Finds message boundaries in one Arrow IPC stream, sans-I/O.
#[derive(Debug, Clone)]
pub struct ArrowStreamDecoder {
    max_message: u64,
    offset: u64,
    messages: u64,
    done: bool,
}

impl Default for ArrowStreamDecoder {
    fn default() -> Self {
        ArrowStreamDecoder::new()
    }
}

impl ArrowStreamDecoder {
    /// A decoder refusing messages above 2 GiB (metadata plus body).
    pub fn new() -> ArrowStreamDecoder {
        ArrowStreamDecoder::with_max_message(i32::MAX as u64)
    }

    /// A decoder refusing messages longer than `max` bytes, checked before waiting for them.
    pub fn with_max_message(max: u64) -> ArrowStreamDecoder {
        ArrowStreamDecoder {
            max_message: max,
            offset: 0,
            messages: 0,
            done: false,
        }
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Whether the end marker was read.
    pub fn is_done(&self) -> bool {
        self.done
    }

    fn err(&self, what: &'static str) -> LoadError {
        LoadError::Value {
            frame: self.messages,
            offset: self.offset,
            source: Box::new(ValueError::Arrow(what)),
        }
    }

    /// Call at the end of input: fails unless the stream's end marker was read
    /// and nothing is left over.
    pub fn finish(&self, buf: &BytesMut) -> Result<(), LoadError> {
        if !self.done {
            return Err(self.err("the input ends before the stream's end-of-stream marker"));
        }
        if !buf.is_empty() {
            return Err(self.err("bytes follow the stream's end-of-stream marker"));
        }
        Ok(())
    }

    /// The next message or the end marker.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Step<ArrowItem>, LoadError> {
        if self.done {
            return Err(self.err("read past the end-of-stream marker"));
        }
        if buf.len() < 4 {
            return Ok(Step::NeedMore);
        }
        let first = i32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]);
        let (prefix, meta_len) = if first == -1 {
            if buf.len() < 8 {
                return Ok(Step::NeedMore);
            }
            (8usize, i32::from_le_bytes([buf[4], buf[5], buf[6], buf[7]]))
        } else {
            (4usize, first)
        };
        if meta_len == 0 {
            self.done = true;
            self.offset += prefix as u64;
            return Ok(Step::Item(ArrowItem::End(buf.split_to(prefix).freeze())));
        }
        let meta_len =
            usize::try_from(meta_len).map_err(|_| self.err("negative metadata length"))?;
        if meta_len as u64 > self.max_message {
            return Err(self.err("metadata longer than the limit"));
        }
        if buf.len() < prefix + meta_len {
            return Ok(Step::NeedMore);
        }
        let meta = &buf[prefix..prefix + meta_len];
        let (kind, body_len) =
            read_message(meta).ok_or_else(|| self.err("malformed Message flatbuffer"))?;
        let total = (prefix + meta_len) as u64 + body_len;
        if body_len > self.max_message || total > self.max_message.saturating_add(8) {
            return Err(self.err("message longer than the limit"));
        }
        let total = total as usize;
        if buf.len() < total {
            return Ok(Step::NeedMore);
        }
        self.offset += total as u64;
        self.messages += 1;
        Ok(Step::Item(ArrowItem::Message {
            kind,
            bytes: buf.split_to(total).freeze(),
        }))
    }
}

/// Reads `header_type` (field 1, u8) and `bodyLength` (field 3, i64) from a
/// `Message` flatbuffer, checking every offset against the slice.
fn read_message(m: &[u8]) -> Option<(MessageKind, u64)> {
    let u32_at = |p: usize| {
        m.get(p..p + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let u16_at = |p: usize| m.get(p..p + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    let table = u32_at(0)? as usize;
    let soff = i32::from_le_bytes(m.get(table..table + 4)?.try_into().ok()?);
    let vtable = usize::try_from(table as i64 - i64::from(soff)).ok()?;
    let vt_len = u16_at(vtable)? as usize;
    let field = |i: usize| -> Option<usize> {
        let entry = 4 + 2 * i;
        if entry + 2 > vt_len {
            return Some(0);
        }
        Some(u16_at(vtable + entry)? as usize)
    };
    let kind = match field(1)? {
        0 => 0,
        off => *m.get(table + off)?,
    };
    let body = match field(3)? {
        0 => 0,
        off => i64::from_le_bytes(m.get(table + off..table + off + 8)?.try_into().ok()?),
    };
    let kind = match kind {
        1 => MessageKind::Schema,
        2 => MessageKind::DictionaryBatch,
        3 => MessageKind::RecordBatch,
        k => MessageKind::Other(k),
    };
    Some((kind, u64::try_from(body).ok()?))
}

/// How the JVM frames Arrow input for an eval type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    /// One stream.
    Plain,
    /// `i32 1` + stream per group, `i32 0` at the end.
    Grouped,
    /// `i32 2` + two streams per group, `i32 0` at the end.
    Cogrouped,
}

/// One item of an Arrow input or output section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SectionItem {
    /// A group starts and holds this many streams (the `i32 1`/`2`).
    Group(i32),
    /// An IPC stream item.
    Arrow(ArrowItem),
    /// The section ended (`i32 0` for grouped input, the stream's end otherwise).
    End,
}

/// Reads an Arrow data section with its PySpark framing.
#[derive(Debug, Clone)]
pub struct SectionDecoder {
    grouping: Grouping,
    /// Longest message accepted by each stream's decoder.
    max_message: u64,
    stream: Option<ArrowStreamDecoder>,
    /// Streams still to read in the current group.
    left: i32,
    offset: u64,
    ended: bool,
}

impl SectionDecoder {
    /// A decoder for `grouping`, refusing messages above 2 GiB.
    pub fn new(grouping: Grouping) -> SectionDecoder {
        SectionDecoder::with_max_message(grouping, i32::MAX as u64)
    }

    /// A decoder for `grouping` whose streams refuse messages longer than `max`.
    pub fn with_max_message(grouping: Grouping, max: u64) -> SectionDecoder {
        SectionDecoder {
            grouping,
            max_message: max,
            stream: (grouping == Grouping::Plain)
                .then(|| ArrowStreamDecoder::with_max_message(max)),
            left: i32::from(grouping == Grouping::Plain),
            offset: 0,
            ended: false,
        }
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.offset + self.stream.as_ref().map_or(0, |s| s.offset())
    }

    /// Call at the end of input: fails unless the section was read to its end
    /// and nothing is left over.
    pub fn finish(&self, buf: &BytesMut) -> Result<(), LoadError> {
        if !self.ended || !buf.is_empty() {
            return Err(LoadError::Value {
                frame: 0,
                offset: self.offset,
                source: Box::new(ValueError::Arrow(if self.ended {
                    "bytes follow the Arrow section"
                } else {
                    "the input ends inside the Arrow section"
                })),
            });
        }
        Ok(())
    }

    /// The next item.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Step<SectionItem>, LoadError> {
        if self.ended {
            return Ok(Step::Item(SectionItem::End));
        }
        if let Some(s) = &mut self.stream {
            let item = match s.decode(buf)? {
                Step::NeedMore => return Ok(Step::NeedMore),
                Step::Item(i) => i,
            };
            if matches!(item, ArrowItem::End(_)) {
                self.offset += s.offset();
                self.left -= 1;
                let max = self.max_message;
                self.stream = (self.left > 0).then(|| ArrowStreamDecoder::with_max_message(max));
                if self.grouping == Grouping::Plain {
                    self.ended = true;
                }
            }
            return Ok(Step::Item(SectionItem::Arrow(item)));
        }
        if buf.len() < 4 {
            return Ok(Step::NeedMore);
        }
        let n = buf.get_i32();
        self.offset += 4;
        let expected = if self.grouping == Grouping::Cogrouped {
            2
        } else {
            1
        };
        if n == 0 {
            self.ended = true;
            return Ok(Step::Item(SectionItem::End));
        }
        if n != expected {
            return Err(LoadError::Value {
                frame: 0,
                offset: self.offset - 4,
                source: Box::new(ValueError::Arrow(
                    "group header is neither the stream count nor 0",
                )),
            });
        }
        self.left = n;
        self.stream = Some(ArrowStreamDecoder::with_max_message(self.max_message));
        Ok(Step::Item(SectionItem::Group(n)))
    }
}
