//! Python's `marshal` format, version 4, as `MarshalSerializer` uses it.
//!
//! Decoding is lossless: every type code, the `FLAG_REF` bit of every object and
//! every back-reference is kept, so [`encode`] of a decoded value gives back the
//! same bytes. That matters because marshal's flags are not a function of the
//! value: CPython (`w_ref` in `marshal.c`, version ≥ 3) sets `FLAG_REF` on an
//! object only when its **reference count is above one** at dump time, and writes
//! `r index` for a second occurrence of a flagged object. So `marshal.dumps(x)`
//! depends on who else holds `x`'s parts — a cached small int or a one-character
//! string is flagged, a freshly computed `1000` is not, and the same string twice
//! is written once plus a reference.
//!
//! [`from_pickle`] therefore writes the *canonical* form CPython gives a value
//! freshly built and held only by its container (what `MarshalSerializer` sees for
//! a batch it just assembled): the top object flagged (the caller holds it), the
//! cached singletons flagged (ints −5…256, `''`, one-character latin-1 strings,
//! `b''`, one-byte bytes, `()`), every object that occurs twice flagged on its first
//! occurrence and referenced afterwards, everything else unflagged. Where a
//! user's values have other holders, CPython's bytes differ in flag bits only;
//! both forms decode to the same value.
//!
//! Decoding never executes anything: code objects (`c`) are refused. Nesting is
//! limited to 2000 levels, CPython's `MAX_MARSHAL_STACK_DEPTH`, and read with an
//! explicit stack; declared counts are never used to reserve memory.

mod decode;
mod encode;
mod error;
mod model;
mod pickle_bridge;

pub use decode::decode;
pub use encode::encode;
pub use error::MarshalError;
pub use model::{IntCode, MNode, MNodeId, MValue, Marshalled, StrCode, MAX_DEPTH};
pub use pickle_bridge::{from_pickle, from_pickle_held, to_pickle, to_pickle_node};
