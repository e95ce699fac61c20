//! What the fuzz targets share: how an input is split into control bytes and
//! data, and the small limits that keep each execution cheap.

use sparkwire_serializers::pickle::Limits;

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
