//! Python reprs of Arrow decimals: the two's-complement integer of the
//! column's width, scaled by `10^-scale`, shown as `Decimal('…')` prints a
//! number with that coefficient and exponent (plain notation when the
//! exponent is ≤ 0 and the number is not too small, scientific otherwise —
//! Python's `to_sci_string`), which is what pyarrow's `to_pylist()` builds.

use num_bigint::BigInt;

/// `Decimal('…')` of the little-endian two's-complement `bytes` at `scale`.
pub(super) fn decimal(bytes: &[u8], scale: i32) -> String {
    let v = BigInt::from_signed_bytes_le(bytes);
    let text = v.to_string();
    let (sign, digits) = match text.strip_prefix('-') {
        Some(d) => ("-", d),
        None => ("", text.as_str()),
    };
    let exp = -i64::from(scale);
    let n = digits.len() as i64;
    let left = exp + n;
    let dot = if exp <= 0 && left > -6 { left } else { 1 };
    let (int, frac) = if dot <= 0 {
        (
            "0".to_string(),
            format!(".{}{digits}", "0".repeat((-dot) as usize)),
        )
    } else if dot >= n {
        (
            format!("{digits}{}", "0".repeat((dot - n) as usize)),
            String::new(),
        )
    } else {
        (
            digits[..dot as usize].to_string(),
            format!(".{}", &digits[dot as usize..]),
        )
    };
    let e = if left == dot {
        String::new()
    } else {
        format!("E{:+}", left - dot)
    };
    format!("Decimal('{sign}{int}{frac}{e}')")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(v: i128, scale: i32) -> String {
        decimal(&v.to_le_bytes(), scale)
    }

    #[test]
    fn python_decimal_notation() {
        assert_eq!(d(123, 2), "Decimal('1.23')");
        assert_eq!(d(-1, 2), "Decimal('-0.01')");
        assert_eq!(d(0, 2), "Decimal('0.00')");
        assert_eq!(d(0, 10), "Decimal('0E-10')");
        assert_eq!(d(1, 10), "Decimal('1E-10')");
        assert_eq!(d(12, -2), "Decimal('1.2E+3')");
        assert_eq!(d(5, 0), "Decimal('5')");
    }
}
