//! The server over real loopback sockets, driven byte by byte: what it answers
//! before and after authentication, how connections end, cancel and shutdown,
//! the connection bound, the auth timeout, concurrency, and callbacks on the
//! pinned connection (a scripted client plays Python).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Shutdown, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sparkwire_gateway::jvm::Jvm;
use sparkwire_gateway::py4j::server::{Mode, Server, ServerConfig};

const TOKEN: &str = "5eb1c0ffee5eb1c0ffee5eb1c0ffee5eb1c0ffee5eb1c0ffee5eb1c0ffee1234";

fn server(config: ServerConfig) -> Server {
    Server::start(config, Arc::new(Jvm::new())).expect("start")
}

struct Client {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Client {
    fn connect(s: &Server) -> Client {
        let stream = TcpStream::connect(s.local_addr()).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        let reader = BufReader::new(stream.try_clone().expect("clone"));
        Client { stream, reader }
    }

    fn authed(s: &Server) -> Client {
        let mut c = Client::connect(s);
        assert_eq!(c.ask(&format!("A\n{TOKEN}\n")), "!yv");
        c
    }

    fn send(&mut self, text: &str) {
        self.stream.write_all(text.as_bytes()).expect("write");
    }

    fn line(&mut self) -> String {
        let mut l = String::new();
        self.reader.read_line(&mut l).expect("read");
        l.trim_end_matches('\n').to_owned()
    }

    fn ask(&mut self, text: &str) -> String {
        self.send(text);
        self.line()
    }

    /// Everything until the server closes.
    fn rest(&mut self) -> String {
        let mut s = String::new();
        let _ = self.reader.read_to_string(&mut s);
        s
    }
}

#[test]
fn refuses_non_loopback_addresses_and_empty_tokens() {
    let mut c = ServerConfig::new(TOKEN);
    c.address = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
    assert!(Server::start(c, Arc::new(Jvm::new())).is_err());
    assert!(Server::start(ServerConfig::new(""), Arc::new(Jvm::new())).is_err());
    assert!(Server::start(ServerConfig::new("a\nb"), Arc::new(Jvm::new())).is_err());
    let mut c = ServerConfig::new(TOKEN);
    c.callback_address = "10.1.2.3:25334".parse().expect("addr");
    assert!(Server::start(c, Arc::new(Jvm::new())).is_err());
}

#[test]
fn a_wrong_token_or_a_missing_auth_line_is_refused_and_closed_as_the_jvm_does() {
    let s = server(ServerConfig::new(TOKEN));
    let mut c = Client::connect(&s);
    c.send("A\nnot-the-token\n");
    assert_eq!(
        c.rest(),
        "!xsAuthentication error: bad auth token received.\n"
    );
    let mut c = Client::connect(&s);
    c.send("c\nz:java.lang.Math\nmax\ni1\ni2\ne\n");
    assert_eq!(c.rest(), "!xsAuthentication error: unexpected command.\n");
    // A line that is no command at all: the JVM's fatal `!z` with its trace.
    let mut c = Client::connect(&s);
    c.send("hello\n");
    assert!(c
        .rest()
        .starts_with("!zspy4j.Py4JException: Unknown command received: hello\\n"));
    // Nothing before the end of the stream: "Unknown command received: null".
    let mut c = Client::connect(&s);
    c.stream.shutdown(Shutdown::Write).expect("half-close");
    assert!(c
        .rest()
        .starts_with("!zspy4j.Py4JException: Unknown command received: null\\n"));
    // The token of a right length with one byte changed.
    let mut wrong = TOKEN.to_owned();
    wrong.replace_range(63..64, "5");
    let mut c = Client::connect(&s);
    c.send(&format!("A\n{wrong}\n"));
    assert_eq!(
        c.rest(),
        "!xsAuthentication error: bad auth token received.\n"
    );
    let stats = s.stats();
    assert_eq!(stats.auth_failures, 3);
    assert_eq!(stats.authenticated, 0);
}

#[test]
fn serves_commands_and_survives_a_bad_value() {
    let s = server(ServerConfig::new(TOKEN));
    let mut c = Client::authed(&s);
    assert_eq!(
        c.ask("c\nz:java.lang.Math\nmax\ni3\nL1099511627776\ne\n"),
        "!yL1099511627776"
    );
    // A malformed int inside a well-framed call: answered, and the stream goes on.
    let bad = c.ask("c\nz:java.lang.Math\nmax\ni007\ni1\ne\n");
    assert!(
        bad.starts_with("!xspy4j.Py4JException: message 2, line 4"),
        "{bad}"
    );
    assert_eq!(c.ask("c\nz:java.lang.Math\nmax\ni1\ni2\ne\n"), "!yi2");
    // The token again on an authenticated connection: checked again.
    assert_eq!(c.ask(&format!("A\n{TOKEN}\n")), "!yv");
    // A reply where a command belongs: fatal, closed.
    c.send("!yv\n");
    assert!(c
        .rest()
        .starts_with("!zspy4j.Py4JException: Unknown command received"));
    let mut c = Client::authed(&s);
    c.send("c\nz:java.lang.Math\nmax\ni1\n");
    c.stream.shutdown(Shutdown::Write).expect("half-close");
    assert_eq!(c.rest(), "", "cut mid-command: nothing to answer");
    assert!(
        s.last_error()
            .is_some_and(|e| e.contains("input ended inside call")),
        "{:?}",
        s.last_error()
    );
}

#[test]
fn cancel_closes_the_named_connection_and_shutdown_stops_the_server() {
    let s = server(ServerConfig::new(TOKEN));
    let mut a = Client::authed(&s);
    let mut b = Client::authed(&s);
    let a_port = a.stream.local_addr().expect("addr").port();
    b.send(&format!("z\n127.0.0.1\n{a_port}\n{}\n", s.port()));
    assert_eq!(a.rest(), "", "a's socket was closed by the server");
    assert_eq!(
        b.ask("c\nz:java.lang.Math\nmin\ni1\ni2\ne\n"),
        "!yi1",
        "b is untouched"
    );
    b.send("s\n");
    let started = Instant::now();
    s.wait();
    assert!(s.is_stopped());
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(b.rest(), "");
    // The listener is gone or closes at once.
    match TcpStream::connect(s.local_addr()) {
        Err(_) => {}
        Ok(mut t) => {
            t.set_read_timeout(Some(Duration::from_secs(5)))
                .expect("timeout");
            let _ = t.write_all(format!("A\n{TOKEN}\n").as_bytes());
            let mut buf = String::new();
            let _ = t.read_to_string(&mut buf);
            assert_eq!(buf, "");
        }
    }
}

#[test]
fn bounds_connections_and_the_time_to_authenticate() {
    let mut config = ServerConfig::new(TOKEN);
    config.max_connections = 2;
    config.auth_timeout = Duration::from_millis(300);
    let s = server(config);
    let mut a = Client::authed(&s);
    let _b = Client::authed(&s);
    let mut c = Client::connect(&s);
    c.send(&format!("A\n{TOKEN}\n"));
    assert_eq!(c.rest(), "", "a third connection is closed at once");
    // An authenticated connection is not timed out; a silent new one is.
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(a.ask("c\nz:java.lang.Math\nmax\ni1\ni2\ne\n"), "!yi2");
    drop(a);
    let deadline = Instant::now() + Duration::from_secs(10);
    while s.stats().open > 1 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut d = Client::connect(&s);
    let started = Instant::now();
    assert_eq!(d.rest(), "");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn many_connections_share_one_registry() {
    let s = server(ServerConfig::new(TOKEN));
    let threads: Vec<_> = (0..16)
        .map(|k| {
            let addr = s.local_addr();
            std::thread::spawn(move || {
                let stream = TcpStream::connect(addr).expect("connect");
                let mut c = Client {
                    reader: BufReader::new(stream.try_clone().expect("clone")),
                    stream,
                };
                assert_eq!(c.ask(&format!("A\n{TOKEN}\n")), "!yv");
                let list = c.ask("i\njava.util.ArrayList\ne\n");
                let id = list.strip_prefix("!yl").expect("a list").to_owned();
                for i in 0..200 {
                    assert_eq!(c.ask(&format!("c\n{id}\nadd\ni{}\ne\n", i * k)), "!ybtrue");
                }
                let size = c.ask(&format!("c\n{id}\nsize\ne\n"));
                assert_eq!(c.ask(&format!("m\nd\n{id}\ne\n")), "!yv");
                size
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().expect("thread"), "!yi200");
    }
    assert_eq!(s.jvm().registry().issued(), 16);
    // Only the reserved ids remain: the default view and the gateway object.
    assert_eq!(s.jvm().registry().len(), 2);
}

#[test]
fn callbacks_go_down_the_waiting_connection_and_may_nest() {
    let mut config = ServerConfig::new(TOKEN);
    config.max_callback_depth = 2;
    let s = server(config.mode(Mode::ClientServer));
    let mut c = Client::authed(&s);
    assert_eq!(c.ask("i\njava.util.ArrayList\ne\n"), "!ylo0");
    for w in ["sccc", "sa", "sbb"] {
        assert_eq!(c.ask(&format!("c\no0\nadd\n{w}\ne\n")), "!ybtrue");
    }
    // sort(comparator): the JVM calls the Python proxy on this connection.
    c.send("c\no0\nsort\nfp0;java.util.Comparator\ne\n");
    let mut calls = 0;
    loop {
        let head = c.line();
        if head.starts_with('!') {
            assert_eq!(head, "!yv", "sort returns void");
            break;
        }
        assert_eq!(head, "c");
        assert_eq!(c.line(), "p0");
        assert_eq!(c.line(), "compare");
        let a = c.line();
        let b = c.line();
        assert_eq!(c.line(), "e");
        calls += 1;
        // While the JVM waits, call it back (re-entrant), then answer.
        assert_eq!(c.ask("c\nz:java.lang.Math\nmax\ni1\ni2\ne\n"), "!yi2");
        let d = a.len() as i32 - b.len() as i32;
        c.send(&format!("!yi{d}\n"));
    }
    assert!(calls >= 2);
    assert_eq!(c.ask("c\no0\ntoString\ne\n"), "!ys[a, bb, ccc]");
    // A Python error answer: a Py4JException thrown in the JVM.
    c.send("c\no0\nsort\nfp1;java.util.Comparator\ne\n");
    assert_eq!(c.line(), "c");
    for _ in 0..5 {
        c.line();
    }
    c.send("!xsTraceback: boom\n");
    let r = c.line();
    let id = r.strip_prefix("!xr").expect("thrown").to_owned();
    let trace = c.ask(&format!("p\nr{id}\ne\n"));
    assert!(
        trace.starts_with("!yspy4j.Py4JException: An exception was raised by the Python Proxy. Return Message: Traceback: boom"),
        "{trace}"
    );
    // Nesting beyond the limit: the innermost callback is refused, not hung.
    let l = c.ask("i\njava.util.ArrayList\ne\n");
    let id = l.strip_prefix("!yl").expect("a list").to_owned();
    c.ask(&format!("c\n{id}\nadd\nsx\ne\n"));
    c.ask(&format!("c\n{id}\nadd\nsy\ne\n"));
    let expect_call = |c: &mut Client, proxy: &str, arg: &str| {
        let got: Vec<String> = (0..5).map(|_| c.line()).collect();
        assert_eq!(got, ["c", proxy, "accept", arg, "e"]);
    };
    c.send(&format!(
        "c\n{id}\nforEach\nfp2;java.util.function.Consumer\ne\n"
    ));
    expect_call(&mut c, "p2", "sx");
    // Inside that callback, forEach again (depth 2) …
    c.send(&format!(
        "c\n{id}\nforEach\nfp3;java.util.function.Consumer\ne\n"
    ));
    expect_call(&mut c, "p3", "sx");
    // … and inside that once more: refused with a thrown exception.
    let refused = c.ask(&format!(
        "c\n{id}\nforEach\nfp4;java.util.function.Consumer\ne\n"
    ));
    assert!(refused.starts_with("!xro"), "depth 3 refused: {refused}");
    c.send("!yn\n");
    expect_call(&mut c, "p3", "sy");
    assert_eq!(c.ask("!yn\n"), "!yv", "the inner forEach ends");
    c.send("!yn\n");
    expect_call(&mut c, "p2", "sy");
    assert_eq!(c.ask("!yn\n"), "!yv", "the outer forEach ends");
    assert_eq!(c.ask("c\nz:java.lang.Math\nmax\ni1\ni2\ne\n"), "!yi2");
}
