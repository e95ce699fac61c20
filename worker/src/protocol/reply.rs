//! The worker's reply to one task (spec §4): data frames (or an Arrow stream),
//! then timing, spill figures, accumulator updates and the end marker — or an
//! exception with its traceback.

use bytes::{Bytes, BytesMut};
use sparkwire_framing::{Frame, FrameDecoder, SpecialLength, Step};
use sparkwire_serializers::pyspark::arrow::{ArrowItem, ArrowStreamDecoder};

use super::error::ReplyError;
use super::limits::Limits;
use super::version::{SparkVersion, WorkerLayout};

/// TIMING_DATA's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// When `main()` started reading the header (ms since the epoch).
    pub boot_ms: i64,
    /// After the command was loaded.
    pub init_ms: i64,
    /// After processing.
    pub finish_ms: i64,
    /// 4.2+: the processing phase's duration.
    pub processing_ms: Option<i64>,
    /// `shuffle.MemoryBytesSpilled`.
    pub memory_bytes_spilled: i64,
    /// `shuffle.DiskBytesSpilled`.
    pub disk_bytes_spilled: i64,
}

/// How the reply ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// `-4`: the worker read END_OF_STREAM and may be reused.
    Reuse,
    /// `-1`: it did not, and exits.
    NoReuse,
}

/// One item of a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyItem {
    /// A data frame, in the command's output serializer.
    Data(Bytes),
    /// A null frame.
    Null,
    /// START_ARROW_STREAM: an Arrow IPC stream follows.
    ArrowStart,
    /// An Arrow IPC message or the stream's end.
    Arrow(ArrowItem),
    /// PYTHON_EXCEPTION_THROWN and the traceback text; the reply ends here.
    Exception(String),
    /// TIMING_DATA and its figures.
    Timing(Timing),
    /// One accumulator update: a pickled `(id, value)`.
    Accumulator(Bytes),
    /// The end marker.
    End(End),
}

#[derive(Debug)]
enum State {
    Data,
    Arrow(ArrowStreamDecoder),
    AfterTiming,
    AccumulatorCount,
    Accumulators(usize),
    EndMarker,
    Done,
}

/// Decodes one task's reply, sans-I/O.
#[derive(Debug)]
pub struct ReplyDecoder {
    version: SparkVersion,
    max_arrow_message: u64,
    frames: FrameDecoder,
    /// Bytes of finished Arrow streams (read outside the frame decoder).
    arrow_bytes: u64,
    state: State,
    /// The accumulator count the worker sent, once read.
    declared_accumulators: Option<usize>,
}

impl ReplyDecoder {
    /// A decoder for the reply layout of `version`.
    pub fn new(version: SparkVersion) -> ReplyDecoder {
        ReplyDecoder::with_limits(version, Limits::default())
    }

    /// A decoder for `version`'s reply layout with explicit limits.
    pub fn with_limits(version: SparkVersion, limits: Limits) -> ReplyDecoder {
        ReplyDecoder {
            version,
            max_arrow_message: limits.max_arrow_message,
            frames: FrameDecoder::with_limits(limits.frames),
            arrow_bytes: 0,
            state: State::Data,
            declared_accumulators: None,
        }
    }

    /// The number of accumulator updates the worker announced, once its count
    /// was read: a reply cut among its updates re-encodes with it
    /// ([`encode_reply_declaring`]).
    pub fn declared_accumulators(&self) -> Option<usize> {
        self.declared_accumulators
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        let base = self.frames.offset() + self.arrow_bytes;
        match &self.state {
            State::Arrow(a) => base + a.offset(),
            _ => base,
        }
    }

    /// Whether the reply is complete.
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// Call at the end of input: fails unless the reply was read to its end
    /// (bytes after it belong to the next task, and are the caller's).
    pub fn finish(&self) -> Result<(), ReplyError> {
        if self.is_done() {
            Ok(())
        } else {
            Err(ReplyError::Truncated {
                offset: self.offset(),
            })
        }
    }

    /// The next item; `Step::Item(None)` once the reply is complete (bytes after
    /// it stay in the buffer: several tasks can share a connection).
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Step<Option<ReplyItem>>, ReplyError> {
        let offset = self.offset();
        let item = match &mut self.state {
            State::Done => return Ok(Step::Item(None)),
            State::Data => {
                // A marker whose fields have not all arrived is left in the buffer.
                let complete = match peek_i32(buf, 0) {
                    Some(-2) => {
                        peek_i32(buf, 4).is_some_and(|n| n < 0 || buf.len() >= 8 + n as usize)
                    }
                    Some(-3) => buf.len() >= 4 + 8 * (self.version.timing_longs() + 2),
                    _ => true,
                };
                if !complete {
                    return Ok(Step::NeedMore);
                }
                let frame = match self.frames.decode(buf)? {
                    Step::Item(f) => f,
                    Step::NeedMore => return Ok(Step::NeedMore),
                };
                match frame {
                    Frame::Data(b) => ReplyItem::Data(b),
                    Frame::Null => ReplyItem::Null,
                    Frame::Marker(SpecialLength::StartArrowStream) => {
                        self.state = State::Arrow(ArrowStreamDecoder::with_max_message(
                            self.max_arrow_message,
                        ));
                        ReplyItem::ArrowStart
                    }
                    Frame::Marker(SpecialLength::PythonExceptionThrown) => {
                        match self.frames.decode_str(buf)? {
                            Step::Item(text) => {
                                self.state = State::Done;
                                ReplyItem::Exception(text)
                            }
                            Step::NeedMore => return Ok(Step::NeedMore),
                        }
                    }
                    Frame::Marker(SpecialLength::TimingData) => {
                        let longs = self.version.timing_longs() + 2;
                        let mut v = Vec::with_capacity(longs);
                        for _ in 0..longs {
                            if let Step::Item(x) = self.frames.decode_i64(buf)? {
                                v.push(x);
                            }
                        }
                        let processing = (longs == 6).then(|| v[3]);
                        self.state = State::AfterTiming;
                        ReplyItem::Timing(Timing {
                            boot_ms: v[0],
                            init_ms: v[1],
                            finish_ms: v[2],
                            processing_ms: processing,
                            memory_bytes_spilled: v[longs - 2],
                            disk_bytes_spilled: v[longs - 1],
                        })
                    }
                    Frame::Marker(m) => {
                        return Err(ReplyError::Unexpected {
                            section: "data",
                            offset,
                            value: m.value(),
                        })
                    }
                }
            }
            State::Arrow(a) => match a.decode(buf) {
                Ok(Step::NeedMore) => return Ok(Step::NeedMore),
                Ok(Step::Item(item)) => {
                    if matches!(item, ArrowItem::End(_)) {
                        self.arrow_bytes += a.offset();
                        self.state = State::Data;
                    }
                    ReplyItem::Arrow(item)
                }
                Err(source) => return Err(ReplyError::Arrow { offset, source }),
            },
            State::AfterTiming => match self.frames.decode_i32(buf)? {
                Step::NeedMore => return Ok(Step::NeedMore),
                Step::Item(-1) => {
                    self.state = State::AccumulatorCount;
                    return self.decode(buf);
                }
                Step::Item(v) => {
                    return Err(ReplyError::Unexpected {
                        section: "end of data section after timing",
                        offset,
                        value: v,
                    })
                }
            },
            State::AccumulatorCount => match self.frames.decode_i32(buf)? {
                Step::NeedMore => return Ok(Step::NeedMore),
                Step::Item(n) if n >= 0 => {
                    self.declared_accumulators = Some(n as usize);
                    self.state = if n == 0 {
                        State::EndMarker
                    } else {
                        State::Accumulators(n as usize)
                    };
                    return self.decode(buf);
                }
                Step::Item(v) => {
                    return Err(ReplyError::Unexpected {
                        section: "accumulator count",
                        offset,
                        value: v,
                    })
                }
            },
            State::Accumulators(left) => match self.frames.decode(buf)? {
                Step::NeedMore => return Ok(Step::NeedMore),
                Step::Item(Frame::Data(b)) => {
                    *left -= 1;
                    if *left == 0 {
                        self.state = State::EndMarker;
                    }
                    ReplyItem::Accumulator(b)
                }
                Step::Item(other) => {
                    return Err(ReplyError::Unexpected {
                        section: "accumulator update",
                        offset,
                        value: other.special_length().map_or(0, SpecialLength::value),
                    })
                }
            },
            State::EndMarker => match self.frames.decode_i32(buf)? {
                Step::NeedMore => return Ok(Step::NeedMore),
                Step::Item(v) => {
                    let end = match v {
                        -4 => End::Reuse,
                        -1 => End::NoReuse,
                        other => {
                            return Err(ReplyError::Unexpected {
                                section: "end marker",
                                offset,
                                value: other,
                            })
                        }
                    };
                    self.state = State::Done;
                    ReplyItem::End(end)
                }
            },
        };
        Ok(Step::Item(Some(item)))
    }
}

impl ReplyItem {
    /// Appends the exact bytes a worker of `version` writes for this item.
    pub fn encode(&self, version: SparkVersion, out: &mut Vec<u8>) -> Result<(), ReplyError> {
        let frame = |out: &mut Vec<u8>, b: &[u8]| -> Result<(), ReplyError> {
            let n = i32::try_from(b.len()).map_err(|_| ReplyError::Unexpected {
                section: "frame longer than 2^31 - 1 bytes",
                offset: out.len() as u64,
                value: -1,
            })?;
            out.extend_from_slice(&n.to_be_bytes());
            out.extend_from_slice(b);
            Ok(())
        };
        let int = |out: &mut Vec<u8>, v: i32| out.extend_from_slice(&v.to_be_bytes());
        match self {
            ReplyItem::Data(b) => frame(out, b)?,
            ReplyItem::Null => int(out, SpecialLength::Null.value()),
            ReplyItem::ArrowStart => int(out, SpecialLength::StartArrowStream.value()),
            ReplyItem::Arrow(ArrowItem::Message { bytes, .. } | ArrowItem::End(bytes)) => {
                out.extend_from_slice(bytes)
            }
            ReplyItem::Exception(text) => {
                int(out, SpecialLength::PythonExceptionThrown.value());
                frame(out, text.as_bytes())?;
            }
            ReplyItem::Timing(t) => {
                int(out, SpecialLength::TimingData.value());
                let mut longs = vec![t.boot_ms, t.init_ms, t.finish_ms];
                if version.timing_longs() == 4 {
                    longs.push(t.processing_ms.unwrap_or(0));
                }
                longs.extend([t.memory_bytes_spilled, t.disk_bytes_spilled]);
                for l in longs {
                    out.extend_from_slice(&l.to_be_bytes());
                }
            }
            ReplyItem::Accumulator(b) => frame(out, b)?,
            ReplyItem::End(End::Reuse) => int(out, SpecialLength::EndOfStream.value()),
            ReplyItem::End(End::NoReuse) => int(out, SpecialLength::EndOfDataSection.value()),
        }
        Ok(())
    }
}

/// The bytes of a whole reply: items in order, with the `-1` and accumulator
/// count that separate the data and timing from the accumulator updates.
pub fn encode_reply(items: &[ReplyItem], version: SparkVersion) -> Result<Vec<u8>, ReplyError> {
    encode_reply_declaring(items, version, None)
}

/// The bytes of a reply's items, with the accumulator count `declared` (the
/// one [`ReplyDecoder::declared_accumulators`] read) instead of the number of
/// updates among `items`: a reply the recording cuts among its updates
/// re-encodes to the bytes that were sent, count included.
pub fn encode_reply_declaring(
    items: &[ReplyItem],
    version: SparkVersion,
    declared: Option<usize>,
) -> Result<Vec<u8>, ReplyError> {
    let mut out = Vec::new();
    let accumulators = declared.unwrap_or_else(|| {
        items
            .iter()
            .filter(|i| matches!(i, ReplyItem::Accumulator(_)))
            .count()
    });
    let count = |out: &mut Vec<u8>| {
        out.extend_from_slice(&SpecialLength::EndOfDataSection.value().to_be_bytes());
        out.extend_from_slice(&(accumulators as i32).to_be_bytes());
    };
    let mut counted = false;
    for item in items {
        let after_timing = matches!(item, ReplyItem::Accumulator(_) | ReplyItem::End(_));
        if after_timing && !counted {
            count(&mut out);
            counted = true;
        }
        item.encode(version, &mut out)?;
    }
    if !counted && declared.is_some() {
        count(&mut out);
    }
    Ok(out)
}

/// The big-endian `i32` at `at`, if the buffer holds it.
fn peek_i32(buf: &[u8], at: usize) -> Option<i32> {
    sparkwire_framing::i32_at(buf, at)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reply cut inside its second of three accumulator updates: the items
    /// before the cut, with the count the worker declared, re-encode to the
    /// bytes that were sent; without the count they would claim one update.
    #[test]
    fn a_reply_cut_among_its_updates_reencodes_with_the_declared_count() {
        let v = SparkVersion::V4_3;
        let timing = ReplyItem::Timing(Timing {
            boot_ms: 1,
            init_ms: 2,
            finish_ms: 3,
            processing_ms: Some(1),
            memory_bytes_spilled: 0,
            disk_bytes_spilled: 0,
        });
        let update = |b: &'static [u8]| ReplyItem::Accumulator(Bytes::from_static(b));
        let whole = [
            timing,
            update(b"one"),
            update(b"two"),
            update(b"three"),
            ReplyItem::End(End::Reuse),
        ];
        let sent = encode_reply(&whole, v).unwrap();
        // The second update starts 4 + 3 bytes after the first one's start.
        let second = sent.len() - 4 - (4 + 5) - (4 + 3);
        for cut in [second, second + 2, second + 5] {
            let mut buf = BytesMut::from(&sent[..cut]);
            let mut r = ReplyDecoder::new(v);
            let mut items = Vec::new();
            while let Ok(Step::Item(Some(item))) = r.decode(&mut buf) {
                items.push(item);
            }
            assert_eq!(items.len(), 2, "cut at {cut}");
            assert_eq!(r.declared_accumulators(), Some(3));
            let again = encode_reply_declaring(&items, v, r.declared_accumulators()).unwrap();
            assert_eq!(again, &sent[..second], "cut at {cut}");
            assert_ne!(encode_reply(&items, v).unwrap(), &sent[..second]);
        }
        // Cut right after the count: the count is still there.
        let first = second - (4 + 3);
        let mut buf = BytesMut::from(&sent[..first]);
        let mut r = ReplyDecoder::new(v);
        let mut items = Vec::new();
        while let Ok(Step::Item(Some(item))) = r.decode(&mut buf) {
            items.push(item);
        }
        assert_eq!(items.len(), 1);
        let again = encode_reply_declaring(&items, v, r.declared_accumulators()).unwrap();
        assert_eq!(again, &sent[..first]);
    }
}
