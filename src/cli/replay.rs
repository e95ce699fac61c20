//! `sparkwire replay`: re-runs captured tasks on a real local worker of the
//! recorded release — the recorded header, command, broadcasts and input — and
//! diffs the new output against the recording. This is how a dying worker from
//! a production capture is reproduced on a laptop.
//!
//! Each task runs on a fresh simple worker, given the broadcasts its worker
//! held at that point of the connection, so any task can be replayed alone.
//! Exit status: 0 every task matched, 1 a task differed or could not run,
//! 2 the capture or the arguments could not be used.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;
use sparkwire_inspect::capture::{self, Connection};
use sparkwire_inspect::capture_dir;
use sparkwire_inspect::pcap;
use sparkwire_inspect::replay::{self, Difference, Planned};
use sparkwire_inspect::report::CaptureReport;
use sparkwire_worker::host::{
    Host, HostConfig, Mode, Output, Python, Task, TaskError, TaskInput, TaskSummary,
};
use sparkwire_worker::protocol::{ReplyItem, SparkVersion, TaskEncoder};

use super::args::ReplayArgs;
use super::read_input;

fn invalid(e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, e.to_string())
}

/// The capture's worker connections, decoded.
fn connections(path: &Path, spark: Option<SparkVersion>) -> io::Result<Vec<(String, Connection)>> {
    if path.is_file() {
        let data = read_input(path)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        let cap = pcap::read(&data).map_err(|e| invalid(format!("{}: {e}", path.display())))?;
        let (_, workers) = CaptureReport::new(cap, spark, |_, _| {});
        return Ok(workers.into_iter().map(|(s, c)| (s.name, c)).collect());
    }
    let mut out = Vec::new();
    for r in capture_dir::read_dir(path).map_err(invalid)? {
        let c = capture::decode(&r.to_worker, &r.from_worker, spark)
            .map_err(|e| invalid(format!("{}: connection {}: {e}", path.display(), r.name)))?;
        out.push((r.name, c));
    }
    Ok(out)
}

/// Interpreters to try when `--python` is not given: those on PATH.
fn candidates() -> Vec<PathBuf> {
    let mut names = vec!["python3".to_string(), "python".to_string()];
    names.extend((8..=14).map(|m| format!("python3.{m}")));
    let mut out = Vec::new();
    for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
        for n in &names {
            let p = dir.join(n);
            if p.is_file() && !out.contains(&p) {
                out.push(p);
            }
        }
    }
    out
}

/// The interpreter to replay with: `--python`, checked, or one found on PATH.
fn python(args: &ReplayArgs, fits: &[SparkVersion]) -> io::Result<Python> {
    let wanted = fits
        .iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(" or ");
    match &args.python {
        Some(p) => {
            let py = Python::probe(p).map_err(invalid)?;
            if fits.contains(&py.spark) {
                Ok(py)
            } else {
                Err(invalid(format!(
                    "{} has pyspark {}; the capture needs pyspark {wanted}",
                    p.display(),
                    py.pyspark
                )))
            }
        }
        None => {
            let mut tried = Vec::new();
            for c in candidates() {
                match Python::probe(&c) {
                    Ok(py) if fits.contains(&py.spark) => return Ok(py),
                    Ok(py) => tried.push(format!("{}: pyspark {}", c.display(), py.pyspark)),
                    Err(e) => tried.push(format!("{}: {e}", c.display())),
                }
            }
            Err(invalid(format!(
                "no Python on PATH has pyspark {wanted}, which the capture needs; give one with --python (tried: {})",
                if tried.is_empty() { "none found".to_string() } else { tried.join("; ") }
            )))
        }
    }
}

/// The task to send: the recorded header, input and the broadcasts held.
fn task(p: &Planned, v: SparkVersion) -> Task {
    let t = &p.task;
    let input = if t.header.eval_type.is_arrow() {
        let mut bytes = Vec::new();
        TaskEncoder::new(v).arrow(&t.arrow_input, &mut bytes);
        TaskInput::arrow([Bytes::from(bytes)])
    } else {
        TaskInput::frames(t.input.clone())
    };
    let mut task = Task::new(t.header.clone(), input);
    task.broadcasts = Some(p.broadcast_files());
    task
}

/// The replayed reply as items, for comparing like the recording.
fn reply_items(outputs: Vec<Output>, summary: &TaskSummary) -> Vec<ReplyItem> {
    let mut items: Vec<ReplyItem> = outputs
        .into_iter()
        .map(|o| match o {
            Output::Data(b) => ReplyItem::Data(b),
            Output::Null => ReplyItem::Null,
            Output::ArrowStart => ReplyItem::ArrowStart,
            Output::Arrow(a) => ReplyItem::Arrow(a),
        })
        .collect();
    if let Some(t) = summary.timing {
        items.push(ReplyItem::Timing(t));
    }
    items.extend(
        summary
            .accumulators
            .iter()
            .cloned()
            .map(ReplyItem::Accumulator),
    );
    if let Some(e) = summary.end {
        items.push(ReplyItem::End(e));
    }
    items
}

/// Runs one task; its reply items, a Python exception being part of the reply.
fn run_one(host: &Host, task: Task) -> Result<Vec<ReplyItem>, TaskError> {
    let mut run = host.run(task)?;
    let mut outputs = Vec::new();
    for o in &mut run {
        match o {
            Ok(o) => outputs.push(o),
            Err(TaskError::Python { traceback, .. }) => {
                let mut items = reply_items(outputs, run.summary());
                items.push(ReplyItem::Exception(traceback));
                return Ok(items);
            }
            Err(e) => return Err(e),
        }
    }
    let summary = run.finish()?;
    Ok(reply_items(outputs, &summary))
}

/// `sparkwire replay`.
pub fn run(args: &ReplayArgs) -> io::Result<ExitCode> {
    let spark = match args.spark.as_str() {
        "auto" => None,
        s => Some(s.parse::<SparkVersion>().map_err(invalid)?),
    };
    let conns = connections(&args.capture, spark)?;
    let captured = if args.capture.is_dir() {
        capture_dir::broadcasts(&args.capture).map_err(invalid)?
    } else {
        BTreeMap::new()
    };
    let plans =
        replay::plan(&conns, &captured, args.connection.as_deref(), args.task).map_err(invalid)?;
    let Some(first) = plans.first() else {
        return Err(invalid(format!(
            "{}: no task to replay",
            args.capture.display()
        )));
    };
    let fits = if first.fits.is_empty() {
        vec![first.version]
    } else {
        first.fits.clone()
    };
    let python = python(args, &fits)?;
    let config = HostConfig {
        mode: Mode::Simple,
        reply_timeout: Duration::from_secs(args.timeout.max(1)),
        ..HostConfig::default()
    };
    let host = Host::new(python, config).map_err(invalid)?;
    let py = host.python();
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "replaying {} task(s) of {} with {} (Python {}, pyspark {})",
        plans.len(),
        args.capture.display(),
        py.exe.display(),
        py.version,
        py.pyspark
    )?;
    let mut all_match = true;
    for p in &plans {
        let h = &p.task.header;
        writeln!(
            out,
            "\nconnection {}, task {}: eval type {}, partition {}, driver Python {}",
            p.connection, p.index, h.eval_type, h.partition_index, h.python_version
        )?;
        if h.python_version != py.version {
            writeln!(
                out,
                "  note: recorded by Python {}, replaying on {}: the worker refuses other minor versions",
                h.python_version, py.version
            )?;
        }
        let items = match run_one(&host, task(p, py.spark)) {
            Ok(items) => items,
            Err(e) => {
                all_match = false;
                writeln!(out, "  could not run: {e}")?;
                continue;
            }
        };
        let cmp = replay::compare(&p.task, items, p.version, args.limit);
        writeln!(
            out,
            "  replayed output ({} records):",
            cmp.replayed_records.len()
        )?;
        for r in cmp.replayed_records.iter().take(args.limit) {
            writeln!(out, "    {r}")?;
        }
        if cmp.replayed_records.len() > args.limit {
            writeln!(
                out,
                "    … {} more (--limit)",
                cmp.replayed_records.len() - args.limit
            )?;
        }
        if cmp.matches() {
            writeln!(
                out,
                "  same as recorded ({} records; timing ignored)",
                cmp.recorded_count
            )?;
            continue;
        }
        all_match = false;
        writeln!(
            out,
            "  DIFFERS from the recording ({} records recorded):",
            cmp.recorded_count
        )?;
        for d in &cmp.differences {
            let show = |r: &Option<String>| r.clone().unwrap_or_else(|| "(none)".into());
            match d {
                Difference::Record {
                    index,
                    recorded,
                    replayed,
                } => writeln!(
                    out,
                    "    record {index}: recorded {}, replayed {}",
                    show(recorded),
                    show(replayed)
                )?,
                Difference::Accumulators { recorded, replayed } => writeln!(
                    out,
                    "    accumulators: recorded [{}], replayed [{}]",
                    recorded.join(", "),
                    replayed.join(", ")
                )?,
                Difference::Exception { recorded, replayed } => writeln!(
                    out,
                    "    exception: recorded {}, replayed {}",
                    show(recorded),
                    show(replayed)
                )?,
                Difference::End { recorded, replayed } => writeln!(
                    out,
                    "    end: recorded {}, replayed {}",
                    recorded.unwrap_or("(none)"),
                    replayed.unwrap_or("(none)")
                )?,
            }
        }
        if cmp.more_record_differences > 0 {
            writeln!(
                out,
                "    … {} more differing records (--limit)",
                cmp.more_record_differences
            )?;
        }
    }
    Ok(if all_match {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
