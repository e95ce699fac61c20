//! serde-pickle as a second, independent decoder for simple values, and interop:
//! * what we encode (CPython profile, protocols 2–5) serde-pickle reads to the
//!   same value we decode;
//! * what serde-pickle writes (protocols 2 and 3) we read to the same value.
//!
//! Graphs without sharing, cycles, lone surrogates or sets of mixed types, which
//! serde-pickle cannot represent (see the spec §5).
#![cfg(feature = "serde-pickle")]

use proptest::prelude::*;
use sparkwire_serializers::pickle::generate::{graph_spec, GenConfig};
use sparkwire_serializers::pickle::serde::serde_pickle_value::{
    from_serde_pickle, to_serde_pickle,
};
use sparkwire_serializers::pickle::{self, Limits, Profile, Value};

fn tree_like(g: &pickle::Graph) -> bool {
    let mut seen = vec![0u32; g.len()];
    for id in g.ids() {
        for c in g.children(id) {
            seen[c.index()] += 1;
        }
    }
    // serde-pickle wrongly reports shared containers as recursive: keep trees.
    g.ids()
        .all(|id| seen[id.index()] <= 1 || g.get(id).is_atom())
        && g.ids()
            .all(|id| !matches!(g.get(id), Value::Str(s) if s.as_str().is_none()))
        && g.ids()
            .all(|id| !matches!(g.get(id), Value::Float(f) if f.is_nan()))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn serde_pickle_reads_what_we_write(spec in graph_spec(12)) {
        let g = spec.build(&GenConfig { large_payloads: false, large_containers: false, surrogates: false });
        prop_assume!(tree_like(&g));
        let ours = to_serde_pickle(&g, g.root().unwrap(), &Limits::default());
        prop_assume!(ours.is_ok());
        let ours = ours.unwrap();
        // serde-pickle resolves `_codecs.encode` but not `__builtin__.bytes`
        // (CPython's protocol-2 b'').
        // Nor `bytearray(b'...')` / `bytearray()` (protocols 3-4); it reads
        // protocol 5's BYTEARRAY8.
        let bytearray = g.ids().any(|id| matches!(g.get(id), Value::ByteArray(_)));
        let empty_bytes = g.ids().any(|id| matches!(g.get(id), Value::Bytes(b) if b.is_empty()));
        let first = if bytearray { 5 } else if empty_bytes { 3 } else { 2 };
        for p in first..=5u8 {
            let bytes = pickle::encode(&g, Profile::CPython { protocol: p }).unwrap();
            let theirs = serde_pickle::value_from_slice(&bytes, serde_pickle::DeOptions::new()).unwrap();
            prop_assert_eq!(&theirs, &ours, "protocol {}", p);
        }
    }

    #[test]
    fn we_read_what_serde_pickle_writes(spec in graph_spec(12)) {
        let g = spec.build(&GenConfig { large_payloads: false, large_containers: false, surrogates: false });
        prop_assume!(tree_like(&g));
        let Ok(v) = to_serde_pickle(&g, g.root().unwrap(), &Limits::default()) else { return Ok(()) };
        for proto3 in [false, true] {
            let bytes = serde_pickle::value_to_vec(&v, serde_pickle::SerOptions::new().proto_v2_if(!proto3)).unwrap();
            let d = pickle::decode_slice(&bytes).unwrap();
            let back = to_serde_pickle(&d.graph, d.root(), &Limits::default()).unwrap();
            prop_assert_eq!(&back, &v);
            // And through our own graph again.
            let g2 = from_serde_pickle(&v);
            prop_assert_eq!(to_serde_pickle(&g2, g2.root().unwrap(), &Limits::default()).unwrap(), v.clone());
        }
    }
}

trait Proto {
    fn proto_v2_if(self, yes: bool) -> Self;
}

impl Proto for serde_pickle::SerOptions {
    fn proto_v2_if(self, yes: bool) -> Self {
        if yes {
            self.proto_v2()
        } else {
            self
        }
    }
}
