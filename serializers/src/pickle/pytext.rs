//! Python text below the value model: the `surrogatepass` UTF-8 in which
//! CPython writes a `str`, and how Python prints a `str`, `bytes`, `bytearray`
//! or `float`.
//!
//! A leaf (it uses only the generated [`tables`](super::tables)): it works on
//! bytes and code points rather than on [`PyStr`](super::PyStr), so the string
//! type, the value model, the `repr` walk and the literal parser can all build
//! on it without depending on one another.

use std::fmt::Write;

use super::tables::NON_PRINTABLE;

/// Appends one code point in `surrogatepass` UTF-8.
pub(crate) fn push_code_point(out: &mut Vec<u8>, cp: u32) {
    match cp {
        0..=0x7F => out.push(cp as u8),
        0x80..=0x7FF => out.extend([0xC0 | (cp >> 6) as u8, 0x80 | (cp & 0x3F) as u8]),
        0x800..=0xFFFF => out.extend([
            0xE0 | (cp >> 12) as u8,
            0x80 | ((cp >> 6) & 0x3F) as u8,
            0x80 | (cp & 0x3F) as u8,
        ]),
        _ => out.extend([
            0xF0 | (cp >> 18) as u8,
            0x80 | ((cp >> 12) & 0x3F) as u8,
            0x80 | ((cp >> 6) & 0x3F) as u8,
            0x80 | (cp & 0x3F) as u8,
        ]),
    }
}

/// Checks `surrogatepass` UTF-8: standard UTF-8 plus encoded surrogates.
pub(crate) fn validate(b: &[u8]) -> Result<(), usize> {
    // Fast path: almost every real string is plain UTF-8.
    let e = match std::str::from_utf8(b) {
        Ok(_) => return Ok(()),
        Err(e) => e,
    };
    let mut i = e.valid_up_to();
    while i < b.len() {
        let c = b[i];
        let need = match c {
            0x00..=0x7F => {
                i += 1;
                continue;
            }
            0xC2..=0xDF => 1,
            0xE0..=0xEF => 2,
            0xF0..=0xF4 => 3,
            _ => return Err(i),
        };
        if i + need >= b.len() {
            return Err(i);
        }
        let c1 = b[i + 1];
        let ok1 = match c {
            0xE0 => (0xA0..=0xBF).contains(&c1),
            // 0xED would be limited to 0x80..=0x9F in strict UTF-8; surrogates pass.
            0xF0 => (0x90..=0xBF).contains(&c1),
            0xF4 => (0x80..=0x8F).contains(&c1),
            _ => (0x80..=0xBF).contains(&c1),
        };
        if !ok1 || b[i + 2..=i + need].iter().any(|&x| (x & 0xC0) != 0x80) {
            return Err(i);
        }
        i += need + 1;
    }
    Ok(())
}

/// The first code point of `surrogatepass` UTF-8 text and its length in bytes.
/// A truncated sequence reads its missing continuation bytes as zero bits
/// rather than panicking (callers hold validated text).
#[inline]
pub(crate) fn decode_code_point(b: &[u8]) -> Option<(u32, usize)> {
    let c = *b.first()? as u32;
    let (len, init) = match c {
        0x00..=0x7F => (1, c),
        0xC0..=0xDF => (2, c & 0x1F),
        0xE0..=0xEF => (3, c & 0x0F),
        _ => (4, c & 0x07),
    };
    let mut cp = init;
    for k in 1..len {
        cp = (cp << 6) | (*b.get(k).unwrap_or(&0x80) as u32 & 0x3F);
    }
    Some((cp, len))
}

/// The code points of `surrogatepass` UTF-8 text, surrogates included.
fn code_points(text: &[u8]) -> impl Iterator<Item = u32> + '_ {
    let mut rest = text;
    std::iter::from_fn(move || {
        let (cp, len) = decode_code_point(rest)?;
        rest = rest.get(len..).unwrap_or_default();
        Some(cp)
    })
}

/// Python's `str.isprintable()` for one code point.
pub fn is_printable(cp: u32) -> bool {
    NON_PRINTABLE
        .binary_search_by(|&(lo, hi)| {
            if hi < cp {
                std::cmp::Ordering::Less
            } else if lo > cp {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_err()
}

/// `repr(str)` of `surrogatepass` UTF-8 text.
pub(crate) fn str_repr(text: &[u8]) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    write_str_repr(&mut out, text);
    out
}

/// Appends `repr(str)` of `surrogatepass` UTF-8 text.
pub(crate) fn write_str_repr(out: &mut String, text: &[u8]) {
    let quote = if text.contains(&b'\'') && !text.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    out.push(quote);
    for cp in code_points(text) {
        match cp {
            0x5C => out.push_str("\\\\"),
            0x09 => out.push_str("\\t"),
            0x0A => out.push_str("\\n"),
            0x0D => out.push_str("\\r"),
            _ if cp == quote as u32 => {
                out.push('\\');
                out.push(quote)
            }
            0..=0x1F | 0x7F => {
                let _ = write!(out, "\\x{cp:02x}");
            }
            0x20..=0x7E => out.push(cp as u8 as char),
            _ if is_printable(cp) => out.push(char::from_u32(cp).unwrap_or('\u{FFFD}')),
            0x80..=0xFF => {
                let _ = write!(out, "\\x{cp:02x}");
            }
            0x100..=0xFFFF => {
                let _ = write!(out, "\\u{cp:04x}");
            }
            _ => {
                let _ = write!(out, "\\U{cp:08x}");
            }
        }
    }
    out.push(quote);
}

/// `repr(bytes)`.
pub fn bytes_repr(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len() + 3);
    write_bytes_repr(&mut out, b);
    out
}

/// `repr(bytearray)`: the quote is picked as for `bytes`, but `'` is always escaped.
pub fn bytearray_repr(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len() + 14);
    write_bytearray_repr(&mut out, b);
    out
}

pub(crate) fn write_bytearray_repr(out: &mut String, b: &[u8]) {
    out.push_str("bytearray(");
    write_bytes_inner(out, b, true);
    out.push(')');
}

pub(crate) fn write_bytes_repr(out: &mut String, b: &[u8]) {
    write_bytes_inner(out, b, false)
}

fn write_bytes_inner(out: &mut String, b: &[u8], escape_single: bool) {
    let quote = if b.contains(&b'\'') && !b.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    out.push('b');
    out.push(quote as char);
    for &c in b {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            _ if c == quote || (escape_single && c == b'\'') => {
                out.push('\\');
                out.push(c as char)
            }
            0x20..=0x7E => out.push(c as char),
            _ => {
                let _ = write!(out, "\\x{c:02x}");
            }
        }
    }
    out.push(quote as char);
}

/// `repr(float)`: the shortest digits that round-trip, in fixed notation when
/// the decimal point falls in (-4, 16], else in exponent notation.
pub fn float_repr(v: f64) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    // The number of digits is the shortest that round-trips (Rust's `{:e}`);
    // the digits themselves come from exact rounding at that precision, which
    // breaks ties to even as CPython's dtoa does (Rust's shortest mode does not:
    // 17174081385682.0625 must print as ...062, not ...063).
    //
    // Exact rounding at that length does not always round-trip: where the gap
    // below a power of two is half the gap above, the nearest n-digit decimal
    // can fall outside the interval that reads back as `v`
    // (7.291122019556398e-304, bits 0x0100000000000000, rounds exactly to
    // ...397). Then the shortest digits themselves are CPython's.
    let shortest = format!("{:e}", v.abs());
    let n = shortest
        .split_once('e')
        .map_or(1, |(m, _)| m.chars().filter(char::is_ascii_digit).count());
    let rounded = format!("{:.*e}", n.saturating_sub(1), v.abs());
    let e = if rounded.parse::<f64>().ok() == Some(v.abs()) {
        rounded
    } else {
        shortest
    };
    let (mantissa, exp) = e.split_once('e').expect("{:e} always has an exponent");
    let exp: i32 = exp.parse().expect("{:e} exponent is an integer");
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let n = digits.len() as i32;
    let decpt = exp + 1;
    let mut out = String::new();
    if v.is_sign_negative() {
        out.push('-');
    }
    if -4 < decpt && decpt <= 16 {
        if decpt <= 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-decpt) as usize));
            out.push_str(&digits);
        } else if decpt >= n {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n('0', (decpt - n) as usize));
            out.push_str(".0");
        } else {
            out.push_str(&digits[..decpt as usize]);
            out.push('.');
            out.push_str(&digits[decpt as usize..]);
        }
    } else {
        out.push_str(&digits[..1]);
        if n > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let _ = write!(out, "e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_what_cpython_rejects() {
        for bad in [
            &b"\xff"[..],
            b"\xc0\x80",
            b"a\xe2\x82",
            b"\xf5\x80\x80\x80",
            b"\xed",
            b"\xe0\x80\x80",
            b"\xf4\x90\x80\x80",
        ] {
            assert!(validate(bad).is_err(), "{bad:?}");
        }
        assert_eq!(validate(b"ab\xed\xa0\x80"), Ok(()));
    }

    #[test]
    fn floats_like_python() {
        for (v, s) in [
            (1.0, "1.0"),
            (0.1, "0.1"),
            (-0.0, "-0.0"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (123456789012345680.0, "1.2345678901234568e+17"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (5e-324, "5e-324"),
            // A tie at the shortest length: CPython rounds half to even.
            (f64::from_bits(4805126732819047456), "17174081385682.062"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (f64::NAN, "nan"),
            (f64::NEG_INFINITY, "-inf"),
        ] {
            assert_eq!(float_repr(v), s);
        }
    }
}
