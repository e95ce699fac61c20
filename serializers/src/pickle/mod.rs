//! Pickle, protocols 0–5: a lossless decoder into a shared-node value graph,
//! encoders that reproduce CPython's C pickler and Pyrolite byte for byte, a
//! `pickletools`-identical disassembler and a Python `repr` view.
//!
//! ```
//! use sparkwire_serializers::pickle::{self, Profile};
//!
//! // pickle.dumps([(1, 'a'), (2, 'b')], 5), as PySpark writes a batch.
//! let data = b"\x80\x05\x95\x15\x00\x00\x00\x00\x00\x00\x00]\x94(K\x01\x8c\x01a\x94\x86\x94K\x02\x8c\x01b\x94\x86\x94e.";
//! let decoded = pickle::decode_slice(data)?;
//! assert_eq!(pickle::repr(&decoded.graph)?, "[(1, 'a'), (2, 'b')]");
//! // Re-encoding reproduces the bytes.
//! assert_eq!(pickle::encode(&decoded.graph, Profile::PYSPARK)?, data);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Decoding never imports, resolves or calls anything: globals, REDUCE, BUILD,
//! NEWOBJ and friends are kept as data. It never recurses on the input's depth,
//! checks every declared length against the bytes present before slicing, and
//! is bounded by [`Limits`].

mod decode;
pub mod dis;
mod encode;
mod error;
pub mod flat;
#[cfg(any(feature = "proptest", feature = "arbitrary", test))]
pub mod generate;
mod limits;
pub mod literal;
pub mod op;
mod pyparse;
mod pystr;
mod pytext;
pub mod reader;
pub mod repr;
pub mod rows;
pub mod serde;
mod serde_direct;
mod tables;
mod value;

#[doc(hidden)]
pub use decode::decode_general;
pub use decode::{decode, decode_slice, decode_with, Decoded};
pub use dis::{dis, DisError};
pub(crate) use encode::RowBatch;
pub use encode::{encode, encode_node, encode_node_into, Field, Profile};
pub use error::{DecodeError, EncodeError};
pub use limits::Limits;
pub use op::Op;
pub use pystr::{CodePoints, PyStr};
pub use repr::{repr, repr_node, ReprError};
pub use value::{
    ArenaFull, Builtin, Construct, Graph, Hint, Int, Items, NodeId, Object, Pairs, PersId, State,
    Value,
};
