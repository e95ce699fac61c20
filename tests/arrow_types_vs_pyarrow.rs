//! Arrow values and schemas against pyarrow 18.1.0 for every column type
//! `arrow_rows` decodes: timestamps of each unit (naive, UTC, fixed offsets),
//! dates, times, durations, decimal128/256, lists, large and fixed-size lists,
//! maps, large string/binary, fixed-size binary, nested structs and
//! dictionary-encoded columns with dictionary deltas. The streams and what
//! pyarrow read back from them (`str(schema)`, `to_pylist()` reprs) were
//! recorded by scripts/record-arrow-types.sh; no Python is needed here.

use bytes::BytesMut;
use sparkwire_framing::Step;
use sparkwire_serializers::pyspark::arrow::{ArrowItem, ArrowStreamDecoder, MessageKind};
use sparkwire_serializers::pyspark::arrow_rows::{self, Dictionaries};
use sparkwire_testkit::unhex;

/// The schema text and every batch's rows, as sparkwire reads the stream.
fn read(stream: &[u8]) -> Result<(String, Vec<String>), String> {
    let mut dec = ArrowStreamDecoder::new();
    let mut buf = BytesMut::from(stream);
    let (mut columns, mut dicts, mut rows) = (None, Dictionaries::default(), Vec::new());
    loop {
        match dec.decode(&mut buf).map_err(|e| e.to_string())? {
            Step::Item(ArrowItem::Message { kind, bytes }) => match kind {
                MessageKind::Schema => columns = Some(arrow_rows::schema(&bytes)?),
                MessageKind::DictionaryBatch => arrow_rows::dictionary_batch(
                    columns.as_deref().ok_or("a dictionary before the schema")?,
                    &mut dicts,
                    &bytes,
                )?,
                MessageKind::RecordBatch => rows.extend(arrow_rows::rows_with(
                    columns.as_deref().ok_or("a batch before the schema")?,
                    &dicts,
                    &bytes,
                )?),
                MessageKind::Other(k) => return Err(format!("message kind {k}")),
            },
            Step::Item(ArrowItem::End(_)) => {
                let text = arrow_rows::schema_text(columns.as_deref().unwrap_or_default());
                return Ok((text, rows));
            }
            Step::NeedMore => return Err("cut short".into()),
        }
    }
}

#[test]
fn arrow_types_read_like_pyarrows_to_pylist() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/golden/arrow-types/streams.json"
    );
    let golden: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(golden["pyarrow"], "18.1.0");
    let (mut cases, mut values) = (0, 0);
    for c in golden["cases"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let stream = unhex(c["stream"].as_str().unwrap());
        let want: Vec<String> = serde_json::from_value(c["rows"].clone()).unwrap();
        let got = read(&stream);
        if name == "timestamp_named_zone" {
            // pyarrow converts through pytz's database; without one, refuse.
            let err = got.expect_err("a named zone needs a time-zone database");
            assert!(err.contains("America/New_York"), "{err}");
            continue;
        }
        if name == "nested_lists_40" {
            let err = got.expect_err("nesting past the limit");
            assert!(err.contains("nested too deeply"), "{err}");
            continue;
        }
        let (schema, rows) = got.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(schema, c["schema"].as_str().unwrap(), "{name}: schema");
        assert_eq!(rows.len(), want.len(), "{name}: row count");
        for (i, (g, w)) in rows.iter().zip(&want).enumerate() {
            assert_eq!(g, w, "{name}: row {i}");
        }
        cases += 1;
        values += want.len();
    }
    eprintln!("{cases} streams, {values} rows equal to pyarrow's");
    assert!(cases >= 62, "{cases}");
}
