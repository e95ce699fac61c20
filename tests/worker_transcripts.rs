//! Golden transcripts of real Spark jobs (recorded by `scripts/record-transcripts.sh`
//! through `sparkwire tap`, one directory per pinned release): every byte of both
//! directions of every worker connection is accounted for, the layout found from
//! the bytes alone is the release's own (3.5 and 4.0 share theirs), everything
//! re-encodes to the recorded bytes, and the records decoded with the serializers
//! named inside each cloudpickled command are the job's real results
//! (`expected.json`, written by Spark).

use std::fs;
use std::path::PathBuf;

use sparkwire_framing::Frame;
use sparkwire_inspect::capture::{self, Mode};
use sparkwire_serializers::pickle;
use sparkwire_serializers::pyspark::arrow::{ArrowItem, MessageKind, SectionItem};
use sparkwire_serializers::pyspark::arrow_rows;
use sparkwire_serializers::pyspark::cloudpickle::command_serializers;
use sparkwire_serializers::pyspark::{Serializer, StreamDecoder};
use sparkwire_testkit::golden_dir;
use sparkwire_worker::protocol::{
    sql_serializers, Command, End, EvalType, ReplyItem, SparkVersion,
};

/// One task, decoded and interpreted.
struct Task {
    eval_type: EvalType,
    /// Arrow data sections: group headers as `G<n>` and message kinds, in order.
    arrow_in: Vec<String>,
    arrow_out: Vec<String>,
    /// The rows of their record batches (Python tuple reprs).
    arrow_rows_in: Vec<String>,
    arrow_rows_out: Vec<String>,
    inputs: Vec<String>,
    outputs: Vec<String>,
    output_batches: Vec<usize>,
    serializer: Serializer,
    accumulators: Vec<String>,
    exception: Option<String>,
}

fn stream(frames: &[Frame]) -> Vec<u8> {
    let mut out = Vec::new();
    for f in frames {
        f.encode(&mut out).unwrap();
    }
    out
}

fn reprs(ser: &Serializer, v: SparkVersion, frames: &[Frame]) -> Vec<String> {
    StreamDecoder::new(ser.clone(), v)
        .load_all(&stream(frames))
        .unwrap_or_else(|e| panic!("{ser}: {e}"))
        .iter()
        .map(|e| e.repr().unwrap())
        .collect()
}

/// The rows of every record batch among `items`, read with the schema before it.
fn arrow_values<'a>(items: impl Iterator<Item = &'a ArrowItem>) -> Vec<String> {
    let (mut columns, mut rows) = (None, Vec::new());
    for item in items {
        match item {
            ArrowItem::Message {
                kind: MessageKind::Schema,
                bytes,
            } => columns = Some(arrow_rows::schema(bytes).unwrap()),
            ArrowItem::Message {
                kind: MessageKind::RecordBatch,
                bytes,
            } => rows.extend(arrow_rows::rows(columns.as_ref().unwrap(), bytes).unwrap()),
            _ => {}
        }
    }
    rows
}

fn connections(dir: &std::path::Path, release: &str) -> Vec<(capture::Connection, Vec<Task>)> {
    let mut out = Vec::new();
    for n in 0.. {
        let to = dir.join(format!("to_worker.{n}.bin"));
        if !to.exists() {
            break;
        }
        let what = format!("{}/{n}", dir.display());
        let to = fs::read(&to).unwrap();
        let from = fs::read(dir.join(format!("from_worker.{n}.bin"))).unwrap();
        let c = capture::decode(&to, &from, None).unwrap_or_else(|e| panic!("{what}: {e}"));
        let actual = SparkVersion::of_release(release).unwrap();
        // 3.5 and 4.0 share the NON_UDF layout; their UDF commands differ (4.0
        // adds the profiler flag and keyword flags).
        let rdd_only = c
            .tasks
            .iter()
            .all(|t| t.header.eval_type == EvalType::NON_UDF);
        let want: Vec<SparkVersion> = match actual {
            SparkVersion::V3_5 | SparkVersion::V4_0 if rdd_only => {
                vec![SparkVersion::V3_5, SparkVersion::V4_0]
            }
            other => vec![other],
        };
        assert_eq!(c.fits, want, "{what}: layouts that fit");
        assert_eq!(
            capture::reencode(&c).unwrap(),
            (to.clone(), from.clone()),
            "{what}: re-encoding"
        );
        let v = c.version;
        let tasks = c
            .tasks
            .iter()
            .map(|t| {
                assert_eq!(t.finish, Some(-4), "{what}");
                let (de, ser) = match &t.header.command {
                    Command::Rdd(b) => command_serializers(&pickle::decode(b).unwrap().graph)
                        .unwrap_or_else(|| panic!("{what}: serializers")),
                    // Arrow sections are checked message by message.
                    _ => sql_serializers(t.header.eval_type)
                        .unwrap_or((Serializer::NoOp, Serializer::NoOp)),
                };
                let kind = |a: &ArrowItem| match a {
                    ArrowItem::Message { kind, .. } => format!("{kind:?}"),
                    ArrowItem::End(_) => "End".to_string(),
                };
                let arrow_in = t
                    .arrow_input
                    .iter()
                    .filter_map(|i| match i {
                        SectionItem::Group(n) => Some(format!("G{n}")),
                        SectionItem::Arrow(a) => Some(kind(a)),
                        SectionItem::End => None,
                    })
                    .collect();
                let arrow_out = t
                    .reply
                    .iter()
                    .filter_map(|i| match i {
                        ReplyItem::ArrowStart => Some("Start".to_string()),
                        ReplyItem::Arrow(a) => Some(kind(a)),
                        _ => None,
                    })
                    .collect();
                let data: Vec<Frame> = t
                    .reply
                    .iter()
                    .filter_map(|i| match i {
                        ReplyItem::Data(b) => Some(Frame::Data(b.clone())),
                        _ => None,
                    })
                    .collect();
                let output_batches = data
                    .iter()
                    .map(|f| reprs(&ser, v, std::slice::from_ref(f)).len())
                    .collect();
                let end = t.reply.iter().find_map(|i| match i {
                    ReplyItem::End(e) => Some(*e),
                    _ => None,
                });
                let exception = t.reply.iter().find_map(|i| match i {
                    ReplyItem::Exception(x) => Some(x.clone()),
                    _ => None,
                });
                assert!(
                    exception.is_some() || end == Some(End::Reuse) || !t.reply_complete,
                    "{what}: {end:?}"
                );
                Task {
                    eval_type: t.header.eval_type,
                    arrow_in,
                    arrow_out,
                    arrow_rows_in: arrow_values(t.arrow_input.iter().filter_map(|i| match i {
                        SectionItem::Arrow(a) => Some(a),
                        _ => None,
                    })),
                    arrow_rows_out: arrow_values(t.reply.iter().filter_map(|i| match i {
                        ReplyItem::Arrow(a) => Some(a),
                        _ => None,
                    })),
                    inputs: reprs(&de, v, &t.input),
                    outputs: reprs(&ser, v, &data),
                    output_batches,
                    serializer: ser,
                    accumulators: t
                        .reply
                        .iter()
                        .filter_map(|i| match i {
                            ReplyItem::Accumulator(b) => {
                                Some(pickle::repr(&pickle::decode_slice(b).unwrap().graph).unwrap())
                            }
                            _ => None,
                        })
                        .collect(),
                    exception,
                }
            })
            .collect();
        out.push((c, tasks));
    }
    out
}

fn expected_ok(dir: &std::path::Path) -> (serde_json::Value, Vec<String>) {
    let e: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.join("expected.json")).unwrap()).unwrap();
    let ok = e["ok"]
        .as_array()
        .map(|a| a.iter().map(|x| x.as_str().unwrap().to_string()).collect())
        .unwrap_or_default();
    (e, ok)
}

#[test]
fn real_spark_transcripts_decode_completely() {
    let root = golden_dir().join("worker");
    let mut versions: Vec<PathBuf> = fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    versions.sort();
    assert_eq!(
        versions.len(),
        SparkVersion::ALL.len(),
        "one directory per pinned release"
    );
    for vd in versions {
        let release = vd
            .file_name()
            .unwrap()
            .to_string_lossy()
            .trim_start_matches("spark-")
            .to_string();
        let mut jobs: Vec<PathBuf> = fs::read_dir(&vd)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_dir())
            .collect();
        jobs.sort();
        let names: Vec<String> = jobs
            .iter()
            .map(|j| j.file_name().unwrap().to_string_lossy().to_string())
            .collect();
        let mut want: Vec<&str> = vec![
            "accumulators",
            "batching",
            "binary_files",
            "broadcast_accum",
            "cartesian",
            "daemon_kill",
            "daemon_reuse",
            "exception",
            "map_collect",
            "pandas_cogrouped",
            "pandas_grouped",
            "pandas_scalar",
            "reduce_by_key",
            "sql_arrow_udf",
            "sql_udf",
            "sql_udtf",
            "text_file",
            "whole_text_files",
            "zip",
        ];
        // Unix-domain sockets exist from 4.1.
        if SparkVersion::of_release(&release).unwrap() >= SparkVersion::V4_1 {
            want.extend(["uds_daemon", "uds_simple"]);
            want.sort();
        }
        assert_eq!(names, want, "{release}");
        for job in jobs {
            let name = job.file_name().unwrap().to_string_lossy().to_string();
            let what = format!("{release}/{name}");
            let conns = connections(&job, &release);
            assert!(!conns.is_empty(), "{what}: no connections");
            let tasks: Vec<&Task> = conns.iter().flat_map(|(_, t)| t).collect();
            let outputs: Vec<String> = tasks
                .iter()
                .filter(|t| t.serializer != Serializer::NoOp)
                .flat_map(|t| t.outputs.clone())
                .collect();
            let (expected, ok) = expected_ok(&job);
            match name.as_str() {
                "exception" => {
                    assert_eq!(expected["error"], "Py4JJavaError");
                    let tb = tasks
                        .iter()
                        .find_map(|t| t.exception.clone())
                        .expect("a traceback");
                    assert!(tb.contains("ZeroDivisionError"), "{what}: {tb}");
                }
                "broadcast_accum" => {
                    assert_eq!(outputs, ok[..4], "{what}");
                    assert_eq!(tasks[0].accumulators.len(), 1, "{what}");
                    assert!(
                        tasks[0].accumulators[0].ends_with(&format!(", {})", ok[4])),
                        "{what}"
                    );
                }
                "reduce_by_key" => {
                    let mut got = outputs.clone();
                    got.sort();
                    assert_eq!(got, ok, "{what}");
                    assert!(
                        tasks.iter().any(|t| t.serializer == Serializer::NoOp),
                        "{what}: map side"
                    );
                }
                "cartesian" | "zip" | "whole_text_files" | "binary_files" => {
                    // The tasks fed key/value frame pairs (the others are the
                    // Python workers computing a side, with no input) map
                    // each pair to itself: what they read is the result.
                    let paired: Vec<&&Task> =
                        tasks.iter().filter(|t| !t.inputs.is_empty()).collect();
                    assert!(!paired.is_empty(), "{what}");
                    let mut got: Vec<String> =
                        paired.iter().flat_map(|t| t.inputs.clone()).collect();
                    let mut out: Vec<String> =
                        paired.iter().flat_map(|t| t.outputs.clone()).collect();
                    if name.ends_with("_files") {
                        got.sort();
                        out.sort();
                    }
                    assert_eq!(got, ok, "{what}: input pairs");
                    assert_eq!(out, ok, "{what}: output");
                }
                "accumulators" => {
                    // Three tasks, each updating the three accumulators whose
                    // (id, final value) the driver saw.
                    assert_eq!(tasks.len(), 3, "{what}");
                    let ids: Vec<&str> = ok
                        .iter()
                        .map(|e| e.trim_start_matches('(').split(',').next().unwrap())
                        .collect();
                    for t in &tasks {
                        assert_eq!(t.accumulators.len(), 3, "{what}");
                        for a in &t.accumulators {
                            let id = a.trim_start_matches('(').split(',').next().unwrap();
                            assert!(ids.contains(&id), "{what}: {a}");
                        }
                    }
                }
                "text_file" => {
                    assert_eq!(tasks[0].inputs, ["'alpha'", "''", "'beta gamma'"], "{what}");
                    assert_eq!(outputs, ok, "{what}");
                }
                "batching" => {
                    let n: usize = ok[0].parse().unwrap();
                    assert_eq!(outputs.len(), n, "{what}");
                    let sum: i64 = outputs.iter().map(|x| x.parse::<i64>().unwrap()).sum();
                    assert_eq!(sum.to_string(), ok[1], "{what}");
                    // The ladder: 1, 2, 4, … doubling while batches pickle under 64 KiB.
                    let b = &tasks[0].output_batches;
                    assert_eq!(&b[..5], [1, 2, 4, 8, 16], "{what}: {b:?}");
                    assert_eq!(b.iter().sum::<usize>(), n, "{what}");
                    assert!(tasks[0].inputs.len() == n, "{what}");
                }
                "daemon_reuse" => {
                    assert_eq!(conns.len(), 1, "{what}: one reused connection");
                    assert_eq!(conns[0].0.mode, Mode::Daemon, "{what}");
                    assert_eq!(conns[0].1.len(), 2, "{what}: two tasks back to back");
                    assert_eq!(outputs, ok, "{what}");
                    let stdout = fs::read(job.join("daemon_stdout.bin")).unwrap();
                    assert_eq!(stdout.len(), 4, "{what}: the daemon writes only its port");
                }
                "daemon_kill" => {
                    // The cancelled task's worker was killed by pid through the
                    // daemon's stdin; its reply ends where the kill cut it.
                    assert_eq!(expected["error"], "Py4JJavaError", "{what}");
                    assert_eq!(conns.len(), 1, "{what}");
                    let c = &conns[0].0;
                    assert_eq!(c.mode, Mode::Daemon, "{what}");
                    assert!(!c.is_complete(), "{what}: the reply is cut");
                    let stdin = fs::read(job.join("daemon_stdin.bin")).unwrap();
                    assert_eq!(stdin, c.pid.to_be_bytes(), "{what}: kill request");
                }
                "uds_simple" | "uds_daemon" => {
                    // No auth on a Unix socket: the pid, then the task.
                    assert!(conns.iter().all(|(c, _)| c.mode == Mode::Unix), "{what}");
                    let per_connection = if name == "uds_daemon" { 2 } else { 1 };
                    assert!(
                        conns.iter().all(|(_, t)| t.len() == per_connection),
                        "{what}"
                    );
                    assert_eq!(outputs, ok, "{what}");
                    if name == "uds_daemon" {
                        // The daemon announces `i32 length` + its socket path.
                        let out = fs::read(job.join("daemon_stdout.bin")).unwrap();
                        let n = i32::from_be_bytes(out[..4].try_into().unwrap()) as usize;
                        assert_eq!(out.len(), 4 + n, "{what}");
                        assert!(out[4..].ends_with(b".sock"), "{what}");
                    }
                }
                "sql_udf" => {
                    assert_eq!(tasks.len(), 1, "{what}");
                    assert_eq!(tasks[0].eval_type, EvalType::SQL_BATCHED_UDF, "{what}");
                    let rows: Vec<String> = (0..250).map(|i| format!("({i}, 'r{i}')")).collect();
                    assert_eq!(tasks[0].inputs, rows, "{what}: Pyrolite row tuples");
                    assert_eq!(outputs, ok, "{what}");
                }
                "sql_udtf" => {
                    assert_eq!(tasks[0].eval_type, EvalType::SQL_TABLE_UDF, "{what}");
                    assert_eq!(tasks[0].inputs, ["(0, 1)", "(1, 2)", "(2, 3)"], "{what}");
                    // One element per input row: the rows `eval` yielded for it;
                    // Spark's result is `(id, n, sq)` for each.
                    let mut rows = Vec::new();
                    for (i, out) in outputs.iter().enumerate() {
                        let (a, b) = (i + 1, i * i + 2 * i + 1);
                        assert_eq!(out, &format!("(({i}, {}), ({a}, {b}))", i * i), "{what}");
                        rows.push(format!("({i}, {i}, {})", i * i));
                        rows.push(format!("({i}, {a}, {b})"));
                    }
                    assert_eq!(rows, ok, "{what}");
                }
                "pandas_scalar" | "pandas_grouped" | "pandas_cogrouped" | "sql_arrow_udf" => {
                    assert_eq!(tasks.len(), 1, "{what}");
                    let t = tasks[0];
                    let want = match name.as_str() {
                        "pandas_scalar" => EvalType::SQL_SCALAR_PANDAS_UDF,
                        "pandas_grouped" => EvalType::SQL_GROUPED_MAP_PANDAS_UDF,
                        "pandas_cogrouped" => EvalType::SQL_COGROUPED_MAP_PANDAS_UDF,
                        _ => EvalType::SQL_ARROW_BATCHED_UDF,
                    };
                    assert_eq!(t.eval_type, want, "{what}");
                    let stream = ["Schema", "RecordBatch", "End"];
                    let groups = |n: usize, per: usize| -> Vec<String> {
                        let g = format!("G{per}");
                        (0..n)
                            .flat_map(|_| {
                                std::iter::once(g.clone())
                                    .chain((0..per).flat_map(|_| stream.map(String::from)))
                            })
                            .collect()
                    };
                    let input = match (name.as_str(), release.as_str()) {
                        // 3.5 and 4.0 send a grouped map's groups as batches of
                        // one stream; from 4.1 each group is a stream of its own.
                        ("pandas_grouped", "3.5.9" | "4.0.1") => {
                            let mut v = vec!["Schema".to_string()];
                            v.extend(std::iter::repeat_n("RecordBatch".to_string(), 3));
                            v.push("End".into());
                            v
                        }
                        ("pandas_grouped", _) => groups(3, 1),
                        ("pandas_cogrouped", _) => groups(2, 2),
                        _ => stream.map(String::from).to_vec(),
                    };
                    assert_eq!(t.arrow_in, input, "{what}: input");
                    assert_eq!(
                        t.arrow_out.first().map(String::as_str),
                        Some("Start"),
                        "{what}"
                    );
                    assert_eq!(t.arrow_out[1], "Schema", "{what}");
                    assert_eq!(
                        t.arrow_out.last().map(String::as_str),
                        Some("End"),
                        "{what}"
                    );
                    assert!(t.inputs.is_empty() && t.outputs.is_empty(), "{what}");
                    // The values in the Arrow batches are Spark's own: scalar UDFs
                    // return one column; a grouped map's rows come back wrapped in
                    // one struct column.
                    let (mut rows_in, mut rows_out) =
                        (t.arrow_rows_in.clone(), t.arrow_rows_out.clone());
                    rows_in.sort();
                    rows_out.sort();
                    let mut want_in: Vec<String> = match name.as_str() {
                        "pandas_scalar" => (0..10).map(|i| format!("({i},)")).collect(),
                        "sql_arrow_udf" => (0..20).map(|i| format!("('w{i}',)")).collect(),
                        "pandas_grouped" => (0..12).map(|i| format!("({}, {i})", i % 3)).collect(),
                        _ => (0..6)
                            .map(|i| format!("({}, {i})", i % 2))
                            .chain((0..4).map(|i| format!("({}, {})", i % 2, i * 10)))
                            .collect(),
                    };
                    want_in.sort();
                    assert_eq!(rows_in, want_in, "{what}: Arrow input values");
                    let mut want_out: Vec<String> = match name.as_str() {
                        "pandas_grouped" | "pandas_cogrouped" => {
                            ok.iter().map(|r| format!("({r},)")).collect()
                        }
                        _ => ok.clone(),
                    };
                    want_out.sort();
                    assert_eq!(rows_out, want_out, "{what}: Arrow output values");
                }
                _ => assert_eq!(outputs, ok, "{what}"),
            }
        }
    }
}
