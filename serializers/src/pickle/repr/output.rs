//! What the repr view answers and how it is asked: options, the text with its
//! fidelity, errors, and `repr(int)` (shared by every part of the view).

use num_traits::Signed;

use super::super::decode::Decoded;
use super::super::limits::Limits;
use super::super::value::Int;

/// Why a repr could not be produced.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[allow(missing_docs)]
pub enum ReprError {
    #[error("the repr would expand more than {0} nodes")]
    TooLarge(u64),
    /// Past [`Limits::max_repr_text`] bytes of text.
    #[error("the repr would be longer than {0} bytes")]
    TooLong(u64),
    #[error("Exceeds the limit ({0} digits) for integer string conversion")]
    IntTooLong(usize),
    #[error("node {0} does not exist")]
    Dangling(u32),
}

/// How the repr view reads a graph.
#[derive(Debug, Clone, Default)]
pub struct ReprOptions {
    /// Expansion and integer-size limits.
    pub limits: Limits,
    /// The protocol the pickle was written in, when known (0 for protocols
    /// 0–1, which have no PROTO opcode). Below 3, Python 2 names are mapped
    /// and STRING/BINSTRING bytes load as ASCII `str`, as `pickle.loads`
    /// does by default; unknown maps names and keeps bytes as bytes. (The
    /// graph does not say which opcode made a bytes node, so a BINBYTES
    /// inside a pickle labelled below 3 — which CPython never writes — would
    /// be shown as a `str`.)
    pub protocol: Option<u8>,
}

impl ReprOptions {
    /// The options that make the repr equal `repr(pickle.loads(data))`.
    pub fn for_decoded(d: &Decoded) -> ReprOptions {
        ReprOptions {
            limits: Limits::default(),
            protocol: Some(d.protocol.unwrap_or(0)),
        }
    }
}

/// Where the text may differ from `repr(pickle.loads(data))`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fidelity {
    /// Objects, globals, persistent ids and the like shown as the call that
    /// builds them (or as a value Python would refuse to load).
    pub call_forms: u32,
    /// Sets of more than one element whose order CPython does not fix (their
    /// elements' hashes are randomized or address-based): stored order.
    pub unordered_sets: u32,
}

impl Fidelity {
    /// The text is exactly Python's.
    pub fn is_exact(&self) -> bool {
        self.call_forms == 0 && self.unordered_sets == 0
    }
}

/// A repr and how faithful it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repr {
    /// The text.
    pub text: String,
    /// Where it may differ from Python's.
    pub fidelity: Fidelity,
}

/// `repr(int)`, refusing more than `max_digits` digits as CPython 3.11 does.
pub fn int_repr(v: &Int, max_digits: usize) -> Result<String, ReprError> {
    match v {
        Int::Small(v) => Ok(v.to_string()),
        Int::Big(b) => {
            // Cheap bound first: bits * log10(2) digits, give or take one.
            let bits = b.bits();
            if bits as f64 * std::f64::consts::LOG10_2 > max_digits as f64 + 1.0 {
                return Err(ReprError::IntTooLong(max_digits));
            }
            let s = b.to_string();
            let digits = s.len() - usize::from(b.is_negative());
            if digits > max_digits {
                return Err(ReprError::IntTooLong(max_digits));
            }
            Ok(s)
        }
    }
}
