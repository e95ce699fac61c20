//! Generators of Python value graphs and of valid pickles, for property tests and
//! fuzzing of downstream codecs (features `proptest` and `arbitrary`).
//!
//! The graphs are what CPython can pickle: shared nodes (the same object in
//! several places), cycles through lists and dicts, hashable distinct dict keys
//! and set elements, and the sizes where encodings change: every int boundary
//! (BININT1/2, BININT, LONG1, LONG4), string and bytes lengths around 255 and
//! 64 KiB (frame bypass), containers of 0, 1, 2, 999, 1000, 1001 and 2000 items.

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
                NodeSpec::Tuple(c) => Value::Tuple(c.iter().map(|&i| pick(&ids, i)).collect()),
                NodeSpec::List(c) => Value::List(c.iter().map(|&i| pick(&ids, i)).collect()),
                NodeSpec::Dict(c) => {
                    let mut kv = Vec::new();
                    for (k, &i) in c.iter().enumerate() {
                        let key = g.add(Value::Str(PyStr::from(format!("k{k}"))));
                        kv.push((key, pick(&ids, i)));
                    }
                    Value::Dict(kv)
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
                    if matches!(spec, NodeSpec::Set(..)) {
                        Value::Set(items)
                    } else {
                        Value::FrozenSet(items)
                    }
                }
                NodeSpec::BigList(n) => {
                    let n = if cfg.large_containers { *n } else { n % 20 };
                    Value::List(
                        (0..n)
                            .map(|i| g.add(Value::Int(Int::Small((i % 300) as i64))))
                            .collect(),
                    )
                }
                NodeSpec::BigDict(n) => {
                    let n = if cfg.large_containers { *n } else { n % 20 };
                    Value::Dict(
                        (0..n)
                            .map(|i| {
                                (
                                    g.add(Value::Int(Int::Small(i as i64 * 3))),
                                    g.add(Value::None),
                                )
                            })
                            .collect(),
                    )
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
            if let Value::List(v) = g.get_mut(pick(&lists, l)) {
                v.push(target);
            }
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
                let root = g.add(Value::List(free));
                g.set_root(root);
            }
        }
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
pub use strategies::{graph, graph_spec, pickle_bytes};

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
