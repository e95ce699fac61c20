//! The py4j codec against the real py4j Python package of every pinned PySpark
//! venv (the oracle's `py4j_*` ops call `py4j.protocol` and py4j's own clients).
//!
//! * argument parts: ours vs `get_command_part`, and ours decode theirs;
//! * reply lines: ours, read back by `get_return_value`;
//! * escaping and base64: ours vs `escape_new_line`, `unescape_new_line`,
//!   `encode_bytearray`, `decode_bytearray`;
//! * whole sessions: py4j's `JavaGateway` and `ClientServer` drive a stand-in JVM
//!   on a loopback port that answers with our encoder; every byte they sent is
//!   decoded by our decoder and re-encoded byte for byte.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use serde_json::{json, Value as Json};
use sparkwire_framing::Step;
use sparkwire_gateway::py4j::{
    base64, escape, Command, Decimal, DecodeError, Direction, Double, Message, Py4jDecoder, Reply,
    Spelling, Value, ValueError,
};
use sparkwire_testkit::{hex, oracle_versions, unhex, with_oracle};

/// splitmix64: deterministic cases without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// One generated Python value: its JSON for the oracle and, when we can
/// represent it, the part our encoder writes for it.
struct Case {
    json: Json,
    ours: Option<Value>,
}

fn int_case(n: i128) -> Case {
    Case {
        json: json!({"t": "int", "v": n.to_string()}),
        ours: i64::try_from(n).ok().map(Value::integer),
    }
}

fn float_case(x: f64) -> Case {
    Case {
        json: json!({"t": "float", "bits": hex(&x.to_bits().to_be_bytes())}),
        ours: Some(Value::Double(Double::python(x))),
    }
}

fn str_case(s: &str) -> Case {
    Case {
        json: json!({"t": "str", "v": s}),
        ours: Some(Value::Str(s.to_owned())),
    }
}

fn bytes_case(b: &[u8], array: bool) -> Case {
    Case {
        json: json!({"t": if array { "bytearray" } else { "bytes" }, "hex": hex(b)}),
        ours: Some(Value::Bytes(Bytes::copy_from_slice(b))),
    }
}

fn random_string(rng: &mut Rng) -> String {
    const PIECES: &[&str] = &[
        "a", "Z", "0", " ", "\n", "\r", "\\", "\\n", "\\r", "\\\\", "e", "!", "\t", "\0", "é",
        "中", "🎉", "\u{2028}", "s", ";", "\u{feff}",
    ];
    let len = rng.below(12);
    (0..len)
        .map(|_| PIECES[rng.below(PIECES.len() as u64) as usize])
        .collect()
}

fn random_float(rng: &mut Rng) -> f64 {
    match rng.below(4) {
        0 => f64::from_bits(rng.next()),
        1 => (rng.next() as i64 as f64) / 1000.0,
        2 => 10f64.powi(rng.below(660) as i32 - 330) * (1.0 + rng.below(1000) as f64 / 1000.0),
        _ => rng.below(1 << 20) as f64 / 1024.0,
    }
}

fn argument_cases() -> Vec<Case> {
    let mut cases = vec![
        Case {
            json: json!({"t": "none"}),
            ours: Some(Value::Null),
        },
        Case {
            json: json!({"t": "bool", "v": true}),
            ours: Some(Value::Bool(true, Spelling::Python)),
        },
        Case {
            json: json!({"t": "bool", "v": false}),
            ours: Some(Value::Bool(false, Spelling::Python)),
        },
        Case {
            json: json!({"t": "ref", "id": "o12"}),
            ours: Some(Value::Ref("o12".into())),
        },
        Case {
            json: json!({"t": "ref", "id": "GATEWAY_SERVER"}),
            ours: Some(Value::Ref("GATEWAY_SERVER".into())),
        },
        Case {
            json: json!({"t": "proxy", "id": "p0", "interfaces": ["java.lang.Runnable"]}),
            ours: Some(Value::Proxy {
                id: "p0".into(),
                interfaces: vec!["java.lang.Runnable".into()],
            }),
        },
        Case {
            json: json!({"t": "proxy", "id": "p17", "interfaces": ["a.B", "c.D"]}),
            ours: Some(Value::Proxy {
                id: "p17".into(),
                interfaces: vec!["a.B".into(), "c.D".into()],
            }),
        },
    ];
    for n in [
        0i128,
        1,
        -1,
        7,
        i32::MAX as i128,
        i32::MAX as i128 + 1,
        i32::MIN as i128,
        i32::MIN as i128 - 1,
        i64::MAX as i128,
        i64::MIN as i128,
        i64::MAX as i128 + 1,
        i64::MIN as i128 - 1,
        1 << 100,
        -(1 << 100),
    ] {
        cases.push(int_case(n));
    }
    for x in [
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.1,
        0.5,
        1e16,
        1e15,
        9999999999999998.0,
        1e-4,
        1e-5,
        1.5e-7,
        5e-324,
        f64::MIN_POSITIVE,
        f64::MAX,
        f64::MIN,
        f64::EPSILON,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        123456789.123,
        1e22,
        1e21,
        2.0f64.powi(53),
    ] {
        cases.push(float_case(x));
    }
    for s in [
        "",
        "a",
        "\n",
        "\r",
        "\r\n",
        "\\",
        "\\n",
        "\\\\n",
        "e",
        "!yv",
        "tab\there",
        "unicode é 中文 🎉",
        "nul\0byte",
        "trailing\\",
    ] {
        cases.push(str_case(s));
    }
    for d in [
        "0",
        "-0",
        "1.50",
        "1E+2",
        "1e-7",
        "NaN",
        "sNaN",
        "-NaN",
        "Infinity",
        "-Infinity",
        "123456789012345678901234567890.123",
        "0.000001",
        ".5",
        "5.",
    ] {
        cases.push(Case {
            json: json!({"t": "decimal", "v": d}),
            ours: None,
        });
    }
    cases.push(bytes_case(b"", false));
    cases.push(bytes_case(b"", true));
    let mut rng = Rng(0x005e_ed0f_9a7e);
    for i in 0..400 {
        match i % 4 {
            0 => {
                let shift = rng.below(100) as u32;
                let n = (rng.next() as i128) >> (shift.min(63)) << shift.saturating_sub(63).min(40);
                cases.push(int_case(if rng.below(2) == 0 { n } else { -n }));
            }
            1 => cases.push(float_case(random_float(&mut rng))),
            2 => cases.push(str_case(&random_string(&mut rng))),
            _ => {
                let len = rng.below(40) as usize;
                let b: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
                cases.push(bytes_case(&b, rng.below(2) == 0));
            }
        }
    }
    cases
}

#[test]
fn command_parts_encode_like_py4j_python() {
    let cases = argument_cases();
    let values: Vec<Json> = cases.iter().map(|c| c.json.clone()).collect();
    for version in oracle_versions() {
        let Some(parts) = with_oracle(&version, |o| {
            o.call(json!({"op": "py4j_command_parts", "values": values}))
        }) else {
            continue;
        };
        let parts = parts.unwrap_or_else(|e| panic!("{version}: {e}"));
        let parts = parts.as_array().expect("a list");
        assert_eq!(parts.len(), cases.len());
        let (mut compared, mut refused) = (0, 0);
        for (case, theirs) in cases.iter().zip(parts) {
            let theirs = theirs.as_str().expect("a string");
            let line = theirs.strip_suffix('\n').expect("parts end in a newline");
            assert!(!line.contains('\n'), "{version}: raw newline in {theirs:?}");
            match Value::parse(line) {
                Ok(decoded) => {
                    assert_eq!(decoded.to_part(), line, "{version}: re-encoding {line:?}");
                    if let Some(ours) = &case.ours {
                        let mut mine = ours.to_part();
                        mine.push('\n');
                        assert_eq!(mine, theirs, "{version}: encoding {}", case.json);
                        assert_eq!(&decoded, ours, "{version}: decoding {line:?}");
                    }
                    compared += 1;
                }
                Err(e) => {
                    // Only what Java cannot read either: ints beyond 64 bits.
                    assert_eq!(e, ValueError::Long, "{version}: {line:?} refused: {e}");
                    assert!(case.ours.is_none(), "{version}: {line:?}");
                    refused += 1;
                }
            }
        }
        eprintln!("py4j {version}: {compared} argument parts equal, {refused} (>64-bit ints) refused as Java refuses them");
        assert_eq!(refused, 4);
    }
}

/// Reply values as the JVM writes them, plus Python-spelled ones.
fn reply_cases() -> Vec<Reply> {
    let mut v = vec![
        Value::Void,
        Value::Null,
        Value::Bool(true, Spelling::Java),
        Value::Bool(false, Spelling::Java),
        Value::Bool(true, Spelling::Python),
        Value::Int(i32::MIN),
        Value::Int(i32::MAX),
        Value::Long(i64::MIN),
        Value::Long(i64::MAX),
        Value::Long(15),
        Value::Ref("o1".into()),
        Value::List("o2".into()),
        Value::Map("o3".into()),
        Value::Set("o4".into()),
        Value::Array("o5".into()),
        Value::Iterator("o6".into()),
    ];
    for t in [
        "1.0E16",
        "4.9E-324",
        "1.7976931348623157E308",
        "-0.0",
        "Infinity",
        "-Infinity",
        "NaN",
        "0.1",
        "1.0E-5",
        "100.0",
        "inf",
        "nan",
        "-inf",
    ] {
        v.push(Value::Double(Double::parse(t).expect(t)));
    }
    for t in ["0.00", "-123.4500", "1E+2", "10000000000000000000000"] {
        v.push(Value::Decimal(Decimal::parse(t).expect(t)));
    }
    let mut rng = Rng(0xbeef);
    for _ in 0..150 {
        v.push(Value::Str(random_string(&mut rng)));
        v.push(Value::Double(Double::python(random_float(&mut rng))));
        let len = rng.below(30) as usize;
        v.push(Value::Bytes(
            (0..len)
                .map(|_| rng.next() as u8)
                .collect::<Vec<_>>()
                .into(),
        ));
        v.push(Value::Long(rng.next() as i64 >> rng.below(64)));
    }
    let mut replies: Vec<Reply> = v.into_iter().map(Reply::Success).collect();
    replies.push(Reply::Error(None));
    replies.push(Reply::Error(Some(Value::Ref("o34".into()))));
    replies.push(Reply::Error(Some(Value::Str(
        "Method foo([]) does not exist\n\tat x\\y".into(),
    ))));
    replies
}

#[test]
fn reply_lines_read_back_by_py4j_python() {
    let replies = reply_cases();
    let answers: Vec<String> = replies
        .iter()
        .map(|r| {
            let bytes = r.to_bytes();
            String::from_utf8(bytes[1..bytes.len() - 1].to_vec()).expect("utf-8")
        })
        .collect();
    for version in oracle_versions() {
        let Some(got) = with_oracle(&version, |o| {
            o.call(json!({"op": "py4j_return_values", "answers": answers}))
        }) else {
            continue;
        };
        let got = got.unwrap_or_else(|e| panic!("{version}: {e}"));
        let got = got.as_array().expect("a list");
        for (reply, theirs) in replies.iter().zip(got) {
            let want = expected_python(reply);
            let same = match (&want, theirs.get("ok").and_then(|o| o.get("t"))) {
                // NaN has many bit patterns; Python keeps the one it parsed.
                (Some(w), Some(t)) if t == "float" && w["t"] == "float" => {
                    let bits = |j: &Json| {
                        u64::from_be_bytes(
                            unhex(j["bits"].as_str().unwrap_or_default())
                                .try_into()
                                .unwrap_or_default(),
                        )
                    };
                    let (a, b) = (f64::from_bits(bits(w)), f64::from_bits(bits(&theirs["ok"])));
                    a == b && a.is_sign_negative() == b.is_sign_negative()
                        || a.is_nan() && b.is_nan()
                }
                (Some(w), _) => theirs == w,
                (None, _) => true,
            };
            assert!(
                same,
                "{version}: {:?} → py4j read {theirs}, expected {want:?}",
                reply
            );
        }
        eprintln!(
            "py4j {version}: {} reply lines read back as intended",
            replies.len()
        );
    }
}

/// What `get_return_value` should make of a reply.
fn expected_python(reply: &Reply) -> Option<Json> {
    let ok = |j: Json| Some(json!({"ok": j}));
    let reference = |kind: &str, id: &str| ok(json!({"t": "ref", "kind": kind, "id": id}));
    match reply {
        Reply::Success(v) => match v {
            Value::Void | Value::Null => ok(json!({"t": "none"})),
            Value::Bool(b, _) => ok(json!({"t": "bool", "v": b})),
            Value::Int(n) => ok(json!({"t": "int", "v": n.to_string()})),
            Value::Long(n) => ok(json!({"t": "int", "v": n.to_string()})),
            Value::Double(d) => {
                ok(json!({"t": "float", "bits": hex(&d.value().to_bits().to_be_bytes())}))
            }
            Value::Decimal(_) => None,
            Value::Str(s) => ok(json!({"t": "str", "v": s})),
            Value::Bytes(b) => ok(json!({"t": "bytes", "hex": hex(b)})),
            Value::Ref(id) => reference("JavaObject", id),
            Value::List(id) => reference("JavaList", id),
            Value::Map(id) => reference("JavaMap", id),
            Value::Set(id) => reference("JavaSet", id),
            Value::Array(id) => reference("JavaArray", id),
            Value::Iterator(id) => reference("JavaIterator", id),
            _ => None,
        },
        Reply::Error(Some(Value::Ref(id))) => Some(json!({"java_error": id})),
        Reply::Error(Some(Value::Str(s))) => Some(
            json!({"py4j_error": format!("An error occurred while calling o1.m. Trace:\n{s}\n")}),
        ),
        Reply::Error(None) => Some(json!({"py4j_error": "An error occurred while calling o1.m"})),
        _ => None,
    }
}

#[test]
fn escaping_and_base64_match_py4j_python() {
    let mut rng = Rng(42);
    let strs: Vec<String> = (0..300).map(|_| random_string(&mut rng)).collect();
    let escaped: Vec<String> = strs.iter().map(|s| escape(s)).collect();
    let blobs: Vec<Vec<u8>> = (0..100)
        .map(|i| (0..i).map(|_| rng.next() as u8).collect())
        .collect();
    let b64: Vec<String> = blobs.iter().map(|b| base64::encode(b)).collect();
    let blob_hex: Vec<String> = blobs.iter().map(|b| hex(b)).collect();
    for version in oracle_versions() {
        let Some(got) = with_oracle(&version, |o| {
            o.call(json!({"op": "py4j_escapes", "strs": strs, "escaped": escaped, "bytes": blob_hex, "b64": b64}))
        }) else {
            continue;
        };
        let got = got.unwrap_or_else(|e| panic!("{version}: {e}"));
        for (i, s) in strs.iter().enumerate() {
            assert_eq!(
                got["escaped"][i],
                escaped[i].as_str(),
                "{version}: escape {s:?}"
            );
            assert_eq!(
                got["unescaped"][i],
                s.as_str(),
                "{version}: unescape {:?}",
                escaped[i]
            );
        }
        for (i, b) in blobs.iter().enumerate() {
            assert_eq!(
                got["b64"][i],
                b64[i].as_str(),
                "{version}: base64 of {} bytes",
                b.len()
            );
            assert_eq!(
                got["unb64"][i],
                blob_hex[i].as_str(),
                "{version}: decode {}",
                b64[i]
            );
        }
        eprintln!(
            "py4j {version}: {} strings and {} byte strings escaped/encoded alike",
            strs.len(),
            blobs.len()
        );
    }
}

// ---------------------------------------------------------------------------
// Whole sessions: py4j's own clients against a stand-in JVM.

/// What each connection sent, in order.
type Recorded = Arc<Mutex<Vec<Vec<u8>>>>;

struct FakeJvm {
    ids: AtomicU64,
    /// Commands that failed with a bad value (expected: the >64-bit int).
    bad_values: Mutex<Vec<DecodeError>>,
}

impl FakeJvm {
    fn fresh(&self) -> String {
        format!("o{}", self.ids.fetch_add(1, Ordering::SeqCst))
    }

    /// The scripted answer to a command; `None` closes the connection.
    fn answer(&self, cmd: &Command) -> Option<Reply> {
        use Command::*;
        let ok = |v: Value| Some(Reply::Success(v));
        let s = |t: &str| ok(Value::Str(t.into()));
        match cmd {
            Auth { .. } => ok(Value::Void),
            ReflectUnknown { name, .. } => {
                let last = name.rsplit('.').next().unwrap_or_default();
                if last.starts_with(|c: char| c.is_ascii_uppercase()) {
                    ok(Value::Class(name.clone()))
                } else {
                    ok(Value::Package)
                }
            }
            ReflectMember { member, .. } if member.starts_with("f_") => ok(Value::Int(7)),
            ReflectMember { member, .. }
                if member.starts_with(|c: char| c.is_ascii_uppercase()) =>
            {
                ok(Value::Class(String::new()))
            }
            ReflectMember { .. } => ok(Value::Method),
            ReflectClass { .. } | ViewCreate { .. } => ok(Value::Ref(self.fresh())),
            Constructor { class, .. } if class.ends_with("ArrayList") => {
                ok(Value::List(self.fresh()))
            }
            Constructor { class, .. } if class.ends_with("HashMap") => ok(Value::Map(self.fresh())),
            Constructor { class, .. } if class.ends_with("HashSet") => ok(Value::Set(self.fresh())),
            Constructor { .. } => ok(Value::Ref(self.fresh())),
            Call { method, args, .. } => match method.as_str() {
                "echo" => ok(args.first().cloned().unwrap_or(Value::Null)),
                "add" => ok(Value::Bool(true, Spelling::Java)),
                "put" => ok(Value::Null),
                "size" => ok(Value::Int(2)),
                "getArray" => ok(Value::Array(self.fresh())),
                "getList" => ok(Value::List(self.fresh())),
                "getDouble" => ok(Value::Double(Double::parse("1.0E16").ok()?)),
                "getLong" => ok(Value::Long(i64::MAX)),
                "getDecimal" => ok(Value::Decimal(Decimal::parse("-1.50").ok()?)),
                "getBytes" => ok(Value::Bytes(Bytes::from_static(b"\x00\x01\xff"))),
                "getString" => s("a\\b\nc\r"),
                "getBool" => ok(Value::Bool(false, Spelling::Java)),
                "getNull" => ok(Value::Null),
                "fail" => Some(Reply::Error(Some(Value::Ref(self.fresh())))),
                "broken" => Some(Reply::Error(Some(Value::Str(
                    "Method broken([]) does not exist\n\tat py4j".into(),
                )))),
                "bare" => Some(Reply::Error(None)),
                _ => ok(Value::Void),
            },
            FieldGet { field, .. } if field == "missing" => ok(Value::NoMember),
            FieldGet { .. } => ok(Value::Int(5)),
            ArrayLen { .. } => ok(Value::Int(3)),
            ArrayGet { index, .. } => ok(index.clone()),
            ArraySlice { .. } | ArrayCreate { .. } => ok(Value::Array(self.fresh())),
            ListSlice { .. } | ListConcat { .. } | ListMult { .. } => ok(Value::List(self.fresh())),
            ListCount { .. } => ok(Value::Int(1)),
            ViewRemoveImport { .. } => ok(Value::Bool(true, Spelling::Java)),
            HelpObject { .. } | HelpClass { .. } => s("Help on class X in package y:\n| methods"),
            Exception { .. } => s("java.lang.RuntimeException: boom\n\tat A.b(A.java:1)\n"),
            DirFields { .. } | DirMethods { .. } | DirStatics { .. } => {
                s("equals\nhashCode\nvalueOf")
            }
            DirView { .. } => s("1\nSparkConf"),
            Shutdown | Cancel { .. } => None,
            _ => ok(Value::Void),
        }
    }
}

fn send(sock: &mut TcpStream, bytes: &[u8]) -> std::io::Result<()> {
    sock.write_all(bytes)?;
    sock.flush()
}

/// Reads until the decoder yields a message; `None` at end of input.
fn read_message(
    sock: &mut TcpStream,
    dec: &mut Py4jDecoder,
    buf: &mut BytesMut,
    log: &mut Vec<u8>,
) -> Option<Result<Message, DecodeError>> {
    loop {
        match dec.decode(buf) {
            Ok(Step::Item(m)) => return Some(Ok(m)),
            Err(e) => return Some(Err(e)),
            Ok(Step::NeedMore) => {}
        }
        let mut chunk = [0u8; 4096];
        match sock.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => {
                log.extend_from_slice(&chunk[..n]);
                buf.extend_from_slice(&chunk[..n]);
            }
        }
    }
}

fn serve(mut sock: TcpStream, jvm: Arc<FakeJvm>, recorded: Recorded, mode: &str) {
    let _ = sock.set_read_timeout(Some(Duration::from_secs(60)));
    let mut dec = Py4jDecoder::new(Direction::ToJava);
    let mut buf = BytesMut::new();
    let mut log = Vec::new();
    while let Some(msg) = read_message(&mut sock, &mut dec, &mut buf, &mut log) {
        let cmd = match msg {
            Ok(Message::Command(c)) => c,
            Ok(Message::Reply(r)) => panic!("unexpected reply {r:?}"),
            Err(e) if !e.is_stream_corrupt() => {
                jvm.bad_values.lock().unwrap().push(e);
                let _ = send(
                    &mut sock,
                    &Reply::Error(Some(Value::Str("bad value".into()))).to_bytes(),
                );
                continue;
            }
            Err(e) => panic!("py4j ({mode}) sent something we cannot decode: {e}"),
        };
        if let Command::Call { method, args, .. } = &cmd {
            if method == "callMeBack" {
                // Re-entrant callbacks on the same socket, as the JVM makes them.
                let Some(Value::Proxy { id, .. }) = args.first() else {
                    panic!("no proxy: {args:?}")
                };
                let calls = [
                    Command::ProxyCall {
                        proxy: id.clone(),
                        method: "run".into(),
                        args: vec![
                            Value::Int(1),
                            Value::Str("a\nb\\".into()),
                            Value::Ref("o99".into()),
                            Value::List("o98".into()),
                        ],
                    },
                    Command::ProxyCall {
                        proxy: id.clone(),
                        method: "run".into(),
                        args: vec![],
                    },
                    Command::ProxyCollected { proxy: id.clone() },
                ];
                let mut answers = Vec::new();
                for c in &calls {
                    let _ = send(&mut sock, &c.to_bytes());
                    match read_message(&mut sock, &mut dec, &mut buf, &mut log) {
                        Some(Ok(Message::Reply(r))) => answers.push(r),
                        other => panic!("callback answer: {other:?}"),
                    }
                }
                assert_eq!(
                    answers,
                    vec![
                        Reply::Success(Value::Int(4)),
                        Reply::Success(Value::Int(0)),
                        Reply::Ack
                    ]
                );
            }
        }
        if let Command::Stream { .. } = cmd {
            let _ = send(&mut sock, b"!yv\nRAW\x00\xff\nBYTES");
            let _ = sock.shutdown(Shutdown::Write);
            // Keep reading until Python closes, recording anything it sends.
            let mut rest = Vec::new();
            let _ = sock.read_to_end(&mut rest);
            log.extend_from_slice(&rest);
            break;
        }
        match jvm.answer(&cmd) {
            Some(reply) => {
                if send(&mut sock, &reply.to_bytes()).is_err() {
                    break;
                }
            }
            None => break,
        }
    }
    recorded.lock().unwrap().push(log);
}

/// Decodes one recorded connection and re-encodes it, keeping the bytes of
/// commands refused for a bad value as they were; returns the command names
/// and how many were refused.
fn reencode(bytes: &[u8]) -> (Vec<&'static str>, usize) {
    let mut dec = Py4jDecoder::new(Direction::ToJava);
    let mut buf = BytesMut::from(bytes);
    let mut again = Vec::new();
    let (mut names, mut bad) = (Vec::new(), 0);
    loop {
        let before = usize::try_from(dec.offset()).unwrap_or_default();
        match dec.decode_eof(&mut buf) {
            Ok(Some(m)) => {
                if let Message::Command(c) = &m {
                    names.push(c.name());
                }
                m.encode(&mut again);
            }
            Ok(None) => break,
            Err(e) if !e.is_stream_corrupt() => {
                let after = usize::try_from(dec.offset()).unwrap_or_default();
                again.extend_from_slice(&bytes[before..after]);
                bad += 1;
            }
            Err(e) => panic!("recorded stream: {e}"),
        }
    }
    assert_eq!(
        String::from_utf8_lossy(&again),
        String::from_utf8_lossy(bytes)
    );
    assert_eq!(again, bytes);
    (names, bad)
}

fn echo_values() -> Vec<Json> {
    let mut v: Vec<Json> = argument_cases()
        .into_iter()
        .filter(|c| c.json["t"] != "proxy" && c.json["t"] != "ref")
        .map(|c| c.json)
        .take(120)
        .collect();
    v.push(json!({"t": "ref", "id": "o5"}));
    v
}

fn run_session(version: &str, mode: &str) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = listener.local_addr().expect("addr").port();
    listener.set_nonblocking(true).expect("nonblocking");
    let jvm = Arc::new(FakeJvm {
        ids: AtomicU64::new(0),
        bad_values: Mutex::new(Vec::new()),
    });
    let recorded: Recorded = Arc::default();
    let done = Arc::new(AtomicBool::new(false));
    let acceptor = {
        let (jvm, recorded, done, mode) =
            (jvm.clone(), recorded.clone(), done.clone(), mode.to_owned());
        thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(120);
            let mut workers = Vec::new();
            while !done.load(Ordering::SeqCst) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((sock, _)) => {
                        let _ = sock.set_nonblocking(false);
                        let (jvm, recorded, mode) = (jvm.clone(), recorded.clone(), mode.clone());
                        workers.push(thread::spawn(move || serve(sock, jvm, recorded, &mode)));
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
            workers
        })
    };
    let echo = echo_values();
    let result = with_oracle(version, |o| {
        o.call(json!({"op": "py4j_client_session", "port": port, "token": "s3cr3t", "mode": mode, "echo": echo}))
    });
    done.store(true, Ordering::SeqCst);
    let workers = acceptor.join().expect("acceptor");
    let Some(result) = result else { return };
    for w in workers {
        w.join().expect("a connection handler panicked");
    }
    let result = result.unwrap_or_else(|e| panic!("{version} {mode}: {e}"));
    let steps = result.as_array().expect("steps");
    let step = |label: &str| -> &Json {
        &steps
            .iter()
            .find(|s| s[0] == label)
            .unwrap_or_else(|| panic!("no step {label}"))[1]
    };
    // Every echoed value came back as Python sent it (our decode + our reply
    // encoding, read by py4j), except the >64-bit ints Java cannot read either.
    let mut echoed = 0;
    for (i, sent) in echo.iter().enumerate() {
        let got = step(&format!("echo {i}"));
        let too_big = sent["t"] == "int"
            && sent["v"]
                .as_str()
                .is_some_and(|v| v.parse::<i64>().is_err());
        if too_big {
            assert_eq!(got["raised"], "Py4JError", "{version} {mode}: {sent}");
            continue;
        }
        let want = match sent["t"].as_str() {
            Some("bytearray") => json!({"t": "bytes", "hex": sent["hex"]}),
            Some("ref") => json!({"t": "ref", "kind": "JavaObject", "id": sent["id"]}),
            Some("decimal") => got["ok"].clone(),
            Some("float")
                if sent["bits"]
                    .as_str()
                    .is_some_and(|b| b.starts_with("7ff8") || b.starts_with("fff8")) =>
            {
                got["ok"].clone()
            }
            _ => sent.clone(),
        };
        assert_eq!(got["ok"], want, "{version} {mode}: echo of {sent}");
        echoed += 1;
    }
    assert_eq!(step("static field")["ok"], json!({"t": "int", "v": "7"}));
    assert_eq!(step("field missing")["raised"], "Py4JError");
    assert_eq!(step("array len")["ok"], json!({"t": "int", "v": "3"}));
    assert_eq!(
        step("typed returns")["ok"]["items"][4],
        json!({"t": "str", "v": "a\\b\nc\r"})
    );
    assert_eq!(step("java error")["ok"]["items"][0]["v"], "Py4JJavaError");
    assert!(step("java error")["ok"]["items"][1]["v"]
        .as_str()
        .unwrap_or_default()
        .contains("RuntimeException: boom\n\tat A.b"));
    assert!(step("py4j error")["msg"]
        .as_str()
        .unwrap_or_default()
        .contains("does not exist\n\tat py4j"));
    if mode == "clientserver" {
        assert_eq!(step("callback")["ok"], json!({"t": "none"}));
        let calls = &step("callback calls")["ok"]["items"];
        assert_eq!(calls[0]["items"][1], json!({"t": "str", "v": "a\nb\\"}));
        assert_eq!(calls[0]["items"][3]["kind"], "JavaList");
    } else {
        assert_eq!(
            step("stream")["ok"],
            json!({"t": "bytes", "hex": hex(b"RAW\x00\xff\nBYTES")}),
            "{version}: stream step {}",
            step("stream")
        );
    }
    let bad = jvm.bad_values.lock().unwrap().len();
    let streams = recorded.lock().unwrap().clone();
    let (mut messages, mut bad_again) = (0, 0);
    let mut seen = std::collections::BTreeSet::new();
    for s in &streams {
        let (names, b) = reencode(s);
        messages += names.len();
        bad_again += b;
        seen.extend(names);
    }
    assert_eq!(bad, bad_again);
    eprintln!(
        "py4j {version} {mode}: {} connections, {messages} messages decoded and re-encoded byte for byte, \
         {bad} refused (>64-bit ints), {echoed} values echoed; command forms: {seen:?}",
        streams.len()
    );
}

#[test]
fn py4j_clients_commands_decode_and_reencode() {
    for version in oracle_versions() {
        for mode in ["gateway", "clientserver"] {
            run_session(&version, mode);
        }
    }
}
