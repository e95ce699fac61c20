//! Stream → values: what each serializer's `load_stream` yields, sans-I/O.

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};
use sparkwire_framing::{Frame, FrameDecoder, Limits, SpecialLength, Step};

use super::element::{Chunk, Element};
use super::error::{LoadError, ValueError};
use super::serializer::Serializer;
use crate::pickle::flat::FlatBatch;
use crate::pickle::rows::Rows;
use crate::SparkVersion;

/// Decodes a data stream into elements, one frame at a time.
///
/// Feed it a growing [`BytesMut`]; each [`StreamDecoder::decode`] returns an element,
/// `Step::NeedMore`, or `Step::Item(None)` once `END_OF_DATA_SECTION` (-1) was read
/// (bytes after it stay in the buffer for the caller). Memory is one frame plus
/// the elements of one batch.
///
/// A pickled batch of flat records (a list of tuples of `None`, bools,
/// 64-bit ints, floats and `str`s, or of such fields, as PySpark's RDDs of
/// rows mostly are) is kept as a [`FlatBatch`] and yields [`Element::Flat`]s
/// ([`Chunk::Flat`]): a fifth of the memory of its decoded graph, and no
/// graph to build. Any other batch, and every batch after
/// [`StreamDecoder::keep_graphs`], is decoded into a graph
/// ([`Element::Pickled`]). Both give the same Python values and reprs. (A
/// batch the view gives up on late, say flat rows and then a nested list, is
/// read twice: the view's reading, at most about the cost of decoding it,
/// is lost.)
///
/// Where PySpark silently stops (a truncated last frame, 1–3 stray bytes), this
/// decoder reports a typed error from [`StreamDecoder::finish`] instead, naming
/// the frame and offset; where PySpark raises (a null batch, a pair of batches of
/// different lengths), so does this decoder.
#[derive(Debug)]
pub struct StreamDecoder {
    ser: Serializer,
    version: SparkVersion,
    frames: FrameDecoder,
    queue: VecDeque<Element>,
    keys: Option<Vec<Element>>,
    ended: bool,
    /// The rows view kept between batches (its buffers); `None` once
    /// [`StreamDecoder::keep_graphs`] was called.
    view: Option<View>,
}

/// The rows view between two batches, over no input.
#[derive(Debug)]
struct View(Option<Rows<'static>>);

impl View {
    /// The batch's records kept flat, or `None` when the rows view does not
    /// read it whole (the graph decoder then reads it, or names its damage).
    fn flat(&mut self, payload: &[u8]) -> Option<FlatBatch> {
        let rows = match self.0.take() {
            Some(r) => r.restart(payload),
            None => Rows::new(payload, &crate::pickle::Limits::default()),
        };
        let (read, rows) = FlatBatch::read_with(rows);
        self.0 = Some(rows.restart(&[]));
        read.ok()
    }
}

impl StreamDecoder {
    /// A decoder for `ser` as PySpark `version` reads it, with default frame limits.
    pub fn new(ser: Serializer, version: SparkVersion) -> StreamDecoder {
        StreamDecoder {
            ser,
            version,
            frames: FrameDecoder::new(),
            queue: VecDeque::new(),
            keys: None,
            ended: false,
            view: Some(View(None)),
        }
    }

    /// Decodes every pickled batch into a value graph, never into a
    /// [`FlatBatch`]: for callers that need the pickle's sharing and layout
    /// (the graph re-encodes to the same bytes), or that read only graphs.
    pub fn keep_graphs(mut self) -> StreamDecoder {
        self.view = None;
        self
    }

    /// Uses `limits` for frame lengths.
    pub fn with_limits(mut self, limits: Limits) -> StreamDecoder {
        self.frames = FrameDecoder::with_limits(limits);
        self
    }

    /// The version being read.
    pub fn version(&self) -> SparkVersion {
        self.version
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.frames.offset()
    }

    /// The next element; `Step::Item(None)` at the end of the data section.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Step<Option<Element>>, LoadError> {
        loop {
            if let Some(e) = self.queue.pop_front() {
                return Ok(Step::Item(Some(e)));
            }
            match self.decode_chunk(buf)? {
                Step::Item(Some(chunk)) => self.queue.extend(chunk.into_elements()),
                Step::Item(None) => return Ok(Step::Item(None)),
                Step::NeedMore => return Ok(Step::NeedMore),
            }
        }
    }

    /// The elements of the next frame (two frames for Pair and Cartesian) as one
    /// [`Chunk`]: a pickled batch comes back as its decoded graph and item ids,
    /// with no per-element wrapper, which is the fast way through long streams.
    /// `Step::Item(None)` at the end of the data section.
    pub fn decode_chunk(&mut self, buf: &mut BytesMut) -> Result<Step<Option<Chunk>>, LoadError> {
        if !self.queue.is_empty() {
            return Ok(Step::Item(Some(Chunk::Elements(
                self.queue.drain(..).collect(),
            ))));
        }
        loop {
            if self.ended {
                return Ok(Step::Item(None));
            }
            let (index, offset) = (self.frames.index(), self.frames.offset());
            let frame = match self.frames.decode(buf)? {
                Step::Item(f) => f,
                Step::NeedMore => return Ok(Step::NeedMore),
            };
            if let Some(chunk) = self.frame(frame, index, offset)? {
                return Ok(Step::Item(Some(chunk)));
            }
        }
    }

    /// Call at the end of input: fails if a frame was cut short.
    pub fn finish(&self, buf: &BytesMut) -> Result<(), LoadError> {
        Ok(self.frames.finish(buf)?)
    }

    /// Decodes a whole in-memory stream (up to `END_OF_DATA_SECTION` or the end).
    pub fn load_all(self, data: &[u8]) -> Result<Vec<Element>, LoadError> {
        let chunks = self.load_chunks(data)?;
        // Sized from what was decoded, not from anything the input declares.
        let mut out = Vec::with_capacity(chunks.iter().map(Chunk::len).sum());
        for chunk in chunks {
            chunk.append_to(&mut out);
        }
        Ok(out)
    }

    /// Like [`StreamDecoder::load_all`], one [`Chunk`] per frame.
    ///
    /// The stream is copied into the decoder's buffer a window at a time, as
    /// frames need it, not whole: a frame kept flat holds no share of the
    /// buffer, so its room is taken again for the next window, and a long
    /// stream is not copied into fresh pages (copied whole, 30 MB of
    /// AutoBatched records spent about a tenth of their decode in page faults).
    pub fn load_chunks(mut self, data: &[u8]) -> Result<Vec<Chunk>, LoadError> {
        let mut buf = BytesMut::new();
        let mut rest = data;
        let mut out = Vec::new();
        loop {
            match self.decode_chunk(&mut buf)? {
                Step::Item(Some(c)) => out.push(c),
                Step::Item(None) => return Ok(out),
                Step::NeedMore if !rest.is_empty() => {
                    let (now, later) = rest.split_at(rest.len().min(LOAD_WINDOW));
                    buf.extend_from_slice(now);
                    rest = later;
                }
                Step::NeedMore => {
                    self.finish(&buf)?;
                    return Ok(out);
                }
            }
        }
    }

    fn frame(&mut self, frame: Frame, index: u64, offset: u64) -> Result<Option<Chunk>, LoadError> {
        let payload = match frame {
            Frame::Marker(SpecialLength::EndOfDataSection) => {
                self.ended = true;
                return Ok(None);
            }
            Frame::Marker(m) => {
                return Err(LoadError::UnexpectedMarker {
                    frame: index,
                    offset,
                    marker: m.value(),
                })
            }
            Frame::Null => None,
            Frame::Data(p) => Some(p),
        };
        let (k, v, pair) = match &self.ser {
            Serializer::Pair(k, v) => (k, v, true),
            Serializer::Cartesian(k, v) => (k, v, false),
            ser => return side_batch(ser, payload, index, offset, &mut self.view).map(Some),
        };
        let side = if self.keys.is_some() { v } else { k };
        let batch: Vec<Element> = side_batch(side, payload, index, offset, &mut self.view)?
            .into_elements()
            .collect();
        let Some(keys) = self.keys.take() else {
            self.keys = Some(batch);
            return Ok(None);
        };
        let pair_of = |k: Element, v: Element| Element::Pair(Box::new((k, v)));
        let out: Vec<Element> = if pair {
            if keys.len() != batch.len() {
                return Err(LoadError::PairLengths {
                    frame: index,
                    offset,
                    keys: keys.len(),
                    values: batch.len(),
                });
            }
            keys.into_iter()
                .zip(batch)
                .map(|(k, v)| pair_of(k, v))
                .collect()
        } else {
            keys.iter()
                .flat_map(|k| batch.iter().map(move |v| pair_of(k.clone(), v.clone())))
                .collect()
        };
        Ok(Some(Chunk::Elements(out)))
    }
}

/// How much of an in-memory stream [`StreamDecoder::load_chunks`] copies at a
/// time (a longer frame takes as many windows as it needs).
const LOAD_WINDOW: usize = 256 * 1024;

/// What one frame contributes: a flattened batch, or one element as a chunk of
/// one (PySpark's `_load_stream_without_unbatching` wraps it the same way).
/// A pickled batch goes through `view` first, when there is one.
fn side_batch(
    ser: &Serializer,
    payload: Option<Bytes>,
    index: u64,
    offset: u64,
    view: &mut Option<View>,
) -> Result<Chunk, LoadError> {
    let mut batch_of = |inner: &Serializer, payload: Option<Bytes>| -> Result<Chunk, LoadError> {
        let Some(p) = payload else {
            return Err(LoadError::NullBatch {
                frame: index,
                offset,
                serializer: ser.to_string(),
            });
        };
        if let (Serializer::CPickle | Serializer::Pickled(_), Some(view)) = (inner, view.as_mut()) {
            if let Some(flat) = view.flat(&p) {
                return Ok(Chunk::Flat(std::sync::Arc::new(flat)));
            }
        }
        let e = inner.loads(p, index, offset)?;
        Chunk::of_batch(e).map_err(|found| LoadError::Value {
            frame: index,
            offset,
            source: Box::new(ValueError::NotABatch(found)),
        })
    };
    let one = |e: Element| Ok(Chunk::Elements(vec![e]));
    let Some(p) = payload else {
        return match ser {
            Serializer::Batched(..) | Serializer::AutoBatched(..) | Serializer::JvmAutoBatched => {
                batch_of(ser, None)
            }
            _ => one(Element::None),
        };
    };
    match ser {
        Serializer::Batched(inner, _) | Serializer::AutoBatched(inner, _) => {
            batch_of(inner, Some(p))
        }
        Serializer::JvmAutoBatched => batch_of(&Serializer::CPickle, Some(p)),
        Serializer::FlattenedValues(inner, _) => one(inner.loads(p, index, offset)?),
        Serializer::Utf8 { use_unicode: false } => one(Element::Bytes(Box::new(p))),
        Serializer::Utf8 { use_unicode: true } => {
            let s = std::str::from_utf8(&p).map_err(|e| LoadError::Value {
                frame: index,
                offset,
                source: Box::new(ValueError::Utf8(e.valid_up_to())),
            })?;
            let s = crate::pickle::PyStr::from(s);
            one(Element::Str(Box::new(s)))
        }
        s if s.is_framed() => one(s.loads(p, index, offset)?),
        other => Err(LoadError::NotFramed(other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Element reprs, or the error, of `load_chunks`.
    fn windowed(ser: &Serializer, data: &[u8]) -> Result<Vec<String>, String> {
        let chunks = StreamDecoder::new(ser.clone(), SparkVersion::V4_3)
            .load_chunks(data)
            .map_err(|e| e.to_string())?;
        Ok(reprs(chunks))
    }

    /// The same with the whole stream in the buffer at once (as `load_chunks`
    /// read it before it fed windows).
    fn whole(ser: &Serializer, data: &[u8]) -> Result<Vec<String>, String> {
        let mut d = StreamDecoder::new(ser.clone(), SparkVersion::V4_3);
        let mut buf = BytesMut::from(data);
        let mut chunks = Vec::new();
        loop {
            match d.decode_chunk(&mut buf).map_err(|e| e.to_string())? {
                Step::Item(Some(c)) => chunks.push(c),
                Step::Item(None) => break,
                Step::NeedMore => {
                    d.finish(&buf).map_err(|e| e.to_string())?;
                    break;
                }
            }
        }
        Ok(reprs(chunks))
    }

    fn reprs(chunks: Vec<Chunk>) -> Vec<String> {
        chunks
            .into_iter()
            .flat_map(Chunk::into_elements)
            .map(|e| e.repr().expect("repr"))
            .collect()
    }

    #[test]
    fn windowed_loads_equal_whole_loads_at_every_frame_edge() {
        // Raw frames shorter than, as long as and several times a window, a
        // null frame, the end marker and bytes after it.
        let mut data = Vec::new();
        let mut edges = vec![0];
        for (i, len) in [0, 1, LOAD_WINDOW - 3, LOAD_WINDOW, 2 * LOAD_WINDOW + 5, 7]
            .into_iter()
            .enumerate()
        {
            data.extend_from_slice(&(len as i32).to_be_bytes());
            data.extend((0..len).map(|j| (i + j) as u8));
            edges.push(data.len());
        }
        data.extend_from_slice(&SpecialLength::Null.value().to_be_bytes());
        edges.push(data.len());
        data.extend_from_slice(&SpecialLength::EndOfDataSection.value().to_be_bytes());
        edges.push(data.len());
        data.extend_from_slice(b"after the end");
        edges.push(data.len());
        let ser = Serializer::Utf8 { use_unicode: false };
        let full = windowed(&ser, &data).expect("loads");
        assert_eq!(full.len(), 7);
        for &edge in &edges {
            for cut in [edge.saturating_sub(1), edge, edge + 1] {
                let cut = cut.min(data.len());
                assert_eq!(
                    windowed(&ser, &data[..cut]),
                    whole(&ser, &data[..cut]),
                    "cut at {cut}"
                );
            }
        }
    }
}
