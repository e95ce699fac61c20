//! Relay throughput of `tap` against a direct loopback connection, same run:
//! 256 MiB pushed through each, best of 3. The bytes are a real JVM → worker
//! stream (the JVM's "ok", a 4.3 task header, then 64 KiB data frames), so the
//! last variant, which also reads the task headers for broadcasts as `tap`
//! does, reads all of it. Run: `cargo bench -p sparkwire-worker --bench tap_relay`.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use sparkwire_worker::protocol::{SparkVersion, TaskHeader};
use sparkwire_worker::tap::broadcasts::BroadcastRecorder;
use sparkwire_worker::tap::watch::Prelude;

const TOTAL: usize = 256 << 20;
const CHUNK: usize = 1 << 16;

/// "ok", a task header, then data frames of `CHUNK` bytes each (length
/// included), up to `TOTAL` bytes.
fn stream() -> &'static [u8] {
    static STREAM: OnceLock<Vec<u8>> = OnceLock::new();
    STREAM.get_or_init(|| {
        let mut s = b"\0\0\0\x02ok".to_vec();
        let header = TaskHeader::example(vec![0x80u8; 4000].into());
        s.extend(header.encode(SparkVersion::V4_3).unwrap());
        // Pad with frames (the last one shorter) to exactly TOTAL bytes.
        while s.len() < TOTAL {
            let n = (TOTAL - s.len()).min(CHUNK) - 4;
            s.extend((n as i32).to_be_bytes());
            s.extend(std::iter::repeat_n(7u8, n));
        }
        s
    })
}

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
    let start = Instant::now();
    for chunk in stream().chunks(CHUNK) {
        s.write_all(chunk).unwrap();
    }
    start
}

fn direct() -> Duration {
    let (port, done) = sink();
    let start = push(port);
    done.join().unwrap() - start
}

fn capture_file() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("sparkwire-tap-bench-{}", std::process::id()))
}

fn relayed() -> Duration {
    relayed_into(capture_file(), false)
}

/// As `tap` relays the JVM → worker direction: recorded, and the task headers
/// read for broadcasts (on the capture writer's thread).
fn relayed_watching() -> Duration {
    relayed_into(capture_file(), true)
}

/// The same relay recording into /dev/null: what any proxy costs (a second
/// loopback hop), without the capture file.
fn relayed_unrecorded() -> Duration {
    relayed_into("/dev/null".into(), false)
}

fn relayed_into(capture: std::path::PathBuf, watch: bool) -> Duration {
    let (target, done) = sink();
    let front = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = front.local_addr().unwrap().port();
    let relay = thread::spawn(move || {
        let (jvm, _) = front.accept().unwrap();
        let worker = TcpStream::connect(("127.0.0.1", target)).unwrap();
        let file = File::create(&capture).unwrap();
        let r = if watch {
            let recorder = BroadcastRecorder::new(&std::env::temp_dir(), "bench.bin", Prelude::Str);
            sparkwire_worker::tap::relay_to_worker(jvm, worker, file, recorder)
        } else {
            sparkwire_worker::tap::relay(jvm, worker, file)
        };
        (r, capture)
    });
    let start = push(port);
    let elapsed = done.join().unwrap() - start;
    let (r, capture) = relay.join().unwrap();
    // The relay (and the watch, which must have read every byte) is done.
    assert_eq!(r.join().unwrap().unwrap(), TOTAL as u64);
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
    let w = best(relayed_watching);
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
    println!(
        "  relayed, recorded and watched: {:8.1} ms  {:7.0} MiB/s  ({:.2}x the recorded relay)",
        w.as_secs_f64() * 1e3,
        mb / w.as_secs_f64(),
        w.as_secs_f64() / r.as_secs_f64()
    );
}
