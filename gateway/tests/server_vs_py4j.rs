//! The gateway server against the real thing: the real py4j client of every
//! pinned PySpark venv drives (a) a real py4j `GatewayServer` started from the
//! py4j jar that venv ships (with the venv's Spark jars on the class path, for
//! `scala.Tuple2`), (b) our server in JavaGateway mode, (c) our server in
//! ClientServer mode. The script (`tests/python/py4j_client.py`) records what
//! every operation returned or raised; (b) and (c) must equal (a) key for key.

#[path = "support/py4j_reference.rs"]
mod py4j_reference;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use serde_json::Value as Json;
use sparkwire_gateway::jvm::Jvm;
use sparkwire_gateway::py4j::server::{Mode, Server, ServerConfig};
use sparkwire_testkit::oracle::python_for;
use sparkwire_testkit::{oracle_missing, oracle_versions};

use py4j_reference::{free_port, JavaServer};

fn client_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/py4j_client.py")
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
