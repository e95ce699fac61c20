//! Every golden capture, damaged: cut at every item boundary of both
//! directions (sampled when there are many) and inside items, and with bits
//! flipped. Decoding must keep everything before the damage, name the exact
//! place it stopped, and never panic.
//!
//! Item boundaries come from decoding the intact recording with the worker
//! protocol's decoders; the recordings are real PySpark traffic
//! (`tests/golden/worker/*`, `tests/golden/pcap/*`).

use std::path::{Path, PathBuf};

use bytes::BytesMut;
use sparkwire_framing::Step;
use sparkwire_inspect::capture::{self, Connection, Direction, Section, StopKind};
use sparkwire_inspect::report::{CaptureReport, ConnectionReport};
use sparkwire_inspect::{capture_dir, pcap};
use sparkwire_worker::protocol::{ReplyDecoder, SparkVersion, TaskDecoder, TaskItem};

fn golden() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/golden")
}

/// Every recorded connection of the golden worker transcripts and the
/// bundled example: (name, to_worker, from_worker).
fn recorded() -> Vec<(String, Vec<u8>, Vec<u8>)> {
    let mut dirs =
        vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/capture-spark-4.3.0")];
    let root = golden().join("worker");
    let mut versions: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    versions.sort();
    for v in versions {
        let mut jobs: Vec<PathBuf> = std::fs::read_dir(&v)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_dir())
            .collect();
        jobs.sort();
        dirs.extend(jobs);
    }
    let mut out = Vec::new();
    for d in dirs {
        for r in capture_dir::read_dir(&d).unwrap() {
            out.push((
                format!("{} #{}", d.display(), r.name),
                r.to_worker,
                r.from_worker,
            ));
        }
    }
    assert!(out.len() >= 100, "only {} golden connections", out.len());
    out
}

/// Stream offsets after each item of the JVM → worker direction (the
/// prelude's end first), and whether the stream is between tasks there.
fn to_boundaries(to: &[u8], c: &Connection) -> Vec<(u64, bool)> {
    let pt = c.prelude.0.len();
    let mut dec = TaskDecoder::new(c.version);
    let mut buf = BytesMut::from(&to[pt..]);
    let mut out = vec![(pt as u64, true)];
    while let Step::Item(item) = dec.decode(&mut buf).unwrap() {
        out.push((
            pt as u64 + dec.offset(),
            matches!(item, TaskItem::Finish(_)),
        ));
    }
    out
}

/// Stream offsets after each reply item (the prelude's end first), and
/// whether a reply ends there.
fn from_boundaries(from: &[u8], c: &Connection) -> Vec<(u64, bool)> {
    let pf = c.prelude.1.len() as u64;
    let mut buf = BytesMut::from(&from[pf as usize..]);
    let mut consumed = pf;
    let mut out = vec![(pf, true)];
    for _ in &c.tasks {
        let mut r = ReplyDecoder::new(c.version);
        loop {
            match r.decode(&mut buf).unwrap() {
                Step::Item(Some(_)) => out.push((consumed + r.offset(), false)),
                Step::Item(None) => break,
                Step::NeedMore => return out,
            }
        }
        consumed += r.offset();
        if let Some(last) = out.last_mut() {
            last.1 = true;
        }
    }
    out
}

/// At most `n` of `items`, evenly spread, first and last included.
fn sample<T: Copy>(items: &[T], n: usize) -> Vec<T> {
    if items.len() <= n {
        return items.to_vec();
    }
    (0..n)
        .map(|i| items[i * (items.len() - 1) / (n - 1)])
        .collect()
}

/// What the partial decode must say for `cut` bytes of one direction:
/// the last item boundary at or before the cut, and how it stopped.
fn expected(boundaries: &[(u64, bool)], cut: u64) -> (u64, bool, bool) {
    let &(b, between) = boundaries.iter().rev().find(|(b, _)| *b <= cut).unwrap();
    (b, between, b == cut)
}

/// Re-encoding what was decoded gives back the bytes it came from, up to
/// the stop in each direction: the output shows exactly the real bytes
/// before the damage.
fn assert_prefix(what: &str, c: &Connection, to: &[u8], from: &[u8]) {
    let (t, f) = capture::reencode(c).unwrap();
    assert_eq!(t.len() as u64, c.decoded.0, "{what}: to_worker length");
    assert_eq!(&t[..], &to[..t.len()], "{what}: to_worker bytes");
    assert_eq!(f.len() as u64, c.decoded.1, "{what}: from_worker length");
    assert_eq!(&f[..], &from[..f.len()], "{what}: from_worker bytes");
}

#[test]
fn cut_at_every_boundary_and_inside_items_names_the_place() {
    let mut cuts = 0;
    for (name, to, from) in recorded() {
        let full = capture::decode(&to, &from, None).unwrap();
        if full.fork_errno.is_some() {
            continue;
        }
        let v = full.version;
        // Inside the prelude: either no connection (the stop says why) or one
        // that says where it stopped.
        for cut in 0..full.prelude.1.len() {
            match capture::decode_partial(&to, &from[..cut], v) {
                Err(stop) => assert_eq!(stop.direction, Direction::FromWorker, "{name}: {stop}"),
                Ok(c) => assert!(!c.stops.is_empty(), "{name}: from_worker cut at {cut}"),
            }
        }
        // JVM → worker: cut at each boundary, one byte after it and in the
        // middle of the next item.
        let tb = to_boundaries(&to, &full);
        let mut points = Vec::new();
        for w in tb.windows(2) {
            let (a, b) = (w[0].0, w[1].0);
            points.extend([a, a + 1, (a + b) / 2, b - 1]);
        }
        points.retain(|&p| p < to.len() as u64 && p >= tb[0].0);
        points.sort_unstable();
        points.dedup();
        for cut in sample(&points, 60) {
            cuts += 1;
            let what = format!("{name}: to_worker cut at {cut}");
            let t = &to[..cut as usize];
            let c = capture::decode_partial(t, &from, v).unwrap_or_else(|e| panic!("{what}: {e}"));
            let (b, between, at_boundary) = expected(&tb, cut);
            let stop = c.stops.iter().find(|s| s.direction == Direction::ToWorker);
            match stop {
                None => assert!(at_boundary && between && cut > tb[0].0, "{what}: no stop"),
                Some(s) => {
                    assert_eq!(s.offset, b, "{what}: {s}");
                    // Between items of a task, or before the first task.
                    let kind = if at_boundary && (!between || cut == tb[0].0) {
                        StopKind::Ended
                    } else {
                        StopKind::Cut
                    };
                    assert_eq!(s.kind, kind, "{what}: {s}");
                }
            }
            assert_eq!(c.decoded.0, b, "{what}");
            // The report renders whatever was decoded.
            let r = ConnectionReport::new(&name, &c);
            if stop.is_some_and(|s| s.kind == StopKind::Cut) {
                assert!(r.error.is_some(), "{what}");
            }
            let (t2, _) = capture::reencode(&c).unwrap();
            assert_eq!(&t2[..], &to[..b as usize], "{what}: to_worker bytes");
        }
        // Worker → JVM.
        let fb = from_boundaries(&from, &full);
        let end_of_replies = fb.last().unwrap().0;
        let mut points = Vec::new();
        for w in fb.windows(2) {
            let (a, b) = (w[0].0, w[1].0);
            points.extend([a, a + 1, (a + b) / 2, b - 1]);
        }
        points.retain(|&p| p < end_of_replies && p >= fb[0].0);
        points.sort_unstable();
        points.dedup();
        for cut in sample(&points, 60) {
            cuts += 1;
            let what = format!("{name}: from_worker cut at {cut}");
            let f = &from[..cut as usize];
            let c = capture::decode_partial(&to, f, v).unwrap_or_else(|e| panic!("{what}: {e}"));
            let (b, _, at_boundary) = expected(&fb, cut);
            let s = c
                .stops
                .iter()
                .find(|s| s.direction == Direction::FromWorker)
                .unwrap_or_else(|| panic!("{what}: no stop"));
            assert_eq!(s.offset, b, "{what}: {s}");
            assert!(matches!(s.section, Section::Reply(_)), "{what}: {s}");
            let kind = if at_boundary {
                StopKind::Ended
            } else {
                StopKind::Cut
            };
            assert_eq!(s.kind, kind, "{what}: {s}");
            // Every task is there; the replies before the cut are whole.
            assert_eq!(c.tasks.len(), full.tasks.len(), "{what}");
            let _ = ConnectionReport::new(&name, &c);
            assert_eq!(c.decoded.1, b, "{what}");
        }
        // With the layout found from the bytes, a cut names the real layout
        // among those that got furthest.
        for cut in sample(&points, 4) {
            let c = capture::decode_best(&to, &from[..cut as usize], None).unwrap();
            assert!(c.fits.contains(&v), "{name}: cut at {cut}: {:?}", c.fits);
        }
    }
    assert!(cuts > 4000, "{cuts} cuts");
}

#[test]
fn flipped_bits_never_panic_and_what_is_shown_is_what_was_sent() {
    let mut flips = 0;
    for (name, to, from) in recorded() {
        let full = capture::decode(&to, &from, None).unwrap();
        let bounds = if full.fork_errno.is_none() {
            Some((to_boundaries(&to, &full), from_boundaries(&from, &full)))
        } else {
            None
        };
        for (dir, len) in [
            (Direction::ToWorker, to.len()),
            (Direction::FromWorker, from.len()),
        ] {
            let positions: Vec<usize> = (0..len).collect();
            for (i, at) in sample(&positions, 12).into_iter().enumerate() {
                flips += 1;
                let (mut t, mut f) = (to.clone(), from.clone());
                let buf = match dir {
                    Direction::ToWorker => &mut t,
                    Direction::FromWorker => &mut f,
                };
                buf[at] ^= 1 << (i % 8);
                let what = format!("{name}: {dir} bit {} of byte {at} flipped", i % 8);
                // With the recording's layout, every item that ends before the
                // flipped byte is read as before: decoding cannot stop earlier
                // than the item holding it, and what it shows of that
                // direction re-encodes to the bytes that were sent.
                if let (Some((tb, fb)), Ok(c)) =
                    (&bounds, capture::decode_partial(&t, &f, full.version))
                {
                    let (bounds, decoded, sent) = match dir {
                        Direction::ToWorker => (tb, c.decoded.0, &t),
                        Direction::FromWorker => (fb, c.decoded.1, &f),
                    };
                    let last = bounds.last().unwrap().0;
                    if at as u64 >= bounds[0].0 && (at as u64) < last {
                        let b = expected(bounds, at as u64).0;
                        assert!(decoded >= b, "{what}: stopped at {decoded}, before {b}");
                        let (t2, f2) = capture::reencode(&c).unwrap();
                        let again = match dir {
                            Direction::ToWorker => t2,
                            Direction::FromWorker => f2,
                        };
                        assert_eq!(&again[..b as usize], &sent[..b as usize], "{what}");
                    }
                }
                let Ok(c) = capture::decode_best(&t, &f, None) else {
                    continue;
                };
                let r = ConnectionReport::new(&name, &c);
                serde_json::to_string(&r).unwrap();
                assert!(
                    c.stops.iter().all(|s| s.offset
                        <= match s.direction {
                            Direction::ToWorker => t.len(),
                            Direction::FromWorker => f.len(),
                        } as u64),
                    "{what}"
                );
                if c.stops.iter().all(|s| s.kind == StopKind::Ended) && c.is_complete() {
                    // Read to the end: it re-encodes to the damaged bytes.
                    assert_prefix(&what, &c, &t, &f);
                }
            }
        }
    }
    assert!(flips > 2000, "{flips} flips");
}

#[test]
fn damaged_pcaps_never_panic_and_report_the_workers_up_to_the_damage() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(golden().join("pcap"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap" || e == "pcapng"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 10);
    for path in files {
        let data = std::fs::read(&path).unwrap();
        let whole = CaptureReport::new(pcap::read(&data).unwrap(), None, |_, _| {}).1;
        let positions: Vec<usize> = (1..data.len()).collect();
        for (i, at) in sample(&positions, 24).into_iter().enumerate() {
            let what = format!("{}: cut at {at}", path.display());
            if let Ok(cap) = pcap::read(&data[..at]) {
                let (_, workers) = CaptureReport::new(cap, None, |_, _| {});
                for (src, c) in &workers {
                    let _ = ConnectionReport::new(&src.name, c);
                    // A worker connection read up to a cut keeps its tasks
                    // in the same layout as the whole recording.
                    if let Some((_, w)) = whole.iter().find(|(s, _)| s.name == src.name) {
                        if !c.tasks.is_empty() {
                            assert!(c.fits.contains(&w.version), "{what}");
                        }
                    }
                }
            }
            let mut flipped = data.clone();
            flipped[at] ^= 1 << (i % 8);
            if let Ok(cap) = pcap::read(&flipped) {
                let (_, workers) = CaptureReport::new(cap, None, |_, _| {});
                for (src, c) in &workers {
                    let _ = ConnectionReport::new(&src.name, c);
                }
            }
        }
    }
    let _ = SparkVersion::ALL;
}
