//! # sparkwire-gateway
//!
//! The gateway a PySpark driver program talks to through Py4J, without a JVM:
//!
//! * [`py4j`]: a sans-I/O codec of the Py4J protocol exactly as py4j 0.10.9.7
//!   and 0.10.9.9 (the versions shipped with PySpark 3.5 to 4.3) write it, for
//!   both directions of a connection — the Python client's commands to the JVM,
//!   the JVM's replies, and the callback commands the JVM sends to Python;
//! * [`py4j::server`]: the server real py4j clients connect to (loopback,
//!   token-authenticated, ClientServer and JavaGateway modes);
//! * [`jvm`]: the JVM-side object model the server executes commands against
//!   (objects, classes, views, the registry, Java exceptions, JDK pieces).
//!
//! ```
//! use bytes::BytesMut;
//! use sparkwire_gateway::py4j::{Command, Direction, Message, Py4jDecoder, Reply, Value};
//!
//! // What PySpark sends first on every connection, then a static call.
//! let wire: &[u8] = b"A\n71d6d2cf\nc\nz:org.apache.spark.api.python.PythonUtils\ngetSparkBufferSize\nro16\ne\n";
//! let mut dec = Py4jDecoder::new(Direction::ToJava);
//! let mut buf = BytesMut::from(wire);
//! let mut again = Vec::new();
//! while let Some(msg) = dec.decode_eof(&mut buf)? {
//!     if let Message::Command(Command::Call { method, args, .. }) = &msg {
//!         assert_eq!(method, "getSparkBufferSize");
//!         assert_eq!(args, &[Value::Ref("o16".into())]);
//!     }
//!     msg.encode(&mut again);
//! }
//! // Lossless: the decoded messages re-encode to the same bytes.
//! assert_eq!(again, wire);
//!
//! // The JVM's answer, as the JVM writes it.
//! assert_eq!(Reply::Success(Value::Int(65536)).to_bytes(), b"!yi65536\n");
//! # Ok::<(), sparkwire_gateway::py4j::DecodeError>(())
//! ```
//!
//! ## Guarantees
//! * **Exact bytes.** Encoders write what py4j writes (checked against the real
//!   py4j Python package of every pinned PySpark venv by the tests in
//!   `tests/py4j_vs_python.rs`), and `encode(decode(bytes)) == bytes` for every
//!   message the decoder accepts — including every conversation recorded from
//!   real PySpark drivers and their JVMs (`tests/py4j_golden.rs`).
//! * **Strict where peers are strict, typed where not.** The decoder accepts the
//!   spellings either peer writes and refuses, with a typed error, texts that
//!   only a lenient parser would take (non-canonical integers, unknown escapes,
//!   non-canonical base64, raw carriage returns that Java and Python would split
//!   differently). A bad value inside a well-framed command is consumed and
//!   decoding goes on; a framing error stops the stream.
//! * **Bounded.** Line length, command length and argument count are checked
//!   as bytes arrive ([`py4j::Limits`]); nothing is reserved from a length the
//!   peer claims.
//! * **Never panics, never recurses** on input, and never executes anything: the
//!   codec only names JVM objects and methods, it does not run them. The object
//!   model runs only its own Rust methods and loads no classes; what one
//!   command may allocate is bounded ([`jvm::MAX_ELEMENTS_PER_COMMAND`],
//!   [`engine::MAX_PARTITIONS`]), nested collections are printed, compared and
//!   hashed with a depth bound, and a failure inside the model answers the
//!   command with an error instead of ending the connection. The Spark classes
//!   read and write the files a driver program names (text, pickle and
//!   sequence files, `addFile`), as Spark's JVM does.
//! * **What a real JVM answers.** The server's replies to the real py4j client
//!   equal those of py4j's own Java servers operation by operation
//!   (`tests/server_vs_py4j.rs`), and the Java-side value spellings equal the
//!   JDK's (`tests/double_vs_java.rs`).

pub mod engine;
pub mod jvm;
pub mod py4j;
pub mod submit;
