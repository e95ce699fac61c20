//! The server side of the auth handshake fed by an arbitrary (unauthenticated)
//! peer, reading only as much as `wants()` allows, as the blocking adapter does:
//! it must decide, never consume more than 4 + secret length bytes, and accept only
//! the exact secret.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use sparkwire_framing::auth::{ServerHandshake, Verdict};
use sparkwire_framing::{Secret, Step};

fuzz_target!(|data: &[u8]| {
    let secret = Secret::new("0123456789abcdef0123456789abcdef");
    let mut server = ServerHandshake::new(&secret);
    let mut buf = BytesMut::new();
    let mut read = 0usize;
    let verdict = loop {
        if let Step::Item(v) = server.decode(&mut buf) {
            break Some(v);
        }
        let want = server.wants(&buf);
        assert!(want > 0);
        if read == data.len() {
            break None;
        }
        let n = want.min(data.len() - read).min(3);
        buf.extend_from_slice(&data[read..read + n]);
        read += n;
    };
    assert!(read <= 4 + secret.as_str().len());
    if verdict == Some(Verdict::Accepted) {
        assert_eq!(&data[..read], &secret.hello()[..]);
    }
});
