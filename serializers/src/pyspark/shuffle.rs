//! The shuffle map side's framing: `rdd.partitionBy` runs `add_shuffle_key` in
//! the worker, whose output (written raw, `NoOpSerializer`) alternates an 8-byte
//! big-endian partition id (`pack_long`) with one protocol-5 pickle of the list of
//! `(k, v)` pairs bound for that partition. The JVM's `PairwiseRDD` reads the
//! frames two at a time as `(partition id, pickled bucket)`.

use bytes::{Bytes, BytesMut};
use sparkwire_framing::{length_prefix, Frame, FrameDecoder, SpecialLength, Step};

use super::error::{DumpError, LoadError};
use crate::pickle::{self, Graph, NodeId, Profile, Value};

/// One `(partition id, pickled bucket)` pair as the JVM's `PairwiseRDD` sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The target partition (`partitionFunc(k) % numPartitions`).
    pub partition: i64,
    /// The pickled list of `(k, v)` pairs, passed through untouched.
    pub payload: Bytes,
}

/// Writes `add_shuffle_key`'s output for a stream of `(k, v)` pairs.
///
/// Buckets are kept in first-insertion order, as Python's dict keeps them, and
/// spilled when more than `batch` pairs have been seen since the last spill;
/// after a spill `batch` grows by 1.5× while the average bucket pickle is under
/// 1 MiB and shrinks by 1.5× above 10 MiB, exactly as PySpark does. PySpark also
/// spills every 1000 pairs when the worker's memory is above its limit; that
/// depends on the process and is not modelled (call [`ShuffleWriter::spill`]).
#[derive(Debug)]
pub struct ShuffleWriter {
    partitions: u64,
    graph: Graph,
    buckets: Vec<(i64, Vec<NodeId>)>,
    count: u64,
    batch: f64,
    out: Vec<u8>,
}

impl ShuffleWriter {
    /// A writer for `num_partitions` reduce partitions.
    pub fn new(num_partitions: u64) -> ShuffleWriter {
        ShuffleWriter {
            partitions: num_partitions.max(1),
            graph: Graph::new(),
            buckets: Vec::new(),
            count: 0,
            batch: (10 * num_partitions.max(1)).min(1000) as f64,
            out: Vec::new(),
        }
    }

    /// The graph pairs are built in.
    pub fn graph(&mut self) -> &mut Graph {
        &mut self.graph
    }

    /// Adds a `(k, v)` pair (a 2-tuple node) whose key hashed to `hash`
    /// (`portable_hash(k)`, see [`portable_hash`]).
    pub fn push(&mut self, hash: i64, pair: NodeId) -> Result<(), DumpError> {
        let split = hash.rem_euclid(self.partitions as i64);
        match self.buckets.iter_mut().find(|(p, _)| *p == split) {
            Some((_, items)) => items.push(pair),
            None => self.buckets.push((split, vec![pair])),
        }
        self.count += 1;
        if self.count as f64 > self.batch {
            let (n, size) = (self.buckets.len(), self.spill()?);
            let avg = (size / n as u64) >> 20;
            if avg < 1 {
                self.batch = (self.batch * 1.5).min(i64::MAX as f64);
            } else if avg > 10 {
                self.batch = ((self.batch / 1.5) as i64).max(1) as f64;
            }
        }
        Ok(())
    }

    /// Writes every bucket now; returns the bytes of pickles written.
    pub fn spill(&mut self) -> Result<u64, DumpError> {
        let mut size = 0u64;
        for (split, items) in std::mem::take(&mut self.buckets) {
            size += self.write_bucket(split, items)?;
        }
        self.graph.clear();
        self.count = 0;
        Ok(size)
    }

    /// `pack_long(split)` then the pickled bucket, each as a frame; returns the pickle's size.
    fn write_bucket(&mut self, split: i64, items: Vec<NodeId>) -> Result<u64, DumpError> {
        self.out.extend_from_slice(&8i32.to_be_bytes());
        self.out.extend_from_slice(&split.to_be_bytes());
        let list = self.graph.add_list(&items);
        let d = pickle::encode_node(&self.graph, list, Profile::PYSPARK)?;
        self.out.extend_from_slice(&length_prefix(d.len())?);
        self.out.extend_from_slice(&d);
        Ok(d.len() as u64)
    }

    /// Writes the remaining buckets and returns the output.
    pub fn finish(mut self) -> Result<Vec<u8>, DumpError> {
        for (split, items) in std::mem::take(&mut self.buckets) {
            self.write_bucket(split, items)?;
        }
        Ok(self.out)
    }
}

/// PySpark's `portable_hash` for the key types whose hash does not depend on
/// `PYTHONHASHSEED`: None, bool, int and tuples of them. `None` for other keys
/// (str and bytes hashes are seeded; floats and objects are not modelled).
pub fn portable_hash(g: &Graph, k: NodeId) -> Option<i64> {
    match g.try_get(k)? {
        Value::None => Some(0),
        Value::Bool(b) => Some(i64::from(*b)),
        Value::Int(i) => Some(int_hash(&i.to_big())),
        Value::Tuple(items) => {
            // h = 0x345678; for i in x: h ^= portable_hash(i); h *= 1000003; h &= sys.maxsize
            // h ^= len(x); if h == -1: h = -2
            let mut h: i64 = 0x345678;
            for &i in g.items(*items) {
                h ^= portable_hash(g, i)?;
                h = h.wrapping_mul(1_000_003) & i64::MAX;
            }
            h ^= items.len() as i64;
            Some(if h == -1 { -2 } else { h })
        }
        _ => None,
    }
}

/// CPython's `hash(int)`: the value modulo 2^61 − 1, sign kept, -1 → -2.
fn int_hash(v: &num_bigint::BigInt) -> i64 {
    use num_traits::{Signed, ToPrimitive};
    let m = num_bigint::BigInt::from((1i64 << 61) - 1);
    let r = (v.abs() % &m).to_i64().unwrap_or(0);
    let h = if v.is_negative() { -r } else { r };
    if h == -1 {
        -2
    } else {
        h
    }
}

/// Reads shuffle blocks: pairs of frames, an 8-byte id then a payload.
#[derive(Debug, Default)]
pub struct ShuffleDecoder {
    frames: FrameDecoder,
    partition: Option<i64>,
}

impl ShuffleDecoder {
    /// A decoder with default frame limits.
    pub fn new() -> ShuffleDecoder {
        ShuffleDecoder::default()
    }

    /// The next block; `Step::Item(None)` at `END_OF_DATA_SECTION`.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Step<Option<Block>>, LoadError> {
        loop {
            let (index, offset) = (self.frames.index(), self.frames.offset());
            let frame = match self.frames.decode(buf)? {
                Step::Item(f) => f,
                Step::NeedMore => return Ok(Step::NeedMore),
            };
            let data = match frame {
                Frame::Marker(SpecialLength::EndOfDataSection) if self.partition.is_none() => {
                    return Ok(Step::Item(None))
                }
                Frame::Data(d) => d,
                Frame::Null => {
                    return Err(LoadError::NullBatch {
                        frame: index,
                        offset,
                        serializer: "PairwiseRDD".into(),
                    })
                }
                Frame::Marker(m) => {
                    return Err(LoadError::UnexpectedMarker {
                        frame: index,
                        offset,
                        marker: m.value(),
                    })
                }
            };
            match self.partition.take() {
                None => {
                    let id: [u8; 8] = data.as_ref().try_into().map_err(|_| LoadError::Value {
                        frame: index,
                        offset,
                        source: Box::new(super::error::ValueError::PartitionId(data.len())),
                    })?;
                    self.partition = Some(i64::from_be_bytes(id));
                }
                Some(partition) => {
                    return Ok(Step::Item(Some(Block {
                        partition,
                        payload: data,
                    })))
                }
            }
        }
    }

    /// Call at the end of input: fails on a cut frame or a partition id without its block.
    pub fn finish(&self, buf: &BytesMut) -> Result<(), LoadError> {
        self.frames.finish(buf)?;
        if self.partition.is_some() {
            return Err(LoadError::Frame(
                sparkwire_framing::DecodeError::Truncated {
                    what: "shuffle block after its partition id",
                    index: self.frames.index(),
                    offset: self.frames.offset(),
                    missing: 4,
                },
            ));
        }
        Ok(())
    }
}
