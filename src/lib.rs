//! # sparkwire
//!
//! A Rust toolkit for the wire formats PySpark speaks. This crate is the `sparkwire`
//! command-line tool and re-exports the layers it is built from, lowest first:
//!
//! * [`framing`]: length-prefixed frames, special lengths, the auth handshake and
//!   chunked streams, as a streaming sans-I/O codec.
//! * [`serializers`]: pickle (lossless decoding, CPython- and Pyrolite-exact
//!   encoding, `pickletools`-identical disassembly), marshal, and PySpark's
//!   serializer family; [`serializers::SparkVersion`], the one release type.
//! * [`worker`]: the JVM ⇄ worker protocol of Spark 3.5 to 4.3 (sans-I/O codecs
//!   and the JVM-side session), the blocking host adapter and the `tap` relay.
//! * [`inspect`]: captured traffic (capture directories, pcap/pcapng) read back
//!   into the typed report `sparkwire decode` prints.
//!
//! Each depends only on the ones above it in this list.

pub use sparkwire_framing as framing;
pub use sparkwire_inspect as inspect;
pub use sparkwire_serializers as serializers;
pub use sparkwire_worker as worker;
