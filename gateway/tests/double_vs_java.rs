//! `Double::java` (the `d` text the gateway writes) against the real
//! `Double.toString`, for special values, powers of ten around the layout
//! switches, and 200 000 random doubles:
//!
//! * a JDK 19 or newer (`SPARKWIRE_JAVA_MODERN`, else one found under
//!   `/usr/lib/jvm`): every text equal;
//! * the JDK 17 Spark runs on (`java` on the path): equal texts, except where
//!   JDK 17 prints another spelling of the same double (longer, or another
//!   17-digit one; JDK-4511638, fixed in JDK 19). Those must parse to the same
//!   double and are counted.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use sparkwire_gateway::py4j::Double;
use sparkwire_testkit::jdk_tool;

/// A `java` of JDK 19 or newer, if the machine has one.
fn modern_java() -> Option<std::ffi::OsString> {
    if let Some(j) = std::env::var_os("SPARKWIRE_JAVA_MODERN") {
        return Some(j);
    }
    let mut found: Vec<std::path::PathBuf> = std::fs::read_dir("/usr/lib/jvm")
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.split(|c: char| !c.is_ascii_digit())
                .filter_map(|n| n.parse::<u32>().ok())
                .any(|v| (19..100).contains(&v))
                && p.join("bin/java").exists()
        })
        .collect();
    found.sort();
    found.pop().map(|p| p.join("bin/java").into_os_string())
}

fn java_spellings(java: &std::ffi::OsStr, values: &[f64]) -> Vec<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/java/DoubleSpelling.java");
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("double-spelling");
    std::fs::create_dir_all(&out).expect("class directory");
    let st = Command::new(jdk_tool("javac"))
        .args(["--release", "17", "-d"])
        .arg(&out)
        .arg(&src)
        .status()
        .expect("javac (scripts/setup.sh installs a JDK 17)");
    assert!(st.success(), "javac failed");
    let mut child = Command::new(java)
        .arg("-cp")
        .arg(&out)
        .arg("DoubleSpelling")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("java");
    let mut stdin = child.stdin.take().expect("stdin");
    let input: String = values
        .iter()
        .map(|v| format!("{:016x}\n", v.to_bits()))
        .collect();
    let writer = std::thread::spawn(move || {
        stdin.write_all(input.as_bytes()).expect("write");
    });
    let lines: Vec<String> = BufReader::new(child.stdout.take().expect("stdout"))
        .lines()
        .map(|l| l.expect("line"))
        .collect();
    writer.join().expect("writer");
    assert!(child.wait().expect("wait").success());
    lines
}

#[test]
fn double_text_matches_javas_double_to_string() {
    let mut values = vec![
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.1,
        0.5,
        1.5,
        100.0,
        1e-3,
        9.99e-4,
        1e7,
        9_999_999.0,
        1e16,
        1e21,
        1e22,
        1e23,
        123456.789,
        f64::MAX,
        f64::MIN_POSITIVE,
        5e-324,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        std::f64::consts::PI,
        2f64.powi(53),
        2f64.powi(63),
    ];
    for e in -30..30 {
        let p = 10f64.powi(e);
        values.extend([p, p * 1.5, p.next_up(), p.next_down(), -p]);
    }
    // splitmix64 over all bit patterns (NaN payloads included: Java prints NaN).
    let mut state = 0x5eed_u64;
    for _ in 0..200_000 {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        values.push(f64::from_bits(z ^ (z >> 31)));
    }
    let jdk17 = java_spellings(&jdk_tool("java"), &values);
    let (mut equal, mut other) = (0, 0);
    let mut bad = Vec::new();
    for (v, j) in values.iter().zip(&jdk17) {
        let ours = Double::java(*v);
        if ours.text() == j {
            equal += 1;
        } else if j.parse::<f64>().ok().map(f64::to_bits) == Some(v.to_bits())
            && j.len() >= ours.text().len()
        {
            // JDK-4511638: another spelling of the same double, never shorter.
            other += 1;
        } else {
            bad.push(format!(
                "{:016x}: java {j}, ours {}",
                v.to_bits(),
                ours.text()
            ));
        }
    }
    eprintln!(
        "Double.toString, this JDK: {equal} of {} equal; {other} spelled otherwise (same double)",
        values.len()
    );
    assert!(
        bad.is_empty(),
        "{} differ:\n{}",
        bad.len(),
        bad[..bad.len().min(20)].join("\n")
    );
    assert!(
        other * 100 < values.len(),
        "more than 1 % spelled otherwise"
    );
    match modern_java() {
        Some(java) => {
            let modern = java_spellings(&java, &values);
            let bad: Vec<String> = values
                .iter()
                .zip(&modern)
                .filter(|(v, j)| Double::java(**v).text() != j.as_str())
                .map(|(v, j)| {
                    format!(
                        "{:016x}: java {j}, ours {}",
                        v.to_bits(),
                        Double::java(*v).text()
                    )
                })
                .collect();
            eprintln!(
                "Double.toString, {}: {} of {} equal",
                java.to_string_lossy(),
                values.len() - bad.len(),
                values.len()
            );
            assert!(
                bad.is_empty(),
                "{} differ:\n{}",
                bad.len(),
                bad[..bad.len().min(20)].join("\n")
            );
        }
        None => eprintln!("no JDK 19 or newer here: compared with this JDK only"),
    }
}
