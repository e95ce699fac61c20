//! `saveAsTextFile`: Hadoop's `TextOutputFormat` layout on the local file
//! system — one `part-NNNNN` per partition with each element's text and a
//! newline, `_SUCCESS` when all are written, and the `.crc` checksum files
//! the local file system writes beside each (CRC-32 per 512 bytes).

use std::io::Write;
use std::path::Path;

use super::elem::Elem;
use super::error::JobError;

/// Bytes per checksum chunk (`io.bytes.per.checksum`).
const BYTES_PER_CHECKSUM: usize = 512;

/// Refuses an existing output directory, as Hadoop's output committer does.
pub fn check_new(dir: &str) -> Result<(), JobError> {
    let path = strip_scheme(dir);
    if Path::new(path).exists() {
        let abs = std::fs::canonicalize(path)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| path.to_owned());
        return Err(JobError::Exception {
            class: "org.apache.hadoop.mapred.FileAlreadyExistsException".into(),
            message: format!("Output directory file:{abs} already exists"),
        });
    }
    Ok(())
}

/// The local path of a `file:` URI or plain path.
pub fn strip_scheme(p: &str) -> &str {
    p.strip_prefix("file://")
        .or_else(|| p.strip_prefix("file:"))
        .unwrap_or(p)
}

/// A Hadoop compression codec `saveAsTextFile` may be given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Codec {
    /// `GzipCodec`: `.gz`.
    Gzip,
    /// `DefaultCodec`/`DeflateCodec`: zlib, `.deflate`.
    Deflate,
}

impl Codec {
    /// The codec of a Hadoop codec class name.
    pub fn from_class(name: &str) -> Option<Codec> {
        match name {
            "org.apache.hadoop.io.compress.GzipCodec" => Some(Codec::Gzip),
            "org.apache.hadoop.io.compress.DefaultCodec"
            | "org.apache.hadoop.io.compress.DeflateCodec" => Some(Codec::Deflate),
            _ => None,
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Codec::Gzip => ".gz",
            Codec::Deflate => ".deflate",
        }
    }

    fn compress(self, data: &[u8]) -> std::io::Result<Vec<u8>> {
        use flate2::write::{GzEncoder, ZlibEncoder};
        use flate2::Compression;
        match self {
            Codec::Gzip => {
                let mut e = GzEncoder::new(Vec::new(), Compression::default());
                e.write_all(data)?;
                e.finish()
            }
            Codec::Deflate => {
                let mut e = ZlibEncoder::new(Vec::new(), Compression::default());
                e.write_all(data)?;
                e.finish()
            }
        }
    }
}

/// Writes every partition and `_SUCCESS`.
pub fn write_text(dir: &str, partitions: &[Vec<Elem>]) -> Result<(), JobError> {
    write_text_inner(dir, partitions, None)
}

/// Writes every partition compressed with `codec`, and `_SUCCESS`.
pub fn write_text_with(dir: &str, partitions: &[Vec<Elem>], codec: Codec) -> Result<(), JobError> {
    write_text_inner(dir, partitions, Some(codec))
}

fn write_text_inner(
    dir: &str,
    partitions: &[Vec<Elem>],
    codec: Option<Codec>,
) -> Result<(), JobError> {
    let dir = Path::new(strip_scheme(dir));
    let io = |e: std::io::Error| JobError::Exception {
        class: "java.io.IOException".into(),
        message: format!("{}: {e}", dir.display()),
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    for (i, part) in partitions.iter().enumerate() {
        let mut data = Vec::new();
        for e in part {
            data.extend_from_slice(e.text().as_bytes());
            data.push(b'\n');
        }
        match codec {
            None => write_with_crc(dir, &format!("part-{i:05}"), &data).map_err(io)?,
            Some(c) => {
                let packed = c.compress(&data).map_err(io)?;
                write_with_crc(dir, &format!("part-{i:05}{}", c.extension()), &packed)
                    .map_err(io)?;
            }
        }
    }
    write_with_crc(dir, "_SUCCESS", &[]).map_err(io)
}

/// `name` and its `.name.crc` (Hadoop's `ChecksumFileSystem` format: magic
/// `crc\0`, the bytes-per-checksum as `int32`, then a CRC-32 per chunk).
pub fn write_with_crc(dir: &Path, name: &str, data: &[u8]) -> std::io::Result<()> {
    std::fs::write(dir.join(name), data)?;
    let mut crc = Vec::with_capacity(8 + 4 * (data.len() / BYTES_PER_CHECKSUM + 1));
    crc.extend_from_slice(b"crc\0");
    crc.extend_from_slice(&(BYTES_PER_CHECKSUM as i32).to_be_bytes());
    for chunk in data.chunks(BYTES_PER_CHECKSUM) {
        let mut h = flate2::Crc::new();
        h.update(chunk);
        crc.extend_from_slice(&h.sum().to_be_bytes());
    }
    let mut f = std::fs::File::create(dir.join(format!(".{name}.crc")))?;
    f.write_all(&crc)
}

/// `saveAsObjectFile`: a SequenceFile per partition and `_SUCCESS`.
pub fn write_objects(dir: &str, partitions: &[Vec<Elem>]) -> Result<(), JobError> {
    let dir = Path::new(strip_scheme(dir));
    let io = |e: std::io::Error| JobError::Exception {
        class: "java.io.IOException".into(),
        message: format!("{}: {e}", dir.display()),
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let sync = sync_marker()?;
    for (i, part) in partitions.iter().enumerate() {
        let elements: Vec<bytes::Bytes> = part
            .iter()
            .map(|e| match e {
                Elem::Bytes(b) => b.clone(),
                other => bytes::Bytes::from(other.text().into_bytes()),
            })
            .collect();
        let data = super::objectfile::part_bytes(&elements, sync);
        write_with_crc(dir, &format!("part-{i:05}"), &data).map_err(io)?;
    }
    write_with_crc(dir, "_SUCCESS", &[]).map_err(io)
}

/// `saveAsSequenceFile` of pickled `(key, value)` batches.
pub fn write_sequence(dir: &str, partitions: &[Vec<Elem>]) -> Result<(), JobError> {
    let dir = Path::new(strip_scheme(dir));
    let io = |e: std::io::Error| JobError::Exception {
        class: "java.io.IOException".into(),
        message: format!("{}: {e}", dir.display()),
    };
    // Convert everything first: a bad value leaves no half-written directory.
    let mut converted = Vec::with_capacity(partitions.len());
    for part in partitions {
        let batches: Vec<bytes::Bytes> = part
            .iter()
            .filter_map(|e| match e {
                Elem::Bytes(b) => Some(b.clone()),
                _ => None,
            })
            .collect();
        converted.push(super::seqfile::from_pickled(&batches)?);
    }
    std::fs::create_dir_all(dir).map_err(io)?;
    let sync = sync_marker()?;
    for (i, records) in converted.iter().enumerate() {
        let data = super::seqfile::file_bytes(records, sync)?;
        write_with_crc(dir, &format!("part-{i:05}"), &data).map_err(io)?;
    }
    write_with_crc(dir, "_SUCCESS", &[]).map_err(io)
}

/// A SequenceFile's 16 random sync bytes.
fn sync_marker() -> Result<[u8; 16], JobError> {
    let mut sync = [0u8; 16];
    getrandom::getrandom(&mut sync).map_err(|e| JobError::Exception {
        class: "java.io.IOException".into(),
        message: format!("no random sync marker: {e}"),
    })?;
    Ok(sync)
}
