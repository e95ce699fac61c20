//! The SocketAuthHelper handshake over real loopback sockets, against PySpark's own
//! client (`local_connect_and_auth`) and a server built from PySpark's helpers the
//! way `pyspark.daemon` authenticates the JVM. Bounded in time: every socket has a
//! timeout and every accept a deadline.

use std::io::{Cursor, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::json;
use sparkwire_framing::auth::blocking::{
    authenticate_client, authenticate_to_server, ClientAuthError,
};
use sparkwire_framing::auth::{AuthError, Rejection, Verdict};
use sparkwire_framing::Secret;
use sparkwire_testkit::{hex, oracle_versions, unhex, with_oracle};

const TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts one connection within `TIMEOUT`, runs our server side, and returns the
/// verdict plus whatever the client sent afterwards.
fn serve_once(secret: Secret) -> (u16, thread::JoinHandle<(Verdict, Vec<u8>)>) {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let handle = thread::spawn(move || {
        let deadline = Instant::now() + TIMEOUT;
        let mut stream = loop {
            match listener.accept() {
                Ok((s, _)) => break s,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    assert!(Instant::now() < deadline, "no client connected");
                    thread::sleep(Duration::from_millis(5));
                }
                Err(e) => panic!("accept: {e}"),
            }
        };
        stream.set_nonblocking(false).unwrap();
        stream.set_read_timeout(Some(TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(TIMEOUT)).unwrap();
        let verdict = authenticate_client(&mut stream, &secret).unwrap();
        let mut after = Vec::new();
        if verdict == Verdict::Accepted {
            stream.read_to_end(&mut after).unwrap();
        }
        (verdict, after)
    });
    (port, handle)
}

#[test]
fn pyspark_client_authenticates_to_our_server() {
    for v in oracle_versions() {
        with_oracle(&v, |oracle| {
            let secret = Secret::generate().unwrap();
            let (port, server) = serve_once(secret.clone());
            let got = oracle
                .call(json!({"op": "auth_client", "port": port, "secret": secret.as_str(), "after": hex(b"after auth")}))
                .unwrap();
            assert_eq!(got["authenticated"], true, "pyspark {v}: {got}");
            let (verdict, after) = server.join().unwrap();
            assert_eq!(verdict, Verdict::Accepted);
            assert_eq!(after, b"after auth");
        });
    }
}

#[test]
fn our_server_rejects_pyspark_client_with_wrong_secret() {
    for v in oracle_versions() {
        with_oracle(&v, |oracle| {
            let secret = Secret::generate().unwrap();
            let wrong = Secret::generate().unwrap();
            for (candidate, expected) in [
                (wrong.as_str().to_owned(), Rejection::Mismatch),
                (
                    "short".to_owned(),
                    Rejection::WrongLength {
                        declared: 5,
                        expected: 64,
                    },
                ),
            ] {
                let (port, server) = serve_once(secret.clone());
                let got = oracle
                    .call(json!({"op": "auth_client", "port": port, "secret": candidate}))
                    .unwrap();
                assert_eq!(got["authenticated"], false, "pyspark {v}");
                let (verdict, _) = server.join().unwrap();
                assert_eq!(verdict, Verdict::Rejected(expected));
            }
        });
    }
}

fn connect(port: u16) -> TcpStream {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let stream = TcpStream::connect_timeout(&addr, TIMEOUT).unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(TIMEOUT)).unwrap();
    stream
}

#[test]
fn our_client_authenticates_to_pyspark_server() {
    for v in oracle_versions() {
        with_oracle(&v, |oracle| {
            let secret = Secret::generate().unwrap();
            let started = oracle
                .call(json!({"op": "auth_server_start", "secret": secret.as_str()}))
                .unwrap();
            let port = started["port"].as_u64().unwrap() as u16;
            let mut stream = connect(port);
            authenticate_to_server(&mut stream, &secret).unwrap();
            stream.write_all(b"task header").unwrap();
            drop(stream);
            let result = oracle
                .call(json!({"op": "auth_server_result", "port": port}))
                .unwrap();
            assert_eq!(result["accepted"], true, "pyspark {v}: {result}");
            assert_eq!(unhex(result["after"].as_str().unwrap()), b"task header");
        });
    }
}

#[test]
fn pyspark_server_rejects_our_client_with_wrong_secret() {
    for v in oracle_versions() {
        with_oracle(&v, |oracle| {
            let started = oracle
                .call(json!({"op": "auth_server_start", "secret": Secret::generate().unwrap().as_str()}))
                .unwrap();
            let port = started["port"].as_u64().unwrap() as u16;
            let mut stream = connect(port);
            let err =
                authenticate_to_server(&mut stream, &Secret::generate().unwrap()).unwrap_err();
            assert!(
                matches!(err, ClientAuthError::Auth(AuthError::Rejected)),
                "pyspark {v}: {err}"
            );
            let result = oracle
                .call(json!({"op": "auth_server_result", "port": port}))
                .unwrap();
            assert_eq!(result["accepted"], false, "pyspark {v}: {result}");
        });
    }
}

/// An in-memory peer that records how much of its input the server consumed.
struct Peer {
    input: Cursor<Vec<u8>>,
    output: Vec<u8>,
}

impl Read for Peer {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.input.read(buf)
    }
}

impl Write for Peer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.output.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn server_reads_no_more_than_the_secret_from_an_unauthenticated_peer() {
    let secret = Secret::new("0123456789abcdef");
    let flood = vec![b'A'; 1 << 16];
    let cases: [(Vec<u8>, u64, Verdict); 3] = [
        // A lying length: rejected after the 4-byte prefix, nothing else read.
        (
            [&[0x7f, 0xff, 0xff, 0xff][..], &flood].concat(),
            4,
            Verdict::Rejected(Rejection::WrongLength {
                declared: i32::MAX,
                expected: 16,
            }),
        ),
        // Right length, wrong secret, more bytes behind it: exactly 4 + 16 read.
        (
            [&[0, 0, 0, 16][..], &flood].concat(),
            20,
            Verdict::Rejected(Rejection::Mismatch),
        ),
        // The right secret followed by task bytes: the task bytes stay unread.
        (
            [&secret.hello()[..], &flood].concat(),
            20,
            Verdict::Accepted,
        ),
    ];
    for (input, consumed, expected) in cases {
        let mut peer = Peer {
            input: Cursor::new(input),
            output: Vec::new(),
        };
        let verdict = authenticate_client(&mut peer, &secret).unwrap();
        assert_eq!(verdict, expected);
        assert_eq!(peer.input.position(), consumed);
        assert_eq!(peer.output, expected.reply());
    }
}
