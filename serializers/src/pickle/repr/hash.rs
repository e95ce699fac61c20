//! CPython 3.11's `hash()` of the values whose hash does not depend on the
//! process: int, bool, float (NaN aside) and tuples of those (the tuple's
//! mixing of its items' hashes; `classes` walks the tuples).
//!
//! Why: a set prints in the order of its hash table, so showing a set as
//! `repr(pickle.loads(b))` does means knowing each element's hash. `str` and
//! `bytes` hashes are randomized per process (SipHash with a random key),
//! `None`'s and NaN's depend on object addresses in 3.11; for those the order
//! is not determinable.

use num_bigint::{BigInt, Sign};
use num_traits::{ToPrimitive, Zero};

use super::super::value::{Int, Value};

/// `_PyHASH_BITS` on 64-bit builds.
const BITS: u32 = 61;
/// `_PyHASH_MODULUS`: the Mersenne prime 2**61 - 1.
const MODULUS: u64 = (1 << BITS) - 1;
/// `_PyHASH_INF`.
const INF: i64 = 314_159;

/// `-1` is CPython's error return, so a hash of `-1` becomes `-2`.
fn fix(h: i64) -> i64 {
    if h == -1 {
        -2
    } else {
        h
    }
}

/// `long_hash`: the value modulo 2**61 - 1, with the sign of the value.
pub(crate) fn int_hash(v: &Int) -> i64 {
    match v {
        Int::Small(v) => {
            let m = (v.unsigned_abs() % MODULUS) as i64;
            fix(if *v < 0 { -m } else { m })
        }
        Int::Big(b) => big_hash(b),
    }
}

/// [`int_hash`] of an int held as a `BigInt`.
pub(crate) fn big_hash(b: &BigInt) -> i64 {
    let m = (b.magnitude() % MODULUS).to_i64().unwrap_or(0);
    fix(if b.sign() == Sign::Minus { -m } else { m })
}

/// `_Py_HashDouble` for a float; `None` for NaN (hashed by address since 3.10).
pub(crate) fn float_hash(v: f64) -> Option<i64> {
    if v.is_nan() {
        return None;
    }
    if v.is_infinite() {
        return Some(if v > 0.0 { INF } else { -INF });
    }
    let (mut m, mut e) = frexp(v);
    let sign: i64 = if m < 0.0 {
        m = -m;
        -1
    } else {
        1
    };
    let mut x: u64 = 0;
    while m != 0.0 {
        x = ((x << 28) & MODULUS) | (x >> (BITS - 28));
        m *= 268_435_456.0;
        e -= 28;
        let y = m as u64;
        m -= y as f64;
        x += y;
        if x >= MODULUS {
            x -= MODULUS;
        }
    }
    let bits = BITS as i32;
    let e = if e >= 0 {
        e % bits
    } else {
        bits - 1 - ((-1 - e) % bits)
    } as u32;
    x = ((x << e) & MODULUS) | (x >> (BITS - e));
    Some(fix((x as i64).wrapping_mul(sign)))
}

/// C's `frexp`: `v == m * 2**e` with `0.5 <= |m| < 1` (and `(0, 0)` for zero).
fn frexp(v: f64) -> (f64, i32) {
    if v == 0.0 || !v.is_finite() {
        return (v, 0);
    }
    let bits = v.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    if exp == 0 {
        // Subnormal: scale into the normal range first.
        let (m, e) = frexp(v * f64::from_bits(0x43f0_0000_0000_0000)); // 2**64
        return (m, e - 64);
    }
    let m = f64::from_bits((bits & !(0x7ff << 52)) | (1022 << 52));
    (m, exp - 1022)
}

/// `tuplehash`: xxHash-style mixing of the element hashes.
pub(crate) fn tuple_hash(lanes: &[i64]) -> i64 {
    const P1: u64 = 11_400_714_785_074_694_791;
    const P2: u64 = 14_029_467_366_897_019_727;
    const P5: u64 = 2_870_177_450_012_600_261;
    let mut acc = P5;
    for &lane in lanes {
        acc = acc.wrapping_add((lane as u64).wrapping_mul(P2));
        acc = acc.rotate_left(31);
        acc = acc.wrapping_mul(P1);
    }
    acc = acc.wrapping_add((lanes.len() as u64) ^ (P5 ^ 3_527_539));
    if acc == u64::MAX {
        return 1_546_275_796;
    }
    acc as i64
}

/// An integral finite float as the integer it equals.
pub(crate) fn float_as_int(f: f64) -> Option<BigInt> {
    if !f.is_finite() || f.fract() != 0.0 {
        return None;
    }
    if f.abs() < 9.0e15 {
        return Some(BigInt::from(f as i64));
    }
    let (m, e) = frexp(f);
    // m * 2**53 is an integer; shift by the rest.
    let mant = BigInt::from((m * 9_007_199_254_740_992.0) as i64);
    let shift = e - 53;
    Some(if shift >= 0 {
        mant << shift as usize
    } else {
        mant >> (-shift) as usize
    })
}

/// Whether `v` is zero (for `bool()` of a number).
pub(crate) fn is_zero(v: &Value) -> Option<bool> {
    Some(match v {
        Value::Bool(b) => !b,
        Value::Int(i) => i.to_big().is_zero(),
        Value::Float(f) => *f == 0.0,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values: hash(...) printed by CPython 3.11.
    #[test]
    fn hashes_like_cpython() {
        assert_eq!(int_hash(&Int::Small(-1)), -2);
        assert_eq!(int_hash(&Int::Small((1 << 61) - 1)), 0);
        assert_eq!(int_hash(&Int::Small(1 << 61)), 1);
        assert_eq!(int_hash(&Int::Small(i64::MIN)), -4);
        assert_eq!(float_hash(0.5), Some(1_152_921_504_606_846_976));
        assert_eq!(float_hash(1.5), Some(1_152_921_504_606_846_977));
        assert_eq!(float_hash(-2.25), Some(-576_460_752_303_423_490));
        assert_eq!(float_hash(f64::INFINITY), Some(314_159));
        assert_eq!(tuple_hash(&[]), 5_740_354_900_026_072_187);
        assert_eq!(tuple_hash(&[1, 2]), -3_550_055_125_485_641_917);
    }

    #[test]
    fn frexp_like_c() {
        assert_eq!(frexp(1.0), (0.5, 1));
        assert_eq!(frexp(-3.0), (-0.75, 2));
        assert_eq!(frexp(f64::MIN_POSITIVE / 4.0), (0.5, -1023));
    }
}
