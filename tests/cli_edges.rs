//! The command line at its edges (issue 16), each against the real binary:
//! negative numbers as values, complex literals, profile/protocol conflicts,
//! errors that name their file, parser internals kept out of messages, one
//! exit-code scheme (0 ok, 1 bad input, 2 usage/IO), a closed output pipe,
//! secrets never printed, the frame-length bound, tap's start-up check and
//! `--help`. Where an answer is CPython's, a real CPython gives it.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use sparkwire_testkit::oracle::python_for;
use sparkwire_testkit::oracle_versions;

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_sparkwire"))
}

fn run(args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sparkwire-cli-edges-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The newest pinned venv's Python (CPython 3.11), if set up.
fn python() -> Option<PathBuf> {
    let v = oracle_versions()
        .last()
        .cloned()
        .unwrap_or_else(|| "4.3.0".into());
    let py = python_for(&v);
    if py.is_none() {
        sparkwire_testkit::oracle_missing("a Python with pyspark", "no venv found");
    }
    py
}

/// `pickle.dumps(ast.literal_eval(literal), protocol)` by real CPython, or its error.
fn cpython_dumps(py: &Path, literal: &str, protocol: u8) -> Result<Vec<u8>, String> {
    // The literal goes through stdin: one argv entry holds at most 128 KiB.
    let mut child = Command::new(py)
        .arg("-c")
        .arg("import ast, pickle, sys\nsys.stdout.buffer.write(pickle.dumps(ast.literal_eval(sys.stdin.read()), int(sys.argv[1])))")
        .arg(protocol.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(literal.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(stderr(&out))
    }
}

#[test]
fn negative_numbers_are_values_not_options() {
    let Some(py) = python() else { return };
    for (args, literal, protocol) in [
        (vec!["pickle", "encode", "-5"], "-5", 5),
        (vec!["pickle", "encode", "--protocol", "2", "-5"], "-5", 2),
        (vec!["pickle", "encode", "-1.5e3"], "-1.5e3", 5),
    ] {
        let out = run(&args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        assert_eq!(
            out.stdout,
            cpython_dumps(&py, literal, protocol).unwrap(),
            "{args:?}"
        );
    }
    // pickletools' -l takes a negative level (argparse int): no indentation.
    let dir = scratch();
    let f = dir.join("nested.pickle");
    std::fs::write(&f, cpython_dumps(&py, "[(1, [2, {3: (4,)}])]", 0).unwrap()).unwrap();
    let theirs = Command::new(&py)
        .args(["-m", "pickletools", "-l", "-2"])
        .arg(&f)
        .output()
        .unwrap();
    assert!(theirs.status.success());
    let ours = run(&["dis", "-l", "-2", f.to_str().unwrap()]);
    assert!(ours.status.success(), "{}", stderr(&ours));
    assert_eq!(
        String::from_utf8_lossy(&ours.stdout),
        String::from_utf8_lossy(&theirs.stdout)
    );
}

/// `dis` reads its input in pieces: opcodes and lines that straddle the
/// pieces, arguments longer than one piece, input cut inside one, and input
/// on stdin disassemble as `python -m pickletools` does (same lines; failing
/// where it fails).
#[test]
fn dis_streams_its_input_like_pickletools() {
    let Some(py) = python() else { return };
    // 75 KB of UTF-8 (more than one 64 KiB read); 150 KB as protocol 0's
    // escaped line.
    let big = "€".repeat(25_000);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "long str p5",
            cpython_dumps(&py, &format!("['{big}', 1, '{big}']"), 5).unwrap(),
        ),
        (
            "long line p0",
            cpython_dumps(&py, &format!("['{big}', 1.5]"), 0).unwrap(),
        ),
        (
            "many ops p2",
            cpython_dumps(&py, &format!("{:?}", (0..40_000).collect::<Vec<_>>()), 2).unwrap(),
        ),
        ("empty", Vec::new()),
    ];
    let mut all = cases.clone();
    for (name, data) in &cases {
        if data.len() > 100 {
            // Cut inside the long argument, and just before STOP.
            all.push((name, data[..data.len() / 2].to_vec()));
            all.push((name, data[..data.len() - 1].to_vec()));
        }
    }
    let dir = scratch();
    for (i, (name, data)) in all.iter().enumerate() {
        let f = dir.join(format!("stream-{i}.pickle"));
        std::fs::write(&f, data).unwrap();
        let theirs = Command::new(&py)
            .args(["-m", "pickletools"])
            .arg(&f)
            .output()
            .unwrap();
        let ours = run(&["dis", f.to_str().unwrap()]);
        assert_eq!(ours.stdout, theirs.stdout, "{name} ({} bytes)", data.len());
        assert_eq!(
            ours.status.success(),
            theirs.status.success(),
            "{name} ({} bytes)",
            data.len()
        );
        // The same through standard input.
        let mut child = Command::new(bin())
            .args(["dis", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let feed = data.clone();
        let writer = std::thread::spawn(move || {
            use std::io::Write;
            let _ = stdin.write_all(&feed);
        });
        let piped = child.wait_with_output().unwrap();
        writer.join().unwrap();
        assert_eq!(piped.stdout, theirs.stdout, "{name} on stdin");
    }
}

/// `ast.literal_eval` evaluates `real ± imaginary`; the pickles of the complex
/// numbers it makes (signed zeros included) must be CPython's, and what it
/// refuses we refuse.
#[test]
fn complex_literals_pickle_like_cpython() {
    let Some(py) = python() else { return };
    let accepted = [
        "1+2j",
        "-1-2j",
        "2j",
        "-2j",
        "+2J",
        "-0.0+1j",
        "-0.0-0j",
        "0.0-0j",
        "(1+2j)",
        "[1 + 1j, 2 -3J, 1j]",
        "1e400+1j",
        "-1_0.5_0-2_0j",
        "{1+0j: 2}",
        "{'k': (1-1e309j,)}",
    ];
    for literal in accepted {
        for protocol in 0..=5u8 {
            let p = protocol.to_string();
            let out = run(&["pickle", "encode", "--protocol", &p, literal]);
            assert!(out.status.success(), "{literal}: {}", stderr(&out));
            assert_eq!(
                out.stdout,
                cpython_dumps(&py, literal, protocol).unwrap(),
                "{literal} protocol {protocol}"
            );
        }
    }
    for literal in ["1+2", "1j+2", "1+-2j", "1+2j+3j"] {
        assert!(cpython_dumps(&py, literal, 5).is_err(), "{literal}");
        let out = run(&["pickle", "encode", literal]);
        assert_eq!(out.status.code(), Some(2), "{literal}");
    }
}

#[test]
fn pyrolite_refuses_a_protocol_it_does_not_write() {
    let out = run(&[
        "pickle",
        "encode",
        "--profile",
        "pyrolite",
        "--protocol",
        "5",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(stderr(&out).contains("protocol 2 only"), "{}", stderr(&out));
    let out = run(&[
        "pickle",
        "encode",
        "--profile",
        "pyrolite",
        "--protocol",
        "2",
        "1",
    ]);
    assert!(out.status.success());
    assert_eq!(&out.stdout[..2], b"\x80\x02");
}

#[test]
fn a_missing_file_is_named() {
    let dir = scratch();
    let missing = dir.join("no-such.bin");
    let m = missing.to_str().unwrap();
    for args in [
        vec!["dis", m],
        vec!["frames", m],
        vec!["pickle", "show", m],
        vec!["pickle", "check", m],
        vec!["decode", m],
        vec!["decode", "--to-worker", m, "--from-worker", m],
    ] {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains(m), "{args:?}: {}", stderr(&out));
    }
    // A capture directory with one direction only.
    let cap = dir.join("half-capture");
    std::fs::create_dir_all(&cap).unwrap();
    std::fs::write(cap.join("to_worker.0.bin"), b"x").unwrap();
    let out = run(&["decode", cap.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("from_worker.0.bin"),
        "{}",
        stderr(&out)
    );
}

/// Broken pcapng files, made from a real capture: the message speaks of the
/// file (block, byte, stated length), never of the parser, and a bad capture
/// file exits 1 like any other bad input.
#[test]
fn broken_pcapng_says_what_is_wrong_in_file_terms() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let good = std::fs::read(root.join("fuzz/corpus/pcap_decode/spark-4.3.0-2.pcapng")).unwrap();
    let shb = u32::from_le_bytes(good[4..8].try_into().unwrap()) as usize;
    let patch = |at: usize, b: [u8; 4]| {
        let mut d = good.clone();
        d[at..at + 4].copy_from_slice(&b);
        d
    };
    let dir = scratch();
    let cases = [
        (patch(4, [5, 0, 0, 0]), "byte 0: block length 5"),
        (patch(4, [0xff, 0xff, 0xff, 0x0f]), "not a multiple of 4"),
        (
            patch(shb + 4, [3, 0, 0, 0]),
            &*format!("byte {shb}: block length 3"),
        ),
        (patch(shb + 4, [0xff, 0xff, 0xff, 0]), "not a multiple of 4"),
        (patch(shb + 4, [64, 0, 0, 0]), "at its end"),
    ];
    for (i, (data, want)) in cases.iter().enumerate() {
        let f = dir.join(format!("broken-{i}.pcapng"));
        std::fs::write(&f, data).unwrap();
        let out = run(&["decode", f.to_str().unwrap()]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "case {i}: {err}");
        assert!(err.contains(want), "case {i}: {err}");
        assert!(err.contains(f.to_str().unwrap()), "case {i}: {err}");
        for internal in [
            "BufferTooSmall",
            "NomError",
            "nom",
            "predicate",
            "buffer",
            "magic",
        ] {
            assert!(!err.contains(internal), "case {i}: {err}");
        }
    }
}

/// A reader that stops early (`| head`) ends the run quietly with exit 0.
#[test]
fn a_closed_pipe_is_no_error() {
    let dir = scratch();
    // A pickle whose disassembly is megabytes long.
    let mut p = b"\x80\x02]q\x00(".to_vec();
    for i in 0..60_000u32 {
        p.push(b'J');
        p.extend_from_slice(&(i as i32 + 70_000).to_le_bytes());
    }
    p.extend_from_slice(b"e.");
    let f = dir.join("long.pickle");
    std::fs::write(&f, &p).unwrap();
    let mut frames = Vec::new();
    for i in 0..60_000u32 {
        frames.extend_from_slice(&8i32.to_be_bytes());
        frames.extend_from_slice(format!("{i:08}").as_bytes());
    }
    let g = dir.join("many.frames");
    std::fs::write(&g, &frames).unwrap();
    for args in [
        vec!["dis", f.to_str().unwrap()],
        vec!["frames", g.to_str().unwrap()],
        vec!["frames", "--format", "json", g.to_str().unwrap()],
    ] {
        let mut child = Command::new(bin())
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = [0u8; 100];
        child.stdout.take().unwrap().read_exact(&mut first).unwrap();
        // stdout is closed here, as `head` closes it.
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert_eq!(stderr(&out), "", "{args:?}");
    }
}

/// The auth secret of a real capture (frame 0 of worker → JVM) never appears,
/// in any format; text payloads are shown whole with `--payloads`.
#[test]
fn frames_never_shows_the_auth_secret() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let data = std::fs::read(root.join("examples/capture-spark-4.3.0/from_worker.0.bin")).unwrap();
    let len = i32::from_be_bytes(data[..4].try_into().unwrap()) as usize;
    let secret = std::str::from_utf8(&data[4..4 + len]).unwrap().to_owned();
    assert!(len >= 32 && secret.bytes().all(|b| b.is_ascii_hexdigit()));
    let path = "examples/capture-spark-4.3.0/from_worker.0.bin";
    for args in [
        vec!["frames", path],
        vec!["frames", "--payloads", path],
        vec!["frames", "--format", "json", path],
        vec!["frames", "--format", "json", "--payloads", path],
    ] {
        let out = run(&args);
        let text = String::from_utf8_lossy(&out.stdout).into_owned() + &stderr(&out);
        // No 8 consecutive characters of it, in hex-dump or plain form.
        for w in secret.as_bytes().windows(8) {
            let plain = std::str::from_utf8(w).unwrap();
            let hex: Vec<String> = w.iter().map(|b| format!("{b:02x}")).collect();
            assert!(!text.contains(plain), "{args:?}: {plain}");
            assert!(!text.contains(&hex.join(" ")), "{args:?}");
            assert!(!text.contains(&hex.concat()), "{args:?}");
        }
        assert!(
            text.contains("not shown") || text.contains("\"secret\":true"),
            "{args:?}"
        );
    }
    // A long UTF-8 payload (not at frame 0) is printed whole with --payloads.
    let long = "é".repeat(30) + "the end";
    let mut stream = 2i32.to_be_bytes().to_vec();
    stream.extend_from_slice(b"ok");
    stream.extend_from_slice(&(long.len() as i32).to_be_bytes());
    stream.extend_from_slice(long.as_bytes());
    let f = scratch().join("text.frames");
    std::fs::write(&f, &stream).unwrap();
    let out = run(&["frames", "--payloads", f.to_str().unwrap()]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains(&long));
}

#[test]
fn max_frame_len_is_bounded_as_its_help_says() {
    let out = run(&[
        "frames",
        "--max-frame-len",
        "2147483648",
        "examples/worker-exception.bin",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("2147483648"), "{}", stderr(&out));
    let out = run(&[
        "frames",
        "--max-frame-len",
        "2147483647",
        "examples/worker-exception.bin",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// A capture path that is a file fails at start-up, naming it, before the
/// interpreter runs or a worker connection is accepted.
#[test]
fn tap_refuses_a_capture_path_that_is_a_file() {
    let dir = scratch();
    let file = dir.join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let marker = dir.join("interpreter-ran");
    let out = Command::new(bin())
        .args(["tap", "-c", "import sys; open(sys.argv[1], 'w')"])
        .arg(&marker)
        .env("SPARKWIRE_TAP_DIR", &file)
        .env("SPARKWIRE_TAP_PYTHON", "python3")
        .env("PYTHON_WORKER_FACTORY_PORT", "1")
        .env_remove("PYTHON_WORKER_FACTORY_SOCK_PATH")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(file.to_str().unwrap()),
        "{}",
        stderr(&out)
    );
    assert!(!marker.exists(), "the interpreter was started");
}

#[test]
fn help_has_examples_exit_codes_and_names_the_capture_argument() {
    let out = run(&["--help"]);
    let top = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(top.contains("Examples:"), "{top}");
    assert!(top.contains("1 the input is bad"), "{top}");
    assert!(top.contains("2 usage"), "{top}");
    for sub in ["frames", "dis", "decode", "pickle", "submit"] {
        let out = run(&[sub, "--help"]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(text.contains("Examples:"), "{sub}: {text}");
    }
    let out = run(&["decode", "--help"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.contains("[CAPTURE]"), "{text}");
    assert!(!text.contains("DIR"), "{text}");
}

/// A worker's output batch of 134 KB whose one record shares a 30 000-byte
/// str 15 000 times: its repr is 450 MB, within the default node budget.
/// `decode` shows the record as too long to show, says how long it may be,
/// keeps its output small, and still decodes (and re-encodes) every byte.
#[test]
fn decode_bounds_the_repr_of_a_record_that_shares_one_str_many_times() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/capture-spark-4.3.0");
    let dir = scratch().join("shared-str-record");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("broadcasts")).unwrap();
    for f in ["to_worker.0.bin", "broadcasts/1"] {
        std::fs::copy(src.join(f), dir.join(f)).unwrap();
    }
    // The record: PROTO 5, EMPTY_LIST, MARK, MARK, the str, MEMOIZE,
    // 14 999 GETs of it, TUPLE, APPENDS, STOP.
    let mut batch = b"\x80\x05]((".to_vec();
    batch.push(b'X');
    batch.extend(30_000u32.to_le_bytes());
    batch.extend(std::iter::repeat_n(b'a', 30_000));
    batch.push(0x94);
    for _ in 1..15_000 {
        batch.extend(b"h\x00");
    }
    batch.extend(b"te.");
    // The capture's one output batch (the first pickle frame the worker
    // sends) replaced by that one.
    let from = std::fs::read(src.join("from_worker.0.bin")).unwrap();
    let at = from
        .windows(2)
        .position(|w| w == b"\x80\x05")
        .expect("an output batch")
        - 4;
    let old_len = u32::from_be_bytes(from[at..at + 4].try_into().unwrap()) as usize;
    let mut spliced = from[..at].to_vec();
    spliced.extend((batch.len() as u32).to_be_bytes());
    spliced.extend(&batch);
    spliced.extend(&from[at + 4 + old_len..]);
    std::fs::write(dir.join("from_worker.0.bin"), &spliced).unwrap();

    let d = dir.to_str().unwrap();
    let text = run(&["decode", d, "--verify"]);
    let out = String::from_utf8_lossy(&text.stdout);
    assert_eq!(text.status.code(), Some(0), "{out}\n{}", stderr(&text));
    assert!(
        out.contains("<the repr would be longer than 16777216 bytes>"),
        "{out}"
    );
    assert!(out.len() < 64 << 10, "{} bytes of output", out.len());
    let json = run(&["decode", d, "--format", "json"]);
    assert_eq!(json.status.code(), Some(0), "{}", stderr(&json));
    assert!(json.stdout.len() < 64 << 10, "{} bytes", json.stdout.len());
    let json = String::from_utf8_lossy(&json.stdout);
    assert!(
        json.contains("<the repr would be longer than 16777216 bytes>"),
        "{json}"
    );
}
