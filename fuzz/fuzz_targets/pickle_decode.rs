//! The pickle decoder, disassembler, repr view and both encoders on arbitrary
//! bytes. Beyond "no panic": decoding is bounded by small limits, STOP's end
//! offset lies inside the input, and the disassembler agrees with the decoder
//! on where the pickle ends whenever both succeed.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use sparkwire_serializers::pickle::{self, Profile};

fuzz_target!(|data: &[u8]| {
    let limits = sparkwire_fuzz::pickle_limits();
    let input = Bytes::copy_from_slice(data);
    let mut text = String::new();
    let dis = pickle::dis(data, &mut text);
    let Ok(d) = pickle::decode_with(&input, &limits) else {
        return;
    };
    assert!(d.end <= data.len());
    if let Ok(end) = dis {
        assert_eq!(end, d.end, "dis and decode disagree on where STOP is");
    }
    let root = d.root();
    let _ = pickle::repr_node(&d.graph, root, &limits);
    for p in 2..=5 {
        let _ = pickle::encode(&d.graph, Profile::CPython { protocol: p });
    }
    let _ = pickle::encode(&d.graph, Profile::Pyrolite);
});
