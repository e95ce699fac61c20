//! Relay throughput of `tap` against a direct loopback connection, same run:
//! 256 MiB pushed through each, best of 3. Run:
//! `cargo bench -p sparkwire-worker --bench tap_relay`.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

const TOTAL: usize = 256 << 20;

/// A server that reads everything and reports when it saw the last byte.
fn sink() -> (u16, thread::JoinHandle<Instant>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let h = thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut buf = vec![0u8; 1 << 16];
        let mut n = 0;
        while n < TOTAL {
            n += s.read(&mut buf).unwrap();
        }
        Instant::now()
    });
    (port, h)
}

fn push(port: u16) -> Instant {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let chunk = vec![7u8; 1 << 16];
    let start = Instant::now();
    for _ in 0..TOTAL / chunk.len() {
        s.write_all(&chunk).unwrap();
    }
    start
}

fn direct() -> Duration {
    let (port, done) = sink();
    let start = push(port);
    done.join().unwrap() - start
}

fn relayed() -> Duration {
    relayed_into(std::env::temp_dir().join(format!("sparkwire-tap-bench-{}", std::process::id())))
}

/// The same relay recording into /dev/null: what any proxy costs (a second
/// loopback hop), without the capture file.
fn relayed_unrecorded() -> Duration {
    relayed_into("/dev/null".into())
}

fn relayed_into(capture: std::path::PathBuf) -> Duration {
    let (target, done) = sink();
    let front = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = front.local_addr().unwrap().port();
    let relay = thread::spawn(move || {
        let (jvm, _) = front.accept().unwrap();
        let worker = TcpStream::connect(("127.0.0.1", target)).unwrap();
        let file = File::create(&capture).unwrap();
        let r = sparkwire_worker::tap::relay(jvm, worker, file);
        (r, capture)
    });
    let start = push(port);
    let elapsed = done.join().unwrap() - start;
    let (_, capture) = relay.join().unwrap();
    if capture.starts_with(std::env::temp_dir()) {
        let _ = std::fs::remove_file(capture);
    }
    elapsed
}

fn main() {
    let best = |f: fn() -> Duration| (0..3).map(|_| f()).min().unwrap();
    let d = best(direct);
    let r = best(relayed);
    let u = best(relayed_unrecorded);
    let mb = TOTAL as f64 / (1 << 20) as f64;
    println!(
        "tap relay, {mb:.0} MiB over loopback, best of 3 (the relay also writes the capture file)"
    );
    println!(
        "  direct:                        {:8.1} ms  {:7.0} MiB/s",
        d.as_secs_f64() * 1e3,
        mb / d.as_secs_f64()
    );
    println!(
        "  relayed, capture to /dev/null: {:8.1} ms  {:7.0} MiB/s  ({:.2}x the direct time)",
        u.as_secs_f64() * 1e3,
        mb / u.as_secs_f64(),
        u.as_secs_f64() / d.as_secs_f64()
    );
    println!(
        "  relayed, capture to a file:    {:8.1} ms  {:7.0} MiB/s  ({:.2}x the direct time, {:.2}x the unrecorded relay)",
        r.as_secs_f64() * 1e3,
        mb / r.as_secs_f64(),
        r.as_secs_f64() / d.as_secs_f64(),
        r.as_secs_f64() / u.as_secs_f64()
    );
}
