//! Resource limits for decoding untrusted pickles.
//!
//! Decoding is linear by construction: every opcode creates at most one node,
//! memo `GET`s share nodes instead of copying them, and every length is checked
//! against the bytes that are really there before anything is sliced. These limits
//! bound what is left: how many nodes, memo entries, stack slots and open MARKs one
//! pickle may hold, and how far consumers that expand the graph into a tree
//! (`repr`, serde, `serde_pickle::Value`) may go. Each is charged in O(1) per opcode
//! (or per emitted node) and checked before the allocation it guards.

/// Limits for decoding and for expanding a decoded graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Nodes in the graph. Default 64 Mi (a few GiB of arena at most); a pickle in
    /// a 256 MiB frame, the framing layer's limit, of realistic shape stays far below.
    pub max_nodes: usize,
    /// Memo entries. Default 16 Mi, far above any real pickle (PySpark batches
    /// memoize a few thousand objects) yet a bounded hash map.
    pub max_memo: usize,
    /// Values on the unpickling stack. Default 16 Mi.
    pub max_stack: usize,
    /// Open MARKs, i.e. the nesting depth of the stream. Default 1 Mi; CPython
    /// itself accepts a million nested MARKs, so that is our bar.
    pub max_depth: usize,
    /// Nodes a consumer may emit when it expands the graph into a tree (repr,
    /// serde, conversions): the "billion laughs" budget. Default 64 Mi. The
    /// repr's text is also bounded, at 32 bytes per node of this budget.
    pub max_expanded: u64,
    /// Bytes of text one repr may write. Default 2 GiB, which is also 32
    /// bytes a node of the default `max_expanded`; the repr stops at
    /// whichever of the two bounds is lower. Why a bound of its own: a
    /// pickle of a few kilobytes can share one long str thousands of times,
    /// within the node budget, and tools that show many values (`sparkwire
    /// decode`) want each cut far below what the node budget allows.
    pub max_repr_text: u64,
    /// Decimal digits of a text integer (INT/LONG) and of an int's `repr`: 4300,
    /// CPython 3.11's `sys.int_info.default_max_str_digits`, which also makes
    /// CPython refuse the same inputs.
    pub max_int_digits: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_nodes: 64 << 20,
            max_memo: 16 << 20,
            max_stack: 16 << 20,
            max_depth: 1 << 20,
            max_expanded: 64 << 20,
            max_repr_text: 2 << 30,
            max_int_digits: 4300,
        }
    }
}

impl Limits {
    /// The default limits with each decoding limit in turn set to `n`: what
    /// the differential tests sweep to check that two readers stop alike.
    #[cfg(test)]
    pub(crate) fn each_set_to(n: usize) -> [Limits; 4] {
        let d = Limits::default();
        [
            Limits { max_nodes: n, ..d },
            Limits { max_memo: n, ..d },
            Limits { max_stack: n, ..d },
            Limits { max_depth: n, ..d },
        ]
    }
}
