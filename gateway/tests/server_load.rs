//! Our gateway server under load from the real py4j client: 64 Python threads
//! make 100 000 calls in all (`tests/python/py4j_load.py`), in ClientServer
//! and JavaGateway mode, with the newest pinned release's py4j and with
//! 3.5.9's. Every answer is checked by the script; here we check that nothing
//! deadlocks (the client is killed after [`CLIENT_DEADLINE`]), that every id
//! the client released left the registry once py4j's garbage collection has
//! sent its `m d` messages (and the ids it still holds did not), that every
//! connection ends, and that this process's resident memory stays flat.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value as Json;
use sparkwire_gateway::jvm::Jvm;
use sparkwire_gateway::py4j::server::{Mode, Server, ServerConfig};
use sparkwire_testkit::oracle::python_for;
use sparkwire_testkit::{oracle_missing, oracle_versions};

const TOKEN: &str = "load-test-token-0123456789abcdef";
const THREADS: u32 = 64;
const CALLS: u64 = 100_000;
/// Enough for every server thread, buffer and allocator arena to exist before
/// the memory baseline is taken.
const WARMUP_CALLS: u64 = 6_400;
/// A deadlock check, not a timing assertion: a healthy run takes well under a
/// minute even in a debug build on two cores.
const CLIENT_DEADLINE: Duration = Duration::from_secs(600);
/// How long py4j may take to send its releases once the client has dropped
/// everything (ClientServer's finalizer worker sleeps a second when idle and
/// sends one `m d` per round trip).
const RELEASE_DEADLINE: Duration = Duration::from_secs(60);
/// Resident memory growth allowed from the warm-up to the end of the load:
/// about 670 bytes a call, so a buffer or reply kept per call shows. Leaked
/// objects are caught exactly by the registry check, and connections that
/// never end by the `open` count. New connection threads and allocator arenas
/// come to about 10 MiB.
const RSS_GROWTH_LIMIT: u64 = 64 << 20;

fn load_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/py4j_load.py")
}

/// `VmRSS` of this process, in bytes (from `/proc/self/status`, which gives
/// kB and so needs no page size).
fn rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .expect("/proc/self/status")
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .expect("VmRSS")
        * 1024
}

fn mib(b: u64) -> f64 {
    b as f64 / f64::from(1 << 20)
}

/// The load script as a child process: phase reports from its stdout, go-ahead
/// on its stdin, stderr kept for failure messages, and a watchdog that kills
/// it after [`CLIENT_DEADLINE`].
struct Client {
    child: Arc<Mutex<Child>>,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    stderr: Option<JoinHandle<String>>,
    killed: Arc<AtomicBool>,
}

impl Client {
    fn start(python: &Path, mode: &str, port: u16) -> Client {
        let mut child = Command::new(python)
            .arg(load_script())
            .args([mode, &port.to_string(), TOKEN])
            .args([
                THREADS.to_string(),
                WARMUP_CALLS.to_string(),
                CALLS.to_string(),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run the venv's python");
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut err = child.stderr.take().expect("stderr");
        let stderr = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = err.read_to_string(&mut s);
            s
        });
        let child = Arc::new(Mutex::new(child));
        let killed = Arc::new(AtomicBool::new(false));
        {
            let (child, killed) = (Arc::clone(&child), Arc::clone(&killed));
            let started = Instant::now();
            std::thread::spawn(move || loop {
                std::thread::sleep(Duration::from_millis(200));
                let mut c = child.lock().unwrap_or_else(|p| p.into_inner());
                if !matches!(c.try_wait(), Ok(None)) {
                    return;
                }
                if started.elapsed() > CLIENT_DEADLINE {
                    killed.store(true, Ordering::SeqCst);
                    let _ = c.kill();
                    return;
                }
            });
        }
        Client {
            child,
            stdin,
            stdout,
            stderr: Some(stderr),
            killed,
        }
    }

    /// Everything the client wrote on stderr (it has ended or been killed).
    fn stderr(&mut self) -> String {
        self.stdin.take();
        self.stderr
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default()
    }

    /// The report of phase `name`.
    fn report(&mut self, name: &str) -> Json {
        let mut line = String::new();
        let n = self.stdout.read_line(&mut line).expect("read the client");
        if n == 0 {
            let killed = self.killed.load(Ordering::SeqCst);
            panic!(
                "the client ended before its {name} report{}:\n{}",
                if killed {
                    " (killed after the deadline: a deadlock?)"
                } else {
                    ""
                },
                self.stderr()
            );
        }
        let report: Json = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("client report is not JSON ({e}): {line}"));
        assert_eq!(report["phase"], name, "{report}");
        report
    }

    fn send(&mut self, word: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{word}").expect("write to the client");
        stdin.flush().expect("flush");
    }

    /// Waits for the client to exit and checks that it succeeded.
    fn finish(mut self) {
        self.stdin.take();
        let status = loop {
            if let Some(st) = relock(&self.child).try_wait().expect("wait") {
                break st;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let err = self.stderr();
        assert!(status.success(), "the client failed ({status}):\n{err}");
    }
}

fn relock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Checks a phase report: every thread finished, no errors, every answer
/// right, every expected exception raised.
fn check_report(r: &Json, calls: u64, what: &str) {
    assert_eq!(
        r["error_count"], 0,
        "{what}: thread errors: {}",
        r["errors"]
    );
    assert_eq!(r["finished"], THREADS, "{what}: {r}");
    assert_eq!(r["calls"], calls, "{what}: {r}");
    assert_eq!(
        r["mismatches"],
        Json::Array(vec![]),
        "{what}: wrong answers"
    );
    assert_eq!(r["sums_wrong"], 0, "{what}: per-thread sums differ: {r}");
    assert_eq!(r["raised"], r["want_raised"], "{what}: exceptions: {r}");
    assert_eq!(r["pending_releases"], 0, "{what}: py4j never sent: {r}");
}

/// Polls the registry until it holds exactly the reserved ids and the ids the
/// client says it still holds; returns the final size and how long it took.
fn await_releases(
    server: &Server,
    baseline: usize,
    report: &Json,
    what: &str,
) -> (usize, Duration) {
    let held: Vec<&str> = report["held"]
        .as_array()
        .expect("held ids")
        .iter()
        .map(|v| v.as_str().expect("an id"))
        .collect();
    let want = baseline + held.len();
    let registry = server.jvm().registry();
    let started = Instant::now();
    while registry.len() != want && started.elapsed() < RELEASE_DEADLINE {
        std::thread::sleep(Duration::from_millis(20));
    }
    let len = registry.len();
    assert_eq!(
        len,
        want,
        "{what}: registry holds {len} ids {:?} after the client released everything \
         and py4j sent its releases; want {baseline} reserved + {} held by the client",
        started.elapsed(),
        held.len()
    );
    for id in held {
        assert!(
            registry.get(id).is_some(),
            "{what}: {id}, still held by the client, was released"
        );
    }
    (len, started.elapsed())
}

fn run(python: &Path, version: &str, mode: Mode) {
    let label = match mode {
        Mode::ClientServer => "clientserver",
        Mode::JavaGateway => "gateway",
    };
    let what = format!("pyspark {version} {label}");
    let server = Server::start(ServerConfig::new(TOKEN).mode(mode), Arc::new(Jvm::new()))
        .expect("start our server");
    let baseline = server.jvm().registry().len();
    let mut client = Client::start(python, label, server.port());

    let warm = client.report("warm");
    check_report(&warm, WARMUP_CALLS, &format!("{what} warm-up"));
    let (before, _) = await_releases(&server, baseline, &warm, &what);
    let issued_before = server.jvm().registry().issued();
    let rss_before = rss();
    let peak = Arc::new(AtomicUsize::new(0));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (jvm, peak, sampling) = (
            Arc::clone(server.jvm()),
            Arc::clone(&peak),
            Arc::clone(&sampling),
        );
        std::thread::spawn(move || {
            while sampling.load(Ordering::SeqCst) {
                peak.fetch_max(jvm.registry().len(), Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };
    client.send("go");

    let load = client.report("load");
    sampling.store(false, Ordering::SeqCst);
    sampler.join().expect("sampler");
    check_report(&load, CALLS, &what);
    let (after, settle) = await_releases(&server, baseline, &load, &what);
    let rss_after = rss();
    let issued = server.jvm().registry().issued() - issued_before;
    client.send("done");
    client.finish();

    // Every connection's thread ends once the client has gone.
    let started = Instant::now();
    while server.stats().open > 0 && started.elapsed() < RELEASE_DEADLINE {
        std::thread::sleep(Duration::from_millis(20));
    }
    let stats = server.stats();
    let wall = load["wall_s"].as_f64().expect("wall time");
    eprintln!(
        "{what}: {CALLS} calls from {THREADS} threads in {wall:.1} s ({:.0} calls/s), \
         {} commands sent meanwhile (with array lengths and releases); \
         {issued} ids issued; registry {before} before, peak {} during, {after} after \
         ({baseline} reserved + {} held; settled in {settle:.1?}); \
         RSS {:.1} MiB before, {:.1} MiB after ({:+.1} MiB); \
         {} connections accepted, {} corrupt, last error: {:?}",
        CALLS as f64 / wall,
        load["commands_sent"],
        peak.load(Ordering::SeqCst),
        after - baseline,
        mib(rss_before),
        mib(rss_after),
        (rss_after as f64 - rss_before as f64) / f64::from(1 << 20),
        stats.accepted,
        stats.corrupt,
        server.last_error(),
    );
    assert_eq!(stats.open, 0, "{what}: connections still open: {stats:?}");
    assert_eq!(stats.auth_failures, 0, "{what}: {stats:?}");
    assert_eq!(stats.corrupt, 0, "{what}: {stats:?}");
    assert!(
        issued > CALLS / 10,
        "{what}: only {issued} ids issued: the load made too few objects"
    );
    assert!(
        rss_after.saturating_sub(rss_before) < RSS_GROWTH_LIMIT,
        "{what}: resident memory grew by {:.1} MiB (limit {:.0} MiB)",
        mib(rss_after - rss_before),
        mib(RSS_GROWTH_LIMIT)
    );
    server.shutdown();
}

/// The newest pinned release, and 3.5.9 (the oldest line, whose py4j jar
/// differs but whose Python client is the same 0.10.9.9) when it is pinned.
fn versions() -> Vec<String> {
    let mut all = oracle_versions();
    all.sort_by_key(|v| {
        v.split('.')
            .map(|p| p.parse::<u32>().unwrap_or(0))
            .collect::<Vec<_>>()
    });
    let mut chosen: Vec<String> = all.last().cloned().into_iter().collect();
    if all.iter().any(|v| v == "3.5.9") && !chosen.iter().any(|v| v == "3.5.9") {
        chosen.push("3.5.9".into());
    }
    chosen
}

#[test]
fn real_py4j_clients_under_load_leave_no_ids_and_no_memory_behind() {
    // One test, the runs one after the other: the memory figures are this
    // process's, and a parallel test would move them.
    for v in versions() {
        let Some(python) = python_for(&v) else {
            oracle_missing(&format!("pyspark {v}"), "no venv");
            continue;
        };
        for mode in [Mode::ClientServer, Mode::JavaGateway] {
            run(&python, &v, mode);
        }
    }
}
