//! Python `str` as pickles carry it: UTF-8 in which lone surrogates may appear as
//! 3-byte sequences (`ED A0..BF xx`), because CPython encodes with `surrogatepass`.
//! A Rust `String` cannot hold those, so the bytes are kept as they are.

use bytes::Bytes;

use super::pytext::{decode_code_point, push_code_point, str_repr, validate};

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
        write!(f, "{}", str_repr(self.as_bytes()))
    }
}

/// Iterator over the code points of a [`PyStr`].
pub struct CodePoints<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Iterator for CodePoints<'_> {
    type Item = u32;
    fn next(&mut self) -> Option<u32> {
        let (cp, len) = decode_code_point(self.bytes.get(self.pos..)?)?;
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
}
