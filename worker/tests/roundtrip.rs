//! encode → decode of random task headers and replies, for every version, fed
//! to the decoders in arbitrary chunks. (The layouts themselves are checked
//! against the real workers in `real_worker.rs`.)

use bytes::BytesMut;
use proptest::prelude::*;
use sparkwire_framing::Step;
use sparkwire_worker::protocol::{
    encode_reply, BroadcastEntry, BroadcastServer, Broadcasts, ConnInfo, End, HeaderStyle,
    ReplyDecoder, ReplyItem, Resource, SparkVersion, TaskContext, TaskDecoder, TaskHeader,
    TaskItem, Timing,
};

fn version() -> impl Strategy<Value = SparkVersion> {
    prop::sample::select(SparkVersion::ALL.to_vec())
}

fn text() -> impl Strategy<Value = String> + Clone {
    "\\PC{0,12}"
}

fn header(v: SparkVersion) -> impl Strategy<Value = TaskHeader> {
    // Unique keys: JSON objects cannot hold duplicates.
    let props = prop::collection::btree_map(text(), text(), 0..4);
    let resources =
        prop::collection::btree_map(text(), (text(), prop::collection::vec(text(), 0..3)), 0..3);
    let entries = prop::collection::vec((any::<i64>(), text()), 0..4);
    let server = prop::option::of((any::<bool>(), 1i32..65535, text()));
    let barrier = (any::<bool>(), any::<bool>(), 1i32..65535, text());
    let conf = prop::collection::vec((text(), text()), 0..3);
    (
        (
            any::<i32>(),
            "3\\.[0-9]{1,2}",
            barrier,
            any::<[i32; 4]>(),
            any::<i64>(),
            resources,
            props,
        ),
        (
            text(),
            prop::collection::vec(text(), 0..3),
            server,
            entries,
            conf.clone(),
            conf,
            prop::collection::vec(any::<u8>(), 0..64),
        ),
    )
        .prop_map(
            move |(
                (pi, py, (is_barrier, uds, port, secret), ids, attempt, resources, props),
                (dir, includes, server, entries, rc, ec, cmd),
            )| {
                let paths = v.conn_info_paths();
                let (barrier_conn, barrier_secret) = match v.header_style() {
                    HeaderStyle::Fields {
                        barrier_always: true,
                    } => (Some(ConnInfo::Port(port)), Some(secret)),
                    HeaderStyle::Fields {
                        barrier_always: false,
                    } if !is_barrier => (None, None),
                    _ if uds && paths => (Some(ConnInfo::Path(secret)), None),
                    _ => (Some(ConnInfo::Port(port)), Some(secret)),
                };
                let json = matches!(v.header_style(), HeaderStyle::Json { .. });
                let server = server.map(|(uds, port, secret)| {
                    if uds && paths {
                        BroadcastServer {
                            conn: ConnInfo::Path(secret),
                            secret: None,
                        }
                    } else {
                        BroadcastServer {
                            conn: ConnInfo::Port(port),
                            secret: Some(secret),
                        }
                    }
                });
                let entries = entries
                    .into_iter()
                    .map(|(id, path)| BroadcastEntry {
                        id,
                        path: (id >= 0 && server.is_none()).then_some(path),
                    })
                    .collect();
                TaskHeader {
                    partition_index: pi,
                    python_version: py,
                    context: TaskContext {
                        is_barrier,
                        barrier_conn,
                        barrier_secret,
                        stage_id: ids[0],
                        partition_id: ids[1],
                        attempt_number: ids[2],
                        task_attempt_id: attempt,
                        cpus: ids[3],
                        resources: resources
                            .into_iter()
                            .map(|(key, (name, addresses))| Resource {
                                key,
                                name,
                                addresses,
                            })
                            .collect(),
                        local_properties: props.into_iter().collect(),
                        cpu_amount: None,
                        json: None,
                    },
                    spark_files_dir: dir,
                    python_includes: includes,
                    broadcasts: Broadcasts { server, entries },
                    eval_type: 0,
                    runner_conf: if json { rc } else { Vec::new() },
                    eval_conf: if json { ec } else { Vec::new() },
                    command: cmd.into(),
                }
            },
        )
}

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
    /// its data frames, END_OF_DATA_SECTION and END_OF_STREAM.
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
            match dec.next(&mut buf).unwrap() {
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
            match dec.next(&mut buf).unwrap() {
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
