//! UTF-8 record streams: the strict decoder and the PySpark-compatible reader must
//! agree on every stream the strict decoder accepts.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use sparkwire_framing::utf8::{load_like_pyspark, Utf8Decoder, Utf8Item};
use sparkwire_framing::Step;

fuzz_target!(|data: &[u8]| {
    let mut dec = Utf8Decoder::new();
    let mut buf = BytesMut::from(data);
    let mut items = Vec::new();
    let clean = loop {
        match dec.decode(&mut buf) {
            Ok(Step::Item(Utf8Item::Str(s))) => items.push(Some(s)),
            Ok(Step::Item(Utf8Item::Null)) => items.push(None),
            Ok(Step::Item(Utf8Item::End)) => break true,
            Ok(Step::NeedMore) => break dec.finish(&buf).is_ok(),
            Err(_) => break false,
        }
    };
    let pyspark = load_like_pyspark(data);
    if clean {
        assert_eq!(pyspark, Ok(items));
    }
});
