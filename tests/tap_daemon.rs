//! `sparkwire tap` in daemon mode, end to end, for every pinned release: the
//! real `pyspark.daemon` runs behind `sparkwire tap`, which announces its own
//! port (through the daemon side-channel codec); we play the JVM through the
//! session and the blocking host adapter (two tasks on one reused worker, then
//! a kill by pid), and the capture directory `tap` wrote must decode completely
//! with `sparkwire decode --verify`, name the killed pid, and show our records.
//! Two of the tasks use a broadcast, as the JVM sends one (a file of its pickled
//! value named in the header): tap must copy that file into the capture byte
//! for byte, and record why it could not copy another whose file is gone.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::json;
use sparkwire_framing::{Frame, Secret};
use sparkwire_serializers::pickle::{self, Graph, Int, Profile, Value};
use sparkwire_serializers::pyspark::{Serializer, StreamEncoder};
use sparkwire_serializers::SparkVersion;
use sparkwire_testkit::oracle::python_for;
use sparkwire_testkit::pickle_desc::serializer_spec;
use sparkwire_testkit::{oracle_versions, unhex, with_oracle};
use sparkwire_worker::host::BlockingSession;
use sparkwire_worker::protocol::daemon::{kill_request, Announcement};
use sparkwire_worker::protocol::session::{Handshake, Session};
use sparkwire_worker::protocol::{BroadcastEntry, TaskHeader};

const TIMEOUT: Duration = Duration::from_secs(60);

const JOB: &str = "def job(split, it):\n    return (x + 100 for x in it)\n";
/// Reads broadcast 7 (`bc`, resolved by the worker through the header).
const BROADCAST_JOB: &str = "def job(split, it):\n    return (x + bc.value for x in it)\n";

/// `source`'s job pickled by the release's own PySpark; `bc` (when it uses it)
/// pickled as a reference to broadcast 7.
fn command(release: &str, ser: &Serializer, source: &str) -> Bytes {
    with_oracle(release, |o| {
        let mut req = json!({
            "op": "command_pickle",
            "source": source,
            "filename": "/jobs/tap_daemon.py", "name": "job",
            "deserializer": serializer_spec(ser), "serializer": serializer_spec(ser),
        });
        if source.contains("bc.") {
            req["broadcast_id"] = json!(7);
        }
        let r = o.call(req).unwrap();
        Bytes::from(unhex(r["data"].as_str().unwrap()))
    })
    .expect("oracle")
}

fn frames(ser: &Serializer, v: SparkVersion, xs: std::ops::Range<i64>) -> Vec<Frame> {
    let mut enc = StreamEncoder::new(ser.clone(), v).unwrap();
    for x in xs {
        enc.push_with(|g| g.add(Value::Int(Int::Small(x)))).unwrap();
    }
    let bytes = enc.finish().unwrap();
    let mut dec = sparkwire_framing::FrameDecoder::new();
    let mut buf = bytes::BytesMut::from(&bytes[..]);
    let mut out = Vec::new();
    while let sparkwire_framing::Step::Item(f) = dec.decode(&mut buf).unwrap() {
        out.push(f);
    }
    out
}

#[test]
fn tap_records_a_real_daemon_that_decode_reads_back_exactly() {
    let ser = Serializer::rdd_default();
    // Broadcast 7's value, 1000, pickled as PySpark dumps a broadcast into the
    // file the JVM names (the executor's copy is deleted with the broadcast).
    let value_dir =
        std::env::temp_dir().join(format!("sparkwire-tap-daemon-bc-{}", std::process::id()));
    std::fs::create_dir_all(&value_dir).unwrap();
    let value_file = value_dir.join("broadcast_7");
    let mut g = Graph::new();
    let thousand = g.add(Value::Int(Int::Small(1000)));
    g.set_root(thousand);
    let value = pickle::encode(&g, Profile::PYSPARK).unwrap();
    std::fs::write(&value_file, &value).unwrap();
    let bc = |id: i64, path: &std::path::Path| BroadcastEntry {
        id,
        path: Some(path.display().to_string()),
    };
    for release in oracle_versions() {
        let v = SparkVersion::of_release(&release).unwrap();
        let python = python_for(&release).expect("venv");
        let dir = std::env::temp_dir().join(format!(
            "sparkwire-tap-daemon-{release}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let secret = Secret::generate().unwrap();
        let mut tap = Command::new(env!("CARGO_BIN_EXE_sparkwire"))
            .args(["tap", "--", "-m", "pyspark.daemon"])
            .env("SPARKWIRE_TAP_PYTHON", &python)
            .env("SPARKWIRE_TAP_DIR", &dir)
            .env("PYTHON_WORKER_FACTORY_SECRET", secret.as_str())
            .env("SPARK_REUSE_WORKER", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut head = [0u8; 4];
        tap.stdout.as_mut().unwrap().read_exact(&mut head).unwrap();
        let Ok(Some((Announcement::Port(port), 4))) = Announcement::decode(&head, false) else {
            panic!("{release}: tap announced {head:?}");
        };
        let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let session = Session::new(v, Handshake::Daemon(secret.clone()));
        let mut conn = BlockingSession::connect(stream, session, TIMEOUT).unwrap();
        let cmd = command(&release, &ser, JOB);
        let bc_cmd = command(&release, &ser, BROADCAST_JOB);
        for split in 0..4 {
            let mut header = TaskHeader::example(if split < 2 {
                cmd.clone()
            } else {
                bc_cmd.clone()
            });
            header.partition_index = split;
            header.broadcasts.entries = match split {
                // Broadcast 8's file is gone: the worker loads values lazily and
                // this job never reads 8, so only tap notices.
                2 => vec![bc(7, &value_file), bc(8, &value_dir.join("gone"))],
                // The JVM removes 8 (−8 − 1) and the worker still holds 7.
                3 => vec![BroadcastEntry { id: -9, path: None }],
                _ => Vec::new(),
            };
            let out = conn
                .run_task(&header, frames(&ser, v, 0..3 + split as i64))
                .unwrap();
            assert!(out.reusable, "{release}: {:?}", out.items);
        }
        let pid = conn.pid();
        // Kill the worker through the daemon's stdin, as the JVM does, then close.
        let stdin = tap.stdin.as_mut().unwrap();
        stdin.write_all(&kill_request(pid)).unwrap();
        stdin.flush().unwrap();
        conn.close();
        drop(tap.stdin.take());
        let deadline = Instant::now() + TIMEOUT;
        while tap.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "{release}: tap did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }

        let out = Command::new(env!("CARGO_BIN_EXE_sparkwire"))
            .args(["decode", "--format", "json", "--verify"])
            .arg(&dir)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{release}: {stderr}");
        assert!(
            stderr.contains("every byte re-encodes identically"),
            "{stderr}"
        );
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        // The real daemon's own port, as it announced it to tap.
        assert!(doc["daemon"]["port"]
            .as_i64()
            .is_some_and(|p| p > 0 && p != i64::from(port)));
        assert_eq!(doc["daemon"]["kill_pids"], json!([pid]), "{release}");
        let c = &doc["connections"][0];
        assert_eq!(c["mode"], "daemon", "{release}");
        assert_eq!(c["pid"], json!(pid), "{release}");
        let outputs: Vec<serde_json::Value> = c["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["output_records"].clone())
            .collect();
        assert_eq!(
            outputs,
            [
                json!(["100", "101", "102"]),
                json!(["100", "101", "102", "103"]),
                json!(["1000", "1001", "1002", "1003", "1004"]),
                json!(["1000", "1001", "1002", "1003", "1004", "1005"])
            ],
            "{release}"
        );

        // The capture holds broadcast 7 byte for byte, and says why not 8.
        let recorded = std::fs::read(dir.join("broadcasts/7")).unwrap();
        assert!(recorded == value, "{release}: broadcast 7 differs");
        let missing = std::fs::read_to_string(dir.join("broadcasts/8.missing")).unwrap();
        let missing: serde_json::Value = serde_json::from_str(&missing).unwrap();
        assert_eq!(missing["reason"], "unreadable", "{release}");
        assert_eq!(
            missing["path"],
            value_dir.join("gone").display().to_string()
        );
        assert_eq!(
            doc["broadcast_files"],
            json!([
                {"id": 7, "bytes": value.len(), "missing": null},
                {"id": 8, "bytes": null, "missing": format!(
                    "{} unreadable: {}", value_dir.join("gone").display(), missing["error"].as_str().unwrap()
                )}
            ]),
            "{release}"
        );
        // Tap read every header: nothing in tap.log.
        assert!(
            doc.get("tap_log").is_none(),
            "{release}: {}",
            doc["tap_log"]
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
    let _ = std::fs::remove_dir_all(&value_dir);
}
