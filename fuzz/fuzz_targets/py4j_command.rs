//! The py4j decoder on arbitrary bytes, in both directions, fed in a chunking
//! derived from the input.
//!
//! Beyond "no panic": the same messages and the same first error whether the
//! input arrives whole or in pieces, and every decoded message re-encodes to
//! exactly the bytes it was decoded from. That holds for this protocol because
//! the decoder only accepts the spellings it keeps (canonical integers, escapes
//! and base64; both boolean and double spellings are stored as written); the
//! bytes of a command refused for a bad value are skipped, not re-encoded.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use sparkwire_framing::Step;
use sparkwire_gateway::py4j::{DecodeError, Direction, Limits, Message, Py4jDecoder};

/// Messages with the byte range each came from, then the first corrupting error.
type Outcome = (Vec<(Message, usize, usize)>, Option<DecodeError>);

fn decode(data: &[u8], dir: Direction, limits: Limits, chunk: usize) -> Outcome {
    let mut dec = Py4jDecoder::with_limits(dir, limits);
    let mut buf = BytesMut::new();
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

fuzz_target!(|data: &[u8]| {
    let Some((&head, data)) = data.split_first() else {
        return;
    };
    let dir = if head & 1 == 0 {
        Direction::ToJava
    } else {
        Direction::ToPython
    };
    // Small limits half of the time, so the limit paths are exercised too.
    let limits = if head & 2 == 0 {
        Limits::default()
    } else {
        Limits {
            max_line_len: usize::from(head >> 2) + 1,
            max_args: usize::from(head >> 5),
            max_command_len: usize::from(head) * 2,
        }
    };
    let whole = decode(data, dir, limits, usize::MAX);
    let chunk = data.len() % 7 + 1;
    assert_eq!(whole, decode(data, dir, limits, chunk));
    for (m, start, end) in &whole.0 {
        let mut again = Vec::new();
        m.encode(&mut again);
        assert_eq!(&again[..], &data[*start..*end]);
    }
});
