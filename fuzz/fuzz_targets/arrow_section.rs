//! Arrow IPC boundary finding with PySpark's group framing on arbitrary bytes:
//! never panics, never reads past the input, and its offset accounts for every
//! consumed byte. Each message is also read for values (schema, dictionary
//! batches, then rows), which must not panic either and never yields more rows
//! than the body has bits.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use sparkwire_framing::Step;
use sparkwire_serializers::pyspark::arrow::{
    ArrowItem, Grouping, MessageKind, SectionDecoder, SectionItem,
};
use sparkwire_serializers::pyspark::arrow_rows;

fuzz_target!(|data: &[u8]| {
    let Some((&g, rest)) = data.split_first() else {
        return;
    };
    let grouping = match g % 3 {
        0 => Grouping::Plain,
        1 => Grouping::Grouped,
        _ => Grouping::Cogrouped,
    };
    let mut dec = SectionDecoder::new(grouping);
    let mut buf = BytesMut::from(rest);
    let mut seen = 0u64;
    let mut columns = None;
    let mut dicts = arrow_rows::Dictionaries::default();
    for _ in 0..10_000 {
        match dec.decode(&mut buf) {
            Ok(Step::Item(SectionItem::End)) | Ok(Step::NeedMore) | Err(_) => break,
            Ok(Step::Item(SectionItem::Group(_))) => seen += 4,
            Ok(Step::Item(SectionItem::Arrow(ArrowItem::Message {
                kind: MessageKind::Schema,
                bytes,
            }))) => {
                seen += bytes.len() as u64;
                columns = arrow_rows::schema(&bytes).ok();
            }
            Ok(Step::Item(SectionItem::Arrow(ArrowItem::Message {
                kind: MessageKind::RecordBatch,
                bytes,
            }))) => {
                seen += bytes.len() as u64;
                if let Some(Ok(rows)) = columns
                    .as_ref()
                    .map(|c| arrow_rows::rows_with(c, &dicts, &bytes))
                {
                    assert!(rows.len() <= (bytes.len() * 8).max(1 << 16));
                }
            }
            Ok(Step::Item(SectionItem::Arrow(ArrowItem::Message {
                kind: MessageKind::DictionaryBatch,
                bytes,
            }))) => {
                seen += bytes.len() as u64;
                if let Some(c) = &columns {
                    let _ = arrow_rows::dictionary_batch(c, &mut dicts, &bytes);
                }
            }
            Ok(Step::Item(SectionItem::Arrow(
                ArrowItem::Message { bytes, .. } | ArrowItem::End(bytes),
            ))) => seen += bytes.len() as u64,
        }
    }
    assert_eq!(
        dec.offset() + buf.len() as u64,
        rest.len() as u64,
        "offset and rest disagree"
    );
    assert!(seen <= dec.offset(), "items longer than what was consumed");
});
