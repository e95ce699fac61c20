//! Encoders: the same value graph written the way CPython's C pickler writes it
//! (protocols 0–5) or the way Pyrolite, Spark's JVM pickler, writes it.

mod atoms;
mod cpython;
mod long;
mod out;
mod pyrolite;
mod rows;
mod text0;

pub use rows::Field;
pub(crate) use rows::RowBatch;

use super::error::EncodeError;
use super::value::{Graph, NodeId};

/// Whose bytes to reproduce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// CPython's C pickler (`pickle.dumps(obj, protocol)`), protocols 0–5.
    /// PySpark's Python side uses protocol 5.
    CPython {
        /// 0 to 5.
        protocol: u8,
    },
    /// `net.razorvine.pickle.Pickler(useMemo=true, valueCompare=false)`, protocol 2:
    /// what Spark's JVM sends to Python workers.
    Pyrolite,
}

impl Profile {
    /// CPython protocol 5, what PySpark writes.
    pub const PYSPARK: Profile = Profile::CPython { protocol: 5 };
}

/// Pickles the graph's root.
pub fn encode(graph: &Graph, profile: Profile) -> Result<Vec<u8>, EncodeError> {
    let root = graph.root().ok_or(EncodeError::NoRoot)?;
    encode_node(graph, root, profile)
}

/// Pickles one node of a graph.
pub fn encode_node(graph: &Graph, root: NodeId, profile: Profile) -> Result<Vec<u8>, EncodeError> {
    graph
        .try_get(root)
        .ok_or(EncodeError::DanglingNode(root.0))?;
    match profile {
        Profile::CPython { protocol } => cpython::encode(graph, root, protocol),
        Profile::Pyrolite => pyrolite::encode(graph, root),
    }
}

/// [`encode_node`], appended to `out` (left as it was on an error): a stream
/// writes each pickle straight after its length prefix, with no copy.
pub fn encode_node_into(
    graph: &Graph,
    root: NodeId,
    profile: Profile,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    graph
        .try_get(root)
        .ok_or(EncodeError::DanglingNode(root.0))?;
    match profile {
        Profile::CPython { protocol } => cpython::encode_into(graph, root, protocol, out),
        Profile::Pyrolite => {
            out.extend_from_slice(&pyrolite::encode(graph, root)?);
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pickle::{Int, PyStr, Value};

    /// Appending is `encode_node` after what `out` held, in every profile, and
    /// a refusal part-way (after the list's opening bytes) leaves `out` as it
    /// was.
    #[test]
    fn encode_node_into_appends_or_leaves_out_alone() {
        let mut g = Graph::new();
        let one = g.add(Value::Int(Int::Small(1)));
        let s = g.add(Value::Str(PyStr::from("s")));
        let good = g.add_list(&[one, s, one]);
        let module = g.add(Value::Int(Int::Small(7)));
        let global = g.add(Value::Global { module, name: s });
        let bad = g.add_list(&[one, s, global]);
        for profile in (0..=5)
            .map(|protocol| Profile::CPython { protocol })
            .chain([Profile::Pyrolite])
        {
            let mut out = b"held".to_vec();
            encode_node_into(&g, good, profile, &mut out).unwrap();
            let alone = encode_node(&g, good, profile).unwrap();
            assert_eq!(out, [&b"held"[..], &alone].concat(), "{profile:?}");
            let mut out = b"held".to_vec();
            assert!(
                encode_node_into(&g, bad, profile, &mut out).is_err(),
                "{profile:?}"
            );
            assert_eq!(out, b"held", "{profile:?}");
        }
    }
}
