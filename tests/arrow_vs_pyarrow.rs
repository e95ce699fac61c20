//! Arrow IPC boundaries against real pyarrow streams written by PySpark's
//! `ArrowStreamSerializer` (each pinned version, through the oracle): every
//! message is found with the kind pyarrow reports, the end marker closes the
//! stream, the legacy 4-byte prefix works too, and PySpark's grouped and
//! cogrouped framing around streams is split exactly, whatever the chunking;
//! and the values in record batches of every type `arrow_rows` reads are
//! those pyarrow's `to_pylist()` gives.

use bytes::BytesMut;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::json;
use sparkwire_framing::Step;
use sparkwire_serializers::pyspark::arrow::{
    ArrowItem, ArrowStreamDecoder, Grouping, MessageKind, SectionDecoder, SectionItem,
};
use sparkwire_serializers::pyspark::arrow_rows;
use sparkwire_testkit::{oracle_versions, unhex, with_oracle};

fn kind_name(k: MessageKind) -> String {
    match k {
        MessageKind::Schema => "schema".into(),
        MessageKind::DictionaryBatch => "dictionary".into(),
        MessageKind::RecordBatch => "record batch".into(),
        MessageKind::Other(n) => format!("other {n}"),
    }
}

/// Decodes one stream fed in `step`-byte pieces; returns kinds and end-marker length.
fn split(data: &[u8], step: usize) -> (Vec<String>, usize) {
    let mut dec = ArrowStreamDecoder::new();
    let mut buf = BytesMut::new();
    let mut kinds = Vec::new();
    let mut fed = 0;
    loop {
        match dec.decode(&mut buf).unwrap() {
            Step::Item(ArrowItem::Message { kind, .. }) => kinds.push(kind_name(kind)),
            Step::Item(ArrowItem::End(b)) => {
                assert_eq!(fed, data.len(), "end marker before the input ended");
                assert!(buf.is_empty());
                return (kinds, b.len());
            }
            Step::NeedMore => {
                assert!(fed < data.len(), "stream ended without its end marker");
                let n = step.min(data.len() - fed);
                buf.extend_from_slice(&data[fed..fed + n]);
                fed += n;
            }
        }
    }
}

fn section(grouping: Grouping, data: &[u8]) -> (usize, usize) {
    let mut dec = SectionDecoder::new(grouping);
    let mut buf = BytesMut::from(data);
    let (mut groups, mut ends) = (0, 0);
    loop {
        match dec.decode(&mut buf).unwrap() {
            Step::Item(SectionItem::Group(_)) => groups += 1,
            Step::Item(SectionItem::Arrow(ArrowItem::End(_))) => ends += 1,
            Step::Item(SectionItem::Arrow(_)) => {}
            Step::Item(SectionItem::End) => break,
            Step::NeedMore => panic!("section cut short"),
        }
    }
    assert!(buf.is_empty(), "bytes left after the section");
    assert_eq!(dec.offset(), data.len() as u64);
    (groups, ends)
}

#[test]
fn finds_pyarrow_message_boundaries() {
    let row = (
        any::<i64>(),
        prop_oneof![Just("a".to_string()), Just("bb".to_string()), "[a-z]{0,40}"],
    );
    // At least one batch: with none, ArrowStreamSerializer writes nothing at all (no schema, no end).
    let batches = prop::collection::vec(prop::collection::vec(row, 0..50), 1..4);
    for release in oracle_versions() {
        with_oracle(&release, |oracle| {
            let oracle = std::cell::RefCell::new(oracle);
            TestRunner::new(Config {
                cases: 100,
                failure_persistence: None,
                ..Config::default()
            })
            .run(&(batches.clone(), 1usize..64), |(batches, step)| {
                let rows: Vec<Vec<serde_json::Value>> = batches
                    .iter()
                    .map(|b| b.iter().map(|(i, s)| json!([i, s])).collect())
                    .collect();
                let r = oracle
                    .borrow_mut()
                    .call(json!({"op": "arrow_streams", "batches": rows}))
                    .unwrap();
                let plain = unhex(r["plain"].as_str().unwrap());
                let legacy = unhex(r["legacy"].as_str().unwrap());
                let kinds: Vec<String> = serde_json::from_value(r["kinds"].clone()).unwrap();
                let (ours, end) = split(&plain, step);
                prop_assert_eq!(&ours, &kinds);
                prop_assert_eq!(end, 8);
                let (ours_legacy, end) = split(&legacy, step);
                prop_assert_eq!(ours_legacy.len(), kinds.len());
                prop_assert_eq!(end, 4);
                // Grouped: i32 1 + stream per group, i32 0; cogrouped: i32 2 + two streams.
                let mut grouped = Vec::new();
                for _ in 0..3 {
                    grouped.extend_from_slice(&1i32.to_be_bytes());
                    grouped.extend_from_slice(&plain);
                }
                grouped.extend_from_slice(&0i32.to_be_bytes());
                prop_assert_eq!(section(Grouping::Grouped, &grouped), (3, 3));
                let mut cogrouped = 2i32.to_be_bytes().to_vec();
                cogrouped.extend_from_slice(&plain);
                cogrouped.extend_from_slice(&legacy);
                cogrouped.extend_from_slice(&0i32.to_be_bytes());
                prop_assert_eq!(section(Grouping::Cogrouped, &cogrouped), (1, 2));
                prop_assert_eq!(section(Grouping::Plain, &plain), (0, 1));
                Ok(())
            })
            .unwrap();
        });
    }
}

/// The values of every record batch, read with its stream's schema.
fn arrow_values(stream: &[u8]) -> Result<Vec<String>, String> {
    let mut dec = ArrowStreamDecoder::new();
    let mut buf = BytesMut::from(stream);
    let (mut columns, mut rows) = (None, Vec::new());
    loop {
        match dec.decode(&mut buf).map_err(|e| e.to_string())? {
            Step::Item(ArrowItem::Message {
                kind: MessageKind::Schema,
                bytes,
            }) => columns = Some(arrow_rows::schema(&bytes)?),
            Step::Item(ArrowItem::Message {
                kind: MessageKind::RecordBatch,
                bytes,
            }) => rows.extend(arrow_rows::rows(
                columns.as_ref().ok_or("a batch before the schema")?,
                &bytes,
            )?),
            Step::Item(ArrowItem::Message { .. }) => {}
            Step::Item(ArrowItem::End(_)) => return Ok(rows),
            Step::NeedMore => return Err("cut short".into()),
        }
    }
}

#[test]
fn record_batch_values_equal_pyarrows() {
    // One pinned release is enough: the values come from pyarrow, not PySpark.
    let release = oracle_versions().pop().unwrap();
    with_oracle(&release, |oracle| {
        for seed in 0..300u64 {
            let r = oracle
                .call(json!({"op": "arrow_rows", "seed": seed}))
                .unwrap();
            let stream = unhex(r["stream"].as_str().unwrap());
            let want: Vec<String> = serde_json::from_value(r["rows"].clone()).unwrap();
            let got = arrow_values(&stream).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
            assert_eq!(got, want, "seed {seed}");
        }
    });
}
