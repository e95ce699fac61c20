//! The typed decode report: what `sparkwire decode` shows of captured traffic.
//!
//! One model, two renderings: the CLI prints it as text, and its JSON form is
//! `serde_json`'s rendering of these structs (object keys sorted, as the
//! documented format in `docs/decode-json.md` has them). Everything here is
//! built from decoded bytes only; nothing is executed.

use std::collections::BTreeMap;

use serde::Serialize;
use sparkwire_framing::{Frame, Step};
use sparkwire_serializers::pickle;
use sparkwire_serializers::pyspark::arrow::{ArrowItem, MessageKind, SectionItem};
use sparkwire_serializers::pyspark::arrow_rows;
use sparkwire_serializers::pyspark::cloudpickle::{command_serializers, inspect};
use sparkwire_serializers::pyspark::shuffle::ShuffleDecoder;
use sparkwire_serializers::pyspark::{Element, LoadError, Serializer, StreamDecoder};
use sparkwire_worker::protocol::{
    sql_serializers, Arg, Command, ConnInfo, End, ReplyItem, SparkVersion, TaskHeader,
};

use crate::capture::{Connection, Mode, Section, Stop, StopKind, Task};
use crate::capture_dir::{BroadcastFile, DaemonChannel};
use crate::pcap::Capture;
use crate::py4j::{Py4jStream, Py4jSummary};
use crate::traffic::{self, Kind};

/// Everything decoded from one input.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The decoded worker connections.
    pub connections: Vec<ConnectionReport>,
    /// A pcap or pcapng input: every TCP connection in it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capture: Option<CaptureReport>,
    /// A capture directory: the daemon's side channels (`null` when not
    /// recorded); absent for other inputs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub daemon: Option<Option<DaemonReport>>,
    /// A capture directory: the broadcast files tap recorded or found missing,
    /// by id; absent when it recorded none (or for other inputs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broadcast_files: Option<Vec<BroadcastFileReport>>,
    /// A capture directory: the lines of its `tap.log` (what tap could not
    /// record); absent when there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tap_log: Option<Vec<String>>,
}

/// A broadcast's value as the capture directory holds it.
#[derive(Debug, Clone, Serialize)]
pub struct BroadcastFileReport {
    /// Its id.
    pub id: i64,
    /// The copy's length, when there is one.
    pub bytes: Option<u64>,
    /// Why there is no copy (`null` when there is).
    pub missing: Option<String>,
}

impl BroadcastFileReport {
    /// The report of a capture directory's broadcasts, `None` when it has none.
    pub fn all(files: &BTreeMap<i64, BroadcastFile>) -> Option<Vec<BroadcastFileReport>> {
        if files.is_empty() {
            return None;
        }
        let row = |(&id, f): (&i64, &BroadcastFile)| match f {
            BroadcastFile::Recorded { len, .. } => BroadcastFileReport {
                id,
                bytes: Some(*len),
                missing: None,
            },
            BroadcastFile::Missing(m) => BroadcastFileReport {
                id,
                bytes: None,
                missing: Some(m.to_string()),
            },
        };
        Some(files.iter().map(row).collect())
    }
}

/// The daemon's side channels as recorded.
#[derive(Debug, Clone, Serialize)]
pub struct DaemonReport {
    /// The port it announced (the first `i32` of its stdout, as sent).
    pub port: Option<i32>,
    /// Or the Unix-socket path it announced.
    pub socket_path: Option<String>,
    /// Bytes on its stdout after the announcement.
    pub stdout_extra_bytes: usize,
    /// The pids the JVM asked it to kill, in order.
    pub kill_pids: Vec<i32>,
}

impl From<&DaemonChannel> for DaemonReport {
    fn from(d: &DaemonChannel) -> DaemonReport {
        DaemonReport {
            port: d.port,
            socket_path: d.socket_path.clone(),
            stdout_extra_bytes: d.stdout_extra_bytes,
            kill_pids: d.kill_pids.clone(),
        }
    }
}

/// One decoded worker connection.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectionReport {
    /// Its name (the capture file's number, or the TCP endpoints).
    pub name: String,
    /// The release whose layout was used.
    pub spark_version: String,
    /// The releases the traffic can come from: those whose layout fits,
    /// narrowed by evidence in the traffic when there is some
    /// (`release_evidence`).
    pub spark_versions: Vec<String>,
    /// What narrowed `spark_versions` down from `layouts_that_fit`.
    pub release_evidence: Option<String>,
    /// Every release whose layout accounts for the bytes (up to the damage,
    /// when decoding stopped: every layout that got as far).
    pub layouts_that_fit: Vec<String>,
    /// `simple`, `daemon`, `unix socket`, or `unknown` when not even the
    /// auth prelude could be read.
    pub mode: &'static str,
    /// The pid the worker announced (`null` when not read).
    pub pid: Option<i32>,
    /// Its tasks.
    pub tasks: Vec<TaskReport>,
    /// Bytes after the last reply.
    pub trailing_bytes: usize,
    /// When those bytes are one exception: its traceback.
    pub trailing_exception: Option<String>,
    /// The errno of a daemon's failed fork.
    pub fork_errno: Option<i32>,
    /// Where and why decoding stopped before the last byte (`null` when it
    /// read everything); everything before it is in `tasks`.
    pub error: Option<StopReport>,
    /// When both directions stopped: the second one (the JVM → worker
    /// direction's stop is `error`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub further_errors: Vec<StopReport>,
}

/// Where and why decoding of a connection stopped.
#[derive(Debug, Clone, Serialize)]
pub struct StopReport {
    /// `to_worker` or `from_worker`.
    pub direction: String,
    /// The section (`auth`, `pid`, `task N header`, `task N data section`,
    /// `task N end-of-stream marker`, `reply to task N`).
    pub section: String,
    /// The task the section belongs to.
    pub task: Option<usize>,
    /// The index of the unread item within the section (a data frame, a
    /// reply item), when it has items.
    pub item: Option<usize>,
    /// The byte offset in that direction's stream where the unread item starts.
    pub offset: u64,
    /// `cut` (the recording ends inside an item), `ended` (it ends between
    /// items of a task or a reply) or `corrupt` (bytes the layout does not
    /// account for).
    pub kind: &'static str,
    /// What was wrong.
    pub reason: String,
    /// When the recording ends inside a task header: what was read of it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partial_task: Option<PartialTaskReport>,
}

/// What was read of a task header the recording ends inside, and where it ends.
#[derive(Debug, Clone, Serialize)]
pub struct PartialTaskReport {
    /// The task's index on the connection.
    pub index: usize,
    /// The stream byte the recording ends at.
    pub cut_at: u64,
    /// The field it ends in (the spec's name).
    pub field: &'static str,
    /// The stream byte that field starts at.
    pub field_offset: u64,
    /// The bytes the field takes, as far as its length prefix tells (4 while
    /// inside the prefix).
    pub field_needed: u64,
    /// Its bytes in the recording.
    pub field_recorded: u64,
    /// Every field read in full, in wire order, by name with its value (a
    /// list or map by how many of its entries were read).
    pub read: Vec<ReadField>,
}

/// A field of a cut task header.
#[derive(Debug, Clone, Serialize)]
pub struct ReadField {
    /// `partition`, `python`, `stage` … `eval type`.
    pub name: &'static str,
    /// Its value.
    pub value: String,
}

impl std::fmt::Display for PartialTaskReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "task {} (header cut at stream byte {}, inside {}):",
            self.index, self.cut_at, self.field
        )?;
        for (i, r) in self.read.iter().enumerate() {
            let sep = if i == 0 { " " } else { ", " };
            write!(f, "{sep}{} {}", r.name, r.value)?;
        }
        if self.read.is_empty() {
            f.write_str(" no field read in full")?;
        }
        Ok(())
    }
}

impl From<&Stop> for StopReport {
    fn from(s: &Stop) -> StopReport {
        StopReport {
            direction: s.direction.to_string(),
            section: s.section.to_string(),
            task: match s.section {
                Section::Header(n) | Section::Data(n) | Section::Finish(n) | Section::Reply(n) => {
                    Some(n)
                }
                Section::Auth | Section::Pid => None,
            },
            item: s.item,
            offset: s.offset,
            kind: s.kind.name(),
            reason: s.reason.clone(),
            partial_task: match (&s.header, s.section) {
                (Some(h), Section::Header(index)) => Some(PartialTaskReport {
                    index,
                    cut_at: h.at + h.recorded as u64,
                    field: h.cut.field,
                    field_offset: h.at + h.cut.offset,
                    field_needed: h.cut.needed,
                    field_recorded: h.cut.had,
                    read: (h.read.summary().into_iter())
                        .map(|(name, value)| ReadField { name, value })
                        .collect(),
                }),
                _ => None,
            },
        }
    }
}

impl std::fmt::Display for StopReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}, {}", self.direction, self.section)?;
        if let Some(i) = self.item {
            write!(f, ", item {i}")?;
        }
        write!(
            f,
            ", stream byte {} ({}): {}",
            self.offset, self.kind, self.reason
        )
    }
}

/// One task of a connection.
#[derive(Debug, Clone, Serialize)]
pub struct TaskReport {
    /// Its index on the connection (0 is the first).
    pub index: usize,
    /// The split index.
    pub partition_index: i32,
    /// The driver's Python.
    pub python_version: String,
    /// The eval type's code.
    pub eval_type: i32,
    /// PySpark's name for it (`NON_UDF`, `SQL_BATCHED_UDF` …), `null` when
    /// no modelled release defines it.
    pub eval_type_name: Option<&'static str>,
    /// The task context.
    pub task_context: ContextReport,
    /// Broadcasts announced in the header.
    pub broadcasts: Vec<BroadcastReport>,
    /// The command.
    pub command: CommandReport,
    /// Input records (Python reprs, or Arrow rows as tuples).
    pub input_records: Vec<String>,
    /// With `--max-records`: the input records left out (absent without it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_records_more: Option<usize>,
    /// Pair-framed input (`PairDeserializer`, `CartesianDeserializer`): the
    /// `(key frame, value frame)` pairs the JVM sent, PythonRDD writing each
    /// `(key, value)` of its iterator as two frames; `input_records` are the
    /// pairs Python makes of them. `null` for other input.
    pub input_frame_pairs: Option<usize>,
    /// How many input records there are (more than `input_records` holds
    /// when the report was built to show only the first few,
    /// [`TaskReport::upto`]).
    #[serde(skip)]
    pub input_count: usize,
    /// Markers of the input, in order.
    pub input_markers: Vec<Marker>,
    /// Output records. Shuffle-map output (`add_shuffle_key`'s alternating
    /// partition ids and pickled buckets) is shown as Spark routes it: the
    /// `(k, v)` pairs of every bucket, flattened, with `output_partitions`.
    pub output_records: Vec<String>,
    /// With `--max-records`: the output records left out (absent without it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_records_more: Option<usize>,
    /// How many output records there are (see `input_count`).
    #[serde(skip)]
    pub output_count: usize,
    /// Shuffle-map output: the partition each of `output_records` is bound
    /// for (`null` for any other output).
    pub output_partitions: Option<Vec<i64>>,
    /// Markers of the reply, in order.
    pub output_markers: Vec<String>,
    /// The traceback, when the task failed.
    pub exception: Option<String>,
    /// Whether the reply was read to its end.
    pub reply_complete: bool,
    /// TIMING_DATA.
    pub timing: Option<TimingReport>,
    /// Accumulator updates, each the repr of the whole `(id, value)` tuple.
    pub accumulators: Vec<String>,
    /// The same updates as the driver applies them: accumulator id and value.
    pub accumulator_updates: Vec<AccumulatorUpdate>,
    /// How the reply ended.
    pub end: Option<&'static str>,
}

/// One accumulator update: the worker pickles `(id, value)` and the driver
/// adds `value` to accumulator `id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccumulatorUpdate {
    /// The accumulator's id (`null` when the pickle is not an `(int, value)`
    /// tuple).
    pub id: Option<i64>,
    /// `repr(value)` (the whole pickle's repr when `id` is `null`).
    pub value: String,
}

impl AccumulatorUpdate {
    /// The update pickled in `bytes`.
    fn new(bytes: &[u8]) -> AccumulatorUpdate {
        let whole = || AccumulatorUpdate {
            id: None,
            value: pickle_repr(bytes),
        };
        let Ok(d) = pickle::decode_slice(bytes) else {
            return whole();
        };
        let g = &d.graph;
        let pair = match g.get(d.root()) {
            pickle::Value::Tuple(items) => match g.items(*items)[..] {
                [id, value] => match g.get(id) {
                    pickle::Value::Int(i) => i.as_i64().map(|i| (i, value)),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        };
        let Some((id, value)) = pair else {
            return whole();
        };
        match pickle::repr::python_repr(g, value, &repr_options(&d)) {
            Ok(r) => AccumulatorUpdate {
                id: Some(id),
                value: r.text,
            },
            Err(_) => whole(),
        }
    }
}

/// A marker in the input: a name, or the raw value of an unexpected `i32`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Marker {
    /// A named marker (`END_OF_DATA_SECTION`, `GROUP(2)` …).
    Name(String),
    /// The `i32` the JVM sent after the data section, when not END_OF_STREAM.
    Value(i32),
}

impl std::fmt::Display for Marker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Marker::Name(n) => f.write_str(n),
            Marker::Value(v) => v.fmt(f),
        }
    }
}

/// The task context.
#[derive(Debug, Clone, Serialize)]
pub struct ContextReport {
    /// A barrier task.
    pub is_barrier: bool,
    /// Its barrier server.
    pub barrier_conn: Option<ConnReport>,
    /// Stage id.
    pub stage_id: i32,
    /// Partition id.
    pub partition_id: i32,
    /// Attempt number.
    pub attempt_number: i32,
    /// Task attempt id.
    pub task_attempt_id: i64,
    /// CPUs.
    pub cpus: i32,
    /// The CPU amount of 4.2+'s JSON context.
    pub cpu_amount: Option<String>,
    /// Resources.
    pub resources: Vec<ResourceReport>,
    /// Local properties.
    pub local_properties: BTreeMap<String, String>,
}

/// A connection endpoint: a port or a Unix-socket path.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum ConnReport {
    /// A loopback port.
    Port(i32),
    /// A Unix-socket path.
    Path(String),
}

/// One resource of the task context.
#[derive(Debug, Clone, Serialize)]
pub struct ResourceReport {
    /// Its key.
    pub key: String,
    /// Its name.
    pub name: String,
    /// Its addresses.
    pub addresses: Vec<String>,
}

/// One broadcast of the header.
#[derive(Debug, Clone, Serialize)]
pub struct BroadcastReport {
    /// Its id (negative: removed).
    pub id: i64,
    /// The file holding its value.
    pub path: Option<String>,
}

/// The command and the serializers its data is read with.
#[derive(Debug, Clone, Serialize)]
pub struct CommandReport {
    /// Bytes of pickled payload in the command.
    pub bytes: usize,
    /// The input's serializer (PySpark's repr).
    pub deserializer: Option<String>,
    /// The output's serializer.
    pub serializer: Option<String>,
    /// What kind of command, and what it holds.
    #[serde(flatten)]
    pub detail: CommandDetail,
}

/// What a command holds.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CommandDetail {
    /// NON_UDF: one cloudpickled tuple.
    Rdd {
        /// The functions inside it.
        functions: Vec<FunctionReport>,
        /// Modules it imports.
        modules: Vec<String>,
        /// The Python the bytecode hints at.
        python: Option<String>,
    },
    /// SQL UDFs.
    Udfs {
        /// Runner conf sent in the command.
        runner_conf: Option<BTreeMap<String, String>>,
        /// The profiler of 4.0/4.1.
        profiler: Option<String>,
        /// 208's state schema.
        state_schema: Option<String>,
        /// Each UDF.
        udfs: Vec<UdfReport>,
        /// Every function of every UDF's chain.
        functions: Vec<FunctionReport>,
    },
    /// A UDTF.
    Udtf {
        /// Runner conf sent in the command.
        runner_conf: Option<BTreeMap<String, String>>,
        /// Its name.
        name: Option<String>,
        /// Its arguments.
        args: Vec<ArgReport>,
        /// Partition-child indexes.
        partition_child_indexes: Option<Vec<i32>>,
        /// Bytes of the pickled analyze result.
        analyze_result_bytes: Option<Option<usize>>,
        /// Its return type.
        return_type: String,
        /// The handler's functions.
        functions: Vec<FunctionReport>,
        /// The handler payload.
        handler: PickledReport,
    },
}

/// One UDF.
#[derive(Debug, Clone, Serialize)]
pub struct UdfReport {
    /// Its arguments.
    pub args: Vec<ArgReport>,
    /// Its chained functions.
    pub chain: Vec<PickledReport>,
    /// Its profiler result id.
    pub result_id: Option<i64>,
}

/// One argument.
#[derive(Debug, Clone, Serialize)]
pub struct ArgReport {
    /// Offset into the row.
    pub offset: i32,
    /// Keyword.
    pub name: Option<String>,
}

/// A pickled payload, as inspection (never execution) tells.
#[derive(Debug, Clone, Serialize)]
pub struct PickledReport {
    /// Its size.
    pub bytes: usize,
    /// Functions defined in it.
    pub functions: Vec<FunctionReport>,
    /// Modules it imports.
    pub modules: Vec<String>,
    /// The Python the bytecode hints at.
    pub python: Option<String>,
}

/// One function found in a payload.
#[derive(Debug, Clone, Serialize)]
pub struct FunctionReport {
    /// `co_name`.
    pub name: String,
    /// `co_filename`.
    pub file: String,
    /// `co_firstlineno`.
    pub line: i64,
}

/// TIMING_DATA: the worker's timestamps, and the durations the JVM's
/// PythonRunner derives from them. Its `boot` (bootTime − the executor's
/// start) and `total` (finishTime − that start) need the executor's start
/// time, which no byte carries.
#[derive(Debug, Clone, Serialize)]
pub struct TimingReport {
    /// bootTime: when the worker's `main()` began the task (ms since the epoch).
    pub boot_ms: i64,
    /// initTime: when it had read the command (ms since the epoch).
    pub init_ms: i64,
    /// finishTime: when it had processed the data (ms since the epoch).
    pub finish_ms: i64,
    /// PythonRunner's `init` (metric `pythonInitTime` from 4.0): initTime −
    /// bootTime, wrapping like the JVM's `Long` subtraction.
    pub init_duration_ms: i64,
    /// PythonRunner's `finish`: finishTime − initTime.
    pub finish_duration_ms: i64,
    /// The processing phase's duration as the worker measured it (4.2+,
    /// metric `pythonProcessingTime`).
    pub processing_ms: Option<i64>,
    /// Memory bytes spilled.
    pub memory_bytes_spilled: i64,
    /// Disk bytes spilled.
    pub disk_bytes_spilled: i64,
}

/// A pcap or pcapng file's TCP connections.
#[derive(Debug, Clone, Serialize)]
pub struct CaptureReport {
    /// Packets read.
    pub packets: usize,
    /// Packets that were not TCP/IP.
    pub skipped_packets: usize,
    /// The file ends inside a packet.
    pub truncated: bool,
    /// Each TCP connection.
    pub tcp_connections: Vec<TcpReport>,
}

/// One reassembled TCP connection.
#[derive(Debug, Clone, Serialize)]
pub struct TcpReport {
    /// `client → server` endpoints.
    pub name: String,
    /// Whether its SYN was captured.
    pub syn_seen: bool,
    /// Bytes the client sent.
    pub client_bytes: usize,
    /// Bytes the server sent.
    pub server_bytes: usize,
    /// Bytes lost to gaps (client, server).
    pub lost_bytes: [u64; 2],
    /// What it is.
    #[serde(flatten)]
    pub kind: TcpKind,
}

/// What a TCP connection is.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TcpKind {
    /// A worker connection (decoded in [`Report::connections`]).
    Worker {
        /// The release whose layout was used.
        spark_version: String,
        /// Its tasks.
        tasks: usize,
    },
    /// A Py4J connection, decoded with the gateway's codec.
    Py4j(Box<Py4jReport>),
    /// A driver data socket.
    DataSocket {
        /// Frames the JVM sent.
        server_frames: usize,
        /// Their records.
        server_records: Vec<String>,
        /// Bytes after the last whole frame.
        server_rest_bytes: usize,
        /// Bytes the client sent after authenticating.
        client_bytes_after_auth: usize,
    },
    /// Accumulator updates.
    AccumulatorUpdates {
        /// Each batch's updates, as Python reprs of the `(id, value)` tuples.
        updates: Vec<Vec<String>>,
        /// The same, as the driver applies them: id and value.
        accumulator_updates: Vec<Vec<AccumulatorUpdate>>,
        /// Acknowledgements.
        acks: usize,
    },
    /// A worker connection the `--spark` layout asked for does not read,
    /// though other layouts do: not decoded.
    WorkerInOtherLayout {
        /// The layouts that read it.
        layouts_that_fit: Vec<String>,
        /// The layout asked for.
        spark_version: String,
        /// Where that layout fails.
        error: String,
    },
    /// Anything else.
    Other {
        /// Why it was not recognised.
        note: Option<String>,
    },
}

/// What a Py4J connection carried ([`Py4jSummary`] for the report).
#[derive(Debug, Clone, Serialize)]
pub struct Py4jReport {
    /// It opened with an accepted authentication (the token is never shown).
    pub authenticated: bool,
    /// The JVM opened it (a callback connection to a Python server).
    pub jvm_is_client: bool,
    /// Commands Python sent.
    pub commands: usize,
    /// Those commands by kind, in first-seen order.
    pub command_kinds: Vec<KindCount>,
    /// Calls by `receiver.method` (a static call's class, the class of an
    /// object constructed on this connection, or `<object>`).
    pub calls: Vec<CallReport>,
    /// Constructors by class.
    pub constructors: Vec<ClassCount>,
    /// The JVM's replies to Python by status.
    pub replies: ReplyReport,
    /// Replies carrying a thrown Java object (`!xr…`).
    pub java_exceptions: usize,
    /// The calls that threw them.
    pub thrown_by: Vec<CallReport>,
    /// py4j-level error texts (`!xs…`), cut short.
    pub error_texts: Vec<String>,
    /// The JVM's callbacks into Python, by method.
    pub callbacks: Vec<CallReport>,
    /// Python's error answers to callbacks.
    pub callback_errors: usize,
    /// How far Python's bytes decoded.
    pub to_java: Py4jStreamReport,
    /// How far the JVM's bytes decoded.
    pub to_python: Py4jStreamReport,
}

/// A Py4J method and how often it was called.
#[derive(Debug, Clone, Serialize)]
pub struct CallReport {
    /// The method.
    pub method: String,
    /// Times called.
    pub count: usize,
}

/// A Py4J command kind and how often it was sent.
#[derive(Debug, Clone, Serialize)]
pub struct KindCount {
    /// The codec's name for it (`call`, `reflection unknown`, …).
    pub kind: String,
    /// Times sent.
    pub count: usize,
}

/// A class and how often it was constructed.
#[derive(Debug, Clone, Serialize)]
pub struct ClassCount {
    /// Fully qualified class name.
    pub class: String,
    /// Constructor commands.
    pub count: usize,
}

/// Py4J replies by status.
#[derive(Debug, Clone, Serialize)]
pub struct ReplyReport {
    /// `!y…`.
    pub success: usize,
    /// `!x…`.
    pub error: usize,
    /// `!z…`.
    pub fatal: usize,
}

/// A decoding error of a Py4J stream.
#[derive(Debug, Clone, Serialize)]
pub struct Py4jErrorReport {
    /// Byte offset in that direction's stream.
    pub offset: u64,
    /// What was wrong.
    pub error: String,
}

/// How far one direction of a Py4J connection decoded.
#[derive(Debug, Clone, Serialize)]
pub struct Py4jStreamReport {
    /// Messages decoded.
    pub messages: usize,
    /// Bytes decoded (all of them unless decoding stopped).
    pub decoded_bytes: u64,
    /// Messages skipped for a bad value, decoding going on (the first few).
    pub skipped: Vec<Py4jErrorReport>,
    /// How many were skipped in all.
    pub skipped_total: usize,
    /// Why decoding stopped before the end (`null` when it did not).
    pub stopped: Option<Py4jErrorReport>,
}

impl Py4jStreamReport {
    fn new(s: &Py4jStream) -> Py4jStreamReport {
        let report = |e: &sparkwire_gateway::py4j::DecodeError| Py4jErrorReport {
            offset: e.offset(),
            error: e.to_string(),
        };
        Py4jStreamReport {
            messages: s.messages,
            decoded_bytes: s.decoded_bytes,
            skipped: s.skipped.iter().map(report).collect(),
            skipped_total: s.skipped_total,
            stopped: s.stopped.as_ref().map(report),
        }
    }
}

fn call_reports(counts: &[(String, usize)]) -> Vec<CallReport> {
    counts
        .iter()
        .map(|(m, n)| CallReport {
            method: m.clone(),
            count: *n,
        })
        .collect()
}

impl Py4jReport {
    /// The report of a Py4J connection.
    pub fn new(p: &Py4jSummary) -> Py4jReport {
        Py4jReport {
            authenticated: p.authenticated,
            jvm_is_client: p.jvm_is_client,
            commands: p.commands,
            command_kinds: p
                .command_kinds
                .iter()
                .map(|(k, n)| KindCount {
                    kind: (*k).to_owned(),
                    count: *n,
                })
                .collect(),
            calls: call_reports(&p.calls),
            constructors: p
                .constructors
                .iter()
                .map(|(c, n)| ClassCount {
                    class: c.clone(),
                    count: *n,
                })
                .collect(),
            replies: ReplyReport {
                success: p.replies.success,
                error: p.replies.error,
                fatal: p.replies.fatal,
            },
            java_exceptions: p.java_exceptions,
            thrown_by: call_reports(&p.thrown_by),
            error_texts: p.error_texts.clone(),
            callbacks: call_reports(&p.callbacks),
            callback_errors: p.callback_errors,
            to_java: Py4jStreamReport::new(&p.to_java),
            to_python: Py4jStreamReport::new(&p.to_python),
        }
    }
}

/// Records of a frame list, read with `ser` (raw frames as bytes without one).
pub fn records(frames: &[Frame], ser: Option<&Serializer>, v: SparkVersion) -> Vec<String> {
    records_upto(frames, ser, v, None).0
}

/// The first `shown` records of a frame list (all with `None`) and how many
/// there are, read one frame at a time: what is held is one batch's elements
/// and the records shown, however many frames there are. A stream that does
/// not read as `ser` is one record saying why, as in [`records`].
pub fn records_upto(
    frames: &[Frame],
    ser: Option<&Serializer>,
    v: SparkVersion,
    shown: Option<usize>,
) -> (Vec<String>, usize) {
    let mut r = RecordsUpto::new(ser, v, shown);
    for f in frames {
        r.push(f);
    }
    r.finish()
}

/// A frame list read with a serializer a frame at a time, as the frames are
/// read, each element handed to a visitor (which returns false to stop):
/// what is held is the frame being read (with a batch split across frames,
/// the batch) and its elements. [`visit_records`] over frames that come one
/// at a time.
pub struct RecordReader {
    dec: StreamDecoder,
    buf: bytes::BytesMut,
    /// The stream ended (its own end marker, or the visitor said stop):
    /// later frames are not read.
    ended: bool,
    failed: Option<LoadError>,
}

impl RecordReader {
    /// Reads with `ser`; `visit` sees what the empty stream already yields.
    pub fn new(
        ser: &Serializer,
        v: SparkVersion,
        visit: &mut dyn FnMut(Element) -> bool,
    ) -> RecordReader {
        let mut r = RecordReader {
            dec: StreamDecoder::new(ser.clone(), v),
            buf: bytes::BytesMut::new(),
            ended: false,
            failed: None,
        };
        r.drain(visit);
        r
    }

    /// The next frame.
    pub fn push(&mut self, f: &Frame, visit: &mut dyn FnMut(Element) -> bool) {
        if self.ended || self.failed.is_some() {
            return;
        }
        let _ = f.encode(&mut self.buf);
        self.drain(visit);
    }

    /// Reads every element the buffered bytes hold.
    fn drain(&mut self, visit: &mut dyn FnMut(Element) -> bool) {
        loop {
            match self.dec.decode_chunk(&mut self.buf) {
                Ok(Step::Item(Some(chunk))) => {
                    for e in chunk.into_elements() {
                        if !visit(e) {
                            self.ended = true;
                            return;
                        }
                    }
                }
                Ok(Step::Item(None)) => {
                    self.ended = true;
                    return;
                }
                Ok(Step::NeedMore) => return,
                Err(e) => {
                    self.failed = Some(e);
                    return;
                }
            }
        }
    }

    /// After the last frame: `Err` when the stream does not read (the
    /// elements before the error were visited).
    pub fn finish(self) -> Result<(), LoadError> {
        match self.failed {
            Some(e) => Err(e),
            None if self.ended => Ok(()),
            None => self.dec.finish(&self.buf),
        }
    }
}

/// [`records_upto`] fed a frame at a time, as the frames are read: what is
/// held is a [`RecordReader`]'s and the records shown.
struct RecordsUpto {
    ser: Serializer,
    reader: RecordReader,
    shown: Option<usize>,
    out: Vec<String>,
    total: usize,
}

impl RecordsUpto {
    fn new(ser: Option<&Serializer>, v: SparkVersion, shown: Option<usize>) -> RecordsUpto {
        let ser = ser.cloned().unwrap_or(Serializer::NoOp);
        let (mut out, mut total) = (Vec::new(), 0);
        let reader = RecordReader::new(&ser, v, &mut |e| keep_upto(&mut out, &mut total, shown, e));
        RecordsUpto {
            ser,
            reader,
            shown,
            out,
            total,
        }
    }

    fn push(&mut self, f: &Frame) {
        let (out, total, shown) = (&mut self.out, &mut self.total, self.shown);
        self.reader
            .push(f, &mut |e| keep_upto(out, total, shown, e));
    }

    fn finish(self) -> (Vec<String>, usize) {
        match self.reader.finish() {
            Ok(()) => (self.out, self.total),
            Err(e) => (vec![format!("<not readable as {}: {e}>", self.ser)], 1),
        }
    }
}

/// Counts a record, and keeps its repr while fewer than `shown` are kept.
fn keep_upto(out: &mut Vec<String>, total: &mut usize, shown: Option<usize>, e: Element) -> bool {
    *total += 1;
    if shown.is_none_or(|n| out.len() < n) {
        out.push(record_repr(&e));
    }
    true
}

/// A record as the report shows it: its Python repr, or why there is none.
pub fn record_repr(e: &Element) -> String {
    e.repr_with(&repr_limits())
        .unwrap_or_else(|e| format!("<{e}>"))
}

/// Longest repr a report shows of one value (a record, an accumulator
/// update): 16 MiB, far beyond what anyone reads, yet bounded.
pub const MAX_REPR_TEXT: u64 = 16 << 20;

/// The limits a report's reprs are made under: the defaults, with the text
/// cut at [`MAX_REPR_TEXT`]. Why: a record of a few kilobytes can share one
/// long str thousands of times (15 000 references to a 30 000-byte str are
/// 450 MB of repr, within the default node budget); a report shows up to
/// every record of a capture, so each is bounded well below the default
/// 2 GiB. Past the bound the record shows as `<the repr would be longer
/// than … bytes>`.
pub fn repr_limits() -> pickle::Limits {
    pickle::Limits {
        max_repr_text: MAX_REPR_TEXT,
        ..pickle::Limits::default()
    }
}

/// `repr(pickle.loads(...))`'s options for a decoded pickle, under
/// [`repr_limits`].
fn repr_options(d: &pickle::Decoded) -> pickle::repr::ReprOptions {
    pickle::repr::ReprOptions {
        limits: repr_limits(),
        ..pickle::repr::ReprOptions::for_decoded(d)
    }
}

/// Reads a frame list with `ser` one frame at a time, handing each element
/// to `visit` (which returns false to stop early). `Err`: the stream does
/// not read as `ser` (the elements before the error were visited).
pub fn visit_records(
    frames: &[Frame],
    ser: &Serializer,
    v: SparkVersion,
    visit: &mut dyn FnMut(Element) -> bool,
) -> Result<(), LoadError> {
    let mut r = RecordReader::new(ser, v, visit);
    for f in frames {
        r.push(f, visit);
    }
    r.finish()
}

/// The serializers a task's data sections are read with (its input's, its
/// output's), when its command names them.
pub fn task_serializers(h: &TaskHeader) -> Option<(Serializer, Serializer)> {
    command(h).1
}

/// Shuffle-map output ([`TaskReport::output_partitions`]) read a bucket at a
/// time: each pair with the partition it is bound for. Only for an output
/// [`TaskReport::new`] found to be one (a bucket that does not read stops it).
pub fn visit_shuffle_output(
    output: &[Frame],
    v: SparkVersion,
    visit: &mut dyn FnMut(i64, Element) -> bool,
) {
    let mut r = ShuffleReader::new(v, visit);
    for f in output {
        r.push(f, visit);
    }
}

/// [`visit_shuffle_output`] fed a frame at a time, as the frames are read.
pub struct ShuffleReader {
    v: SparkVersion,
    dec: ShuffleDecoder,
    buf: bytes::BytesMut,
    bucket: Serializer,
    stopped: bool,
}

impl ShuffleReader {
    /// `visit` sees what the empty output already yields.
    pub fn new(v: SparkVersion, visit: &mut dyn FnMut(i64, Element) -> bool) -> ShuffleReader {
        let mut r = ShuffleReader {
            v,
            dec: ShuffleDecoder::new(),
            buf: bytes::BytesMut::new(),
            bucket: Serializer::batched(Serializer::CPickle, -1),
            stopped: false,
        };
        r.drain(visit);
        r
    }

    /// The next frame of the output.
    pub fn push(&mut self, f: &Frame, visit: &mut dyn FnMut(i64, Element) -> bool) {
        if self.stopped {
            return;
        }
        let _ = f.encode(&mut self.buf);
        self.drain(visit);
    }

    fn drain(&mut self, visit: &mut dyn FnMut(i64, Element) -> bool) {
        while !self.stopped {
            let block = match self.dec.decode(&mut self.buf) {
                Ok(Step::Item(Some(block))) => block,
                Ok(Step::NeedMore) => return,
                Ok(Step::Item(None)) | Err(_) => {
                    self.stopped = true;
                    return;
                }
            };
            let mut go_on = true;
            let frame = [Frame::Data(block.payload)];
            let read = visit_records(&frame, &self.bucket, self.v, &mut |e| {
                go_on = visit(block.partition, e);
                go_on
            });
            self.stopped = read.is_err() || !go_on;
        }
    }
}

/// Whether a task's command makes shuffle-map output: PySpark's
/// `partitionBy` runs `add_shuffle_key` in the worker, which yields
/// `pack_long(split)` and then the bucket pickled with the context's
/// unbatched serializer, through a `NoOpSerializer`.
fn is_shuffle_map(command: &CommandReport) -> bool {
    let functions = match &command.detail {
        CommandDetail::Rdd { functions, .. } => functions,
        _ => return false,
    };
    command.serializer.as_deref() == Some("NoOpSerializer()")
        && functions.iter().any(|f| f.name == "add_shuffle_key")
}

/// A shuffle map task's output read as the JVM's `PairwiseRDD` reads it, fed
/// a frame at a time as the frames are read: every `(partition id, pickled
/// bucket)` pair ([`ShuffleDecoder`]) with the bucket's pairs flattened, each
/// with its partition; `None` from `finish` when the frames are not such
/// pairs (then they are shown raw). No END_OF_DATA_SECTION: a reply cut
/// between a partition id and its bucket shows the whole pairs before it (a
/// partition id whose bucket was not recorded is left out).
struct ShuffleUpto {
    v: SparkVersion,
    shown: Option<usize>,
    dec: ShuffleDecoder,
    buf: bytes::BytesMut,
    bucket: Serializer,
    records: Vec<String>,
    partitions: Vec<i64>,
    total: usize,
    /// The output ended: later frames are not read.
    ended: bool,
    /// Not shuffle-map pairs after all.
    not_pairs: bool,
}

impl ShuffleUpto {
    fn new(v: SparkVersion, shown: Option<usize>) -> ShuffleUpto {
        let mut r = ShuffleUpto {
            v,
            shown,
            dec: ShuffleDecoder::new(),
            buf: bytes::BytesMut::new(),
            bucket: Serializer::batched(Serializer::CPickle, -1),
            records: Vec::new(),
            partitions: Vec::new(),
            total: 0,
            ended: false,
            not_pairs: false,
        };
        r.drain();
        r
    }

    fn push(&mut self, f: &Frame) {
        if self.ended || self.not_pairs {
            return;
        }
        let _ = f.encode(&mut self.buf);
        self.drain();
    }

    fn drain(&mut self) {
        loop {
            let block = match self.dec.decode(&mut self.buf) {
                Ok(Step::Item(Some(block))) => block,
                Ok(Step::Item(None)) => {
                    self.ended = true;
                    return;
                }
                Ok(Step::NeedMore) => return,
                Err(_) => {
                    self.not_pairs = true;
                    return;
                }
            };
            // At least the first pair, to tell a bucket that is not one.
            let room = (self.shown).map(|n| n.saturating_sub(self.records.len()).max(1));
            let (mut pairs, n) = records_upto(
                &[Frame::Data(block.payload)],
                Some(&self.bucket),
                self.v,
                room,
            );
            if pairs
                .first()
                .is_some_and(|r| r.starts_with("<not readable"))
            {
                self.not_pairs = true;
                return;
            }
            if let Some(n) = self.shown {
                pairs.truncate(n.saturating_sub(self.records.len()));
            }
            let partition = block.partition;
            self.partitions
                .extend(std::iter::repeat_n(partition, pairs.len()));
            self.records.extend(pairs);
            self.total += n;
        }
    }

    fn finish(self) -> Option<(Vec<String>, Vec<i64>, usize)> {
        (!self.not_pairs).then_some((self.records, self.partitions, self.total))
    }
}

/// `repr(pickle.loads(bytes))` under [`repr_limits`], or `<unreadable>`,
/// or why it is not shown.
fn pickle_repr(bytes: &[u8]) -> String {
    let Ok(d) = pickle::decode_slice(bytes) else {
        return "<unreadable>".into();
    };
    match pickle::repr::python_repr(&d.graph, d.root(), &repr_options(&d)) {
        Ok(r) => r.text,
        Err(e @ pickle::repr::ReprError::TooLong(_)) => format!("<{e}>"),
        Err(_) => "<unreadable>".into(),
    }
}

fn conn_report(c: &Option<ConnInfo>) -> Option<ConnReport> {
    match c {
        None => None,
        Some(ConnInfo::Port(p)) => Some(ConnReport::Port(*p)),
        Some(ConnInfo::Path(p)) => Some(ConnReport::Path(p.clone())),
    }
}

/// What the functions in one pickled payload are, as far as inspection tells.
fn pickled(bytes: &[u8]) -> PickledReport {
    let info = pickle::decode_slice(bytes)
        .ok()
        .map(|d| inspect(&d.graph))
        .unwrap_or_default();
    PickledReport {
        bytes: bytes.len(),
        functions: info
            .code
            .iter()
            .map(|f| FunctionReport {
                name: f.name.clone(),
                file: f.filename.clone(),
                line: f.first_line,
            })
            .collect(),
        modules: info.modules,
        python: info.python,
    }
}

fn args(args: &[Arg]) -> Vec<ArgReport> {
    args.iter()
        .map(|a| ArgReport {
            offset: a.offset,
            name: a.name.clone(),
        })
        .collect()
}

fn conf(conf: &Option<Vec<(String, String)>>) -> Option<BTreeMap<String, String>> {
    conf.as_ref().map(|c| c.iter().cloned().collect())
}

/// The command summary and the serializers its data sections are read with
/// (none for Arrow sections, which are listed message by message).
fn command(h: &TaskHeader) -> (CommandReport, Option<(Serializer, Serializer)>) {
    let (detail, sers) = match &h.command {
        Command::Rdd(b) => {
            let sers = pickle::decode(b)
                .ok()
                .and_then(|d| command_serializers(&d.graph));
            let p = pickled(b);
            let detail = CommandDetail::Rdd {
                functions: p.functions,
                modules: p.modules,
                python: p.python,
            };
            (detail, sers)
        }
        Command::Udfs(u) => {
            let udfs: Vec<UdfReport> = u
                .udfs
                .iter()
                .map(|f| UdfReport {
                    args: args(&f.args),
                    chain: f.chain.iter().map(|b| pickled(b)).collect(),
                    result_id: f.result_id,
                })
                .collect();
            let functions = udfs
                .iter()
                .flat_map(|f| &f.chain)
                .flat_map(|c| c.functions.iter().cloned())
                .collect();
            let detail = CommandDetail::Udfs {
                runner_conf: conf(&u.runner_conf),
                profiler: u.profiler.clone().flatten(),
                state_schema: u.state_schema.clone(),
                udfs,
                functions,
            };
            (detail, sql_serializers(h.eval_type))
        }
        Command::Udtf(t) => {
            let handler = pickled(&t.handler);
            let detail = CommandDetail::Udtf {
                runner_conf: conf(&t.runner_conf),
                name: t.name.clone(),
                args: args(&t.args),
                partition_child_indexes: t.partition_child_indexes.clone(),
                analyze_result_bytes: t
                    .analyze_result
                    .as_ref()
                    .map(|a| a.as_ref().map(|b| b.len())),
                return_type: t.return_type.clone(),
                functions: handler.functions.clone(),
                handler,
            };
            (detail, sql_serializers(h.eval_type))
        }
    };
    let report = CommandReport {
        bytes: h.command.pickled_len(),
        deserializer: sers.as_ref().map(|s| s.0.to_string()),
        serializer: sers.as_ref().map(|s| s.1.to_string()),
        detail,
    };
    (report, sers)
}

/// Arrow IPC items as records: each record batch's rows (Python tuple reprs)
/// when its schema's columns are ones `arrow_rows` reads, else one line per
/// message; schemas and ends go to the markers.
#[derive(Default)]
struct ArrowRecords {
    columns: Option<Result<Vec<arrow_rows::Column>, String>>,
    dicts: arrow_rows::Dictionaries,
}

impl ArrowRecords {
    fn push(&mut self, item: &ArrowItem, records: &mut Vec<String>, markers: &mut Vec<String>) {
        match item {
            ArrowItem::Message {
                kind: MessageKind::Schema,
                bytes,
            } => {
                let cols = arrow_rows::schema(bytes);
                markers.push(match &cols {
                    Ok(c) => format!(
                        "ARROW_SCHEMA({})",
                        c.iter()
                            .map(|c| c.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    Err(why) => format!("ARROW_SCHEMA(values not decoded: {why})"),
                });
                self.columns = Some(cols);
            }
            ArrowItem::Message {
                kind: MessageKind::RecordBatch,
                bytes,
            } => match self.columns.as_ref().map(|c| match c {
                Ok(c) => arrow_rows::rows_with(c, &self.dicts, bytes),
                Err(why) => Err(why.clone()),
            }) {
                Some(Ok(rows)) => records.extend(rows),
                _ => records.push(format!(
                    "<Arrow RecordBatch message, {} bytes>",
                    bytes.len()
                )),
            },
            ArrowItem::Message {
                kind: MessageKind::DictionaryBatch,
                bytes,
            } => {
                // Kept for the batches that use it; listed when it cannot be read.
                let read = match &self.columns {
                    Some(Ok(c)) => arrow_rows::dictionary_batch(c, &mut self.dicts, bytes).is_ok(),
                    _ => false,
                };
                if !read {
                    records.push(format!(
                        "<Arrow DictionaryBatch message, {} bytes>",
                        bytes.len()
                    ));
                }
            }
            ArrowItem::Message { kind, bytes } => {
                records.push(format!("<Arrow {kind:?} message, {} bytes>", bytes.len()))
            }
            ArrowItem::End(_) => markers.push("ARROW_END_OF_STREAM".into()),
        }
    }
}

impl TaskReport {
    /// The report of one decoded task.
    pub fn new(t: &Task, index: usize, v: SparkVersion) -> TaskReport {
        TaskReport::upto(t, index, v, None)
    }

    /// The report of one decoded task with only the first `shown` input and
    /// output records (all with `None`; `input_count` and `output_count` say
    /// how many there are): a text rendering that shows a few records of a
    /// large task reads the rest one batch at a time without keeping them.
    pub fn upto(t: &Task, index: usize, v: SparkVersion, shown: Option<usize>) -> TaskReport {
        let mut b = TaskReportBuilder::with(&t.header, v, shown, false);
        for f in &t.input {
            b.input(f);
        }
        for item in &t.reply {
            b.reply(item);
        }
        b.finish(t, index)
    }
}

/// A [`TaskReport::upto`] built as a task is read, a piece at a time
/// ([`crate::capture::ConnReader::next_task_with`]): each data frame and
/// reply item is read for its records as it comes and dropped, so that what
/// is held is one frame (or the batch it belongs to), its records and the
/// records shown.
pub struct TaskReportBuilder {
    v: SparkVersion,
    shown: Option<usize>,
    command: CommandReport,
    sers: Option<(Serializer, Serializer)>,
    /// The input's records (none for Arrow eval types).
    input: Option<RecordsUpto>,
    input_frames: usize,
    /// Shuffle-map output, when the command makes it.
    shuffle: Option<ShuffleUpto>,
    /// The output's records read with the command's serializer: shown
    /// unless the output is shuffle-map pairs. `None`: read in `finish`,
    /// from the task's frames (a task read whole).
    output: Option<RecordsUpto>,
}

impl TaskReportBuilder {
    /// For the task whose header is `h`, showing its first `shown` input and
    /// output records (all with `None`).
    pub fn new(h: &TaskHeader, v: SparkVersion, shown: Option<usize>) -> TaskReportBuilder {
        TaskReportBuilder::with(h, v, shown, true)
    }

    /// `streamed`: the frames are not there to read again in `finish`, so
    /// output that might be shuffle-map pairs is read both ways as it comes.
    fn with(
        h: &TaskHeader,
        v: SparkVersion,
        shown: Option<usize>,
        streamed: bool,
    ) -> TaskReportBuilder {
        let (command, sers) = command(h);
        let shuffle = is_shuffle_map(&command).then(|| ShuffleUpto::new(v, shown));
        let input = (!h.eval_type.is_arrow())
            .then(|| RecordsUpto::new(sers.as_ref().map(|s| &s.0), v, shown));
        let output = (streamed || shuffle.is_none())
            .then(|| RecordsUpto::new(sers.as_ref().map(|s| &s.1), v, shown));
        TaskReportBuilder {
            v,
            shown,
            command,
            sers,
            input,
            input_frames: 0,
            shuffle,
            output,
        }
    }

    /// A frame of the data section.
    pub fn input(&mut self, f: &Frame) {
        self.input_frames += 1;
        if let Some(r) = &mut self.input {
            r.push(f);
        }
    }

    /// An item of the reply: its data frames are read here, the rest in
    /// `finish`.
    pub fn reply(&mut self, item: &ReplyItem) {
        let f = match item {
            ReplyItem::Data(b) => Frame::Data(b.clone()),
            ReplyItem::Null => Frame::Null,
            _ => return,
        };
        if let Some(s) = &mut self.shuffle {
            s.push(&f);
        }
        if let Some(r) = &mut self.output {
            r.push(&f);
        }
    }

    /// The report of task `index`, `t` being the task as read (its header,
    /// markers and flags; its data frames and reply data items were handed
    /// to `input` and `reply`, whether or not `t` holds them too).
    pub fn finish(self, t: &Task, index: usize) -> TaskReport {
        let (v, shown, command, sers) = (self.v, self.shown, self.command, self.sers);
        let h = &t.header;
        let mut output_markers = Vec::new();
        let (mut exception, mut timing, mut end) = (None, None, None);
        let (mut accumulators, mut accumulator_updates) = (Vec::new(), Vec::new());
        let mut arrow_output = Vec::new();
        let mut arrow_out = ArrowRecords::default();
        for item in &t.reply {
            match item {
                ReplyItem::ArrowStart => output_markers.push("START_ARROW_STREAM".into()),
                ReplyItem::Arrow(a) => arrow_out.push(a, &mut arrow_output, &mut output_markers),
                ReplyItem::Exception(text) => {
                    output_markers.push("PYTHON_EXCEPTION_THROWN".into());
                    exception = Some(text.clone());
                }
                ReplyItem::Timing(tm) => {
                    output_markers.push("TIMING_DATA".into());
                    timing = Some(TimingReport {
                        boot_ms: tm.boot_ms,
                        init_ms: tm.init_ms,
                        finish_ms: tm.finish_ms,
                        init_duration_ms: tm.init_ms.wrapping_sub(tm.boot_ms),
                        finish_duration_ms: tm.finish_ms.wrapping_sub(tm.init_ms),
                        processing_ms: tm.processing_ms,
                        memory_bytes_spilled: tm.memory_bytes_spilled,
                        disk_bytes_spilled: tm.disk_bytes_spilled,
                    });
                }
                ReplyItem::Accumulator(b) => {
                    accumulators.push(pickle_repr(b));
                    accumulator_updates.push(AccumulatorUpdate::new(b));
                }
                ReplyItem::End(e) => {
                    output_markers.push("END_OF_DATA_SECTION".into());
                    end = Some(match e {
                        End::Reuse => "END_OF_STREAM",
                        End::NoReuse => "END_OF_DATA_SECTION",
                    });
                }
                ReplyItem::Data(_) | ReplyItem::Null => {}
            }
        }
        let mut input_markers = Vec::new();
        let mut input_records = Vec::new();
        let mut input_frame_pairs = None;
        let input_count;
        if let Some(input) = self.input {
            (input_records, input_count) = input.finish();
            if let Some((Serializer::Pair(..) | Serializer::Cartesian(..), _)) = &sers {
                input_frame_pairs = Some(self.input_frames / 2);
            }
            input_markers.push(Marker::Name(
                if t.end_of_data {
                    "END_OF_DATA_SECTION"
                } else {
                    "(the recording ends inside the data section)"
                }
                .into(),
            ));
        } else {
            let mut arrow_in = ArrowRecords::default();
            let mut names = Vec::new();
            for item in &t.arrow_input {
                match item {
                    SectionItem::Group(n) => names.push(format!("GROUP({n})")),
                    SectionItem::Arrow(a) => arrow_in.push(a, &mut input_records, &mut names),
                    SectionItem::End => names.push("END_OF_ARROW_SECTION".into()),
                }
            }
            input_markers.extend(names.into_iter().map(Marker::Name));
            input_count = input_records.len();
            if let Some(n) = shown {
                input_records.truncate(n);
            }
        }
        let shuffle = self.shuffle.and_then(ShuffleUpto::finish);
        let (mut output_records, output_partitions, mut output_count) = match shuffle {
            Some((records, partitions, n)) => (records, Some(partitions), n),
            None => {
                let (records, n) = match self.output {
                    Some(r) => r.finish(),
                    None => {
                        let ser = sers.as_ref().map(|s| &s.1);
                        records_upto(&output_frames(t), ser, v, shown)
                    }
                };
                (records, None, n)
            }
        };
        // The records of data frames are bounded already (an unreadable
        // stream's one record included); Arrow rows are not.
        output_count += arrow_output.len();
        let arrow_rows = !arrow_output.is_empty();
        output_records.extend(arrow_output);
        if let (Some(n), true) = (shown, arrow_rows) {
            output_records.truncate(n);
        }
        match t.finish {
            Some(-4) => input_markers.push(Marker::Name("END_OF_STREAM".into())),
            Some(x) => input_markers.push(Marker::Value(x)),
            None => {}
        }
        let c = &h.context;
        TaskReport {
            index,
            partition_index: h.partition_index,
            python_version: h.python_version.clone(),
            eval_type: h.eval_type.code(),
            eval_type_name: h.eval_type.name(),
            task_context: ContextReport {
                is_barrier: c.is_barrier,
                barrier_conn: conn_report(&c.barrier_conn),
                stage_id: c.stage_id,
                partition_id: c.partition_id,
                attempt_number: c.attempt_number,
                task_attempt_id: c.task_attempt_id,
                cpus: c.cpus,
                cpu_amount: c.cpu_amount.clone(),
                resources: c
                    .resources
                    .iter()
                    .map(|r| ResourceReport {
                        key: r.key.clone(),
                        name: r.name.clone(),
                        addresses: r.addresses.clone(),
                    })
                    .collect(),
                local_properties: c.local_properties.iter().cloned().collect(),
            },
            broadcasts: h
                .broadcasts
                .entries
                .iter()
                .map(|e| BroadcastReport {
                    id: e.id,
                    path: e.path.clone(),
                })
                .collect(),
            command,
            input_records,
            input_records_more: None,
            input_frame_pairs,
            input_count,
            input_markers,
            output_records,
            output_records_more: None,
            output_count,
            output_partitions,
            output_markers,
            exception,
            reply_complete: t.reply_complete,
            timing,
            accumulators,
            accumulator_updates,
            end,
        }
    }
}

impl TaskReport {
    /// For a report built to show the first `max` records
    /// ([`TaskReport::upto`]): how many were left out, as
    /// [`TaskReport::limit_records`] says them.
    pub fn count_more(&mut self, max: usize) {
        self.input_records_more = Some(self.input_count.saturating_sub(max));
        self.output_records_more = Some(self.output_count.saturating_sub(max));
    }

    /// Keeps the first `max` records of the input and of the output (with
    /// their partitions) and counts the rest in `input_records_more` and
    /// `output_records_more`.
    pub fn limit_records(&mut self, max: usize) {
        self.input_records_more = Some(self.input_records.len().saturating_sub(max));
        self.input_records.truncate(max);
        self.output_records_more = Some(self.output_records.len().saturating_sub(max));
        self.output_records.truncate(max);
        if let Some(p) = &mut self.output_partitions {
            p.truncate(max);
        }
    }
}

/// Modules PySpark 4.0 moved into the `pyspark.core` package: a function
/// cloudpickled from `pyspark/<module>.py` was pickled by 3.5, one from
/// `pyspark/core/…` by 4.0 or later (checked against the installed 3.5.9 and
/// 4.0.1 packages, and by `tests/cli_decode_damaged.rs` on the golden
/// captures of every release).
const MOVED_TO_CORE: [&str; 5] = ["rdd", "context", "broadcast", "files", "status"];

/// The releases among `fits` that the tasks' pickled functions allow, and
/// why, when they narrow `fits` down (and do not contradict it).
fn narrow_releases(
    fits: &[SparkVersion],
    commands: &[CommandReport],
) -> Option<(Vec<SparkVersion>, String)> {
    let files = commands.iter().flat_map(|c| match &c.detail {
        CommandDetail::Rdd { functions, .. }
        | CommandDetail::Udfs { functions, .. }
        | CommandDetail::Udtf { functions, .. } => functions.iter().map(|f| f.file.as_str()),
    });
    let (mut core, mut flat) = (None, None);
    for f in files {
        let f = f.replace('\\', "/");
        if let Some(i) = f.rfind("/pyspark/core/") {
            core.get_or_insert_with(|| f[i + 1..].to_string());
        } else if let Some(m) = f
            .rsplit_once("/pyspark/")
            .and_then(|(_, m)| m.strip_suffix(".py"))
            .filter(|m| MOVED_TO_CORE.contains(m))
        {
            flat.get_or_insert_with(|| format!("pyspark/{m}.py"));
        }
    }
    let (keep, why): (fn(&SparkVersion) -> bool, String) = match (core, flat) {
        (Some(c), None) => (
            |v| *v != SparkVersion::V3_5,
            format!("a function from {c} (the pyspark.core package is 4.0's)"),
        ),
        (None, Some(m)) => (
            |v| *v == SparkVersion::V3_5,
            format!("a function from {m} (in pyspark.core from 4.0 on)"),
        ),
        _ => return None,
    };
    let narrowed: Vec<SparkVersion> = fits.iter().copied().filter(keep).collect();
    (!narrowed.is_empty() && narrowed.len() < fits.len()).then_some((narrowed, why))
}

impl ConnectionReport {
    /// The report of one decoded connection named `name`: everything decoded,
    /// and where decoding stopped when it did.
    pub fn new(name: &str, c: &Connection) -> ConnectionReport {
        let mut report = ConnectionReport::summary(name, c);
        report.tasks = task_reports(c, |_, _| true).collect();
        report
    }

    /// The report of one decoded connection without its tasks (`tasks`
    /// empty): what a rendering needs before it builds each task's report in
    /// turn ([`task_reports`]), so that only one is held at a time.
    pub fn summary(name: &str, c: &Connection) -> ConnectionReport {
        let commands: Vec<CommandReport> = c.tasks.iter().map(|t| command(&t.header).0).collect();
        let fits: Vec<SparkVersion> = if c.fits.is_empty() {
            vec![c.version]
        } else {
            c.fits.clone()
        };
        let (releases, release_evidence) = match narrow_releases(&fits, &commands) {
            Some((r, why)) => (r, Some(why)),
            None => (fits.clone(), None),
        };
        let mut stops = c.stops.iter().map(StopReport::from);
        ConnectionReport {
            name: name.to_string(),
            // The narrowed release's layout fits too (it is in `fits`), and
            // reads the bytes the same way.
            spark_version: releases.first().unwrap_or(&c.version).to_string(),
            spark_versions: releases.iter().map(|v| v.to_string()).collect(),
            release_evidence,
            layouts_that_fit: fits.iter().map(|v| v.to_string()).collect(),
            mode: match c.mode {
                Mode::Simple => "simple",
                Mode::Daemon => "daemon",
                Mode::Unix => "unix socket",
            },
            pid: Some(c.pid),
            tasks: Vec::new(),
            trailing_bytes: c.trailing.len(),
            trailing_exception: c.trailing_exception(),
            fork_errno: c.fork_errno,
            error: stops.next(),
            further_errors: stops.collect(),
        }
    }

    /// The report of a connection of which not even the auth prelude and the
    /// worker's pid could be read.
    pub fn unread(name: &str, stop: &Stop, spark: Option<SparkVersion>) -> ConnectionReport {
        // Nothing past the prelude was read: no layout was tried on it, and
        // any release may have sent it.
        let releases: Vec<String> = match spark {
            Some(v) => vec![v.to_string()],
            None => SparkVersion::ALL.iter().map(|v| v.to_string()).collect(),
        };
        ConnectionReport {
            name: name.to_string(),
            spark_version: spark.map_or_else(|| "unknown".to_owned(), |v| v.to_string()),
            spark_versions: releases,
            release_evidence: None,
            layouts_that_fit: Vec::new(),
            mode: "unknown",
            pid: None,
            tasks: Vec::new(),
            trailing_bytes: 0,
            trailing_exception: None,
            fork_errno: None,
            error: Some(StopReport::from(stop)),
            further_errors: Vec::new(),
        }
    }

    /// Forgets a stop of kind `ended` (a recording that ends between items):
    /// what a worker the JVM had killed leaves, no damage.
    pub fn forgive_ended(&mut self) {
        let mut all: Vec<StopReport> = self.error.take().into_iter().collect();
        all.append(&mut self.further_errors);
        all.retain(|s| s.kind != StopKind::Ended.name());
        let mut all = all.into_iter();
        self.error = all.next();
        self.further_errors = all.collect();
    }
}

/// The reports of a connection's tasks that `keep` (given each task's index)
/// selects, built one at a time as the iterator is consumed.
pub fn task_reports<'a>(
    c: &'a Connection,
    keep: impl Fn(usize, &Task) -> bool + 'a,
) -> impl Iterator<Item = TaskReport> + 'a {
    c.tasks
        .iter()
        .enumerate()
        .filter(move |(i, t)| keep(*i, t))
        .map(|(i, t)| TaskReport::new(t, i, c.version))
}

/// Where a decoded worker connection's bytes came from (for `--verify`).
#[derive(Debug, Clone)]
pub struct Source {
    /// The connection's name.
    pub name: String,
    /// JVM → worker bytes.
    pub to: Vec<u8>,
    /// Worker → JVM bytes.
    pub from: Vec<u8>,
}

impl CaptureReport {
    /// Classifies every TCP connection of a read capture; the worker
    /// connections are returned too, for decoding like recorded ones.
    /// `progress` is told the bytes of each connection as it is done.
    pub fn new(
        cap: Capture,
        spark: Option<SparkVersion>,
        mut progress: impl FnMut(u64, &str),
    ) -> (CaptureReport, Vec<(Source, Connection)>) {
        let mut rows = Vec::new();
        let mut workers = Vec::new();
        for tcp in cap.connections {
            let size = (tcp.client_data.len() + tcp.server_data.len()) as u64;
            let name = tcp.name();
            progress(size, &name);
            let c = traffic::classify(tcp, spark);
            let kind = match c.kind {
                Kind::Worker { ref conn, .. } => {
                    let (to, from) = c.worker_streams().unwrap_or_default();
                    workers.push((
                        Source {
                            name: name.clone(),
                            to: to.to_vec(),
                            from: from.to_vec(),
                        },
                        (**conn).clone(),
                    ));
                    TcpKind::Worker {
                        spark_version: conn.version.to_string(),
                        tasks: conn.tasks.len(),
                    }
                }
                Kind::Py4j(ref p) => TcpKind::Py4j(Box::new(Py4jReport::new(p))),
                Kind::Data(ref d) => TcpKind::DataSocket {
                    server_frames: d.server_frames.len(),
                    server_records: records(
                        &d.server_frames,
                        Some(&Serializer::batched(Serializer::CPickle, -1)),
                        spark.unwrap_or(SparkVersion::V4_3),
                    ),
                    server_rest_bytes: d.server_rest,
                    client_bytes_after_auth: d.client_bytes,
                },
                Kind::Accumulators(ref a) => TcpKind::AccumulatorUpdates {
                    updates: a
                        .batches
                        .iter()
                        .map(|b| b.iter().map(|u| pickle_repr(u)).collect())
                        .collect(),
                    accumulator_updates: a
                        .batches
                        .iter()
                        .map(|b| b.iter().map(|u| AccumulatorUpdate::new(u)).collect())
                        .collect(),
                    acks: a.acks,
                },
                Kind::OtherLayout {
                    ref fits,
                    forced,
                    ref why,
                } => TcpKind::WorkerInOtherLayout {
                    layouts_that_fit: fits.iter().map(ToString::to_string).collect(),
                    spark_version: forced.to_string(),
                    error: why.clone(),
                },
                Kind::Other(ref why) => TcpKind::Other { note: why.clone() },
            };
            rows.push(TcpReport {
                name,
                syn_seen: c.tcp.syn_seen,
                client_bytes: c.tcp.client_data.len(),
                server_bytes: c.tcp.server_data.len(),
                lost_bytes: [c.tcp.lost.0, c.tcp.lost.1],
                kind,
            });
        }
        let report = CaptureReport {
            packets: cap.packets,
            skipped_packets: cap.skipped,
            truncated: cap.truncated,
            tcp_connections: rows,
        };
        (report, workers)
    }
}

impl Report {
    /// Whether the JVM asked the daemon to kill `pid` (its reply was then cut
    /// short on purpose).
    pub fn killed(&self, pid: i32) -> bool {
        matches!(&self.daemon, Some(Some(d)) if d.kill_pids.contains(&pid))
    }

    /// The JSON document: these structs as `serde_json` values, object keys
    /// sorted.
    pub fn to_json(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::to_value(self)
    }
}

/// A task's output as frames: its reply's data and null items, in order.
pub(crate) fn output_frames(t: &Task) -> Vec<Frame> {
    t.reply
        .iter()
        .filter_map(|i| match i {
            ReplyItem::Data(b) => Some(Frame::Data(b.clone())),
            ReplyItem::Null => Some(Frame::Null),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accumulator_updates_split_into_id_and_value() {
        // pickle.dumps((3, 45), 2) without the memo, and (1, [0.5]).
        let u = AccumulatorUpdate::new(b"\x80\x02K\x03K-\x86.");
        assert_eq!((u.id, u.value.as_str()), (Some(3), "45"));
        let u = AccumulatorUpdate::new(b"\x80\x02K\x01]G?\xe0\x00\x00\x00\x00\x00\x00a\x86.");
        assert_eq!((u.id, u.value.as_str()), (Some(1), "[0.5]"));
        // Not an (int, value) pair, or no pickle at all: the whole repr, no id.
        for (bytes, whole) in [
            (&b"\x80\x02K\x03."[..], "3"),
            (b"\x80\x02X\x01\x00\x00\x00aK\x01\x86.", "('a', 1)"),
            (b"\x80\x02K\x01K\x02K\x03\x87.", "(1, 2, 3)"),
            (b"\x80\x02K", "<unreadable>"),
            (b"", "<unreadable>"),
        ] {
            let u = AccumulatorUpdate::new(bytes);
            assert_eq!((u.id, u.value.as_str()), (None, whole), "{bytes:?}");
        }
    }
}
