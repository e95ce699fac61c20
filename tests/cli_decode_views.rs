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
        p.contains(
            "accumulator updates in 4 batches: accumulator 0: 15; accumulator 0: 15; none; none"
        ),
        "{p}"
    );
}

const RELEASES: [&str; 5] = ["3.5.9", "4.0.1", "4.1.4", "4.2.1", "4.3.0"];

/// What the recorded job returned (`expected.json`, written by the recorder
/// from the driver's result).
fn expected(release: &str, job: &str) -> serde_json::Value {
    let path = golden_dir().join(format!("worker/spark-{release}/{job}/expected.json"));
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

fn tasks(doc: &serde_json::Value) -> Vec<&serde_json::Value> {
    doc["connections"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["tasks"].as_array().unwrap())
        .collect()
}

/// The oracle is the real job: the tasks whose input the JVM sent as key and
/// value frames in turn (`cartesian`, `zip`, `wholeTextFiles`, `binaryFiles`)
/// ran an identity map, so the pairs decode shows as their input, partition
/// by partition, are exactly what PySpark's `CartesianDeserializer` /
/// `PairDeserializer` produced — the job's result.
#[test]
fn pair_frame_inputs_are_the_pairs_python_read() {
    let mut checked = 0;
    for release in RELEASES {
        for (job, sorted) in [
            ("cartesian", false),
            ("zip", false),
            ("whole_text_files", true),
            ("binary_files", true),
        ] {
            let dir = golden_dir().join(format!("worker/spark-{release}/{job}"));
            let doc = json_of(&dir, &[]);
            let mut paired: Vec<&serde_json::Value> = tasks(&doc)
                .into_iter()
                .filter(|t| !t["input_frame_pairs"].is_null())
                .collect();
            assert!(!paired.is_empty(), "{release} {job}");
            paired.sort_by_key(|t| t["partition_index"].as_i64().unwrap());
            let (mut inputs, mut outputs) = (Vec::new(), Vec::new());
            for t in &paired {
                let deser = t["command"]["deserializer"].as_str().unwrap();
                let want = if job == "cartesian" {
                    "CartesianDeserializer("
                } else {
                    "PairDeserializer("
                };
                assert!(deser.starts_with(want), "{release} {job}: {deser}");
                assert!(t["input_frame_pairs"].as_u64().unwrap() > 0);
                inputs.extend(strings(&t["input_records"]));
                outputs.extend(strings(&t["output_records"]));
            }
            if sorted {
                inputs.sort();
                outputs.sort();
            }
            let want = strings(&expected(release, job)["ok"]);
            assert!(!want.is_empty(), "{release} {job}");
            assert_eq!(inputs, want, "{release} {job}: input");
            assert_eq!(outputs, want, "{release} {job}: output");
            checked += want.len();
        }
    }
    assert!(checked >= 5 * (18 + 8 + 2 + 2), "{checked}");
    let t = text_of(&golden_dir().join("worker/spark-4.3.0/cartesian"), &[]);
    assert!(
        t.contains("    input frames: 2 key/value frame pairs (CartesianDeserializer: the product of each pair's batches)\n"),
        "{t}"
    );
    // A recording that ends after the first pair's key frame: the whole pair
    // before it, and the key frame whose value never came gives nothing.
    let src = golden_dir().join("worker/spark-4.3.0/cartesian");
    let cut = std::env::temp_dir().join(format!("sparkwire-pairs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cut);
    std::fs::create_dir_all(&cut).unwrap();
    let to = std::fs::read(src.join("to_worker.1.bin")).unwrap();
    // 2199: the second key frame's first byte; 2223: its value frame's.
    assert_eq!((to.len(), &to[2223..2227]), (2263, &[0, 0, 0, 0x1c][..]));
    std::fs::write(cut.join("to_worker.0.bin"), &to[..2223]).unwrap();
    std::fs::copy(src.join("from_worker.1.bin"), cut.join("from_worker.0.bin")).unwrap();
    let out = decode(&[cut.as_os_str(), "--format".as_ref(), "json".as_ref()]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let task = &doc["connections"][0]["tasks"][0];
    assert_eq!(
        task["input_records"],
        serde_json::json!(["(0, 'x')", "(0, 'y')", "(0, 'z')"])
    );
    assert_eq!(task["input_frame_pairs"], 1);
    let _ = std::fs::remove_dir_all(&cut);
    let t = text_of(&golden_dir().join("worker/spark-4.3.0/zip"), &[]);
    assert!(
        t.contains("    input frames: 1 key/value frame pair (PairDeserializer: each pair's batches zipped)\n"),
        "{t}"
    );
}

/// A number or a list repr, added up the way the driver merges accumulator
/// updates (`+` for numbers, concatenation for the job's list accumulator).
#[derive(Debug, PartialEq)]
enum Acc {
    Int(i64),
    Float(f64),
    List(Vec<String>),
}

fn acc(repr: &str) -> Acc {
    if let Ok(i) = repr.parse() {
        Acc::Int(i)
    } else if let Some(items) = repr.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        Acc::List(items.split(", ").map(str::to_owned).collect())
    } else {
        Acc::Float(repr.parse().unwrap())
    }
}

fn add(a: Acc, b: Acc) -> Acc {
    match (a, b) {
        (Acc::Int(x), Acc::Int(y)) => Acc::Int(x + y),
        (Acc::Float(x), Acc::Float(y)) => Acc::Float(x + y),
        (Acc::List(mut x), Acc::List(y)) => {
            x.extend(y);
            Acc::List(x)
        }
        (a, b) => panic!("{a:?} + {b:?}"),
    }
}

/// The oracle is the driver: the recorder saved each accumulator's id and
/// final value, which the driver got by adding up the `(id, value)` updates
/// the workers sent; decode's updates, added up by id, give the same.
#[test]
fn accumulator_updates_add_up_to_the_drivers_values() {
    for release in RELEASES {
        let doc = json_of(
            &golden_dir().join(format!("worker/spark-{release}/accumulators")),
            &[],
        );
        let mut sums: BTreeMap<i64, Acc> = BTreeMap::new();
        let mut updates = 0;
        for t in tasks(&doc) {
            let raw = strings(&t["accumulators"]);
            let typed = t["accumulator_updates"].as_array().unwrap();
            assert_eq!(raw.len(), typed.len());
            for (u, r) in typed.iter().zip(raw) {
                let (id, value) = (u["id"].as_i64().unwrap(), u["value"].as_str().unwrap());
                // The raw field stays the repr of the whole (id, value) tuple.
                assert_eq!(r, format!("({id}, {value})"));
                let v = acc(value);
                let sum = match sums.remove(&id) {
                    Some(s) => add(s, v),
                    None => v,
                };
                sums.insert(id, sum);
                updates += 1;
            }
        }
        assert_eq!(updates, 9, "{release}: three tasks, three accumulators");
        let mut finals = BTreeMap::new();
        for e in strings(&expected(release, "accumulators")["ok"]) {
            let (id, value) = e
                .strip_prefix('(')
                .and_then(|e| e.strip_suffix(')'))
                .and_then(|e| e.split_once(", "))
                .unwrap();
            finals.insert(id.parse::<i64>().unwrap(), acc(value));
        }
        for s in sums.values_mut() {
            if let Acc::List(items) = s {
                items.sort_by_key(|i| i.parse::<i64>().unwrap());
            }
        }
        assert_eq!(sums, finals, "{release}");
    }
    // In a pcap, the updates the executor forwarded to the driver's
    // accumulator server are the ones the workers sent, id and value alike.
    for release in RELEASES {
        let name = format!("pcap/spark-{release}.pcap");
        let doc = json_of(&golden_dir().join(&name), &[]);
        let mut from_workers: Vec<serde_json::Value> = tasks(&doc)
            .iter()
            .flat_map(|t| t["accumulator_updates"].as_array().unwrap().clone())
            .collect();
        let mut to_driver: Vec<serde_json::Value> = doc["capture"]["tcp_connections"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["kind"] == "accumulator_updates")
            .flat_map(|c| c["accumulator_updates"].as_array().unwrap().clone())
            .flat_map(|b| b.as_array().unwrap().clone())
            .collect();
        assert!(!to_driver.is_empty(), "{name}");
        assert!(to_driver.iter().all(|u| u["id"].is_i64()), "{name}");
        let key = |u: &serde_json::Value| u.to_string();
        from_workers.sort_by_key(key);
        to_driver.sort_by_key(key);
        assert_eq!(from_workers, to_driver, "{name}");
    }
    // The text view: one line per update, `accumulator ID: VALUE`.
    let t = text_of(
        &golden_dir().join("worker/spark-4.3.0/broadcast_accum"),
        &[],
    );
    assert!(t.contains("\n    accumulator 0: 10\n"), "{t}");
    assert_eq!(expected("4.3.0", "broadcast_accum")["ok"][4], "10");
}

/// The oracle is the executor's log: for each worker connection of the
/// recorded jobs, PythonRunner logged `Times: total = …, boot = …, init = …,
/// finish = …` (saved by the recorder); decode's init and finish durations,
/// derived from the TIMING_DATA timestamps the same way, are the ones logged
/// (boot and total count from the executor's start, which no byte carries).
#[test]
fn timing_durations_are_the_ones_the_executor_logged() {
    for release in RELEASES {
        for job in [
            "cartesian",
            "zip",
            "whole_text_files",
            "binary_files",
            "accumulators",
        ] {
            let doc = json_of(
                &golden_dir().join(format!("worker/spark-{release}/{job}")),
                &[],
            );
            let mut decoded: Vec<(i64, i64)> = tasks(&doc)
                .iter()
                .map(|t| {
                    let tm = &t["timing"];
                    let init = tm["init_duration_ms"].as_i64().unwrap();
                    let finish = tm["finish_duration_ms"].as_i64().unwrap();
                    assert_eq!(
                        init,
                        tm["init_ms"].as_i64().unwrap() - tm["boot_ms"].as_i64().unwrap()
                    );
                    (init, finish)
                })
                .collect();
            let mut logged: Vec<(i64, i64)> = expected(release, job)["jvm_times"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| (t["init"].as_i64().unwrap(), t["finish"].as_i64().unwrap()))
                .collect();
            assert!(!logged.is_empty(), "{release} {job}");
            decoded.sort();
            logged.sort();
            assert_eq!(decoded, logged, "{release} {job}");
        }
    }
    let t = text_of(&golden_dir().join("worker/spark-4.3.0/accumulators"), &[]);
    assert!(
        t.contains("    timing: init ")
            && t.contains(" ms, finish ")
            && t.contains(", processing "),
        "{t}"
    );
    let t = text_of(&golden_dir().join("worker/spark-4.1.4/accumulators"), &[]);
    assert!(t.contains(" ms, processing not sent (boot, total: "), "{t}");
}

/// JSON holds every record unless `--max-records` is given; then each
/// section keeps that many and counts the rest.
#[test]
fn json_is_complete_unless_max_records_is_given() {
    let dir = golden_dir().join("worker/spark-4.3.0/batching");
    let all = json_of(&dir, &[]);
    let t = &all["connections"][0]["tasks"][0];
    assert_eq!(t["input_records"].as_array().unwrap().len(), 20000);
    assert!(t.get("input_records_more").is_none());
    assert!(t.get("output_records_more").is_none());
    let some = json_of(&dir, &["--max-records", "5"]);
    let t = &some["connections"][0]["tasks"][0];
    assert_eq!(
        strings(&t["input_records"]),
        strings(&all["connections"][0]["tasks"][0]["input_records"])[..5]
    );
    assert_eq!(t["input_records_more"], 19995);
    assert_eq!(t["output_records"].as_array().unwrap().len(), 5);
    assert_eq!(t["output_records_more"], 19995);
    // Shorter sections are whole, with nothing more.
    let few = json_of(
        &golden_dir().join("worker/spark-4.3.0/broadcast_accum"),
        &["--max-records", "5"],
    );
    let t = &few["connections"][0]["tasks"][0];
    assert_eq!(t["input_records"].as_array().unwrap().len(), 4);
    assert_eq!(t["input_records_more"], 0);
    // Shuffle output: the partitions are cut with their records.
    let dir = golden_dir().join("worker/spark-4.3.0/reduce_by_key");
    let cut = json_of(&dir, &["--max-records", "2", "--connection", "0"]);
    let t = &cut["connections"][0]["tasks"][0];
    assert_eq!(
        t["output_records"],
        serde_json::json!(["(0, 18)", "(2, 15)"])
    );
    assert_eq!(t["output_partitions"], serde_json::json!([0, 0]));
    assert_eq!(t["output_records_more"], 1);
    // 0: everything, as without the option.
    let zero = json_of(&dir, &["--max-records", "0"]);
    assert_eq!(zero, json_of(&dir, &[]));
}
