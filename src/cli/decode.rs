//! `sparkwire decode`: reads the inputs through `sparkwire-inspect`, which
//! builds the typed [`Report`], and renders it as text or JSON. Nothing here
//! decodes bytes.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::process::ExitCode;

use serde::Serialize;
use sparkwire_inspect::capture::{self, Task};
use sparkwire_inspect::capture_dir;
use sparkwire_inspect::pcap;
use sparkwire_inspect::recording::{Origin, Recording};
use sparkwire_inspect::report::{
    BroadcastFileReport, CallReport, CaptureReport, CommandDetail, ConnectionReport, DaemonReport,
    Py4jReport, Py4jStreamReport, Report, TaskReport, TcpKind,
};
use sparkwire_inspect::streamed::{Keep, Streamed, TaskSource};
use sparkwire_inspect::InspectError;
use sparkwire_worker::protocol::SparkVersion;

use super::args::{DecodeArgs, Format};
use super::read_input;

/// Compact JSON of a value, as the text output shows numbers, `null` and lists.
fn js<T: Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// The text rendering, written connection by connection and task by task:
/// each task's report is built from `decoded` just before it is written.
fn text(
    out: &mut impl Write,
    doc: &Report,
    decoded: &[Option<&dyn TaskSource>],
    keep: Keep<'_>,
    max_records: usize,
) -> io::Result<()> {
    let mut s = String::new();
    if let Some(Some(d)) = &doc.daemon {
        daemon_text(&mut s, d);
    }
    if let Some(cap) = &doc.capture {
        capture_text(&mut s, cap);
    }
    if let Some(files) = &doc.broadcast_files {
        broadcast_files_text(&mut s, files);
    }
    for line in doc.tap_log.iter().flatten() {
        let _ = writeln!(s, "tap.log: {line}");
    }
    out.write_all(s.as_bytes())?;
    for (c, conn) in doc.connections.iter().zip(decoded) {
        let mut s = String::new();
        connection_head_text(&mut s, c);
        out.write_all(s.as_bytes())?;
        // Only the records shown are kept (`--max-records`, 0: all).
        let shown = (max_records > 0).then_some(max_records);
        for t in conn.iter().flat_map(|conn| conn.task_reports(keep, shown)) {
            let t = t.map_err(inspect_err)?;
            let mut s = String::new();
            task_text(&mut s, &t, c, doc, max_records);
            out.write_all(s.as_bytes())?;
        }
        let mut s = String::new();
        connection_tail_text(&mut s, c);
        out.write_all(s.as_bytes())?;
    }
    Ok(())
}

fn broadcast_files_text(s: &mut String, files: &[BroadcastFileReport]) {
    for f in files {
        let _ = match (&f.bytes, &f.missing) {
            (Some(n), _) => writeln!(s, "broadcast file {}: {n} bytes recorded", f.id),
            (None, m) => writeln!(
                s,
                "broadcast file {}: missing: {}",
                f.id,
                m.as_deref().unwrap_or("")
            ),
        };
    }
}

fn daemon_text(s: &mut String, d: &DaemonReport) {
    let _ = writeln!(
        s,
        "daemon: announced {}; kill requests on stdin: {}",
        match &d.socket_path {
            Some(p) => format!("socket {p}"),
            None => format!("port {}", js(&d.port)),
        },
        js(&d.kill_pids)
    );
}

fn capture_text(s: &mut String, cap: &CaptureReport) {
    let _ = writeln!(
        s,
        "capture: {} packets ({} not TCP/IP){}",
        cap.packets,
        cap.skipped_packets,
        if cap.truncated {
            "; the file ends inside a packet"
        } else {
            ""
        }
    );
    for r in &cap.tcp_connections {
        let detail = match &r.kind {
            TcpKind::Worker {
                spark_version,
                tasks,
            } => format!("Spark {spark_version} worker, {tasks} tasks (below)"),
            TcpKind::Py4j(py4j) => py4j_text(py4j),
            TcpKind::DataSocket {
                server_frames,
                server_records,
                ..
            } => format!(
                "data socket, {server_frames} frames from the JVM: {}",
                server_records.join(", ")
            ),
            TcpKind::AccumulatorUpdates {
                accumulator_updates,
                ..
            } => format!(
                "accumulator updates in {}: {}",
                count_of(accumulator_updates.len(), "batch", "batches"),
                accumulator_updates
                    .iter()
                    .map(|b| if b.is_empty() {
                        "none".to_owned()
                    } else {
                        b.iter()
                            .map(accumulator_text)
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            TcpKind::WorkerInOtherLayout {
                layouts_that_fit,
                spark_version,
                error,
            } => format!(
                "a worker connection that --spark {spark_version} does not read \
                 (layouts that read it: {}): {error}",
                layouts_that_fit.join(", ")
            ),
            TcpKind::Other { note } => format!(
                "other{}",
                note.as_deref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default()
            ),
        };
        let lost: u64 = r.lost_bytes.iter().sum();
        let _ = writeln!(
            s,
            "  tcp {}: {} + {} bytes{}; {detail}",
            r.name,
            r.client_bytes,
            r.server_bytes,
            if lost > 0 {
                format!(" ({lost} bytes lost to a gap)")
            } else {
                String::new()
            },
        );
    }
}

/// `1 reply`, `2 replies`: `n` and the word for it.
fn count_of(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `a ×2, b` for a count list.
fn counted<'a>(items: impl Iterator<Item = (&'a str, usize)>) -> String {
    items
        .map(|(name, n)| {
            if n == 1 {
                name.to_owned()
            } else {
                format!("{name} ×{n}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn calls_text(calls: &[CallReport]) -> String {
    counted(calls.iter().map(|c| (c.method.as_str(), c.count)))
}

/// A Py4J connection's summary: its first line, then one indented line per
/// decoding problem.
fn py4j_text(p: &Py4jReport) -> String {
    let Py4jReport {
        authenticated,
        jvm_is_client,
        commands,
        command_kinds,
        replies,
        java_exceptions,
        thrown_by,
        error_texts,
        callbacks,
        callback_errors,
        to_java,
        to_python,
        calls,
        constructors,
        ..
    } = p;
    let mut s = format!(
        "Py4J{}, {} ({}), {}",
        if *jvm_is_client {
            " callback connection (opened by the JVM)"
        } else {
            ""
        },
        count_of(*commands, "command", "commands"),
        counted(command_kinds.iter().map(|k| (k.kind.as_str(), k.count))),
        count_of(
            replies.success + replies.error + replies.fatal,
            "reply",
            "replies"
        ),
    );
    if replies.error + replies.fatal > 0 {
        let _ = write!(
            s,
            " ({}, {} fatal)",
            count_of(replies.error, "error", "errors"),
            replies.fatal
        );
    }
    if *java_exceptions > 0 {
        let _ = write!(
            s,
            "; {}",
            count_of(*java_exceptions, "Java exception", "Java exceptions")
        );
        if !thrown_by.is_empty() {
            let _ = write!(s, " thrown by {}", calls_text(thrown_by));
        }
    }
    if !callbacks.is_empty() {
        let _ = write!(s, "; callbacks {}", calls_text(callbacks));
        if *callback_errors > 0 {
            let _ = write!(s, " ({callback_errors} answered with an error)");
        }
    }
    if !authenticated {
        s.push_str("; no accepted authentication");
    }
    if !calls.is_empty() {
        let _ = write!(s, "\n    calls: {}", calls_text(calls));
    }
    if !constructors.is_empty() {
        let _ = write!(
            s,
            "\n    constructed: {}",
            counted(constructors.iter().map(|c| (c.class.as_str(), c.count)))
        );
    }
    for t in error_texts {
        let first = t.lines().next().unwrap_or_default();
        let _ = write!(s, "\n    py4j error: {first}");
    }
    for (side, r) in [("Python → JVM", to_java), ("JVM → Python", to_python)] {
        py4j_stream_text(&mut s, side, r);
    }
    s
}

fn py4j_stream_text(s: &mut String, side: &str, r: &Py4jStreamReport) {
    if r.skipped_total > 0 {
        let _ = write!(
            s,
            "\n    {side}: {} skipped for bad values",
            count_of(r.skipped_total, "message", "messages")
        );
        for e in &r.skipped {
            let _ = write!(s, "\n      {}", e.error);
        }
    }
    if let Some(e) = &r.stopped {
        let _ = write!(
            s,
            "\n    {side}: decoding stopped after {} ({} bytes): {}",
            count_of(r.messages, "message", "messages"),
            r.decoded_bytes,
            e.error
        );
    }
}

/// A connection's heading line (and a failed fork).
fn connection_head_text(s: &mut String, c: &ConnectionReport) {
    let _ = writeln!(
        s,
        "connection {} — Spark {} ({} worker, pid {}; layouts that fit: {}{})",
        c.name,
        or_list(&c.spark_versions),
        c.mode,
        c.pid
            .map_or_else(|| "not read".to_owned(), |p| p.to_string()),
        if c.layouts_that_fit.is_empty() {
            "none tried".to_owned()
        } else {
            c.layouts_that_fit.join(", ")
        },
        c.release_evidence
            .as_deref()
            .map(|e| format!("; {e}"))
            .unwrap_or_default(),
    );
    if let Some(errno) = c.fork_errno {
        let _ = writeln!(
            s,
            "  the daemon could not fork a worker: errno {errno} sent where the pid belongs"
        );
    }
}

/// One task of connection `c`.
fn task_text(
    s: &mut String,
    t: &TaskReport,
    c: &ConnectionReport,
    doc: &Report,
    max_records: usize,
) {
    let ctx = &t.task_context;
    let _ = writeln!(
        s,
        "  task {}: partition {}, stage {}, attempt {}, task attempt id {}, python {}, eval type {}{}",
        t.index,
        t.partition_index,
        ctx.stage_id,
        ctx.attempt_number,
        ctx.task_attempt_id,
        t.python_version,
        t.eval_type,
        t.eval_type_name.map(|n| format!(" ({n})")).unwrap_or_default()
    );
    if let Some(site) = ctx.local_properties.get("callSite.short") {
        let _ = writeln!(s, "    call site: {site}");
    }
    let cmd = &t.command;
    let _ = writeln!(
        s,
        "    command: {} bytes; {} → {}",
        cmd.bytes,
        cmd.deserializer.as_deref().unwrap_or("?"),
        cmd.serializer.as_deref().unwrap_or("?")
    );
    let functions = match &cmd.detail {
        CommandDetail::Rdd { functions, .. }
        | CommandDetail::Udfs { functions, .. }
        | CommandDetail::Udtf { functions, .. } => functions,
    };
    for f in functions {
        let _ = writeln!(s, "      function {} ({}:{})", f.name, f.file, f.line);
    }
    command_detail_text(s, &cmd.detail);
    context_text(s, ctx);
    for b in &t.broadcasts {
        let _ = writeln!(
            s,
            "    broadcast {} {}",
            b.id,
            b.path.as_deref().unwrap_or("")
        );
    }
    records_text(s, "input", &t.input_records, t.input_count, max_records);
    if let Some(n) = t.input_frame_pairs {
        let how = match cmd.deserializer.as_deref() {
            Some(d) if d.starts_with("CartesianDeserializer(") => {
                "CartesianDeserializer: the product of each pair's batches"
            }
            _ => "PairDeserializer: each pair's batches zipped",
        };
        let _ = writeln!(
            s,
            "    input frames: {} ({how})",
            count_of(n, "key/value frame pair", "key/value frame pairs")
        );
    }
    let markers: Vec<String> = t.input_markers.iter().map(ToString::to_string).collect();
    let _ = writeln!(s, "    input markers: {}", markers.join(", "));
    output_text(s, t, max_records);
    if !t.output_markers.is_empty() {
        let _ = writeln!(s, "    output markers: {}", t.output_markers.join(", "));
    }
    if let Some(e) = &t.exception {
        let _ = writeln!(s, "    exception:");
        for line in e.lines() {
            let _ = writeln!(s, "      {line}");
        }
    }
    if let Some(tm) = &t.timing {
        // PythonRunner's init and finish durations and the worker's
        // processing time; its boot and total count from the executor's
        // start, which the traffic does not carry.
        let _ = writeln!(
            s,
            "    timing: init {} ms, finish {} ms, processing {} (boot, total: need the \
             executor's start); bootTime {} ms since the epoch; spilled {} B memory, {} B disk",
            tm.init_duration_ms,
            tm.finish_duration_ms,
            tm.processing_ms
                .map_or_else(|| "not sent".to_owned(), |p| format!("{p} ms")),
            tm.boot_ms,
            tm.memory_bytes_spilled,
            tm.disk_bytes_spilled
        );
    }
    for u in &t.accumulator_updates {
        let _ = match u.id {
            Some(id) => writeln!(s, "    accumulator {id}: {}", u.value),
            None => writeln!(
                s,
                "    accumulator update, not an (id, value) pair: {}",
                u.value
            ),
        };
    }
    if !t.reply_complete {
        let _ = writeln!(
            s,
            "    reply: the recording ends inside it{}",
            if c.pid.is_some_and(|p| doc.killed(p)) {
                " — the JVM asked the daemon to kill this worker (its pid on the daemon's stdin)"
            } else {
                " (the worker died, the connection was closed, or the capture stops there)"
            }
        );
    } else {
        let _ = writeln!(
            s,
            "    end: {}",
            t.end.unwrap_or("(none: the worker exits)")
        );
    }
}

/// Where decoding of connection `c` stopped, and its trailing bytes.
fn connection_tail_text(s: &mut String, c: &ConnectionReport) {
    for e in c.error.iter().chain(&c.further_errors) {
        let _ = writeln!(s, "  decoding stopped: {e}");
        if let Some(p) = &e.partial_task {
            let _ = writeln!(s, "    {p}");
        }
    }
    if c.trailing_bytes > 0 {
        let _ = writeln!(
            s,
            "  {} bytes after the last reply (tolerated){}",
            c.trailing_bytes,
            match &c.trailing_exception {
                Some(tb) => format!(
                    ": an exception from the worker waiting for another task: {}",
                    tb.trim_end().lines().last().unwrap_or("")
                ),
                None => String::new(),
            }
        );
    }
}

/// `a`, `a or b`, `a, b or c`.
fn or_list(items: &[String]) -> String {
    match items.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

/// What the command holds beyond its functions: an RDD command's modules,
/// each UDF's arguments and chain, a UDTF's name and arguments.
fn command_detail_text(s: &mut String, d: &CommandDetail) {
    let args = |a: &[sparkwire_inspect::report::ArgReport]| {
        a.iter()
            .map(|a| match &a.name {
                Some(n) => format!("{n}={}", a.offset),
                None => a.offset.to_string(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    match d {
        CommandDetail::Rdd { modules, .. } => {
            if !modules.is_empty() {
                let _ = writeln!(s, "      modules: {}", modules.join(", "));
            }
        }
        CommandDetail::Udfs { udfs, .. } => {
            for (i, u) in udfs.iter().enumerate() {
                let _ = writeln!(
                    s,
                    "      udf {i}: arguments at row offsets [{}], {}",
                    args(&u.args),
                    count_of(u.chain.len(), "chained function", "chained functions")
                );
            }
        }
        CommandDetail::Udtf {
            name,
            args: a,
            return_type,
            ..
        } => {
            let _ = writeln!(
                s,
                "      udtf {}: arguments at row offsets [{}], returns {return_type}",
                name.as_deref().unwrap_or("(unnamed)"),
                args(a)
            );
        }
    }
}

/// The task context beyond the ids in the task line.
fn context_text(s: &mut String, c: &sparkwire_inspect::report::ContextReport) {
    let barrier = match (&c.is_barrier, &c.barrier_conn) {
        (false, _) => "no".to_owned(),
        (true, Some(b)) => format!("yes, server {}", js(b)),
        (true, None) => "yes".to_owned(),
    };
    let resources = if c.resources.is_empty() {
        "none".to_owned()
    } else {
        c.resources
            .iter()
            .map(|r| format!("{} {} [{}]", r.key, r.name, r.addresses.join(", ")))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let _ = writeln!(
        s,
        "    context: cpus {}{}, barrier {barrier}, resources {resources}, {}",
        c.cpus,
        c.cpu_amount
            .as_deref()
            .map(|a| format!(" (amount {a})"))
            .unwrap_or_default(),
        count_of(
            c.local_properties.len(),
            "local property",
            "local properties"
        )
    );
}

/// Records shown per section of the text output unless `--max-records` says.
const TEXT_MAX_RECORDS: usize = 20;

/// Records longer than this together are shown one per line.
const ONE_LINE: usize = 100;

/// `label: N records: a, b, c` — or one record per line when they are long,
/// at most `max` of them (0: all) and a count of the rest: `records` are the
/// first of `total`.
fn records_text(s: &mut String, label: &str, records: &[String], total: usize, max: usize) {
    let shown = if max == 0 {
        records.len()
    } else {
        max.min(records.len())
    };
    let rest = total.saturating_sub(shown);
    let records = &records[..shown];
    let more = format!("… and {rest} more");
    let long = records.iter().map(|r| r.len() + 2).sum::<usize>() > ONE_LINE
        || records.iter().any(|r| r.contains('\n'));
    if !long {
        let mut line = records.join(", ");
        if rest > 0 {
            line.push_str(&format!(", {more}"));
        }
        let _ = writeln!(s, "    {label}: {} records: {line}", records.len() + rest);
        return;
    }
    let _ = writeln!(s, "    {label}: {} records:", records.len() + rest);
    for r in records {
        let _ = writeln!(s, "      {r}");
    }
    if rest > 0 {
        let _ = writeln!(s, "      {more}");
    }
}

/// A task's output; shuffle-map output as Spark routes it, each run of
/// records bound for one partition on its own line.
fn output_text(s: &mut String, t: &TaskReport, max: usize) {
    let Some(partitions) = &t.output_partitions else {
        records_text(s, "output", &t.output_records, t.output_count, max);
        return;
    };
    // `partitions` are those of the records kept, the first of `output_count`.
    let _ = writeln!(
        s,
        "    output: shuffle map output (add_shuffle_key, read by PairwiseRDD): {} records",
        t.output_count
    );
    let limit = if max == 0 {
        partitions.len()
    } else {
        max.min(partitions.len())
    };
    let mut i = 0;
    while i < limit {
        let p = partitions[i];
        let n = partitions[i..limit].iter().take_while(|&&q| q == p).count();
        let _ = writeln!(
            s,
            "      partition {p}: {}",
            t.output_records[i..i + n].join(", ")
        );
        i += n;
    }
    if t.output_count > limit {
        let _ = writeln!(s, "      … and {} more", t.output_count - limit);
    }
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

/// Compares a re-encoded connection with the source bytes it decoded, task
/// by task as it reads them again; the bytes after a stop were not decoded,
/// so they are not verified, which is a failure too.
fn verify(r: &Recording, report: &mut Vec<String>) -> io::Result<()> {
    let differs = r.verify().map_err(inspect_err)?;
    for (dir, at) in ["to_worker", "from_worker"].into_iter().zip(differs) {
        if let Some(at) = at {
            report.push(format!(
                "connection {}, {dir}: re-encoding differs at byte {at}",
                r.name
            ));
        }
    }
    let (to_len, from_len) = lengths(&r.origin)?;
    for s in r
        .conn
        .stops
        .iter()
        .filter(|s| s.kind != capture::StopKind::Ended)
    {
        let total = match s.direction {
            capture::Direction::ToWorker => to_len,
            capture::Direction::FromWorker => from_len,
        };
        report.push(format!(
            "connection {}, {}: bytes {}..{total} were not decoded, so not verified ({s})",
            r.name, s.direction, s.offset
        ));
    }
    Ok(())
}

/// The lengths of a recording's two directions.
fn lengths(origin: &Origin) -> io::Result<(u64, u64)> {
    let len = |p: &std::path::Path| -> io::Result<u64> {
        std::fs::metadata(p).map(|m| m.len()).map_err(|source| {
            inspect_err(InspectError::Io {
                path: p.to_path_buf(),
                source,
            })
        })
    };
    Ok(match origin {
        Origin::Files { to, from } => (len(to)?, len(from)?),
        Origin::Memory { to, from } => (to.len() as u64, from.len() as u64),
    })
}

fn inspect_err(e: InspectError) -> io::Error {
    let kind = match &e {
        InspectError::Io { source, .. } => source.kind(),
        InspectError::NoConnections { .. } => io::ErrorKind::NotFound,
        InspectError::Pcap { .. } | InspectError::Reencode { .. } => io::ErrorKind::InvalidData,
    };
    io::Error::new(kind, e)
}

/// The recorded connections named by the arguments, not read yet.
fn recorded(args: &DecodeArgs) -> io::Result<Vec<(String, Origin)>> {
    if let (Some(t), Some(f)) = (&args.to_worker, &args.from_worker) {
        let origin = Origin::Memory {
            to: read_input(t)?,
            from: read_input(f)?,
        };
        return Ok(vec![("0".into(), origin)]);
    }
    let Some(dir) = &args.dir else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "give a capture directory, or --to-worker and --from-worker",
        ));
    };
    Ok(capture_dir::list_dir(dir)
        .map_err(inspect_err)?
        .into_iter()
        .map(|f| {
            let origin = Origin::Files {
                to: f.to_worker,
                from: f.from_worker,
            };
            (f.name, origin)
        })
        .collect())
}

/// Narrows the report to the connection `--connection` names (the exit
/// status still speaks for the whole input; `--task` and `--partition` are
/// applied as the tasks are written).
fn select(
    report: &mut Report,
    conns: &mut Vec<Option<&dyn TaskSource>>,
    args: &DecodeArgs,
) -> io::Result<()> {
    let Some(name) = &args.connection else {
        return Ok(());
    };
    let Some(i) = report.connections.iter().position(|c| &c.name == name) else {
        let have: Vec<&str> = report.connections.iter().map(|c| c.name.as_str()).collect();
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("no connection {name} (there are: {})", have.join(", ")),
        ));
    };
    let c = report.connections.swap_remove(i);
    let d = conns.swap_remove(i);
    report.connections = vec![c];
    *conns = vec![d];
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
    let mut verify_report = Vec::new();
    let mut capture_report = None;
    let mut decoded: Vec<Recording> = Vec::new();
    // Recorded connections of which not even the prelude could be read.
    let mut unread = Vec::new();
    match &args.dir {
        Some(path) if path.is_file() => {
            let data = read_input(path)?;
            // A malformed capture file is bad input (exit 1), not a usage error.
            let cap = match pcap::read(&data) {
                Ok(cap) => cap,
                Err(source) => {
                    let e = InspectError::Pcap {
                        path: path.clone(),
                        source,
                    };
                    eprintln!("sparkwire decode: {e}");
                    return Ok(ExitCode::from(1));
                }
            };
            let mut progress = Progress::new(data.len() as u64);
            let (report, workers) =
                CaptureReport::new(cap, spark, |n, what| progress.advance(n, what));
            progress.advance(progress.total.saturating_sub(progress.done), "done");
            capture_report = Some(report);
            // Each worker connection's tasks are read again from its
            // reassembled streams as they are written.
            decoded = workers
                .into_iter()
                .map(|(src, c)| {
                    let origin = Origin::Memory {
                        to: src.to,
                        from: src.from,
                    };
                    Recording::from_decoded(&src.name, origin, c)
                })
                .collect();
        }
        _ => {
            let recorded = recorded(args)?;
            let mut sizes = Vec::new();
            for (_, origin) in &recorded {
                let (t, f) = lengths(origin)?;
                sizes.push(t + f);
            }
            let mut progress = Progress::new(sizes.iter().sum());
            for ((name, origin), size) in recorded.into_iter().zip(sizes) {
                progress.advance(size, &name);
                match Recording::decode(&name, origin, spark).map_err(inspect_err)? {
                    Ok(r) => decoded.push(r),
                    Err(stop) => unread.push(ConnectionReport::unread(&name, &stop, spark)),
                }
            }
        }
    }
    // Summaries only: each task's report is built as it is written, from
    // the task read again.
    let mut connections = Vec::new();
    let mut conns: Vec<Option<&dyn TaskSource>> = Vec::new();
    for r in &decoded {
        if args.verify {
            verify(r, &mut verify_report)?;
        }
        connections.push(ConnectionReport::summary(&r.name, &r.conn));
        conns.push(Some(r as &dyn TaskSource));
    }
    conns.extend(unread.iter().map(|_| None));
    connections.extend(unread);
    // Connections that are not decoded: with --verify, their bytes are not
    // verified; a worker connection the forced layout does not read is
    // incomplete output either way.
    let mut not_decoded = Vec::new();
    for t in capture_report.iter().flat_map(|c| &c.tcp_connections) {
        match &t.kind {
            TcpKind::WorkerInOtherLayout { spark_version, .. } => not_decoded.push(format!(
                "tcp {}: a worker connection the {spark_version} layout does not read",
                t.name
            )),
            TcpKind::Other { note } if args.verify => verify_report.push(format!(
                "tcp {}: not decoded ({}), so not verified",
                t.name,
                note.as_deref().unwrap_or("not recognised")
            )),
            _ => {}
        }
    }
    if args.verify {
        verify_report.extend(not_decoded.iter().map(|n| format!("{n}, so not verified")));
    }
    let daemon = match (&capture_report, &args.dir) {
        (None, Some(dir)) => Some(
            capture_dir::read_daemon(dir)
                .map_err(inspect_err)?
                .as_ref()
                .map(DaemonReport::from),
        ),
        _ => None,
    };
    let (broadcast_files, tap_log) = match (&capture_report, &args.dir) {
        (None, Some(dir)) => (
            BroadcastFileReport::all(&capture_dir::broadcasts(dir).map_err(inspect_err)?),
            capture_dir::tap_log(dir).map_err(inspect_err)?,
        ),
        _ => (None, None),
    };
    let mut report = Report {
        connections,
        capture: capture_report,
        daemon,
        broadcast_files,
        tap_log,
    };
    // A worker the JVM had the daemon kill leaves a reply that ends between
    // items: expected, not damage.
    let killed: Vec<bool> = report
        .connections
        .iter()
        .map(|c| c.pid.is_some_and(|p| report.killed(p)))
        .collect();
    for (c, k) in report.connections.iter_mut().zip(killed) {
        if k {
            c.forgive_ended();
        }
    }
    let cut_file = report
        .capture
        .as_ref()
        .filter(|c| c.truncated)
        .map(|_| "capture: the file ends inside a packet".to_owned());
    let incomplete: Vec<String> = cut_file
        .into_iter()
        .chain(not_decoded)
        .chain(report.connections.iter().flat_map(|c| {
            c.error
                .iter()
                .chain(&c.further_errors)
                .map(move |e| format!("connection {}, {e}", c.name))
        }))
        .collect();
    select(&mut report, &mut conns, args)?;
    let keep = |i: usize, t: &Task| {
        args.task.is_none_or(|w| w == i)
            && args.partition.is_none_or(|p| t.header.partition_index == p)
    };
    let mut out = io::BufWriter::new(io::stdout().lock());
    match args.format {
        Format::Json => {
            let doc = Streamed {
                report: &report,
                decoded: &conns,
                keep: &keep,
                // Complete unless asked otherwise (0: all).
                max_records: args.max_records.filter(|&n| n > 0),
            };
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
        Format::Text => text(
            &mut out,
            &report,
            &conns,
            &keep,
            args.max_records.unwrap_or(TEXT_MAX_RECORDS),
        )?,
    }
    out.flush()?;
    for e in &incomplete {
        eprintln!("sparkwire decode: incomplete: {e}");
    }
    if args.verify {
        if verify_report.is_empty() {
            eprintln!("verify: every byte re-encodes identically");
        }
        for r in &verify_report {
            eprintln!("verify: {r}");
        }
    }
    // Exit status: 0 every byte decoded (and verified when asked), 1 the
    // input is damaged, incomplete or does not verify, 2 usage or I/O errors
    // (returned as `Err` to `main`).
    Ok(if incomplete.is_empty() && verify_report.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
/// One accumulator update as the task text shows it: `accumulator ID: VALUE`.
fn accumulator_text(u: &sparkwire_inspect::report::AccumulatorUpdate) -> String {
    match u.id {
        Some(id) => format!("accumulator {id}: {}", u.value),
        None => format!("not an (id, value) pair: {}", u.value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sparkwire_inspect::py4j::summarize;

    #[test]
    fn py4j_text_names_exceptions_and_where_decoding_stopped() {
        let client = concat!(
            "A\n0123abcd\n",
            "c\nz:org.apache.spark.api.python.PythonRDD\ncollectAndServe\nro3\ne\n",
            "c\nz:java.lang.Math\nmax\ni007\ne\n",
            "c\no1\nstop\n",
        );
        let server = "!yv\n!xro4\n!xsMethod max does not exist\\n\tat x\n";
        let text = py4j_text(&Py4jReport::new(&summarize(
            client.as_bytes(),
            server.as_bytes(),
        )));
        assert_eq!(
            text,
            "Py4J, 2 commands (auth, call), 3 replies (2 errors, 0 fatal); 1 Java exception \
             thrown by org.apache.spark.api.python.PythonRDD.collectAndServe\n    \
             calls: org.apache.spark.api.python.PythonRDD.collectAndServe\n    \
             py4j error: Method max does not exist\n    \
             Python → JVM: 1 message skipped for bad values\n      \
             message 2, line 4 at byte 98: call: not a canonical 32-bit integer\n    \
             Python → JVM: decoding stopped after 2 messages (105 bytes): message 3 at byte \
             105: input ended inside call after 3 complete lines"
        );
        // The auth token is never shown.
        assert!(!text.contains("0123abcd"));
    }
}
