//! The JVM-side oracle: `testkit/java/PyroliteOracle.java` compiled against the
//! Pyrolite jar (`pyspark/jars/pickle-*.jar`) that a pinned PySpark bundles, and
//! run as one long-lived `java` process per version and test binary.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};

use crate::oracle::python_for;

/// A running Java oracle.
pub struct Pyrolite {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    /// The jar it was compiled against.
    pub jar: PathBuf,
}

impl Drop for Pyrolite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Pyrolite {
    /// `Pickler(true, false).dumps(value)` for a value in the oracle's notation.
    pub fn dumps(&mut self, spec: &str) -> Result<Vec<u8>, String> {
        self.request(spec).map(|h| crate::unhex(&h))
    }

    /// Sends one line, returns the hex after "OK".
    fn request(&mut self, spec: &str) -> Result<String, String> {
        writeln!(self.stdin, "{spec}").map_err(|e| e.to_string())?;
        self.stdin.flush().map_err(|e| e.to_string())?;
        let mut line = String::new();
        self.stdout
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        match line.trim_end().split_once(' ') {
            Some(("OK", h)) => Ok(h.to_string()),
            None if line.trim_end() == "OK" => Ok(String::new()),
            Some(("ERR", m)) => Err(m.to_string()),
            _ => Err(format!("oracle said {line:?}")),
        }
    }
}

impl Pyrolite {
    /// The batches Spark's own `SerDeUtil.AutoBatchedPickler` writes for the
    /// elements of `spec` (which must be an `Object[]`, `( … )`).
    pub fn auto_batch(&mut self, spec: &str) -> Result<Vec<Vec<u8>>, String> {
        let answer = self.request(&format!("AUTOBATCH {spec}"))?;
        Ok(answer
            .split(',')
            .filter(|h| !h.is_empty())
            .map(crate::unhex)
            .collect())
    }
}

/// Pyrolite's own timings over a set of pickles, measured inside the JVM.
#[derive(Debug, Clone)]
pub struct PyroliteBench {
    /// Best round of `Unpickler.loads` over all the pickles.
    pub loads: std::time::Duration,
    /// Best round of `Pickler(true, false).dumps` over all the loaded objects.
    pub dumps: std::time::Duration,
    /// What `dumps` wrote for each loaded pickle (protocol 2, Pyrolite's layout).
    pub dumped: Vec<Vec<u8>>,
}

impl Pyrolite {
    /// Times Pyrolite's unpickler and pickler over `pickles` (one `Unpickler` and
    /// one `Pickler` per round, as Spark reuses them across a partition's
    /// batches): best of `reps` rounds after `warmups` untimed ones, so that the
    /// JIT has compiled the hot paths.
    pub fn bench(
        &mut self,
        warmups: u32,
        reps: u32,
        pickles: &[&[u8]],
    ) -> Result<PyroliteBench, String> {
        let hexes: Vec<String> = pickles.iter().map(|p| crate::hex(p)).collect();
        let answer = self.request(&format!("BENCH {warmups} {reps} {}", hexes.join(",")))?;
        let mut it = answer.splitn(3, ' ');
        let mut ns = || -> Result<std::time::Duration, String> {
            it.next()
                .and_then(|t| t.parse().ok())
                .map(std::time::Duration::from_nanos)
                .ok_or_else(|| format!("bad BENCH answer {:?}", &answer[..answer.len().min(80)]))
        };
        let (loads, dumps) = (ns()?, ns()?);
        let dumped = it
            .next()
            .unwrap_or("")
            .split(',')
            .filter(|h| !h.is_empty())
            .map(crate::unhex)
            .collect();
        Ok(PyroliteBench {
            loads,
            dumps,
            dumped,
        })
    }
}

/// The Pyrolite jar bundled with pyspark `version`, if that venv is installed.
pub fn jar_for(version: &str) -> Option<PathBuf> {
    let py = python_for(version)?;
    let lib = py.parent()?.parent()?.join("lib");
    for entry in std::fs::read_dir(&lib).ok()?.flatten() {
        let jars = entry.path().join("site-packages/pyspark/jars");
        if let Ok(rd) = std::fs::read_dir(&jars) {
            for j in rd.flatten() {
                let name = j.file_name().to_string_lossy().to_string();
                if name.starts_with("pickle-") && name.ends_with(".jar") {
                    return Some(j.path());
                }
            }
        }
    }
    None
}

fn source() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("java/PyroliteOracle.java")
}

fn spawn(version: &str) -> Result<Pyrolite, String> {
    let jar = jar_for(version).ok_or_else(|| {
        format!("no pyspark {version} venv with a Pyrolite jar: run scripts/setup.sh")
    })?;
    let cache = std::env::var_os("SPARKWIRE_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/sparkwire")))
        .ok_or("no HOME")?;
    let src = std::fs::read(source()).map_err(|e| e.to_string())?;
    // Recompile when the source or the jar changes (FNV-1a of both).
    let jar_bytes = std::fs::read(&jar).map_err(|e| e.to_string())?;
    let stamp = format!(
        "{:016x}",
        src.iter()
            .chain(&jar_bytes)
            .fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ b as u64)
                .wrapping_mul(0x100_0000_01b3))
    );
    let classes = cache.join(format!("java/pyrolite-oracle-{version}-{stamp}"));
    if !classes.join("PyroliteOracle.class").exists() {
        std::fs::create_dir_all(&classes).map_err(|e| e.to_string())?;
        let st = Command::new(crate::jdk_tool("javac"))
            .arg("-d")
            .arg(&classes)
            .arg("-cp")
            .arg(&jar)
            .arg(source())
            .status()
            .map_err(|e| format!("javac (a JDK 17; scripts/setup.sh installs one): {e}"))?;
        if !st.success() {
            return Err("javac failed".into());
        }
    }
    // All of pyspark's jars, so that Spark's own classes (SerDeUtil) are there too.
    let jars = jar.parent().ok_or("jar without a directory")?;
    let cp = format!(
        "{}:{}:{}/*",
        classes.display(),
        jar.display(),
        jars.display()
    );
    let mut child = Command::new(crate::jdk_tool("java"))
        .arg("-Xss16m")
        .arg(format!("-Dsparkwire.version={version}"))
        .args(["-cp", &cp, "PyroliteOracle"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("java (a JDK 17; scripts/setup.sh installs one): {e}"))?;
    let stdin = child.stdin.take().ok_or("no stdin")?;
    let stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
    Ok(Pyrolite {
        child,
        stdin,
        stdout,
        jar,
    })
}

type Slot = Arc<Mutex<Option<Result<Pyrolite, String>>>>;

/// Runs `f` with the Pyrolite oracle of pyspark `version` (started on first
/// use). When Java or the venv is missing this panics, naming what is missing;
/// `None` only under the explicit opt-out ([`crate::missing_oracles_allowed`]).
pub fn with_pyrolite<R>(version: &str, f: impl FnOnce(&mut Pyrolite) -> R) -> Option<R> {
    static POOL: OnceLock<Mutex<HashMap<String, Slot>>> = OnceLock::new();
    let slot = {
        let mut pool = POOL
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        Arc::clone(pool.entry(version.to_owned()).or_default())
    };
    let mut guard = slot.lock().unwrap_or_else(|p| p.into_inner());
    match guard.get_or_insert_with(|| spawn(version)) {
        Ok(p) => Some(f(p)),
        Err(why) => {
            crate::oracle_missing(&format!("the Pyrolite oracle of pyspark {version}"), why);
            None
        }
    }
}
