//! Both directions of a worker connection on arbitrary bytes, for every Spark
//! version: the JVM → worker task decoder and the worker reply decoder never
//! panic, and feeding the input in two chunks gives the same items as one.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use sparkwire_framing::Step;
use sparkwire_worker::protocol::{ReplyDecoder, SparkVersion, TaskDecoder};

fn tasks(v: SparkVersion, chunks: &[&[u8]]) -> Vec<String> {
    let mut dec = TaskDecoder::new(v);
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for c in chunks {
        buf.extend_from_slice(c);
        for _ in 0..10_000 {
            match dec.decode(&mut buf) {
                Ok(Step::Item(i)) => out.push(format!("{i:?}")),
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

fn replies(v: SparkVersion, chunks: &[&[u8]]) -> Vec<String> {
    let mut dec = ReplyDecoder::new(v);
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for c in chunks {
        buf.extend_from_slice(c);
        loop {
            match dec.decode(&mut buf) {
                Ok(Step::Item(Some(i))) => out.push(format!("{i:?}")),
                Ok(Step::Item(None)) => return out,
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
        run(v, &[rest]),
        run(v, &[&rest[..at], &rest[at..]]),
        "chunking changed the result"
    );
});
