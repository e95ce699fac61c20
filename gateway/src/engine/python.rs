//! What `SimplePythonFunction` carries, and one partition of a `PythonRDD`
//! run on the worker host.

use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use sparkwire_framing::Frame;
use sparkwire_worker::host::{Host, Output, Task, TaskError, TaskInput};

use super::accumulators::AccumulatorTarget;
use super::elem::Elem;
use super::error::{JobError, TaskPlace};

/// A broadcast variable as a task sees it: its id, the file of its pickled
/// value, and whether the driver destroyed it.
#[derive(Clone, Debug)]
pub struct BroadcastVar {
    /// `Broadcast.id`.
    pub id: i64,
    /// The pickled value's file.
    pub path: PathBuf,
    /// Set by `destroy()`.
    pub destroyed: Arc<std::sync::atomic::AtomicBool>,
}

/// A `SimplePythonFunction`: the cloudpickled command and what the worker needs
/// around it.
#[derive(Debug)]
pub struct PythonFunction {
    /// `(func, profiler, deserializer, serializer)`, cloudpickled.
    pub command: Bytes,
    /// Environment for the worker (`PYTHONHASHSEED` …).
    pub env: Vec<(String, String)>,
    /// Python includes (`--py-files`, `addPyFile`), relative to the files root.
    pub includes: Vec<String>,
    /// The interpreter the driver asked for.
    pub python_exec: String,
    /// The driver's `"major.minor"`.
    pub python_version: String,
    /// Broadcasts the function reads.
    pub broadcasts: Vec<BroadcastVar>,
    /// Where accumulator updates go.
    pub accumulator: Option<Arc<AccumulatorTarget>>,
}

/// Runs `func` over `input` on a worker: the output elements (one per data
/// frame) and the accumulator updates.
pub(super) fn run(
    host: &Host,
    files_dir: &std::path::Path,
    func: &PythonFunction,
    place: TaskPlace,
    input: Vec<Elem>,
    barrier: Option<Arc<super::barrier::BarrierGroup>>,
) -> Result<Vec<Elem>, JobError> {
    let mut payloads = Vec::with_capacity(input.len());
    for e in &input {
        e.write_payloads(&mut payloads);
    }
    let frames = payloads.into_iter().map(Frame::Data);
    let mut task = Task::rdd(
        func.command.clone(),
        place.partition as i32,
        TaskInput::frames(frames),
    );
    task.header.python_version = func.python_version.clone();
    task.header.context.stage_id = place.stage;
    task.header.context.partition_id = place.partition as i32;
    task.header.context.task_attempt_id = place.task_id;
    task.header.context.local_properties = place.properties.clone();
    task.header.spark_files_dir = files_dir.display().to_string();
    task.header.python_includes = func.includes.clone();
    // A barrier task's server lives as long as the task.
    let group = barrier;
    let _server = match &group {
        Some(group) => {
            let server = super::barrier::BarrierServer::start(group.clone(), place.partition)
                .map_err(|e| JobError::Host(format!("barrier server: {e}")))?;
            task.header.context.is_barrier = true;
            task.header.context.barrier_conn = Some(sparkwire_worker::protocol::ConnInfo::Port(
                i32::from(server.port),
            ));
            task.header.context.barrier_secret = Some(server.secret.clone());
            Some(server)
        }
        None => None,
    };
    for b in &func.broadcasts {
        if b.destroyed.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(JobError::Exception {
                class: "org.apache.spark.SparkException".into(),
                message: format!(
                    "Attempted to use Broadcast({}) after it was destroyed",
                    b.id
                ),
            });
        }
        task = task.with_broadcast(b.id, b.path.clone());
    }
    for (k, v) in &func.env {
        task = task.with_env(k.clone(), v.clone());
    }
    let fail = |e: TaskError| {
        if let Some(g) = &group {
            g.abort();
        }
        JobError::Task {
            place: place.clone(),
            error: Arc::new(e),
        }
    };
    let mut run = host.run(task).map_err(fail)?;
    let mut out = Vec::new();
    for item in run.by_ref() {
        match item.map_err(fail)? {
            Output::Data(b) => out.push(Elem::Bytes(b)),
            Output::Null => out.push(Elem::Bytes(Bytes::new())),
            Output::ArrowStart | Output::Arrow(_) => {}
        }
    }
    let summary = run.finish().map_err(fail)?;
    if let Some(target) = &func.accumulator {
        target.send(&summary.accumulators)?;
    }
    Ok(out)
}
