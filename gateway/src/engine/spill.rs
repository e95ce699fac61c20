//! Shuffle output by reduce partition, spilled to disk once it holds more
//! than a memory budget (bytes) or than Spark's force-spill element count:
//! each bucket's elements are appended to its own file, in order, and read
//! back (file first, then what is still in memory) when a reducer asks.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Write};
use std::path::PathBuf;

use bytes::Bytes;

use super::elem::Elem;
use super::error::JobError;

/// When to spill.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Payload bytes held in memory.
    pub bytes: usize,
    /// Elements held in memory.
    pub elements: usize,
}

/// A shuffle's output while the map side fills it.
pub struct Buckets {
    memory: Vec<Vec<Elem>>,
    files: Vec<Option<PathBuf>>,
    dir: PathBuf,
    limits: Limits,
    held_bytes: usize,
    held: usize,
    /// Spills so far (for tests and diagnostics).
    pub spills: usize,
}

fn io(e: std::io::Error) -> JobError {
    JobError::Exception {
        class: "java.io.IOException".into(),
        message: format!("shuffle spill: {e}"),
    }
}

fn size(e: &Elem) -> usize {
    match e {
        Elem::Bytes(b) => b.len() + 16,
        Elem::Str(s) => s.len() + 16,
        Elem::Long(_) => 16,
        Elem::Pair(p) => size(&p.0) + size(&p.1),
    }
}

impl Buckets {
    /// `n` empty buckets spilling under `dir`.
    pub fn new(n: usize, dir: PathBuf, limits: Limits) -> Buckets {
        Buckets {
            memory: vec![Vec::new(); n],
            files: vec![None; n],
            dir,
            limits,
            held_bytes: 0,
            held: 0,
            spills: 0,
        }
    }

    /// Adds an element to bucket `b`, spilling when over a limit.
    pub fn push(&mut self, b: usize, e: Elem) -> Result<(), JobError> {
        self.held_bytes += size(&e);
        self.held += 1;
        if let Some(bucket) = self.memory.get_mut(b) {
            bucket.push(e);
        }
        if self.held_bytes > self.limits.bytes || self.held >= self.limits.elements {
            self.spill()?;
        }
        Ok(())
    }

    /// Appends every bucket's spillable elements (`(Long key, bytes)` pairs) to
    /// its file.
    fn spill(&mut self) -> Result<(), JobError> {
        std::fs::create_dir_all(&self.dir).map_err(io)?;
        let unique = std::sync::atomic::AtomicU64::new(0);
        for (i, bucket) in self.memory.iter_mut().enumerate() {
            let spillable = bucket.iter().all(|e| matches!(e, Elem::Pair(p) if matches!((&p.0, &p.1), (Elem::Long(_), Elem::Bytes(_)))));
            if bucket.is_empty() || !spillable {
                continue;
            }
            let path = match &self.files[i] {
                Some(p) => p.clone(),
                None => {
                    let secret = sparkwire_framing::auth::Secret::generate()
                        .map_err(|e| io(std::io::Error::other(e.to_string())))?;
                    let p = self.dir.join(format!(
                        "bucket-{i}-{}-{}",
                        &secret.as_str()[..16],
                        unique.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                    ));
                    self.files[i] = Some(p.clone());
                    p
                }
            };
            let mut w = BufWriter::new(
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .map_err(io)?,
            );
            for e in bucket.drain(..) {
                if let Elem::Pair(p) = e {
                    if let (Elem::Long(k), Elem::Bytes(v)) = (&p.0, &p.1) {
                        w.write_all(&k.to_be_bytes()).map_err(io)?;
                        w.write_all(&(v.len() as u64).to_be_bytes()).map_err(io)?;
                        w.write_all(v).map_err(io)?;
                    }
                }
            }
            w.flush().map_err(io)?;
        }
        self.held_bytes = self.memory.iter().flatten().map(size).sum();
        self.held = self.memory.iter().map(Vec::len).sum();
        self.spills += 1;
        Ok(())
    }

    /// The output: buckets in memory, or spilled to files.
    pub fn finish(self) -> Result<Vec<Bucket>, JobError> {
        Ok(self
            .memory
            .into_iter()
            .zip(self.files)
            .map(|(tail, file)| Bucket { file, tail })
            .collect())
    }
}

/// One reduce partition's input: a spill file (maybe) then elements in memory.
#[derive(Debug)]
pub struct Bucket {
    file: Option<PathBuf>,
    tail: Vec<Elem>,
}

impl Bucket {
    /// A bucket held in memory only.
    pub fn memory(tail: Vec<Elem>) -> Bucket {
        Bucket { file: None, tail }
    }

    /// The elements, in the order they were pushed.
    pub fn read(&self) -> Result<Vec<Elem>, JobError> {
        let mut out = Vec::new();
        if let Some(path) = &self.file {
            let mut data = Vec::new();
            File::open(path)
                .and_then(|mut f| f.read_to_end(&mut data))
                .map_err(io)?;
            let data = Bytes::from(data);
            let mut at = 0;
            while at + 16 <= data.len() {
                let k = i64::from_be_bytes(
                    data[at..at + 8]
                        .try_into()
                        .map_err(|_| io(std::io::Error::other("cut")))?,
                );
                let len = u64::from_be_bytes(
                    data[at + 8..at + 16]
                        .try_into()
                        .map_err(|_| io(std::io::Error::other("cut")))?,
                ) as usize;
                let end = at + 16 + len;
                if end > data.len() {
                    return Err(io(std::io::Error::other("a spill file is cut short")));
                }
                out.push(Elem::pair(
                    Elem::Long(k),
                    Elem::Bytes(data.slice(at + 16..end)),
                ));
                at = end;
            }
        }
        out.extend(self.tail.iter().cloned());
        Ok(out)
    }
}

impl Drop for Bucket {
    fn drop(&mut self) {
        if let Some(p) = &self.file {
            let _ = std::fs::remove_file(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(k: i64, v: &'static [u8]) -> Elem {
        Elem::pair(Elem::Long(k), Elem::Bytes(Bytes::from_static(v)))
    }

    #[test]
    fn spilled_buckets_read_back_in_push_order_and_clean_up() {
        let dir = std::env::temp_dir().join(format!("sparkwire-spill-{}", std::process::id()));
        let mut b = Buckets::new(
            2,
            dir.clone(),
            Limits {
                bytes: usize::MAX,
                elements: 3,
            },
        );
        let input: Vec<(usize, Elem)> = (0..10).map(|i| (i % 2, pair(i as i64, b"v"))).collect();
        for (bucket, e) in input.clone() {
            b.push(bucket, e).unwrap();
        }
        assert!(b.spills >= 3, "spilled {} times", b.spills);
        let out = b.finish().unwrap();
        for (i, bucket) in out.iter().enumerate() {
            let want: Vec<Elem> = input
                .iter()
                .filter(|(b, _)| *b == i)
                .map(|(_, e)| e.clone())
                .collect();
            assert_eq!(bucket.read().unwrap(), want);
        }
        let files: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(files.len(), 2);
        drop(out);
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            0,
            "spill files removed with their buckets"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
