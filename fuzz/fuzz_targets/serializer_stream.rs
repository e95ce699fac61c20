//! `StreamDecoder` for every serializer shape on arbitrary bytes, fed in two
//! chunks at a fuzz-chosen split: never panics, the split does not change
//! what is decoded (the decoder is truly incremental), and batches kept flat
//! give what decoding every batch into a graph gives (`keep_graphs`).
#![no_main]

use std::collections::HashMap;
use std::sync::Arc;

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use sparkwire_framing::{Limits, Step};
use sparkwire_serializers::pickle::{Graph, NodeId};
use sparkwire_serializers::pyspark::{Element, PickleFlavor, Serializer, StreamDecoder};
use sparkwire_serializers::SparkVersion;

fn serializer(b: u8) -> Serializer {
    let framed = match b & 7 {
        0 => Serializer::CPickle,
        1 => Serializer::Marshal,
        2 => Serializer::NoOp,
        3 => Serializer::Auto,
        4 => Serializer::Compressed(Box::new(Serializer::CPickle)),
        5 => Serializer::Pickled(PickleFlavor::Pickle),
        6 => Serializer::Utf8 { use_unicode: true },
        _ => Serializer::Compressed(Box::new(Serializer::Marshal)),
    };
    match b >> 3 & 7 {
        0 => framed,
        1 | 2 if framed.to_string() != "UTF8Deserializer()" => Serializer::batched(framed, 3),
        3 => Serializer::auto_batched(framed),
        4 => Serializer::JvmAutoBatched,
        5 => Serializer::Pair(
            Box::new(Serializer::batched(Serializer::CPickle, 2)),
            Box::new(framed),
        ),
        6 => Serializer::Cartesian(Box::new(framed.clone()), Box::new(framed)),
        _ => Serializer::FlattenedValues(Box::new(Serializer::CPickle), 2),
    }
}

/// An element's repr under the pickle targets' small limits: the default
/// ones let a repr expand shared references to 2 GiB of text (one record of
/// 15 000 references to a 30 000-byte str is 450 MB), past the fuzz
/// allocation limit.
fn repr(e: &Element) -> Result<String, String> {
    e.repr_with(&sparkwire_fuzz::pickle_limits())
        .map_err(|e| e.to_string())
}

/// What a run saw of an element: a digest and the length of its repr, or the
/// error. Digests, not texts: every repr is bounded, but not their sum (a
/// 60 KB stream of `BINGET`s of one 30 000-byte str is 30 000 elements of
/// 30 KB each, 900 MB a run; this stop's campaign found one past the RSS
/// limit). A pickled element's repr is taken once per node of its graph
/// (the same node always reprs alike), so such a stream costs one repr.
/// A difference names the element; rerun the input to see the two reprs.
type Seen = Result<(u64, usize), String>;

fn digest(text: &str) -> (u64, usize) {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    text.hash(&mut h);
    (h.finish(), text.len())
}

fn run(ser: &Serializer, chunks: &[&[u8]], graphs: bool) -> Vec<Seen> {
    let limits = Limits {
        max_frame_len: 1 << 16,
        ..Limits::default()
    };
    let mut dec = StreamDecoder::new(ser.clone(), SparkVersion::V4_3).with_limits(limits);
    if graphs {
        dec = dec.keep_graphs();
    }
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    // The reprs of the nodes of the graph seen last (a batch's elements
    // come one after another), holding that graph so that it stays itself.
    let mut last: Option<(Arc<Graph>, HashMap<NodeId, Seen>)> = None;
    let mut see = |e: Element| match &e {
        Element::Pickled(g, id) => {
            if !last.as_ref().is_some_and(|(l, _)| Arc::ptr_eq(l, g)) {
                last = Some((g.clone(), HashMap::new()));
            }
            let (_, seen) = last.as_mut().expect("set above");
            seen.entry(*id)
                .or_insert_with(|| repr(&e).map(|t| digest(&t)))
                .clone()
        }
        _ => repr(&e).map(|t| digest(&t)),
    };
    for c in chunks {
        buf.extend_from_slice(c);
        loop {
            match dec.decode(&mut buf) {
                Ok(Step::Item(Some(e))) => out.push(see(e)),
                Ok(Step::Item(None)) => return out,
                Ok(Step::NeedMore) => break,
                Err(e) => {
                    out.push(Err(e.to_string()));
                    return out;
                }
            }
        }
    }
    if let Err(e) = dec.finish(&buf) {
        out.push(Err(e.to_string()));
    }
    out
}

/// Fails, naming the first element that differs, unless `a` and `b` are alike.
fn same(a: &[Seen], b: &[Seen], what: &str) {
    if let Some(at) = (0..a.len().max(b.len())).find(|&i| a.get(i) != b.get(i)) {
        panic!(
            "{what}: element {at} of {} / {}: {:?} against {:?}",
            a.len(),
            b.len(),
            a.get(at),
            b.get(at)
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((head, at, rest)) = sparkwire_fuzz::selector_split(data) else {
        return;
    };
    let ser = serializer(head);
    let whole = run(&ser, &[rest], false);
    let parts = run(&ser, &[&rest[..at], &rest[at..]], false);
    same(&whole, &parts, "chunking changed the result");
    let graphs = run(&ser, &[rest], true);
    same(&whole, &graphs, "flat batches differ from graphs");
});
