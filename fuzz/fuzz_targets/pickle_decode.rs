//! The pickle decoder, disassembler, repr view and both encoders on arbitrary
//! bytes. Beyond "no panic": the decoder's fast paths agree with its general
//! path, the rows view reads only what the decoder decodes and as it does,
//! decoding is bounded by small limits, STOP's end
//! offset lies inside the input, the disassembler agrees with the decoder on
//! where the pickle ends whenever both succeed, and every encoder's output for
//! a decoded graph decodes again, re-encodes to itself, and (protocols 3–5)
//! keeps the value's repr.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use sparkwire_serializers::pickle::{self, Limits, Profile, ReprError, Value};

/// The most nodes of a re-encoding read again (see there).
const MAX_REREAD_NODES: usize = 1 << 19;

fuzz_target!(|data: &[u8]| {
    let limits = sparkwire_fuzz::pickle_limits();
    let input = Bytes::copy_from_slice(data);
    let mut text = String::new();
    let dis = pickle::dis(data, &mut text);
    // The fast paths (common opcodes, atom runs, rows) decode exactly as the
    // general path alone does: the same graph and hints, or the same error.
    let fast = pickle::decode_with(&input, &limits);
    assert_eq!(
        fast,
        pickle::decode_general(&input, &limits),
        "the fast paths and the general path disagree"
    );
    // The rows view reads only what the decoder reads, as it decodes it.
    if let Err(e) = pickle::rows::same_as_decoded(data, &limits) {
        panic!("the rows view and the decoder disagree: {e}");
    }
    let Ok(d) = fast else {
        return;
    };
    assert!(d.end <= data.len());
    if let Ok(end) = dis {
        assert_eq!(end, d.end, "dis and decode disagree on where STOP is");
    }
    let root = d.root();
    // An out-of-band buffer is shown by its position among the NEXT_BUFFERs
    // written, which a re-encoding from the root renumbers when the input had
    // unreachable ones (CPython never writes those): no repr comparison then.
    let buffers = d
        .graph
        .ids()
        .any(|id| matches!(d.graph.get(id), Value::Buffer { .. }));
    let repr = (!buffers
        && !sparkwire_fuzz::shares_a_nan(&d.graph)
        && !sparkwire_fuzz::shares_a_persistent_object(&d.graph))
    .then(|| pickle::repr_node(&d.graph, root, &limits).ok())
    .flatten();
    // Whatever an encoder writes for a decoded graph decodes again, and
    // encodes again to the same bytes (the encoders are a fixpoint on their own
    // output, protocols 0–2 aside); at protocols 3–5 the value keeps its repr too (protocols 0–2 rename
    // `builtins` to `__builtin__`, as CPython's fix_imports does, and Pyrolite
    // writes Java's view of some values).
    let profiles = (0..=5)
        .map(|protocol| Profile::CPython { protocol })
        .chain([Profile::Pyrolite]);
    for profile in profiles {
        let Ok(bytes) = pickle::encode(&d.graph, profile) else {
            continue;
        };
        let bytes = Bytes::from(bytes);
        // A re-encoding can take more nodes than the graph it was written
        // from: CPython memoizes no int, float or persistent id, so every
        // reference to a shared one is written again, and a persistent id
        // whose pid holds persistent ids writes them all again each time.
        // (A campaign found 1 206 nodes from 2 480 bytes re-encoded into
        // 84 170.) So a limit reached under the small limits is no failure
        // to read: it is retried under the default ones, where only a real
        // error, or a limit again, fails.
        // Read again under the default limits, the nodes aside: a graph of
        // 2^20 nodes or more takes a single allocation past this harness's
        // 64 MiB limit (40 bytes a node, grown by doubling), so a
        // re-encoding that needs more than 2^19 is not read again. (A
        // campaign found 4 013 bytes of persistent-id chains, 2 499 nodes,
        // re-encoded into 1.46 MB that decode into more than 970 000.)
        let again = match pickle::decode_with(&bytes, &limits) {
            Err(pickle::DecodeError::Limit { .. }) => {
                let roomier = Limits {
                    max_nodes: MAX_REREAD_NODES,
                    ..Limits::default()
                };
                match pickle::decode_with(&bytes, &roomier) {
                    Err(pickle::DecodeError::Limit { limit: "node", .. }) => continue,
                    other => other,
                }
            }
            other => other,
        }
        .unwrap_or_else(|e| panic!("{profile:?} wrote a pickle we cannot read: {e}"));
        let twice = pickle::encode(&again.graph, profile)
            .unwrap_or_else(|e| panic!("{profile:?} cannot re-encode its own output: {e}"));
        // (Not at protocols 0–2, where CPython's fix_imports renames Python 3
        // modules to their Python 2 names, and a Python 2 name can itself be a
        // Python 3 name that is renamed again: dbm.ndbm → dbm → anydbm.)
        if !matches!(profile, Profile::CPython { protocol: 0..=2 }) {
            assert_eq!(
                twice, bytes,
                "{profile:?} is not a fixpoint on its own output"
            );
        }
        if let (Some(r), Profile::CPython { protocol: 3.. }) = (&repr, profile) {
            // The repr budget counts graph nodes visited, and the same value
            // can take more nodes in another protocol: below protocol 4 a set
            // is a `builtins.set([...])` call of six nodes where EMPTY_SET made
            // one. Running out of budget is no change of value: retry with
            // room for that growth.
            let r2 = match pickle::repr_node(&again.graph, again.root(), &limits) {
                Err(ReprError::TooLarge(_)) => {
                    let roomier = Limits {
                        max_expanded: limits.max_expanded * 8,
                        ..limits
                    };
                    pickle::repr_node(&again.graph, again.root(), &roomier).ok()
                }
                other => other.ok(),
            };
            assert_eq!(Some(r), r2.as_ref(), "{profile:?} changed the value");
        }
    }
});
