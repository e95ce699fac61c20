//! Every eval type's task header and command, as sparkwire's encoder writes
//! them, run by the real `pyspark.daemon` workers of every pinned release
//! through the [`Host`] — so that the host, and not only the protocol, is
//! proven on every eval type.
//!
//! For each release and each eval type its `PythonEvalType` defines, the
//! oracle of that release (`testkit/python/eval_cases.py`) makes what the JVM
//! would send: the pickled `(func, returnType)` pairs or UDTF handler (pickled
//! by PySpark's own `_prepare_for_python_RDD`), the runner conf and the other
//! logical parts of the command (state schema, key schema, input types,
//! table-argument offsets, a UDTF's analyze result), a tiny data section
//! (pickled row batches, or Arrow IPC streams grouped as that release's
//! serializers read them) and the rows a correct run answers (written into
//! the case by hand — for SQL_TABLE_UDF by the case's own arithmetic over its
//! input rows — never by running the UDF or Spark; the worker's output is
//! read back with that release's own serializers and pyarrow). This test puts
//! those parts into a [`TaskHeader`] where sparkwire's [`WorkerLayout`] says
//! each release carries them (in the command before 4.2, in the header's
//! runner and eval conf maps from 4.2) and runs the task with [`Host::run`].
//!
//! **Hosts.** Each release gets one [`Host`] in daemon mode with reuse on, over
//! loopback TCP, and (4.1+) a second one over Unix-domain sockets; each runs
//! all of the release's cases one after another, so a case normally runs on
//! the worker the previous one left idle. Per host the test counts the tasks
//! that ran on a reused worker (at least one must), and checks that a task
//! after one that left its worker reusable ran on that worker, and that no task
//! ever ran on a worker a failed task left behind. After the first case two
//! deliberate faults run on the same host — a command that raises, and one
//! whose worker exits mid-task — to show that a failed task's worker is
//! discarded (the next case runs on a fresh one and passes) and that the
//! worker's stderr, attached to [`TaskError::Python`] and
//! [`TaskError::WorkerDied`], reaches the failure detail.
//!
//! Evidence, per eval type, release and transport (the table is printed with
//! `--nocapture`):
//!
//! * **full run**, which every case reaches: the output holds exactly the
//!   expected rows, the worker sent its timing, and the reply ended with
//!   END_OF_STREAM (the task's summary says the worker is reusable). A header
//!   one field too long or too short shifts the pickles, the offsets, the conf
//!   or the data section, and the worker fails or answers other rows. Where a
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
//! What moved where, from when this test read a raw `BlockingSession`'s
//! `TaskOutcome` (every reply item in order): the rows are read from the
//! task's [`Output`]s (data frames re-framed, Arrow messages concatenated, as
//! before); the timing and the accumulator updates (the profile) come from the
//! [`TaskSummary`]; "the reply ended with END_OF_STREAM" is
//! `TaskSummary::reusable`. The order of the reply's tail (data, timing,
//! END_OF_DATA_SECTION, accumulators, end marker) is no longer checked here:
//! the session's reply decoder completes a reply only in that order and fails
//! any other with a reply error, which the host reports as
//! [`TaskError::Protocol`], a failed case. A traceback is a
//! [`TaskError::Python`] instead of an item. The worker's stderr, which the
//! test used to read from the simple worker's log file, now comes attached to
//! the host's errors.
//!
//! Every task a release can run must be a full run, and each host must
//! account for at least [`MIN_FULL_PER_RELEASE`] of them, so the test cannot
//! pass having checked nothing. With `SPARKWIRE_EVAL_ONLY=<code>[,<code>…]`
//! only those eval types run (a development aid; the per-release minimum then
//! does not apply).

use std::collections::{BTreeSet, HashMap};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::{json, Value};
use sparkwire_framing::Frame;
use sparkwire_serializers::pyspark::arrow::ArrowItem;
use sparkwire_testkit::oracle::python_for;
use sparkwire_testkit::{hex, oracle_versions, unhex, with_oracle};
use sparkwire_worker::host::{
    Host, HostConfig, Mode, Output, Python, Task, TaskError, TaskInput, TaskSummary,
};
use sparkwire_worker::protocol::{
    Arg, CommandKind, ConnInfo, EvalType, HeaderStyle, SparkVersion, StateServer, TaskHeader, Udf,
    UdfCommand, UdtfCommand, WorkerLayout,
};

/// Hosts running at once (the machine's cores are shared).
const PARALLEL: usize = 2;

/// Bounds every wait for a worker or the state server's client, so a layout
/// mistake fails instead of hanging.
const TIMEOUT: Duration = Duration::from_secs(60);

/// 3.5, the oldest pinned release, defines 14 eval types (NON_UDF included)
/// and every later release more: each host must account for at least this
/// many full runs, whatever its oracle answered.
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

/// Lines of a worker's stderr kept in a failure's detail.
const STDERR_LINES: usize = 15;

/// How a host reaches its workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Transport {
    /// Loopback TCP, every release.
    Tcp,
    /// Unix-domain sockets in a private directory (4.1+).
    Unix,
}

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
    transport: Option<Transport>,
    eval_type: EvalType,
    variant: Option<&'static str>,
    evidence: Evidence,
    detail: String,
}

/// One case to run on a release's hosts.
#[derive(Debug, Clone)]
struct Job {
    name: String,
    eval_type: EvalType,
    variant: Option<&'static str>,
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
// The state server stand-in.

/// What the stand-in state server saw.
#[derive(Debug, Default)]
struct StateLog {
    connected: bool,
    requests: usize,
}

/// Shuts the accepted connection down from another thread.
type Closer = Box<dyn FnOnce() + Send>;

/// A stand-in for the JVM's `transformWithState` state server, on TCP (4.0)
/// or, where the release can be told a path, a Unix-domain socket (4.1+): it
/// accepts the worker's connection and answers every request (`i32` version,
/// `i32` length, a `StateRequest`) with an empty `StateResponse`, status 0.
struct StateServerStandIn {
    conn: ConnInfo,
    /// Set when the task is over: a worker that failed before connecting
    /// will not connect any more.
    stop: Arc<AtomicBool>,
    /// Set once a connection is accepted. A reused worker may keep its state
    /// client's socket open after the task (until its next task replaces it),
    /// so the task's end closes it from our side.
    closer: Arc<Mutex<Option<Closer>>>,
    thread: JoinHandle<StateLog>,
}

impl StateServerStandIn {
    fn start(v: SparkVersion, tag: &str) -> StateServerStandIn {
        let stop = Arc::new(AtomicBool::new(false));
        let closer: Arc<Mutex<Option<Closer>>> = Arc::default();
        let (stopped, close) = (Arc::clone(&stop), Arc::clone(&closer));
        if v.conn_info_paths() {
            let path = std::env::temp_dir()
                .join(format!("sparkwire-state-{}-{tag}.sock", std::process::id()));
            let _ = std::fs::remove_file(&path);
            let listener = UnixListener::bind(&path).unwrap();
            listener.set_nonblocking(true).unwrap();
            let conn = ConnInfo::Path(path.display().to_string());
            let thread = thread::spawn(move || {
                let log = serve(|| listener.accept().map(|(s, _)| s), &stopped, &close);
                let _ = std::fs::remove_file(&path);
                log
            });
            StateServerStandIn {
                conn,
                stop,
                closer,
                thread,
            }
        } else {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let conn = ConnInfo::Port(i32::from(listener.local_addr().unwrap().port()));
            listener.set_nonblocking(true).unwrap();
            let thread = thread::spawn(move || {
                serve(|| listener.accept().map(|(s, _)| s), &stopped, &close)
            });
            StateServerStandIn {
                conn,
                stop,
                closer,
                thread,
            }
        }
    }

    /// What it saw, once the task is over.
    fn finish(self) -> StateLog {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(close) = self.closer.lock().unwrap().take() {
            close();
        }
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
fn serve<S: Accepted>(
    accept: impl Fn() -> std::io::Result<S>,
    stop: &AtomicBool,
    closer: &Mutex<Option<Closer>>,
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
    *closer.lock().unwrap() = Some(conn.closer());
    if stop.load(Ordering::SeqCst) {
        // The task ended between the accept and handing out the closer.
        return log;
    }
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

/// An accepted socket: made blocking with a bounded read, and closable from
/// another thread.
trait Accepted: Read + Write {
    fn blocking_with_timeout(&self, timeout: Duration);
    fn closer(&self) -> Closer;
}

impl Accepted for TcpStream {
    fn blocking_with_timeout(&self, timeout: Duration) {
        self.set_nonblocking(false).unwrap();
        self.set_read_timeout(Some(timeout)).unwrap();
    }
    fn closer(&self) -> Closer {
        let s = self.try_clone().unwrap();
        Box::new(move || {
            let _ = s.shutdown(Shutdown::Both);
        })
    }
}

impl Accepted for UnixStream {
    fn blocking_with_timeout(&self, timeout: Duration) {
        self.set_nonblocking(false).unwrap();
        self.set_read_timeout(Some(timeout)).unwrap();
    }
    fn closer(&self) -> Closer {
        let s = self.try_clone().unwrap();
        Box::new(move || {
            let _ = s.shutdown(Shutdown::Both);
        })
    }
}

// ---------------------------------------------------------------------------
// Input, output and failures.

/// The frames of a pickled data section, as the oracle gave them.
fn input_frames(case: &Value) -> Vec<Frame> {
    case["data"]["frames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| Frame::Data(unhex(f.as_str().unwrap()).into()))
        .collect()
}

/// The task's input: the oracle's frames, or its Arrow data section.
fn task_input(case: &Value) -> TaskInput<'static> {
    match case["data"]["arrow"].as_str() {
        Some(arrow) => TaskInput::arrow([Bytes::from(unhex(arrow))]),
        None => TaskInput::frames(input_frames(case)),
    }
}

/// The bytes of the task's data output: the frames (length-prefixed again)
/// or the Arrow stream.
fn reply_data(outputs: &[Output]) -> Vec<u8> {
    let mut out = Vec::new();
    for o in outputs {
        match o {
            Output::Data(b) => {
                out.extend_from_slice(&(b.len() as i32).to_be_bytes());
                out.extend_from_slice(b);
            }
            Output::Arrow(ArrowItem::Message { bytes, .. } | ArrowItem::End(bytes)) => {
                out.extend_from_slice(bytes)
            }
            Output::Null | Output::ArrowStart => {}
        }
    }
    out
}

/// The last [`STDERR_LINES`] lines of a worker's stderr.
fn stderr_tail(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().collect();
    if lines.is_empty() {
        return "worker stderr: (empty)".into();
    }
    let from = lines.len().saturating_sub(STDERR_LINES);
    format!(
        "worker stderr (last {} of {} lines):\n{}",
        lines.len() - from,
        lines.len(),
        lines[from..].join("\n")
    )
}

/// A failed task, for the table: the error and, where the host attached it,
/// the end of the worker's stderr (a forked worker's is its daemon's).
fn describe(e: &TaskError) -> String {
    match e {
        TaskError::Python {
            task,
            traceback,
            stderr,
        } => format!(
            "{task}: the worker raised:\n{traceback}\n{}",
            stderr_tail(stderr)
        ),
        TaskError::WorkerDied {
            task,
            pid,
            exit,
            last,
            source,
            stderr,
        } => format!(
            "{task}: worker {pid} died ({}): {source}; last received: {last}\n{}",
            exit.as_deref().unwrap_or("exit status unknown"),
            stderr_tail(stderr)
        ),
        other => other.to_string(),
    }
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

/// The oracle's cases, made once per release and shared by its hosts.
#[derive(Default)]
struct Cases(Mutex<HashMap<CaseKey, Result<Value, String>>>);

/// Release, eval type name, variant.
type CaseKey = (String, String, Option<&'static str>);

impl Cases {
    fn get(
        &self,
        release: &str,
        name: &str,
        variant: Option<&'static str>,
    ) -> Result<Value, String> {
        let key = (release.to_owned(), name.to_owned(), variant);
        if let Some(made) = self.0.lock().unwrap().get(&key) {
            return made.clone();
        }
        let request = json!({"op": "eval_case", "name": name, "variant": variant});
        let made = match with_oracle(release, |o| o.call(request)).expect("oracle") {
            Ok(case) if case.is_null() => Err(format!("no case for {name}")),
            Ok(case) => Ok(case),
            Err(e) => Err(format!("the oracle could not make it: {e}")),
        };
        self.0.lock().unwrap().insert(key, made.clone());
        made
    }
}

/// Which worker a task ran on, and whether the task left it reusable.
#[derive(Debug, Clone, Copy)]
struct Ran {
    pid: i32,
    reusable: bool,
}

/// Runs a task to its end: its output and summary, or the error. `ran` is
/// set as soon as a worker took the task.
fn run_task(
    host: &Host,
    task: Task,
    ran: &mut Option<Ran>,
) -> Result<(Vec<Output>, TaskSummary), TaskError> {
    let mut run = match host.run(task) {
        Ok(run) => run,
        Err(e) => {
            // A worker may have been taken (and discarded) before the error.
            *ran = Some(Ran {
                pid: 0,
                reusable: false,
            });
            return Err(e);
        }
    };
    *ran = Some(Ran {
        pid: run.pid(),
        reusable: false,
    });
    let mut outputs = Vec::new();
    for o in &mut run {
        outputs.push(o?);
    }
    let summary = run.finish()?;
    *ran = Some(Ran {
        pid: summary.pid,
        reusable: summary.reusable,
    });
    Ok((outputs, summary))
}

fn run_case(
    host: &Host,
    transport: Transport,
    release: &str,
    job: &Job,
    cases: &Cases,
) -> (Checked, Option<Ran>) {
    let Job {
        name,
        eval_type,
        variant,
    } = job;
    let (eval_type, variant) = (*eval_type, *variant);
    let v = host.python().spark;
    let checked = |evidence, detail: String| Checked {
        release: release.to_owned(),
        transport: Some(transport),
        eval_type,
        variant,
        evidence,
        detail,
    };
    let case = match cases.get(release, name, variant) {
        Ok(case) => case,
        Err(why) => return (checked(Evidence::Failed, why), None),
    };
    // Lower case: 4.2+ lowercases eval conf values, the state server's
    // socket path included (`Conf.get(…, lower_str=True)`).
    let tag = format!(
        "{release}-{transport:?}-{eval_type}{}",
        variant.map(|v| format!("-{v}")).unwrap_or_default()
    )
    .to_lowercase();
    let state = case["state_server"]
        .as_bool()
        .unwrap_or(false)
        .then(|| StateServerStandIn::start(v, &tag));
    let mut h = header(v, eval_type, &case, state.as_ref());
    // The commands were pickled by this interpreter's cloudpickle; set here
    // (not left for the host to fill) so that the init message checked below
    // is the one sent.
    h.python_version = host.python().version.clone();
    let wire = h
        .encode(v)
        .unwrap_or_else(|e| panic!("{release} {name}: {e}"));
    let init_check = match v.header_style() {
        HeaderStyle::Json { init_message: true } => check_init_message(release, &wire, eval_type),
        _ => Ok(()),
    };
    let mut ran = None;
    let result = run_task(host, Task::new(h, task_input(&case)), &mut ran);
    let state_log = state.map(StateServerStandIn::finish);
    let (outputs, summary) = match result {
        Ok(done) => done,
        Err(e) => return (checked(Evidence::Failed, describe(&e)), ran),
    };
    let failed = |why: String| (checked(Evidence::Failed, why), ran);
    if !summary.reusable {
        return failed(format!(
            "the reply did not end with END_OF_STREAM: worker {} was not left reusable",
            summary.pid
        ));
    }
    // Implied by a complete reply (the timing comes before the end marker);
    // checked as what reached the summary.
    if summary.timing.is_none() {
        return failed("the worker sent no timing data".into());
    }
    let rows = with_oracle(release, |o| {
        o.call(json!({
            "op": "eval_output",
            "kind": case["output"],
            "data": hex(&reply_data(&outputs)),
            "project": case["project"],
            "skip_null_rows": case["skip_null_rows"],
        }))
    })
    .expect("oracle");
    let rows = match rows {
        Ok(rows) => rows,
        Err(e) => return failed(format!("reading the output: {e}")),
    };
    let rows: Vec<String> = serde_json::from_value(rows).unwrap();
    let expected: Vec<String> = serde_json::from_value(case["expected"].clone()).unwrap();
    if rows != expected {
        return failed(format!("rows {rows:?}, expected {expected:?}"));
    }
    if let Err(why) = init_check {
        return failed(why);
    }
    let mut detail = format!("{} rows", rows.len());
    if !case["profile"].is_null() {
        match profiled_under(release, &summary.accumulators) {
            Ok(()) => detail.push_str(&format!(", profile reported under result id {RESULT_ID}")),
            Err(why) => return failed(why),
        }
    }
    if let Some(s) = state_log {
        if !s.connected {
            return failed("the worker did not connect to the state server".into());
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
    (checked(Evidence::Full, detail), ran)
}

/// Whether the task's accumulator updates hold a profile under [`RESULT_ID`]
/// (the profilers' accumulator, id −1, maps result ids to results).
fn profiled_under(release: &str, accumulators: &[Bytes]) -> Result<(), String> {
    let updates: Vec<String> = accumulators.iter().map(|b| hex(b)).collect();
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
// Reuse, and faults that must not poison the next case.

/// Which workers a host's tasks ran on.
#[derive(Default)]
struct Reuse {
    last: Option<Ran>,
    /// Cases run (faults not counted).
    cases: usize,
    /// Cases that ran on the worker the task before left reusable.
    reused: usize,
    /// Every worker pid seen.
    pids: BTreeSet<i32>,
    /// What broke the rules.
    broken: Vec<String>,
}

impl Reuse {
    /// Notes a task (`None`: no worker took it, e.g. the oracle failed first).
    fn note(&mut self, what: &str, case: bool, ran: Option<Ran>) {
        let Some(ran) = ran else { return };
        self.cases += usize::from(case);
        self.pids.insert(ran.pid);
        if let Some(last) = self.last {
            let same = last.pid == ran.pid && ran.pid != 0;
            if last.reusable && same {
                self.reused += usize::from(case);
            } else if last.reusable {
                self.broken.push(format!(
                    "{what}: ran on a new worker {} though worker {} was left idle and reusable",
                    ran.pid, last.pid
                ));
            } else if same {
                self.broken.push(format!(
                    "{what}: ran on worker {}, which the task before left unusable",
                    ran.pid
                ));
            }
        }
        self.last = Some(ran);
    }
}

/// Deliberate faults: a name, the job's source, the error it must give and
/// the line it writes on stderr first (the sleep lets the host's stderr pump
/// read it before the fault reaches us).
const FAULTS: &[(&str, &str, &str)] = &[
    (
        "raises",
        "def job(split, it):\n    import sys, time\n    sys.stderr.write('sparkwire-fault: raising\\n')\n    sys.stderr.flush()\n    time.sleep(0.3)\n    raise ValueError('sparkwire-fault')\n",
        "Python",
    ),
    (
        "exits",
        "def job(split, it):\n    import os, sys, time\n    sys.stderr.write('sparkwire-fault: exiting\\n')\n    sys.stderr.flush()\n    time.sleep(0.3)\n    os._exit(7)\n",
        "WorkerDied",
    ),
];

/// Runs [`FAULTS`] on `host`: each must fail with its typed error, carry the
/// worker's stderr into the failure detail and leave no idle worker behind.
/// What went wrong, if anything.
fn run_faults(host: &Host, release: &str, cases: &Cases, reuse: &mut Reuse) -> Vec<String> {
    let mut problems = Vec::new();
    let frames = match cases.get(release, "NON_UDF", None) {
        Ok(case) => input_frames(&case),
        Err(why) => return vec![format!("{release}: no input for the faults: {why}")],
    };
    for (name, source, want) in FAULTS {
        let command = with_oracle(release, |o| {
            o.call(json!({
                "op": "command_pickle", "source": source, "filename": "/jobs/fault.py",
                "name": "job",
                "deserializer": ["batched", ["cpickle"], 100],
                "serializer": ["batched", ["cpickle"], 100],
            }))
        })
        .expect("oracle")
        .map(|c| Bytes::from(unhex(c["data"].as_str().unwrap())));
        let command = match command {
            Ok(c) => c,
            Err(e) => {
                problems.push(format!("fault {name}: the oracle could not pickle it: {e}"));
                continue;
            }
        };
        let mut ran = None;
        let task = Task::rdd(command, 7, TaskInput::frames(frames.clone()));
        let result = run_task(host, task, &mut ran);
        reuse.note(&format!("fault {name}"), false, ran);
        let err = match result {
            Ok(_) => {
                problems.push(format!("fault {name}: the task succeeded"));
                continue;
            }
            Err(e) => e,
        };
        let kind = match &err {
            TaskError::Python { .. } => "Python",
            TaskError::WorkerDied { .. } => "WorkerDied",
            _ => "another error",
        };
        let detail = describe(&err);
        let marker = format!(
            "sparkwire-fault: {}",
            if *want == "Python" {
                "raising"
            } else {
                "exiting"
            }
        );
        eprintln!(
            "{release} fault {name}: {kind}, {}",
            if detail.contains(&marker) {
                "its stderr line in the detail"
            } else {
                "its stderr line missing"
            }
        );
        if kind != *want {
            problems.push(format!("fault {name}: {kind}, not {want}: {detail}"));
        } else if !detail.contains(&marker) {
            problems.push(format!(
                "fault {name}: the worker's stderr line {marker:?} is not in the failure detail:\n{detail}"
            ));
        }
        if host.stats().idle != 0 {
            problems.push(format!("fault {name}: the failed worker was kept idle"));
        }
    }
    problems
}

// ---------------------------------------------------------------------------
// One host: a release's cases, one after another.

/// How a host's run went.
struct HostReport {
    release: String,
    transport: Transport,
    reuse: Reuse,
    /// Faults that did not behave, and broken reuse rules.
    problems: Vec<String>,
    /// Live and idle workers, and daemons, once every task was over.
    end: sparkwire_worker::host::PoolStats,
    elapsed: Duration,
}

fn run_host(
    release: &str,
    transport: Transport,
    jobs: &[Job],
    cases: &Cases,
) -> (Vec<Checked>, HostReport) {
    let started = Instant::now();
    let python = Python::probe(python_for(release).expect("venv"))
        .unwrap_or_else(|e| panic!("{release}: {e}"));
    let config = HostConfig {
        mode: Mode::Daemon,
        unix_sockets: transport == Transport::Unix,
        reuse: true,
        connect_timeout: TIMEOUT,
        reply_timeout: TIMEOUT,
        ..HostConfig::default()
    };
    let host = Host::new(python, config).unwrap_or_else(|e| panic!("{release}: {e}"));
    let mut reuse = Reuse::default();
    let mut problems = Vec::new();
    let mut table = Vec::new();
    for (i, job) in jobs.iter().enumerate() {
        let label = format!(
            "{release} {transport:?} {:>3} {}{}",
            job.eval_type.code(),
            job.name,
            job.variant.map(|v| format!(" ({v})")).unwrap_or_default()
        );
        let (c, ran) = run_case(&host, transport, release, job, cases);
        eprintln!(
            "{label}: {:?} {} [worker {}]",
            c.evidence,
            c.detail.lines().next().unwrap_or_default(),
            ran.map(|r| r.pid).unwrap_or_default()
        );
        reuse.note(&label, true, ran);
        table.push(c);
        if i == 0 {
            problems.extend(
                run_faults(&host, release, cases, &mut reuse)
                    .into_iter()
                    .map(|p| format!("{release} {transport:?}: {p}")),
            );
        }
    }
    problems.extend(
        reuse
            .broken
            .drain(..)
            .map(|p| format!("{release} {transport:?}: {p}")),
    );
    let report = HostReport {
        release: release.to_owned(),
        transport,
        reuse,
        problems,
        end: host.stats(),
        elapsed: started.elapsed(),
    };
    (table, report)
}

// ---------------------------------------------------------------------------
// Every release, every eval type, every host.

#[test]
fn every_eval_type_runs_through_the_host_on_every_release() {
    let started = Instant::now();
    let only: Option<Vec<i32>> = std::env::var("SPARKWIRE_EVAL_ONLY")
        .ok()
        .map(|s| s.split(',').map(|c| c.trim().parse().unwrap()).collect());
    let mut units: Vec<(String, Transport, Vec<Job>)> = Vec::new();
    let mut table = Vec::new();
    let mut releases = 0;
    for release in oracle_versions() {
        let Some(defined) = with_oracle(&release, |o| o.call(json!({"op": "eval_types"}))) else {
            continue;
        };
        releases += 1;
        let v = SparkVersion::of_release(&release).unwrap();
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
        let mut jobs = Vec::new();
        for t in EvalType::KNOWN {
            if only.as_ref().is_some_and(|o| !o.contains(&t.code())) {
                continue;
            }
            let variants = VARIANTS
                .iter()
                .filter(|(vt, _)| vt == t)
                .map(|(_, name)| Some(*name));
            for variant in std::iter::once(None).chain(variants) {
                let skip = |detail: String| Checked {
                    release: release.clone(),
                    transport: None,
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
                    Some((name, _)) => jobs.push(Job {
                        name: name.clone(),
                        eval_type: *t,
                        variant,
                    }),
                }
            }
        }
        if v >= SparkVersion::V4_1 {
            units.push((release.clone(), Transport::Unix, jobs.clone()));
        }
        units.push((release, Transport::Tcp, jobs));
    }
    assert!(
        releases > 0,
        "no pinned pyspark is installed: run scripts/setup.sh"
    );
    // Both threads start on different releases (one oracle per release).
    units.sort_by_key(|(release, transport, _)| (*transport, release.clone()));
    let cases = Cases::default();
    let next = AtomicUsize::new(0);
    let done = Mutex::new(Vec::new());
    let reports = Mutex::new(Vec::new());
    thread::scope(|s| {
        for _ in 0..PARALLEL {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some((release, transport, jobs)) = units.get(i) else {
                    return;
                };
                let (checked, report) = run_host(release, *transport, jobs, &cases);
                done.lock().unwrap().extend(checked);
                reports.lock().unwrap().push(report);
            });
        }
    });
    table.extend(done.into_inner().unwrap());
    table.sort_by(|a, b| {
        (a.eval_type, a.variant, &a.release, a.transport).cmp(&(
            b.eval_type,
            b.variant,
            &b.release,
            b.transport,
        ))
    });
    let count = |e| table.iter().filter(|c| c.evidence == e).count();
    eprintln!(
        "\neval type × release × transport, {:.0?}:",
        started.elapsed()
    );
    for c in &table {
        let name = match c.variant {
            Some(v) => format!("{} ({v})", c.eval_type.name().unwrap_or("?")),
            None => c.eval_type.name().unwrap_or("?").to_owned(),
        };
        let transport = c.transport.map(|t| format!("{t:?}")).unwrap_or("-".into());
        eprintln!(
            "  {:>3} {:<50} {:<6} {:<4} {:<8?} {}",
            c.eval_type.code(),
            name,
            c.release,
            transport,
            c.evidence,
            c.detail.lines().next().unwrap_or_default()
        );
    }
    let mut reports = reports.into_inner().unwrap();
    reports.sort_by(|a, b| (&a.release, a.transport).cmp(&(&b.release, b.transport)));
    eprintln!("\nhosts (daemon mode, reuse on):");
    for r in &reports {
        eprintln!(
            "  {} {:<4} {:>2} cases, {:>2} on a reused worker, {} workers forked (faults included), \
             at the end {} live / {} idle; {:.1?}",
            r.release,
            format!("{:?}", r.transport),
            r.reuse.cases,
            r.reuse.reused,
            r.reuse.pids.len(),
            r.end.live,
            r.end.idle,
            r.elapsed
        );
    }
    let full = count(Evidence::Full);
    eprintln!(
        "full runs {full}, skipped {}, failed {} ({releases} releases, {} hosts)",
        count(Evidence::Skipped),
        count(Evidence::Failed),
        reports.len()
    );
    let mut failed: Vec<String> = table
        .iter()
        .filter(|c| c.evidence == Evidence::Failed)
        .map(|c| {
            format!(
                "{} {:?} {}: {}",
                c.release,
                c.transport.unwrap_or(Transport::Tcp),
                c.eval_type,
                c.detail
            )
        })
        .collect();
    for r in &reports {
        failed.extend(r.problems.iter().cloned());
        // The host reused its workers: after the first case and the faults,
        // every case ran on the worker the one before left idle.
        if r.reuse.cases >= 3 && r.reuse.reused == 0 {
            failed.push(format!(
                "{} {:?}: no case ran on a reused worker",
                r.release, r.transport
            ));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
    // Every eval type each release defines (and every variant it has the
    // parts for) was run to its end on every host: nothing was left out.
    let jobs: usize = units.iter().map(|(_, _, jobs)| jobs.len()).sum();
    assert_eq!(full, jobs);
    if only.is_none() {
        for (release, transport, _) in &units {
            let on_host = table
                .iter()
                .filter(|c| {
                    c.evidence == Evidence::Full
                        && &c.release == release
                        && c.transport == Some(*transport)
                })
                .count();
            assert!(
                on_host >= MIN_FULL_PER_RELEASE,
                "{release} {transport:?}: {on_host} full runs"
            );
        }
    }
}
