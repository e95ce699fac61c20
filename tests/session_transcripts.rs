//! The JVM-side session replays every golden transcript of real Spark: given
//! the recorded tasks (headers and inputs, as decoded from the recording) and
//! fed the worker's recorded bytes in arbitrary chunks, it must transmit exactly
//! the bytes Spark's JVM sent, report exactly the reply items the worker sent,
//! and end each connection where the recording ends (a killed worker's reply
//! cut short, a 4.3 daemon worker's EOF traceback after its last task).

use std::fs;

use sparkwire_framing::Secret;
use sparkwire_inspect::capture::{self, Connection, Mode};
use sparkwire_serializers::pyspark::arrow::SectionItem;
use sparkwire_testkit::golden_dir;
use sparkwire_worker::protocol::session::{Event, Handshake, Session, SessionError};
use sparkwire_worker::protocol::{ReplyItem, TaskEncoder};

/// Chunk sizes from a small deterministic generator (xorshift), 1 to `max`.
struct Chunks(u64);

impl Chunks {
    fn next(&mut self, max: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        1 + (self.0 % max as u64) as usize
    }
}

/// The secret of the recorded handshake (a `str` at the start of one side).
fn recorded_secret(side: &[u8]) -> Secret {
    let n = i32::from_be_bytes(side[..4].try_into().unwrap()) as usize;
    Secret::new(std::str::from_utf8(&side[4..4 + n]).unwrap())
}

/// Replays `c` through a session; returns (bytes transmitted, events).
fn replay(c: &Connection, from: &[u8], max_chunk: usize, seed: u64) -> (Vec<u8>, Vec<Event>) {
    let handshake = match c.mode {
        Mode::Simple => Handshake::Simple(recorded_secret(&c.prelude.1)),
        Mode::Daemon => Handshake::Daemon(recorded_secret(&c.prelude.0)),
        Mode::Unix => Handshake::Unix,
    };
    let mut s = Session::new(c.version, handshake);
    let mut sent = Vec::new();
    let mut events = Vec::new();
    let mut chunks = Chunks(seed);
    let mut at = 0;
    // Feeds the worker's bytes until `done` holds for the events so far (or
    // they run out); a handshake is fed no more than it asks for.
    let mut feed = |s: &mut Session, events: &mut Vec<Event>, done: &dyn Fn(&[Event]) -> bool| {
        while !done(events) && at < from.len() {
            let n = chunks
                .next(max_chunk)
                .min(s.read_limit())
                .min(from.len() - at);
            assert!(n > 0, "the session reads nothing while waiting");
            s.handle_input(&from[at..at + n]).unwrap();
            at += n;
            events.extend(std::iter::from_fn(|| s.poll_event()));
        }
    };
    feed(&mut s, &mut events, &|e| {
        e.iter().any(|e| matches!(e, Event::Ready { .. }))
    });
    let enc = TaskEncoder::new(c.version);
    for (i, t) in c.tasks.iter().enumerate() {
        sent.extend(s.poll_transmit().unwrap_or_default());
        s.start_task(&t.header).unwrap();
        for f in &t.input {
            s.send_frame(f).unwrap();
        }
        if t.header.eval_type.is_arrow() {
            let mut section = Vec::new();
            enc.arrow(&t.arrow_input, &mut section);
            s.send_arrow(&section).unwrap();
        }
        let arrow_ended = t.arrow_input.last() == Some(&SectionItem::End);
        if (t.end_of_data || arrow_ended) && t.finish == Some(-4) {
            s.end_input().unwrap();
        } else {
            // The recording stops inside the input: only a prefix was sent.
            s.abandon_input();
        }
        events.extend(std::iter::from_fn(|| s.poll_event()));
        feed(&mut s, &mut events, &|e| {
            e.iter()
                .any(|e| matches!(e, Event::TaskDone { task, .. } if *task == i))
        });
    }
    sent.extend(s.poll_transmit().unwrap_or_default());
    // Whatever the worker sent after its last reply stays unconsumed.
    if at < from.len() {
        s.handle_input(&from[at..]).unwrap();
    }
    match s.handle_eof() {
        Ok(()) => events.extend(std::iter::from_fn(|| s.poll_event())),
        Err(SessionError::Closed { during, .. }) => {
            let cut = !c.is_complete();
            let trailing = !c.trailing.is_empty();
            assert!(
                (cut && during == "a task's reply")
                    || (trailing && during == "idle time (unsolicited bytes)"),
                "closed during {during}"
            );
        }
        Err(e) => panic!("{e}"),
    }
    (sent, events)
}

#[test]
fn the_session_replays_every_golden_transcript_byte_for_byte() {
    let root = golden_dir().join("worker");
    let mut connections = 0;
    let mut tasks = 0;
    for release in fs::read_dir(&root).unwrap() {
        let release = release.unwrap().path();
        if !release.is_dir() {
            continue;
        }
        for job in fs::read_dir(&release).unwrap() {
            let job = job.unwrap().path();
            for n in 0.. {
                let to_path = job.join(format!("to_worker.{n}.bin"));
                if !to_path.exists() {
                    break;
                }
                let what = format!("{}/{n}", job.display());
                let to = fs::read(&to_path).unwrap();
                let from = fs::read(job.join(format!("from_worker.{n}.bin"))).unwrap();
                let c = capture::decode(&to, &from, None).unwrap();
                if c.fork_errno.is_some() {
                    continue;
                }
                let recorded_items: Vec<Vec<ReplyItem>> =
                    c.tasks.iter().map(|t| t.reply.clone()).collect();
                for (max_chunk, seed) in [(1, 1), (7, 2), (4096, 3), (usize::MAX, 4)] {
                    let (sent, events) = replay(&c, &from, max_chunk.min(from.len().max(1)), seed);
                    // The handshake's bytes the JVM sent, then every task.
                    assert_eq!(sent, to, "{what} (chunks ≤ {max_chunk}): bytes sent");
                    // The reply items, split by task, equal the recording's.
                    let mut replies: Vec<Vec<ReplyItem>> = vec![Vec::new(); c.tasks.len()];
                    let mut current = 0;
                    for e in &events {
                        match e {
                            Event::Reply(item) => replies[current].push(item.clone()),
                            Event::TaskDone { task, .. } => {
                                assert_eq!(*task, current, "{what}");
                                current += 1;
                            }
                            Event::Ready { pid } => assert_eq!(*pid, c.pid, "{what}"),
                            Event::Closed => {}
                        }
                    }
                    assert_eq!(current, c.tasks.iter().filter(|t| t.reply_complete).count());
                    assert_eq!(replies, recorded_items, "{what}: reply items");
                }
                connections += 1;
                tasks += c.tasks.len();
            }
        }
    }
    // 5 releases × 14 jobs and the Unix-socket jobs of 4.1–4.3, some with several
    // connections: far more than this; fewer means the transcripts went missing.
    assert!(connections >= 80, "only {connections} connections replayed");
    eprintln!("replayed {connections} connections, {tasks} tasks");
}
