//! The frame decoder on arbitrary bytes, fed in a chunking derived from the input.
//!
//! Beyond "no panic": the same items and the same error whether the input arrives
//! whole or in pieces, re-encoding the items reproduces exactly the bytes consumed,
//! and the reported offset is the number of bytes consumed.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use sparkwire_framing::{DecodeError, Frame, FrameDecoder, Limits, Step};

fn decode(data: &[u8], limits: Limits, chunk: usize) -> (Vec<Frame>, Option<DecodeError>, u64) {
    let mut dec = FrameDecoder::with_limits(limits);
    let mut buf = BytesMut::new();
    let mut fed = 0;
    let mut frames = Vec::new();
    loop {
        match dec.decode(&mut buf) {
            Ok(Step::Item(f)) => frames.push(f),
            Ok(Step::NeedMore) if fed == data.len() => {
                return (frames, dec.finish(&buf).err(), dec.offset())
            }
            Ok(Step::NeedMore) => {
                let n = chunk.min(data.len() - fed);
                buf.extend_from_slice(&data[fed..fed + n]);
                fed += n;
            }
            Err(e) => return (frames, Some(e), dec.offset()),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    // Small limits half of the time, so the limit paths are exercised too.
    let limits = if data.len().is_multiple_of(2) {
        Limits::default()
    } else {
        Limits {
            max_frame_len: (data.len() as u32) % 64,
            ..Limits::default()
        }
    };
    let (whole, whole_err, consumed) = decode(data, limits, usize::MAX);
    let chunk = data.len() % 7 + 1;
    let (pieces, pieces_err, _) = decode(data, limits, chunk);
    assert_eq!(whole, pieces);
    assert_eq!(whole_err, pieces_err);
    let mut again = Vec::new();
    for f in &whole {
        f.encode(&mut again).expect("decoded frames fit an i32");
    }
    assert_eq!(again.len() as u64, consumed);
    assert_eq!(&again[..], &data[..again.len()]);
    if let Some(e) = whole_err {
        assert_eq!(e.offset(), consumed);
    }
});
