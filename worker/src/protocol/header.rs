//! The task header the JVM sends before each task's data (spec §3, §6.3).

use bytes::Bytes;
use serde_json::Value as Json;

use super::command::Command;
use super::conn_info::ConnInfo;
use super::error::{EncodeProblem, FieldProblem, HeaderError};
use super::eval_type::EvalType;
use super::limits::Limits;
use super::version::{HeaderStyle, SparkVersion, WorkerLayout};
use super::wire::{Payloads, Reader, Stop, Writer};

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
            FieldProblem::UnexpectedMarker {
                expected: INIT_MESSAGE,
                found: marker,
            },
        ));
    }
    let body = r.bytes("init message")?;
    let mut inner = r.nested(body);
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

fn decode_with_payloads(
    mut r: Reader,
    v: SparkVersion,
) -> Result<Option<(TaskHeader, usize)>, HeaderError> {
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
