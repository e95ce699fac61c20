//! LONG1 payloads for integers that fit an `i64`. CPython's `encode_long` and
//! Java's `BigInteger.toByteArray` both write the minimal two's complement, so
//! the two encoders share one routine for it.

/// Minimal little-endian two's complement bytes, as CPython's `encode_long`
/// and Java's `BigInteger.toByteArray` (reversed) produce them.
pub(super) fn long_bytes_i64(v: i64) -> Vec<u8> {
    let mut b = v.to_le_bytes().to_vec();
    while b.len() > 1 {
        let last = b[b.len() - 1];
        let prev_high = b[b.len() - 2] & 0x80 != 0;
        if (last == 0 && !prev_high) || (last == 0xff && prev_high) {
            b.pop();
        } else {
            break;
        }
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_bytes_are_minimal() {
        assert_eq!(long_bytes_i64(1 << 31), vec![0, 0, 0, 0x80, 0]);
        assert_eq!(
            long_bytes_i64(-(1 << 31) - 1),
            vec![0xff, 0xff, 0xff, 0x7f, 0xff]
        );
        assert_eq!(long_bytes_i64(i64::MIN), vec![0, 0, 0, 0, 0, 0, 0, 0x80]);
        assert_eq!(long_bytes_i64(-128), vec![0x80]);
        assert_eq!(long_bytes_i64(-129), vec![0x7f, 0xff]);
    }
}
