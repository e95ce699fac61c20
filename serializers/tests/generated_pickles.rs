//! The exported generators produce what they promise: every generated pickle
//! decodes, ends exactly at its STOP, and re-encodes to itself.
#![cfg(feature = "proptest")]

use proptest::prelude::*;
use sparkwire_serializers::pickle::{self, generate::pickle_bytes, Profile};

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn generated_pickles_are_valid_and_fixed_points(data in pickle_bytes(16)) {
        let d = pickle::decode_slice(&data).unwrap();
        prop_assert_eq!(d.end, data.len());
        let p = d.protocol.unwrap();
        prop_assert_eq!(pickle::encode(&d.graph, Profile::CPython { protocol: p }).unwrap(), data);
    }
}
