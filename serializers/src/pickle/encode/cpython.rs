//! CPython's C pickler (`Modules/_pickle.c`, 3.11), protocols 0–5, as an
//! iterative task machine over the value graph.
//!
//! Protocols 0 and 1 differ in their leaves and container openings only
//! ([`super::text0`] holds protocol 0's text forms): no PROTO opcode, `I01`
//! for True, `L…L` for ints outside the i32 range, MARK … TUPLE for every
//! non-empty tuple (POP_MARK, or in protocol 0 len + 1 POPs, when it turns
//! out recursive), and in protocol 0 `(l`/`(d` with one APPEND/SETITEM per
//! item, FLOAT, UNICODE and PUT/GET as text lines. Objects built with NEWOBJ
//! need protocol 2: below it `object.__reduce_ex__` goes through
//! `copyreg._reduce_ex`, whose result depends on the class, not the graph.
//!
//! The memo follows object identity: a node is "the same object" as itself
//! only, except, in graphs that were built rather than decoded, for what CPython
//! shares by value: `''`, one-character strings below U+0100, `b''` and
//! one-byte bytes (its cached singletons, which every runtime-created string or
//! bytes of that value is), and globals (a class or function is one object).
//! Two kinds of one-character strings are not those singletons: the nodes of
//! [`Graph::intern`], which stand for interned identifiers (attribute, slot and
//! keyword names; a different object from the singleton in CPython 3.11), and
//! the argument of `decimal.Decimal(...)`, which `Decimal.__reduce__` makes
//! afresh with `str(self)`. Tuples, frozensets and reduce results are
//! memoized after their parts, so when they reappear while their parts are being
//! saved (recursion through a mutable container) the parts are popped and the
//! memo entry is fetched instead, exactly as `save_tuple`/`save_reduce` do.

use std::borrow::Cow;
use std::collections::HashMap;
use std::rc::Rc;

use bytes::Bytes;

use super::atoms::{atom, atom_run};
use super::long::long_bytes_i64;
use super::out::Out;
use super::text0;
use crate::pickle::error::EncodeError;
use crate::pickle::pystr::PyStr;
use crate::pickle::tables::{IMPORT_3TO2, NAME_3TO2};
use crate::pickle::value::{Construct, Graph, Int, Items, NodeId, PersId, State, Value};

pub(super) const BATCHSIZE: usize = 1000;

/// Maximum nesting of pending saves before an encoder gives up: deep enough for
/// anything a decoder accepts with default limits, and the guard against a
/// built graph in which a tuple contains itself (which CPython could not pickle
/// either).
const MAX_NESTING: usize = 2_000_000;

#[derive(Clone, PartialEq, Eq, Hash)]
enum MemoKey {
    Node(u32),
    Str(Bytes),
    Bytes(Bytes),
    Global(Bytes, Bytes),
}

enum Task {
    Save(NodeId),
    Byte(u8),
    Raw(Box<[u8]>),
    /// Close a tuple of `len` items (memo check, then TUPLEn/TUPLE or POPs + GET).
    TupleEnd(NodeId, usize),
    FrozenSetEnd(NodeId),
    GlobalEnd(NodeId),
    /// After REDUCE/NEWOBJ/…: memo check, memoize, then the object's items and state.
    ReduceEnd(NodeId),
}

enum Val<'g> {
    G(&'g Value),
    E(Rc<Value>),
}

impl std::ops::Deref for Val<'_> {
    type Target = Value;
    fn deref(&self) -> &Value {
        match self {
            Val::G(v) => v,
            Val::E(v) => v,
        }
    }
}

struct Enc<'g> {
    g: &'g Graph,
    /// Values CPython creates on the fly (the reduce forms of bytes, sets and
    /// bytearrays in older protocols), numbered after the graph's nodes.
    extra: Vec<Rc<Value>>,
    /// The children of the containers in `extra`.
    extra_items: Graph,
    proto: u8,
    out: Out,
    /// Memo entries of nodes (by identity), indexed by node: the entry + 1, 0 =
    /// none (a zeroed table comes from the allocator without being written).
    by_node: Vec<u32>,
    /// Memo entries shared by value (singletons, globals).
    by_value: HashMap<MemoKey, u32>,
    memo_len: u32,
    tasks: Vec<Task>,
    /// Pending end tasks: the depth of the save recursion CPython would be in.
    open: usize,
    max_open: usize,
    synth_globals: HashMap<(&'static str, &'static str), NodeId>,
    latin1: Option<NodeId>,
    /// One-character strings of a built graph that are fresh objects, not the
    /// cached singleton: the arguments of `decimal.Decimal(...)` met so far.
    fresh_strs: std::collections::HashSet<u32>,
}

pub(crate) fn encode(g: &Graph, root: NodeId, proto: u8) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    encode_into(g, root, proto, &mut out)?;
    Ok(out)
}

/// [`encode`], appended to `out`: a stream encoder writes each batch's pickle
/// straight after its length prefix instead of copying it there. On an error
/// `out` is as it was.
pub(crate) fn encode_into(
    g: &Graph,
    root: NodeId,
    proto: u8,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    if proto > 5 {
        return Err(EncodeError::UnsupportedProtocol(proto));
    }
    let start = out.len();
    let mut buf = std::mem::take(out);
    // Most pickles take a few bytes a node; one reservation saves the
    // doublings (and their copies) of a buffer grown from empty.
    buf.reserve(g.len().saturating_mul(8).min(1 << 22));
    let mut e = Enc {
        g,
        extra: Vec::new(),
        extra_items: Graph::new(),
        proto,
        out: Out::from_vec(buf),
        // Grown as nodes are memoized: a list of a million ints memoizes one
        // node, and a table for all of them (calloc'd, but cleared by memset
        // when the allocator reuses memory) cost more than its lookups save.
        by_node: Vec::new(),
        by_value: HashMap::new(),
        memo_len: 0,
        tasks: Vec::new(),
        open: 0,
        max_open: (2 * g.len() + 16).min(MAX_NESTING),
        synth_globals: HashMap::new(),
        latin1: None,
        fresh_strs: std::collections::HashSet::new(),
    };
    if proto >= 2 {
        e.out.bytes(&[0x80, proto]);
    }
    if proto >= 4 {
        e.out.start_framing();
    }
    match e.run(root) {
        Ok(()) => {
            e.out.byte(b'.');
            *out = e.out.finish();
            Ok(())
        }
        Err(err) => {
            *out = e.out.buf;
            out.truncate(start);
            Err(err)
        }
    }
}

/// BININT1/BININT2/BININT, else (protocol 2+) LONG1, of an `i64`.
#[inline(always)]
fn small_int(out: &mut Out, v: i64) {
    if (0..=0xff).contains(&v) {
        out.bytes(&[b'K', v as u8]);
    } else if (0..=0xffff).contains(&v) {
        out.bytes(&[b'M', v as u8, (v >> 8) as u8]);
    } else if i32::try_from(v).is_ok() {
        let mut b = [b'J', 0, 0, 0, 0];
        b[1..].copy_from_slice(&(v as i32).to_le_bytes());
        out.bytes(&b);
    } else {
        let d = long_bytes_i64(v);
        out.bytes(&[0x8a, d.len() as u8]);
        out.bytes(&d);
    }
}

/// A length-prefixed payload (see [`Enc::sized`]); false when it needs protocol 4.
pub(super) fn sized(
    out: &mut Out,
    proto: u8,
    short: Option<u8>,
    op4: u8,
    op8: u8,
    payload: &[u8],
) -> bool {
    let n = payload.len();
    match short {
        Some(op) if n <= 0xff => out.header_and_payload(&[op, n as u8], payload),
        _ if n <= u32::MAX as usize => {
            let mut h = [op4, 0, 0, 0, 0];
            h[1..].copy_from_slice(&(n as u32).to_le_bytes());
            out.header_and_payload(&h, payload);
        }
        _ if proto >= 4 => {
            let mut h = [op8; 9];
            h[1..].copy_from_slice(&(n as u64).to_le_bytes());
            out.header_and_payload(&h, payload);
        }
        _ => return false,
    }
    true
}

fn canonical_str(s: &PyStr) -> bool {
    canonical_slot(s.as_bytes()).is_some()
}

/// For the UTF-8 of a string CPython keeps one shared object of (`''` and one
/// code point below U+0100: 1 byte, or 2 bytes starting C2/C3), a slot of its
/// own below 257: the code point, 256 for `''`.
pub(super) fn canonical_slot(b: &[u8]) -> Option<usize> {
    match *b {
        [] => Some(256),
        [c] => Some(c as usize),
        [h @ (0xC2 | 0xC3), t] => Some((((h & 0x1F) as usize) << 6) | (t & 0x3F) as usize),
        _ => None,
    }
}

/// The protocol-2 spelling of a global (`_compat_pickle`'s reverse mappings).
fn fix_imports<'a>(module: &'a [u8], name: &'a [u8]) -> (&'a [u8], &'a [u8]) {
    for ((m, n), (m2, n2)) in NAME_3TO2 {
        if m.as_bytes() == module && n.as_bytes() == name {
            return (m2.as_bytes(), n2.as_bytes());
        }
    }
    for (m, m2) in IMPORT_3TO2 {
        if m.as_bytes() == module {
            return (m2.as_bytes(), name);
        }
    }
    (module, name)
}

impl<'g> Enc<'g> {
    fn val(&self, id: NodeId) -> Result<Val<'g>, EncodeError> {
        let base = self.g.len();
        if id.index() < base {
            Ok(Val::G(self.g.get(id)))
        } else {
            self.extra
                .get(id.index() - base)
                .map(|v| Val::E(v.clone()))
                .ok_or(EncodeError::DanglingNode(id.0))
        }
    }

    /// The children of container `id` (a graph node or one in `extra`).
    fn items_of(&self, id: NodeId, s: Items) -> Cow<'g, [NodeId]> {
        if id.index() < self.g.len() {
            Cow::Borrowed(self.g.items(s))
        } else {
            Cow::Owned(self.extra_items.items(s).to_vec())
        }
    }

    /// A tuple CPython makes on the fly.
    fn synth_tuple(&mut self, ids: &[NodeId]) -> NodeId {
        let items = self.extra_items.new_items(ids);
        self.synth(Value::Tuple(items))
    }

    fn synth(&mut self, v: Value) -> NodeId {
        self.extra.push(Rc::new(v));
        NodeId((self.g.len() + self.extra.len() - 1) as u32)
    }

    fn synth_global(&mut self, module: &'static str, name: &'static str) -> NodeId {
        if let Some(&id) = self.synth_globals.get(&(module, name)) {
            return id;
        }
        let m = self.synth(Value::Str(module.into()));
        let n = self.synth(Value::Str(name.into()));
        let id = self.synth(Value::Global { module: m, name: n });
        self.synth_globals.insert((module, name), id);
        id
    }

    fn key(&self, id: NodeId, v: &Value) -> Result<MemoKey, EncodeError> {
        Ok(self.value_key(id, v)?.unwrap_or(MemoKey::Node(id.0)))
    }

    /// The memo key of a node shared by value, `None` for one shared by
    /// identity (the common case, which [`Enc::save`] then handles without
    /// moving a whole `MemoKey` through the stack: that copy, read back in
    /// wider words than it was written in, stalled the CPU on a third of
    /// `save`'s samples for built row batches).
    #[inline]
    fn value_key(&self, id: NodeId, v: &Value) -> Result<Option<MemoKey>, EncodeError> {
        // A decoded graph states every identity explicitly (each BINGET became a
        // shared node), and CPython 3.11 has two kinds of one-character strings
        // that look alike: the latin-1 singletons (runtime strings) and interned
        // ones (identifiers, code constants, e.g. Row field names). So sharing by
        // value applies only to nodes that were built, not decoded.
        if self.g.hint(id).is_some() {
            return Ok(None);
        }
        Ok(Some(match v {
            Value::Str(s) if canonical_str(s) && !self.distinct_str(id, s) => {
                MemoKey::Str(s.to_bytes())
            }
            // `bytes(bytearray)` (the argument CPython builds for a bytearray in
            // protocols 3–4) is a fresh object even for one byte, so synthetic
            // bytes are never the cached singleton.
            Value::Bytes(b) if b.len() <= 1 && id.index() < self.g.len() => {
                MemoKey::Bytes(b.clone())
            }
            Value::Global { module, name } => {
                let m = self.str_bytes(*module)?;
                let n = self.str_bytes(*name)?;
                MemoKey::Global(m, n)
            }
            _ => return Ok(None),
        }))
    }

    /// A one-character string of a built graph that is not the cached singleton
    /// (see the module docs). `''` is one object however it was made.
    fn distinct_str(&self, id: NodeId, s: &PyStr) -> bool {
        !s.as_bytes().is_empty() && (self.g.is_interned(id) || self.fresh_strs.contains(&id.0))
    }

    /// Notes the argument of a built `decimal.Decimal(text)` as a fresh string
    /// before it is saved: `Decimal.__reduce__` returns `(Decimal, (str(self),))`.
    fn note_fresh_args(&mut self, callable: NodeId, args: NodeId) {
        if self.g.hint(args).is_some() || args.index() >= self.g.len() {
            return;
        }
        let Some((m, n)) = self.g.global_name(callable) else {
            return;
        };
        if (m.as_bytes(), n.as_bytes()) != (b"decimal", b"Decimal") {
            return;
        }
        if let Value::Tuple(items) = self.g.get(args) {
            if let [text] = self.g.items(*items) {
                if matches!(self.g.get(*text), Value::Str(_)) {
                    self.fresh_strs.insert(text.0);
                }
            }
        }
    }

    fn str_bytes(&self, id: NodeId) -> Result<Bytes, EncodeError> {
        match &*self.val(id)? {
            Value::Str(s) => Ok(s.to_bytes()),
            other => Err(EncodeError::Unencodable {
                node: id.0,
                what: format!(
                    "a global's module and name must be str, not {}",
                    other.type_name()
                ),
            }),
        }
    }

    #[inline]
    fn memo_lookup(&self, key: &MemoKey) -> Option<u32> {
        match key {
            MemoKey::Node(i) => self.memo_lookup_node(NodeId(*i)),
            other => self.by_value.get(other).copied(),
        }
    }

    /// `memo_lookup` of a node's own identity.
    #[inline]
    fn memo_lookup_node(&self, id: NodeId) -> Option<u32> {
        self.by_node
            .get(id.index())
            .copied()
            .filter(|&v| v != 0)
            .map(|v| v - 1)
    }

    /// `memo_put` of a node's own identity, without building a key: the
    /// common case, once per str and tuple of a row.
    #[inline]
    fn memo_put_node(&mut self, id: NodeId) {
        if self.proto >= 4 {
            if let Some(slot) = self.by_node.get_mut(id.index()) {
                let idx = self.memo_len;
                self.memo_len += 1;
                *slot = idx.wrapping_add(1);
                self.out.byte(0x94);
                return;
            }
        }
        self.memo_put(MemoKey::Node(id.0));
    }

    fn memo_put(&mut self, key: MemoKey) {
        let idx = self.memo_len;
        self.memo_len += 1;
        match key {
            MemoKey::Node(i) => {
                let i = i as usize;
                if i >= self.by_node.len() {
                    // A few slots while only the first nodes are memoized (a
                    // list of ints: the list alone), then the whole graph's.
                    let n = if i < 64 {
                        64
                    } else {
                        (i + 1)
                            .max(self.g.len())
                            .max(self.by_node.len().saturating_mul(2))
                    };
                    self.by_node.resize(n, 0);
                }
                self.by_node[i] = idx.wrapping_add(1);
            }
            other => {
                self.by_value.insert(other, idx);
            }
        }
        if self.proto >= 4 {
            self.out.byte(0x94);
        } else if self.proto == 0 {
            self.out.bytes(&text0::put_line(idx));
        } else if idx < 256 {
            self.out.bytes(&[b'q', idx as u8]);
        } else {
            let mut b = [b'r', 0, 0, 0, 0];
            b[1..].copy_from_slice(&idx.to_le_bytes());
            self.out.bytes(&b);
        }
    }

    fn memo_get(&mut self, idx: u32) {
        if self.proto == 0 {
            self.out.bytes(&text0::get_line(idx));
        } else if idx < 256 {
            self.out.bytes(&[b'h', idx as u8]);
        } else {
            let mut b = [b'j', 0, 0, 0, 0];
            b[1..].copy_from_slice(&idx.to_le_bytes());
            self.out.bytes(&b);
        }
    }

    fn open_end(&mut self) -> Result<(), EncodeError> {
        self.open += 1;
        if self.open > self.max_open {
            return Err(EncodeError::TooDeep(self.max_open));
        }
        Ok(())
    }

    fn run(&mut self, root: NodeId) -> Result<(), EncodeError> {
        self.tasks.push(Task::Save(root));
        while let Some(t) = self.tasks.pop() {
            match t {
                Task::Save(id) => self.save(id)?,
                Task::Byte(b) => self.out.byte(b),
                Task::Raw(b) => self.out.bytes(&b),
                Task::TupleEnd(id, len) => {
                    self.open -= 1;
                    let v = self.val(id)?;
                    let key = self.key(id, &v)?;
                    if let Some(idx) = self.memo_lookup(&key) {
                        // Recursive: throw away what was pushed, fetch it.
                        match (self.tuple_mark(len), self.proto) {
                            (true, 0) => {
                                for _ in 0..=len {
                                    self.out.byte(b'0');
                                }
                            }
                            (true, _) => self.out.byte(b'1'),
                            (false, _) => {
                                for _ in 0..len {
                                    self.out.byte(b'0');
                                }
                            }
                        }
                        self.memo_get(idx);
                    } else {
                        self.out.byte(self.tuple_close(len));
                        self.memo_put(key);
                    }
                }
                Task::FrozenSetEnd(id) => {
                    self.open -= 1;
                    let v = self.val(id)?;
                    let key = self.key(id, &v)?;
                    if let Some(idx) = self.memo_lookup(&key) {
                        self.out.byte(b'1');
                        self.memo_get(idx);
                    } else {
                        self.out.byte(0x91);
                        self.memo_put(key);
                    }
                }
                Task::GlobalEnd(id) => {
                    self.open -= 1;
                    self.out.byte(0x93);
                    let v = self.val(id)?;
                    let key = self.key(id, &v)?;
                    self.memo_put(key);
                }
                Task::ReduceEnd(id) => {
                    self.open -= 1;
                    self.reduce_end(id)?;
                }
            }
        }
        Ok(())
    }

    fn save(&mut self, id: NodeId) -> Result<(), EncodeError> {
        self.out.boundary();
        let v = self.val(id)?;
        match &*v {
            Value::None => self.out.byte(b'N'),
            Value::Bool(b) if self.proto < 2 => {
                self.out.bytes(if *b { b"I01\n" } else { b"I00\n" })
            }
            Value::Bool(b) => self.out.byte(if *b { 0x88 } else { 0x89 }),
            Value::Int(i) => self.save_int(id, i)?,
            Value::Float(f) if self.proto == 0 => self.out.bytes(&text0::float_line(*f)),
            Value::Float(f) => {
                let mut b = [b'G'; 9];
                b[1..].copy_from_slice(&f.to_be_bytes());
                self.out.bytes(&b);
            }
            Value::PersId(p) if self.proto == 0 => {
                // PERSID: `str(pid)` on a line, ASCII only.
                let text = match p {
                    PersId::Text(s) => Some(s.clone()),
                    PersId::Value(v) => match &*self.val(*v)? {
                        Value::Str(s) => Some(s.clone()),
                        _ => None,
                    },
                };
                let text = text
                    .filter(|t| t.as_bytes().iter().all(|&b| b.is_ascii() && b != b'\n'))
                    .ok_or_else(|| EncodeError::Unencodable {
                        node: id.0,
                        what: "persistent IDs in protocol 0 must be ASCII strings".into(),
                    })?;
                self.out.byte(b'P');
                self.out.bytes(text.as_bytes());
                self.out.byte(b'\n');
            }
            Value::PersId(p) => {
                let pid = match p {
                    PersId::Value(v) => *v,
                    PersId::Text(s) => self.synth(Value::Str(s.clone())),
                };
                self.tasks.push(Task::Byte(b'Q'));
                self.tasks.push(Task::Save(pid));
            }
            _ => match self.value_key(id, &v)? {
                None => {
                    if let Some(idx) = self.memo_lookup_node(id) {
                        self.memo_get(idx);
                        return Ok(());
                    }
                    self.save_new(id, &v, MemoKey::Node(id.0))?;
                }
                Some(key) => {
                    if let Some(idx) = self.memo_lookup(&key) {
                        self.memo_get(idx);
                        return Ok(());
                    }
                    self.save_new(id, &v, key)?;
                }
            },
        }
        Ok(())
    }

    fn save_int(&mut self, id: NodeId, i: &Int) -> Result<(), EncodeError> {
        if self.proto < 2 {
            let small = i.as_i64().filter(|v| i32::try_from(*v).is_ok());
            match small {
                Some(v) if self.proto == 0 => self.out.bytes(&text0::int_line(v)),
                Some(_) => self.save_bin_int(i),
                None => {
                    let line = text0::long_line(i).ok_or_else(|| EncodeError::Unencodable {
                        node: id.0,
                        what: format!(
                            "an int of more than {} digits (its repr, which protocols 0 and 1 write, is refused)",
                            text0::MAX_STR_DIGITS
                        ),
                    })?;
                    self.out.bytes(&line);
                }
            }
            return Ok(());
        }
        self.save_bin_int(i);
        Ok(())
    }

    /// BININT1/BININT2/BININT, else (protocol 2+) LONG1/LONG4.
    fn save_bin_int(&mut self, i: &Int) {
        match i {
            Int::Small(v) => small_int(&mut self.out, *v),
            Int::Big(b) => {
                let d = b.to_signed_bytes_le();
                if d.len() <= 0xff {
                    self.out.bytes(&[0x8a, d.len() as u8]);
                } else {
                    let mut h = [0x8b, 0, 0, 0, 0];
                    h[1..].copy_from_slice(&(d.len() as i32).to_le_bytes());
                    self.out.bytes(&h);
                }
                self.out.bytes(&d);
            }
        }
    }

    fn too_big(&self, id: NodeId, what: &'static str) -> EncodeError {
        EncodeError::NeedsProtocol {
            node: id.0,
            what,
            protocol: 4,
        }
    }

    fn save_new(&mut self, id: NodeId, v: &Value, key: MemoKey) -> Result<(), EncodeError> {
        let proto = self.proto;
        match v {
            Value::Str(s) if proto == 0 => {
                self.out.bytes(&text0::unicode_line(s));
                self.memo_put(key);
            }
            Value::Str(s) => {
                // SHORT_BINUNICODE (protocol 4+), BINUNICODE, BINUNICODE8.
                let short = (proto >= 4).then_some(0x8c);
                if !self.sized(short, b'X', 0x8d, s.as_bytes()) {
                    return Err(self.too_big(id, "a str longer than 4 GiB"));
                }
                self.memo_put(key);
            }
            Value::Bytes(b) if proto >= 3 => {
                // SHORT_BINBYTES, BINBYTES, BINBYTES8.
                if !self.sized(Some(b'C'), b'B', 0x8e, b) {
                    return Err(self.too_big(id, "bytes longer than 4 GiB"));
                }
                self.memo_put(key);
            }
            Value::Bytes(b) => {
                // Protocol 2: bytes() or _codecs.encode(latin-1 text, 'latin1').
                let (callable, args) = if b.is_empty() {
                    (self.synth_global("builtins", "bytes"), Vec::new())
                } else {
                    let text = PyStr::from_code_points(b.iter().map(|&c| c as u32));
                    let text = self.synth(Value::Str(text));
                    let latin1 = match self.latin1 {
                        Some(l) => l,
                        None => {
                            let l = self.synth(Value::Str("latin1".into()));
                            self.latin1 = Some(l);
                            l
                        }
                    };
                    (self.synth_global("_codecs", "encode"), vec![text, latin1])
                };
                let args = self.synth_tuple(&args);
                self.push_reduce(
                    id,
                    &[Task::Save(callable), Task::Save(args), Task::Byte(b'R')],
                )?;
            }
            Value::ByteArray(b) if proto >= 5 => {
                let mut h = [0x96; 9];
                h[1..].copy_from_slice(&(b.len() as u64).to_le_bytes());
                self.out.header_and_payload(&h, b);
                self.memo_put(key);
            }
            Value::ByteArray(b) => {
                let callable = self.synth_global("builtins", "bytearray");
                let args = if b.is_empty() {
                    Vec::new()
                } else {
                    vec![self.synth(Value::Bytes(b.clone()))]
                };
                let args = self.synth_tuple(&args);
                self.push_reduce(
                    id,
                    &[Task::Save(callable), Task::Save(args), Task::Byte(b'R')],
                )?;
            }
            Value::Tuple(items) => {
                let items = self.items_of(id, *items);
                if items.is_empty() {
                    // EMPTY_TUPLE, or MARK TUPLE in protocol 0; never memoized.
                    self.out.bytes(if proto == 0 { b"(t" } else { b")" });
                    return Ok(());
                }
                let mark = self.tuple_mark(items.len());
                if self.all_leaves(&items) {
                    // A tuple's key is its identity (only strs, bytes and
                    // globals are shared by value).
                    debug_assert!(matches!(key, MemoKey::Node(n) if n == id.0));
                    return self.save_leaf_tuple_new(id, &items);
                }
                self.open_end()?;
                self.tasks.push(Task::TupleEnd(id, items.len()));
                if mark {
                    self.out.byte(b'(');
                }
                self.tasks
                    .extend(items.iter().rev().map(|&i| Task::Save(i)));
            }
            Value::List(items) if proto == 0 => {
                let items = self.items_of(id, *items);
                // MARK LIST, then one APPEND per item (batch_list, protocol 0).
                self.out.bytes(b"(l");
                self.memo_put(key);
                for &i in items.iter().rev() {
                    self.tasks.push(Task::Byte(b'a'));
                    self.tasks.push(Task::Save(i));
                }
            }
            Value::Dict(kv) if proto == 0 => {
                let kv = self.g.pairs(*kv);
                // MARK DICT, then one SETITEM per pair (batch_dict, protocol 0).
                self.out.bytes(b"(d");
                self.memo_put(key);
                for &(k, v) in kv.iter().rev() {
                    self.tasks.push(Task::Byte(b's'));
                    self.tasks.push(Task::Save(v));
                    self.tasks.push(Task::Save(k));
                }
            }
            Value::List(items) => {
                let items = self.items_of(id, *items);
                self.out.byte(b']');
                self.memo_put(key);
                match items.len() {
                    0 => {}
                    1 => {
                        self.tasks.push(Task::Byte(b'a'));
                        self.tasks.push(Task::Save(items[0]));
                    }
                    _ => {
                        // batch_list_exact: chunks of 1000, no empty chunk.
                        // Children that schedule nothing (leaves, tuples of
                        // leaves) are saved in place; from the first that
                        // does, the rest is scheduled in order (it runs right
                        // after this save returns, so order holds).
                        let mut rest = None;
                        for (c, chunk) in items.chunks(BATCHSIZE).enumerate() {
                            self.out.byte(b'(');
                            let k = self.save_simple_run(chunk)?;
                            if k < chunk.len() {
                                rest = Some((c, k));
                                break;
                            }
                            self.out.byte(b'e');
                        }
                        if let Some((c, k)) = rest {
                            let after = (c + 1) * BATCHSIZE;
                            if after < items.len() {
                                for chunk in items[after..].chunks(BATCHSIZE).rev() {
                                    self.tasks.push(Task::Byte(b'e'));
                                    self.tasks
                                        .extend(chunk.iter().rev().map(|&i| Task::Save(i)));
                                    self.tasks.push(Task::Byte(b'('));
                                }
                            }
                            self.tasks.push(Task::Byte(b'e'));
                            let chunk = &items[c * BATCHSIZE..after.min(items.len())];
                            self.tasks
                                .extend(chunk[k..].iter().rev().map(|&i| Task::Save(i)));
                        }
                    }
                }
            }
            Value::Dict(kv) => {
                let kv = self.g.pairs(*kv);
                self.out.byte(b'}');
                self.memo_put(key);
                match kv.len() {
                    0 => {}
                    1 => {
                        self.tasks.push(Task::Byte(b's'));
                        self.tasks.push(Task::Save(kv[0].1));
                        self.tasks.push(Task::Save(kv[0].0));
                    }
                    n => {
                        // batch_dict_exact: do { MARK ≤1000 SETITEMS } while the chunk was full.
                        if n % BATCHSIZE == 0 {
                            self.tasks.push(Task::Byte(b'u'));
                            self.tasks.push(Task::Byte(b'('));
                        }
                        for chunk in kv.chunks(BATCHSIZE).rev() {
                            self.tasks.push(Task::Byte(b'u'));
                            for (k, v) in chunk.iter().rev() {
                                self.tasks.push(Task::Save(*v));
                                self.tasks.push(Task::Save(*k));
                            }
                            self.tasks.push(Task::Byte(b'('));
                        }
                    }
                }
            }
            Value::Set(items) if proto >= 4 => {
                let items = self.items_of(id, *items);
                self.out.byte(0x8f);
                self.memo_put(key);
                if !items.is_empty() {
                    if items.len().is_multiple_of(BATCHSIZE) {
                        self.tasks.push(Task::Byte(0x90));
                        self.tasks.push(Task::Byte(b'('));
                    }
                    for chunk in items.chunks(BATCHSIZE).rev() {
                        self.tasks.push(Task::Byte(0x90));
                        self.tasks
                            .extend(chunk.iter().rev().map(|&i| Task::Save(i)));
                        self.tasks.push(Task::Byte(b'('));
                    }
                }
            }
            Value::FrozenSet(items) if proto >= 4 => {
                let items = self.items_of(id, *items);
                self.out.byte(b'(');
                self.open_end()?;
                self.tasks.push(Task::FrozenSetEnd(id));
                self.tasks
                    .extend(items.iter().rev().map(|&i| Task::Save(i)));
            }
            Value::Set(items) | Value::FrozenSet(items) => {
                let name = if matches!(v, Value::Set(_)) {
                    "set"
                } else {
                    "frozenset"
                };
                let callable = self.synth_global("builtins", name);
                let items = self.items_of(id, *items).to_vec();
                let list = self.extra_items.new_items(&items);
                let list = self.synth(Value::List(list));
                let args = self.synth_tuple(&[list]);
                self.push_reduce(
                    id,
                    &[Task::Save(callable), Task::Save(args), Task::Byte(b'R')],
                )?;
            }
            Value::Global { module, name } => {
                if proto >= 4 {
                    self.open_end()?;
                    self.tasks.push(Task::GlobalEnd(id));
                    self.tasks.push(Task::Save(*name));
                    self.tasks.push(Task::Save(*module));
                } else {
                    let m = self.str_bytes(*module)?;
                    let n = self.str_bytes(*name)?;
                    let (m2, n2) = if proto < 3 {
                        fix_imports(&m, &n)
                    } else {
                        (&m[..], &n[..])
                    };
                    // GLOBAL ends each part at a newline, so a part holding
                    // one cannot be written below protocol 4 (found by
                    // fuzzing: the pickle written would not read back).
                    if m2.contains(&b'\n') || n2.contains(&b'\n') {
                        return Err(EncodeError::Unencodable {
                            node: id.0,
                            what: "a global whose module or name contains a newline needs protocol 4 (STACK_GLOBAL)".into(),
                        });
                    }
                    let mut text = Vec::with_capacity(m2.len() + n2.len() + 3);
                    text.push(b'c');
                    text.extend_from_slice(m2);
                    text.push(b'\n');
                    text.extend_from_slice(n2);
                    text.push(b'\n');
                    self.out.bytes(&text);
                    self.memo_put(key);
                }
            }
            Value::Object(o) => match &o.construct {
                Construct::Reduce { callable, args } => {
                    self.note_fresh_args(*callable, *args);
                    self.push_reduce(
                        id,
                        &[Task::Save(*callable), Task::Save(*args), Task::Byte(b'R')],
                    )?
                }
                Construct::NewObj { .. } if proto < 2 => {
                    return Err(EncodeError::NeedsProtocol {
                        node: id.0,
                        what: "NEWOBJ (below protocol 2 the class's copyreg._reduce_ex decides)",
                        protocol: 2,
                    });
                }
                Construct::NewObj { cls, args } => {
                    self.push_reduce(id, &[Task::Save(*cls), Task::Save(*args), Task::Byte(0x81)])?
                }
                Construct::NewObjEx { cls, args, kwargs } => {
                    if proto < 4 {
                        return Err(EncodeError::NeedsProtocol {
                            node: id.0,
                            what: "NEWOBJ_EX",
                            protocol: 4,
                        });
                    }
                    self.push_reduce(
                        id,
                        &[
                            Task::Save(*cls),
                            Task::Save(*args),
                            Task::Save(*kwargs),
                            Task::Byte(0x92),
                        ],
                    )?
                }
                Construct::Obj { cls, args } => {
                    self.out.byte(b'(');
                    let mut seq = vec![Task::Save(*cls)];
                    seq.extend(args.iter().map(|&a| Task::Save(a)));
                    seq.push(Task::Byte(b'o'));
                    self.push_reduce(id, &seq)?
                }
                Construct::Inst { module, name, args } => {
                    if module.as_bytes().contains(&b'\n') || name.as_bytes().contains(&b'\n') {
                        return Err(EncodeError::Unencodable {
                            node: id.0,
                            what: "an INST whose module or name contains a newline".into(),
                        });
                    }
                    self.out.byte(b'(');
                    let mut seq: Vec<Task> = args.iter().map(|&a| Task::Save(a)).collect();
                    let mut text = vec![b'i'];
                    text.extend_from_slice(module.as_bytes());
                    text.push(b'\n');
                    text.extend_from_slice(name.as_bytes());
                    text.push(b'\n');
                    seq.push(Task::Raw(text.into_boxed_slice()));
                    self.push_reduce(id, &seq)?
                }
            },
            Value::Ext(_) if proto < 2 => {
                return Err(EncodeError::NeedsProtocol {
                    node: id.0,
                    what: "an extension code",
                    protocol: 2,
                });
            }
            Value::Ext(code) => {
                let c = *code;
                if (1..=0xff).contains(&c) {
                    self.out.bytes(&[0x82, c as u8]);
                } else if (1..=0xffff).contains(&c) {
                    self.out.bytes(&[0x83, c as u8, (c >> 8) as u8]);
                } else if let Ok(c32) = i32::try_from(c) {
                    let mut b = [0x84, 0, 0, 0, 0];
                    b[1..].copy_from_slice(&c32.to_le_bytes());
                    self.out.bytes(&b);
                } else {
                    return Err(EncodeError::Unencodable {
                        node: id.0,
                        what: format!("extension code {c} out of range"),
                    });
                }
            }
            Value::Buffer { readonly, .. } => {
                if proto < 5 {
                    return Err(EncodeError::NeedsProtocol {
                        node: id.0,
                        what: "an out-of-band buffer",
                        protocol: 5,
                    });
                }
                self.out.byte(0x97);
                if *readonly {
                    self.out.byte(0x98);
                }
            }
            Value::None | Value::Bool(_) | Value::Int(_) | Value::Float(_) | Value::PersId(_) => {
                unreachable!("atoms and persistent ids are saved before the memo lookup")
            }
        }
        Ok(())
    }

    /// A length-prefixed payload: the u8-length opcode when there is one and the
    /// payload fits, else the u32 one, else (protocol 4+) the u64 one. False when
    /// the payload needs protocol 4.
    fn sized(&mut self, short: Option<u8>, op4: u8, op8: u8, payload: &[u8]) -> bool {
        sized(&mut self.out, self.proto, short, op4, op8, payload)
    }

    /// `save` of a leaf, with the atoms written in place (what `save` writes
    /// for them, without its dispatch).
    #[inline]
    fn save_leaf(&mut self, id: NodeId) -> Result<(), EncodeError> {
        if self.proto < 2 {
            return self.save(id);
        }
        let v = self.g.get(id);
        if let Some(a) = atom(v) {
            self.out.atom(&a);
            return Ok(());
        }
        match v {
            Value::Int(i) => {
                self.out.boundary();
                self.save_bin_int(i);
                Ok(())
            }
            Value::Str(s) if self.save_short_str_by_node(id, s) => Ok(()),
            _ => self.save(id),
        }
    }

    /// `save()` of a short str whose identity is its node, in protocol 4 or 5:
    /// the common case in row batches, decoded or built, without the general
    /// path's dispatch. That is every str of a decoded graph, and every str of
    /// a built one but those [`Enc::value_key`] shares by value (`''` and one
    /// code point below U+0100, CPython's cached singletons). False (nothing
    /// written) for any other str.
    #[inline(always)]
    fn save_short_str_by_node(&mut self, id: NodeId, s: &PyStr) -> bool {
        let b = s.as_bytes();
        if self.proto < 4
            || b.len() > 0xff
            || (self.g.hint(id).is_none() && canonical_slot(b).is_some())
        {
            return false;
        }
        self.out.boundary();
        match self.by_node.get_mut(id.index()) {
            Some(&mut idx) if idx != 0 => self.memo_get(idx - 1),
            Some(slot) => {
                // SHORT_BINUNICODE, MEMOIZE in one write.
                *slot = self.memo_len.wrapping_add(1);
                self.memo_len += 1;
                self.out.short_str_memoized(b);
            }
            None => {
                self.out.bytes(&[0x8c, b.len() as u8]);
                self.out.bytes(b);
                self.memo_put_node(id);
            }
        }
        true
    }

    /// Saves the leading children of `items` that schedule nothing: leaves,
    /// and tuples of leaves (which cannot lead back to themselves). Returns how
    /// many were saved; the caller schedules the rest.
    fn save_simple_run(&mut self, items: &[NodeId]) -> Result<usize, EncodeError> {
        let g = self.g;
        let mut k = 0;
        if self.proto >= 2 {
            // At most 10 bytes an atom; a hint, writes grow the buffer anyway.
            self.out.reserve(items.len() * 10 + 16);
        }
        while k < items.len() {
            if self.proto >= 2 {
                k += atom_run(&mut self.out, g, &items[k..]);
            }
            let Some(&id) = items.get(k) else { break };
            let Some(v) = g.try_get(id) else { break };
            match v {
                Value::Tuple(t) if self.all_leaves(g.items(*t)) => {
                    let t = g.items(*t);
                    // `save()` of the tuple: boundary, memo, then its items.
                    self.out.boundary();
                    if let Some(&idx) = self.by_node.get(id.index()).filter(|&&v| v != 0) {
                        self.memo_get(idx - 1);
                    } else if t.is_empty() {
                        // EMPTY_TUPLE, or MARK TUPLE in protocol 0; never memoized.
                        self.out.bytes(if self.proto == 0 { b"(t" } else { b")" });
                    } else {
                        self.save_leaf_tuple_new(id, t)?;
                    }
                }
                _ if self.all_leaves(std::slice::from_ref(&id)) => self.save_leaf(id)?,
                _ => break,
            }
            k += 1;
        }
        Ok(k)
    }

    /// The rest of `save()` for a non-empty tuple of leaves not in the memo:
    /// leaves cannot lead back to the tuple, so no recursion check is needed,
    /// and they are saved in place (same bytes, no tasks).
    fn save_leaf_tuple_new(&mut self, id: NodeId, items: &[NodeId]) -> Result<(), EncodeError> {
        let mark = self.tuple_mark(items.len());
        if mark {
            self.out.byte(b'(');
        }
        let g = self.g;
        for &i in items {
            match g.try_get(i) {
                Some(v) if self.proto >= 2 => {
                    if let Some(a) = atom(v) {
                        self.out.atom(&a);
                        continue;
                    }
                    if let Value::Str(s) = v {
                        if self.save_short_str_by_node(i, s) {
                            continue;
                        }
                    }
                    self.save_leaf(i)?
                }
                _ => self.save_leaf(i)?,
            }
        }
        let close = self.tuple_close(items.len());
        match self.by_node.get_mut(id.index()) {
            Some(slot) if self.proto >= 4 => {
                // The closing opcode and MEMOIZE in one write.
                *slot = self.memo_len.wrapping_add(1);
                self.memo_len += 1;
                self.out.bytes(&[close, 0x94]);
            }
            _ => {
                self.out.byte(close);
                self.memo_put_node(id);
            }
        }
        Ok(())
    }

    /// Whether a tuple of `len` items is written MARK … TUPLE (TUPLE1–3 exist
    /// from protocol 2).
    fn tuple_mark(&self, len: usize) -> bool {
        self.proto < 2 || len > 3
    }

    /// The opcode that closes a non-empty tuple of `len` items.
    fn tuple_close(&self, len: usize) -> u8 {
        match (self.tuple_mark(len), len) {
            (true, _) => b't',
            (false, 1) => 0x85,
            (false, 2) => 0x86,
            _ => 0x87,
        }
    }

    /// Values whose `save` writes bytes and returns without scheduling anything.
    #[inline]
    fn all_leaves(&self, items: &[NodeId]) -> bool {
        let base = self.g.len();
        items.iter().all(|&i| {
            i.index() < base
                && match self.g.get(i) {
                    Value::None
                    | Value::Bool(_)
                    | Value::Int(_)
                    | Value::Float(_)
                    | Value::Str(_) => true,
                    Value::Bytes(_) => self.proto >= 3,
                    _ => false,
                }
        })
    }

    /// Schedules `seq` (the callable, its arguments and the call opcode) and then
    /// the end of `save_reduce` for `obj`.
    fn push_reduce(&mut self, obj: NodeId, seq: &[Task]) -> Result<(), EncodeError> {
        self.open_end()?;
        self.tasks.push(Task::ReduceEnd(obj));
        for t in seq.iter().rev() {
            self.tasks.push(match t {
                Task::Save(i) => Task::Save(*i),
                Task::Byte(b) => Task::Byte(*b),
                Task::Raw(r) => Task::Raw(r.clone()),
                _ => unreachable!("push_reduce takes saves and bytes only"),
            });
        }
        Ok(())
    }

    fn reduce_end(&mut self, id: NodeId) -> Result<(), EncodeError> {
        let v = self.val(id)?;
        let key = self.key(id, &v)?;
        if let Some(idx) = self.memo_lookup(&key) {
            self.out.byte(b'0');
            self.memo_get(idx);
            return Ok(());
        }
        self.memo_put(key);
        let Value::Object(o) = &*v else { return Ok(()) };
        // Pushed in reverse: items, then dict items, then states.
        for s in o.states.iter().rev() {
            match s {
                State::Build(st) => {
                    self.tasks.push(Task::Byte(b'b'));
                    self.tasks.push(Task::Save(*st));
                }
                State::Setter { setter, state } => {
                    self.tasks
                        .extend([Task::Byte(b'0'), Task::Byte(b'R'), Task::Byte(0x86)]);
                    self.tasks
                        .extend([Task::Save(*state), Task::Save(id), Task::Save(*setter)]);
                }
            }
        }
        if self.proto == 0 {
            // batch_list / batch_dict in protocol 0: one APPEND / SETITEM each.
            for &(k, v) in o.dict_items.iter().rev() {
                self.tasks.push(Task::Byte(b's'));
                self.tasks.push(Task::Save(v));
                self.tasks.push(Task::Save(k));
            }
            for &i in o.list_items.iter().rev() {
                self.tasks.push(Task::Byte(b'a'));
                self.tasks.push(Task::Save(i));
            }
            return Ok(());
        }
        // batch_dict / batch_list over an iterator: full chunks of 1000, then a
        // remainder of one is SETITEM/APPEND, of two or more MARK … SETITEMS/APPENDS.
        let pairs = &o.dict_items;
        let full = pairs.len() / BATCHSIZE * BATCHSIZE;
        match pairs.len() - full {
            0 => {}
            1 => {
                self.tasks.push(Task::Byte(b's'));
                self.tasks.push(Task::Save(pairs[full].1));
                self.tasks.push(Task::Save(pairs[full].0));
            }
            _ => self.push_pair_batch(&pairs[full..]),
        }
        for chunk in pairs[..full].chunks(BATCHSIZE).rev() {
            self.push_pair_batch(chunk);
        }
        let items = &o.list_items;
        let full = items.len() / BATCHSIZE * BATCHSIZE;
        match items.len() - full {
            0 => {}
            1 => {
                self.tasks.push(Task::Byte(b'a'));
                self.tasks.push(Task::Save(items[full]));
            }
            _ => self.push_item_batch(&items[full..]),
        }
        for chunk in items[..full].chunks(BATCHSIZE).rev() {
            self.push_item_batch(chunk);
        }
        Ok(())
    }

    fn push_item_batch(&mut self, chunk: &[NodeId]) {
        self.tasks.push(Task::Byte(b'e'));
        self.tasks
            .extend(chunk.iter().rev().map(|&i| Task::Save(i)));
        self.tasks.push(Task::Byte(b'('));
    }

    fn push_pair_batch(&mut self, chunk: &[(NodeId, NodeId)]) {
        self.tasks.push(Task::Byte(b'u'));
        for (k, v) in chunk.iter().rev() {
            self.tasks.push(Task::Save(*v));
            self.tasks.push(Task::Save(*k));
        }
        self.tasks.push(Task::Byte(b'('));
    }
}
