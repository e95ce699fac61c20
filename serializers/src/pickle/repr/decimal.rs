//! `decimal.Decimal` as Python prints it: `Decimal('<to-sci-string>')`.
//!
//! `Decimal.__reduce__` pickles `str(self)`, already canonical, but a pickle
//! may carry any text the constructor accepts (`' 1.50e3 '`, `'nan'`,
//! `'-INF'`) or an int, so the text is parsed and printed again with the
//! General Decimal Arithmetic "to-scientific-string" rules CPython uses.
//! Text the parser does not know (underscores, non-ASCII digits) is left to
//! the call form.

use super::shape::{Call, Ctx, Shape};

/// Exponents beyond this are refused (mpdecimal's 64-bit limits are near 10**18).
const MAX_EXP: i64 = 999_999_999_999_999_999 / 10;

pub(crate) fn shape(cx: &Ctx<'_>, c: &Call<'_>) -> Option<Shape> {
    if c.target.name != "Decimal" || !c.bare() {
        return None;
    }
    let text = match c.args[..] {
        [] => "0".to_owned(),
        [a] => match cx.text(a) {
            Some(t) => to_sci(std::str::from_utf8(t).ok()?)?,
            None => match cx.int(a)? {
                super::super::value::Int::Small(v) => v.to_string(),
                super::super::value::Int::Big(b) => b.to_string(),
            },
        },
        _ => return None,
    };
    Some(Shape::text(format!("Decimal('{text}')")))
}

/// Parses decimal text and prints it in canonical form.
pub(crate) fn to_sci(text: &str) -> Option<String> {
    let t = text.trim_matches(|c: char| c.is_ascii_whitespace());
    if !t.is_ascii() {
        return None;
    }
    let (neg, body) = match t.as_bytes().first()? {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    let sign = if neg { "-" } else { "" };
    let lower = body.to_ascii_lowercase();
    if lower == "inf" || lower == "infinity" {
        return Some(format!("{sign}Infinity"));
    }
    for (prefix, shown) in [("snan", "sNaN"), ("nan", "NaN")] {
        if let Some(payload) = lower.strip_prefix(prefix) {
            if !payload.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let p = payload.trim_start_matches('0');
            return Some(format!("{sign}{shown}{p}"));
        }
    }
    let (mantissa, exp_text) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int_part, frac_part) = match mantissa.find('.') {
        Some(i) => (&mantissa[..i], &mantissa[i + 1..]),
        None => (mantissa, ""),
    };
    let digits_ok = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (int_part.is_empty() && frac_part.is_empty())
        || !digits_ok(int_part)
        || !digits_ok(frac_part)
    {
        return None;
    }
    let mut exp: i64 = match exp_text {
        None => 0,
        Some(e) => {
            let (eneg, ed) = match e.as_bytes().first()? {
                b'-' => (true, &e[1..]),
                b'+' => (false, &e[1..]),
                _ => (false, e),
            };
            if ed.is_empty() || !digits_ok(ed) {
                return None;
            }
            let ed = ed.trim_start_matches('0');
            if ed.len() > 18 {
                return None;
            }
            let v: i64 = if ed.is_empty() { 0 } else { ed.parse().ok()? };
            if eneg {
                -v
            } else {
                v
            }
        }
    };
    exp = exp.checked_sub(i64::try_from(frac_part.len()).ok()?)?;
    if exp.abs() > MAX_EXP {
        return None;
    }
    let all = format!("{int_part}{frac_part}");
    let coeff = match all.trim_start_matches('0') {
        "" => "0",
        c => c,
    };
    Some(format!("{sign}{}", sci(coeff, exp)))
}

/// "to-scientific-string" of a coefficient (no leading zeros) and exponent.
fn sci(coeff: &str, exp: i64) -> String {
    let n = coeff.len() as i64;
    let adjusted = exp + n - 1;
    if exp <= 0 && adjusted >= -6 {
        if exp == 0 {
            return coeff.to_owned();
        }
        let point = n + exp; // digits before the point
        return if point > 0 {
            format!("{}.{}", &coeff[..point as usize], &coeff[point as usize..])
        } else {
            format!("0.{}{coeff}", "0".repeat((-point) as usize))
        };
    }
    let (head, tail) = coeff.split_at(1);
    let dot = if tail.is_empty() { "" } else { "." };
    let esign = if adjusted < 0 { "-" } else { "+" };
    format!("{head}{dot}{tail}E{esign}{}", adjusted.abs())
}

#[cfg(test)]
mod tests {
    use super::to_sci;

    // Expected values: str(decimal.Decimal(text)) on CPython 3.11.
    #[test]
    fn canonical_like_python() {
        for (t, want) in [
            ("1.5", "1.5"),
            (" 1.50e3 ", "1.50E+3"),
            ("-0", "-0"),
            ("nan", "NaN"),
            ("-sNaN0012", "-sNaN12"),
            ("-inf", "-Infinity"),
            ("1e5", "1E+5"),
            ("0.000001", "0.000001"),
            ("0.0000001", "1E-7"),
            ("0E-8", "0E-8"),
            ("12345e3", "1.2345E+7"),
            (".5", "0.5"),
            ("5.", "5"),
            ("0.00", "0.00"),
        ] {
            assert_eq!(to_sci(t).as_deref(), Some(want), "{t}");
        }
        for bad in ["", ".", "1e", "abc", "1_0", "nanx"] {
            assert_eq!(to_sci(bad), None, "{bad}");
        }
    }
}
