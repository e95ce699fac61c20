//! The Hadoop SequenceFile container (version 6, uncompressed) that object
//! files and sequence files share: the header with the key and value class
//! names, records of `int32 length, int32 key length, key, value`, and the
//! 16-byte sync marker Hadoop writes every `SYNC_INTERVAL` bytes and splits on.

use super::error::JobError;
use super::textfile::Split;

/// Bytes between sync markers (`SequenceFile.SYNC_INTERVAL` of Hadoop 3:
/// 5 Ki sync sizes of 20 bytes).
const SYNC_INTERVAL: usize = 5 * 1024 * 20;

/// A whole file: header, then each `(key bytes, value bytes)` record.
pub fn write(
    key_class: &str,
    value_class: &str,
    sync: [u8; 16],
    records: impl IntoIterator<Item = (Vec<u8>, Vec<u8>)>,
) -> Vec<u8> {
    let mut out = b"SEQ\x06".to_vec();
    for c in [key_class, value_class] {
        // Hadoop `Text`: a vint length (one byte for names this short).
        out.push(c.len() as u8);
        out.extend_from_slice(c.as_bytes());
    }
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&0i32.to_be_bytes());
    out.extend_from_slice(&sync);
    let mut last_sync = out.len();
    for (key, value) in records {
        if out.len() >= last_sync + SYNC_INTERVAL {
            out.extend_from_slice(&(-1i32).to_be_bytes());
            out.extend_from_slice(&sync);
            last_sync = out.len();
        }
        out.extend_from_slice(&((key.len() + value.len()) as i32).to_be_bytes());
        out.extend_from_slice(&(key.len() as i32).to_be_bytes());
        out.extend_from_slice(&key);
        out.extend_from_slice(&value);
    }
    out
}

/// What one split of a SequenceFile holds.
pub struct SplitRecords {
    /// The key and value class names from the header.
    pub classes: [String; 2],
    /// The raw `(key, value)` record bytes.
    pub records: Vec<(Vec<u8>, Vec<u8>)>,
}

/// The class names and the `(key, value)` records of one split: from the
/// first sync marker at or after the split's start (the header's for the first
/// split) until a sync marker at or past its end; a split whose first sync lies
/// past its end reads nothing (Hadoop's rules).
pub fn read_split(split: &Split) -> Result<SplitRecords, JobError> {
    let data = std::fs::read(&split.path).map_err(|e| JobError::Exception {
        class: "java.io.IOException".into(),
        message: format!("{}: {e}", split.path.display()),
    })?;
    let bad = |what: &str| JobError::Exception {
        class: "java.io.IOException".into(),
        message: format!(
            "{}: not a SequenceFile sparkwire reads ({what})",
            split.path.display()
        ),
    };
    let take = |at: usize, n: usize| data.get(at..at.checked_add(n)?);
    let int = |at: usize| {
        take(at, 4)
            .and_then(|b| b.try_into().ok())
            .map(i32::from_be_bytes)
    };
    if take(0, 4) != Some(b"SEQ\x06".as_slice()) {
        return Err(bad("header"));
    }
    let mut at = 4;
    let mut classes: [String; 2] = Default::default();
    for c in &mut classes {
        let n = *data.get(at).ok_or_else(|| bad("class names"))? as usize;
        *c = String::from_utf8_lossy(take(at + 1, n).ok_or_else(|| bad("class names"))?)
            .into_owned();
        at += 1 + n;
    }
    if take(at, 2) != Some([0u8, 0].as_slice()) {
        return Err(bad("compressed files are not read"));
    }
    if int(at + 2) != Some(0) {
        return Err(bad("metadata"));
    }
    at += 6;
    let sync = take(at, 16).ok_or_else(|| bad("sync"))?;
    at += 16;
    let (start, end) = (split.start as usize, (split.start + split.len) as usize);
    let mut reading = start == 0;
    let mut out = Vec::new();
    while at < data.len() {
        let pos = at;
        let len = int(at).ok_or_else(|| bad("record length"))?;
        at += 4;
        if len == -1 {
            if take(at, 16) != Some(sync) {
                return Err(bad("sync marker"));
            }
            at += 16;
            if pos >= end && (reading || pos >= start) {
                break;
            }
            reading |= pos >= start;
            continue;
        }
        let key_len = usize::try_from(int(at).ok_or_else(|| bad("key length"))?)
            .map_err(|_| bad("key length"))?;
        at += 4;
        let len = usize::try_from(len).map_err(|_| bad("record length"))?;
        let body = take(at, len).ok_or_else(|| bad("record"))?;
        at += len;
        if reading {
            let (key, value) = (body.get(..key_len), body.get(key_len..));
            out.push((
                key.ok_or_else(|| bad("key"))?.to_vec(),
                value.ok_or_else(|| bad("value"))?.to_vec(),
            ));
        }
    }
    Ok(SplitRecords {
        classes,
        records: out,
    })
}
