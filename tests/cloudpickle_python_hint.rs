//! The Python-version hint of cloudpickled code against payloads made by each
//! CPython 3.6–3.13 with the cloudpickle of each pinned pyspark, where it
//! runs (goldens recorded by scripts/record-python-hints.sh; no interpreter is
//! needed here).
//!
//! The hint may be a set when releases compile a function to the same bytes,
//! but the interpreter that made a payload is always in it, and the answer is
//! a single release for every payload whose code separates the releases.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sparkwire_serializers::pickle;
use sparkwire_serializers::pyspark::cloudpickle::inspect;
use sparkwire_testkit::unhex;

struct Recorded {
    file: PathBuf,
    minor: u8,
    name: String,
    data: Vec<u8>,
}

fn recorded() -> Vec<Recorded> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/python-hint");
    let mut out = Vec::new();
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("pyspark-")
        })
        .collect();
    dirs.sort();
    for dir in dirs {
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for file in files {
            let v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
            assert_eq!(v["version_info"][0], 3);
            let minor = v["version_info"][1].as_u64().unwrap() as u8;
            for p in v["payloads"].as_array().unwrap() {
                out.push(Recorded {
                    file: file.clone(),
                    minor,
                    name: p["name"].as_str().unwrap().to_string(),
                    data: unhex(p["hex"].as_str().unwrap()),
                });
            }
        }
    }
    out
}

#[test]
fn python_hint_contains_the_interpreter_that_pickled() {
    let all = recorded();
    // 5 pysparks x 3.8-3.13, and pyspark 3.5's cloudpickle on 3.6 and 3.7; the
    // full pyspark (and its command forms) imports on fewer of them.
    assert!(all.len() >= 600, "{} payloads", all.len());
    let minors: std::collections::BTreeSet<u8> = all.iter().map(|r| r.minor).collect();
    assert_eq!(
        minors.into_iter().collect::<Vec<_>>(),
        [6, 7, 8, 9, 10, 11, 12, 13]
    );
    let (mut certain, mut ambiguous, mut older) = (0, 0, 0);
    let mut by_label: BTreeMap<(u8, String), usize> = BTreeMap::new();
    for r in &all {
        let d = pickle::decode_slice(&r.data).unwrap();
        let info = inspect(&d.graph);
        let hint = info
            .python_hint
            .unwrap_or_else(|| panic!("{}: {}: no code object", r.file.display(), r.name));
        *by_label.entry((r.minor, hint.label())).or_default() += 1;
        if r.minor < 8 {
            // Older than the tables: only the 15-argument layout tells, and says so.
            let at = format!("{}: {}", r.file.display(), r.name);
            assert_eq!(hint.label(), "3.7 or earlier", "{at}");
            older += 1;
            continue;
        }
        assert!(
            hint.candidates.contains(&r.minor) && !hint.newer && !hint.older,
            "{}: {}: made by 3.{}, hinted {}",
            r.file.display(),
            r.name,
            r.minor,
            hint.label()
        );
        assert_eq!(info.python.as_deref(), Some(hint.label().as_str()));
        if hint.is_certain() {
            certain += 1;
        } else {
            // What stays ambiguous is code that two neighbouring releases encode
            // the same way: 3.8/3.9 (same opcodes, same line-number table) and
            // 3.11/3.12 (same numbering for the common instructions).
            assert!(
                hint.candidates == [8, 9] || hint.candidates == [11, 12],
                "{}: {}: made by 3.{}, hinted {}",
                r.file.display(),
                r.name,
                r.minor,
                hint.label()
            );
            ambiguous += 1;
        }
    }
    eprintln!(
        "{} payloads: {certain} certain and right, {ambiguous} a set holding the right release, \
         {older} from 3.6/3.7 called \"3.7 or earlier\", 0 wrong",
        all.len()
    );
    for ((minor, label), n) in &by_label {
        eprintln!("  made by 3.{minor}: {label:>20} x {n}");
    }
}
