//! Errors of the worker-protocol codecs: what was expected, in which section,
//! at which byte offset.

use std::fmt;
use std::sync::Arc;

use thiserror::Error;

use super::eval_type::EvalType;
use super::version::{CommandKind, SparkVersion};

/// A task header could not be decoded or encoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HeaderError {
    /// A field holds a value the worker would refuse.
    #[error("task header, field {field} at byte {offset}: {why}")]
    Field {
        /// The field (spec name).
        field: &'static str,
        /// Offset of the field from the start of the header.
        offset: u64,
        /// What was wrong.
        why: FieldProblem,
    },
    /// 4.3's init message length does not match its body.
    #[error("init message declares {declared} bytes but its fields take {consumed}")]
    InitLength {
        /// The `i32` after START_OF_INIT_MESSAGE.
        declared: u64,
        /// What the fields used.
        consumed: u64,
    },
    /// A value cannot be written in this version's layout.
    #[error("cannot encode for Spark {version}: {why}")]
    Unencodable {
        /// The layout being written.
        version: SparkVersion,
        /// What the layout has no room for.
        why: EncodeProblem,
    },
}

/// Why a header field was refused while decoding ([`HeaderError::Field`]).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FieldProblem {
    /// A one-byte bool other than 0 or 1.
    #[error("a bool must be 0 or 1, found {found}")]
    NotBool {
        /// The byte read.
        found: u8,
    },
    /// A negative element count (Python's `range` would silently run zero times).
    #[error("negative count {count}")]
    NegativeCount {
        /// The `i32` read.
        count: i32,
    },
    /// A negative length where a byte string was expected.
    #[error("length {len} where bytes were expected")]
    NegativeLength {
        /// The `i32` read.
        len: i32,
    },
    /// A declared length over the per-field limit (refused, not waited for).
    #[error("length {len} exceeds the {max}-byte field limit")]
    TooLong {
        /// The declared length.
        len: u64,
        /// The limit.
        max: u64,
    },
    /// A string that is not UTF-8.
    #[error("not UTF-8 after byte {valid_up_to}")]
    NotUtf8 {
        /// Length of the valid prefix.
        valid_up_to: u64,
    },
    /// A marker other than the one this position requires.
    #[error("expected {expected}, found {found}")]
    UnexpectedMarker {
        /// The marker the layout requires.
        expected: i32,
        /// The `i32` read.
        found: i32,
    },
    /// The JSON task context does not parse.
    #[error("invalid JSON: {0}")]
    InvalidJson(JsonError),
    /// The JSON task context parses but is not an object.
    #[error("the task context is not a JSON object")]
    NotJsonObject,
    /// A required integer key of the JSON task context is absent or not an
    /// integer.
    #[error("missing integer {key:?}")]
    MissingJsonInteger {
        /// The key.
        key: &'static str,
    },
    /// A required bool key of the JSON task context is absent or not a bool.
    #[error("missing bool {key:?}")]
    MissingJsonBool {
        /// The key.
        key: &'static str,
    },
    /// An integer of the JSON task context does not fit the field's `i32`.
    #[error("{key:?} out of range")]
    JsonOutOfRange {
        /// The key.
        key: &'static str,
    },
}

/// Why a header cannot be written in a version's layout
/// ([`HeaderError::Unencodable`]).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EncodeProblem {
    /// A string, byte string or count does not fit the layout's `i32` length.
    #[error("{field} is longer than 2^31 - 1 bytes")]
    TooLong {
        /// The field.
        field: &'static str,
    },
    /// An optional field is set but this version does not send it.
    #[error("{field} is not sent here")]
    NotSent {
        /// The field.
        field: &'static str,
    },
    /// An optional field is unset but this version requires it.
    #[error("{field} is required here")]
    Required {
        /// The field.
        field: &'static str,
    },
    /// The command is not of the kind the eval type takes in this version.
    #[error("eval type {eval_type} takes a {expected} command")]
    WrongCommand {
        /// The header's eval type.
        eval_type: EvalType,
        /// The kind of command it takes.
        expected: CommandKind,
    },
    /// An argument has a keyword but the eval type sends no `isKwarg` flags.
    #[error("keyword arguments are not sent for this eval type")]
    KeywordArguments,
    /// A barrier server on a Unix socket (before 4.1).
    #[error("a barrier Unix socket needs 4.1 or later")]
    BarrierUnixSocket,
    /// A broadcast decryption server on a Unix socket (before 4.1).
    #[error("a broadcast Unix socket needs 4.1 or later")]
    BroadcastUnixSocket,
    /// A state server on a Unix socket (state servers are sent before 4.2 only,
    /// Unix sockets from 4.1).
    #[error("a state server Unix socket needs 4.1")]
    StateServerUnixSocket,
    /// Header conf maps before 4.2, whose headers have none.
    #[error("the header carries no conf maps before 4.2 (UDF commands carry their own)")]
    HeaderConfMaps,
}

/// serde_json's error for a task context that does not parse, displayed as
/// serde_json displays it. Shared, so that [`HeaderError`] stays `Clone`;
/// two are equal when their category, position and message are.
#[derive(Debug, Clone)]
pub struct JsonError(Arc<serde_json::Error>);

impl JsonError {
    /// The parser's error.
    pub fn get_ref(&self) -> &serde_json::Error {
        &self.0
    }
}

impl From<serde_json::Error> for JsonError {
    fn from(e: serde_json::Error) -> JsonError {
        JsonError(Arc::new(e))
    }
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl PartialEq for JsonError {
    fn eq(&self, other: &JsonError) -> bool {
        let (a, b) = (&*self.0, &*other.0);
        a.classify() == b.classify()
            && a.line() == b.line()
            && a.column() == b.column()
            && a.to_string() == b.to_string()
    }
}

impl Eq for JsonError {}

/// A worker reply could not be decoded.
#[derive(Debug, Error)]
pub enum ReplyError {
    /// The framing is broken.
    #[error("worker reply: {0}")]
    Frame(#[from] sparkwire_framing::DecodeError),
    /// A marker that cannot come at this point.
    #[error("worker reply, {section} at byte {offset}: unexpected {value}")]
    Unexpected {
        /// Where in the reply.
        section: &'static str,
        /// Offset.
        offset: u64,
        /// The value read.
        value: i32,
    },
    /// The input ended before the reply did.
    #[error("worker reply: the input ends at byte {offset}, inside the reply")]
    Truncated {
        /// Bytes decoded.
        offset: u64,
    },
    /// The Arrow stream after START_ARROW_STREAM is malformed.
    #[error("worker reply, Arrow stream at byte {offset}: {source}")]
    Arrow {
        /// Offset of the failing message in the reply.
        offset: u64,
        /// What was wrong.
        #[source]
        source: sparkwire_serializers::pyspark::LoadError,
    },
    /// Bytes after the reply ended (the caller may tolerate them: spec §10).
    #[error("worker reply ended at byte {offset}; {extra} more bytes follow")]
    Trailing {
        /// Where the reply ended.
        offset: u64,
        /// How many bytes follow.
        extra: u64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(field: &'static str, offset: u64, why: FieldProblem) -> String {
        HeaderError::Field { field, offset, why }.to_string()
    }

    fn unencodable(version: SparkVersion, why: EncodeProblem) -> String {
        HeaderError::Unencodable { version, why }.to_string()
    }

    /// The texts are the ones the `format!` calls printed before the reasons
    /// became enums; `sparkwire decode` shows them on damaged input.
    #[test]
    fn field_problems_print_as_before() {
        let cases = [
            (
                field("isBarrier", 12, FieldProblem::NotBool { found: 2 }),
                "task header, field isBarrier at byte 12: a bool must be 0 or 1, found 2",
            ),
            (
                field("resources", 40, FieldProblem::NegativeCount { count: -1 }),
                "task header, field resources at byte 40: negative count -1",
            ),
            (
                field("command", 7, FieldProblem::NegativeLength { len: -3 }),
                "task header, field command at byte 7: length -3 where bytes were expected",
            ),
            (
                field(
                    "python version",
                    4,
                    FieldProblem::TooLong {
                        len: 2147483647,
                        max: 268435456,
                    },
                ),
                "task header, field python version at byte 4: \
                 length 2147483647 exceeds the 268435456-byte field limit",
            ),
            (
                field(
                    "spark files dir",
                    9,
                    FieldProblem::NotUtf8 { valid_up_to: 3 },
                ),
                "task header, field spark files dir at byte 9: not UTF-8 after byte 3",
            ),
            (
                field(
                    "START_OF_INIT_MESSAGE",
                    0,
                    FieldProblem::UnexpectedMarker {
                        expected: -8,
                        found: 5,
                    },
                ),
                "task header, field START_OF_INIT_MESSAGE at byte 0: expected -8, found 5",
            ),
            (
                field("task context", 12, FieldProblem::NotJsonObject),
                "task header, field task context at byte 12: the task context is not a JSON object",
            ),
            (
                field(
                    "task context",
                    12,
                    FieldProblem::MissingJsonInteger { key: "stageId" },
                ),
                r#"task header, field task context at byte 12: missing integer "stageId""#,
            ),
            (
                field(
                    "task context",
                    12,
                    FieldProblem::MissingJsonBool { key: "isBarrier" },
                ),
                r#"task header, field task context at byte 12: missing bool "isBarrier""#,
            ),
            (
                field(
                    "task context",
                    12,
                    FieldProblem::JsonOutOfRange { key: "cpus" },
                ),
                r#"task header, field task context at byte 12: "cpus" out of range"#,
            ),
        ];
        for (got, want) in cases {
            assert_eq!(got, want);
        }
    }

    #[test]
    fn invalid_json_prints_serde_json_s_own_message() {
        let e = serde_json::from_str::<serde_json::Value>("{").unwrap_err();
        let why = FieldProblem::InvalidJson(e.into());
        assert_eq!(
            field("task context", 12, why.clone()),
            "task header, field task context at byte 12: \
             invalid JSON: EOF while parsing an object at line 1 column 1"
        );
        // Clone and equality survive the shared parser error.
        let again = serde_json::from_str::<serde_json::Value>("{").unwrap_err();
        assert_eq!(why, FieldProblem::InvalidJson(again.into()));
        let other = serde_json::from_str::<serde_json::Value>("[1,").unwrap_err();
        assert_ne!(why, FieldProblem::InvalidJson(other.into()));
    }

    #[test]
    fn encode_problems_print_as_before() {
        let v = SparkVersion::V3_5;
        let cases = [
            (
                unencodable(
                    SparkVersion::V4_3,
                    EncodeProblem::TooLong {
                        field: "init message",
                    },
                ),
                "cannot encode for Spark 4.3: init message is longer than 2^31 - 1 bytes",
            ),
            (
                unencodable(
                    v,
                    EncodeProblem::NotSent {
                        field: "the profiler flag",
                    },
                ),
                "cannot encode for Spark 3.5: the profiler flag is not sent here",
            ),
            (
                unencodable(
                    SparkVersion::V4_0,
                    EncodeProblem::Required {
                        field: "the UDTF name",
                    },
                ),
                "cannot encode for Spark 4.0: the UDTF name is required here",
            ),
            (
                unencodable(
                    v,
                    EncodeProblem::WrongCommand {
                        eval_type: EvalType::SQL_BATCHED_UDF,
                        expected: CommandKind::Udfs,
                    },
                ),
                "cannot encode for Spark 3.5: eval type 100 takes a UDF command",
            ),
            (
                unencodable(
                    v,
                    EncodeProblem::WrongCommand {
                        eval_type: EvalType::NON_UDF,
                        expected: CommandKind::NonUdf,
                    },
                ),
                "cannot encode for Spark 3.5: eval type 0 takes a NON_UDF command",
            ),
            (
                unencodable(
                    SparkVersion::V4_1,
                    EncodeProblem::WrongCommand {
                        eval_type: EvalType::SQL_ARROW_UDTF,
                        expected: CommandKind::Udtf,
                    },
                ),
                "cannot encode for Spark 4.1: eval type 302 takes a UDTF command",
            ),
            (
                unencodable(v, EncodeProblem::KeywordArguments),
                "cannot encode for Spark 3.5: keyword arguments are not sent for this eval type",
            ),
            (
                unencodable(v, EncodeProblem::BarrierUnixSocket),
                "cannot encode for Spark 3.5: a barrier Unix socket needs 4.1 or later",
            ),
            (
                unencodable(SparkVersion::V4_0, EncodeProblem::BroadcastUnixSocket),
                "cannot encode for Spark 4.0: a broadcast Unix socket needs 4.1 or later",
            ),
            (
                unencodable(SparkVersion::V4_0, EncodeProblem::StateServerUnixSocket),
                "cannot encode for Spark 4.0: a state server Unix socket needs 4.1",
            ),
            (
                unencodable(SparkVersion::V4_1, EncodeProblem::HeaderConfMaps),
                "cannot encode for Spark 4.1: \
                 the header carries no conf maps before 4.2 (UDF commands carry their own)",
            ),
        ];
        for (got, want) in cases {
            assert_eq!(got, want);
        }
    }
}
