//! One element of a loaded stream.

use std::sync::Arc;

use bytes::Bytes;

use crate::marshal::{MNodeId, Marshalled};
use crate::pickle::flat::FlatBatch;
use crate::pickle::repr::{bytes_repr, str_repr};
use crate::pickle::{repr_node, Graph, Limits, NodeId, PyStr, ReprError};

/// What `load_stream` yields, one object at a time.
///
/// Elements of one pickled batch share the batch's decoded graph (an `Arc`), so
/// flattening a batch copies nothing and keeps identity between its elements.
///
/// Why the text, bytes and pair variants are boxed: the element is then 16
/// bytes instead of 40, and a stream of a million pickled records collected
/// into a `Vec` touches 16 MB fewer fresh pages (page faults were a third of
/// the AutoBatched bench's element path). Those variants are one per frame
/// anyway, where the box is small next to the frame.
#[derive(Debug, Clone)]
pub enum Element {
    /// A null frame (`i32 -5`): Python's `None`.
    None,
    /// A UTF-8 frame.
    Str(Box<PyStr>),
    /// A raw frame (`NoOpSerializer`, `UTF8Deserializer(use_unicode=False)`).
    Bytes(Box<Bytes>),
    /// A node of a decoded pickle.
    Pickled(Arc<Graph>, NodeId),
    /// A record of a pickled batch of flat records, by index (see
    /// [`StreamDecoder`](super::StreamDecoder) for when batches are kept so).
    Flat(Arc<FlatBatch>, u32),
    /// A node of a decoded marshal.
    Marshalled(Arc<Marshalled>, MNodeId),
    /// A 2-tuple made by `PairDeserializer` / `CartesianDeserializer`.
    Pair(Box<(Element, Element)>),
}

impl Element {
    /// Python's `repr` of the element, under the default [`Limits`].
    pub fn repr(&self) -> Result<String, ReprError> {
        self.repr_with(&Limits::default())
    }

    /// Python's `repr` of the element, a pickled or marshalled one expanded
    /// no further than `limits` allow (a flat record stops where its graph
    /// would: [`crate::pickle::flat::FlatRecord::repr_within`]).
    pub fn repr_with(&self, limits: &Limits) -> Result<String, ReprError> {
        Ok(match self {
            Element::None => "None".to_string(),
            Element::Str(s) => str_repr(s),
            Element::Bytes(b) => bytes_repr(b),
            Element::Pickled(g, id) => repr_node(g, *id, limits)?,
            Element::Flat(b, i) => match b.record(*i as usize) {
                Some(r) => r.repr_within(limits)?,
                None => return Err(ReprError::Dangling(*i)),
            },
            Element::Marshalled(m, id) => match crate::marshal::to_pickle_node(m, *id) {
                // Sets come back in the order `marshal.loads` rebuilds them.
                Ok(mut g) => {
                    crate::pickle::literal::reorder_sets(&mut g);
                    match g.root() {
                        Some(root) => repr_node(&g, root, limits)?,
                        None => m.repr_node(*id),
                    }
                }
                Err(_) => m.repr_node(*id),
            },
            Element::Pair(kv) => {
                format!("({}, {})", kv.0.repr_with(limits)?, kv.1.repr_with(limits)?)
            }
        })
    }

    /// The Python type name, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Element::None => "NoneType",
            Element::Str(_) => "str",
            Element::Bytes(_) => "bytes",
            Element::Pickled(g, id) => g.get(*id).type_name(),
            Element::Flat(b, i) => b
                .record(*i as usize)
                .map_or("missing record", |r| r.type_name()),
            Element::Marshalled(..) => "marshalled value",
            Element::Pair(..) => "tuple",
        }
    }
}

/// The elements one frame (or one Pair/Cartesian frame pair) contributed.
#[derive(Debug, Clone)]
pub enum Chunk {
    /// The items of a pickled batch, as nodes of its decoded graph.
    Nodes {
        /// The batch's graph, shared by its items.
        graph: Arc<Graph>,
        /// The items, in order.
        items: Vec<NodeId>,
    },
    /// The records of a pickled batch of flat records.
    Flat(Arc<FlatBatch>),
    /// The items of a marshalled batch.
    Marshalled {
        /// The batch.
        value: Arc<Marshalled>,
        /// The items, in order.
        items: Vec<MNodeId>,
    },
    /// Anything else: text, bytes, single objects, pairs, None.
    Elements(Vec<Element>),
}

impl Chunk {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            Chunk::Nodes { items, .. } => items.len(),
            Chunk::Flat(b) => b.len(),
            Chunk::Marshalled { items, .. } => items.len(),
            Chunk::Elements(e) => e.len(),
        }
    }

    /// Whether it holds no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The elements one by one.
    pub fn into_elements(self) -> Box<dyn Iterator<Item = Element>> {
        match self {
            Chunk::Nodes { graph, items } => Box::new(
                items
                    .into_iter()
                    .map(move |id| Element::Pickled(graph.clone(), id)),
            ),
            Chunk::Flat(b) => {
                Box::new((0..b.len() as u32).map(move |i| Element::Flat(b.clone(), i)))
            }
            Chunk::Marshalled { value, items } => Box::new(
                items
                    .into_iter()
                    .map(move |id| Element::Marshalled(value.clone(), id)),
            ),
            Chunk::Elements(e) => Box::new(e.into_iter()),
        }
    }

    /// Appends the elements to `out`, without the boxed iterator of
    /// [`Chunk::into_elements`] (one indirect call per element).
    pub(crate) fn append_to(self, out: &mut Vec<Element>) {
        match self {
            Chunk::Nodes { graph, items } => {
                out.extend(items.iter().map(|&id| Element::Pickled(graph.clone(), id)))
            }
            Chunk::Flat(b) => out.extend((0..b.len() as u32).map(|i| Element::Flat(b.clone(), i))),
            Chunk::Marshalled { value, items } => out.extend(
                items
                    .iter()
                    .map(|&id| Element::Marshalled(value.clone(), id)),
            ),
            Chunk::Elements(e) => out.extend(e),
        }
    }

    /// A batch element's items as a chunk; the type name when it is not a list or tuple.
    pub(crate) fn of_batch(e: Element) -> Result<Chunk, &'static str> {
        match e {
            Element::Pickled(graph, id) => match graph.get(id) {
                crate::pickle::Value::List(items) | crate::pickle::Value::Tuple(items) => {
                    let items = graph.items(*items).to_vec();
                    Ok(Chunk::Nodes { graph, items })
                }
                other => Err(other.type_name()),
            },
            Element::Marshalled(value, id) => {
                let items = value.resolve(id).and_then(|r| match &value.get(r)?.value {
                    crate::marshal::MValue::List(items)
                    | crate::marshal::MValue::Tuple(items, _) => Some(items.clone()),
                    _ => None,
                });
                match items {
                    Some(items) => Ok(Chunk::Marshalled { value, items }),
                    None => Err("marshalled non-sequence"),
                }
            }
            other => Err(other.type_name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A collected stream is a `Vec` of these: the size is the memory per record.
    #[test]
    fn an_element_is_two_words() {
        assert_eq!(std::mem::size_of::<Element>(), 16);
    }
}
