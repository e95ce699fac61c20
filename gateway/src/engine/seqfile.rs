//! `saveAsSequenceFile`/`sequenceFile`: Hadoop SequenceFiles of Writables,
//! converted from and to pickles as Spark's `PythonHadoopUtil` and
//! `SerDeUtil` do — Python values unpickled as Pyrolite unpickles them
//! (`int` → `Integer` or `Long`, `float` → `Double`, `str` → `String`, …),
//! turned into `IntWritable`, `Text`, …; read back as Java values pickled in
//! `SerDeUtil.AutoBatchedPickler`'s batches of `(key, value)` tuples.

use bytes::Bytes;
use sparkwire_serializers::pickle::{self, Graph, Int, NodeId, Value};
use sparkwire_serializers::pyspark::{Serializer, StreamEncoder};
use sparkwire_serializers::SparkVersion;

use super::error::JobError;
use super::textfile::Split;

/// A Hadoop Writable of the kinds Spark converts by default.
#[derive(Clone, Debug, PartialEq)]
pub enum Writable {
    /// `NullWritable`.
    Null,
    /// `IntWritable`.
    Int(i32),
    /// `LongWritable`.
    Long(i64),
    /// `FloatWritable`.
    Float(f32),
    /// `DoubleWritable`.
    Double(f64),
    /// `BooleanWritable`.
    Bool(bool),
    /// `Text`.
    Text(String),
    /// `BytesWritable`.
    Bytes(Bytes),
}

const NULL: &str = "org.apache.hadoop.io.NullWritable";
const INT: &str = "org.apache.hadoop.io.IntWritable";
const LONG: &str = "org.apache.hadoop.io.LongWritable";
const FLOAT: &str = "org.apache.hadoop.io.FloatWritable";
const DOUBLE: &str = "org.apache.hadoop.io.DoubleWritable";
const BOOL: &str = "org.apache.hadoop.io.BooleanWritable";
const TEXT: &str = "org.apache.hadoop.io.Text";
const BYTES: &str = "org.apache.hadoop.io.BytesWritable";

fn unsupported(what: String) -> JobError {
    JobError::Exception {
        class: "org.apache.spark.SparkException".into(),
        message: format!(
            "{what} (sparkwire submit converts None, bool, int, float, str and bytes)"
        ),
    }
}

impl Writable {
    /// Its Hadoop class.
    pub fn class(&self) -> &'static str {
        match self {
            Writable::Null => NULL,
            Writable::Int(_) => INT,
            Writable::Long(_) => LONG,
            Writable::Float(_) => FLOAT,
            Writable::Double(_) => DOUBLE,
            Writable::Bool(_) => BOOL,
            Writable::Text(_) => TEXT,
            Writable::Bytes(_) => BYTES,
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        match self {
            Writable::Null => {}
            Writable::Int(n) => out.extend_from_slice(&n.to_be_bytes()),
            Writable::Long(n) => out.extend_from_slice(&n.to_be_bytes()),
            Writable::Float(f) => out.extend_from_slice(&f.to_bits().to_be_bytes()),
            Writable::Double(d) => out.extend_from_slice(&d.to_bits().to_be_bytes()),
            Writable::Bool(b) => out.push(u8::from(*b)),
            Writable::Text(s) => {
                write_vint(out, s.len() as i64);
                out.extend_from_slice(s.as_bytes());
            }
            Writable::Bytes(b) => {
                out.extend_from_slice(&(b.len() as i32).to_be_bytes());
                out.extend_from_slice(b);
            }
        }
    }

    fn read(class: &str, data: &[u8]) -> Option<Writable> {
        let word = |n: usize| data.get(..n);
        Some(match class {
            NULL => Writable::Null,
            INT => Writable::Int(i32::from_be_bytes(word(4)?.try_into().ok()?)),
            LONG => Writable::Long(i64::from_be_bytes(word(8)?.try_into().ok()?)),
            FLOAT => Writable::Float(f32::from_bits(u32::from_be_bytes(
                word(4)?.try_into().ok()?,
            ))),
            DOUBLE => Writable::Double(f64::from_bits(u64::from_be_bytes(
                word(8)?.try_into().ok()?,
            ))),
            BOOL => Writable::Bool(*data.first()? != 0),
            TEXT => {
                let (len, at) = read_vint(data)?;
                let text = data.get(at..at + usize::try_from(len).ok()?)?;
                Writable::Text(String::from_utf8_lossy(text).into_owned())
            }
            BYTES => {
                let len = usize::try_from(i32::from_be_bytes(word(4)?.try_into().ok()?)).ok()?;
                Writable::Bytes(Bytes::copy_from_slice(data.get(4..4 + len)?))
            }
            _ => return None,
        })
    }

    /// A Python value as Pyrolite unpickles it, then as Spark's default
    /// `JavaToWritableConverter` converts it.
    fn from_node(g: &Graph, id: NodeId) -> Result<Writable, JobError> {
        Ok(match g.get(id) {
            Value::None => Writable::Null,
            Value::Bool(b) => Writable::Bool(*b),
            Value::Int(Int::Small(n)) => match i32::try_from(*n) {
                Ok(i) => Writable::Int(i),
                Err(_) => Writable::Long(*n),
            },
            Value::Float(f) => Writable::Double(*f),
            Value::Str(s) => Writable::Text(
                s.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| unsupported("a str with lone surrogates".into()))?,
            ),
            Value::Bytes(b) | Value::ByteArray(b) => Writable::Bytes(b.clone()),
            other => {
                return Err(unsupported(format!(
                    "Data of type {} cannot be used",
                    other.type_name()
                )))
            }
        })
    }

    /// The Python value Spark's `WritableToJavaConverter` and Pyrolite make of it.
    fn to_node(&self, g: &mut Graph) -> NodeId {
        g.add(match self {
            Writable::Null => Value::None,
            Writable::Int(n) => Value::Int(Int::Small(i64::from(*n))),
            Writable::Long(n) => Value::Int(Int::Small(*n)),
            Writable::Float(f) => Value::Float(f64::from(*f)),
            Writable::Double(d) => Value::Float(*d),
            Writable::Bool(b) => Value::Bool(*b),
            Writable::Text(s) => Value::Str(s.as_str().into()),
            Writable::Bytes(b) => Value::ByteArray(b.clone()),
        })
    }
}

/// `WritableUtils.writeVLong`.
fn write_vint(out: &mut Vec<u8>, mut v: i64) {
    if (-112..=127).contains(&v) {
        out.push(v as u8);
        return;
    }
    let mut len: i64 = -112;
    if v < 0 {
        v = !v;
        len = -120;
    }
    let mut tmp = v;
    while tmp != 0 {
        tmp >>= 8;
        len -= 1;
    }
    out.push(len as u8);
    let bytes = if len < -120 {
        -(len + 120)
    } else {
        -(len + 112)
    };
    for i in (0..bytes).rev() {
        out.push((v >> (8 * i)) as u8);
    }
}

/// `WritableUtils.readVLong`: the value and the bytes it took.
fn read_vint(data: &[u8]) -> Option<(i64, usize)> {
    let first = *data.first()? as i8;
    if first >= -112 {
        return Some((i64::from(first), 1));
    }
    let negative = first < -120;
    let n = if negative {
        -(i32::from(first) + 120)
    } else {
        -(i32::from(first) + 112)
    } as usize;
    let mut v: i64 = 0;
    for b in data.get(1..1 + n)? {
        v = (v << 8) | i64::from(*b);
    }
    Some((if negative { !v } else { v }, 1 + n))
}

/// The `(key, value)` Writables of pickled batches of 2-tuples.
pub fn from_pickled(batches: &[Bytes]) -> Result<Vec<(Writable, Writable)>, JobError> {
    let mut out = Vec::new();
    for b in batches {
        let d = pickle::decode(b).map_err(|e| unsupported(format!("unpickling a batch: {e}")))?;
        let g = &d.graph;
        let root = g
            .root()
            .ok_or_else(|| unsupported("an empty pickle".into()))?;
        let items = match g.get(root) {
            Value::List(items) | Value::Tuple(items) => g.items(*items).to_vec(),
            _ => vec![root],
        };
        for item in items {
            match g.get(item) {
                Value::Tuple(kv) | Value::List(kv) if kv.len() == 2 => {
                    let kv = g.items(*kv);
                    out.push((Writable::from_node(g, kv[0])?, Writable::from_node(g, kv[1])?))
                }
                other => {
                    return Err(unsupported(format!(
                        "RDD element of type {} cannot be used: saveAsSequenceFile needs (key, value) pairs",
                        other.type_name()
                    )))
                }
            }
        }
    }
    Ok(out)
}

/// The frames `SerDeUtil.pairRDDToPython` writes for these records.
pub fn to_pickled(
    records: &[(Writable, Writable)],
    version: SparkVersion,
) -> Result<Vec<Bytes>, JobError> {
    let err = |e: sparkwire_serializers::pyspark::DumpError| unsupported(format!("pickling: {e}"));
    let mut enc = StreamEncoder::new(Serializer::JvmAutoBatched, version).map_err(err)?;
    for (k, v) in records {
        enc.push_with(|g| {
            let k = k.to_node(g);
            let v = v.to_node(g);
            g.add_tuple(&[k, v])
        })
        .map_err(err)?;
    }
    let stream = enc.finish().map_err(err)?;
    let stream = Bytes::from(stream);
    let mut frames = Vec::new();
    let mut at = 0;
    while at + 4 <= stream.len() {
        let len = i32::from_be_bytes([stream[at], stream[at + 1], stream[at + 2], stream[at + 3]]);
        let Ok(len) = usize::try_from(len) else { break };
        frames.push(stream.slice(at + 4..at + 4 + len));
        at += 4 + len;
    }
    Ok(frames)
}

/// One SequenceFile of `records`, its classes those of the first record.
pub fn file_bytes(records: &[(Writable, Writable)], sync: [u8; 16]) -> Result<Vec<u8>, JobError> {
    let (kc, vc) = records
        .first()
        .map_or((NULL, NULL), |(k, v)| (k.class(), v.class()));
    let mut encoded = Vec::with_capacity(records.len());
    for (k, v) in records {
        if k.class() != kc || v.class() != vc {
            return Err(JobError::Exception {
                class: "java.io.IOException".into(),
                message: format!("wrong key class: {} is not class {kc}", k.class()),
            });
        }
        let (mut key, mut value) = (Vec::new(), Vec::new());
        k.write(&mut key);
        v.write(&mut value);
        encoded.push((key, value));
    }
    Ok(super::sequence::write(kc, vc, sync, encoded))
}

/// The records of one split.
pub fn read_split(split: &Split) -> Result<Vec<(Writable, Writable)>, JobError> {
    let super::sequence::SplitRecords {
        classes: [kc, vc],
        records,
    } = super::sequence::read_split(split)?;
    let bad = |what: &str| JobError::Exception {
        class: "java.io.IOException".into(),
        message: format!("{}: a {what} sparkwire does not read", split.path.display()),
    };
    records
        .iter()
        .map(|(k, v)| {
            Ok((
                Writable::read(&kc, k).ok_or_else(|| bad(&format!("key of class {kc}")))?,
                Writable::read(&vc, v).ok_or_else(|| bad(&format!("value of class {vc}")))?,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vints_round_trip_as_hadoop_writes_them() {
        for v in [
            0i64,
            1,
            -1,
            127,
            -112,
            128,
            -113,
            255,
            256,
            65_535,
            1 << 40,
            -(1 << 40),
            i64::MAX,
            i64::MIN,
        ] {
            let mut out = Vec::new();
            write_vint(&mut out, v);
            assert_eq!(read_vint(&out), Some((v, out.len())), "{v}");
        }
        let mut out = Vec::new();
        write_vint(&mut out, 300);
        assert_eq!(out, [0x8e, 0x01, 0x2c]);
    }
}
