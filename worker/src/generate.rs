//! Generators of valid worker-protocol values and byte streams, for every
//! version, for property tests and downstream fuzzing (feature `proptest`).

use proptest::prelude::*;

use crate::protocol::{
    BroadcastEntry, BroadcastServer, Broadcasts, ConnInfo, HeaderStyle, Resource, SparkVersion,
    TaskContext, TaskHeader,
};

/// Any modelled version.
pub fn version() -> impl Strategy<Value = SparkVersion> {
    prop::sample::select(SparkVersion::ALL.to_vec())
}

/// Short text, any code points.
pub fn text() -> impl Strategy<Value = String> + Clone {
    "\\PC{0,12}"
}

/// A NON_UDF task header that version `v` can carry.
pub fn header(v: SparkVersion) -> impl Strategy<Value = TaskHeader> {
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

/// The JVM → worker bytes of 1–3 tasks back to back: each header, a data
/// section of raw frames and nulls, END_OF_DATA_SECTION and END_OF_STREAM.
pub fn task_stream(v: SparkVersion) -> impl Strategy<Value = Vec<u8>> {
    let frames = prop::collection::vec(
        prop::option::of(prop::collection::vec(any::<u8>(), 0..30)),
        0..5,
    );
    prop::collection::vec((header(v), frames), 1..4).prop_map(move |tasks| {
        let mut out = Vec::new();
        for (h, frames) in tasks {
            // Headers built by `header(v)` always encode.
            out.extend(h.encode(v).unwrap_or_default());
            for f in frames {
                match f {
                    Some(d) => {
                        out.extend((d.len() as i32).to_be_bytes());
                        out.extend(d);
                    }
                    None => out.extend((-5i32).to_be_bytes()),
                }
            }
            out.extend((-1i32).to_be_bytes());
            out.extend((-4i32).to_be_bytes());
        }
        out
    })
}
