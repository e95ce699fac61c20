//! The command: what follows the eval type (and, from 4.2, the conf maps) in a
//! task header. NON_UDF carries one cloudpickled 4-tuple; SQL UDF eval types a
//! list of UDFs with argument offsets and chained pickled functions; UDTFs a
//! handler class with its arguments (spec §3.4, §6).
//!
//! The layouts were read from each release's `worker.py` (`read_udfs`,
//! `read_single_udf`, `read_udtf`) and 4.3's `worker_message.py`; every version
//! difference is asked of [`SparkVersion`].

use bytes::Bytes;
use sparkwire_serializers::pyspark::Serializer;

use super::conn_info::ConnInfo;
use super::error::EncodeProblem;
use super::eval_type::EvalType;
use super::version::{CommandKind, SparkVersion, WorkerLayout};
use super::wire::{Reader, Stop, Writer};

/// The serializers PySpark's worker reads and writes a SQL task's pickled data
/// with: `BatchedSerializer(CPickleSerializer(), 100)` both ways for
/// SQL_BATCHED_UDF (Pyrolite row tuples in, result lists out), batches of one
/// for SQL_TABLE_UDF. `None` for NON_UDF, whose command names its own, and for
/// the Arrow eval types.
pub fn sql_serializers(eval_type: EvalType) -> Option<(Serializer, Serializer)> {
    let n = match eval_type {
        EvalType::SQL_BATCHED_UDF => 100,
        EvalType::SQL_TABLE_UDF => 1,
        _ => return None,
    };
    let s = Serializer::batched(Serializer::CPickle, n);
    Some((s.clone(), s))
}

/// One argument of a UDF or UDTF: an offset into the input row, and the keyword
/// it is passed under, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arg {
    /// Index into the row the JVM sends.
    pub offset: i32,
    /// The keyword (named arguments, 4.0+).
    pub name: Option<String>,
}

impl Arg {
    /// A positional argument.
    pub fn at(offset: i32) -> Arg {
        Arg { offset, name: None }
    }
}

/// One SQL UDF: its arguments and its chain of pickled `(function, returnType)`
/// pairs, applied first to last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Udf {
    /// Arguments.
    pub args: Vec<Arg>,
    /// The chained functions, each a pickle of `(function, returnType)`.
    pub chain: Vec<Bytes>,
    /// The profiler result id: always sent from 4.2, in 4.0/4.1 only when a
    /// profiler is announced, never in 3.5.
    pub result_id: Option<i64>,
}

/// The stateful-processing server of `transformWithState` (211–214, before 4.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateServer {
    /// Its port, or (4.1) a Unix-socket path.
    pub conn: ConnInfo,
    /// The grouping key schema, as JSON.
    pub key_schema: String,
}

/// The command of a SQL UDF eval type (neither NON_UDF nor a UDTF).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UdfCommand {
    /// The runner conf sent inside the command: Arrow and pandas eval types before
    /// 4.2 (from 4.2 every task carries it in the header instead).
    pub runner_conf: Option<Vec<(String, String)>>,
    /// 208's state schema JSON (before 4.2).
    pub state_schema: Option<String>,
    /// 211–214's state server (before 4.2).
    pub state_server: Option<StateServer>,
    /// The Arrow-optimised UDF's (101) input types, as struct type JSON (4.1).
    pub input_types: Option<String>,
    /// The profiler flag of 4.0/4.1: `Some(None)` when not profiling,
    /// `Some(Some("perf" | "memory"))` when profiling; `None` in other versions.
    pub profiler: Option<Option<String>>,
    /// The UDFs, in the order their results are returned.
    pub udfs: Vec<Udf>,
}

/// The command of a UDTF (300, 301, 302).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UdtfCommand {
    /// The runner conf sent inside the command (301 before 4.2, 302 in 4.1).
    pub runner_conf: Option<Vec<(String, String)>>,
    /// 301's input types, as a struct type JSON (4.1).
    pub input_types: Option<String>,
    /// 302's table-argument offsets (4.1).
    pub table_arg_offsets: Option<Vec<i32>>,
    /// Arguments (keywords from 4.0).
    pub args: Vec<Arg>,
    /// Partition-child indexes (4.0+; `None` in 3.5).
    pub partition_child_indexes: Option<Vec<i32>>,
    /// The pickled `AnalyzeResult` (4.0+: `Some(None)` when absent; `None` in 3.5).
    pub analyze_result: Option<Option<Bytes>>,
    /// The pickled handler class.
    pub handler: Bytes,
    /// The return type, as struct type JSON.
    pub return_type: String,
    /// The UDTF's name (4.0+).
    pub name: Option<String>,
}

/// What a task runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// NON_UDF: a cloudpickled `(func, profiler, deserializer, serializer)`.
    Rdd(Bytes),
    /// A SQL UDF eval type.
    Udfs(UdfCommand),
    /// A UDTF.
    Udtf(UdtfCommand),
}

impl Command {
    /// The NON_UDF payload, if this is an RDD task.
    pub fn rdd(&self) -> Option<&Bytes> {
        match self {
            Command::Rdd(b) => Some(b),
            _ => None,
        }
    }

    /// Every pickled payload the command carries (the NON_UDF tuple, each UDF's
    /// chained functions, a UDTF's handler), in wire order.
    pub fn pickles(&self) -> Vec<&Bytes> {
        match self {
            Command::Rdd(b) => vec![b],
            Command::Udfs(u) => u.udfs.iter().flat_map(|f| f.chain.iter()).collect(),
            Command::Udtf(t) => vec![&t.handler],
        }
    }

    /// Bytes of pickled payload in all.
    pub fn pickled_len(&self) -> usize {
        self.pickles().iter().map(|b| b.len()).sum()
    }

    pub(crate) fn decode(
        r: &mut Reader,
        v: SparkVersion,
        eval_type: EvalType,
    ) -> Result<Command, Stop> {
        match v.command_kind(eval_type) {
            CommandKind::NonUdf => Ok(Command::Rdd(r.payload("command")?)),
            CommandKind::Udtf => decode_udtf(r, v, eval_type).map(Command::Udtf),
            CommandKind::Udfs => decode_udfs(r, v, eval_type).map(Command::Udfs),
        }
    }

    pub(crate) fn encode(
        &self,
        w: &mut Writer,
        v: SparkVersion,
        eval_type: EvalType,
    ) -> Result<(), EncodeProblem> {
        match (self, v.command_kind(eval_type)) {
            (Command::Rdd(b), CommandKind::NonUdf) => w.bytes(b, "command"),
            (Command::Udfs(u), CommandKind::Udfs) => encode_udfs(u, w, v, eval_type),
            (Command::Udtf(t), CommandKind::Udtf) => encode_udtf(t, w, v, eval_type),
            (_, expected) => Err(EncodeProblem::WrongCommand {
                eval_type,
                expected,
            }),
        }
    }
}

/// Checks that an optional field is present exactly when the layout has it.
fn layout<T>(field: &'static str, value: &Option<T>, sent: bool) -> Result<(), EncodeProblem> {
    match (value.is_some(), sent) {
        (true, false) => Err(EncodeProblem::NotSent { field }),
        (false, true) => Err(EncodeProblem::Required { field }),
        _ => Ok(()),
    }
}

fn read_args(r: &mut Reader, kwargs: bool) -> Result<Vec<Arg>, Stop> {
    let n = r.count("argument count")?;
    let mut args = Vec::new();
    for _ in 0..n {
        let offset = r.i32("argument offset")?;
        let name = if kwargs && r.bool("isKwarg")? {
            Some(r.str("keyword name")?)
        } else {
            None
        };
        args.push(Arg { offset, name });
    }
    Ok(args)
}

fn write_args(w: &mut Writer, args: &[Arg], kwargs: bool) -> Result<(), EncodeProblem> {
    w.len(args.len(), "arguments")?;
    for a in args {
        w.i32(a.offset);
        match (&a.name, kwargs) {
            (Some(name), true) => {
                w.bool(true);
                w.str(name, "keyword name")?;
            }
            (None, true) => w.bool(false),
            (None, false) => {}
            (Some(_), false) => return Err(EncodeProblem::KeywordArguments),
        }
    }
    Ok(())
}

fn read_ints(r: &mut Reader, field: &'static str) -> Result<Vec<i32>, Stop> {
    let n = r.count(field)?;
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(r.i32(field)?);
    }
    Ok(out)
}

fn write_ints(w: &mut Writer, ints: &[i32], field: &'static str) -> Result<(), EncodeProblem> {
    w.len(ints.len(), field)?;
    for &i in ints {
        w.i32(i);
    }
    Ok(())
}

fn decode_udfs(r: &mut Reader, v: SparkVersion, eval_type: EvalType) -> Result<UdfCommand, Stop> {
    let mut c = UdfCommand::default();
    if v.command_conf(eval_type) {
        c.runner_conf = Some(r.map("runner conf")?);
        if eval_type == EvalType::SQL_GROUPED_MAP_PANDAS_UDF_WITH_STATE {
            c.state_schema = Some(r.str("state schema")?);
        } else if v.state_server(eval_type) {
            let port = r.i32("state server port")?;
            let conn = if port == -1 && v.conn_info_paths() {
                ConnInfo::Path(r.str("state server path")?)
            } else {
                ConnInfo::Port(port)
            };
            let key_schema = r.str("key schema")?;
            c.state_server = Some(StateServer { conn, key_schema });
        }
        if v.udf_input_types(eval_type) {
            c.input_types = Some(r.str("input types")?);
        }
    }
    if v.profiler_flag() {
        c.profiler = Some(if r.bool("isProfiling")? {
            Some(r.str("profiler")?)
        } else {
            None
        });
    }
    let with_result_id = v.result_ids_always() || matches!(c.profiler, Some(Some(_)));
    let kwargs = v.kwarg_flags(eval_type);
    let n = r.count("UDF count")?;
    for _ in 0..n {
        let args = read_args(r, kwargs)?;
        let m = r.count("chained function count")?;
        let mut chain = Vec::new();
        for _ in 0..m {
            chain.push(r.payload("UDF function")?);
        }
        let result_id = if with_result_id {
            Some(r.i64("result id")?)
        } else {
            None
        };
        c.udfs.push(Udf {
            args,
            chain,
            result_id,
        });
    }
    Ok(c)
}

fn encode_udfs(
    c: &UdfCommand,
    w: &mut Writer,
    v: SparkVersion,
    eval_type: EvalType,
) -> Result<(), EncodeProblem> {
    let conf = v.command_conf(eval_type);
    layout("the command's runner conf", &c.runner_conf, conf)?;
    layout(
        "the state schema",
        &c.state_schema,
        conf && eval_type == EvalType::SQL_GROUPED_MAP_PANDAS_UDF_WITH_STATE,
    )?;
    layout(
        "the state server",
        &c.state_server,
        conf && v.state_server(eval_type),
    )?;
    layout(
        "the UDF input types",
        &c.input_types,
        conf && v.udf_input_types(eval_type),
    )?;
    layout("the profiler flag", &c.profiler, v.profiler_flag())?;
    if let Some(conf) = &c.runner_conf {
        w.map(conf, "runner conf")?;
    }
    if let Some(schema) = &c.state_schema {
        w.str(schema, "state schema")?;
    }
    if let Some(s) = &c.state_server {
        match &s.conn {
            ConnInfo::Port(p) => w.i32(*p),
            ConnInfo::Path(path) if v.conn_info_paths() => {
                w.i32(-1);
                w.str(path, "state server path")?;
            }
            ConnInfo::Path(_) => return Err(EncodeProblem::StateServerUnixSocket),
        }
        w.str(&s.key_schema, "key schema")?;
    }
    if let Some(t) = &c.input_types {
        w.str(t, "input types")?;
    }
    if let Some(p) = &c.profiler {
        w.bool(p.is_some());
        if let Some(name) = p {
            w.str(name, "profiler")?;
        }
    }
    let with_result_id = v.result_ids_always() || matches!(c.profiler, Some(Some(_)));
    let kwargs = v.kwarg_flags(eval_type);
    w.len(c.udfs.len(), "UDFs")?;
    for u in &c.udfs {
        write_args(w, &u.args, kwargs)?;
        w.len(u.chain.len(), "chained functions")?;
        for f in &u.chain {
            w.bytes(f, "UDF function")?;
        }
        layout("a UDF result id", &u.result_id, with_result_id)?;
        if let Some(id) = u.result_id {
            w.i64(id);
        }
    }
    Ok(())
}

fn decode_udtf(r: &mut Reader, v: SparkVersion, eval_type: EvalType) -> Result<UdtfCommand, Stop> {
    let mut c = UdtfCommand::default();
    if v.udtf_conf(eval_type) {
        c.runner_conf = Some(r.map("runner conf")?);
        if v.udtf_input_types(eval_type) {
            c.input_types = Some(r.str("input types")?);
        }
        if v.udtf_table_arg_offsets(eval_type) {
            c.table_arg_offsets = Some(read_ints(r, "table argument offsets")?);
        }
    }
    let full = v >= SparkVersion::V4_0;
    c.args = read_args(r, full)?;
    if full {
        c.partition_child_indexes = Some(read_ints(r, "partition child indexes")?);
        c.analyze_result = Some(if r.bool("hasPickledAnalyzeResult")? {
            Some(r.payload("analyze result")?)
        } else {
            None
        });
    }
    c.handler = r.payload("UDTF handler")?;
    c.return_type = r.str("UDTF return type")?;
    if full {
        c.name = Some(r.str("UDTF name")?);
    }
    Ok(c)
}

fn encode_udtf(
    c: &UdtfCommand,
    w: &mut Writer,
    v: SparkVersion,
    eval_type: EvalType,
) -> Result<(), EncodeProblem> {
    let conf = v.udtf_conf(eval_type);
    let full = v >= SparkVersion::V4_0;
    layout("the UDTF's runner conf", &c.runner_conf, conf)?;
    layout(
        "the UDTF input types",
        &c.input_types,
        conf && v.udtf_input_types(eval_type),
    )?;
    layout(
        "the table argument offsets",
        &c.table_arg_offsets,
        conf && v.udtf_table_arg_offsets(eval_type),
    )?;
    layout("partition child indexes", &c.partition_child_indexes, full)?;
    layout("the analyze-result flag", &c.analyze_result, full)?;
    layout("the UDTF name", &c.name, full)?;
    if let Some(conf) = &c.runner_conf {
        w.map(conf, "runner conf")?;
    }
    if let Some(t) = &c.input_types {
        w.str(t, "input types")?;
    }
    if let Some(offsets) = &c.table_arg_offsets {
        write_ints(w, offsets, "table argument offsets")?;
    }
    write_args(w, &c.args, full)?;
    if let Some(p) = &c.partition_child_indexes {
        write_ints(w, p, "partition child indexes")?;
    }
    if let Some(a) = &c.analyze_result {
        w.bool(a.is_some());
        if let Some(a) = a {
            w.bytes(a, "analyze result")?;
        }
    }
    w.bytes(&c.handler, "UDTF handler")?;
    w.str(&c.return_type, "UDTF return type")?;
    if let Some(name) = &c.name {
        w.str(name, "UDTF name")?;
    }
    Ok(())
}
