//! The gateway's command execution on arbitrary client bytes: decode the
//! Python → JVM stream and execute every command against a fresh object model,
//! as a server connection does (with no route to Python for callbacks).
//!
//! Beyond "no panic": every command gets exactly one outcome; a reply is one
//! line that Python's side would read (it re-decodes as a reply); the registry
//! never holds more objects than the commands could have created.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use sparkwire_framing::Step;
use sparkwire_gateway::jvm::{Jvm, NoCallbacks, Outcome};
use sparkwire_gateway::py4j::{Direction, Message, Py4jDecoder, Reply};

fuzz_target!(|data: &[u8]| {
    let jvm = Jvm::new();
    let base = jvm.registry().len();
    let mut dec = Py4jDecoder::with_limits(Direction::ToJava, sparkwire_fuzz::py4j_limits(0));
    let mut buf = BytesMut::from(data);
    let mut commands = 0usize;
    loop {
        match dec.decode(&mut buf) {
            Ok(Step::Item(Message::Command(c))) => {
                commands += 1;
                let reply = match jvm.execute(&c, &mut NoCallbacks) {
                    Outcome::Reply(r) | Outcome::Stream(r, _) | Outcome::Fatal(r) => r,
                    Outcome::Shutdown | Outcome::Cancel { .. } => continue,
                };
                let bytes = reply.to_bytes();
                assert_eq!(bytes.iter().filter(|&&b| b == b'\n').count(), 1);
                let line = std::str::from_utf8(&bytes[..bytes.len() - 1]).expect("utf-8 reply");
                assert_eq!(Reply::parse(line).as_ref(), Ok(&reply));
            }
            Ok(Step::Item(Message::Reply(_))) => {}
            Ok(Step::NeedMore) => break,
            Err(e) if e.is_stream_corrupt() => break,
            Err(_) => {}
        }
    }
    // Each command returns at most one new object id, except a thrown
    // exception's (one) — so at most one per command.
    assert!(jvm.registry().len() <= base + commands);
});
