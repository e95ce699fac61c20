//! Our task encoder and reply decoder against the real `pyspark.worker` of every
//! pinned release: we play the JVM on a loopback socket (non-daemon mode: the
//! worker connects back, authenticates, sends its pid), send a NON_UDF task whose
//! command each PySpark cloudpickled itself, and decode what the worker answers.
//! A layout mistake in any header field makes the real worker fail or hang.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use serde_json::json;
use sparkwire_framing::auth::blocking::authenticate_client;
use sparkwire_framing::{Secret, Step};
use sparkwire_serializers::pickle::{Int, Value};
use sparkwire_serializers::pyspark::{Serializer, StreamDecoder, StreamEncoder};
use sparkwire_testkit::oracle::python_for;
use sparkwire_testkit::pickle_desc::serializer_spec;
use sparkwire_testkit::{oracle_versions, unhex, with_oracle};
use sparkwire_worker::protocol::{End, ReplyDecoder, ReplyItem, SparkVersion, TaskHeader};

const JOB: &str = "def job(split, it):\n    for x in it:\n        if x == 13:\n            raise ValueError('thirteen')\n        yield x * 2 + split\n";

/// Runs one task on a fresh real worker; returns everything it wrote after its pid.
fn run_task(release: &str, header: &TaskHeader, data: &[u8]) -> Vec<u8> {
    let v = SparkVersion::of_release(release).unwrap();
    let python = python_for(release).expect("venv");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let secret = Secret::generate().unwrap();
    let mut child = Command::new(python)
        .args(["-m", "pyspark.worker"])
        .env("PYTHON_WORKER_FACTORY_PORT", port.to_string())
        .env("PYTHON_WORKER_FACTORY_SECRET", secret.as_str())
        .env("SPARK_AUTH_SOCKET_TIMEOUT", "10")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(
            std::fs::File::create(
                std::env::temp_dir().join(format!("sparkwire-worker-{release}.log")),
            )
            .unwrap(),
        )
        .spawn()
        .unwrap();
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut stream: TcpStream = loop {
        match listener.accept() {
            Ok((s, _)) => break s,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("worker did not connect back: {e}"),
        }
    };
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    authenticate_client(&mut stream, &secret).unwrap();
    let mut pid = [0u8; 4];
    stream.read_exact(&mut pid).unwrap();
    assert_eq!(i32::from_be_bytes(pid) as u32, child.id());
    stream.write_all(&header.encode(v).unwrap()).unwrap();
    stream.write_all(data).unwrap();
    stream.write_all(&(-1i32).to_be_bytes()).unwrap();
    stream.write_all(&(-4i32).to_be_bytes()).unwrap();
    // Read until the worker closes; a reset after its last write still leaves
    // what it wrote (it exits without reading what it did not need).
    let mut out = Vec::new();
    let mut chunk = [0u8; 65536];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&chunk[..n]),
        }
    }
    let _ = child.wait();
    record_seed(v, header, data, &out);
    out
}

/// With `SPARKWIRE_RECORD_CORPUS=DIR`, saves both directions as seeds for the
/// `worker_streams` fuzz target (its two control bytes first: version and
/// direction, then the chunk split).
fn record_seed(v: SparkVersion, header: &TaskHeader, data: &[u8], reply: &[u8]) {
    let Some(dir) = std::env::var_os("SPARKWIRE_RECORD_CORPUS") else {
        return;
    };
    let dir = std::path::Path::new(&dir).join("worker_streams");
    std::fs::create_dir_all(&dir).unwrap();
    let vi = SparkVersion::ALL.iter().position(|x| *x == v).unwrap() as u8;
    let mut to_worker = vec![vi << 1, 0x40];
    to_worker.extend(header.encode(v).unwrap());
    to_worker.extend(data);
    to_worker.extend((-1i32).to_be_bytes());
    to_worker.extend((-4i32).to_be_bytes());
    let mut from_worker = vec![(vi << 1) | 1, 0x40];
    from_worker.extend(reply);
    let n = std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0);
    std::fs::write(dir.join(format!("{v}-{n}-to-worker.bin")), to_worker).unwrap();
    std::fs::write(dir.join(format!("{v}-{n}-from-worker.bin")), from_worker).unwrap();
}

struct Reply {
    items: Vec<ReplyItem>,
    values: Vec<String>,
}

fn decode_reply(v: SparkVersion, out: &[u8], ser: &Serializer) -> Reply {
    let mut dec = ReplyDecoder::new(v);
    let mut buf = BytesMut::from(out);
    let mut items = Vec::new();
    let mut data = Vec::new();
    loop {
        match dec.next(&mut buf).unwrap() {
            Step::Item(Some(ReplyItem::Data(b))) => {
                data.extend_from_slice(&(b.len() as i32).to_be_bytes());
                data.extend_from_slice(&b);
                items.push(ReplyItem::Data(b));
            }
            Step::Item(Some(item)) => items.push(item),
            Step::Item(None) => break,
            Step::NeedMore => panic!("reply cut short after {} items: {items:?}", items.len()),
        }
    }
    assert!(buf.is_empty(), "{} bytes after the reply", buf.len());
    assert_eq!(dec.offset(), out.len() as u64);
    let values = StreamDecoder::new(ser.clone(), v.serializers())
        .load_all(&data)
        .unwrap()
        .iter()
        .map(|e| e.repr().unwrap())
        .collect();
    Reply { items, values }
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
    let mut enc = StreamEncoder::new(ser.clone(), v.serializers()).unwrap();
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
        let reply = decode_reply(v, &out, &ser);
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
        let reply = decode_reply(v, &out, &ser);
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
        let reply = decode_reply(v, &out, &ser);
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
