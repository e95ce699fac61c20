//! `sparkwire decode`'s views of real captures: shuffle-map output as Spark
//! routes it (checked against where the real JVM delivered each record), and
//! the filters and record limits that keep a transcript readable.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use sparkwire_testkit::golden_dir;

fn decode<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sparkwire"))
        .arg("decode")
        .args(args)
        .output()
        .unwrap()
}

fn json_of(dir: &Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![dir.as_os_str().to_owned(), "--format".into(), "json".into()];
    args.extend(extra.iter().map(Into::into));
    let out = decode(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn text_of(dir: &Path, extra: &[&str]) -> String {
    let mut args = vec![dir.as_os_str().to_owned()];
    args.extend(extra.iter().map(Into::into));
    let out = decode(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

/// The oracle is the JVM itself: in every release's `reduce_by_key`
/// recording, the records each map task's `add_shuffle_key` routed to
/// partition `p` (as decode shows them) are exactly the records the real
/// shuffle delivered to the reduce task of partition `p`.
#[test]
fn shuffle_map_output_is_routed_where_the_jvm_delivered_it() {
    let mut checked = 0;
    for release in ["3.5.9", "4.0.1", "4.1.4", "4.2.1", "4.3.0"] {
        let dir = golden_dir().join(format!("worker/spark-{release}/reduce_by_key"));
        let doc = json_of(&dir, &[]);
        let mut routed: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        let mut delivered: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        for c in doc["connections"].as_array().unwrap() {
            for t in c["tasks"].as_array().unwrap() {
                let records = strings(&t["output_records"]);
                match t["output_partitions"].as_array() {
                    Some(parts) => {
                        assert_eq!(parts.len(), records.len(), "{release}");
                        for (p, r) in parts.iter().zip(records) {
                            routed.entry(p.as_i64().unwrap()).or_default().push(r);
                        }
                    }
                    None => {
                        let p = t["partition_index"].as_i64().unwrap();
                        delivered
                            .entry(p)
                            .or_default()
                            .extend(strings(&t["input_records"]));
                    }
                }
            }
        }
        assert!(routed.len() > 1, "{release}: {routed:?}");
        for v in routed.values_mut().chain(delivered.values_mut()) {
            v.sort();
        }
        assert_eq!(routed, delivered, "{release}");
        checked += routed.values().map(Vec::len).sum::<usize>();
    }
    assert!(checked >= 15, "{checked}");
    // The text view groups them by partition.
    let t = text_of(&golden_dir().join("worker/spark-4.3.0/reduce_by_key"), &[]);
    assert!(
        t.contains(
            "    output: shuffle map output (add_shuffle_key, read by PairwiseRDD): 3 records\n      \
             partition 0: (0, 18), (2, 15)\n      partition 1: (1, 12)\n"
        ),
        "{t}"
    );
    // A reply cut inside the second bucket: the whole pairs before the cut.
    let src = golden_dir().join("worker/spark-4.3.0/reduce_by_key");
    let cut = std::env::temp_dir().join(format!("sparkwire-views-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cut);
    std::fs::create_dir_all(&cut).unwrap();
    std::fs::copy(src.join("to_worker.0.bin"), cut.join("to_worker.0.bin")).unwrap();
    let from = std::fs::read(src.join("from_worker.0.bin")).unwrap();
    std::fs::write(cut.join("from_worker.0.bin"), &from[..130]).unwrap();
    let out = decode(&[cut.as_os_str(), "--format".as_ref(), "json".as_ref()]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let task = &doc["connections"][0]["tasks"][0];
    assert_eq!(
        task["output_records"],
        serde_json::json!(["(0, 18)", "(2, 15)"])
    );
    assert_eq!(task["output_partitions"], serde_json::json!([0, 0]));
    let _ = std::fs::remove_dir_all(&cut);
    // The same in a pcap.
    let doc = json_of(&golden_dir().join("pcap/spark-3.5.9.pcap"), &[]);
    let shuffled = doc["connections"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["tasks"].as_array().unwrap())
        .filter(|t| t["output_partitions"].is_array())
        .count();
    assert!(shuffled > 0);
}

#[test]
fn connection_task_and_partition_filters_narrow_the_view() {
    let dir = golden_dir().join("worker/spark-4.3.0/reduce_by_key");
    let all = json_of(&dir, &[]);
    assert_eq!(all["connections"].as_array().unwrap().len(), 4);
    let one = json_of(&dir, &["--connection", "2", "--task", "0"]);
    let conns = one["connections"].as_array().unwrap();
    assert_eq!(conns.len(), 1);
    assert_eq!(conns[0]["name"], "2");
    assert_eq!(conns[0]["tasks"].as_array().unwrap().len(), 1);
    assert_eq!(conns[0]["tasks"][0], all["connections"][2]["tasks"][0]);
    let p1 = json_of(&dir, &["--partition", "1"]);
    let tasks: Vec<&serde_json::Value> = p1["connections"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["tasks"].as_array().unwrap())
        .collect();
    assert_eq!(tasks.len(), 2, "a map and a reduce task of partition 1");
    assert!(tasks.iter().all(|t| t["partition_index"] == 1));
    let t = text_of(&dir, &["--partition", "1"]);
    assert!(!t.contains("partition 0,"), "{t}");
    // A connection that is not there: a usage error naming those that are.
    let out = decode(&[dir.as_os_str(), "--connection".as_ref(), "9".as_ref()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no connection 9 (there are: 0, 1, 2, 3)"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn long_sections_show_a_screenful_and_count_the_rest() {
    let dir = golden_dir().join("worker/spark-4.3.0/batching");
    let t = text_of(&dir, &[]);
    assert!(
        t.contains(
            "    input: 20000 records: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, \
             18, 19, … and 19980 more\n"
        ),
        "{t}"
    );
    let longest = t.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(longest < 200, "a {longest}-character line");
    // --max-records 0: everything, as the JSON has it.
    let all = text_of(&dir, &["--max-records", "0"]);
    let doc = json_of(&dir, &[]);
    let inputs = strings(&doc["connections"][0]["tasks"][0]["input_records"]);
    assert_eq!(inputs.len(), 20000);
    assert!(
        all.contains(&format!("      {}\n", inputs[19999])),
        "one per line"
    );
    assert!(!all.contains("more\n"));
    // Long records go one per line.
    let two = text_of(&dir, &["--max-records", "2"]);
    assert!(
        two.contains("    input: 20000 records: 0, 1, … and 19998 more\n"),
        "{two}"
    );
}

#[test]
fn the_text_names_eval_types_call_sites_timing_and_py4j_calls() {
    let t = text_of(&golden_dir().join("worker/spark-4.3.0/sql_udf"), &[]);
    for want in [
        "eval type 100 (SQL_BATCHED_UDF)",
        "    call site: collect at ",
        "    timing: init ",
        "      udf 0: arguments at row offsets [",
    ] {
        assert!(t.contains(want), "missing {want:?} in\n{t}");
    }
    let doc = json_of(&golden_dir().join("worker/spark-4.3.0/sql_udf"), &[]);
    assert_eq!(
        doc["connections"][0]["tasks"][0]["eval_type_name"],
        "SQL_BATCHED_UDF"
    );
    let p = text_of(&golden_dir().join("pcap/spark-4.3.0.pcap"), &[]);
    assert!(
        p.contains("\n    calls: org.apache.spark.SparkConf.set ×11"),
        "{p}"
    );
    assert!(
        p.contains("accumulator updates (id, value) in 4 batches: (0, 15); (0, 15); none; none")
    );
}
