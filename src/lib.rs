//! # sparkwire
//!
//! A Rust toolkit for the wire formats PySpark speaks. This crate is the `sparkwire`
//! command-line tool and re-exports the layers it is built from:
//!
//! * [`framing`]: length-prefixed frames, special lengths, the auth handshake and
//!   chunked streams, as a streaming sans-I/O codec.
//!
//! * [`serializers`]: pickle (lossless decoding, CPython- and Pyrolite-exact
//!   encoding, `pickletools`-identical disassembly).
//!
//! Later layers (worker protocol, gateway) are added as they land.

pub use sparkwire_framing as framing;
pub use sparkwire_serializers as serializers;
