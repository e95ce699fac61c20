//! Values → stream: what each serializer's `dump_stream` writes.

use std::collections::HashMap;

use bytes::BytesMut;

use sparkwire_framing::{length_prefix, SpecialLength};

use super::error::DumpError;
use super::serializer::Serializer;
use super::version::Batching;
use crate::pickle::{self, Field, Graph, Int, NodeId, Profile, PyStr, RowBatch, Value};
use crate::SparkVersion;

/// How the encoder groups pushed elements into frames.
#[derive(Debug, Clone)]
enum Plan {
    /// One frame per element, `inner.dumps(obj)`.
    Framed,
    /// Lists of `Some(n)` elements, or everything in one list (`None`);
    /// `write_empty` is set for UNLIMITED, which writes `[]` for empty input.
    Batched {
        n: Option<usize>,
        write_empty: bool,
        drop_all: bool,
    },
    /// The adaptive ladder: double below `best`, halve above `10 × best`.
    Auto { batch: usize, best: usize },
    /// `(key, values[i:i+n])` per chunk.
    Flattened(usize),
    /// JVM `writeUTF`-style text frames.
    Utf8,
    /// Key batch, then value batch, of `n` pairs each.
    Pair { n: usize },
}

/// Writes values the way a serializer's `dump_stream` does, one batch at a time.
///
/// Build each element in [`StreamEncoder::graph`] (or use
/// [`StreamEncoder::push_with`] / [`StreamEncoder::push_from`]) and push it; frames
/// are appended to an output buffer you can drain with
/// [`StreamEncoder::take_output`] whenever you like, so a long stream needs memory
/// for one batch only. Elements of one batch share the graph, so the same node
/// pushed twice is the same Python object (and pickles as a memo reference),
/// exactly as when PySpark batches the same object twice.
#[derive(Debug)]
pub struct StreamEncoder {
    ser: Serializer,
    /// The per-frame serializer used for batches (the batch's inner serializer).
    inner: Serializer,
    plan: Plan,
    profile: Profile,
    graph: Graph,
    items: Vec<NodeId>,
    imported: HashMap<NodeId, NodeId>,
    arena: BytesMut,
    out: Vec<u8>,
    /// Batching by `count == n` (≤ 4.1), whose loop variable holds the last item.
    count_equals: bool,
    /// Records pushed with [`StreamEncoder::push_row`], kept flat when the
    /// batch is a CPython-pickled list and holds nothing else (then `items`
    /// is empty).
    rows: RowBatch,
    /// Whether batches are lists pickled by CPython's profile, which
    /// [`RowBatch`] writes directly.
    rows_direct: bool,
}

impl StreamEncoder {
    /// An encoder for `ser` as PySpark `version` writes it.
    pub fn new(ser: Serializer, version: SparkVersion) -> Result<StreamEncoder, DumpError> {
        let mut profile = Profile::PYSPARK;
        let (inner, plan) = match &ser {
            s if s.is_framed() => (s.clone(), Plan::Framed),
            Serializer::Batched(inner, n) => (inner.as_ref().clone(), batched_plan(*n, version)?),
            Serializer::AutoBatched(inner, best) => (
                inner.as_ref().clone(),
                Plan::Auto {
                    batch: 1,
                    best: *best,
                },
            ),
            Serializer::JvmAutoBatched => {
                profile = Profile::Pyrolite;
                (
                    Serializer::CPickle,
                    Plan::Auto {
                        batch: 1,
                        best: super::JVM_BEST_SIZE,
                    },
                )
            }
            Serializer::FlattenedValues(inner, n) => (inner.as_ref().clone(), Plan::Flattened(*n)),
            Serializer::Utf8 { .. } => (ser.clone(), Plan::Utf8),
            Serializer::Pair(k, v) => {
                let n = pair_batch(k).filter(|n| Some(*n) == pair_batch(v)).ok_or_else(|| {
                    DumpError::Unsupported(format!(
                        "{ser}: both sides must be framed or batched with the same positive size"
                    ))
                })?;
                (ser.clone(), Plan::Pair { n })
            }
            Serializer::Cartesian(..) => {
                return Err(DumpError::Unsupported(
                    "CartesianDeserializer has no dump_stream: its stream is the two RDDs' batches, which a product cannot be split back into".into(),
                ))
            }
            other => return Err(DumpError::NotFramed(other.to_string())),
        };
        if !inner.is_framed() && !matches!(plan, Plan::Utf8 | Plan::Pair { .. }) {
            return Err(DumpError::NotFramed(inner.to_string()));
        }
        Ok(StreamEncoder {
            graph: Graph::new(),
            items: Vec::new(),
            imported: HashMap::new(),
            arena: BytesMut::new(),
            out: Vec::new(),
            count_equals: matches!(version.batching(), Batching::CountEquals),
            rows: RowBatch::default(),
            rows_direct: profile == Profile::PYSPARK
                && matches!(inner, Serializer::CPickle | Serializer::Pickled(_))
                && matches!(plan, Plan::Batched { .. } | Plan::Auto { .. }),
            ser,
            inner,
            plan,
            profile,
        })
    }

    /// The serializer being written.
    pub fn serializer(&self) -> &Serializer {
        &self.ser
    }

    /// The graph the next element is built in. Nodes of elements already pushed
    /// to the current batch are still there and may be shared.
    pub fn graph(&mut self) -> &mut Graph {
        &mut self.graph
    }

    /// Adds a `str` node. A short one is kept inline in its node; a longer one
    /// lives in the encoder's text arena: one allocation per 64 KiB of text
    /// instead of one per string. (Short strings skip the arena because a
    /// share of it costs two atomic reference-count updates.)
    pub fn add_str(&mut self, s: &str) -> NodeId {
        if PyStr::fits_inline(s.len()) {
            return self.graph.add_str(s);
        }
        if self.arena.capacity() - self.arena.len() < s.len() {
            self.arena = BytesMut::with_capacity(s.len().max(64 * 1024));
        }
        self.arena.extend_from_slice(s.as_bytes());
        let b = self.arena.split().freeze();
        // The bytes came from a `str`: valid UTF-8 without surrogates.
        let s = PyStr::from_validated(b);
        self.graph.add(Value::Str(s))
    }

    /// Builds an element with `build` and pushes it.
    pub fn push_with(&mut self, build: impl FnOnce(&mut Graph) -> NodeId) -> Result<(), DumpError> {
        let id = build(&mut self.graph);
        self.push(id)
    }

    /// Copies `src`'s node `id` (and what it references) into the encoder and
    /// pushes it. Nodes already copied for the current batch are reused, so
    /// identity within a batch survives.
    pub fn push_from(&mut self, src: &Graph, id: NodeId) -> Result<(), DumpError> {
        let copied = import(&mut self.graph, &mut self.imported, src, id)?;
        self.push(copied)
    }

    /// Pushes a tuple of fresh leaves, as [`StreamEncoder::push`] of the same
    /// tuple built in [`StreamEncoder::graph`] would, with the same bytes. For
    /// the batching serializers over CPickle (the RDD default among them) the
    /// records are kept flat and their batch is pickled without a graph.
    pub fn push_row(&mut self, fields: &[Field<'_>]) -> Result<(), DumpError> {
        if !self.rows_direct || !self.items.is_empty() {
            let id = self.add_row(fields);
            return self.push(id);
        }
        self.rows.push(fields);
        let pending = self.rows.len();
        match self.plan {
            Plan::Batched { n: Some(n), .. } if pending == n => {
                self.flush_batch()?;
            }
            Plan::Auto { batch, best } if pending == batch => {
                let size = self.flush_batch()?;
                self.plan = Plan::Auto {
                    batch: next_batch(batch, best, size),
                    best,
                };
            }
            _ => {}
        }
        Ok(())
    }

    /// The tuple of `fields`, added to the graph.
    fn add_row(&mut self, fields: &[Field<'_>]) -> NodeId {
        let mut items = Vec::with_capacity(fields.len());
        for f in fields {
            let id = match *f {
                Field::None => self.graph.add(Value::None),
                Field::Bool(b) => self.graph.add(Value::Bool(b)),
                Field::Int(v) => self.graph.add(Value::Int(Int::Small(v))),
                Field::Float(v) => self.graph.add(Value::Float(v)),
                Field::Str(s) => self.add_str(s),
            };
            items.push(id);
        }
        self.graph.add_tuple(&items)
    }

    /// Moves the flat records of the current batch into the graph, in order,
    /// before something that needs the graph joins the batch.
    fn rows_to_graph(&mut self) {
        if self.rows.is_empty() {
            return;
        }
        let rows = std::mem::take(&mut self.rows);
        rows.for_each(|fields| {
            let id = self.add_row(fields);
            self.items.push(id);
        });
        self.rows = rows;
        self.rows.clear();
    }

    /// Pushes an element built in [`StreamEncoder::graph`].
    pub fn push(&mut self, id: NodeId) -> Result<(), DumpError> {
        if self.graph.try_get(id).is_none() {
            return Err(pickle::EncodeError::DanglingNode(id.0).into());
        }
        self.rows_to_graph();
        self.items.push(id);
        match self.plan.clone() {
            Plan::Framed => {
                framed(&mut self.out, |out| {
                    self.inner.dumps_into(&self.graph, id, &[], out)
                })?;
                self.reset();
            }
            Plan::Batched { n: Some(n), .. } if self.items.len() == n => {
                self.flush_batch()?;
            }
            Plan::Batched { .. } => {}
            Plan::Auto { batch, best } => {
                if self.items.len() == batch {
                    let size = self.flush_batch()?;
                    self.plan = Plan::Auto {
                        batch: next_batch(batch, best, size),
                        best,
                    };
                }
            }
            Plan::Flattened(n) => {
                self.flattened(id, n)?;
                self.reset();
            }
            Plan::Utf8 => {
                match self.graph.get(id) {
                    Value::None => self
                        .out
                        .extend_from_slice(&SpecialLength::Null.value().to_be_bytes()),
                    Value::Str(s) => framed_bytes(&mut self.out, s.as_bytes())?,
                    Value::Bytes(b) => framed_bytes(&mut self.out, b)?,
                    other => return Err(DumpError::NotText(other.type_name())),
                }
                self.reset();
            }
            Plan::Pair { n } => {
                if self.items.len() == n {
                    self.flush_pairs()?;
                }
            }
        }
        Ok(())
    }

    /// Takes the bytes written so far.
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }

    /// Writes what is pending (the last, shorter batch) and returns the rest of
    /// the output. PySpark writes no terminator after a data stream.
    pub fn finish(mut self) -> Result<Vec<u8>, DumpError> {
        match self.plan {
            Plan::Batched {
                write_empty,
                drop_all,
                ..
            } if !drop_all && (write_empty || self.pending() > 0) => {
                self.flush_batch()?;
            }
            Plan::Auto { .. } if self.pending() > 0 => {
                self.flush_batch()?;
            }
            Plan::Pair { .. } if !self.items.is_empty() => self.flush_pairs()?,
            _ => {}
        }
        Ok(self.out)
    }

    /// Elements in the current batch.
    fn pending(&self) -> usize {
        self.items.len() + self.rows.len()
    }

    fn reset(&mut self) {
        self.rows.clear();
        self.graph.clear();
        self.items.clear();
        self.imported.clear();
    }

    /// Writes the pending items as one list (a tuple for the JVM) and returns the
    /// pickle's size, which drives the auto-batching ladder.
    fn flush_batch(&mut self) -> Result<usize, DumpError> {
        if !self.rows.is_empty() {
            let rows = &self.rows;
            let len = framed(&mut self.out, |out| {
                *out = rows.encode_list_into(std::mem::take(out));
                Ok(())
            });
            self.reset();
            return len;
        }
        let items = std::mem::take(&mut self.items);
        let len = if self.profile == Profile::Pyrolite {
            let list = self.graph.add_tuple(&items);
            framed(&mut self.out, |out| {
                Ok(pickle::encode_node_into(
                    &self.graph,
                    list,
                    Profile::Pyrolite,
                    out,
                )?)
            })
        } else {
            // PySpark ≤ 4.1's `_batched` loop variable still holds the last item
            // (not for UNLIMITED, which is `list(iterator)`).
            let held: Vec<NodeId> = match self.plan {
                Plan::Batched {
                    write_empty: false, ..
                } if self.count_equals => items.last().copied().into_iter().collect(),
                _ => Vec::new(),
            };
            let list = self.graph.add_list(&items);
            framed(&mut self.out, |out| {
                self.inner.dumps_into(&self.graph, list, &held, out)
            })
        };
        self.reset();
        len
    }

    fn flattened(&mut self, id: NodeId, n: usize) -> Result<(), DumpError> {
        let Value::Tuple(kv) = self.graph.get(id) else {
            return Err(DumpError::NotAPair(self.ser.to_string()));
        };
        let &[key, values] = self.graph.items(*kv) else {
            return Err(DumpError::NotAPair(self.ser.to_string()));
        };
        let Some(values_node) = self.graph.try_get(values) else {
            return Err(pickle::EncodeError::DanglingNode(values.0).into());
        };
        let (vals, tuple) = match values_node {
            Value::List(v) => (self.graph.items(*v).to_vec(), false),
            Value::Tuple(v) => (self.graph.items(*v).to_vec(), true),
            other => return Err(DumpError::NotAList(other.type_name())),
        };
        if n == 0 {
            return Err(DumpError::Unsupported(
                "FlattenedValuesSerializer(…, 0): range() arg 3 must not be zero".into(),
            ));
        }
        let mark = self.graph.len();
        for chunk in vals.chunks(n) {
            let part = self.graph.new_items(chunk);
            let part = if tuple {
                Value::Tuple(part)
            } else {
                Value::List(part)
            };
            let part = self.graph.add(part);
            let pair = self.graph.add_tuple(&[key, part]);
            framed(&mut self.out, |out| {
                self.inner.dumps_into(&self.graph, pair, &[key], out)
            })?;
            self.graph.truncate(mark);
        }
        Ok(())
    }

    fn flush_pairs(&mut self) -> Result<(), DumpError> {
        let Serializer::Pair(ks, vs) = self.ser.clone() else {
            return Ok(());
        };
        let items = std::mem::take(&mut self.items);
        let mut keys = Vec::with_capacity(items.len());
        let mut vals = Vec::with_capacity(items.len());
        for id in items {
            match self.graph.get(id) {
                Value::Tuple(kv) if kv.len() == 2 => {
                    let kv = self.graph.items(*kv);
                    keys.push(kv[0]);
                    vals.push(kv[1]);
                }
                _ => return Err(DumpError::NotAPair(self.ser.to_string())),
            }
        }
        for (side, ser) in [(keys, ks), (vals, vs)] {
            let (inner, id) = match ser.batch_inner() {
                Some(inner) => (inner, self.graph.add_list(&side)),
                None => (&*ser, side[0]),
            };
            framed(&mut self.out, |out| {
                inner.dumps_into(&self.graph, id, &[], out)
            })?;
        }
        self.reset();
        Ok(())
    }
}

/// Appends one length-prefixed frame whose payload `write` appends, straight
/// after a placeholder for its length (no payload buffer, no copy), and
/// returns the payload's length. On an error `out` is cut back to where the
/// frame began.
fn framed(
    out: &mut Vec<u8>,
    write: impl FnOnce(&mut Vec<u8>) -> Result<(), DumpError>,
) -> Result<usize, DumpError> {
    let at = out.len();
    out.extend_from_slice(&[0; 4]);
    let written = write(out).and_then(|()| {
        let len = out.len() - at - 4;
        Ok((len, length_prefix(len)?))
    });
    match written {
        Ok((len, prefix)) => {
            out[at..at + 4].copy_from_slice(&prefix);
            Ok(len)
        }
        Err(e) => {
            out.truncate(at);
            Err(e)
        }
    }
}

/// Appends `payload` as one length-prefixed frame.
fn framed_bytes(out: &mut Vec<u8>, payload: &[u8]) -> Result<(), DumpError> {
    out.extend_from_slice(&length_prefix(payload.len())?);
    out.extend_from_slice(payload);
    Ok(())
}

/// The adaptive ladder's next batch size after a batch pickled to `size`
/// bytes: double below `best`, halve above `10 × best`.
fn next_batch(batch: usize, best: usize, size: usize) -> usize {
    if size < best {
        batch.saturating_mul(2)
    } else if size > best.saturating_mul(10) && batch > 1 {
        batch / 2
    } else {
        batch
    }
}

fn batched_plan(n: i64, version: SparkVersion) -> Result<Plan, DumpError> {
    if n == -1 {
        return Ok(Plan::Batched {
            n: None,
            write_empty: true,
            drop_all: false,
        });
    }
    if n > 0 {
        return Ok(Plan::Batched {
            n: usize::try_from(n).ok(),
            write_empty: false,
            drop_all: false,
        });
    }
    match version.batching() {
        Batching::CountEquals => Ok(Plan::Batched {
            n: None,
            write_empty: false,
            drop_all: false,
        }),
        Batching::Islice if n == 0 => Ok(Plan::Batched {
            n: None,
            write_empty: false,
            drop_all: true,
        }),
        Batching::Islice => Err(DumpError::BadBatchSize(n, version)),
    }
}

/// The number of pairs per key/value batch a Pair side implies.
fn pair_batch(s: &Serializer) -> Option<usize> {
    match s {
        Serializer::Batched(inner, n) if *n > 0 && inner.is_framed() => usize::try_from(*n).ok(),
        s if s.is_framed() => Some(1),
        _ => None,
    }
}

/// Copies `id` from `src` into `dst`, iteratively, reusing earlier copies.
fn import(
    dst: &mut Graph,
    map: &mut HashMap<NodeId, NodeId>,
    src: &Graph,
    id: NodeId,
) -> Result<NodeId, DumpError> {
    if src.try_get(id).is_none() {
        return Err(pickle::EncodeError::DanglingNode(id.0).into());
    }
    // First allocate a placeholder for every reachable node, then fill them with
    // remapped children, so shared nodes and cycles come out right.
    let mut order = Vec::new();
    let mut stack = vec![id];
    while let Some(n) = stack.pop() {
        if map.contains_key(&n) {
            continue;
        }
        if src.try_get(n).is_none() {
            return Err(pickle::EncodeError::DanglingNode(n.0).into());
        }
        let placeholder = dst.add(Value::None);
        map.insert(n, placeholder);
        order.push(n);
        stack.extend(src.children(n));
    }
    for n in order {
        let v = dst.import_value(src, n, |c| map.get(&c).copied().unwrap_or(c));
        *dst.get_mut(map[&n]) = v;
    }
    Ok(map[&id])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pickle::{Int, PyStr};

    /// An int where a global's module should be: CPython's profile refuses
    /// it part-way through the batch, after the list's opening bytes.
    fn unpicklable(g: &mut Graph) -> NodeId {
        let module = g.add(Value::Int(Int::Small(7)));
        let name = g.add(Value::Str(PyStr::from("f")));
        g.add(Value::Global { module, name })
    }

    /// Frames are written in place after their length, so a payload that
    /// fails part-way must be cut back: the stream is left as it was, and the
    /// next frames are the ones a fresh encoder writes.
    #[test]
    fn a_frame_that_fails_part_way_leaves_the_stream_as_it_was() {
        let sers = [
            Serializer::batched(Serializer::CPickle, 2),
            Serializer::CPickle,
            Serializer::Compressed(Box::new(Serializer::CPickle)),
            Serializer::NoOp,
            Serializer::Utf8 { use_unicode: true },
        ];
        for ser in sers {
            let good = |enc: &mut StreamEncoder| {
                let id = enc.graph().add(Value::Str(PyStr::from("ok")));
                enc.push(id)
            };
            let mut enc = StreamEncoder::new(ser.clone(), SparkVersion::V4_3).unwrap();
            let mut fresh = StreamEncoder::new(ser.clone(), SparkVersion::V4_3).unwrap();
            if !matches!(ser, Serializer::NoOp) {
                good(&mut enc).unwrap();
                good(&mut fresh).unwrap();
                good(&mut enc).unwrap();
                good(&mut fresh).unwrap();
            }
            let before = enc.out.clone();
            let bad = unpicklable(enc.graph());
            let failed = match ser {
                Serializer::Batched(..) => {
                    let one = enc.graph().add(Value::Int(Int::Small(1)));
                    enc.push(one).unwrap();
                    enc.push(bad)
                }
                _ => enc.push(bad),
            };
            assert!(failed.is_err(), "{ser}: {failed:?}");
            assert_eq!(enc.out, before, "{ser}: the failed frame was left behind");
            if !matches!(ser, Serializer::NoOp | Serializer::Utf8 { .. }) {
                good(&mut enc).unwrap();
                good(&mut fresh).unwrap();
                good(&mut enc).unwrap();
                good(&mut fresh).unwrap();
                assert_eq!(enc.finish().unwrap(), fresh.finish().unwrap(), "{ser}");
            }
        }
    }
}
