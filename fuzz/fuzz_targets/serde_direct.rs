//! serde's direct path (pickle bytes straight into a Rust type) against the
//! graph path on arbitrary bytes: wherever the direct path answers, the graph
//! path must give the same value, for every target type here, and neither may
//! panic. This is the invariant that lets `from_slice` take the direct path.
#![no_main]

use std::collections::BTreeMap;
use std::fmt::Debug;

use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;
use sparkwire_serializers::pickle::serde::{from_slice_direct, from_slice_via_graph};

fn agree<T: DeserializeOwned + Debug>(data: &[u8]) {
    if let Some(direct) = from_slice_direct::<T>(data) {
        match from_slice_via_graph::<T>(data) {
            Ok(graph) => assert_eq!(format!("{direct:?}"), format!("{graph:?}")),
            Err(e) => panic!("direct path answered {direct:?}, graph path failed: {e}"),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    agree::<Vec<(i64, String, f64, Option<()>, bool)>>(data);
    agree::<Vec<Vec<i64>>>(data);
    agree::<(Vec<i64>, i64)>(data);
    agree::<Vec<(String, (i64, f64))>>(data);
    agree::<BTreeMap<String, Vec<Option<i64>>>>(data);
    agree::<Option<Vec<Vec<u8>>>>(data);
    agree::<Vec<(i64, i64, i64, i64)>>(data);
    // Rows of 4 or more items are read as runs of atoms where they are ones.
    agree::<Vec<(i64, (i64, i64), i64, i64)>>(data);
    agree::<Vec<(Option<String>, Option<i64>, Option<bool>, Option<f64>)>>(data);
    agree::<Vec<[i64; 17]>>(data);
    // `Option<()>` alone: `None` through a memo reference is `None`.
    agree::<Vec<Option<()>>>(data);
});
