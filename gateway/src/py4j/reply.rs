//! Replies: always one line, `!` + status + optional part.

use super::value::{Value, ValueError};

/// A py4j reply line.
///
/// The `!` prefix is what lets a ClientServer peer tell a reply from a
/// re-entrant command on the same socket; py4j 0.10.9.x always writes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// `!y<part>`: success with a value (`!yv` void, `!yro5`, `!yc<fqn>`, …).
    Success(Value),
    /// `!y` alone: Python's acknowledgement of a `g` (proxy collected) callback.
    Ack,
    /// `!x` or `!x<part>`: an error; `!xro7` carries the thrown object, `!xs…`
    /// py4j's own message or trace, `!xn` Python's "failed" answer to a callback
    /// (auth failure, unknown command).
    Error(Option<Value>),
    /// `!z<part>`: the JVM's connection loop itself failed (a trace in an `s`).
    Fatal(Option<Value>),
}

/// Why a reply line is not one py4j writes.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    /// The line does not start with `!`.
    #[error("reply does not start with '!'")]
    NoMarker,
    /// The status letter is not `y`, `x` or `z`.
    #[error("unknown reply status {0:?}")]
    Status(Option<char>),
    /// The value after the status is malformed.
    #[error("reply value: {0}")]
    Value(ValueError),
}

impl Reply {
    /// Parses one reply line (without its `\n`).
    pub fn parse(line: &str) -> Result<Reply, ReplyError> {
        let rest = line.strip_prefix('!').ok_or(ReplyError::NoMarker)?;
        let mut chars = rest.chars();
        let status = chars.next();
        let body = chars.as_str();
        let value = || Value::parse(body).map_err(ReplyError::Value);
        let optional = || {
            if body.is_empty() {
                Ok(None)
            } else {
                value().map(Some)
            }
        };
        match status {
            Some('y') if body.is_empty() => Ok(Reply::Ack),
            Some('y') => value().map(Reply::Success),
            Some('x') => optional().map(Reply::Error),
            Some('z') => optional().map(Reply::Fatal),
            other => Err(ReplyError::Status(other)),
        }
    }

    /// Appends the reply line, `\n` included.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(b'!');
        match self {
            Reply::Success(v) => {
                out.push(b'y');
                v.encode(out);
            }
            Reply::Ack => out.push(b'y'),
            Reply::Error(v) | Reply::Fatal(v) => {
                out.push(if matches!(self, Reply::Error(_)) {
                    b'x'
                } else {
                    b'z'
                });
                if let Some(v) = v {
                    v.encode(out);
                }
            }
        }
        out.push(b'\n');
    }

    /// [`Reply::encode`] into a fresh vector.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_reply_lines() {
        for line in [
            "!yv",
            "!yn",
            "!yro5",
            "!ylo6",
            "!yao7",
            "!yho8",
            "!yto9",
            "!ygo10",
            "!yp",
            "!ycorg.apache.spark.SparkConf",
            "!ym",
            "!yo",
            "!ybtrue",
            "!yL15",
            "!yi65536",
            "!ysa\\nb",
            "!xro34",
            "!xsAuthentication error: bad auth token received.",
            "!x",
            "!xn",
            "!y",
            "!zsjava.lang.RuntimeException\\n\tat x",
        ] {
            let r = Reply::parse(line).unwrap_or_else(|e| panic!("{line}: {e}"));
            let mut again = r.to_bytes();
            assert_eq!(again.pop(), Some(b'\n'));
            assert_eq!(again, line.as_bytes());
        }
        assert_eq!(Reply::parse("!yv"), Ok(Reply::Success(Value::Void)));
        assert_eq!(Reply::parse("!x"), Ok(Reply::Error(None)));
    }

    #[test]
    fn refuses_malformed_replies() {
        assert_eq!(Reply::parse("yv"), Err(ReplyError::NoMarker));
        assert_eq!(Reply::parse("!"), Err(ReplyError::Status(None)));
        assert_eq!(Reply::parse("!qv"), Err(ReplyError::Status(Some('q'))));
        assert_eq!(
            Reply::parse("!yi1.5"),
            Err(ReplyError::Value(ValueError::Int))
        );
    }
}
