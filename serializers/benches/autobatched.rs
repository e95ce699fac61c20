//! AutoBatched streams against PySpark's own `AutoBatchedSerializer(CPickleSerializer())`,
//! in the same run, as ratios. Run: `cargo bench -p sparkwire-serializers --bench autobatched`.
//!
//! Workload: 1 M records `(i, "name-%d" % i, i * 0.5)`, the RDD default serializer.
//! PySpark's encode is timed both over a prebuilt list and over a generator that
//! builds the records; ours builds each record in the encoder's graph, and
//! separately passes it to `push_row` (kept flat, no graph), both formatting
//! each record's text as they go, and again both over prebuilt records (the
//! like-for-like comparison with PySpark's prebuilt list). Decode is
//! `list(load_stream(...))` against collecting our `StreamDecoder`'s elements
//! (`load_all`) and its per-frame chunks (`load_chunks`), with the batches
//! kept flat (the default for such records, checked) and again decoded into
//! graphs (`keep_graphs`); the elements of both are checked to repr alike.
//! On both sides what was decoded is freed inside the timed call. The rows view
//! (`pickle::rows`) is timed reading the same records without building
//! anything, against the same `load_stream`.
//! The bench also checks that both streams are byte-identical.

use std::process::Command;
use std::time::{Duration, Instant};

use sparkwire_serializers::pickle::{Field, Int, Value};
use sparkwire_serializers::pyspark::{Serializer, StreamDecoder, StreamEncoder};
use sparkwire_serializers::SparkVersion;

const N: i64 = 1_000_000;

const PY: &str = r#"
import io, json, sys, time
from pyspark.serializers import AutoBatchedSerializer, CPickleSerializer
N = 1_000_000
recs = [(i, "name-%d" % i, i * 0.5) for i in range(N)]
ser = AutoBatchedSerializer(CPickleSerializer())
def best(f, reps):
    b = float("inf")
    for _ in range(reps):
        t = time.perf_counter(); r = f(); b = min(b, time.perf_counter() - t)
    return b, r
def enc():
    buf = io.BytesIO(); ser.dump_stream(iter(recs), buf); return buf.getvalue()
enc_s, data = best(enc, 5)
def enc_built():
    buf = io.BytesIO(); ser.dump_stream(((i, "name-%d" % i, i * 0.5) for i in range(N)), buf); return buf.getvalue()
enc_built_s, _ = best(enc_built, 5)
# The list is freed inside each timed call, as ours is (not kept until the
# next repetition, which would time one drop fewer in the first).
dec_s, n = best(lambda: len(list(ser.load_stream(io.BytesIO(data)))), 5)
assert n == N
sys.stdout.write(json.dumps({"encode_s": enc_s, "encode_built_s": enc_built_s, "decode_s": dec_s, "bytes": len(data)}) + "\n")
sys.stdout.flush()
sys.stdout.buffer.write(data)
"#;

fn best<R>(reps: usize, mut f: impl FnMut() -> R) -> (Duration, R) {
    let mut out = None;
    let mut b = Duration::MAX;
    for _ in 0..reps {
        let t = Instant::now();
        let r = f();
        b = b.min(t.elapsed());
        out = Some(r);
    }
    (b, out.expect("at least one repetition"))
}

/// Calls `f` with each record's int and its `"name-%d"` text, formatted into
/// one reused buffer (the part both encoders pay alike).
fn each_record(mut f: impl FnMut(i64, &str)) {
    let mut text = String::new();
    for i in 0..N {
        use std::fmt::Write;
        text.clear();
        let _ = write!(text, "name-{i}");
        f(i, &text);
    }
}

/// The records built before timing, as PySpark's prebuilt list is: what
/// `push_row` and the graph path are timed over when both sides start from
/// records that already exist.
fn prebuilt() -> Vec<(i64, String, f64)> {
    let mut out = Vec::with_capacity(N as usize);
    each_record(|i, text| out.push((i, text.to_string(), i as f64 * 0.5)));
    out
}

/// Prebuilt records through `push_row`.
fn encode_rows_prebuilt(recs: &[(i64, String, f64)]) -> Vec<u8> {
    let mut enc =
        StreamEncoder::new(Serializer::rdd_default(), SparkVersion::V4_3).expect("serializer");
    for (i, text, f) in recs {
        enc.push_row(&[Field::Int(*i), Field::Str(text), Field::Float(*f)])
            .expect("push");
    }
    enc.finish().expect("finish")
}

/// Prebuilt records through the encoder's graph.
fn encode_prebuilt(recs: &[(i64, String, f64)]) -> Vec<u8> {
    let mut enc =
        StreamEncoder::new(Serializer::rdd_default(), SparkVersion::V4_3).expect("serializer");
    for (i, text, f) in recs {
        let b = enc.add_str(text);
        let g = enc.graph();
        let a = g.add(Value::Int(Int::Small(*i)));
        let c = g.add(Value::Float(*f));
        let t = g.add_tuple(&[a, b, c]);
        enc.push(t).expect("push");
    }
    enc.finish().expect("finish")
}

/// The same records through `push_row`, each formatted as it is pushed:
/// kept flat, each batch pickled without a graph.
fn encode_rows() -> Vec<u8> {
    let mut enc =
        StreamEncoder::new(Serializer::rdd_default(), SparkVersion::V4_3).expect("serializer");
    each_record(|i, text| {
        enc.push_row(&[
            Field::Int(i),
            Field::Str(text),
            Field::Float(i as f64 * 0.5),
        ])
        .expect("push")
    });
    enc.finish().expect("finish")
}

fn encode() -> Vec<u8> {
    let mut enc =
        StreamEncoder::new(Serializer::rdd_default(), SparkVersion::V4_3).expect("serializer");
    each_record(|i, text| {
        let b = enc.add_str(text);
        let g = enc.graph();
        let a = g.add(Value::Int(Int::Small(i)));
        let c = g.add(Value::Float(i as f64 * 0.5));
        let t = g.add_tuple(&[a, b, c]);
        enc.push(t).expect("push");
    });
    enc.finish().expect("finish")
}

/// Every record of the stream through the frame decoder and the rows view
/// (no graph, no elements), folded into a checksum; the record count.
fn view_records(stream: &[u8]) -> (usize, u64) {
    use bytes::BytesMut;
    use sparkwire_framing::{Frame, FrameDecoder, Step};
    use sparkwire_serializers::pickle::rows::{Record, Rows};
    use sparkwire_serializers::pickle::Limits;
    let mut buf = BytesMut::from(stream);
    let mut frames = FrameDecoder::new();
    // One view for the whole stream: its buffers serve every frame.
    let mut spare = Rows::new(&[], &Limits::default());
    let (mut n, mut sum) = (0usize, 0u64);
    while let Step::Item(Frame::Data(payload)) = frames.decode(&mut buf).expect("frame") {
        let mut rows = spare.restart(&payload);
        while let Some(r) = rows.next_record().expect("record") {
            if let Record::Tuple([Field::Int(i), Field::Str(s), Field::Float(f)]) = r {
                sum = sum.wrapping_add(*i as u64 ^ s.len() as u64 ^ f.to_bits());
            }
            n += 1;
        }
        spare = rows.restart(&[]);
    }
    (n, sum)
}

/// Best of 5 of `load_all` and of `load_chunks` over the stream, by decoders
/// `make` makes, each checked to yield every record.
fn time_loads(make: impl Fn() -> StreamDecoder, stream: &[u8]) -> (Duration, Duration) {
    let (all, n) = best(5, || make().load_all(stream).expect("decode").len());
    assert_eq!(n as i64, N);
    let (chunks, n) = best(5, || {
        let chunks = make().load_chunks(stream).expect("decode");
        chunks.iter().map(|c| c.len()).sum::<usize>()
    });
    assert_eq!(n as i64, N);
    (all, chunks)
}

/// Checks, untimed, that the default decode kept every batch flat and that
/// every element reprs as its graph-decoded twin.
fn same_elements(stream: &[u8]) {
    use sparkwire_serializers::pyspark::Chunk;
    let dec = || StreamDecoder::new(Serializer::rdd_default(), SparkVersion::V4_3);
    let chunks = dec().load_chunks(stream).expect("decode");
    assert!(
        chunks.iter().all(|c| matches!(c, Chunk::Flat(_))),
        "every batch kept flat"
    );
    let flat = dec().load_all(stream).expect("decode");
    let graphs = dec().keep_graphs().load_all(stream).expect("decode");
    assert_eq!(flat.len(), graphs.len());
    for (a, b) in flat.iter().zip(&graphs) {
        assert_eq!(a.repr().expect("repr"), b.repr().expect("repr"));
    }
}

/// One pass of `what` over our stream, untimed, for instruction counting.
#[inline(never)]
fn profile_once(what: &str, stream: &[u8]) {
    let dec = || StreamDecoder::new(Serializer::rdd_default(), SparkVersion::V4_3);
    match what {
        "decode" => drop(std::hint::black_box(
            dec().load_all(stream).expect("decode"),
        )),
        "chunks" => drop(std::hint::black_box(
            dec().load_chunks(stream).expect("decode"),
        )),
        "decode-graphs" => drop(std::hint::black_box(
            dec().keep_graphs().load_all(stream).expect("decode"),
        )),
        "chunks-graphs" => drop(std::hint::black_box(
            dec().keep_graphs().load_chunks(stream).expect("decode"),
        )),
        "rows" => drop(std::hint::black_box(view_records(stream))),
        "encode" => drop(std::hint::black_box(encode())),
        "encode-rows" => drop(std::hint::black_box(encode_rows())),
        "encode-prebuilt" => {
            let recs = prebuilt();
            for _ in 0..5 {
                drop(std::hint::black_box(encode_prebuilt(&recs)));
            }
        }
        "encode-rows-prebuilt" => {
            let recs = prebuilt();
            for _ in 0..5 {
                drop(std::hint::black_box(encode_rows_prebuilt(&recs)));
            }
        }
        "split" => {
            // Prices per-element graphs: every record copied out of its batch's
            // graph into its own Arc<Graph> (no hint table, so a lower bound on
            // what a decoder building them directly would add per record).
            use sparkwire_serializers::pickle::Graph;
            use sparkwire_serializers::pyspark::{Chunk, Element};
            use std::sync::Arc;
            let chunks = dec().keep_graphs().load_chunks(stream).expect("decode");
            let mut out = Vec::with_capacity(1_000_000);
            for c in chunks {
                let Chunk::Nodes { graph, items } = c else {
                    panic!()
                };
                for id in items {
                    let mut g = Graph::new();
                    let Value::Tuple(kids) = graph.get(id) else {
                        panic!()
                    };
                    let mut nk = Vec::with_capacity(kids.len());
                    for &k in graph.items(*kids) {
                        nk.push(g.add(graph.get(k).clone()));
                    }
                    let root = g.add_tuple(&nk);
                    g.set_root(root);
                    out.push(Element::Pickled(Arc::new(g), root));
                }
            }
            drop(std::hint::black_box(out));
        }
        other => panic!("--profile decode|chunks|decode-graphs|chunks-graphs|rows|split|encode|encode-rows|encode-prebuilt|encode-rows-prebuilt, not {other}"),
    }
}

fn main() {
    // `-- --profile decode|chunks|decode-graphs|chunks-graphs|rows|split|encode|encode-rows|encode-prebuilt|encode-rows-prebuilt`: one pass (five for the prebuilt ones) over our own stream (byte-identical
    // to PySpark's, as the timed run checks), no timings, for callgrind. An
    // optional count after the op repeats it, for a sampling profiler (`perf
    // record`), which needs more than one pass.
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--profile") {
        let stream = encode();
        let repeat: usize = args.get(i + 2).and_then(|n| n.parse().ok()).unwrap_or(1);
        for _ in 0..repeat {
            profile_once(args.get(i + 1).map_or("decode", |s| s.as_str()), &stream);
        }
        return;
    }
    let version = sparkwire_testkit::oracle_versions()
        .last()
        .cloned()
        .unwrap_or_else(|| "4.3.0".into());
    let Some(python) = sparkwire_testkit::oracle::python_for(&version) else {
        eprintln!("no pyspark venv found (run scripts/setup.sh)");
        std::process::exit(2);
    };
    let out = Command::new(&python)
        .args(["-c", PY])
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let nl = out
        .stdout
        .iter()
        .position(|&b| b == b'\n')
        .expect("json line");
    let stats: serde_json::Value = serde_json::from_slice(&out.stdout[..nl]).expect("json");
    let theirs = &out.stdout[nl + 1..];
    let (enc_t, ours) = best(5, encode);
    assert_eq!(ours.len(), theirs.len(), "stream lengths differ");
    assert!(ours == theirs, "streams differ");
    let (rows_t, rows) = best(5, encode_rows);
    assert!(rows == theirs, "push_row's stream differs");
    let recs = prebuilt();
    let (pre_t, pre) = best(5, || encode_prebuilt(&recs));
    assert!(pre == theirs, "the prebuilt graph path's stream differs");
    let (pre_rows_t, pre_rows) = best(5, || encode_rows_prebuilt(&recs));
    assert!(pre_rows == theirs, "the prebuilt push_row stream differs");
    drop(recs);
    let flat = || StreamDecoder::new(Serializer::rdd_default(), SparkVersion::V4_3);
    let (dec_t, chunk_t) = time_loads(flat, &ours);
    let (dec_g_t, chunk_g_t) = time_loads(|| flat().keep_graphs(), &ours);
    same_elements(&ours);
    let (view_t, (n, _)) = best(5, || view_records(&ours));
    assert_eq!(n as i64, N);
    let py_enc = stats["encode_s"].as_f64().unwrap_or(f64::NAN);
    let py_dec = stats["decode_s"].as_f64().unwrap_or(f64::NAN);
    let mb = ours.len() as f64 / 1e6;
    println!("AutoBatched(CPickle), 1 M records (int, str, float), {mb:.1} MB, pyspark {version}; streams identical");
    println!(
        "  encode: sparkwire {:8.1} ms  pyspark {:8.1} ms  ratio {:.2}x",
        enc_t.as_secs_f64() * 1e3,
        py_enc * 1e3,
        py_enc / enc_t.as_secs_f64()
    );
    let py_built = stats["encode_built_s"].as_f64().unwrap_or(f64::NAN);
    println!(
        "  encode incl. building the records on both sides: pyspark {:8.1} ms  ratio {:.2}x",
        py_built * 1e3,
        py_built / enc_t.as_secs_f64()
    );
    println!(
        "  encode with push_row (no graph): sparkwire {:8.1} ms  ratio {:.2}x prebuilt, {:.2}x built",
        rows_t.as_secs_f64() * 1e3,
        py_enc / rows_t.as_secs_f64(),
        py_built / rows_t.as_secs_f64()
    );
    println!(
        "  encode from prebuilt records on both sides: graph {:8.1} ms  ratio {:.2}x, push_row {:8.1} ms  ratio {:.2}x",
        pre_t.as_secs_f64() * 1e3,
        py_enc / pre_t.as_secs_f64(),
        pre_rows_t.as_secs_f64() * 1e3,
        py_enc / pre_rows_t.as_secs_f64()
    );
    println!(
        "  decode (elements): sparkwire {:8.1} ms  pyspark {:8.1} ms  ratio {:.2}x",
        dec_t.as_secs_f64() * 1e3,
        py_dec * 1e3,
        py_dec / dec_t.as_secs_f64()
    );
    println!(
        "  decode (chunks):   sparkwire {:8.1} ms  pyspark {:8.1} ms  ratio {:.2}x",
        chunk_t.as_secs_f64() * 1e3,
        py_dec * 1e3,
        py_dec / chunk_t.as_secs_f64()
    );
    println!(
        "  decode through graphs (keep_graphs): elements {:8.1} ms  ratio {:.2}x, chunks {:8.1} ms  ratio {:.2}x",
        dec_g_t.as_secs_f64() * 1e3,
        py_dec / dec_g_t.as_secs_f64(),
        chunk_g_t.as_secs_f64() * 1e3,
        py_dec / chunk_g_t.as_secs_f64()
    );
    println!(
        "  records read through the rows view (no graph, no elements): sparkwire {:8.1} ms  ratio {:.2}x",
        view_t.as_secs_f64() * 1e3,
        py_dec / view_t.as_secs_f64()
    );
}
