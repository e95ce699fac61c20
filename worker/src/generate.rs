//! Generators of valid worker-protocol values and byte streams, for every
//! version, for property tests and downstream fuzzing (feature `proptest`).

use proptest::prelude::*;

use bytes::Bytes;

use crate::protocol::{
    Arg, BroadcastEntry, BroadcastServer, Broadcasts, Command, ConnInfo, EvalType, HeaderStyle,
    Resource, SparkVersion, StateServer, TaskContext, TaskHeader, Udf, UdfCommand, UdtfCommand,
    WorkerLayout,
};

/// Any modelled version.
pub fn version() -> impl Strategy<Value = SparkVersion> {
    prop::sample::select(SparkVersion::ALL.to_vec())
}

/// Short text, any code points.
pub fn text() -> impl Strategy<Value = String> + Clone {
    "\\PC{0,12}"
}

fn pickle_bytes() -> impl Strategy<Value = Bytes> + Clone {
    prop::collection::vec(any::<u8>(), 0..48).prop_map(Bytes::from)
}

fn args(kwargs: bool) -> impl Strategy<Value = Vec<Arg>> {
    prop::collection::vec((any::<i32>(), prop::option::of(text())), 0..4).prop_map(move |a| {
        a.into_iter()
            .map(|(offset, name)| Arg {
                offset,
                name: name.filter(|_| kwargs),
            })
            .collect()
    })
}

/// An eval type and a command that version `v` can carry for it: every known
/// eval type — NON_UDF, the SQL UDF eval types and the UDTFs.
pub fn command(v: SparkVersion) -> impl Strategy<Value = (EvalType, Command)> {
    let eval = prop::sample::select(EvalType::KNOWN.to_vec());
    let conf = prop::collection::vec((text(), text()), 0..3);
    (
        eval,
        pickle_bytes(),
        (conf.clone(), text(), any::<i32>(), any::<bool>(), text()),
        prop::option::of(prop::sample::select(vec!["perf", "memory"])),
        prop::collection::vec(
            (
                args(true),
                prop::collection::vec(pickle_bytes(), 0..3),
                any::<i64>(),
            ),
            0..3,
        ),
        (
            prop::collection::vec(any::<i32>(), 0..3),
            prop::option::of(pickle_bytes()),
        ),
    )
        .prop_map(
            move |(
                eval_type,
                payload,
                (conf, schema, port, uds, key),
                profiler,
                udfs,
                (ints, analyze),
            )| {
                let command = if eval_type == EvalType::NON_UDF {
                    Command::Rdd(payload)
                } else if v.is_udtf(eval_type) {
                    let full = v >= SparkVersion::V4_0;
                    let conf_sent = v.udtf_conf(eval_type);
                    let first = udfs.first();
                    Command::Udtf(UdtfCommand {
                        runner_conf: conf_sent.then(|| conf.clone()),
                        input_types: (conf_sent && v.udtf_input_types(eval_type))
                            .then(|| schema.clone()),
                        table_arg_offsets: (conf_sent && v.udtf_table_arg_offsets(eval_type))
                            .then(|| ints.clone()),
                        args: first
                            .map(|u| {
                                u.0.iter()
                                    .map(|a| Arg {
                                        offset: a.offset,
                                        name: a.name.clone().filter(|_| full),
                                    })
                                    .collect()
                            })
                            .unwrap_or_default(),
                        partition_child_indexes: full.then(|| ints.clone()),
                        analyze_result: full.then(|| analyze.clone()),
                        handler: payload,
                        return_type: schema.clone(),
                        name: full.then(|| key.clone()),
                    })
                } else {
                    let conf_sent = v.command_conf(eval_type);
                    let profiler = v.profiler_flag().then(|| profiler.map(str::to_owned));
                    let ids = v.result_ids_always() || matches!(profiler, Some(Some(_)));
                    let kwargs = v.kwarg_flags(eval_type);
                    Command::Udfs(UdfCommand {
                        runner_conf: conf_sent.then(|| conf.clone()),
                        state_schema: (conf_sent
                            && eval_type == EvalType::SQL_GROUPED_MAP_PANDAS_UDF_WITH_STATE)
                            .then(|| schema.clone()),
                        state_server: (conf_sent && v.state_server(eval_type)).then(|| {
                            StateServer {
                                conn: if uds && v.conn_info_paths() {
                                    ConnInfo::Path(schema.clone())
                                } else {
                                    ConnInfo::Port(port)
                                },
                                key_schema: key.clone(),
                            }
                        }),
                        input_types: (conf_sent && v.udf_input_types(eval_type))
                            .then(|| schema.clone()),
                        profiler,
                        udfs: udfs
                            .into_iter()
                            .map(|(args, chain, id)| Udf {
                                args: args
                                    .into_iter()
                                    .map(|a| Arg {
                                        offset: a.offset,
                                        name: a.name.filter(|_| kwargs),
                                    })
                                    .collect(),
                                chain,
                                result_id: ids.then_some(id),
                            })
                            .collect(),
                    })
                };
                (eval_type, command)
            },
        )
}

/// A task header, with any command, that version `v` can carry.
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
            command(v),
        ),
    )
        .prop_map(
            move |(
                (pi, py, (is_barrier, uds, port, secret), ids, attempt, resources, props),
                (dir, includes, server, entries, rc, ec, (eval_type, command)),
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
                    eval_type,
                    runner_conf: if json { rc } else { Vec::new() },
                    eval_conf: if json { ec } else { Vec::new() },
                    command,
                }
            },
        )
}

/// The JVM → worker bytes of 1–3 tasks back to back: each header, a data
/// section (raw frames and nulls then END_OF_DATA_SECTION, or for Arrow eval
/// types an empty IPC stream or an empty grouped section), and END_OF_STREAM.
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
            if h.eval_type.is_arrow() {
                if frames.len() % 2 == 0 {
                    out.extend([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
                } else {
                    out.extend(0i32.to_be_bytes());
                }
                out.extend((-4i32).to_be_bytes());
                continue;
            }
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
