//! `sparkwire decode`: recorded worker connections, decoded completely.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::{json, Value};
use sparkwire_framing::Frame;
use sparkwire_serializers::pickle;
use sparkwire_serializers::pyspark::arrow::{ArrowItem, MessageKind, SectionItem};
use sparkwire_serializers::pyspark::arrow_rows;
use sparkwire_serializers::pyspark::cloudpickle::{command_serializers, inspect};
use sparkwire_serializers::pyspark::{Serializer, StreamDecoder};
use sparkwire_worker::capture::{self, Connection, Mode, Task};
use sparkwire_worker::pcap;
use sparkwire_worker::protocol::{
    sql_serializers, Arg, Command, ConnInfo, End, ReplyItem, SparkVersion, TaskHeader,
};
use sparkwire_worker::traffic::{self, Kind};

use super::read_input;
use crate::{DecodeArgs, Format};

/// One recorded connection: its name, then both directions.
type Recorded = (String, Vec<u8>, Vec<u8>);

/// The connections named by the arguments.
fn inputs(args: &DecodeArgs) -> io::Result<Vec<Recorded>> {
    if let (Some(t), Some(f)) = (&args.to_worker, &args.from_worker) {
        return Ok(vec![("0".into(), read_input(t)?, read_input(f)?)]);
    }
    let Some(dir) = &args.dir else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "give a capture directory, or --to-worker and --from-worker",
        ));
    };
    let mut found: Vec<(u64, String, PathBuf)> = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let name = e?.file_name().to_string_lossy().to_string();
        let Some(rest) = name
            .strip_prefix("to_worker")
            .and_then(|r| r.strip_suffix(".bin"))
        else {
            continue;
        };
        let n = rest.strip_prefix('.').unwrap_or(rest);
        let key = n.parse::<u64>().unwrap_or(0);
        found.push((key, n.to_string(), dir.join(&name)));
    }
    found.sort();
    if found.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("no to_worker*.bin in {}", dir.display()),
        ));
    }
    let mut out = Vec::new();
    for (_, n, to) in found {
        let from_name = to
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .replacen("to_worker", "from_worker", 1);
        let from = to.with_file_name(from_name);
        out.push((
            if n.is_empty() { "0".into() } else { n },
            read_input(&to)?,
            read_input(&from)?,
        ));
    }
    Ok(out)
}

fn frames_stream(frames: &[Frame]) -> Vec<u8> {
    let mut out = Vec::new();
    for f in frames {
        let _ = f.encode(&mut out);
    }
    out
}

/// Records of a frame list, read with `ser` (raw frames as bytes without one).
fn records(frames: &[Frame], ser: Option<&Serializer>, v: SparkVersion) -> Vec<String> {
    let ser = ser.cloned().unwrap_or(Serializer::NoOp);
    match StreamDecoder::new(ser.clone(), v.serializers()).load_all(&frames_stream(frames)) {
        Ok(items) => items
            .iter()
            .map(|e| e.repr().unwrap_or_else(|e| format!("<{e}>")))
            .collect(),
        Err(e) => vec![format!("<not readable as {ser}: {e}>")],
    }
}

fn conn_json(c: &Option<ConnInfo>) -> Value {
    match c {
        None => Value::Null,
        Some(ConnInfo::Port(p)) => json!(p),
        Some(ConnInfo::Path(p)) => json!(p),
    }
}

/// What the functions in one pickled payload are, as far as inspection tells.
fn pickled_json(bytes: &[u8]) -> Value {
    let info = pickle::decode_slice(bytes)
        .ok()
        .map(|d| inspect(&d.graph))
        .unwrap_or_default();
    json!({
        "bytes": bytes.len(),
        "functions": info.code.iter().map(|f| json!({"name": f.name, "file": f.filename, "line": f.first_line})).collect::<Vec<_>>(),
        "modules": info.modules,
        "python": info.python,
    })
}

fn args_json(args: &[Arg]) -> Value {
    json!(args
        .iter()
        .map(|a| json!({"offset": a.offset, "name": a.name}))
        .collect::<Vec<_>>())
}

fn conf_json(conf: &Option<Vec<(String, String)>>) -> Value {
    conf.as_ref().map_or(Value::Null, |c| {
        json!(c
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect::<serde_json::Map<_, _>>())
    })
}

/// The command summary and the serializers its data sections are read with
/// (none for Arrow sections, which are listed message by message).
fn command_json(h: &TaskHeader) -> (Value, Option<(Serializer, Serializer)>) {
    let (mut doc, sers) = match &h.command {
        Command::Rdd(b) => {
            let sers = pickle::decode(b)
                .ok()
                .and_then(|d| command_serializers(&d.graph));
            let mut doc = pickled_json(b);
            doc["kind"] = json!("rdd");
            (doc, sers)
        }
        Command::Udfs(u) => {
            let udfs: Vec<Value> = u
                .udfs
                .iter()
                .map(|f| {
                    json!({
                        "args": args_json(&f.args),
                        "chain": f.chain.iter().map(|b| pickled_json(b)).collect::<Vec<_>>(),
                        "result_id": f.result_id,
                    })
                })
                .collect();
            let functions: Vec<Value> = udfs
                .iter()
                .flat_map(|f| f["chain"].as_array().cloned().unwrap_or_default())
                .flat_map(|c| c["functions"].as_array().cloned().unwrap_or_default())
                .collect();
            let doc = json!({
                "kind": "udfs",
                "runner_conf": conf_json(&u.runner_conf),
                "profiler": u.profiler.clone().flatten(),
                "state_schema": u.state_schema,
                "udfs": udfs,
                "functions": functions,
            });
            (doc, sql_serializers(h.eval_type))
        }
        Command::Udtf(t) => {
            let handler = pickled_json(&t.handler);
            let doc = json!({
                "kind": "udtf",
                "runner_conf": conf_json(&t.runner_conf),
                "name": t.name,
                "args": args_json(&t.args),
                "partition_child_indexes": t.partition_child_indexes,
                "analyze_result_bytes": t.analyze_result.as_ref().map(|a| a.as_ref().map(|b| b.len())),
                "return_type": t.return_type,
                "functions": handler["functions"],
                "handler": handler,
            });
            (doc, sql_serializers(h.eval_type))
        }
    };
    doc["bytes"] = json!(h.command.pickled_len());
    doc["deserializer"] = json!(sers.as_ref().map(|s| s.0.to_string()));
    doc["serializer"] = json!(sers.as_ref().map(|s| s.1.to_string()));
    (doc, sers)
}

/// Arrow IPC items as records: each record batch's rows (Python tuple reprs)
/// when its schema's columns are ones `arrow_rows` reads, else one line per
/// message; schemas and ends go to the markers.
#[derive(Default)]
struct ArrowRecords {
    columns: Option<Result<Vec<arrow_rows::Column>, String>>,
}

impl ArrowRecords {
    fn push(&mut self, item: &ArrowItem, records: &mut Vec<Value>, markers: &mut Vec<Value>) {
        match item {
            ArrowItem::Message {
                kind: MessageKind::Schema,
                bytes,
            } => {
                let cols = arrow_rows::schema(bytes);
                markers.push(json!(match &cols {
                    Ok(c) => format!(
                        "ARROW_SCHEMA({})",
                        c.iter()
                            .map(|c| c.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    Err(why) => format!("ARROW_SCHEMA(values not decoded: {why})"),
                }));
                self.columns = Some(cols);
            }
            ArrowItem::Message {
                kind: MessageKind::RecordBatch,
                bytes,
            } => match self.columns.as_ref().map(|c| match c {
                Ok(c) => arrow_rows::rows(c, bytes),
                Err(why) => Err(why.clone()),
            }) {
                Some(Ok(rows)) => records.extend(rows.into_iter().map(Value::from)),
                _ => records.push(json!(format!(
                    "<Arrow RecordBatch message, {} bytes>",
                    bytes.len()
                ))),
            },
            ArrowItem::Message { kind, bytes } => records.push(json!(format!(
                "<Arrow {kind:?} message, {} bytes>",
                bytes.len()
            ))),
            ArrowItem::End(_) => markers.push(json!("ARROW_END_OF_STREAM")),
        }
    }
}

fn task_json(t: &Task, v: SparkVersion) -> Value {
    let h = &t.header;
    let (command, sers) = command_json(h);
    let output: Vec<Frame> = t
        .reply
        .iter()
        .filter_map(|i| match i {
            ReplyItem::Data(b) => Some(Frame::Data(b.clone())),
            ReplyItem::Null => Some(Frame::Null),
            _ => None,
        })
        .collect();
    let mut output_markers = Vec::new();
    let (mut exception, mut timing, mut end) = (Value::Null, Value::Null, Value::Null);
    let mut accumulators = Vec::new();
    let mut arrow_output = Vec::new();
    let mut arrow_out = ArrowRecords::default();
    for item in &t.reply {
        match item {
            ReplyItem::ArrowStart => output_markers.push(json!("START_ARROW_STREAM")),
            ReplyItem::Arrow(a) => arrow_out.push(a, &mut arrow_output, &mut output_markers),
            ReplyItem::Exception(text) => {
                output_markers.push(json!("PYTHON_EXCEPTION_THROWN"));
                exception = json!(text);
            }
            ReplyItem::Timing(tm) => {
                output_markers.push(json!("TIMING_DATA"));
                timing = json!({
                    "boot_ms": tm.boot_ms, "init_ms": tm.init_ms, "finish_ms": tm.finish_ms,
                    "processing_ms": tm.processing_ms,
                    "memory_bytes_spilled": tm.memory_bytes_spilled, "disk_bytes_spilled": tm.disk_bytes_spilled,
                });
            }
            ReplyItem::Accumulator(b) => accumulators.push(json!(pickle::decode_slice(b)
                .ok()
                .and_then(|d| pickle::repr(&d.graph).ok())
                .unwrap_or_else(|| "<unreadable>".into()))),
            ReplyItem::End(e) => {
                output_markers.push(json!("END_OF_DATA_SECTION"));
                end = json!(match e {
                    End::Reuse => "END_OF_STREAM",
                    End::NoReuse => "END_OF_DATA_SECTION",
                });
            }
            _ => {}
        }
    }
    let mut input_markers = Vec::new();
    let mut input_records: Vec<Value> = Vec::new();
    if h.eval_type.is_arrow() {
        let mut arrow_in = ArrowRecords::default();
        for item in &t.arrow_input {
            match item {
                SectionItem::Group(n) => input_markers.push(json!(format!("GROUP({n})"))),
                SectionItem::Arrow(a) => arrow_in.push(a, &mut input_records, &mut input_markers),
                SectionItem::End => input_markers.push(json!("END_OF_ARROW_SECTION")),
            }
        }
    } else {
        input_records = records(&t.input, sers.as_ref().map(|s| &s.0), v)
            .into_iter()
            .map(Value::from)
            .collect();
        if t.end_of_data {
            input_markers.push(json!("END_OF_DATA_SECTION"));
        } else {
            input_markers.push(json!("(the recording ends inside the data section)"));
        }
    }
    let mut output_records: Vec<Value> = records(&output, sers.as_ref().map(|s| &s.1), v)
        .into_iter()
        .map(Value::from)
        .collect();
    output_records.extend(arrow_output);
    match t.finish {
        Some(-4) => input_markers.push(json!("END_OF_STREAM")),
        Some(x) => input_markers.push(json!(x)),
        None => {}
    }
    let c = &h.context;
    json!({
        "partition_index": h.partition_index,
        "python_version": h.python_version,
        "eval_type": h.eval_type.code(),
        "task_context": {
            "is_barrier": c.is_barrier, "barrier_conn": conn_json(&c.barrier_conn),
            "stage_id": c.stage_id, "partition_id": c.partition_id, "attempt_number": c.attempt_number,
            "task_attempt_id": c.task_attempt_id, "cpus": c.cpus, "cpu_amount": c.cpu_amount,
            "resources": c.resources.iter().map(|r| json!({"key": r.key, "name": r.name, "addresses": r.addresses})).collect::<Vec<_>>(),
            "local_properties": c.local_properties.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<serde_json::Map<_, _>>(),
        },
        "broadcasts": h.broadcasts.entries.iter().map(|e| json!({"id": e.id, "path": e.path})).collect::<Vec<_>>(),
        "command": command,
        "input_records": input_records,
        "input_markers": input_markers,
        "output_records": output_records,
        "output_markers": output_markers,
        "exception": exception,
        "reply_complete": t.reply_complete,
        "timing": timing,
        "accumulators": accumulators,
        "end": end,
    })
}

fn connection_json(name: &str, c: &Connection) -> Value {
    json!({
        "name": name,
        "spark_version": c.version.to_string(),
        "layouts_that_fit": c.fits.iter().map(|v| v.to_string()).collect::<Vec<_>>(),
        "mode": match c.mode { Mode::Simple => "simple", Mode::Daemon => "daemon", Mode::Unix => "unix socket" },
        "pid": c.pid,
        "tasks": c.tasks.iter().map(|t| task_json(t, c.version)).collect::<Vec<_>>(),
        "trailing_bytes": c.trailing.len(),
        "trailing_exception": c.trailing_exception(),
        "fork_errno": c.fork_errno,
    })
}

/// A JSON array of strings, comma-separated.
fn joined(v: &Value) -> String {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

fn text(doc: &Value) -> String {
    let mut s = String::new();
    if let Some(d) = doc.get("daemon").filter(|d| !d.is_null()) {
        let _ = writeln!(
            s,
            "daemon: announced {}; kill requests on stdin: {}",
            match d["socket_path"].as_str() {
                Some(p) => format!("socket {p}"),
                None => format!("port {}", d["port"]),
            },
            d["kill_pids"]
        );
    }
    if let Some(cap) = doc.get("capture") {
        let _ = writeln!(
            s,
            "capture: {} packets ({} not TCP/IP){}",
            cap["packets"],
            cap["skipped_packets"],
            if cap["truncated"].as_bool() == Some(true) {
                "; the file ends inside a packet"
            } else {
                ""
            }
        );
        for r in cap["tcp_connections"].as_array().into_iter().flatten() {
            let detail = match r["kind"].as_str() {
                Some("worker") => format!(
                    "Spark {} worker, {} tasks (below)",
                    r["spark_version"].as_str().unwrap_or("?"),
                    r["tasks"]
                ),
                Some("py4j") => {
                    format!("Py4J, {} commands, {} replies", r["commands"], r["replies"])
                }
                Some("data_socket") => format!(
                    "data socket, {} frames from the JVM: {}",
                    r["server_frames"],
                    joined(&r["server_records"])
                ),
                Some("accumulator_updates") => format!("accumulator updates {}", r["updates"]),
                _ => format!(
                    "other{}",
                    r["note"]
                        .as_str()
                        .map(|n| format!(" ({n})"))
                        .unwrap_or_default()
                ),
            };
            let lost = r["lost_bytes"]
                .as_array()
                .map(|l| l.iter().filter_map(Value::as_u64).sum::<u64>())
                .unwrap_or(0);
            let _ = writeln!(
                s,
                "  tcp {}: {} + {} bytes{}; {detail}",
                r["name"].as_str().unwrap_or("?"),
                r["client_bytes"],
                r["server_bytes"],
                if lost > 0 {
                    format!(" ({lost} bytes lost to a gap)")
                } else {
                    String::new()
                },
            );
        }
    }
    for c in doc["connections"].as_array().into_iter().flatten() {
        let _ = writeln!(
            s,
            "connection {} — Spark {} ({} worker, pid {}; layouts that fit: {})",
            c["name"].as_str().unwrap_or("?"),
            c["spark_version"].as_str().unwrap_or("?"),
            c["mode"].as_str().unwrap_or("?"),
            c["pid"],
            joined(&c["layouts_that_fit"]),
        );
        if let Some(errno) = c["fork_errno"].as_i64() {
            let _ = writeln!(
                s,
                "  the daemon could not fork a worker: errno {errno} sent where the pid belongs"
            );
        }
        for (i, t) in c["tasks"].as_array().into_iter().flatten().enumerate() {
            let ctx = &t["task_context"];
            let _ = writeln!(
                s,
                "  task {i}: partition {}, stage {}, attempt {}, task attempt id {}, python {}, eval type {}",
                t["partition_index"],
                ctx["stage_id"],
                ctx["attempt_number"],
                ctx["task_attempt_id"],
                t["python_version"].as_str().unwrap_or("?"),
                t["eval_type"]
            );
            let cmd = &t["command"];
            let _ = writeln!(
                s,
                "    command: {} bytes; {} → {}",
                cmd["bytes"],
                cmd["deserializer"].as_str().unwrap_or("?"),
                cmd["serializer"].as_str().unwrap_or("?")
            );
            for f in cmd["functions"].as_array().into_iter().flatten() {
                let _ = writeln!(
                    s,
                    "      function {} ({}:{})",
                    f["name"].as_str().unwrap_or("?"),
                    f["file"].as_str().unwrap_or("?"),
                    f["line"]
                );
            }
            for b in t["broadcasts"].as_array().into_iter().flatten() {
                let _ = writeln!(
                    s,
                    "    broadcast {} {}",
                    b["id"],
                    b["path"].as_str().unwrap_or("")
                );
            }
            let list = |k: &str| {
                t[k].as_array()
                    .map(|a| {
                        a.iter()
                            .map(|x| {
                                x.as_str()
                                    .map(str::to_string)
                                    .unwrap_or_else(|| x.to_string())
                            })
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default()
            };
            let _ = writeln!(
                s,
                "    input: {} records: {}",
                list("input_records").len(),
                list("input_records").join(", ")
            );
            let _ = writeln!(s, "    input markers: {}", list("input_markers").join(", "));
            let _ = writeln!(
                s,
                "    output: {} records: {}",
                list("output_records").len(),
                list("output_records").join(", ")
            );
            if let Some(e) = t["exception"].as_str() {
                let _ = writeln!(s, "    exception:");
                for line in e.lines() {
                    let _ = writeln!(s, "      {line}");
                }
            }
            if !t["timing"].is_null() {
                let tm = &t["timing"];
                let _ = writeln!(
                    s,
                    "    timing: boot {} init {} finish {} processing {} ms; spilled {} B memory, {} B disk",
                    tm["boot_ms"], tm["init_ms"], tm["finish_ms"], tm["processing_ms"], tm["memory_bytes_spilled"], tm["disk_bytes_spilled"]
                );
            }
            for a in list("accumulators") {
                let _ = writeln!(s, "    accumulator update {a}");
            }
            if t["reply_complete"].as_bool() == Some(false) {
                let killed = doc["daemon"]["kill_pids"]
                    .as_array()
                    .is_some_and(|p| p.contains(&c["pid"]));
                let _ = writeln!(
                    s,
                    "    reply: the recording ends inside it{}",
                    if killed {
                        " — the JVM asked the daemon to kill this worker (its pid on the daemon's stdin)"
                    } else {
                        " (the worker died or the connection was closed)"
                    }
                );
            } else {
                let _ = writeln!(
                    s,
                    "    end: {}",
                    t["end"].as_str().unwrap_or("(none: the worker exits)")
                );
            }
        }
        if c["trailing_bytes"].as_u64().unwrap_or(0) > 0 {
            let _ = writeln!(
                s,
                "  {} bytes after the last reply (tolerated){}",
                c["trailing_bytes"],
                match c["trailing_exception"].as_str() {
                    Some(tb) => format!(
                        ": an exception from the worker waiting for another task: {}",
                        tb.trim_end().lines().last().unwrap_or("")
                    ),
                    None => String::new(),
                }
            );
        }
    }
    s
}

/// The daemon's side channels, when recorded: its port announcement on stdout
/// and the pids the JVM asked it to kill on stdin.
fn daemon_json(dir: &std::path::Path) -> io::Result<Value> {
    let read = |name: &str| -> io::Result<Option<Vec<u8>>> {
        let p = dir.join(name);
        if p.exists() {
            read_input(&p).map(Some)
        } else {
            Ok(None)
        }
    };
    let (Some(out), stdin) = (read("daemon_stdout.bin")?, read("daemon_stdin.bin")?) else {
        return Ok(Value::Null);
    };
    let ints = |b: &[u8]| {
        b.chunks_exact(4)
            .map(|c| i32::from_be_bytes([c[0], c[1], c[2], c[3]]))
            .collect::<Vec<_>>()
    };
    let first = ints(&out).first().copied();
    let kills = stdin.as_deref().map(ints).unwrap_or_default();
    // A Unix-socket daemon announces `i32 length` + its socket path instead of
    // a port.
    let path = first
        .and_then(|n| usize::try_from(n).ok())
        .filter(|&n| n > 0 && out.len() == 4 + n)
        .and_then(|n| std::str::from_utf8(&out[4..4 + n]).ok())
        .filter(|p| p.starts_with('/'));
    let (port, socket, used) = match path {
        Some(p) => (None, Some(p.to_string()), out.len()),
        None => (first, None, 4),
    };
    Ok(
        json!({"port": port, "socket_path": socket, "stdout_extra_bytes": out.len().saturating_sub(used), "kill_pids": kills}),
    )
}

/// A progress bar on standard error for large inputs (when it is a terminal).
struct Progress {
    total: u64,
    done: u64,
    shown: bool,
}

impl Progress {
    /// Inputs below this decode too fast for a bar to help.
    const THRESHOLD: u64 = 32 << 20;

    fn new(total: u64) -> Progress {
        use std::io::IsTerminal;
        Progress {
            total,
            done: 0,
            shown: total >= Progress::THRESHOLD && io::stderr().is_terminal(),
        }
    }

    fn advance(&mut self, bytes: u64, what: &str) {
        self.done += bytes;
        if !self.shown {
            return;
        }
        let width = 30u64;
        let filled = (self.done * width / self.total.max(1)).min(width) as usize;
        eprint!(
            "\r[{}{}] {:>3}% {} / {} MiB {what:<30.30}",
            "#".repeat(filled),
            ".".repeat(width as usize - filled),
            self.done * 100 / self.total.max(1),
            self.done >> 20,
            self.total >> 20
        );
        if self.done >= self.total {
            eprintln!();
        }
    }
}

/// Where a decoded connection's bytes came from, for `--verify`.
struct Source {
    name: String,
    to: Vec<u8>,
    from: Vec<u8>,
}

/// A pcap or pcapng file: its TCP connections, each classified; the worker
/// connections are returned for decoding like recorded ones.
fn pcap_input(
    path: &std::path::Path,
    spark: Option<SparkVersion>,
) -> io::Result<(Value, Vec<(Source, Connection)>)> {
    let data = read_input(path)?;
    let cap =
        pcap::read(&data).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
    let mut progress = Progress::new(data.len() as u64);
    let mut rows = Vec::new();
    let mut workers = Vec::new();
    for tcp in cap.connections {
        let size = (tcp.client_data.len() + tcp.server_data.len()) as u64;
        let name = tcp.name();
        progress.advance(size, &name);
        let c = traffic::classify(tcp, spark);
        let mut row = json!({
            "name": name,
            "syn_seen": c.tcp.syn_seen,
            "client_bytes": c.tcp.client_data.len(),
            "server_bytes": c.tcp.server_data.len(),
            "lost_bytes": [c.tcp.lost.0, c.tcp.lost.1],
        });
        match c.kind {
            Kind::Worker { ref conn, .. } => {
                row["kind"] = json!("worker");
                row["spark_version"] = json!(conn.version.to_string());
                row["tasks"] = json!(conn.tasks.len());
                let (to, from) = c.worker_streams().unwrap_or_default();
                let src = Source {
                    name,
                    to: to.to_vec(),
                    from: from.to_vec(),
                };
                workers.push((src, (**conn).clone()));
            }
            Kind::Py4j(p) => {
                row["kind"] = json!("py4j");
                row["commands"] = json!(p.commands);
                row["replies"] = json!(p.replies);
                row["authenticated"] = json!(p.authenticated);
                row["calls"] = json!(p
                    .calls
                    .iter()
                    .map(|(m, n)| json!({"method": m, "count": n}))
                    .collect::<Vec<_>>());
            }
            Kind::Data(d) => {
                row["kind"] = json!("data_socket");
                row["server_frames"] = json!(d.server_frames.len());
                row["server_records"] = json!(records(
                    &d.server_frames,
                    Some(&Serializer::batched(Serializer::CPickle, -1)),
                    spark.unwrap_or(SparkVersion::V4_3)
                ));
                row["server_rest_bytes"] = json!(d.server_rest);
                row["client_bytes_after_auth"] = json!(d.client_bytes);
            }
            Kind::Accumulators(a) => {
                row["kind"] = json!("accumulator_updates");
                row["updates"] = json!(a
                    .batches
                    .iter()
                    .map(|b| b
                        .iter()
                        .map(|u| pickle::decode_slice(u)
                            .ok()
                            .and_then(|d| pickle::repr(&d.graph).ok())
                            .unwrap_or_else(|| "<unreadable>".into()))
                        .collect::<Vec<_>>())
                    .collect::<Vec<_>>());
                row["acks"] = json!(a.acks);
            }
            Kind::Other(why) => {
                row["kind"] = json!("other");
                row["note"] = json!(why);
            }
        }
        rows.push(row);
    }
    progress.advance(progress.total.saturating_sub(progress.done), "done");
    let doc = json!({
        "packets": cap.packets,
        "skipped_packets": cap.skipped,
        "truncated": cap.truncated,
        "tcp_connections": rows,
    });
    Ok((doc, workers))
}

/// Compares a re-encoded connection with its source bytes.
fn verify(src: &Source, c: &Connection, report: &mut Vec<String>) -> io::Result<()> {
    let (t2, f2) = capture::reencode(c).map_err(|e| io::Error::other(e.to_string()))?;
    for (dir, a, b) in [("to_worker", &src.to, &t2), ("from_worker", &src.from, &f2)] {
        if a != b {
            let at = a
                .iter()
                .zip(b.iter())
                .position(|(x, y)| x != y)
                .unwrap_or(a.len().min(b.len()));
            report.push(format!(
                "connection {}, {dir}: re-encoding differs at byte {at}",
                src.name
            ));
        }
    }
    Ok(())
}

/// `sparkwire decode`.
pub fn run(args: &DecodeArgs) -> io::Result<ExitCode> {
    let spark = match args.spark.as_str() {
        "auto" => None,
        s => Some(
            s.parse::<SparkVersion>()
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?,
        ),
    };
    let mut docs = Vec::new();
    let mut failed = false;
    let mut verify_report = Vec::new();
    let mut traffic_doc = Value::Null;
    let mut decoded: Vec<(Source, Connection)> = Vec::new();
    match &args.dir {
        Some(path) if path.is_file() => {
            let (doc, workers) = pcap_input(path, spark)?;
            traffic_doc = doc;
            decoded = workers;
        }
        _ => {
            let recorded = inputs(args)?;
            let mut progress = Progress::new(
                recorded
                    .iter()
                    .map(|(_, t, f)| (t.len() + f.len()) as u64)
                    .sum(),
            );
            for (name, to, from) in recorded {
                progress.advance((to.len() + from.len()) as u64, &name);
                match capture::decode(&to, &from, spark) {
                    Ok(c) => decoded.push((Source { name, to, from }, c)),
                    Err(e) => {
                        eprintln!("sparkwire decode: connection {name}, {e}");
                        failed = true;
                    }
                }
            }
        }
    }
    for (src, c) in &decoded {
        if args.verify {
            verify(src, c, &mut verify_report)?;
        }
        docs.push(connection_json(&src.name, c));
    }
    failed |= !verify_report.is_empty();
    let mut doc = json!({"connections": docs});
    if !traffic_doc.is_null() {
        doc["capture"] = traffic_doc;
    } else if let Some(dir) = &args.dir {
        doc["daemon"] = daemon_json(dir)?;
    }
    let mut out = io::stdout().lock();
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
        Format::Text => out.write_all(text(&doc).as_bytes())?,
    }
    if args.verify {
        if verify_report.is_empty() && !failed {
            eprintln!("verify: every byte re-encodes identically");
        }
        for r in verify_report {
            eprintln!("verify: {r}");
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
