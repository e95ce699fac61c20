//! The text arguments CPython's C pickler writes in protocols 0 and 1
//! (`Modules/_pickle.c`, 3.11): integers and longs as decimal lines, floats as
//! their repr, str as `_pickle.c`'s own raw-unicode-escape, memo indices as
//! decimal lines. Each function returns the whole opcode with its newline.

use crate::pickle::pystr::PyStr;
use crate::pickle::pytext::float_repr;
use crate::pickle::repr::int_repr;
use crate::pickle::value::Int;

/// CPython's limit on decimal conversions of ints (3.11's
/// `sys.get_int_max_str_digits()` default): `repr` of a longer int raises, so
/// protocols 0 and 1 cannot pickle it.
pub(crate) const MAX_STR_DIGITS: usize = 4300;

/// `I<v>\n` (INT): what protocol 0 writes for an int in the i32 range.
pub(crate) fn int_line(v: i64) -> Vec<u8> {
    format!("I{v}\n").into_bytes()
}

/// `L<repr>L\n` (LONG): what protocols 0 and 1 write for an int outside the
/// i32 range ("a trailing 'L' for compatibility with Python 2.x"). `None` when
/// its repr has more digits than CPython converts.
pub(crate) fn long_line(v: &Int) -> Option<Vec<u8>> {
    let repr = int_repr(v, MAX_STR_DIGITS).ok()?;
    Some(format!("L{repr}L\n").into_bytes())
}

/// `F<repr>\n` (FLOAT): protocol 0's float, `repr(x)` (`'r'` format with a
/// `.0` added to integral values; `inf`, `nan` as they are).
pub(crate) fn float_line(v: f64) -> Vec<u8> {
    format!("F{}\n", float_repr(v)).into_bytes()
}

/// `V<text>\n` (UNICODE): `_pickle.c`'s `raw_unicode_escape`, which escapes
/// more than the codec of that name so that the line reads back: code points
/// from U+10000 as `\Uxxxxxxxx`, from U+0100 and `\`, NUL, `\n`, `\r` and
/// U+001A as `\uxxxx` (lowercase hex), everything else below U+0100 as its
/// latin-1 byte.
pub(crate) fn unicode_line(s: &PyStr) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.as_bytes().len() + 2);
    out.push(b'V');
    for c in s.code_points() {
        if c >= 0x10000 {
            out.extend_from_slice(format!("\\U{c:08x}").as_bytes());
        } else if c >= 0x100 || matches!(c, 0x5c | 0 | 0x0a | 0x0d | 0x1a) {
            out.extend_from_slice(format!("\\u{c:04x}").as_bytes());
        } else {
            out.push(c as u8);
        }
    }
    out.push(b'\n');
    out
}

/// `p<idx>\n` (PUT).
pub(crate) fn put_line(idx: u32) -> Vec<u8> {
    format!("p{idx}\n").into_bytes()
}

/// `g<idx>\n` (GET).
pub(crate) fn get_line(idx: u32) -> Vec<u8> {
    format!("g{idx}\n").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_as_cpython_writes_them() {
        // pickle.dumps('\x00\r\x1a\\\n\t\x7f\xe9\u20ac\U0001f600', 0)[:-6]
        let s = PyStr::from("\0\r\x1a\\\n\t\x7f\u{e9}\u{20ac}\u{1f600}");
        assert_eq!(
            unicode_line(&s),
            b"V\\u0000\\u000d\\u001a\\u005c\\u000a\t\x7f\xe9\\u20ac\\U0001f600\n"
        );
        assert_eq!(float_line(1e16), b"F1e+16\n");
        assert_eq!(float_line(-0.0), b"F-0.0\n");
        assert_eq!(int_line(-2147483648), b"I-2147483648\n");
        assert_eq!(
            long_line(&Int::Small(2147483648)).unwrap(),
            b"L2147483648L\n"
        );
    }
}
