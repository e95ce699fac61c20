//! The host's reply handling on arbitrary worker output, in memory: the
//! JVM-side session (handshake, then tasks back to back while the worker says
//! it can be reused) and the host's collector, which sorts reply items into
//! output, summary and failure. Nothing may panic; the session may never be
//! made to read past what it allows (an unauthenticated worker cannot make it
//! read beyond the handshake); no output follows a Python exception; a worker
//! is reusable only after it sent END_OF_STREAM; and the data handed out never
//! exceeds the bytes received.
//!
//! Input: byte 0 picks the Spark version, byte 1 the handshake (daemon,
//! simple or Unix socket), byte 2 the chunk size; the rest is what the worker
//! sent.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use sparkwire_framing::Secret;
use sparkwire_worker::host::collect::{Collected, Collector};
use sparkwire_worker::protocol::session::{Event, Handshake, Session};
use sparkwire_worker::protocol::{End, ReplyItem, SparkVersion, TaskHeader};

/// Tasks run back to back on one connection before the target stops.
const MAX_TASKS: usize = 4;

fuzz_target!(|data: &[u8]| {
    let [v, hs, chunk, rest @ ..] = data else {
        return;
    };
    let version = SparkVersion::ALL[*v as usize % SparkVersion::ALL.len()];
    let secret = Secret::new("0".repeat(64));
    let handshake = match hs % 3 {
        0 => Handshake::Daemon(secret),
        1 => Handshake::Simple(secret),
        _ => Handshake::Unix,
    };
    let chunk = *chunk as usize % 97 + 1;
    let mut session = Session::new(version, handshake);
    let header = TaskHeader::example(Bytes::from_static(b"\x80\x05N."));
    let mut collector = Collector::default();
    let mut tasks = 0;
    let mut raised = false;
    let mut last_item: Option<ReplyItem> = None;
    let mut fed = 0usize;
    let mut data_out = 0u64;
    loop {
        while session.poll_transmit().is_some() {}
        while let Some(event) = session.poll_event() {
            match event {
                Event::Ready { .. } => {
                    if session.start_task(&header).is_err() || session.end_input().is_err() {
                        return;
                    }
                    tasks += 1;
                }
                Event::Reply(item) => {
                    assert!(!raised, "output after a Python exception");
                    last_item = Some(item.clone());
                    match collector.take(item) {
                        Collected::Output(o) => {
                            if let sparkwire_worker::host::Output::Data(b) = o {
                                data_out += b.len() as u64;
                            }
                        }
                        Collected::Raised(_) => raised = true,
                        Collected::Kept => {}
                    }
                }
                Event::TaskDone { reusable, .. } => {
                    if reusable {
                        assert_eq!(
                            last_item,
                            Some(ReplyItem::End(End::Reuse)),
                            "reusable without END_OF_STREAM"
                        );
                        assert!(!raised, "reusable after an exception");
                    }
                    if !reusable || tasks >= MAX_TASKS {
                        return;
                    }
                    collector = Collector::default();
                    last_item = None;
                    if session.start_task(&header).is_err() || session.end_input().is_err() {
                        return;
                    }
                    tasks += 1;
                }
                Event::Closed => return,
            }
        }
        assert!(data_out <= fed as u64, "more data handed out than received");
        // Before the worker is ready it can make us read at most its secret
        // (4 + 64 bytes) and pid, or a pid and a 3-byte reply.
        assert!(
            tasks > 0 || fed <= 72,
            "read {fed} bytes of an unfinished handshake"
        );
        if fed == rest.len() {
            let _ = session.handle_eof();
            while session.poll_event().is_some() {}
            return;
        }
        // The host never reads more than the session allows.
        let n = chunk.min(session.read_limit()).min(rest.len() - fed);
        if n == 0 {
            return;
        }
        if session.handle_input(&rest[fed..fed + n]).is_err() {
            return;
        }
        fed += n;
    }
});
