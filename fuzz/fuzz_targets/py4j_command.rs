//! The py4j decoder on arbitrary bytes, in both directions, fed in a chunking
//! derived from the input.
//!
//! Beyond "no panic": the same messages and the same first error whether the
//! input arrives whole or in pieces, and every decoded message re-encodes to
//! exactly the bytes it was decoded from. That holds for this protocol because
//! the decoder only accepts the spellings it keeps (canonical integers, escapes
//! and base64; both boolean and double spellings are stored as written); the
//! bytes of a command refused for a bad value are skipped, not re-encoded.
//!
//! Input: byte 0 picks the direction (bit 0: 0 = to Java, 1 = to Python) and
//! the limits (`sparkwire_fuzz::py4j_limits`); the rest is the stream.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sparkwire_fuzz::{py4j_decode, py4j_limits};
use sparkwire_gateway::py4j::Direction;

fuzz_target!(|data: &[u8]| {
    let Some((&head, data)) = data.split_first() else {
        return;
    };
    let dir = if head & 1 == 0 {
        Direction::ToJava
    } else {
        Direction::ToPython
    };
    let limits = py4j_limits(head);
    let whole = py4j_decode(data, dir, limits, usize::MAX);
    let chunk = data.len() % 7 + 1;
    assert_eq!(whole, py4j_decode(data, dir, limits, chunk));
    for (m, start, end) in &whole.0 {
        let mut again = Vec::new();
        m.encode(&mut again);
        assert_eq!(&again[..], &data[*start..*end]);
    }
});
