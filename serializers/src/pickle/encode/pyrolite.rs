//! Pyrolite's `Pickler(useMemo=true, valueCompare=false)`, protocol 2, as Spark's
//! JVM uses it (`net.razorvine.pickle` 1.3/1.5).
//!
//! Differences from CPython that matter on the wire: never frames, always
//! BINUNICODE, MARK … APPENDS/SETITEMS for every list and map (even empty ones),
//! no 1000-item batching, a BINPUT after `()`, memoized longs outside the i32
//! range, sets as `__builtin__.set([...])` and byte arrays as
//! `__builtin__.bytearray(text, 'latin-1')`, primitive arrays (`int[]`,
//! `double[]`, …) as `array.array(b'i', [...])` with the typecode a
//! SHORT_BINSTRING and the list unmemoized, globals written as text and not
//! memoized. Which objects Pyrolite memoizes depends on their Java class and on
//! identity hashes; for a decoded graph the encoder therefore follows the memo
//! layout recorded by the decoder ([`Hint`](crate::pickle::Hint)), and for a
//! built graph the defaults of each Java type. A node referenced more than once
//! is one Java object referenced more than once, which Pyrolite finds in its
//! identity memo: such a node is memoized when its type is, whatever the hint
//! (a pickle Pyrolite did not write can share nodes through DUP without any
//! memo entry; written out at every reference, sharing along many paths would
//! grow exponentially).

use super::long::long_bytes_i64;
use crate::pickle::error::EncodeError;
use crate::pickle::pystr::PyStr;
use crate::pickle::pytext::push_code_point;
use crate::pickle::value::{Construct, Graph, Int, NodeId, Value};

enum Task {
    Save(NodeId),
    Byte(u8),
    /// writeMemo(obj) with the type's default when no hint says otherwise.
    Memo(NodeId, bool),
    /// A tuple written inline as reduce arguments (`… TUPLEn REDUCE`).
    Close(u8),
}

struct Enc<'g> {
    g: &'g Graph,
    out: Vec<u8>,
    /// Memo index per node, u32::MAX = none.
    memo: Vec<u32>,
    tasks: Vec<Task>,
    latin1_memoized: bool,
    /// `StringBuilder.toString()` of nothing is Java's interned `""`: like
    /// "latin-1", an empty byte[]'s text gets a BINPUT only the first time.
    empty_text_memoized: bool,
    /// memo.size() in Pyrolite: entries for strings it writes on its own count too.
    next_index: u32,
    /// Nodes referenced more than once.
    shared: Vec<bool>,
    /// Saves left before the output is refused as too large.
    saves_left: usize,
}

pub(crate) fn encode(g: &Graph, root: NodeId) -> Result<Vec<u8>, EncodeError> {
    let mut refs = vec![0u8; g.len()];
    let mut references = 0usize;
    for id in g.ids() {
        for c in g.children(id) {
            references += 1;
            if let Some(r) = refs.get_mut(c.index()) {
                *r = r.saturating_add(1);
            }
        }
    }
    // Every reference is saved at most once unless an unmemoized shared node
    // is itself a container of shared nodes (Pyrolite writes its unmemoized
    // types — numbers, booleans, globals' text, custom picklers — again each
    // time): a generous multiple of the references bounds honest graphs.
    let max_saves = g
        .len()
        .saturating_add(references)
        .saturating_mul(64)
        .saturating_add(1 << 16);
    let mut e = Enc {
        g,
        out: vec![0x80, 2],
        memo: vec![u32::MAX; g.len()],
        tasks: vec![Task::Save(root)],
        empty_text_memoized: false,
        latin1_memoized: false,
        next_index: 0,
        shared: refs.into_iter().map(|r| r > 1).collect(),
        saves_left: max_saves,
    };
    // Each node is expanded at most once per reference; a graph whose tuples
    // contain themselves would loop, so bound the work by the graph's size.
    let budget = g.len().saturating_mul(64).saturating_add(1 << 16);
    while let Some(t) = e.tasks.pop() {
        if e.tasks.len() > budget {
            return Err(EncodeError::TooDeep(budget));
        }
        match t {
            Task::Save(id) => {
                e.saves_left = e
                    .saves_left
                    .checked_sub(1)
                    .ok_or(EncodeError::TooLarge(max_saves))?;
                e.save(id)?
            }
            Task::Byte(b) => e.out.push(b),
            Task::Memo(id, default) => e.write_memo(id, default),
            Task::Close(op) => e.out.push(op),
        }
    }
    e.out.push(b'.');
    Ok(e.out)
}

/// Java's `String.getBytes(UTF_8)` of the UTF-16 string a Python str maps to:
/// surrogate pairs combine, lone surrogates become `?`.
pub(crate) fn java_utf8(s: &PyStr) -> Vec<u8> {
    if let Some(t) = s.as_str() {
        return t.as_bytes().to_vec();
    }
    let cps: Vec<u32> = s.code_points().collect();
    let mut out = Vec::with_capacity(cps.len() * 3);
    let mut i = 0;
    while i < cps.len() {
        let c = cps[i];
        if (0xD800..0xDC00).contains(&c)
            && cps.get(i + 1).is_some_and(|n| (0xDC00..0xE000).contains(n))
        {
            let combined = 0x10000 + ((c - 0xD800) << 10) + (cps[i + 1] - 0xDC00);
            push_code_point(&mut out, combined);
            i += 2;
        } else if (0xD800..0xE000).contains(&c) {
            out.push(b'?');
            i += 1;
        } else {
            push_code_point(&mut out, c);
            i += 1;
        }
    }
    out
}

impl<'g> Enc<'g> {
    fn val(&self, id: NodeId) -> Result<&'g Value, EncodeError> {
        self.g.try_get(id).ok_or(EncodeError::DanglingNode(id.0))
    }

    fn hinted(&self, id: NodeId, default: bool) -> bool {
        let shared = default && self.shared.get(id.index()).copied().unwrap_or(false);
        self.g.hint(id).map_or(default, |h| h.memoized() || shared)
    }

    fn write_memo(&mut self, id: NodeId, default: bool) {
        if !self.hinted(id, default) {
            return;
        }
        let idx = self.next_index;
        self.memo[id.index()] = idx;
        self.put(idx);
    }

    /// BINPUT/LONG_BINPUT of the next memo index.
    fn put(&mut self, idx: u32) {
        self.next_index = idx + 1;
        if idx <= 0xff {
            self.out.extend([b'q', idx as u8]);
        } else {
            self.out.push(b'r');
            self.out.extend(idx.to_le_bytes());
        }
    }

    /// BINUNICODE of the text whose code points are `b`'s bytes (UTF-8: one
    /// byte below 0x80, two from it), written straight into the output with
    /// runs of ASCII copied whole: a second buffer and a per-byte encoder were
    /// what made large bytes slower than Pyrolite's own loop.
    fn latin1_string(&mut self, b: &[u8]) {
        let high = b.iter().filter(|&&c| c >= 0x80).count();
        let len = b.len() + high;
        self.out.reserve(5 + len);
        self.out.push(b'X');
        self.out.extend((len as u32).to_le_bytes());
        if high == 0 {
            self.out.extend_from_slice(b);
            return;
        }
        let mut rest = b;
        while let Some(p) = rest.iter().position(|&c| c >= 0x80) {
            self.out.extend_from_slice(&rest[..p]);
            let c = rest[p];
            self.out.extend([0xC0 | (c >> 6), 0x80 | (c & 0x3F)]);
            rest = &rest[p + 1..];
        }
        self.out.extend_from_slice(rest);
    }

    fn string(&mut self, utf8: &[u8]) {
        self.out.push(b'X');
        self.out.extend((utf8.len() as u32).to_le_bytes());
        self.out.extend_from_slice(utf8);
    }

    fn long(&mut self, v: i64) -> bool {
        if (0..=0xff).contains(&v) {
            self.out.extend([b'K', v as u8]);
        } else if (0..=0xffff).contains(&v) {
            self.out.extend([b'M', v as u8, (v >> 8) as u8]);
        } else if i32::try_from(v).is_ok() {
            self.out.push(b'J');
            self.out.extend((v as i32).to_le_bytes());
        } else {
            let d = long_bytes_i64(v);
            self.out.extend([0x8a, d.len() as u8]);
            self.out.extend(d);
            return true;
        }
        false
    }

    fn save(&mut self, id: NodeId) -> Result<(), EncodeError> {
        // In a built graph a shared int is a shared java.lang.Long, which Pyrolite
        // never finds in its memo (it memoizes a fresh BigInteger each time).
        let fresh_long =
            matches!(self.g.try_get(id), Some(Value::Int(_))) && self.g.hint(id).is_none();
        if let Some(&idx) = self
            .memo
            .get(id.index())
            .filter(|&&v| v != u32::MAX && !fresh_long)
        {
            if idx <= 0xff {
                self.out.extend([b'h', idx as u8]);
            } else {
                self.out.push(b'j');
                self.out.extend(idx.to_le_bytes());
            }
            return Ok(());
        }
        let g = self.g;
        match self.val(id)? {
            Value::None => self.out.push(b'N'),
            Value::Bool(b) => self.out.push(if *b { 0x88 } else { 0x89 }),
            Value::Int(Int::Small(v)) => {
                if self.long(*v) {
                    self.write_memo(id, true);
                }
            }
            Value::Int(Int::Big(b)) => {
                let d = b.to_signed_bytes_le();
                if d.len() <= 0xff {
                    self.out.extend([0x8a, d.len() as u8]);
                } else {
                    self.out.push(0x8b);
                    self.out.extend((d.len() as i32).to_le_bytes());
                }
                self.out.extend(d);
                self.write_memo(id, true);
            }
            Value::Float(f) => {
                self.out.push(b'G');
                self.out.extend(f.to_be_bytes());
            }
            Value::Str(s) => {
                let b = java_utf8(s);
                self.string(&b);
                self.write_memo(id, true);
            }
            Value::Bytes(b) | Value::ByteArray(b) => {
                self.out.extend_from_slice(b"c__builtin__\nbytearray\n");
                self.latin1_string(b);
                // The text is a fresh Java String (memoized under its own
                // identity), except for the interned empty string.
                if !b.is_empty() || !self.empty_text_memoized {
                    self.empty_text_memoized |= b.is_empty();
                    self.put(self.next_index);
                }
                // "latin-1" is an interned literal: only its first use gets a BINPUT.
                self.string(b"latin-1");
                if !self.latin1_memoized {
                    self.latin1_memoized = true;
                    self.put(self.next_index);
                }
                self.out.extend([0x86, b'R']);
                self.write_memo(id, true);
            }
            Value::Tuple(items) => {
                self.tasks.push(Task::Memo(id, true));
                self.push_tuple(id, g.items(*items));
            }
            Value::List(items) => {
                self.out.push(b']');
                self.write_memo(id, true);
                self.out.push(b'(');
                self.tasks.push(Task::Byte(b'e'));
                self.tasks
                    .extend(g.items(*items).iter().rev().map(|&i| Task::Save(i)));
            }
            Value::Dict(kv) => {
                self.out.push(b'}');
                self.write_memo(id, true);
                self.out.push(b'(');
                self.tasks.push(Task::Byte(b'u'));
                for (k, v) in g.pairs(*kv).iter().rev() {
                    self.tasks.push(Task::Save(*v));
                    self.tasks.push(Task::Save(*k));
                }
            }
            Value::Set(items) | Value::FrozenSet(items) => {
                self.out.extend_from_slice(b"c__builtin__\nset\n](");
                self.tasks.push(Task::Memo(id, true));
                self.tasks
                    .extend([Task::Byte(b'R'), Task::Byte(0x85), Task::Byte(b'e')]);
                self.tasks
                    .extend(g.items(*items).iter().rev().map(|&i| Task::Save(i)));
            }
            Value::Global { module, name } => {
                let (m, n) = match (g.str_of(*module), g.str_of(*name)) {
                    (Some(m), Some(n)) => (m, n),
                    _ => {
                        return Err(EncodeError::Unencodable {
                            node: id.0,
                            what: "a global's module and name must be str".into(),
                        })
                    }
                };
                // GLOBAL ends each part at a newline: a part holding one
                // cannot be written (Pyrolite writes protocol 2 only).
                if m.as_bytes().contains(&b'\n') || n.as_bytes().contains(&b'\n') {
                    return Err(EncodeError::Unencodable {
                        node: id.0,
                        what: "a global whose module or name contains a newline".into(),
                    });
                }
                self.out.push(b'c');
                self.out.extend_from_slice(m.as_bytes());
                self.out.push(b'\n');
                self.out.extend_from_slice(n.as_bytes());
                self.out.push(b'\n');
                self.write_memo(id, false);
            }
            Value::Object(o) => match &o.construct {
                Construct::Reduce { callable, args }
                    if o.list_items.is_empty()
                        && o.dict_items.is_empty()
                        && o.states.is_empty()
                        && self.primitive_array(*callable, *args).is_some() =>
                {
                    let Some((code, items)) = self.primitive_array(*callable, *args) else {
                        unreachable!("checked by the guard")
                    };
                    // put_arrayOfPrimitives: the global, the typecode as a
                    // one-byte SHORT_BINSTRING, the items in a list that is
                    // never memoized, TUPLE2, REDUCE, then the array's memo.
                    self.out.extend_from_slice(b"carray\narray\nU\x01");
                    self.out.push(code);
                    self.out.extend_from_slice(b"](");
                    self.tasks.push(Task::Memo(id, true));
                    self.tasks
                        .extend([Task::Byte(b'R'), Task::Byte(0x86), Task::Byte(b'e')]);
                    self.tasks
                        .extend(items.iter().rev().map(|&i| Task::Save(i)));
                }
                Construct::Reduce { callable, args }
                    if o.list_items.is_empty()
                        && o.dict_items.is_empty()
                        && o.states.is_empty() =>
                {
                    self.tasks.push(Task::Memo(id, true));
                    self.tasks.push(Task::Byte(b'R'));
                    match self.val(*args)? {
                        // Custom picklers write their arguments inline, unmemoized.
                        Value::Tuple(items) if !self.hinted(*args, false) => {
                            self.push_tuple(*args, self.g.items(*items))
                        }
                        _ => self.tasks.push(Task::Save(*args)),
                    }
                    self.tasks.push(Task::Save(*callable));
                }
                _ => {
                    return Err(EncodeError::Unencodable {
                        node: id.0,
                        what: "Pyrolite only writes REDUCE objects without state or items".into(),
                    })
                }
            },
            other => {
                return Err(EncodeError::Unencodable {
                    node: id.0,
                    what: format!("Pyrolite cannot write {}", other.type_name()),
                })
            }
        }
        Ok(())
    }

    /// A Java primitive array as Pyrolite pickles it: `array.array(typecode,
    /// [items])` with a one-character typecode and an unshared, unmemoized
    /// list. Returns the typecode and the items.
    fn primitive_array(&self, callable: NodeId, args: NodeId) -> Option<(u8, &'g [NodeId])> {
        let (m, n) = self.g.global_name(callable)?;
        if m.as_bytes() != b"array" || n.as_bytes() != b"array" || self.hinted(args, false) {
            return None;
        }
        let Some(Value::Tuple(parts)) = self.g.try_get(args) else {
            return None;
        };
        let [code, list] = self.g.items(*parts)[..] else {
            return None;
        };
        // Decoded, SHORT_BINSTRING is a str (pickle's ASCII default); a
        // built graph may say bytes.
        let code = match self.g.try_get(code)? {
            Value::Bytes(b) if b.len() == 1 => b[0],
            Value::Str(t) if t.as_bytes().len() == 1 => t.as_bytes()[0],
            _ => return None,
        };
        let shared = self.shared.get(list.index()).copied().unwrap_or(true);
        match self.g.try_get(list)? {
            Value::List(items) if !shared && !self.hinted(list, false) => {
                Some((code, self.g.items(*items)))
            }
            _ => None,
        }
    }

    /// Object[] layout: `()`, TUPLE1–3 or MARK … TUPLE (MARK form also when the
    /// decoder saw it, e.g. Calendar's `pytz._UTC` call with no arguments).
    fn push_tuple(&mut self, id: NodeId, items: &[NodeId]) {
        let mark = self.g.hint(id).is_some_and(|h| h.mark_tuple()) || items.len() > 3;
        if items.is_empty() && !mark {
            self.tasks.push(Task::Close(b')'));
            return;
        }
        self.tasks.push(Task::Close(match (mark, items.len()) {
            (true, _) => b't',
            (false, 1) => 0x85,
            (false, 2) => 0x86,
            _ => 0x87,
        }));
        self.tasks
            .extend(items.iter().rev().map(|&i| Task::Save(i)));
        if mark {
            self.tasks.push(Task::Byte(b'('));
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use crate::pickle::{self, Profile};

    /// Found by fuzzing `pickle_decode`: a 110-byte pickle (not Pyrolite's)
    /// sharing nodes through DUP, with no memo entry. Written out at every
    /// reference it became a 1 MB pickle of more nodes than the decoder
    /// allows; as Pyrolite would, the shared lists and tuples are now memoized.
    #[test]
    fn nodes_shared_without_a_memo_are_memoized_not_repeated() {
        let hex = "553232ffffffffffffffff323232323232323286868686323232323232878787878700002e87323232ffffffffffffffff3232323232323232868686868632323232323286868686863232323232868686868632323232323232323232323287873232323232878787878787872e";
        let data: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        let d = pickle::decode(&Bytes::from(data)).unwrap();
        let out = pickle::encode(&d.graph, Profile::Pyrolite).unwrap();
        assert!(out.len() < 4096, "{} bytes", out.len());
        // It reads back (Pyrolite writes Java's view of the values: bytes as
        // bytearray, so the repr is not compared), and it is a fixpoint on its
        // own output.
        let again = pickle::decode(&Bytes::from(out.clone())).unwrap();
        assert_eq!(
            pickle::encode(&again.graph, Profile::Pyrolite).unwrap(),
            out
        );
    }
}
