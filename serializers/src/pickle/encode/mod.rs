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
