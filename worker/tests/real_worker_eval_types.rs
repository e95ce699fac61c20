//! Every eval type's task header and command, as sparkwire's encoder writes
//! them, run by the real `pyspark.worker` of every pinned release.
//!
//! For each release and each eval type its `PythonEvalType` defines, the
//! oracle of that release (`testkit/python/eval_cases.py`) makes what the JVM
//! would send: the pickled `(func, returnType)` pairs or UDTF handler (pickled
//! by PySpark's own `_prepare_for_python_RDD`), the runner conf and the other
//! logical parts of the command (state schema, key schema, input types,
//! table-argument offsets, a UDTF's analyze result), a tiny data section
//! (pickled row batches, or Arrow IPC streams grouped as that release's
//! serializers read them) and the rows a correct run answers. This test puts
//! those parts into a [`TaskHeader`] where sparkwire's [`WorkerLayout`] says
//! each release carries them (in the command before 4.2, in the header's
//! runner and eval conf maps from 4.2), encodes it, and runs the task through
//! [`BlockingSession`] on a simple worker that connected back to us.
//!
//! Evidence, per eval type and release (the table is printed with
//! `--nocapture`):
//!
//! * **full run**, which every case reaches: the reply holds exactly the
//!   expected rows, then timing, accumulators and END_OF_STREAM. A header one
//!   field too long or too short shifts the pickles, the offsets, the conf or
//!   the data section, and the worker fails or answers other rows. Where a
//!   part of the command only shows in a side effect, that is checked too:
//!   the `transformWithState` types (211–214) connect to a stand-in state
//!   server named in the command (TCP port in 4.0, Unix socket path from 4.1);
//!   the profiled variant reports its profile under the `i64` result id we
//!   sent. 4.3's worker ignores bytes left over in its init message, so there
//!   the oracle also reads our init message with the release's own
//!   `WorkerInitInfo.from_stream` and checks that it consumed every byte.
//! * **skipped**: the release does not define the eval type (its worker has no
//!   reader for it), or has no place for a variant's part: listed with the
//!   reason, never silently.
//!
//! Every task a release can run must be a full run, and each release must
//! account for at least [`MIN_FULL_PER_RELEASE`] of them, so the test cannot
//! pass having checked nothing. With `SPARKWIRE_EVAL_ONLY=<code>[,<code>…]`
//! only those eval types run (a development aid; the per-release minimum then
//! does not apply).

mod support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};
use support::{simple_worker, worker_log, TIMEOUT};

use bytes::Bytes;
use serde_json::{json, Value};
use sparkwire_framing::Frame;
use sparkwire_serializers::pyspark::arrow::ArrowItem;
use sparkwire_testkit::{hex, oracle_versions, unhex, with_oracle};
use sparkwire_worker::host::TaskOutcome;
use sparkwire_worker::protocol::{
    Arg, CommandKind, ConnInfo, End, EvalType, HeaderStyle, ReplyItem, SparkVersion, StateServer,
    TaskHeader, Udf, UdfCommand, UdtfCommand, WorkerLayout,
};

/// Workers run at once (the machine's cores are shared).
const PARALLEL: usize = 2;

/// 3.5, the oldest pinned release, defines 14 eval types (NON_UDF included)
/// and every later release more: each release installed must account for at
/// least this many full runs, whatever its oracle answered.
const MIN_FULL_PER_RELEASE: usize = 14;

/// The first UDF's result id: above `i32::MAX`, so that it only comes back
/// from a profiled run if the whole `i64` was read where we wrote it.
const RESULT_ID: i64 = 7_000_000_001;

/// Second tasks for an eval type, each exercising a part of the command the
/// first leaves out (skipped, with the reason, where a release has no such part).
const VARIANTS: &[(EvalType, &str)] = &[
    // isProfiling true + the profiler's name (4.0, 4.1), a result id that the
    // profile comes back under (4.0+).
    (EvalType::SQL_BATCHED_UDF, "profiled"),
];

/// What a task proved about its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Evidence {
    /// Expected rows and END_OF_STREAM.
    Full,
    /// The release does not define the eval type, or has no place for a
    /// variant's part.
    Skipped,
    /// The worker did not accept what we sent (a bug, in our layout or a case).
    Failed,
}

/// One line of the table.
#[derive(Debug)]
struct Checked {
    release: String,
    eval_type: EvalType,
    variant: Option<&'static str>,
    evidence: Evidence,
    detail: String,
}

// ---------------------------------------------------------------------------
// The header, from the case's logical parts, placed by our layout.

fn pairs(v: &Value) -> Vec<(String, String)> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|p| {
                    (
                        p[0].as_str().unwrap().to_owned(),
                        p[1].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn text(v: &Value) -> Option<String> {
    v.as_str().map(str::to_owned)
}

fn args(v: &Value, keywords: bool) -> Vec<Arg> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|a| Arg {
            offset: a[0].as_i64().unwrap() as i32,
            // Where the release sends no keyword flags, the JVM passes every
            // argument by position.
            name: text(&a[1]).filter(|_| keywords),
        })
        .collect()
}

fn ints(v: &Value) -> Option<Vec<i32>> {
    v.as_array()
        .map(|a| a.iter().map(|i| i.as_i64().unwrap() as i32).collect())
}

/// The eval conf of 4.2+ (`EvalConf` in their `worker.py`): the parts that
/// older releases carry in the command.
fn eval_conf(case: &Value, state: Option<&StateServerStandIn>) -> Vec<(String, String)> {
    let mut conf = Vec::new();
    if let Some(s) = text(&case["state_schema"]) {
        conf.push(("state_value_schema".into(), s));
    }
    if let Some(server) = state {
        conf.push(("state_server_socket_port".into(), server.conf_value()));
    }
    if let Some(s) = text(&case["key_schema"]) {
        conf.push(("grouping_key_schema".into(), s));
    }
    if let Some(s) = text(&case["input_types"]) {
        conf.push(("input_type".into(), s));
    }
    if let Some(offsets) = ints(&case["table_arg_offsets"]) {
        let list: Vec<String> = offsets.iter().map(i32::to_string).collect();
        conf.push(("table_arg_offsets".into(), list.join(",")));
    }
    conf
}

/// The task header for `case`: every part of the command where `v`'s layout
/// puts it, nothing where it does not.
fn header(
    v: SparkVersion,
    eval_type: EvalType,
    case: &Value,
    state: Option<&StateServerStandIn>,
) -> TaskHeader {
    let mut h = TaskHeader::example(Bytes::new());
    h.partition_index = 7;
    h.context.partition_id = 7;
    h.context.stage_id = 3;
    h.context.task_attempt_id = 42;
    h.eval_type = eval_type;
    let conf = pairs(&case["runner_conf"]);
    if matches!(v.header_style(), HeaderStyle::Json { .. }) {
        h.runner_conf = conf.clone();
        h.eval_conf = eval_conf(case, state);
    }
    h.command = match v.command_kind(eval_type) {
        CommandKind::NonUdf => {
            sparkwire_worker::protocol::Command::Rdd(unhex(case["rdd"].as_str().unwrap()).into())
        }
        CommandKind::Udfs => {
            let in_command = v.command_conf(eval_type);
            let keywords = v.kwarg_flags(eval_type);
            let udfs = case["udfs"].as_array().expect("a UDF case");
            sparkwire_worker::protocol::Command::Udfs(UdfCommand {
                runner_conf: in_command.then(|| conf.clone()),
                state_schema: (in_command
                    && eval_type == EvalType::SQL_GROUPED_MAP_PANDAS_UDF_WITH_STATE)
                    .then(|| text(&case["state_schema"]).expect("a state schema")),
                state_server: (in_command && v.state_server(eval_type)).then(|| StateServer {
                    conn: state.expect("a state server").conn.clone(),
                    key_schema: text(&case["key_schema"]).expect("a key schema"),
                }),
                input_types: (in_command && v.udf_input_types(eval_type))
                    .then(|| text(&case["input_types"]).expect("input types")),
                profiler: v.profiler_flag().then(|| text(&case["profile"])),
                udfs: udfs
                    .iter()
                    .enumerate()
                    .map(|(i, u)| Udf {
                        args: args(&u["args"], keywords),
                        chain: u["chain"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|c| Bytes::from(unhex(c.as_str().unwrap())))
                            .collect(),
                        result_id: (v.result_ids_always()
                            || (v.profiler_flag() && !case["profile"].is_null()))
                        .then_some(RESULT_ID + i as i64),
                    })
                    .collect(),
            })
        }
        CommandKind::Udtf => {
            let in_command = v.udtf_conf(eval_type);
            let full = v >= SparkVersion::V4_0;
            let t = &case["udtf"];
            sparkwire_worker::protocol::Command::Udtf(UdtfCommand {
                runner_conf: in_command.then(|| conf.clone()),
                input_types: (in_command && v.udtf_input_types(eval_type))
                    .then(|| text(&case["input_types"]).expect("input types")),
                table_arg_offsets: (in_command && v.udtf_table_arg_offsets(eval_type))
                    .then(|| ints(&case["table_arg_offsets"]).expect("table argument offsets")),
                args: args(&t["args"], full),
                partition_child_indexes: full
                    .then(|| ints(&t["partition_child_indexes"]).unwrap_or_default()),
                analyze_result: full
                    .then(|| text(&t["analyze_result"]).map(|h| Bytes::from(unhex(&h)))),
                handler: unhex(t["handler"].as_str().unwrap()).into(),
                return_type: text(&t["return_type"]).unwrap(),
                name: full.then(|| text(&t["name"]).unwrap()),
            })
        }
    };
    h
}

// ---------------------------------------------------------------------------
// Processes and sockets.

/// What the stand-in state server saw.
#[derive(Debug, Default)]
struct StateLog {
    connected: bool,
    requests: usize,
}

/// A stand-in for the JVM's `transformWithState` state server, on TCP (4.0)
/// or, where the release can be told a path, a Unix-domain socket (4.1+): it
/// accepts the worker's connection and answers every request (`i32` version,
/// `i32` length, a `StateRequest`) with an empty `StateResponse`, status 0.
struct StateServerStandIn {
    conn: ConnInfo,
    /// Set when the task is over: a worker that failed before connecting
    /// will not connect any more.
    stop: Arc<AtomicBool>,
    thread: JoinHandle<StateLog>,
}

impl StateServerStandIn {
    fn start(v: SparkVersion, tag: &str) -> StateServerStandIn {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        if v.conn_info_paths() {
            let path = std::env::temp_dir()
                .join(format!("sparkwire-state-{}-{tag}.sock", std::process::id()));
            let _ = std::fs::remove_file(&path);
            let listener = UnixListener::bind(&path).unwrap();
            listener.set_nonblocking(true).unwrap();
            let conn = ConnInfo::Path(path.display().to_string());
            let thread = thread::spawn(move || {
                let log = serve(|| listener.accept().map(|(s, _)| s), &stopped);
                let _ = std::fs::remove_file(&path);
                log
            });
            StateServerStandIn { conn, stop, thread }
        } else {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let conn = ConnInfo::Port(i32::from(listener.local_addr().unwrap().port()));
            listener.set_nonblocking(true).unwrap();
            let thread =
                thread::spawn(move || serve(|| listener.accept().map(|(s, _)| s), &stopped));
            StateServerStandIn { conn, stop, thread }
        }
    }

    /// What it saw, once the task is over.
    fn finish(self) -> StateLog {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.join().unwrap()
    }

    /// The eval conf value of 4.2+: the port, or the socket path.
    fn conf_value(&self) -> String {
        match &self.conn {
            ConnInfo::Port(p) => p.to_string(),
            ConnInfo::Path(p) => p.clone(),
        }
    }
}

/// Accepts one connection (polling `accept` until `stop` is set) and answers
/// its requests until it closes.
fn serve<S: Read + Write + SetBlocking>(
    accept: impl Fn() -> std::io::Result<S>,
    stop: &AtomicBool,
) -> StateLog {
    let mut log = StateLog::default();
    let mut conn = loop {
        match accept() {
            Ok(s) => break s,
            Err(_) if !stop.load(Ordering::SeqCst) => thread::sleep(Duration::from_millis(10)),
            Err(_) => return log,
        }
    };
    log.connected = true;
    conn.blocking_with_timeout(TIMEOUT);
    loop {
        let mut head = [0u8; 8];
        if conn.read_exact(&mut head).is_err() {
            return log;
        }
        let len = i32::from_be_bytes(head[4..].try_into().unwrap());
        let mut body = vec![0u8; len.clamp(0, 1 << 20) as usize];
        if conn.read_exact(&mut body).is_err() {
            return log;
        }
        log.requests += 1;
        if conn.write_all(&0i32.to_be_bytes()).is_err() {
            return log;
        }
    }
}

/// An accepted socket made blocking, with a bounded read.
trait SetBlocking {
    fn blocking_with_timeout(&self, timeout: Duration);
}

impl SetBlocking for TcpStream {
    fn blocking_with_timeout(&self, timeout: Duration) {
        self.set_nonblocking(false).unwrap();
        self.set_read_timeout(Some(timeout)).unwrap();
    }
}

impl SetBlocking for UnixStream {
    fn blocking_with_timeout(&self, timeout: Duration) {
        self.set_nonblocking(false).unwrap();
        self.set_read_timeout(Some(timeout)).unwrap();
    }
}

/// The frames of a pickled data section, as the oracle gave them.
fn input_frames(case: &Value) -> Vec<Frame> {
    case["data"]["frames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| Frame::Data(unhex(f.as_str().unwrap()).into()))
        .collect()
}

/// The bytes of the reply's data: the frames (length-prefixed again) or the
/// Arrow stream.
fn reply_data(outcome: &TaskOutcome) -> Vec<u8> {
    let mut out = Vec::new();
    for item in &outcome.items {
        match item {
            ReplyItem::Data(b) => {
                out.extend_from_slice(&(b.len() as i32).to_be_bytes());
                out.extend_from_slice(b);
            }
            ReplyItem::Arrow(ArrowItem::Message { bytes, .. } | ArrowItem::End(bytes)) => {
                out.extend_from_slice(bytes)
            }
            _ => {}
        }
    }
    out
}

/// 4.3: the init message body of our header, read by the release's own
/// `WorkerInitInfo`; `Err` says what was wrong.
fn check_init_message(release: &str, bytes: &[u8], eval_type: EvalType) -> Result<(), String> {
    // START_OF_INIT_MESSAGE and the length come first.
    let body = &bytes[8..];
    let parsed = with_oracle(release, |o| {
        o.call(json!({"op": "parse_init_message", "data": hex(body)}))
    })
    .expect("oracle")
    .map_err(|e| format!("WorkerInitInfo refused our init message: {e}"))?;
    if parsed["consumed_all"] != json!(true) {
        return Err(format!("WorkerInitInfo left bytes unread: {parsed}"));
    }
    if parsed["eval_type"] != json!(eval_type.code()) {
        return Err(format!(
            "WorkerInitInfo read eval type {}",
            parsed["eval_type"]
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// One task.

fn run_case(
    release: &str,
    name: &str,
    eval_type: EvalType,
    variant: Option<&'static str>,
) -> Checked {
    let v = SparkVersion::of_release(release).unwrap();
    let checked = |evidence, detail: String| Checked {
        release: release.to_owned(),
        eval_type,
        variant,
        evidence,
        detail,
    };
    let request = json!({"op": "eval_case", "name": name, "variant": variant});
    let case = match with_oracle(release, |o| o.call(request)).expect("oracle") {
        Ok(case) => case,
        Err(e) => {
            return checked(
                Evidence::Failed,
                format!("the oracle could not make it: {e}"),
            )
        }
    };
    if case.is_null() {
        return checked(Evidence::Failed, format!("no case for {name}"));
    }
    let tag = format!(
        "{release}-{eval_type}{}",
        variant.map(|v| format!("-{v}")).unwrap_or_default()
    );
    let state = case["state_server"]
        .as_bool()
        .unwrap_or(false)
        .then(|| StateServerStandIn::start(v, &tag));
    let h = header(v, eval_type, &case, state.as_ref());
    let wire = h
        .encode(v)
        .unwrap_or_else(|e| panic!("{release} {name}: {e}"));
    let init_check = match v.header_style() {
        HeaderStyle::Json { init_message: true } => check_init_message(release, &wire, eval_type),
        _ => Ok(()),
    };
    let (mut child, mut conn) = simple_worker(release, &tag);
    let result = if let Some(arrow) = case["data"]["arrow"].as_str() {
        conn.run_arrow_task(&h, [Bytes::from(unhex(arrow))])
    } else {
        conn.run_task(&h, input_frames(&case))
    };
    conn.close();
    // A worker that fails exits by itself; one that hangs is ended here.
    let _ = child.kill();
    let _ = child.wait();
    let state_log = state.map(StateServerStandIn::finish);
    let log = || {
        let text = std::fs::read_to_string(worker_log(&tag)).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(15).collect();
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    };
    let outcome = match result {
        Ok(o) => o,
        Err(e) => return checked(Evidence::Failed, format!("{e}\n{}", log())),
    };
    if let Some(tb) = outcome.exception() {
        return checked(Evidence::Failed, format!("the worker raised:\n{tb}"));
    }
    if outcome.items.last() != Some(&ReplyItem::End(End::Reuse)) || !outcome.reusable {
        return checked(
            Evidence::Failed,
            format!(
                "the reply did not end with END_OF_STREAM: {:?}",
                outcome.items.last()
            ),
        );
    }
    let rows = with_oracle(release, |o| {
        o.call(json!({
            "op": "eval_output",
            "kind": case["output"],
            "data": hex(&reply_data(&outcome)),
            "project": case["project"],
            "skip_null_rows": case["skip_null_rows"],
        }))
    })
    .expect("oracle");
    let rows = match rows {
        Ok(rows) => rows,
        Err(e) => return checked(Evidence::Failed, format!("reading the output: {e}")),
    };
    let rows: Vec<String> = serde_json::from_value(rows).unwrap();
    let expected: Vec<String> = serde_json::from_value(case["expected"].clone()).unwrap();
    if rows != expected {
        return checked(
            Evidence::Failed,
            format!("rows {rows:?}, expected {expected:?}"),
        );
    }
    if let Err(why) = init_check {
        return checked(Evidence::Failed, why);
    }
    let mut detail = format!("{} rows", rows.len());
    if !case["profile"].is_null() {
        match profiled_under(release, &outcome) {
            Ok(()) => detail.push_str(&format!(", profile reported under result id {RESULT_ID}")),
            Err(why) => return checked(Evidence::Failed, why),
        }
    }
    if let Some(s) = state_log {
        if !s.connected {
            return checked(
                Evidence::Failed,
                "the worker did not connect to the state server".into(),
            );
        }
        detail.push_str(&format!(
            ", connected to the state server ({}), {} requests",
            if v.conn_info_paths() {
                "Unix socket"
            } else {
                "TCP"
            },
            s.requests
        ));
    }
    if matches!(v.header_style(), HeaderStyle::Json { init_message: true }) {
        detail.push_str(", init message read to its end by WorkerInitInfo");
    }
    checked(Evidence::Full, detail)
}

/// Whether the reply's accumulator updates hold a profile under [`RESULT_ID`]
/// (the profilers' accumulator, id −1, maps result ids to results).
fn profiled_under(release: &str, outcome: &TaskOutcome) -> Result<(), String> {
    let updates: Vec<String> = outcome
        .items
        .iter()
        .filter_map(|i| match i {
            ReplyItem::Accumulator(b) => Some(hex(b)),
            _ => None,
        })
        .collect();
    let decoded = with_oracle(release, |o| {
        o.call(json!({"op": "eval_accumulators", "updates": updates}))
    })
    .expect("oracle")
    .map_err(|e| format!("decoding the accumulator updates: {e}"))?;
    let found = decoded.as_array().unwrap().iter().any(|u| {
        u[0] == json!(-1)
            && u[1]
                .as_array()
                .is_some_and(|keys| keys.contains(&json!(RESULT_ID)))
    });
    if found {
        Ok(())
    } else {
        Err(format!(
            "no profile under result id {RESULT_ID} in the accumulator updates {decoded}"
        ))
    }
}

// ---------------------------------------------------------------------------
// Every release, every eval type.

#[test]
fn every_eval_type_runs_on_the_real_worker_of_every_release() {
    let started = Instant::now();
    let only: Option<Vec<i32>> = std::env::var("SPARKWIRE_EVAL_ONLY")
        .ok()
        .map(|s| s.split(',').map(|c| c.trim().parse().unwrap()).collect());
    let mut jobs = Vec::new();
    let mut table = Vec::new();
    let mut releases = 0;
    for release in oracle_versions() {
        let Some(defined) = with_oracle(&release, |o| o.call(json!({"op": "eval_types"}))) else {
            continue;
        };
        releases += 1;
        let defined = defined.unwrap();
        let defined: Vec<(String, i32)> = defined
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, c)| (k.clone(), c.as_i64().unwrap() as i32))
            .collect();
        for (name, code) in &defined {
            // Every eval type a release defines is one sparkwire models, by name.
            assert_eq!(
                EvalType::from(*code).name(),
                Some(name.as_str()),
                "{release}: PythonEvalType.{name} = {code}"
            );
        }
        for t in EvalType::KNOWN {
            if only.as_ref().is_some_and(|o| !o.contains(&t.code())) {
                continue;
            }
            let variants = VARIANTS
                .iter()
                .filter(|(vt, _)| vt == t)
                .map(|(_, name)| Some(*name));
            for variant in std::iter::once(None).chain(variants) {
                let v = SparkVersion::of_release(&release).unwrap();
                let skip = |detail: String| Checked {
                    release: release.clone(),
                    eval_type: *t,
                    variant,
                    evidence: Evidence::Skipped,
                    detail,
                };
                match defined.iter().find(|(_, c)| *c == t.code()) {
                    None => table.push(skip(format!(
                        "pyspark {release}'s PythonEvalType does not define it"
                    ))),
                    Some(_) if variant == Some("profiled") && v < SparkVersion::V4_0 => {
                        table.push(skip(format!(
                            "pyspark {release}'s worker has no UDF profiler: no isProfiling flag, no result ids"
                        )))
                    }
                    Some((name, _)) => jobs.push((release.clone(), name.clone(), *t, variant)),
                }
            }
        }
    }
    assert!(
        releases > 0,
        "no pinned pyspark is installed: run scripts/setup.sh"
    );
    let next = AtomicUsize::new(0);
    let done = Mutex::new(Vec::new());
    thread::scope(|s| {
        for _ in 0..PARALLEL {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some((release, name, t, variant)) = jobs.get(i) else {
                    return;
                };
                let c = run_case(release, name, *t, *variant);
                eprintln!(
                    "{release} {:>3} {name}{}: {:?} {}",
                    t.code(),
                    variant.map(|v| format!(" ({v})")).unwrap_or_default(),
                    c.evidence,
                    c.detail.lines().next().unwrap_or_default()
                );
                done.lock().unwrap().push(c);
            });
        }
    });
    table.extend(done.into_inner().unwrap());
    table.sort_by(|a, b| {
        (a.eval_type, a.variant, &a.release).cmp(&(b.eval_type, b.variant, &b.release))
    });
    let count = |e| table.iter().filter(|c| c.evidence == e).count();
    eprintln!("\neval type × release, {:.0?}:", started.elapsed());
    for c in &table {
        let name = match c.variant {
            Some(v) => format!("{} ({v})", c.eval_type.name().unwrap_or("?")),
            None => c.eval_type.name().unwrap_or("?").to_owned(),
        };
        eprintln!(
            "  {:>3} {:<50} {:<6} {:<8?} {}",
            c.eval_type.code(),
            name,
            c.release,
            c.evidence,
            c.detail.lines().next().unwrap_or_default()
        );
    }
    let full = count(Evidence::Full);
    eprintln!(
        "full runs {full}, skipped {}, failed {} ({releases} releases)",
        count(Evidence::Skipped),
        count(Evidence::Failed)
    );
    let failed: Vec<String> = table
        .iter()
        .filter(|c| c.evidence == Evidence::Failed)
        .map(|c| format!("{} {}: {}", c.release, c.eval_type, c.detail))
        .collect();
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
    // Every eval type each release defines (and every variant it has the
    // parts for) was run to its end: nothing was left out.
    assert_eq!(full, jobs.len());
    if only.is_none() {
        assert!(
            full >= MIN_FULL_PER_RELEASE * releases,
            "{full} full runs for {releases} releases"
        );
    }
}
