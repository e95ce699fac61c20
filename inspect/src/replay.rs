//! Re-running captured tasks, the parts that need no process: which tasks to
//! run, what each must be sent (its recorded header and input, and the
//! broadcast variables its worker held at that point, from the capture's own
//! copies), and a record-level comparison of a new reply with the recorded
//! one. `sparkwire replay` runs the plan on a real worker through the host.
//!
//! Records are compared as `sparkwire decode` shows them (Python reprs of
//! pickled records, Arrow rows), so a different batching of the same records
//! is no difference; timing never is; an exception compares by its last line
//! (the exception and its message), since paths and line numbers in a
//! traceback belong to the machine.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sparkwire_worker::protocol::{ReplyItem, SparkVersion};
use thiserror::Error;

use crate::capture::{Connection, Task};
use crate::capture_dir::BroadcastFile;
use crate::report::TaskReport;

/// Where the value of a broadcast the task needs comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum BroadcastSource {
    /// The capture's own copy.
    Captured(PathBuf),
    /// The file the JVM named, still present on this machine.
    Original(PathBuf),
}

/// One task to re-run.
#[derive(Debug, Clone)]
pub struct Planned {
    /// The connection's name in the capture.
    pub connection: String,
    /// The task's index on its connection.
    pub index: usize,
    /// The layout the capture was decoded with.
    pub version: SparkVersion,
    /// Every release whose layout fits the capture (3.5 and 4.0 share one).
    pub fits: Vec<SparkVersion>,
    /// The task as recorded: header, input and reply.
    pub task: Task,
    /// Broadcasts the task's worker held when it ran, by id.
    pub broadcasts: BTreeMap<i64, BroadcastSource>,
}

/// Why a replay cannot be planned.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum PlanError {
    /// No connection has that name.
    #[error("no connection {wanted} in the capture (it has: {})", have.join(", "))]
    NoConnection {
        /// The name asked for.
        wanted: String,
        /// The names there are.
        have: Vec<String>,
    },
    /// The connection has fewer tasks.
    #[error("connection {connection} has {count} tasks; there is no task {wanted}")]
    NoTask {
        /// The connection.
        connection: String,
        /// Its task count.
        count: usize,
        /// The index asked for.
        wanted: usize,
    },
    /// A broadcast's value is neither in the capture nor where the JVM put it.
    #[error("connection {connection}, task {task}: broadcast {id}'s value is not in the capture ({why}) and {} is gone", recorded.as_deref().unwrap_or("its recorded path"))]
    MissingBroadcast {
        /// Why the capture has no copy (what tap recorded, or that it has
        /// no `broadcasts/<id>`).
        why: String,
        /// The connection.
        connection: String,
        /// The task index.
        task: usize,
        /// The broadcast id.
        id: i64,
        /// The path the JVM sent, if any.
        recorded: Option<String>,
    },
    /// Broadcasts went through the decryption server (I/O encryption on):
    /// their values never crossed the connection.
    #[error("connection {connection}, task {task}: broadcasts were sent through the decryption server (I/O encryption on); their values are not in the capture")]
    EncryptedBroadcasts {
        /// The connection.
        connection: String,
        /// The task index.
        task: usize,
    },
}

/// The tasks to re-run, in capture order, optionally narrowed to one
/// connection and one task index. `captured` is what the capture directory
/// holds of the broadcasts (`capture_dir::broadcasts`; empty for a pcap).
pub fn plan(
    connections: &[(String, Connection)],
    captured: &BTreeMap<i64, BroadcastFile>,
    connection: Option<&str>,
    task: Option<usize>,
) -> Result<Vec<Planned>, PlanError> {
    if let Some(wanted) = connection {
        if !connections.iter().any(|(n, _)| n == wanted) {
            return Err(PlanError::NoConnection {
                wanted: wanted.to_string(),
                have: connections.iter().map(|(n, _)| n.clone()).collect(),
            });
        }
    }
    let mut out = Vec::new();
    for (name, c) in connections {
        if connection.is_some_and(|w| w != name) {
            continue;
        }
        if let Some(wanted) = task {
            if wanted >= c.tasks.len() && connection.is_some() {
                return Err(PlanError::NoTask {
                    connection: name.clone(),
                    count: c.tasks.len(),
                    wanted,
                });
            }
        }
        // What the worker holds, as the headers so far added and removed.
        let mut held: BTreeMap<i64, Option<String>> = BTreeMap::new();
        for (i, t) in c.tasks.iter().enumerate() {
            for e in &t.header.broadcasts.entries {
                if e.id >= 0 {
                    held.insert(e.id, e.path.clone());
                } else {
                    // `-id - 1` without overflow for any i64.
                    held.remove(&!e.id);
                }
            }
            if task.is_some_and(|w| w != i) {
                continue;
            }
            if t.header.broadcasts.server.is_some() {
                return Err(PlanError::EncryptedBroadcasts {
                    connection: name.clone(),
                    task: i,
                });
            }
            let mut broadcasts = BTreeMap::new();
            for (&id, recorded) in &held {
                let source = match (captured.get(&id), recorded) {
                    (Some(BroadcastFile::Recorded { path, .. }), _) => {
                        BroadcastSource::Captured(path.clone())
                    }
                    (_, Some(r)) if Path::new(r).is_file() => {
                        BroadcastSource::Original(PathBuf::from(r))
                    }
                    (missing, _) => {
                        return Err(PlanError::MissingBroadcast {
                            why: match missing {
                                Some(BroadcastFile::Missing(m)) => m.to_string(),
                                _ => format!("no broadcasts/{id}"),
                            },
                            connection: name.clone(),
                            task: i,
                            id,
                            recorded: recorded.clone(),
                        })
                    }
                };
                broadcasts.insert(id, source);
            }
            out.push(Planned {
                connection: name.clone(),
                index: i,
                version: c.version,
                fits: c.fits.clone(),
                task: t.clone(),
                broadcasts,
            });
        }
    }
    Ok(out)
}

impl Planned {
    /// The broadcasts as `(id, file)` for the host.
    pub fn broadcast_files(&self) -> Vec<(i64, PathBuf)> {
        self.broadcasts
            .iter()
            .map(|(id, s)| {
                let p = match s {
                    BroadcastSource::Captured(p) | BroadcastSource::Original(p) => p.clone(),
                };
                (*id, p)
            })
            .collect()
    }
}

/// One difference between the recorded and the replayed reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Difference {
    /// Output record `index` differs, or exists on one side only.
    Record {
        /// Its position in the output.
        index: usize,
        /// The recorded record.
        recorded: Option<String>,
        /// The replayed record.
        replayed: Option<String>,
    },
    /// The accumulator updates differ.
    Accumulators {
        /// Recorded updates.
        recorded: Vec<String>,
        /// Replayed updates.
        replayed: Vec<String>,
    },
    /// One side raised and the other did not, or they raised differently.
    Exception {
        /// The recorded exception's last line.
        recorded: Option<String>,
        /// The replayed exception's last line.
        replayed: Option<String>,
    },
    /// The end markers differ.
    End {
        /// Recorded.
        recorded: Option<&'static str>,
        /// Replayed.
        replayed: Option<&'static str>,
    },
}

/// How a replay compared with its recording.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// The replayed output records.
    pub replayed_records: Vec<String>,
    /// How many records the recording had.
    pub recorded_count: usize,
    /// What differs, at most `limit` record differences plus the others.
    pub differences: Vec<Difference>,
    /// Record differences beyond the limit, counted only.
    pub more_record_differences: usize,
}

impl Comparison {
    /// Whether the replay matched its recording.
    pub fn matches(&self) -> bool {
        self.differences.is_empty() && self.more_record_differences == 0
    }
}

/// The last non-empty line of a traceback: the exception and its message.
fn exception_line(tb: &Option<String>) -> Option<String> {
    tb.as_ref().map(|t| {
        t.lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim()
            .to_string()
    })
}

/// Compares `replayed` (the new reply's items) with the recorded reply of
/// `recorded`, reporting at most `limit` record differences.
pub fn compare(
    recorded: &Task,
    replayed: Vec<ReplyItem>,
    v: SparkVersion,
    limit: usize,
) -> Comparison {
    let before = TaskReport::new(recorded, 0, v);
    let mut again = recorded.clone();
    again.reply = replayed;
    again.reply_complete = true;
    let after = TaskReport::new(&again, 0, v);
    let mut differences = Vec::new();
    let mut more = 0;
    let n = before.output_records.len().max(after.output_records.len());
    for i in 0..n {
        let (a, b) = (before.output_records.get(i), after.output_records.get(i));
        if a != b {
            if differences.len() < limit {
                differences.push(Difference::Record {
                    index: i,
                    recorded: a.cloned(),
                    replayed: b.cloned(),
                });
            } else {
                more += 1;
            }
        }
    }
    if before.accumulators != after.accumulators {
        differences.push(Difference::Accumulators {
            recorded: before.accumulators.clone(),
            replayed: after.accumulators.clone(),
        });
    }
    let (ea, eb) = (
        exception_line(&before.exception),
        exception_line(&after.exception),
    );
    if ea != eb {
        differences.push(Difference::Exception {
            recorded: ea,
            replayed: eb,
        });
    }
    // A recording cut inside the reply has no end to compare.
    if recorded.reply_complete && before.end != after.end {
        differences.push(Difference::End {
            recorded: before.end,
            replayed: after.end,
        });
    }
    Comparison {
        replayed_records: after.output_records,
        recorded_count: before.output_records.len(),
        differences,
        more_record_differences: more,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture;

    fn golden(name: &str) -> (PathBuf, Vec<(String, Connection)>) {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/golden/worker/spark-4.3.0")
            .join(name);
        let conns = crate::capture_dir::read_dir(&dir)
            .unwrap()
            .into_iter()
            .map(|r| {
                let c = capture::decode(&r.to_worker, &r.from_worker, None).unwrap();
                (r.name, c)
            })
            .collect();
        (dir, conns)
    }

    #[test]
    fn a_reply_compared_with_itself_matches_and_a_changed_record_does_not() {
        let (dir, conns) = golden("map_collect");
        let plans = plan(
            &conns,
            &crate::capture_dir::broadcasts(&dir).unwrap(),
            None,
            None,
        )
        .unwrap();
        assert!(!plans.is_empty());
        let p = &plans[0];
        let same = compare(&p.task, p.task.reply.clone(), p.version, 10);
        assert!(same.matches(), "{:?}", same.differences);
        // Drop the first data frame: the records shift.
        let mut reply = p.task.reply.clone();
        let first = reply
            .iter()
            .position(|i| matches!(i, ReplyItem::Data(_)))
            .unwrap();
        reply.remove(first);
        let changed = compare(&p.task, reply, p.version, 10);
        assert!(!changed.matches());
        assert!(matches!(
            changed.differences[0],
            Difference::Record { index: 0, .. }
        ));
    }

    #[test]
    fn selection_names_what_exists() {
        let (_, conns) = golden("map_collect");
        let none = BTreeMap::new();
        let e = plan(&conns, &none, Some("9"), None).unwrap_err();
        assert!(matches!(e, PlanError::NoConnection { .. }), "{e}");
        let e = plan(&conns, &none, Some(&conns[0].0), Some(99)).unwrap_err();
        assert!(matches!(e, PlanError::NoTask { wanted: 99, .. }), "{e}");
        let one = plan(&conns, &none, Some(&conns[0].0), Some(0)).unwrap();
        assert_eq!(one.len(), 1);
    }

    #[test]
    fn an_exception_compares_by_its_last_line() {
        let tb = |s: &str| Some(s.to_string());
        assert_eq!(
            exception_line(&tb(
                "Traceback:\n  File \"/a.py\", line 3\nValueError: x\n\n"
            )),
            tb("ValueError: x")
        );
    }
}
