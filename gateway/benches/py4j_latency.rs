//! Round-trip latency of our py4j server against the real JVM's, same run:
//! py4j's own Java `ClientServer` (`tests/java/Py4jReference.java`, built from
//! the py4j jar of the newest pinned PySpark venv) and ours in ClientServer
//! mode, both on loopback with an auth token.
//!
//! 1. A raw socket client in Rust (TCP_NODELAY, one connection, sequential):
//!    `HashMap.get("k")` on a map made with real commands, and the static
//!    `Math.max(1, 2)`. Median and p99 per round trip; the rounds of ours and
//!    the JVM's alternate, after a warm-up that lets the JIT compile the JVM's
//!    path. A third server that only answers (no decoding, no work) gives the
//!    loopback floor both pay: what lies above it is each server's own cost.
//! 2. End to end through the real py4j Python client (`ClientServer`, what
//!    PySpark uses): `m.get("k")` timed call by call in Python. The same loop
//!    with py4j's `send_command` answered in-process gives the client's own
//!    cost, which both servers pay alike.
//! 3. Eight connections calling at once, each from its own thread: calls/s.
//!
//! The goal set for the server is a round trip at most 0.5× the JVM's.
//!
//! Run: `cargo bench -p sparkwire-gateway --bench py4j_latency`
//! (`SPARKWIRE_BENCH_CALLS=N` for another number of timed calls per round).

#[path = "../tests/support/py4j_reference.rs"]
mod py4j_reference;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use serde_json::Value as Json;
use sparkwire_gateway::jvm::Jvm;
use sparkwire_gateway::py4j::server::{Server, ServerConfig};
use sparkwire_testkit::oracle::python_for;
use sparkwire_testkit::oracle_versions;

use py4j_reference::JavaServer;

const TOKEN: &str = "bench-token-0123456789abcdef0123";
/// Calls before any timing: enough for the JVM's JIT to compile the command
/// path (C2 compiles after about ten thousand invocations).
const WARMUP: usize = 20_000;
/// Alternating rounds of ours and the JVM's, so drift in the machine's load
/// falls on both.
const ROUNDS: usize = 3;
/// Concurrent connections for the throughput measurement.
const CONNECTIONS: usize = 8;

const GET: &[u8] = b"!ysv\n";
const MAX: &[u8] = b"!yi2\n";

/// One authenticated py4j connection spoken to byte for byte.
struct Raw {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
    line: Vec<u8>,
}

impl Raw {
    fn connect(port: u16, token: &str) -> Raw {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        let reader = BufReader::new(stream.try_clone().expect("clone"));
        let mut raw = Raw {
            stream,
            reader,
            line: Vec::with_capacity(64),
        };
        let auth = format!("A\n{token}\n");
        assert_eq!(raw.ask(auth.as_bytes()), b"!yv\n", "auth");
        raw
    }

    /// Sends one command and reads its one-line reply.
    fn ask(&mut self, command: &[u8]) -> &[u8] {
        self.stream.write_all(command).expect("write");
        self.line.clear();
        self.reader.read_until(b'\n', &mut self.line).expect("read");
        &self.line
    }

    /// A `java.util.HashMap` holding `k → v`; the command that gets `k`.
    fn map_get_command(&mut self) -> Vec<u8> {
        let reply = self.ask(b"i\njava.util.HashMap\ne\n").to_vec();
        let id = reply
            .strip_prefix(b"!ya")
            .and_then(|r| r.strip_suffix(b"\n"))
            .unwrap_or_else(|| {
                panic!("a map reference, got {:?}", String::from_utf8_lossy(&reply))
            });
        let id = String::from_utf8_lossy(id).into_owned();
        let put = format!("c\n{id}\nput\nsk\nsv\ne\n");
        assert_eq!(self.ask(put.as_bytes()), b"!yn\n", "put");
        format!("c\n{id}\nget\nsk\ne\n").into_bytes()
    }

    /// Times `n` round trips of `command`, each answered `expected`.
    fn time(&mut self, command: &[u8], expected: &[u8], n: usize, into: &mut Vec<Duration>) {
        for _ in 0..n {
            let t = Instant::now();
            let reply = self.ask(command);
            let d = t.elapsed();
            assert_eq!(reply, expected);
            into.push(d);
        }
    }
}

/// The loopback floor: a server that only answers, `reply` to every command
/// (lines up to `e`) and `!yv` to an auth exchange, on a blocking thread per
/// connection as ours. What a round trip costs with no work done at all.
fn floor_server(reply: &'static [u8]) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                stream.set_nodelay(true).expect("nodelay");
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut line = Vec::new();
                loop {
                    line.clear();
                    if reader.read_until(b'\n', &mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let answer = match line.as_slice() {
                        b"A\n" => {
                            line.clear();
                            let _ = reader.read_until(b'\n', &mut line);
                            b"!yv\n".as_slice()
                        }
                        b"e\n" => reply,
                        _ => continue,
                    };
                    if stream.write_all(answer).is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

/// Median and p99 of a set of durations, in µs.
fn percentiles(samples: &mut [Duration]) -> (f64, f64) {
    samples.sort_unstable();
    let at = |q: f64| {
        let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples[i].as_secs_f64() * 1e6
    };
    (at(0.5), at(0.99))
}

fn verdict(ratio: f64) -> &'static str {
    if ratio <= 0.5 {
        "goal ≤ 0.5× met"
    } else {
        "goal ≤ 0.5× NOT met"
    }
}

/// Sequential round trips over one connection to each server, and to the
/// loopback floor. Returns the two medians (ours, the JVM's) in µs.
fn raw_latency(
    name: &str,
    ours: u16,
    jvm: (u16, &str),
    floor: u16,
    calls: usize,
    map: bool,
    expected: &[u8],
) -> (f64, f64) {
    let mut a = Raw::connect(ours, TOKEN);
    let mut b = Raw::connect(jvm.0, jvm.1);
    let mut f = Raw::connect(floor, TOKEN);
    let static_max = b"c\nz:java.lang.Math\nmax\ni1\ni2\ne\n".to_vec();
    let (ca, cb) = if map {
        (a.map_get_command(), b.map_get_command())
    } else {
        (static_max.clone(), static_max)
    };
    let mut sink = Vec::with_capacity(WARMUP);
    a.time(&ca, expected, WARMUP, &mut sink);
    b.time(&cb, expected, WARMUP, &mut sink);
    f.time(&ca, expected, WARMUP, &mut sink);
    let (mut sa, mut sb, mut sf) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        a.time(&ca, expected, calls, &mut sa);
        b.time(&cb, expected, calls, &mut sb);
        f.time(&ca, expected, calls, &mut sf);
    }
    let (am, ap) = percentiles(&mut sa);
    let (bm, bp) = percentiles(&mut sb);
    let (fm, fp) = percentiles(&mut sf);
    println!(
        "raw {name}, {} sequential round trips each: sparkwire median {am:.1} µs p99 {ap:.1} µs, \
         JVM py4j median {bm:.1} µs p99 {bp:.1} µs → {:.2}× (p99 {:.2}×); {}",
        sa.len(),
        am / bm,
        ap / bp,
        verdict(am / bm)
    );
    println!(
        "  loopback floor (a server that only answers) median {fm:.1} µs p99 {fp:.1} µs; \
         above it (the server's own work): sparkwire {:.1} µs, JVM py4j {:.1} µs → {:.2}×",
        am - fm,
        bm - fm,
        (am - fm) / (bm - fm)
    );
    (am, bm)
}

/// `CONNECTIONS` threads, each with its own connection and map, calling
/// `get` at once; calls per second over the whole run.
fn concurrent(port: u16, token: &str, calls: usize) -> f64 {
    let barrier = Arc::new(Barrier::new(CONNECTIONS + 1));
    let threads: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let barrier = Arc::clone(&barrier);
            let token = token.to_owned();
            std::thread::spawn(move || {
                let mut c = Raw::connect(port, &token);
                let get = c.map_get_command();
                let mut sink = Vec::with_capacity(calls);
                c.time(&get, GET, calls / 10, &mut sink);
                sink.clear();
                barrier.wait();
                c.time(&get, GET, calls, &mut sink);
            })
        })
        .collect();
    barrier.wait();
    let t = Instant::now();
    for th in threads {
        th.join().expect("client thread");
    }
    (CONNECTIONS * calls) as f64 / t.elapsed().as_secs_f64()
}

/// The py4j client's side of the end-to-end measurement: prints medians and
/// p99 (ns) of `m.get("k")` against the server, then of the same call with
/// `send_command` answered in-process (the client's own cost).
const E2E: &str = r#"
import json, sys, time
from py4j.clientserver import ClientServer, JavaParameters, PythonParameters

port, token, warm, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
gw = ClientServer(
    java_parameters=JavaParameters(port=port, auth_token=token),
    # A daemon thread: a failure below must not leave the interpreter waiting.
    python_parameters=PythonParameters(port=0, auth_token=token, daemonize=True),
)
m = gw.jvm.java.util.HashMap()
m.put("k", "v")

def timed(count):
    pc = time.perf_counter_ns
    ts = []
    for _ in range(count):
        t0 = pc()
        v = m.get("k")
        ts.append(pc() - t0)
    assert v == "v", v
    ts.sort()
    return {"median_ns": ts[len(ts) // 2], "p99_ns": ts[(len(ts) - 1) * 99 // 100]}

timed(warm)
served = timed(n)
client = gw._gateway_client
real = client.send_command
# py4j hands the answer on without its leading "!".
client.send_command = lambda command, *a, **k: "ysv"
alone = timed(n)
client.send_command = real
print(json.dumps({"served": served, "client_alone": alone}))
# close, not shutdown: shutdown would send `s` and stop the server.
gw.close()
"#;

fn e2e(python: &Path, port: u16, token: &str, calls: usize) -> Json {
    let out = Command::new(python)
        .args(["-c", E2E, &port.to_string(), token])
        .args([(WARMUP / 4).to_string(), calls.to_string()])
        .output()
        .expect("run the venv's python");
    assert!(
        out.status.success(),
        "end-to-end client failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let calls: usize = std::env::var("SPARKWIRE_BENCH_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let mut versions = oracle_versions();
    versions.sort_by_key(|v| {
        v.split('.')
            .map(|p| p.parse::<u32>().unwrap_or(0))
            .collect::<Vec<_>>()
    });
    let version = versions.last().expect("a pinned pyspark version").clone();
    let python = python_for(&version)
        .unwrap_or_else(|| panic!("no venv for pyspark {version}: run scripts/setup.sh"));
    let java = JavaServer::start(&python, "clientserver", None);
    let server = Server::start(ServerConfig::new(TOKEN), Arc::new(Jvm::new())).expect("our server");
    let ours = server.port();
    let jvm = (java.port, java.token.as_str());
    println!(
        "py4j round trips over loopback, ClientServer mode: sparkwire (this process) against \
         py4j's Java ClientServer from pyspark {version}'s jar; {} warm-up calls, then {ROUNDS} \
         alternating rounds of {calls}",
        WARMUP
    );

    // 1. Raw round trips.
    let (raw_ours, raw_jvm) = raw_latency(
        "HashMap.get(\"k\")",
        ours,
        jvm,
        floor_server(GET),
        calls,
        true,
        GET,
    );
    raw_latency(
        "Math.max(1, 2) (static)",
        ours,
        jvm,
        floor_server(MAX),
        calls,
        false,
        MAX,
    );

    // 3. Concurrency.
    let (mut ta, mut tb) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        ta.push(concurrent(ours, TOKEN, calls));
        tb.push(concurrent(jvm.0, jvm.1, calls));
    }
    let (ta, tb) = (median(ta), median(tb));
    println!(
        "{CONNECTIONS} connections at once, HashMap.get, {calls} calls each, median of {ROUNDS}: \
         sparkwire {ta:.0} calls/s, JVM py4j {tb:.0} calls/s → {:.2}× the JVM's throughput",
        ta / tb
    );

    // 2. End to end through the py4j Python client.
    let mut runs: [Vec<Json>; 2] = [Vec::new(), Vec::new()];
    for _ in 0..ROUNDS {
        runs[0].push(e2e(&python, ours, TOKEN, calls));
        runs[1].push(e2e(&python, jvm.0, jvm.1, calls));
    }
    let us = |side: &[Json], part: &str, q: &str| {
        median(
            side.iter()
                .map(|r| r[part][q].as_f64().expect("ns") / 1e3)
                .collect(),
        )
    };
    let (am, ap) = (
        us(&runs[0], "served", "median_ns"),
        us(&runs[0], "served", "p99_ns"),
    );
    let (bm, bp) = (
        us(&runs[1], "served", "median_ns"),
        us(&runs[1], "served", "p99_ns"),
    );
    let alone = median(
        runs.iter()
            .flatten()
            .map(|r| r["client_alone"]["median_ns"].as_f64().expect("ns") / 1e3)
            .collect(),
    );
    println!(
        "py4j {} client, m.get(\"k\"), {calls} calls a run, median of {ROUNDS} runs: \
         sparkwire median {am:.1} µs p99 {ap:.1} µs, JVM py4j median {bm:.1} µs p99 {bp:.1} µs \
         → {:.2}× (p99 {:.2}×); {}",
        version,
        am / bm,
        ap / bp,
        verdict(am / bm)
    );
    println!(
        "  py4j's Python code alone (send_command answered in-process, no socket): {alone:.1} µs; \
         end to end minus the raw round trip (the client's socket calls, thread wake-ups and \
         Python code): sparkwire {:.1} µs, JVM py4j {:.1} µs",
        am - raw_ours,
        bm - raw_jvm,
    );
    server.shutdown();
    drop(java);
}
