//! Watching the JVM → worker direction for broadcast files, sans-I/O.
//!
//! `tap` feeds [`BroadcastWatch`] the same bytes it records, in whatever chunks
//! they arrive, and gets back each broadcast addition of each task header, so
//! that it can copy the file the header names into the capture directory while
//! the file still exists (the executor deletes it when the broadcast goes).
//!
//! The relay does not know which Spark release it sits in, and the header
//! layouts differ, so every release's [`TaskDecoder`] reads the stream side by
//! side; a layout that fails to read it drops out. A header's additions are
//! *settled* — handed out — once every remaining layout has read that header,
//! or once one of them has read the item after it as well (a wrong layout
//! rarely reads a whole header, and practically never what follows it too);
//! layouts still inside that header then drop out, which also bounds what
//! lagging layouts hold. Settling on the next item rather than on the next
//! header matters: a reused worker may sit idle for long after its task, and
//! the file may be gone by then.
//!
//! Watching may stop (no layout reads the stream, layouts disagree, too much
//! held): the caller notes why and keeps relaying; later bytes are ignored.

use std::collections::VecDeque;
use std::fmt;

use bytes::BytesMut;
use sparkwire_framing::Step;

use crate::protocol::{BroadcastEntry, SparkVersion, TaskDecoder, TaskError, TaskItem};

/// What the JVM sends on a connection before its first task header. It depends
/// on how the worker was started, which `tap` knows and the bytes alone do not
/// always tell (a secret's length looks like a partition index).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prelude {
    /// Nothing: connections over Unix-domain sockets are not authenticated.
    Nothing,
    /// One `str`: the `"ok"` answering a simple worker's secret, or the secret
    /// the JVM sends a daemon-forked worker.
    Str,
}

/// Longest prelude `str` accepted: `"ok"` is 2 bytes and Spark's secrets are 64
/// hex digits, so anything near this is not a prelude.
const MAX_PRELUDE: usize = 1024;

/// Default bound on the bytes a watch holds undecoded over all its layouts.
///
/// 256 MiB: each layout holds at most the item it is reading (a header with its
/// command, a data frame, an Arrow message), and before the first header settles
/// five layouts hold the same header; real commands and frames are far smaller
/// (Spark warns about commands over 1 MiB). Past it the watch stops rather than
/// make the relay's process grow.
pub const DEFAULT_MAX_BUFFERED: usize = 256 << 20;

/// Why watching stopped. The relay goes on; broadcasts the stream adds later are
/// not recorded.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// The stream does not open with the prelude expected.
    #[error("byte 0: expected the JVM's prelude str (\"ok\" or the secret), found length {len}")]
    Prelude {
        /// The length read.
        len: i32,
    },
    /// Every release's layout failed to read the stream.
    #[error(
        "no release's layout reads the stream (byte {offset}): {}",
        Failures(failures)
    )]
    NoLayout {
        /// Bytes of the stream fed so far.
        offset: u64,
        /// Each layout's error (offsets count from after the prelude).
        failures: Vec<(SparkVersion, TaskError)>,
    },
    /// Two layouts read one header whole but found different broadcasts in it.
    #[error("task {task}: the {first} and {second} layouts read different broadcasts")]
    Ambiguous {
        /// Index of the task on the connection.
        task: usize,
        /// One layout.
        first: SparkVersion,
        /// Another.
        second: SparkVersion,
    },
    /// The layouts hold more undecoded bytes than allowed.
    #[error("byte {offset}: {held} bytes held undecoded, more than the {max} allowed")]
    TooMuchBuffered {
        /// Bytes of the stream fed so far.
        offset: u64,
        /// Bytes held.
        held: usize,
        /// The bound.
        max: usize,
    },
}

/// Renders each layout's failure.
struct Failures<'a>(&'a [(SparkVersion, TaskError)]);

impl fmt::Display for Failures<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (v, e)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{v}: {e}")?;
        }
        Ok(())
    }
}

/// A header one layout read, not settled yet.
#[derive(Debug)]
struct ReadHeader {
    /// Index of the task on the connection.
    task: usize,
    /// Its broadcast additions (`id ≥ 0`), in order.
    additions: Vec<BroadcastEntry>,
    /// Whether the layout read an item after it.
    followed: bool,
}

/// One release's reading of the stream.
#[derive(Debug)]
struct Layout {
    version: SparkVersion,
    decoder: TaskDecoder,
    buf: BytesMut,
    /// Headers read and not settled, oldest first.
    headers: VecDeque<ReadHeader>,
    /// The eval type of its last header has no known data layout: that header
    /// stands, but nothing after it can be read.
    stalled: Option<TaskError>,
}

impl Layout {
    fn new(version: SparkVersion) -> Layout {
        Layout {
            version,
            decoder: TaskDecoder::new(version),
            buf: BytesMut::new(),
            headers: VecDeque::new(),
            stalled: None,
        }
    }

    /// Decodes what `buf` holds; `Err` when this layout cannot read the stream.
    fn advance(&mut self) -> Result<(), TaskError> {
        loop {
            let item = match self.decoder.decode(&mut self.buf) {
                Ok(Step::Item(item)) => item,
                Ok(Step::NeedMore) => return Ok(()),
                Err(e @ TaskError::UnknownEvalType { .. }) => {
                    // The header was read whole; only its data section is unknown.
                    if let Some(last) = self.headers.back_mut() {
                        last.followed = true;
                    }
                    self.buf.clear();
                    self.stalled = Some(e);
                    return Ok(());
                }
                Err(e) => return Err(e),
            };
            if let Some(last) = self.headers.back_mut() {
                last.followed = true;
            }
            if let TaskItem::Header(h) = item {
                let additions = h
                    .broadcasts
                    .entries
                    .iter()
                    .filter(|e| e.id >= 0)
                    .cloned()
                    .collect();
                self.headers.push_back(ReadHeader {
                    task: self.decoder.tasks() - 1,
                    additions,
                    followed: false,
                });
            }
        }
    }

    /// Whether this layout has read header `task` (and not yet had it settled).
    fn has_read(&self, task: usize) -> bool {
        self.headers.front().is_some_and(|h| h.task == task)
    }
}

/// The prelude still to skip.
#[derive(Debug)]
enum PreludeLeft {
    /// The `str`'s length, `have` of its 4 bytes read so far.
    Length {
        have: usize,
        bytes: [u8; 4],
    },
    /// Body bytes still to skip.
    Body(usize),
    Done,
}

/// Finds the broadcast additions in a JVM → worker stream fed in any chunks.
#[derive(Debug)]
pub struct BroadcastWatch {
    prelude: PreludeLeft,
    layouts: Vec<Layout>,
    failures: Vec<(SparkVersion, TaskError)>,
    /// Headers settled so far.
    settled: usize,
    /// Bytes fed so far.
    offset: u64,
    max_buffered: usize,
    stopped: bool,
}

impl BroadcastWatch {
    /// A watch for a stream that opens with `prelude`.
    pub fn new(prelude: Prelude) -> BroadcastWatch {
        BroadcastWatch::with_max_buffered(prelude, DEFAULT_MAX_BUFFERED)
    }

    /// [`BroadcastWatch::new`] holding at most `max_buffered` undecoded bytes.
    pub fn with_max_buffered(prelude: Prelude, max_buffered: usize) -> BroadcastWatch {
        BroadcastWatch {
            prelude: match prelude {
                Prelude::Nothing => PreludeLeft::Done,
                Prelude::Str => PreludeLeft::Length {
                    have: 0,
                    bytes: [0; 4],
                },
            },
            layouts: SparkVersion::ALL.into_iter().map(Layout::new).collect(),
            failures: Vec::new(),
            settled: 0,
            offset: 0,
            max_buffered,
            stopped: false,
        }
    }

    /// Whether watching has stopped (every later byte is ignored).
    pub fn is_stopped(&self) -> bool {
        self.stopped
    }

    /// Bytes held undecoded over all layouts.
    pub fn buffered(&self) -> usize {
        self.layouts.iter().map(|l| l.buf.len()).sum()
    }

    /// The layouts still reading the stream.
    pub fn layouts(&self) -> Vec<SparkVersion> {
        self.layouts.iter().map(|l| l.version).collect()
    }

    /// Feeds the next bytes of the stream; pushes onto `added` each broadcast
    /// addition they settle, in stream order (`path: None`: sent through the
    /// decryption server, so there is no file). `Err` once, when watching stops
    /// (additions settled before that are still pushed); afterwards `Ok` and
    /// nothing.
    pub fn feed(&mut self, data: &[u8], added: &mut Vec<BroadcastEntry>) -> Result<(), WatchError> {
        if self.stopped {
            return Ok(());
        }
        let result = self.feed_unstopped(data, added);
        if result.is_err() {
            self.stop();
        }
        result
    }

    /// The end of the stream: settles the headers read (no layout still inside
    /// one can finish it now). A stream cut anywhere is no error here; it only
    /// ends the watch.
    pub fn finish(&mut self, added: &mut Vec<BroadcastEntry>) -> Result<(), WatchError> {
        if self.stopped {
            return Ok(());
        }
        let result = self.settle(true, added);
        self.stop();
        result
    }

    fn stop(&mut self) {
        self.stopped = true;
        self.layouts.clear();
        self.failures.clear();
    }

    fn feed_unstopped(
        &mut self,
        data: &[u8],
        added: &mut Vec<BroadcastEntry>,
    ) -> Result<(), WatchError> {
        self.offset += data.len() as u64;
        let data = self.skip_prelude(data)?;
        if data.is_empty() {
            return Ok(());
        }
        let mut i = 0;
        while i < self.layouts.len() {
            let layout = &mut self.layouts[i];
            if layout.stalled.is_none() {
                layout.buf.extend_from_slice(data);
                if let Err(e) = layout.advance() {
                    let gone = self.layouts.remove(i);
                    self.failures.push((gone.version, e));
                    continue;
                }
            }
            i += 1;
        }
        self.settle(false, added)?;
        if self.layouts.iter().all(|l| l.stalled.is_some()) {
            for l in self.layouts.drain(..) {
                if let Some(e) = l.stalled {
                    self.failures.push((l.version, e));
                }
            }
            return Err(WatchError::NoLayout {
                offset: self.offset,
                failures: std::mem::take(&mut self.failures),
            });
        }
        let held = self.buffered();
        if held > self.max_buffered {
            return Err(WatchError::TooMuchBuffered {
                offset: self.offset,
                held,
                max: self.max_buffered,
            });
        }
        Ok(())
    }

    /// Skips what is left of the prelude at the start of `data`.
    fn skip_prelude<'a>(&mut self, mut data: &'a [u8]) -> Result<&'a [u8], WatchError> {
        loop {
            match &mut self.prelude {
                PreludeLeft::Done => return Ok(data),
                PreludeLeft::Length { have, bytes } => {
                    let take = (4 - *have).min(data.len());
                    bytes[*have..*have + take].copy_from_slice(&data[..take]);
                    *have += take;
                    data = &data[take..];
                    if *have < 4 {
                        return Ok(data);
                    }
                    let len = i32::from_be_bytes(*bytes);
                    match usize::try_from(len) {
                        Ok(n) if n <= MAX_PRELUDE => self.prelude = PreludeLeft::Body(n),
                        _ => return Err(WatchError::Prelude { len }),
                    }
                }
                PreludeLeft::Body(left) => {
                    let take = (*left).min(data.len());
                    *left -= take;
                    data = &data[take..];
                    if *left > 0 {
                        return Ok(data);
                    }
                    self.prelude = PreludeLeft::Done;
                }
            }
        }
    }

    /// Hands out the additions of each header that can be settled now (see the
    /// module doc); `at_end`: no more bytes will come, so every header read is.
    fn settle(&mut self, at_end: bool, added: &mut Vec<BroadcastEntry>) -> Result<(), WatchError> {
        loop {
            let task = self.settled;
            let readers = self.layouts.iter().filter(|l| l.has_read(task)).count();
            if readers == 0 {
                return Ok(());
            }
            let followed = self.layouts.iter().any(|l| {
                l.headers
                    .front()
                    .is_some_and(|h| h.task == task && h.followed)
            });
            if !(at_end || followed || readers == self.layouts.len()) {
                return Ok(());
            }
            // Layouts still inside this header were overtaken: drop them.
            self.layouts.retain(|l| l.has_read(task));
            let mut heads: Vec<(SparkVersion, Vec<BroadcastEntry>)> = self
                .layouts
                .iter_mut()
                .filter_map(|l| Some((l.version, l.headers.pop_front()?.additions)))
                .collect();
            let (first, additions) = heads.swap_remove(0);
            if let Some((second, _)) = heads.iter().find(|(_, other)| *other != additions) {
                return Err(WatchError::Ambiguous {
                    task,
                    first,
                    second: *second,
                });
            }
            added.extend(additions);
            self.settled += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{BroadcastServer, ConnInfo, TaskEncoder, TaskHeader};
    use bytes::Bytes;
    use sparkwire_framing::Frame;

    fn add(id: i64, path: &str) -> BroadcastEntry {
        BroadcastEntry {
            id,
            path: Some(path.into()),
        }
    }

    /// Feeds `wire` in chunks of `chunk` bytes; the additions, and whether
    /// watching stopped.
    fn watch_in_chunks(prelude: Prelude, wire: &[u8], chunk: usize) -> Vec<BroadcastEntry> {
        let mut w = BroadcastWatch::new(prelude);
        let mut added = Vec::new();
        for piece in wire.chunks(chunk) {
            w.feed(piece, &mut added).unwrap();
        }
        w.finish(&mut added).unwrap();
        added
    }

    /// Every broadcast addition of every header in a recorded JVM → worker
    /// stream, read with the release's own layout.
    fn additions_in(stream: &[u8], v: SparkVersion) -> Vec<BroadcastEntry> {
        let mut dec = TaskDecoder::new(v);
        let mut buf = BytesMut::from(stream);
        let mut out = Vec::new();
        while let Step::Item(item) = dec.decode(&mut buf).unwrap() {
            if let TaskItem::Header(h) = item {
                out.extend(h.broadcasts.entries.into_iter().filter(|e| e.id >= 0));
            }
        }
        dec.finish(&buf).unwrap();
        out
    }

    /// The `broadcast_accum` job recorded from real Spark (a simple worker, so
    /// the JVM's "ok" first), fed in chunks down to single bytes: the watch finds
    /// the header's broadcast, with the path Spark sent, without being told the
    /// release — and hands it out before the stream ends.
    #[test]
    fn finds_the_broadcasts_of_real_spark_headers_in_split_chunks() {
        let golden =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/golden/worker");
        let mut releases = 0;
        for entry in std::fs::read_dir(&golden).unwrap() {
            let dir = entry.unwrap().path();
            let Some(release) = dir
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_prefix("spark-"))
                .map(str::to_owned)
            else {
                continue;
            };
            let v = SparkVersion::of_release(&release).unwrap();
            let wire = std::fs::read(dir.join("broadcast_accum/to_worker.0.bin")).unwrap();
            assert!(wire.starts_with(b"\0\0\0\x02ok"), "{release}");
            let expected = additions_in(&wire[6..], v);
            assert!(
                !expected.is_empty(),
                "{release}: no broadcast in the golden job"
            );
            assert!(expected.iter().all(|e| e.path.is_some()), "{release}");
            for chunk in [1, 2, 3, 7, 64, 1000, wire.len()] {
                let mut w = BroadcastWatch::new(Prelude::Str);
                let mut added = Vec::new();
                for piece in wire.chunks(chunk) {
                    w.feed(piece, &mut added).unwrap();
                }
                assert_eq!(added, expected, "{release}, chunks of {chunk}");
                assert!(w.layouts().contains(&v), "{release}: {:?}", w.layouts());
                w.finish(&mut added).unwrap();
                assert_eq!(added, expected, "{release}, chunks of {chunk}");
            }
            releases += 1;
        }
        assert_eq!(releases, SparkVersion::ALL.len());
    }

    /// Two tasks on one reused connection: the second removes a broadcast and
    /// adds another. Removals are not additions; each header's additions come
    /// out once, in order, as soon as the item after that header has arrived.
    fn two_tasks(v: SparkVersion, prelude: &[u8]) -> (Vec<u8>, usize) {
        let enc = TaskEncoder::new(v);
        let mut wire = prelude.to_vec();
        let mut h = TaskHeader::example(Bytes::from_static(b"\x80\x05N."));
        h.broadcasts.entries = vec![add(1, "/tmp/b/one"), add(2, "/tmp/b/two")];
        enc.header(&h, &mut wire).unwrap();
        let after_first_header = wire.len();
        enc.frame(&Frame::Data(Bytes::from_static(b"abc")), &mut wire)
            .unwrap();
        enc.end_of_data(&mut wire);
        enc.finish(-4, &mut wire);
        h.partition_index = 1;
        h.broadcasts.entries = vec![
            BroadcastEntry { id: -2, path: None },
            add(3, "/tmp/b/three"),
        ];
        enc.header(&h, &mut wire).unwrap();
        enc.end_of_data(&mut wire);
        enc.finish(-4, &mut wire);
        (wire, after_first_header)
    }

    #[test]
    fn reads_every_release_with_either_prelude_in_any_chunks() {
        let mut secret = 64i32.to_be_bytes().to_vec();
        secret.extend([b'a'; 64]);
        let expected = [
            add(1, "/tmp/b/one"),
            add(2, "/tmp/b/two"),
            add(3, "/tmp/b/three"),
        ];
        for v in SparkVersion::ALL {
            for (prelude, bytes) in [(Prelude::Nothing, &[][..]), (Prelude::Str, &secret[..])] {
                let (wire, _) = two_tasks(v, bytes);
                for chunk in [1, 5, 13, wire.len()] {
                    assert_eq!(
                        watch_in_chunks(prelude, &wire, chunk),
                        expected,
                        "{v} {prelude:?} chunks of {chunk}"
                    );
                }
            }
        }
    }

    /// Real streams: a header's additions are out no later than the first item
    /// after it (here a 3-byte frame), long before the next header.
    #[test]
    fn a_header_settles_by_the_item_after_it() {
        for v in SparkVersion::ALL {
            let (wire, header_end) = two_tasks(v, b"");
            let mut w = BroadcastWatch::new(Prelude::Nothing);
            let mut added = Vec::new();
            w.feed(&wire[..header_end + 3], &mut added).unwrap();
            w.feed(&wire[header_end + 3..header_end + 7], &mut added)
                .unwrap();
            assert_eq!(added, [add(1, "/tmp/b/one"), add(2, "/tmp/b/two")], "{v}");
            assert!(w.layouts().contains(&v), "{v}: {:?}", w.layouts());
        }
    }

    /// A layout's reading of header 0: its additions and whether an item
    /// followed it, or `None` when it is still inside the header.
    type Reading = Option<(Vec<BroadcastEntry>, bool)>;

    /// A watch whose layouts have read header 0 as given.
    fn watch_with(layouts: Vec<(SparkVersion, Reading)>) -> BroadcastWatch {
        let mut w = BroadcastWatch::new(Prelude::Nothing);
        w.layouts = layouts
            .into_iter()
            .map(|(v, read)| {
                let mut l = Layout::new(v);
                if let Some((additions, followed)) = read {
                    l.headers.push_back(ReadHeader {
                        task: 0,
                        additions,
                        followed,
                    });
                }
                l
            })
            .collect();
        w
    }

    /// The settling rule itself: a header read by one layout while another is
    /// still inside it waits; the item after it settles it and drops the layout
    /// that was overtaken; so does the end of the stream; layouts that read the
    /// same header differently stop the watch rather than record either reading.
    #[test]
    fn a_header_waits_for_lagging_layouts_until_an_item_follows_it() {
        let (a, b) = (SparkVersion::V3_5, SparkVersion::V4_1);
        let one = vec![add(1, "/one")];
        let mut added = Vec::new();

        let mut w = watch_with(vec![(a, Some((one.clone(), false))), (b, None)]);
        w.settle(false, &mut added).unwrap();
        assert!(added.is_empty());
        w.layouts[0].headers[0].followed = true;
        w.settle(false, &mut added).unwrap();
        assert_eq!((added.clone(), w.layouts()), (one.clone(), vec![a]));

        added.clear();
        let mut w = watch_with(vec![(a, Some((one.clone(), false))), (b, None)]);
        w.settle(true, &mut added).unwrap();
        assert_eq!((added.clone(), w.layouts()), (one.clone(), vec![a]));

        added.clear();
        let mut w = watch_with(vec![
            (a, Some((one.clone(), false))),
            (b, Some((one.clone(), false))),
        ]);
        w.settle(false, &mut added).unwrap();
        assert_eq!((added.clone(), w.layouts()), (one.clone(), vec![a, b]));

        added.clear();
        let mut w = watch_with(vec![
            (a, Some((one.clone(), true))),
            (b, Some((vec![add(1, "/elsewhere")], false))),
        ]);
        match w.settle(false, &mut added) {
            Err(WatchError::Ambiguous {
                task: 0,
                first,
                second,
            }) => assert_eq!((first, second), (a, b)),
            other => panic!("{other:?}"),
        }
        assert!(added.is_empty());
    }

    #[test]
    fn encrypted_broadcasts_come_out_without_a_path() {
        for v in SparkVersion::ALL {
            let mut h = TaskHeader::example(Bytes::from_static(b"\x80\x05N."));
            h.broadcasts.server = Some(BroadcastServer {
                conn: ConnInfo::Port(40123),
                secret: Some("f".repeat(64)),
            });
            h.broadcasts.entries = vec![
                BroadcastEntry { id: 5, path: None },
                BroadcastEntry { id: -1, path: None },
            ];
            let mut wire = h.encode(v).unwrap();
            wire.extend((-1i32).to_be_bytes());
            wire.extend((-4i32).to_be_bytes());
            assert_eq!(
                watch_in_chunks(Prelude::Nothing, &wire, 4),
                [BroadcastEntry { id: 5, path: None }],
                "{v}"
            );
        }
    }

    /// A header whose eval type no release defines is read whole (PySpark's
    /// worker reads its command as a UDF list), so its broadcasts are recorded;
    /// its data section's layout is unknown, so watching stops after it.
    #[test]
    fn an_unknown_eval_type_still_records_its_header_then_stops() {
        use crate::protocol::{Command, EvalType, UdfCommand};
        let v = SparkVersion::V4_3;
        let mut h = TaskHeader::example(Bytes::new());
        h.eval_type = EvalType::from(9999);
        h.command = Command::Udfs(UdfCommand::default());
        h.broadcasts.entries = vec![add(4, "/tmp/b/four")];
        let mut wire = h.encode(v).unwrap();
        wire.extend([0u8; 16]);
        let mut w = BroadcastWatch::new(Prelude::Nothing);
        let mut added = Vec::new();
        let e = w.feed(&wire, &mut added).unwrap_err();
        assert_eq!(added, [add(4, "/tmp/b/four")]);
        assert!(e.to_string().contains("unknown eval type 9999"), "{e}");
        assert!(w.is_stopped());
    }

    #[test]
    fn a_bad_prelude_stops_the_watch_once() {
        let mut w = BroadcastWatch::new(Prelude::Str);
        let mut added = Vec::new();
        w.feed(&[0xff, 0xff], &mut added).unwrap();
        let e = w.feed(&[0xff, 0xfe, 0, 0], &mut added).unwrap_err();
        assert!(matches!(e, WatchError::Prelude { len: -2 }), "{e}");
        assert!(w.is_stopped());
        w.feed(&[0; 100], &mut added).unwrap();
        w.finish(&mut added).unwrap();
        assert!(added.is_empty());
        // Just past the longest prelude accepted.
        let mut w = BroadcastWatch::new(Prelude::Str);
        let len = (MAX_PRELUDE as i32 + 1).to_be_bytes();
        assert!(w.feed(&len, &mut added).is_err());
        let mut w = BroadcastWatch::new(Prelude::Str);
        let len = (MAX_PRELUDE as i32).to_be_bytes();
        w.feed(&len, &mut added).unwrap();
    }

    #[test]
    fn a_stream_no_layout_reads_stops_the_watch_naming_each_layout() {
        let mut w = BroadcastWatch::new(Prelude::Nothing);
        let mut added = Vec::new();
        // Partition 0, then a python version of length −2.
        let e = w
            .feed(&[0, 0, 0, 0, 0xff, 0xff, 0xff, 0xfe], &mut added)
            .unwrap_err();
        let WatchError::NoLayout { offset, failures } = &e else {
            panic!("{e}");
        };
        assert_eq!(*offset, 8);
        let versions: Vec<SparkVersion> = failures.iter().map(|(v, _)| *v).collect();
        assert_eq!(versions, SparkVersion::ALL);
        let text = e.to_string();
        for v in SparkVersion::ALL {
            assert!(text.contains(&format!("{v}: task 0")), "{text}");
        }
        assert!(w.is_stopped());
    }

    /// The bound on held bytes, at its exact boundary: a data frame arriving in
    /// pieces is held whole by each layout reading it.
    #[test]
    fn the_buffer_bound_holds_at_its_exact_boundary() {
        let v = SparkVersion::V4_3;
        let (wire, header_end) = two_tasks(v, b"");
        let mut stream = wire[..header_end].to_vec();
        stream.extend(1000i32.to_be_bytes());
        stream.extend([7u8; 600]);
        let mut w = BroadcastWatch::new(Prelude::Nothing);
        w.feed(&stream, &mut Vec::new()).unwrap();
        let held = w.buffered();
        assert!(held >= 604, "{held}");
        let mut w = BroadcastWatch::with_max_buffered(Prelude::Nothing, held);
        w.feed(&stream, &mut Vec::new()).unwrap();
        let mut w = BroadcastWatch::with_max_buffered(Prelude::Nothing, held - 1);
        match w.feed(&stream, &mut Vec::new()) {
            Err(WatchError::TooMuchBuffered { held: h, max, .. }) => {
                assert_eq!((h, max), (held, held - 1))
            }
            other => panic!("{other:?}"),
        }
    }
}
