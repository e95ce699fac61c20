//! Header prefixes of real traffic: every task header of every golden worker
//! transcript (`tests/golden/worker/spark-*/*/to_worker.N.bin`, recorded from
//! real Spark, later tasks of reused connections included) and of the 4.3
//! example capture, cut at every byte inside it, read by
//! [`TaskHeader::decode_prefix`]. What a cut prefix shows must be exactly what
//! the whole header holds up to the field the cut falls in, and that field must
//! be named with its offset and length; damaged bytes must never panic and must
//! agree with the whole-header decoder.

use std::fs;
use std::path::{Path, PathBuf};

use bytes::BytesMut;
use sparkwire_framing::auth::REPLY_OK;
use sparkwire_framing::{i32_at, Step};
use sparkwire_testkit::golden_dir;
use sparkwire_worker::protocol::{
    Command, FieldProblem, FieldSpan, HeaderError, HeaderStyle, Limits, PartialHeader, PrefixEnd,
    SparkVersion, TaskDecoder, TaskHeader, TaskItem, WorkerLayout,
};

/// One recorded task header.
struct Recorded {
    /// `release/job/to_worker.N.bin, task T`.
    name: String,
    version: SparkVersion,
    bytes: Vec<u8>,
    /// Where it starts in its file.
    at: usize,
}

/// Bytes before the first header: the JVM's `"ok"` (simple mode), the
/// secret it sends a daemon-forked worker, or nothing (Unix sockets), told
/// apart by what the worker sent (spec §2).
fn prelude_len(to: &[u8], from: &[u8]) -> usize {
    if to.starts_with(REPLY_OK) {
        REPLY_OK.len()
    } else if from.get(4..10) == Some(REPLY_OK) {
        let n = i32_at(to, 0).expect("a secret length");
        4 + usize::try_from(n).expect("a secret")
    } else {
        0
    }
}

/// Every task header of one recorded connection, found by the task decoder.
fn headers_of(name: &str, to: &[u8], from: &[u8], v: SparkVersion, out: &mut Vec<Recorded>) {
    let start = prelude_len(to, from);
    let mut dec = TaskDecoder::new(v);
    let mut buf = BytesMut::from(&to[start..]);
    let mut found = 0;
    loop {
        let at = dec.offset() as usize;
        match dec.decode(&mut buf) {
            Ok(Step::Item(TaskItem::Header(_))) => {
                let end = dec.offset() as usize;
                out.push(Recorded {
                    name: format!("{name}, task {found}"),
                    version: v,
                    bytes: to[start + at..start + end].to_vec(),
                    at: start + at,
                });
                found += 1;
            }
            Ok(Step::Item(_)) => {}
            Ok(Step::NeedMore) => break,
            Err(e) => panic!("{name}: {e}"),
        }
    }
    assert!(found > 0, "{name}: no task header");
}

fn recorded_headers() -> Vec<Recorded> {
    let mut out = Vec::new();
    let root = golden_dir().join("worker");
    let mut releases: Vec<PathBuf> = fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    releases.sort();
    for release_dir in releases {
        let release = release_dir.file_name().unwrap().to_str().unwrap();
        let v = SparkVersion::of_release(release.trim_start_matches("spark-")).unwrap();
        let mut jobs: Vec<PathBuf> = fs::read_dir(&release_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        jobs.sort();
        for job in jobs {
            connections(&job, v, &mut out);
        }
    }
    let example = golden_dir().join("../../examples/capture-spark-4.3.0");
    connections(&example, SparkVersion::V4_3, &mut out);
    out
}

fn connections(dir: &Path, v: SparkVersion, out: &mut Vec<Recorded>) {
    for n in 0.. {
        let Ok(to) = fs::read(dir.join(format!("to_worker.{n}.bin"))) else {
            break;
        };
        let from = fs::read(dir.join(format!("from_worker.{n}.bin"))).unwrap();
        let name = format!("{}/to_worker.{n}.bin", dir.display());
        headers_of(&name, &to, &from, v, out);
    }
}

/// The whole header and its fields' spans, which must tile it.
fn whole(h: &Recorded) -> (TaskHeader, PartialHeader) {
    let (header, n) = TaskHeader::decode(&h.bytes, h.version)
        .unwrap()
        .expect("complete");
    assert_eq!(n, h.bytes.len(), "{}", h.name);
    let p = TaskHeader::decode_prefix(&h.bytes, h.version, &Limits::default());
    match &p.end {
        PrefixEnd::Complete(back, used) => {
            assert_eq!(**back, header, "{}", h.name);
            assert_eq!(*used, n, "{}", h.name);
        }
        other => panic!("{}: {other:?}", h.name),
    }
    let mut next = 0;
    for f in &p.read.fields {
        assert_eq!(f.offset, next, "{}: a gap or overlap before {f:?}", h.name);
        assert!(f.len > 0, "{}: {f:?}", h.name);
        next += f.len;
    }
    assert_eq!(
        next, n as u64,
        "{}: the fields do not reach the end",
        h.name
    );
    (header, p.read)
}

/// How many fields of this name were read before the command (whose UDF
/// commands reuse some names, such as "runner conf").
fn count(p: &PartialHeader, field: &str) -> usize {
    let command = p.command_at.unwrap_or(u64::MAX);
    p.fields
        .iter()
        .filter(|f| f.field == field && f.offset < command)
        .count()
}

fn is_prefix<T: PartialEq + std::fmt::Debug>(part: &[T], all: &[T], what: &str, at: &str) {
    assert!(
        all.starts_with(part),
        "{at}: {what} {part:?} is not a prefix of {all:?}"
    );
}

/// What a prefix read agrees with the whole header, field by field, and each
/// value is there exactly when its field was read in full.
fn agrees(p: &PartialHeader, h: &TaskHeader, whole: &PartialHeader, v: SparkVersion, at: &str) {
    assert_eq!(
        p.partition_index,
        p.has("partition index").then_some(h.partition_index),
        "{at}"
    );
    assert_eq!(
        p.python_version,
        p.has("python version").then(|| h.python_version.clone()),
        "{at}"
    );
    let c = &p.context;
    if p.context_complete {
        assert_eq!(*c, h.context, "{at}");
    } else {
        let json = matches!(v.header_style(), HeaderStyle::Json { .. });
        if json {
            assert_eq!(*c, Default::default(), "{at}");
        }
        let fields = [
            ("isBarrier", c.is_barrier == h.context.is_barrier),
            ("stageId", c.stage_id == h.context.stage_id),
            ("partitionId", c.partition_id == h.context.partition_id),
            (
                "attemptNumber",
                c.attempt_number == h.context.attempt_number,
            ),
            (
                "taskAttemptId",
                c.task_attempt_id == h.context.task_attempt_id,
            ),
            ("cpus", c.cpus == h.context.cpus),
            (
                "barrier secret",
                c.barrier_secret == h.context.barrier_secret,
            ),
        ];
        for (field, same) in fields {
            assert!(!p.has(field) || same, "{at}: {field}");
        }
        is_prefix(&c.resources, &h.context.resources, "resources", at);
        assert_eq!(c.resources.len(), count(p, "resource addresses"), "{at}");
        is_prefix(
            &c.local_properties,
            &h.context.local_properties,
            "local properties",
            at,
        );
        let kv = count(p, "local properties").saturating_sub(1) / 2;
        assert_eq!(c.local_properties.len(), kv, "{at}");
    }
    // Complete once every field before the files dir is read.
    let context_fields = whole
        .fields
        .iter()
        .position(|f| f.field == "spark files dir");
    assert_eq!(
        p.context_complete,
        context_fields.is_some_and(|n| p.fields.len() >= n),
        "{at}"
    );
    assert_eq!(
        p.spark_files_dir,
        p.has("spark files dir").then(|| h.spark_files_dir.clone()),
        "{at}"
    );
    is_prefix(&p.python_includes, &h.python_includes, "includes", at);
    assert_eq!(p.python_includes.len(), count(p, "python include"), "{at}");
    let b = &p.broadcasts;
    if b.server.is_some() {
        assert_eq!(b.server, h.broadcasts.server, "{at}");
    }
    is_prefix(&b.entries, &h.broadcasts.entries, "broadcasts", at);
    assert_eq!(
        b.entries.len(),
        count(p, "broadcast id")
            - usize::from(
                // An id read whose path is not.
                p.fields.last().is_some_and(|f| f.field == "broadcast id")
                    && h.broadcasts
                        .entries
                        .get(b.entries.len())
                        .is_some_and(|e| e.path.is_some()),
            ),
        "{at}"
    );
    assert_eq!(
        p.eval_type,
        p.has("eval type").then_some(h.eval_type),
        "{at}"
    );
    is_prefix(&p.runner_conf, &h.runner_conf, "runner conf", at);
    is_prefix(&p.eval_conf, &h.eval_conf, "eval conf", at);
    assert_eq!(
        p.runner_conf.len(),
        count(p, "runner conf").saturating_sub(1) / 2,
        "{at}"
    );
    assert_eq!(
        p.eval_conf.len(),
        count(p, "eval conf").saturating_sub(1) / 2,
        "{at}"
    );
    if p.command_at.is_some() {
        assert_eq!(p.command_at, whole.command_at, "{at}");
    }
}

#[test]
fn every_cut_of_every_recorded_header_shows_what_was_read_and_where_it_stopped() {
    let headers = recorded_headers();
    let releases: std::collections::BTreeSet<_> = headers.iter().map(|h| h.version).collect();
    assert_eq!(releases.len(), SparkVersion::ALL.len(), "every release");
    assert!(headers.len() >= 100, "{} headers", headers.len());
    assert!(
        headers.iter().any(|h| !h.name.ends_with("task 0")),
        "later tasks of reused connections"
    );
    let mut cuts = 0;
    for h in &headers {
        let (full, spans) = whole(h);
        for cut in 0..h.bytes.len() {
            let at = format!("{} cut at header byte {cut}", h.name);
            let p = TaskHeader::decode_prefix(&h.bytes[..cut], h.version, &Limits::default());
            let PrefixEnd::Cut(stop) = p.end else {
                panic!("{at}: {:?}", p.end)
            };
            // Exactly the fields that end at or before the cut were read.
            let before: Vec<FieldSpan> = spans
                .fields
                .iter()
                .copied()
                .filter(|f| f.offset + f.len <= cut as u64)
                .collect();
            assert_eq!(p.read.fields, before, "{at}");
            // The stopping field is the one whose bytes span the cut.
            let spanning = spans
                .fields
                .iter()
                .find(|f| f.offset <= cut as u64 && (cut as u64) < f.offset + f.len)
                .unwrap();
            assert_eq!(stop.field, spanning.field, "{at}");
            assert_eq!(stop.offset, spanning.offset, "{at}");
            assert_eq!(stop.had, cut as u64 - spanning.offset, "{at}");
            // Its whole length once its length prefix is in, else the prefix's.
            let in_prefix = stop.had < 4 && stop.needed == 4;
            assert!(stop.needed == spanning.len || in_prefix, "{at}: {stop:?}");
            assert!(stop.had < stop.needed, "{at}: {stop:?}");
            agrees(&p.read, &full, &spans, h.version, &at);
            cuts += 1;
        }
    }
    assert!(cuts > 300_000, "{cuts} cuts");
}

#[test]
fn the_example_capture_cut_at_byte_1000_stops_inside_the_command() {
    let dir = golden_dir().join("../../examples/capture-spark-4.3.0");
    let mut found = Vec::new();
    connections(&dir, SparkVersion::V4_3, &mut found);
    let h = &found[0];
    let cut = 1000 - h.at;
    let p = TaskHeader::decode_prefix(&h.bytes[..cut], h.version, &Limits::default());
    let PrefixEnd::Cut(stop) = p.end else {
        panic!("{:?}", p.end)
    };
    let (full, spans) = whole(h);
    assert_eq!(stop.field, "command");
    assert_eq!(Some(stop.offset), spans.command_at);
    assert_eq!(stop.needed, (h.bytes.len() as u64) - stop.offset);
    let Command::Rdd(pickle) = &full.command else {
        panic!("an RDD task")
    };
    assert_eq!(stop.needed, 4 + pickle.len() as u64);
    assert!(p.read.context_complete);
    assert_eq!(p.read.context, full.context);
    assert_eq!(p.read.eval_type, Some(full.eval_type));
    assert_eq!(p.read.runner_conf, full.runner_conf);
    assert_eq!(p.read.eval_conf, full.eval_conf);
}

/// Flipping one bit of a recorded header (a different bit at each byte) never
/// panics, and the prefix reader says what the whole-header decoder says: the
/// same header, the same error, or that more bytes are needed.
#[test]
fn damaged_headers_never_panic_and_agree_with_the_whole_decoder() {
    let limits = Limits::default();
    let mut bad = 0;
    for h in recorded_headers() {
        for (i, bit) in (0..h.bytes.len()).map(|i| (i, i % 8)) {
            let mut b = h.bytes.clone();
            b[i] ^= 1 << bit;
            let at = format!("{}, bit {bit} of byte {i}", h.name);
            let p = TaskHeader::decode_prefix(&b, h.version, &limits);
            match (TaskHeader::decode_with(&b, h.version, &limits), &p.end) {
                (Ok(Some((want, n))), PrefixEnd::Complete(got, used)) => {
                    assert_eq!((**got).clone(), want, "{at}");
                    assert_eq!(*used, n, "{at}");
                }
                (Ok(None), PrefixEnd::Cut(_)) => {}
                (Err(want), PrefixEnd::Bad(got)) => {
                    assert_eq!(*got, want, "{at}");
                    bad += 1;
                }
                (whole, prefix) => panic!("{at}: {whole:?} but {prefix:?}"),
            }
        }
    }
    assert!(bad > 1000, "{bad} flips refused");
}

/// A bad field is named with its offset, and what precedes it is kept.
#[test]
fn a_bad_field_keeps_the_fields_before_it() {
    let h = recorded_headers()
        .into_iter()
        .find(|h| h.version == SparkVersion::V3_5)
        .unwrap();
    let (full, spans) = whole(&h);
    let barrier = spans
        .fields
        .iter()
        .find(|f| f.field == "isBarrier")
        .unwrap();
    let mut b = h.bytes.clone();
    b[barrier.offset as usize] = 7;
    let p = TaskHeader::decode_prefix(&b, h.version, &Limits::default());
    assert_eq!(
        p.end,
        PrefixEnd::Bad(HeaderError::Field {
            field: "isBarrier",
            offset: barrier.offset,
            why: FieldProblem::NotBool { found: 7 }
        })
    );
    assert_eq!(p.read.partition_index, Some(full.partition_index));
    assert_eq!(p.read.python_version, Some(full.python_version));
    assert!(!p.read.context_complete);
    assert_eq!(p.read.eval_type, None);
}
