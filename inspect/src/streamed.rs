//! The decode report's JSON written task by task: each connection's summary
//! ([`ConnectionReport::summary`]) is serialized as it is, and its `tasks`
//! are built from a [`TaskSource`] one at a time while they are written, so
//! that only one task's records are held at once however many tasks a
//! capture has (with a [`crate::recording::Recording`] as the source, only
//! one task's frames too). The document is the one [`Report::to_json`] gives
//! for a report holding every task: the same keys, sorted the same way.

use serde::ser::{Error as _, SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use crate::capture::{Connection, Task};
use crate::error::InspectError;
use crate::report::{ConnectionReport, Report, TaskReport};

/// Which tasks to include, by index on their connection.
pub type Keep<'a> = &'a dyn Fn(usize, &Task) -> bool;

/// Where a connection's task reports come from, one at a time.
pub trait TaskSource {
    /// The reports of the tasks `keep` selects, in order, each built as the
    /// iterator reaches it, with the first `shown` of its input and output
    /// records (all with `None`; see [`TaskReport::upto`]).
    fn task_reports<'a>(
        &'a self,
        keep: Keep<'a>,
        shown: Option<usize>,
    ) -> Box<dyn Iterator<Item = Result<TaskReport, InspectError>> + 'a>;
}

/// A connection decoded whole.
impl TaskSource for Connection {
    fn task_reports<'a>(
        &'a self,
        keep: Keep<'a>,
        shown: Option<usize>,
    ) -> Box<dyn Iterator<Item = Result<TaskReport, InspectError>> + 'a> {
        let v = self.version;
        Box::new(
            self.tasks
                .iter()
                .enumerate()
                .filter(move |(i, t)| keep(*i, t))
                .map(move |(i, t)| Ok(TaskReport::upto(t, i, v, shown))),
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
            })?;
        }
        seq.end()
    }
}

struct OneConnection<'a> {
    summary: &'a ConnectionReport,
    decoded: Option<&'a dyn TaskSource>,
    keep: Keep<'a>,
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
            let keep = self.0.keep;
            for t in c.task_reports(keep, None) {
                let t = t.map_err(S::Error::custom)?;
                // Through a `Value`, for its keys sorted as the document's are.
                let v = serde_json::to_value(&t).map_err(S::Error::custom)?;
                seq.serialize_element(&v)?;
            }
        }
        seq.end()
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
