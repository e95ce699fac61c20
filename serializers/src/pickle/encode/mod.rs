//! Encoders: the same value graph written the way CPython's C pickler writes it
//! (protocols 2–5) or the way Pyrolite, Spark's JVM pickler, writes it.

mod cpython;
mod out;
mod pyrolite;

use super::error::EncodeError;
use super::value::{Graph, NodeId};

/// Whose bytes to reproduce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// CPython's C pickler (`pickle.dumps(obj, protocol)`), protocols 2–5.
    /// PySpark's Python side uses protocol 5.
    CPython {
        /// 2, 3, 4 or 5.
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

/// Maximum nesting of pending saves before an encoder gives up: deep enough for
/// anything a decoder accepts with default limits, and the guard against a
/// built graph in which a tuple contains itself (which CPython could not pickle
/// either).
pub(crate) const MAX_NESTING: usize = 2_000_000;

/// Minimal little-endian two's complement bytes, as CPython's `encode_long`
/// and Java's `BigInteger.toByteArray` (reversed) produce them.
pub(crate) fn long_bytes_i64(v: i64) -> Vec<u8> {
    let mut b = v.to_le_bytes().to_vec();
    while b.len() > 1 {
        let last = b[b.len() - 1];
        let prev_high = b[b.len() - 2] & 0x80 != 0;
        if (last == 0 && !prev_high) || (last == 0xff && prev_high) {
            b.pop();
        } else {
            break;
        }
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_bytes_are_minimal() {
        assert_eq!(long_bytes_i64(1 << 31), vec![0, 0, 0, 0x80, 0]);
        assert_eq!(
            long_bytes_i64(-(1 << 31) - 1),
            vec![0xff, 0xff, 0xff, 0x7f, 0xff]
        );
        assert_eq!(long_bytes_i64(i64::MIN), vec![0, 0, 0, 0, 0, 0, 0, 0x80]);
        assert_eq!(long_bytes_i64(-128), vec![0x80]);
        assert_eq!(long_bytes_i64(-129), vec![0x7f, 0xff]);
    }
}
