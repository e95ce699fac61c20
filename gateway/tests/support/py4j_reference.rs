//! The real py4j server to compare against (`tests/java/Py4jReference.java`),
//! compiled against the py4j jar of a pinned PySpark venv and started with an
//! auth token. Shared by `tests/server_vs_py4j.rs` and `benches/py4j_latency.rs`
//! through `#[path]`, so the two start the same JVM the same way.

// Each includer uses a part of this (the bench has no callback server).
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use sparkwire_testkit::jdk_tool;

/// The `site-packages/pyspark` directory of a venv's Python.
pub fn pyspark_dir(python: &Path) -> PathBuf {
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
pub struct JavaServer {
    child: Child,
    /// The port it listens on, loopback.
    pub port: u16,
    /// The auth token it made.
    pub token: String,
}

/// Compiles the reference server against the venv's py4j jar, once per jar.
pub fn reference_classes(jars: &Path) -> PathBuf {
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
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

impl JavaServer {
    /// Starts `Py4jReference <mode> [callback_port]` and reads its port and
    /// token.
    pub fn start(python: &Path, mode: &str, callback_port: Option<u16>) -> JavaServer {
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
