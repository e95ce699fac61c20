//! `StreamEncoder::push_row` (plain records kept flat and pickled without a
//! graph for the CPickle batching serializers) against `push` of the same
//! records built in the encoder's graph: the streams must be byte-identical for
//! every serializer and version, with records mixed with graph-built elements in
//! one batch, strings CPython shares by value, tuples of every length, ints of
//! every width, and strings large enough to leave a frame or cross 64 KiB
//! frames. The graph path is proven against real PySpark in
//! `tests/serializers_vs_pyspark.rs` (which also runs `push_row` against it).

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use sparkwire_serializers::pickle::{Field, Int, Value};
use sparkwire_serializers::pyspark::{Serializer, StreamEncoder};
use sparkwire_serializers::SparkVersion;

#[derive(Debug, Clone)]
enum F {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

impl F {
    fn field(&self) -> Field<'_> {
        match self {
            F::None => Field::None,
            F::Bool(b) => Field::Bool(*b),
            F::Int(v) => Field::Int(*v),
            F::Float(v) => Field::Float(*v),
            F::Str(s) => Field::Str(s),
        }
    }
}

/// A record, and whether to push it through the graph in the encoder under test too.
type Rec = (Vec<F>, bool);

fn field() -> impl Strategy<Value = F> {
    let text = prop_oneof![
        Just(String::new()),
        Just("a".to_string()),
        Just("\u{80}".to_string()),
        Just("é".to_string()),
        Just("\u{ff}".to_string()),
        Just("\u{100}".to_string()),
        Just("ab".to_string()),
        "[a-zé€😀]{0,12}",
        (1usize..3).prop_map(|k| "x".repeat(k * 40_000)),
    ];
    prop_oneof![
        1 => Just(F::None),
        1 => any::<bool>().prop_map(F::Bool),
        1 => prop_oneof![
            -300i64..70_000,
            any::<i32>().prop_map(i64::from),
            any::<i64>()
        ]
        .prop_map(F::Int),
        1 => any::<f64>().prop_map(F::Float),
        4 => text.prop_map(F::Str),
    ]
}

fn records() -> impl Strategy<Value = Vec<Rec>> {
    prop::collection::vec(
        (
            prop::collection::vec(field(), 0..6),
            prop::bool::weighted(0.1),
        ),
        0..40,
    )
}

fn serializers() -> Vec<Serializer> {
    vec![
        Serializer::rdd_default(),
        Serializer::AutoBatched(Box::new(Serializer::CPickle), 64),
        Serializer::batched(Serializer::CPickle, 1),
        Serializer::batched(Serializer::CPickle, 3),
        Serializer::batched(Serializer::CPickle, -1),
        Serializer::batched(Serializer::CPickle, 0),
        // Not written directly: push_row falls back to the graph.
        Serializer::CPickle,
        Serializer::batched(Serializer::Marshal, 2),
        Serializer::JvmAutoBatched,
    ]
}

const VERSIONS: [SparkVersion; 2] = [SparkVersion::V3_5, SparkVersion::V4_3];

/// One record as a tuple built in the encoder's graph, then pushed.
fn push_via_graph(enc: &mut StreamEncoder, fields: &[F]) -> Result<(), String> {
    let mut items = Vec::new();
    for f in fields {
        items.push(match f {
            F::Str(s) => enc.add_str(s),
            F::None => enc.graph().add(Value::None),
            F::Bool(b) => enc.graph().add(Value::Bool(*b)),
            F::Int(v) => enc.graph().add(Value::Int(Int::Small(*v))),
            F::Float(v) => enc.graph().add(Value::Float(*v)),
        });
    }
    let t = enc.graph().add_tuple(&items);
    enc.push(t).map_err(|e| e.to_string())
}

/// The stream through the graph only.
fn via_graph(ser: &Serializer, version: SparkVersion, recs: &[Rec]) -> Result<Vec<u8>, String> {
    let mut enc = StreamEncoder::new(ser.clone(), version).map_err(|e| e.to_string())?;
    for (fields, _) in recs {
        push_via_graph(&mut enc, fields)?;
    }
    enc.finish().map_err(|e| e.to_string())
}

/// The stream through `push_row`, except the records marked for the graph.
fn via_rows(ser: &Serializer, version: SparkVersion, recs: &[Rec]) -> Result<Vec<u8>, String> {
    let mut enc = StreamEncoder::new(ser.clone(), version).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for (i, (fields, graph)) in recs.iter().enumerate() {
        if *graph {
            push_via_graph(&mut enc, fields)?;
        } else {
            let fs: Vec<Field<'_>> = fields.iter().map(F::field).collect();
            enc.push_row(&fs).map_err(|e| e.to_string())?;
        }
        if i % 7 == 3 {
            out.extend(enc.take_output());
        }
    }
    out.extend(enc.finish().map_err(|e| e.to_string())?);
    Ok(out)
}

/// Where two results part, briefly (the streams can be megabytes).
fn first_difference(a: &Result<Vec<u8>, String>, b: &Result<Vec<u8>, String>) -> String {
    match (a, b) {
        (Ok(a), Ok(b)) => {
            let at = a.iter().zip(b).take_while(|(x, y)| x == y).count();
            let near = |s: &[u8]| s[at.saturating_sub(8)..(at + 8).min(s.len())].to_vec();
            format!(
                "lengths {} and {}, first difference at byte {at}: {:02x?} vs {:02x?}",
                a.len(),
                b.len(),
                near(a),
                near(b)
            )
        }
        _ => format!("{:?} vs {:?}", a.as_ref().err(), b.as_ref().err()),
    }
}

fn check(recs: &[Rec]) -> Result<(), TestCaseError> {
    for ser in serializers() {
        for version in VERSIONS {
            let g = via_graph(&ser, version, recs);
            let r = via_rows(&ser, version, recs);
            prop_assert!(
                r == g,
                "{} in {:?}: push_row differs from the graph path: {}",
                ser,
                version,
                first_difference(&r, &g)
            );
        }
    }
    Ok(())
}

#[test]
fn push_row_writes_what_the_graph_path_writes() {
    let mut runner = TestRunner::new(Config {
        cases: 300,
        failure_persistence: None,
        ..Config::default()
    });
    runner.run(&records(), |recs| check(&recs)).unwrap();
}

/// Thousands of records: batches of more than 1000 (MARK … APPENDS per 1000),
/// memo indices past 255 (LONG_BINGET for the shared one-character strings),
/// several 64 KiB frames per batch, and the ladder's doubling.
#[test]
fn push_row_writes_what_the_graph_path_writes_at_scale() {
    let mut recs = Vec::new();
    for i in 0..30_000i64 {
        let one = char::from_u32(0x60 + (i % 0xa0) as u32).unwrap_or('a');
        recs.push((
            vec![
                F::Int(i * 37 - 5_000),
                F::Str(format!("name-{i}")),
                F::Float(i as f64 * 0.5),
                F::None,
                F::Bool(i % 3 == 0),
                F::Str(one.to_string()),
            ],
            i % 9_999 == 17,
        ));
    }
    for ser in [
        Serializer::rdd_default(),
        Serializer::batched(Serializer::CPickle, 2_500),
        Serializer::batched(Serializer::CPickle, -1),
    ] {
        let g = via_graph(&ser, SparkVersion::V4_3, &recs).unwrap();
        let r = via_rows(&ser, SparkVersion::V4_3, &recs).unwrap();
        assert!(
            r == g,
            "{ser}: push_row differs from the graph path: {}",
            first_difference(&Ok(r.clone()), &Ok(g.clone()))
        );
    }
}
