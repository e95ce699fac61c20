//! The Python interpreter workers run on: which pyspark it imports (that
//! release's protocol layout is the one spoken to its workers) and which Python
//! version it is (a command pickled by another minor version is refused by the
//! worker, as in Spark).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::protocol::SparkVersion;

use super::error::LaunchError;
use super::tail::Tail;

/// What the probe prints: one line per fact, so no JSON parser is needed in
/// the interpreter and nothing else it might print can be mistaken for it.
const PROBE: &str = "import sys, os, pyspark\n\
print('sparkwire-probe python %d.%d' % sys.version_info[:2])\n\
print('sparkwire-probe pyspark ' + pyspark.__version__)\n\
print('sparkwire-probe root ' + os.path.dirname(os.path.dirname(os.path.abspath(pyspark.__file__))))\n";

/// How long the probe may take (an interpreter importing pyspark for the
/// first time compiles its bytecode).
const PROBE_TIMEOUT: Duration = Duration::from_secs(60);

/// A Python interpreter with pyspark, probed once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Python {
    /// The executable, as given.
    pub exe: PathBuf,
    /// `"major.minor"` of the interpreter.
    pub version: String,
    /// `pyspark.__version__`.
    pub pyspark: String,
    /// The protocol layout of that release.
    pub spark: SparkVersion,
    /// The directory pyspark (and, in an installed pyspark, py4j) is imported
    /// from; put first on the workers' PYTHONPATH, as Spark puts its own
    /// `pyspark.zip` and py4j there.
    pub root: PathBuf,
}

impl Python {
    /// Runs `exe` once to learn its Python and pyspark versions.
    pub fn probe(exe: impl AsRef<Path>) -> Result<Python, LaunchError> {
        let exe = exe.as_ref().to_path_buf();
        let mut child = Command::new(&exe)
            .args(["-c", PROBE])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| LaunchError::Spawn {
                program: exe.clone(),
                source,
            })?;
        // Both pipes are drained as the interpreter writes, so that a noisy
        // import cannot block it on a full pipe; the facts come last.
        let pumps: Vec<_> = [
            child.stdout.take().map(Tail::pump),
            child.stderr.take().map(Tail::pump),
        ]
        .into_iter()
        .collect();
        let deadline = Instant::now() + PROBE_TIMEOUT;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(LaunchError::ProbeTimeout {
                        python: exe,
                        waited: PROBE_TIMEOUT,
                    });
                }
            }
        };
        let mut texts = pumps.into_iter().map(|p| match p {
            Some((tail, handle)) => {
                let _ = handle.join();
                tail.text()
            }
            None => String::new(),
        });
        let (stdout, stderr) = (
            texts.next().unwrap_or_default(),
            texts.next().unwrap_or_default(),
        );
        let fact = |name: &str| {
            stdout.lines().find_map(|l| {
                l.strip_prefix("sparkwire-probe ")
                    .and_then(|r| r.strip_prefix(name))
                    .and_then(|r| r.strip_prefix(' '))
                    .map(str::to_string)
            })
        };
        let (Some(version), Some(pyspark), Some(root)) =
            (fact("python"), fact("pyspark"), fact("root"))
        else {
            return Err(LaunchError::NoPyspark {
                python: exe,
                status: status.to_string(),
                stderr,
            });
        };
        let spark =
            SparkVersion::of_release(&pyspark).ok_or_else(|| LaunchError::UnsupportedPyspark {
                python: exe.clone(),
                pyspark: pyspark.clone(),
            })?;
        Ok(Python {
            exe,
            version,
            pyspark,
            spark,
            root: PathBuf::from(root),
        })
    }

    /// The first of `candidates` (paths or names looked up on PATH) whose
    /// pyspark speaks `wanted`; the error lists what each had.
    pub fn find_for(
        wanted: SparkVersion,
        candidates: impl IntoIterator<Item = PathBuf>,
    ) -> Result<Python, LaunchError> {
        let mut seen = Vec::new();
        for c in candidates {
            match Python::probe(&c) {
                Ok(p) if p.spark == wanted => return Ok(p),
                Ok(p) => seen.push(format!("{}: pyspark {}", c.display(), p.pyspark)),
                Err(e) => seen.push(format!("{}: {e}", c.display())),
            }
        }
        Err(LaunchError::NoPythonFor {
            wanted: wanted.to_string(),
            tried: seen,
        })
    }
}
