//! `sparkwire decode` on damaged and ambiguous captures: what it shows up to
//! the damage, the JSON `error` object, exit statuses, the release heading,
//! the layout that got furthest, and `--verify` on what was not decoded.
//! (`inspect/tests/damaged_goldens.rs` cuts and flips every golden capture
//! at the library level.)

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sparkwire_testkit::golden_dir;

fn sparkwire() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sparkwire"))
}

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/capture-spark-4.3.0")
}

/// A scratch directory of this test process, emptied.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sparkwire-damaged-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A copy of capture directory `src`'s connection `n` with each direction
/// cut to the given length (`None`: whole).
fn cut_copy(src: &Path, n: &str, to: Option<usize>, from: Option<usize>, name: &str) -> PathBuf {
    let d = scratch(name);
    for (file, cut) in [("to_worker", to), ("from_worker", from)] {
        let bytes = std::fs::read(src.join(format!("{file}.{n}.bin"))).unwrap();
        let end = cut.unwrap_or(bytes.len());
        std::fs::write(d.join(format!("{file}.{n}.bin")), &bytes[..end]).unwrap();
    }
    d
}

fn decode(args: &[&std::ffi::OsStr]) -> Output {
    sparkwire().arg("decode").args(args).output().unwrap()
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stdout));
    })
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_reply_cut_inside_a_frame_shows_the_task_and_where_it_stopped() {
    // The bundled capture's reply, cut at byte 112: inside its second item.
    let d = cut_copy(&example(), "0", None, Some(112), "reply112");
    let out = decode(&[d.as_os_str()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let t = text(&out);
    for want in [
        "task 0: partition 0, stage 1",
        "input: 4 records: 1, 2, 3, 4",
        "output: 1 records: 101",
        "decoding stopped: from_worker, reply to task 0, item 1, stream byte 93 (cut): \
         the recording ends inside a reply item at stream byte 93 (19 bytes of it recorded)",
    ] {
        assert!(t.contains(want), "missing {want:?} in\n{t}");
    }
    assert!(
        stderr(&out).contains("incomplete: connection 0, from_worker, reply to task 0"),
        "{}",
        stderr(&out)
    );
    let doc = json(&decode(&[
        d.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
    ]));
    let c = &doc["connections"][0];
    assert_eq!(c["tasks"][0]["output_records"], serde_json::json!(["101"]));
    assert_eq!(
        c["error"],
        serde_json::json!({
            "direction": "from_worker",
            "section": "reply to task 0",
            "task": 0,
            "item": 1,
            "offset": 93,
            "kind": "cut",
            "reason": "the recording ends inside a reply item at stream byte 93 (19 bytes of it recorded)"
        })
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_task_cut_inside_its_header_names_the_header_and_the_replies_it_strands() {
    let d = cut_copy(&example(), "0", Some(1000), None, "to1000");
    let out = decode(&[d.as_os_str(), "--format".as_ref(), "json".as_ref()]);
    assert_eq!(out.status.code(), Some(1));
    let c = &json(&out)["connections"][0];
    assert_eq!(c["error"]["direction"], "to_worker");
    assert_eq!(c["error"]["section"], "task 0 header");
    assert_eq!(c["error"]["offset"], 6);
    assert_eq!(c["error"]["kind"], "cut");
    // The worker's reply answers a task the cut direction does not hold: not
    // "tolerated trailing bytes".
    assert_eq!(c["further_errors"][0]["direction"], "from_worker");
    assert_eq!(c["trailing_bytes"], 0);
    // Everything read before the cut (issue 16), equal to what the whole
    // capture's task 0 holds; the 4.3 layout read furthest, so it alone fits.
    assert_eq!(c["layouts_that_fit"], serde_json::json!(["4.3"]));
    let whole = json(&decode(&[
        example().as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
    ]));
    let t = &whole["connections"][0]["tasks"][0];
    let ctx = &t["task_context"];
    let p = &c["error"]["partial_task"];
    assert_eq!(p["index"], 0);
    assert_eq!(p["cut_at"], 1000);
    assert_eq!(p["field"], "command");
    assert_eq!(p["field_offset"], 699);
    assert_eq!(p["field_recorded"], 1000 - 699);
    let pickle = t["command"]["bytes"].as_u64();
    assert_eq!(p["field_needed"].as_u64(), pickle.map(|n| 4 + n), "{t}");
    let read: Vec<(String, String)> = p["read"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["name"].as_str().unwrap().into(),
                f["value"].as_str().unwrap().into(),
            )
        })
        .collect();
    let text_of = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let count = |v: &serde_json::Value| match v {
        serde_json::Value::Array(a) => a.len().to_string(),
        serde_json::Value::Object(o) => o.len().to_string(),
        other => panic!("{other}"),
    };
    let want = [
        ("partition", text_of(&t["partition_index"])),
        ("python", text_of(&t["python_version"])),
        ("stage", text_of(&ctx["stage_id"])),
        ("partition id", text_of(&ctx["partition_id"])),
        ("attempt", text_of(&ctx["attempt_number"])),
        ("task attempt id", text_of(&ctx["task_attempt_id"])),
        ("cpus", text_of(&ctx["cpus"])),
        ("resources", count(&ctx["resources"])),
        ("local properties", count(&ctx["local_properties"])),
    ];
    for (name, value) in want {
        assert!(
            read.contains(&(name.to_owned(), value.clone())),
            "{name} {value} not in {read:?}"
        );
    }
    assert!(read.contains(&("broadcasts".into(), count(&t["broadcasts"]))));
    assert!(read.contains(&("eval type".into(), text_of(&t["eval_type"]))));
    let out = decode(&[d.as_os_str()]);
    let shown = text(&out);
    assert!(
        shown.contains(
            "    task 0 (header cut at stream byte 1000, inside command): partition 0, \
             python 3.11, stage 1, partition id 0, attempt 0, task attempt id 2, cpus 1, \
             resources 0, local properties 4, spark files dir /tmp/spark-"
        ) && shown.contains("includes 0, broadcasts 1, eval type 0, runner conf 0, eval conf 0\n")
            && shown.contains("in field command at stream byte 699 (301 of 1715 bytes)"),
        "{shown}"
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_cut_data_section_keeps_the_frames_before_it() {
    // A 4.2.1 RDD task whose data section is cut in its last frames.
    let src = golden_dir().join("worker/spark-4.2.1/batching");
    let to = std::fs::read(src.join("to_worker.0.bin")).unwrap();
    let d = cut_copy(&src, "0", Some(to.len() * 2 / 3), None, "data");
    let doc = json(&decode(&[
        d.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
    ]));
    let c = &doc["connections"][0];
    assert_eq!(c["error"]["section"], "task 0 data section");
    let item = c["error"]["item"].as_u64().unwrap();
    assert!(item > 0, "{}", c["error"]);
    // Each data frame before the stop is a batch of records, all shown.
    assert!(
        !c["tasks"][0]["input_records"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{}",
        c["tasks"][0]
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn exit_status_is_0_complete_1_damaged_2_usage() {
    assert_eq!(decode(&[example().as_os_str()]).status.code(), Some(0));
    let d = cut_copy(&example(), "0", None, Some(50), "exit");
    assert_eq!(decode(&[d.as_os_str()]).status.code(), Some(1));
    // A connection ending before its pid: reported as unread, still exit 1.
    let d2 = cut_copy(&example(), "0", None, Some(2), "pid");
    let out = decode(&[d2.as_os_str(), "--format".as_ref(), "json".as_ref()]);
    assert_eq!(out.status.code(), Some(1));
    let c = &json(&out)["connections"][0];
    assert_eq!(
        (c["mode"].as_str(), c["pid"].is_null()),
        (Some("unknown"), true)
    );
    assert_eq!(
        (
            &c["error"]["section"],
            &c["error"]["kind"],
            &c["error"]["offset"]
        ),
        (
            &serde_json::json!("auth"),
            &serde_json::json!("cut"),
            &serde_json::json!(0)
        ),
        "{c}"
    );
    // A damaged pcap file is bad input too.
    let pcap = std::fs::read(golden_dir().join("pcap/spark-4.3.0.pcap")).unwrap();
    let cut = scratch("pcap").join("cut.pcap");
    std::fs::write(&cut, &pcap[..pcap.len() / 2]).unwrap();
    assert_eq!(decode(&[cut.as_os_str()]).status.code(), Some(1));
    std::fs::write(&cut, &pcap[..10]).unwrap();
    assert_eq!(decode(&[cut.as_os_str()]).status.code(), Some(1));
    // Usage and I/O.
    let missing = scratch("missing").join("nothing-here");
    assert_eq!(decode(&[missing.as_os_str()]).status.code(), Some(2));
    let out = decode(&[example().as_os_str(), "--spark".as_ref(), "9.9".as_ref()]);
    assert_eq!(out.status.code(), Some(2));
    for p in [d, d2, cut.parent().unwrap().to_path_buf()] {
        let _ = std::fs::remove_dir_all(p);
    }
}

#[test]
fn auto_reports_the_layout_that_got_furthest() {
    // A 4.2.1 connection with its tail cut: no layout reads every byte; 4.2's
    // gets furthest, and auto says what `--spark 4.2` says.
    let src = golden_dir().join("worker/spark-4.2.1/map_collect");
    let to = std::fs::read(src.join("to_worker.0.bin")).unwrap();
    let d = cut_copy(&src, "0", Some(to.len() - 20), None, "furthest");
    let run = |spark: &str| {
        let out = decode(&[
            d.as_os_str(),
            "--format".as_ref(),
            "json".as_ref(),
            "--spark".as_ref(),
            spark.as_ref(),
        ]);
        assert_eq!(out.status.code(), Some(1));
        json(&out)["connections"][0].clone()
    };
    let (auto, forced) = (run("auto"), run("4.2"));
    assert_eq!(auto["spark_version"], "4.2");
    assert_eq!(auto["layouts_that_fit"], serde_json::json!(["4.2"]));
    assert_eq!(auto["error"], forced["error"]);
    assert!(
        auto["error"]["offset"].as_u64().unwrap() > 2000,
        "{}",
        auto["error"]
    );
    assert_eq!(auto["tasks"], forced["tasks"]);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn verify_fails_on_worker_connections_a_forced_layout_did_not_decode() {
    let pcap = golden_dir().join("pcap/spark-4.3.0.pcap");
    let out = decode(&[
        pcap.as_os_str(),
        "--spark".as_ref(),
        "4.2".as_ref(),
        "--verify".as_ref(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(!err.contains("every byte re-encodes"), "{err}");
    assert_eq!(
        err.matches("layout does not read, so not verified").count(),
        2,
        "{err}"
    );
    assert!(
        text(&out).contains(
            "a worker connection that --spark 4.2 does not read (layouts that read it: 4.3)"
        ),
        "{}",
        text(&out)
    );
    // A cut capture: what was decoded re-encodes, the rest is named unverified.
    let d = cut_copy(&example(), "0", None, Some(112), "verify");
    let out = decode(&[d.as_os_str(), "--verify".as_ref()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(
            "verify: connection 0, from_worker: bytes 93..112 were not decoded, so not verified"
        ) && !err.contains("differs"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn releases_sharing_a_layout_are_both_named_unless_the_traffic_tells() {
    // A real 4.0.1 RDD task whose pickled functions' paths are made to name
    // no pyspark.core module (same-length rename, so every length prefix
    // stays right): 3.5 and 4.0 read it alike and nothing tells them apart.
    let src = golden_dir().join("worker/spark-4.0.1/map_collect");
    let mut to = std::fs::read(src.join("to_worker.0.bin")).unwrap();
    let (needle, other) = (b"/pyspark/core/", b"/pyspark/kore/");
    let mut renamed = 0;
    for i in 0..to.len().saturating_sub(needle.len()) {
        if &to[i..i + needle.len()] == needle {
            to[i..i + needle.len()].copy_from_slice(other);
            renamed += 1;
        }
    }
    assert!(renamed > 0);
    let d = scratch("shared");
    std::fs::write(d.join("to_worker.0.bin"), &to).unwrap();
    std::fs::copy(src.join("from_worker.0.bin"), d.join("from_worker.0.bin")).unwrap();
    let out = decode(&[d.as_os_str(), "--format".as_ref(), "json".as_ref()]);
    let c = &json(&out)["connections"][0];
    assert_eq!(c["spark_versions"], serde_json::json!(["3.5", "4.0"]));
    assert!(c["release_evidence"].is_null());
    let t = text(&decode(&[d.as_os_str()]));
    assert!(t.contains("connection 0 — Spark 3.5 or 4.0 ("), "{t}");
    let _ = std::fs::remove_dir_all(&d);

    // Real RDD captures of 3.5.9 and 4.0.1: the pickled functions' modules
    // tell them apart, and never name the wrong release.
    for (release, want) in [("3.5.9", "3.5"), ("4.0.1", "4.0")] {
        let root = golden_dir().join("worker").join(format!("spark-{release}"));
        for job in std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().path()) {
            if !job.is_dir() {
                continue;
            }
            let doc = json(&decode(&[
                job.as_os_str(),
                "--format".as_ref(),
                "json".as_ref(),
            ]));
            for c in doc["connections"].as_array().unwrap() {
                let versions = c["spark_versions"].as_array().unwrap();
                assert!(
                    versions.iter().any(|v| v == want),
                    "{}: {versions:?}",
                    job.display()
                );
                if c["layouts_that_fit"].as_array().unwrap().len() > 1
                    && !c["release_evidence"].is_null()
                {
                    assert_eq!(versions.len(), 1, "{}", job.display());
                }
            }
        }
    }
}
