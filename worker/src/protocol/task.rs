//! The JVM → worker direction of a connection: task headers, each task's data
//! section and the END_OF_STREAM that follows it, for any number of tasks back
//! to back on a reused connection.

use bytes::BytesMut;
use sparkwire_framing::{Frame, FrameDecoder, SpecialLength, Step};
use sparkwire_serializers::pyspark::arrow::{Grouping, SectionDecoder, SectionItem};
use sparkwire_serializers::pyspark::LoadError;

use super::error::HeaderError;
use super::eval_type::{DataLayout, EvalType};
use super::header::TaskHeader;
use super::limits::Limits;
use super::version::SparkVersion;

/// One item of the JVM → worker stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskItem {
    /// A task header (the command included).
    Header(Box<TaskHeader>),
    /// A frame of the data section, as the command's deserializer will read it.
    Data(Frame),
    /// END_OF_DATA_SECTION (−1), which ends a framed data section.
    EndOfData,
    /// An item of an Arrow data section (Arrow and pandas eval types): raw IPC
    /// streams, grouped as the eval type needs, with no END_OF_DATA_SECTION after.
    Arrow(SectionItem),
    /// The `i32` the worker reads after sending its accumulators: END_OF_STREAM
    /// (−4) lets it be reused.
    Finish(i32),
}

/// Why the JVM → worker stream could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    /// The header is malformed.
    #[error("task {task}, header at byte {offset}: {source}")]
    Header {
        /// Index of the task on the connection.
        task: usize,
        /// Offset of the header in the stream.
        offset: u64,
        /// The error.
        #[source]
        source: HeaderError,
    },
    /// The data section is malformed.
    #[error("task {task}, data section item at byte {offset} of the stream: {source}")]
    Data {
        /// Index of the task on the connection.
        task: usize,
        /// Offset of the failing item from the start of the stream.
        offset: u64,
        /// The error (its own offsets count data-section bytes only).
        #[source]
        source: sparkwire_framing::DecodeError,
    },
    /// An Arrow data section is malformed.
    #[error("task {task}, Arrow data section at byte {offset} of the stream: {source}")]
    Arrow {
        /// Index of the task on the connection.
        task: usize,
        /// Offset of the section's failing item from the start of the stream.
        offset: u64,
        /// The error (its own offsets count section bytes only).
        #[source]
        source: LoadError,
    },
    /// The input ended inside a task.
    #[error(
        "task {task}: the input ends at byte {offset} inside the task ({buffered} bytes buffered)"
    )]
    Truncated {
        /// Index of the task.
        task: usize,
        /// Bytes decoded.
        offset: u64,
        /// Bytes received but not decoded.
        buffered: u64,
    },
    /// The header names an eval type no modelled release defines, so its data
    /// section cannot be read (its command was read as PySpark's worker reads an
    /// unknown eval type's: a UDF list).
    #[error("task {task}, data section at byte {offset}: unknown eval type {eval_type}, whose data layout is not known")]
    UnknownEvalType {
        /// Index of the task on the connection.
        task: usize,
        /// Offset of the data section from the start of the stream.
        offset: u64,
        /// The eval type.
        eval_type: EvalType,
    },
}

#[derive(Debug)]
enum State {
    Header,
    Data,
    /// An Arrow section whose grouping is not known yet.
    ArrowStart,
    Arrow(SectionDecoder),
    Finish,
    /// After the header of an eval type no release defines: its data section's
    /// layout is unknown, so decoding stops there.
    Unknown(EvalType),
}

/// Decodes the JVM → worker stream, sans-I/O.
#[derive(Debug)]
pub struct TaskDecoder {
    version: SparkVersion,
    limits: Limits,
    state: State,
    frames: FrameDecoder,
    /// Bytes consumed by headers and Arrow sections (the frame decoder counts the
    /// rest).
    unframed_bytes: u64,
    tasks: usize,
}

impl TaskDecoder {
    /// A decoder for `version`'s layout.
    pub fn new(version: SparkVersion) -> TaskDecoder {
        TaskDecoder::with_limits(version, Limits::default())
    }

    /// A decoder for `version`'s layout with explicit limits.
    pub fn with_limits(version: SparkVersion, limits: Limits) -> TaskDecoder {
        TaskDecoder {
            version,
            limits,
            state: State::Header,
            frames: FrameDecoder::with_limits(limits.frames),
            unframed_bytes: 0,
            tasks: 0,
        }
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        let arrow = match &self.state {
            State::Arrow(s) => s.offset(),
            _ => 0,
        };
        self.unframed_bytes + self.frames.offset() + arrow
    }

    /// Tasks whose header was read.
    pub fn tasks(&self) -> usize {
        self.tasks
    }

    /// Whether the stream is between tasks (a clean place for it to end).
    pub fn between_tasks(&self) -> bool {
        matches!(self.state, State::Header)
    }

    /// Call at the end of input: fails unless the stream ends between tasks
    /// with nothing left over (a connection closed mid-task, or a wrong layout).
    pub fn finish(&self, buf: &BytesMut) -> Result<(), TaskError> {
        if self.between_tasks() && buf.is_empty() {
            return Ok(());
        }
        Err(TaskError::Truncated {
            task: self.tasks.saturating_sub(1),
            offset: self.offset(),
            buffered: buf.len() as u64,
        })
    }

    /// The next item.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Step<TaskItem>, TaskError> {
        let task = self.tasks;
        match self.state {
            State::Header => {
                let offset = self.offset();
                let header_error = |source| TaskError::Header {
                    task,
                    offset,
                    source,
                };
                // Measure first (no copy), then split the header off and decode
                // it again over the split bytes, so that its payloads are shared
                // slices of the connection's buffer rather than copies.
                let Some(used) =
                    TaskHeader::measure(buf, self.version, &self.limits).map_err(header_error)?
                else {
                    return Ok(Step::NeedMore);
                };
                let bytes = buf.split_to(used).freeze();
                let h = match TaskHeader::decode_shared(&bytes, self.version, &self.limits) {
                    Ok(Some((h, n))) if n == used => h,
                    // The same reader over the same bytes: it cannot disagree.
                    Ok(_) => unreachable!("a measured header decodes to the same length"),
                    Err(e) => return Err(header_error(e)),
                };
                self.unframed_bytes += used as u64;
                self.tasks += 1;
                self.state = match h.eval_type.data_layout() {
                    DataLayout::Framed => State::Data,
                    DataLayout::Arrow => State::ArrowStart,
                    DataLayout::Unknown => State::Unknown(h.eval_type),
                };
                Ok(Step::Item(TaskItem::Header(Box::new(h))))
            }
            State::Data => {
                let frame = match self.frames.decode(buf).map_err(|e| self.data_error(e))? {
                    Step::Item(f) => f,
                    Step::NeedMore => return Ok(Step::NeedMore),
                };
                if frame == Frame::Marker(SpecialLength::EndOfDataSection) {
                    self.state = State::Finish;
                    return Ok(Step::Item(TaskItem::EndOfData));
                }
                Ok(Step::Item(TaskItem::Data(frame)))
            }
            State::ArrowStart => {
                let Some(first) = sparkwire_framing::i32_at(buf, 0) else {
                    return Ok(Step::NeedMore);
                };
                // The eval type fixes the grouping, but the bytes say it
                // unambiguously too: a stream opens with the continuation marker
                // (−1) or a legacy message length (never 0, 1 or 2), grouped input
                // with `i32 1` (`2` when cogrouped) or `0` for no groups at all.
                let grouping = match first {
                    0 | 1 => Grouping::Grouped,
                    2 => Grouping::Cogrouped,
                    _ => Grouping::Plain,
                };
                self.state = State::Arrow(SectionDecoder::with_max_message(
                    grouping,
                    self.limits.max_arrow_message,
                ));
                self.decode(buf)
            }
            State::Arrow(ref mut section) => {
                let item = match section.decode(buf) {
                    Ok(Step::Item(i)) => i,
                    Ok(Step::NeedMore) => return Ok(Step::NeedMore),
                    Err(source) => {
                        return Err(TaskError::Arrow {
                            task: task.saturating_sub(1),
                            offset: self.offset(),
                            source,
                        })
                    }
                };
                if item == SectionItem::End {
                    self.unframed_bytes += section.offset();
                    self.state = State::Finish;
                }
                Ok(Step::Item(TaskItem::Arrow(item)))
            }
            State::Unknown(eval_type) => Err(TaskError::UnknownEvalType {
                task: task.saturating_sub(1),
                offset: self.offset(),
                eval_type,
            }),
            State::Finish => match self
                .frames
                .decode_i32(buf)
                .map_err(|e| self.data_error(e))?
            {
                Step::NeedMore => Ok(Step::NeedMore),
                Step::Item(v) => {
                    self.state = State::Header;
                    Ok(Step::Item(TaskItem::Finish(v)))
                }
            },
        }
    }

    fn data_error(&self, e: sparkwire_framing::DecodeError) -> TaskError {
        TaskError::Data {
            task: self.tasks.saturating_sub(1),
            offset: self.offset(),
            source: e,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::TaskEncoder;

    #[test]
    fn finish_accepts_only_a_stream_that_ends_between_tasks() {
        let v = SparkVersion::V4_0;
        let enc = TaskEncoder::new(v);
        let mut wire = Vec::new();
        enc.header(
            &TaskHeader::example(bytes::Bytes::from_static(b"N.")),
            &mut wire,
        )
        .unwrap();
        enc.end_of_data(&mut wire);
        enc.finish(-4, &mut wire);
        for cut in 0..=wire.len() {
            let mut dec = TaskDecoder::new(v);
            let mut buf = BytesMut::from(&wire[..cut]);
            while let Step::Item(_) = dec.decode(&mut buf).unwrap() {}
            let r = dec.finish(&buf);
            assert_eq!(r.is_ok(), cut == 0 || cut == wire.len(), "cut at {cut}");
            if let Err(e) = r {
                assert!(matches!(e, TaskError::Truncated { .. }), "{e}");
            }
        }
    }
}
