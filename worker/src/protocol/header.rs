//! The task header the JVM sends before each task's data (spec §3, §6.3).

use bytes::Bytes;
use serde_json::Value as Json;

use super::command::Command;
use super::error::HeaderError;
use super::eval_type::EvalType;
use super::version::{HeaderStyle, SparkVersion};
use super::wire::{Reader, Stop, Writer};

/// START_OF_INIT_MESSAGE (4.3).
const INIT_MESSAGE: i32 = -8;

/// Where a helper server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnInfo {
    /// A loopback TCP port (0 or −1 when there is none).
    Port(i32),
    /// A Unix-domain socket path (4.1+, sent as port −1 then the path).
    Path(String),
}

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
    /// hold all of it yet, else the header and the bytes it took.
    pub fn decode(
        data: &[u8],
        v: SparkVersion,
    ) -> Result<Option<(TaskHeader, usize)>, HeaderError> {
        let mut r = Reader::new(data, 0);
        let result = match v.header_style() {
            HeaderStyle::Json { init_message: true } => decode_init_message(&mut r, v),
            _ => decode_body(&mut r, v),
        };
        match result {
            Ok(h) => Ok(Some((h, r.pos))),
            Err(Stop::Incomplete) => Ok(None),
            Err(Stop::Bad(e)) => Err(e),
        }
    }

    /// The exact bytes the JVM of version `v` writes for this header.
    pub fn encode(&self, v: SparkVersion) -> Result<Vec<u8>, HeaderError> {
        let mut w = Writer::default();
        self.encode_body(&mut w, v).map_err(|e| match e {
            HeaderError::Unencodable { why, .. } => HeaderError::Unencodable {
                version: v.to_string(),
                why,
            },
            other => other,
        })?;
        if let HeaderStyle::Json { init_message: true } = v.header_style() {
            let mut framed = Writer::default();
            framed.i32(INIT_MESSAGE);
            framed.bytes(&w.out, "init message")?;
            return Ok(framed.out);
        }
        Ok(w.out)
    }

    fn encode_body(&self, w: &mut Writer, v: SparkVersion) -> Result<(), HeaderError> {
        let unencodable = |why: &str| HeaderError::Unencodable {
            version: v.to_string(),
            why: why.into(),
        };
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
                        Some(ConnInfo::Path(_)) => {
                            return Err(unencodable("a barrier Unix socket needs 4.1 or later"))
                        }
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
                return Err(unencodable("a broadcast Unix socket needs 4.1 or later"));
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
            return Err(unencodable(
                "the header carries no conf maps before 4.2 (UDF commands carry their own)",
            ));
        }
        self.command.encode(w, v, self.eval_type)
    }
}

/// `i32 port` + `str secret`, or `i32 -1` + `str path`.
fn write_conn(w: &mut Writer, conn: &ConnInfo, secret: Option<&str>) -> Result<(), HeaderError> {
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
    field: &'static str,
) -> Result<(ConnInfo, Option<String>), Stop> {
    let port = r.i32()?;
    if port == -1 && v.conn_info_paths() {
        Ok((ConnInfo::Path(r.str(field)?), None))
    } else {
        Ok((ConnInfo::Port(port), Some(r.str(field)?)))
    }
}

fn decode_init_message(r: &mut Reader, v: SparkVersion) -> Result<TaskHeader, Stop> {
    let at = r.offset();
    let marker = r.i32()?;
    if marker != INIT_MESSAGE {
        return Err(r.bad(
            "START_OF_INIT_MESSAGE",
            at,
            format!("expected -8, found {marker}"),
        ));
    }
    let body = r.bytes("init message")?;
    let base = r.offset() - body.len() as u64;
    let mut inner = Reader::new(body, base);
    let h = match decode_body(&mut inner, v) {
        Ok(h) => h,
        // The body is complete, so running out inside it is a length mismatch.
        Err(Stop::Incomplete) => {
            return Err(Stop::Bad(HeaderError::InitLength {
                declared: body.len() as u64,
                consumed: u64::MAX,
            }))
        }
        Err(e) => return Err(e),
    };
    if inner.pos != body.len() {
        return Err(Stop::Bad(HeaderError::InitLength {
            declared: body.len() as u64,
            consumed: inner.pos as u64,
        }));
    }
    Ok(h)
}

fn decode_body(r: &mut Reader, v: SparkVersion) -> Result<TaskHeader, Stop> {
    let partition_index = r.i32()?;
    let python_version = r.str("python version")?;
    let context = match v.header_style() {
        HeaderStyle::Fields { barrier_always } => {
            let mut c = TaskContext {
                is_barrier: r.bool("isBarrier")?,
                ..TaskContext::default()
            };
            if barrier_always {
                c.barrier_conn = Some(ConnInfo::Port(r.i32()?));
                c.barrier_secret = Some(r.str("barrier secret")?);
            } else if c.is_barrier {
                let (conn, secret) = read_conn(r, v, "barrier secret")?;
                c.barrier_conn = Some(conn);
                c.barrier_secret = secret;
            }
            c.stage_id = r.i32()?;
            c.partition_id = r.i32()?;
            c.attempt_number = r.i32()?;
            c.task_attempt_id = r.i64()?;
            c.cpus = r.i32()?;
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
            c.local_properties = r.map("local properties")?;
            c
        }
        HeaderStyle::Json { .. } => {
            let at = r.offset();
            let text = r.str("task context")?;
            parse_context(&text).map_err(|why| r.bad("task context", at, why))?
        }
    };
    let spark_files_dir = r.str("spark files dir")?;
    let n = r.count("python includes")?;
    let mut python_includes = Vec::new();
    for _ in 0..n {
        python_includes.push(r.str("python include")?);
    }
    let needs_server = r.bool("needs broadcast decryption server")?;
    let count = r.count("broadcast count")?;
    let server = if needs_server {
        let (conn, secret) = read_conn(r, v, "broadcast server")?;
        Some(BroadcastServer { conn, secret })
    } else {
        None
    };
    let mut entries = Vec::new();
    for _ in 0..count {
        let id = r.i64()?;
        let path = if id >= 0 && server.is_none() {
            Some(r.str("broadcast path")?)
        } else {
            None
        };
        entries.push(BroadcastEntry { id, path });
    }
    let eval_type = EvalType::from(r.i32()?);
    let (runner_conf, eval_conf) = match v.header_style() {
        HeaderStyle::Json { .. } => (r.map("runner conf")?, r.map("eval conf")?),
        HeaderStyle::Fields { .. } => (Vec::new(), Vec::new()),
    };
    let command = Command::decode(r, v, eval_type)?;
    Ok(TaskHeader {
        partition_index,
        python_version,
        context,
        spark_files_dir,
        python_includes,
        broadcasts: Broadcasts { server, entries },
        eval_type,
        runner_conf,
        eval_conf,
        command,
    })
}

/// Reads the JSON task context into fields, keeping the text.
fn parse_context(text: &str) -> Result<TaskContext, String> {
    let j: Json = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
    let obj = j
        .as_object()
        .ok_or("the task context is not a JSON object")?;
    let int = |k: &str| -> Result<i64, String> {
        obj.get(k)
            .and_then(Json::as_i64)
            .ok_or_else(|| format!("missing integer {k:?}"))
    };
    let i32_of = |k: &str| -> Result<i32, String> {
        i32::try_from(int(k)?).map_err(|_| format!("{k:?} out of range"))
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
            .ok_or("missing bool \"isBarrier\"")?,
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
