//! Graph decode in a fresh process, against CPython's `pickle.loads` of the
//! same bytes. Run: `cargo run --release -p sparkwire-serializers --example decode_fresh`.
//!
//! The pickle bench times us in a process whose heap earlier workloads have
//! already grown. This probe starts from nothing: it pickles the bench's two
//! decode workloads (200 lists of 1000 `(int, str, float, None, bool)` rows,
//! and one list of 1 M ints, both written as CPython writes them at
//! protocol 5, which the differential tests prove) and times `decode` of
//! each, best of 15, with what was built dropped inside the timing. A
//! graph of 1 M ints holds 40 MB of nodes: glibc maps them afresh for every
//! decode and the kernel faults each page in, which the row batches' small
//! graphs never meet. Run it again with
//! `GLIBC_TUNABLES=glibc.malloc.mmap_threshold=1073741824:glibc.malloc.trim_threshold=1073741824`
//! to see the same decode with the pages kept. CPython (the newest pinned
//! PySpark venv's, when `scripts/setup.sh` made one) times `pickle.loads` of
//! the same bytes in its own process.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Instant;

use bytes::Bytes;
use sparkwire_serializers::pickle::{self, Graph, Int, Profile, Value};

mod common;
use common::row_batch;

/// Reads length-prefixed pickles from stdin and prints the best of 15
/// `loads` passes over them, in seconds.
const PY: &str = r#"
import pickle, sys, time
raw = sys.stdin.buffer.read()
data, i = [], 0
while i < len(raw):
    n = int.from_bytes(raw[i:i + 4], "little"); data.append(raw[i + 4:i + 4 + n]); i += 4 + n
best = float("inf")
for _ in range(15):
    t = time.perf_counter()
    for d in data:
        pickle.loads(d)
    best = min(best, time.perf_counter() - t)
print(best)
"#;

/// `list(range(1_000_000))`.
fn ints() -> Bytes {
    let mut g = Graph::new();
    let items: Vec<_> = (0..1_000_000)
        .map(|i| g.add(Value::Int(Int::Small(i))))
        .collect();
    let root = g.add_list(&items);
    g.set_root(root);
    Bytes::from(pickle::encode(&g, Profile::PYSPARK).expect("encodes"))
}

/// Best of 15 passes decoding every pickle, in seconds.
fn ours(pickles: &[Bytes]) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..15 {
        let t = Instant::now();
        for p in pickles {
            std::hint::black_box(pickle::decode(p).expect("decodes"));
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    best
}

/// CPython's best of 15, in seconds, if a pinned venv is there.
fn cpython(pickles: &[Bytes]) -> Option<f64> {
    let version = sparkwire_testkit::oracle_versions().last()?.clone();
    let python = sparkwire_testkit::oracle::python_for(&version)?;
    let mut child = Command::new(python)
        .args(["-c", PY])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .ok()?;
    let mut input = Vec::new();
    for p in pickles {
        input.extend_from_slice(&(p.len() as u32).to_le_bytes());
        input.extend_from_slice(p);
    }
    child.stdin.take()?.write_all(&input).ok()?;
    let out = child.wait_with_output().ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

fn main() {
    // The ints first: before them this process has only made their pickle.
    let ints = vec![ints()];
    let ints_ours = ours(&ints);
    let rows: Vec<Bytes> = (0..200).map(|b| row_batch(b * 1000)).collect();
    let rows_ours = ours(&rows);
    for (name, pickles, t) in [
        ("row batches", &rows, rows_ours),
        ("1M small ints", &ints, ints_ours),
    ] {
        let line = format!("decode {name:<14} sparkwire {:7.2} ms", t * 1e3);
        match cpython(pickles) {
            Some(py) => println!("{line}  CPython {:7.2} ms  -> {:.2}x", py * 1e3, py / t),
            None => println!("{line}  (no pinned venv: run scripts/setup.sh for CPython)"),
        }
    }
}
