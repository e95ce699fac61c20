//! The gateway server against the real thing: the real py4j client of every
//! pinned PySpark venv drives (a) a real py4j `GatewayServer` started from the
//! py4j jar that venv ships (with the venv's Spark jars on the class path, for
//! `scala.Tuple2`), (b) our server in JavaGateway mode, (c) our server in
//! ClientServer mode. The script (`tests/python/py4j_client.py`) records what
//! every operation returned or raised; (b) and (c) must equal (a) key for key.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use serde_json::Value as Json;
use sparkwire_gateway::jvm::Jvm;
use sparkwire_gateway::py4j::server::{Mode, Server, ServerConfig};
use sparkwire_testkit::oracle::python_for;
use sparkwire_testkit::{jdk_tool, oracle_missing, oracle_versions};

fn client_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/py4j_client.py")
}

/// The `site-packages/pyspark` directory of a venv's Python.
fn pyspark_dir(python: &Path) -> PathBuf {
    let out = Command::new(python)
        .args([
            "-c",
            "import os, pyspark; print(os.path.dirname(pyspark.__file__))",
        ])
        .output()
        .expect("run the venv's python");
    assert!(out.status.success(), "pyspark import failed");
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// A real py4j server (`tests/java/Py4jReference.java`) built from the py4j
/// jar among the venv's Spark jars (which also give it `scala.Tuple2`).
struct JavaServer {
    child: Child,
    port: u16,
    token: String,
}

/// Compiles the reference server against the venv's py4j jar, once per jar.
fn reference_classes(jars: &Path) -> PathBuf {
    let jar = std::fs::read_dir(jars)
        .expect("the venv's Spark jars")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("py4j-"))
        })
        .expect("a py4j jar among the Spark jars");
    let name = jar
        .file_stem()
        .and_then(|n| n.to_str())
        .unwrap_or("py4j")
        .to_owned();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/java/Py4jReference.java");
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("py4j-reference-{name}"));
    let class = out.join("Py4jReference.class");
    let fresh = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if fresh(&class).is_none() || fresh(&class) < fresh(&src) {
        std::fs::create_dir_all(&out).expect("class directory");
        let st = Command::new(jdk_tool("javac"))
            .arg("-d")
            .arg(&out)
            .arg("-cp")
            .arg(&jar)
            .arg(&src)
            .status()
            .expect("javac (scripts/setup.sh installs a JDK 17)");
        assert!(st.success(), "javac failed");
    }
    out
}

/// A free loopback port, for the Python callback server the reference
/// GatewayServer is told about before Python starts.
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

impl JavaServer {
    fn start(python: &Path, mode: &str, callback_port: Option<u16>) -> JavaServer {
        let jars = pyspark_dir(python).join("jars");
        let classes = reference_classes(&jars);
        let mut cmd = Command::new(jdk_tool("java"));
        cmd.arg("-cp")
            .arg(format!("{}:{}/*", classes.display(), jars.display()))
            .args(["Py4jReference", mode]);
        if let Some(p) = callback_port {
            cmd.arg(p.to_string());
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start java (scripts/setup.sh installs a JDK 17)");
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        out.read_line(&mut line).expect("port line");
        let port = line.trim().parse().expect("a port");
        line.clear();
        out.read_line(&mut line).expect("token line");
        let token = line.trim().to_owned();
        JavaServer { child, port, token }
    }
}

impl Drop for JavaServer {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the client script; its JSON output, by check name.
fn run_client(
    python: &Path,
    mode: &str,
    port: u16,
    token: &str,
    extra: &[String],
) -> BTreeMap<String, Json> {
    let started = Instant::now();
    let out = Command::new(python)
        .arg(client_script())
        .args([mode, &port.to_string(), token])
        .args(extra)
        .stdin(Stdio::null())
        .output()
        .expect("run the py4j client");
    assert!(
        out.status.success(),
        "py4j client ({mode}, port {port}) failed after {:?}:\n{}",
        started.elapsed(),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let last = text.lines().last().unwrap_or_default();
    serde_json::from_str(last).unwrap_or_else(|e| panic!("client output is not JSON ({e}): {text}"))
}

fn diff(
    theirs: &BTreeMap<String, Json>,
    ours: &BTreeMap<String, Json>,
    label: &str,
) -> Vec<String> {
    let mut out = Vec::new();
    for (k, v) in theirs {
        match ours.get(k) {
            Some(o) if o == v => {}
            Some(o) => out.push(format!("{label} {k}:\n  real py4j: {v}\n  ours:      {o}")),
            None => out.push(format!("{label} {k}: missing from ours")),
        }
    }
    for k in ours.keys().filter(|k| !theirs.contains_key(*k)) {
        out.push(format!("{label} {k}: only in ours"));
    }
    out
}

fn our_server(mode: Mode) -> Server {
    let config = ServerConfig::new("0123456789abcdef0123456789abcdef").mode(mode);
    Server::start(config, Arc::new(Jvm::new())).expect("start our server")
}

#[test]
fn real_py4j_clients_see_what_a_real_gateway_server_answers() {
    let versions = oracle_versions();
    let mut problems = Vec::new();
    let mut compared = 0;
    for v in &versions {
        let Some(python) = python_for(v) else {
            oracle_missing(&format!("pyspark {v}"), "no venv");
            continue;
        };
        for (mode, label) in [
            (Mode::JavaGateway, "gateway"),
            (Mode::ClientServer, "clientserver"),
        ] {
            // The real one first: the reference answers.
            let theirs = if mode == Mode::JavaGateway {
                let cb = free_port();
                let java = JavaServer::start(&python, "gateway", Some(cb));
                run_client(
                    &python,
                    "gateway-port",
                    java.port,
                    &java.token,
                    &[cb.to_string()],
                )
            } else {
                let java = JavaServer::start(&python, "clientserver", None);
                run_client(&python, "clientserver", java.port, &java.token, &[])
            };
            let server = our_server(mode);
            let ours = run_client(
                &python,
                label,
                server.port(),
                "0123456789abcdef0123456789abcdef",
                &[],
            );
            problems.extend(diff(&theirs, &ours, &format!("pyspark {v} {label}")));
            compared += theirs.len();
            let stats = server.stats();
            assert_eq!(
                stats.auth_failures, 2,
                "pyspark {v} {label}: the two raw bad-auth probes"
            );
            server.shutdown();
        }
    }
    eprintln!("compared {compared} results against real py4j GatewayServers");
    assert!(
        problems.is_empty(),
        "{} differences:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert!(compared > 0);
}
