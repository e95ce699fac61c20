//! Python `str` as pickles carry it: UTF-8 in which lone surrogates may appear as
//! 3-byte sequences (`ED A0..BF xx`), because CPython encodes with `surrogatepass`.
//! A Rust `String` cannot hold those, so the bytes are kept as they are.

use bytes::Bytes;

use super::pytext::{decode_code_point, push_code_point, str_repr, validate};

/// A Python `str`: its `surrogatepass` UTF-8 bytes (valid by construction).
///
/// Why strings of up to 23 bytes are stored inline: a row's strings are short,
/// and a slice of the pickle shares its buffer through an atomic reference
/// count, taken when the string is decoded and released when it is dropped;
/// those two atomic operations were about a fifth of decoding a row batch.
/// Inline, the type is still 32 bytes (the size of `Bytes`), so [`Value`]
/// stays 40.
///
/// [`Value`]: super::Value
#[derive(Clone)]
pub struct PyStr(Repr);

/// Up to this many bytes are kept inline.
const INLINE: usize = 23;

#[derive(Clone)]
enum Repr {
    Inline { len: u8, buf: [u8; INLINE] },
    Shared(Bytes),
}

impl PartialEq for PyStr {
    fn eq(&self, other: &PyStr) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for PyStr {}

impl std::hash::Hash for PyStr {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state)
    }
}

impl PartialOrd for PyStr {
    fn partial_cmp(&self, other: &PyStr) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for PyStr {
    fn cmp(&self, other: &PyStr) -> std::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl PyStr {
    /// Wraps bytes after checking they are UTF-8 with surrogates allowed.
    /// On failure returns the offset of the first bad byte.
    pub fn from_utf8(bytes: Bytes) -> Result<PyStr, usize> {
        validate(&bytes)?;
        Ok(PyStr::from_validated(bytes))
    }

    /// Wraps bytes the caller has already validated (no second pass).
    pub(crate) fn from_validated(bytes: Bytes) -> PyStr {
        if bytes.len() <= INLINE {
            PyStr::inline(&bytes)
        } else {
            PyStr(Repr::Shared(bytes))
        }
    }

    /// The validated bytes `s`, a part of `src`: copied when short, else a
    /// slice sharing `src` (no reference count is taken for a short one).
    pub(crate) fn from_validated_in(src: &Bytes, s: &[u8]) -> PyStr {
        if s.len() <= INLINE {
            PyStr::inline(s)
        } else {
            PyStr(Repr::Shared(src.slice_ref(s)))
        }
    }

    /// The validated string of the first `len` bytes of `window` (at most
    /// [`INLINE`]), kept inline with the window's other bytes as its unused
    /// room. A fixed-size copy: copying just `len` bytes into a zeroed buffer
    /// is a `memcpy` call, and the 16-byte loads that then move the buffer
    /// wait for its narrower stores to retire (perf put a fifth of a row
    /// batch's decode on them). Equality, hashing and order read only the
    /// first `len` bytes, so what the room holds does not matter.
    #[inline]
    pub(crate) fn from_window(window: [u8; INLINE], len: usize) -> PyStr {
        debug_assert!(len <= INLINE);
        PyStr(Repr::Inline {
            len: len.min(INLINE) as u8,
            buf: window,
        })
    }

    /// How many bytes [`PyStr::from_window`] takes.
    pub(crate) const WINDOW: usize = INLINE;

    fn inline(s: &[u8]) -> PyStr {
        let mut buf = [0; INLINE];
        buf[..s.len()].copy_from_slice(s);
        PyStr(Repr::Inline {
            len: s.len() as u8,
            buf,
        })
    }

    /// Whether a string of `len` bytes is kept inline (no buffer shared).
    #[inline]
    pub fn fits_inline(len: usize) -> bool {
        len <= INLINE
    }

    /// Writes `s` into an inline string in place; false (and nothing written)
    /// when `s` does not fit or the string is not inline. See
    /// [`Graph::add_str`](super::Graph::add_str) for why in place.
    #[inline]
    pub(crate) fn fill_inline(&mut self, s: &[u8]) -> bool {
        match &mut self.0 {
            Repr::Inline { len, buf } if s.len() <= INLINE => {
                buf[..s.len()].copy_from_slice(s);
                *len = s.len() as u8;
                true
            }
            _ => false,
        }
    }

    /// Whether the string holds no share of a buffer (dropping it frees nothing).
    pub(crate) fn is_inline(&self) -> bool {
        matches!(self.0, Repr::Inline { .. })
    }

    /// Wraps bytes that hold valid UTF-8 (checked with the standard library's
    /// fast validator; no surrogates, since they came from a `str`).
    pub fn from_str_bytes(bytes: Bytes) -> Result<PyStr, usize> {
        std::str::from_utf8(&bytes).map_err(|e| e.valid_up_to())?;
        Ok(PyStr::from_validated(bytes))
    }

    /// Builds a string from code points (surrogates allowed).
    ///
    /// Values above 0x10FFFF are not code points; callers pass only valid ones.
    pub fn from_code_points(cps: impl IntoIterator<Item = u32>) -> PyStr {
        let mut out = Vec::new();
        for cp in cps {
            push_code_point(&mut out, cp);
        }
        PyStr::from_validated(Bytes::from(out))
    }

    /// The encoded bytes (what BINUNICODE carries).
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, buf } => &buf[..*len as usize],
            Repr::Shared(b) => b,
        }
    }

    /// The encoded bytes as `Bytes`: shared when long, copied when inline.
    pub fn to_bytes(&self) -> Bytes {
        match &self.0 {
            Repr::Inline { .. } => Bytes::copy_from_slice(self.as_bytes()),
            Repr::Shared(b) => b.clone(),
        }
    }

    /// As `&str` when there is no lone surrogate.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(self.as_bytes()).ok()
    }

    /// The code points, surrogates included.
    pub fn code_points(&self) -> CodePoints<'_> {
        CodePoints {
            bytes: self.as_bytes(),
            pos: 0,
        }
    }

    /// Python's `len()`: the number of code points.
    pub fn char_len(&self) -> usize {
        self.as_bytes()
            .iter()
            .filter(|&&b| (b & 0xC0) != 0x80)
            .count()
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
        if s.len() <= INLINE {
            PyStr::inline(s.as_bytes())
        } else {
            PyStr(Repr::Shared(Bytes::copy_from_slice(s.as_bytes())))
        }
    }
}

impl From<String> for PyStr {
    fn from(s: String) -> PyStr {
        PyStr::from_validated(Bytes::from(s.into_bytes()))
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

    #[test]
    fn inline_and_shared_strings_are_the_same_values() {
        let long = "x".repeat(INLINE + 1);
        for text in ["", "a", "name-123456", &"é".repeat(11), &long] {
            let shared = Bytes::from(format!("..{text}..").into_bytes());
            let from_src = PyStr::from_validated_in(&shared, &shared[2..2 + text.len()]);
            let from_str = PyStr::from(text);
            let from_string = PyStr::from(text.to_string());
            assert_eq!(from_src.is_inline(), text.len() <= INLINE);
            for s in [&from_src, &from_str, &from_string] {
                assert_eq!(s.as_bytes(), text.as_bytes());
                assert_eq!(s.as_str(), Some(text));
                assert_eq!(s, &from_src);
                assert_eq!(s.cmp(&from_src), std::cmp::Ordering::Equal);
                assert_eq!(s.to_bytes(), text.as_bytes());
                // The same hash as the bytes had when PyStr was a Bytes.
                use std::hash::{BuildHasher, BuildHasherDefault};
                let h = BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default();
                assert_eq!(h.hash_one(s), h.hash_one(Bytes::from(text.to_string())));
            }
            // A long one shares its source; a short one holds no share.
            assert_eq!(shared.is_unique(), text.len() <= INLINE);
        }
        assert!(PyStr::from("b") > PyStr::from("a"));
        assert!(PyStr::from(long.as_str()) > PyStr::from("x"));
    }
}
