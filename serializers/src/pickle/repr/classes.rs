//! Equality classes of nodes, for the two places the repr must know which
//! set elements and dict keys `pickle.loads` would find equal: collapsing
//! duplicates (`keys`) and replaying CPython's set table (`setorder`).
//!
//! Two nodes are in one class when `==` between the objects they load as is
//! decided by their values and is true: numbers by value (`1`, `1.0` and
//! `True` are one class), str and bytes by content, tuples item by item,
//! extension-registry references by code (every EXT of one code loads the
//! same registered object). Anything whose `__eq__` would decide — lists,
//! dicts, objects — and NaN only equals itself, as CPython's identity check
//! before `==` makes it.
//!
//! Why classes rather than comparing pairs: a pickle can share one tuple at
//! every level of a nest (`DUP`, memo references), and expanding such a DAG
//! is exponential. The first comparer spent a visit budget and, past it,
//! fell back to identity; a re-encoding that shared the same tuples
//! differently then ran out elsewhere and printed another repr (found by the
//! `pickle_decode` fuzz target). A node's class is computed once, bottom-up
//! from its items' classes, without recursion, so the work is linear in the
//! nodes reached and shared by the whole repr.
//!
//! Each class also carries `hash()` of its objects when that is the same in
//! every CPython 3.11 process: ints, bools, floats other than NaN, and tuples
//! of those. `str`/`bytes` hashes are randomized per process and `None`'s
//! and NaN's depend on addresses, so their sets print in stored order.

use std::collections::HashMap;

use num_bigint::BigInt;
use num_traits::ToPrimitive;

use super::super::value::{Graph, Int, NodeId, Value};
use super::hash::{big_hash, float_as_int, float_hash, int_hash, tuple_hash};

/// An equality class: equal ids, equal objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Class(u32);

/// What makes a class: a value's canonical form, with tuples by their
/// items' classes.
#[derive(Debug, PartialEq, Eq, Hash)]
enum Form<'g> {
    None,
    /// An int, bool or integral float that fits in `i64` (always this
    /// variant then, so equal numbers have equal forms).
    Small(i64),
    Big(BigInt),
    /// A float that is not integral and not NaN, by its bits.
    Float(u64),
    Str(&'g [u8]),
    Bytes(&'g [u8]),
    Ext(i64),
    /// Equal to itself alone.
    Node(NodeId),
    Tuple(Box<[Class]>),
}

/// The classes of the nodes of one graph met so far.
pub(crate) struct Classes<'g> {
    g: &'g Graph,
    /// `None` while a tuple's items are being classified: meeting it again
    /// then is a cycle through tuples alone, which only a graph built by
    /// hand can hold; the inner meeting counts as identity.
    of: HashMap<NodeId, Option<Class>>,
    forms: HashMap<Form<'g>, Class>,
    /// Per class, its CPython 3.11 hash when no process makes it differ.
    hashes: Vec<Option<i64>>,
    /// The walk's to-do list, kept between calls for its memory.
    stack: Vec<(NodeId, bool)>,
}

impl<'g> Classes<'g> {
    pub(crate) fn new(g: &'g Graph) -> Classes<'g> {
        Classes {
            g,
            of: HashMap::new(),
            forms: HashMap::new(),
            hashes: Vec::new(),
            stack: Vec::new(),
        }
    }

    /// `hash(obj)` of the objects of class `c`, when process-independent.
    pub(crate) fn hash(&self, c: Class) -> Option<i64> {
        self.hashes[c.0 as usize]
    }

    /// The class of `id`, classifying what it reaches through tuples first.
    pub(crate) fn class(&mut self, id: NodeId) -> Class {
        if let Some(&Some(c)) = self.of.get(&id) {
            return c;
        }
        self.stack.push((id, false));
        while let Some((n, items_done)) = self.stack.pop() {
            if !items_done && self.of.contains_key(&n) {
                continue;
            }
            let c = match self.g.try_get(n) {
                Some(Value::Tuple(items)) if !items_done => {
                    self.of.insert(n, None);
                    self.stack.push((n, true));
                    for &it in self.g.items(*items).iter().rev() {
                        if !self.of.contains_key(&it) {
                            self.stack.push((it, false));
                        }
                    }
                    continue;
                }
                Some(Value::Tuple(items)) => {
                    let lanes: Box<[Class]> = self
                        .g
                        .items(*items)
                        .iter()
                        .map(|&it| match self.of.get(&it) {
                            Some(&Some(c)) => c,
                            _ => self.intern(Form::Node(it)),
                        })
                        .collect();
                    self.intern(Form::Tuple(lanes))
                }
                v => self.intern(atom_form(n, v)),
            };
            self.of.insert(n, Some(c));
        }
        match self.of.get(&id) {
            Some(&Some(c)) => c,
            _ => self.intern(Form::Node(id)),
        }
    }

    fn intern(&mut self, form: Form<'g>) -> Class {
        if let Some(&c) = self.forms.get(&form) {
            return c;
        }
        let hash = match &form {
            Form::Small(i) => Some(int_hash(&Int::Small(*i))),
            Form::Big(b) => Some(big_hash(b)),
            Form::Float(bits) => float_hash(f64::from_bits(*bits)),
            Form::Tuple(lanes) => lanes
                .iter()
                .map(|l| self.hashes[l.0 as usize])
                .collect::<Option<Vec<i64>>>()
                .map(|h| tuple_hash(&h)),
            Form::None | Form::Str(_) | Form::Bytes(_) | Form::Ext(_) | Form::Node(_) => None,
        };
        // More classes than u32 ids would need more nodes than a graph holds.
        let c = Class(u32::try_from(self.hashes.len()).unwrap_or(u32::MAX));
        self.hashes.push(hash);
        self.forms.insert(form, c);
        c
    }
}

/// The form of a node that is not a tuple.
fn atom_form(id: NodeId, v: Option<&Value>) -> Form<'_> {
    match v {
        Some(Value::None) => Form::None,
        Some(Value::Bool(b)) => Form::Small(i64::from(*b)),
        Some(Value::Int(Int::Small(i))) => Form::Small(*i),
        Some(Value::Int(Int::Big(b))) => int_form(b.clone()),
        Some(Value::Float(f)) if f.is_nan() => Form::Node(id),
        Some(Value::Float(f)) => match float_as_int(*f) {
            Some(i) => int_form(i),
            None => Form::Float(f.to_bits()),
        },
        Some(Value::Str(s)) => Form::Str(s.as_bytes()),
        Some(Value::Bytes(b)) => Form::Bytes(b),
        Some(Value::Ext(code)) => Form::Ext(*code),
        _ => Form::Node(id),
    }
}

fn int_form<'g>(i: BigInt) -> Form<'g> {
    match i.to_i64() {
        Some(s) => Form::Small(s),
        None => Form::Big(i),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_one_class_by_value_and_hash_like_floats() {
        let mut g = Graph::new();
        let one = g.add(Value::Int(1.into()));
        let t = g.add(Value::Bool(true));
        let f = g.add(Value::Float(1.0));
        let big = g.add(Value::Float(1e300));
        let nan = g.add(Value::Float(f64::NAN));
        let nan2 = g.add(Value::Float(f64::NAN));
        let mut cl = Classes::new(&g);
        let c = cl.class(one);
        assert_eq!(cl.class(t), c);
        assert_eq!(cl.class(f), c);
        assert_eq!(cl.hash(c), Some(1));
        // An integral float's class is its int's, and so is its hash.
        let b = cl.class(big);
        assert_eq!(cl.hash(b), float_hash(1e300));
        assert_ne!(cl.class(nan), cl.class(nan2));
        let cn = cl.class(nan);
        assert_eq!(cl.hash(cn), None);
    }

    /// A nest sharing one tuple at each of 200 levels has 2**200 paths.
    /// Two such nests built from distinct nodes are one class; a third with
    /// another leaf is not; and each level is classified once.
    #[test]
    fn shared_nests_classify_in_linear_time() {
        fn nest(g: &mut Graph, leaf: i64) -> NodeId {
            let mut n = g.add(Value::Int(leaf.into()));
            for _ in 0..200 {
                n = g.add_tuple(&[n, n]);
            }
            n
        }
        let mut g = Graph::new();
        let (a, b, c) = (nest(&mut g, 7), nest(&mut g, 7), nest(&mut g, 8));
        let mut cl = Classes::new(&g);
        assert_eq!(cl.class(a), cl.class(b));
        assert_ne!(cl.class(a), cl.class(c));
        assert_eq!(cl.forms.len(), 2 * 201);
        assert_eq!(cl.of.len(), 3 * 201);
        let ca = cl.class(a);
        assert!(cl.hash(ca).is_some());
    }

    /// Only a hand-made graph can hold a tuple that holds itself; its class
    /// is found, with the inner meeting standing for itself alone.
    #[test]
    fn a_cycle_through_tuples_alone_ends() {
        let mut g = Graph::new();
        let a = g.add(Value::Int(1.into()));
        let t = g.add_tuple(&[a]);
        assert_eq!(g.extend_items(t, &[t]), Ok(true));
        let mut cl = Classes::new(&g);
        let c = cl.class(t);
        assert_eq!(cl.class(t), c);
        assert_eq!(cl.hash(c), None);
    }
}
