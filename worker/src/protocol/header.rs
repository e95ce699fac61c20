//! The task header the JVM sends before each task's data (spec §3, §6.3).

use bytes::Bytes;
use serde_json::Value as Json;

use super::command::Command;
use super::conn_info::ConnInfo;
use super::error::{EncodeProblem, FieldProblem, HeaderError};
use super::eval_type::EvalType;
use super::limits::Limits;
use super::version::{HeaderStyle, SparkVersion, WorkerLayout};
use super::wire::{FieldSpan, HeaderCut, Payloads, Reader, Stop, Writer};

/// START_OF_INIT_MESSAGE (4.3).
const INIT_MESSAGE: i32 = -8;

/// A resource assigned to the task (`TaskContext.resources()`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// The key it is registered under.
    pub key: String,
    /// Its name.
    pub name: String,
    /// Its addresses.
    pub addresses: Vec<String>,
}

/// Everything `TaskContext` learns from the header.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TaskContext {
    /// A barrier-mode task.
    pub is_barrier: bool,
    /// The barrier server, when sent: always in 3.5/4.0 (port 0 when none), only
    /// for barrier tasks in 4.1, always in the JSON (`connInfo`, −1 when none).
    pub barrier_conn: Option<ConnInfo>,
    /// The barrier secret, when sent (3.5/4.0 send `""` for non-barrier tasks;
    /// 4.3's JSON carries one even then).
    pub barrier_secret: Option<String>,
    /// `stageId`.
    pub stage_id: i32,
    /// `partitionId`.
    pub partition_id: i32,
    /// `attemptNumber`.
    pub attempt_number: i32,
    /// `taskAttemptId`.
    pub task_attempt_id: i64,
    /// `spark.task.cpus`.
    pub cpus: i32,
    /// Resources.
    pub resources: Vec<Resource>,
    /// Local properties, in the order sent (JSON objects: the parser's order).
    pub local_properties: Vec<(String, String)>,
    /// `cpuAmount` (4.3 JSON: fractional task CPUs, as a decimal string).
    pub cpu_amount: Option<String>,
    /// The JSON text exactly as received (4.2+), re-sent verbatim when encoding.
    pub json: Option<String>,
}

/// A broadcast decryption server (I/O encryption on, new broadcasts present).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BroadcastServer {
    /// Where it listens.
    pub conn: ConnInfo,
    /// Its secret (absent with a Unix socket).
    pub secret: Option<String>,
}

/// One broadcast change: `id ≥ 0` adds (with the value's file path unless the
/// decryption server sends it), `id < 0` removes broadcast `-id - 1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BroadcastEntry {
    /// The id as sent.
    pub id: i64,
    /// The file holding the pickled value.
    pub path: Option<String>,
}

/// The broadcast section.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Broadcasts {
    /// The decryption server, when one is announced.
    pub server: Option<BroadcastServer>,
    /// Additions and removals, in order.
    pub entries: Vec<BroadcastEntry>,
}

/// A whole task header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskHeader {
    /// The split index passed to `func(split, iterator)`.
    pub partition_index: i32,
    /// The driver's Python `"major.minor"`.
    pub python_version: String,
    /// The task context.
    pub context: TaskContext,
    /// SparkFiles root.
    pub spark_files_dir: String,
    /// Python includes, relative to the files root.
    pub python_includes: Vec<String>,
    /// Broadcast changes.
    pub broadcasts: Broadcasts,
    /// The eval type (0 = NON_UDF).
    pub eval_type: EvalType,
    /// Runner conf (sent from 4.2 for every eval type).
    pub runner_conf: Vec<(String, String)>,
    /// Eval conf (sent from 4.2 for every eval type).
    pub eval_conf: Vec<(String, String)>,
    /// What the task runs, in the eval type's layout.
    pub command: Command,
}

/// What the fields of a header prefix hold, read in wire order until the bytes
/// ran out or went bad: every field read in full, none guessed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PartialHeader {
    /// The split index, once read.
    pub partition_index: Option<i32>,
    /// The driver's Python `"major.minor"`, once read.
    pub python_version: Option<String>,
    /// The task context's fields read so far: all of them when
    /// `context_complete`, else (field-by-field layouts, 3.5 to 4.1) those named
    /// in `fields`; the others hold their defaults.
    pub context: TaskContext,
    /// Whether the task context was read in full (JSON contexts: parsed).
    pub context_complete: bool,
    /// SparkFiles root, once read.
    pub spark_files_dir: Option<String>,
    /// The includes read in full.
    pub python_includes: Vec<String>,
    /// The decryption server once read, and the broadcast changes read in full.
    pub broadcasts: Broadcasts,
    /// The eval type, once read.
    pub eval_type: Option<EvalType>,
    /// Runner conf pairs read in full (4.2+).
    pub runner_conf: Vec<(String, String)>,
    /// Eval conf pairs read in full (4.2+).
    pub eval_conf: Vec<(String, String)>,
    /// Offset of the command's first byte, once reading it began.
    pub command_at: Option<u64>,
    /// Every field read in full, in wire order, with its bytes.
    pub fields: Vec<FieldSpan>,
}

impl PartialHeader {
    /// Whether a field of this name was read in full.
    pub fn has(&self, field: &str) -> bool {
        self.fields.iter().any(|f| f.field == field)
    }

    /// What was read, as `(label, value)` pairs in wire order, for a report:
    /// scalars by value, lists and maps by how many of their entries were read.
    pub fn summary(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(p) = self.partition_index {
            out.push(("partition", p.to_string()));
        }
        if let Some(p) = &self.python_version {
            out.push(("python", p.clone()));
        }
        let c = &self.context;
        let read = |field: &str| self.context_complete || self.has(field);
        let ints = [
            ("stage", "stageId", c.stage_id as i64),
            ("partition id", "partitionId", c.partition_id as i64),
            ("attempt", "attemptNumber", c.attempt_number as i64),
            ("task attempt id", "taskAttemptId", c.task_attempt_id),
            ("cpus", "cpus", c.cpus as i64),
        ];
        if read("isBarrier") && c.is_barrier {
            out.push(("barrier", "yes".into()));
        }
        for (label, field, value) in ints {
            if read(field) {
                out.push((label, value.to_string()));
            }
        }
        if read("resources") {
            out.push(("resources", c.resources.len().to_string()));
        }
        if read("local properties") {
            out.push(("local properties", c.local_properties.len().to_string()));
        }
        if let Some(d) = &self.spark_files_dir {
            out.push(("spark files dir", d.clone()));
        }
        if self.has("python includes") {
            out.push(("includes", self.python_includes.len().to_string()));
        }
        if self.has("broadcast count") {
            out.push(("broadcasts", self.broadcasts.entries.len().to_string()));
        }
        if let Some(e) = self.eval_type {
            out.push(("eval type", e.code().to_string()));
        }
        if self.has("runner conf") {
            out.push(("runner conf", self.runner_conf.len().to_string()));
        }
        if self.has("eval conf") {
            out.push(("eval conf", self.eval_conf.len().to_string()));
        }
        out
    }
}

/// What the start of a header holds ([`TaskHeader::decode_prefix`]): the
/// fields read, and how reading ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderPrefix {
    /// Every field read in full (all of them when the header is complete).
    pub read: PartialHeader,
    /// How reading ended.
    pub end: PrefixEnd,
}

/// How reading a header prefix ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrefixEnd {
    /// All of the header was there: the header, and the bytes it took.
    Complete(Box<TaskHeader>, usize),
    /// The bytes end inside the header: in which field, where.
    Cut(HeaderCut),
    /// A field is bad: the error, with the field and its offset.
    Bad(HeaderError),
}

impl TaskHeader {
    /// A plausible NON_UDF header for partition 0 carrying `command`.
    pub fn example(command: Bytes) -> TaskHeader {
        TaskHeader {
            partition_index: 0,
            python_version: "3.11".into(),
            context: TaskContext {
                stage_id: 0,
                partition_id: 0,
                attempt_number: 0,
                task_attempt_id: 0,
                cpus: 1,
                ..TaskContext::default()
            },
            spark_files_dir: "/tmp/spark-files".into(),
            python_includes: Vec::new(),
            broadcasts: Broadcasts::default(),
            eval_type: EvalType::NON_UDF,
            runner_conf: Vec::new(),
            eval_conf: Vec::new(),
            command: Command::Rdd(command),
        }
    }

    /// Decodes a header from the start of `data`: `Ok(None)` when `data` does not
    /// hold all of it yet, else the header and the bytes it took. Payloads are
    /// copied out of `data`; [`TaskHeader::decode_shared`] shares them instead.
    pub fn decode(
        data: &[u8],
        v: SparkVersion,
    ) -> Result<Option<(TaskHeader, usize)>, HeaderError> {
        TaskHeader::decode_with(data, v, &Limits::default())
    }

    /// [`TaskHeader::decode`] with explicit limits.
    pub fn decode_with(
        data: &[u8],
        v: SparkVersion,
        limits: &Limits,
    ) -> Result<Option<(TaskHeader, usize)>, HeaderError> {
        decode_with_payloads(Reader::new(data, limits.max_field, Payloads::Copy), v)
    }

    /// Decodes a header from the start of `data`, its command payloads (the
    /// cloudpickled function, each UDF's chain, a UDTF's handler) as zero-copy
    /// slices of `data`.
    pub fn decode_shared(
        data: &Bytes,
        v: SparkVersion,
        limits: &Limits,
    ) -> Result<Option<(TaskHeader, usize)>, HeaderError> {
        let payloads = Payloads::Share { whole: data, at: 0 };
        decode_with_payloads(Reader::new(data, limits.max_field, payloads), v)
    }

    /// Decodes as much of a header as the start of `data` holds: the whole
    /// header, or every field read before the bytes end (and where they end) or
    /// before a bad field (and the error). The fields are read by the same code as
    /// [`TaskHeader::decode`]'s; payloads are copied.
    ///
    /// ```
    /// use sparkwire_worker::protocol::{Limits, PrefixEnd, SparkVersion, TaskHeader};
    ///
    /// let v = SparkVersion::V4_3;
    /// let bytes = TaskHeader::example(b"\x80\x05N.".to_vec().into()).encode(v)?;
    /// // The last 2 bytes of the 4-byte pickle are missing.
    /// let p = TaskHeader::decode_prefix(&bytes[..bytes.len() - 2], v, &Limits::default());
    /// assert_eq!(p.read.python_version.as_deref(), Some("3.11"));
    /// assert_eq!(p.read.context.cpus, 1);
    /// let PrefixEnd::Cut(cut) = p.end else { panic!("{:?}", p.end) };
    /// assert_eq!((cut.field, cut.needed, cut.had), ("command", 8, 6));
    /// assert_eq!(Some(cut.offset), p.read.command_at);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn decode_prefix(data: &[u8], v: SparkVersion, limits: &Limits) -> HeaderPrefix {
        let mut r = Reader::new(data, limits.max_field, Payloads::Copy).traced();
        let mut d = PartialHeader::default();
        let result = decode_layout(&mut r, v, &mut d);
        d.fields = r.trace.take().unwrap_or_default();
        let end = match result {
            Ok(h) => PrefixEnd::Complete(Box::new(h), r.pos),
            Err(Stop::Incomplete(cut)) => PrefixEnd::Cut(cut),
            Err(Stop::Bad(e)) => PrefixEnd::Bad(e),
        };
        HeaderPrefix { read: d, end }
    }

    /// How many bytes the header at the start of `data` takes, once all of it
    /// has arrived, without copying any payload: what a streaming decoder asks
    /// before it splits the header off its buffer and shares the payloads.
    pub(crate) fn measure(
        data: &[u8],
        v: SparkVersion,
        limits: &Limits,
    ) -> Result<Option<usize>, HeaderError> {
        let reader = Reader::new(data, limits.max_field, Payloads::Skip);
        Ok(decode_with_payloads(reader, v)?.map(|(_, used)| used))
    }

    /// The exact bytes the JVM of version `v` writes for this header.
    pub fn encode(&self, v: SparkVersion) -> Result<Vec<u8>, HeaderError> {
        self.encode_framed(v)
            .map_err(|why| HeaderError::Unencodable { version: v, why })
    }

    /// The body, wrapped in the init message where the layout has one.
    fn encode_framed(&self, v: SparkVersion) -> Result<Vec<u8>, EncodeProblem> {
        let mut w = Writer::default();
        self.encode_body(&mut w, v)?;
        if let HeaderStyle::Json { init_message: true } = v.header_style() {
            let mut framed = Writer::default();
            framed.i32(INIT_MESSAGE);
            framed.bytes(&w.out, "init message")?;
            return Ok(framed.out);
        }
        Ok(w.out)
    }

    fn encode_body(&self, w: &mut Writer, v: SparkVersion) -> Result<(), EncodeProblem> {
        w.i32(self.partition_index);
        w.str(&self.python_version, "python version")?;
        let c = &self.context;
        match v.header_style() {
            HeaderStyle::Fields { barrier_always } => {
                w.bool(c.is_barrier);
                if barrier_always {
                    match &c.barrier_conn {
                        None => w.i32(0),
                        Some(ConnInfo::Port(p)) => w.i32(*p),
                        Some(ConnInfo::Path(_)) => return Err(EncodeProblem::BarrierUnixSocket),
                    }
                    w.str(c.barrier_secret.as_deref().unwrap_or(""), "barrier secret")?;
                } else if c.is_barrier {
                    write_conn(
                        w,
                        c.barrier_conn.as_ref().unwrap_or(&ConnInfo::Port(0)),
                        c.barrier_secret.as_deref(),
                    )?;
                }
                w.i32(c.stage_id);
                w.i32(c.partition_id);
                w.i32(c.attempt_number);
                w.i64(c.task_attempt_id);
                w.i32(c.cpus);
                w.len(c.resources.len(), "resources")?;
                for r in &c.resources {
                    w.str(&r.key, "resource key")?;
                    w.str(&r.name, "resource name")?;
                    w.len(r.addresses.len(), "resource addresses")?;
                    for a in &r.addresses {
                        w.str(a, "resource address")?;
                    }
                }
                w.map(&c.local_properties, "local properties")?;
            }
            HeaderStyle::Json { .. } => {
                let json = match &c.json {
                    Some(j) => j.clone(),
                    None => context_json(c, v),
                };
                w.str(&json, "task context")?;
            }
        }
        w.str(&self.spark_files_dir, "spark files dir")?;
        w.len(self.python_includes.len(), "python includes")?;
        for i in &self.python_includes {
            w.str(i, "python include")?;
        }
        let b = &self.broadcasts;
        w.bool(b.server.is_some());
        w.len(b.entries.len(), "broadcasts")?;
        if let Some(s) = &b.server {
            if matches!(s.conn, ConnInfo::Path(_)) && !v.conn_info_paths() {
                return Err(EncodeProblem::BroadcastUnixSocket);
            }
            write_conn(w, &s.conn, s.secret.as_deref())?;
        }
        for e in &b.entries {
            w.i64(e.id);
            if e.id >= 0 && b.server.is_none() {
                w.str(e.path.as_deref().unwrap_or(""), "broadcast path")?;
            }
        }
        w.i32(self.eval_type.code());
        if let HeaderStyle::Json { .. } = v.header_style() {
            w.map(&self.runner_conf, "runner conf")?;
            w.map(&self.eval_conf, "eval conf")?;
        } else if !self.runner_conf.is_empty() || !self.eval_conf.is_empty() {
            return Err(EncodeProblem::HeaderConfMaps);
        }
        self.command.encode(w, v, self.eval_type)
    }
}

/// `i32 port` + `str secret`, or `i32 -1` + `str path`.
fn write_conn(w: &mut Writer, conn: &ConnInfo, secret: Option<&str>) -> Result<(), EncodeProblem> {
    match conn {
        ConnInfo::Port(p) => {
            w.i32(*p);
            w.str(secret.unwrap_or(""), "secret")
        }
        ConnInfo::Path(path) => {
            w.i32(-1);
            w.str(path, "socket path")
        }
    }
}

fn read_conn(
    r: &mut Reader,
    v: SparkVersion,
    port_field: &'static str,
    field: &'static str,
) -> Result<(ConnInfo, Option<String>), Stop> {
    let port = r.i32(port_field)?;
    if port == -1 && v.conn_info_paths() {
        Ok((ConnInfo::Path(r.str(field)?), None))
    } else {
        Ok((ConnInfo::Port(port), Some(r.str(field)?)))
    }
}

/// 4.3: START_OF_INIT_MESSAGE, the body's length, the body. A body cut short
/// is read as far as it goes, so that a prefix shows its fields.
fn decode_init_message(
    r: &mut Reader,
    v: SparkVersion,
    d: &mut PartialHeader,
) -> Result<TaskHeader, Stop> {
    let at = r.offset();
    let marker = r.i32("START_OF_INIT_MESSAGE")?;
    if marker != INIT_MESSAGE {
        return Err(r.bad(
            "START_OF_INIT_MESSAGE",
            at,
            FieldProblem::UnexpectedMarker {
                expected: INIT_MESSAGE,
                found: marker,
            },
        ));
    }
    let (body, declared) = r.enclosing("init message")?;
    let mut inner = r.nested(body);
    let result = decode_body(&mut inner, v, d);
    let consumed = inner.pos;
    r.absorb(inner);
    let whole = body.len() == declared;
    match result {
        Ok(h) if whole && consumed == declared => Ok(h),
        // Fields that end before a body that is not all there: the rest of the
        // body decides, once it arrives. The cut is in that rest.
        Ok(_) if !whole => Err(Stop::Incomplete(HeaderCut {
            field: "init message",
            offset: at + 8 + consumed as u64,
            needed: (declared - consumed) as u64,
            had: (body.len() - consumed) as u64,
        })),
        Ok(_) => Err(Stop::Bad(HeaderError::InitLength {
            declared: declared as u64,
            consumed: consumed as u64,
        })),
        // The body is complete, so running out inside it is a length mismatch.
        Err(Stop::Incomplete(_)) if whole => Err(Stop::Bad(HeaderError::InitLength {
            declared: declared as u64,
            consumed: u64::MAX,
        })),
        Err(e) => Err(e),
    }
}

/// The header in `v`'s layout, each field recorded in `d` as it is read.
fn decode_layout(
    r: &mut Reader,
    v: SparkVersion,
    d: &mut PartialHeader,
) -> Result<TaskHeader, Stop> {
    match v.header_style() {
        HeaderStyle::Json { init_message: true } => decode_init_message(r, v, d),
        _ => decode_body(r, v, d),
    }
}

fn decode_with_payloads(
    mut r: Reader,
    v: SparkVersion,
) -> Result<Option<(TaskHeader, usize)>, HeaderError> {
    match decode_layout(&mut r, v, &mut PartialHeader::default()) {
        Ok(h) => Ok(Some((h, r.pos))),
        Err(Stop::Incomplete(_)) => Ok(None),
        Err(Stop::Bad(e)) => Err(e),
    }
}

/// The header's fields, in wire order: the one sequence both the whole-header
/// decoders and [`TaskHeader::decode_prefix`] read. Each field is recorded in
/// `d` as soon as it is read in full (list entries one by one).
fn decode_body(r: &mut Reader, v: SparkVersion, d: &mut PartialHeader) -> Result<TaskHeader, Stop> {
    let partition_index = r.i32("partition index")?;
    d.partition_index = Some(partition_index);
    let python_version = r.str("python version")?;
    d.python_version = Some(python_version.clone());
    match v.header_style() {
        HeaderStyle::Fields { barrier_always } => {
            let c = &mut d.context;
            c.is_barrier = r.bool("isBarrier")?;
            if barrier_always {
                c.barrier_conn = Some(ConnInfo::Port(r.i32("barrier port")?));
                c.barrier_secret = Some(r.str("barrier secret")?);
            } else if c.is_barrier {
                let (conn, secret) = read_conn(r, v, "barrier port", "barrier secret")?;
                c.barrier_conn = Some(conn);
                c.barrier_secret = secret;
            }
            c.stage_id = r.i32("stageId")?;
            c.partition_id = r.i32("partitionId")?;
            c.attempt_number = r.i32("attemptNumber")?;
            c.task_attempt_id = r.i64("taskAttemptId")?;
            c.cpus = r.i32("cpus")?;
            let n = r.count("resources")?;
            for _ in 0..n {
                let key = r.str("resource key")?;
                let name = r.str("resource name")?;
                let m = r.count("resource addresses")?;
                let mut addresses = Vec::new();
                for _ in 0..m {
                    addresses.push(r.str("resource address")?);
                }
                c.resources.push(Resource {
                    key,
                    name,
                    addresses,
                });
            }
            r.map_into("local properties", &mut c.local_properties)?;
        }
        HeaderStyle::Json { .. } => {
            let at = r.offset();
            let text = r.str("task context")?;
            d.context = parse_context(&text).map_err(|why| r.bad("task context", at, why))?;
        }
    };
    d.context_complete = true;
    let spark_files_dir = r.str("spark files dir")?;
    d.spark_files_dir = Some(spark_files_dir.clone());
    let n = r.count("python includes")?;
    for _ in 0..n {
        let include = r.str("python include")?;
        d.python_includes.push(include);
    }
    let needs_server = r.bool("needs broadcast decryption server")?;
    let count = r.count("broadcast count")?;
    if needs_server {
        let (conn, secret) = read_conn(r, v, "broadcast server port", "broadcast server")?;
        d.broadcasts.server = Some(BroadcastServer { conn, secret });
    }
    for _ in 0..count {
        let id = r.i64("broadcast id")?;
        let path = if id >= 0 && d.broadcasts.server.is_none() {
            Some(r.str("broadcast path")?)
        } else {
            None
        };
        d.broadcasts.entries.push(BroadcastEntry { id, path });
    }
    let eval_type = EvalType::from(r.i32("eval type")?);
    d.eval_type = Some(eval_type);
    if let HeaderStyle::Json { .. } = v.header_style() {
        r.map_into("runner conf", &mut d.runner_conf)?;
        r.map_into("eval conf", &mut d.eval_conf)?;
    }
    d.command_at = Some(r.offset());
    let command = Command::decode(r, v, eval_type)?;
    Ok(TaskHeader {
        partition_index,
        python_version,
        context: d.context.clone(),
        spark_files_dir,
        python_includes: d.python_includes.clone(),
        broadcasts: d.broadcasts.clone(),
        eval_type,
        runner_conf: d.runner_conf.clone(),
        eval_conf: d.eval_conf.clone(),
        command,
    })
}

/// Reads the JSON task context into fields, keeping the text.
fn parse_context(text: &str) -> Result<TaskContext, FieldProblem> {
    let j: Json = serde_json::from_str(text).map_err(|e| FieldProblem::InvalidJson(e.into()))?;
    let obj = j.as_object().ok_or(FieldProblem::NotJsonObject)?;
    let int = |key: &'static str| -> Result<i64, FieldProblem> {
        obj.get(key)
            .and_then(Json::as_i64)
            .ok_or(FieldProblem::MissingJsonInteger { key })
    };
    let i32_of = |key: &'static str| -> Result<i32, FieldProblem> {
        i32::try_from(int(key)?).map_err(|_| FieldProblem::JsonOutOfRange { key })
    };
    let text_of = |v: &Json| {
        v.as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| v.to_string())
    };
    let mut c = TaskContext {
        is_barrier: obj
            .get("isBarrier")
            .and_then(Json::as_bool)
            .ok_or(FieldProblem::MissingJsonBool { key: "isBarrier" })?,
        stage_id: i32_of("stageId")?,
        partition_id: i32_of("partitionId")?,
        attempt_number: i32_of("attemptNumber")?,
        task_attempt_id: int("taskAttemptId")?,
        cpus: i32_of("cpus")?,
        barrier_secret: obj.get("secret").and_then(Json::as_str).map(str::to_owned),
        barrier_conn: obj.get("connInfo").map(|v| {
            match v.as_i64().and_then(|p| i32::try_from(p).ok()) {
                Some(p) => ConnInfo::Port(p),
                None => ConnInfo::Path(text_of(v)),
            }
        }),
        cpu_amount: obj.get("cpuAmount").map(text_of),
        json: Some(text.to_owned()),
        ..TaskContext::default()
    };
    if let Some(props) = obj.get("localProperties").and_then(Json::as_object) {
        c.local_properties = props.iter().map(|(k, v)| (k.clone(), text_of(v))).collect();
    }
    if let Some(res) = obj.get("resources").and_then(Json::as_object) {
        for (key, r) in res {
            c.resources.push(Resource {
                key: key.clone(),
                name: r.get("name").map(text_of).unwrap_or_default(),
                addresses: r
                    .get("addresses")
                    .and_then(Json::as_array)
                    .map(|a| a.iter().map(text_of).collect())
                    .unwrap_or_default(),
            });
        }
    }
    Ok(c)
}

/// The JSON the JVM writes, keys in its order (spec §3.3). `secret` and
/// `connInfo` are always there (4.3's reader requires them), `cpuAmount` from 4.3
/// (defaulting to the whole `cpus`).
fn context_json(c: &TaskContext, v: SparkVersion) -> String {
    let s = |v: &str| Json::String(v.to_owned()).to_string();
    let conn = match &c.barrier_conn {
        Some(ConnInfo::Path(p)) => s(p),
        Some(ConnInfo::Port(p)) => p.to_string(),
        None => "-1".into(),
    };
    let props: Vec<String> = c
        .local_properties
        .iter()
        .map(|(k, v)| format!("{}:{}", s(k), s(v)))
        .collect();
    let res: Vec<String> = c
        .resources
        .iter()
        .map(|r| {
            let addrs: Vec<String> = r.addresses.iter().map(|a| s(a)).collect();
            format!(
                "{}:{{\"name\":{},\"addresses\":[{}]}}",
                s(&r.key),
                s(&r.name),
                addrs.join(",")
            )
        })
        .collect();
    let mut out = String::from("{");
    out.push_str(&format!(
        "\"secret\":{},",
        s(c.barrier_secret.as_deref().unwrap_or(""))
    ));
    out.push_str(&format!(
        "\"stageId\":{},\"isBarrier\":{},\"partitionId\":{},\"connInfo\":{},\"attemptNumber\":{},\"localProperties\":{{{}}},",
        c.stage_id,
        c.is_barrier,
        c.partition_id,
        conn,
        c.attempt_number,
        props.join(",")
    ));
    match &c.cpu_amount {
        Some(a) => out.push_str(&format!("\"cpuAmount\":{},", s(a))),
        None if v >= SparkVersion::V4_3 => out.push_str(&format!("\"cpuAmount\":\"{}\",", c.cpus)),
        None => {}
    }
    out.push_str(&format!(
        "\"taskAttemptId\":{},\"resources\":{{{}}},\"cpus\":{}}}",
        c.task_attempt_id,
        res.join(","),
        c.cpus
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::command::UdfCommand;

    #[test]
    fn shared_payloads_are_slices_of_the_input_and_equal_copied_ones() {
        let payload = Bytes::from(vec![0x80u8; 1000]);
        for v in SparkVersion::ALL {
            let wire = Bytes::from(TaskHeader::example(payload.clone()).encode(v).unwrap());
            let (copied, n) = TaskHeader::decode(&wire, v).unwrap().unwrap();
            let (shared, m) = TaskHeader::decode_shared(&wire, v, &Limits::default())
                .unwrap()
                .unwrap();
            assert_eq!((n, m), (wire.len(), wire.len()));
            assert_eq!(
                TaskHeader::measure(&wire, v, &Limits::default()),
                Ok(Some(n))
            );
            assert_eq!(copied, shared, "{v}");
            let Command::Rdd(p) = &shared.command else {
                panic!("an RDD command")
            };
            let inside = wire.as_ptr_range();
            assert!(inside.contains(&p.as_ptr()), "{v}: the payload was copied");
            for cut in [0, 1, n / 2, n - 1] {
                assert_eq!(
                    TaskHeader::measure(&wire[..cut], v, &Limits::default()),
                    Ok(None)
                );
            }
        }
    }

    #[test]
    fn the_field_limit_holds_at_its_exact_boundary() {
        let v = SparkVersion::V4_0;
        let payload = Bytes::from(vec![1u8; 100]);
        let wire = TaskHeader::example(payload).encode(v).unwrap();
        let at = |max_field| {
            let limits = Limits {
                max_field,
                ..Limits::default()
            };
            TaskHeader::decode_with(&wire, v, &limits)
        };
        assert!(matches!(at(100), Ok(Some(_))));
        match at(99) {
            Err(HeaderError::Field {
                field: "command",
                why: FieldProblem::TooLong { len: 100, max: 99 },
                ..
            }) => {}
            other => panic!("{other:?}"),
        }
    }

    /// Partition 0 and Python "3.11", then `rest`.
    fn start(rest: &[u8]) -> Vec<u8> {
        let mut b = vec![0, 0, 0, 0, 0, 0, 0, 4];
        b.extend_from_slice(b"3.11");
        b.extend_from_slice(rest);
        b
    }

    fn json_context(text: &str) -> Vec<u8> {
        let mut rest = (text.len() as i32).to_be_bytes().to_vec();
        rest.extend_from_slice(text.as_bytes());
        start(&rest)
    }

    fn field_error(data: &[u8], v: SparkVersion) -> (&'static str, u64, FieldProblem) {
        match TaskHeader::decode(data, v) {
            Err(HeaderError::Field { field, offset, why }) => (field, offset, why),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn damaged_fields_are_named_with_their_problem() {
        let v = SparkVersion::V3_5;
        assert_eq!(
            field_error(&start(&[2]), v),
            ("isBarrier", 12, FieldProblem::NotBool { found: 2 })
        );
        assert_eq!(
            field_error(&[0, 0, 0, 0, 0xff, 0xff, 0xff, 0xfd], v),
            (
                "python version",
                4,
                FieldProblem::NegativeLength { len: -3 }
            )
        );
        assert_eq!(
            field_error(&[0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff], v),
            (
                "python version",
                4,
                FieldProblem::TooLong {
                    len: i32::MAX as u64,
                    max: (256 << 20) as u64
                }
            )
        );
        assert_eq!(
            field_error(&[0, 0, 0, 0, 0, 0, 0, 3, b'3', b'.', 0xff], v),
            (
                "python version",
                4,
                FieldProblem::NotUtf8 { valid_up_to: 2 }
            )
        );
        assert_eq!(
            field_error(&[0, 0, 0, 5], SparkVersion::V4_3),
            (
                "START_OF_INIT_MESSAGE",
                0,
                FieldProblem::UnexpectedMarker {
                    expected: -8,
                    found: 5
                }
            )
        );
    }

    #[test]
    fn damaged_json_contexts_say_what_is_wrong() {
        let v = SparkVersion::V4_2;
        let e = TaskHeader::decode(&json_context("{"), v).unwrap_err();
        assert_eq!(
            e.to_string(),
            "task header, field task context at byte 12: \
             invalid JSON: EOF while parsing an object at line 1 column 1"
        );
        let problem = |text: &str| field_error(&json_context(text), v).2;
        assert_eq!(problem("[]"), FieldProblem::NotJsonObject);
        assert_eq!(
            problem("{}"),
            FieldProblem::MissingJsonBool { key: "isBarrier" }
        );
        assert_eq!(
            problem(r#"{"isBarrier":false}"#),
            FieldProblem::MissingJsonInteger { key: "stageId" }
        );
        assert_eq!(
            problem(r#"{"isBarrier":false,"stageId":4294967296}"#),
            FieldProblem::JsonOutOfRange { key: "stageId" }
        );
    }

    /// 4.3's header with its init message declaring `extra` more bytes than its
    /// fields take.
    fn init_message_declaring(extra: i32) -> Vec<u8> {
        let mut wire = TaskHeader::example(Bytes::from_static(b"\x80\x05N."))
            .encode(SparkVersion::V4_3)
            .unwrap();
        let declared = i32::from_be_bytes([wire[4], wire[5], wire[6], wire[7]]) + extra;
        wire[4..8].copy_from_slice(&declared.to_be_bytes());
        wire
    }

    #[test]
    fn an_init_message_longer_than_its_fields_is_cut_until_its_body_is_all_there() {
        let v = SparkVersion::V4_3;
        let limits = Limits::default();
        let wire = init_message_declaring(2);
        let fields = wire.len() as u64 - 8;
        let p = TaskHeader::decode_prefix(&wire, v, &limits);
        assert_eq!(
            p.end,
            PrefixEnd::Cut(HeaderCut {
                field: "init message",
                offset: 8 + fields,
                needed: 2,
                had: 0,
            })
        );
        assert_eq!(p.read.eval_type, Some(EvalType::NON_UDF));
        assert_eq!(TaskHeader::decode(&wire, v), Ok(None));
        let mut whole = wire.clone();
        whole.extend_from_slice(&[0, 0]);
        let too_long = HeaderError::InitLength {
            declared: fields + 2,
            consumed: fields,
        };
        assert_eq!(TaskHeader::decode(&whole, v), Err(too_long.clone()));
        let p = TaskHeader::decode_prefix(&whole, v, &limits);
        assert_eq!(p.end, PrefixEnd::Bad(too_long));
        assert_eq!(p.read.python_version.as_deref(), Some("3.11"));
    }

    #[test]
    fn an_init_message_shorter_than_its_fields_is_refused_once_it_is_all_there() {
        let v = SparkVersion::V4_3;
        let wire = init_message_declaring(-1);
        let declared = wire.len() as u64 - 8 - 1;
        let too_short = HeaderError::InitLength {
            declared,
            consumed: u64::MAX,
        };
        assert_eq!(TaskHeader::decode(&wire, v), Err(too_short.clone()));
        let p = TaskHeader::decode_prefix(&wire, v, &Limits::default());
        assert_eq!(p.end, PrefixEnd::Bad(too_short));
        // One byte short of the declared body: still only cut, inside the command.
        let p = TaskHeader::decode_prefix(&wire[..wire.len() - 2], v, &Limits::default());
        match p.end {
            PrefixEnd::Cut(HeaderCut {
                field: "command", ..
            }) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unencodable_headers_name_the_version_and_the_reason() {
        let mut h = TaskHeader::example(Bytes::from_static(b"\x80\x05N."));
        h.context.barrier_conn = Some(ConnInfo::Path("/tmp/b".into()));
        assert_eq!(
            h.encode(SparkVersion::V3_5),
            Err(HeaderError::Unencodable {
                version: SparkVersion::V3_5,
                why: EncodeProblem::BarrierUnixSocket
            })
        );
        let mut h = TaskHeader::example(Bytes::new());
        h.runner_conf.push(("k".into(), "v".into()));
        assert_eq!(
            h.encode(SparkVersion::V4_1).unwrap_err().to_string(),
            "cannot encode for Spark 4.1: \
             the header carries no conf maps before 4.2 (UDF commands carry their own)"
        );
        let mut h = TaskHeader::example(Bytes::new());
        h.command = Command::Udfs(UdfCommand::default());
        assert_eq!(
            h.encode(SparkVersion::V4_0).unwrap_err().to_string(),
            "cannot encode for Spark 4.0: eval type 0 takes a NON_UDF command"
        );
        h.eval_type = EvalType::SQL_SCALAR_PANDAS_UDF;
        assert_eq!(
            h.encode(SparkVersion::V4_0),
            Err(HeaderError::Unencodable {
                version: SparkVersion::V4_0,
                why: EncodeProblem::Required {
                    field: "the command's runner conf"
                }
            })
        );
    }
}
