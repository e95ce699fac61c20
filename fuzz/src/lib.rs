//! What the fuzz targets share: how an input is split into control bytes and
//! data, the small limits that keep each execution cheap, and a global
//! allocator that refuses any single allocation above 64 MiB.

use std::alloc::{GlobalAlloc, Layout, System};

use sparkwire_serializers::pickle::{Graph, Limits, Value};

/// The largest single allocation a target may make: `-malloc_limit_mb=64` of
/// scripts/fuzz-limits.sh (see there why 64 MiB), enforced here too because
/// libFuzzer enforces it only through a sanitizer's malloc hooks, and the
/// campaign builds the pickle targets without a sanitizer (`-s none`), where
/// `-malloc_limit_mb` is silently ignored. Under AddressSanitizer both apply.
pub const MAX_ALLOC: usize = 64 << 20;

/// The system allocator, aborting on a single allocation above [`MAX_ALLOC`]
/// (a length taken from the input and trusted). It aborts rather than panics
/// because an allocator must not unwind; libFuzzer reports the abort as a
/// crash and keeps the input, as it does for its own malloc limit.
pub struct LimitedAlloc;

#[global_allocator]
static ALLOC: LimitedAlloc = LimitedAlloc;

fn refuse_above_limit(size: usize) {
    if size > MAX_ALLOC {
        // Formatting into stderr does not allocate.
        eprintln!(
            "==sparkwire-fuzz== ERROR: an allocation of {size} bytes exceeds the \
             {MAX_ALLOC}-byte limit (fuzz/src/lib.rs, scripts/fuzz-limits.sh)"
        );
        std::process::abort();
    }
}

// SAFETY: every call is forwarded unchanged to `System`; the only addition is
// a size check before allocating, which never touches memory.
unsafe impl GlobalAlloc for LimitedAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        refuse_above_limit(layout.size());
        System.alloc(layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        refuse_above_limit(layout.size());
        System.alloc_zeroed(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        refuse_above_limit(new_size);
        System.realloc(ptr, layout, new_size)
    }
}

/// Whether the value a graph stands for depends on the identity of a NaN: a
/// NaN node referred to twice is one object, which a set or dict holds once
/// (`x in s` checks identity before `==`), but CPython's pickler writes floats
/// without a memo, so a re-encoding loads two NaNs that stay two keys. Only a
/// hand-made pickle shares a float; the repr comparison of the round-trip
/// targets skips such graphs (found by the pickle_roundtrip campaign).
pub fn shares_a_nan(g: &Graph) -> bool {
    let mut seen = std::collections::HashSet::new();
    g.ids()
        .flat_map(|id| g.children(id))
        .any(|c| matches!(g.try_get(c), Some(Value::Float(f)) if f.is_nan()) && !seen.insert(c))
}

/// Whether the value a graph stands for depends on the identity of a
/// persistent object: a persistent-id node referred to twice is one object
/// (a set holds it once), but CPython's pickler asks `persistent_id` before
/// it looks in its memo, so it writes the id once per reference and a load
/// makes that many objects (the pickle_decode campaign found a frozenset of
/// one `DUP`ed `BINPERSID` result that re-encoded into several). Skipped by
/// the same repr comparisons as [`shares_a_nan`].
pub fn shares_a_persistent_object(g: &Graph) -> bool {
    let mut seen = std::collections::HashSet::new();
    g.ids()
        .flat_map(|id| g.children(id))
        .any(|c| matches!(g.try_get(c), Some(Value::PersId(_))) && !seen.insert(c))
}

/// Small pickle limits: deep and wide enough for every real pickle in the
/// corpus, small enough that a hostile input costs microseconds.
pub fn pickle_limits() -> Limits {
    Limits {
        max_nodes: 1 << 16,
        max_memo: 1 << 14,
        max_stack: 1 << 16,
        max_depth: 1 << 12,
        max_expanded: 1 << 16,
        ..Limits::default()
    }
}

/// An input of the chunking targets: a selector byte, a split byte, then the
/// stream. Returns the selector, the split point inside the stream, and the
/// stream; `None` for inputs too short to hold the two control bytes.
pub fn selector_split(data: &[u8]) -> Option<(u8, usize, &[u8])> {
    let (&head, rest) = data.split_first()?;
    let (&split, rest) = rest.split_first()?;
    Some((head, usize::from(split) % (rest.len() + 1), rest))
}

/// The py4j targets' reading of their first byte: bit 1 clear keeps the default
/// limits, bit 1 set derives small ones from the byte's upper bits, so half of
/// the inputs exercise the limit paths. (Bit 0 is `py4j_command`'s direction.)
pub fn py4j_limits(head: u8) -> sparkwire_gateway::py4j::Limits {
    if head & 2 == 0 {
        sparkwire_gateway::py4j::Limits::default()
    } else {
        sparkwire_gateway::py4j::Limits {
            max_line_len: usize::from(head >> 2) + 1,
            max_args: usize::from(head >> 5),
            max_command_len: usize::from(head) * 2,
        }
    }
}

/// What a py4j decoder made of a stream: each message with the byte range it
/// came from, then the first error that corrupted the stream (bad values, which
/// skip their command, are not kept).
pub type Py4jOutcome = (
    Vec<(sparkwire_gateway::py4j::Message, usize, usize)>,
    Option<sparkwire_gateway::py4j::DecodeError>,
);

/// Decodes `data` fed `chunk` bytes at a time, to the end of the input.
pub fn py4j_decode(
    data: &[u8],
    dir: sparkwire_gateway::py4j::Direction,
    limits: sparkwire_gateway::py4j::Limits,
    chunk: usize,
) -> Py4jOutcome {
    use sparkwire_framing::Step;
    let mut dec = sparkwire_gateway::py4j::Py4jDecoder::with_limits(dir, limits);
    let mut buf = bytes::BytesMut::new();
    let mut fed = 0;
    let mut out = Vec::new();
    loop {
        let before = dec.offset() as usize;
        match dec.decode(&mut buf) {
            Ok(Step::Item(m)) => out.push((m, before, dec.offset() as usize)),
            Ok(Step::NeedMore) if fed == data.len() => return (out, dec.finish(&buf).err()),
            Ok(Step::NeedMore) => {
                let n = chunk.min(data.len() - fed);
                buf.extend_from_slice(&data[fed..fed + n]);
                fed += n;
            }
            Err(e) if e.is_stream_corrupt() => return (out, Some(e)),
            Err(_) => {}
        }
    }
}
