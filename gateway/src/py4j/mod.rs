//! The Py4J protocol as py4j 0.10.9.x speaks it (the versions every pinned
//! PySpark ships), as a sans-I/O codec.
//!
//! * [`Value`]: a typed one-line "command part" (`i42`, `sabc`, `ro12`, …).
//! * [`Command`]: every request form, both directions ([`Direction`]).
//! * [`Reply`]: the one-line answers (`!yv`, `!xro34`, …).
//! * [`Py4jDecoder`]: bytes in any chunking → [`Message`]s, with [`Limits`]
//!   and [`DecodeError`]s that name the message, line and byte offset.
//!
//! Every type encodes to the exact bytes py4j writes, and everything the
//! decoder accepts re-encodes to the bytes it came from.

pub mod base64;
mod command;
mod decoder;
mod error;
mod limits;
mod reply;
pub mod server;
mod value;

pub use command::{Command, Direction};
pub use decoder::{Message, Py4jDecoder};
pub use error::DecodeError;
pub use limits::Limits;
pub use reply::{Reply, ReplyError};
pub use value::{escape, unescape, Decimal, Double, Spelling, Value, ValueError};
