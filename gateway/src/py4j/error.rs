//! Decoding errors: which message, which line, which byte, what was wrong.

use super::reply::ReplyError;
use super::value::ValueError;

/// A decoding failure. `message` counts the messages (commands and replies)
/// decoded before on this stream, `line` is 1-based within the message, and
/// `offset` is the stream offset of the offending line's first byte.
///
/// [`DecodeError::is_stream_corrupt`] tells the blast radius: a bad value inside
/// a complete, well-framed command has been consumed and the stream goes on; any
/// other error leaves no trustworthy message boundary, and the decoder refuses
/// further input.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// A line grew beyond [`super::Limits::max_line_len`].
    #[error("message {message}, line {line} at byte {offset}: line longer than {max} bytes")]
    LineTooLong {
        /// Message index.
        message: u64,
        /// Line within the message (1-based).
        line: usize,
        /// Offset of the line.
        offset: u64,
        /// The limit.
        max: usize,
    },
    /// A command grew beyond [`super::Limits::max_command_len`].
    #[error("message {message} at byte {offset}: {name} longer than {max} bytes")]
    CommandTooLong {
        /// Message index.
        message: u64,
        /// Command name.
        name: &'static str,
        /// Offset of the command.
        offset: u64,
        /// The limit.
        max: usize,
    },
    /// More argument lines than [`super::Limits::max_args`].
    #[error("message {message} at byte {offset}: {name} has more than {max} arguments")]
    TooManyArguments {
        /// Message index.
        message: u64,
        /// Command name.
        name: &'static str,
        /// Offset of the command.
        offset: u64,
        /// The limit.
        max: usize,
    },
    /// A line that is not UTF-8 (py4j decodes every line as UTF-8).
    #[error("message {message}, line {line} at byte {offset}: not UTF-8")]
    InvalidUtf8 {
        /// Message index.
        message: u64,
        /// Line (1-based).
        line: usize,
        /// Offset of the line.
        offset: u64,
    },
    /// A raw carriage return: Java's `readLine` ends a line there, Python's does
    /// not, so the two peers would frame the stream differently.
    #[error("message {message}, line {line} at byte {offset}: raw carriage return")]
    CarriageReturn {
        /// Message index.
        message: u64,
        /// Line (1-based).
        line: usize,
        /// Offset of the line.
        offset: u64,
    },
    /// The first line names no command of this direction.
    #[error("message {message} at byte {offset}: unknown command {name:?}")]
    UnknownCommand {
        /// Message index.
        message: u64,
        /// Offset of the command.
        offset: u64,
        /// The line (cut to 32 characters).
        name: String,
    },
    /// The sub-command line is not one of the command's.
    #[error("message {message} at byte {offset}: unknown {name} sub-command {sub:?}")]
    UnknownSubCommand {
        /// Message index.
        message: u64,
        /// Command family.
        name: &'static str,
        /// Offset of the sub-command line.
        offset: u64,
        /// The line (cut to 32 characters).
        sub: String,
    },
    /// The line where `e` must end a fixed-length command is something else.
    #[error("message {message}, line {line} at byte {offset}: {name} expected the end line 'e'")]
    ExpectedEnd {
        /// Message index.
        message: u64,
        /// Command name.
        name: &'static str,
        /// Line (1-based).
        line: usize,
        /// Offset of the line.
        offset: u64,
    },
    /// A typed line of a complete command is malformed; the command was consumed
    /// and decoding can go on.
    #[error("message {message}, line {line} at byte {offset}: {name}: {error}")]
    BadValue {
        /// Message index.
        message: u64,
        /// Command name.
        name: &'static str,
        /// Line (1-based).
        line: usize,
        /// Offset of the line.
        offset: u64,
        /// What is wrong with it.
        error: ValueError,
    },
    /// A reply line is malformed; it was consumed and decoding can go on.
    #[error("message {message} at byte {offset}: reply: {error}")]
    BadReply {
        /// Message index.
        message: u64,
        /// Offset of the line.
        offset: u64,
        /// What is wrong with it.
        error: ReplyError,
    },
    /// The input ended inside a message.
    #[error("message {message} at byte {offset}: input ended inside {name} after {lines} complete lines")]
    Truncated {
        /// Message index.
        message: u64,
        /// Command name, or `"message"` when not even the first line is complete.
        name: &'static str,
        /// Offset of the message.
        offset: u64,
        /// Complete lines received.
        lines: usize,
    },
}

impl DecodeError {
    /// Whether the stream has no trustworthy message boundary any more.
    pub fn is_stream_corrupt(&self) -> bool {
        !matches!(
            self,
            DecodeError::BadValue { .. } | DecodeError::BadReply { .. }
        )
    }

    /// The stream offset the error points at.
    pub fn offset(&self) -> u64 {
        use DecodeError::*;
        match self {
            LineTooLong { offset, .. }
            | CommandTooLong { offset, .. }
            | TooManyArguments { offset, .. }
            | InvalidUtf8 { offset, .. }
            | CarriageReturn { offset, .. }
            | UnknownCommand { offset, .. }
            | UnknownSubCommand { offset, .. }
            | ExpectedEnd { offset, .. }
            | BadValue { offset, .. }
            | BadReply { offset, .. }
            | Truncated { offset, .. } => *offset,
        }
    }
}
