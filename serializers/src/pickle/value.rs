//! The lossless value model: a graph of Python values in an arena.
//!
//! Why a graph and not a tree: a pickle's memo makes sharing part of the data.
//! `x = [1]; [x, x]` and `[[1], [1]]` are different pickles, a list may contain
//! itself, and CPython's pickler writes `BINGET` for every object it has seen
//! before *by identity*. So every value is a node with a [`NodeId`]; referring to
//! the same id twice is what "the same object" means. Decoding turns every memo
//! `GET` into a second reference to the same node, which is what lets the encoders
//! reproduce the original bytes, and it never copies a value (no memo-replay
//! amplification). Objects that are not builtin data (globals, `REDUCE`,
//! `NEWOBJ`, `BUILD`, persistent ids, extension codes, out-of-band buffers) are
//! kept as data: nothing is imported, resolved or called.
//!
//! Dropping a [`Graph`] frees a flat `Vec`, so arbitrarily deep or cyclic values
//! cannot overflow the stack when they go away.

use bytes::Bytes;
use num_bigint::BigInt;
use num_traits::ToPrimitive;

use super::pystr::PyStr;

/// A handle to one node of a [`Graph`]. The same id twice is the same Python object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub(crate) u32);

impl NodeId {
    /// The node's position in its graph.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A Python `int`: machine-sized when it fits, arbitrary precision otherwise.
/// Always normalized (a value that fits in `i64` is never `Big`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Int {
    /// Fits in an `i64`.
    Small(i64),
    /// Does not fit in an `i64`.
    Big(BigInt),
}

impl Int {
    /// Normalizes a big integer.
    pub fn from_big(v: BigInt) -> Int {
        match v.to_i64() {
            Some(s) => Int::Small(s),
            None => Int::Big(v),
        }
    }
    /// The value as a big integer.
    pub fn to_big(&self) -> BigInt {
        match self {
            Int::Small(v) => BigInt::from(*v),
            Int::Big(b) => b.clone(),
        }
    }
    /// The value as `i64`, if it fits.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Int::Small(v) => Some(*v),
            Int::Big(_) => None,
        }
    }
}

impl From<i64> for Int {
    fn from(v: i64) -> Int {
        Int::Small(v)
    }
}

impl From<BigInt> for Int {
    fn from(v: BigInt) -> Int {
        Int::from_big(v)
    }
}

/// How an object was constructed: the opcode that built it and its operands.
#[derive(Debug, Clone, PartialEq)]
pub enum Construct {
    /// `callable(*args)`: REDUCE.
    Reduce {
        /// Usually a [`Value::Global`].
        callable: NodeId,
        /// Usually a tuple.
        args: NodeId,
    },
    /// `cls.__new__(cls, *args)`: NEWOBJ (`copyreg.__newobj__`).
    NewObj {
        /// The class.
        cls: NodeId,
        /// The arguments after `cls`, usually a tuple.
        args: NodeId,
    },
    /// `cls.__new__(cls, *args, **kwargs)`: NEWOBJ_EX.
    NewObjEx {
        /// The class.
        cls: NodeId,
        /// Positional arguments.
        args: NodeId,
        /// Keyword arguments, usually a dict.
        kwargs: NodeId,
    },
    /// `MARK cls args… OBJ` (protocol 1).
    Obj {
        /// The class.
        cls: NodeId,
        /// The arguments.
        args: Vec<NodeId>,
    },
    /// `MARK args… INST module name` (protocol 0).
    Inst {
        /// The module, as written.
        module: PyStr,
        /// The class name, as written.
        name: PyStr,
        /// The arguments.
        args: Vec<NodeId>,
    },
}

/// State applied to an object after it was built.
#[derive(Debug, Clone, PartialEq)]
pub enum State {
    /// `BUILD`: `obj.__setstate__(state)` or `obj.__dict__.update(state)`.
    Build(NodeId),
    /// A reducer's `state_setter` (protocol 5 era, e.g. cloudpickle's
    /// `_function_setstate`): written as `setter (obj, state) REDUCE POP`.
    Setter {
        /// The callable.
        setter: NodeId,
        /// The state.
        state: NodeId,
    },
}

/// An object that is not builtin data, kept as data.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    /// How it was built.
    pub construct: Construct,
    /// Items appended to it (`APPEND`/`APPENDS` on a non-list): a reducer's `listitems`.
    pub list_items: Vec<NodeId>,
    /// Pairs set on it (`SETITEM`/`SETITEMS` on a non-dict): a reducer's `dictitems`.
    pub dict_items: Vec<(NodeId, NodeId)>,
    /// States applied, in order (normally at most one).
    pub states: Vec<State>,
}

impl Object {
    /// An object with nothing applied after construction.
    pub fn new(construct: Construct) -> Object {
        Object {
            construct,
            list_items: Vec::new(),
            dict_items: Vec::new(),
            states: Vec::new(),
        }
    }
}

/// A persistent id (PERSID / BINPERSID): a reference the pickler's owner resolves.
#[derive(Debug, Clone, PartialEq)]
pub enum PersId {
    /// `PERSID` text (protocol 0), as written.
    Text(PyStr),
    /// `BINPERSID`: any value.
    Value(NodeId),
}

/// One Python value. Children are [`NodeId`]s into the same [`Graph`].
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `None`.
    None,
    /// `True` / `False`.
    Bool(bool),
    /// `int`.
    Int(Int),
    /// `float`, bits kept as they are (NaN payloads, `-0.0`).
    Float(f64),
    /// `str` (UTF-8 with lone surrogates allowed, as CPython's `surrogatepass`).
    Str(PyStr),
    /// `bytes`. Python 2 `str` (STRING / BINSTRING) decodes to this too.
    Bytes(Bytes),
    /// `bytearray`.
    ByteArray(Bytes),
    /// `tuple`.
    Tuple(Vec<NodeId>),
    /// `list`.
    List(Vec<NodeId>),
    /// `dict`, in insertion order (duplicate keys kept as written).
    Dict(Vec<(NodeId, NodeId)>),
    /// `set`, in stored order.
    Set(Vec<NodeId>),
    /// `frozenset`, in stored order.
    FrozenSet(Vec<NodeId>),
    /// A module-level name (class or function), never resolved.
    Global {
        /// A `Str` node: the module.
        module: NodeId,
        /// A `Str` node: the qualified name.
        name: NodeId,
    },
    /// Anything built by calling something: kept as data.
    Object(Box<Object>),
    /// A persistent id.
    PersId(PersId),
    /// An extension-registry code (EXT1/EXT2/EXT4).
    Ext(i64),
    /// An out-of-band buffer (NEXT_BUFFER), optionally made read-only.
    Buffer {
        /// 0-based position among the pickle's out-of-band buffers.
        index: u32,
        /// READONLY_BUFFER was applied.
        readonly: bool,
    },
}

impl Value {
    /// A short type name, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::None => "None",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::Bytes(_) => "bytes",
            Value::ByteArray(_) => "bytearray",
            Value::Tuple(_) => "tuple",
            Value::List(_) => "list",
            Value::Dict(_) => "dict",
            Value::Set(_) => "set",
            Value::FrozenSet(_) => "frozenset",
            Value::Global { .. } => "global",
            Value::Object(_) => "object",
            Value::PersId(_) => "persistent id",
            Value::Ext(_) => "extension",
            Value::Buffer { .. } => "buffer",
        }
    }

    /// Atoms are values CPython never memoizes (None, bool, int, float).
    pub fn is_atom(&self) -> bool {
        matches!(
            self,
            Value::None | Value::Bool(_) | Value::Int(_) | Value::Float(_)
        )
    }
}

/// How a decoded node was written, beyond its value: the memo layout and opcode
/// forms that an identity-based encoder cannot infer. CPython's layout follows
/// from identity alone; Pyrolite's depends on Java types (custom picklers memoize
/// some globals but not the reduce calls around them), so its encoder reads these.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Hint(u8);

impl Hint {
    const MEMO: u8 = 1;
    const MARK_TUPLE: u8 = 2;

    /// The node was stored in the memo (PUT/BINPUT/LONG_BINPUT/MEMOIZE).
    pub fn memoized(self) -> bool {
        self.0 & Self::MEMO != 0
    }
    /// The tuple was built with `MARK … TUPLE` (even with 0–3 items).
    pub fn mark_tuple(self) -> bool {
        self.0 & Self::MARK_TUPLE != 0
    }
    pub(crate) fn set_memoized(&mut self) {
        self.0 |= Self::MEMO;
    }
    pub(crate) fn set_mark_tuple(&mut self) {
        self.0 |= Self::MARK_TUPLE;
    }
}

/// An arena of values plus the root the pickle evaluates to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Graph {
    nodes: Vec<Value>,
    root: Option<NodeId>,
    interned: std::collections::HashMap<Vec<u8>, NodeId>,
    /// Parallel to `nodes` for decoded graphs; empty for built ones.
    hints: Vec<Hint>,
}

impl Graph {
    /// An empty graph.
    pub fn new() -> Graph {
        Graph::default()
    }

    /// Adds a node and returns its id.
    ///
    /// # Panics
    /// If the graph already holds `u32::MAX` nodes (decoding checks its own limit
    /// first, so this only concerns programmatic construction).
    #[inline]
    pub fn add(&mut self, v: Value) -> NodeId {
        let id = u32::try_from(self.nodes.len()).expect("graph holds at most u32::MAX nodes");
        self.nodes.push(v);
        NodeId(id)
    }

    /// Removes every node, keeping the allocations for reuse.
    pub fn clear(&mut self) {
        self.nodes.clear();
        self.hints.clear();
        self.interned.clear();
        self.root = None;
    }

    /// Removes the nodes added after the first `len` (nothing may still refer to them).
    pub fn truncate(&mut self, len: usize) {
        self.nodes.truncate(len);
        self.hints.truncate(len);
        self.interned.retain(|_, id| id.index() < len);
        if self.root.is_some_and(|r| r.index() >= len) {
            self.root = None;
        }
    }

    /// Reserves room for `n` more nodes.
    pub fn reserve(&mut self, n: usize) {
        self.nodes.reserve(n);
    }

    /// Adds a `str`, shared by value with every other string added through this
    /// method, the way CPython interns identifiers such as module and attribute names.
    pub fn intern(&mut self, s: &str) -> NodeId {
        if let Some(&id) = self.interned.get(s.as_bytes()) {
            return id;
        }
        let id = self.add(Value::Str(PyStr::from(s)));
        self.interned.insert(s.as_bytes().to_vec(), id);
        id
    }

    /// Whether `id` is the node [`Graph::intern`] returns for its text: a
    /// stand-in for an interned identifier, which the CPython encoder never
    /// confuses with the cached one-character string of the same value (in
    /// CPython 3.11 they are different objects).
    pub fn is_interned(&self, id: NodeId) -> bool {
        match self.try_get(id) {
            Some(Value::Str(s)) => self.interned.get(s.as_bytes()) == Some(&id),
            _ => false,
        }
    }

    /// Adds a global `module.name` with interned strings, as CPython's pickler
    /// sees a class or function written in Python. (A C type such as
    /// `datetime.datetime` makes its `__qualname__` afresh on each lookup: build
    /// that global from an interned module and a separately added name.)
    pub fn global(&mut self, module: &str, name: &str) -> NodeId {
        let module = self.intern(module);
        let name = self.intern(name);
        self.add(Value::Global { module, name })
    }

    /// Adds `callable(*args)` as a REDUCE object.
    pub fn reduce(&mut self, callable: NodeId, args: Vec<NodeId>) -> NodeId {
        let args = self.add(Value::Tuple(args));
        self.add(Value::Object(Box::new(Object::new(Construct::Reduce {
            callable,
            args,
        }))))
    }

    /// How a decoded node was written; `None` for nodes that were not decoded.
    pub fn hint(&self, id: NodeId) -> Option<Hint> {
        self.hints.get(id.index()).copied()
    }

    pub(crate) fn hints_mut(&mut self) -> &mut Vec<Hint> {
        &mut self.hints
    }

    /// The node behind an id.
    ///
    /// # Panics
    /// If the id belongs to another graph and is out of range.
    pub fn get(&self, id: NodeId) -> &Value {
        &self.nodes[id.index()]
    }

    /// The node behind an id, if it exists.
    pub fn try_get(&self, id: NodeId) -> Option<&Value> {
        self.nodes.get(id.index())
    }

    /// Mutable access, for building cycles after the fact.
    pub fn get_mut(&mut self, id: NodeId) -> &mut Value {
        &mut self.nodes[id.index()]
    }

    /// Every node id, in creation order.
    pub fn ids(&self) -> impl Iterator<Item = NodeId> {
        (0..self.nodes.len() as u32).map(NodeId)
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when there are no nodes.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The value the pickle evaluates to.
    pub fn root(&self) -> Option<NodeId> {
        self.root
    }

    /// Sets the value the pickle evaluates to.
    pub fn set_root(&mut self, id: NodeId) {
        self.root = Some(id);
    }

    /// The string in a `Str` node, if it is one.
    pub fn str_of(&self, id: NodeId) -> Option<&PyStr> {
        match self.try_get(id) {
            Some(Value::Str(s)) => Some(s),
            _ => None,
        }
    }

    /// `(module, name)` of a `Global` node whose operands are strings.
    pub fn global_name(&self, id: NodeId) -> Option<(&PyStr, &PyStr)> {
        match self.try_get(id) {
            Some(Value::Global { module, name }) => {
                Some((self.str_of(*module)?, self.str_of(*name)?))
            }
            _ => None,
        }
    }

    /// The children of a node, in the order an encoder saves them (object
    /// operands included).
    pub fn children(&self, id: NodeId) -> Vec<NodeId> {
        let mut out = Vec::new();
        match self.get(id) {
            Value::Tuple(v) | Value::List(v) | Value::Set(v) | Value::FrozenSet(v) => out.extend(v),
            Value::Dict(kv) => kv.iter().for_each(|(k, v)| out.extend([*k, *v])),
            Value::Global { module, name } => out.extend([*module, *name]),
            Value::Object(o) => {
                match &o.construct {
                    Construct::Reduce { callable, args } => out.extend([*callable, *args]),
                    Construct::NewObj { cls, args } => out.extend([*cls, *args]),
                    Construct::NewObjEx { cls, args, kwargs } => out.extend([*cls, *args, *kwargs]),
                    Construct::Obj { cls, args } => {
                        out.push(*cls);
                        out.extend(args)
                    }
                    Construct::Inst { args, .. } => out.extend(args),
                }
                out.extend(&o.list_items);
                o.dict_items.iter().for_each(|(k, v)| out.extend([*k, *v]));
                for s in &o.states {
                    match s {
                        State::Build(s) => out.push(*s),
                        State::Setter { setter, state } => out.extend([*setter, *state]),
                    }
                }
            }
            Value::PersId(PersId::Value(v)) => out.push(*v),
            _ => {}
        }
        out
    }
}

impl Value {
    /// The same value with every child id passed through `f` (for copying nodes
    /// between graphs).
    pub fn map_children(self, mut f: impl FnMut(NodeId) -> NodeId) -> Value {
        let mut seq = |v: Vec<NodeId>| v.into_iter().map(&mut f).collect::<Vec<_>>();
        match self {
            Value::Tuple(v) => Value::Tuple(seq(v)),
            Value::List(v) => Value::List(seq(v)),
            Value::Set(v) => Value::Set(seq(v)),
            Value::FrozenSet(v) => Value::FrozenSet(seq(v)),
            Value::Dict(kv) => Value::Dict(kv.into_iter().map(|(k, v)| (f(k), f(v))).collect()),
            Value::Global { module, name } => Value::Global {
                module: f(module),
                name: f(name),
            },
            Value::PersId(PersId::Value(v)) => Value::PersId(PersId::Value(f(v))),
            Value::Object(mut o) => {
                o.construct = match o.construct {
                    Construct::Reduce { callable, args } => Construct::Reduce {
                        callable: f(callable),
                        args: f(args),
                    },
                    Construct::NewObj { cls, args } => Construct::NewObj {
                        cls: f(cls),
                        args: f(args),
                    },
                    Construct::NewObjEx { cls, args, kwargs } => Construct::NewObjEx {
                        cls: f(cls),
                        args: f(args),
                        kwargs: f(kwargs),
                    },
                    Construct::Obj { cls, args } => Construct::Obj {
                        cls: f(cls),
                        args: args.into_iter().map(&mut f).collect(),
                    },
                    Construct::Inst { module, name, args } => Construct::Inst {
                        module,
                        name,
                        args: args.into_iter().map(&mut f).collect(),
                    },
                };
                o.list_items = o.list_items.into_iter().map(&mut f).collect();
                o.dict_items = o
                    .dict_items
                    .into_iter()
                    .map(|(k, v)| (f(k), f(v)))
                    .collect();
                o.states = o
                    .states
                    .into_iter()
                    .map(|s| match s {
                        State::Build(x) => State::Build(f(x)),
                        State::Setter { setter, state } => State::Setter {
                            setter: f(setter),
                            state: f(state),
                        },
                    })
                    .collect();
                Value::Object(o)
            }
            other => other,
        }
    }
}

/// A builtin value that older protocols (and Pyrolite, serde-pickle) spell as a
/// call: `set([...])`, `frozenset([...])`, `_codecs.encode(text, 'latin1')`,
/// `bytes()`, `bytearray(...)`. What `pickle.loads` would turn the object into.
#[derive(Debug, Clone, PartialEq)]
pub enum Builtin {
    /// `set(items)`.
    Set(Vec<NodeId>),
    /// `frozenset(items)`.
    FrozenSet(Vec<NodeId>),
    /// `bytes`.
    Bytes(Vec<u8>),
    /// `bytearray`.
    ByteArray(Vec<u8>),
}

impl Graph {
    /// Interprets an object as the builtin value it reconstructs, if it is one.
    pub fn builtin(&self, id: NodeId) -> Option<Builtin> {
        self.builtin_depth(id, 0)
    }

    fn builtin_depth(&self, id: NodeId, depth: u8) -> Option<Builtin> {
        let Some(Value::Object(o)) = self.try_get(id) else {
            return None;
        };
        if depth > 2 || !o.list_items.is_empty() || !o.dict_items.is_empty() || !o.states.is_empty()
        {
            return None;
        }
        let Construct::Reduce { callable, args } = &o.construct else {
            return None;
        };
        let (module, name) = self.global_name(*callable)?;
        let Some(Value::Tuple(args)) = self.try_get(*args) else {
            return None;
        };
        let builtins = matches!(module.as_bytes(), b"builtins" | b"__builtin__");
        let latin1 = |s: &PyStr| -> Option<Vec<u8>> {
            s.code_points().map(|c| u8::try_from(c).ok()).collect()
        };
        let is_latin1 = |id: NodeId| {
            matches!(
                self.str_of(id).map(|s| s.as_bytes()),
                Some(b"latin1" | b"latin-1" | b"latin_1")
            )
        };
        let bytes_arg = |id: NodeId| -> Option<Vec<u8>> {
            match self.try_get(id)? {
                Value::Bytes(b) | Value::ByteArray(b) => Some(b.to_vec()),
                Value::Object(_) => match self.builtin_depth(id, depth + 1)? {
                    Builtin::Bytes(b) | Builtin::ByteArray(b) => Some(b),
                    _ => None,
                },
                _ => None,
            }
        };
        match (
            builtins,
            module.as_bytes(),
            name.as_bytes(),
            args.as_slice(),
        ) {
            (true, _, b"set" | b"frozenset", items) if items.len() <= 1 => {
                let elems = match items.first().and_then(|&a| self.try_get(a)) {
                    None => Vec::new(),
                    Some(Value::List(v) | Value::Tuple(v)) => v.clone(),
                    _ => return None,
                };
                Some(if name.as_bytes() == b"set" {
                    Builtin::Set(elems)
                } else {
                    Builtin::FrozenSet(elems)
                })
            }
            (true, _, b"bytes", []) => Some(Builtin::Bytes(Vec::new())),
            (true, _, b"bytearray", []) => Some(Builtin::ByteArray(Vec::new())),
            (true, _, b"bytes" | b"bytearray", [a]) => {
                let b = bytes_arg(*a)?;
                Some(if name.as_bytes() == b"bytes" {
                    Builtin::Bytes(b)
                } else {
                    Builtin::ByteArray(b)
                })
            }
            (true, _, b"bytearray", [t, e]) if is_latin1(*e) => {
                Some(Builtin::ByteArray(latin1(self.str_of(*t)?)?))
            }
            (_, b"_codecs", b"encode", [t, e]) if is_latin1(*e) => {
                Some(Builtin::Bytes(latin1(self.str_of(*t)?)?))
            }
            _ => None,
        }
    }
}
