//! Atoms: the values CPython's pickler writes without a memo entry and
//! without saving anything else (None, bools, ints that fit an `i64`,
//! floats), each as one fixed-size word, and runs of them written in one
//! loop (protocol 2 and up, where their opcodes are binary).
//!
//! A run takes a slice of children plus the graph, so it serves any container
//! that holds its children as `NodeId`s.

use super::out::{Atom, Out};
use crate::pickle::value::{Graph, Int, NodeId, Value};

/// BININT1 / BININT2 / BININT, else LONG1 with the minimal two's complement
/// (CPython's `encode_long`).
#[inline(always)]
pub(super) fn int_atom(v: i64) -> Atom {
    let (op, len) = if (0..=0xff).contains(&v) {
        (b'K', 2)
    } else if (0..=0xffff).contains(&v) {
        (b'M', 3)
    } else if i32::try_from(v).is_ok() {
        (b'J', 5)
    } else {
        // Bits of the magnitude plus a sign bit, in whole bytes.
        let m = if v < 0 { !v } else { v };
        let n = (64 - m.leading_zeros() as usize + 1).div_ceil(8);
        let u = v as u64;
        return Atom {
            lo: 0x8a | (n as u64) << 8 | u << 16,
            hi: u >> 48,
            len: 2 + n,
        };
    };
    // The opcode, then the value's low bytes (those past `len` are cut).
    Atom {
        lo: op as u64 | (v as u32 as u64) << 8,
        hi: 0,
        len,
    }
}

/// BINFLOAT: the big-endian IEEE bits.
#[inline(always)]
pub(super) fn float_atom(f: f64) -> Atom {
    let be = f.to_bits().swap_bytes();
    Atom {
        lo: b'G' as u64 | be << 8,
        hi: be >> 56,
        len: 9,
    }
}

/// NONE.
pub(super) const NONE: Atom = Atom {
    lo: b'N' as u64,
    hi: 0,
    len: 1,
};

/// NEWTRUE / NEWFALSE.
#[inline(always)]
pub(super) fn bool_atom(b: bool) -> Atom {
    Atom {
        lo: if b { 0x88 } else { 0x89 },
        hi: 0,
        len: 1,
    }
}

/// What protocol 2+ writes for `v` when it is an atom.
#[inline(always)]
pub(super) fn atom(v: &Value) -> Option<Atom> {
    Some(match v {
        Value::Int(Int::Small(i)) => int_atom(*i),
        Value::Float(f) => float_atom(*f),
        Value::None => NONE,
        Value::Bool(b) => bool_atom(*b),
        _ => return None,
    })
}

/// Saves the leading atoms of `items` (protocol 2+), each after its opcode
/// boundary, as `save()` would; returns how many were written. Stops at the
/// first child that is not an atom of `g`.
///
/// Atoms are gathered in a block on the stack while the open frame has room
/// (so no boundary can commit it) and appended a block at a time; the atom at
/// which the frame reaches its target goes the slow way ([`Out::atom`]).
pub(super) fn atom_run(out: &mut Out, g: &Graph, items: &[NodeId]) -> usize {
    const BLOCK: usize = 512;
    const MAX_ATOM: usize = 16;
    match items.first() {
        Some(&id) if g.try_get(id).and_then(atom).is_some() => {}
        _ => return 0,
    }
    let mut block = [0u8; BLOCK];
    let mut k = 0;
    while k < items.len() {
        let room = out.room();
        if room == 0 {
            let Some(a) = g.try_get(items[k]).and_then(atom) else {
                return k;
            };
            out.atom(&a);
            k += 1;
            continue;
        }
        let start = k;
        let mut pos = 0;
        while pos < room && pos <= BLOCK - MAX_ATOM {
            let Some(a) = items.get(k).and_then(|&id| g.try_get(id)).and_then(atom) else {
                break;
            };
            block[pos..pos + 8].copy_from_slice(&a.lo.to_le_bytes());
            block[pos + 8..pos + MAX_ATOM].copy_from_slice(&a.hi.to_le_bytes());
            pos += a.len;
            k += 1;
        }
        out.extend_within_frame(&block[..pos]);
        if k == start {
            return k;
        }
    }
    items.len()
}

#[cfg(test)]
mod tests {
    use super::super::long::long_bytes_i64;
    use super::*;

    /// BININT1/2/BININT at their edges, and the LONG1 length computed from
    /// the leading zeros is `encode_long`'s.
    #[test]
    fn int_atoms_are_what_save_long_writes() {
        let mut vs = vec![i64::MIN, i64::MAX, 0, -1];
        for s in 0..63 {
            let p = 1i64 << s;
            vs.extend([p, p - 1, p + 1, -p, -p - 1, -p + 1]);
        }
        for v in vs {
            let a = int_atom(v);
            let mut got = a.lo.to_le_bytes().to_vec();
            got.extend_from_slice(&a.hi.to_le_bytes());
            got.truncate(a.len);
            let want = match v {
                0..=0xff => vec![b'K', v as u8],
                0x100..=0xffff => vec![b'M', v as u8, (v >> 8) as u8],
                _ if i32::try_from(v).is_ok() => {
                    let mut w = vec![b'J'];
                    w.extend_from_slice(&(v as i32).to_le_bytes());
                    w
                }
                _ => {
                    let d = long_bytes_i64(v);
                    let mut w = vec![0x8a, d.len() as u8];
                    w.extend_from_slice(&d);
                    w
                }
            };
            assert_eq!(got, want, "{v}");
        }
    }

    #[test]
    fn float_atoms_are_binfloat() {
        for f in [
            0.0,
            -0.0,
            1.5,
            f64::NAN,
            f64::INFINITY,
            -1e300,
            f64::MIN_POSITIVE,
        ] {
            let a = float_atom(f);
            let mut got = a.lo.to_le_bytes().to_vec();
            got.extend_from_slice(&a.hi.to_le_bytes());
            got.truncate(a.len);
            let mut want = vec![b'G'];
            want.extend_from_slice(&f.to_be_bytes());
            assert_eq!(got, want);
        }
    }
}
