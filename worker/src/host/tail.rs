//! Keeping the end of a process's output: a worker's stderr is attached to the
//! errors it causes, but a worker may write without bound, so only the last
//! [`TAIL_BYTES`] are kept.

use std::io::Read;
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};

/// How much of a stream's end is kept.
pub const TAIL_BYTES: usize = 64 * 1024;

/// The last bytes of a stream, filled by a pump thread.
#[derive(Debug, Clone, Default)]
pub struct Tail {
    kept: Arc<Mutex<Kept>>,
}

#[derive(Debug, Default)]
struct Kept {
    bytes: Vec<u8>,
    dropped: u64,
}

impl Tail {
    /// A tail of `source`, read to its end on a new thread.
    pub fn pump(source: impl Read + Send + 'static) -> (Tail, JoinHandle<()>) {
        let tail = Tail::default();
        let handle = tail.follow(source);
        (tail, handle)
    }

    /// Appends everything `source` yields, read to its end on a new thread
    /// (several sources may feed one tail, as a process's stdout and stderr
    /// feed one log).
    pub fn follow(&self, source: impl Read + Send + 'static) -> JoinHandle<()> {
        let kept = self.clone();
        thread::spawn(move || {
            let mut source = source;
            let mut buf = [0u8; 8192];
            loop {
                match source.read(&mut buf) {
                    Ok(0) => return,
                    Ok(n) => kept.push(&buf[..n]),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => return,
                }
            }
        })
    }

    /// Appends bytes, forgetting the oldest beyond [`TAIL_BYTES`].
    pub fn push(&self, data: &[u8]) {
        let mut k = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        k.bytes.extend_from_slice(data);
        if k.bytes.len() > TAIL_BYTES {
            let excess = k.bytes.len() - TAIL_BYTES;
            k.bytes.drain(..excess);
            k.dropped += excess as u64;
        }
    }

    /// What was kept, as text (lossy), with a note when the start was dropped.
    pub fn text(&self) -> String {
        let k = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        let body = String::from_utf8_lossy(&k.bytes);
        if k.dropped > 0 {
            format!("[… {} earlier bytes not kept]\n{body}", k.dropped)
        } else {
            body.into_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_the_end() {
        let t = Tail::default();
        t.push(&vec![b'a'; TAIL_BYTES]);
        t.push(b"end");
        let text = t.text();
        assert!(text.starts_with("[… 3 earlier bytes not kept]\n"));
        assert!(text.ends_with("aend"));
    }

    #[test]
    fn pumps_a_reader_to_its_end() {
        let (t, h) = Tail::pump(std::io::Cursor::new(b"line 1\nline 2\n".to_vec()));
        h.join().unwrap();
        assert_eq!(t.text(), "line 1\nline 2\n");
    }
}
