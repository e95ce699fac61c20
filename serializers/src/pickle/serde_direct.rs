//! serde straight from pickle bytes, without building the value graph.
//!
//! Why: deserializing a batch into a Rust type does not need the graph. Its only
//! job is to deliver the values in order, so building nodes, a `Vec` per tuple and
//! then walking them again is wasted work. This parser reads the opcodes top-down
//! and hands every value to the serde visitor as it is read.
//!
//! Why it can never disagree with the graph path: a pickle is a postfix program
//! for a stack machine, and this parser accepts only a strict grammar of it, in
//! which every item pushes exactly one value and every rule means what the stack
//! machine does (`item item TUPLE2` is the pair of the two items, `EMPTY_LIST
//! MARK item… APPENDS` the list of the items, a memo `GET` the value that was
//! `PUT`). When the whole pickle parses, what it delivers is what the stack
//! machine computes, and each value is visited with the very call the graph
//! deserializer makes for it (`visit_i64` for an int that fits, `visit_str`,
//! `visit_seq` for tuples, lists and sets, …). Anything outside the grammar
//! (protocol 0 text opcodes, objects and globals, a shared container, a big int, a
//! str with lone surrogates, an opcode the layout did not lead us to expect, a
//! type the visitor refuses, a limit reached) is not an error here: it makes the
//! caller fall back to the graph path, which then gives its exact result or error.
//! The decode [`Limits`], the serde nesting limit and the expansion budget are charged
//! at least as strictly as the graph path charges them, so this path never accepts
//! what that one refuses.
//!
//! Postfix layouts are read top-down with the type as a guide: a `(A, B)` target
//! reads two items and expects `TUPLE2`. Where the layout is ambiguous (is the
//! `MARK` after a list's items another `APPENDS` batch, or the list's next
//! sibling?) the first pass guesses the common case and a second pass, only when
//! the first failed, resolves every such question by simulating the stack heights
//! ahead. Simulation is charged against a budget linear in the input, so a hostile
//! layout costs a bounded number of passes before the graph path takes over.
//!
//! The rows of a batch (`MARK atom… TUPLE`, tuples of 4 or more) are decided per
//! group, not per input: a group whose items are all atoms (up to 16) is read in
//! one tight run and handed to the visitor from there (`Parser::flat_group`,
//! `AtomDe`); any other group rewinds and takes the general reading, which
//! answers every request the same way.

use serde::de::{self, Deserialize, DeserializeSeed, Visitor};

use super::limits::Limits;
use super::op::bytes as op;

/// Why the direct path gave up. Never shown to users: the graph path reruns.
#[derive(Debug)]
pub(super) struct GiveUp;

impl std::fmt::Display for GiveUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not on the direct path")
    }
}

impl std::error::Error for GiveUp {}

impl de::Error for GiveUp {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        GiveUp
    }
}

type R<T> = Result<T, GiveUp>;

/// Deserializes `data` on the direct path; `None` when the graph path must decide.
/// `max_depth` is the graph deserializer's nesting limit, charged the same way.
pub(super) fn try_from_slice<'a, T: Deserialize<'a>>(
    data: &'a [u8],
    limits: &Limits,
    max_depth: usize,
) -> Option<T> {
    let mut memo = Vec::new();
    for scan in [false, true] {
        memo.clear();
        let mut p = Parser::new(data, limits, scan, max_depth, memo);
        let v = p.document::<T>();
        memo = p.memo;
        if let Ok(v) = v {
            return Some(v);
        }
        if p.exhausted {
            break;
        }
    }
    None
}

/// The most memo entries reserved up front.
const MEMO_RESERVED: usize = 1 << 16;

/// A memo entry: the offset of the single opcode that made the value, when it is
/// an atom (re-read on `GET`), or [`SHARED`] for containers, which this path does
/// not share.
const SHARED: usize = usize::MAX;

/// The most items a group read as a run of atoms holds (see
/// [`Parser::flat_group`]); a PySpark row has a handful.
const FLAT_MAX: usize = 16;

/// The containers whose contents follow their opener.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Container {
    List,
    Dict,
    Set,
}

impl Container {
    /// The batch opcode (after a MARK) and the single-item opcode, if any.
    fn ops(self) -> (u8, Option<u8>) {
        match self {
            Container::List => (op::APPENDS, Some(op::APPEND)),
            Container::Dict => (op::SETITEMS, Some(op::SETITEM)),
            Container::Set => (op::ADDITEMS, None),
        }
    }
}

/// What comes after a container's opener or after one of its batches.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Next {
    /// `MARK … APPENDS/SETITEMS/ADDITEMS` onto this container.
    Batch,
    /// One item (or key and value) then `APPEND`/`SETITEM`.
    Single,
    /// The container is complete.
    Done,
}

/// The first stack event at or below the starting height, found by simulation.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Event {
    /// `op` pops values with `h` values pushed since the start.
    Pop { op: u8, h: usize },
    /// A MARK set at the starting height was closed by `op`.
    CloseAtStart { op: u8 },
    /// Anything else (an opcode outside the grammar, the end, the budget).
    Unknown,
}

struct Parser<'a> {
    data: &'a [u8],
    pos: usize,
    memo: Vec<usize>,
    limits: Limits,
    /// Resolve ambiguous layouts by simulation (second pass) instead of guessing.
    scan: bool,
    /// Simulation work left, in opcodes; linear in the input.
    sim_left: u64,
    /// The simulation budget ran out: a further pass would not help.
    exhausted: bool,
    /// Graph nodes the graph decoder would have made, and its stack height.
    nodes: usize,
    stack: usize,
    /// Children visited, as the graph deserializer's budget counts them.
    expanded: u64,
    /// The limits, read once (the graph decoder caps nodes below `u32::MAX`).
    max_nodes: usize,
    max_stack: usize,
    /// Deepest nesting followed, as the graph deserializer counts it.
    max_depth: usize,
    /// The items of the flat group just read (see [`Parser::flat_group`]).
    /// Kept here, not on the stack of each row's reading, which would write
    /// every slot's tag to start it: a row's group reads only atoms, so no
    /// reading nested inside it uses this while the visitor reads it.
    row: [Atom<'a>; FLAT_MAX],
}

impl<'a> Parser<'a> {
    /// A parser at the start of `data`, recording into `memo` (empty).
    fn new(
        data: &'a [u8],
        limits: &Limits,
        scan: bool,
        max_depth: usize,
        mut memo: Vec<usize>,
    ) -> Parser<'a> {
        // Real batches memoize about one entry per 8 bytes.
        memo.reserve((data.len() / 8).min(MEMO_RESERVED));
        Parser {
            data,
            pos: 0,
            memo,
            limits: *limits,
            scan,
            sim_left: 2 * data.len() as u64 + 4096,
            exhausted: false,
            nodes: 0,
            stack: 0,
            expanded: 0,
            max_nodes: limits.max_nodes.min(u32::MAX as usize - 1),
            max_stack: limits.max_stack,
            max_depth,
            row: [Atom::None; FLAT_MAX],
        }
    }

    fn document<T: Deserialize<'a>>(&mut self) -> R<T> {
        if self.data.first() == Some(&op::PROTO) {
            match self.data.get(1) {
                Some(&v) if v <= 5 => self.pos = 2,
                _ => return Err(GiveUp),
            }
        }
        let v = T::deserialize(&mut De { p: self, depth: 0 })?;
        if self.peek()? != op::STOP || self.stack != 1 {
            return Err(GiveUp);
        }
        Ok(v)
    }

    /// The next opcode, past any FRAME (checked as the graph decoder checks it).
    #[inline(always)]
    fn peek(&mut self) -> R<u8> {
        match self.data.get(self.pos) {
            Some(&b) if b != op::FRAME => Ok(b),
            _ => self.peek_past_frames(),
        }
    }

    fn peek_past_frames(&mut self) -> R<u8> {
        loop {
            let b = *self.data.get(self.pos).ok_or(GiveUp)?;
            if b != op::FRAME {
                return Ok(b);
            }
            let n = self.u64_at(self.pos + 1)?;
            if n > (self.data.len() - self.pos - 9) as u64 {
                return Err(GiveUp);
            }
            self.pos += 9;
        }
    }

    #[inline]
    fn bytes_at(&self, at: usize, n: usize) -> R<&'a [u8]> {
        self.data
            .get(at..at.checked_add(n).ok_or(GiveUp)?)
            .ok_or(GiveUp)
    }

    #[inline]
    fn u64_at(&self, at: usize) -> R<u64> {
        let b = self.bytes_at(at, 8)?;
        Ok(u64::from_le_bytes(b.try_into().map_err(|_| GiveUp)?))
    }

    #[inline]
    fn u32_at(&self, at: usize) -> R<u32> {
        let b = self.bytes_at(at, 4)?;
        Ok(u32::from_le_bytes(b.try_into().map_err(|_| GiveUp)?))
    }

    /// Counts a pushed value (and a node, unless it is a memo reference).
    #[inline(always)]
    fn pushed(&mut self, node: bool) -> R<()> {
        if self.stack >= self.max_stack || (node && self.nodes + 1 >= self.max_nodes) {
            return Err(GiveUp);
        }
        self.stack += 1;
        self.nodes += usize::from(node);
        Ok(())
    }

    #[inline]
    fn popped(&mut self, n: usize) -> R<()> {
        self.stack = self.stack.checked_sub(n).ok_or(GiveUp)?;
        Ok(())
    }

    /// Memo opcodes after a value: records `entry` for each, sequential indices only.
    #[inline(always)]
    fn memo_ops(&mut self, entry: usize) -> R<()> {
        match self.data.get(self.pos) {
            // One MEMOIZE, the usual case, without the loop.
            Some(&op::MEMOIZE)
                if !matches!(
                    self.data.get(self.pos + 1),
                    Some(&(op::MEMOIZE | op::BINPUT | op::LONG_BINPUT | op::FRAME))
                ) && self.memo.len() < self.limits.max_memo =>
            {
                self.pos += 1;
                self.memo.push(entry);
                Ok(())
            }
            Some(&(op::MEMOIZE | op::BINPUT | op::LONG_BINPUT | op::FRAME)) => {
                self.memo_ops_slow(entry)
            }
            _ => Ok(()),
        }
    }

    fn memo_ops_slow(&mut self, entry: usize) -> R<()> {
        loop {
            let b = self.peek()?;
            let idx = match b {
                op::MEMOIZE => {
                    self.pos += 1;
                    self.memo.len()
                }
                op::BINPUT => {
                    let i = *self.data.get(self.pos + 1).ok_or(GiveUp)? as usize;
                    self.pos += 2;
                    i
                }
                op::LONG_BINPUT => {
                    let i = self.u32_at(self.pos + 1)? as usize;
                    self.pos += 5;
                    i
                }
                _ => return Ok(()),
            };
            if idx != self.memo.len() || self.memo.len() >= self.limits.max_memo {
                return Err(GiveUp);
            }
            self.memo.push(entry);
        }
    }

    /// The atom at `at`, if the opcode there is one: its value and its end.
    #[inline(always)]
    fn atom_at(&self, at: usize) -> R<Option<(Atom<'a>, usize)>> {
        let b = *self.data.get(at).ok_or(GiveUp)?;
        let (atom, end) = match b {
            op::NONE => (Atom::None, at + 1),
            op::NEWTRUE => (Atom::Bool(true), at + 1),
            op::NEWFALSE => (Atom::Bool(false), at + 1),
            op::BININT1 => (
                Atom::Int(*self.data.get(at + 1).ok_or(GiveUp)? as i64),
                at + 2,
            ),
            op::BININT2 => {
                let v = self.bytes_at(at + 1, 2)?;
                (Atom::Int(u16::from_le_bytes([v[0], v[1]]) as i64), at + 3)
            }
            op::BININT => (Atom::Int(self.u32_at(at + 1)? as i32 as i64), at + 5),
            op::LONG1 => {
                let n = *self.data.get(at + 1).ok_or(GiveUp)? as usize;
                if n > 8 {
                    return Err(GiveUp);
                }
                let digits = self.bytes_at(at + 2, n)?;
                let fill = if digits.last().is_some_and(|&d| d & 0x80 != 0) {
                    0xff
                } else {
                    0
                };
                let mut le = [fill; 8];
                le[..n].copy_from_slice(digits);
                (Atom::Int(i64::from_le_bytes(le)), at + 2 + n)
            }
            op::BINFLOAT => {
                let v = self.bytes_at(at + 1, 8)?;
                let bits = u64::from_be_bytes(v.try_into().map_err(|_| GiveUp)?);
                (Atom::Float(f64::from_bits(bits)), at + 9)
            }
            op::SHORT_BINUNICODE | op::BINUNICODE | op::BINUNICODE8 => {
                let (n, head) = self.length(b, at)?;
                let body = self.bytes_at(at + head, n)?;
                let s = std::str::from_utf8(body).map_err(|_| GiveUp)?;
                (Atom::Str(s), at + head + n)
            }
            op::SHORT_BINBYTES | op::BINBYTES | op::BINBYTES8 | op::BYTEARRAY8 => {
                let (n, head) = self.length(b, at)?;
                (Atom::Bytes(self.bytes_at(at + head, n)?), at + head + n)
            }
            _ => return Ok(None),
        };
        Ok(Some((atom, end)))
    }

    /// Where the atom at `at` ends, if the opcode there is one: its lengths
    /// checked, its value not decoded (the simulation only needs its extent;
    /// the parse that follows decodes and validates it once).
    #[inline]
    fn atom_end(&self, at: usize) -> R<Option<usize>> {
        let b = *self.data.get(at).ok_or(GiveUp)?;
        let end = match b {
            op::NONE | op::NEWTRUE | op::NEWFALSE => at + 1,
            op::BININT1 => at + 2,
            op::BININT2 => at + 3,
            op::BININT => at + 5,
            op::BINFLOAT => at + 9,
            op::LONG1 => at + 2 + *self.data.get(at + 1).ok_or(GiveUp)? as usize,
            op::SHORT_BINUNICODE
            | op::BINUNICODE
            | op::BINUNICODE8
            | op::SHORT_BINBYTES
            | op::BINBYTES
            | op::BINBYTES8
            | op::BYTEARRAY8 => {
                let (n, head) = self.length(b, at)?;
                at.checked_add(head)
                    .and_then(|e| e.checked_add(n))
                    .ok_or(GiveUp)?
            }
            _ => return Ok(None),
        };
        if end > self.data.len() {
            return Err(GiveUp);
        }
        Ok(Some(end))
    }

    /// A length-prefixed argument's length and the bytes before its body.
    #[inline]
    fn length(&self, b: u8, at: usize) -> R<(usize, usize)> {
        let (n, head) = match b {
            op::SHORT_BINUNICODE | op::SHORT_BINBYTES => {
                (*self.data.get(at + 1).ok_or(GiveUp)? as u64, 2)
            }
            op::BINUNICODE | op::BINBYTES => (self.u32_at(at + 1)? as u64, 5),
            _ => (self.u64_at(at + 1)?, 9),
        };
        Ok((usize::try_from(n).map_err(|_| GiveUp)?, head))
    }

    /// Where the opcode at `at` ends, for the opcodes the grammar knows.
    #[inline]
    fn skip_at(&self, at: usize) -> R<usize> {
        if let Some(end) = self.atom_end(at)? {
            return Ok(end);
        }
        let b = *self.data.get(at).ok_or(GiveUp)?;
        Ok(match b {
            op::BINGET | op::BINPUT => at + 2,
            op::LONG_BINGET | op::LONG_BINPUT => at + 5,
            op::FRAME => at + 9,
            _ => at + 1,
        })
    }

    /// Simulates stack heights from `at` until the first event that reaches the
    /// starting height (see [`Event`]). Charged against the linear budget.
    ///
    /// With `continuation`, the question is what happens to the container just
    /// below `at` (values built from the ones after it are its business, so a
    /// `TUPLE2` of two of them goes on); without, what consumes the value that
    /// starts at `at`.
    fn simulate(&mut self, mut at: usize, continuation: bool) -> Event {
        let mut h = 0usize;
        let mut marks: Vec<usize> = Vec::new();
        loop {
            if self.sim_left == 0 {
                self.exhausted = true;
                return Event::Unknown;
            }
            self.sim_left -= 1;
            let Some(&b) = self.data.get(at) else {
                return Event::Unknown;
            };
            let base = marks.last().copied().unwrap_or(0);
            match b {
                op::MARK => marks.push(h),
                op::TUPLE | op::LIST | op::DICT | op::FROZENSET => match marks.pop() {
                    Some(m) => h = m + 1,
                    None => return Event::Unknown,
                },
                op::APPENDS | op::SETITEMS | op::ADDITEMS => {
                    let Some(m) = marks.pop() else {
                        return Event::Unknown;
                    };
                    let outer = marks.last().copied().unwrap_or(0);
                    if marks.is_empty() && m == 0 {
                        return Event::CloseAtStart { op: b };
                    }
                    // The target, just below the MARK, must be above the outer one.
                    if m < outer + 1 {
                        return Event::Unknown;
                    }
                    h = m;
                }
                op::TUPLE1..=op::TUPLE3 | op::APPEND | op::SETITEM => {
                    let (pops, pushes) = match b {
                        op::APPEND => (1, 0),
                        op::SETITEM => (2, 0),
                        _ => ((b - op::TUPLE1 + 1) as usize, 1),
                    };
                    if marks.is_empty() {
                        if !continuation && h <= pops {
                            // A pop that takes the value that starts at `at`.
                            return Event::Pop { op: b, h };
                        }
                        if continuation && h < pops + usize::from(pushes == 0) {
                            // A pop or a target below `at`: the container's.
                            return if h == pops {
                                Event::Pop { op: b, h }
                            } else {
                                Event::Unknown
                            };
                        }
                    } else if h - base < pops + usize::from(pushes == 0) {
                        // Under the MARK (or its target would be): not the grammar.
                        return Event::Unknown;
                    }
                    h = h - pops + pushes;
                }
                op::MEMOIZE | op::BINPUT | op::LONG_BINPUT | op::FRAME => {}
                op::EMPTY_LIST | op::EMPTY_DICT | op::EMPTY_SET | op::EMPTY_TUPLE => h += 1,
                op::BINGET | op::LONG_BINGET => h += 1,
                _ => match self.atom_end(at) {
                    Ok(Some(_)) => h += 1,
                    _ => return Event::Unknown,
                },
            }
            match self.skip_at(at) {
                Ok(next) => at = next,
                Err(_) => return Event::Unknown,
            }
        }
    }

    /// Reads an atom (or a memo reference to one) at the current position.
    #[inline(always)]
    fn atom(&mut self) -> R<Option<Atom<'a>>> {
        let p = self;
        let b = p.peek()?;
        let (at, get) = match b {
            op::BINGET => (*p.data.get(p.pos + 1).ok_or(GiveUp)? as usize, 2),
            op::LONG_BINGET => (p.u32_at(p.pos + 1)? as usize, 5),
            _ => {
                let Some((atom, end)) = p.atom_at(p.pos)? else {
                    return Ok(None);
                };
                let start = p.pos;
                p.pos = end;
                p.pushed(true)?;
                p.memo_ops(start)?;
                return Ok(Some(atom));
            }
        };
        let origin = *p.memo.get(at).ok_or(GiveUp)?;
        if origin == SHARED {
            return Err(GiveUp);
        }
        let (atom, _) = p.atom_at(origin)?.ok_or(GiveUp)?;
        p.pos += get;
        p.pushed(false)?;
        p.memo_ops(origin)?;
        Ok(Some(atom))
    }

    /// Whether the value at the current position is `None`: its opcode, or a
    /// memo reference to one (the graph path reads the shared node, `None`, so
    /// an `Option` is `None` there too, not `Some` of a unit).
    #[inline]
    fn is_none_here(&mut self) -> R<bool> {
        let at = match self.peek()? {
            op::NONE => return Ok(true),
            op::BINGET => self.data.get(self.pos + 1).map(|&i| i as usize),
            op::LONG_BINGET => self.u32_at(self.pos + 1).ok().map(|i| i as usize),
            _ => return Ok(false),
        };
        let origin = at.and_then(|i| self.memo.get(i).copied());
        Ok(origin.is_some_and(|o| o != SHARED && self.data.get(o) == Some(&op::NONE)))
    }

    /// The items of a group (after its MARK) when they are all atoms (or memo
    /// references to atoms), read into `row`: their count, with the parser at the
    /// group's closer. `None` (and the parser as it was) when an item is anything
    /// else or there are more than `row` holds: the general reading takes over.
    ///
    /// Why this equals the general reading: from the MARK, both read the same
    /// opcodes in the same order with the same charges (each atom is one item,
    /// as no postfix opcode follows it inside the group), and any item read as a
    /// tuple of 1–3 would need a `TUPLE1`–`TUPLE3` where only atoms and the
    /// closer are (see [`AtomDe`]).
    #[inline]
    fn flat_group(&mut self) -> R<Option<usize>> {
        let (pos, stack, nodes, memo) = (self.pos, self.stack, self.nodes, self.memo.len());
        let data = self.data;
        let mut n = 0;
        // The common atoms are decoded here as `atom_at` decodes them, with the
        // position in a register and their stack and node charges summed and
        // checked once at the closer (both only grow in the run, so the sum
        // passes where every step would); the rest (memo references, frames,
        // other atoms) go through `atom`, which checks its own charges.
        let mut at = self.pos;
        let mut fast = 0;
        loop {
            let start = at;
            let b = *data.get(at).ok_or(GiveUp)?;
            let (atom, end) = match b {
                op::NONE => (Atom::None, at + 1),
                op::NEWTRUE => (Atom::Bool(true), at + 1),
                op::NEWFALSE => (Atom::Bool(false), at + 1),
                op::BININT1 => (Atom::Int(*data.get(at + 1).ok_or(GiveUp)? as i64), at + 2),
                op::BININT2 => match data.get(at + 1..at + 3) {
                    Some(&[a, b]) => (Atom::Int(u16::from_le_bytes([a, b]) as i64), at + 3),
                    _ => return Err(GiveUp),
                },
                op::BININT => match data.get(at + 1..at + 5) {
                    Some(&[a, b, c, d]) => {
                        (Atom::Int(i32::from_le_bytes([a, b, c, d]) as i64), at + 5)
                    }
                    _ => return Err(GiveUp),
                },
                op::BINFLOAT => match data.get(at + 1..at + 9) {
                    Some(&[a, b, c, d, e, f, g, h]) => (
                        Atom::Float(f64::from_be_bytes([a, b, c, d, e, f, g, h])),
                        at + 9,
                    ),
                    _ => return Err(GiveUp),
                },
                op::SHORT_BINUNICODE => {
                    let len = *data.get(at + 1).ok_or(GiveUp)? as usize;
                    let body = data.get(at + 2..at + 2 + len).ok_or(GiveUp)?;
                    let s = std::str::from_utf8(body).map_err(|_| GiveUp)?;
                    (Atom::Str(s), at + 2 + len)
                }
                _ => {
                    // The closer or anything else, with the charges so far applied.
                    self.pos = at;
                    self.stack += fast;
                    self.nodes += fast;
                    fast = 0;
                    if matches!(b, op::TUPLE | op::LIST | op::FROZENSET) {
                        return self.flat_closed(n, nodes);
                    }
                    let Some(atom) = self.atom()? else {
                        if matches!(self.peek()?, op::TUPLE | op::LIST | op::FROZENSET) {
                            return self.flat_closed(n, nodes);
                        }
                        break;
                    };
                    at = self.pos;
                    let Some(slot) = self.row.get_mut(n) else {
                        break;
                    };
                    *slot = atom;
                    n += 1;
                    continue;
                }
            };
            // One of the common atoms, then its memo opcodes as `memo_ops`
            // takes them (one MEMOIZE inline, anything more through the loop).
            fast += 1;
            at = end;
            match data.get(at) {
                Some(&op::MEMOIZE)
                    if !matches!(
                        data.get(at + 1),
                        Some(&(op::MEMOIZE | op::BINPUT | op::LONG_BINPUT | op::FRAME))
                    ) && self.memo.len() < self.limits.max_memo =>
                {
                    self.memo.push(start);
                    at += 1;
                }
                Some(&(op::MEMOIZE | op::BINPUT | op::LONG_BINPUT | op::FRAME)) => {
                    self.pos = at;
                    self.memo_ops_slow(start)?;
                    at = self.pos;
                }
                _ => {}
            }
            let Some(slot) = self.row.get_mut(n) else {
                break;
            };
            *slot = atom;
            n += 1;
        }
        self.pos = pos;
        self.stack = stack;
        self.nodes = nodes;
        self.memo.truncate(memo);
        Ok(None)
    }

    /// [`Parser::flat_group`] for a group at nesting `depth`, and when its
    /// items are all atoms, everything the general reading does around them:
    /// the charges per item (nesting and expansion, as [`De::child`], whether
    /// the visitor reads the item or leaves it to be skipped), then the
    /// closer, its stack and its memo opcodes. The visitor then only reads
    /// `row`, which touches nothing else here, so doing this first changes
    /// nothing.
    ///
    /// Out of line, all of it, so that what is left in the element loop is
    /// serde's tuple visitor over `row`. The hope was that LLVM would then
    /// inline a row's reading into serde's `Vec` visitor, ending the stall of
    /// a row returned through memory (written a field at a time, read back in
    /// wider loads). It does not; but with `row` kept in the parser, `&str`
    /// rows read about 8 % faster (300-pass runs, 2.61–2.71 → 2.44–2.48 s).
    #[inline(never)]
    fn flat_row(&mut self, depth: usize) -> R<Option<usize>> {
        let Some(n) = self.flat_group()? else {
            return Ok(None);
        };
        if n > 0 {
            let k = n as u64;
            if depth + 1 > self.max_depth
                || self.limits.max_expanded.saturating_sub(self.expanded) < k
            {
                return Err(GiveUp);
            }
            self.expanded += k;
        }
        // The closer (checked by `flat_group`).
        self.pos += 1;
        self.popped(n)?;
        self.pushed(true)?;
        self.memo_ops(SHARED)?;
        Ok(Some(n))
    }

    /// A run of `n` atoms reached its closer: the charges summed in the run
    /// (nodes counted from `nodes`) are checked as `pushed` checks each.
    #[inline(always)]
    fn flat_closed(&self, n: usize, nodes: usize) -> R<Option<usize>> {
        if self.stack > self.max_stack || (self.nodes > nodes && self.nodes >= self.max_nodes) {
            return Err(GiveUp);
        }
        Ok(Some(n))
    }

    /// What follows a container's opener or batch at the current position.
    fn next_of(&mut self, c: Container) -> R<Next> {
        let b = self.peek()?;
        let (batch, single) = c.ops();
        if b == op::MARK && !self.scan {
            // The common case; a wrong guess fails the pass and the scan decides.
            return Ok(Next::Batch);
        }
        let starts_item = b == op::MARK
            || matches!(
                b,
                op::EMPTY_LIST
                    | op::EMPTY_DICT
                    | op::EMPTY_SET
                    | op::EMPTY_TUPLE
                    | op::BINGET
                    | op::LONG_BINGET
            )
            || self.atom_end(self.pos)?.is_some();
        if !starts_item {
            return Ok(Next::Done);
        }
        let event = self.simulate(self.pos, true);
        Ok(match event {
            Event::CloseAtStart { op } if op == batch && b == op::MARK => Next::Batch,
            Event::Pop { op, h }
                if Some(op) == single && h == 1 + usize::from(c == Container::Dict) =>
            {
                Next::Single
            }
            _ => Next::Done,
        })
    }
}

#[derive(Clone, Copy)]
enum Atom<'a> {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'a str),
    Bytes(&'a [u8]),
}

/// One value position of the stream.
struct De<'p, 'a> {
    p: &'p mut Parser<'a>,
    depth: usize,
}

impl<'a> De<'_, 'a> {
    #[inline(always)]
    fn child(&mut self) -> R<De<'_, 'a>> {
        if self.depth + 1 > self.p.max_depth || self.p.expanded >= self.p.limits.max_expanded {
            return Err(GiveUp);
        }
        self.p.expanded += 1;
        Ok(De {
            p: self.p,
            depth: self.depth + 1,
        })
    }

    /// Reads an atom (or a memo reference to one) at the current position.
    #[inline(always)]
    fn atom(&mut self) -> R<Option<Atom<'a>>> {
        self.p.atom()
    }

    #[inline(always)]
    fn visit_atom<V: Visitor<'a>>(atom: Atom<'a>, visitor: V) -> R<V::Value> {
        match atom {
            Atom::None => visitor.visit_unit(),
            Atom::Bool(b) => visitor.visit_bool(b),
            Atom::Int(v) => visitor.visit_i64(v),
            Atom::Float(f) => visitor.visit_f64(f),
            Atom::Str(s) => visitor.visit_borrowed_str(s),
            Atom::Bytes(b) => visitor.visit_borrowed_bytes(b),
        }
    }

    /// Any value, dispatched on its first opcode.
    #[inline(never)]
    fn any<V: Visitor<'a>>(mut self, visitor: V) -> R<V::Value> {
        // A tuple's MARK first: a row of a batch, and not an atom.
        if self.p.peek()? == op::MARK {
            return self.group(visitor);
        }
        if let Some(atom) = self.atom()? {
            return Self::visit_atom(atom, visitor);
        }
        let b = self.p.peek()?;
        match b {
            op::EMPTY_LIST => self.container(Container::List, visitor),
            op::EMPTY_SET => self.container(Container::Set, visitor),
            op::EMPTY_DICT => self.container(Container::Dict, visitor),
            op::EMPTY_TUPLE => {
                self.p.pos += 1;
                self.p.pushed(true)?;
                self.p.memo_ops(SHARED)?;
                visitor.visit_seq(Empty)
            }
            op::MARK => self.group(visitor),
            _ => Err(GiveUp),
        }
    }

    /// `MARK item… TUPLE/LIST/FROZENSET`: a sequence either way.
    ///
    /// A batch's row comes here for every element, so what is left here is
    /// only the visit of the atoms [`Parser::flat_row`] read (out of line),
    /// and the rare readings (`group_general`, `short_tuple`, `any`) are kept
    /// out of line too, to keep the element loop small.
    #[inline(always)]
    fn group<V: Visitor<'a>>(self, visitor: V) -> R<V::Value> {
        self.p.pos += 1;
        if let Some(n) = self.p.flat_row(self.depth)? {
            return visitor.visit_seq(FlatSeq {
                atoms: &self.p.row[..n],
                next: 0,
            });
        }
        self.group_general(visitor)
    }

    /// A group read item by item (the parser just past its MARK).
    #[inline(never)]
    fn group_general<V: Visitor<'a>>(self, visitor: V) -> R<V::Value> {
        let mut seq = GroupSeq {
            de: self,
            done: false,
            items: 0,
        };
        let v = visitor.visit_seq(&mut seq)?;
        seq.finish()?;
        let items = seq.items;
        let p = seq.de.p;
        match p.peek()? {
            op::TUPLE | op::LIST | op::FROZENSET => {
                p.pos += 1;
                p.popped(items)?;
                p.pushed(true)?;
                p.memo_ops(SHARED)?;
                Ok(v)
            }
            _ => Err(GiveUp),
        }
    }

    /// A list, set or dict: the opener, then its batches.
    fn container<V: Visitor<'a>>(self, c: Container, visitor: V) -> R<V::Value> {
        self.p.pos += 1;
        self.p.pushed(true)?;
        self.p.memo_ops(SHARED)?;
        let mut items = Items {
            de: self,
            c,
            state: State::Between,
            batch_items: 0,
        };
        let v = if c == Container::Dict {
            visitor.visit_map(&mut items)?
        } else {
            visitor.visit_seq(&mut items)?
        };
        items.finish()?;
        let p = items.de.p;
        p.memo_ops(SHARED)?;
        Ok(v)
    }

    /// `item{n} TUPLEn`, read with the target's arity as the guide.
    fn postfix<V: Visitor<'a>>(self, n: usize, visitor: V) -> R<V::Value> {
        let mut seq = PostfixSeq { de: self, left: n };
        let v = visitor.visit_seq(&mut seq)?;
        while seq.left > 0 {
            seq.left -= 1;
            <de::IgnoredAny as de::Deserialize>::deserialize(&mut seq.de.child()?)?;
        }
        let p = seq.de.p;
        if p.peek()? != op::TUPLE1 + (n as u8 - 1) {
            return Err(GiveUp);
        }
        p.pos += 1;
        p.popped(n)?;
        p.pushed(true)?;
        p.memo_ops(SHARED)?;
        Ok(v)
    }

    /// A tuple-shaped target of `n` fields.
    #[inline(always)]
    fn tuple<V: Visitor<'a>>(self, n: usize, visitor: V) -> R<V::Value> {
        if !(1..=3).contains(&n) {
            // A row of a batch: its MARK, as `any` takes it first.
            if self.p.peek()? == op::MARK {
                return self.group(visitor);
            }
            return self.any(visitor);
        }
        self.short_tuple(n, visitor)
    }

    /// A tuple-shaped target of 1–3 fields.
    #[inline(never)]
    fn short_tuple<V: Visitor<'a>>(self, n: usize, visitor: V) -> R<V::Value> {
        let b = self.p.peek()?;
        let simple = b != op::MARK
            && !matches!(
                b,
                op::EMPTY_LIST | op::EMPTY_DICT | op::EMPTY_SET | op::EMPTY_TUPLE
            );
        if simple {
            return self.postfix(n, visitor);
        }
        // A value that starts with a container is the tuple, unless a TUPLEn
        // closes it with its siblings; only the scan pass looks.
        if self.p.scan {
            let event = self.p.simulate(self.p.pos, false);
            if event
                == (Event::Pop {
                    op: op::TUPLE1 + (n as u8 - 1),
                    h: n,
                })
            {
                return self.postfix(n, visitor);
            }
        }
        self.any(visitor)
    }
}

/// The `Deserializer` methods that both readers ([`De`] and [`AtomDe`]) answer
/// alike: tuple structs as tuples, newtypes as their content, enums given up
/// (the graph path decides), everything else through `deserialize_any`.
macro_rules! same_as_every_reader {
    () => {
        fn deserialize_tuple_struct<V: Visitor<'a>>(
            self,
            _: &'static str,
            len: usize,
            visitor: V,
        ) -> R<V::Value> {
            self.deserialize_tuple(len, visitor)
        }

        fn deserialize_newtype_struct<V: Visitor<'a>>(
            self,
            _: &'static str,
            visitor: V,
        ) -> R<V::Value> {
            visitor.visit_newtype_struct(self)
        }

        fn deserialize_enum<V: Visitor<'a>>(
            self,
            _: &'static str,
            _: &'static [&'static str],
            _: V,
        ) -> R<V::Value> {
            Err(GiveUp)
        }

        serde::forward_to_deserialize_any! {
            <W: Visitor<'a>>
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf unit unit_struct seq map struct identifier ignored_any
        }
    };
}

impl<'a> de::Deserializer<'a> for &mut De<'_, 'a> {
    type Error = GiveUp;

    fn deserialize_any<V: Visitor<'a>>(self, visitor: V) -> R<V::Value> {
        De {
            p: &mut *self.p,
            depth: self.depth,
        }
        .any(visitor)
    }

    fn deserialize_option<V: Visitor<'a>>(self, visitor: V) -> R<V::Value> {
        if self.p.is_none_here()? {
            // `None` alone, or the first item of a tuple: the atom decides, and a
            // wrong guess leaves the tuple's opcode for the parent to trip on.
            let _ = self.atom()?;
            return visitor.visit_none();
        }
        visitor.visit_some(self)
    }

    #[inline(always)]
    fn deserialize_tuple<V: Visitor<'a>>(self, len: usize, visitor: V) -> R<V::Value> {
        De {
            p: &mut *self.p,
            depth: self.depth,
        }
        .tuple(len, visitor)
    }

    same_as_every_reader!();
}

/// A sequence with no elements (`EMPTY_TUPLE`).
struct Empty;

impl<'de> de::SeqAccess<'de> for Empty {
    type Error = GiveUp;
    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, _: T) -> R<Option<T::Value>> {
        Ok(None)
    }
    fn size_hint(&self) -> Option<usize> {
        Some(0)
    }
}

/// The items after a MARK, up to its closer (left for the caller).
struct GroupSeq<'p, 'a> {
    de: De<'p, 'a>,
    done: bool,
    /// Items read, which stay on the stack until the closer pops them.
    items: usize,
}

impl<'a> GroupSeq<'_, 'a> {
    fn at_closer(&mut self) -> R<bool> {
        Ok(matches!(
            self.de.p.peek()?,
            op::TUPLE
                | op::LIST
                | op::FROZENSET
                | op::DICT
                | op::APPENDS
                | op::SETITEMS
                | op::ADDITEMS
        ))
    }

    fn finish(&mut self) -> R<()> {
        while !self.done && !self.at_closer()? {
            self.one(std::marker::PhantomData::<de::IgnoredAny>)?;
        }
        Ok(())
    }

    fn one<'de, T: DeserializeSeed<'a>>(&mut self, seed: T) -> R<T::Value> {
        let before = self.de.p.stack;
        let v = seed.deserialize(&mut self.de.child()?)?;
        if self.de.p.stack != before + 1 {
            return Err(GiveUp);
        }
        self.items += 1;
        Ok(v)
    }
}

impl<'a> de::SeqAccess<'a> for &mut GroupSeq<'_, 'a> {
    type Error = GiveUp;
    fn next_element_seed<T: DeserializeSeed<'a>>(&mut self, seed: T) -> R<Option<T::Value>> {
        if self.done || self.at_closer()? {
            self.done = true;
            return Ok(None);
        }
        self.one(seed).map(Some)
    }
}

/// The first `left` items of a postfix tuple.
struct PostfixSeq<'p, 'a> {
    de: De<'p, 'a>,
    left: usize,
}

impl<'a> de::SeqAccess<'a> for &mut PostfixSeq<'_, 'a> {
    type Error = GiveUp;
    fn next_element_seed<T: DeserializeSeed<'a>>(&mut self, seed: T) -> R<Option<T::Value>> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        let before = self.de.p.stack;
        let v = seed.deserialize(&mut self.de.child()?)?;
        if self.de.p.stack != before + 1 {
            return Err(GiveUp);
        }
        Ok(Some(v))
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between batches: the next opcode decides.
    Between,
    /// Inside `MARK … batch-op`.
    InBatch,
    /// One item (or pair) then the single-item opcode.
    InSingle,
    /// The container is complete.
    Done,
}

/// The elements (or pairs) of a list, set or dict, over all its batches.
struct Items<'p, 'a> {
    de: De<'p, 'a>,
    c: Container,
    state: State,
    /// Values pushed inside the current batch, popped by its opcode.
    batch_items: usize,
}

impl<'a> Items<'_, 'a> {
    /// Moves to the next element: `Ok(false)` when the container is complete.
    fn advance(&mut self) -> R<bool> {
        let (batch, single) = self.c.ops();
        loop {
            match self.state {
                State::Done => return Ok(false),
                State::InSingle => return Ok(true),
                State::InBatch => {
                    let p = &mut *self.de.p;
                    if p.peek()? != batch {
                        return Ok(true);
                    }
                    // The batch's items were pushed above the container; its
                    // opcode moves them in.
                    p.pos += 1;
                    p.popped(self.batch_items)?;
                    self.batch_items = 0;
                    self.state = State::Between;
                }
                State::Between => match self.de.p.next_of(self.c)? {
                    Next::Batch => {
                        self.de.p.pos += 1;
                        self.state = State::InBatch;
                    }
                    Next::Single if single.is_some() => {
                        self.state = State::InSingle;
                        return Ok(true);
                    }
                    _ => {
                        self.state = State::Done;
                        return Ok(false);
                    }
                },
            }
        }
    }

    /// After an element (or a pair's value): close a single-item append.
    fn after(&mut self) -> R<()> {
        if self.state == State::InSingle {
            let (_, single) = self.c.ops();
            let p = &mut *self.de.p;
            if Some(p.peek()?) != single {
                return Err(GiveUp);
            }
            p.pos += 1;
            p.popped(if self.c == Container::Dict { 2 } else { 1 })?;
            self.state = State::Between;
        } else {
            self.batch_items += if self.c == Container::Dict { 2 } else { 1 };
        }
        Ok(())
    }

    #[inline(always)]
    fn one<'de, T: DeserializeSeed<'a>>(&mut self, seed: T) -> R<T::Value> {
        let before = self.de.p.stack;
        let v = seed.deserialize(&mut self.de.child()?)?;
        if self.de.p.stack != before + 1 {
            return Err(GiveUp);
        }
        Ok(v)
    }

    /// Reads and drops what the visitor left unread.
    fn finish(&mut self) -> R<()> {
        while self.advance()? {
            self.one(std::marker::PhantomData::<de::IgnoredAny>)?;
            if self.c == Container::Dict {
                self.one(std::marker::PhantomData::<de::IgnoredAny>)?;
            }
            self.after()?;
        }
        Ok(())
    }
}

impl<'a> de::SeqAccess<'a> for &mut Items<'_, 'a> {
    type Error = GiveUp;
    #[inline(always)]
    fn next_element_seed<T: DeserializeSeed<'a>>(&mut self, seed: T) -> R<Option<T::Value>> {
        // Inside a list's or set's batch, before anything but its closer or a
        // frame, the next element follows: `advance` would say so, and `after`
        // counts it.
        let p = &*self.de.p;
        if self.state == State::InBatch
            && self.c != Container::Dict
            && !matches!(
                p.data.get(p.pos),
                None | Some(&(op::FRAME | op::APPENDS | op::ADDITEMS))
            )
        {
            let v = self.one(seed)?;
            self.batch_items += 1;
            return Ok(Some(v));
        }
        if !self.advance()? {
            return Ok(None);
        }
        let v = self.one(seed)?;
        self.after()?;
        Ok(Some(v))
    }
}

impl<'a> de::MapAccess<'a> for &mut Items<'_, 'a> {
    type Error = GiveUp;
    fn next_key_seed<K: DeserializeSeed<'a>>(&mut self, seed: K) -> R<Option<K::Value>> {
        if !self.advance()? {
            return Ok(None);
        }
        self.one(seed).map(Some)
    }
    fn next_value_seed<V: DeserializeSeed<'a>>(&mut self, seed: V) -> R<V::Value> {
        let v = self.one(seed)?;
        self.after()?;
        Ok(v)
    }
}

/// The items of a flat group (see [`Parser::flat_group`]).
struct FlatSeq<'s, 'a> {
    atoms: &'s [Atom<'a>],
    next: usize,
}

impl<'a> de::SeqAccess<'a> for FlatSeq<'_, 'a> {
    type Error = GiveUp;
    #[inline(always)]
    fn next_element_seed<T: DeserializeSeed<'a>>(&mut self, seed: T) -> R<Option<T::Value>> {
        let Some(&atom) = self.atoms.get(self.next) else {
            return Ok(None);
        };
        self.next += 1;
        seed.deserialize(AtomDe(atom)).map(Some)
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.atoms.len() - self.next)
    }
}

/// One item of a flat group, already read: answers every request as [`De`]
/// answers it at that atom. The one request that reads further there, a tuple
/// of 1–3 (`item… TUPLEn`), gives up, as it does in [`De`]: only atoms and the
/// group's closer follow, never a `TUPLEn`.
struct AtomDe<'a>(Atom<'a>);

impl<'a> de::Deserializer<'a> for AtomDe<'a> {
    type Error = GiveUp;

    #[inline]
    fn deserialize_any<V: Visitor<'a>>(self, visitor: V) -> R<V::Value> {
        De::visit_atom(self.0, visitor)
    }

    #[inline]
    fn deserialize_option<V: Visitor<'a>>(self, visitor: V) -> R<V::Value> {
        match self.0 {
            Atom::None => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_tuple<V: Visitor<'a>>(self, len: usize, visitor: V) -> R<V::Value> {
        if (1..=3).contains(&len) {
            return Err(GiveUp);
        }
        De::visit_atom(self.0, visitor)
    }

    same_as_every_reader!();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A parser just past the first MARK of `data`.
    fn after_mark(data: &[u8]) -> Parser<'_> {
        let mut p = Parser::new(data, &Limits::default(), false, 100, Vec::new());
        p.pos = data.iter().position(|&b| b == op::MARK).expect("a MARK") + 1;
        p
    }

    /// A batch of flat rows, charged at every expansion budget around what it
    /// needs: the direct path answers exactly where the graph path does (never
    /// where it refuses, and not less often either, or the speed-up would be
    /// lost there).
    #[test]
    fn flat_rows_are_charged_as_the_graph_path_charges_them() {
        use crate::pickle::serde::{from_graph, MAX_SERDE_DEPTH};
        type Row = (i64, String, f64, Option<()>, bool);
        // pickle.dumps([(1, 'ab', 0.5, None, True), (2, 'c', 1.5, None, False)], 5),
        // without the frame.
        let mut data = vec![0x80, 5, op::EMPTY_LIST, op::MEMOIZE, op::MARK];
        for (i, s, x, t) in [
            (1u8, "ab", 0.5f64, op::NEWTRUE),
            (2, "c", 1.5, op::NEWFALSE),
        ] {
            data.extend_from_slice(&[op::MARK, op::BININT1, i, op::SHORT_BINUNICODE]);
            data.push(s.len() as u8);
            data.extend_from_slice(s.as_bytes());
            data.extend_from_slice(&[op::MEMOIZE, op::BINFLOAT]);
            data.extend_from_slice(&x.to_be_bytes());
            data.extend_from_slice(&[op::NONE, t, op::TUPLE, op::MEMOIZE]);
        }
        data.extend_from_slice(&[op::APPENDS, op::STOP]);
        let decoded =
            crate::pickle::decode(&bytes::Bytes::copy_from_slice(&data)).expect("a valid pickle");
        let mut answered = 0;
        for budget in 0..16 {
            let limits = Limits {
                max_expanded: budget,
                ..Limits::default()
            };
            let direct = try_from_slice::<Vec<Row>>(&data, &limits, MAX_SERDE_DEPTH);
            let graph = from_graph::<Vec<Row>>(&decoded.graph, decoded.root(), &limits);
            assert_eq!(direct.is_some(), graph.is_ok(), "budget {budget}");
            if let Some(rows) = direct {
                assert_eq!(rows[1], (2, "c".to_string(), 1.5, None, false));
                answered += 1;
            }
        }
        assert!(answered > 0);
        // A row's items are one level below the row: a nesting limit of 1
        // (the list, then its rows) refuses them, as the graph path would.
        assert!(try_from_slice::<Vec<Row>>(&data, &Limits::default(), 1).is_none());
        assert!(try_from_slice::<Vec<Row>>(&data, &Limits::default(), 2).is_some());
    }

    #[test]
    fn a_row_of_atoms_is_read_as_one_run() {
        // (1, 'ab', 0.5, None, True) as CPython writes it, then 't' and MEMOIZE.
        let mut data = vec![op::MARK, op::BININT1, 1, op::SHORT_BINUNICODE, 2];
        data.extend_from_slice(b"ab");
        data.push(op::MEMOIZE);
        data.push(op::BINFLOAT);
        data.extend_from_slice(&0.5f64.to_be_bytes());
        data.extend_from_slice(&[op::NONE, op::NEWTRUE, op::TUPLE, op::MEMOIZE, op::STOP]);
        let mut p = after_mark(&data);
        assert_eq!(p.flat_group().ok(), Some(Some(5)));
        assert_eq!(data[p.pos], op::TUPLE);
        assert_eq!((p.stack, p.nodes, p.memo.len()), (5, 5, 1));
        assert!(matches!(p.row[1], Atom::Str("ab")));
    }

    #[test]
    fn anything_but_atoms_leaves_the_parser_as_it_was() {
        let nested = [
            op::MARK,
            op::BININT1,
            1,
            op::SHORT_BINUNICODE,
            0,
            op::MEMOIZE,
            op::EMPTY_LIST,
            op::TUPLE,
        ];
        let postfix = [
            op::MARK,
            op::BININT1,
            1,
            op::BININT1,
            2,
            op::TUPLE1 + 1,
            op::TUPLE,
        ];
        let mut wide = vec![op::MARK];
        for i in 0..=FLAT_MAX as u8 {
            wide.extend_from_slice(&[op::BININT1, i]);
        }
        wide.push(op::TUPLE);
        for data in [&nested[..], &postfix[..], &wide[..]] {
            let mut p = after_mark(data);
            assert_eq!(p.flat_group().ok(), Some(None));
            assert_eq!((p.pos, p.stack, p.nodes, p.memo.len()), (1, 0, 0, 0));
        }
    }
}
