//! One element of a loaded stream.

use std::sync::Arc;

use bytes::Bytes;

use crate::marshal::{MNodeId, Marshalled};
use crate::pickle::repr::{bytes_repr, str_repr};
use crate::pickle::{repr_node, Graph, Limits, NodeId, PyStr, ReprError};

/// What `load_stream` yields, one object at a time.
///
/// Elements of one pickled batch share the batch's decoded graph (an `Arc`), so
/// flattening a batch copies nothing and keeps identity between its elements.
#[derive(Debug, Clone)]
pub enum Element {
    /// A null frame (`i32 -5`): Python's `None`.
    None,
    /// A UTF-8 frame.
    Str(PyStr),
    /// A raw frame (`NoOpSerializer`, `UTF8Deserializer(use_unicode=False)`).
    Bytes(Bytes),
    /// A node of a decoded pickle.
    Pickled(Arc<Graph>, NodeId),
    /// A node of a decoded marshal.
    Marshalled(Arc<Marshalled>, MNodeId),
    /// A 2-tuple made by `PairDeserializer` / `CartesianDeserializer`.
    Pair(Box<Element>, Box<Element>),
}

impl Element {
    /// Python's `repr` of the element.
    pub fn repr(&self) -> Result<String, ReprError> {
        Ok(match self {
            Element::None => "None".to_string(),
            Element::Str(s) => str_repr(s),
            Element::Bytes(b) => bytes_repr(b),
            Element::Pickled(g, id) => repr_node(g, *id, &Limits::default())?,
            Element::Marshalled(m, id) => match crate::marshal::to_pickle_node(m, *id) {
                // Sets come back in the order `marshal.loads` rebuilds them.
                Ok(mut g) => {
                    crate::pickle::literal::reorder_sets(&mut g);
                    match g.root() {
                        Some(root) => repr_node(&g, root, &Limits::default())?,
                        None => m.repr_node(*id),
                    }
                }
                Err(_) => m.repr_node(*id),
            },
            Element::Pair(k, v) => format!("({}, {})", k.repr()?, v.repr()?),
        })
    }

    /// The items of a batch (a list, or a tuple as Pyrolite writes batches), as
    /// `chain.from_iterable` would see them.
    pub(crate) fn batch_items(&self) -> Option<Vec<Element>> {
        match self {
            Element::Pickled(g, id) => match g.get(*id) {
                crate::pickle::Value::List(items) | crate::pickle::Value::Tuple(items) => Some(
                    items
                        .iter()
                        .map(|&c| Element::Pickled(g.clone(), c))
                        .collect(),
                ),
                _ => None,
            },
            Element::Marshalled(m, id) => {
                let id = m.resolve(*id)?;
                match &m.get(id)?.value {
                    crate::marshal::MValue::List(items)
                    | crate::marshal::MValue::Tuple(items, _) => Some(
                        items
                            .iter()
                            .map(|&c| Element::Marshalled(m.clone(), c))
                            .collect(),
                    ),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// The Python type name, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Element::None => "NoneType",
            Element::Str(_) => "str",
            Element::Bytes(_) => "bytes",
            Element::Pickled(g, id) => g.get(*id).type_name(),
            Element::Marshalled(..) => "marshalled value",
            Element::Pair(..) => "tuple",
        }
    }
}
