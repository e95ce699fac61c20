//! Python `str` as pickles carry it: UTF-8 in which lone surrogates may appear as
//! 3-byte sequences (`ED A0..BF xx`), because CPython encodes with `surrogatepass`.
//! A Rust `String` cannot hold those, so the bytes are kept as they are.

use bytes::Bytes;

/// A Python `str`: its `surrogatepass` UTF-8 bytes (valid by construction).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PyStr(Bytes);

impl PyStr {
    /// Wraps bytes after checking they are UTF-8 with surrogates allowed.
    /// On failure returns the offset of the first bad byte.
    pub fn from_utf8(bytes: Bytes) -> Result<PyStr, usize> {
        validate(&bytes)?;
        Ok(PyStr(bytes))
    }

    /// Wraps bytes the caller has already validated (no second pass).
    pub(crate) fn from_validated(bytes: Bytes) -> PyStr {
        PyStr(bytes)
    }

    /// Wraps bytes that hold valid UTF-8 (checked with the standard library's
    /// fast validator; no surrogates, since they came from a `str`).
    pub fn from_str_bytes(bytes: Bytes) -> Result<PyStr, usize> {
        std::str::from_utf8(&bytes).map_err(|e| e.valid_up_to())?;
        Ok(PyStr(bytes))
    }

    /// Builds a string from code points (surrogates allowed).
    ///
    /// Values above 0x10FFFF are not code points; callers pass only valid ones.
    pub fn from_code_points(cps: impl IntoIterator<Item = u32>) -> PyStr {
        let mut out = Vec::new();
        for cp in cps {
            push_code_point(&mut out, cp);
        }
        PyStr(Bytes::from(out))
    }

    /// The encoded bytes (what BINUNICODE carries).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The encoded bytes, shared.
    pub fn bytes(&self) -> &Bytes {
        &self.0
    }

    /// As `&str` when there is no lone surrogate.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }

    /// The code points, surrogates included.
    pub fn code_points(&self) -> CodePoints<'_> {
        CodePoints {
            bytes: &self.0,
            pos: 0,
        }
    }

    /// Python's `len()`: the number of code points.
    pub fn char_len(&self) -> usize {
        self.0.iter().filter(|&&b| (b & 0xC0) != 0x80).count()
    }

    /// The single code point of a one-character string.
    pub fn single_char(&self) -> Option<u32> {
        let mut it = self.code_points();
        let c = it.next()?;
        it.next().is_none().then_some(c)
    }
}

impl From<&str> for PyStr {
    fn from(s: &str) -> PyStr {
        PyStr(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl From<String> for PyStr {
    fn from(s: String) -> PyStr {
        PyStr(Bytes::from(s.into_bytes()))
    }
}

impl std::fmt::Debug for PyStr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", super::repr::str_repr(self))
    }
}

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

/// Iterator over the code points of a [`PyStr`].
pub struct CodePoints<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Iterator for CodePoints<'_> {
    type Item = u32;
    fn next(&mut self) -> Option<u32> {
        let b = self.bytes;
        let c = *b.get(self.pos)? as u32;
        let (len, init) = match c {
            0x00..=0x7F => (1, c),
            0xC0..=0xDF => (2, c & 0x1F),
            0xE0..=0xEF => (3, c & 0x0F),
            _ => (4, c & 0x07),
        };
        let mut cp = init;
        for k in 1..len {
            cp = (cp << 6) | (*b.get(self.pos + k).unwrap_or(&0x80) as u32 & 0x3F);
        }
        self.pos += len;
        Some(cp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surrogates_pass_and_round_trip() {
        let s = PyStr::from_code_points([0x61, 0xD800, 0xDC00, 0x1F600]);
        assert_eq!(validate(s.as_bytes()), Ok(()));
        assert_eq!(
            s.code_points().collect::<Vec<_>>(),
            vec![0x61, 0xD800, 0xDC00, 0x1F600]
        );
        assert_eq!(s.char_len(), 4);
        assert!(s.as_str().is_none());
    }

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
}
