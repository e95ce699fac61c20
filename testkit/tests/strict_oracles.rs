//! The test harness itself: a missing oracle fails, naming what is missing,
//! instead of letting a differential test pass having compared nothing.

use std::path::Path;
use std::process::Command;

/// The preflight of the test command, pointed at an empty cache and a JDK that
/// does not exist, fails and names every missing venv and Java.
#[test]
fn the_preflight_names_every_missing_oracle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let empty = std::env::temp_dir().join(format!("sparkwire-empty-cache-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let mut cmd = Command::new("bash");
    cmd.arg(root.join("scripts/check-oracles.sh"))
        .env("SPARKWIRE_CACHE", &empty)
        .env("SPARKWIRE_PYSPARK", "3.5.9 4.3.0")
        .env("SPARKWIRE_JAVA", empty.join("no-java"))
        .env("SPARKWIRE_JAVAC", empty.join("no-javac"));
    for (k, _) in std::env::vars() {
        if k.starts_with("SPARKWIRE_PY_") {
            cmd.env_remove(k);
        }
    }
    let out = cmd.output().unwrap();
    let _ = std::fs::remove_dir_all(&empty);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    for what in [
        "the pyspark 3.5.9 venv",
        "the pyspark 4.3.0 venv",
        "Java 17 or later",
        "javac",
    ] {
        assert!(err.contains(what), "{what} not named in: {err}");
    }
}

/// A test asking for an oracle that is not installed panics with a message
/// that names it and the fix, unless skipping was asked for explicitly.
#[test]
fn a_missing_oracle_fails_the_test_that_needs_it() {
    if sparkwire_testkit::missing_oracles_allowed() {
        return;
    }
    let result = std::panic::catch_unwind(|| sparkwire_testkit::with_oracle("9.9.9", |_| ()));
    let payload = result.expect_err("a missing oracle must fail the test");
    let msg = payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(msg.contains("pyspark 9.9.9"), "{msg}");
    assert!(msg.contains("scripts/setup.sh"), "{msg}");
    assert!(msg.contains("SPARKWIRE_ALLOW_MISSING_ORACLES"), "{msg}");
}
