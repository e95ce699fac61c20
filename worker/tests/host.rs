//! The host — worker start-up, pool, reuse, faults, cancellation — against the
//! real `pyspark.worker` and `pyspark.daemon` of every pinned release, in
//! simple and daemon mode, over loopback TCP and (4.1+) Unix sockets, with
//! commands each release's own cloudpickle made. Every wait is bounded by the
//! host's timeouts, so a mistake fails instead of hanging.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::json;
use sparkwire_serializers::pickle::{self, Graph, Int, Profile, Value};
use sparkwire_serializers::pyspark::{Serializer, StreamDecoder, StreamEncoder};
use sparkwire_testkit::oracle::python_for;
use sparkwire_testkit::pickle_desc::serializer_spec;
use sparkwire_testkit::{oracle_versions, unhex, with_oracle};
use sparkwire_worker::host::{
    Host, HostConfig, Mode, Output, Python, Task, TaskError, TaskInput, TaskSummary,
};
use sparkwire_worker::protocol::SparkVersion;

const DOUBLE: &str = "def job(split, it):\n    for x in it:\n        if x == 13:\n            raise ValueError('thirteen')\n        yield x * 2 + split\n";

/// A tiny `SPARK_BUFFER_SIZE`, so that the worker's first output batch
/// reaches us before it sleeps (with Spark's 64 KiB it stays buffered).
fn unbuffered(mode: Mode) -> HostConfig {
    HostConfig {
        buffer_size: 16,
        ..quick(mode, false)
    }
}

/// Sleeps on record 5 (long enough that only a kill ends it in time).
const SLOW: &str = "def job(split, it):\n    import time\n    for x in it:\n        if x == 5:\n            time.sleep(120)\n        yield x\n";

fn cmd(release: &str, source: &str, extra: serde_json::Value) -> Bytes {
    let ser = Serializer::rdd_default();
    with_oracle(release, |o| {
        let mut req = json!({
            "op": "command_pickle", "source": source, "filename": "/jobs/host.py", "name": "job",
            "deserializer": serializer_spec(&ser), "serializer": serializer_spec(&ser),
        });
        if let (Some(r), Some(e)) = (req.as_object_mut(), extra.as_object()) {
            r.extend(e.clone());
        }
        unhex(o.call(req).unwrap()["data"].as_str().unwrap())
    })
    .expect("oracle")
    .into()
}

/// Ints as AutoBatched pickled frames, produced lazily.
fn ints(v: SparkVersion, xs: std::ops::Range<i64>) -> TaskInput<'static> {
    let mut enc = StreamEncoder::new(Serializer::rdd_default(), v).unwrap();
    for x in xs {
        enc.push_with(|g| g.add(Value::Int(Int::Small(x)))).unwrap();
    }
    let data = enc.finish().unwrap();
    let mut frames = Vec::new();
    let mut dec = sparkwire_framing::FrameDecoder::new();
    let mut buf = bytes::BytesMut::from(&data[..]);
    while let sparkwire_framing::Step::Item(f) = dec.decode(&mut buf).unwrap() {
        frames.push(f);
    }
    TaskInput::frames(frames)
}

/// The reprs of the records in data outputs.
fn records(v: SparkVersion, outputs: &[Output]) -> Vec<String> {
    let mut data = Vec::new();
    for o in outputs {
        if let Output::Data(b) = o {
            data.extend_from_slice(&(b.len() as i32).to_be_bytes());
            data.extend_from_slice(b);
        }
    }
    StreamDecoder::new(Serializer::rdd_default(), v)
        .load_all(&data)
        .unwrap()
        .iter()
        .map(|e| e.repr().unwrap())
        .collect()
}

fn host(release: &str, config: HostConfig) -> Host {
    let python = Python::probe(python_for(release).expect("venv")).unwrap();
    assert_eq!(python.spark, SparkVersion::of_release(release).unwrap());
    Host::new(python, config).unwrap()
}

fn quick(mode: Mode, unix: bool) -> HostConfig {
    HostConfig {
        mode,
        unix_sockets: unix,
        reply_timeout: Duration::from_secs(60),
        connect_timeout: Duration::from_secs(60),
        ..HostConfig::default()
    }
}

/// Runs a task to its end: outputs and summary, or the error.
fn run(host: &Host, task: Task) -> Result<(Vec<Output>, TaskSummary), TaskError> {
    let mut run = host.run(task)?;
    let mut outs = Vec::new();
    for o in &mut run {
        outs.push(o?);
    }
    Ok((outs, run.finish()?))
}

/// Every mode each release offers.
fn modes(release: &str) -> Vec<(Mode, bool)> {
    let v = SparkVersion::of_release(release).unwrap();
    let mut m = vec![(Mode::Simple, false), (Mode::Daemon, false)];
    if v >= SparkVersion::V4_1 {
        m.extend([(Mode::Simple, true), (Mode::Daemon, true)]);
    }
    m
}

#[test]
fn map_collect_and_reuse_in_every_mode() {
    for release in oracle_versions() {
        let v = SparkVersion::of_release(&release).unwrap();
        let command = cmd(&release, DOUBLE, json!({}));
        for (mode, unix) in modes(&release) {
            let what = format!("{release} {mode:?} unix={unix}");
            let host = host(&release, quick(mode, unix));
            let mut pids = Vec::new();
            for split in 0..3 {
                let task = Task::rdd(command.clone(), split, ints(v, 0..10));
                let (outs, summary) = run(&host, task).unwrap_or_else(|e| panic!("{what}: {e}"));
                let expected: Vec<String> = (0..10)
                    .map(|x| (x * 2 + split as i64).to_string())
                    .collect();
                assert_eq!(records(v, &outs), expected, "{what}");
                let t = summary
                    .timing
                    .unwrap_or_else(|| panic!("{what}: no timing"));
                assert!(t.boot_ms <= t.finish_ms, "{what}: {t:?}");
                assert_eq!(summary.reusable, mode == Mode::Daemon, "{what}");
                pids.push(summary.pid);
            }
            let distinct: BTreeSet<i32> = pids.iter().copied().collect();
            match mode {
                // One forked worker served all three tasks.
                Mode::Daemon => {
                    assert_eq!(distinct.len(), 1, "{what}: {pids:?}");
                    assert_eq!(host.stats().idle, 1, "{what}");
                }
                // A process per task, none kept.
                Mode::Simple => {
                    assert_eq!(distinct.len(), 3, "{what}: {pids:?}");
                    assert_eq!(host.stats().live, 0, "{what}");
                }
            }
        }
    }
}

#[test]
fn exceptions_are_typed_and_the_worker_is_replaced() {
    for release in oracle_versions() {
        let v = SparkVersion::of_release(&release).unwrap();
        let command = cmd(&release, DOUBLE, json!({}));
        let host = host(&release, quick(Mode::Daemon, false));
        let first = run(&host, Task::rdd(command.clone(), 0, ints(v, 0..3)))
            .unwrap()
            .1
            .pid;
        let mut run_ = host
            .run(Task::rdd(command.clone(), 0, ints(v, 10..20)))
            .unwrap();
        let mut got = Vec::new();
        let err = loop {
            match run_.next() {
                Some(Ok(o)) => got.push(o),
                Some(Err(e)) => break e,
                None => panic!("{release}: no error"),
            }
        };
        // AutoBatched's first batches (1 and 2 records) came before 13 failed.
        assert_eq!(records(v, &got), ["20", "22", "24"], "{release}");
        match &err {
            TaskError::Python { traceback, .. } => {
                assert!(
                    traceback.contains("ValueError: thirteen"),
                    "{release}: {traceback}"
                )
            }
            other => panic!("{release}: {other}"),
        }
        assert!(run_.next().is_none(), "{release}: output after the error");
        drop(run_);
        assert_eq!(
            host.stats().idle,
            0,
            "{release}: the failed worker was kept"
        );
        let after = run(&host, Task::rdd(command, 0, ints(v, 0..3)))
            .unwrap()
            .1
            .pid;
        assert_ne!(first, after, "{release}: a worker that raised was reused");
    }
}

#[test]
fn a_worker_killed_mid_task_is_a_typed_error_not_a_hang() {
    for release in oracle_versions() {
        let v = SparkVersion::of_release(&release).unwrap();
        let command = cmd(&release, SLOW, json!({}));
        for mode in [Mode::Simple, Mode::Daemon] {
            let host = host(&release, unbuffered(mode));
            let mut r = host
                .run(Task::rdd(command.clone(), 0, ints(v, 0..10)))
                .unwrap();
            // The first batch (record 0) arrives before record 5 sleeps.
            assert!(
                matches!(r.next(), Some(Ok(Output::Data(_)))),
                "{release} {mode:?}"
            );
            let started = Instant::now();
            sparkwire_worker::host::signal::kill(r.pid());
            let err = r.find_map(Result::err).expect("an error");
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{release} {mode:?}"
            );
            match &err {
                TaskError::WorkerDied {
                    pid, last, exit, ..
                } => {
                    assert_eq!(*pid, r.pid());
                    assert!(last.contains("data frame"), "{release} {mode:?}: {last}");
                    if mode == Mode::Simple {
                        let exit = exit.as_deref().unwrap_or_default();
                        assert!(
                            exit.contains("9") || exit.contains("KILL"),
                            "{release}: {exit}"
                        );
                    }
                }
                other => panic!("{release} {mode:?}: {other}"),
            }
        }
    }
}

/// A worker that crashes in native code: the error carries the faulthandler
/// dump the worker wrote to `PYTHON_FAULTHANDLER_DIR`, as Spark attaches it.
#[test]
fn a_crash_carries_the_faulthandler_dump() {
    const CRASH: &str =
        "def job(split, it):\n    import ctypes\n    for x in it:\n        ctypes.string_at(0)\n        yield x\n";
    for release in oracle_versions() {
        let v = SparkVersion::of_release(&release).unwrap();
        let dir =
            std::env::temp_dir().join(format!("sparkwire-fh-{}-{release}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let host = host(
            &release,
            HostConfig {
                faulthandler_dir: Some(dir.clone()),
                ..quick(Mode::Simple, false)
            },
        );
        match run(
            &host,
            Task::rdd(cmd(&release, CRASH, json!({})), 0, ints(v, 0..3)),
        ) {
            Err(TaskError::WorkerDied { stderr, exit, .. }) => {
                assert!(stderr.contains("faulthandler:"), "{release}: {stderr}");
                assert!(stderr.contains("Segmentation fault"), "{release}: {stderr}");
                assert!(exit.is_some(), "{release}");
            }
            other => panic!("{release}: {:?}", other.map(|_| ())),
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn cancelling_kills_the_worker_and_returns_promptly() {
    for release in oracle_versions() {
        let v = SparkVersion::of_release(&release).unwrap();
        let command = cmd(&release, SLOW, json!({}));
        for mode in [Mode::Simple, Mode::Daemon] {
            let host = host(&release, unbuffered(mode));
            let mut r = host
                .run(Task::rdd(command.clone(), 0, ints(v, 0..10)))
                .unwrap();
            assert!(matches!(r.next(), Some(Ok(_))));
            let canceller = r.canceller();
            let t = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(200));
                canceller.cancel();
            });
            let started = Instant::now();
            let err = r.find_map(Result::err).expect("an error");
            t.join().unwrap();
            assert!(
                matches!(err, TaskError::Cancelled { .. }),
                "{release} {mode:?}: {err}"
            );
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "{release} {mode:?}"
            );
            let pid = r.pid();
            drop(r);
            wait_gone(pid);
            assert_eq!(host.stats().live, 0, "{release} {mode:?}");
        }
    }
}

/// A canceller kept after its task ended does nothing: the worker, back in
/// the pool, runs the next task undisturbed.
#[test]
fn a_late_cancel_does_not_touch_the_pooled_worker() {
    let release = oracle_versions().pop().expect("a pinned release");
    let v = SparkVersion::of_release(&release).unwrap();
    let command = cmd(&release, DOUBLE, json!({}));
    let host = host(&release, quick(Mode::Daemon, false));
    let r = host
        .run(Task::rdd(command.clone(), 0, ints(v, 0..3)))
        .unwrap();
    let canceller = r.canceller();
    let first = r.finish().unwrap().pid;
    canceller.cancel();
    let (outs, s) = run(&host, Task::rdd(command, 0, ints(v, 0..3))).unwrap();
    assert_eq!(s.pid, first, "the worker was not reused");
    assert_eq!(records(v, &outs), ["0", "2", "4"]);
}

/// Input the session refuses (frames for an Arrow eval type) is the caller's
/// mistake, reported as a protocol error, not as a worker that died.
#[test]
fn input_of_the_wrong_kind_is_a_protocol_error() {
    let release = oracle_versions().pop().expect("a pinned release");
    let v = SparkVersion::of_release(&release).unwrap();
    let host = host(&release, quick(Mode::Daemon, false));
    let mut task = Task::rdd(cmd(&release, DOUBLE, json!({})), 0, ints(v, 0..3));
    task.header.eval_type = sparkwire_worker::protocol::EvalType::SQL_SCALAR_PANDAS_UDF;
    match run(&host, task) {
        Err(TaskError::Protocol { .. }) => {}
        other => panic!("{:?}", other.map(|_| ())),
    }
    assert_eq!(host.stats().live, 0);
}

fn wait_gone(pid: i32) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while sparkwire_worker::host::signal::exists(pid) {
        // A zombie awaiting its parent (the daemon reaps with SIG_IGN) counts.
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        if stat.contains(") Z") {
            return;
        }
        assert!(Instant::now() < deadline, "worker {pid} still runs");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_command_from_another_python_minor_version_is_refused_with_a_typed_error() {
    for release in oracle_versions() {
        let v = SparkVersion::of_release(&release).unwrap();
        let host = host(&release, quick(Mode::Simple, false));
        let mut task = Task::rdd(cmd(&release, DOUBLE, json!({})), 0, ints(v, 0..3));
        task.header.python_version = "3.7".into();
        match run(&host, task) {
            Err(TaskError::PythonVersionMismatch { worker, driver, .. }) => {
                assert_eq!(driver, "3.7");
                assert_eq!(worker, host.python().version);
            }
            other => panic!("{release}: {:?}", other.map(|_| ())),
        }
    }
}

fn pickled_int(dir: &std::path::Path, name: &str, n: i64) -> PathBuf {
    let mut g = Graph::new();
    let v = g.add(Value::Int(Int::Small(n)));
    g.set_root(v);
    let path = dir.join(name);
    std::fs::write(&path, pickle::encode(&g, Profile::PYSPARK).unwrap()).unwrap();
    path
}

/// Broadcasts come from files; a reused worker is sent only what it lacks and
/// told to drop what the next task no longer needs; accumulator updates come
/// back in the summary.
#[test]
fn broadcasts_are_added_and_removed_on_reused_workers() {
    const SRC: &str = "def job(split, it):\n    try:\n        from pyspark.core.broadcast import _broadcastRegistry as reg\n    except ImportError:\n        from pyspark.broadcast import _broadcastRegistry as reg\n    for x in it:\n        acc.add(x)\n        yield (x + bc.value, sorted(reg))\n";
    let dir = std::env::temp_dir().join(format!("sparkwire-host-bc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let b7 = pickled_int(&dir, "b7", 100);
    let b8 = pickled_int(&dir, "b8", 1000);
    for release in oracle_versions() {
        let v = SparkVersion::of_release(&release).unwrap();
        let host = host(&release, quick(Mode::Daemon, false));
        let uses = |id: i64| {
            cmd(
                &release,
                SRC,
                json!({"broadcast_id": id, "accumulator_id": 5}),
            )
        };
        let t1 = Task::rdd(uses(7), 0, ints(v, 1..3)).with_broadcast(7, &b7);
        let (o1, s1) = run(&host, t1).unwrap();
        assert_eq!(records(v, &o1), ["(101, [7])", "(102, [7])"], "{release}");
        let acc: Vec<String> = s1
            .accumulators
            .iter()
            .map(|b| pickle::repr(&pickle::decode_slice(b).unwrap().graph).unwrap())
            .collect();
        assert_eq!(acc, ["(5, 3)"], "{release}");
        // Same worker: 7 is removed, 8 added.
        let t2 = Task::rdd(uses(8), 0, ints(v, 1..2)).with_broadcast(8, &b8);
        let (o2, s2) = run(&host, t2).unwrap();
        assert_eq!(s1.pid, s2.pid, "{release}: not reused");
        assert_eq!(records(v, &o2), ["(1001, [8])"], "{release}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The pool: a bound with a queue, idle workers closed after the idle
/// timeout, a dead idle worker replaced, a dead daemon restarted.
#[test]
fn the_pool_bounds_queues_evicts_and_replaces() {
    let release = oracle_versions().pop().expect("a pinned release");
    let v = SparkVersion::of_release(&release).unwrap();
    let command = cmd(&release, DOUBLE, json!({}));
    let mut config = quick(Mode::Daemon, false);
    config.max_workers = 1;
    config.queue_timeout = Duration::from_millis(300);
    let host = host(&release, config);
    // The one slot is busy: a second task waits, then gives up.
    let mut busy = host
        .run(Task::rdd(command.clone(), 0, ints(v, 0..3)))
        .unwrap();
    assert!(busy.next().is_some());
    match host.run(Task::rdd(command.clone(), 0, ints(v, 0..3))) {
        Err(TaskError::PoolExhausted { max_workers: 1, .. }) => {}
        other => panic!("{:?}", other.map(|r| r.pid())),
    }
    busy.finish().unwrap();
    // Freed: the next task takes the idle worker.
    let pid = run(&host, Task::rdd(command.clone(), 0, ints(v, 0..3)))
        .unwrap()
        .1
        .pid;
    // A dead idle worker is noticed and replaced.
    sparkwire_worker::host::signal::kill(pid);
    wait_gone(pid);
    let replaced = run(&host, Task::rdd(command.clone(), 0, ints(v, 0..3)))
        .unwrap()
        .1
        .pid;
    assert_ne!(pid, replaced);
    // Tasks with another environment get another daemon; the idle worker of
    // the first environment is closed to make room (max 1).
    let other = Task::rdd(command.clone(), 0, ints(v, 0..3)).with_env("SPARKWIRE_TEST_KEY", "b");
    run(&host, other).unwrap();
    assert_eq!(host.stats().daemons, 2);
    assert_eq!(host.stats().live, 1);

    // Idle timeout.
    let mut config = quick(Mode::Daemon, false);
    config.idle_timeout = Duration::from_millis(200);
    let host = self::host(&release, config);
    run(&host, Task::rdd(command.clone(), 0, ints(v, 0..3))).unwrap();
    assert_eq!(host.stats().idle, 1);
    let deadline = Instant::now() + Duration::from_secs(20);
    while host.stats().idle > 0 {
        assert!(
            Instant::now() < deadline,
            "the idle worker was never closed"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(host.stats().live, 0);
}

#[test]
fn a_dead_daemon_is_restarted() {
    let release = oracle_versions().pop().expect("a pinned release");
    let v = SparkVersion::of_release(&release).unwrap();
    let command = cmd(&release, DOUBLE, json!({}));
    let host = host(&release, quick(Mode::Daemon, false));
    let first = run(&host, Task::rdd(command.clone(), 0, ints(v, 0..3)))
        .unwrap()
        .1
        .pid;
    // Kill the daemon's whole process group (the daemon and its workers), as
    // an OOM killer or an operator might.
    let pgid = std::fs::read_to_string(format!("/proc/{first}/stat"))
        .unwrap()
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .nth(2)
        .unwrap()
        .parse::<i32>()
        .unwrap();
    sparkwire_worker::host::signal::kill(pgid);
    sparkwire_worker::host::signal::kill(first);
    wait_gone(pgid);
    let (outs, s) = run(&host, Task::rdd(command, 0, ints(v, 0..3))).unwrap();
    assert_eq!(records(v, &outs), ["0", "2", "4"]);
    assert_ne!(s.pid, first);
}

#[test]
fn unix_sockets_are_refused_before_4_1() {
    for release in oracle_versions() {
        let v = SparkVersion::of_release(&release).unwrap();
        let python = Python::probe(python_for(&release).unwrap()).unwrap();
        let r = Host::new(python, quick(Mode::Daemon, true));
        assert_eq!(r.is_err(), v < SparkVersion::V4_1, "{release}");
    }
}

/// A worker that presents another secret than the one it was given is
/// refused: the task fails to launch, naming the rejected handshake, and
/// nothing runs.
#[test]
fn a_worker_with_a_wrong_secret_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let release = oracle_versions().pop().expect("a pinned release");
    let v = SparkVersion::of_release(&release).unwrap();
    let real = python_for(&release).unwrap();
    let dir = std::env::temp_dir().join(format!("sparkwire-wrong-secret-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // An interpreter wrapper that swaps the secret for one of the same length.
    let wrapper = dir.join("python");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\n[ -n \"$PYTHON_WORKER_FACTORY_SECRET\" ] && export PYTHON_WORKER_FACTORY_SECRET=$(printf '%064d' 0)\nexec {} \"$@\"\n",
            real.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let python = Python::probe(&wrapper).unwrap();
    let host = Host::new(python, quick(Mode::Simple, false)).unwrap();
    match host.run(Task::rdd(
        cmd(&release, DOUBLE, json!({})),
        0,
        ints(v, 0..3),
    )) {
        Err(TaskError::Launch { source, .. }) => {
            let text = source.to_string();
            assert!(text.contains("secret was rejected"), "{text}");
        }
        other => panic!("{:?}", other.map(|r| r.pid())),
    }
    assert_eq!(host.stats().live, 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_missing_interpreter_is_named() {
    let err = Python::probe("/nonexistent/python3").unwrap_err();
    assert!(err.to_string().contains("/nonexistent/python3"), "{err}");
}
