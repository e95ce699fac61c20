//! The pcap path of `sparkwire decode` on arbitrary bytes: reading pcap/pcapng,
//! TCP reassembly and recognising each connection never panic, and a
//! connection recognised as a worker connection re-encodes to exactly the
//! reassembled bytes it was decoded from.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sparkwire_inspect::capture;
use sparkwire_inspect::pcap;
use sparkwire_inspect::traffic::{classify, Kind};

fuzz_target!(|data: &[u8]| {
    let Ok(cap) = pcap::read(data) else {
        return;
    };
    for tcp in cap.connections {
        let c = classify(tcp, None);
        if let (Kind::Worker { conn, .. }, Some((to, from))) = (&c.kind, c.worker_streams()) {
            let again = capture::reencode(conn).expect("a decoded connection re-encodes");
            assert_eq!(
                (&again.0[..], &again.1[..]),
                (to, from),
                "re-encoding differs"
            );
        }
    }
});
