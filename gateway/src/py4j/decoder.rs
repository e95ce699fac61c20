//! The streaming decoder: bytes in any chunking → complete messages.

use bytes::{Buf, BytesMut};
use sparkwire_framing::Step;

use super::command::{lookup, Command, Direction, Lookup, Shape};
use super::error::DecodeError;
use super::limits::Limits;
use super::reply::Reply;

/// One decoded unit of a py4j stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A request.
    Command(Command),
    /// A reply line (on a ClientServer socket both kinds share a direction).
    Reply(Reply),
}

impl Message {
    /// Appends the exact bytes of the message.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Message::Command(c) => c.encode(out),
            Message::Reply(r) => r.encode(out),
        }
    }
}

/// What the decoder knows about the message in progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Progress {
    /// Waiting for the first line.
    Start,
    /// Waiting for the sub-command line of this family.
    NeedsSub(&'static str),
    /// The shape is known.
    Shaped(&'static str, Shape),
}

/// A sans-I/O decoder of one direction of a py4j connection.
///
/// Feed it a [`BytesMut`] that you append to as bytes arrive; each
/// [`Py4jDecoder::decode`] call removes one complete message from the front, or
/// answers [`Step::NeedMore`] and leaves the buffer as it was (the caller must
/// then only append to it). Lines are scanned once: the work per call is
/// proportional to the bytes that arrived since the last one.
///
/// Limits are checked as bytes arrive: a line or command over its limit fails
/// as soon as the buffer holds one byte too many, without waiting for its end.
///
/// ```
/// use bytes::BytesMut;
/// use sparkwire_framing::Step;
/// use sparkwire_gateway::py4j::{Command, Direction, Message, Py4jDecoder, Value};
///
/// let mut dec = Py4jDecoder::new(Direction::ToJava);
/// let mut buf = BytesMut::from(&b"c\no1\nset\nsspark.master\n"[..]);
/// assert_eq!(dec.decode(&mut buf)?, Step::NeedMore);
/// buf.extend_from_slice(b"slocal[2]\ne\n");
/// let Step::Item(Message::Command(Command::Call { target, method, args })) = dec.decode(&mut buf)? else {
///     panic!("a call")
/// };
/// assert_eq!((target.as_str(), method.as_str()), ("o1", "set"));
/// assert_eq!(args[1], Value::Str("local[2]".into()));
/// # Ok::<(), sparkwire_gateway::py4j::DecodeError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Py4jDecoder {
    direction: Direction,
    limits: Limits,
    /// Stream offset of `buf[0]`.
    offset: u64,
    /// Messages decoded so far.
    index: u64,
    /// `(start, end)` of the complete lines of the message in progress, `end`
    /// excluding the `\n`.
    lines: Vec<(usize, usize)>,
    /// Bytes of the buffer already searched for `\n`.
    scanned: usize,
    progress: Progress,
    failed: Option<DecodeError>,
}

impl Py4jDecoder {
    /// A decoder for `direction` with default [`Limits`].
    pub fn new(direction: Direction) -> Py4jDecoder {
        Py4jDecoder::with_limits(direction, Limits::default())
    }

    /// A decoder with explicit limits.
    pub fn with_limits(direction: Direction, limits: Limits) -> Py4jDecoder {
        Py4jDecoder {
            direction,
            limits,
            offset: 0,
            index: 0,
            lines: Vec::new(),
            scanned: 0,
            progress: Progress::Start,
            failed: None,
        }
    }

    /// Stream offset of the next undecoded byte.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Messages decoded so far (including ones that failed with a bad value).
    pub fn messages(&self) -> u64 {
        self.index
    }

    /// Takes one message off the front of `buf`, or says it needs more bytes.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Step<Message>, DecodeError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if buf.len() < self.scanned {
            // The caller did not keep the buffer as it was: start the message over.
            self.lines.clear();
            self.scanned = 0;
            self.progress = Progress::Start;
        }
        match self.step(buf) {
            Err(e) => {
                if e.is_stream_corrupt() {
                    self.failed = Some(e.clone());
                }
                Err(e)
            }
            ok => ok,
        }
    }

    /// Like [`Py4jDecoder::decode`], at the end of input: `None` when the input
    /// ended exactly between messages, an error when it ended inside one.
    pub fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Message>, DecodeError> {
        match self.decode(buf)? {
            Step::Item(m) => Ok(Some(m)),
            Step::NeedMore => self.finish(buf).map(|()| None),
        }
    }

    /// Checks that the input may end here.
    pub fn finish(&self, buf: &BytesMut) -> Result<(), DecodeError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if buf.is_empty() {
            return Ok(());
        }
        let name = match self.progress {
            Progress::Start => "message",
            Progress::NeedsSub(n) | Progress::Shaped(n, _) => n,
        };
        Err(DecodeError::Truncated {
            message: self.index,
            name,
            offset: self.offset,
            lines: self.lines.len(),
        })
    }

    fn name(&self) -> &'static str {
        match self.progress {
            Progress::Start => "message",
            Progress::NeedsSub(n) | Progress::Shaped(n, _) => n,
        }
    }

    fn step(&mut self, buf: &mut BytesMut) -> Result<Step<Message>, DecodeError> {
        loop {
            let start = self.lines.last().map_or(0, |l| l.1 + 1);
            let line_no = self.lines.len() + 1;
            let Some(nl) = buf[self.scanned..].iter().position(|&b| b == b'\n') else {
                self.scanned = buf.len();
                self.check_sizes(buf.len() - start, buf.len(), start, line_no)?;
                return Ok(Step::NeedMore);
            };
            let end = self.scanned + nl;
            self.scanned = end + 1;
            self.check_sizes(end - start, end + 1, start, line_no)?;
            let at = self.offset + start as u64;
            let text =
                std::str::from_utf8(&buf[start..end]).map_err(|_| DecodeError::InvalidUtf8 {
                    message: self.index,
                    line: line_no,
                    offset: at,
                })?;
            if text.contains('\r') {
                return Err(DecodeError::CarriageReturn {
                    message: self.index,
                    line: line_no,
                    offset: at,
                });
            }
            self.lines.push((start, end));
            if self.advance(buf)? {
                return self.emit(buf);
            }
        }
    }

    /// Limits on the line in progress, which starts at `start` and has
    /// `line_len` bytes so far, and on the message, which has `total` bytes so
    /// far. When both are exceeded, the error is the one whose limit was crossed
    /// at the earlier byte, so it does not depend on how the input was chunked.
    fn check_sizes(
        &self,
        line_len: usize,
        total: usize,
        start: usize,
        line: usize,
    ) -> Result<(), DecodeError> {
        let line_over = line_len > self.limits.max_line_len;
        let command_over = total > self.limits.max_command_len;
        let line_first = line_over
            && (!command_over
                || start.saturating_add(self.limits.max_line_len) < self.limits.max_command_len);
        if line_first {
            return Err(DecodeError::LineTooLong {
                message: self.index,
                line,
                offset: self.offset + start as u64,
                max: self.limits.max_line_len,
            });
        }
        if command_over {
            return Err(DecodeError::CommandTooLong {
                message: self.index,
                name: self.name(),
                offset: self.offset,
                max: self.limits.max_command_len,
            });
        }
        Ok(())
    }

    fn line<'b>(&self, buf: &'b [u8], i: usize) -> &'b str {
        let (s, e) = self.lines[i];
        // Checked to be UTF-8 when the line was added.
        std::str::from_utf8(&buf[s..e]).unwrap_or_default()
    }

    /// Takes the newest line into account; true when the message is complete.
    fn advance(&mut self, buf: &[u8]) -> Result<bool, DecodeError> {
        let n = self.lines.len();
        let last = self.line(buf, n - 1);
        let at = self.offset + self.lines[n - 1].0 as u64;
        match self.progress {
            Progress::Start => {
                if last.starts_with('!') {
                    return Ok(true);
                }
                self.progress = match lookup(self.direction, last, None) {
                    Lookup::Known(name, shape) => Progress::Shaped(name, shape),
                    Lookup::NeedsSub(family) => Progress::NeedsSub(family),
                    Lookup::Unknown => {
                        return Err(DecodeError::UnknownCommand {
                            message: self.index,
                            offset: at,
                            name: last.chars().take(32).collect(),
                        })
                    }
                };
            }
            Progress::NeedsSub(family) => {
                let name = self.line(buf, 0);
                self.progress = match lookup(self.direction, name, Some(last)) {
                    Lookup::Known(name, shape) => Progress::Shaped(name, shape),
                    _ => {
                        return Err(DecodeError::UnknownSubCommand {
                            message: self.index,
                            name: family,
                            offset: at,
                            sub: last.chars().take(32).collect(),
                        })
                    }
                };
            }
            Progress::Shaped(..) => {}
        }
        let Progress::Shaped(name, shape) = self.progress else {
            return Ok(false);
        };
        match shape {
            Shape::Fixed { lines, end } => {
                if n < lines {
                    return Ok(false);
                }
                if end && self.line(buf, n - 1) != "e" {
                    return Err(DecodeError::ExpectedEnd {
                        message: self.index,
                        name,
                        line: n,
                        offset: at,
                    });
                }
                Ok(true)
            }
            Shape::Variable { header } => {
                if n > header && self.line(buf, n - 1) == "e" {
                    return Ok(true);
                }
                if n > header + self.limits.max_args {
                    return Err(DecodeError::TooManyArguments {
                        message: self.index,
                        name,
                        offset: self.offset,
                        max: self.limits.max_args,
                    });
                }
                Ok(false)
            }
        }
    }

    /// Parses the complete message, removes its bytes and resets for the next.
    fn emit(&mut self, buf: &mut BytesMut) -> Result<Step<Message>, DecodeError> {
        let lines: Vec<&str> = (0..self.lines.len()).map(|i| self.line(buf, i)).collect();
        let result = if let Progress::Shaped(name, _) = self.progress {
            Command::from_lines(self.direction, &lines)
                .map(Message::Command)
                .map_err(|(i, error)| DecodeError::BadValue {
                    message: self.index,
                    name,
                    line: i + 1,
                    offset: self.offset + self.lines[i].0 as u64,
                    error,
                })
        } else {
            Reply::parse(lines[0])
                .map(Message::Reply)
                .map_err(|error| DecodeError::BadReply {
                    message: self.index,
                    offset: self.offset,
                    error,
                })
        };
        let consumed = self.scanned;
        buf.advance(consumed);
        self.offset += consumed as u64;
        self.index += 1;
        self.lines.clear();
        self.scanned = 0;
        self.progress = Progress::Start;
        result.map(Step::Item)
    }
}

#[cfg(test)]
mod tests {
    use super::super::value::{Spelling, Value, ValueError};
    use super::*;

    fn decode_all(dir: Direction, wire: &[u8], chunk: usize) -> Result<Vec<Message>, DecodeError> {
        let mut dec = Py4jDecoder::new(dir);
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        let mut fed = 0;
        loop {
            match dec.decode(&mut buf)? {
                Step::Item(m) => out.push(m),
                Step::NeedMore if fed == wire.len() => {
                    dec.finish(&buf)?;
                    return Ok(out);
                }
                Step::NeedMore => {
                    let n = chunk.min(wire.len() - fed);
                    buf.extend_from_slice(&wire[fed..fed + n]);
                    fed += n;
                }
            }
        }
    }

    fn round_trip(dir: Direction, wire: &[u8]) -> Vec<Message> {
        let whole = decode_all(dir, wire, usize::MAX).unwrap();
        for chunk in [1, 2, 3, 7] {
            assert_eq!(decode_all(dir, wire, chunk).unwrap(), whole);
        }
        let mut again = Vec::new();
        whole.iter().for_each(|m| m.encode(&mut again));
        assert_eq!(
            String::from_utf8_lossy(&again),
            String::from_utf8_lossy(wire)
        );
        whole
    }

    #[test]
    fn every_python_to_java_form_round_trips() {
        let wire = concat!(
            "A\n71d6d2cf\n",
            "j\ni\nrj\norg.apache.spark.SparkConf\ne\n",
            "r\nu\nSparkConf\nrj\ne\n",
            "i\norg.apache.spark.SparkConf\nbTrue\ne\n",
            "c\no0\nset\nsspark.master\nslocal[2]\ne\n",
            "c\nz:org.apache.spark.api.python.PythonRDD\ncollectAndServe\nro33\ne\n",
            "c\nt\nnoArgs\ne\n",
            "f\ng\no1\nfield\ne\n",
            "f\ns\no1\nfield\ni5\ne\n",
            "r\nm\norg.apache.spark.util.Utils\ngetLocalDir\ne\n",
            "r\nc\njava.lang.String\ne\n",
            "j\nc\nsmyview\ne\n",
            "j\nr\nro3\njava.util.*\ne\n",
            "a\ng\no7\ni0\ne\n",
            "a\ns\no7\ni0\nsx\ne\n",
            "a\nl\no7\ni0\ni2\ne\n",
            "a\ne\no7\ne\n",
            "a\nc\nsjava.lang.String\ni2\ni3\ne\n",
            "l\ns\no8\ne\nl\nr\no8\ne\nl\nx\no8\ne\nl\nn\no8\ne\n",
            "l\nl\no8\ni1\ni2\ne\n",
            "l\na\no8\no9\ne\n",
            "l\nm\no8\ni3\ne\nl\ni\no8\ni2\ne\n",
            "l\nf\no8\nsx\ne\n",
            "m\nd\no8\ne\n",
            "h\no\no1\nn\nbTrue\ne\n",
            "h\nc\njava.lang.String\nsreplace(*\nbFalse\ne\n",
            "p\nro34\ne\n",
            "d\nf\no1\ne\nd\nm\no1\ne\nd\ns\njava.lang.String\ne\nd\nv\nrj\nn\ne\n",
            "S\no1\nread\ne\n",
            "!ysfrom a python proxy\n",
            "z\n127.0.0.1\n40000\n25333\n",
            "s\n",
        );
        let msgs = round_trip(Direction::ToJava, wire.as_bytes());
        assert_eq!(msgs.len(), 39);
        assert_eq!(
            msgs[3],
            Message::Command(Command::Constructor {
                class: "org.apache.spark.SparkConf".into(),
                args: vec![Value::Bool(true, Spelling::Python)],
            })
        );
        assert_eq!(msgs[38], Message::Command(Command::Shutdown));
    }

    #[test]
    fn every_java_to_python_form_round_trips() {
        let wire = "A\ntoken\ne\n!yv\nc\np0\nrun\nro5\nlo6\ni1\ne\ng\np0\ne\n!xro34\n";
        let msgs = round_trip(Direction::ToPython, wire.as_bytes());
        assert_eq!(
            msgs[0],
            Message::Command(Command::CallbackAuth {
                token: "token".into()
            })
        );
        assert_eq!(
            msgs[3],
            Message::Command(Command::ProxyCollected { proxy: "p0".into() })
        );
    }

    #[test]
    fn a_method_named_e_is_a_header_line_not_the_end() {
        let msgs = round_trip(Direction::ToJava, b"c\ne\ne\ne\n");
        assert_eq!(
            msgs,
            vec![Message::Command(Command::Call {
                target: "e".into(),
                method: "e".into(),
                args: vec![]
            })]
        );
    }

    #[test]
    fn a_bad_value_skips_its_command_and_decoding_goes_on() {
        let mut dec = Py4jDecoder::new(Direction::ToJava);
        let mut buf = BytesMut::from(&b"c\no1\nm\ni1\ni007\ne\nm\nd\no1\ne\n"[..]);
        let err = dec.decode(&mut buf).unwrap_err();
        assert_eq!(
            err,
            DecodeError::BadValue {
                message: 0,
                name: "call",
                line: 5,
                offset: 10,
                error: ValueError::Int
            }
        );
        assert!(!err.is_stream_corrupt());
        assert_eq!(
            dec.decode(&mut buf).unwrap(),
            Step::Item(Message::Command(Command::MemoryDelete {
                target: "o1".into()
            }))
        );
        assert_eq!(dec.messages(), 2);
    }

    #[test]
    fn framing_errors_name_message_line_and_offset() {
        let cases: &[(&[u8], DecodeError)] = &[
            (
                b"m\nd\no1\ne\nq\n",
                DecodeError::UnknownCommand {
                    message: 1,
                    offset: 9,
                    name: "q".into(),
                },
            ),
            (
                b"a\nq\n",
                DecodeError::UnknownSubCommand {
                    message: 0,
                    name: "array",
                    offset: 2,
                    sub: "q".into(),
                },
            ),
            (
                b"m\nd\no1\nx\n",
                DecodeError::ExpectedEnd {
                    message: 0,
                    name: "memory delete",
                    line: 4,
                    offset: 7,
                },
            ),
            (
                b"c\no1\r\n",
                DecodeError::CarriageReturn {
                    message: 0,
                    line: 2,
                    offset: 2,
                },
            ),
            (
                b"c\no\xff\n",
                DecodeError::InvalidUtf8 {
                    message: 0,
                    line: 2,
                    offset: 2,
                },
            ),
            (
                b"c\no1\nm\ni1\n",
                DecodeError::Truncated {
                    message: 0,
                    name: "call",
                    offset: 0,
                    lines: 4,
                },
            ),
            (
                b"c",
                DecodeError::Truncated {
                    message: 0,
                    name: "message",
                    offset: 0,
                    lines: 0,
                },
            ),
            (
                b"g\np0\ne\n",
                DecodeError::UnknownCommand {
                    message: 0,
                    offset: 0,
                    name: "g".into(),
                },
            ),
        ];
        for (wire, want) in cases {
            let got = decode_all(Direction::ToJava, wire, usize::MAX).unwrap_err();
            assert_eq!(&got, want, "{}", String::from_utf8_lossy(wire));
            assert_eq!(decode_all(Direction::ToJava, wire, 1).unwrap_err(), got);
        }
    }

    #[test]
    fn corrupt_streams_stay_failed() {
        let mut dec = Py4jDecoder::new(Direction::ToJava);
        let mut buf = BytesMut::from(&b"q\nm\nd\no1\ne\n"[..]);
        let e = dec.decode(&mut buf).unwrap_err();
        assert!(e.is_stream_corrupt());
        assert_eq!(dec.decode(&mut buf).unwrap_err(), e);
    }

    fn limits(max_line_len: usize, max_args: usize, max_command_len: usize) -> Limits {
        Limits {
            max_line_len,
            max_args,
            max_command_len,
        }
    }

    #[test]
    fn line_limit_exactly_and_one_over() {
        // "sabc" is 4 bytes.
        let wire = b"c\no1\nm\nsabc\ne\n";
        let mut dec = Py4jDecoder::with_limits(Direction::ToJava, limits(4, 10, 100));
        let mut buf = BytesMut::from(&wire[..]);
        assert!(matches!(dec.decode(&mut buf), Ok(Step::Item(_))));
        let mut dec = Py4jDecoder::with_limits(Direction::ToJava, limits(3, 10, 100));
        let mut buf = BytesMut::from(&b"c\no1\nm\nsabc"[..]);
        // Refused while the line is still incomplete: 4 bytes > 3.
        let e = dec.decode(&mut buf).unwrap_err();
        assert_eq!(
            e,
            DecodeError::LineTooLong {
                message: 0,
                line: 4,
                offset: 7,
                max: 3
            }
        );
    }

    /// Found by the fuzzer: which limit fails must not depend on chunking.
    #[test]
    fn the_first_crossed_limit_wins_in_any_chunking() {
        let wire = b"f\ng\no1\nf\ne\n";
        for chunk in [1, 3, usize::MAX] {
            let mut dec = Py4jDecoder::with_limits(Direction::ToJava, limits(1, 0, 4));
            let mut buf = BytesMut::new();
            let mut fed = 0;
            let err = loop {
                match dec.decode(&mut buf) {
                    Ok(Step::NeedMore) => {
                        let n = chunk.min(wire.len() - fed);
                        buf.extend_from_slice(&wire[fed..fed + n]);
                        fed += n;
                    }
                    Ok(Step::Item(m)) => panic!("decoded {m:?}"),
                    Err(e) => break e,
                }
            };
            assert_eq!(
                err,
                DecodeError::CommandTooLong {
                    message: 0,
                    name: "field get",
                    offset: 0,
                    max: 4
                },
                "chunk {chunk}"
            );
        }
    }

    #[test]
    fn argument_and_command_limits_exactly_and_one_over() {
        let wire = b"c\no1\nm\ni1\ni2\ne\n";
        let ok = |l: Limits| {
            let mut dec = Py4jDecoder::with_limits(Direction::ToJava, l);
            dec.decode(&mut BytesMut::from(&wire[..]))
        };
        assert!(matches!(ok(limits(10, 2, wire.len())), Ok(Step::Item(_))));
        assert_eq!(
            ok(limits(10, 1, 100)).unwrap_err(),
            DecodeError::TooManyArguments {
                message: 0,
                name: "call",
                offset: 0,
                max: 1
            }
        );
        assert_eq!(
            ok(limits(10, 2, wire.len() - 1)).unwrap_err(),
            DecodeError::CommandTooLong {
                message: 0,
                name: "call",
                offset: 0,
                max: wire.len() - 1
            }
        );
    }
}
