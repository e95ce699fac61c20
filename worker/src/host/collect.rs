//! What the host makes of a task's reply items, without I/O: data goes to the
//! caller, timing and accumulator updates go to the summary, an exception ends
//! the task as an error, and a running count says how far the reply got (for
//! errors of a worker that died). [`TaskRun`](super::TaskRun) uses it on a real
//! connection; the `host_reply` fuzz target uses it on arbitrary bytes.

use bytes::Bytes;
use sparkwire_serializers::pyspark::arrow::ArrowItem;

use crate::protocol::{End, ReplyItem, Timing};

/// One piece of a task's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// A data frame, in the command's output serializer (for an RDD task, a
    /// pickled batch of records).
    Data(Bytes),
    /// A null frame.
    Null,
    /// An Arrow IPC stream starts (Arrow eval types).
    ArrowStart,
    /// An Arrow IPC message, or the stream's end.
    Arrow(ArrowItem),
}

/// What a finished task reported besides its output.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TaskSummary {
    /// The worker's timing and spill figures.
    pub timing: Option<Timing>,
    /// Accumulator updates: pickled `(id, value)` pairs, in order.
    pub accumulators: Vec<Bytes>,
    /// The worker's end marker: END_OF_STREAM (reusable) or not.
    pub end: Option<End>,
    /// The worker answered END_OF_STREAM and was kept for another task.
    pub reusable: bool,
    /// The worker's pid.
    pub pid: i32,
}

/// What one reply item means to the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Collected {
    /// Hand this to the caller.
    Output(Output),
    /// The task failed in Python with this traceback.
    Raised(String),
    /// Kept in the summary; nothing for the caller.
    Kept,
}

/// Sorts reply items into output, summary and failure, counting as it goes.
#[derive(Debug, Clone, Default)]
pub struct Collector {
    /// Timing, accumulators (reuse and pid are the caller's to fill).
    pub summary: TaskSummary,
    frames: u64,
    bytes: u64,
    last: Option<&'static str>,
}

impl Collector {
    /// A collector for a task on worker `pid`.
    pub fn for_worker(pid: i32) -> Collector {
        Collector {
            summary: TaskSummary {
                pid,
                ..TaskSummary::default()
            },
            ..Collector::default()
        }
    }

    /// Takes the next reply item.
    pub fn take(&mut self, item: ReplyItem) -> Collected {
        let (what, collected) = match item {
            ReplyItem::Data(b) => {
                self.frames += 1;
                self.bytes += b.len() as u64;
                ("a data frame", Collected::Output(Output::Data(b)))
            }
            ReplyItem::Null => ("a null frame", Collected::Output(Output::Null)),
            ReplyItem::ArrowStart => ("START_ARROW_STREAM", Collected::Output(Output::ArrowStart)),
            ReplyItem::Arrow(a) => ("an Arrow message", Collected::Output(Output::Arrow(a))),
            ReplyItem::Exception(tb) => ("an exception", Collected::Raised(tb)),
            ReplyItem::Timing(t) => {
                self.summary.timing = Some(t);
                ("the timing data", Collected::Kept)
            }
            ReplyItem::Accumulator(b) => {
                self.summary.accumulators.push(b);
                ("an accumulator update", Collected::Kept)
            }
            ReplyItem::End(e) => {
                self.summary.end = Some(e);
                ("the end marker", Collected::Kept)
            }
        };
        self.last = Some(what);
        collected
    }

    /// Data frames received.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Bytes of data received.
    pub fn data_bytes(&self) -> u64 {
        self.bytes
    }

    /// How far the reply got, for an error: the last item and the counts;
    /// `received` is what the connection carried since the handshake.
    pub fn describe(&self, received: u64) -> String {
        match self.last {
            None => format!("nothing of the reply ({received} bytes since the handshake)"),
            Some(last) => format!(
                "{last}, after {} data frames ({} bytes of data; {received} bytes since the handshake)",
                self.frames, self.bytes
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_items_and_says_how_far_it_got() {
        let mut c = Collector::default();
        assert_eq!(
            c.describe(68),
            "nothing of the reply (68 bytes since the handshake)"
        );
        let data = Bytes::from_static(b"\x80\x05N.");
        assert_eq!(
            c.take(ReplyItem::Data(data.clone())),
            Collected::Output(Output::Data(data))
        );
        assert_eq!(
            c.take(ReplyItem::Accumulator(Bytes::from_static(b"x"))),
            Collected::Kept
        );
        assert_eq!(c.take(ReplyItem::End(End::Reuse)), Collected::Kept);
        assert_eq!(c.summary.accumulators.len(), 1);
        assert_eq!(
            c.describe(100),
            "the end marker, after 1 data frames (4 bytes of data; 100 bytes since the handshake)"
        );
        assert_eq!(
            c.take(ReplyItem::Exception("boom".into())),
            Collected::Raised("boom".into())
        );
    }
}
