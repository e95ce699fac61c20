//! Where AutoBatched encode/decode time goes (for profiling; not a benchmark).
use std::time::Instant;

use bytes::Bytes;
use sparkwire_serializers::pickle::{self, Graph, Int, NodeId, PyStr, Value};
use sparkwire_serializers::pyspark::{Serializer, StreamDecoder, StreamEncoder, Version};

fn main() {
    const N: i64 = 1_000_000;
    let t = Instant::now();
    let mut g = Graph::new();
    let mut ids: Vec<NodeId> = Vec::new();
    for i in 0..N {
        let a = g.add(Value::Int(Int::Small(i)));
        let b = g.add(Value::Str(PyStr::from(format!("name-{i}"))));
        let c = g.add(Value::Float(i as f64 * 0.5));
        ids.push(g.add(Value::Tuple(vec![a, b, c])));
        if ids.len() == 16384 {
            ids.clear();
            g.clear();
        }
    }
    println!("build only        {:?}", t.elapsed());
    let t = Instant::now();
    let mut enc = StreamEncoder::new(Serializer::rdd_default(), Version::V4_3).unwrap();
    let mut text = String::new();
    for i in 0..N {
        use std::fmt::Write;
        text.clear();
        let _ = write!(text, "name-{i}");
        let b = enc.add_str(&text);
        let g = enc.graph();
        let a = g.add(Value::Int(Int::Small(i)));
        let c = g.add(Value::Float(i as f64 * 0.5));
        let t = g.add(Value::Tuple(vec![a, b, c]));
        enc.push(t).unwrap();
    }
    let data = enc.finish().unwrap();
    println!("build + encode    {:?}", t.elapsed());
    // Frames alone.
    let mut frames = Vec::new();
    let mut pos = 0;
    while pos < data.len() {
        let n = i32::from_be_bytes(data[pos..pos + 4].try_into().unwrap()) as usize;
        frames.push(Bytes::copy_from_slice(&data[pos + 4..pos + 4 + n]));
        pos += 4 + n;
    }
    let t = Instant::now();
    let mut nodes = 0;
    for f in &frames {
        nodes += pickle::decode(f).unwrap().graph.len();
    }
    println!("pickle decode     {:?} ({nodes} nodes)", t.elapsed());
    let t = Instant::now();
    let all = StreamDecoder::new(Serializer::rdd_default(), Version::V4_3)
        .load_all(&data)
        .unwrap();
    let n = all.len();
    println!("stream load_all   {:?} ({n})", t.elapsed());
    let t = Instant::now();
    drop(all);
    println!("  drop elements   {:?}", t.elapsed());
    let t = Instant::now();
    let chunks = StreamDecoder::new(Serializer::rdd_default(), Version::V4_3)
        .load_chunks(&data)
        .unwrap();
    let n: usize = chunks.iter().map(|c| c.len()).sum();
    drop(chunks);
    println!("stream load_chunks {:?} ({n}, incl. drop)", t.elapsed());
}
