//! Real loopback captures of a Spark job (recorded by `scripts/record-pcap.sh`
//! as pcap and pcapng from the same packets, with every pinned release): every TCP connection is reassembled and recognised, the worker
//! connections decode completely and re-encode to the reassembled bytes, and
//! what the data sockets and accumulator updates carry is what the job computed.

use sparkwire_inspect::capture::{self, Mode};
use sparkwire_inspect::pcap;
use sparkwire_inspect::traffic::{classify, Kind};
use sparkwire_serializers::pickle;
use sparkwire_testkit::golden_dir;
use sparkwire_worker::protocol::SparkVersion;

fn reprs(frames: &[sparkwire_framing::Frame]) -> Vec<String> {
    let mut out = Vec::new();
    for f in frames {
        if let sparkwire_framing::Frame::Data(b) = f {
            let d = pickle::decode(b).unwrap();
            // Each frame is a pickled batch (a list) of the job's results.
            let r = pickle::repr(&d.graph).unwrap();
            out.push(r);
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
                Kind::Data(d) => collected.push(reprs(&d.server_frames)),
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
            }
        }
        // Two SparkContexts: each has a gateway connection that authenticates.
        assert!(py4j.len() >= 2, "{release}: {py4j:?}");
        assert!(py4j[0].authenticated && py4j[0].commands > 100, "{release}");
        assert!(
            py4j[0].calls.iter().any(|(m, _)| m == "collectAndServe"),
            "{release}: {:?}",
            py4j[0].calls
        );
        // Daemon mode: one forked worker reused for the job's four tasks.
        assert_eq!(daemon_tasks, [4], "{release}");
        // Simple mode: one worker per task; the second job has one.
        assert_eq!(simple, 1, "{release}");
        let mut first: Vec<String> = collected[0].clone();
        first.sort();
        assert_eq!(
            first,
            ["[(0, 135)]", "[(1, 145)]", "[(2, 155)]"],
            "{release}"
        );
        assert_eq!(collected[1], ["['xx']", "['yy']"], "{release}");
        assert_eq!(acc_total, 30, "{release}: the accumulator's updates");
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
