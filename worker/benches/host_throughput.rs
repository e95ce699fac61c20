//! The host against Spark, same run: 10 M ints through `map(x * 3 + 1)` on one
//! daemon worker of the latest pinned release, driven by the host, then the
//! same job in real Spark `local[1]` through that release's pyspark. Both sides
//! send the input the same way (`sc.parallelize(list)`'s framing: pickled
//! batches of 1 024) and take every output batch back (`rdd.map(f)._jrdd.count()`:
//! the JVM receives the worker's batches and only counts them; the host only
//! counts them too). Best of 5 after a warm-up on each side, so JVM start-up,
//! worker fork and imports are not timed; over loopback TCP (Spark's default)
//! and, from 4.1, Unix-domain sockets.
//!
//! Also CPU per record, from `getrusage` for this process and `/proc/<pid>/stat`
//! for the others: the host's against the Python worker's, and Spark's JVM's
//! against its worker's. The input is pickled here as the host pulls it (Spark's
//! driver pickles it before the job); that share is measured on its own, by
//! the thread's CPU clock, and reported apart from the host's transport.
//!
//! Run: `cargo bench -p sparkwire-worker --bench host_throughput`
//! (`SPARKWIRE_BENCH_RECORDS=N` for another size).

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::json;
use sparkwire_framing::Frame;
use sparkwire_serializers::pickle::{self, Graph, Int, NodeId, Profile, Value};
use sparkwire_serializers::pyspark::Serializer;
use sparkwire_testkit::oracle::python_for;
use sparkwire_testkit::pickle_desc::serializer_spec;
use sparkwire_testkit::{oracle_versions, unhex, with_oracle};
use sparkwire_worker::host::{Host, HostConfig, Mode, Output, Python, Task, TaskInput};
use sparkwire_worker::protocol::SparkVersion;

/// Records per input frame, as `sc.parallelize(list)` batches them.
const BATCH: u64 = 1024;
const RUNS: usize = 5;

/// What `rdd.map(f)` runs on the worker: `map(fail_on_stopiteration(f), it)`.
const JOB: &str = "from pyspark.util import fail_on_stopiteration\n\
f = fail_on_stopiteration(lambda x: x * 3 + 1)\n\
def job(split, it):\n    return map(f, it)\n";

/// The Spark side: `n runs unix`; prints one JSON line per timed run. Worker
/// CPU is read from `/proc` for the daemon's forked children, the JVM's from
/// the gateway process (spark-submit execs the JVM).
const SPARK: &str = r#"
import json, os, sys, time
from pyspark import SparkConf, SparkContext

n, runs, unix = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "unix"

def procs():
    out = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            stat = open(f"/proc/{p}/stat").read()
            cmd = open(f"/proc/{p}/cmdline", "rb").read()
        except OSError:
            continue
        rest = stat.rsplit(")", 1)[1].split()
        out[int(p)] = (int(rest[1]), int(rest[11]) + int(rest[12]), cmd)
    return out

def worker_ticks():
    ps = procs()
    daemon = lambda pid: pid in ps and b"pyspark.daemon" in ps[pid][2]
    return sum(t for pid, (ppid, t, _) in ps.items() if daemon(pid) and daemon(ppid))

def ticks(pid):
    rest = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(rest[11]) + int(rest[12])

conf = (SparkConf().setMaster("local[1]").setAppName("sparkwire-host-bench")
        .set("spark.ui.enabled", "false")
        .set("spark.python.unix.domain.socket.enabled", str(unix).lower()))
sc = SparkContext(conf=conf)
sc.setLogLevel("ERROR")
jvm = sc._gateway.proc.pid
assert open(f"/proc/{jvm}/comm").read().strip() == "java", "the gateway is not the JVM"
data = list(range(n))
mapped = sc.parallelize(data, 1).map(lambda x: x * 3 + 1)
del data
batches = mapped._jrdd.count()  # warm-up: worker fork, imports, JIT
hz = os.sysconf("SC_CLK_TCK")
for _ in range(runs):
    w0, j0, t0 = worker_ticks(), ticks(jvm), time.perf_counter()
    assert mapped._jrdd.count() == batches
    wall = time.perf_counter() - t0
    w1, j1 = worker_ticks(), ticks(jvm)
    print(json.dumps({"wall": wall, "worker_cpu": (w1 - w0) / hz, "jvm_cpu": (j1 - j0) / hz}),
          flush=True)
assert mapped.sum() == 3 * n * (n - 1) // 2 + n
sc.stop()
"#;

/// One timed run: wall time and CPU seconds.
#[derive(Debug, Clone, Copy)]
struct Run {
    wall: f64,
    /// This process (the host), or Spark's JVM.
    driver_cpu: f64,
    /// Of `driver_cpu`, pickling the input (host only).
    input_cpu: f64,
    worker_cpu: f64,
}

impl Run {
    /// The driver's CPU without pickling the input.
    fn transport_cpu(&self) -> f64 {
        self.driver_cpu - self.input_cpu
    }
}

fn command(release: &str) -> Bytes {
    let input = Serializer::batched(Serializer::CPickle, BATCH as i64);
    with_oracle(release, |o| {
        let req = json!({
            "op": "command_pickle", "source": JOB, "filename": "/jobs/host_throughput.py",
            "name": "job", "deserializer": serializer_spec(&input),
            "serializer": serializer_spec(&Serializer::rdd_default()),
        });
        unhex(o.call(req).unwrap()["data"].as_str().unwrap())
    })
    .expect("oracle")
    .into()
}

/// User + system CPU seconds of this process, all threads.
fn self_cpu() -> f64 {
    // SAFETY: an all-zero rusage is valid, and getrusage only fills it.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) }, 0);
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    secs(u.ru_utime) + secs(u.ru_stime)
}

/// CPU seconds of the calling thread.
fn thread_cpu() -> f64 {
    // SAFETY: an all-zero timespec is valid, and clock_gettime only fills it.
    let mut t: libc::timespec = unsafe { std::mem::zeroed() };
    assert_eq!(
        unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) },
        0
    );
    t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9
}

/// User + system CPU seconds of another process, from `/proc/<pid>/stat`.
fn proc_cpu(pid: i32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let rest: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    let ticks: u64 = rest[11].parse::<u64>().unwrap() + rest[12].parse::<u64>().unwrap();
    // SAFETY: sysconf has no preconditions.
    ticks as f64 / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
}

/// CPU seconds spent pickling the input of the running task.
static INPUT_CPU: Mutex<f64> = Mutex::new(0.0);

/// `pickle.dumps(list(range(start, end)), 5)` frames made as the host pulls
/// them. One graph of 1 024 int nodes is rewritten in place for each batch, so
/// a batch costs its encoding and no allocation.
fn input(records: u64) -> TaskInput<'static> {
    let mut g = Graph::new();
    let ints: Vec<NodeId> = (0..BATCH)
        .map(|_| g.add(Value::Int(Int::Small(0))))
        .collect();
    let list = g.add_list(&ints);
    g.set_root(list);
    TaskInput::frames((0..records).step_by(BATCH as usize).map(move |start| {
        let t0 = thread_cpu();
        let len = (records - start).min(BATCH) as usize;
        if len < BATCH as usize {
            // The last batch may be shorter.
            g.replace_items(list, &ints[..len]).expect("a small list");
        }
        for (x, &id) in (start..).zip(&ints[..len]) {
            if let Value::Int(Int::Small(v)) = g.get_mut(id) {
                *v = x as i64;
            }
        }
        let frame = Frame::Data(pickle::encode(&g, Profile::PYSPARK).unwrap().into());
        *INPUT_CPU.lock().unwrap() += thread_cpu() - t0;
        frame
    }))
}

/// One task of `records` ints. The output is counted, not decoded (the JVM
/// only counts it on the Spark side), except the last batch, which must end
/// with the last record's image.
fn host_run(host: &Host, command: &Bytes, records: u64) -> Run {
    *INPUT_CPU.lock().unwrap() = 0.0;
    let cpu0 = self_cpu();
    let started = Instant::now();
    let mut run = host
        .run(Task::rdd(command.clone(), 0, input(records)))
        .unwrap();
    let pid = run.pid();
    let worker0 = proc_cpu(pid);
    let mut last = Bytes::new();
    for output in &mut run {
        if let Output::Data(b) = output.unwrap() {
            last = b;
        }
    }
    let summary = run.finish().unwrap();
    let wall = started.elapsed().as_secs_f64();
    let driver_cpu = self_cpu() - cpu0;
    // A daemon worker stays alive (idle) after its task: its CPU can be read.
    assert!(summary.reusable);
    let worker_cpu = proc_cpu(pid) - worker0;
    let d = pickle::decode(&last).unwrap();
    let Value::List(items) = d.graph.get(d.root()) else {
        panic!("the last batch is not a list")
    };
    let tail = d.graph.items(*items).last().map(|&id| d.graph.get(id));
    assert!(
        matches!(tail, Some(Value::Int(Int::Small(v))) if *v == 3 * (records as i64 - 1) + 1),
        "the last record is not 3 × (records − 1) + 1: {tail:?}"
    );
    Run {
        wall,
        driver_cpu,
        input_cpu: *INPUT_CPU.lock().unwrap(),
        worker_cpu,
    }
}

fn host_runs(python: &Python, command: &Bytes, records: u64, unix: bool) -> Vec<Run> {
    let host = Host::new(
        python.clone(),
        HostConfig {
            mode: Mode::Daemon,
            unix_sockets: unix,
            reply_timeout: Duration::from_secs(300),
            ..HostConfig::default()
        },
    )
    .unwrap();
    host_run(&host, command, 1000); // warm-up: daemon start, fork, imports
    (0..RUNS)
        .map(|_| host_run(&host, command, records))
        .collect()
}

fn spark_runs(python: &std::path::Path, records: u64, unix: bool) -> Vec<Run> {
    let log = std::env::temp_dir().join(format!("sparkwire-host-bench-{}.log", std::process::id()));
    let transport = if unix { "unix" } else { "tcp" };
    let out = Command::new(python)
        .args([
            "-c",
            SPARK,
            &records.to_string(),
            &RUNS.to_string(),
            transport,
        ])
        .env("PYSPARK_PYTHON", python)
        .env("PYSPARK_DRIVER_PYTHON", python)
        .stdin(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .output()
        .unwrap();
    if !out.status.success() {
        let err = std::fs::read_to_string(&log).unwrap_or_default();
        let lines: Vec<&str> = err.lines().collect();
        let tail = lines[lines.len().saturating_sub(30)..].join("\n");
        panic!("the Spark run failed ({}):\n{tail}", out.status);
    }
    let _ = std::fs::remove_file(&log);
    let runs: Vec<Run> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            Run {
                wall: v["wall"].as_f64().unwrap(),
                driver_cpu: v["jvm_cpu"].as_f64().unwrap(),
                input_cpu: 0.0,
                worker_cpu: v["worker_cpu"].as_f64().unwrap(),
            }
        })
        .collect();
    assert_eq!(runs.len(), RUNS, "the Spark script printed {runs:?}");
    runs
}

/// Median and range of `f` over the runs.
fn stats(runs: &[Run], f: impl Fn(&Run) -> f64) -> (f64, f64, f64) {
    let mut v: Vec<f64> = runs.iter().map(f).collect();
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn report(records: u64, ours: &[Run], theirs: &[Run]) {
    let n = records as f64;
    let rate = |runs: &[Run]| {
        let (_, best, worst) = stats(runs, |r| r.wall);
        (n / best / 1e6, best, worst)
    };
    let ns = |runs: &[Run], f: &dyn Fn(&Run) -> f64| stats(runs, |r| f(r) * 1e9 / n).0;
    let pct = |runs: &[Run], f: &dyn Fn(&Run) -> f64| stats(runs, |r| 100.0 * f(r) / r.worker_cpu);
    let (o, t) = (rate(ours), rate(theirs));
    println!(
        "    sparkwire host:  {:5.2} M records/s  (best {:.2} s, worst {:.2} s)",
        o.0, o.1, o.2
    );
    println!(
        "    Spark local[1]:  {:5.2} M records/s  (best {:.2} s, worst {:.2} s)",
        t.0, t.1, t.2
    );
    println!("    → the host: {:.2}× Spark's records/s", o.0 / t.0);
    println!(
        "    CPU per record (medians): host {:.1} ns + {:.1} ns pickling the input; Spark's JVM {:.1} ns; \
         Python worker {:.0} ns (host), {:.0} ns (Spark)",
        ns(ours, &Run::transport_cpu),
        ns(ours, &|r| r.input_cpu),
        ns(theirs, &|r| r.driver_cpu),
        ns(ours, &|r| r.worker_cpu),
        ns(theirs, &|r| r.worker_cpu),
    );
    let (h, hmin, hmax) = pct(ours, &Run::transport_cpu);
    let (a, amin, amax) = pct(ours, &|r| r.driver_cpu);
    let (j, jmin, jmax) = pct(theirs, &|r| r.driver_cpu);
    println!(
        "    host CPU / worker CPU: {h:.1}% (runs {hmin:.1}–{hmax:.1}%; goal ≤ 10%); \
         with the input pickling {a:.1}% ({amin:.1}–{amax:.1}%); Spark's JVM / worker {j:.1}% ({jmin:.1}–{jmax:.1}%)"
    );
}

fn main() {
    let records: u64 = std::env::var("SPARKWIRE_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
    let release = oracle_versions().pop().expect("a pinned release");
    let exe = python_for(&release).expect("the release's venv");
    let python = Python::probe(&exe).unwrap();
    let command = command(&release);
    println!(
        "host throughput: {records} ints through map(x * 3 + 1), pyspark {release}, one worker, best of {RUNS}"
    );
    println!("  load average before: {}", load());
    let mut transports = vec![("loopback TCP (Spark's default)", false)];
    if python.spark >= SparkVersion::V4_1 {
        transports.push(("Unix-domain sockets", true));
    }
    for (name, unix) in transports {
        println!("  {name}:");
        let _ = std::io::stdout().flush();
        let ours = host_runs(&python, &command, records, unix);
        let theirs = spark_runs(&exe, records, unix);
        report(records, &ours, &theirs);
    }
    println!("  load average after: {}", load());
}
