//! encode → decode of random task headers and replies, for every version, fed
//! to the decoders in arbitrary chunks. (The layouts themselves are checked
//! against the real workers in `real_worker.rs`, and for every eval type in
//! `real_worker_eval_types.rs`.) The generators are the crate's own, exported
//! behind the `proptest` feature.

use bytes::BytesMut;
use proptest::prelude::*;
use sparkwire_framing::Step;
use sparkwire_serializers::pyspark::arrow::{ArrowItem, SectionItem};
use sparkwire_worker::generate::{header, text, version};
use sparkwire_worker::protocol::{
    encode_reply, End, HeaderStyle, ReplyDecoder, ReplyItem, SparkVersion, TaskDecoder, TaskHeader,
    TaskItem, Timing, WorkerLayout,
};

/// Feeds `data` in `step`-byte pieces until the header decodes.
fn decode_chunked(data: &[u8], v: SparkVersion, step: usize) -> (TaskHeader, usize) {
    let mut have = 0;
    loop {
        have = (have + step).min(data.len());
        if let Some(done) = TaskHeader::decode(&data[..have], v).unwrap() {
            return done;
        }
        assert!(have < data.len(), "complete input did not decode");
    }
}

/// JSON objects come back in the parser's key order; compare sorted, and
/// without what only the JSON form carries.
fn normalized(mut h: TaskHeader) -> TaskHeader {
    h.context.json = None;
    h.context.local_properties.sort();
    h.context.resources.sort_by(|a, b| a.key.cmp(&b.key));
    h.context.cpu_amount = None;
    if h.context.barrier_secret.is_none() {
        h.context.barrier_secret = Some(String::new());
    }
    h
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn headers_round_trip((v, h) in version().prop_flat_map(|v| (Just(v), header(v))), step in 1usize..97) {
        let bytes = h.encode(v).unwrap();
        let (back, used) = decode_chunked(&bytes, v, step);
        prop_assert_eq!(used, bytes.len());
        // Re-encoding what was decoded gives the same bytes (the JSON is kept verbatim).
        prop_assert_eq!(back.encode(v).unwrap(), bytes);
        if matches!(v.header_style(), HeaderStyle::Json { .. }) {
            prop_assert_eq!(normalized(back), normalized(h));
        } else {
            prop_assert_eq!(back, h);
        }
    }

    /// Several tasks back to back on one connection, each header followed by
    /// its data frames and END_OF_DATA_SECTION (or its Arrow section) and
    /// END_OF_STREAM.
    #[test]
    fn task_streams_round_trip(
        (v, tasks) in version().prop_flat_map(|v| (Just(v), prop::collection::vec((header(v), prop::collection::vec(prop::option::of(prop::collection::vec(any::<u8>(), 0..30)), 0..5)), 1..4))),
        step in 1usize..80,
    ) {
        let mut bytes = Vec::new();
        let mut want = Vec::new();
        for (h, frames) in &tasks {
            bytes.extend(h.encode(v).unwrap());
            want.push(TaskItem::Header(Box::new(h.clone())));
            if h.eval_type.is_arrow() {
                // An Arrow section: an empty IPC stream, or grouped input with no group.
                if frames.len() % 2 == 0 {
                    let eos = [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0];
                    bytes.extend(eos);
                    want.push(TaskItem::Arrow(SectionItem::Arrow(ArrowItem::End(eos.to_vec().into()))));
                } else {
                    bytes.extend(0i32.to_be_bytes());
                }
                bytes.extend((-4i32).to_be_bytes());
                want.extend([TaskItem::Arrow(SectionItem::End), TaskItem::Finish(-4)]);
                continue;
            }
            for f in frames {
                match f {
                    Some(d) => {
                        bytes.extend((d.len() as i32).to_be_bytes());
                        bytes.extend(d);
                        want.push(TaskItem::Data(sparkwire_framing::Frame::Data(d.clone().into())));
                    }
                    None => {
                        bytes.extend((-5i32).to_be_bytes());
                        want.push(TaskItem::Data(sparkwire_framing::Frame::Null));
                    }
                }
            }
            bytes.extend((-1i32).to_be_bytes());
            bytes.extend((-4i32).to_be_bytes());
            want.extend([TaskItem::EndOfData, TaskItem::Finish(-4)]);
        }
        let mut dec = TaskDecoder::new(v);
        let mut buf = BytesMut::new();
        let (mut fed, mut got) = (0, Vec::new());
        while fed < bytes.len() || !buf.is_empty() {
            match dec.decode(&mut buf).unwrap() {
                Step::Item(i) => got.push(i),
                Step::NeedMore => {
                    prop_assert!(fed < bytes.len(), "stuck with {} bytes buffered", buf.len());
                    let n = step.min(bytes.len() - fed);
                    buf.extend_from_slice(&bytes[fed..fed + n]);
                    fed += n;
                }
            }
        }
        prop_assert!(dec.between_tasks());
        prop_assert_eq!(dec.offset(), bytes.len() as u64);
        prop_assert_eq!(dec.tasks(), tasks.len());
        // Headers compare by their bytes (JSON contexts come back with their text).
        prop_assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            match (g, w) {
                (TaskItem::Header(a), TaskItem::Header(b)) => prop_assert_eq!(a.encode(v).unwrap(), b.encode(v).unwrap()),
                _ => prop_assert_eq!(g, w),
            }
        }
    }

    #[test]
    fn replies_round_trip(
        v in version(),
        data in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 0..6),
        failed in prop::option::of(text()),
        longs in any::<[i64; 6]>(),
        accs in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..20), 0..3),
        reuse in any::<bool>(),
        step in 1usize..50,
    ) {
        let mut items: Vec<ReplyItem> = data.into_iter().map(|d| ReplyItem::Data(d.into())).collect();
        match failed {
            Some(t) => items.push(ReplyItem::Exception(t)),
            None => {
                items.push(ReplyItem::Timing(Timing {
                    boot_ms: longs[0],
                    init_ms: longs[1],
                    finish_ms: longs[2],
                    processing_ms: (v.timing_longs() == 4).then_some(longs[3]),
                    memory_bytes_spilled: longs[4],
                    disk_bytes_spilled: longs[5],
                }));
                items.extend(accs.into_iter().map(|a| ReplyItem::Accumulator(a.into())));
                items.push(ReplyItem::End(if reuse { End::Reuse } else { End::NoReuse }));
            }
        }
        let bytes = encode_reply(&items, v).unwrap();
        let mut dec = ReplyDecoder::new(v);
        let mut buf = BytesMut::new();
        let mut fed = 0;
        let mut back = Vec::new();
        loop {
            match dec.decode(&mut buf).unwrap() {
                Step::Item(Some(i)) => back.push(i),
                Step::Item(None) => break,
                Step::NeedMore => {
                    prop_assert!(fed < bytes.len(), "reply incomplete");
                    let n = step.min(bytes.len() - fed);
                    buf.extend_from_slice(&bytes[fed..fed + n]);
                    fed += n;
                }
            }
        }
        prop_assert_eq!(fed, bytes.len());
        prop_assert_eq!(dec.offset(), bytes.len() as u64);
        prop_assert_eq!(back, items);
    }
}
