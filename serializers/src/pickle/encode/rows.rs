//! Plain records (tuples of None, bools, ints, floats and str) kept flat and
//! pickled as one list without a value graph: what [`super::cpython`] writes for
//! a built graph holding the same list of fresh tuples, byte for byte (the
//! StreamEncoder's differential tests build both and compare).

use super::atoms::{bool_atom, float_atom, int_atom, NONE};
use super::cpython::{canonical_slot, sized, BATCHSIZE};
use super::out::Out;

/// One field of a plain record: a fresh Python object of a leaf type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Field<'a> {
    /// `None`.
    None,
    /// `True` / `False`.
    Bool(bool),
    /// An `int` that fits an `i64`.
    Int(i64),
    /// A `float`.
    Float(f64),
    /// A `str`.
    Str(&'a str),
}

#[derive(Debug, Clone, Copy)]
enum Cell {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str { start: usize, len: usize },
}

/// Records of one batch, flat: their fields, where each record ends, and the
/// bytes of all their strings. No allocation per record or per string.
#[derive(Debug, Default)]
pub(crate) struct RowBatch {
    cells: Vec<Cell>,
    ends: Vec<usize>,
    text: Vec<u8>,
}

impl RowBatch {
    pub(crate) fn push(&mut self, fields: &[Field<'_>]) {
        self.cells.reserve(fields.len());
        for f in fields {
            let c = match *f {
                Field::None => Cell::None,
                Field::Bool(b) => Cell::Bool(b),
                Field::Int(v) => Cell::Int(v),
                Field::Float(v) => Cell::Float(v),
                Field::Str(s) => {
                    let start = self.text.len();
                    self.text.extend_from_slice(s.as_bytes());
                    Cell::Str {
                        start,
                        len: s.len(),
                    }
                }
            };
            self.cells.push(c);
        }
        self.ends.push(self.cells.len());
    }

    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub(crate) fn clear(&mut self) {
        self.cells.clear();
        self.ends.clear();
        self.text.clear();
    }

    fn field(&self, c: Cell) -> Field<'_> {
        match c {
            Cell::None => Field::None,
            Cell::Bool(b) => Field::Bool(b),
            Cell::Int(v) => Field::Int(v),
            Cell::Float(v) => Field::Float(v),
            // The bytes were copied from a `str` at a char boundary.
            Cell::Str { start, len } => {
                Field::Str(std::str::from_utf8(&self.text[start..start + len]).unwrap_or_default())
            }
        }
    }

    /// Calls `f` with each record's fields, in order (to move the records into
    /// a graph when something else joins their batch).
    pub(crate) fn for_each(&self, mut f: impl FnMut(&[Field<'_>])) {
        let mut fields = Vec::new();
        let mut start = 0;
        for &end in &self.ends {
            fields.clear();
            fields.extend(self.cells[start..end].iter().map(|&c| self.field(c)));
            f(&fields);
            start = end;
        }
    }

    /// `pickle.dumps(list_of_the_records, 5)`: CPython's C pickler on a list of
    /// fresh tuples of fresh leaves, with its framing and memo (strings `''`
    /// and one code point below U+0100 are its shared singletons).
    ///
    /// Appended to `buf`, which is handed back: a stream writer frames the
    /// pickle where it lies instead of copying it.
    pub(crate) fn encode_list_into(&self, mut buf: Vec<u8>) -> Vec<u8> {
        let n = self.len();
        buf.reserve(self.text.len() + 10 * self.cells.len() + 2 * n + 32);
        let mut out = Out::from_vec(buf);
        out.bytes(&[0x80, 5]);
        out.start_framing();
        out.byte(b']');
        out.byte(0x94);
        let mut memo: u32 = 1;
        let mut shared = [u32::MAX; 257];
        let mut start = 0;
        for (r, &end) in self.ends.iter().enumerate() {
            if n > 1 && r % BATCHSIZE == 0 {
                out.byte(b'(');
            }
            let cells = &self.cells[start..end];
            start = end;
            out.boundary();
            if cells.is_empty() {
                out.byte(b')');
            } else {
                let mark = cells.len() > 3;
                if mark {
                    out.byte(b'(');
                }
                for &c in cells {
                    // Atoms: the boundary and their bytes in one step.
                    match c {
                        Cell::None => out.atom(&NONE),
                        Cell::Bool(b) => out.atom(&bool_atom(b)),
                        Cell::Int(v) => out.atom(&int_atom(v)),
                        Cell::Float(f) => out.atom(&float_atom(f)),
                        Cell::Str { start, len } => {
                            out.boundary();
                            let b = &self.text[start..start + len];
                            let slot = canonical_slot(b);
                            if let Some(&idx) = slot.and_then(|s| shared.get(s)) {
                                if idx != u32::MAX {
                                    memo_get(&mut out, idx);
                                    continue;
                                }
                            }
                            // Protocol 5 has BINUNICODE8: every length fits.
                            sized(&mut out, 5, Some(0x8c), b'X', 0x8d, b);
                            if let Some(s) = slot.and_then(|s| shared.get_mut(s)) {
                                *s = memo;
                            }
                            out.byte(0x94);
                            memo = memo.wrapping_add(1);
                        }
                    }
                }
                out.byte(match (mark, cells.len()) {
                    (true, _) => b't',
                    (false, 1) => 0x85,
                    (false, 2) => 0x86,
                    _ => 0x87,
                });
                out.byte(0x94);
                memo = memo.wrapping_add(1);
            }
            if n > 1 && (r % BATCHSIZE == BATCHSIZE - 1 || r == n - 1) {
                out.byte(b'e');
            }
        }
        if n == 1 {
            out.byte(b'a');
        }
        out.byte(b'.');
        out.finish()
    }
}

/// BINGET / LONG_BINGET.
fn memo_get(out: &mut Out, idx: u32) {
    if idx < 256 {
        out.bytes(&[b'h', idx as u8]);
    } else {
        let mut b = [b'j', 0, 0, 0, 0];
        b[1..].copy_from_slice(&idx.to_le_bytes());
        out.bytes(&b);
    }
}
