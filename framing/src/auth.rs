//! The socket authentication handshake of Spark's `SocketAuthHelper`, both roles.
//!
//! ```text
//! client → server : i32 len + secret (UTF-8)
//! server → client : i32 2 + "ok"      or   i32 3 + "err", then the server closes
//! ```
//!
//! Used by every local socket between the JVM and Python: worker call-backs (the
//! worker is the client), daemon-forked workers (the JVM is the client), collect and
//! parallelize servers, the broadcast decryption server.
//!
//! We do better than the peers on two points, without changing a byte on the wire:
//! the comparison is constant-time (Spark and PySpark use `==`), and a server never
//! reads more than `4 + expected secret length` bytes from an unauthenticated peer
//! (Spark's `readUtf8` allocates whatever length the peer declares).

use std::fmt;

use bytes::{Buf, BytesMut};
use subtle::ConstantTimeEq;
use thiserror::Error;

use crate::decoder::{peek_i32, Step};

/// What the server sends on success: `str "ok"`.
pub const REPLY_OK: &[u8] = b"\x00\x00\x00\x02ok";
/// What the server sends on failure: `str "err"`, before it closes.
pub const REPLY_ERR: &[u8] = b"\x00\x00\x00\x03err";

/// Bits of entropy in a generated secret: Spark's `spark.authenticate.secretBitLength`
/// default.
pub const SECRET_BITS: usize = 256;

/// A shared secret. Spark generates 256 random bits and hex-encodes them; secrets
/// received from elsewhere (e.g. `PYTHON_WORKER_FACTORY_SECRET`) may be any string.
///
/// `Debug` does not print it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// 256 bits from the operating system's RNG, as 64 lowercase hex digits.
    pub fn generate() -> Result<Secret, SecretError> {
        let mut raw = [0u8; SECRET_BITS / 8];
        getrandom::getrandom(&mut raw).map_err(|e| SecretError(e.to_string()))?;
        let mut hex = String::with_capacity(raw.len() * 2);
        for b in raw {
            hex.push(char::from(HEX[usize::from(b >> 4)]));
            hex.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        Ok(Secret(hex))
    }

    /// A secret given as text.
    pub fn new(secret: impl Into<String>) -> Secret {
        Secret(secret.into())
    }

    /// The secret as sent on the wire.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Compares with `candidate` in time independent of where they differ. (The
    /// length is not secret: it is visible in the length prefix.)
    pub fn matches(&self, candidate: &[u8]) -> bool {
        let ours = self.0.as_bytes();
        ours.len() == candidate.len() && bool::from(ours.ct_eq(candidate))
    }

    /// The bytes a client sends: `i32 len` + the secret.
    pub fn hello(&self) -> Vec<u8> {
        let bytes = self.0.as_bytes();
        let mut out = Vec::with_capacity(4 + bytes.len());
        // A secret longer than 2 GiB cannot be sent; saturating keeps this total and
        // the server simply rejects it.
        out.extend_from_slice(&i32::try_from(bytes.len()).unwrap_or(i32::MAX).to_be_bytes());
        out.extend_from_slice(bytes);
        out
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(<{} bytes, redacted>)", self.0.len())
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// The OS random number generator failed.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("could not read the OS random number generator: {0}")]
pub struct SecretError(String);

/// Why a client's handshake failed.
#[allow(missing_docs)]
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum AuthError {
    /// The server answered `err`.
    #[error("authentication rejected by the server")]
    Rejected,
    /// The server answered something other than `ok` or `err`.
    #[error("unexpected authentication reply: length {len}, {body:?}")]
    UnexpectedReply { len: i32, body: Vec<u8> },
}

/// Why a server rejected a client.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// The declared length differs from the secret's, so the body was never read.
    WrongLength { declared: i32, expected: usize },
    /// Same length, different bytes.
    Mismatch,
}

/// A server's decision; [`Verdict::reply`] gives the bytes to send back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The client knows the secret.
    Accepted,
    /// It does not; send the reply, then close.
    Rejected(Rejection),
}

impl Verdict {
    /// `str "ok"` or `str "err"`.
    pub fn reply(&self) -> &'static [u8] {
        match self {
            Verdict::Accepted => REPLY_OK,
            Verdict::Rejected(_) => REPLY_ERR,
        }
    }
}

/// The server role, sans-I/O: checks the client's `str secret`.
///
/// [`ServerHandshake::wants`] says how many more bytes it may consume; an adapter
/// that reads at most that many never takes more than `4 + secret length` bytes
/// from an unauthenticated peer.
#[derive(Debug)]
pub struct ServerHandshake<'s> {
    secret: &'s Secret,
}

impl<'s> ServerHandshake<'s> {
    /// A server expecting `secret`.
    pub fn new(secret: &'s Secret) -> ServerHandshake<'s> {
        ServerHandshake { secret }
    }

    /// The most bytes the next [`ServerHandshake::decode`] may consume, given that
    /// `buffered` bytes are already in its buffer. 0 once it can decide.
    pub fn wants(&self, buffered: &[u8]) -> usize {
        let expected = self.secret.as_str().len();
        match peek_i32(buffered) {
            None => 4 - buffered.len(),
            Some(len) if usize::try_from(len).ok() == Some(expected) => {
                (4 + expected).saturating_sub(buffered.len())
            }
            Some(_) => 0,
        }
    }

    /// Decides as soon as it can: at once on a wrong length, else once the whole
    /// secret has arrived. Consumes exactly the bytes it examined.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Step<Verdict> {
        let expected = self.secret.as_str().len();
        let Some(declared) = peek_i32(buf) else {
            return Step::NeedMore;
        };
        if usize::try_from(declared).ok() != Some(expected) {
            buf.advance(4);
            return Step::Item(Verdict::Rejected(Rejection::WrongLength {
                declared,
                expected,
            }));
        }
        if buf.len() < 4 + expected {
            return Step::NeedMore;
        }
        let hello = buf.split_to(4 + expected);
        Step::Item(if self.secret.matches(&hello[4..]) {
            Verdict::Accepted
        } else {
            Verdict::Rejected(Rejection::Mismatch)
        })
    }
}

/// The client role, sans-I/O: send [`Secret::hello`], then feed the reply here.
#[derive(Debug, Default)]
pub struct ClientHandshake;

impl ClientHandshake {
    /// A client waiting for the server's reply.
    pub fn new() -> ClientHandshake {
        ClientHandshake
    }

    /// The most bytes the next [`ClientHandshake::decode`] may consume: the reply is
    /// at most 7 bytes, and a reply length other than 2 or 3 is rejected unread.
    pub fn wants(&self, buffered: &[u8]) -> usize {
        match peek_i32(buffered) {
            None => 4 - buffered.len(),
            Some(len @ (2 | 3)) => (4 + len as usize).saturating_sub(buffered.len()),
            Some(_) => 0,
        }
    }

    /// `Ok(Item(()))` on `ok`; [`AuthError::Rejected`] on `err`.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Step<()>, AuthError> {
        let Some(len) = peek_i32(buf) else {
            return Ok(Step::NeedMore);
        };
        if !(2..=3).contains(&len) {
            return Err(AuthError::UnexpectedReply {
                len,
                body: Vec::new(),
            });
        }
        let total = 4 + len as usize;
        if buf.len() < total {
            return Ok(Step::NeedMore);
        }
        let reply = buf.split_to(total);
        match &reply[..] {
            REPLY_OK => Ok(Step::Item(())),
            REPLY_ERR => Err(AuthError::Rejected),
            other => Err(AuthError::UnexpectedReply {
                len,
                body: other[4..].to_vec(),
            }),
        }
    }
}

/// Blocking adapters over any `Read + Write` (a `TcpStream`, a `UnixStream`). Set a
/// read timeout on the socket first: Spark uses 10 s (JVM) and
/// `SPARK_AUTH_SOCKET_TIMEOUT`, default 15 s (Python).
pub mod blocking {
    use std::io::{self, Read, Write};

    use bytes::BytesMut;
    use thiserror::Error;

    use super::{AuthError, ClientHandshake, Secret, ServerHandshake, Verdict};
    use crate::decoder::Step;

    /// A client handshake that failed.
    #[derive(Debug, Error)]
    pub enum ClientAuthError {
        /// The socket failed or closed early.
        #[error("authentication I/O failed: {0}")]
        Io(#[from] io::Error),
        /// The server refused or answered nonsense.
        #[error(transparent)]
        Auth(#[from] AuthError),
    }

    /// Authenticates to a server as a client (what `local_connect_and_auth` does).
    pub fn authenticate_to_server<S: Read + Write>(
        stream: &mut S,
        secret: &Secret,
    ) -> Result<(), ClientAuthError> {
        stream.write_all(&secret.hello())?;
        stream.flush()?;
        let mut client = ClientHandshake::new();
        let mut buf = BytesMut::new();
        loop {
            if let Step::Item(()) = client.decode(&mut buf)? {
                return Ok(());
            }
            let want = client.wants(&buf);
            read_at_most(stream, &mut buf, want)?;
        }
    }

    /// Checks a client's secret and sends the reply. On [`Verdict::Rejected`] the
    /// caller should close the connection, as Spark does.
    pub fn authenticate_client<S: Read + Write>(
        stream: &mut S,
        secret: &Secret,
    ) -> io::Result<Verdict> {
        let mut server = ServerHandshake::new(secret);
        let mut buf = BytesMut::new();
        let verdict = loop {
            if let Step::Item(v) = server.decode(&mut buf) {
                break v;
            }
            let want = server.wants(&buf);
            read_at_most(stream, &mut buf, want)?;
        };
        stream.write_all(verdict.reply())?;
        stream.flush()?;
        Ok(verdict)
    }

    /// Reads between 1 and `n` bytes (n ≥ 1) into `buf`; EOF is an error here.
    fn read_at_most<S: Read>(stream: &mut S, buf: &mut BytesMut, n: usize) -> io::Result<()> {
        let mut chunk = [0u8; 256];
        let n = n.clamp(1, chunk.len());
        let got = stream.read(&mut chunk[..n])?;
        if got == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "peer closed during authentication",
            ));
        }
        buf.extend_from_slice(&chunk[..got]);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_are_256_bit_hex() {
        let a = Secret::generate().unwrap();
        let b = Secret::generate().unwrap();
        assert_eq!(a.as_str().len(), 64);
        assert!(a.as_str().bytes().all(|c| HEX.contains(&c)));
        assert_ne!(a, b);
        assert!(!format!("{a:?}").contains(a.as_str()));
    }

    #[test]
    fn hello_is_a_length_prefixed_string() {
        assert_eq!(Secret::new("ab").hello(), b"\0\0\0\x02ab");
    }

    #[test]
    fn server_accepts_the_right_secret_byte_by_byte() {
        let secret = Secret::new("s3cr3t");
        let hello = secret.hello();
        let mut server = ServerHandshake::new(&secret);
        let mut buf = BytesMut::new();
        for (i, b) in hello.iter().enumerate() {
            assert!(server.wants(&buf) >= 1, "at byte {i}");
            buf.extend_from_slice(&[*b]);
            let step = server.decode(&mut buf);
            if i + 1 < hello.len() {
                assert_eq!(step, Step::NeedMore);
            } else {
                assert_eq!(step, Step::Item(Verdict::Accepted));
            }
        }
        assert!(buf.is_empty());
    }

    #[test]
    fn server_rejects_without_reading_a_lying_length() {
        let secret = Secret::new("s3cr3t");
        let mut server = ServerHandshake::new(&secret);
        let mut buf = BytesMut::from(&[0x7f, 0xff, 0xff, 0xff][..]);
        assert_eq!(server.wants(&buf), 0);
        assert_eq!(
            server.decode(&mut buf),
            Step::Item(Verdict::Rejected(Rejection::WrongLength {
                declared: i32::MAX,
                expected: 6
            }))
        );
        let mut buf = BytesMut::from(&b"\0\0\0\x06s3cr3T"[..]);
        assert_eq!(
            server.decode(&mut buf),
            Step::Item(Verdict::Rejected(Rejection::Mismatch))
        );
        let mut buf = BytesMut::from(&b"\xff\xff\xff\xff"[..]);
        assert!(matches!(
            server.decode(&mut buf),
            Step::Item(Verdict::Rejected(Rejection::WrongLength {
                declared: -1,
                ..
            }))
        ));
    }

    #[test]
    fn server_never_wants_more_than_the_secret() {
        let secret = Secret::new("abc");
        let server = ServerHandshake::new(&secret);
        assert_eq!(server.wants(&[]), 4);
        assert_eq!(server.wants(&[0, 0]), 2);
        assert_eq!(server.wants(&[0, 0, 0, 3]), 3);
        assert_eq!(server.wants(&[0, 0, 0, 3, b'a']), 2);
        assert_eq!(server.wants(&[0, 0, 0, 4]), 0);
    }

    #[test]
    fn client_reads_replies() {
        let mut c = ClientHandshake::new();
        assert_eq!(c.decode(&mut BytesMut::from(REPLY_OK)), Ok(Step::Item(())));
        assert_eq!(
            c.decode(&mut BytesMut::from(REPLY_ERR)),
            Err(AuthError::Rejected)
        );
        assert_eq!(
            c.decode(&mut BytesMut::from(&b"\0\0\0\x02no"[..])),
            Err(AuthError::UnexpectedReply {
                len: 2,
                body: b"no".to_vec()
            })
        );
        assert_eq!(c.wants(&[0, 0, 0, 100]), 0);
        assert!(matches!(
            c.decode(&mut BytesMut::from(&[0, 0, 0, 100][..])),
            Err(AuthError::UnexpectedReply { len: 100, .. })
        ));
    }
}
