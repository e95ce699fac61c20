//! The `dis` and `pickle` subcommands against the real thing: `python -m
//! pickletools FILE` for `dis`, `pickle.dumps(ast.literal_eval(L), N)` for
//! `pickle encode`, `repr(pickle.loads(...))` for `pickle show`.

use std::cell::RefCell;
use std::path::PathBuf;
use std::process::Command;

use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::json;
use sparkwire_serializers::pickle::generate::{graph_spec, GenConfig};
use sparkwire_serializers::pickle::{self, literal::parse_literal};
use sparkwire_testkit::oracle::python_for;
use sparkwire_testkit::{oracle_versions, unhex, with_oracle};

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_sparkwire"))
}

fn newest() -> String {
    oracle_versions()
        .last()
        .cloned()
        .unwrap_or_else(|| "4.3.0".into())
}

fn scratch(name: &str, data: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sparkwire-cli-pickle-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, data).unwrap();
    p
}

/// Pickles from real CPython in every protocol, each disassembled by
/// `python -m pickletools` and by `sparkwire dis`.
#[test]
fn dis_prints_what_python_m_pickletools_prints() {
    let Some(py) = python_for(&newest()) else {
        sparkwire_testkit::oracle_missing("a Python with pyspark", "no venv found");
        return;
    };
    let script = "import pickle, datetime, decimal, sys\nfrom pyspark.sql import Row\nfrom pyspark import cloudpickle\n\
        v = [1, -1, 2**70, 1.5, 'x', 'é'*300, b'b', bytearray(b'ba'), (1,), (1,2,3,4), {1: 2}, {3}, frozenset([4]), None, True,\n\
             datetime.datetime(2020,1,2,3,4,5,6), decimal.Decimal('1.5'), Row(a=1, b='x')]\n\
        for p in range(6):\n    open(sys.argv[1] + '/p%d.pickle' % p, 'wb').write(pickle.dumps(v, p))\n\
        open(sys.argv[1] + '/lambda.pickle', 'wb').write(cloudpickle.dumps(lambda x: x + 1))\n";
    let dir = scratch("x", b"").parent().unwrap().to_path_buf();
    let st = Command::new(&py)
        .arg("-c")
        .arg(script)
        .arg(&dir)
        .status()
        .unwrap();
    assert!(st.success());
    let mut files: Vec<_> = (0..6).map(|p| dir.join(format!("p{p}.pickle"))).collect();
    files.push(dir.join("lambda.pickle"));
    for f in files {
        let theirs = Command::new(&py)
            .args(["-m", "pickletools"])
            .arg(&f)
            .output()
            .unwrap();
        let ours = Command::new(bin()).arg("dis").arg(&f).output().unwrap();
        assert!(
            theirs.status.success() && ours.status.success(),
            "{}",
            f.display()
        );
        assert_eq!(
            String::from_utf8_lossy(&ours.stdout),
            String::from_utf8_lossy(&theirs.stdout),
            "{}",
            f.display()
        );
        let show = Command::new(bin())
            .args(["pickle", "check"])
            .arg(&f)
            .output()
            .unwrap();
        // Every protocol re-encodes exactly, 0 and 1 included.
        assert!(
            show.status.success(),
            "{}: {}",
            f.display(),
            String::from_utf8_lossy(&show.stderr)
        );
    }
}

#[test]
fn pickle_check_names_the_first_difference() {
    // pickle.dumps(['ab', 'ab'], 5) with the second string turned into a BINGET
    // of the first: valid, decodes to the same value, but CPython would not write it
    // from two distinct strings... it would from one shared string, so check passes.
    let good = b"\x80\x05\x95\x0c\x00\x00\x00\x00\x00\x00\x00]\x94(\x8c\x02ab\x94h\x01e.";
    let out = Command::new(bin())
        .args(["pickle", "check"])
        .arg(scratch("good.pickle", good))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // serde-pickle's 8-byte LONG1 for 2**31 is not what CPython writes.
    let bad = b"\x80\x03\x8a\x08\x00\x00\x00\x80\x00\x00\x00\x00.";
    let out = Command::new(bin())
        .args(["pickle", "check"])
        .arg(scratch("bad.pickle", bad))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("differs at byte 3"), "{err}");
    // Garbage: does not decode, says where.
    let out = Command::new(bin())
        .args(["pickle", "check"])
        .arg(scratch("junk.pickle", b"\x80\x05\xff"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("byte 2"));
}

/// Random literals (the repr of random value graphs): `sparkwire pickle encode`
/// must write what `pickle.dumps(ast.literal_eval(L), N)` writes for N = 0–5, sets of ints,
/// floats and tuples included (their order is CPython's hash-table order).
#[test]
fn encode_matches_pickle_dumps_of_literal_eval() {
    // Graphs whose repr is no literal (objects, recursion) are not comparable;
    // the test fails unless most cases were.
    let compared = std::cell::Cell::new(0usize);
    with_oracle(&newest(), |oracle| {
        let oracle = RefCell::new(oracle);
        let cfg = GenConfig {
            large_payloads: false,
            large_containers: true,
            surrogates: true,
        };
        let mut runner = TestRunner::new(Config {
            cases: 400,
            failure_persistence: None,
            ..Config::default()
        });
        runner
            .run(&graph_spec(10), |spec| {
                let g = spec.build(&cfg);
                let Ok(literal) = pickle::repr(&g) else { return Ok(()) };
                let Ok(parsed) = parse_literal(&literal) else { return Ok(()) };
                for protocol in 0..=5u8 {
                    let resp = oracle
                        .borrow_mut()
                        .call(json!({"op": "literal_dumps", "literal": literal, "protocol": protocol}))
                        .map_err(|e| TestCaseError::fail(e.to_string()))?;
                    if let Some(e) = resp["error"].as_str() {
                        return Err(TestCaseError::fail(format!("literal_eval refused what we parsed: {e}: {literal:.200}")));
                    }
                    let theirs = unhex(resp["pickle"].as_str().unwrap());
                    let ours = pickle::encode(&parsed, pickle::Profile::CPython { protocol }).map_err(|e| TestCaseError::fail(e.to_string()))?;
                    if ours != theirs {
                        return Err(TestCaseError::fail(format!("protocol {protocol}: {literal:.300}")));
                    }
                }
                compared.set(compared.get() + 1);
                Ok(())
            })
            .unwrap();
    });
    eprintln!(
        "literal encode: {} of 400 cases compared with CPython",
        compared.get()
    );
    assert!(
        compared.get() >= 200 || sparkwire_testkit::missing_oracles_allowed(),
        "only {} of 400 literals compared with pickle.dumps",
        compared.get()
    );
}

#[test]
fn encode_command_writes_the_bytes() {
    let out = Command::new(bin())
        .args(["pickle", "encode", "--protocol", "2", "[1, 'a', {2.5}]"])
        .output()
        .unwrap();
    assert!(out.status.success());
    // pickle.dumps([1, 'a', {2.5}], 2)
    assert_eq!(out.stdout, b"\x80\x02]q\x00(K\x01X\x01\x00\x00\x00aq\x01c__builtin__\nset\nq\x02]q\x03G@\x04\x00\x00\x00\x00\x00\x00a\x85q\x04Rq\x05e.");
    let out = Command::new(bin())
        .args(["pickle", "encode", "[1,"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
