//! `sparkwire submit` against real `spark-submit`, same run, same machine:
//!
//! 1. wall time of small programs end to end (interpreter start to exit),
//!    best of `SPARKWIRE_BENCH_RUNS` (default 2) for each side;
//! 2. a 10 M-record `reduceByKey` as records/s, timed inside the driver around
//!    the job (so JVM and interpreter start-up are not counted), against
//!    Spark `local[2]`.
//!
//! Programs: `examples/wordcount.py` and the corpus programs listed in
//! `SPARKWIRE_BENCH_PROGRAMS` (comma-separated file names under
//! `examples/submit/`, default a representative dozen), or every corpus
//! program with `SPARKWIRE_BENCH_PROGRAMS=all`.
//!
//! Run: `cargo bench --bench submit_vs_spark` (`SPARKWIRE_BENCH_RECORDS=N`
//! for another size of the reduceByKey job).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use sparkwire_testkit::oracle::python_for;
use sparkwire_testkit::oracle_versions;

const DEFAULT_PROGRAMS: &[&str] = &[
    "rdd_map_filter_flatmap.py",
    "rdd_count_first_take.py",
    "rdd_reduce_fold_by_key.py",
    "rdd_join_flavours.py",
    "rdd_sort_by.py",
    "rdd_text_file.py",
    "broadcast_value.py",
    "accumulator_int_float.py",
    "rdd_pipe.py",
    "rdd_cache_reuse.py",
    "rdd_numeric_stats.py",
    "user_exception_in_map.py",
    "pagerank_iterative.py",
];

/// `# submit: …` options declared in a program's first lines.
fn declared_options(program: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(program).unwrap_or_default();
    text.lines()
        .take(10)
        .find_map(|l| l.strip_prefix("# submit:"))
        .map(|o| o.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default()
}

fn best_of(runs: usize, mut f: impl FnMut() -> bool) -> Option<f64> {
    let mut best: Option<f64> = None;
    for _ in 0..runs {
        let t = Instant::now();
        if !f() {
            return None;
        }
        let s = t.elapsed().as_secs_f64();
        best = Some(best.map_or(s, |b: f64| b.min(s)));
    }
    best
}

fn run_quiet(cmd: &mut Command) -> bool {
    cmd.stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn main() {
    let version = oracle_versions()
        .last()
        .cloned()
        .unwrap_or_else(|| "4.3.0".into());
    let Some(python) = python_for(&version) else {
        eprintln!("no pyspark {version} venv: run scripts/setup.sh");
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sparkwire = PathBuf::from(env!("CARGO_BIN_EXE_sparkwire"));
    let spark_submit = python
        .parent()
        .map(|b| b.join("spark-submit"))
        .unwrap_or_default();
    let runs: usize = std::env::var("SPARKWIRE_BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(2);
    let corpus = root.join("examples/submit");
    let mut programs: Vec<PathBuf> = vec![root.join("examples/wordcount.py")];
    match std::env::var("SPARKWIRE_BENCH_PROGRAMS").as_deref() {
        Ok("all") => {
            let mut all: Vec<PathBuf> = std::fs::read_dir(&corpus)
                .map(|d| {
                    d.filter_map(Result::ok)
                        .map(|e| e.path())
                        .filter(|p| p.extension().is_some_and(|e| e == "py"))
                        .collect()
                })
                .unwrap_or_default();
            all.sort();
            programs.extend(all);
        }
        Ok(list) => programs.extend(list.split(',').map(|p| corpus.join(p))),
        Err(_) => programs.extend(DEFAULT_PROGRAMS.iter().map(|p| corpus.join(p))),
    }
    println!("sparkwire submit vs spark-submit, pyspark {version}, local[2], best of {runs}");
    let mut ratios = Vec::new();
    for program in programs.iter().filter(|p| p.exists()) {
        let opts = declared_options(program);
        let ours = best_of(runs, || {
            run_quiet(
                Command::new(&sparkwire)
                    .arg("submit")
                    .args(["--master", "local[2]", "--driver-python"])
                    .arg(&python)
                    .args(&opts)
                    .arg(program)
                    .current_dir(root),
            )
        });
        let theirs = best_of(runs, || {
            run_quiet(
                Command::new(&spark_submit)
                    .args(["--master", "local[2]"])
                    .args(&opts)
                    .arg(program)
                    .env("PYSPARK_PYTHON", &python)
                    .env("PYSPARK_DRIVER_PYTHON", &python)
                    .current_dir(root),
            )
        });
        let name = program.file_name().and_then(|n| n.to_str()).unwrap_or("?");
        match (ours, theirs) {
            (Some(o), Some(t)) => {
                ratios.push(t / o);
                println!(
                    "{name:<40} sparkwire {o:6.2} s   spark-submit {t:6.2} s   {:5.1}x faster",
                    t / o
                );
            }
            _ => println!(
                "{name:<40} failed on one side (ours {ours:?}, spark {theirs:?}); not counted"
            ),
        }
    }
    if !ratios.is_empty() {
        let geo = (ratios.iter().map(|r| r.ln()).sum::<f64>() / ratios.len() as f64).exp();
        let min = ratios.iter().copied().fold(f64::INFINITY, f64::min);
        println!("end to end: geometric mean {geo:.1}x faster (lowest {min:.1}x) over {} programs; goal >= 20x", ratios.len());
    }

    let records: u64 = std::env::var("SPARKWIRE_BENCH_RECORDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(10_000_000);
    let job = std::env::temp_dir().join("sparkwire-bench-rbk.py");
    let _ = std::fs::write(
        &job,
        "import sys, time\nfrom pyspark import SparkContext\nsc = SparkContext(appName='rbk')\n\
         n = int(sys.argv[1])\nsc.range(0, 1000, numSlices=2).count()\n\
         t = time.time()\nres = sc.range(0, n, numSlices=8).map(lambda x: (x % 1000, 1)).reduceByKey(lambda a, b: a + b, 8).collect()\n\
         dt = time.time() - t\nassert sum(v for _, v in res) == n\nprint(f'{n / dt:.0f}')\nsc.stop()\n",
    );
    let rate = |cmd: &mut Command| -> Option<f64> {
        let out = cmd.stderr(Stdio::null()).output().ok()?;
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .lines()
            .last()?
            .parse()
            .ok()
    };
    let ours = rate(
        Command::new(&sparkwire)
            .arg("submit")
            .args(["--master", "local[2]", "--driver-python"])
            .arg(&python)
            .arg(&job)
            .arg(records.to_string()),
    );
    let theirs = rate(
        Command::new(&spark_submit)
            .args(["--master", "local[2]"])
            .arg(&job)
            .arg(records.to_string())
            .env("PYSPARK_PYTHON", &python)
            .env("PYSPARK_DRIVER_PYTHON", &python),
    );
    match (ours, theirs) {
        (Some(o), Some(t)) => println!(
            "reduceByKey of {records} records: sparkwire {:.2} M records/s, Spark local[2] {:.2} M records/s ({:.2}x)",
            o / 1e6,
            t / 1e6,
            o / t
        ),
        _ => println!("reduceByKey: failed (ours {ours:?}, spark {theirs:?})"),
    }
}
