//! Generators of Python value graphs and of valid pickles, for property tests and
//! fuzzing of downstream codecs (features `proptest` and `arbitrary`).
//!
//! The graphs are what CPython can pickle: shared nodes (the same object in
//! several places), cycles through lists and dicts, hashable distinct dict keys
//! and set elements, and the sizes where encodings change: every int boundary
//! (BININT1/2, BININT, LONG1, LONG4), string and bytes lengths around 255 and
//! 64 KiB (frame bypass), containers of 0, 1, 2, 999, 1000, 1001 and 2000 items.
//!
//! [`ObjectGraphSpec`] adds real objects of a fixed set of classes (datetime
//! types, Decimal, PySpark's Row, OrderedDict, deque) on top of such a graph, as
//! globals, REDUCE, SETITEMS/APPENDS on objects and BUILD, shared and in cycles.

use num_bigint::BigInt;

use super::pystr::PyStr;
use super::value::{Graph, Int, NodeId, Value};

/// Tuning for [`GraphSpec`] expansion.
#[derive(Debug, Clone, Copy)]
pub struct GenConfig {
    /// Allow strings and bytes of 64 KiB and more.
    pub large_payloads: bool,
    /// Allow containers of 999–2000 items.
    pub large_containers: bool,
    /// Allow lone surrogates in strings.
    pub surrogates: bool,
}

impl Default for GenConfig {
    fn default() -> GenConfig {
        GenConfig {
            large_payloads: true,
            large_containers: true,
            surrogates: true,
        }
    }
}

/// Int values where CPython's encoding changes.
pub fn int_boundaries() -> Vec<Int> {
    let mut v: Vec<Int> = [
        0i64,
        1,
        255,
        256,
        65535,
        65536,
        -1,
        -255,
        -256,
        -257,
        0x7fff_ffff,
        0x8000_0000,
        -0x8000_0000,
        -0x8000_0001,
    ]
    .into_iter()
    .chain([
        i64::MAX,
        i64::MIN,
        i64::MAX - 1,
        i64::MIN + 1,
        1 << 40,
        -(1 << 40),
    ])
    .map(Int::Small)
    .collect();
    let two = BigInt::from(2);
    for (e, d) in [
        (63u32, 0i64),
        (64, 0),
        (64, -1),
        (2039, 0),
        (2039, -1),
        (2040, 0),
        (2040, 1),
        (3000, 7),
    ] {
        let p = two.pow(e) + d;
        v.push(Int::from_big(p.clone()));
        v.push(Int::from_big(-p));
    }
    v
}

/// A recipe for one node; children refer to earlier nodes (indices are taken
/// modulo the number of nodes so far), so any recipe list is a valid graph.
#[derive(Debug, Clone)]
pub enum NodeSpec {
    /// None.
    None,
    /// A bool.
    Bool(bool),
    /// An int.
    Int(Int),
    /// A float from its bits.
    Float(u64),
    /// A string from code points (mapped into range).
    Str(Vec<u32>),
    /// A string of `n` repetitions of one character (for size boundaries).
    LongStr(char, usize),
    /// Bytes.
    Bytes(Vec<u8>),
    /// A bytearray.
    ByteArray(Vec<u8>),
    /// A tuple of earlier nodes.
    Tuple(Vec<usize>),
    /// A list of earlier nodes.
    List(Vec<usize>),
    /// A dict with distinct string keys and earlier nodes as values.
    Dict(Vec<usize>),
    /// A set of the distinct ints `0..n` shuffled by a seed.
    Set(usize, u64),
    /// A frozenset likewise.
    FrozenSet(usize, u64),
    /// A list of `n` small ints (batch boundaries).
    BigList(usize),
    /// A dict of `n` int keys.
    BigDict(usize),
}

/// A whole graph recipe: nodes, the root, and back edges `(list, item)` that
/// append a node to a list after the fact (cycles).
#[derive(Debug, Clone)]
pub struct GraphSpec {
    /// Node recipes, in creation order.
    pub nodes: Vec<NodeSpec>,
    /// Appends made after all nodes exist: (list index, item index), modulo.
    pub back_edges: Vec<(usize, usize)>,
}

fn map_cp(c: u32, surrogates: bool) -> u32 {
    let c = c % 0x110000;
    if !surrogates && (0xD800..0xE000).contains(&c) {
        c - 0x800
    } else {
        c
    }
}

impl GraphSpec {
    /// Builds the graph; the root is the last node.
    pub fn build(&self, cfg: &GenConfig) -> Graph {
        let mut g = Graph::new();
        let mut ids: Vec<NodeId> = Vec::new();
        let pick = |ids: &[NodeId], i: usize| ids[i % ids.len()];
        for spec in &self.nodes {
            let v = match spec {
                NodeSpec::None => Value::None,
                NodeSpec::Bool(b) => Value::Bool(*b),
                NodeSpec::Int(i) => Value::Int(i.clone()),
                NodeSpec::Float(bits) => Value::Float(f64::from_bits(*bits)),
                NodeSpec::Str(cps) => Value::Str(PyStr::from_code_points(
                    cps.iter().map(|&c| map_cp(c, cfg.surrogates)),
                )),
                NodeSpec::LongStr(c, n) => {
                    let n = if cfg.large_payloads { *n } else { n % 300 };
                    Value::Str(PyStr::from(c.to_string().repeat(n)))
                }
                NodeSpec::Bytes(b) => Value::Bytes(b.clone().into()),
                NodeSpec::ByteArray(b) => Value::ByteArray(b.clone().into()),
                NodeSpec::Tuple(c) | NodeSpec::List(c) | NodeSpec::Dict(c) if ids.is_empty() => {
                    let _ = c;
                    Value::None
                }
                NodeSpec::Tuple(c) => {
                    let items: Vec<NodeId> = c.iter().map(|&i| pick(&ids, i)).collect();
                    Value::Tuple(g.new_items(&items))
                }
                NodeSpec::List(c) => {
                    let items: Vec<NodeId> = c.iter().map(|&i| pick(&ids, i)).collect();
                    Value::List(g.new_items(&items))
                }
                NodeSpec::Dict(c) => {
                    let mut kv = Vec::new();
                    for (k, &i) in c.iter().enumerate() {
                        let key = g.add(Value::Str(PyStr::from(format!("k{k}"))));
                        kv.push((key, pick(&ids, i)));
                    }
                    Value::Dict(g.new_pairs(&kv))
                }
                NodeSpec::Set(n, seed) | NodeSpec::FrozenSet(n, seed) => {
                    let n = if cfg.large_containers { *n } else { n % 20 };
                    let mut items: Vec<NodeId> = (0..n as i64)
                        .map(|i| g.add(Value::Int(Int::Small(i * 7 - 3))))
                        .collect();
                    // A deterministic shuffle: the oracle reports Python's order anyway.
                    let mut s = *seed | 1;
                    for i in (1..items.len()).rev() {
                        s ^= s << 13;
                        s ^= s >> 7;
                        s ^= s << 17;
                        items.swap(i, (s % (i as u64 + 1)) as usize);
                    }
                    let items = g.new_items(&items);
                    if matches!(spec, NodeSpec::Set(..)) {
                        Value::Set(items)
                    } else {
                        Value::FrozenSet(items)
                    }
                }
                NodeSpec::BigList(n) => {
                    let n = if cfg.large_containers { *n } else { n % 20 };
                    let items: Vec<NodeId> = (0..n)
                        .map(|i| g.add(Value::Int(Int::Small((i % 300) as i64))))
                        .collect();
                    Value::List(g.new_items(&items))
                }
                NodeSpec::BigDict(n) => {
                    let n = if cfg.large_containers { *n } else { n % 20 };
                    let kv: Vec<(NodeId, NodeId)> = (0..n)
                        .map(|i| {
                            (
                                g.add(Value::Int(Int::Small(i as i64 * 3))),
                                g.add(Value::None),
                            )
                        })
                        .collect();
                    Value::Dict(g.new_pairs(&kv))
                }
            };
            ids.push(g.add(v));
        }
        for &(l, item) in &self.back_edges {
            let lists: Vec<NodeId> = ids
                .iter()
                .copied()
                .filter(|&i| matches!(g.get(i), Value::List(_)))
                .collect();
            if lists.is_empty() {
                break;
            }
            let target = pick(&ids, item);
            g.extend_items(pick(&lists, l), &[target])
                .expect("a generated graph is far below the arena's bound");
        }
        // Every recipe node must end up in the pickle: the root is the list of
        // the nodes nothing else refers to (or that node alone).
        let mut referenced = vec![false; g.len()];
        for id in g.ids() {
            for c in g.children(id) {
                referenced[c.index()] = true;
            }
        }
        let free: Vec<NodeId> = ids
            .iter()
            .copied()
            .filter(|i| !referenced[i.index()])
            .collect();
        match free.as_slice() {
            [] => {
                if let Some(&last) = ids.last() {
                    g.set_root(last)
                }
            }
            [one] => g.set_root(*one),
            _ => {
                let root = g.add_list(&free);
                g.set_root(root);
            }
        }
        g
    }
}

/// Row field names: identifiers, so they are interned ([`Graph::intern`]).
pub const ROW_FIELD_NAMES: [&str; 6] = ["a", "b", "id", "name", "value", "x"];

/// A recipe for one object of a fixed set of real classes, spelled as CPython's
/// pickler takes them apart: `datetime` types and `decimal.Decimal` (REDUCE of
/// their state), `pyspark.sql.Row` (`_create_row(fields, values)`),
/// `collections.OrderedDict` (REDUCE, SETITEMS on the object, BUILD of its
/// attributes) and `collections.deque` (REDUCE, APPENDS on the object). Operands
/// that are other values refer to earlier nodes of an [`ObjectGraphSpec`]
/// (indices taken modulo).
#[derive(Debug, Clone)]
pub enum ObjectSpec {
    /// `datetime.datetime(year, month, day, hour, minute, second, microsecond,
    /// tzinfo)`; the zone is an earlier [`ObjectSpec::TimeZone`], when there is one.
    DateTime {
        /// 1..=9999.
        year: u16,
        /// month, day, hour, minute, second (taken into range).
        fields: [u8; 5],
        /// 0..1_000_000 (taken into range).
        micro: u32,
        /// Which earlier time zone, if any.
        tz: Option<usize>,
    },
    /// `datetime.date(year, month, day)`.
    Date(u16, u8, u8),
    /// `datetime.time(hour, minute, second, microsecond)`.
    Time([u8; 3], u32),
    /// `datetime.timedelta(days, seconds, microseconds)`, normalized.
    TimeDelta(i32, u32, u32),
    /// `datetime.timezone(timedelta(minutes=offset), name)`; offset taken into
    /// ±23:59 and never 0 without a name (that is the `utc` singleton).
    TimeZone(i16, Option<String>),
    /// `decimal.Decimal`: finite `(negative, coefficient digits, exponent)`, or a
    /// special value.
    Decimal(DecimalSpec),
    /// `Row(**dict(zip(fields, values)))`: the first `n` names of
    /// [`ROW_FIELD_NAMES`], or the field list of an earlier row (schema rows).
    Row {
        /// Own fields (count), or `None` to share an earlier row's list.
        fields: Option<usize>,
        /// Values: earlier nodes.
        values: Vec<usize>,
    },
    /// `OrderedDict` with string keys `k0…` and earlier nodes as values, and
    /// an attribute set on it (BUILD of `{'attr': value}`) when `attr` is given.
    OrderedDict(Vec<usize>, Option<usize>),
    /// `deque(items)`: earlier nodes.
    Deque(Vec<usize>),
}

/// A `decimal.Decimal` value.
#[derive(Debug, Clone)]
pub enum DecimalSpec {
    /// Sign, coefficient digits (leading zeros dropped) and exponent.
    Finite(bool, Vec<u8>, i16),
    /// `Infinity` / `-Infinity`.
    Infinity(bool),
    /// `NaN`, `sNaN` (signalling) with sign.
    NaN {
        /// Signalling.
        signalling: bool,
        /// Sign.
        negative: bool,
    },
}

impl DecimalSpec {
    /// `str(Decimal(...))`: what `Decimal.__reduce__` pickles, so the text must be
    /// in the canonical form (the General Decimal Arithmetic to-scientific-string).
    pub fn text(&self) -> String {
        let (negative, body) = match self {
            DecimalSpec::Infinity(n) => (*n, "Infinity".to_string()),
            DecimalSpec::NaN {
                signalling,
                negative,
            } => (
                *negative,
                if *signalling { "sNaN" } else { "NaN" }.to_string(),
            ),
            DecimalSpec::Finite(n, digits, exp) => {
                let mut c: String = digits
                    .iter()
                    .map(|d| char::from(b'0' + d % 10))
                    .skip_while(|&ch| ch == '0')
                    .collect();
                if c.is_empty() {
                    c.push('0');
                }
                let exp = i64::from(*exp);
                let len = c.len() as i64;
                let adjusted = exp + len - 1;
                let body = if exp <= 0 && adjusted >= -6 {
                    let point = len + exp;
                    if exp == 0 {
                        c
                    } else if point > 0 {
                        format!("{}.{}", &c[..point as usize], &c[point as usize..])
                    } else {
                        format!("0.{}{c}", "0".repeat((-point) as usize))
                    }
                } else {
                    let mut t = c[..1].to_string();
                    if len > 1 {
                        t.push('.');
                        t.push_str(&c[1..]);
                    }
                    let sign = if adjusted >= 0 { "+" } else { "-" };
                    format!("{t}E{sign}{}", adjusted.abs())
                };
                (*n, body)
            }
        };
        if negative {
            format!("-{body}")
        } else {
            body
        }
    }
}

/// A graph of builtin values ([`GraphSpec`]) and real objects built on top of
/// them: objects refer to the builtin nodes and to earlier objects, and
/// `back_edges` append objects to the builtin lists afterwards (cycles through
/// objects' items and states; an edge that would close a cycle through an
/// object's own constructor arguments is left out, as CPython's bytes for that
/// depend on what a second `__reduce__` call returns, which no graph records).
#[derive(Debug, Clone)]
pub struct ObjectGraphSpec {
    /// The builtin values.
    pub base: GraphSpec,
    /// The objects, in creation order.
    pub objects: Vec<ObjectSpec>,
    /// (list among the builtin lists, object) appends, modulo.
    pub back_edges: Vec<(usize, usize)>,
}

/// `module.name` the way CPython's pickler meets a C type: an interned module
/// name and a fresh qualified name (see [`Graph::global`]).
fn c_global(g: &mut Graph, module: &str, name: &str) -> NodeId {
    let module = g.intern(module);
    let name = g.add(Value::Str(PyStr::from(name)));
    g.add(Value::Global { module, name })
}

fn c_call(g: &mut Graph, module: &str, name: &str, args: Vec<NodeId>) -> NodeId {
    let callable = c_global(g, module, name);
    g.reduce(callable, args)
}

fn timedelta(g: &mut Graph, days: i64, seconds: i64, micros: i64) -> NodeId {
    let args = [days, seconds, micros]
        .iter()
        .map(|&v| g.add(Value::Int(Int::Small(v))))
        .collect();
    c_call(g, "datetime", "timedelta", args)
}

/// Whether an object's REDUCE/NEWOBJ arguments lead back to the object.
fn args_reach(g: &Graph, obj: NodeId) -> bool {
    use super::value::Construct;
    let Value::Object(o) = g.get(obj) else {
        return false;
    };
    let mut todo = match &o.construct {
        Construct::Reduce { args, .. } | Construct::NewObj { args, .. } => vec![*args],
        Construct::NewObjEx { args, kwargs, .. } => vec![*args, *kwargs],
        Construct::Obj { args, .. } | Construct::Inst { args, .. } => args.clone(),
    };
    let mut seen = vec![false; g.len()];
    while let Some(id) = todo.pop() {
        if id == obj {
            return true;
        }
        if !std::mem::replace(&mut seen[id.index()], true) {
            todo.extend(g.children(id));
        }
    }
    false
}

impl ObjectGraphSpec {
    /// Builds the graph; the root is the list of the builtin graph's root and
    /// every object nothing else refers to.
    pub fn build(&self, cfg: &GenConfig) -> Graph {
        use super::value::{Construct, Object, State};
        let mut g = self.base.build(cfg);
        let base_root = g.root().expect("a built GraphSpec has a root");
        let lists: Vec<NodeId> = g
            .ids()
            .filter(|&i| matches!(g.get(i), Value::List(_)))
            .collect();
        let mut pool: Vec<NodeId> = g.ids().filter(|&i| i != base_root).collect();
        pool.push(base_root);
        let mut zones: Vec<NodeId> = Vec::new();
        let mut row_fields: Vec<NodeId> = Vec::new();
        let mut objects = Vec::new();
        for spec in &self.objects {
            let pick = |pool: &[NodeId], i: usize| pool[i % pool.len()];
            let id = match spec {
                ObjectSpec::DateTime {
                    year,
                    fields,
                    micro,
                    tz,
                } => {
                    let y = year % 9999 + 1;
                    let [mo, d, h, mi, s] = *fields;
                    let us = micro % 1_000_000;
                    let mut state = y.to_be_bytes().to_vec();
                    state.extend([mo % 12 + 1, d % 28 + 1, h % 24, mi % 60, s % 60]);
                    state.extend(&us.to_be_bytes()[1..]);
                    let mut args = vec![g.add(Value::Bytes(state.into()))];
                    if let (Some(t), false) = (tz, zones.is_empty()) {
                        args.push(zones[t % zones.len()]);
                    }
                    c_call(&mut g, "datetime", "datetime", args)
                }
                ObjectSpec::Date(y, m, d) => {
                    let mut state = (y % 9999 + 1).to_be_bytes().to_vec();
                    state.extend([m % 12 + 1, d % 28 + 1]);
                    let st = g.add(Value::Bytes(state.into()));
                    c_call(&mut g, "datetime", "date", vec![st])
                }
                ObjectSpec::Time([h, m, s], us) => {
                    let mut state = vec![h % 24, m % 60, s % 60];
                    state.extend(&(us % 1_000_000).to_be_bytes()[1..]);
                    let st = g.add(Value::Bytes(state.into()));
                    c_call(&mut g, "datetime", "time", vec![st])
                }
                ObjectSpec::TimeDelta(d, s, us) => timedelta(
                    &mut g,
                    i64::from(*d % 999_999_999),
                    i64::from(s % 86_400),
                    i64::from(us % 1_000_000),
                ),
                ObjectSpec::TimeZone(offset, name) => {
                    let mut minutes = i64::from(*offset) % (24 * 60);
                    if minutes == 0 && name.is_none() {
                        minutes = 60;
                    }
                    let secs = minutes * 60;
                    let td = timedelta(&mut g, secs.div_euclid(86_400), secs.rem_euclid(86_400), 0);
                    let mut args = vec![td];
                    if let Some(n) = name {
                        args.push(g.add(Value::Str(PyStr::from(n.as_str()))));
                    }
                    let z = c_call(&mut g, "datetime", "timezone", args);
                    zones.push(z);
                    z
                }
                ObjectSpec::Decimal(d) => {
                    let text = g.add(Value::Str(PyStr::from(d.text())));
                    c_call(&mut g, "decimal", "Decimal", vec![text])
                }
                ObjectSpec::Row { fields, values } => {
                    let list = match fields {
                        None if !row_fields.is_empty() => {
                            row_fields[values.len() % row_fields.len()]
                        }
                        _ => {
                            let n = fields.unwrap_or(values.len()) % (ROW_FIELD_NAMES.len() + 1);
                            let names: Vec<NodeId> =
                                ROW_FIELD_NAMES[..n].iter().map(|f| g.intern(f)).collect();
                            let list = g.add_list(&names);
                            row_fields.push(list);
                            list
                        }
                    };
                    let n = match g.get(list) {
                        Value::List(v) => v.len(),
                        _ => 0,
                    };
                    let vals: Vec<NodeId> = (0..n)
                        .map(|i| match values.get(i) {
                            Some(&v) => pick(&pool, v),
                            None => g.add(Value::None),
                        })
                        .collect();
                    let vals = g.add_tuple(&vals);
                    let callable = g.global("pyspark.sql.types", "_create_row");
                    g.reduce(callable, vec![list, vals])
                }
                ObjectSpec::OrderedDict(values, attr) => {
                    let callable = c_global(&mut g, "collections", "OrderedDict");
                    let args = g.add_tuple(&[]);
                    let mut o = Object::new(Construct::Reduce { callable, args });
                    for (k, &v) in values.iter().enumerate() {
                        let key = g.add(Value::Str(PyStr::from(format!("k{k}"))));
                        o.dict_items.push((key, pick(&pool, v)));
                    }
                    if let Some(a) = attr {
                        let key = g.intern("attr");
                        let state = g.add_dict(&[(key, pick(&pool, *a))]);
                        o.states.push(State::Build(state));
                    }
                    g.add(Value::Object(Box::new(o)))
                }
                ObjectSpec::Deque(items) => {
                    let callable = c_global(&mut g, "collections", "deque");
                    let args = g.add_tuple(&[]);
                    let mut o = Object::new(Construct::Reduce { callable, args });
                    o.list_items = items.iter().map(|&i| pick(&pool, i)).collect();
                    g.add(Value::Object(Box::new(o)))
                }
            };
            pool.push(id);
            objects.push(id);
        }
        if !lists.is_empty() && !objects.is_empty() {
            for &(l, o) in &self.back_edges {
                let target = objects[o % objects.len()];
                let list = lists[l % lists.len()];
                let before = g.seq_items(list).map(<[NodeId]>::to_vec);
                g.extend_items(list, &[target])
                    .expect("a generated graph is far below the arena's bound");
                // No cycle through an object's own constructor arguments:
                // CPython calls __reduce__ again when it meets the object there,
                // and a graph cannot say what that second call returned.
                if objects.iter().any(|&obj| args_reach(&g, obj)) {
                    if let Some(before) = &before {
                        g.replace_items(list, before)
                            .expect("a generated graph is far below the arena's bound");
                    }
                }
            }
        }
        let mut referenced = vec![false; g.len()];
        for id in g.ids() {
            for c in g.children(id) {
                referenced[c.index()] = true;
            }
        }
        let mut top = vec![base_root];
        top.extend(objects.iter().filter(|o| !referenced[o.index()]));
        let root = g.add_list(&top);
        g.set_root(root);
        g
    }
}

#[cfg(feature = "proptest")]
mod strategies {
    use super::*;
    use proptest::prelude::*;

    fn int() -> impl Strategy<Value = Int> {
        let bounds = int_boundaries();
        prop_oneof![
            3 => any::<i64>().prop_map(Int::Small),
            2 => (-300i64..70_000).prop_map(Int::Small),
            2 => prop::sample::select(bounds),
            1 => prop::collection::vec(any::<u8>(), 1..300).prop_map(|b| Int::from_big(BigInt::from_signed_bytes_le(&b))),
        ]
    }

    fn code_point() -> impl Strategy<Value = u32> {
        prop_oneof![
            4 => 0x20u32..0x7f,
            2 => 0u32..0x100,
            1 => 0x100u32..0x3000,
            1 => 0xD800u32..0xE000,
            1 => 0x10000u32..0x110000,
        ]
    }

    fn node() -> impl Strategy<Value = NodeSpec> {
        let child = || prop::collection::vec(any::<usize>(), 0..6);
        prop_oneof![
            1 => Just(NodeSpec::None),
            1 => any::<bool>().prop_map(NodeSpec::Bool),
            4 => int().prop_map(NodeSpec::Int),
            2 => prop_oneof![any::<u64>(), prop::sample::select(vec![0u64, 1 << 63, 0x7ff8 << 48, 0x7ff0 << 48, 0x3ff0 << 48])]
                .prop_map(NodeSpec::Float),
            4 => prop::collection::vec(code_point(), 0..4).prop_map(NodeSpec::Str),
            1 => prop::collection::vec(code_point(), 0..300).prop_map(NodeSpec::Str),
            1 => (prop::sample::select(vec!['x', 'é', '€', '😀']),
                  prop::sample::select(vec![0usize, 1, 255, 256, 65535, 65536, 65537, 16384, 21845, 70000]))
                .prop_map(|(c, n)| NodeSpec::LongStr(c, n / c.len_utf8())),
            2 => prop::collection::vec(any::<u8>(), 0..3).prop_map(NodeSpec::Bytes),
            1 => prop::collection::vec(any::<u8>(), 0..300).prop_map(NodeSpec::Bytes),
            1 => prop::collection::vec(any::<u8>(), 0..4).prop_map(NodeSpec::ByteArray),
            4 => child().prop_map(NodeSpec::Tuple),
            3 => child().prop_map(NodeSpec::List),
            2 => child().prop_map(NodeSpec::Dict),
            1 => (0usize..6, any::<u64>()).prop_map(|(n, s)| NodeSpec::Set(n, s)),
            1 => (0usize..6, any::<u64>()).prop_map(|(n, s)| NodeSpec::FrozenSet(n, s)),
            1 => prop::sample::select(vec![0usize, 1, 2, 999, 1000, 1001, 2000, 2001, 30_000])
                .prop_flat_map(|n| prop_oneof![
                    Just(NodeSpec::BigList(n)),
                    Just(NodeSpec::BigDict(n)),
                    any::<u64>().prop_map(move |s| NodeSpec::Set(n, s)),
                    any::<u64>().prop_map(move |s| NodeSpec::FrozenSet(n, s)),
                ]),
        ]
    }

    /// Strategy for [`GraphSpec`]s of up to `max_nodes` nodes.
    pub fn graph_spec(max_nodes: usize) -> impl Strategy<Value = GraphSpec> {
        (
            prop::collection::vec(node(), 1..max_nodes.max(2)),
            prop::collection::vec((any::<usize>(), any::<usize>()), 0..3),
        )
            .prop_map(|(nodes, back_edges)| GraphSpec { nodes, back_edges })
    }

    fn decimal() -> impl Strategy<Value = DecimalSpec> {
        prop_oneof![
            6 => (any::<bool>(), prop::collection::vec(0u8..10, 1..30), -40i16..40)
                .prop_map(|(n, d, e)| DecimalSpec::Finite(n, d, e)),
            1 => any::<bool>().prop_map(DecimalSpec::Infinity),
            1 => (any::<bool>(), any::<bool>())
                .prop_map(|(signalling, negative)| DecimalSpec::NaN { signalling, negative }),
        ]
    }

    fn object() -> impl Strategy<Value = ObjectSpec> {
        let refs = || prop::collection::vec(any::<usize>(), 0..5);
        prop_oneof![
            3 => (any::<u16>(), any::<[u8; 5]>(), prop_oneof![Just(0u32), any::<u32>()],
                  prop::option::of(any::<usize>()))
                .prop_map(|(year, fields, micro, tz)| ObjectSpec::DateTime { year, fields, micro, tz }),
            1 => (any::<u16>(), any::<u8>(), any::<u8>()).prop_map(|(y, m, d)| ObjectSpec::Date(y, m, d)),
            1 => (any::<[u8; 3]>(), any::<u32>()).prop_map(|(t, us)| ObjectSpec::Time(t, us)),
            1 => (any::<i32>(), any::<u32>(), any::<u32>())
                .prop_map(|(d, s, us)| ObjectSpec::TimeDelta(d, s, us)),
            1 => (any::<i16>(), prop::option::of(prop::sample::select(vec!["UTC", "IST", "Z", "zone"])))
                .prop_map(|(o, n)| ObjectSpec::TimeZone(o, n.map(str::to_string))),
            3 => decimal().prop_map(ObjectSpec::Decimal),
            4 => (prop::option::of(0usize..7), refs())
                .prop_map(|(fields, values)| ObjectSpec::Row { fields, values }),
            2 => (refs(), prop::option::of(any::<usize>()))
                .prop_map(|(v, a)| ObjectSpec::OrderedDict(v, a)),
            1 => prop::sample::select(vec![0usize, 1, 2, 5, 999, 1000, 1001])
                .prop_flat_map(|n| prop::collection::vec(any::<usize>(), n..=n))
                .prop_map(ObjectSpec::Deque),
        ]
    }

    /// Strategy for [`ObjectGraphSpec`]s: up to `max_nodes` builtin nodes and
    /// `max_objects` objects.
    pub fn object_graph_spec(
        max_nodes: usize,
        max_objects: usize,
    ) -> impl Strategy<Value = ObjectGraphSpec> {
        (
            graph_spec(max_nodes),
            prop::collection::vec(object(), 1..max_objects.max(2)),
            prop::collection::vec((any::<usize>(), any::<usize>()), 0..3),
        )
            .prop_map(|(base, objects, back_edges)| ObjectGraphSpec {
                base,
                objects,
                back_edges,
            })
    }

    /// Strategy for graphs (root = last node).
    pub fn graph(max_nodes: usize, cfg: GenConfig) -> impl Strategy<Value = Graph> {
        graph_spec(max_nodes).prop_map(move |s| s.build(&cfg))
    }

    /// Strategy for valid pickles, as CPython's pickler writes them (protocols 2–5).
    pub fn pickle_bytes(max_nodes: usize) -> impl Strategy<Value = Vec<u8>> {
        (graph_spec(max_nodes), 2u8..=5).prop_map(|(s, p)| pickle_of(&s, p))
    }
}

#[cfg(feature = "proptest")]
pub use strategies::{graph, graph_spec, object_graph_spec, pickle_bytes};

#[cfg(feature = "arbitrary")]
mod arb {
    use super::*;
    use arbitrary::{Arbitrary, Result, Unstructured};

    impl<'a> Arbitrary<'a> for NodeSpec {
        fn arbitrary(u: &mut Unstructured<'a>) -> Result<NodeSpec> {
            let kids = |u: &mut Unstructured<'a>| -> Result<Vec<usize>> {
                let n = u.int_in_range(0..=5)?;
                (0..n)
                    .map(|_| u.arbitrary::<u16>().map(usize::from))
                    .collect()
            };
            Ok(match u.int_in_range(0..=13)? {
                0 => NodeSpec::None,
                1 => NodeSpec::Bool(u.arbitrary()?),
                2 => NodeSpec::Int(Int::Small(u.arbitrary()?)),
                3 => {
                    let b: Vec<u8> = u.arbitrary()?;
                    NodeSpec::Int(Int::from_big(BigInt::from_signed_bytes_le(
                        &b[..b.len().min(300)],
                    )))
                }
                4 => NodeSpec::Float(u.arbitrary()?),
                5 => NodeSpec::Str(u.arbitrary()?),
                6 => NodeSpec::Bytes(u.arbitrary()?),
                7 => NodeSpec::ByteArray(u.arbitrary()?),
                8 => NodeSpec::Tuple(kids(u)?),
                9 => NodeSpec::List(kids(u)?),
                10 => NodeSpec::Dict(kids(u)?),
                11 => NodeSpec::Set(u.int_in_range(0..=1001)?, u.arbitrary()?),
                12 => NodeSpec::FrozenSet(u.int_in_range(0..=8)?, u.arbitrary()?),
                _ => NodeSpec::BigList(u.int_in_range(0..=2001)?),
            })
        }
    }

    impl<'a> Arbitrary<'a> for GraphSpec {
        fn arbitrary(u: &mut Unstructured<'a>) -> Result<GraphSpec> {
            let n = u.int_in_range(1..=32)?;
            let nodes = (0..n).map(|_| u.arbitrary()).collect::<Result<Vec<_>>>()?;
            let e = u.int_in_range(0..=2)?;
            let back_edges = (0..e)
                .map(|_| {
                    Ok((
                        u.arbitrary::<u16>()? as usize,
                        u.arbitrary::<u16>()? as usize,
                    ))
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(GraphSpec { nodes, back_edges })
        }
    }
}

/// A valid CPython protocol-`protocol` pickle of a generated graph.
pub fn pickle_of(spec: &GraphSpec, protocol: u8) -> Vec<u8> {
    let g = spec.build(&GenConfig {
        large_payloads: false,
        large_containers: true,
        surrogates: true,
    });
    super::encode::encode(
        &g,
        super::encode::Profile::CPython {
            protocol: protocol.clamp(2, 5),
        },
    )
    .expect("generated graphs are encodable")
}
