//! The serializer tree, and what each framed serializer does to one object.

use std::fmt;
use std::io::Write;
use std::sync::Arc;

use bytes::Bytes;

use super::element::Element;
use super::error::{DumpError, LoadError};
use crate::marshal;
use crate::pickle::{self, Graph, NodeId, Profile, Value};

/// `AutoBatchedSerializer`'s default `bestSize`: 64 KiB.
pub const PYTHON_BEST_SIZE: usize = 65_536;
/// The JVM's `SerDeUtil.AutoBatchedPickler` doubles below 1 MiB (and halves above 10×).
pub const JVM_BEST_SIZE: usize = 1 << 20;

/// Which pickle serializer class (they write the same bytes for data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PickleFlavor {
    /// `CloudPickleSerializer` named as such.
    CloudPickle,
    /// `PickleSerializer` (plain `pickle.dumps(obj, 5)`; CPickle's alias target
    /// when `PYSPARK_ENABLE_NAMEDTUPLE_PATCH=1`).
    Pickle,
}

/// A PySpark serializer, as the object tree PySpark builds.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Serializer {
    /// One protocol-5 pickle per frame.
    CPickle,
    /// [`Serializer::CPickle`] under another class name.
    Pickled(PickleFlavor),
    /// `MarshalSerializer`: one marshal (version 4) per frame.
    Marshal,
    /// `NoOpSerializer`: frames are the bytes themselves.
    NoOp,
    /// `UTF8Deserializer(use_unicode)`: frames are UTF-8 text, written by the JVM.
    Utf8 {
        /// `False` yields the raw bytes.
        use_unicode: bool,
    },
    /// `AutoSerializer`: `b"M"` + marshal until marshal first fails, then `b"P"` + pickle.
    Auto,
    /// `CompressedSerializer(inner)`: `zlib.compress(inner.dumps(obj), 1)`.
    Compressed(Box<Serializer>),
    /// `BatchedSerializer(inner, n)`: frames are lists; `n = -1` is unlimited.
    Batched(Box<Serializer>, i64),
    /// `AutoBatchedSerializer(inner, best_size)`: the Python batch-size ladder.
    AutoBatched(Box<Serializer>, usize),
    /// `FlattenedValuesSerializer(inner, n)`: `(key, values[i:i+n])` tuples.
    FlattenedValues(Box<Serializer>, usize),
    /// `PairDeserializer(keys, values)`: key and value batches alternate; zipped.
    Pair(Box<Serializer>, Box<Serializer>),
    /// `CartesianDeserializer(keys, values)`: as Pair, but the product of each batch pair.
    Cartesian(Box<Serializer>, Box<Serializer>),
    /// What the JVM's `SerDeUtil.AutoBatchedPickler` writes: Pyrolite protocol-2
    /// pickles of `Object[]` (tuples), ladder 1 MiB / 10 MiB.
    JvmAutoBatched,
}

impl Serializer {
    /// `BatchedSerializer(inner, n)`.
    pub fn batched(inner: Serializer, n: i64) -> Serializer {
        Serializer::Batched(Box::new(inner), n)
    }

    /// `AutoBatchedSerializer(inner)` with the default 64 KiB best size.
    pub fn auto_batched(inner: Serializer) -> Serializer {
        Serializer::AutoBatched(Box::new(inner), PYTHON_BEST_SIZE)
    }

    /// The RDD default, `AutoBatchedSerializer(CPickleSerializer())`.
    pub fn rdd_default() -> Serializer {
        Serializer::auto_batched(Serializer::CPickle)
    }

    /// Whether `dumps`/`loads` of one object is all this serializer does per frame.
    pub(crate) fn is_framed(&self) -> bool {
        matches!(
            self,
            Serializer::CPickle
                | Serializer::Pickled(_)
                | Serializer::Marshal
                | Serializer::NoOp
                | Serializer::Auto
                | Serializer::Compressed(_)
        )
    }

    /// Whether frames are batches whose elements `load_stream` flattens.
    pub(crate) fn batch_inner(&self) -> Option<&Serializer> {
        match self {
            Serializer::Batched(inner, _) | Serializer::AutoBatched(inner, _) => Some(inner),
            _ => None,
        }
    }

    /// `inner.dumps(obj)` for a framed serializer, appended to `out` (a
    /// stream writes it straight after its length prefix). On an error `out`
    /// may hold part of it: the caller cuts it back.
    ///
    /// `held` are nodes something else still refers to, which only marshal's
    /// reference flags care about.
    pub(crate) fn dumps_into(
        &self,
        g: &Graph,
        id: NodeId,
        held: &[NodeId],
        out: &mut Vec<u8>,
    ) -> Result<(), DumpError> {
        match self {
            Serializer::CPickle | Serializer::Pickled(_) => {
                pickle::encode_node_into(g, id, Profile::PYSPARK, out)?
            }
            Serializer::Marshal => out.extend_from_slice(&marshal::from_pickle_held(g, id, held)?),
            Serializer::NoOp => match g.get(id) {
                Value::Bytes(b) | Value::ByteArray(b) => out.extend_from_slice(b),
                other => return Err(DumpError::NotBytes(other.type_name())),
            },
            Serializer::Auto => match marshal::from_pickle_held(g, id, held) {
                Ok(m) => {
                    out.push(b'M');
                    out.extend_from_slice(&m);
                }
                Err(_) => {
                    out.push(b'P');
                    pickle::encode_node_into(g, id, Profile::PYSPARK, out)?;
                }
            },
            Serializer::Compressed(inner) => {
                let mut raw = Vec::new();
                inner.dumps_into(g, id, held, &mut raw)?;
                let mut z = flate2::write::ZlibEncoder::new(out, flate2::Compression::new(1));
                z.write_all(&raw)
                    .map_err(|e| DumpError::Zlib(e.to_string()))?;
                z.finish().map_err(|e| DumpError::Zlib(e.to_string()))?;
            }
            other => return Err(DumpError::NotFramed(other.to_string())),
        }
        Ok(())
    }

    /// `loads(payload)` for a framed serializer; `frame` is for error positions.
    pub(crate) fn loads(
        &self,
        payload: Bytes,
        frame: u64,
        offset: u64,
    ) -> Result<Element, LoadError> {
        let at = |source| LoadError::Value {
            frame,
            offset,
            source: Box::new(source),
        };
        match self {
            Serializer::CPickle | Serializer::Pickled(_) => {
                let d = pickle::decode(&payload).map_err(|e| at(e.into()))?;
                let root = d.root();
                Ok(Element::Pickled(Arc::new(d.graph), root))
            }
            Serializer::Marshal => {
                let m = marshal::decode(&payload).map_err(|e| at(e.into()))?;
                let root = m
                    .root()
                    .ok_or_else(|| at(marshal::MarshalError::Unmarshallable("empty").into()))?;
                Ok(Element::Marshalled(Arc::new(m), root))
            }
            Serializer::NoOp => Ok(Element::Bytes(Box::new(payload))),
            Serializer::Auto => match payload.first() {
                Some(b'M') => Serializer::Marshal.loads(payload.slice(1..), frame, offset + 5),
                Some(b'P') => Serializer::CPickle.loads(payload.slice(1..), frame, offset + 5),
                _ => Err(at(super::error::ValueError::AutoPrefix)),
            },
            Serializer::Compressed(inner) => {
                let mut z = flate2::write::ZlibDecoder::new(LimitedVec::new(payload.len()));
                z.write_all(&payload)
                    .and_then(|_| z.try_finish())
                    .map_err(|e| at(super::error::ValueError::Zlib(e.to_string())))?;
                let raw = z
                    .finish()
                    .map_err(|e| at(super::error::ValueError::Zlib(e.to_string())))?;
                inner.loads(Bytes::from(raw.0), frame, offset)
            }
            other => Err(LoadError::NotFramed(other.to_string())),
        }
    }
}

/// A Vec sink for inflated data that refuses to grow past a bound, so a zlib bomb
/// cannot make the decoder allocate more than the frame limit allows.
struct LimitedVec(Vec<u8>, usize);

impl LimitedVec {
    fn new(compressed: usize) -> LimitedVec {
        // zlib's best ratio is about 1032:1; allow that plus slack, capped at 1 GiB.
        LimitedVec(
            Vec::new(),
            compressed.saturating_mul(1100).clamp(1 << 16, 1 << 30),
        )
    }
}

impl Write for LimitedVec {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len() + buf.len() > self.1 {
            return Err(std::io::Error::other("inflated size exceeds the limit"));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl fmt::Display for Serializer {
    /// PySpark's `repr` of the serializer object.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Serializer::CPickle => f.write_str("CloudPickleSerializer()"),
            Serializer::Pickled(PickleFlavor::CloudPickle) => {
                f.write_str("CloudPickleSerializer()")
            }
            Serializer::Pickled(PickleFlavor::Pickle) => f.write_str("PickleSerializer()"),
            Serializer::Marshal => f.write_str("MarshalSerializer()"),
            Serializer::NoOp => f.write_str("NoOpSerializer()"),
            Serializer::Utf8 { .. } => f.write_str("UTF8Deserializer()"),
            Serializer::Auto => f.write_str("AutoSerializer()"),
            Serializer::Compressed(i) => write!(f, "CompressedSerializer({i})"),
            Serializer::Batched(i, n) => write!(f, "BatchedSerializer({i}, {n})"),
            Serializer::AutoBatched(i, _) => write!(f, "AutoBatchedSerializer({i})"),
            Serializer::FlattenedValues(i, n) => write!(f, "FlattenedValuesSerializer({i}, {n})"),
            Serializer::Pair(k, v) => write!(f, "PairDeserializer({k}, {v})"),
            Serializer::Cartesian(k, v) => write!(f, "CartesianDeserializer({k}, {v})"),
            Serializer::JvmAutoBatched => f.write_str("SerDeUtil.AutoBatchedPickler"),
        }
    }
}
