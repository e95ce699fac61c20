//! marshal on arbitrary bytes: never panics, and whatever decodes re-encodes to
//! exactly the input (the decoder is lossless); the pickle-model view and the
//! canonical writer accept what they are given without panicking.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use sparkwire_serializers::marshal;

fuzz_target!(|data: &[u8]| {
    let Ok(m) = marshal::decode(&Bytes::copy_from_slice(data)) else {
        return;
    };
    let again = marshal::encode(&m).expect("a decoded value encodes");
    assert_eq!(again, data, "decode → encode changed the bytes");
    let _ = m.repr();
    if let Ok(g) = marshal::to_pickle(&m) {
        if let Some(root) = g.root() {
            let _ = marshal::from_pickle(&g, root);
        }
    }
});
