//! The shuffle-block reader on arbitrary bytes: never panics, and the blocks it
//! returns are exactly the input's bytes — re-encoding them as `PairwiseRDD`
//! frames them (`i32 8`, the `i64` partition, the length-prefixed payload)
//! gives back the input up to the end of the last block, so every declared
//! length matched the block it framed.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use sparkwire_framing::Step;
use sparkwire_serializers::pyspark::shuffle::ShuffleDecoder;

fuzz_target!(|data: &[u8]| {
    let mut dec = ShuffleDecoder::new();
    let mut buf = BytesMut::from(data);
    let mut rebuilt = Vec::new();
    let mut end_of_blocks = 0;
    loop {
        match dec.decode(&mut buf) {
            Ok(Step::Item(Some(b))) => {
                rebuilt.extend_from_slice(&8i32.to_be_bytes());
                rebuilt.extend_from_slice(&b.partition.to_be_bytes());
                rebuilt.extend_from_slice(&(b.payload.len() as i32).to_be_bytes());
                rebuilt.extend_from_slice(&b.payload);
                end_of_blocks = data.len() - buf.len();
                assert_eq!(
                    rebuilt,
                    &data[..end_of_blocks],
                    "blocks differ from the input"
                );
            }
            Ok(Step::Item(None)) => {
                // END_OF_DATA_SECTION right after the last block.
                assert_eq!(
                    &data[end_of_blocks..data.len() - buf.len()],
                    &(-1i32).to_be_bytes()
                );
                break;
            }
            Ok(Step::NeedMore) | Err(_) => break,
        }
    }
    let _ = dec.finish(&buf);
});
