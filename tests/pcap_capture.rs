//! Real loopback captures of a Spark job (recorded by `scripts/record-pcap.sh`
//! as pcap and pcapng from the same packets, with every pinned release): every TCP connection is reassembled and recognised, the worker
//! connections decode completely and re-encode to the reassembled bytes, and
//! what the data sockets and accumulator updates carry is what the job computed
//! (`spark-<release>.expected.json`, written by the recording script from
//! Spark's results).

use sparkwire_inspect::capture::{self, Mode};
use sparkwire_inspect::pcap;
use sparkwire_inspect::traffic::{classify, Kind};
use sparkwire_serializers::pickle::{self, Value};
use sparkwire_testkit::golden_dir;
use sparkwire_worker::protocol::SparkVersion;

/// The frames of a collect socket, each a pickled batch (a list).
fn frames(frames: &[sparkwire_framing::Frame]) -> Vec<bytes::Bytes> {
    frames.iter().filter_map(|f| f.data().cloned()).collect()
}

/// The records inside pickled batches, as Python reprs.
fn elements(batches: &[bytes::Bytes]) -> Vec<String> {
    let mut out = Vec::new();
    for b in batches {
        let d = pickle::decode(b).unwrap();
        let Value::List(items) = d.graph.get(d.root()) else {
            panic!("a batch is a list")
        };
        for &i in d.graph.items(*items) {
            out.push(pickle::repr_node(&d.graph, i, &Default::default()).unwrap());
        }
    }
    out
}

#[test]
fn real_captures_are_reassembled_and_recognised() {
    for release in ["3.5.9", "4.0.1", "4.1.4", "4.2.1", "4.3.0"] {
        let dir = golden_dir().join("pcap");
        let classic = std::fs::read(dir.join(format!("spark-{release}.pcap"))).unwrap();
        let ng = std::fs::read(dir.join(format!("spark-{release}.pcapng"))).unwrap();
        let a = pcap::read(&classic).unwrap();
        let b = pcap::read(&ng).unwrap();
        // The same packets in both formats reassemble identically.
        assert_eq!(a.packets, b.packets, "{release}");
        assert!(!a.truncated && !b.truncated && a.skipped == 0, "{release}");
        assert_eq!(a.connections.len(), b.connections.len(), "{release}");
        for (x, y) in a.connections.iter().zip(&b.connections) {
            assert_eq!(
                (&x.client, &x.server, &x.client_data, &x.server_data),
                (&y.client, &y.server, &y.client_data, &y.server_data),
                "{release}"
            );
            assert!(x.syn_seen && x.lost == (0, 0), "{release}: {}", x.name());
        }
        let want = SparkVersion::of_release(release).unwrap();
        let (mut py4j, mut daemon_tasks, mut simple, mut collected, mut acc_total) =
            (Vec::new(), Vec::new(), 0, Vec::new(), 0i64);
        for tcp in a.connections {
            let name = tcp.name();
            let c = classify(tcp, None);
            match c.kind {
                Kind::Py4j(p) => py4j.push(p),
                Kind::Worker { ref conn, .. } => {
                    // 3.5 and 4.0 share the RDD layout, so both fit those.
                    assert!(conn.fits.contains(&want), "{release} {name}");
                    assert!(conn.stops.is_empty(), "{release} {name}: {:?}", conn.stops);
                    let (to, from) = c.worker_streams().unwrap();
                    assert_eq!(
                        capture::reencode(conn).unwrap(),
                        (to.to_vec(), from.to_vec()),
                        "{release} {name}: re-encoding"
                    );
                    match conn.mode {
                        Mode::Daemon => daemon_tasks.push(conn.tasks.len()),
                        Mode::Simple => simple += 1,
                        Mode::Unix => {
                            panic!("{release} {name}: Unix sockets are not on loopback TCP")
                        }
                    }
                }
                Kind::Data(d) => collected.push(frames(&d.server_frames)),
                Kind::Accumulators(u) => {
                    for update in u.batches.iter().flatten() {
                        let r = pickle::repr(&pickle::decode(update).unwrap().graph).unwrap();
                        // `(accumulator id, value)`.
                        let v = r.trim_end_matches(')').rsplit(", ").next().unwrap();
                        acc_total += v.parse::<i64>().unwrap();
                    }
                }
                Kind::Other(why) => {
                    assert_eq!(why.as_deref(), Some("no data"), "{release} {name}")
                }
                Kind::OtherLayout { why, .. } => {
                    panic!("{release} {name}: only a forced layout can miss: {why}")
                }
            }
        }
        // Two SparkContexts: each has a gateway connection that authenticates.
        assert!(py4j.len() >= 2, "{release}: {py4j:?}");
        assert!(py4j[0].authenticated && py4j[0].commands > 100, "{release}");
        assert!(
            py4j[0]
                .calls
                .iter()
                .any(|(m, _)| m == "org.apache.spark.api.python.PythonRDD.collectAndServe"),
            "{release}: {:?}",
            py4j[0].calls
        );
        // Every Py4J byte of the capture decodes with the gateway's codec, and
        // each command got its one reply.
        for p in &py4j {
            for s in [&p.to_java, &p.to_python] {
                assert!(
                    s.stopped.is_none() && s.skipped.is_empty(),
                    "{release}: {s:?}"
                );
            }
            assert_eq!(p.commands, p.replies.total(), "{release}");
            assert_eq!(p.java_exceptions, 0, "{release}");
        }
        // Daemon mode: one forked worker reused for the job's four tasks.
        assert_eq!(daemon_tasks, [4], "{release}");
        // Simple mode: one worker per task; the second job has one.
        assert_eq!(simple, 1, "{release}");
        // What the job computed, written by the recording script from Spark's
        // own results.
        let expected: serde_json::Value = serde_json::from_slice(
            &std::fs::read(dir.join(format!("spark-{release}.expected.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(expected["pyspark"], release);
        let strings = |k: &str| -> Vec<String> {
            expected[k]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect()
        };
        // Each collect frame is a pickled batch: its elements are the records.
        let mut first = elements(&collected[0]);
        first.sort();
        assert_eq!(first, strings("first"), "{release}");
        assert_eq!(elements(&collected[1]), strings("second"), "{release}");
        assert_eq!(
            Some(acc_total),
            expected["accumulator"].as_i64(),
            "{release}: the accumulator's updates"
        );
    }
}

#[test]
fn garbage_and_truncation_are_reported_not_fatal() {
    let classic = std::fs::read(golden_dir().join("pcap").join("spark-4.3.0.pcap")).unwrap();
    assert_eq!(
        pcap::read(b"not a capture").unwrap_err(),
        pcap::PcapReadError::NotPcap
    );
    // Cut inside a packet: everything before it is still read.
    let cut = &classic[..classic.len() - 7];
    let c = pcap::read(cut).unwrap();
    assert!(c.truncated);
    assert!(c.packets > 800);
    for tcp in c.connections {
        let _ = classify(tcp, None);
    }
}
