//! The decoder: an iterative loop over opcodes that builds a [`Graph`].
//!
//! It follows CPython's C unpickler (`_pickle.c`) for what it accepts: the stack
//! and its MARK fences, `MEMOIZE` storing at the number of filled memo slots, POP
//! taking a MARK off when one is on top, an unclosed MARK before STOP being fine.
//! It differs where CPython would run code or trust the input: globals are never
//! resolved, calls are never made, the memo is a dense table only as far as real
//! picklers number it and a hash map beyond (LONG_BINPUT 2^31 is one entry, not
//! a 16 GiB array), and FRAME lengths must fit the input.

use std::collections::HashMap;

use bytes::Bytes;
use num_bigint::BigInt;

use super::error::DecodeError;
use super::limits::Limits;
use super::op::{Op, HIGHEST_PROTOCOL};
use super::pyparse::{parse_float, parse_int, IntTextError};
use super::pystr::PyStr;
use super::pytext::push_code_point;
use super::reader::{read_op, Arg, RawOp};
use super::value::{
    Construct, Graph, Hint, Int, Items, NodeId, Object, Pairs, PersId, State, Value,
};

/// A decoded pickle.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The values; `graph.root()` is what the pickle evaluates to.
    pub graph: Graph,
    /// The protocol named by the first PROTO opcode (`None` for protocols 0–1,
    /// which have no PROTO).
    pub protocol: Option<u8>,
    /// Offset just past STOP. Bytes after it are not part of the pickle.
    pub end: usize,
}

impl Decoded {
    /// The root node.
    pub fn root(&self) -> NodeId {
        self.graph
            .root()
            .expect("a decoded pickle always has a root")
    }
}

/// Decodes one pickle from the start of `data` with default [`Limits`].
/// Bytes after STOP are ignored (see [`Decoded::end`]).
pub fn decode(data: &Bytes) -> Result<Decoded, DecodeError> {
    decode_with(data, &Limits::default())
}

/// Decodes a pickle from a slice (copied once so strings can share it).
pub fn decode_slice(data: &[u8]) -> Result<Decoded, DecodeError> {
    decode(&Bytes::copy_from_slice(data))
}

/// Decodes one pickle with explicit limits.
pub fn decode_with(data: &Bytes, limits: &Limits) -> Result<Decoded, DecodeError> {
    Decoder::new(data, limits).run::<true>()
}

/// [`decode_with`] through the general opcode path only, without the fast
/// paths for common opcodes and rows. For differential tests and fuzzing:
/// both must give the same graph, hints and errors on any input.
#[doc(hidden)]
pub fn decode_general(data: &Bytes, limits: &Limits) -> Result<Decoded, DecodeError> {
    Decoder::new(data, limits).run::<false>()
}

struct Decoder<'a> {
    data: &'a Bytes,
    limits: &'a Limits,
    graph: Graph,
    stack: Vec<NodeId>,
    marks: Vec<usize>,
    /// MARK tuples whose hint is not yet written into the graph.
    mark_tuples: Vec<u32>,
    memo: Memo,
    protocol: Option<u8>,
    buffers: u32,
    /// `limits.max_nodes`, capped below what a `NodeId` can number.
    max_nodes: usize,
}

/// An atom as [`Decoder::atom_run`] reads it, before it becomes a [`Value`]
/// in its slot.
#[derive(Clone, Copy)]
enum Atom {
    Int(i64),
    Float(f64),
    None,
    Bool(bool),
}

impl Atom {
    #[inline(always)]
    fn value(self) -> Value {
        match self {
            Atom::Int(v) => Value::Int(Int::Small(v)),
            Atom::Float(v) => Value::Float(v),
            Atom::None => Value::None,
            Atom::Bool(v) => Value::Bool(v),
        }
    }
}

impl<'a> Decoder<'a> {
    fn new(data: &'a Bytes, limits: &'a Limits) -> Decoder<'a> {
        Decoder {
            data,
            limits,
            graph: Graph::new(),
            stack: Vec::new(),
            marks: Vec::new(),
            mark_tuples: Vec::new(),
            memo: Memo::default(),
            protocol: None,
            buffers: 0,
            max_nodes: limits.max_nodes.min(u32::MAX as usize - 1),
        }
    }

    fn fence(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    fn node(&mut self, r: &RawOp, v: Value) -> Result<NodeId, DecodeError> {
        if self.graph.len() >= self.max_nodes {
            return Err(limit(r, "node", self.max_nodes));
        }
        Ok(self.graph.add(v))
    }

    /// Notes that a tuple was built with `MARK … TUPLE`. Hints are written into
    /// the graph's table (one byte per node, mostly default) by
    /// [`Self::flush_hints`], cheaper than a push per node: MARK tuples are
    /// listed here, memoized nodes are the memo's contents.
    #[inline]
    fn hint_mark_tuple(&mut self, id: NodeId) {
        self.mark_tuples.push(id.0);
    }

    /// Makes the graph's hint table complete: one hint per node. Each memo
    /// store and each MARK tuple is looked at once over the whole decode, however
    /// often this runs (every POP of an object asks for it).
    fn flush_hints(&mut self) {
        let n = self.graph.len();
        let hints = self.graph.hints_mut();
        hints.resize(n, Hint::default());
        for id in self.mark_tuples.drain(..) {
            if let Some(h) = hints.get_mut(id as usize) {
                h.set_mark_tuple();
            }
        }
        let memo = &mut self.memo;
        // Appended slots since the last flush (EMPTY is u32::MAX, past any
        // node), then every store the append path did not make.
        let fresh = memo.dense.get(memo.hinted_dense..).unwrap_or_default();
        let other = memo.other_puts.get(memo.hinted_other..).unwrap_or_default();
        // Two loops, not a chained iterator (which asks which half it is in
        // at every item).
        for ids in [fresh, other] {
            for &id in ids {
                if let Some(h) = hints.get_mut(id as usize) {
                    h.set_memoized();
                }
            }
        }
        memo.hinted_dense = memo.dense.len();
        memo.hinted_other = memo.other_puts.len();
    }

    fn push(&mut self, r: &RawOp, id: NodeId) -> Result<(), DecodeError> {
        if self.stack.len() >= self.limits.max_stack {
            return Err(limit(r, "stack", self.limits.max_stack));
        }
        self.stack.push(id);
        Ok(())
    }

    fn push_new(&mut self, r: &RawOp, v: Value) -> Result<(), DecodeError> {
        let id = self.node(r, v)?;
        self.push(r, id)
    }

    fn pop(&mut self, r: &RawOp) -> Result<NodeId, DecodeError> {
        if self.stack.len() <= self.fence() {
            return Err(DecodeError::StackUnderflow {
                offset: r.offset as u64,
                op: r.op,
            });
        }
        Ok(self.stack.pop().expect("checked above the fence"))
    }

    fn top(&self, r: &RawOp) -> Result<NodeId, DecodeError> {
        if self.stack.len() <= self.fence() {
            return Err(DecodeError::StackUnderflow {
                offset: r.offset as u64,
                op: r.op,
            });
        }
        Ok(*self.stack.last().expect("checked above the fence"))
    }

    /// `ids` stored in the graph's item arena, for a new container.
    fn new_items(&mut self, r: &RawOp, ids: &[NodeId]) -> Result<Items, DecodeError> {
        self.graph
            .try_new_items(ids)
            .map_err(|_| limit(r, "container item", u32::MAX as usize))
    }

    /// Pops everything above the topmost MARK, and the MARK.
    fn pop_mark(&mut self, r: &RawOp) -> Result<Vec<NodeId>, DecodeError> {
        let mark = self.marks.pop().ok_or(DecodeError::NoMark {
            offset: r.offset as u64,
            op: r.op,
        })?;
        Ok(self.stack.split_off(mark))
    }

    fn memo_put(&mut self, r: &RawOp, idx: u64) -> Result<(), DecodeError> {
        let top = self.top(r)?;
        if self.memo.len() >= self.limits.max_memo && self.memo.get(idx).is_none() {
            return Err(limit(r, "memo", self.limits.max_memo));
        }
        self.memo.put(idx, top);
        Ok(())
    }

    fn memo_get(&mut self, r: &RawOp, idx: u64) -> Result<(), DecodeError> {
        let id = self.memo.get(idx).ok_or(DecodeError::MemoMissing {
            offset: r.offset as u64,
            op: r.op,
            index: idx,
        })?;
        self.push(r, id)
    }

    fn bad(r: &RawOp, what: impl Into<String>) -> DecodeError {
        DecodeError::BadArgument {
            offset: r.offset as u64,
            op: r.op,
            what: what.into(),
        }
    }

    fn wrong_type(&self, r: &RawOp, expected: &'static str, found: NodeId) -> DecodeError {
        DecodeError::WrongType {
            offset: r.offset as u64,
            op: r.op,
            expected,
            found: self.graph.get(found).type_name(),
        }
    }

    fn slice(&self, s: &[u8]) -> Bytes {
        self.data.slice_ref(s)
    }

    fn str_value(&self, r: &RawOp, s: &[u8]) -> Result<Value, DecodeError> {
        if !s.is_ascii() {
            super::pytext::validate(s).map_err(|at| DecodeError::InvalidUtf8 {
                offset: r.offset as u64,
                op: r.op,
                at: at as u64,
            })?;
        }
        Ok(Value::Str(PyStr::from_validated_in(self.data, s)))
    }

    fn text_int(&self, r: &RawOp, s: &[u8]) -> Result<Int, DecodeError> {
        parse_int(s, self.limits.max_int_digits).map_err(|e| match e {
            IntTextError::Invalid => Self::bad(
                r,
                format!(
                    "invalid literal for int(): {:?}",
                    String::from_utf8_lossy(s)
                ),
            ),
            IntTextError::TooManyDigits => limit(r, "integer digits", self.limits.max_int_digits),
        })
    }

    fn memo_index(&self, r: &RawOp) -> Result<u64, DecodeError> {
        match r.arg {
            Arg::Uint(v) => Ok(v),
            Arg::Line(s) => match self.text_int(r, s)? {
                Int::Small(v) if v >= 0 => Ok(v as u64),
                _ => Err(Self::bad(r, "memo index out of range")),
            },
            _ => Err(Self::bad(r, "memo index")),
        }
    }

    fn run<const FAST: bool>(mut self) -> Result<Decoded, DecodeError> {
        /// Item slots (4 bytes each) reserved whenever a pickle may need
        /// them: 64 KiB, half glibc's default mmap threshold.
        const SMALL_ARENA: usize = 16 << 10;
        let data: &[u8] = self.data;
        // Real pickles spend 2-4 bytes per node; reserving from the input size
        // (never from anything the input declares) saves the regrowth copies.
        let estimate = (data.len() / 3).min(self.max_nodes).min(1 << 24);
        self.graph.reserve(estimate);
        // The item arena grows by doubling past its reservation. Besides the
        // copy, in a warm process each regrowth left glibc a free top of
        // heap to trim, which the next frame faulted back in: a 20-pass
        // profile run decoding an AutoBatched stream of 1 M records into
        // graphs took 923 k page faults and 2.24-2.30 s of CPU with a
        // quarter of a slot per node, and 136 k and 1.35-1.37 s with one
        // slot per node up to 64 KiB (a row batch has about one item per
        // node). A single pass in a fresh process, whose memory is all new
        // anyway, faults alike (61 k both). Past 64 KiB, a quarter:
        // reserving one slot per node put the arena of a 120 KB frame over
        // glibc's mmap threshold (128 KiB), and decoding 1 M records took
        // 121 ms instead of 82 (fresh zeroed pages for every batch).
        self.graph
            .reserve_items((estimate / 4).max(estimate.min(SMALL_ARENA)));
        self.graph.hints_mut().reserve(estimate);
        // A row batch memoizes about one object in three nodes, and a MARK
        // tuple is one in six: room for that many, so neither regrows.
        self.memo.dense.reserve(estimate / 3);
        self.mark_tuples.reserve(estimate / 6);
        let mut pos = 0usize;
        loop {
            if FAST {
                if let Some(next) = self.fast_step(data, pos)? {
                    pos = next;
                    continue;
                }
            }
            let r = read_op(data, pos)?.ok_or(DecodeError::NoStop { offset: pos as u64 })?;
            pos = r.end;
            if r.op == Op::Stop {
                let root = self.pop(&r)?;
                self.graph.set_root(root);
                self.flush_hints();
                return Ok(Decoded {
                    graph: self.graph,
                    protocol: self.protocol,
                    end: pos,
                });
            }
            self.step(&r, data.len() - pos)?;
        }
    }

    /// The opcodes that make up almost every real batch, decoded without the
    /// general reader. Same checks and limits as [`Self::step`]; anything
    /// unusual (short input, a MARK fence in the way, a limit reached) returns
    /// `None` so that the general path handles it and reports it.
    #[inline]
    fn fast_step(&mut self, data: &[u8], pos: usize) -> Result<Option<usize>, DecodeError> {
        let Some(&b) = data.get(pos) else {
            return Ok(None);
        };
        if self.graph.len() + 1 >= self.max_nodes || self.stack.len() + 1 >= self.limits.max_stack {
            return Ok(None);
        }
        let fence = self.fence();
        let value = match b {
            b'K' => match data.get(pos + 1) {
                Some(&v) => (Value::Int(Int::Small(v as i64)), pos + 2),
                None => return Ok(None),
            },
            b'M' => match data.get(pos + 1..pos + 3) {
                Some(v) => (
                    Value::Int(Int::Small(u16::from_le_bytes([v[0], v[1]]) as i64)),
                    pos + 3,
                ),
                None => return Ok(None),
            },
            b'J' => match data.get(pos + 1..pos + 5) {
                Some(v) => (
                    Value::Int(Int::Small(
                        i32::from_le_bytes([v[0], v[1], v[2], v[3]]) as i64
                    )),
                    pos + 5,
                ),
                None => return Ok(None),
            },
            b'G' => match data.get(pos + 1..pos + 9) {
                Some(v) => (
                    Value::Float(f64::from_be_bytes(v.try_into().expect("8 bytes"))),
                    pos + 9,
                ),
                None => return Ok(None),
            },
            b'N' => (Value::None, pos + 1),
            0x88 => (Value::Bool(true), pos + 1),
            0x89 => (Value::Bool(false), pos + 1),
            b']' => match self.graph.try_new_items(&[]) {
                Ok(items) => (Value::List(items), pos + 1),
                Err(_) => return Ok(None),
            },
            0x8c => {
                let Some(&n) = data.get(pos + 1) else {
                    return Ok(None);
                };
                let Some(body) = data.get(pos + 2..pos + 2 + n as usize) else {
                    return Ok(None);
                };
                // Almost every real string is ASCII: checked a word at a time.
                if !body.is_ascii() && super::pytext::validate(body).is_err() {
                    return Ok(None);
                }
                let s = PyStr::from_validated_in(self.data, body);
                (Value::Str(s), pos + 2 + n as usize)
            }
            0x94 => {
                if self.stack.len() <= fence || self.memo.len() >= self.limits.max_memo {
                    return Ok(None);
                }
                let top = *self.stack.last().expect("above the fence");
                let idx = self.memo.len() as u64;
                self.memo.put(idx, top);
                return Ok(Some(pos + 1));
            }
            b'(' => {
                if self.push_mark().is_none() {
                    return Ok(None);
                }
                return Ok(Some(self.record_run(data, pos + 1)));
            }
            0x85..=0x87 => {
                let n = (b - 0x84) as usize;
                if self.stack.len() < fence + n {
                    return Ok(None);
                }
                let l = self.stack.len();
                let Ok(items) = self.graph.try_new_items(&self.stack[l - n..]) else {
                    return Ok(None);
                };
                self.stack.truncate(l - n);
                (Value::Tuple(items), pos + 1)
            }
            b't' => {
                // MARK … TUPLE (rows of 4+ fields): the items above the MARK.
                let Some(&mark) = self.marks.last() else {
                    return Ok(None);
                };
                let Ok(items) = self.graph.try_new_items(&self.stack[mark..]) else {
                    return Ok(None);
                };
                self.marks.pop();
                self.stack.truncate(mark);
                let id = self.graph.add(Value::Tuple(items));
                self.hint_mark_tuple(id);
                self.stack.push(id);
                return Ok(Some(pos + 1));
            }
            b'h' => {
                let Some(&i) = data.get(pos + 1) else {
                    return Ok(None);
                };
                let Some(id) = self.memo.get(i as u64) else {
                    return Ok(None);
                };
                self.stack.push(id);
                return Ok(Some(pos + 2));
            }
            b'e' | b'a' => {
                // APPENDS / APPEND onto a list.
                let (target_at, items_from) = if b == b'e' {
                    let Some(&mark) = self.marks.last() else {
                        return Ok(None);
                    };
                    if mark == 0 {
                        return Ok(None);
                    }
                    (mark - 1, mark)
                } else {
                    if self.stack.len() < fence + 2 {
                        return Ok(None);
                    }
                    (self.stack.len() - 2, self.stack.len() - 1)
                };
                if b == b'e' && target_at < self.marks.iter().rev().nth(1).copied().unwrap_or(0) {
                    return Ok(None);
                }
                let target = self.stack[target_at];
                if !matches!(self.graph.get(target), Value::List(_)) {
                    return Ok(None);
                }
                if self
                    .graph
                    .extend_items(target, &self.stack[items_from..])
                    .is_err()
                {
                    return Ok(None);
                }
                if b == b'e' {
                    self.marks.pop();
                }
                self.stack.truncate(items_from);
                return Ok(Some(pos + 1));
            }
            _ => return Ok(None),
        };
        let (v, next) = value;
        let id = self.graph.add(v);
        self.stack.push(id);
        // A list of ints is one opcode after another: take the rest of the run
        // in a tighter loop.
        if matches!(b, b'K' | b'M' | b'J') && data.get(next) == Some(&b) {
            return Ok(Some(self.atom_run(data, next)));
        }
        // A record's first field: take the rest of the record in one loop.
        if matches!(b, b'K' | b'M' | b'J' | b'G' | b'N' | 0x88 | 0x89 | 0x8c) {
            return Ok(Some(self.record_run(data, next)));
        }
        Ok(Some(next))
    }

    /// The fields of records, each up to and including the tuple that closes
    /// it (`TUPLE1`–`TUPLE3`, or `TUPLE` after a MARK) and the `MEMOIZE` after
    /// that: atoms, short strs, MARKs, `MEMOIZE`s and `BINGET`s, each applied as
    /// [`Self::fast_step`] applies it, but in one loop with the node and stack
    /// limits turned into one count, taken again after each tuple (a row of
    /// five fields was nine trips through the general loop). Entered after a
    /// MARK or after a record's first field, it goes on through the records
    /// that follow (a MARK opens the next one), so a batch's rows are one
    /// trip. Returns the position reached; whatever it stops at (another op,
    /// a limit, a cut) is left to the general path with the state complete
    /// up to there.
    ///
    /// Its leaf arms repeat those of `fast_step` and `atom_run` on purpose:
    /// one shared reading of leaves (adding each node in its own arm, or
    /// returning the `Value`) measured 2–8 % more instructions per row and
    /// about 10 % less throughput on the row batches.
    ///
    /// Kept out of line: inlined into the general loop, its state did not fit
    /// the registers (the input's pointer was reloaded from the stack for
    /// every op); on its own it decodes the row batches about 7 % faster.
    #[inline(never)]
    fn record_run(&mut self, data: &[u8], mut pos: usize) -> usize {
        // Nothing at or below the topmost MARK may be taken (kept up to date
        // as MARKs are pushed and popped).
        let mut fence = self.fence();
        let mut room = self.room();
        while room > 0 {
            let Some(&b) = data.get(pos) else {
                break;
            };
            let id = match b {
                b'K' => match data.get(pos + 1) {
                    Some(&v) => {
                        pos += 2;
                        self.graph.add_with(|| Value::Int(Int::Small(v as i64)))
                    }
                    None => break,
                },
                b'M' => match data.get(pos + 1..pos + 3) {
                    Some(&[a, c]) => {
                        pos += 3;
                        self.graph
                            .add_with(|| Value::Int(Int::Small(u16::from_le_bytes([a, c]) as i64)))
                    }
                    _ => break,
                },
                b'J' => match data.get(pos + 1..pos + 5) {
                    Some(&[a, c, d, e]) => {
                        pos += 5;
                        self.graph.add_with(|| {
                            Value::Int(Int::Small(i32::from_le_bytes([a, c, d, e]) as i64))
                        })
                    }
                    _ => break,
                },
                b'G' => match data.get(pos + 1..pos + 9).and_then(|v| v.try_into().ok()) {
                    Some(v) => {
                        pos += 9;
                        self.graph.add_with(|| Value::Float(f64::from_be_bytes(v)))
                    }
                    None => break,
                },
                b'N' => {
                    pos += 1;
                    self.graph.add_with(|| Value::None)
                }
                0x88 | 0x89 => {
                    pos += 1;
                    self.graph.add_with(|| Value::Bool(b == 0x88))
                }
                0x8c => {
                    let Some(&n) = data.get(pos + 1) else {
                        break;
                    };
                    let Some(body) = data.get(pos + 2..pos + 2 + n as usize) else {
                        break;
                    };
                    if !body.is_ascii() && super::pytext::validate(body).is_err() {
                        break;
                    }
                    let start = pos + 2;
                    pos = start + n as usize;
                    let window = data
                        .get(start..start + PyStr::WINDOW)
                        .and_then(|w| w.try_into().ok());
                    let id = match window {
                        Some(w) if PyStr::fits_inline(n as usize) => self
                            .graph
                            .add_with(|| Value::Str(PyStr::from_window(w, n as usize))),
                        _ => {
                            let src = self.data;
                            self.graph
                                .add_with(|| Value::Str(PyStr::from_validated_in(src, body)))
                        }
                    };
                    // CPython memoizes every str (above any MARK): taken
                    // here, it saves a trip through the loop's dispatch.
                    pos = self.memoize_next(data, pos, id);
                    id
                }
                b'h' => {
                    let Some(id) = data.get(pos + 1).and_then(|&i| self.memo.get(i as u64)) else {
                        break;
                    };
                    pos += 2;
                    id
                }
                0x94 => {
                    // MEMOIZE of the last field (never of something below the MARK).
                    if self.stack.len() <= fence || self.memo.len() >= self.limits.max_memo {
                        break;
                    }
                    let top = *self.stack.last().expect("above the mark");
                    let idx = self.memo.len() as u64;
                    self.memo.put(idx, top);
                    pos += 1;
                    continue;
                }
                b'(' => {
                    // The next record's MARK.
                    let Some(f) = self.push_mark() else {
                        break;
                    };
                    fence = f;
                    pos += 1;
                    continue;
                }
                b't' | 0x85..=0x87 => {
                    // TUPLE takes what is above the topmost MARK (and the MARK);
                    // TUPLEn its n items, all above it.
                    let from = if b == b't' {
                        if self.marks.is_empty() {
                            break;
                        }
                        fence
                    } else {
                        let n = (b - 0x84) as usize;
                        if self.stack.len() < fence + n {
                            break;
                        }
                        self.stack.len() - n
                    };
                    let Ok(items) = self.graph.try_new_items(&self.stack[from..]) else {
                        break;
                    };
                    self.stack.truncate(from);
                    let id = self.graph.add_with(|| Value::Tuple(items));
                    if b == b't' {
                        self.marks.pop();
                        self.hint_mark_tuple(id);
                        fence = self.fence();
                    }
                    self.stack.push(id);
                    pos = self.memoize_next(data, pos + 1, id);
                    // The next record's MARK, as the `(` arm takes it (left
                    // to that arm, which stops, at the depth limit).
                    if data.get(pos) == Some(&b'(') {
                        if let Some(f) = self.push_mark() {
                            fence = f;
                            pos += 1;
                        }
                    }
                    room = self.room();
                    continue;
                }
                _ => break,
            };
            self.stack.push(id);
            room -= 1;
        }
        pos
    }

    /// Pushes a MARK at the stack's height, which is the new fence; `None`
    /// (and nothing pushed) at the depth limit.
    #[inline(always)]
    fn push_mark(&mut self) -> Option<usize> {
        if self.marks.len() >= self.limits.max_depth {
            return None;
        }
        let fence = self.stack.len();
        self.marks.push(fence);
        Some(fence)
    }

    /// A `MEMOIZE` at `pos` of `id`, just pushed, taken as the `MEMOIZE` arm
    /// takes it; left to that arm (which stops) when the memo is full.
    /// Returns the position after it.
    #[inline(always)]
    fn memoize_next(&mut self, data: &[u8], pos: usize, id: NodeId) -> usize {
        if data.get(pos) != Some(&0x94) || self.memo.len() >= self.limits.max_memo {
            return pos;
        }
        let idx = self.memo.len() as u64;
        self.memo.put(idx, id);
        pos + 1
    }

    /// How many nodes may still be pushed before the node or stack limit:
    /// the count [`Self::fast_step`] checks op by op, taken once for a run.
    #[inline(always)]
    fn room(&self) -> usize {
        (self.max_nodes.saturating_sub(self.graph.len() + 1))
            .min(self.limits.max_stack.saturating_sub(self.stack.len() + 1))
    }

    /// A run of atoms (BININT1/2, BININT, BINFLOAT, NONE, NEWTRUE/NEWFALSE),
    /// each a node pushed on the stack, in one loop: the node and stack
    /// limits are turned into one count of ops allowed before the run starts,
    /// with the same bound [`Self::fast_step`] checks per op. Returns the
    /// position after the run (`pos` itself when the first op is not one of
    /// these, is cut short, or a limit is reached: the general path decides).
    #[inline]
    fn atom_run(&mut self, data: &[u8], mut pos: usize) -> usize {
        let room = self.room();
        let mut done = 0;
        while done < room {
            // The op is read into a scalar and the value made in its slot
            // (see `Graph::add_with`).
            let (atom, next) = match data.get(pos) {
                Some(b'K') => match data.get(pos + 1) {
                    Some(&v) => (Atom::Int(v as i64), pos + 2),
                    None => break,
                },
                Some(b'M') => match data.get(pos + 1..pos + 3) {
                    Some(&[a, b]) => (Atom::Int(u16::from_le_bytes([a, b]) as i64), pos + 3),
                    _ => break,
                },
                Some(b'J') => match data.get(pos + 1..pos + 5) {
                    Some(&[a, b, c, d]) => {
                        (Atom::Int(i32::from_le_bytes([a, b, c, d]) as i64), pos + 5)
                    }
                    _ => break,
                },
                Some(b'G') => match data.get(pos + 1..pos + 9).and_then(|v| v.try_into().ok()) {
                    Some(v) => (Atom::Float(f64::from_be_bytes(v)), pos + 9),
                    None => break,
                },
                Some(b'N') => (Atom::None, pos + 1),
                Some(0x88) => (Atom::Bool(true), pos + 1),
                Some(0x89) => (Atom::Bool(false), pos + 1),
                _ => break,
            };
            let id = self.graph.add_with(|| atom.value());
            self.stack.push(id);
            pos = next;
            done += 1;
        }
        pos
    }

    fn step(&mut self, r: &RawOp, remaining: usize) -> Result<(), DecodeError> {
        match (r.op, r.arg) {
            (Op::Proto, Arg::Uint(p)) => {
                if p > HIGHEST_PROTOCOL as u64 {
                    return Err(DecodeError::UnsupportedProtocol {
                        offset: r.offset as u64,
                        proto: p as u8,
                    });
                }
                self.protocol.get_or_insert(p as u8);
            }
            (Op::Frame, Arg::Uint(n)) => {
                if n > remaining as u64 {
                    return Err(DecodeError::Truncated {
                        offset: r.offset as u64,
                        op: Some(r.op),
                        what: format!("frame of {n} bytes, {remaining} left"),
                    });
                }
            }
            (Op::None, _) => self.push_new(r, Value::None)?,
            (Op::NewTrue, _) => self.push_new(r, Value::Bool(true))?,
            (Op::NewFalse, _) => self.push_new(r, Value::Bool(false))?,
            (Op::Int, Arg::Line(s)) => {
                let v = match s {
                    b"00" => Value::Bool(false),
                    b"01" => Value::Bool(true),
                    _ => Value::Int(self.text_int(r, s)?),
                };
                self.push_new(r, v)?
            }
            (Op::Long, Arg::Line(s)) => {
                let s = s.strip_suffix(b"L").unwrap_or(s);
                let v = self.text_int(r, s)?;
                self.push_new(r, Value::Int(v))?
            }
            (Op::BinInt | Op::BinInt1 | Op::BinInt2, Arg::Uint(v)) => {
                self.push_new(r, Value::Int(Int::Small(v as i64)))?
            }
            (Op::BinInt, Arg::Int4(v)) => self.push_new(r, Value::Int(Int::Small(v as i64)))?,
            (Op::Long1 | Op::Long4, Arg::Data(d)) => {
                let v = if d.len() <= 8 {
                    let mut b = [if d.last().is_some_and(|&x| x & 0x80 != 0) {
                        0xff
                    } else {
                        0
                    }; 8];
                    b[..d.len()].copy_from_slice(d);
                    Int::Small(i64::from_le_bytes(b))
                } else {
                    Int::from_big(BigInt::from_signed_bytes_le(d))
                };
                self.push_new(r, Value::Int(v))?
            }
            (Op::Float, Arg::Line(s)) => {
                let v = parse_float(s)
                    .ok_or_else(|| Self::bad(r, "could not convert string to float"))?;
                self.push_new(r, Value::Float(v))?
            }
            (Op::BinFloat, Arg::Float(v)) => self.push_new(r, Value::Float(v))?,
            (Op::String, Arg::Line(s)) => {
                let inner = strip_quotes(s)
                    .ok_or_else(|| Self::bad(r, "the STRING opcode argument must be quoted"))?;
                let raw = escape_decode(inner).ok_or_else(|| Self::bad(r, "invalid \\x escape"))?;
                let v = py2_str(Bytes::from(raw));
                self.push_new(r, v)?
            }
            (Op::BinString | Op::ShortBinString, Arg::Data(d)) => {
                let v = py2_str(self.slice(d));
                self.push_new(r, v)?
            }
            (Op::BinBytes | Op::ShortBinBytes | Op::BinBytes8, Arg::Data(d)) => {
                let v = Value::Bytes(self.slice(d));
                self.push_new(r, v)?
            }
            (Op::ByteArray8, Arg::Data(d)) => {
                let v = Value::ByteArray(self.slice(d));
                self.push_new(r, v)?
            }
            (Op::NextBuffer, _) => {
                let index = self.buffers;
                self.buffers = self.buffers.saturating_add(1);
                self.push_new(
                    r,
                    Value::Buffer {
                        index,
                        readonly: false,
                    },
                )?
            }
            (Op::ReadonlyBuffer, _) => {
                let top = self.top(r)?;
                match self.graph.node_mut(top) {
                    Value::Buffer { readonly, .. } => *readonly = true,
                    _ => return Err(self.wrong_type(r, "an out-of-band buffer", top)),
                }
            }
            (Op::Unicode, Arg::Line(s)) => {
                let v = Value::Str(
                    raw_unicode_escape_decode(s)
                        .ok_or_else(|| Self::bad(r, "invalid \\u escape"))?,
                );
                self.push_new(r, v)?
            }
            (Op::ShortBinUnicode | Op::BinUnicode | Op::BinUnicode8, Arg::Data(d)) => {
                let v = self.str_value(r, d)?;
                self.push_new(r, v)?
            }
            (Op::EmptyList, _) => {
                let items = self.new_items(r, &[])?;
                self.push_new(r, Value::List(items))?
            }
            (Op::EmptyTuple, _) => {
                let items = self.new_items(r, &[])?;
                self.push_new(r, Value::Tuple(items))?
            }
            (Op::EmptyDict, _) => {
                let pairs = self.new_pairs(r, &[])?;
                self.push_new(r, Value::Dict(pairs))?
            }
            (Op::EmptySet, _) => {
                let items = self.new_items(r, &[])?;
                self.push_new(r, Value::Set(items))?
            }
            (Op::List, _) => {
                let items = self.pop_mark(r)?;
                let items = self.new_items(r, &items)?;
                self.push_new(r, Value::List(items))?
            }
            (Op::Tuple, _) => {
                let items = self.pop_mark(r)?;
                let items = self.new_items(r, &items)?;
                let id = self.node(r, Value::Tuple(items))?;
                self.hint_mark_tuple(id);
                self.push(r, id)?
            }
            (Op::FrozenSet, _) => {
                let items = self.pop_mark(r)?;
                let items = self.new_items(r, &items)?;
                self.push_new(r, Value::FrozenSet(items))?
            }
            (Op::Dict, _) => {
                let items = self.pop_mark(r)?;
                let pairs = pairs(r, items)?;
                let pairs = self.new_pairs(r, &pairs)?;
                self.push_new(r, Value::Dict(pairs))?
            }
            (Op::Tuple1 | Op::Tuple2 | Op::Tuple3, _) => {
                let n = match r.op {
                    Op::Tuple1 => 1,
                    Op::Tuple2 => 2,
                    _ => 3,
                };
                if self.stack.len() < self.fence() + n {
                    return Err(DecodeError::StackUnderflow {
                        offset: r.offset as u64,
                        op: r.op,
                    });
                }
                let l = self.stack.len();
                let items = self
                    .graph
                    .try_new_items(&self.stack[l - n..])
                    .map_err(|_| limit(r, "container item", u32::MAX as usize))?;
                self.stack.truncate(l - n);
                self.push_new(r, Value::Tuple(items))?
            }
            (Op::Append, _) => {
                let item = self.pop(r)?;
                let target = self.top(r)?;
                self.append(r, target, vec![item])?
            }
            (Op::Appends, _) => {
                let items = self.pop_mark(r)?;
                let target = self.top(r)?;
                self.append(r, target, items)?
            }
            (Op::SetItem, _) => {
                let v = self.pop(r)?;
                let k = self.pop(r)?;
                let target = self.top(r)?;
                self.set_items(r, target, vec![(k, v)])?
            }
            (Op::SetItems, _) => {
                let items = self.pop_mark(r)?;
                let target = self.top(r)?;
                self.set_items(r, target, pairs(r, items)?)?
            }
            (Op::AddItems, _) => {
                let items = self.pop_mark(r)?;
                let target = self.top(r)?;
                if !matches!(self.graph.get(target), Value::Set(_)) {
                    return Err(self.wrong_type(r, "a set", target));
                }
                self.extend_items(r, target, &items)?;
            }
            (Op::Pop, _) => {
                if self.marks.last() == Some(&self.stack.len()) {
                    self.marks.pop();
                } else {
                    let popped = self.pop(r)?;
                    self.note_popped(popped);
                }
            }
            (Op::Dup, _) => {
                let top = self.top(r)?;
                self.push(r, top)?
            }
            (Op::Mark, _) => {
                if self.push_mark().is_none() {
                    return Err(limit(r, "MARK depth", self.limits.max_depth));
                }
            }
            (Op::PopMark, _) => {
                self.pop_mark(r)?;
            }
            (Op::Get | Op::BinGet | Op::LongBinGet, _) => {
                let idx = self.memo_index(r)?;
                self.memo_get(r, idx)?
            }
            (Op::Put | Op::BinPut | Op::LongBinPut, _) => {
                let idx = self.memo_index(r)?;
                self.memo_put(r, idx)?
            }
            (Op::Memoize, _) => {
                let idx = self.memo.len() as u64;
                self.memo_put(r, idx)?
            }
            (Op::Ext1 | Op::Ext2, Arg::Uint(code)) => self.ext(r, code as i64)?,
            (Op::Ext4, Arg::Int4(code)) => self.ext(r, code as i64)?,
            (Op::Global, Arg::Pair(m, n)) => {
                let module = self.str_value(r, m)?;
                let name = self.str_value(r, n)?;
                let module = self.node(r, module)?;
                let name = self.node(r, name)?;
                self.push_new(r, Value::Global { module, name })?
            }
            (Op::StackGlobal, _) => {
                let name = self.pop(r)?;
                let module = self.pop(r)?;
                for id in [module, name] {
                    if !matches!(self.graph.get(id), Value::Str(_)) {
                        return Err(self.wrong_type(r, "str operands", id));
                    }
                }
                self.push_new(r, Value::Global { module, name })?
            }
            (Op::Reduce, _) => {
                let args = self.pop(r)?;
                let callable = self.pop(r)?;
                self.push_object(r, Construct::Reduce { callable, args })?
            }
            (Op::NewObj, _) => {
                let args = self.pop(r)?;
                let cls = self.pop(r)?;
                self.push_object(r, Construct::NewObj { cls, args })?
            }
            (Op::NewObjEx, _) => {
                let kwargs = self.pop(r)?;
                let args = self.pop(r)?;
                let cls = self.pop(r)?;
                self.push_object(r, Construct::NewObjEx { cls, args, kwargs })?
            }
            (Op::Obj, _) => {
                let mut items = self.pop_mark(r)?;
                if items.is_empty() {
                    return Err(DecodeError::StackUnderflow {
                        offset: r.offset as u64,
                        op: r.op,
                    });
                }
                let cls = items.remove(0);
                self.push_object(r, Construct::Obj { cls, args: items })?
            }
            (Op::Inst, Arg::Pair(m, n)) => {
                let args = self.pop_mark(r)?;
                let module = match self.str_value(r, m)? {
                    Value::Str(s) => s,
                    _ => unreachable!("str_value returns a Str"),
                };
                let name = match self.str_value(r, n)? {
                    Value::Str(s) => s,
                    _ => unreachable!("str_value returns a Str"),
                };
                self.push_object(r, Construct::Inst { module, name, args })?
            }
            (Op::Build, _) => {
                let state = self.pop(r)?;
                let target = self.top(r)?;
                match self.graph.node_mut(target) {
                    Value::Object(o) => o.states.push(State::Build(state)),
                    _ => return Err(self.wrong_type(r, "an object", target)),
                }
            }
            (Op::PersId, Arg::Line(s)) => {
                if !s.is_ascii() {
                    return Err(Self::bad(
                        r,
                        "persistent IDs in protocol 0 must be ASCII strings",
                    ));
                }
                let v = match self.str_value(r, s)? {
                    Value::Str(s) => Value::PersId(PersId::Text(s)),
                    _ => unreachable!("str_value returns a Str"),
                };
                self.push_new(r, v)?
            }
            (Op::BinPersId, _) => {
                let pid = self.pop(r)?;
                self.push_new(r, Value::PersId(PersId::Value(pid)))?
            }
            (op, arg) => unreachable!("reader produced {arg:?} for {op:?}"),
        }
        Ok(())
    }

    fn ext(&mut self, r: &RawOp, code: i64) -> Result<(), DecodeError> {
        if code <= 0 {
            return Err(Self::bad(r, "EXT specifies code <= 0"));
        }
        self.push_new(r, Value::Ext(code))
    }

    fn push_object(&mut self, r: &RawOp, c: Construct) -> Result<(), DecodeError> {
        self.push_new(r, Value::Object(Box::new(Object::new(c))))
    }

    fn append(&mut self, r: &RawOp, target: NodeId, items: Vec<NodeId>) -> Result<(), DecodeError> {
        match self.graph.node_mut(target) {
            Value::List(_) => self.extend_items(r, target, &items)?,
            Value::Object(o) => o.list_items.extend(items),
            _ => return Err(self.wrong_type(r, "a list or an object", target)),
        }
        Ok(())
    }

    /// `ids` appended to the list or set `target`.
    fn extend_items(
        &mut self,
        r: &RawOp,
        target: NodeId,
        ids: &[NodeId],
    ) -> Result<(), DecodeError> {
        self.graph
            .extend_items(target, ids)
            .map_err(|_| limit(r, "container item", u32::MAX as usize))?;
        Ok(())
    }

    /// `kv` stored in the graph's pair arena, for a new dict.
    fn new_pairs(&mut self, r: &RawOp, kv: &[(NodeId, NodeId)]) -> Result<Pairs, DecodeError> {
        self.graph
            .try_new_pairs(kv)
            .map_err(|_| limit(r, "dict item", u32::MAX as usize))
    }

    fn set_items(
        &mut self,
        r: &RawOp,
        target: NodeId,
        kv: Vec<(NodeId, NodeId)>,
    ) -> Result<(), DecodeError> {
        match self.graph.node_mut(target) {
            Value::Dict(_) => {
                self.graph
                    .extend_pairs(target, &kv)
                    .map_err(|_| limit(r, "dict item", u32::MAX as usize))?;
            }
            Value::Object(o) => o.dict_items.extend(kv),
            _ => return Err(self.wrong_type(r, "a dict or an object", target)),
        }
        Ok(())
    }

    /// A reducer's `state_setter` is written as `setter (obj, state) REDUCE POP`:
    /// when a POP discards exactly that shape, keep it as the object's state
    /// instead of losing it.
    fn note_popped(&mut self, popped: NodeId) {
        self.flush_hints();
        let Value::Object(o) = self.graph.get(popped) else {
            return;
        };
        let (Construct::Reduce { callable, args }, true, true, true) = (
            &o.construct,
            o.list_items.is_empty(),
            o.dict_items.is_empty(),
            o.states.is_empty(),
        ) else {
            return;
        };
        let memoized = |id: NodeId| self.graph.hint(id).is_some_and(|h| h.memoized());
        if memoized(popped) || memoized(*args) {
            return;
        }
        let (setter, args) = (*callable, *args);
        let Value::Tuple(t) = self.graph.get(args) else {
            return;
        };
        let [obj, state] = self.graph.items(*t)[..] else {
            return;
        };
        if obj == popped {
            return;
        }
        if let Value::Object(target) = self.graph.node_mut(obj) {
            target.states.push(State::Setter { setter, state });
        }
    }
}

/// The unpickler's memo: a dense table for the indices real picklers use
/// (0, 1, 2, …), a hash map for anything sparse, so a lying LONG_BINPUT index
/// costs one entry, never a huge table.
#[derive(Default)]
struct Memo {
    dense: Vec<u32>,
    sparse: HashMap<u64, NodeId>,
    len: usize,
    /// Every node stored other than by appending to `dense` (sparse slots,
    /// holes filled, overwrites), and every node an overwrite replaced: all
    /// memoized, for the hints. One entry per PUT, so bounded by the input.
    other_puts: Vec<u32>,
    /// How much of `dense` and `other_puts` the hints already reflect.
    hinted_dense: usize,
    hinted_other: usize,
}

const EMPTY: u32 = u32::MAX;
/// How far past the dense table's end a PUT may land and still grow it.
const DENSE_SLACK: u64 = 4096;

impl Memo {
    fn len(&self) -> usize {
        self.len
    }

    #[inline]
    fn get(&self, idx: u64) -> Option<NodeId> {
        match self.dense.get(idx as usize) {
            Some(&v) if v != EMPTY => Some(NodeId(v)),
            Some(_) => None,
            None => self.sparse.get(&idx).copied(),
        }
    }

    #[inline(always)]
    fn put(&mut self, idx: u64, id: NodeId) {
        // The common case, MEMOIZE or PUT numbering slots 0, 1, 2, …: append.
        if idx == self.dense.len() as u64 && idx < EMPTY as u64 && self.sparse.is_empty() {
            self.dense.push(id.0);
            self.len += 1;
        } else {
            self.put_other(idx, id)
        }
    }

    #[inline(never)]
    fn put_other(&mut self, idx: u64, id: NodeId) {
        if idx < self.dense.len() as u64 + DENSE_SLACK
            && idx < EMPTY as u64
            && !self.sparse.contains_key(&idx)
        {
            let i = idx as usize;
            if i == self.dense.len() {
                self.dense.push(EMPTY);
            } else if i > self.dense.len() {
                self.dense.resize(i + 1, EMPTY);
            }
            match std::mem::replace(&mut self.dense[i], id.0) {
                EMPTY => self.len += 1,
                old => self.other_puts.push(old),
            }
        } else {
            match self.sparse.insert(idx, id) {
                None => self.len += 1,
                Some(old) => self.other_puts.push(old.0),
            }
        }
        self.other_puts.push(id.0);
    }
}

fn limit(r: &RawOp, what: &'static str, max: usize) -> DecodeError {
    DecodeError::Limit {
        offset: r.offset as u64,
        op: Some(r.op),
        limit: what,
        max: max as u64,
    }
}

fn pairs(r: &RawOp, items: Vec<NodeId>) -> Result<Vec<(NodeId, NodeId)>, DecodeError> {
    if !items.len().is_multiple_of(2) {
        return Err(DecodeError::OddItems {
            offset: r.offset as u64,
            op: r.op,
        });
    }
    Ok(items.chunks_exact(2).map(|c| (c[0], c[1])).collect())
}

/// Python 2 `str` (STRING/BINSTRING/SHORT_BINSTRING): `pickle.loads` decodes it
/// as ASCII by default; anything else is kept as bytes, as `encoding='bytes'` would.
fn py2_str(b: Bytes) -> Value {
    if b.is_ascii() {
        Value::Str(PyStr::from_utf8(b).expect("ASCII is UTF-8"))
    } else {
        Value::Bytes(b)
    }
}

fn strip_quotes(s: &[u8]) -> Option<&[u8]> {
    if s.len() >= 2 && (s[0] == b'"' || s[0] == b'\'') && s[s.len() - 1] == s[0] {
        Some(&s[1..s.len() - 1])
    } else {
        None
    }
}

/// `codecs.escape_decode`: Python string-literal escapes over bytes.
pub(crate) fn escape_decode(s: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        i += 1;
        if c != b'\\' {
            out.push(c);
            continue;
        }
        let e = *s.get(i)?;
        i += 1;
        match e {
            b'\n' => {}
            b'\\' | b'\'' | b'"' => out.push(e),
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(11),
            b'0'..=b'7' => {
                let mut v = (e - b'0') as u32;
                for _ in 0..2 {
                    match s.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            v = v * 8 + (d - b'0') as u32;
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push(v as u8);
            }
            b'x' => {
                // Two hex digits exactly: `from_str_radix` alone would take "+f".
                let h = s
                    .get(i..i + 2)
                    .filter(|h| h.iter().all(u8::is_ascii_hexdigit))?;
                let v = u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()?;
                out.push(v);
                i += 2;
            }
            _ => out.extend([b'\\', e]),
        }
    }
    Some(out)
}

/// The `raw-unicode-escape` codec: bytes are latin-1 code points, except that
/// `\uXXXX` and `\UXXXXXXXX` after an odd run of backslashes are escapes.
pub(crate) fn raw_unicode_escape_decode(s: &[u8]) -> Option<PyStr> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] != b'\\' {
            push_code_point(&mut out, s[i] as u32);
            i += 1;
            continue;
        }
        let run = s[i..].iter().take_while(|&&b| b == b'\\').count();
        let after = s.get(i + run).copied();
        let escape = run % 2 == 1 && matches!(after, Some(b'u' | b'U'));
        let literal = if escape { run - 1 } else { run };
        out.extend(std::iter::repeat_n(b'\\', literal));
        i += run;
        if escape {
            let n = if after == Some(b'u') { 4 } else { 8 };
            let hex = s.get(i + 1..i + 1 + n)?;
            let cp = u32::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
            if cp > 0x10FFFF || !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            push_code_point(&mut out, cp);
            i += 1 + n;
        }
    }
    Some(PyStr::from_utf8(Bytes::from(out)).expect("built from code points"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(b: &[u8]) -> Result<Decoded, DecodeError> {
        decode_slice(b)
    }

    #[test]
    fn shared_references_are_one_node() {
        // pickle.dumps([[1], GET 1], 2) shape: x=[1]; [x, x]
        let d = dec(b"\x80\x02]q\x00(]q\x01K\x01ah\x01e.").unwrap();
        let Value::List(items) = d.graph.get(d.root()) else {
            panic!()
        };
        let items = d.graph.items(*items);
        assert_eq!(items.len(), 2);
        assert_eq!(items[0], items[1]);
    }

    #[test]
    fn self_containing_list() {
        // l = []; l.append(l)
        let d = dec(b"\x80\x04\x95\x06\x00\x00\x00\x00\x00\x00\x00]\x94h\x00a.").unwrap();
        let Value::List(items) = d.graph.get(d.root()) else {
            panic!()
        };
        assert_eq!(d.graph.items(*items), &[d.root()]);
    }

    #[test]
    fn adversarial_inputs_give_typed_errors() {
        assert!(matches!(
            dec(b"h\x05."),
            Err(DecodeError::MemoMissing { index: 5, .. })
        ));
        assert!(dec(b"Nr\xff\xff\xff\x7f.").is_ok());
        assert!(matches!(dec(b"e."), Err(DecodeError::NoMark { .. })));
        assert!(matches!(dec(b"."), Err(DecodeError::StackUnderflow { .. })));
        assert!(matches!(
            dec(b"}(K\x01u."),
            Err(DecodeError::OddItems { .. })
        ));
        assert!(matches!(
            dec(b"\x80\x06N."),
            Err(DecodeError::UnsupportedProtocol { proto: 6, .. })
        ));
        assert!(dec(b"(K\x01.").is_ok());
        assert!(matches!(dec(b""), Err(DecodeError::NoStop { .. })));
        assert!(matches!(
            dec(b"\x95\xff\x00\x00\x00\x00\x00\x00\x00N."),
            Err(DecodeError::Truncated { .. })
        ));
        assert!(matches!(
            dec(b"X\x01\x00\x00\x00\xff."),
            Err(DecodeError::InvalidUtf8 { .. })
        ));
        assert!(matches!(
            dec(b"K\x01\x86."),
            Err(DecodeError::StackUnderflow { .. })
        ));
    }

    #[test]
    fn billion_laughs_is_linear() {
        // x = [x, x] forty times: 40 nodes, not 2^40.
        let mut p = b"\x80\x02]q\x00".to_vec();
        for _ in 0..40 {
            p.extend(b"]q\x01(h\x00h\x00eq\x00");
            p.extend(b"0");
            p.extend(b"h\x00");
            p.extend(b"0");
        }
        p.extend(b"h\x00.");
        let d = dec(&p).unwrap();
        assert!(d.graph.len() < 100);
    }

    #[test]
    fn deep_nesting_is_iterative_and_limited() {
        let mut p = Vec::new();
        p.extend(std::iter::repeat_n(b'(', 1_000_000));
        p.push(b'N');
        p.extend(std::iter::repeat_n(b'l', 1_000_000));
        p.push(b'.');
        let d = dec(&p).unwrap();
        assert_eq!(d.graph.len(), 1_000_001);
        drop(d);
        let limits = Limits {
            max_depth: 10,
            ..Limits::default()
        };
        let err = decode_with(&Bytes::from(p), &limits).unwrap_err();
        assert!(
            matches!(
                err,
                DecodeError::Limit {
                    offset: 10,
                    limit: "MARK depth",
                    max: 10,
                    ..
                }
            ),
            "{err}"
        );
    }

    /// The fast paths (single opcodes, atom runs, records and rows) against
    /// the general path alone: the same graph, hints and error for a row
    /// batch as CPython writes it (`encode` is byte-exact with CPython, see
    /// `tests/pickle_vs_cpython.rs`), cut at every byte, with every limit
    /// tight, and with every byte replaced by each opcode the fast paths know.
    #[test]
    fn fast_paths_decode_as_the_general_path() {
        let mut g = Graph::new();
        let mut rows = Vec::new();
        // The strs include the longest kept inline (23 bytes) and one past it.
        let strs = [
            "a",
            "é",
            "name-x",
            "",
            "\u{10ffff}",
            "bb",
            "abcdefghijklmnopqrstuvw",
            "abcdefghijklmnopqrstuvwx",
        ];
        for i in 0..8i64 {
            let s = g.add(Value::Str(PyStr::from(strs[i as usize])));
            let fields = [
                g.add(Value::Int(Int::Small(
                    [7, 300, -5, 70_000, 1 << 40, 0, 1, 2][i as usize],
                ))),
                s,
                g.add(Value::Float(i as f64 * 0.5)),
                g.add(Value::None),
                g.add(Value::Bool(i % 2 == 0)),
            ];
            // MARK … TUPLE rows and TUPLE1-3 records, the first MARK after a
            // TUPLE2 (at the depth limit of 1, only the MARK is over it).
            rows.push(g.add_tuple(&fields[..[2, 5, 5, 3, 1, 4, 5, 2][i as usize]]));
        }
        // One row twice: a BINGET of a memoized tuple.
        rows.push(rows[0]);
        let list = g.add_list(&rows);
        g.set_root(list);
        let p = crate::pickle::encode(&g, crate::pickle::Profile::PYSPARK).expect("encode");
        let same = |data: &[u8], limits: &Limits| {
            let b = Bytes::copy_from_slice(data);
            assert_eq!(
                decode_with(&b, limits),
                decode_general(&b, limits),
                "{data:02x?} {limits:?}"
            );
        };
        let dflt = Limits::default();
        assert!(decode_with(&Bytes::copy_from_slice(&p), &dflt).is_ok());
        for cut in 0..=p.len() {
            same(&p[..cut], &dflt);
        }
        for n in 0..48 {
            for limits in Limits::each_set_to(n) {
                same(&p, &limits);
            }
        }
        let ops = [
            b'K', b'M', b'J', b'G', b'N', 0x88, 0x89, 0x8c, 0x94, b'(', b't', b'h', b'e', b'a',
            b']', 0x85, 0x86, 0x87, 0xff, 0x00,
        ];
        for at in 0..p.len() {
            for &op in &ops {
                let mut q = p.clone();
                q[at] = op;
                same(&q, &dflt);
            }
        }
    }

    #[test]
    fn node_and_memo_limits_hold_at_their_exact_boundary() {
        // [0, 1, …, 9] memoizing every int: 11 nodes, 11 memo entries.
        let mut p = b"\x80\x04]\x94(".to_vec();
        for i in 0..10u8 {
            p.extend([b'K', i, 0x94]);
        }
        p.extend(b"e.");
        let p = Bytes::from(p);
        let at = |max_nodes, max_memo| {
            decode_with(
                &p,
                &Limits {
                    max_nodes,
                    max_memo,
                    ..Limits::default()
                },
            )
        };
        assert!(at(11, 11).is_ok());
        assert!(matches!(
            at(10, 11),
            Err(DecodeError::Limit {
                limit: "node",
                max: 10,
                ..
            })
        ));
        assert!(matches!(
            at(11, 10),
            Err(DecodeError::Limit {
                limit: "memo",
                max: 10,
                ..
            })
        ));
    }

    #[test]
    fn hints_survive_pops_sparse_puts_and_overwrites() {
        // [] MEMOIZE; None BINPUT 0 (replaces the list's slot before any
        // flush); POP (asks for the hints mid-decode); MARK 1 2 3 4 TUPLE
        // LONG_BINPUT 65535 (sparse); POP; None MEMOIZE (slot 2, a hole at 1);
        // 7 BINPUT 2 (overwrites the None's slot); POP POP; STOP.
        let d =
            dec(b"\x80\x04]\x94Nq\x000(K\x01K\x02K\x03K\x04tr\xff\xff\x00\x000N\x94K\x07q\x0200.")
                .unwrap();
        let flags: Vec<(bool, bool)> = d
            .graph
            .ids()
            .map(|id| {
                let h = d.graph.hint(id).unwrap();
                (h.memoized(), h.mark_tuple())
            })
            .collect();
        let (m, t, o) = ((true, false), (true, true), (false, false));
        assert_eq!(flags, [m, m, o, o, o, o, t, m, m]);
    }

    #[test]
    fn text_escapes() {
        assert_eq!(
            escape_decode(br"a\n\\b\x00c\td\101").unwrap(),
            b"a\n\\b\x00c\tdA"
        );
        let s = raw_unicode_escape_decode(br"\u00e9\\u0041\U0001F600").unwrap();
        assert_eq!(
            s.code_points().collect::<Vec<_>>(),
            vec![
                0xe9,
                b'\\' as u32,
                b'\\' as u32,
                b'u' as u32,
                b'0' as u32,
                b'0' as u32,
                b'4' as u32,
                b'1' as u32,
                0x1F600
            ]
        );
    }
}
