//! The writer for decoded values: the type codes, flags and references they
//! were read with, so decoding then encoding gives back the same bytes.

use num_bigint::Sign;

use super::error::MarshalError;
use super::model::{IntCode, MNodeId, MValue, Marshalled, StrCode, FLAG_REF};
use crate::pickle::{Int, PyStr};

/// Writes a decoded value back: the same type codes, flags and references.
pub fn encode(m: &Marshalled) -> Result<Vec<u8>, MarshalError> {
    let mut out = Vec::new();
    let root = m
        .root
        .ok_or(MarshalError::Unmarshallable("value without a root"))?;
    // Explicit stack: items are written in pre-order; dicts need a terminator.
    enum Task {
        Node(MNodeId),
        Byte(u8),
    }
    let mut tasks = vec![Task::Node(root)];
    while let Some(t) = tasks.pop() {
        let id = match t {
            Task::Byte(b) => {
                out.push(b);
                continue;
            }
            Task::Node(id) => id,
        };
        let node = m
            .get(id)
            .ok_or(MarshalError::Unmarshallable("dangling node"))?;
        let flag = if node.flagged { FLAG_REF } else { 0 };
        match &node.value {
            MValue::None => out.push(b'N' | flag),
            MValue::True => out.push(b'T' | flag),
            MValue::False => out.push(b'F' | flag),
            MValue::Ellipsis => out.push(b'.' | flag),
            MValue::StopIteration => out.push(b'S' | flag),
            MValue::Int(v, code) => write_int(&mut out, v, *code, flag),
            MValue::Float(v) => {
                out.push(b'g' | flag);
                out.extend_from_slice(&v.to_le_bytes());
            }
            MValue::FloatText(t) => {
                out.push(b'f' | flag);
                out.push(t.len() as u8);
                out.extend_from_slice(t);
            }
            MValue::Complex(re, im) => {
                out.push(b'y' | flag);
                out.extend_from_slice(&re.to_le_bytes());
                out.extend_from_slice(&im.to_le_bytes());
            }
            MValue::ComplexText(re, im) => {
                out.push(b'x' | flag);
                for t in [re, im] {
                    out.push(t.len() as u8);
                    out.extend_from_slice(t);
                }
            }
            MValue::Str(s, code) => write_str(&mut out, s, *code, flag),
            MValue::Bytes(b) => {
                out.push(b's' | flag);
                out.extend_from_slice(&(b.len() as u32).to_le_bytes());
                out.extend_from_slice(b);
            }
            MValue::Tuple(items, small) => {
                if *small {
                    out.push(b')' | flag);
                    out.push(items.len() as u8);
                } else {
                    out.push(b'(' | flag);
                    out.extend_from_slice(&(items.len() as u32).to_le_bytes());
                }
                tasks.extend(items.iter().rev().map(|&c| Task::Node(c)));
            }
            MValue::List(items) | MValue::Set(items) | MValue::FrozenSet(items) => {
                let c = match node.value {
                    MValue::List(_) => b'[',
                    MValue::Set(_) => b'<',
                    _ => b'>',
                };
                out.push(c | flag);
                out.extend_from_slice(&(items.len() as u32).to_le_bytes());
                tasks.extend(items.iter().rev().map(|&c| Task::Node(c)));
            }
            MValue::Dict(pairs) => {
                out.push(b'{' | flag);
                tasks.push(Task::Byte(b'0'));
                for &(k, v) in pairs.iter().rev() {
                    tasks.push(Task::Node(v));
                    tasks.push(Task::Node(k));
                }
            }
            MValue::Ref(n) => {
                // CPython never flags a reference, but its reader accepts one.
                out.push(b'r' | flag);
                out.extend_from_slice(&n.to_le_bytes());
            }
        }
    }
    Ok(out)
}

/// One int as `code` says, or as `l` when an `i` cannot hold it.
pub(super) fn write_int(out: &mut Vec<u8>, v: &Int, code: IntCode, flag: u8) {
    if let (IntCode::I32, Some(x)) = (code, v.as_i64().and_then(|x| i32::try_from(x).ok())) {
        out.push(b'i' | flag);
        out.extend_from_slice(&x.to_le_bytes());
        return;
    }
    out.push(b'l' | flag);
    let big = v.to_big();
    let (sign, mut mag) = (big.sign(), big.magnitude().clone());
    let mut digits = Vec::new();
    let mask = num_bigint::BigUint::from(0x7fffu32);
    while mag.bits() > 0 {
        let d = (&mag & &mask).to_u32_digits().first().copied().unwrap_or(0) as u16;
        digits.push(d);
        mag >>= 15;
    }
    let n = digits.len() as i32;
    out.extend_from_slice(&(if sign == Sign::Minus { -n } else { n }).to_le_bytes());
    for d in digits {
        out.extend_from_slice(&d.to_le_bytes());
    }
}

/// One str under `code`: ASCII codes write a byte per code point, after a u8
/// length for the short forms and a u32 one otherwise.
pub(super) fn write_str(out: &mut Vec<u8>, s: &PyStr, code: StrCode, flag: u8) {
    out.push(code.byte() | flag);
    match code {
        StrCode::ShortAscii
        | StrCode::ShortAsciiInterned
        | StrCode::Ascii
        | StrCode::AsciiInterned => {
            let raw: Vec<u8> = s.code_points().map(|c| c as u8).collect();
            if matches!(code, StrCode::ShortAscii | StrCode::ShortAsciiInterned) {
                out.push(raw.len() as u8);
            } else {
                out.extend_from_slice(&(raw.len() as u32).to_le_bytes());
            }
            out.extend_from_slice(&raw);
        }
        StrCode::Unicode | StrCode::Interned => {
            out.extend_from_slice(&(s.as_bytes().len() as u32).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        }
    }
}
