//! `sparkwire frames` end to end: the real binary on the bundled examples (the
//! README's main-job command) and on broken input.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

fn sparkwire(args: &[&str], stdin: &[u8]) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sparkwire"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn readme_main_job_decodes_the_bundled_worker_exception() {
    let (code, out, err) = sparkwire(&["frames", "examples/worker-exception.bin"], b"");
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].contains("pickle (protocol 5)"), "{out}");
    assert!(
        lines[1].contains("marker  PYTHON_EXCEPTION_THROWN (-2)"),
        "{out}"
    );
    assert!(
        lines[2].contains("\"Traceback (most recent call last):\\n  Fil\"…"),
        "{out}"
    );
    assert!(
        lines[3].starts_with("2 frames (206 payload bytes), 0 nulls, 1 markers; 218 bytes"),
        "{out}"
    );
}

#[test]
fn json_output_describes_every_item() {
    let (code, out, _) = sparkwire(
        &[
            "frames",
            "--format",
            "json",
            "--payloads",
            "examples/textfile-records.bin",
        ],
        b"",
    );
    assert_eq!(code, 0);
    let doc: Value = serde_json::from_str(&out).unwrap();
    let items = doc["items"].as_array().unwrap();
    assert_eq!(items.len(), 9);
    assert_eq!(items[2]["utf8"], "naïve café ☕");
    assert_eq!(items[5]["kind"], "null");
    assert_eq!(items[8]["name"], "END_OF_STREAM");
    assert_eq!(items[0]["hex"], "6669727374206c696e65");
    assert_eq!(doc["bytes"], 372);
    assert!(doc["error"].is_null());
}

#[test]
fn malformed_input_exits_1_and_says_where() {
    let mut input = vec![0, 0, 0, 1, b'x'];
    input.extend_from_slice(&(-7i32).to_be_bytes());
    let (code, out, err) = sparkwire(&["frames", "-"], &input);
    assert_eq!(code, 1);
    assert!(out.contains("#0     @0"), "{out}");
    assert!(
        err.contains("frame 1 at byte 5: unknown special length -7"),
        "{err}"
    );

    let (code, out, _) = sparkwire(&["frames", "--format", "json", "-"], &[0, 0, 0, 9, 1]);
    assert_eq!(code, 1);
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["error"]["offset"], 0);
    assert_eq!(doc["error"]["stream_corrupt"], true);

    let (code, _, err) = sparkwire(
        &["frames", "--max-frame-len", "3", "-"],
        &[0, 0, 0, 4, 1, 2, 3, 4],
    );
    assert_eq!(code, 1);
    assert!(err.contains("length 4 exceeds limit 3"), "{err}");
}

#[test]
fn missing_file_is_a_usage_error() {
    let (code, _, err) = sparkwire(&["frames", "does/not/exist.bin"], b"");
    assert_eq!(code, 2);
    assert!(err.contains("sparkwire:"), "{err}");
}
