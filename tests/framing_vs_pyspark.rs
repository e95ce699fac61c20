//! Differential property tests: sparkwire-framing against the real
//! `pyspark.serializers` of every pinned version, through the oracle process.
//!
//! Each case is checked in both directions where both exist: our writer's bytes
//! must equal PySpark's, and PySpark's readers must read our bytes (and we theirs)
//! to the same values.

use std::cell::RefCell;

use bytes::BytesMut;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Value};
use sparkwire_framing::utf8::{load_like_pyspark, Utf8Decoder, Utf8Item};
use sparkwire_framing::{
    Chunk, ChunkedDecoder, ChunkedEncoder, DecodeError, Frame, FrameDecoder, FrameWriter,
    SpecialLength, Step,
};
use sparkwire_testkit::{hex, oracle_versions, unhex, with_oracle, Oracle};

const CASES: u32 = 200;

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    })
}

/// Runs a property against each pinned version's oracle.
/// The oracle sits in a `RefCell` because proptest's runner takes `Fn` closures.
fn each_version(mut property: impl FnMut(&RefCell<&mut Oracle>, &mut TestRunner)) {
    for v in oracle_versions() {
        with_oracle(&v, |oracle| property(&RefCell::new(oracle), &mut runner()));
    }
}

fn interesting_i32() -> impl Strategy<Value = i32> {
    prop_oneof![
        Just(0),
        Just(-1),
        Just(i32::MIN),
        Just(i32::MAX),
        -8..=8i32,
        any::<i32>()
    ]
}

fn interesting_i64() -> impl Strategy<Value = i64> {
    prop_oneof![
        Just(0),
        Just(-1),
        Just(i64::MIN),
        Just(i64::MAX),
        Just(i64::from(i32::MAX) + 1),
        any::<i64>()
    ]
}

/// The fixed-width field properties: for random values, our writer's bytes equal
/// what PySpark's `op` writes, and our decoder reads PySpark's bytes back to the
/// same values with nothing left over.
fn fixed_width_like_pyspark<T>(
    op: &str,
    values: impl Strategy<Value = T>,
    write: fn(&mut FrameWriter<Vec<u8>>, T),
    read: fn(&mut FrameDecoder, &mut BytesMut) -> Result<Step<T>, DecodeError>,
) where
    T: Copy + PartialEq + std::fmt::Debug + serde::Serialize,
{
    let values = prop::collection::vec(values, 0..20);
    each_version(|oracle, runner| {
        runner
            .run(&values, |values| {
                let mut w = FrameWriter::new(Vec::new());
                values.iter().for_each(|v| write(&mut w, *v));
                let theirs = oracle
                    .borrow_mut()
                    .call_bytes(json!({"op": op, "values": values}))
                    .unwrap();
                prop_assert_eq!(w.into_inner(), theirs.clone());
                let mut dec = FrameDecoder::new();
                let mut buf = BytesMut::from(&theirs[..]);
                for v in &values {
                    prop_assert_eq!(read(&mut dec, &mut buf).unwrap(), Step::Item(*v));
                }
                prop_assert!(buf.is_empty());
                Ok(())
            })
            .unwrap();
    });
}

#[test]
fn write_int_like_pyspark() {
    fixed_width_like_pyspark(
        "write_int",
        interesting_i32(),
        |w, v| {
            w.i32(v);
        },
        FrameDecoder::decode_i32,
    );
}

#[test]
fn write_long_like_pyspark() {
    fixed_width_like_pyspark(
        "write_long",
        interesting_i64(),
        |w, v| {
            w.i64(v);
        },
        FrameDecoder::decode_i64,
    );
}

fn payloads() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(
        prop_oneof![
            Just(Vec::new()),
            prop::collection::vec(any::<u8>(), 0..64),
            prop::collection::vec(any::<u8>(), 0..5000),
        ],
        0..12,
    )
}

#[test]
fn write_with_length_like_pyspark() {
    each_version(|oracle, runner| {
        runner
            .run(&payloads(), |payloads| {
                let mut w = FrameWriter::new(Vec::new());
                for p in &payloads {
                    w.frame(p).unwrap();
                }
                let hexes: Vec<String> = payloads.iter().map(|p| hex(p)).collect();
                let theirs = oracle
                    .borrow_mut()
                    .call_bytes(json!({"op": "write_with_length", "payloads": hexes}))
                    .unwrap();
                prop_assert_eq!(&w.into_inner(), &theirs);
                let mut dec = FrameDecoder::new();
                let mut buf = BytesMut::from(&theirs[..]);
                for p in &payloads {
                    prop_assert_eq!(
                        dec.decode_eof(&mut buf).unwrap(),
                        Some(Frame::Data(p.clone().into()))
                    );
                }
                prop_assert_eq!(dec.decode_eof(&mut buf).unwrap(), None);
                Ok(())
            })
            .unwrap();
    });
}

/// One item of a mixed stream of fields and frames, written by us and read by
/// PySpark's `read_int` / `read_long` / `read_bool` / `_read_with_length`.
#[derive(Debug, Clone)]
enum Field {
    I32(i32),
    I64(i64),
    Bool(bool),
    Frame(Vec<u8>),
    Null,
    Marker(SpecialLength),
}

fn fields() -> impl Strategy<Value = Vec<Field>> {
    let markers: Vec<SpecialLength> = SpecialLength::ALL
        .into_iter()
        .filter(|s| *s != SpecialLength::Null)
        .collect();
    prop::collection::vec(
        prop_oneof![
            interesting_i32().prop_map(Field::I32),
            interesting_i64().prop_map(Field::I64),
            any::<bool>().prop_map(Field::Bool),
            prop::collection::vec(any::<u8>(), 0..40).prop_map(Field::Frame),
            Just(Field::Null),
            prop::sample::select(markers).prop_map(Field::Marker),
        ],
        0..25,
    )
}

#[test]
fn pyspark_reads_what_we_write() {
    each_version(|oracle, runner| {
        runner
            .run(&fields(), |fields| {
                let mut w = FrameWriter::new(Vec::new());
                let mut layout = Vec::new();
                let mut expected = Vec::new();
                for f in &fields {
                    match f {
                        Field::I32(v) => {
                            w.i32(*v);
                            layout.push("i32");
                            expected.push(json!(v));
                        }
                        Field::I64(v) => {
                            w.i64(*v);
                            layout.push("i64");
                            expected.push(json!(v));
                        }
                        Field::Bool(v) => {
                            w.bool(*v);
                            layout.push("bool");
                            expected.push(json!(v));
                        }
                        Field::Frame(p) => {
                            w.frame(p).unwrap();
                            layout.push("frame");
                            expected.push(json!(hex(p)));
                        }
                        Field::Null => {
                            w.null();
                            layout.push("frame");
                            expected.push(Value::Null);
                        }
                        Field::Marker(s) => {
                            w.marker(*s);
                            layout.push("frame");
                            expected.push(json!({"special": s.value()}));
                        }
                    }
                }
                let got = oracle
                    .borrow_mut()
                    .call(
                        json!({"op": "read_fields", "hex": hex(&w.into_inner()), "layout": layout}),
                    )
                    .unwrap();
                prop_assert_eq!(&got["values"], &Value::Array(expected));
                prop_assert_eq!(&got["rest"], &json!(""));
                Ok(())
            })
            .unwrap();
    });
}

/// A UTF-8 record stream item as we generate it: text, null, the end marker, or
/// raw bytes that may be malformed (bad UTF-8, lying lengths, stray specials).
#[derive(Debug, Clone)]
enum Rec {
    Str(String),
    Null,
    End,
    Raw(Vec<u8>),
}

fn records() -> impl Strategy<Value = Vec<Rec>> {
    prop::collection::vec(
        prop_oneof![
            6 => any::<String>().prop_map(Rec::Str),
            2 => "[a-zé☕😀]{0,5}".prop_map(Rec::Str),
            1 => Just(Rec::Null),
            1 => Just(Rec::End),
            1 => prop::collection::vec(any::<u8>(), 0..8).prop_map(Rec::Raw),
        ],
        0..12,
    )
}

fn write_records(recs: &[Rec]) -> Vec<u8> {
    let mut w = FrameWriter::new(Vec::new());
    for r in recs {
        match r {
            Rec::Str(s) => {
                w.str(s).unwrap();
            }
            Rec::Null => {
                w.null();
            }
            Rec::End => {
                w.marker(SpecialLength::EndOfDataSection);
            }
            Rec::Raw(b) => w.get_mut().extend_from_slice(b),
        }
    }
    w.into_inner()
}

/// What the strict decoder makes of a complete input: the items up to the end
/// marker or the first error.
fn strict_items(input: &[u8]) -> (Vec<Option<String>>, bool) {
    let mut dec = Utf8Decoder::new();
    let mut buf = BytesMut::from(input);
    let mut items = Vec::new();
    loop {
        match dec.decode(&mut buf) {
            Ok(Step::Item(Utf8Item::Str(s))) => items.push(Some(s)),
            Ok(Step::Item(Utf8Item::Null)) => items.push(None),
            Ok(Step::Item(Utf8Item::End)) => return (items, true),
            Ok(Step::NeedMore) => return (items, dec.finish(&buf).is_ok()),
            Err(_) => return (items, false),
        }
    }
}

#[test]
fn utf8_records_like_utf8_deserializer() {
    each_version(|oracle, runner| {
        runner
            .run(&records(), |recs| {
                let input = write_records(&recs);
                let got = oracle
                    .borrow_mut()
                    .call(json!({"op": "utf8_load", "hex": hex(&input)}))
                    .unwrap();
                let theirs: Vec<Option<String>> =
                    serde_json::from_value(got["items"].clone()).unwrap();
                let raised = !got["error"].is_null();
                // Our model of PySpark's reader agrees with PySpark exactly ...
                match load_like_pyspark(&input) {
                    Ok(ours) => {
                        prop_assert!(!raised, "PySpark raised, we did not");
                        prop_assert_eq!(&ours, &theirs);
                    }
                    Err(e) => {
                        prop_assert!(raised, "we raised, PySpark did not");
                        prop_assert_eq!(&e.items, &theirs);
                    }
                }
                // ... and on every well-formed stream the strict decoder does too;
                // on malformed ones it stops with an error where PySpark guessed.
                let well_formed = recs.iter().all(|r| !matches!(r, Rec::Raw(_)));
                let (strict, clean) = strict_items(&input);
                if well_formed {
                    prop_assert!(clean);
                    prop_assert_eq!(&strict, &theirs);
                } else {
                    prop_assert!(theirs.starts_with(&strict) || !clean);
                }
                Ok(())
            })
            .unwrap();
    });
}

#[test]
fn strings_like_write_with_length_of_utf8() {
    each_version(|oracle, runner| {
        runner
            .run(&prop::collection::vec(any::<String>(), 0..10), |strs| {
                let mut w = FrameWriter::new(Vec::new());
                for s in &strs {
                    w.str(s).unwrap();
                }
                let theirs = oracle
                    .borrow_mut()
                    .call_bytes(json!({"op": "write_strs", "strs": strs}))
                    .unwrap();
                prop_assert_eq!(w.into_inner(), theirs.clone());
                let mut dec = FrameDecoder::new();
                let mut buf = BytesMut::from(&theirs[..]);
                for s in &strs {
                    prop_assert_eq!(dec.decode_str(&mut buf).unwrap(), Step::Item(s.clone()));
                }
                Ok(())
            })
            .unwrap();
    });
}

#[test]
fn chunked_stream_like_pyspark() {
    let writes = prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..10);
    let sizes = prop_oneof![1..=16usize, Just(8192usize), 17..=700usize];
    each_version(|oracle, runner| {
        runner
            .run(&(sizes.clone(), writes.clone()), |(size, writes)| {
                let mut ours = Vec::new();
                let mut enc = ChunkedEncoder::new(size).unwrap();
                for w in &writes {
                    enc.write(w, &mut ours);
                }
                enc.finish(&mut ours);
                let hexes: Vec<String> = writes.iter().map(|w| hex(w)).collect();
                let theirs = oracle
                    .borrow_mut()
                    .call_bytes(json!({"op": "chunked", "buffer_size": size, "writes": hexes}))
                    .unwrap();
                prop_assert_eq!(&ours, &theirs);
                // Dechunking PySpark's bytes gives back the concatenated data.
                let mut dec = ChunkedDecoder::new();
                let mut buf = BytesMut::from(&theirs[..]);
                let mut data = Vec::new();
                loop {
                    match dec.decode(&mut buf).unwrap() {
                        Step::Item(Chunk::Data(b)) => {
                            prop_assert!(!b.is_empty() && b.len() <= size);
                            data.extend_from_slice(&b);
                        }
                        Step::Item(Chunk::End) => break,
                        Step::NeedMore => prop_assert!(false, "complete input"),
                    }
                }
                prop_assert_eq!(data, writes.concat());
                prop_assert!(buf.is_empty());
                Ok(())
            })
            .unwrap();
    });
}

#[test]
fn oracle_round_trip_helpers_agree() {
    // Guards the harness itself: hex transport is lossless for every byte.
    let all: Vec<u8> = (0..=255).collect();
    each_version(|oracle, _| {
        let back = oracle
            .borrow_mut()
            .call_bytes(json!({"op": "write_with_length", "payloads": [hex(&all)]}))
            .unwrap();
        assert_eq!(&back[4..], &all[..]);
        assert_eq!(unhex(&hex(&back)), back);
    });
}
