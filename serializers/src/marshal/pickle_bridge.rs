//! Between marshal and the pickle value model: [`from_pickle`] writes a pickle
//! graph in the canonical flag form (see the [module docs](super)), and
//! [`to_pickle`] turns a decoded marshal value into a pickle graph, so both
//! formats share `repr` and the encoders.

use super::encode::{write_int, write_str};
use super::error::MarshalError;
use super::model::{IntCode, MNodeId, MValue, Marshalled, StrCode, FLAG_REF};
use crate::pickle::{Graph, NodeId, Value as PValue};

/// `marshal.dumps(value)` for a pickle-model value, in the canonical flag form
/// described in the [module docs](super). Refuses what marshal cannot hold (objects,
/// globals) the way `marshal.dumps` raises `ValueError`.
pub fn from_pickle(g: &Graph, root: NodeId) -> Result<Vec<u8>, MarshalError> {
    from_pickle_held(g, root, &[])
}

/// [`from_pickle`] where the nodes in `held` have another holder besides their
/// container (so CPython flags them), e.g. the loop variable of PySpark ≤ 4.1's
/// `BatchedSerializer._batched`, which still names a batch's last item when the
/// batch is written.
pub fn from_pickle_held(g: &Graph, root: NodeId, held: &[NodeId]) -> Result<Vec<u8>, MarshalError> {
    canonical(g, root, held, true, 0)
}

/// The canonical writer; `top_held` says whether the caller holds the root.
fn canonical(
    g: &Graph,
    root: NodeId,
    held: &[NodeId],
    top_held: bool,
    sets: usize,
) -> Result<Vec<u8>, MarshalError> {
    // Sets nest only through tuples and frozensets (elements must be hashable);
    // a deeper chain is a cycle no Python value has.
    if sets > 64 {
        return Err(MarshalError::Unmarshallable("set nested in itself"));
    }
    // Which nodes occur more than once (they are flagged on first write).
    let mut seen = vec![0u8; g.len()];
    let mut stack = vec![root];
    while let Some(id) = stack.pop() {
        let Some(c) = seen.get_mut(id.index()) else {
            return Err(MarshalError::Unmarshallable("dangling node"));
        };
        *c = c.saturating_add(1);
        if *c == 1 {
            stack.extend(g.children(id));
        }
    }
    for h in held {
        if let Some(c) = seen.get_mut(h.index()) {
            *c = c.saturating_add(1);
        }
    }
    let mut w = Canon {
        top_held,
        sets,
        singletons: std::collections::HashMap::new(),
        g,
        seen,
        index: vec![u32::MAX; g.len()],
        next: 0,
        out: Vec::new(),
    };
    w.write(root)?;
    Ok(w.out)
}

/// A value CPython keeps one shared object for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Singleton {
    Int(i64),
    Str(Vec<u8>),
    Bytes(Vec<u8>),
    EmptyTuple,
}

fn singleton_key(v: &PValue) -> Option<Singleton> {
    match v {
        PValue::Int(n) => n
            .as_i64()
            .filter(|x| (-5..=256).contains(x))
            .map(Singleton::Int),
        PValue::Str(s) if s.as_bytes().is_empty() || s.single_char().is_some_and(|c| c < 256) => {
            Some(Singleton::Str(s.as_bytes().to_vec()))
        }
        PValue::Bytes(b) if b.len() <= 1 => Some(Singleton::Bytes(b.to_vec())),
        PValue::Tuple(t) if t.is_empty() => Some(Singleton::EmptyTuple),
        _ => None,
    }
}

struct Canon<'g> {
    top_held: bool,
    sets: usize,
    singletons: std::collections::HashMap<Singleton, u32>,
    g: &'g Graph,
    seen: Vec<u8>,
    index: Vec<u32>,
    next: u32,
    out: Vec<u8>,
}

impl Canon<'_> {
    fn write(&mut self, root: NodeId) -> Result<(), MarshalError> {
        enum Task {
            Node(NodeId, bool),
            Byte(u8),
        }
        let mut tasks = vec![Task::Node(root, self.top_held)];
        let mut depth_guard = 0usize;
        while let Some(t) = tasks.pop() {
            let (id, top) = match t {
                Task::Byte(b) => {
                    self.out.push(b);
                    continue;
                }
                Task::Node(id, top) => (id, top),
            };
            depth_guard += 1;
            if depth_guard > 1 << 28 {
                return Err(MarshalError::Unmarshallable("graph too large"));
            }
            let v = self.g.get(id);
            let i = id.index();
            // Cached singletons are one object however many nodes spell them.
            let key = singleton_key(v);
            let known = key
                .as_ref()
                .and_then(|k| self.singletons.get(k).copied())
                .or((self.index[i] != u32::MAX).then(|| self.index[i]));
            if let Some(idx) = known {
                self.out.push(b'r');
                self.out.extend_from_slice(&idx.to_le_bytes());
                continue;
            }
            let singleton = key.is_some();
            let never = matches!(v, PValue::None | PValue::Bool(_));
            let flagged = !never && (top || singleton || self.seen[i] > 1);
            if flagged {
                self.index[i] = self.next;
                if let Some(k) = key {
                    self.singletons.insert(k, self.next);
                }
                self.next += 1;
            }
            let flag = if flagged { FLAG_REF } else { 0 };
            match v {
                PValue::None => self.out.push(b'N'),
                PValue::Bool(b) => self.out.push(if *b { b'T' } else { b'F' }),
                PValue::Int(n) => {
                    let code = if n.as_i64().is_some_and(|x| i32::try_from(x).is_ok()) {
                        IntCode::I32
                    } else {
                        IntCode::Long
                    };
                    write_int(&mut self.out, n, code, flag);
                }
                PValue::Float(f) => {
                    self.out.push(b'g' | flag);
                    self.out.extend_from_slice(&f.to_le_bytes());
                }
                PValue::Str(s) => {
                    let ascii = s.as_bytes().is_ascii();
                    // '' is interned. One-character latin-1 strings made at run time
                    // (decoded, sliced) are the cached singletons, which CPython 3.11
                    // does not mark interned; the same letter as a code constant is a
                    // different, interned object, but data never holds those.
                    let interned = s.as_bytes().is_empty();
                    let code = match (ascii, s.as_bytes().len() < 256, interned) {
                        (true, true, false) => StrCode::ShortAscii,
                        (true, true, true) => StrCode::ShortAsciiInterned,
                        (true, false, _) => StrCode::Ascii,
                        (false, _, false) => StrCode::Unicode,
                        (false, _, true) => StrCode::Interned,
                    };
                    write_str(&mut self.out, s, code, flag);
                }
                PValue::Bytes(b) | PValue::ByteArray(b) => {
                    self.out.push(b's' | flag);
                    self.out.extend_from_slice(&(b.len() as u32).to_le_bytes());
                    self.out.extend_from_slice(b);
                }
                PValue::Tuple(items) => {
                    let items = self.g.items(*items);
                    if items.len() < 256 {
                        self.out.push(b')' | flag);
                        self.out.push(items.len() as u8);
                    } else {
                        self.out.push(b'(' | flag);
                        self.out
                            .extend_from_slice(&(items.len() as u32).to_le_bytes());
                    }
                    tasks.extend(items.iter().rev().map(|&c| Task::Node(c, false)));
                }
                PValue::List(items) => {
                    let items = self.g.items(*items);
                    self.out.push(b'[' | flag);
                    self.out
                        .extend_from_slice(&(items.len() as u32).to_le_bytes());
                    tasks.extend(items.iter().rev().map(|&c| Task::Node(c, false)));
                }
                PValue::Set(items) | PValue::FrozenSet(items) => {
                    let c = if matches!(v, PValue::Set(_)) {
                        b'<'
                    } else {
                        b'>'
                    };
                    self.out.push(c | flag);
                    self.out
                        .extend_from_slice(&(items.len() as u32).to_le_bytes());
                    // CPython ≥ 3.11 writes set elements sorted by each element's
                    // own `marshal.dumps`, made while only the set holds it.
                    let mut keyed = self
                        .g
                        .items(*items)
                        .iter()
                        .map(|&c| canonical(self.g, c, &[], false, self.sets + 1).map(|k| (k, c)))
                        .collect::<Result<Vec<_>, _>>()?;
                    keyed.sort_by(|a, b| a.0.cmp(&b.0));
                    // While written, each element is also held by its sort pair.
                    tasks.extend(keyed.iter().rev().map(|&(_, c)| Task::Node(c, true)));
                }
                PValue::Dict(pairs) => {
                    self.out.push(b'{' | flag);
                    tasks.push(Task::Byte(b'0'));
                    for &(k, val) in self.g.pairs(*pairs).iter().rev() {
                        tasks.push(Task::Node(val, false));
                        tasks.push(Task::Node(k, false));
                    }
                }
                other => return Err(MarshalError::Unmarshallable(other.type_name())),
            }
        }
        Ok(())
    }
}

/// Converts a decoded marshal value to the pickle value model (bytes stay bytes;
/// Ellipsis, StopIteration and complex numbers become the globals and reduces
/// `pickle` would write for them), so both formats share `repr` and encoders.
pub fn to_pickle(m: &Marshalled) -> Result<Graph, MarshalError> {
    let root = m
        .root
        .ok_or(MarshalError::Unmarshallable("value without a root"))?;
    to_pickle_node(m, root)
}

/// [`to_pickle`] with `root` as the graph's root.
pub fn to_pickle_node(m: &Marshalled, root: MNodeId) -> Result<Graph, MarshalError> {
    let mut g = Graph::new();
    let mut map: Vec<Option<NodeId>> = vec![None; m.nodes.len()];
    // Two passes: allocate every node, then fill containers (handles cycles through refs).
    for (i, n) in m.nodes.iter().enumerate() {
        let v = match &n.value {
            MValue::Ref(_) => continue,
            MValue::None => PValue::None,
            MValue::True => PValue::Bool(true),
            MValue::False => PValue::Bool(false),
            MValue::Ellipsis | MValue::StopIteration => {
                let name = if n.value == MValue::Ellipsis {
                    "Ellipsis"
                } else {
                    "StopIteration"
                };
                map[i] = Some(g.global("builtins", name));
                continue;
            }
            MValue::Int(v, _) => PValue::Int(v.clone()),
            MValue::Float(f) => PValue::Float(*f),
            MValue::FloatText(t) => PValue::Float(
                std::str::from_utf8(t)
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .ok_or(MarshalError::Bad {
                        offset: 0,
                        why: "unparsable float text",
                    })?,
            ),
            MValue::Complex(..) | MValue::ComplexText(..) => {
                return Err(MarshalError::Unmarshallable("complex"))
            }
            MValue::Str(s, _) => PValue::Str(s.clone()),
            MValue::Bytes(b) => PValue::Bytes(b.clone()),
            MValue::Tuple(..)
            | MValue::List(_)
            | MValue::Dict(_)
            | MValue::Set(_)
            | MValue::FrozenSet(_) => PValue::None,
        };
        map[i] = Some(g.add(v));
    }
    let lookup = |id: MNodeId| -> Result<NodeId, MarshalError> {
        m.resolve(id)
            .and_then(|r| map.get(r.0 as usize).copied().flatten())
            .ok_or(MarshalError::Unmarshallable("dangling reference"))
    };
    for (i, n) in m.nodes.iter().enumerate() {
        let ids = |items: &Vec<MNodeId>| {
            items
                .iter()
                .map(|&c| lookup(c))
                .collect::<Result<Vec<_>, _>>()
        };
        let v = match &n.value {
            MValue::Tuple(items, _) => PValue::Tuple(g.new_items(&ids(items)?)),
            MValue::List(items) => PValue::List(g.new_items(&ids(items)?)),
            MValue::Set(items) => PValue::Set(g.new_items(&ids(items)?)),
            MValue::FrozenSet(items) => PValue::FrozenSet(g.new_items(&ids(items)?)),
            MValue::Dict(pairs) => PValue::Dict(
                g.new_pairs(
                    &pairs
                        .iter()
                        .map(|&(k, v)| Ok((lookup(k)?, lookup(v)?)))
                        .collect::<Result<Vec<_>, MarshalError>>()?,
                ),
            ),
            _ => continue,
        };
        if let Some(id) = map[i] {
            *g.get_mut(id) = v;
        }
    }
    g.set_root(lookup(root)?);
    Ok(g)
}
