//! The JVM-side session, driven through the blocking host adapter, against the
//! real `pyspark.worker` of every pinned release: we play the JVM on a loopback
//! socket — simple mode (the worker connects back, authenticates, sends its
//! pid) and daemon mode (`pyspark.daemon` announces its port, forks a worker per
//! connection, which sends its pid and is authenticated by us) — send NON_UDF
//! tasks whose command each PySpark cloudpickled itself, and decode what the
//! worker answers. A layout mistake in any header field makes the real worker
//! fail or hang (bounded here by the adapter's timeout).

mod support;

use std::io::Read;
use std::net::TcpStream;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};
use support::{simple_worker, worker_log, TIMEOUT};

use bytes::{Bytes, BytesMut};
use serde_json::json;
use sparkwire_framing::{Frame, FrameDecoder, Secret, Step};
use sparkwire_serializers::pickle::{Int, Value};
use sparkwire_serializers::pyspark::{Serializer, StreamDecoder, StreamEncoder};
use sparkwire_testkit::oracle::python_for;
use sparkwire_testkit::pickle_desc::serializer_spec;
use sparkwire_testkit::{oracle_versions, unhex, with_oracle};
use sparkwire_worker::host::{BlockingSession, TaskOutcome};
use sparkwire_worker::protocol::daemon::{kill_request, Announcement};
use sparkwire_worker::protocol::session::{Handshake, Session};
use sparkwire_worker::protocol::{End, ReplyItem, SparkVersion, TaskEncoder, TaskHeader};

const JOB: &str = "def job(split, it):\n    for x in it:\n        if x == 13:\n            raise ValueError('thirteen')\n        yield x * 2 + split\n";

/// Runs one task on a fresh simple worker; everything it answered.
fn run_task(release: &str, header: &TaskHeader, data: &[u8]) -> TaskOutcome {
    let v = SparkVersion::of_release(release).unwrap();
    let (mut child, mut conn) = simple_worker(release, &format!("{release}-simple"));
    let outcome = conn.run_task(header, frames(data)).unwrap();
    conn.close();
    let _ = child.wait();
    record_seed(v, header, data, &outcome);
    outcome
}

/// The frames of an encoded stream (without its END_OF_DATA_SECTION, which the
/// session sends).
fn frames(data: &[u8]) -> Vec<Frame> {
    let mut dec = FrameDecoder::new();
    let mut buf = BytesMut::from(data);
    let mut out = Vec::new();
    while let Step::Item(f) = dec.decode(&mut buf).unwrap() {
        out.push(f);
    }
    assert!(buf.is_empty());
    out
}

/// With `SPARKWIRE_RECORD_CORPUS=DIR`, saves both directions as seeds for the
/// `worker_streams` fuzz target (its two control bytes first: version and
/// direction, then the chunk split).
fn record_seed(v: SparkVersion, header: &TaskHeader, data: &[u8], outcome: &TaskOutcome) {
    let Some(dir) = std::env::var_os("SPARKWIRE_RECORD_CORPUS") else {
        return;
    };
    let dir = std::path::Path::new(&dir).join("worker_streams");
    std::fs::create_dir_all(&dir).unwrap();
    let vi = SparkVersion::ALL.iter().position(|x| *x == v).unwrap() as u8;
    let enc = TaskEncoder::new(v);
    let mut to_worker = vec![vi << 1, 0x40];
    enc.header(header, &mut to_worker).unwrap();
    to_worker.extend(data);
    enc.end_of_data(&mut to_worker);
    enc.finish(-4, &mut to_worker);
    let mut from_worker = vec![(vi << 1) | 1, 0x40];
    from_worker.extend(sparkwire_worker::protocol::encode_reply(&outcome.items, v).unwrap());
    let n = std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0);
    std::fs::write(dir.join(format!("{v}-{n}-to-worker.bin")), to_worker).unwrap();
    std::fs::write(dir.join(format!("{v}-{n}-from-worker.bin")), from_worker).unwrap();
}

struct Reply {
    items: Vec<ReplyItem>,
    values: Vec<String>,
}

fn decode_reply(v: SparkVersion, outcome: TaskOutcome, ser: &Serializer) -> Reply {
    let mut data = Vec::new();
    for item in &outcome.items {
        if let ReplyItem::Data(b) = item {
            data.extend_from_slice(&(b.len() as i32).to_be_bytes());
            data.extend_from_slice(b);
        }
    }
    let values = StreamDecoder::new(ser.clone(), v)
        .load_all(&data)
        .unwrap()
        .iter()
        .map(|e| e.repr().unwrap())
        .collect();
    Reply {
        items: outcome.items,
        values,
    }
}

fn command(release: &str, de: &Serializer, ser: &Serializer) -> Vec<u8> {
    command_with(release, JOB, de, ser, json!({}))
}

fn command_with(
    release: &str,
    source: &str,
    de: &Serializer,
    ser: &Serializer,
    extra: serde_json::Value,
) -> Vec<u8> {
    with_oracle(release, |o| {
        let mut req = json!({
            "op": "command_pickle", "source": source, "filename": "/jobs/real_worker.py", "name": "job",
            "deserializer": serializer_spec(de), "serializer": serializer_spec(ser),
        });
        if let (Some(r), Some(e)) = (req.as_object_mut(), extra.as_object()) {
            r.extend(e.clone());
        }
        let r = o.call(req).unwrap();
        unhex(r["data"].as_str().unwrap())
    })
    .expect("oracle")
}

fn input(ser: &Serializer, v: SparkVersion, xs: impl Iterator<Item = i64>) -> Vec<u8> {
    let mut enc = StreamEncoder::new(ser.clone(), v).unwrap();
    for x in xs {
        enc.push_with(|g| g.add(Value::Int(Int::Small(x)))).unwrap();
    }
    enc.finish().unwrap()
}

#[test]
fn real_workers_run_our_tasks() {
    let ser = Serializer::rdd_default();
    for release in oracle_versions() {
        let v = SparkVersion::of_release(&release).unwrap();
        let mut header = TaskHeader::example(command(&release, &ser, &ser).into());
        header.partition_index = 3;
        header.context.partition_id = 3;
        header.context.local_properties =
            vec![("callSite.short".into(), "collect at job.py:1".into())];
        let out = run_task(&release, &header, &input(&ser, v, 0..12));
        let reply = decode_reply(v, out, &ser);
        let expected: Vec<String> = (0..12).map(|x| (x * 2 + 3).to_string()).collect();
        assert_eq!(reply.values, expected, "{release}: {:?}", reply.items);
        let timing = reply.items.iter().find_map(|i| match i {
            ReplyItem::Timing(t) => Some(*t),
            _ => None,
        });
        let t = timing.unwrap_or_else(|| panic!("{release}: no timing in {:?}", reply.items));
        assert!(
            t.boot_ms <= t.init_ms && t.init_ms <= t.finish_ms,
            "{release}: {t:?}"
        );
        assert_eq!(
            t.processing_ms.is_some(),
            v >= SparkVersion::V4_2,
            "{release}"
        );
        assert_eq!(
            reply.items.last(),
            Some(&ReplyItem::End(End::Reuse)),
            "{release}"
        );
    }
}

#[test]
fn real_workers_report_exceptions() {
    let ser = Serializer::rdd_default();
    for release in oracle_versions() {
        let v = SparkVersion::of_release(&release).unwrap();
        let header = TaskHeader::example(command(&release, &ser, &ser).into());
        let out = run_task(&release, &header, &input(&ser, v, 10..20));
        let reply = decode_reply(v, out, &ser);
        // AutoBatched writes its first batches (1, 2 items) before record 13 fails.
        assert_eq!(reply.values, ["20", "22", "24"], "{release}");
        match reply.items.last() {
            Some(ReplyItem::Exception(text)) => {
                assert!(text.contains("ValueError: thirteen"), "{release}: {text}")
            }
            other => panic!("{release}: expected an exception, got {other:?}"),
        }
    }
}

/// A broadcast (announced in the header with the file holding its pickled value)
/// and an accumulator (reported back as a pickled `(id, value)` update).
#[test]
fn real_workers_read_broadcasts_and_report_accumulators() {
    use sparkwire_serializers::pickle::{self, Graph, Profile};
    use sparkwire_worker::protocol::BroadcastEntry;

    const SRC: &str =
        "def job(split, it):\n    for x in it:\n        acc.add(x)\n        yield x + bc.value\n";
    let ser = Serializer::rdd_default();
    let dir = std::env::temp_dir().join(format!("sparkwire-bc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("broadcast_7");
    let mut g = Graph::new();
    let hundred = g.add(Value::Int(Int::Small(100)));
    g.set_root(hundred);
    std::fs::write(&path, pickle::encode(&g, Profile::PYSPARK).unwrap()).unwrap();
    for release in oracle_versions() {
        let v = SparkVersion::of_release(&release).unwrap();
        let cmd = command_with(
            &release,
            SRC,
            &ser,
            &ser,
            json!({"broadcast_id": 7, "accumulator_id": 5}),
        );
        let mut header = TaskHeader::example(cmd.into());
        // (Removing a broadcast the worker does not hold raises KeyError in the
        // worker: the JVM only removes what it added on that connection.)
        header.broadcasts.entries = vec![BroadcastEntry {
            id: 7,
            path: Some(path.display().to_string()),
        }];
        let out = run_task(&release, &header, &input(&ser, v, 1..5));
        let reply = decode_reply(v, out, &ser);
        assert_eq!(
            reply.values,
            ["101", "102", "103", "104"],
            "{release}: {:?}",
            reply.items
        );
        let updates: Vec<String> = reply
            .items
            .iter()
            .filter_map(|i| match i {
                ReplyItem::Accumulator(b) => {
                    Some(pickle::repr(&pickle::decode_slice(b).unwrap().graph).unwrap())
                }
                _ => None,
            })
            .collect();
        assert_eq!(updates, ["(5, 10)"], "{release}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Waits (bounded) until process `pid` has exited: gone, or a zombie awaiting
/// its parent.
fn wait_until_dead(pid: i32) {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // The state follows the parenthesised command name.
        let state = stat
            .rsplit_once(") ")
            .and_then(|(_, rest)| rest.chars().next());
        if matches!(state, None | Some('Z' | 'X')) {
            return;
        }
        assert!(Instant::now() < deadline, "worker {pid} was not killed");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A started `pyspark.daemon`: its port and its stdin (kill-by-pid requests;
/// closing it shuts the daemon down).
struct Daemon {
    child: Child,
    stdin: Option<ChildStdin>,
    port: u16,
    secret: Secret,
}

impl Daemon {
    fn start(release: &str) -> Daemon {
        let python = python_for(release).expect("venv");
        let secret = Secret::generate().unwrap();
        let mut child = Command::new(python)
            .args(["-m", "pyspark.daemon"])
            .env("PYTHON_WORKER_FACTORY_SECRET", secret.as_str())
            .env("SPARK_REUSE_WORKER", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(worker_log(&format!("{release}-daemon"))).unwrap())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let mut head = [0u8; 4];
        stdout.read_exact(&mut head).unwrap();
        let port = match Announcement::decode(&head, false) {
            Ok(Some((Announcement::Port(p), 4))) => p,
            other => panic!("{release}: daemon announced {other:?}"),
        };
        let stdin = child.stdin.take();
        Daemon {
            child,
            stdin,
            port,
            secret,
        }
    }

    fn connect(&self, v: SparkVersion) -> BlockingSession<TcpStream> {
        let stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        let session = Session::new(v, Handshake::Daemon(self.secret.clone()));
        BlockingSession::connect(stream, session, TIMEOUT).unwrap()
    }

    fn kill(&mut self, pid: i32) {
        use std::io::Write;
        let stdin = self.stdin.as_mut().unwrap();
        stdin.write_all(&kill_request(pid)).unwrap();
        stdin.flush().unwrap();
    }

    /// Closes its stdin, which makes it exit; waits (bounded) for that.
    fn stop(mut self) {
        self.stdin = None;
        let deadline = Instant::now() + TIMEOUT;
        while self.child.try_wait().unwrap().is_none() {
            assert!(
                Instant::now() < deadline,
                "the daemon did not exit on stdin EOF"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Daemon mode: several tasks back to back on one forked worker (reused, as
/// SPARK_REUSE_WORKER asks), a second worker forked for a second connection,
/// a worker killed by pid through the daemon's stdin, and the daemon stopping
/// when its stdin closes.
#[test]
fn daemon_workers_run_tasks_back_to_back_and_die_by_pid() {
    let ser = Serializer::rdd_default();
    for release in oracle_versions() {
        let v = SparkVersion::of_release(&release).unwrap();
        let cmd: Bytes = command(&release, &ser, &ser).into();
        let mut daemon = Daemon::start(&release);
        let mut first = daemon.connect(v);
        for split in 0..3 {
            let mut header = TaskHeader::example(cmd.clone());
            header.partition_index = split;
            header.context.partition_id = split;
            let out = first
                .run_task(&header, frames(&input(&ser, v, 0..5)))
                .unwrap();
            assert!(out.reusable, "{release} task {split}: {:?}", out.items);
            assert_eq!(out.items.last(), Some(&ReplyItem::End(End::Reuse)));
            let reply = decode_reply(v, out, &ser);
            let want: Vec<String> = (0..5).map(|x| (x * 2 + split).to_string()).collect();
            assert_eq!(reply.values, want, "{release} task {split}");
        }
        assert_eq!(first.session().tasks(), 3);

        let mut second = daemon.connect(v);
        assert_ne!(
            first.pid(),
            second.pid(),
            "{release}: one fork per connection"
        );
        daemon.kill(second.pid());
        // The daemon reads its stdin asynchronously: wait until the worker is gone.
        wait_until_dead(second.pid());
        let err = second
            .run_task(
                &TaskHeader::example(cmd.clone()),
                frames(&input(&ser, v, 0..3)),
            )
            .expect_err("a killed worker cannot answer");
        let shown = err.to_string();
        assert!(
            shown.contains("closed the connection")
                || shown.contains("reading a task's reply")
                || shown.contains("sending a task"),
            "{release}: {shown}"
        );
        // The first worker is untouched.
        let out = first
            .run_task(
                &TaskHeader::example(cmd.clone()),
                frames(&input(&ser, v, 1..3)),
            )
            .unwrap();
        assert_eq!(decode_reply(v, out, &ser).values, ["2", "4"], "{release}");
        first.close();
        second.close();
        daemon.stop();
    }
}

/// A large input and output stream through the worker at once: the adapter's
/// writer thread keeps sending while the reader takes the results, so neither
/// side's socket buffer can deadlock the task.
#[test]
fn large_tasks_stream_both_ways_without_deadlock() {
    let ser = Serializer::rdd_default();
    let release = oracle_versions()
        .into_iter()
        .last()
        .expect("a pinned release");
    let v = SparkVersion::of_release(&release).unwrap();
    let header = TaskHeader::example(command(&release, &ser, &ser).into());
    let n = 300_000i64;
    // 13 would raise: the job fails on it, so skip it.
    let data = input(&ser, v, (0..n).filter(|x| *x != 13));
    let (mut child, mut conn) = simple_worker(&release, &format!("{release}-large"));
    let mut count = 0usize;
    let mut sum = 0i64;
    let dec_ser = ser.clone();
    let reusable = conn
        .run_task_with(&header, frames(&data), |item| {
            if let ReplyItem::Data(b) = item {
                let mut framed = (b.len() as i32).to_be_bytes().to_vec();
                framed.extend_from_slice(&b);
                for e in StreamDecoder::new(dec_ser.clone(), v)
                    .load_all(&framed)
                    .unwrap()
                {
                    count += 1;
                    sum += e.repr().unwrap().parse::<i64>().unwrap();
                }
            }
        })
        .unwrap();
    assert!(reusable);
    assert_eq!(count as i64, n - 1);
    assert_eq!(sum, (0..n).filter(|x| *x != 13).map(|x| x * 2).sum::<i64>());
    conn.close();
    let _ = child.wait();
}
