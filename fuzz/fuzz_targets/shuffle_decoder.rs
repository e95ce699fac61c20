//! The shuffle-block reader on arbitrary bytes: never panics, and every block it
//! returns is a payload that was really in the input.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use sparkwire_framing::Step;
use sparkwire_serializers::pyspark::shuffle::ShuffleDecoder;

fuzz_target!(|data: &[u8]| {
    let mut dec = ShuffleDecoder::new();
    let mut buf = BytesMut::from(data);
    let mut total = 0usize;
    loop {
        match dec.decode(&mut buf) {
            Ok(Step::Item(Some(b))) => {
                total += 16 + b.payload.len();
                assert!(total <= data.len());
            }
            Ok(Step::Item(None)) | Ok(Step::NeedMore) | Err(_) => break,
        }
    }
    let _ = dec.finish(&buf);
});
