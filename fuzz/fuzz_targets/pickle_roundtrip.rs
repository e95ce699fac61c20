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
use sparkwire_serializers::pickle::{self, Graph, Limits, Profile, Value};

/// `alt`: the second protocol checked besides 5 (3 or 4, chosen by the input,
/// so each run pays for one extra encoding rather than two).
fn check(g: &Graph, limits: &Limits, alt: u8) {
    let Ok(first) = pickle::encode(g, Profile::CPython { protocol: 5 }) else {
        return;
    };
    let first = Bytes::from(first);
    let d = pickle::decode_with(&first, &Limits::default()).expect("our own encoding decodes");
    assert_eq!(d.end, first.len());
    let second = pickle::encode(&d.graph, Profile::CPython { protocol: 5 })
        .expect("a decoded graph re-encodes");
    assert_eq!(first, second, "encoding is not a fixed point");
    // The original's repr, computed once for every comparison below. Not with
    // out-of-band buffers: they are shown by their position among the
    // NEXT_BUFFERs written, which re-encoding from the root renumbers when the
    // input had unreachable ones (found by the campaign). When the original
    // has no repr (buffers, too large, an int past the digit limit) the
    // copies' reprs are not computed either: there is nothing to compare them
    // with, printing is most of a run's time, and a repr that hits the
    // expansion limit spends the whole budget each time.
    let buffers = g.ids().any(|id| matches!(g.get(id), Value::Buffer { .. }));
    let a = (!buffers
        && !sparkwire_fuzz::shares_a_nan(g)
        && !sparkwire_fuzz::shares_a_persistent_object(g))
    .then(|| pickle::repr_node(g, g.root().unwrap(), limits).ok())
    .flatten();
    if let Some(a) = &a {
        if let Ok(b) = pickle::repr_node(&d.graph, d.root(), limits) {
            assert_eq!(*a, b, "repr changed across a round trip");
        }
    }
    // Protocols 3 and 4 spell sets, frozensets and bytearrays as reduce calls;
    // the repr view must still show the same values. (Protocol 2 renames
    // globals, builtins → __builtin__, so its repr legitimately differs.)
    if let Ok(bytes) = pickle::encode(g, Profile::CPython { protocol: alt }) {
        let d = pickle::decode_slice(&bytes).expect("our own encoding decodes");
        if let Some(a) = &a {
            if let Ok(b) = pickle::repr_node(&d.graph, d.root(), limits) {
                assert_eq!(*a, b, "protocol {alt} changed the repr");
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
            check(&d.graph, &limits, 3 + (mode >> 7));
        }
    } else if let Ok(spec) = GraphSpec::arbitrary(&mut Unstructured::new(rest)) {
        // 999/1000/1001-item containers are slow to build, print and encode:
        // one run in four has them.
        let g = spec.build(&GenConfig {
            large_payloads: false,
            large_containers: mode & 6 == 6,
            surrogates: true,
        });
        check(&g, &limits, 3 + (mode >> 7));
    }
});
