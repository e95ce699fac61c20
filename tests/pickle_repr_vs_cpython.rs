//! Differential tests of the repr view against `repr(pickle.loads(data))`.
//!
//! Oracle: the goldens in `tests/golden/pickle_repr/`, recorded by
//! `scripts/record-pickle-repr.sh` with the real CPython 3.11 and PySpark of
//! every pinned venv:
//!
//! * `values-pyspark-<v>.json`: standard-library and PySpark values (datetime
//!   with tzinfo and fold, timedelta, timezone, Decimal, complex, range, slice,
//!   OrderedDict, defaultdict, deque, Counter, array, UUID, exceptions, types,
//!   builtin functions, Row, StorageLevel, sets of ints/floats/tuples …)
//!   pickled in protocols 0–5. Every one must be recognized (no call form) and
//!   print exactly as Python prints it; the one set of `str` (whose order is
//!   hash-randomized) is compared as a multiset of characters.
//! * `jvm-rows-pyspark-<v>.json`: rows a local Spark of each pinned pyspark
//!   pickles for Python (`javaToPython`), with PySpark's repr of them.
//! * `python2-pickles.json`: values pickled by Python 2.7 in protocols 0–2,
//!   with what Python 3's `pickle.loads` makes of them.
//! * `pickletester-cpython.json`: every bytes literal of CPython 3.11's
//!   `Lib/test/pickletester.py`. Where Python loads it and its repr holds no
//!   address, ours must be exact and equal it; where Python refuses, we must
//!   not panic.

use serde_json::Value as Json;
use sparkwire_serializers::pickle::{self, repr::ReprOptions};
use sparkwire_testkit::unhex;

struct Record {
    name: String,
    protocol: Option<u64>,
    data: Option<Vec<u8>>,
    repr: Option<String>,
    error: Option<String>,
}

fn load(file: &str) -> Vec<Record> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/pickle_repr")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let json: Json = serde_json::from_str(&text).unwrap();
    json["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| Record {
            name: r[0].as_str().unwrap().to_owned(),
            protocol: r[1].as_u64(),
            data: r[2].as_str().map(unhex),
            repr: r[3].as_str().map(str::to_owned),
            error: r[4].as_str().map(str::to_owned),
        })
        .collect()
}

#[derive(Default, Debug)]
struct Tally {
    exact: usize,
    unordered: usize,
    call_forms: Vec<String>,
    addresses: usize,
    python_refused: usize,
    both_refused: usize,
    mismatches: Vec<String>,
}

fn sorted_chars(s: &str) -> Vec<char> {
    let mut v: Vec<char> = s.chars().collect();
    v.sort_unstable();
    v
}

fn compare(records: &[Record]) -> Tally {
    let mut t = Tally::default();
    for r in records {
        let Some(data) = &r.data else { continue };
        let what = format!("{} (protocol {:?})", r.name, r.protocol);
        let decoded = match pickle::decode_slice(data) {
            Ok(d) => d,
            Err(e) => {
                if r.error.is_some() {
                    t.both_refused += 1;
                } else {
                    t.mismatches
                        .push(format!("{what}: we refuse ({e}), Python loads it"));
                }
                continue;
            }
        };
        let ours = pickle::repr::python_repr(
            &decoded.graph,
            decoded.root(),
            &ReprOptions::for_decoded(&decoded),
        );
        let Some(theirs) = &r.repr else {
            t.python_refused += 1;
            continue;
        };
        let ours = match ours {
            Ok(o) => o,
            Err(e) => {
                t.mismatches.push(format!("{what}: repr failed: {e}"));
                continue;
            }
        };
        if theirs.contains(" at 0x") {
            t.addresses += 1;
            if ours.fidelity.is_exact() {
                t.mismatches.push(format!(
                    "{what}: Python's repr holds an address, ours claims exact: {}",
                    ours.text
                ));
            }
            continue;
        }
        if ours.fidelity.is_exact() {
            t.exact += 1;
            if &ours.text != theirs {
                t.mismatches
                    .push(format!("{what}\n  ours: {}\n  them: {theirs}", ours.text));
            }
        } else if ours.fidelity.call_forms == 0 {
            t.unordered += 1;
            if sorted_chars(&ours.text) != sorted_chars(theirs) {
                t.mismatches.push(format!(
                    "{what} (unordered)\n  ours: {}\n  them: {theirs}",
                    ours.text
                ));
            }
        } else {
            t.call_forms.push(format!(
                "{what}\n  ours: {:.200}\n  them: {theirs:.200}",
                ours.text
            ));
        }
    }
    t
}

#[test]
fn repr_of_stdlib_and_pyspark_values_like_cpython_protocols_0_to_5() {
    let mut files: Vec<String> = std::fs::read_dir(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/golden/pickle_repr"
    ))
    .unwrap()
    .map(|e| e.unwrap().file_name().into_string().unwrap())
    .filter(|n| n.starts_with("values-pyspark-"))
    .collect();
    files.sort();
    assert_eq!(files.len(), 5, "one golden per pinned pyspark: {files:?}");
    for f in files {
        let records = load(&f);
        let t = compare(&records);
        eprintln!(
            "{f}: {} records, {} exact, {} unordered, {} call forms, {} python refused, {} mismatches",
            records.len(),
            t.exact,
            t.unordered,
            t.call_forms.len(),
            t.python_refused,
            t.mismatches.len()
        );
        assert!(t.mismatches.is_empty(), "{f}:\n{}", t.mismatches.join("\n"));
        assert!(
            t.call_forms.is_empty(),
            "{f}: not recognized:\n{}",
            t.call_forms.join("\n")
        );
        assert_eq!(t.python_refused, 0, "{f}");
        // Protocols 0-5 of every value; only the str set is unordered.
        assert!(t.exact >= 210, "{f}: only {} exact comparisons", t.exact);
        assert_eq!(t.unordered, 6, "{f}: the str set, once per protocol");
    }
}

#[test]
fn repr_of_cpython_pickletester_literals_like_cpython() {
    let records = load("pickletester-cpython.json");
    let t = compare(&records);
    eprintln!(
        "pickletester: {} literals, {} exact, {} unordered, {} with addresses, {} call forms, \
         {} Python refused (we refused {} of them), {} mismatches",
        records.len(),
        t.exact,
        t.unordered,
        t.addresses,
        t.call_forms.len(),
        t.python_refused + t.both_refused,
        t.both_refused,
        t.mismatches.len()
    );
    for c in &t.call_forms {
        eprintln!("call form: {c}");
    }
    assert!(t.mismatches.is_empty(), "{}", t.mismatches.join("\n"));
    // Every literal Python loads to an address-free repr is shown exactly
    // (Python 2 names, STRING opcodes, xrange, SimpleCookie, exceptions …).
    assert!(t.call_forms.is_empty(), "{}", t.call_forms.join("\n"));
    assert!(t.exact >= 36, "only {} exact comparisons", t.exact);
}

/// Rows as a real JVM pickles them for Python (`df._jdf.javaToPython()` in a
/// local Spark of every pinned pyspark): `_create_row_inbound_converter(
/// _parse_datatype_json_string(schema))(*values)`, with dates, timestamp_ntz
/// and day-time intervals converted from their internal ints, in arrays, maps
/// and nested structs too. `timestamp` depends on the reader's time zone, so
/// that row must stay a call form.
#[test]
fn repr_of_jvm_rows_like_pyspark() {
    for v in ["3.5.9", "4.0.1", "4.1.4", "4.2.1", "4.3.0"] {
        let f = format!("jvm-rows-pyspark-{v}.json");
        let (local, records): (Vec<Record>, Vec<Record>) = load(&f)
            .into_iter()
            .partition(|r| r.name == "local_timestamp");
        let t = compare(&records);
        eprintln!(
            "{f}: {} batches, {} exact, {} call forms, {} mismatches",
            records.len(),
            t.exact,
            t.call_forms.len(),
            t.mismatches.len()
        );
        assert!(t.mismatches.is_empty(), "{f}:\n{}", t.mismatches.join("\n"));
        assert!(t.call_forms.is_empty(), "{f}:\n{}", t.call_forms.join("\n"));
        assert!(t.exact >= 8, "{f}: only {} exact", t.exact);
        let t = compare(&local);
        assert_eq!(
            (t.exact, t.call_forms.len()),
            (0, local.len()),
            "{f}: local timestamps"
        );
    }
}

/// Pickles made by a real Python 2.7 (protocols 0–2: STRING opcodes,
/// `__builtin__.xrange`, `exceptions.*`, `copy_reg._reconstructor`, longs)
/// as Python 3 loads them with `fix_imports` and `encoding='ASCII'`.
#[test]
fn repr_of_python2_pickles_like_cpython_fix_imports() {
    let records = load("python2-pickles.json");
    let t = compare(&records);
    eprintln!(
        "python2 pickles: {} records, {} exact, {} unordered, {} call forms, {} Python refused \
         (we refused {} of them), {} mismatches",
        records.len(),
        t.exact,
        t.unordered,
        t.call_forms.len(),
        t.python_refused + t.both_refused,
        t.both_refused,
        t.mismatches.len()
    );
    assert!(t.mismatches.is_empty(), "{}", t.mismatches.join("\n"));
    assert!(t.call_forms.is_empty(), "{}", t.call_forms.join("\n"));
    assert!(t.exact >= 48, "only {} exact comparisons", t.exact);
}

/// Every real object the oracle pickles for the encoder tests
/// (`object_pickles`: Rows in every form, aware datetimes, namedtuples,
/// enums, classes with custom reducers, cloudpickle payloads …) in every
/// pinned venv: wherever the repr view claims exactness it must equal
/// `repr(pickle.loads(data))` — the claim itself is what is tested here.
#[test]
fn exact_claims_hold_on_real_objects_in_every_pinned_pyspark() {
    use sparkwire_testkit::{oracle_versions, with_oracle};
    for v in oracle_versions() {
        let cases = with_oracle(&v, |o| {
            o.call(serde_json::json!({"op": "object_pickles"})).unwrap()
        });
        let Some(cases) = cases else { continue };
        let records: Vec<Record> = cases
            .as_array()
            .unwrap()
            .iter()
            .map(|c| Record {
                name: format!(
                    "{} via {}",
                    c["name"].as_str().unwrap(),
                    c["via"].as_str().unwrap()
                ),
                protocol: c["protocol"].as_u64(),
                data: c["data"].as_str().map(unhex),
                repr: c["repr"].as_str().map(str::to_owned),
                error: None,
            })
            .collect();
        let t = compare(&records);
        eprintln!(
            "pyspark {v} object_pickles: {} cases, {} exact, {} unordered, {} with addresses, {} call forms, {} mismatches",
            records.len(),
            t.exact,
            t.unordered,
            t.addresses,
            t.call_forms.len(),
            t.mismatches.len()
        );
        assert!(
            t.mismatches.is_empty(),
            "pyspark {v}:\n{}",
            t.mismatches.join("\n")
        );
        assert!(t.exact >= 100, "pyspark {v}: only {} exact", t.exact);
        if std::env::var_os("SPARKWIRE_SHOW_CALL_FORMS").is_some() {
            t.call_forms
                .iter()
                .for_each(|c| eprintln!("call form: {c}"));
        }
    }
}

/// Untrusted bytes: every recorded pickle with one byte changed (at up to 96
/// positions each) or cut short must decode or fail cleanly, and whatever
/// decodes must print without panicking, under a small expansion budget.
#[test]
fn mutated_real_pickles_never_panic_the_repr_view() {
    let mut records = load("values-pyspark-4.3.0.json");
    records.extend(load("python2-pickles.json"));
    records.extend(load("jvm-rows-pyspark-4.3.0.json"));
    records.extend(load("pickletester-cpython.json"));
    let mut opts = ReprOptions::default();
    opts.limits.max_expanded = 1 << 16;
    let (mut tried, mut printed) = (0usize, 0usize);
    for r in &records {
        let Some(data) = &r.data else { continue };
        let step = (data.len() / 96).max(1);
        for at in (0..data.len()).step_by(step) {
            for variant in 0..3 {
                let mut m = data.clone();
                match variant {
                    0 => m[at] ^= 0x55,
                    1 => m[at] = m[at].wrapping_add(1),
                    _ => m.truncate(at),
                }
                tried += 1;
                if let Ok(d) = pickle::decode_slice(&m) {
                    opts.protocol = Some(d.protocol.unwrap_or(0));
                    if pickle::repr::python_repr(&d.graph, d.root(), &opts).is_ok() {
                        printed += 1;
                    }
                }
            }
        }
    }
    eprintln!("mutations: {tried} tried, {printed} decoded and printed");
    assert!(
        tried > 10_000 && printed > 1_000,
        "{tried} tried, {printed} printed"
    );
}
