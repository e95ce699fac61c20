//! Typed errors of the pickle layer. Every decoding error names the byte offset
//! of the opcode it happened at and, where there is one, the opcode.

use super::op::Op;

fn op_name(op: &Option<Op>) -> &'static str {
    op.map(Op::name).unwrap_or("pickle")
}

/// Why a pickle could not be decoded (or disassembled).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[allow(missing_docs)]
pub enum DecodeError {
    #[error("byte {offset}: {}: data ends early: {what}", op_name(.op))]
    Truncated {
        offset: u64,
        op: Option<Op>,
        what: String,
    },
    #[error("byte {offset}: unknown opcode 0x{byte:02x}")]
    UnknownOpcode { offset: u64, byte: u8 },
    #[error("byte {offset}: the pickle ended before STOP")]
    NoStop { offset: u64 },
    #[error("byte {offset}: {}: invalid argument: {what}", .op.name())]
    BadArgument { offset: u64, op: Op, what: String },
    #[error("byte {offset}: {}: stack underflow", .op.name())]
    StackUnderflow { offset: u64, op: Op },
    #[error("byte {offset}: {}: could not find MARK", .op.name())]
    NoMark { offset: u64, op: Op },
    #[error("byte {offset}: {}: memo index {index} was never stored", .op.name())]
    MemoMissing { offset: u64, op: Op, index: u64 },
    #[error("byte {offset}: {}: odd number of items", .op.name())]
    OddItems { offset: u64, op: Op },
    #[error("byte {offset}: unsupported pickle protocol {proto}")]
    UnsupportedProtocol { offset: u64, proto: u8 },
    #[error("byte {offset}: {}: invalid UTF-8 at byte {at} of the string", .op.name())]
    InvalidUtf8 { offset: u64, op: Op, at: u64 },
    #[error("byte {offset}: {}: expected {expected}, found {found}", .op.name())]
    WrongType {
        offset: u64,
        op: Op,
        expected: &'static str,
        found: &'static str,
    },
    #[error("byte {offset}: {}: {limit} limit of {max} exceeded", op_name(.op))]
    Limit {
        offset: u64,
        op: Option<Op>,
        limit: &'static str,
        max: u64,
    },
}

impl DecodeError {
    /// The byte offset of the opcode the error happened at.
    pub fn offset(&self) -> u64 {
        match self {
            DecodeError::Truncated { offset, .. }
            | DecodeError::UnknownOpcode { offset, .. }
            | DecodeError::NoStop { offset }
            | DecodeError::BadArgument { offset, .. }
            | DecodeError::StackUnderflow { offset, .. }
            | DecodeError::NoMark { offset, .. }
            | DecodeError::MemoMissing { offset, .. }
            | DecodeError::OddItems { offset, .. }
            | DecodeError::UnsupportedProtocol { offset, .. }
            | DecodeError::InvalidUtf8 { offset, .. }
            | DecodeError::WrongType { offset, .. }
            | DecodeError::Limit { offset, .. } => *offset,
        }
    }
}

/// Why a value graph could not be encoded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[allow(missing_docs)]
pub enum EncodeError {
    #[error("protocol {0} is not supported by this encoder")]
    UnsupportedProtocol(u8),
    #[error("node {node}: {what} cannot be pickled with protocol {protocol}")]
    NeedsProtocol {
        node: u32,
        what: &'static str,
        protocol: u8,
    },
    #[error("node {node}: {what}")]
    Unencodable { node: u32, what: String },
    #[error("the graph has no root")]
    NoRoot,
    #[error("node {0} does not exist")]
    DanglingNode(u32),
    #[error("nesting deeper than {0} (a tuple that contains itself?)")]
    TooDeep(usize),
    /// Shared nodes the profile writes out again at every reference expand
    /// past this many saves (a graph can share a node along exponentially many
    /// paths).
    #[error(
        "writing the graph out would take more than {0} node saves (nodes shared without a memo)"
    )]
    TooLarge(usize),
}
