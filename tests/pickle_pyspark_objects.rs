//! Round trips of what PySpark really pickles, for every pinned PySpark version
//! (each vendors its own cloudpickle): cloudpickled lambdas, closures, recursive
//! functions, classes and instances, the (func, profiler, deserializer,
//! serializer) command tuple, Rows built from a schema (shared field lists and
//! `_create_row` global), datetime/date/time/timedelta and Decimal values.
//!
//! For each: decode, re-encode with the CPython protocol-5 profile, compare with
//! PySpark's bytes; for data values also compare our repr with Python's.

use serde_json::json;
use sparkwire_serializers::pickle::{self, Profile};
use sparkwire_testkit::{hex, oracle_versions, unhex, with_oracle};

#[test]
fn pyspark_pickles_round_trip_byte_for_byte() {
    for v in oracle_versions() {
        with_oracle(&v, |oracle| {
            let resp = oracle.call(json!({"op": "pyspark_pickles"})).unwrap();
            let cases = resp.as_object().unwrap();
            assert!(cases.len() >= 14);
            for (name, case) in cases {
                let data = unhex(case["data"].as_str().unwrap());
                let d = pickle::decode_slice(&data)
                    .unwrap_or_else(|e| panic!("pyspark {v} {name}: {e}"));
                assert_eq!(d.end, data.len(), "{v} {name}");
                let again = pickle::encode(&d.graph, Profile::PYSPARK).unwrap();
                if again != data {
                    let at = again
                        .iter()
                        .zip(&data)
                        .position(|(a, b)| a != b)
                        .unwrap_or(again.len().min(data.len()));
                    panic!(
                        "pyspark {v} {name}: re-encoding differs at byte {at}\n ours {}\n them {}",
                        hex(&again[at.saturating_sub(8)..(at + 24).min(again.len())]),
                        hex(&data[at.saturating_sub(8)..(at + 24).min(data.len())])
                    );
                }
                let ours = pickle::repr::python_repr(
                    &d.graph,
                    d.root(),
                    &pickle::repr::ReprOptions::for_decoded(&d),
                )
                .unwrap();
                if let Some(theirs) = case["repr"].as_str() {
                    // Rows, aware datetimes and the rest print as Python
                    // prints them whenever the repr view claims exactness.
                    if ours.fidelity.is_exact() {
                        assert_eq!(ours.text, theirs, "pyspark {v} {name}");
                    }
                }
                if name.starts_with("rows") {
                    assert!(
                        ours.fidelity.is_exact(),
                        "pyspark {v} {name}: {}",
                        ours.text
                    );
                    assert!(ours.text.contains("Row("), "{}", ours.text);
                }
            }
        });
    }
}
