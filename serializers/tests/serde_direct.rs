//! The direct serde path (`from_slice` without the value graph) against the graph
//! path, on the same bytes: wherever the direct path answers, its answer must be
//! the graph path's, for every target type here. Inputs are CPython-layout
//! pickles of random value graphs (objects, sharing, sets and all, protocols
//! 2–5; the encoders are proven byte-exact against CPython elsewhere), typed
//! values pickled in CPython's and Pyrolite's layouts, and damaged copies of both.
//! Coverage is checked too: the typed values must take the direct path, or the
//! speed-up would be silently lost.

use std::collections::BTreeMap;
use std::fmt::Debug;

use proptest::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sparkwire_serializers::pickle::generate::pickle_bytes;
use sparkwire_serializers::pickle::serde::{from_slice, from_slice_direct, from_slice_via_graph};
use sparkwire_serializers::pickle::Profile;

type Row = (i64, String, f64, Option<()>, bool);

/// Checks one target type on one input; returns whether the direct path answered.
fn agree<T: DeserializeOwned + Debug>(data: &[u8]) -> bool {
    let direct = from_slice_direct::<T>(data);
    let graph = from_slice_via_graph::<T>(data);
    let public = from_slice::<T>(data);
    assert_eq!(
        format!("{public:?}"),
        format!("{graph:?}"),
        "from_slice differs from the graph path on {data:02x?}"
    );
    match direct {
        Some(d) => {
            let g = graph.unwrap_or_else(|e| {
                panic!("direct path answered {d:?} where the graph path fails ({e}) on {data:02x?}")
            });
            assert_eq!(format!("{d:?}"), format!("{g:?}"), "on {data:02x?}");
            true
        }
        None => false,
    }
}

/// Every target type on one input; how many answered directly.
fn agree_all(data: &[u8]) -> usize {
    [
        agree::<serde_json::Value>(data),
        agree::<Vec<Row>>(data),
        agree::<Vec<(i64, String)>>(data),
        agree::<Vec<Vec<i64>>>(data),
        agree::<Vec<(Vec<i64>, i64)>>(data),
        agree::<(Vec<i64>, i64)>(data),
        agree::<BTreeMap<String, Vec<Option<i64>>>>(data),
        agree::<Vec<Option<(i64, i64)>>>(data),
        agree::<Option<Vec<String>>>(data),
        agree::<Vec<(i64,)>>(data),
        agree::<Vec<(String, (i64, f64))>>(data),
        agree::<(i64, i64, i64, i64)>(data),
        agree::<Vec<BTreeMap<String, i64>>>(data),
    ]
    .into_iter()
    .filter(|&b| b)
    .count()
}

fn profiles() -> Vec<Profile> {
    let mut p: Vec<Profile> = (2..=5)
        .map(|protocol| Profile::CPython { protocol })
        .collect();
    p.push(Profile::Pyrolite);
    p
}

/// Pickles `v` in every layout; each must take the direct path as `T` and agree.
fn typed<T: Serialize + DeserializeOwned + Debug>(v: &T) {
    for profile in profiles() {
        let data = sparkwire_serializers::pickle::serde::to_vec(v, profile).expect("encodable");
        assert!(
            from_slice_direct::<T>(&data).is_some(),
            "{profile:?}: {v:?} did not take the direct path: {data:02x?}"
        );
        agree::<T>(&data);
        agree_all(&data);
        damaged(&data);
    }
}

/// Truncations and byte flips of a valid pickle.
fn damaged(data: &[u8]) {
    for cut in (0..data.len()).step_by(1 + data.len() / 16) {
        agree_all(&data[..cut]);
    }
    let mut d = data.to_vec();
    for i in (0..d.len()).step_by(1 + d.len() / 8) {
        for flip in [0x01u8, 0x80, 0xff] {
            d[i] ^= flip;
            agree_all(&d);
            d[i] ^= flip;
        }
    }
}

fn row() -> impl Strategy<Value = Row> {
    (
        any::<i64>(),
        ".{0,12}",
        any::<f64>(),
        Just(None),
        any::<bool>(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn random_graphs_agree(data in pickle_bytes(40)) {
        agree_all(&data);
    }

    #[test]
    fn damaged_random_graphs_agree(data in pickle_bytes(20)) {
        damaged(&data);
    }

    #[test]
    fn row_batches(rows in prop::collection::vec(row(), 0..40)) {
        typed(&rows);
    }


    #[test]
    fn pairs_and_nesting(
        pairs in prop::collection::vec((any::<i64>(), "[a-c]{0,3}"), 0..40),
        nested in prop::collection::vec(prop::collection::vec(any::<i64>(), 0..4), 0..6),
        lists_first in prop::collection::vec((prop::collection::vec(0i64..300, 0..3), any::<i64>()), 0..5),
        opt in prop::collection::vec(prop::option::of((any::<i64>(), any::<i64>())), 0..6),
        map in prop::collection::btree_map("[a-z]{0,4}", prop::collection::vec(prop::option::of(any::<i64>()), 0..3), 0..5),
    ) {
        typed(&pairs);
        typed(&nested);
        typed(&lists_first);
        typed(&opt);
        typed(&map);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn long_row_batches(rows in prop::collection::vec(row(), 900..2100)) {
        for profile in profiles() {
            let data = sparkwire_serializers::pickle::serde::to_vec(&rows, profile).expect("encodable");
            prop_assert!(from_slice_direct::<Vec<Row>>(&data).is_some());
            agree::<Vec<Row>>(&data);
        }
    }
}

/// Layouts where guessing is wrong: a list followed by a MARK-started sibling, a
/// one-element list of a MARK tuple, lists that lead a pair. The scan pass must
/// answer them directly.
#[test]
fn ambiguous_layouts_take_the_scan_pass() {
    let cases: Vec<Vec<u8>> = vec![
        // [[1, 2], (1, 2, 3, 4)] as JSON-like any.
        sparkwire_serializers::pickle::serde::to_vec(
            &(vec![1i64, 2], (1i64, 2i64, 3i64, 4i64)),
            Profile::CPython { protocol: 5 },
        )
        .expect("encodable"),
        sparkwire_serializers::pickle::serde::to_vec(
            &vec![(1i64, 2i64, 3i64, 4i64)],
            Profile::CPython { protocol: 4 },
        )
        .expect("encodable"),
        sparkwire_serializers::pickle::serde::to_vec(
            &vec![(vec![1i64], 2i64)],
            Profile::CPython { protocol: 2 },
        )
        .expect("encodable"),
    ];
    for data in &cases {
        agree_all(data);
    }
    assert!(from_slice_direct::<((Vec<i64>, (i64, i64, i64, i64)),)>(&cases[0]).is_none());
    assert!(from_slice_direct::<(Vec<i64>, (i64, i64, i64, i64))>(&cases[0]).is_some());
    assert!(from_slice_direct::<Vec<(i64, i64, i64, i64)>>(&cases[1]).is_some());
    assert!(from_slice_direct::<Vec<(Vec<i64>, i64)>>(&cases[2]).is_some());
}
