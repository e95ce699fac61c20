//! A streaming view of a pickled batch of flat records: the elements of the
//! list a batch pickles, each a tuple of fields or a single field, read one
//! at a time without building a value graph.
//!
//! ```
//! use sparkwire_serializers::pickle::rows::{Record, Rows};
//! use sparkwire_serializers::pickle::{Field, Limits};
//!
//! // pickle.dumps([(1, 'a'), (2, 'b')], 5), as PySpark writes a batch.
//! let data = b"\x80\x05\x95\x15\x00\x00\x00\x00\x00\x00\x00]\x94(K\x01\x8c\x01a\x94\x86\x94K\x02\x8c\x01b\x94\x86\x94e.";
//! let mut rows = Rows::new(data, &Limits::default());
//! let mut seen = Vec::new();
//! while let Some(record) = rows.next_record()? {
//!     if let Record::Tuple([Field::Int(i), Field::Str(s)]) = record {
//!         seen.push((*i, s.to_string()));
//!     }
//! }
//! assert_eq!(seen, [(1, "a".to_string()), (2, "b".to_string())]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Why a view beside [`super::decode`]: a consumer that only reads the
//! records (counting, filtering, converting rows into its own columns) pays
//! for a node per field and the graph's drop otherwise. The view keeps only
//! what the pickle may still refer to: the memo (a field, or where a
//! memoized tuple's bytes are, replayed when a later `BINGET` names it).
//! A tuple record written as CPython writes one (atoms and short `str`s,
//! `MEMOIZE` or the next `BINPUT`) is returned as soon as it is read; other
//! records wait for the `APPENDS` that adds them (CPython appends 1000 at a
//! time), since a later opcode may still take them into a tuple. Records
//! are returned before the pickle is known to be whole: a cut or damaged
//! pickle gives its first records, then the error. [`Rows::restart`] keeps
//! the view's memory for the next batch of a stream.
//!
//! What it reads: a list (`EMPTY_LIST`) filled by `APPENDS`/`APPEND` with
//! tuples (`TUPLE1`–`TUPLE3`, `MARK … TUPLE`, `EMPTY_TUPLE`) of `None`,
//! bools, ints that fit an `i64`, floats and `str`s, or with such fields
//! themselves, memoized and referenced as CPython (protocols 2–5) and
//! Pyrolite write them. Anything else (nested containers, bytes, strings
//! with lone surrogates, objects, a memo slot written twice) is refused with
//! [`RowsError::Unsupported`], naming the opcode and offset, so that the
//! caller can fall back to [`super::decode`]; a damaged pickle is refused
//! with the error the graph decoder would name. A pickle the view reads to
//! its end decodes, through [`super::decode_with`] under the same limits, to
//! a list of exactly these records (the `pickle_decode` fuzz target and
//! `tests/pickle_rows_vs_cpython.rs` check it).

use super::encode::Field;
use super::limits::Limits;
use super::op::bytes as op;
use super::pytext::validate;

/// One element of the batch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Record<'v, 'a> {
    /// A tuple of fields.
    Tuple(&'v [Field<'a>]),
    /// A field that is itself the element (a batch of ints, say).
    Field(Field<'a>),
}

/// Why the view stopped.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RowsError {
    /// The pickle holds something the view does not read; the graph decoder
    /// may still read it.
    #[error("offset {offset}: {what} (opcode 0x{op:02x}) is not read by the rows view")]
    Unsupported {
        /// Where the opcode starts.
        offset: u64,
        /// The opcode.
        op: u8,
        /// What it is or why it is refused.
        what: &'static str,
    },
    /// The input ends inside an opcode, or before `STOP`.
    #[error("offset {offset}: the pickle ends inside {what}")]
    Truncated {
        /// Where the cut opcode starts.
        offset: u64,
        /// What was being read.
        what: &'static str,
    },
    /// The bytes are not a valid pickle.
    #[error("offset {offset}: {what}")]
    Malformed {
        /// Where the opcode starts.
        offset: u64,
        /// What is wrong.
        what: &'static str,
    },
    /// A limit of [`Limits`] was reached (the graph decoder stops there too).
    #[error("offset {offset}: more than {max} {limit}s")]
    Limit {
        /// Where the opcode starts.
        offset: u64,
        /// Which limit.
        limit: &'static str,
        /// Its value.
        max: u64,
    },
}

/// A field as the view keeps it: a `str` as where its bytes are, so that its
/// buffers hold no borrow and can serve the next pickle ([`Rows::restart`]).
#[derive(Debug, Clone, Copy)]
enum Cell {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// A `str` of `len` bytes whose opcode is at `op` of the input, checked
    /// as UTF-8 when returned.
    Str {
        op: u32,
        len: u32,
    },
}

/// A value on the view's stack, as the graph decoder would hold it.
#[derive(Debug, Clone, Copy)]
enum Entry {
    /// The batch's list (always at the bottom).
    List,
    /// A field; `at` is where its opcode starts.
    Field { cell: Cell, at: u32 },
    /// A tuple: `len` cells from `start` in the cell buffer; its opcodes span
    /// `from..to` of the input (from its first field, to its closer).
    Tuple {
        start: u32,
        len: u32,
        from: u32,
        to: u32,
    },
}

/// What a memo slot holds.
#[derive(Debug, Clone, Copy)]
enum Slot {
    List,
    Field(Cell),
    /// A memoized tuple: replayed from its opcodes when referenced.
    Tuple {
        from: u32,
        to: u32,
    },
}

/// The view's working memory, kept from one pickle to the next.
#[derive(Debug, Default)]
struct Buffers {
    stack: Vec<Entry>,
    marks: Vec<usize>,
    memo: Vec<Slot>,
    /// The fields of the tuples on the stack and in `ready`.
    cells: Vec<Cell>,
    /// Records appended to the list and not yet returned, in order.
    ready: Vec<Entry>,
}

impl Buffers {
    fn clear(&mut self) {
        self.stack.clear();
        self.marks.clear();
        self.memo.clear();
        self.cells.clear();
        self.ready.clear();
    }
}

/// Reads the records of a pickled batch one at a time.
#[derive(Debug)]
pub struct Rows<'a> {
    data: &'a [u8],
    pos: usize,
    limits: Limits,
    max_nodes: usize,
    /// Nodes the graph decoder would have made so far.
    nodes: usize,
    buf: Buffers,
    /// How many of `buf.ready` were returned.
    taken: usize,
    /// Records returned by [`Self::fast_record`] that the graph decoder
    /// would still hold on its stack (until the batch's `APPENDS`): counted
    /// in the stack limit, never looked at again.
    held: usize,
    /// The fields of the record last returned, or of a run of bare records.
    out: Vec<Field<'a>>,
    /// Read without checking text ([`Rows::next_record_unchecked`]): beside
    /// each field of `out`, where its `str`'s bytes are (`(0, 0)` for any
    /// other field).
    spans: Vec<Span>,
    /// How many of a run of bare records in `out` were returned (`usize::MAX`
    /// when `out` holds a tuple record).
    bare: usize,
    done: bool,
}

/// Where a `str` field's bytes are in the input: start and length.
pub(crate) type Span = (u32, u32);

/// The length of a `str` opcode's header (the opcode and its length):
/// `SHORT_BINUNICODE`, `BINUNICODE`, else `BINUNICODE8`.
#[inline(always)]
fn str_header(op: u8) -> u32 {
    match op {
        op::SHORT_BINUNICODE => 2,
        op::BINUNICODE => 5,
        _ => 9,
    }
}

/// The deepest MARK nesting the view follows: the batch's and a row's.
const MAX_MARKS: usize = 2;

impl<'a> Rows<'a> {
    /// A view of the pickle at the start of `data`, bounded by `limits` as
    /// [`super::decode_with`] is.
    pub fn new(data: &'a [u8], limits: &Limits) -> Rows<'a> {
        Rows {
            data,
            pos: 0,
            limits: *limits,
            max_nodes: limits.max_nodes.min(u32::MAX as usize - 1),
            nodes: 0,
            buf: Buffers::default(),
            taken: 0,
            held: 0,
            out: Vec::new(),
            spans: Vec::new(),
            bare: usize::MAX,
            done: false,
        }
    }

    /// The same view over another pickle, keeping the memory this one grew
    /// (a stream of batches then allocates nothing per batch).
    pub fn restart<'b>(mut self, data: &'b [u8]) -> Rows<'b> {
        self.buf.clear();
        Rows {
            data,
            pos: 0,
            limits: self.limits,
            max_nodes: self.max_nodes,
            nodes: 0,
            buf: self.buf,
            taken: 0,
            held: 0,
            out: Vec::with_capacity(self.out.capacity()),
            spans: {
                let mut spans = self.spans;
                spans.clear();
                spans
            },
            bare: usize::MAX,
            done: false,
        }
    }

    /// The length of the input the view reads.
    pub(crate) fn data_len(&self) -> usize {
        self.data.len()
    }

    /// Offset just past `STOP` once the last record was returned.
    pub fn end(&self) -> Option<usize> {
        self.done.then_some(self.pos)
    }

    /// The next record; `None` after the last, once `STOP` was read.
    ///
    /// [`Self::next_record_unchecked`] is the same loop without the text's
    /// checks. Each keeps its own copy: shared through one function that
    /// says where the record is (`Done`, read fast, or an entry), the rows
    /// view took 4–5 % longer (three alternating profile runs each: 60
    /// passes over 1 M AutoBatched records 2.12–2.14 s against 1.99–2.02 s,
    /// 400 over the pickle bench's row batches 3.43–3.54 s against
    /// 3.10–3.31 s).
    pub fn next_record(&mut self) -> Result<Option<Record<'_, 'a>>, RowsError> {
        if let Some(&f) = self.out.get(self.bare) {
            self.bare += 1;
            return Ok(Some(Record::Field(f)));
        }
        self.bare = usize::MAX;
        while self.taken == self.buf.ready.len() {
            self.buf.ready.clear();
            self.taken = 0;
            if self.buf.stack.len() <= 1 {
                // Nothing on the stack refers to the cell buffer any more.
                self.buf.cells.clear();
            }
            if self.done {
                return Ok(None);
            }
            // Inside the batch's MARK with nothing pending: a record as
            // CPython writes it is read straight into `out`.
            if self.buf.stack.len() == 1 && self.buf.marks.len() == 1 && self.fast_record::<true>()
            {
                if self.bare == 0 {
                    self.bare = 1;
                    return Ok(Some(Record::Field(self.out[0])));
                }
                return Ok(Some(Record::Tuple(&self.out)));
            }
            self.fill()?;
        }
        let e = self.buf.ready[self.taken];
        self.taken += 1;
        Ok(Some(match e {
            Entry::Field { cell, .. } => Record::Field(self.field_of::<true>(cell)?),
            Entry::Tuple { start, len, .. } => {
                let start = start as usize;
                self.out.clear();
                for i in start..start + len as usize {
                    let f = self.field_of::<true>(self.buf.cells[i])?;
                    self.out.push(f);
                }
                Record::Tuple(&self.out)
            }
            Entry::List => return Err(self.unsupported(self.pos, "the list inside itself")),
        }))
    }

    /// [`Self::next_record`] without checking any `str` as UTF-8: each
    /// `Field::Str` is empty, and the spans beside the fields say where
    /// its bytes are in the input (`(0, 0)` for other fields). For a
    /// reader that copies the text and checks it whole, once
    /// ([`super::flat::FlatBatch`]); it must read the pickle again with
    /// [`Self::next_record`] when that check or anything else fails, for
    /// the error this view gives. Its loop is `next_record`'s (see there).
    pub(crate) fn next_record_unchecked(
        &mut self,
    ) -> Result<Option<(Record<'_, 'a>, &[Span])>, RowsError> {
        if let Some(&f) = self.out.get(self.bare) {
            self.bare += 1;
            let span = self.spans.get(self.bare - 1..self.bare);
            return Ok(Some((Record::Field(f), span.unwrap_or_default())));
        }
        self.bare = usize::MAX;
        while self.taken == self.buf.ready.len() {
            self.buf.ready.clear();
            self.taken = 0;
            if self.buf.stack.len() <= 1 {
                self.buf.cells.clear();
            }
            if self.done {
                return Ok(None);
            }
            if self.buf.stack.len() == 1 && self.buf.marks.len() == 1 && self.fast_record::<false>()
            {
                if self.bare == 0 {
                    self.bare = 1;
                    let span = self.spans.get(..1).unwrap_or_default();
                    return Ok(Some((Record::Field(self.out[0]), span)));
                }
                return Ok(Some((Record::Tuple(&self.out), &self.spans)));
            }
            self.fill()?;
        }
        let e = self.buf.ready[self.taken];
        self.taken += 1;
        self.out.clear();
        self.spans.clear();
        let one;
        let cells: &[Cell] = match e {
            Entry::Field { cell, .. } => {
                one = [cell];
                &one
            }
            Entry::Tuple { start, len, .. } => {
                &self.buf.cells[start as usize..start as usize + len as usize]
            }
            // Appends never take the list: `append` starts above it.
            Entry::List => return Err(self.unsupported(self.pos, "the list inside itself")),
        };
        for &cell in cells {
            self.out.push(self.field_of::<false>(cell)?);
            self.spans.push(self.span(cell));
        }
        Ok(Some(match e {
            Entry::Field { .. } => (Record::Field(self.out[0]), &self.spans[..]),
            _ => (Record::Tuple(&self.out), &self.spans[..]),
        }))
    }

    /// The input the view reads.
    pub(crate) fn data(&self) -> &'a [u8] {
        self.data
    }

    /// Where a `str` cell's bytes are in the input; `(0, 0)` for any other.
    #[inline(always)]
    fn span(&self, c: Cell) -> Span {
        match c {
            Cell::Str { op: at, len } => (at + str_header(self.data[at as usize]), len),
            _ => (0, 0),
        }
    }

    /// One tuple record of a batch as CPython writes it (`MARK` fields
    /// `TUPLE`, or one to three fields and `TUPLEn`, each field an atom or a
    /// short `str` optionally memoized, the tuple optionally memoized), or a
    /// run of bare fields up to the batch's `APPENDS` (sets `bare` to 0),
    /// read straight into `out`, with the checks and the memo entries the
    /// general reading makes. Called inside the batch's MARK with nothing
    /// above the list; anything else (another opcode, a limit, a cut, invalid
    /// UTF-8) leaves everything as it was and returns false, for the general
    /// reading to take or to report. Its field arms repeat [`Self::cell`]'s
    /// on purpose: they build the returned `Field` (a checked `&str`) and the
    /// kept `Cell` in one step, in registers. Without `CHECK` a `str` is
    /// not checked: its `Field` is empty and its span goes into `spans`
    /// (see [`Self::next_record_unchecked`]).
    #[inline]
    fn fast_record<const CHECK: bool>(&mut self) -> bool {
        let data: &'a [u8] = self.data;
        let start = self.pos;
        let memo0 = self.buf.memo.len();
        let marked = data.get(start) == Some(&op::MARK);
        if marked && self.limits.max_depth < MAX_MARKS {
            return false;
        }
        let first = start + usize::from(marked);
        let mut p = first;
        // The last field, as a memo slot would hold it.
        let mut last = Cell::None;
        self.out.clear();
        if !CHECK {
            self.spans.clear();
        }
        let closer = loop {
            let Some(&b) = data.get(p) else {
                break None;
            };
            let (field, cell, next) = match b {
                op::BININT1 => match data.get(p + 1) {
                    Some(&v) => (Field::Int(v as i64), Cell::Int(v as i64), p + 2),
                    None => break None,
                },
                op::BININT2 => match data.get(p + 1..p + 3) {
                    Some(&[x, y]) => {
                        let v = u16::from_le_bytes([x, y]) as i64;
                        (Field::Int(v), Cell::Int(v), p + 3)
                    }
                    _ => break None,
                },
                op::BININT => match data.get(p + 1..p + 5) {
                    Some(&[x, y, z, w]) => {
                        let v = i32::from_le_bytes([x, y, z, w]) as i64;
                        (Field::Int(v), Cell::Int(v), p + 5)
                    }
                    _ => break None,
                },
                op::BINFLOAT => match data.get(p + 1..p + 9) {
                    Some(&[a, b, c, d, e, f, g, h]) => {
                        let x = f64::from_be_bytes([a, b, c, d, e, f, g, h]);
                        (Field::Float(x), Cell::Float(x), p + 9)
                    }
                    _ => break None,
                },
                op::NONE => (Field::None, Cell::None, p + 1),
                op::NEWTRUE | op::NEWFALSE => {
                    let v = b == op::NEWTRUE;
                    (Field::Bool(v), Cell::Bool(v), p + 1)
                }
                op::SHORT_BINUNICODE => {
                    let Some(&n) = data.get(p + 1) else {
                        break None;
                    };
                    let Some(body) = data.get(p + 2..p + 2 + n as usize) else {
                        break None;
                    };
                    let text = if CHECK {
                        let Ok(text) = std::str::from_utf8(body) else {
                            break None;
                        };
                        text
                    } else {
                        ""
                    };
                    let cell = Cell::Str {
                        op: p as u32,
                        len: n as u32,
                    };
                    (Field::Str(text), cell, p + 2 + n as usize)
                }
                op::MEMOIZE if !self.out.is_empty() => {
                    if self.buf.memo.len() >= self.limits.max_memo {
                        break None;
                    }
                    self.buf.memo.push(Slot::Field(last));
                    p += 1;
                    continue;
                }
                op::TUPLE if marked => break Some(p),
                // A run of bare fields up to the batch's APPENDS: each is a
                // record (nothing can take them into a tuple any more).
                op::APPENDS if !marked && !self.out.is_empty() => break Some(p),
                op::TUPLE1..=op::TUPLE3 if !marked => {
                    break ((b - op::TUPLE1 + 1) as usize == self.out.len()).then_some(p);
                }
                _ => break None,
            };
            self.out.push(field);
            if !CHECK {
                self.spans.push(self.span(cell));
            }
            last = cell;
            p = next;
        };
        let n = self.out.len();
        let bare = closer.is_some_and(|at| data[at] == op::APPENDS);
        // The fields (and a tuple) are nodes; the fields stood on the stack
        // above the list (the general reading's `push` checks).
        let nodes = n + usize::from(!bare);
        let fits =
            self.held + n.max(1) < self.limits.max_stack && self.nodes + nodes <= self.max_nodes;
        let Some(at) = closer.filter(|_| fits) else {
            self.buf.memo.truncate(memo0);
            return false;
        };
        if bare {
            // The run and its APPENDS, which closes the batch's MARK.
            self.nodes += n;
            self.buf.marks.pop();
            self.held = 0;
            self.bare = 0;
            self.pos = at + 1;
            return true;
        }
        // The tuple's memo store, if it follows (MEMOIZE, or BINPUT /
        // LONG_BINPUT of the next slot, as protocols 2–3 number them).
        let mut end = at + 1;
        let store = match data.get(end) {
            Some(&op::MEMOIZE) => Some((self.buf.memo.len() as u64, 1)),
            Some(&op::BINPUT) => data.get(end + 1).map(|&i| (i as u64, 2)),
            Some(&op::LONG_BINPUT) => data
                .get(end + 1..end + 5)
                .map(|b| (u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as u64, 5)),
            _ => None,
        };
        if let Some((idx, len)) = store {
            // Anything but the next slot within the limit is the general
            // reading's to take or to report.
            if idx != self.buf.memo.len() as u64 || self.buf.memo.len() >= self.limits.max_memo {
                self.buf.memo.truncate(memo0);
                return false;
            }
            let from = if n == 0 { at } else { first };
            self.buf.memo.push(Slot::Tuple {
                from: from as u32,
                to: at as u32,
            });
            end += len;
        }
        self.nodes += n + 1;
        self.held += 1;
        self.pos = end;
        true
    }

    /// A kept field as returned: a `str` is checked here, once, as the graph
    /// decoder checks it (a lone surrogate, which `&str` cannot hold, is left
    /// to the graph decoder); without `CHECK`, returned empty and unchecked.
    #[inline(always)]
    fn field_of<const CHECK: bool>(&self, c: Cell) -> Result<Field<'a>, RowsError> {
        Ok(match c {
            Cell::None => Field::None,
            Cell::Bool(b) => Field::Bool(b),
            Cell::Int(i) => Field::Int(i),
            Cell::Float(x) => Field::Float(x),
            Cell::Str { .. } if !CHECK => Field::Str(""),
            Cell::Str { op: at, len } => {
                let data: &'a [u8] = self.data;
                let at = at as usize;
                // The body follows the opcode and its length.
                let from = at + str_header(data[at]) as usize;
                let body = &data[from..from + len as usize];
                match std::str::from_utf8(body) {
                    Ok(s) => Field::Str(s),
                    Err(_) if validate(body).is_ok() => {
                        return Err(self.unsupported(at, "a str with a lone surrogate"))
                    }
                    Err(_) => return Err(Self::malformed(at, "a str that is not UTF-8")),
                }
            }
        })
    }

    fn unsupported(&self, at: usize, what: &'static str) -> RowsError {
        RowsError::Unsupported {
            offset: at as u64,
            op: self.data.get(at).copied().unwrap_or(0),
            what,
        }
    }

    fn malformed(at: usize, what: &'static str) -> RowsError {
        RowsError::Malformed {
            offset: at as u64,
            what,
        }
    }

    fn truncated(at: usize, what: &'static str) -> RowsError {
        RowsError::Truncated {
            offset: at as u64,
            what,
        }
    }

    /// `n` bytes at `from`, part of the opcode at `at`.
    #[inline(always)]
    fn bytes(
        &self,
        at: usize,
        from: usize,
        n: usize,
        what: &'static str,
    ) -> Result<&'a [u8], RowsError> {
        let data: &'a [u8] = self.data;
        from.checked_add(n)
            .and_then(|end| data.get(from..end))
            .ok_or(Self::truncated(at, what))
    }

    #[inline(always)]
    fn uint(&self, at: usize, from: usize, n: usize, what: &'static str) -> Result<u64, RowsError> {
        let b = self.bytes(at, from, n, what)?;
        Ok(b.iter().rev().fold(0u64, |v, &x| (v << 8) | x as u64))
    }

    /// The fence: nothing at or below the topmost MARK may be taken.
    #[inline]
    fn fence(&self) -> usize {
        self.buf.marks.last().copied().unwrap_or(0)
    }

    /// Pushes `e` with the graph decoder's checks (stack, and nodes unless it
    /// is a memo reference); everything but the list goes on top of the list.
    #[inline(always)]
    fn push(&mut self, at: usize, e: Entry, node: bool) -> Result<(), RowsError> {
        if self.buf.stack.is_empty() && !matches!(e, Entry::List) {
            return Err(self.unsupported(at, "a pickle that is not a list"));
        }
        if self.buf.stack.len() + self.held >= self.limits.max_stack {
            return Err(RowsError::Limit {
                offset: at as u64,
                limit: "stack entry",
                max: self.limits.max_stack as u64,
            });
        }
        if node {
            if self.nodes >= self.max_nodes {
                return Err(RowsError::Limit {
                    offset: at as u64,
                    limit: "node",
                    max: self.max_nodes as u64,
                });
            }
            self.nodes += 1;
        }
        self.buf.stack.push(e);
        Ok(())
    }

    /// A field's opcode at `at` (`b`): the field and where the next opcode
    /// starts; `None` when `b` is not a field's opcode.
    #[inline(always)]
    fn cell(&self, at: usize, b: u8) -> Result<Option<(Cell, usize)>, RowsError> {
        let p = at + 1;
        Ok(Some(match b {
            op::NONE => (Cell::None, p),
            op::NEWTRUE => (Cell::Bool(true), p),
            op::NEWFALSE => (Cell::Bool(false), p),
            op::BININT1 => (Cell::Int(self.uint(at, p, 1, "BININT1")? as i64), p + 1),
            op::BININT2 => (Cell::Int(self.uint(at, p, 2, "BININT2")? as i64), p + 2),
            op::BININT => (
                Cell::Int(self.uint(at, p, 4, "BININT")? as u32 as i32 as i64),
                p + 4,
            ),
            op::BINFLOAT => {
                let b = self.bytes(at, p, 8, "BINFLOAT")?;
                let mut be = [0u8; 8];
                be.copy_from_slice(b);
                (Cell::Float(f64::from_be_bytes(be)), p + 8)
            }
            op::SHORT_BINUNICODE => {
                let n = self.uint(at, p, 1, "SHORT_BINUNICODE")? as usize;
                (self.text(at, p + 1, n)?, p + 1 + n)
            }
            op::BINUNICODE => {
                let n = self.uint(at, p, 4, "BINUNICODE")? as usize;
                (self.text(at, p + 4, n)?, p + 4 + n)
            }
            op::BINUNICODE8 => {
                let n = self.uint(at, p, 8, "BINUNICODE8")?;
                let n = usize::try_from(n).map_err(|_| Self::truncated(at, "BINUNICODE8"))?;
                (self.text(at, p + 8, n)?, p + 8 + n)
            }
            op::LONG1 => {
                let n = self.uint(at, p, 1, "LONG1")? as usize;
                let body = self.bytes(at, p + 1, n, "LONG1")?;
                let v =
                    long_i64(body).ok_or_else(|| self.unsupported(at, "an int beyond 64 bits"))?;
                (Cell::Int(v), p + 1 + n)
            }
            _ => return Ok(None),
        }))
    }

    /// A `str` of `n` bytes at `from`, its opcode at `at` (its UTF-8 is
    /// checked when returned).
    #[inline(always)]
    fn text(&self, at: usize, from: usize, n: usize) -> Result<Cell, RowsError> {
        self.bytes(at, from, n, "a str")?;
        // Within the input, whose length was checked to fit a u32.
        Ok(Cell::Str {
            op: at as u32,
            len: n as u32,
        })
    }

    /// The memo slot `idx` referenced at `at`.
    fn memo_get(&self, at: usize, idx: u64) -> Result<Slot, RowsError> {
        usize::try_from(idx)
            .ok()
            .and_then(|i| self.buf.memo.get(i))
            .copied()
            .ok_or_else(|| Self::malformed(at, "a memo reference to an empty slot"))
    }

    /// Stores the stack's top in memo slot `idx`.
    #[inline(always)]
    fn memo_put(&mut self, at: usize, idx: u64) -> Result<(), RowsError> {
        if self.buf.stack.len() <= self.fence() {
            if self.held > 0 && self.buf.marks.len() == 1 {
                return Err(self.unsupported(at, "a second memo store of a record"));
            }
            return Err(Self::malformed(at, "a memo store with nothing to store"));
        }
        if idx != self.buf.memo.len() as u64 {
            return Err(self.unsupported(at, "a memo store out of sequence"));
        }
        if self.buf.memo.len() >= self.limits.max_memo {
            return Err(RowsError::Limit {
                offset: at as u64,
                limit: "memo entry",
                max: self.limits.max_memo as u64,
            });
        }
        let slot = match self.buf.stack[self.buf.stack.len() - 1] {
            Entry::List => Slot::List,
            Entry::Field { cell, .. } => Slot::Field(cell),
            Entry::Tuple { from, to, .. } => Slot::Tuple { from, to },
        };
        self.buf.memo.push(slot);
        Ok(())
    }

    /// The cells of a memoized tuple, read again from its opcodes into the
    /// cell buffer: its first field (or its closer, when it has none) at
    /// `from`, its closer at `to`.
    /// Always inlined: see [`Self::fill`].
    #[inline(always)]
    fn replay(&mut self, at: usize, from: u32, to: u32) -> Result<(u32, u32), RowsError> {
        let start = self.buf.cells.len();
        let (mut p, to) = (from as usize, to as usize);
        while p < to {
            let b = self.data[p];
            if let Some((c, next)) = self.cell(p, b)? {
                self.buf.cells.push(c);
                p = next;
                continue;
            }
            p = match b {
                op::MEMOIZE => p + 1,
                op::BINPUT => p + 2,
                op::LONG_BINPUT => p + 5,
                op::FRAME => p + 9,
                op::BINGET | op::LONG_BINGET => {
                    let (idx, next) = if b == op::BINGET {
                        (self.uint(p, p + 1, 1, "BINGET")?, p + 2)
                    } else {
                        (self.uint(p, p + 1, 4, "LONG_BINGET")?, p + 5)
                    };
                    match self.memo_get(p, idx)? {
                        Slot::Field(c) => self.buf.cells.push(c),
                        _ => return Err(self.unsupported(at, "a tuple inside a tuple")),
                    }
                    next
                }
                // Read once already: only the opcodes above can be here.
                _ => return Err(self.unsupported(p, "an opcode inside a memoized tuple")),
            };
        }
        Ok((u32_of(start), u32_of(self.buf.cells.len() - start)))
    }

    /// Reads opcodes until records are ready, `STOP` was read, or the next
    /// record may be one for [`Self::fast_record`]. The opcodes of a batch
    /// are taken in this loop; the rest in [`Self::other`]. Always inlined,
    /// as are `other` and [`Self::replay`]: called from both readings,
    /// checked and unchecked, LLVM inlined them into neither, and the rows
    /// view of 1 M AutoBatched records took 2.25–2.40 s in 60-pass profile
    /// runs against 2.00–2.19 s before (2.00–2.08 s inlined).
    #[inline(always)]
    fn fill(&mut self) -> Result<(), RowsError> {
        if self.pos == 0 && self.data.len() > u32::MAX as usize {
            return Err(self.unsupported(0, "a pickle of 4 GiB or more"));
        }
        let mut first = true;
        // At least one opcode; then until records are ready, `STOP`, or the
        // state where `fast_record` may take the next record.
        while self.buf.ready.is_empty()
            && !self.done
            && (first || self.buf.stack.len() != 1 || self.buf.marks.len() != 1)
        {
            first = false;
            let at = self.pos;
            let Some(&b) = self.data.get(at) else {
                return Err(Self::truncated(at, "an opcode (no STOP)"));
            };
            if let Some((cell, next)) = self.cell(at, b)? {
                self.push(
                    at,
                    Entry::Field {
                        cell,
                        at: at as u32,
                    },
                    true,
                )?;
                self.pos = next;
                continue;
            }
            self.pos = match b {
                op::MEMOIZE => {
                    self.memo_put(at, self.buf.memo.len() as u64)?;
                    at + 1
                }
                op::MARK => {
                    if self.buf.stack.is_empty() {
                        return Err(self.unsupported(at, "a pickle that is not a list"));
                    }
                    if self.buf.marks.len() >= MAX_MARKS.min(self.limits.max_depth) {
                        return Err(if self.buf.marks.len() >= self.limits.max_depth {
                            RowsError::Limit {
                                offset: at as u64,
                                limit: "open MARK",
                                max: self.limits.max_depth as u64,
                            }
                        } else {
                            self.unsupported(at, "a container inside a record")
                        });
                    }
                    self.buf.marks.push(self.buf.stack.len());
                    at + 1
                }
                op::TUPLE1 | op::TUPLE2 | op::TUPLE3 | op::TUPLE => {
                    self.tuple(at, b)?;
                    at + 1
                }
                op::APPENDS => {
                    let Some(&mark) = self.buf.marks.last() else {
                        return Err(Self::malformed(at, "APPENDS without a MARK"));
                    };
                    if mark != 1 {
                        return Err(
                            self.unsupported(at, "APPENDS onto something else than the list")
                        );
                    }
                    // Another MARK open below this one fences the list off,
                    // as in the graph decoder (and CPython): `( ( … e`.
                    if self.buf.marks.len() > 1 {
                        return Err(Self::malformed(
                            at,
                            "APPENDS onto a list below an open MARK",
                        ));
                    }
                    self.buf.marks.pop();
                    let Buffers { stack, ready, .. } = &mut self.buf;
                    ready.extend(stack.drain(1..));
                    self.held = 0;
                    at + 1
                }
                _ => self.other(at, b)?,
            };
        }
        Ok(())
    }

    /// `TUPLE1`–`TUPLE3` (their items) or `TUPLE` (what is above the MARK).
    #[inline(always)]
    fn tuple(&mut self, at: usize, b: u8) -> Result<(), RowsError> {
        let from = if b == op::TUPLE {
            // Closing the batch's MARK would take the records already
            // returned (held, not on the stack) into the tuple too.
            if self.held > 0 && self.buf.marks.len() == 1 {
                return Err(self.unsupported(at, "a tuple of records"));
            }
            *self
                .buf
                .marks
                .last()
                .ok_or(Self::malformed(at, "TUPLE without a MARK"))?
        } else {
            let n = (b - op::TUPLE1 + 1) as usize;
            if self.buf.stack.len() < self.fence() + n {
                if self.held > 0 && self.buf.marks.len() == 1 {
                    return Err(self.unsupported(at, "a tuple of records"));
                }
                return Err(Self::malformed(
                    at,
                    "a tuple of more items than the stack holds",
                ));
            }
            self.buf.stack.len() - n
        };
        let start = self.buf.cells.len();
        // A memoized tuple is replayed from its first field (a MARK carries
        // nothing); one without fields spans only its closer.
        let mut first = at as u32;
        let Buffers { stack, cells, .. } = &mut self.buf;
        for (i, e) in stack[from..].iter().enumerate() {
            match *e {
                Entry::Field { cell, at: f } => {
                    if i == 0 {
                        first = f;
                    }
                    cells.push(cell);
                }
                _ => return Err(self.unsupported(at, "a container inside a record")),
            }
        }
        let len = cells.len() - start;
        stack.truncate(from);
        if b == op::TUPLE {
            self.buf.marks.pop();
        }
        self.push(
            at,
            Entry::Tuple {
                start: u32_of(start),
                len: u32_of(len),
                from: first,
                to: at as u32,
            },
            true,
        )
    }

    /// The opcodes outside a batch's usual ones: the position after `b`.
    /// Always inlined: see [`Self::fill`].
    #[inline(always)]
    fn other(&mut self, at: usize, b: u8) -> Result<usize, RowsError> {
        let p = at + 1;
        Ok(match b {
            op::PROTO if at == 0 => {
                if self.uint(at, p, 1, "PROTO")? > 5 {
                    return Err(Self::malformed(at, "an unsupported protocol"));
                }
                p + 1
            }
            op::FRAME => {
                let n = self.uint(at, p, 8, "FRAME")?;
                if n > (self.data.len() - p - 8) as u64 {
                    return Err(Self::truncated(at, "a frame"));
                }
                p + 8
            }
            op::EMPTY_LIST => {
                if !self.buf.stack.is_empty() {
                    return Err(self.unsupported(at, "a list inside the batch"));
                }
                self.push(at, Entry::List, true)?;
                p
            }
            op::BINPUT => {
                let idx = self.uint(at, p, 1, "BINPUT")?;
                self.memo_put(at, idx)?;
                p + 1
            }
            op::LONG_BINPUT => {
                let idx = self.uint(at, p, 4, "LONG_BINPUT")?;
                self.memo_put(at, idx)?;
                p + 4
            }
            op::BINGET | op::LONG_BINGET => {
                let (idx, next) = if b == op::BINGET {
                    (self.uint(at, p, 1, "BINGET")?, p + 1)
                } else {
                    (self.uint(at, p, 4, "LONG_BINGET")?, p + 4)
                };
                let e = match self.memo_get(at, idx)? {
                    Slot::List => return Err(self.unsupported(at, "the list inside itself")),
                    Slot::Field(cell) => Entry::Field {
                        cell,
                        at: at as u32,
                    },
                    Slot::Tuple { from, to } => {
                        let (start, len) = self.replay(at, from, to)?;
                        Entry::Tuple {
                            start,
                            len,
                            from,
                            to,
                        }
                    }
                };
                self.push(at, e, false)?;
                next
            }
            op::EMPTY_TUPLE => {
                let start = u32_of(self.buf.cells.len());
                let at32 = at as u32;
                let e = Entry::Tuple {
                    start,
                    len: 0,
                    from: at32,
                    to: at32,
                };
                self.push(at, e, true)?;
                p
            }
            op::APPEND => {
                if !self.buf.marks.is_empty() || self.buf.stack.len() != 2 {
                    return Err(self.unsupported(at, "APPEND onto something else than the list"));
                }
                let Buffers { stack, ready, .. } = &mut self.buf;
                ready.extend(stack.drain(1..));
                p
            }
            op::STOP => {
                if !self.buf.marks.is_empty() || self.buf.stack.len() != 1 {
                    return Err(self.unsupported(at, "a pickle whose value is not the list"));
                }
                self.done = true;
                p
            }
            _ => return Err(self.unsupported(at, "an opcode outside flat records")),
        })
    }
}

/// A run position as the `u32` the field buffer is indexed with (the buffer
/// holds at most one field per input byte, and inputs are framed below 4 GiB).
fn u32_of(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A LONG1 body (little-endian two's complement) as an `i64`, if it fits.
fn long_i64(body: &[u8]) -> Option<i64> {
    if body.is_empty() {
        return Some(0);
    }
    if body.len() > 8 {
        // Longer bodies fit only when the extra bytes are sign extension;
        // CPython writes the shortest form, so they do not.
        let (low, high) = body.split_at(8);
        let sign = if low[7] & 0x80 != 0 { 0xff } else { 0 };
        if high.iter().any(|&b| b != sign) {
            return None;
        }
        return long_i64(low);
    }
    let fill = if body[body.len() - 1] & 0x80 != 0 {
        0xff
    } else {
        0
    };
    let mut b = [fill; 8];
    b[..body.len()].copy_from_slice(body);
    Some(i64::from_le_bytes(b))
}

/// Checks the view against the graph decoder on `data`: when the view reads
/// the pickle to its end, [`super::decode_with`] (same limits) must decode it
/// to a list of exactly those records, ending at the same offset. Returns
/// whether the view read it all; `Err` describes a disagreement. For
/// differential tests and fuzzing.
#[doc(hidden)]
pub fn same_as_decoded(data: &[u8], limits: &Limits) -> Result<bool, String> {
    use super::value::{Int, Value};
    let mut rows = Rows::new(data, limits);
    let mut got: Vec<Result<Vec<Field<'_>>, Field<'_>>> = Vec::new();
    loop {
        match rows.next_record() {
            Ok(Some(Record::Tuple(f))) => got.push(Ok(f.to_vec())),
            Ok(Some(Record::Field(f))) => got.push(Err(f)),
            Ok(None) => break,
            Err(_) => return Ok(false),
        }
    }
    let end = rows.end();
    let d = super::decode_with(&bytes::Bytes::copy_from_slice(data), limits)
        .map_err(|e| format!("the view read it, the decoder refused it: {e}"))?;
    if end != Some(d.end) {
        return Err(format!("ends differ: view {end:?}, decoder {}", d.end));
    }
    let g = &d.graph;
    let Value::List(items) = g.get(d.root()) else {
        return Err("the decoded root is not a list".into());
    };
    let items = g.items(*items);
    if items.len() != got.len() {
        return Err(format!("{} records, {} list items", got.len(), items.len()));
    }
    let same_field = |f: &Field<'_>, v: &Value| match (f, v) {
        (Field::None, Value::None) => true,
        (Field::Bool(a), Value::Bool(b)) => a == b,
        (Field::Int(a), Value::Int(b)) => Int::from(*a).to_big() == b.to_big(),
        (Field::Float(a), Value::Float(b)) => a.to_bits() == b.to_bits(),
        (Field::Str(a), Value::Str(b)) => a.as_bytes() == b.as_bytes(),
        _ => false,
    };
    for (i, (r, &id)) in got.iter().zip(items).enumerate() {
        let ok = match (r, g.get(id)) {
            (Ok(fields), Value::Tuple(kids)) => {
                let kids = g.items(*kids);
                kids.len() == fields.len()
                    && fields
                        .iter()
                        .zip(kids)
                        .all(|(f, &k)| same_field(f, g.get(k)))
            }
            (Err(f), v) => same_field(f, v),
            _ => false,
        };
        if !ok {
            let theirs = super::repr_node(g, id, limits).unwrap_or_else(|e| e.to_string());
            return Err(format!("record {i} differs: view {r:?}, decoder {theirs}"));
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pickle::{encode, Graph, Int, Profile, PyStr, Value};

    fn all(data: &[u8]) -> Result<Vec<String>, RowsError> {
        let mut rows = Rows::new(data, &Limits::default());
        let mut out = Vec::new();
        while let Some(r) = rows.next_record()? {
            out.push(format!("{r:?}"));
        }
        Ok(out)
    }

    /// A batch of rows built as a graph: `shape[i]` fields in row i (or a
    /// bare field for `None`), the first row listed again at the end, one
    /// string shared by two rows.
    fn batch(shape: &[Option<usize>]) -> Graph {
        let mut g = Graph::new();
        let shared = g.add(Value::Str(PyStr::from("shared")));
        let mut items = Vec::new();
        for (i, s) in shape.iter().enumerate() {
            let i = i as i64;
            let mut fields = vec![
                g.add(Value::Int(Int::Small(
                    [7, -300, 70_000, 1 << 40, i64::MIN][i as usize % 5],
                ))),
                if i % 3 == 1 {
                    shared
                } else {
                    g.add(Value::Str(PyStr::from(format!("é{i}").as_str())))
                },
                g.add(Value::Float(i as f64 / 3.0)),
                g.add(Value::None),
                g.add(Value::Bool(i % 2 == 0)),
            ];
            items.push(match s {
                Some(n) => {
                    fields.truncate(*n);
                    g.add_tuple(&fields)
                }
                None => fields[0],
            });
        }
        items.push(items[0]);
        let list = g.add_list(&items);
        g.set_root(list);
        g
    }

    #[test]
    fn reads_batches_as_cpython_and_pyrolite_write_them() {
        let shapes: &[&[Option<usize>]] = &[
            &[Some(5), Some(5), Some(5)],
            &[Some(3), Some(2), Some(1), Some(0), Some(4)],
            &[None, None, None, None],
            &[None, Some(2), None, Some(5)],
        ];
        for shape in shapes {
            let g = batch(shape);
            let profiles = (2..=5)
                .map(|protocol| Profile::CPython { protocol })
                .chain([Profile::Pyrolite]);
            for profile in profiles {
                let p = encode(&g, profile).expect("encode");
                assert_eq!(
                    same_as_decoded(&p, &Limits::default()),
                    Ok(true),
                    "{profile:?} {p:02x?}"
                );
            }
        }
    }

    #[test]
    fn a_batch_of_a_thousand_and_one_rows_crosses_an_appends() {
        let g = batch(&[Some(5); 1001]);
        let p = encode(&g, Profile::PYSPARK).expect("encode");
        assert_eq!(same_as_decoded(&p, &Limits::default()), Ok(true));
        assert_eq!(all(&p).expect("rows").len(), 1002);
    }

    /// Where and on which opcode the view refuses `data` as unsupported.
    fn refused_at(data: &[u8]) -> (u64, u8) {
        match all(data) {
            Err(RowsError::Unsupported { offset, op, .. }) => (offset, op),
            other => panic!("not refused as unsupported: {other:?}"),
        }
    }

    #[test]
    fn refuses_what_it_does_not_read_and_says_where() {
        // [[1]]: a list inside the batch.
        assert_eq!(refused_at(b"\x80\x04]\x94]\x94K\x01aa."), (4, b']'));
        // [((1,),)]: a tuple inside a record.
        assert_eq!(refused_at(b"\x80\x04]\x94K\x01\x85\x94\x85\x94a.").0, 8);
        // [b'x']: bytes.
        assert_eq!(refused_at(b"\x80\x04]\x94C\x01x\x94a."), (4, b'C'));
        // ['\ud800']: a lone surrogate, which `&str` cannot hold.
        assert_eq!(refused_at(b"\x80\x04]\x94\x8c\x03\xed\xa0\x80\x94a.").0, 4);
        // 1 << 64.
        let big = b"\x80\x04]\x94\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01a.";
        assert_eq!(refused_at(big).0, 4);
        // A value that is not a list.
        assert_eq!(refused_at(b"\x80\x04K\x01.").0, 2);
        // Invalid UTF-8 is damage, as the decoder says.
        let e = all(b"\x80\x04]\x94\x8c\x01\xff\x94a.").unwrap_err();
        assert!(matches!(e, RowsError::Malformed { offset: 4, .. }), "{e}");
        // `] ( ( K1 K2 e K3 e .`: the inner APPENDS would take the list from
        // below the outer MARK, which fences it off; the decoder (and
        // CPython) refuse it too (found by the serializer_stream fuzz target
        // comparing flat batches with graphs).
        // `] ( N t1 N N N t a .`, [((None,), None, None, None)]: the TUPLE
        // closes the batch's MARK and takes the (None,) returned as a
        // record before it (found by `dumps_like_pyspark_small_values`).
        let p = b"\x80\x05\x95\x0d\x00\x00\x00\x00\x00\x00\x00]\x94(N\x85\x94NNNt\x94a.";
        assert_eq!(refused_at(p), (20, b't'));
        assert_eq!(same_as_decoded(p, &Limits::default()), Ok(false));
        let fenced = b"\x80\x04]\x94((K\x01K\x02eK\x03e.";
        let e = all(fenced).unwrap_err();
        assert!(matches!(e, RowsError::Malformed { offset: 10, .. }), "{e}");
        assert!(crate::pickle::decode_slice(fenced).is_err());
        assert!(same_as_decoded(fenced, &Limits::default()).is_ok());
    }

    #[test]
    fn a_cut_pickle_gives_the_records_before_the_cut_then_an_error() {
        let g = batch(&[None, Some(3), None]);
        let p = encode(&g, Profile::PYSPARK).expect("encode");
        for cut in 0..p.len() {
            let mut rows = Rows::new(&p[..cut], &Limits::default());
            let err = loop {
                match rows.next_record() {
                    Ok(Some(_)) => {}
                    Ok(None) => panic!("a cut pickle read to its end at {cut}"),
                    Err(e) => break e,
                }
            };
            assert!(
                matches!(err, RowsError::Truncated { .. }),
                "cut {cut}: {err}"
            );
            assert_eq!(same_as_decoded(&p[..cut], &Limits::default()), Ok(false));
        }
    }

    /// Records of `widths` int fields (no shared strings: every record but
    /// an empty one is one the fast reading takes), each listed once.
    fn widening(widths: &[usize]) -> Graph {
        let mut g = Graph::new();
        let mut items = Vec::new();
        for (i, &w) in widths.iter().enumerate() {
            let fields: Vec<_> = (0..w)
                .map(|k| g.add(Value::Int(Int::Small((i * 10 + k) as i64))))
                .collect();
            items.push(g.add_tuple(&fields));
        }
        let list = g.add_list(&items);
        g.set_root(list);
        g
    }

    #[test]
    fn limits_hold_as_the_decoder_holds_them() {
        let dflt = Limits::default();
        let graphs = [
            batch(&[Some(5), Some(2), None]),
            // The widest record last: its fields stand above the records the
            // decoder still holds (the stack limit must count them).
            widening(&[1, 1, 2, 1, 6]),
            widening(&[1, 0, 1, 5]),
            widening(&[3, 3, 3, 3]),
            // Two APPENDS of bare ints, then a row.
            {
                let mut g = Graph::new();
                let mut items: Vec<_> = (0..1003)
                    .map(|i| g.add(Value::Int(Int::Small(i))))
                    .collect();
                let f = g.add(Value::Int(Int::Small(-1)));
                items.push(g.add_tuple(&[f]));
                let list = g.add_list(&items);
                g.set_root(list);
                g
            },
        ];
        for g in &graphs {
            for profile in [Profile::PYSPARK, Profile::CPython { protocol: 2 }] {
                let p = encode(g, profile).expect("encode");
                assert_eq!(same_as_decoded(&p, &dflt), Ok(true));
                // Every small limit, and those around what the whole pickle needs.
                let nodes = crate::pickle::decode_slice(&p).expect("decode").graph.len();
                for n in (0..40).chain(nodes.saturating_sub(3)..nodes + 3) {
                    for limits in Limits::each_set_to(n) {
                        // Never read where the decoder would refuse.
                        assert!(same_as_decoded(&p, &limits).is_ok(), "{limits:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn every_substituted_opcode_is_read_as_the_decoder_reads_it_or_refused() {
        let g = batch(&[Some(5), None, Some(2), Some(0)]);
        let p = encode(&g, Profile::PYSPARK).expect("encode");
        for at in 0..p.len() {
            for op in 0..=255u8 {
                let mut q = p.clone();
                q[at] = op;
                if let Err(e) = same_as_decoded(&q, &Limits::default()) {
                    panic!("byte {at} as 0x{op:02x}: {e}");
                }
            }
        }
    }
}
