//! `sparkwire submit`: what spark-submit's `PythonRunner` does for a local
//! master, without a JVM — a gateway with a fresh secret and the Spark objects
//! over the local engine, then the driver program run with
//! `PYSPARK_GATEWAY_PORT`/`PYSPARK_GATEWAY_SECRET` so that its pyspark
//! attaches to it. Any other master goes to the real `spark-submit` of the
//! driver's pyspark, with the same arguments.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use sparkwire_framing::auth::Secret;
use sparkwire_worker::host::{HostConfig, Mode as HostMode, Python};

use crate::engine::{Engine, EngineConfig};
use crate::jvm::spark::{self, Spark};
use crate::jvm::Jvm;
use crate::py4j::server::{Mode, Server, ServerConfig};

/// What to run.
#[derive(Clone, Debug, Default)]
pub struct SubmitOptions {
    /// `--master` (default `local[*]`).
    pub master: Option<String>,
    /// `--conf k=v`, in order.
    pub conf: Vec<(String, String)>,
    /// `--py-files`.
    pub py_files: Vec<PathBuf>,
    /// `--files`.
    pub files: Vec<PathBuf>,
    /// `--name`.
    pub name: Option<String>,
    /// `--driver-python`.
    pub driver_python: Option<PathBuf>,
    /// The program.
    pub app: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
}

/// Why a program could not be started.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The program file is not there.
    #[error("{0}: no such file")]
    NoApp(PathBuf),
    /// `--master` is not one spark-submit accepts.
    #[error("invalid --master {0:?}: expected local, local[N], local[*] or a cluster URL")]
    BadMaster(String),
    /// A `--py-files`/`--files` entry is missing.
    #[error("{0}: no such file")]
    NoFile(PathBuf),
    /// The driver's Python has no usable pyspark.
    #[error("driver python {python}: {reason}")]
    Python {
        /// The interpreter.
        python: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// Setting up the gateway or directories failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// `local` → 1, `local[N]` → N, `local[*]` → the CPUs; `None` for a cluster
/// master.
pub fn local_parallelism(master: &str) -> Result<Option<usize>, SubmitError> {
    if master == "local" {
        return Ok(Some(1));
    }
    let Some(inner) = master
        .strip_prefix("local[")
        .and_then(|m| m.strip_suffix(']'))
    else {
        return if master.contains("://") || master == "yarn" || master.starts_with("local-cluster[")
        {
            Ok(None)
        } else {
            Err(SubmitError::BadMaster(master.to_owned()))
        };
    };
    // `local[N, maxFailures]` is also accepted by Spark.
    let n = inner.split(',').next().unwrap_or("").trim();
    if n == "*" {
        return Ok(Some(
            std::thread::available_parallelism().map_or(1, |n| n.get()),
        ));
    }
    match n.parse::<usize>() {
        Ok(n) if n > 0 => Ok(Some(n)),
        _ => Err(SubmitError::BadMaster(master.to_owned())),
    }
}

/// The driver's interpreter, chosen as spark-submit's `PythonRunner` does
/// (after `--driver-python`): `spark.pyspark.driver.python`,
/// `spark.pyspark.python`, `$PYSPARK_DRIVER_PYTHON`, `$PYSPARK_PYTHON`,
/// `python3`.
pub fn driver_python(opts: &SubmitOptions) -> PathBuf {
    opts.driver_python
        .clone()
        .or_else(|| conf_value(opts, "spark.pyspark.driver.python").map(PathBuf::from))
        .or_else(|| conf_value(opts, "spark.pyspark.python").map(PathBuf::from))
        .or_else(|| std::env::var_os("PYSPARK_DRIVER_PYTHON").map(PathBuf::from))
        .or_else(|| std::env::var_os("PYSPARK_PYTHON").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("python3"))
}

/// Runs the program; its exit status.
pub fn submit(opts: &SubmitOptions) -> Result<ExitStatus, SubmitError> {
    if !opts.app.is_file() {
        return Err(SubmitError::NoApp(opts.app.clone()));
    }
    for f in opts.py_files.iter().chain(&opts.files) {
        if !f.is_file() {
            return Err(SubmitError::NoFile(f.clone()));
        }
    }
    let master = opts.master.clone().unwrap_or_else(|| "local[*]".into());
    let driver = driver_python(opts);
    let python = Python::probe(&driver).map_err(|e| SubmitError::Python {
        python: driver.clone(),
        reason: e.to_string(),
    })?;
    let Some(parallelism) = local_parallelism(&master)? else {
        return run_spark_submit(&python, opts, &master);
    };
    let worker_python = python_for_workers(opts, &driver);

    let session = Session::create()?;
    let files_dir = session.path().join("files");
    let local_dir = session.path().join("local");
    std::fs::create_dir_all(&files_dir)?;
    std::fs::create_dir_all(&local_dir)?;
    let mut includes = Vec::new();
    for f in opts.py_files.iter().chain(&opts.files) {
        let name = f.file_name().map(PathBuf::from).unwrap_or_default();
        std::fs::copy(f, files_dir.join(&name))?;
        if opts.py_files.contains(f) {
            includes.push(files_dir.join(&name));
        }
    }

    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let mut defaults = vec![
        ("spark.master".to_owned(), master.clone()),
        ("spark.submit.deployMode".to_owned(), "client".to_owned()),
        ("spark.app.submitTime".to_owned(), now_ms.to_string()),
        (
            "spark.submit.pyFiles".to_owned(),
            includes
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(","),
        ),
    ];
    let app_name = opts.name.clone().or_else(|| {
        opts.app
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
    });
    if let Some(name) = app_name {
        defaults.push(("spark.app.name".into(), name));
    }
    for (k, v) in &opts.conf {
        defaults.retain(|(key, _)| key != k);
        defaults.push((k.clone(), v.clone()));
    }

    let host = HostConfig {
        mode: HostMode::Daemon,
        max_workers: parallelism.max(1) * 4,
        ..HostConfig::default()
    };
    let probed = (worker_python == driver).then(|| python.clone());
    let engine = Arc::new(Engine::new(EngineConfig {
        parallelism,
        worker_python: worker_python.clone(),
        local_dir: local_dir.clone(),
        files_dir: files_dir.clone(),
        host,
        probed,
        shuffle_memory: conf_value(opts, "spark.sparkwire.shuffle.memory")
            .and_then(|v| parse_size(&v))
            .unwrap_or(SHUFFLE_MEMORY),
    }));
    let spark = Arc::new(Spark {
        engine,
        version: python.pyspark.clone(),
        defaults,
        start_time: now_ms,
        app_id: format!("local-{now_ms}"),
        local_dir,
        checkpoint_dir: Default::default(),
        log_level: Default::default(),
        storage_levels: Default::default(),
        context: Default::default(),
        files: Default::default(),
    });
    let jvm = Jvm::new();
    spark::install(&jvm, spark);
    let secret = Secret::generate().map_err(|e| std::io::Error::other(e.to_string()))?;
    let pinned =
        std::env::var("PYSPARK_PIN_THREAD").map_or(true, |v| v.eq_ignore_ascii_case("true"));
    let mode = if pinned {
        Mode::ClientServer
    } else {
        Mode::JavaGateway
    };
    let server = Server::start(ServerConfig::new(secret.as_str()).mode(mode), Arc::new(jvm))?;

    let mut pythonpath: Vec<PathBuf> = includes;
    if let Some(existing) = std::env::var_os("PYTHONPATH") {
        pythonpath.extend(std::env::split_paths(&existing));
    }
    let mut cmd = Command::new(&driver);
    cmd.arg(&opts.app)
        .args(&opts.args)
        .env("PYSPARK_GATEWAY_PORT", server.port().to_string())
        .env("PYSPARK_GATEWAY_SECRET", secret.as_str())
        .env("PYTHONUNBUFFERED", "YES")
        // spark-submit's launcher script exports it for the driver.
        .env(
            "PYTHONHASHSEED",
            std::env::var("PYTHONHASHSEED").unwrap_or_else(|_| "0".into()),
        )
        .env("PYSPARK_PYTHON", &worker_python)
        .env(
            "PYTHONPATH",
            std::env::join_paths(&pythonpath).map_err(std::io::Error::other)?,
        );
    if let (Some(cores), None) = (
        conf_value(opts, "spark.driver.cores"),
        std::env::var_os("OMP_NUM_THREADS"),
    ) {
        cmd.env("OMP_NUM_THREADS", cores);
    }
    // spark-submit's PythonRunner merges the driver's stderr into its stdout
    // (`redirectErrorStream`): both go to our stdout, in the order written.
    {
        use std::os::fd::AsFd;
        let out = std::io::stdout().as_fd().try_clone_to_owned()?;
        cmd.stderr(std::process::Stdio::from(out));
    }
    let status = cmd.status()?;
    server.shutdown();
    drop(session);
    Ok(status)
}

/// The workers' interpreter, as `PythonRunner` passes it on: the setting
/// `spark.pyspark.python`, then `$PYSPARK_PYTHON`, then the driver's.
fn python_for_workers(opts: &SubmitOptions, driver: &Path) -> PathBuf {
    conf_value(opts, "spark.pyspark.python")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("PYSPARK_PYTHON").map(PathBuf::from))
        .unwrap_or_else(|| driver.to_path_buf())
}

/// Shuffle bytes held in memory before spilling, unless
/// `spark.sparkwire.shuffle.memory` says otherwise.
const SHUFFLE_MEMORY: usize = 1 << 30;

/// A Spark size (`512m`, `2g`, `1024k`, bytes without a suffix).
fn parse_size(v: &str) -> Option<usize> {
    let v = v.trim().to_ascii_lowercase();
    let v = v.strip_suffix('b').unwrap_or(&v);
    let (num, mult) = match v.chars().last()? {
        'k' => (&v[..v.len() - 1], 1usize << 10),
        'm' => (&v[..v.len() - 1], 1 << 20),
        'g' => (&v[..v.len() - 1], 1 << 30),
        't' => (&v[..v.len() - 1], 1 << 40),
        _ => (v, 1),
    };
    num.parse::<usize>().ok()?.checked_mul(mult)
}

fn conf_value(opts: &SubmitOptions, key: &str) -> Option<String> {
    opts.conf
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
}

/// A cluster master: the real spark-submit of the driver's pyspark, same
/// arguments.
fn run_spark_submit(
    python: &Python,
    opts: &SubmitOptions,
    master: &str,
) -> Result<ExitStatus, SubmitError> {
    let submit = python.root.join("pyspark/bin/spark-submit");
    let mut cmd = Command::new(&submit);
    cmd.args(["--master", master]);
    for (k, v) in &opts.conf {
        cmd.arg("--conf").arg(format!("{k}={v}"));
    }
    let join = |v: &[PathBuf]| {
        v.iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    if !opts.py_files.is_empty() {
        cmd.arg("--py-files").arg(join(&opts.py_files));
    }
    if !opts.files.is_empty() {
        cmd.arg("--files").arg(join(&opts.files));
    }
    if let Some(n) = &opts.name {
        cmd.arg("--name").arg(n);
    }
    cmd.env("PYSPARK_PYTHON", python_for_workers(opts, &python.exe));
    cmd.env("PYSPARK_DRIVER_PYTHON", &python.exe);
    cmd.arg(&opts.app).args(&opts.args);
    cmd.status().map_err(|e| SubmitError::Python {
        python: submit,
        reason: format!("could not run spark-submit: {e}"),
    })
}

/// A private scratch directory for one run, removed at the end.
struct Session(PathBuf);

impl Session {
    fn create() -> std::io::Result<Session> {
        let secret = Secret::generate().map_err(|e| std::io::Error::other(e.to_string()))?;
        let dir = std::env::temp_dir().join(format!("sparkwire-submit-{}", &secret.as_str()[..16]));
        std::fs::create_dir_all(&dir)?;
        Ok(Session(dir))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masters_parse_as_spark_submit_reads_them() {
        assert_eq!(local_parallelism("local").unwrap(), Some(1));
        assert_eq!(local_parallelism("local[3]").unwrap(), Some(3));
        assert_eq!(local_parallelism("local[2, 4]").unwrap(), Some(2));
        assert!(local_parallelism("local[*]").unwrap().unwrap() >= 1);
        assert_eq!(local_parallelism("spark://h:7077").unwrap(), None);
        assert_eq!(local_parallelism("local-cluster[1,1,1024]").unwrap(), None);
        assert_eq!(local_parallelism("yarn").unwrap(), None);
        assert!(local_parallelism("local[0]").is_err());
        assert!(local_parallelism("local[-1]").is_err());
        assert!(local_parallelism("nonsense").is_err());
    }
}
