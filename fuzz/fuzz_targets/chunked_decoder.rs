//! The chunked-stream decoder on arbitrary bytes: never panics, chunks never exceed
//! the limit, and what it consumed re-encodes (as chunks) to the same bytes.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use sparkwire_framing::{Chunk, ChunkedDecoder, Limits, Step};

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_chunk_len: 4096,
        ..Limits::default()
    };
    let mut dec = ChunkedDecoder::with_limits(limits);
    let mut buf = BytesMut::from(data);
    let mut again = Vec::new();
    loop {
        match dec.decode(&mut buf) {
            Ok(Step::Item(Chunk::Data(b))) => {
                assert!(b.len() <= 4096);
                again.extend_from_slice(&(b.len() as i32).to_be_bytes());
                again.extend_from_slice(&b);
            }
            Ok(Step::Item(Chunk::End)) => {
                again.extend_from_slice(&(-1i32).to_be_bytes());
                assert!(dec.finish(&buf).is_ok());
                break;
            }
            Ok(Step::NeedMore) => {
                assert!(dec.finish(&buf).is_err());
                break;
            }
            Err(e) => {
                assert_eq!(e.offset(), dec.offset());
                break;
            }
        }
    }
    assert_eq!(&again[..], &data[..again.len()]);
    assert_eq!(again.len() as u64, dec.offset());
});
