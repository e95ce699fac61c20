//! What a task is to the host: a header, its input, the broadcasts it needs
//! and any extra worker environment (which selects the worker pool, as in
//! Spark, where workers are keyed by python and environment).

use std::path::PathBuf;

use bytes::Bytes;

use crate::protocol::{
    Arg, BroadcastEntry, Broadcasts, Command, EvalType, HeaderStyle, SparkVersion, TaskHeader, Udf,
    UdfCommand, WorkerLayout,
};

use super::blocking::TaskInput;

/// A task to run.
pub struct Task {
    /// The header. An empty `python_version` is filled with the worker's
    /// (a command pickled by this interpreter's own cloudpickle).
    pub header: TaskHeader,
    /// Its input, pulled as the worker takes it.
    pub input: TaskInput<'static>,
    /// The broadcast variables the task needs, as `(id, file of the pickled
    /// value)`. The host sends each worker only what it lacks and removes what
    /// it no longer needs, as `PythonRunner` does. `None`: the header's
    /// broadcast section is sent exactly as it is (replaying a capture).
    pub broadcasts: Option<Vec<(i64, PathBuf)>>,
    /// Extra environment for the worker; tasks with different environments
    /// never share a worker.
    pub env: Vec<(String, String)>,
}

impl Task {
    /// A task with this header and input, sending the header's broadcasts as
    /// they are.
    pub fn new(header: TaskHeader, input: TaskInput<'static>) -> Task {
        Task {
            header,
            input,
            broadcasts: None,
            env: Vec::new(),
        }
    }

    /// An RDD (`NON_UDF`) task on partition `partition` running a cloudpickled
    /// `(func, profiler, deserializer, serializer)` command.
    pub fn rdd(command: Bytes, partition: i32, input: TaskInput<'static>) -> Task {
        let mut header = TaskHeader::example(command);
        header.python_version = String::new();
        header.partition_index = partition;
        header.context.partition_id = partition;
        Task::new(header, input)
    }

    /// A SQL UDF task of `eval_type` (batched Python UDFs, Arrow and pandas
    /// UDFs without state) for workers of `spark`, its parts where that
    /// release's layout carries them: the runner conf in the command before
    /// 4.2 and in the header from 4.2, the profiler flag of 4.0/4.1, the
    /// result ids of 4.2+. `udfs`: each UDF's argument offsets and its chain of
    /// pickled `(function, returnType)` pairs. Eval types whose command needs
    /// more (state schemas, state servers, input types, UDTFs) are built as a
    /// [`TaskHeader`] and passed to [`Task::new`].
    pub fn sql_udfs(
        spark: SparkVersion,
        eval_type: EvalType,
        udfs: Vec<(Vec<i32>, Vec<Bytes>)>,
        runner_conf: Vec<(String, String)>,
        input: TaskInput<'static>,
    ) -> Task {
        let mut header = TaskHeader::example(Bytes::new());
        header.python_version = String::new();
        header.eval_type = eval_type;
        if matches!(spark.header_style(), HeaderStyle::Json { .. }) {
            header.runner_conf = runner_conf.clone();
        }
        header.command = Command::Udfs(UdfCommand {
            runner_conf: spark.command_conf(eval_type).then_some(runner_conf),
            profiler: spark.profiler_flag().then_some(None),
            udfs: udfs
                .into_iter()
                .enumerate()
                .map(|(i, (offsets, chain))| Udf {
                    args: offsets.into_iter().map(Arg::at).collect(),
                    chain,
                    result_id: spark.result_ids_always().then_some(i as i64),
                })
                .collect(),
            ..UdfCommand::default()
        });
        Task::new(header, input)
    }

    /// Needs broadcast `id`, whose pickled value is in `path`.
    pub fn with_broadcast(mut self, id: i64, path: impl Into<PathBuf>) -> Task {
        self.broadcasts
            .get_or_insert_with(Vec::new)
            .push((id, path.into()));
        self
    }

    /// Runs with `key=value` in the worker's environment.
    pub fn with_env(mut self, key: impl Into<String>, value: impl Into<String>) -> Task {
        self.env.push((key.into(), value.into()));
        self
    }
}

/// The broadcast section for a worker that holds `held` and a task that
/// needs `wanted`: removals (`-id - 1`) of what is no longer wanted, then
/// additions of what is new, in the task's order; `held` becomes `wanted`.
pub fn broadcast_changes(
    held: &mut std::collections::BTreeSet<i64>,
    wanted: &[(i64, PathBuf)],
) -> Broadcasts {
    let mut entries = Vec::new();
    let keep: std::collections::BTreeSet<i64> = wanted.iter().map(|(id, _)| *id).collect();
    for gone in held.difference(&keep).copied().collect::<Vec<_>>() {
        held.remove(&gone);
        entries.push(BroadcastEntry {
            id: !gone,
            path: None,
        });
    }
    for (id, path) in wanted {
        if held.insert(*id) {
            entries.push(BroadcastEntry {
                id: *id,
                path: Some(path.to_string_lossy().into_owned()),
            });
        }
    }
    Broadcasts {
        server: None,
        entries,
    }
}

/// What a worker holds after a header's broadcast section was sent as it is
/// (additions of ids ≥ 0, removals of `-id - 1` for negative ones).
pub fn apply_broadcasts(held: &mut std::collections::BTreeSet<i64>, sent: &Broadcasts) {
    for e in &sent.entries {
        if e.id >= 0 {
            held.insert(e.id);
        } else {
            held.remove(&!e.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn sends_only_additions_and_removals() {
        let mut held = BTreeSet::new();
        let first = broadcast_changes(&mut held, &[(3, "/b/3".into()), (1, "/b/1".into())]);
        let ids: Vec<i64> = first.entries.iter().map(|e| e.id).collect();
        assert_eq!(ids, [3, 1]);
        // Same set again: nothing to send.
        assert!(
            broadcast_changes(&mut held, &[(1, "/b/1".into()), (3, "/b/3".into())])
                .entries
                .is_empty()
        );
        // 3 dropped, 7 added.
        let next = broadcast_changes(&mut held, &[(1, "/b/1".into()), (7, "/b/7".into())]);
        let ids: Vec<(i64, Option<String>)> =
            next.entries.into_iter().map(|e| (e.id, e.path)).collect();
        assert_eq!(ids, [(-4, None), (7, Some("/b/7".into()))]);
        assert_eq!(held.iter().copied().collect::<Vec<_>>(), [1, 7]);
        // A header sent as it is (a replay) updates what the worker holds.
        apply_broadcasts(&mut held, &next_sent());
        assert_eq!(held.into_iter().collect::<Vec<_>>(), [7, 9]);
    }

    fn next_sent() -> Broadcasts {
        Broadcasts {
            server: None,
            entries: vec![
                BroadcastEntry { id: !1, path: None },
                BroadcastEntry {
                    id: 9,
                    path: Some("/b/9".into()),
                },
            ],
        }
    }
}
