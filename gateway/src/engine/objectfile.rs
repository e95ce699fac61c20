//! `saveAsObjectFile`/`objectFile` (PySpark's `saveAsPickleFile` and
//! `pickleFile`): a Hadoop SequenceFile of `NullWritable` keys and
//! `BytesWritable` values, each value a Java-serialized `byte[][]` of up to
//! ten `byte[]` elements (the pickled batches), as Spark writes them (files
//! with `Object[]` values are read too).

use std::path::Path;

use bytes::Bytes;

use super::error::JobError;
use super::textfile::Split;

const KEY_CLASS: &str = "org.apache.hadoop.io.NullWritable";
const VALUE_CLASS: &str = "org.apache.hadoop.io.BytesWritable";
/// Bytes between sync markers (`SequenceFile.SYNC_INTERVAL` of Hadoop 3:
/// 5 KiB sync sizes of 20 bytes).
const SYNC_INTERVAL: usize = 5 * 1024 * 20;
/// Elements per serialized array (`iter.grouped(10)`).
const GROUP: usize = 10;

/// `serialVersionUID` of `byte[][]`, `Object[]` and `byte[]`.
const BYTES_ARRAY_UID: i64 = 0x4bfd_1915_6767_db37;
const BYTE_ARRAY_UID: i64 = -5_984_413_125_824_719_648;

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> JobError + '_ {
    move |e| JobError::Exception {
        class: "java.io.IOException".into(),
        message: format!("{}: {e}", path.display()),
    }
}

/// Java serialization of a `byte[][]` (`Utils.serialize` of a partition's
/// group of pickled batches).
pub fn serialize(elements: &[Bytes]) -> Vec<u8> {
    let mut out = vec![0xac, 0xed, 0x00, 0x05, 0x75, 0x72];
    let name = "[[B";
    out.extend_from_slice(&(name.len() as u16).to_be_bytes());
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(&BYTES_ARRAY_UID.to_be_bytes());
    out.extend_from_slice(&[0x02, 0x00, 0x00, 0x78, 0x70]);
    out.extend_from_slice(&(elements.len() as i32).to_be_bytes());
    for (i, e) in elements.iter().enumerate() {
        out.push(0x75);
        if i == 0 {
            out.push(0x72);
            out.extend_from_slice(&2u16.to_be_bytes());
            out.extend_from_slice(b"[B");
            out.extend_from_slice(&BYTE_ARRAY_UID.to_be_bytes());
            out.extend_from_slice(&[0x02, 0x00, 0x00, 0x78, 0x70]);
        } else {
            // Handle 0x7e0002: the `[B` class descriptor written with the first.
            out.extend_from_slice(&[0x71, 0x00, 0x7e, 0x00, 0x02]);
        }
        out.extend_from_slice(&(e.len() as i32).to_be_bytes());
        out.extend_from_slice(e);
    }
    out
}

/// Reads back what [`serialize`] writes (and what the JVM writes for the same
/// arrays); refuses anything else.
pub fn deserialize(data: &[u8]) -> Option<Vec<Bytes>> {
    let mut r = Reader { data, at: 0 };
    if r.take(4)? != [0xac, 0xed, 0x00, 0x05] || r.u8()? != 0x75 {
        return None;
    }
    if r.u8()? != 0x72 {
        return None;
    }
    let at = r.at;
    if r.class_desc_body("[[B").is_none() {
        r.at = at;
        r.class_desc_body("[Ljava.lang.Object;")?;
    }
    let n = usize::try_from(r.i32()?).ok()?;
    let mut out = Vec::with_capacity(n.min(data.len()));
    for _ in 0..n {
        match r.u8()? {
            0x75 => {
                match r.data.get(r.at)? {
                    0x72 => {
                        r.at += 1;
                        r.class_desc_body("[B")?;
                    }
                    0x71 => {
                        r.take(5)?;
                    }
                    _ => return None,
                }
                let len = usize::try_from(r.i32()?).ok()?;
                out.push(Bytes::copy_from_slice(r.take(len)?));
            }
            0x70 => out.push(Bytes::new()),
            _ => return None,
        }
    }
    Some(out)
}

struct Reader<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.data.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(s)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn i32(&mut self) -> Option<i32> {
        self.take(4)
            .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn class_desc_body(&mut self, name: &str) -> Option<()> {
        let len = u16::from_be_bytes(self.take(2)?.try_into().ok()?) as usize;
        if self.take(len)? != name.as_bytes() {
            return None;
        }
        self.take(8)?;
        // flags, field count 0, TC_ENDBLOCKDATA, TC_NULL superclass.
        (self.take(5)? == [0x02, 0x00, 0x00, 0x78, 0x70]).then_some(())
    }
}

/// Hadoop `Text`/`WritableUtils.writeVInt` of a short length.
fn write_text(out: &mut Vec<u8>, s: &str) {
    out.push(s.len() as u8);
    out.extend_from_slice(s.as_bytes());
}

/// Writes one `part-NNNNN` SequenceFile of `elements`.
pub fn write_part(path: &Path, elements: &[Bytes], sync: [u8; 16]) -> Result<(), JobError> {
    let mut out = b"SEQ\x06".to_vec();
    write_text(&mut out, KEY_CLASS);
    write_text(&mut out, VALUE_CLASS);
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&0i32.to_be_bytes());
    out.extend_from_slice(&sync);
    let mut last_sync = out.len();
    for group in elements.chunks(GROUP) {
        if out.len() >= last_sync + SYNC_INTERVAL {
            out.extend_from_slice(&(-1i32).to_be_bytes());
            out.extend_from_slice(&sync);
            last_sync = out.len();
        }
        let value = serialize(group);
        out.extend_from_slice(&((4 + value.len()) as i32).to_be_bytes());
        out.extend_from_slice(&0i32.to_be_bytes());
        out.extend_from_slice(&(value.len() as i32).to_be_bytes());
        out.extend_from_slice(&value);
    }
    std::fs::write(path, out).map_err(io(path))
}

/// The elements of one split of a SequenceFile written as above: records from
/// the first sync marker at or after the split's start (the header's for the
/// first split) until a sync marker at or past its end.
pub fn read_split(split: &Split) -> Result<Vec<Bytes>, JobError> {
    let data = std::fs::read(&split.path).map_err(io(&split.path))?;
    let bad = |what: &str| JobError::Exception {
        class: "java.io.IOException".into(),
        message: format!(
            "{}: not a SequenceFile of serialized arrays ({what})",
            split.path.display()
        ),
    };
    let mut r = Reader { data: &data, at: 0 };
    if r.take(4) != Some(b"SEQ\x06".as_slice()) {
        return Err(bad("header"));
    }
    for _ in 0..2 {
        let n = r.u8().ok_or_else(|| bad("class names"))? as usize;
        r.take(n).ok_or_else(|| bad("class names"))?;
    }
    if r.take(2) != Some([0u8, 0].as_slice()) {
        return Err(bad("compressed files are not read"));
    }
    let meta = r.i32().ok_or_else(|| bad("metadata"))?;
    if meta != 0 {
        return Err(bad("metadata"));
    }
    let sync: [u8; 16] = r
        .take(16)
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| bad("sync"))?;
    let start = split.start as usize;
    let end = (split.start + split.len) as usize;
    let mut reading = start == 0;
    let mut out = Vec::new();
    while r.at < data.len() {
        let pos = r.at;
        let len = r.i32().ok_or_else(|| bad("record length"))?;
        if len == -1 {
            let s = r.take(16).ok_or_else(|| bad("sync"))?;
            if s != sync {
                return Err(bad("sync marker"));
            }
            if reading && pos >= end {
                break;
            }
            if !reading && pos >= start {
                // Hadoop: a split whose first sync is past its end reads nothing.
                if pos >= end {
                    break;
                }
                reading = true;
            }
            continue;
        }
        let key_len = r.i32().ok_or_else(|| bad("key length"))?;
        let record = usize::try_from(len).map_err(|_| bad("record length"))?;
        let body = r.take(record).ok_or_else(|| bad("record"))?;
        if !reading {
            continue;
        }
        let value = body
            .get(usize::try_from(key_len).map_err(|_| bad("key"))? + 4..)
            .ok_or_else(|| bad("value"))?;
        out.extend(deserialize(value).ok_or_else(|| bad("value"))?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_round_trip() {
        let v = vec![
            Bytes::from_static(b"\x80\x05abc"),
            Bytes::new(),
            Bytes::from_static(b"z"),
        ];
        assert_eq!(deserialize(&serialize(&v)).unwrap(), v);
        assert!(deserialize(b"\xac\xed\x00\x05\x70").is_none());
    }
}
