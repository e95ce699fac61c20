//! What each reassembled loopback TCP connection of a Spark application is:
//! a worker connection (decoded completely), a Py4J gateway or callback
//! connection, a driver data socket (collect, parallelize, broadcast), the
//! accumulator update connection, or something else.
//!
//! Recognition goes by the first bytes each side sends (spec §2.2, §8; the Py4J
//! protocol in `gateway.md`), never by port numbers, which are ephemeral.

use bytes::BytesMut;
use sparkwire_framing::auth::REPLY_OK;
use sparkwire_framing::{i32_at, Frame, FrameDecoder, Step};

use crate::capture::{self, Connection, StopKind};
use crate::pcap::TcpConnection;
use crate::py4j;
pub use crate::py4j::Py4jSummary;
use sparkwire_worker::protocol::SparkVersion;

/// A driver data socket after its auth exchange (`SocketAuthServer`, spec §8).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DataSocket {
    /// Frames the server (JVM) sent: collect's batches.
    pub server_frames: Vec<Frame>,
    /// Bytes after the last whole server frame.
    pub server_rest: usize,
    /// Bytes the client sent after authenticating: parallelize or broadcast
    /// chunks, or toLocalIterator requests.
    pub client_bytes: usize,
}

/// The JVM's accumulator updates to the driver's update server (spec §8.3).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccumulatorUpdates {
    /// Each batch's pickled `(id, value)` updates.
    pub batches: Vec<Vec<bytes::Bytes>>,
    /// Acknowledgements (`0x01`) the server sent.
    pub acks: usize,
}

/// What a connection is.
#[derive(Debug, Clone)]
pub enum Kind {
    /// A JVM ⇄ Python worker connection, decoded. `jvm_is_client`: the JVM
    /// opened it (daemon workers; a simple worker connects to the JVM), so the
    /// client's bytes are the JVM → worker direction.
    Worker {
        /// The decoded connection.
        conn: Box<Connection>,
        /// Which side the JVM is.
        jvm_is_client: bool,
    },
    /// Py4J: one side sends commands, the other answers (decoded with the
    /// gateway's codec).
    Py4j(Box<Py4jSummary>),
    /// A driver data socket.
    Data(DataSocket),
    /// Accumulator updates.
    Accumulators(AccumulatorUpdates),
    /// A worker connection the forced layout does not read, though others do.
    OtherLayout {
        /// The layouts that read it.
        fits: Vec<SparkVersion>,
        /// The layout asked for.
        forced: SparkVersion,
        /// Where the forced layout fails.
        why: String,
    },
    /// Not recognised (a worker connection that does not decode lands here too,
    /// with the reason).
    Other(Option<String>),
}

/// A classified connection.
#[derive(Debug, Clone)]
pub struct Classified {
    /// The reassembled connection.
    pub tcp: TcpConnection,
    /// What it is.
    pub kind: Kind,
}

impl Classified {
    /// A worker connection's JVM → worker and worker → JVM bytes.
    pub fn worker_streams(&self) -> Option<(&[u8], &[u8])> {
        let (c, s) = (&self.tcp.client_data[..], &self.tcp.server_data[..]);
        match self.kind {
            Kind::Worker {
                jvm_is_client: true,
                ..
            } => Some((c, s)),
            Kind::Worker {
                jvm_is_client: false,
                ..
            } => Some((s, c)),
            _ => None,
        }
    }
}

/// A Py4J connection by its first bytes: the client's first line is one
/// letter (a command name: `A` for the auth every connection starts with) and
/// the server answers with a reply line (`!`). Read with the gateway's codec.
fn py4j(client: &[u8], server: &[u8]) -> Option<Py4jSummary> {
    let first = client.get(..2)?;
    if !(first[0].is_ascii_alphabetic() && first[1] == b'\n') || server.first() != Some(&b'!') {
        return None;
    }
    Some(py4j::summarize(client, server))
}

/// `i32 n` + `n` printable ASCII bytes at the start: a SocketAuthHelper secret.
fn secret_len(b: &[u8]) -> Option<usize> {
    let n = usize::try_from(i32_at(b, 0)?).ok()?;
    let s = b.get(4..4 + n)?;
    (n > 0 && s.iter().all(|c| c.is_ascii_graphic())).then_some(4 + n)
}

fn data_socket(client: &[u8], server: &[u8]) -> Option<DataSocket> {
    let auth = secret_len(client)?;
    let rest = server.strip_prefix(REPLY_OK)?;
    let mut dec = FrameDecoder::new();
    let mut buf = BytesMut::from(rest);
    let mut frames = Vec::new();
    while let Ok(Step::Item(f)) = dec.decode(&mut buf) {
        frames.push(f);
    }
    Some(DataSocket {
        server_frames: frames,
        server_rest: buf.len(),
        client_bytes: client.len() - auth,
    })
}

fn accumulators(client: &[u8], server: &[u8]) -> Option<AccumulatorUpdates> {
    if server.is_empty() || server.iter().any(|&b| b != 1) {
        return None;
    }
    let token = client
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric())
        .count();
    if token == 0 {
        return None;
    }
    let mut at = token;
    let mut batches = Vec::new();
    let int = |at: usize| -> Option<usize> { usize::try_from(i32_at(client, at)?).ok() };
    while at < client.len() {
        let count = int(at)?;
        at += 4;
        let mut batch = Vec::new();
        for _ in 0..count {
            let n = int(at)?;
            let b = client.get(at + 4..at + 4 + n)?;
            batch.push(bytes::Bytes::copy_from_slice(b));
            at += 4 + n;
        }
        batches.push(batch);
    }
    (batches.len() == server.len()).then_some(AccumulatorUpdates {
        batches,
        acks: server.len(),
    })
}

/// A worker connection, read in either orientation (server → client first):
/// one that decodes to its last byte (or to a cut between items), else the
/// one of the two that read at least one task header and got further — a
/// damaged worker connection is still a worker connection, reported up to its
/// damage. `Err`: why neither reads as one.
fn worker(c: &[u8], s: &[u8], version: Option<SparkVersion>) -> Result<Kind, String> {
    let clean = |w: &Connection| w.stops.iter().all(|s| s.kind == StopKind::Ended);
    let reach = |w: &Connection| w.decoded.0 + w.decoded.1;
    let mut best: Option<(Connection, bool)> = None;
    let mut why = None;
    for (to, from, jvm_is_client) in [(s, c, false), (c, s, true)] {
        let w = match capture::decode_best(to, from, version) {
            Ok(w) => w,
            Err(stop) => {
                why.get_or_insert(stop.to_string());
                continue;
            }
        };
        if clean(&w) {
            return Ok(Kind::Worker {
                conn: Box::new(w),
                jvm_is_client,
            });
        }
        why.get_or_insert(w.stops.first().map(ToString::to_string).unwrap_or_default());
        let read_a_task = !w.tasks.is_empty();
        if read_a_task && best.as_ref().is_none_or(|(b, _)| reach(b) < reach(&w)) {
            best = Some((w, jvm_is_client));
        }
    }
    match best {
        Some((w, jvm_is_client)) => Ok(Kind::Worker {
            conn: Box::new(w),
            jvm_is_client,
        }),
        None => Err(why.unwrap_or_default()),
    }
}

/// Classifies one connection; worker connections are decoded with `version`
/// (or every version when `None`).
pub fn classify(tcp: TcpConnection, version: Option<SparkVersion>) -> Classified {
    let (c, s) = (&tcp.client_data, &tcp.server_data);
    let kind = if c.is_empty() && s.is_empty() {
        Kind::Other(Some("no data".into()))
    } else if let Some(p) = py4j(c, s) {
        Kind::Py4j(Box::new(p))
    } else if let Some(a) = accumulators(c, s) {
        Kind::Accumulators(a)
    } else {
        // A simple worker connects to the JVM; the JVM connects to a daemon.
        // Without the handshake the client may be guessed wrong, so both
        // orientations are tried.
        worker(c, s, version).unwrap_or_else(|why| {
            // A forced layout that does not read a worker connection another
            // layout reads: say so, rather than guess it is something else.
            let elsewhere = version.zip(match worker(c, s, None) {
                Ok(Kind::Worker { conn, .. }) => Some(conn.fits),
                _ => None,
            });
            match (elsewhere, data_socket(c, s)) {
                (Some((v, fits)), _) => Kind::OtherLayout {
                    fits,
                    forced: v,
                    why,
                },
                (None, Some(d)) => Kind::Data(d),
                (None, None) => Kind::Other(
                    (secret_len(c).is_some() || secret_len(s).is_some()).then(|| match version {
                        Some(v) => format!("not a worker connection in the {v} layout: {why}"),
                        None => format!("not a worker connection: {why}"),
                    }),
                ),
            }
        })
    };
    Classified { tcp, kind }
}
