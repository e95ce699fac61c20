//! The pcap path of `sparkwire decode` on arbitrary bytes: reading pcap/pcapng,
//! TCP reassembly and recognising each connection never panic, and a
//! connection recognised as a worker connection re-encodes to exactly the
//! reassembled bytes it was decoded from.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sparkwire_worker::capture::{self, Mode};
use sparkwire_worker::pcap;
use sparkwire_worker::traffic::{classify, Kind};

fuzz_target!(|data: &[u8]| {
    let Ok(cap) = pcap::read(data) else {
        return;
    };
    for tcp in cap.connections {
        let c = classify(tcp, None);
        if let Kind::Worker(w) = c.kind {
            let (to, from) = match w.mode {
                Mode::Simple => (&c.tcp.server_data, &c.tcp.client_data),
                Mode::Daemon => (&c.tcp.client_data, &c.tcp.server_data),
            };
            let again = capture::reencode(&w).expect("a decoded connection re-encodes");
            assert_eq!((&again.0, &again.1), (to, from), "re-encoding differs");
        }
    }
});
