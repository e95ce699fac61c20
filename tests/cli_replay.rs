//! `sparkwire replay` against the golden transcripts recorded from real Spark
//! (`tests/golden/worker`): every task whose output does not depend on time
//! re-runs on the real worker of its release and must give the recorded
//! records; and the errors a user meets name what is wrong.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sparkwire_testkit::oracle::python_for;
use sparkwire_testkit::{golden_dir, oracle_versions};

/// Recordings whose output depends on time: the JVM killed the sleeping task
/// at a moment of its choosing, so the recorded reply is cut short.
const TIME_DEPENDENT: &[&str] = &["daemon_kill"];

fn replay(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sparkwire"))
        .arg("replay")
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn captures(release: &str) -> Vec<PathBuf> {
    let dir = golden_dir().join("worker").join(format!("spark-{release}"));
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    out
}

#[test]
fn every_golden_task_replays_to_the_recorded_records() {
    let mut replayed = 0;
    for release in oracle_versions() {
        let python = python_for(&release).expect("venv");
        for dir in captures(&release) {
            let name = dir.file_name().unwrap().to_string_lossy().to_string();
            if TIME_DEPENDENT.contains(&name.as_str()) {
                continue;
            }
            let o = replay(&[dir.as_os_str(), "--python".as_ref(), python.as_os_str()]);
            let shown = text(&o);
            assert_eq!(o.status.code(), Some(0), "{release} {name}: {shown}");
            let out = String::from_utf8_lossy(&o.stdout);
            let tasks = out.matches("\nconnection ").count();
            assert!(tasks > 0, "{release} {name}: {shown}");
            assert_eq!(out.matches("same as recorded").count(), tasks, "{shown}");
            replayed += tasks;
        }
    }
    eprintln!("replayed {replayed} golden tasks");
    assert!(replayed >= 50, "only {replayed} tasks replayed");
}

/// The README's example: the bundled capture, with the broadcast tap copied.
#[test]
fn the_bundled_example_replays() {
    let release = "4.3.0";
    let Some(python) = python_for(release) else {
        panic!("no venv for pyspark {release}");
    };
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/capture-spark-4.3.0");
    assert!(
        example.join("broadcasts/1").is_file(),
        "the example lost its broadcast copy"
    );
    let o = replay(&[example.as_os_str(), "--python".as_ref(), python.as_os_str()]);
    let shown = text(&o);
    assert_eq!(o.status.code(), Some(0), "{shown}");
    assert!(
        shown.contains("    101\n    102\n    103\n    104\n  same as recorded"),
        "{shown}"
    );
}

/// Worker connections reassembled from a pcap of a real Spark job replay too.
#[test]
fn pcap_captures_replay_to_the_recorded_records() {
    for release in oracle_versions() {
        let pcap = golden_dir()
            .join("pcap")
            .join(format!("spark-{release}.pcap"));
        let python = python_for(&release).expect("venv");
        let o = replay(&[pcap.as_os_str(), "--python".as_ref(), python.as_os_str()]);
        let shown = text(&o);
        assert_eq!(o.status.code(), Some(0), "{release}: {shown}");
        let out = String::from_utf8_lossy(&o.stdout);
        let tasks = out.matches("\nconnection ").count();
        assert!(tasks >= 3, "{release}: {shown}");
        assert_eq!(out.matches("same as recorded").count(), tasks, "{shown}");
    }
}

/// A copy of a golden capture with one recorded output record changed: the
/// replay must report the difference and exit 1.
#[test]
fn a_changed_recording_is_reported_record_by_record() {
    let release = oracle_versions().pop().expect("a release");
    let src = golden_dir()
        .join("worker")
        .join(format!("spark-{release}"))
        .join("map_collect");
    let dir = std::env::temp_dir().join(format!("sparkwire-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for f in ["to_worker.0.bin", "from_worker.0.bin"] {
        std::fs::copy(src.join(f), dir.join(f)).unwrap();
    }
    // ('a', 1) becomes ('b', 1) in the recorded reply: same lengths.
    let path = dir.join("from_worker.0.bin");
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes
        .windows(3)
        .position(|w| w == b"\x8c\x01a")
        .expect("the recorded reply holds the string 'a'");
    bytes[at + 2] = b'b';
    std::fs::write(&path, bytes).unwrap();
    let python = python_for(&release).unwrap();
    let o = replay(&[dir.as_os_str(), "--python".as_ref(), python.as_os_str()]);
    let shown = text(&o);
    assert_eq!(o.status.code(), Some(1), "{shown}");
    assert!(shown.contains("DIFFERS"), "{shown}");
    assert!(
        shown.contains("recorded ('b', 1), replayed ('a', 1)"),
        "{shown}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn errors_name_what_is_wrong() {
    let releases = oracle_versions();
    let release = releases.last().expect("a release");
    let capture = golden_dir()
        .join("worker")
        .join(format!("spark-{release}"))
        .join("map_collect");
    // A missing capture.
    let o = replay(&[Path::new("/nonexistent/capture").as_os_str()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("/nonexistent/capture"), "{}", text(&o));
    // A connection or task that is not there.
    let o = replay(&[capture.as_os_str(), "--connection".as_ref(), "9".as_ref()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("no connection 9"), "{}", text(&o));
    let o = replay(&[
        capture.as_os_str(),
        "--connection".as_ref(),
        "0".as_ref(),
        "--task".as_ref(),
        "7".as_ref(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("there is no task 7"), "{}", text(&o));
    // A negative task index is refused by the argument parser.
    let o = replay(&[capture.as_os_str(), "--task".as_ref(), "-1".as_ref()]);
    assert_eq!(o.status.code(), Some(2));
    // A Python with another pyspark release.
    if let Some(other) = releases
        .iter()
        .find(|r| !r.starts_with(&release[..3]))
        .and_then(|r| python_for(r))
    {
        let o = replay(&[capture.as_os_str(), "--python".as_ref(), other.as_os_str()]);
        assert_eq!(o.status.code(), Some(2));
        assert!(
            text(&o).contains(&format!("the capture needs pyspark {}", &release[..3])),
            "{}",
            text(&o)
        );
    }
}
