//! The decode report's JSON written task by task: each connection's summary
//! ([`ConnectionReport::summary`]) is serialized as it is, and its `tasks`
//! are taken from a [`TaskSource`] one at a time while they are written, each
//! task's records read from its frames a batch at a time as they are written,
//! so that what is held is one task (with a [`crate::recording::Recording`]
//! as the source, one frame of it: the report is built as the task is read,
//! and each list of records is read again from the files while it is
//! written, [`TaskSource::json_tasks`]) and one batch of its records, however
//! many tasks and records a capture has. The document is the one
//! [`Report::to_json`] gives for a report holding every task: the same keys,
//! sorted the same way.

use std::borrow::Cow;
use std::rc::Rc;

use serde::ser::{Error as _, SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use sparkwire_framing::Frame;
use sparkwire_serializers::pyspark::Serializer as Ser;
use sparkwire_worker::protocol::{ReplyItem, SparkVersion};

use crate::capture::{Connection, Task};
use crate::error::InspectError;
use crate::report::{
    record_repr, task_serializers, ConnectionReport, RecordReader, Report, ShuffleReader,
    TaskReport,
};

/// Which tasks to include, by index on their connection.
pub type Keep<'a> = &'a dyn Fn(usize, &Task) -> bool;

/// Where a connection's tasks come from, one at a time.
pub trait TaskSource {
    /// The layout the tasks are read with.
    fn version(&self) -> SparkVersion;

    /// The tasks `keep` selects, in order, with their index on the
    /// connection, each read (or borrowed) as the iterator reaches it.
    fn tasks<'a>(&'a self, keep: Keep<'a>) -> TaskIter<'a>;

    /// The reports of those tasks, each built as the iterator reaches it,
    /// with the first `shown` of its input and output records (all with
    /// `None`; see [`TaskReport::upto`]).
    fn task_reports<'a>(
        &'a self,
        keep: Keep<'a>,
        shown: Option<usize>,
    ) -> Box<dyn Iterator<Item = Result<TaskReport, InspectError>> + 'a> {
        let v = self.version();
        Box::new(
            self.tasks(keep)
                .map(move |t| t.map(|(i, t)| TaskReport::upto(&t, i, v, shown))),
        )
    }

    /// The tasks `keep` selects for the JSON report, each with its report
    /// built to show the first `shown` records (counting the rest), and its
    /// data there or readable again.
    fn json_tasks<'a>(
        &'a self,
        keep: Keep<'a>,
        shown: usize,
    ) -> Box<dyn Iterator<Item = Result<JsonTask<'a>, InspectError>> + 'a> {
        let v = self.version();
        Box::new(self.tasks(keep).map(move |t| {
            t.map(|(index, task)| JsonTask {
                index,
                report: TaskReport::upto(&task, index, v, Some(shown)),
                task,
                again: None,
            })
        }))
    }
}

/// One task for the JSON report.
pub struct JsonTask<'a> {
    /// Its index on the connection.
    pub index: usize,
    /// The task: whole, or (with `again`) without its data frames and reply
    /// data items ([`crate::capture::ConnReader::next_task_with`]).
    pub task: Cow<'a, Task>,
    /// Its report built to show the first `shown` records asked for
    /// ([`TaskSource::json_tasks`]).
    pub report: TaskReport,
    /// Where to read its data again; `None`: `task` holds it.
    pub again: Option<Rc<dyn Reread + 'a>>,
}

/// Which of a task's frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum List {
    /// The data section's frames.
    Input,
    /// The reply's data frames (null frames included).
    Output,
}

/// A task's data read again from where it was recorded.
pub trait Reread {
    /// Hands task `index`'s `list` frames to `visit` in order, one at a time.
    fn frames(
        &self,
        index: usize,
        list: List,
        visit: &mut dyn FnMut(&Frame),
    ) -> Result<(), InspectError>;

    /// Task `index` read whole.
    fn whole(&self, index: usize) -> Result<Task, InspectError>;
}

impl JsonTask<'_> {
    fn frames(&self, list: List, visit: &mut dyn FnMut(&Frame)) -> Result<(), InspectError> {
        if let Some(r) = &self.again {
            return r.frames(self.index, list, visit);
        }
        match list {
            List::Input => self.task.input.iter().for_each(visit),
            List::Output => {
                for item in &self.task.reply {
                    match item {
                        ReplyItem::Data(b) => visit(&Frame::Data(b.clone())),
                        ReplyItem::Null => visit(&Frame::Null),
                        _ => {}
                    }
                }
            }
        }
        Ok(())
    }

    fn whole(&self) -> Result<Cow<'_, Task>, InspectError> {
        match &self.again {
            Some(r) => r.whole(self.index).map(Cow::Owned),
            None => Ok(Cow::Borrowed(&*self.task)),
        }
    }
}

/// Tasks handed out one at a time, with their index.
pub type TaskIter<'a> = Box<dyn Iterator<Item = Result<(usize, Cow<'a, Task>), InspectError>> + 'a>;

/// A connection decoded whole.
impl TaskSource for Connection {
    fn version(&self) -> SparkVersion {
        self.version
    }

    fn tasks<'a>(&'a self, keep: Keep<'a>) -> TaskIter<'a> {
        Box::new(
            self.tasks
                .iter()
                .enumerate()
                .filter(move |(i, t)| keep(*i, t))
                .map(|(i, t)| Ok((i, Cow::Borrowed(t)))),
        )
    }
}

/// A [`Report`] whose connections carry no tasks, with the decoded
/// connections to build them from (`None` for a connection that was not
/// decoded past its prelude), in the same order.
pub struct Streamed<'a> {
    /// The report; its connections' `tasks` are ignored.
    pub report: &'a Report,
    /// Each connection of `report.connections`, decoded.
    pub decoded: &'a [Option<&'a dyn TaskSource>],
    /// Which tasks to write.
    pub keep: Keep<'a>,
    /// Records kept per input and output section, the rest counted
    /// ([`crate::report::TaskReport::limit_records`]); `None`: all.
    pub max_records: Option<usize>,
}

/// Serializes `value` as a JSON object with sorted keys, writing the entry
/// `lazy_key` with `lazy` instead of the value's own.
fn sorted_with<S: Serializer, V: Serialize, L: Serialize>(
    serializer: S,
    value: &V,
    lazy_key: &str,
    lazy: &L,
) -> Result<S::Ok, S::Error> {
    let v = serde_json::to_value(value).map_err(S::Error::custom)?;
    let Some(map) = v.as_object() else {
        return Err(S::Error::custom("a report serializes to an object"));
    };
    let mut m = serializer.serialize_map(Some(map.len()))?;
    for (k, v) in map {
        if k == lazy_key {
            m.serialize_entry(k, lazy)?;
        } else {
            m.serialize_entry(k, v)?;
        }
    }
    m.end()
}

impl Serialize for Streamed<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        sorted_with(serializer, self.report, "connections", &Connections(self))
    }
}

struct Connections<'a>(&'a Streamed<'a>);

impl Serialize for Connections<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let s = self.0;
        let mut seq = serializer.serialize_seq(Some(s.report.connections.len()))?;
        for (summary, decoded) in s.report.connections.iter().zip(s.decoded) {
            seq.serialize_element(&OneConnection {
                summary,
                decoded: *decoded,
                keep: s.keep,
                max_records: s.max_records,
            })?;
        }
        seq.end()
    }
}

struct OneConnection<'a> {
    summary: &'a ConnectionReport,
    decoded: Option<&'a dyn TaskSource>,
    keep: Keep<'a>,
    max_records: Option<usize>,
}

impl Serialize for OneConnection<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        sorted_with(serializer, self.summary, "tasks", &Tasks(self))
    }
}

struct Tasks<'a>(&'a OneConnection<'a>);

impl Serialize for Tasks<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(None)?;
        if let Some(c) = self.0.decoded {
            let version = c.version();
            let shown = self.0.max_records.unwrap_or(0);
            for t in c.json_tasks(self.0.keep, shown) {
                let mut t = t.map_err(S::Error::custom)?;
                match self.0.max_records {
                    // Asked for: the first records of each section and a count
                    // of the rest, from the task's report (one task at a time).
                    Some(n) => {
                        t.report.count_more(n);
                        // Through a `Value`, for its keys sorted as the document's are.
                        let v = serde_json::to_value(&t.report).map_err(S::Error::custom)?;
                        seq.serialize_element(&v)?;
                    }
                    None => seq.serialize_element(&OneTask { t: &t, version })?,
                }
            }
        }
        seq.end()
    }
}

/// One task's report, its records written as they are read, a batch at a
/// time: the report is built without them ([`TaskReport::upto`] with none
/// shown, which also tells whether they read at all), and each list of
/// records is read again from the task's frames while it is written. Arrow
/// sections are written from the whole report.
struct OneTask<'a> {
    t: &'a JsonTask<'a>,
    version: SparkVersion,
}

impl Serialize for OneTask<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (jt, v) = (self.t, self.version);
        let t = &*jt.task;
        let arrow = t.header.eval_type.is_arrow()
            || t.reply
                .iter()
                .any(|r| matches!(r, ReplyItem::Arrow(_) | ReplyItem::ArrowStart));
        if arrow {
            // Through a `Value`, for its keys sorted as the document's are.
            let whole = jt.whole().map_err(S::Error::custom)?;
            let value = serde_json::to_value(TaskReport::new(&whole, jt.index, v))
                .map_err(S::Error::custom)?;
            return value.serialize(serializer);
        }
        let report = &jt.report;
        let value = serde_json::to_value(report).map_err(S::Error::custom)?;
        let Some(map) = value.as_object() else {
            return Err(S::Error::custom("a task report serializes to an object"));
        };
        let sers = task_serializers(&t.header);
        let shuffle = report.output_partitions.is_some();
        let mut m = serializer.serialize_map(Some(map.len()))?;
        for (k, val) in map {
            // An empty list here is the records not kept; a list of one is a
            // stream that does not read, written as it is.
            match k.as_str() {
                "input_records" if report.input_records.is_empty() => {
                    let ser = sers.as_ref().map(|s| &s.0);
                    let records = Records(jt, List::Input, Read::Frames(ser), v);
                    m.serialize_entry(k, &records)?
                }
                "output_records" if report.output_records.is_empty() && shuffle => {
                    m.serialize_entry(k, &Records(jt, List::Output, Read::Shuffle, v))?
                }
                "output_records" if report.output_records.is_empty() => {
                    let ser = sers.as_ref().map(|s| &s.1);
                    let records = Records(jt, List::Output, Read::Frames(ser), v);
                    m.serialize_entry(k, &records)?
                }
                "output_partitions" if shuffle => {
                    m.serialize_entry(k, &Records(jt, List::Output, Read::Partitions, v))?
                }
                _ => m.serialize_entry(k, val)?,
            }
        }
        m.end()
    }
}

/// A list of records written as it is read from a task's frames, a frame at
/// a time.
struct Records<'a>(&'a JsonTask<'a>, List, Read<'a>, SparkVersion);

/// How [`Records`] reads its frames.
enum Read<'a> {
    /// With a serializer (bytes without one).
    Frames(Option<&'a Ser>),
    /// Shuffle-map output's pairs.
    Shuffle,
    /// The partition of each of those pairs.
    Partitions,
}

impl Serialize for Records<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Records(t, list, read, v) = self;
        let mut seq = serializer.serialize_seq(None)?;
        let mut failed = None;
        let mut write = |item: Item| match seq.serialize_element(&item) {
            Ok(()) => true,
            Err(e) => {
                failed = Some(e);
                false
            }
        };
        match read {
            Read::Frames(ser) => {
                let ser = ser.cloned().unwrap_or(Ser::NoOp);
                let mut visit = |e| write(Item::Record(record_repr(&e)));
                let mut r = RecordReader::new(&ser, *v, &mut visit);
                t.frames(*list, &mut |f| r.push(f, &mut visit))
                    .map_err(S::Error::custom)?;
                // Read once already (the report found them readable).
                if let (Err(e), None) = (r.finish(), &failed) {
                    return Err(S::Error::custom(e));
                }
            }
            Read::Shuffle | Read::Partitions => {
                let partitions = matches!(read, Read::Partitions);
                let mut visit = |p, e| match partitions {
                    true => write(Item::Partition(p)),
                    false => write(Item::Record(record_repr(&e))),
                };
                let mut r = ShuffleReader::new(*v, &mut visit);
                t.frames(*list, &mut |f| r.push(f, &mut visit))
                    .map_err(S::Error::custom)?;
            }
        }
        if let Some(e) = failed {
            return Err(e);
        }
        seq.end()
    }
}

/// One element of [`Records`].
enum Item {
    Record(String),
    Partition(i64),
}

impl Serialize for Item {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Item::Record(r) => r.serialize(serializer),
            Item::Partition(p) => p.serialize(serializer),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{capture, capture_dir};

    #[test]
    fn streamed_json_is_the_eager_reports_document() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/golden/worker/spark-4.3.0/reduce_by_key");
        let decoded: Vec<(String, Connection)> = capture_dir::read_dir(&dir)
            .unwrap()
            .into_iter()
            .map(|r| {
                let c = capture::decode(&r.to_worker, &r.from_worker, None).unwrap();
                (r.name, c)
            })
            .collect();
        let report = |conns: Vec<ConnectionReport>| Report {
            connections: conns,
            capture: None,
            daemon: Some(None),
            broadcast_files: None,
            tap_log: None,
        };
        let eager = report(
            decoded
                .iter()
                .map(|(n, c)| ConnectionReport::new(n, c))
                .collect(),
        );
        let summaries = report(
            decoded
                .iter()
                .map(|(n, c)| ConnectionReport::summary(n, c))
                .collect(),
        );
        let refs: Vec<Option<&dyn TaskSource>> = decoded
            .iter()
            .map(|(_, c)| Some(c as &dyn TaskSource))
            .collect();
        let all = |_: usize, _: &Task| true;
        let streamed = Streamed {
            report: &summaries,
            decoded: &refs,
            keep: &all,
            max_records: None,
        };
        assert_eq!(
            serde_json::to_string_pretty(&streamed).unwrap(),
            serde_json::to_string_pretty(&eager.to_json().unwrap()).unwrap()
        );
        // A filter leaves the other tasks out, one by one.
        let none = |_: usize, _: &Task| false;
        let filtered = Streamed {
            report: &summaries,
            decoded: &refs,
            keep: &none,
            max_records: None,
        };
        let v: serde_json::Value =
            serde_json::from_str(&serde_json::to_string(&filtered).unwrap()).unwrap();
        assert!(v["connections"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["tasks"] == serde_json::json!([])));
    }
}
