//! One large partition through the host: 10 million ints into a real daemon
//! worker of the latest pinned release and 10 million results back, with the
//! input made on the fly and the output checked as it streams. Every record
//! is accounted for (count, order, sum and sum of squares), and this process's
//! resident memory stays flat: nothing is collected on the way.
//!
//! One release only: the data section is framed the same way by every release
//! (the per-release differences are in the task header, which
//! `tests/host.rs` covers for all of them), and each run takes the worker tens
//! of seconds of Python time.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::json;
use sparkwire_framing::Frame;
use sparkwire_serializers::pickle::{self, Graph, Int, Profile, Value};
use sparkwire_serializers::pyspark::Serializer;
use sparkwire_testkit::oracle::python_for;
use sparkwire_testkit::pickle_desc::serializer_spec;
use sparkwire_testkit::{oracle_versions, unhex, with_oracle};
use sparkwire_worker::host::{Host, HostConfig, Mode, Output, Python, Task, TaskInput};

const RECORDS: u64 = 10_000_000;
/// Records per input frame: what `sc.parallelize(list)` batches by
/// (`BatchedSerializer(CPickleSerializer(), 1024)`).
const BATCH: u64 = 1024;
/// Sample this process's resident memory every so many output records.
const SAMPLE_EVERY: u64 = 100_000;
/// Memory samples before this many records are warm-up (allocator pools,
/// buffers reaching their working size).
const WARM_UP: u64 = 1_000_000;
/// The most resident memory may grow after the warm-up: well below what
/// holding the partition would take (10 M ints are 80 MB as `i64`s alone,
/// about 50 MB pickled).
const RSS_GROWTH_LIMIT: u64 = 64 << 20;
/// How far the input may run ahead of the output. What is in between sits in
/// the host's four in-flight chunks, the kernel's loopback socket buffers in
/// both directions and the worker's buffers: about 0.2 M records here (1 MB of
/// input). Pulling the input eagerly would put all 10 M ahead.
const MAX_LEAD: u64 = 2_000_000;

const JOB: &str = "def job(split, it):\n    for x in it:\n        yield x * 3 + 1\n";

/// The command: `job` with `BatchedSerializer(CPickleSerializer(), 1024)` in
/// and the RDD default out, pickled by the release's own cloudpickle.
fn command(release: &str) -> Bytes {
    let input = Serializer::batched(Serializer::CPickle, BATCH as i64);
    with_oracle(release, |o| {
        let req = json!({
            "op": "command_pickle", "source": JOB, "filename": "/jobs/host_large.py",
            "name": "job", "deserializer": serializer_spec(&input),
            "serializer": serializer_spec(&Serializer::rdd_default()),
        });
        unhex(o.call(req).unwrap()["data"].as_str().unwrap())
    })
    .expect("oracle")
    .into()
}

/// `pickle.dumps(list(range(start, end)), 5)` frames, made one at a time as the
/// host pulls them; `made` counts the records handed out.
fn input(records: u64, made: Arc<AtomicU64>) -> TaskInput<'static> {
    let mut g = Graph::new();
    TaskInput::frames((0..records).step_by(BATCH as usize).map(move |start| {
        let end = (start + BATCH).min(records);
        g.clear();
        let items = (start..end)
            .map(|x| g.add(Value::Int(Int::Small(x as i64))))
            .collect::<Vec<_>>();
        let list = g.add_list(&items);
        g.set_root(list);
        made.store(end, Ordering::Relaxed);
        Frame::Data(pickle::encode(&g, Profile::PYSPARK).unwrap().into())
    }))
}

/// The ints of one output batch (a pickled list).
fn batch_ints(frame: &Bytes) -> Vec<i64> {
    let d = pickle::decode(frame).unwrap();
    let Value::List(items) = d.graph.get(d.root()) else {
        panic!("not a list: {}", d.graph.get(d.root()).type_name());
    };
    d.graph
        .items(*items)
        .iter()
        .map(|&id| match d.graph.get(id) {
            Value::Int(Int::Small(v)) => *v,
            other => panic!("not a small int: {}", other.type_name()),
        })
        .collect()
}

/// `VmRSS` of `/proc/<pid>/status`, in bytes.
fn rss(pid: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Sum and sum of squares of `3x + 1` for `x` in `0..n`, mod 2^64, by formula.
fn expected_sums(n: u64) -> (u64, u64) {
    let n = n as u128;
    let s1 = n * (n.saturating_sub(1)) / 2; // Σx
    let s2 = n.saturating_sub(1) * n * (2 * n).saturating_sub(1) / 6; // Σx²
    let sum = 3 * s1 + n;
    let squares = 9 * s2 + 6 * s1 + n;
    (sum as u64, squares as u64)
}

fn mib(b: u64) -> f64 {
    b as f64 / (1 << 20) as f64
}

#[test]
fn ten_million_records_stream_through_a_daemon_worker_in_flat_memory() {
    let release = oracle_versions().pop().expect("a pinned release");
    let python = Python::probe(python_for(&release).expect("venv")).unwrap();
    let host = Host::new(
        python,
        HostConfig {
            mode: Mode::Daemon,
            reply_timeout: Duration::from_secs(120),
            connect_timeout: Duration::from_secs(60),
            ..HostConfig::default()
        },
    )
    .unwrap();
    let command = command(&release);

    let made = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut run = host
        .run(Task::rdd(command, 0, input(RECORDS, made.clone())))
        .unwrap();
    let worker = run.pid().to_string();
    let (mut count, mut sum, mut squares) = (0u64, 0u64, 0u64);
    let (mut frames, mut bytes) = (0u64, 0u64);
    let mut next_sample = SAMPLE_EVERY;
    let (mut warm, mut peak) = (0u64, 0u64);
    let (mut worker_warm, mut worker_peak) = (0u64, 0u64);
    let mut lead = 0u64;
    for output in &mut run {
        let Output::Data(frame) = output.unwrap() else {
            panic!("record {count}: not a data frame");
        };
        frames += 1;
        bytes += frame.len() as u64;
        for y in batch_ints(&frame) {
            // In order, each one the image of its input.
            assert_eq!(y, 3 * count as i64 + 1, "record {count}");
            let y = y as u64;
            sum = sum.wrapping_add(y);
            squares = squares.wrapping_add(y.wrapping_mul(y));
            count += 1;
        }
        lead = lead.max(made.load(Ordering::Relaxed).saturating_sub(count));
        if count >= next_sample {
            next_sample += SAMPLE_EVERY;
            let (now, worker_now) = (rss("self"), rss(&worker));
            if count <= WARM_UP {
                (warm, worker_warm) = (now, worker_now);
            } else {
                peak = peak.max(now);
                worker_peak = worker_peak.max(worker_now);
            }
        }
    }
    let summary = run.finish().unwrap();
    let wall = started.elapsed();

    eprintln!(
        "{release}: {count} records in {:.1} s ({:.0} records/s); {frames} output frames, {:.1} MiB; \
         input at most {lead} records ahead of the output",
        wall.as_secs_f64(),
        count as f64 / wall.as_secs_f64(),
        mib(bytes),
    );
    eprintln!(
        "RSS after warm-up {:.1} MiB, peak {:.1} MiB (+{:.1} MiB); worker {:.1} MiB, peak {:.1} MiB (+{:.1} MiB)",
        mib(warm),
        mib(peak),
        mib(peak.saturating_sub(warm)),
        mib(worker_warm),
        mib(worker_peak),
        mib(worker_peak.saturating_sub(worker_warm)),
    );
    assert_eq!(count, RECORDS);
    assert_eq!(made.load(Ordering::Relaxed), RECORDS);
    assert_eq!((sum, squares), expected_sums(RECORDS));
    assert!(summary.reusable, "the worker did not end the task cleanly");
    assert!(warm > 0, "no memory sample after the warm-up");
    assert!(
        peak.saturating_sub(warm) < RSS_GROWTH_LIMIT,
        "resident memory grew by {:.1} MiB after the warm-up",
        mib(peak.saturating_sub(warm))
    );
    assert!(
        lead < MAX_LEAD,
        "the input ran {lead} records ahead of the output"
    );
}

#[test]
fn the_expected_sums_match_a_direct_computation() {
    for n in [0u64, 1, 2, 3, 1000, 123_457] {
        let (mut s, mut q) = (0u64, 0u64);
        for x in 0..n {
            let y = 3 * x + 1;
            s = s.wrapping_add(y);
            q = q.wrapping_add(y.wrapping_mul(y));
        }
        assert_eq!(expected_sums(n), (s, q), "n = {n}");
    }
}
