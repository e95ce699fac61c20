//! Python oracle processes running a pinned PySpark.

use std::collections::HashMap;
use std::fmt;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{json, Value};

/// The pyspark versions every differential test covers unless
/// `SPARKWIRE_PYSPARK_VERSIONS` says otherwise.
pub const DEFAULT_VERSIONS: [&str; 5] = ["3.5.9", "4.0.1", "4.1.4", "4.2.1", "4.3.0"];

/// The oracle script, next to this crate.
pub fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("python")
        .join("oracle.py")
}

/// A failed oracle call.
#[derive(Debug)]
pub enum OracleError {
    /// The process could not be started or its pipes broke.
    Io(std::io::Error),
    /// PySpark raised; the text is `Type: message`.
    Python(String),
    /// The reply was not the JSON we expect.
    Protocol(String),
}

impl fmt::Display for OracleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OracleError::Io(e) => write!(f, "oracle I/O: {e}"),
            OracleError::Python(e) => write!(f, "oracle raised {e}"),
            OracleError::Protocol(e) => write!(f, "oracle protocol: {e}"),
        }
    }
}

impl std::error::Error for OracleError {}

impl From<std::io::Error> for OracleError {
    fn from(e: std::io::Error) -> Self {
        OracleError::Io(e)
    }
}

/// One running oracle process.
pub struct Oracle {
    version: String,
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl fmt::Debug for Oracle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Oracle")
            .field("version", &self.version)
            .field("pid", &self.child.id())
            .finish()
    }
}

impl Oracle {
    /// Starts `python oracle.py` and checks that it runs pyspark `version`.
    pub fn spawn(python: &Path, version: &str) -> Result<Oracle, OracleError> {
        let mut child = Command::new(python)
            .arg(script())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .env("PYTHONHASHSEED", "0")
            .spawn()?;
        let stdin = child.stdin.take().ok_or_else(|| proto("no stdin"))?;
        let stdout = BufReader::new(child.stdout.take().ok_or_else(|| proto("no stdout"))?);
        let mut oracle = Oracle {
            version: version.to_owned(),
            child,
            stdin,
            stdout,
        };
        let hello = oracle.call(json!({"op": "hello"}))?;
        if hello["pyspark"] != version {
            return Err(proto(&format!(
                "{} runs pyspark {}, expected {version}",
                python.display(),
                hello["pyspark"]
            )));
        }
        Ok(oracle)
    }

    /// The pyspark version it runs.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Sends one request and waits for its answer.
    pub fn call(&mut self, request: Value) -> Result<Value, OracleError> {
        let mut line = serde_json::to_string(&request).map_err(|e| proto(&e.to_string()))?;
        line.push('\n');
        self.stdin.write_all(line.as_bytes())?;
        self.stdin.flush()?;
        let mut reply = String::new();
        if self.stdout.read_line(&mut reply)? == 0 {
            return Err(proto("oracle exited"));
        }
        let mut reply: Value =
            serde_json::from_str(&reply).map_err(|e| proto(&format!("{e}: {reply}")))?;
        if let Some(err) = reply.get("err") {
            return Err(OracleError::Python(
                err.as_str().unwrap_or_default().to_owned(),
            ));
        }
        reply
            .get_mut("ok")
            .map(Value::take)
            .ok_or_else(|| proto("reply has neither ok nor err"))
    }

    /// [`Oracle::call`] for ops that answer a hex string: the decoded bytes.
    pub fn call_bytes(&mut self, request: Value) -> Result<Vec<u8>, OracleError> {
        match self.call(request)? {
            Value::String(h) => Ok(crate::unhex(&h)),
            other => Err(proto(&format!("expected hex, got {other}"))),
        }
    }
}

fn proto(msg: &str) -> OracleError {
    OracleError::Protocol(msg.to_owned())
}

/// The pinned versions to test: `SPARKWIRE_PYSPARK_VERSIONS` (space-separated) or
/// [`DEFAULT_VERSIONS`].
pub fn oracle_versions() -> Vec<String> {
    match std::env::var("SPARKWIRE_PYSPARK_VERSIONS") {
        Ok(v) if !v.trim().is_empty() => v.split_whitespace().map(str::to_owned).collect(),
        _ => DEFAULT_VERSIONS.iter().map(|s| (*s).to_owned()).collect(),
    }
}

/// The interpreter of the venv holding pyspark `version`, if installed.
pub fn python_for(version: &str) -> Option<PathBuf> {
    let key = format!("SPARKWIRE_PY_{}", version.replace('.', "_"));
    if let Some(p) = std::env::var_os(&key) {
        return Some(PathBuf::from(p)).filter(|p| p.exists());
    }
    let cache = std::env::var_os("SPARKWIRE_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/sparkwire")))?;
    let p = cache.join(format!("venv/pyspark-{version}/bin/python"));
    p.exists().then_some(p)
}

type Slot = Arc<Mutex<Option<Result<Oracle, String>>>>;

fn slot(version: &str) -> Slot {
    static POOL: OnceLock<Mutex<HashMap<String, Slot>>> = OnceLock::new();
    let pool = POOL.get_or_init(|| Mutex::new(HashMap::new()));
    let mut pool = pool.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    Arc::clone(pool.entry(version.to_owned()).or_default())
}

/// Runs `f` with this test binary's oracle for pyspark `version`, starting it on
/// first use. When the oracle is not installed this panics, naming it; `None`
/// (said on stderr) only under the explicit opt-out
/// ([`crate::missing_oracles_allowed`]).
///
/// Calls for one version are serialized; different versions run in parallel.
pub fn with_oracle<R>(version: &str, f: impl FnOnce(&mut Oracle) -> R) -> Option<R> {
    let slot = slot(version);
    let mut guard = slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let entry = guard.get_or_insert_with(|| match python_for(version) {
        None => Err(format!(
            "no Python with pyspark {version}: run scripts/setup.sh (or set SPARKWIRE_PY_{})",
            version.replace('.', "_")
        )),
        Some(py) => Oracle::spawn(&py, version).map_err(|e| e.to_string()),
    });
    match entry {
        Ok(oracle) => Some(f(oracle)),
        Err(why) => {
            crate::oracle_missing(&format!("the pyspark {version} oracle"), why);
            None
        }
    }
}
