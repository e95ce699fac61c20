//! Row-batch encode speed against where the allocator put the graphs.
//! Run: `cargo run --release -p sparkwire-serializers --example encode_placement`.
//!
//! The pickle bench's row-batch encode lands near 500 or near 1000 MB/s from
//! one process run to the next, with the same code. This probe shows what
//! decides it: the same 200 decoded batches (1000 rows of `(int, str,
//! float, None, bool)`, pickled as CPython does) are encoded once when
//! decoded into a fresh heap, and once when decoded after 15 rounds of
//! decoding and dropping them, as the bench does before it encodes. After
//! such frees glibc raises its mmap threshold, and the graphs' arrays come
//! from the main heap instead of fresh mappings; run it with
//! `GLIBC_TUNABLES=glibc.malloc.mmap_threshold=131072` (a fixed threshold)
//! and both figures are the fast one. The pickles are checked to re-encode
//! byte for byte.

use std::time::Instant;

use bytes::Bytes;
use sparkwire_serializers::pickle::{self, Graph, Profile, Value};

mod common;
use common::row_batch as batch;

/// Best of 15 passes encoding every graph, in MB/s of pickle written.
fn encode_speed(graphs: &[Graph], pickles: &[Bytes]) -> f64 {
    for (g, p) in graphs.iter().zip(pickles) {
        assert_eq!(
            pickle::encode(g, Profile::PYSPARK).expect("encodes"),
            p.as_ref()
        );
    }
    let total: usize = pickles.iter().map(|p| p.len()).sum();
    let mut best = f64::MAX;
    for _ in 0..15 {
        let t = Instant::now();
        for g in graphs {
            std::hint::black_box(pickle::encode(g, Profile::PYSPARK).expect("encodes"));
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    total as f64 / 1e6 / best
}

fn decode_all(pickles: &[Bytes]) -> Vec<Graph> {
    pickles
        .iter()
        .map(|p| pickle::decode(p).expect("decodes").graph)
        .collect()
}

fn main() {
    let pickles: Vec<Bytes> = (0..200).map(|b| batch(b * 1000)).collect();
    let fresh = decode_all(&pickles);
    let fresh_speed = encode_speed(&fresh, &pickles);
    let fresh_at = fresh[0].get(fresh[0].root().expect("root")) as *const Value as usize;
    drop(fresh);
    for _ in 0..15 {
        for p in &pickles {
            std::hint::black_box(pickle::decode(p).expect("decodes"));
        }
    }
    let after = decode_all(&pickles);
    let after_speed = encode_speed(&after, &pickles);
    let after_at = after[0].get(after[0].root().expect("root")) as *const Value as usize;
    println!("row-batch encode, graphs decoded into a fresh heap: {fresh_speed:7.1} MB/s (first node at {fresh_at:#x})");
    println!("row-batch encode, graphs decoded after 15 rounds:   {after_speed:7.1} MB/s (first node at {after_at:#x})");
}
