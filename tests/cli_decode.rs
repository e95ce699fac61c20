//! `sparkwire decode` on the bundled real capture and on the golden transcripts.

use std::process::Command;

use sparkwire_testkit::golden_dir;

fn sparkwire() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sparkwire"))
}

/// Runs `sparkwire decode ARGS`, which must succeed; its standard output.
fn decode_ok<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Vec<u8> {
    let out = sparkwire().arg("decode").args(args).output().unwrap();
    let shown: Vec<_> = args.iter().map(|a| a.as_ref().to_string_lossy()).collect();
    assert!(
        out.status.success(),
        "decode {shown:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn example() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/capture-spark-4.3.0")
}

#[test]
fn json_has_the_documented_shape() {
    let out = decode_ok(&[example().as_os_str(), "--format".as_ref(), "json".as_ref()]);
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let c = &doc["connections"][0];
    assert_eq!(c["spark_version"], "4.3");
    assert_eq!(c["mode"], "simple");
    let t = &c["tasks"][0];
    for key in [
        "partition_index",
        "python_version",
        "eval_type",
        "task_context",
        "broadcasts",
        "command",
        "input_records",
        "input_markers",
        "output_records",
        "output_markers",
        "exception",
        "timing",
        "accumulators",
        "end",
    ] {
        assert!(t.get(key).is_some(), "missing {key}");
    }
    assert_eq!(t["input_records"], serde_json::json!(["1", "2", "3", "4"]));
    assert_eq!(
        t["output_records"],
        serde_json::json!(["101", "102", "103", "104"])
    );
    assert_eq!(t["accumulators"], serde_json::json!(["(0, 10)"]));
    assert_eq!(t["end"], "END_OF_STREAM");
    assert_eq!(
        t["command"]["serializer"],
        "AutoBatchedSerializer(CloudPickleSerializer())"
    );
}

#[test]
fn verify_passes_on_every_golden_transcript() {
    let root = golden_dir().join("worker");
    for v in std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
    {
        for job in std::fs::read_dir(&v)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_dir())
        {
            let out = sparkwire()
                .arg("decode")
                .arg(&job)
                .arg("--verify")
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}: {}",
                job.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

#[test]
fn a_forced_wrong_version_fails_and_says_where() {
    let dir = example();
    let out = sparkwire()
        .arg("decode")
        .args(["--spark", "3.5", "--to-worker"])
        .arg(dir.join("to_worker.0.bin"))
        .arg("--from-worker")
        .arg(dir.join("from_worker.0.bin"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("connection 0") && err.contains("to_worker") && err.contains("byte"),
        "{err}"
    );
}

#[test]
fn a_cut_capture_fails_and_says_where() {
    let tmp = std::env::temp_dir().join(format!("sparkwire-cut-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let to = std::fs::read(example().join("to_worker.0.bin")).unwrap();
    let from = std::fs::read(example().join("from_worker.0.bin")).unwrap();
    std::fs::write(tmp.join("to_worker.0.bin"), &to).unwrap();
    std::fs::write(tmp.join("from_worker.0.bin"), &from[..from.len() - 10]).unwrap();
    let out = sparkwire().arg("decode").arg(&tmp).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("from_worker") && err.contains("reply to task 0"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn pcap_files_are_decoded_and_verified() {
    for name in ["spark-3.5.9.pcap", "spark-4.3.0.pcapng"] {
        let path = golden_dir().join("pcap").join(name);
        let out = decode_ok(&[
            path.as_os_str(),
            "--format".as_ref(),
            "json".as_ref(),
            "--verify".as_ref(),
        ]);
        let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let kinds: Vec<&str> = doc["capture"]["tcp_connections"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["kind"].as_str().unwrap())
            .collect();
        for k in ["py4j", "worker", "data_socket", "accumulator_updates"] {
            assert!(kinds.contains(&k), "{name}: {kinds:?}");
        }
        // Worker connections are decoded in full, like recorded ones.
        let workers = kinds.iter().filter(|k| **k == "worker").count();
        assert_eq!(
            doc["connections"].as_array().unwrap().len(),
            workers,
            "{name}"
        );
        // The Py4J auth token never appears in the output.
        assert!(!String::from_utf8_lossy(&out).contains("\"A\\n"), "{name}");
    }
}

#[test]
fn a_killed_daemon_worker_is_reported() {
    let job = golden_dir().join("worker/spark-4.3.0/daemon_kill");
    let out = decode_ok(&[job.as_os_str(), "--verify".as_ref()]);
    let text = String::from_utf8_lossy(&out);
    assert!(
        text.contains("the JVM asked the daemon to kill this worker"),
        "{text}"
    );
}
