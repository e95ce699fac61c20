//! Python's `int()` and `float()` on the text arguments of protocol-0 opcodes
//! (INT, LONG, GET, PUT, FLOAT), with the same acceptance rules: surrounding ASCII
//! whitespace, a sign, single underscores between digits, and CPython 3.11's
//! 4300-digit limit on decimal integers.

use num_bigint::BigInt;

use super::value::Int;

fn trim(s: &[u8]) -> &[u8] {
    let is_space = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c);
    let start = s.iter().position(|b| !is_space(b)).unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|b| !is_space(b))
        .map_or(start, |e| e + 1);
    &s[start..end]
}

/// Removes underscores that sit between two digits; `None` if one does not.
fn strip_underscores(s: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    for (i, &b) in s.iter().enumerate() {
        if b == b'_' {
            let prev = i
                .checked_sub(1)
                .and_then(|j| s.get(j))
                .is_some_and(u8::is_ascii_digit);
            let next = s.get(i + 1).is_some_and(u8::is_ascii_digit);
            if !(prev && next) {
                return None;
            }
        } else {
            out.push(b);
        }
    }
    Some(out)
}

/// Why a text integer was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntTextError {
    /// Not a base-10 literal.
    Invalid,
    /// More digits than the limit.
    TooManyDigits,
}

/// `int(s)` for base 10.
pub fn parse_int(s: &[u8], max_digits: usize) -> Result<Int, IntTextError> {
    let s = trim(s);
    let (neg, body) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let digits = strip_underscores(body).ok_or(IntTextError::Invalid)?;
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(IntTextError::Invalid);
    }
    if digits.len() > max_digits {
        return Err(IntTextError::TooManyDigits);
    }
    if digits.len() <= 18 {
        let mut v: i64 = 0;
        for d in &digits {
            v = v * 10 + (d - b'0') as i64;
        }
        return Ok(Int::Small(if neg { -v } else { v }));
    }
    let big = BigInt::parse_bytes(&digits, 10).ok_or(IntTextError::Invalid)?;
    Ok(Int::from_big(if neg { -big } else { big }))
}

/// `float(s)`.
pub fn parse_float(s: &[u8]) -> Option<f64> {
    let s = trim(s);
    let text = std::str::from_utf8(s).ok()?;
    let lower = text.to_ascii_lowercase();
    let (sign, body) = match lower.as_bytes().first() {
        Some(b'-') => (-1.0, &lower[1..]),
        Some(b'+') => (1.0, &lower[1..]),
        _ => (1.0, &lower[..]),
    };
    match body {
        "inf" | "infinity" => return Some(sign * f64::INFINITY),
        "nan" => return Some(if sign < 0.0 { -f64::NAN } else { f64::NAN }),
        _ => {}
    }
    let cleaned = strip_underscores(s)?;
    let ok = cleaned
        .iter()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
    if !ok || !cleaned.iter().any(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(&cleaned).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints_like_python() {
        assert_eq!(parse_int(b" 1_000 ", 4300), Ok(Int::Small(1000)));
        assert_eq!(parse_int(b"-007", 4300), Ok(Int::Small(-7)));
        assert_eq!(parse_int(b"1__0", 4300), Err(IntTextError::Invalid));
        assert_eq!(parse_int(b"_1", 4300), Err(IntTextError::Invalid));
        assert_eq!(parse_int(b"12L", 4300), Err(IntTextError::Invalid));
        assert_eq!(
            parse_int(&[b'9'; 4301], 4300),
            Err(IntTextError::TooManyDigits)
        );
        assert!(matches!(parse_int(&[b'9'; 4300], 4300), Ok(Int::Big(_))));
    }

    #[test]
    fn floats_like_python() {
        assert_eq!(parse_float(b"-1.25"), Some(-1.25));
        assert_eq!(parse_float(b"1_0.5"), Some(10.5));
        assert_eq!(parse_float(b"-Infinity"), Some(f64::NEG_INFINITY));
        assert!(parse_float(b"nan").unwrap().is_nan());
        assert_eq!(parse_float(b"1e5"), Some(1e5));
        assert_eq!(parse_float(b"0x10"), None);
        assert_eq!(parse_float(b""), None);
    }
}
