//! The JVM side of AutoBatched streams against Spark's own
//! `SerDeUtil.AutoBatchedPickler` (run from the jars each pinned pyspark bundles,
//! through the Java oracle): batch sizes double while a Pyrolite pickle is under
//! 1 MiB and halve above 10 MiB, and every batch is the same bytes.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use sparkwire_serializers::pickle::{Int, PyStr, Value};
use sparkwire_serializers::pyspark::{Serializer, StreamDecoder, StreamEncoder};
use sparkwire_serializers::SparkVersion;
use sparkwire_testkit::pyrolite::with_pyrolite;
use sparkwire_testkit::{hex, oracle_versions};

#[derive(Debug, Clone)]
enum Item {
    Int(i32),
    Text(String),
}

fn ours(items: &[Item]) -> Vec<Vec<u8>> {
    let mut enc = StreamEncoder::new(Serializer::JvmAutoBatched, SparkVersion::V4_3).unwrap();
    for it in items {
        enc.push_with(|g| match it {
            Item::Int(i) => g.add(Value::Int(Int::Small(i64::from(*i)))),
            Item::Text(s) => g.add(Value::Str(PyStr::from(s.as_str()))),
        })
        .unwrap();
    }
    let stream = enc.finish().unwrap();
    // Split the frames back into payloads.
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < stream.len() {
        let n = i32::from_be_bytes(stream[pos..pos + 4].try_into().unwrap()) as usize;
        out.push(stream[pos + 4..pos + 4 + n].to_vec());
        pos += 4 + n;
    }
    out
}

fn spec(items: &[Item]) -> String {
    let mut s = String::from("(");
    for it in items {
        match it {
            Item::Int(i) => s.push_str(&format!(" i:{i}")),
            Item::Text(t) => s.push_str(&format!(" s:{}", hex(t.as_bytes()))),
        }
    }
    s.push_str(" )");
    s
}

/// Compares our batches with Spark's; `Ok(false)` when the oracle is missing
/// and that is allowed (never compared with ourselves instead).
fn check(release: &str, items: &[Item]) -> Result<bool, String> {
    let Some(theirs) = with_pyrolite(release, |p| p.auto_batch(&spec(items))) else {
        return Ok(false);
    };
    let theirs = theirs?;
    let mine = ours(items);
    if mine.len() != theirs.len() {
        return Err(format!(
            "{} batches, Spark wrote {}",
            mine.len(),
            theirs.len()
        ));
    }
    for (i, (a, b)) in mine.iter().zip(&theirs).enumerate() {
        if a != b {
            return Err(format!(
                "batch {i} differs ({} vs {} bytes)",
                a.len(),
                b.len()
            ));
        }
    }
    Ok(true)
}

/// Fails unless `compared` cases were compared with Spark (or skipping was
/// asked for explicitly).
fn require(compared: usize, want: usize) {
    assert!(
        compared >= want || sparkwire_testkit::missing_oracles_allowed(),
        "only {compared} of {want} cases were compared with Spark's AutoBatchedPickler"
    );
}

#[test]
fn ladder_crosses_1mib_and_10mib_like_spark() {
    // 63 ints (batches 1…32), then 100 strings of 200 KB: the 64-string batch
    // is ~12.8 MB (> 10 MiB: halves to 32), the next ~6.4 MB (kept), 4 left.
    let mut items: Vec<Item> = (0..63).map(Item::Int).collect();
    for i in 0..100u8 {
        items.push(Item::Text(
            std::iter::repeat_n(char::from(b'a' + i % 26), 200_000).collect(),
        ));
    }
    let mut compared = 0;
    for release in oracle_versions() {
        compared += usize::from(check(&release, &items).unwrap());
    }
    require(compared, oracle_versions().len());
    let batches = ours(&items);
    let sizes: Vec<usize> = batches
        .iter()
        .map(|b| {
            let d = sparkwire_serializers::pickle::decode_slice(b).unwrap();
            match d.graph.get(d.root()) {
                Value::Tuple(t) => t.len(),
                _ => 0,
            }
        })
        .collect();
    assert_eq!(sizes, [1, 2, 4, 8, 16, 32, 64, 32, 4], "ladder");
    // The stream reads back as the elements, in order.
    let mut stream = Vec::new();
    for b in &batches {
        stream.extend_from_slice(&(b.len() as i32).to_be_bytes());
        stream.extend_from_slice(b);
    }
    let n = StreamDecoder::new(Serializer::JvmAutoBatched, SparkVersion::V4_3)
        .load_all(&stream)
        .unwrap()
        .len();
    assert_eq!(n, items.len());
}

#[test]
fn random_streams_like_spark() {
    let item = prop_oneof![
        any::<i32>().prop_map(Item::Int),
        "\\PC{0,20}".prop_map(Item::Text),
    ];
    // Streams of small items, and streams where a few items are 0.3–1.5 MB, so
    // that batches cross the 1 MiB doubling and 10 MiB halving thresholds.
    let big = (300_000usize..1_200_000, any::<u8>())
        .prop_map(|(n, c)| Item::Text(std::iter::repeat_n(char::from(b'a' + c % 26), n).collect()));
    let mixed = prop_oneof![9 => item.clone(), 1 => big];
    let compared = std::cell::Cell::new(0usize);
    let mut wanted = 0;
    for release in oracle_versions() {
        for (strategy, cases) in [
            (
                prop::collection::vec(item.clone().boxed(), 0..300).boxed(),
                40,
            ),
            (
                prop::collection::vec(mixed.clone().boxed(), 0..40).boxed(),
                8,
            ),
        ] {
            wanted += cases as usize;
            TestRunner::new(Config {
                cases,
                failure_persistence: None,
                ..Config::default()
            })
            .run(&strategy, |items| {
                let done =
                    check(&release, &items).map_err(proptest::test_runner::TestCaseError::fail)?;
                compared.set(compared.get() + usize::from(done));
                Ok(())
            })
            .unwrap();
        }
    }
    require(compared.get(), wanted);
}
