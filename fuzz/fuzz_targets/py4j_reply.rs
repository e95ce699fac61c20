//! The py4j decoder on arbitrary bytes in the JVM → Python direction: replies
//! (`!y…`, `!x…`, `!z…`) mixed with the JVM's callback commands (`c` on a Python
//! proxy, `g`, callback `A`), as on a ClientServer socket.
//!
//! Properties: no panic; the same messages and the same first error whether the
//! input arrives whole or in pieces; every accepted message re-encodes to
//! exactly the bytes it was decoded from; a reply is exactly one line, and the
//! decoder's reading of it is `Reply::parse`'s.
//!
//! Input: byte 0 picks the chunking (bit 0: 0 = a size derived from the input,
//! 1 = one byte at a time) and the limits (`sparkwire_fuzz::py4j_limits`); the
//! rest is the stream.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sparkwire_fuzz::{py4j_decode, py4j_limits};
use sparkwire_gateway::py4j::{Direction, Message, Reply};

fuzz_target!(|data: &[u8]| {
    let Some((&head, data)) = data.split_first() else {
        return;
    };
    let limits = py4j_limits(head);
    let whole = py4j_decode(data, Direction::ToPython, limits, usize::MAX);
    let chunk = if head & 1 == 0 { data.len() % 7 + 1 } else { 1 };
    assert_eq!(whole, py4j_decode(data, Direction::ToPython, limits, chunk));
    for (m, start, end) in &whole.0 {
        let bytes = &data[*start..*end];
        let mut again = Vec::new();
        m.encode(&mut again);
        assert_eq!(&again[..], bytes);
        if let Message::Reply(r) = m {
            let (line, nl) = bytes.split_at(bytes.len() - 1);
            assert_eq!(nl, b"\n");
            assert!(!line.contains(&b'\n'));
            let text = std::str::from_utf8(line).expect("a decoded reply is UTF-8");
            assert_eq!(Reply::parse(text).as_ref(), Ok(r));
        }
    }
});
