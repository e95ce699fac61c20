//! Python `repr` of decoded values: what `repr(pickle.loads(data))` prints.
//!
//! For builtin types the text equals Python's: CPython's quote choice and
//! escapes for `str` (its `isprintable` table) and `bytes`, the shortest
//! round-trip float repr, `[...]` for a container that contains itself, sets
//! in CPython 3.11's hash-table order (module `setorder`; where hashes are
//! randomized or address-based, stored order) with equal elements and keys
//! collapsed (`keys`), and the builtin reconstructions older protocols use
//! (`set([...])`, `_codecs.encode(s, 'latin1')`, `bytearray(b)`).
//!
//! Objects built by reduce forms whose repr is deterministic print as Python
//! prints them (`known` dispatches): datetime's types (tzinfo, fold),
//! timedelta, timezone, Decimal, Fraction, complex, range, slice,
//! `collections`' containers, `array.array`, `uuid.UUID`, builtin exceptions,
//! well-known classes, builtin functions and constants, standard enum members,
//! `functools.partial`, the `operator` getters, `time.struct_time`,
//! `zoneinfo.ZoneInfo`, `http.cookies.SimpleCookie`, `pyspark.sql.Row` (named,
//! positional, from a Row class, and as the JVM pickles rows with their
//! schema: `jvm_rows`) and `StorageLevel`; pure calls of builtins by
//! their result (`int()` → `0`). Protocols 0–2 may name Python 2 modules;
//! they are mapped as the unpickler's `fix_imports` does (`names`, from the
//! generated `tables`). Everything else is shown as the call that would build
//! it, e.g. `__main__.C.__new__(__main__.C)`, and [`Fidelity`] says so.
//! Nothing is executed.
//!
//! The walk is iterative and charged against [`Limits::max_expanded`], so deep,
//! cyclic or exponentially shared graphs cannot exhaust the stack or the memory.

mod array;
mod classes;
mod collections;
mod datetime;
mod decimal;
mod exceptions;
mod functional;
mod hash;
pub(crate) use hash::float_hash;
pub(crate) use printer::may_visit;
mod jvm_rows;
mod keys;
mod known;
mod names;
mod numbers;
mod output;
mod printer;
mod pyspark;
mod schema;
mod setorder;
mod shape;
mod stdlib;
mod tables;

use super::decode::Decoded;
use super::limits::Limits;
use super::pystr::PyStr;
use super::pytext;
use super::value::{Graph, NodeId};

pub use output::{int_repr, Fidelity, Repr, ReprError, ReprOptions};

pub use super::pytext::{bytearray_repr, bytes_repr, float_repr, is_printable};

/// `repr(v)` of a whole graph's root.
pub fn repr(graph: &Graph) -> Result<String, ReprError> {
    match graph.root() {
        Some(root) => repr_node(graph, root, &Limits::default()),
        None => Ok(String::new()),
    }
}

/// `repr(pickle.loads(data))` of a decoded pickle.
pub fn repr_decoded(d: &Decoded) -> Result<String, ReprError> {
    Ok(python_repr(&d.graph, d.root(), &ReprOptions::for_decoded(d))?.text)
}

/// `repr` of one node.
pub fn repr_node(graph: &Graph, node: NodeId, limits: &Limits) -> Result<String, ReprError> {
    let opts = ReprOptions {
        limits: *limits,
        protocol: None,
    };
    Ok(python_repr(graph, node, &opts)?.text)
}

/// `repr` of one node with its [`Fidelity`].
pub fn python_repr(graph: &Graph, node: NodeId, opts: &ReprOptions) -> Result<Repr, ReprError> {
    printer::Printer::new(graph, opts).run(node)
}

/// `repr(str)`.
pub fn str_repr(s: &PyStr) -> String {
    pytext::str_repr(s.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_atom_shared_under_a_dag_is_bounded_by_text_not_only_nodes() {
        // A 200-digit int under 16 levels of `(x, x)`: 2^16 references, few
        // nodes of budget each, but 13 MB of text.
        let mut p = b"\x80\x04\x8a\x54".to_vec();
        p.extend([0x7f; 84]);
        for _ in 0..16 {
            p.extend(b"2\x86");
        }
        p.push(b'.');
        let d = super::super::decode_slice(&p).unwrap();
        let limits = Limits {
            max_expanded: 1 << 17,
            ..Limits::default()
        };
        assert!(matches!(
            repr_node(&d.graph, d.root(), &limits),
            Err(ReprError::TooLarge(_))
        ));
    }

    /// A set of pairs nested through `DUP` (found by the `pickle_decode` fuzz
    /// target): comparing its elements by expanding the shared tuples ran
    /// out of a visit budget and fell back to identity, and the protocol-3
    /// re-encoding, which shares them through the memo, ran out elsewhere
    /// and printed another order. Classes compare it whole in every form.
    #[test]
    fn sets_of_shared_nests_repr_alike_however_they_are_shared() {
        let hex = "8f284b014b4b2929292929868686868632328686328686323232323286868686\
                   863232868632863232323286868686323232322932902e";
        let p: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        let d = super::super::decode_slice(&p).unwrap();
        let text = repr_decoded(&d).unwrap();
        assert!(text.starts_with("{(), ((((("), "{text:.80}");
        for protocol in 2..=5 {
            let again = super::super::encode(&d.graph, super::super::Profile::CPython { protocol })
                .unwrap();
            let d2 = super::super::decode_slice(&again).unwrap();
            assert_eq!(repr_decoded(&d2).unwrap(), text, "protocol {protocol}");
        }
    }

    #[test]
    fn extension_references_of_one_code_are_one_key() {
        // {EXT1 5: 1, EXT1 5: 2, EXT1 6: 3}: each EXT1 loads the registered
        // object again (CPython's pickler never memoizes them), so the first
        // two are one key, as in `pickle.loads`; found by the pickle_decode
        // fuzz target on a CPython protocol 3 re-encoding.
        let p = b"\x80\x02}(\x82\x05K\x01\x82\x05K\x02\x82\x06K\x03u.";
        let d = super::super::decode_slice(p).unwrap();
        let text = repr_node(&d.graph, d.root(), &Limits::default()).unwrap();
        assert_eq!(
            text,
            "{copyreg._extension_registry[5]: 2, copyreg._extension_registry[6]: 3}"
        );
    }

    #[test]
    fn strings_like_python() {
        assert_eq!(str_repr(&"it's".into()), "\"it's\"");
        assert_eq!(str_repr(&"'\"".into()), "'\\'\"'");
        assert_eq!(
            str_repr(&"a\u{0}\u{7f}\u{85}é\u{2028}😀".into()),
            "'a\\x00\\x7f\\x85é\\u2028😀'"
        );
        assert_eq!(str_repr(&PyStr::from_code_points([0xd800])), "'\\ud800'");
        assert_eq!(bytes_repr(b"a'\x00\xff\\"), "b\"a'\\x00\\xff\\\\\"");
    }

    #[test]
    fn datetimes_of_protocol_2_like_python() {
        // pickle.dumps([datetime(2020, 1, 2, 3, 4, 5, 6), date(2020, 1, 2),
        // time(1, 2, 3, 4)], 2) on CPython 3.11: the states are
        // _codecs.encode(text, 'latin1') calls.
        let data = b"\x80\x02]q\x00(cdatetime\ndatetime\nq\x01c_codecs\nencode\nq\x02X\x0b\x00\x00\x00\x07\xc3\xa4\x01\x02\x03\x04\x05\x00\x00\x06q\x03X\x06\x00\x00\x00latin1q\x04\x86q\x05Rq\x06\x85q\x07Rq\x08cdatetime\ndate\nq\th\x02X\x05\x00\x00\x00\x07\xc3\xa4\x01\x02q\nh\x04\x86q\x0bRq\x0c\x85q\rRq\x0ecdatetime\ntime\nq\x0fh\x02X\x06\x00\x00\x00\x01\x02\x03\x00\x00\x04q\x10h\x04\x86q\x11Rq\x12\x85q\x13Rq\x14e.";
        let d = crate::pickle::decode_slice(data).unwrap();
        assert_eq!(
            repr(&d.graph).unwrap(),
            "[datetime.datetime(2020, 1, 2, 3, 4, 5, 6), datetime.date(2020, 1, 2), \
             datetime.time(1, 2, 3, 4)]"
        );
    }

    #[test]
    fn shared_tuple_nests_in_sets_and_dict_keys_stay_cheap() {
        // t0 = (1,); t(k+1) = (tk, tk): 2**60 leaves when walked as a tree.
        let mut g = Graph::new();
        let one = g.add(super::super::value::Value::Int(
            super::super::value::Int::Small(1),
        ));
        let mut t = g.add_tuple(&[one]);
        for _ in 0..60 {
            t = g.add_tuple(&[t, t]);
        }
        let set = g.add_set(&[t, t, t]);
        let dict = g.add_dict(&[(t, one), (t, one)]);
        let both = g.add_list(&[set, dict]);
        let limits = Limits {
            max_expanded: 10_000,
            ..Limits::default()
        };
        // The printing budget refuses the expansion; ordering and key
        // comparison must not hang before it does.
        let opts = ReprOptions {
            limits,
            protocol: Some(5),
        };
        assert_eq!(
            python_repr(&g, both, &opts),
            Err(ReprError::TooLarge(10_000))
        );
    }

    #[test]
    fn int_sets_in_cpython_order() {
        // pickle.dumps({1025, 5}, 4) with the two ADDITEMS operands swapped:
        // CPython 3.11's pickle.loads still prints '{1025, 5}'.
        let data = b"\x80\x04\x95\x0a\x00\x00\x00\x00\x00\x00\x00\x8f\x94(K\x05M\x01\x04\x90.";
        let d = crate::pickle::decode_slice(data).unwrap();
        assert_eq!(repr_decoded(&d).unwrap(), "{1025, 5}");
    }

    #[test]
    fn equal_keys_and_elements_collapse_like_python() {
        // Hand-made protocol-4 pickles; CPython 3.11's pickle.loads prints
        // {1: 'c'} and {1.0, 2}: the first key or element stays, the last value wins.
        let dict = b"\x80\x04}(K\x01X\x01\x00\x00\x00aG?\xf0\x00\x00\x00\x00\x00\x00X\x01\x00\x00\x00b\x88X\x01\x00\x00\x00cu.";
        let d = crate::pickle::decode_slice(dict).unwrap();
        assert_eq!(repr_decoded(&d).unwrap(), "{1: 'c'}");
        let set = b"\x80\x04\x8f(G?\xf0\x00\x00\x00\x00\x00\x00K\x01\x88K\x02\x90.";
        let d = crate::pickle::decode_slice(set).unwrap();
        assert_eq!(repr_decoded(&d).unwrap(), "{1.0, 2}");
    }
}
