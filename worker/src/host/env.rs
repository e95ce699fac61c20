//! The environment a worker process starts with: what Spark's
//! `PythonWorkerFactory` and `BasePythonRunner` set (spec §2.1), for the
//! interpreter's own pyspark.

use std::ffi::OsString;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::protocol::SparkVersion;

use super::config::{HostConfig, Mode};
use super::error::LaunchError;
use super::python::Python;

/// How the worker (simple) or daemon finds us, set per process.
#[derive(Debug, Clone)]
pub enum Rendezvous<'a> {
    /// A simple worker connects back to this loopback port.
    Port(u16),
    /// A simple worker connects back to this Unix socket (4.1+).
    SockPath(&'a Path),
    /// A daemon listens on loopback TCP.
    DaemonTcp,
    /// A daemon creates its socket in this directory (4.1+).
    DaemonSockDir(&'a Path),
}

/// The variables to set, in order; `task_env` comes last so that it wins.
pub fn worker_env(
    python: &Python,
    config: &HostConfig,
    secret: Option<&str>,
    at: Rendezvous<'_>,
    task_env: &[(String, String)],
) -> Vec<(OsString, OsString)> {
    let mut env: Vec<(OsString, OsString)> = Vec::new();
    let mut set = |k: &str, v: OsString| env.push((k.into(), v));
    // Spark puts its pyspark and py4j first and keeps what was there.
    let mut path = python.root.clone().into_os_string();
    if let Some(old) = std::env::var_os("PYTHONPATH").filter(|p| !p.is_empty()) {
        path.push(":");
        path.push(old);
    }
    set("PYTHONPATH", path);
    set("PYTHONUNBUFFERED", "YES".into());
    set("PYTHONHASHSEED", config.hash_seed.clone().into());
    if config.reuse && config.mode == Mode::Daemon {
        set("SPARK_REUSE_WORKER", "1".into());
    }
    set("SPARK_BUFFER_SIZE", config.buffer_size.to_string().into());
    set(
        "SPARK_AUTH_SOCKET_TIMEOUT",
        config.auth_timeout_secs.to_string().into(),
    );
    if config.prefer_ipv6 {
        set("SPARK_PREFER_IPV6", "true".into());
    }
    if let Some(dir) = &config.faulthandler_dir {
        set("PYTHON_FAULTHANDLER_DIR", dir.clone().into_os_string());
    }
    // Settings only 4.1+ workers read.
    if python.spark >= SparkVersion::V4_1 {
        if config.mode == Mode::Daemon && config.kill_worker_on_flush_failure {
            set("PYTHON_DAEMON_KILL_WORKER_ON_FLUSH_FAILURE", "1".into());
        }
        if let (Some(secs), Some(_)) = (
            config.traceback_dump_interval_secs,
            &config.faulthandler_dir,
        ) {
            set(
                "PYTHON_TRACEBACK_DUMP_INTERVAL_SECONDS",
                secs.to_string().into(),
            );
        }
    }
    if let Some(secret) = secret {
        set("PYTHON_WORKER_FACTORY_SECRET", secret.into());
    }
    match at {
        Rendezvous::Port(p) => set("PYTHON_WORKER_FACTORY_PORT", p.to_string().into()),
        Rendezvous::SockPath(p) => set("PYTHON_WORKER_FACTORY_SOCK_PATH", p.as_os_str().to_owned()),
        Rendezvous::DaemonTcp => {}
        Rendezvous::DaemonSockDir(d) => {
            set("PYTHON_UNIX_DOMAIN_ENABLED", "true".into());
            set("PYTHON_WORKER_FACTORY_SOCK_DIR", d.as_os_str().to_owned());
        }
    }
    for (k, v) in config.env.iter().chain(task_env) {
        set(k, v.into());
    }
    env
}

/// Starts `python -m pyspark.worker` or `-m pyspark.daemon` (as `config.mode`
/// says) with `env`, stdout and stderr piped, stdin as given (the daemon's
/// is its kill-by-pid channel; a simple worker's is closed).
pub fn spawn(
    python: &Python,
    config: &HostConfig,
    env: Vec<(OsString, OsString)>,
    stdin: Stdio,
) -> Result<Child, LaunchError> {
    Command::new(&python.exe)
        .args(module_args(python.spark, config.mode))
        .envs(env)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| LaunchError::Spawn {
            program: python.exe.clone(),
            source,
        })
}

/// The arguments after the interpreter: 4.0+ daemons take the worker module
/// as `argv[1]`, as Spark passes it.
pub fn module_args(spark: SparkVersion, mode: Mode) -> Vec<&'static str> {
    match mode {
        Mode::Simple => vec!["-m", "pyspark.worker"],
        Mode::Daemon if spark >= SparkVersion::V4_0 => {
            vec!["-m", "pyspark.daemon", "pyspark.worker"]
        }
        Mode::Daemon => vec!["-m", "pyspark.daemon"],
    }
}

/// Whether a release's workers can use Unix-domain sockets.
pub fn supports_unix_sockets(spark: SparkVersion) -> bool {
    spark >= SparkVersion::V4_1
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn python(spark: SparkVersion) -> Python {
        Python {
            exe: "python3".into(),
            version: "3.11".into(),
            pyspark: spark.to_string(),
            spark,
            root: PathBuf::from("/site-packages"),
        }
    }

    fn names(env: &[(OsString, OsString)]) -> Vec<String> {
        env.iter()
            .map(|(k, _)| k.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn sets_what_spark_sets_for_each_release() {
        let config = HostConfig {
            faulthandler_dir: Some("/fh".into()),
            traceback_dump_interval_secs: Some(5),
            ..HostConfig::default()
        };
        let old = worker_env(
            &python(SparkVersion::V3_5),
            &config,
            Some("s"),
            Rendezvous::DaemonTcp,
            &[],
        );
        let new = worker_env(
            &python(SparkVersion::V4_1),
            &config,
            Some("s"),
            Rendezvous::DaemonTcp,
            &[],
        );
        for n in [
            "PYTHONPATH",
            "PYTHONUNBUFFERED",
            "PYTHONHASHSEED",
            "SPARK_REUSE_WORKER",
            "SPARK_BUFFER_SIZE",
            "SPARK_AUTH_SOCKET_TIMEOUT",
            "PYTHON_FAULTHANDLER_DIR",
            "PYTHON_WORKER_FACTORY_SECRET",
        ] {
            assert!(names(&old).contains(&n.to_string()), "{n}");
            assert!(names(&new).contains(&n.to_string()), "{n}");
        }
        for n in [
            "PYTHON_DAEMON_KILL_WORKER_ON_FLUSH_FAILURE",
            "PYTHON_TRACEBACK_DUMP_INTERVAL_SECONDS",
        ] {
            assert!(!names(&old).contains(&n.to_string()), "{n} in 3.5");
            assert!(names(&new).contains(&n.to_string()), "{n} not in 4.1");
        }
        assert!(new[0].1.to_string_lossy().starts_with("/site-packages"));
    }

    #[test]
    fn the_task_environment_comes_last_and_unix_sockets_need_no_secret() {
        let dir = PathBuf::from("/private/d");
        let env = worker_env(
            &python(SparkVersion::V4_3),
            &HostConfig::default(),
            None,
            Rendezvous::DaemonSockDir(&dir),
            &[("PYTHONHASHSEED".into(), "7".into())],
        );
        let n = names(&env);
        assert!(n.contains(&"PYTHON_UNIX_DOMAIN_ENABLED".to_string()));
        assert!(!n.contains(&"PYTHON_WORKER_FACTORY_SECRET".to_string()));
        let last_seed = env
            .iter()
            .rev()
            .find(|(k, _)| k == "PYTHONHASHSEED")
            .unwrap();
        assert_eq!(last_seed.1, "7");
    }
}
