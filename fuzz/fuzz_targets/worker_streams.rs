//! Both directions of a worker connection on arbitrary bytes, for every Spark
//! version: the JVM → worker task decoder and the worker reply decoder never
//! panic; feeding the input in two chunks gives the same items as one; and
//! everything decoded re-encodes (through `TaskEncoder` and `encode_reply`, the
//! writers the session and capture re-encoding use) to exactly the input bytes
//! it was decoded from.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use sparkwire_framing::Step;
use sparkwire_serializers::pyspark::arrow::SectionItem;
use sparkwire_worker::protocol::{
    encode_reply, ReplyDecoder, ReplyItem, SparkVersion, TaskDecoder, TaskEncoder, TaskItem,
};

/// The items of the JVM → worker direction (as text), and the bytes the decoded
/// items re-encode to, checked against the input at every item.
fn tasks(v: SparkVersion, input: &[u8], chunks: &[&[u8]]) -> Vec<String> {
    let mut dec = TaskDecoder::new(v);
    let enc = TaskEncoder::new(v);
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    let mut rebuilt: Vec<u8> = Vec::new();
    // The current task's Arrow section, written out once it ends.
    let mut section: Vec<SectionItem> = Vec::new();
    let mut fed = 0;
    for c in chunks {
        buf.extend_from_slice(c);
        fed += c.len();
        for _ in 0..10_000 {
            match dec.decode(&mut buf) {
                Ok(Step::Item(i)) => {
                    out.push(format!("{i:?}"));
                    match i {
                        TaskItem::Header(h) => enc.header(&h, &mut rebuilt).expect("re-encodes"),
                        TaskItem::Data(f) => enc.frame(&f, &mut rebuilt).expect("re-encodes"),
                        TaskItem::EndOfData => enc.end_of_data(&mut rebuilt),
                        TaskItem::Arrow(item) => {
                            let end = item == SectionItem::End;
                            section.push(item);
                            if end {
                                enc.arrow(&section, &mut rebuilt);
                                section.clear();
                            }
                        }
                        TaskItem::Finish(x) => enc.finish(x, &mut rebuilt),
                    }
                    if section.is_empty() {
                        let consumed = fed - buf.len();
                        assert_eq!(
                            rebuilt,
                            &input[..consumed],
                            "re-encoding differs from the input"
                        );
                    }
                }
                Ok(Step::NeedMore) => break,
                Err(e) => {
                    out.push(e.to_string());
                    return out;
                }
            }
        }
    }
    out
}

/// The items of the worker → JVM direction (as text); a reply read to its end
/// re-encodes to exactly its bytes.
fn replies(v: SparkVersion, input: &[u8], chunks: &[&[u8]]) -> Vec<String> {
    let mut dec = ReplyDecoder::new(v);
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    let mut items: Vec<ReplyItem> = Vec::new();
    let mut fed = 0;
    for c in chunks {
        buf.extend_from_slice(c);
        fed += c.len();
        loop {
            match dec.decode(&mut buf) {
                Ok(Step::Item(Some(i))) => {
                    out.push(format!("{i:?}"));
                    items.push(i);
                }
                Ok(Step::Item(None)) => {
                    let consumed = fed - buf.len();
                    let rebuilt = encode_reply(&items, v).expect("a decoded reply re-encodes");
                    assert_eq!(rebuilt, &input[..consumed], "re-encoding differs");
                    return out;
                }
                Ok(Step::NeedMore) => break,
                Err(e) => {
                    out.push(e.to_string());
                    return out;
                }
            }
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((head, at, rest)) = sparkwire_fuzz::selector_split(data) else {
        return;
    };
    let v = SparkVersion::ALL[usize::from(head >> 1) % SparkVersion::ALL.len()];
    let run = if head & 1 == 0 { tasks } else { replies };
    assert_eq!(
        run(v, rest, &[rest]),
        run(v, rest, &[&rest[..at], &rest[at..]]),
        "chunking changed the result"
    );
});
