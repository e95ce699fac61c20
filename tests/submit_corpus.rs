//! `sparkwire submit` against real Spark on the corpus of PySpark programs in
//! `examples/submit`: every program, under every pinned pyspark, must print
//! on stdout exactly what spark-submit printed for it (recorded by
//! `scripts/record-submit-expected.sh` into `examples/submit/expected/`;
//! spark-submit's stdout carries the driver's stdout and, merged in order, its
//! stderr) and exit with the same status.
//!
//! All mismatches are collected and reported together (program, version, the
//! first differing lines, and the gateway's own complaint from stderr when there
//! is one), followed by a summary with each program's wall time next to real
//! Spark's recorded one.
//!
//! `SPARKWIRE_SUBMIT_CORPUS_PROGRAMS` (space-separated program names) narrows the
//! run to some programs; `SPARKWIRE_PYSPARK_VERSIONS` to some versions.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sparkwire_testkit::oracle::python_for;
use sparkwire_testkit::{oracle_missing, oracle_versions};

/// The master a program runs with unless its header names another; the one
/// the recordings were made with.
const MASTER: &str = "local[2]";
/// Programs run at once (the machine has two cores; each program is itself
/// a driver plus `local[2]` workers).
const AT_ONCE: usize = 2;
/// A program still running after this is killed and reported.
const TIMEOUT: Duration = Duration::from_secs(600);
/// Lines of stderr kept in a report when the gateway said nothing specific.
const STDERR_TAIL: usize = 12;

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/submit")
}

/// A program and what its header declares.
#[derive(Clone, Debug)]
struct Program {
    name: String,
    path: PathBuf,
    /// `# submit:` launcher options, paths made absolute.
    options: Vec<String>,
    /// `# args:` program arguments.
    args: Vec<String>,
}

/// Splits a header line as a POSIX shell would split plain words and quotes.
fn shell_words(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for c in s.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => word.push(c),
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                in_word = true;
            }
            None if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            None => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

fn program(path: &Path) -> Program {
    let text = std::fs::read_to_string(path).unwrap();
    let dir = path.parent().unwrap();
    let mut options = Vec::new();
    let mut args = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# submit:") {
            let mut words = shell_words(rest).into_iter();
            while let Some(w) = words.next() {
                let is_list = w == "--py-files" || w == "--files";
                options.push(w);
                if let Some(v) = words.next() {
                    options.push(if is_list {
                        v.split(',')
                            .map(|p| dir.join(p).display().to_string())
                            .collect::<Vec<_>>()
                            .join(",")
                    } else {
                        v
                    });
                }
            }
        } else if let Some(rest) = line.strip_prefix("# args:") {
            args.extend(shell_words(rest));
        }
    }
    Program {
        name: path.file_stem().unwrap().to_string_lossy().into_owned(),
        path: path.to_owned(),
        options,
        args,
    }
}

fn programs() -> Vec<Program> {
    let only: Option<Vec<String>> = std::env::var("SPARKWIRE_SUBMIT_CORPUS_PROGRAMS")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.split_whitespace().map(str::to_owned).collect());
    let mut out: Vec<Program> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "py"))
        .map(|p| program(&p))
        .filter(|p| only.as_ref().is_none_or(|o| o.contains(&p.name)))
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// What real Spark did, as recorded.
struct Expected {
    stdout: Vec<u8>,
    code: i32,
    seconds: Option<f64>,
}

fn expected_dir(version: &str) -> PathBuf {
    corpus_dir()
        .join("expected")
        .join(format!("pyspark-{version}"))
}

/// Real Spark's recorded wall time per program (`timings.tsv`).
fn timings(version: &str) -> BTreeMap<String, f64> {
    let text =
        std::fs::read_to_string(expected_dir(version).join("timings.tsv")).unwrap_or_default();
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let mut cols = l.split('\t');
            Some((cols.next()?.to_owned(), cols.next()?.parse().ok()?))
        })
        .collect()
}

fn expected(version: &str, name: &str, times: &BTreeMap<String, f64>) -> Option<Expected> {
    let dir = expected_dir(version);
    let stdout = std::fs::read(dir.join(format!("{name}.out"))).ok()?;
    let code = std::fs::read_to_string(dir.join(format!("{name}.code")))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Expected {
        stdout,
        code,
        seconds: times.get(name).copied(),
    })
}

/// What `sparkwire submit` did.
struct Run {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    /// The exit status; `None` when killed after [`TIMEOUT`].
    code: Option<i32>,
    seconds: f64,
}

fn read_all(mut r: impl Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        buf
    })
}

fn run(p: &Program, python: &Path, scratch: &Path) -> Run {
    use std::os::unix::process::{CommandExt, ExitStatusExt};

    std::fs::create_dir_all(scratch).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sparkwire"));
    cmd.arg("submit");
    if !p.options.iter().any(|o| o == "--master") {
        cmd.args(["--master", MASTER]);
    }
    cmd.args(&p.options)
        .arg("--driver-python")
        .arg(python)
        .arg(&p.path)
        .args(&p.args)
        .current_dir(scratch)
        // As the recordings were made.
        .env("PYTHONHASHSEED", "0")
        .env_remove("PYSPARK_PYTHON")
        .env_remove("PYSPARK_DRIVER_PYTHON")
        .env_remove("PYSPARK_GATEWAY_PORT")
        .env_remove("PYSPARK_GATEWAY_SECRET")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so that a timeout kills the driver and the
        // workers too, not only the launcher.
        .process_group(0);
    let start = Instant::now();
    let mut child = cmd.spawn().unwrap();
    let out = read_all(child.stdout.take().unwrap());
    let err = read_all(child.stderr.take().unwrap());
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if start.elapsed() > TIMEOUT {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let seconds = start.elapsed().as_secs_f64();
    let code = status.map(|s| s.code().unwrap_or_else(|| 128 + s.signal().unwrap_or(0)));
    let _ = std::fs::remove_dir_all(scratch);
    Run {
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
        code,
        seconds,
    }
}

/// The first differing lines of two outputs, with a little context.
fn first_difference(expected: &[u8], actual: &[u8]) -> String {
    let e = String::from_utf8_lossy(expected);
    let a = String::from_utf8_lossy(actual);
    let el: Vec<&str> = e.split_inclusive('\n').collect();
    let al: Vec<&str> = a.split_inclusive('\n').collect();
    let at = el
        .iter()
        .zip(&al)
        .position(|(x, y)| x != y)
        .unwrap_or(el.len().min(al.len()));
    let mut s = format!(
        "    @@ first difference at line {} (real Spark: {} lines, sparkwire: {} lines)\n",
        at + 1,
        el.len(),
        al.len()
    );
    let show = |line: &str| {
        let line = line.strip_suffix('\n').unwrap_or(line);
        if line.len() > 300 {
            let mut end = 300;
            while !line.is_char_boundary(end) {
                end -= 1;
            }
            format!("{}… ({} bytes)", &line[..end], line.len())
        } else {
            line.to_owned()
        }
    };
    for line in &el[at.saturating_sub(2)..at] {
        s += &format!("     {}\n", show(line));
    }
    for line in el.iter().skip(at).take(4) {
        s += &format!("    -{}\n", show(line));
    }
    for line in al.iter().skip(at).take(4) {
        s += &format!("    +{}\n", show(line));
    }
    if at == el.len() && at < al.len() && al.len() - at > 4 {
        s += "    (sparkwire printed more)\n";
    }
    s
}

/// What sparkwire said on stderr that explains a failure: the gateway's
/// "not implemented" lines and Java/Python exception lines if there are any,
/// else the last lines.
fn stderr_reason(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let mut picked: Vec<&str> = Vec::new();
    for line in text.lines() {
        let interesting = line.contains("is not implemented by the sparkwire gateway")
            || line.contains("Exception:")
            || line.contains("Error:")
            || line.starts_with("sparkwire");
        if interesting && !picked.contains(&line) {
            picked.push(line);
        }
    }
    if picked.is_empty() {
        let lines: Vec<&str> = text.lines().collect();
        picked = lines[lines.len().saturating_sub(STDERR_TAIL)..].to_vec();
    } else if picked.len() > STDERR_TAIL {
        picked.truncate(STDERR_TAIL);
    }
    picked
        .iter()
        .map(|l| {
            let l = if l.len() > 400 {
                let mut end = 400;
                while !l.is_char_boundary(end) {
                    end -= 1;
                }
                &l[..end]
            } else {
                l
            };
            format!("    stderr| {l}\n")
        })
        .collect()
}

/// The outcome of one program under one version.
struct Outcome {
    version: String,
    program: String,
    ours: f64,
    real: Option<f64>,
    /// `None` when stdout and exit status match.
    mismatch: Option<String>,
}

fn check(
    version: &str,
    p: &Program,
    python: &Path,
    exp: Option<&Expected>,
    scratch: &Path,
) -> Outcome {
    let r = run(p, python, scratch);
    let mut mismatch = None;
    match exp {
        None => {
            mismatch = Some(format!(
                "    not recorded: run scripts/record-submit-expected.sh {}\n",
                p.name
            ))
        }
        Some(e) => {
            let mut s = String::new();
            match r.code {
                None => s += &format!("    killed after {} s\n", TIMEOUT.as_secs()),
                Some(c) if c != e.code => {
                    s += &format!("    exit status {c}, real Spark {}\n", e.code)
                }
                Some(_) => {}
            }
            if r.stdout != e.stdout {
                s += &first_difference(&e.stdout, &r.stdout);
            }
            if !s.is_empty() {
                s += &stderr_reason(&r.stderr);
                mismatch = Some(s);
            }
        }
    }
    Outcome {
        version: version.to_owned(),
        program: p.name.clone(),
        ours: r.seconds,
        real: exp.and_then(|e| e.seconds),
        mismatch,
    }
}

#[test]
fn every_corpus_program_prints_what_real_spark_printed() {
    let programs = programs();
    assert!(
        !programs.is_empty(),
        "no programs in {}",
        corpus_dir().display()
    );
    let mut jobs = Vec::new();
    let mut versions = Vec::new();
    for version in oracle_versions() {
        let Some(python) = python_for(&version) else {
            oracle_missing(&format!("the pyspark {version} venv"), "no interpreter");
            continue;
        };
        versions.push(version.clone());
        let times = Arc::new(timings(&version));
        for p in &programs {
            let exp = expected(&version, &p.name, &times);
            jobs.push((version.clone(), python.clone(), p.clone(), exp));
        }
    }
    let jobs = Arc::new(jobs);
    let next = Arc::new(AtomicUsize::new(0));
    let outcomes = Arc::new(Mutex::new(Vec::new()));
    let started = Instant::now();
    let workers: Vec<_> = (0..AT_ONCE)
        .map(|w| {
            let (jobs, next, outcomes) = (jobs.clone(), next.clone(), outcomes.clone());
            std::thread::spawn(move || loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some((version, python, p, exp)) = jobs.get(i) else {
                    break;
                };
                let scratch = std::env::temp_dir()
                    .join(format!("sparkwire-corpus-{}-{w}-{i}", std::process::id()));
                let o = check(version, p, python, exp.as_ref(), &scratch);
                eprintln!(
                    "submit corpus: pyspark {version} {:<40} {} {:6.1} s",
                    p.name,
                    if o.mismatch.is_none() { "ok  " } else { "FAIL" },
                    o.ours
                );
                outcomes.lock().unwrap().push(o);
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let mut outcomes = std::mem::take(&mut *outcomes.lock().unwrap());
    outcomes.sort_by(|a, b| (&a.program, &a.version).cmp(&(&b.program, &b.version)));

    // Wall time per program: sparkwire / real Spark, per version.
    let mut summary = format!(
        "\nsubmit corpus: {} programs × {} versions in {:.0} s\n{:<40}",
        programs.len(),
        versions.len(),
        started.elapsed().as_secs_f64(),
        "wall time, sparkwire/real Spark (s)"
    );
    for v in &versions {
        summary += &format!(" {v:>13}");
    }
    summary += "\n";
    for p in &programs {
        summary += &format!("{:<40}", p.name);
        for v in &versions {
            let cell = outcomes
                .iter()
                .find(|o| &o.version == v && o.program == p.name)
                .map(|o| {
                    let mark = if o.mismatch.is_some() { "!" } else { " " };
                    match o.real {
                        Some(r) => format!("{mark}{:.1}/{r:.1}", o.ours),
                        None => format!("{mark}{:.1}/-", o.ours),
                    }
                })
                .unwrap_or_default();
            summary += &format!(" {cell:>13}");
        }
        summary += "\n";
    }
    let mut totals = String::new();
    for v in &versions {
        let mine: Vec<&Outcome> = outcomes.iter().filter(|o| &o.version == v).collect();
        let failed = mine.iter().filter(|o| o.mismatch.is_some()).count();
        totals += &format!(
            "pyspark {v}: {} passed, {failed} failed\n",
            mine.len() - failed
        );
    }
    eprintln!("{summary}(! = output differs)\n{totals}");

    let mut report = String::new();
    for o in outcomes.iter().filter(|o| o.mismatch.is_some()) {
        report += &format!(
            "{} under pyspark {}:\n{}",
            o.program,
            o.version,
            o.mismatch.as_deref().unwrap_or("")
        );
    }
    assert!(
        report.is_empty(),
        "programs whose output under sparkwire submit differs from real Spark:\n\n{report}\n{totals}"
    );
}

#[test]
fn headers_split_like_a_shell() {
    assert_eq!(
        shell_words(r#" 7 hello "two words" 'x y'z"#),
        ["7", "hello", "two words", "x yz"]
    );
    assert_eq!(shell_words(""), Vec::<String>::new());
    assert_eq!(shell_words(r#"a "" b"#), ["a", "", "b"]);
}

#[test]
fn the_corpus_is_recorded_for_every_version() {
    let names: Vec<String> = programs().into_iter().map(|p| p.name).collect();
    assert!(names.len() >= 60 || std::env::var("SPARKWIRE_SUBMIT_CORPUS_PROGRAMS").is_ok());
    let mut missing = Vec::new();
    for v in oracle_versions() {
        for n in &names {
            let d = expected_dir(&v);
            if !d.join(format!("{n}.out")).is_file() || !d.join(format!("{n}.code")).is_file() {
                missing.push(format!("pyspark {v} {n}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "not recorded (scripts/record-submit-expected.sh): {missing:?}"
    );
}
