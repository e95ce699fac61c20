//! `sparkwire decode` prints exactly what it printed when
//! `scripts/record-decode-expected.sh` recorded `tests/golden/decode/`: the text
//! and JSON of every bundled capture (the example, every golden worker transcript,
//! every golden pcap and pcapng), byte for byte, with the same exit status.
//! Refactorings of the decode path must not change a character of its output;
//! an intended change is re-recorded by the script and reviewed as a diff.

use std::path::Path;
use std::process::Command;

#[test]
fn decode_output_is_byte_identical_to_the_recorded_output() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let expected = root.join("tests/golden/decode");
    let inputs =
        std::fs::read_to_string(expected.join("INPUTS")).expect("tests/golden/decode/INPUTS");
    let mut compared = 0;
    let mut failures = Vec::new();
    for line in inputs.lines() {
        let (name, path) = line.split_once(' ').expect("NAME PATH");
        for format in ["text", "json"] {
            let out = Command::new(env!("CARGO_BIN_EXE_sparkwire"))
                .current_dir(root)
                .args(["decode", path, "--format", format])
                .output()
                .unwrap();
            let want = std::fs::read(expected.join(format!("{name}.{format}"))).unwrap();
            let want_status =
                std::fs::read_to_string(expected.join(format!("{name}.{format}.status")))
                    .map(|s| s.trim().parse::<i32>().unwrap())
                    .unwrap_or(0);
            if out.stdout != want {
                let at = out
                    .stdout
                    .iter()
                    .zip(&want)
                    .take_while(|(a, b)| a == b)
                    .count();
                let line = want[..at].iter().filter(|&&b| b == b'\n').count() + 1;
                failures.push(format!(
                    "{name}.{format}: output differs from line {line} (byte {at})"
                ));
            }
            if out.status.code() != Some(want_status) {
                failures.push(format!(
                    "{name}.{format}: exit status {:?}, recorded {want_status}",
                    out.status.code()
                ));
            }
            compared += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // 87 inputs at the time of writing; fewer means the recording lost some.
    assert!(compared >= 170, "only {compared} outputs compared");
}
