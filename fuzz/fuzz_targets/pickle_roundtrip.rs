//! decode → encode → decode on two kinds of input: arbitrary bytes, and value
//! graphs built from the input (`GraphSpec` via `arbitrary`). Properties: a
//! decodable pickle re-encodes (protocol 5) to bytes that decode to a graph with
//! the same repr, and encoding is a fixed point after one round
//! (encode(decode(encode(g))) == encode(g)).
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use sparkwire_serializers::pickle::generate::{GenConfig, GraphSpec};
use sparkwire_serializers::pickle::{self, Graph, Limits, Profile};

fn check(g: &Graph, limits: &Limits) {
    let Ok(first) = pickle::encode(g, Profile::CPython { protocol: 5 }) else {
        return;
    };
    let d = pickle::decode_with(&Bytes::from(first.clone()), &Limits::default())
        .expect("our own encoding decodes");
    assert_eq!(d.end, first.len());
    let second = pickle::encode(&d.graph, Profile::CPython { protocol: 5 })
        .expect("a decoded graph re-encodes");
    assert_eq!(first, second, "encoding is not a fixed point");
    // The original's repr, computed once for every comparison below.
    let a = pickle::repr_node(g, g.root().unwrap(), limits).ok();
    if let (Some(a), Ok(b)) = (&a, pickle::repr_node(&d.graph, d.root(), limits)) {
        assert_eq!(*a, b, "repr changed across a round trip");
    }
    // Protocols 3 and 4 spell sets, frozensets and bytearrays as reduce calls;
    // the repr view must still show the same values. (Protocol 2 renames
    // globals, builtins → __builtin__, so its repr legitimately differs.)
    for p in 3..=4 {
        if let Ok(bytes) = pickle::encode(g, Profile::CPython { protocol: p }) {
            let d = pickle::decode_slice(&bytes).expect("our own encoding decodes");
            if let (Some(a), Ok(b)) = (&a, pickle::repr_node(&d.graph, d.root(), limits)) {
                assert_eq!(*a, b, "protocol {p} changed the repr");
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let limits = sparkwire_fuzz::pickle_limits();
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        if let Ok(d) = pickle::decode_with(&Bytes::copy_from_slice(rest), &limits) {
            check(&d.graph, &limits);
        }
    } else if let Ok(spec) = GraphSpec::arbitrary(&mut Unstructured::new(rest)) {
        let g = spec.build(&GenConfig {
            large_payloads: false,
            large_containers: mode & 2 != 0,
            surrogates: true,
        });
        check(&g, &limits);
    }
});
