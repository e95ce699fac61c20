//! The pcap path of `sparkwire decode` on arbitrary bytes: reading pcap/pcapng,
//! TCP reassembly and recognising each connection never panic, and a
//! connection recognised as a worker connection re-encodes to exactly the
//! reassembled bytes it was decoded from, as far as it was decoded (a damaged
//! connection is read up to the damage, and what was read re-encodes to the
//! bytes before it).
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
            if conn.stops.is_empty() {
                assert_eq!(
                    (&again.0[..], &again.1[..]),
                    (to, from),
                    "re-encoding differs"
                );
            } else {
                // Everything decoded is written again (a cut reply may also
                // get the accumulator count read before the cut), and nothing
                // written differs from what was recorded.
                assert!(
                    again.0.len() as u64 >= conn.decoded.0,
                    "to_worker shorter than decoded"
                );
                assert!(
                    again.1.len() as u64 >= conn.decoded.1,
                    "from_worker shorter than decoded"
                );
                assert_eq!(
                    to.get(..again.0.len()),
                    Some(&again.0[..]),
                    "to_worker prefix differs"
                );
                assert_eq!(
                    from.get(..again.1.len()),
                    Some(&again.1[..]),
                    "from_worker prefix differs"
                );
            }
        }
    }
});
