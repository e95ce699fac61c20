//! Decoding a capture directory holds one frame of a task at a time: the
//! peak of live heap bytes while a capture is decoded, written as the text
//! and JSON reports and verified does not grow with its records and bytes —
//! ten times the tasks add only the header kept for each task (what the
//! connection's summary, written before the tasks, is made from), ten times
//! the batches of one task add nothing but reader buffers — where decoding
//! the same capture whole grows with it (the control that shows the count
//! can tell).
//!
//! The captures are built from a real one (`tests/golden/worker/spark-4.3.0/
//! reduce_by_key`, recorded from PySpark): its first task, with its input
//! frames and reply repeated, re-encoded by the crate's own encoder
//! (`capture::reencode`) `n` times on one connection, as a reused worker
//! receives them.
//!
//! The allocator counts bytes, not time: nothing here depends on how fast
//! the machine is. One `#[test]` only, so that no other test allocates
//! while one is measured.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use sparkwire_inspect::capture::{self, Connection};
use sparkwire_inspect::capture_dir;
use sparkwire_inspect::recording::{Origin, Recording};
use sparkwire_inspect::report::{ConnectionReport, Report};
use sparkwire_inspect::streamed::{Streamed, TaskSource};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(n: usize) {
    let now = LIVE.fetch_add(n, Ordering::Relaxed) + n;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        grew(l.size());
        unsafe { System.alloc(l) }
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        grew(l.size());
        unsafe { System.alloc_zeroed(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        if new >= l.size() {
            grew(new - l.size());
        } else {
            LIVE.fetch_sub(l.size() - new, Ordering::Relaxed);
        }
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static A: Counting = Counting;

/// The peak of live heap bytes above what was live when `f` started.
fn peak_of(f: impl FnOnce()) -> usize {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    f();
    PEAK.load(Ordering::Relaxed) - base
}

/// A capture directory holding one connection of `tasks` copies of the
/// recorded task, each with its input and reply data repeated `batches`
/// times.
fn capture(dir: &Path, tasks: usize, batches: usize) {
    let golden = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/golden/worker/spark-4.3.0/reduce_by_key");
    let r = &capture_dir::read_dir(&golden).unwrap()[0];
    let mut c: Connection = capture::decode(&r.to_worker, &r.from_worker, None).unwrap();
    let mut task = c.tasks[0].clone();
    assert!(!task.input.is_empty() && task.reply.len() > 2, "{task:?}");
    let input = task.input.clone();
    task.input = (0..batches).flat_map(|_| input.iter().cloned()).collect();
    // The reply's data items repeated, its markers (timing, accumulators,
    // end) once, after them.
    let (data, rest): (Vec<_>, Vec<_>) = task
        .reply
        .iter()
        .cloned()
        .partition(|i| matches!(i, sparkwire_worker::protocol::ReplyItem::Data(_)));
    task.reply = (0..batches).flat_map(|_| data.iter().cloned()).collect();
    task.reply.extend(rest);
    // A reused worker: END_OF_STREAM after each data section.
    task.finish = Some(-4);
    c.tasks = vec![task; tasks];
    c.trailing.clear();
    let (to, from) = capture::reencode(&c).unwrap();
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("to_worker.0.bin"), to).unwrap();
    std::fs::write(dir.join("from_worker.0.bin"), from).unwrap();
}

/// The capture's one connection, decoded and verified task by task.
fn verified_recording(dir: &Path) -> Recording {
    let f = &capture_dir::list_dir(dir).unwrap()[0];
    let origin = Origin::Files {
        to: f.to_worker.clone(),
        from: f.from_worker.clone(),
    };
    let r = Recording::decode(&f.name, origin, None).unwrap().unwrap();
    assert_eq!(r.verify().unwrap(), [None, None]);
    r
}

/// Decodes, renders the JSON report to nowhere and verifies, task by task.
fn streamed(dir: &Path) -> usize {
    let r = verified_recording(dir);
    let report = Report {
        connections: vec![ConnectionReport::summary(&r.name, &r.conn)],
        capture: None,
        daemon: None,
        broadcast_files: None,
        tap_log: None,
    };
    let decoded = [Some(&r as &dyn TaskSource)];
    let all = |_: usize, _: &capture::Task| true;
    let doc = Streamed {
        report: &report,
        decoded: &decoded,
        keep: &all,
        max_records: None,
    };
    let mut counted = Counter(0);
    serde_json::to_writer(&mut counted, &doc).unwrap();
    counted.0
}

/// Decodes, builds each task's report as text shows it (its first 20
/// records of each section and how many there are) and verifies, task by
/// task, each task read a frame at a time; how many records were read.
fn streamed_text(dir: &Path) -> usize {
    let r = verified_recording(dir);
    let all = |_: usize, _: &capture::Task| true;
    let (mut counted, mut records) = (Counter(0), 0);
    for t in r.task_reports(&all, Some(20)) {
        let t = t.unwrap();
        assert_eq!(t.input_records.len(), 20.min(t.input_count));
        serde_json::to_writer(&mut counted, &t).unwrap();
        records += t.input_count + t.output_count;
    }
    records
}

/// The same, with the capture read and decoded whole.
fn eager(dir: &Path) -> usize {
    let r = &capture_dir::read_dir(dir).unwrap()[0];
    let c = capture::decode_best(&r.to_worker, &r.from_worker, None).unwrap();
    let report = Report {
        connections: vec![ConnectionReport::new(&r.name, &c)],
        capture: None,
        daemon: None,
        broadcast_files: None,
        tap_log: None,
    };
    let mut counted = Counter(0);
    serde_json::to_writer(&mut counted, &report.to_json().unwrap()).unwrap();
    counted.0
}

/// Counts what is written.
struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0 += b.len();
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn peak_memory_does_not_grow_with_the_number_of_tasks() {
    let root = std::env::temp_dir().join(format!("sparkwire-bounded-{}", std::process::id()));
    let (small, large): (PathBuf, PathBuf) = (root.join("small"), root.join("large"));
    let (n, batches) = (10, 400);
    capture(&small, n, batches);
    capture(&large, 10 * n, batches);
    let size = |d: &Path| {
        ["to_worker.0.bin", "from_worker.0.bin"]
            .iter()
            .map(|f| std::fs::metadata(d.join(f)).unwrap().len())
            .sum::<u64>()
    };
    let sizes = (size(&small), size(&large));
    assert!(sizes.1 > 9 * sizes.0, "{sizes:?}");

    let mut out = (0, 0);
    let e_small = peak_of(|| out.0 = eager(&small));
    let e_large = peak_of(|| out.1 = eager(&large));
    // Streamed, with more tasks: each direction of the smaller capture
    // (2 MB) larger than the reader buffers grow to (two reads of 256 KiB
    // each, for each of the four readers the JSON report uses: one reads
    // the tasks, one more for each list of records written from frames).
    let n = 3 * n;
    capture(&small, n, batches);
    capture(&large, 10 * n, batches);
    let sizes = (size(&small), size(&large));
    let s_small = peak_of(|| out.0 = streamed(&small));
    let s_large = peak_of(|| out.1 = streamed(&large));
    // Every task was written: ten times the output for ten times the tasks.
    assert!(out.1 > 9 * out.0, "{out:?}");
    eprintln!(
        "peak live bytes: whole {e_small} for {} tasks, {e_large} for {}; \
         streamed {s_small} for {n} tasks, {s_large} for {}; capture {} and {} bytes",
        n / 3,
        10 * n / 3,
        10 * n,
        sizes.0,
        sizes.1
    );
    // The control: decoded whole, ten times the tasks take several times the memory.
    assert!(e_large > 5 * e_small, "{e_small} {e_large}");
    // Streamed: one more header kept per task (this task's is 6.6 KB with
    // its command, which the tasks share), nothing per record: ten times
    // the capture, well under twice the memory.
    let per_task = s_large.saturating_sub(s_small) / (9 * n);
    assert!(per_task < 8 << 10, "{per_task} bytes per task");
    assert!(
        s_large < 2 * s_small,
        "streamed: {s_small} for {n} tasks, {s_large} for {}",
        10 * n
    );

    // One task of `b` batches against one of ten times as many: the text
    // and JSON reports and the verification read a task a frame at a time,
    // so the peak does not grow with the task. (`b` makes each direction larger
    // than a reader's buffer grows to, two reads of 256 KiB: a recording
    // smaller than that is read in fewer, smaller reads.)
    let b = 16000;
    let tiny = root.join("tiny");
    capture(&tiny, 1, b / 10);
    capture(&small, 1, b);
    capture(&large, 1, 10 * b);
    let sizes = (size(&small), size(&large));
    assert!(sizes.1 > 9 * sizes.0, "{sizes:?}");
    let mut json = (0, 0);
    let t_small = peak_of(|| (out.0, json.0) = (streamed_text(&small), streamed(&small)));
    let t_large = peak_of(|| (out.1, json.1) = (streamed_text(&large), streamed(&large)));
    // Every record was read, and written as JSON: ten times as many.
    assert!(out.0 > 0 && out.1 == 10 * out.0, "{out:?}");
    assert!(json.1 > 9 * json.0, "{json:?}");
    let e_tiny = peak_of(|| _ = eager(&tiny));
    let e_small = peak_of(|| _ = eager(&small));
    let _ = std::fs::remove_dir_all(&root);
    eprintln!(
        "peak live bytes, one task: text, JSON and verify {t_small} for {b} batches, {t_large} for {}; \
         whole {e_tiny} for {}, {e_small} for {b}; capture {} and {} bytes",
        10 * b,
        b / 10,
        sizes.0,
        sizes.1
    );
    // The control: the task decoded whole grows with it.
    assert!(e_small > 5 * e_tiny, "{e_tiny} {e_small}");
    // Read a piece at a time: ten times the task (23 MB more), the peak
    // grows by at most what the readers' buffers can grow by (one more read
    // of 256 KiB for each of the four: where the reads fall against the
    // items decides whether the smaller capture needs it), and stays far
    // below the task's size.
    assert!(
        t_large < t_small + 4 * (320 << 10) && (t_large as u64) < sizes.1 / 5,
        "one task read a piece at a time: {t_small} for {b} batches, {t_large} for {}",
        10 * b
    );
}
