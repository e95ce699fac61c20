//! `saveAsObjectFile`/`objectFile` (PySpark's `saveAsPickleFile` and
//! `pickleFile`): a Hadoop SequenceFile of `NullWritable` keys and
//! `BytesWritable` values, each value a Java-serialized `byte[][]` of up to
//! ten `byte[]` elements (the pickled batches), as Spark writes them (files
//! with `Object[]` values are read too).

use bytes::Bytes;

use super::error::JobError;
use super::textfile::Split;

const KEY_CLASS: &str = "org.apache.hadoop.io.NullWritable";
const VALUE_CLASS: &str = "org.apache.hadoop.io.BytesWritable";
/// Elements per serialized array (`iter.grouped(10)`).
const GROUP: usize = 10;

/// `serialVersionUID` of `byte[][]`, `Object[]` and `byte[]`.
const BYTES_ARRAY_UID: i64 = 0x4bfd_1915_6767_db37;
const BYTE_ARRAY_UID: i64 = -5_984_413_125_824_719_648;

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

/// One `part-NNNNN` file of `elements`, ten to a serialized array.
pub fn part_bytes(elements: &[Bytes], sync: [u8; 16]) -> Vec<u8> {
    let records = elements.chunks(GROUP).map(|group| {
        let value = serialize(group);
        // A `BytesWritable`: its length, then the bytes.
        let mut w = (value.len() as i32).to_be_bytes().to_vec();
        w.extend_from_slice(&value);
        (Vec::new(), w)
    });
    super::sequence::write(KEY_CLASS, VALUE_CLASS, sync, records)
}

/// The elements of one split of such a file.
pub fn read_split(split: &Split) -> Result<Vec<Bytes>, JobError> {
    let bad = || JobError::Exception {
        class: "java.io.IOException".into(),
        message: format!(
            "{}: not a SequenceFile of serialized arrays",
            split.path.display()
        ),
    };
    let records = super::sequence::read_split(split)?.records;
    let mut out = Vec::new();
    for (_, value) in records {
        let array = value.get(4..).ok_or_else(bad)?;
        out.extend(deserialize(array).ok_or_else(bad)?);
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
