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
//! Why one arena for the children of every container: a row batch is a list of
//! thousands of small tuples, and a `Vec` per tuple cost an allocation, a free
//! and a 24-byte header each, about half the decode time of a row. A container
//! holds an [`Items`] (or [`Pairs`]) run of the graph's shared item (pair)
//! arena instead, read through [`Graph::items`] ([`Graph::pairs`]); appending to
//! a container whose run is not at the arena's end moves it there with room to
//! double, so growth stays amortized linear however containers interleave.
//!
//! Dropping a [`Graph`] frees a few flat `Vec`s, so arbitrarily deep or cyclic
//! values cannot overflow the stack when they go away, and a batch is freed in a
//! handful of deallocations however many containers it holds.

use std::mem::ManuallyDrop;

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

/// The children of a tuple, list, set or frozenset: a run of its graph's item
/// arena, read with [`Graph::items`]. Only meaningful with the graph that made
/// it; comparing two of them compares positions, not contents. A container
/// value cloned within its graph shares the run, and appending to one of the
/// two may then show in the other: copy a container with
/// `g.add_list(&g.items(s).to_vec())` (or [`Graph::import_value`] across graphs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Items(Run);

/// The `(key, value)` pairs of a dict: a run of its graph's pair arena, read
/// with [`Graph::pairs`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pairs(Run);

/// `len` used slots of the `cap` reserved from `start` in an arena.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Run {
    start: u32,
    len: u32,
    cap: u32,
}

impl Run {
    /// A run of `len` slots from `start`, all used (both checked to fit in
    /// `u32` by the caller).
    #[inline(always)]
    fn fresh(start: usize, len: usize) -> Run {
        Run {
            start: start as u32,
            len: len as u32,
            cap: len as u32,
        }
    }

    fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.start as usize + self.len as usize
    }
}

impl Items {
    /// Number of children.
    pub fn len(self) -> usize {
        self.0.len as usize
    }
    /// True when the container is empty.
    pub fn is_empty(self) -> bool {
        self.0.len == 0
    }
}

impl Pairs {
    /// Number of pairs.
    pub fn len(self) -> usize {
        self.0.len as usize
    }
    /// True when the dict is empty.
    pub fn is_empty(self) -> bool {
        self.0.len == 0
    }
}

/// An arena would outgrow the `u32` positions a run is numbered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArenaFull;

/// Appends `more` to `run` in `arena`: in its reserved room, at the arena's
/// end when the run ends there, else by moving the run to the end with room to
/// double (amortized linear growth whatever the interleaving). The arena's
/// length never passes `u32::MAX`.
fn extend_run<T: Copy>(
    arena: &mut Vec<T>,
    run: &mut Run,
    more: &[T],
    fill: T,
) -> Result<(), ArenaFull> {
    let len = run.len as usize;
    let need = len.checked_add(more.len()).ok_or(ArenaFull)?;
    let start = run.start as usize;
    if need <= run.cap as usize {
        arena[start + len..start + need].copy_from_slice(more);
    } else if start + run.cap as usize == arena.len() {
        if start + need > u32::MAX as usize {
            return Err(ArenaFull);
        }
        arena.truncate(start + len);
        arena.extend_from_slice(more);
        run.cap = need as u32;
    } else {
        let cap = need.max(len.saturating_mul(2)).max(4);
        let new_start = arena.len();
        if new_start.saturating_add(cap) > u32::MAX as usize {
            return Err(ArenaFull);
        }
        arena.reserve(cap);
        arena.extend_from_within(start..start + len);
        arena.extend_from_slice(more);
        arena.resize(new_start + cap, fill);
        run.start = new_start as u32;
        run.cap = cap as u32;
    }
    run.len = need as u32;
    Ok(())
}

/// A new run holding `items`, at the arena's end. Inlined, since a row's
/// tuple is a handful of ids (callgrind put the out-of-line call at about 80
/// instructions per decoded row; inlined, the row costs about 7 fewer).
#[inline]
fn new_run<T: Copy>(arena: &mut Vec<T>, items: &[T]) -> Result<Run, ArenaFull> {
    let start = arena.len();
    if start.saturating_add(items.len()) > u32::MAX as usize {
        return Err(ArenaFull);
    }
    // Not `extend_from_slice`: its `memcpy` loads the ids in wide words just
    // after the decoder pushed them on its stack one 4-byte store at a time,
    // and the loads wait for the stores to retire (perf: `memmove` took 12%
    // of a row batch's decode; copied through the iterator, 1%).
    arena.extend(items.iter().copied());
    Ok(Run::fresh(start, items.len()))
}

/// [`new_run`] for the ids a caller has just built (`Graph::add_tuple(&[a,
/// b, c])`). For a record of a few ids LLVM makes the iterator's loop a
/// `memcpy` call, or merges two ids into one wide load, and either waits on
/// the caller's 4-byte stores (9 % of an AutoBatched encode through the
/// graph, perf). So short runs take fixed-size arms, with `black_box` on
/// every other id to keep each load as wide as the store it reads (56
/// against 59 ms a pass without it). Always inlined: out of line, the run
/// came back through memory, its `u32`s stored one by one and read back in
/// a wider load, the same stall again. (The decoder keeps [`new_run`]: its
/// rows are longer, and these arms cost it a call of the loop.)
#[inline(always)]
fn new_built_run<T: Copy>(arena: &mut Vec<T>, items: &[T]) -> Result<Run, ArenaFull> {
    use std::hint::black_box;
    let start = arena.len();
    if items.len() > 4 || start.saturating_add(items.len()) > u32::MAX as usize {
        return new_run(arena, items);
    }
    match *items {
        [a] => arena.push(a),
        [a, b] => arena.extend([a, black_box(b)]),
        [a, b, c] => arena.extend([a, black_box(b), c]),
        [a, b, c, d] => arena.extend([a, black_box(b), c, black_box(d)]),
        _ => {}
    }
    Ok(Run::fresh(start, items.len()))
}

/// One Python value. Children are [`NodeId`]s into the same [`Graph`]; a
/// container's are in the graph's arena (see [`Graph::items`]), which is why
/// values are compared through [`Graph::same_value`], not `==`.
#[derive(Debug, Clone)]
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
    Tuple(Items),
    /// `list`.
    List(Items),
    /// `dict`, in insertion order (duplicate keys kept as written).
    Dict(Pairs),
    /// `set`, in stored order.
    Set(Items),
    /// `frozenset`, in stored order.
    FrozenSet(Items),
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
#[derive(Debug, Clone, Default)]
pub struct Graph {
    /// Dropped by [`Graph`]'s `Drop`, which visits only nodes that own memory.
    nodes: Vec<ManuallyDrop<Value>>,
    /// The children of every tuple, list, set and frozenset (see [`Items`]).
    items: Vec<NodeId>,
    /// The pairs of every dict (see [`Pairs`]).
    pairs: Vec<(NodeId, NodeId)>,
    root: Option<NodeId>,
    interned: std::collections::HashMap<Vec<u8>, NodeId>,
    /// Parallel to `nodes` for decoded graphs; empty for built ones.
    hints: Vec<Hint>,
    /// Whether some node may own memory (a long `str`, bytes, a big int, an
    /// object...): set by [`Graph::add`] and, not knowing what the caller
    /// will store, by [`Graph::get_mut`]. Without one, dropping the graph
    /// frees its buffers without visiting a node.
    owners: bool,
}

/// Dropping a graph visits only the nodes that own memory. Most nodes of a
/// decoded batch (ints, floats, None, bools, containers, whose children are in
/// the arenas) own none, yet a `Vec<Value>`'s drop calls the out-of-line drop
/// of `Value` once per node: for a list of a million ints that call was a third
/// of decode-plus-drop. Nodes are kept as `ManuallyDrop` so the buffer is freed
/// without it, and the few that own memory are dropped here. A graph none
/// of whose nodes ever owned memory (a batch of numbers, or of rows whose
/// `str`s are short enough to be kept inline) is not visited at all: that
/// visit was a quarter of decode-plus-drop for a list of a million ints.
impl Drop for Graph {
    fn drop(&mut self) {
        if self.owners {
            release(&mut self.nodes);
        } else {
            debug_assert!(
                !self.nodes.iter().any(|v| owns(v)),
                "an owner went unflagged"
            );
        }
    }
}

/// Whether dropping the value frees memory.
#[inline]
fn owns(v: &Value) -> bool {
    match v {
        Value::Str(s) => !s.is_inline(),
        Value::None
        | Value::Bool(_)
        | Value::Int(Int::Small(_))
        | Value::Float(_)
        | Value::Tuple(_)
        | Value::List(_)
        | Value::Dict(_)
        | Value::Set(_)
        | Value::FrozenSet(_)
        | Value::Global { .. }
        | Value::Ext(_)
        | Value::Buffer { .. } => false,
        _ => true,
    }
}

/// Drops what the nodes own, leaving `None`s (the caller frees the buffer).
fn release(nodes: &mut [ManuallyDrop<Value>]) {
    for v in nodes {
        if owns(v) {
            drop(std::mem::replace(&mut **v, Value::None));
        }
    }
}

/// Two graphs are equal when they hold the same values under the same ids (what
/// is in an arena's unused room, or where a run sits, does not matter).
impl PartialEq for Graph {
    fn eq(&self, other: &Graph) -> bool {
        self.root == other.root
            && self.nodes.len() == other.nodes.len()
            && self.hints == other.hints
            && self.interned == other.interned
            && self.ids().all(|id| self.same_value(id, other, id))
    }
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
        self.add_with(|| v)
    }

    /// Adds the node `make` returns, made after its slot exists: a value
    /// built before a push that may grow the vector is kept on the stack
    /// across the grow call and then copied in 16-byte loads that overlap its
    /// narrower stores, which the CPU cannot forward. perf put most of a row
    /// batch's decode time on those loads.
    #[inline(always)]
    pub(crate) fn add_with(&mut self, make: impl FnOnce() -> Value) -> NodeId {
        let id = u32::try_from(self.nodes.len()).expect("graph holds at most u32::MAX nodes");
        self.nodes.push(ManuallyDrop::new(Value::None));
        let v = make();
        self.owners |= owns(&v);
        if let Some(slot) = self.nodes.last_mut() {
            *slot = ManuallyDrop::new(v);
        }
        NodeId(id)
    }

    /// Removes every node, keeping the allocations for reuse.
    pub fn clear(&mut self) {
        if self.owners {
            release(&mut self.nodes);
        }
        self.owners = false;
        self.nodes.clear();
        self.items.clear();
        self.pairs.clear();
        self.hints.clear();
        self.interned.clear();
        self.root = None;
    }

    /// Removes the nodes added after the first `len` (nothing may still refer to
    /// them). Their children's arena slots are left as unused room.
    pub fn truncate(&mut self, len: usize) {
        if self.owners && len < self.nodes.len() {
            release(&mut self.nodes[len..]);
        }
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

    /// Reserves room for `n` more container children in the item arena.
    pub fn reserve_items(&mut self, n: usize) {
        self.items.reserve(n);
    }

    /// The children of a tuple, list, set or frozenset.
    ///
    /// # Panics
    /// If `s` belongs to another graph and is out of range.
    #[inline]
    pub fn items(&self, s: Items) -> &[NodeId] {
        &self.items[s.0.range()]
    }

    /// The pairs of a dict.
    ///
    /// # Panics
    /// If `p` belongs to another graph and is out of range.
    #[inline]
    pub fn pairs(&self, p: Pairs) -> &[(NodeId, NodeId)] {
        &self.pairs[p.0.range()]
    }

    /// Children stored in the item arena, for a new container value.
    ///
    /// # Panics
    /// If the arena would pass `u32::MAX` slots (decoding checks first).
    ///
    /// Inlined so that the run comes back in registers (see
    /// [`new_built_run`]).
    #[inline]
    pub fn new_items(&mut self, ids: &[NodeId]) -> Items {
        new_built_run(&mut self.items, ids)
            .map(Items)
            .expect("item arena holds at most u32::MAX slots")
    }

    /// [`Graph::new_items`], refusing instead of panicking when the arena is full.
    #[inline]
    pub fn try_new_items(&mut self, ids: &[NodeId]) -> Result<Items, ArenaFull> {
        new_run(&mut self.items, ids).map(Items)
    }

    /// Pairs stored in the pair arena, for a new dict value.
    ///
    /// # Panics
    /// If the arena would pass `u32::MAX` slots (decoding checks first).
    pub fn new_pairs(&mut self, kv: &[(NodeId, NodeId)]) -> Pairs {
        self.try_new_pairs(kv)
            .expect("pair arena holds at most u32::MAX slots")
    }

    /// [`Graph::new_pairs`], refusing instead of panicking when the arena is full.
    pub fn try_new_pairs(&mut self, kv: &[(NodeId, NodeId)]) -> Result<Pairs, ArenaFull> {
        new_run(&mut self.pairs, kv).map(Pairs)
    }

    /// Adds a str, its bytes copied once. A short one is copied straight into
    /// its node: made on the stack first (`add(Value::Str(s.into()))`), its
    /// inline bytes were written by `memcpy` in narrow stores and then moved
    /// into the node in a wide load that stalled on them (perf: three quarters
    /// of `StreamEncoder::add_str`).
    pub fn add_str(&mut self, s: &str) -> NodeId {
        if !PyStr::fits_inline(s.len()) {
            return self.add(Value::Str(PyStr::from(s)));
        }
        let id = self.add_with(|| Value::Str(PyStr::from_window([0; PyStr::WINDOW], 0)));
        if let Some(slot) = self.nodes.last_mut() {
            if let Value::Str(p) = &mut **slot {
                let filled = p.fill_inline(s.as_bytes());
                debug_assert!(filled);
            }
        }
        id
    }

    /// Adds a tuple of `ids`. The value is made after its slot exists (see
    /// [`Graph::add_with`]): made before, it was one more store-forwarding
    /// stall per record of an AutoBatched encode through the graph.
    pub fn add_tuple(&mut self, ids: &[NodeId]) -> NodeId {
        let s = self.new_items(ids);
        self.add_with(|| Value::Tuple(s))
    }

    /// Adds a list of `ids`.
    pub fn add_list(&mut self, ids: &[NodeId]) -> NodeId {
        let s = self.new_items(ids);
        self.add_with(|| Value::List(s))
    }

    /// Adds a set of `ids`, in this order.
    pub fn add_set(&mut self, ids: &[NodeId]) -> NodeId {
        let s = self.new_items(ids);
        self.add_with(|| Value::Set(s))
    }

    /// Adds a frozenset of `ids`, in this order.
    pub fn add_frozenset(&mut self, ids: &[NodeId]) -> NodeId {
        let s = self.new_items(ids);
        self.add_with(|| Value::FrozenSet(s))
    }

    /// Adds a dict of `kv`, in this order.
    pub fn add_dict(&mut self, kv: &[(NodeId, NodeId)]) -> NodeId {
        let p = self.new_pairs(kv);
        self.add(Value::Dict(p))
    }

    /// The children of `id` if it is a tuple, list, set or frozenset.
    pub fn seq_items(&self, id: NodeId) -> Option<&[NodeId]> {
        match self.try_get(id)? {
            Value::Tuple(s) | Value::List(s) | Value::Set(s) | Value::FrozenSet(s) => {
                Some(self.items(*s))
            }
            _ => None,
        }
    }

    /// Appends children to the tuple, list, set or frozenset `id` (a tuple only
    /// while it is being built, e.g. to close a cycle). Returns `Ok(false)`,
    /// changing nothing, when `id` is not one of those.
    ///
    /// # Panics
    /// If `id` is out of range.
    pub fn extend_items(&mut self, id: NodeId, more: &[NodeId]) -> Result<bool, ArenaFull> {
        let (Value::Tuple(s) | Value::List(s) | Value::Set(s) | Value::FrozenSet(s)) =
            &mut *self.nodes[id.index()]
        else {
            return Ok(false);
        };
        extend_run(&mut self.items, &mut s.0, more, NodeId(u32::MAX))?;
        Ok(true)
    }

    /// Replaces the children of the tuple, list, set or frozenset `id` (in place
    /// when they fit its run). Returns `Ok(false)`, changing nothing, when `id`
    /// is not one of those.
    ///
    /// # Panics
    /// If `id` is out of range.
    pub fn replace_items(&mut self, id: NodeId, ids: &[NodeId]) -> Result<bool, ArenaFull> {
        let (Value::Tuple(s) | Value::List(s) | Value::Set(s) | Value::FrozenSet(s)) =
            &mut *self.nodes[id.index()]
        else {
            return Ok(false);
        };
        let mut run = Run { len: 0, ..s.0 };
        extend_run(&mut self.items, &mut run, ids, NodeId(u32::MAX))?;
        s.0 = run;
        Ok(true)
    }

    /// Appends pairs to the dict `id`. Returns `Ok(false)`, changing nothing,
    /// when `id` is not a dict.
    ///
    /// # Panics
    /// If `id` is out of range.
    pub fn extend_pairs(
        &mut self,
        id: NodeId,
        more: &[(NodeId, NodeId)],
    ) -> Result<bool, ArenaFull> {
        let Value::Dict(p) = &mut *self.nodes[id.index()] else {
            return Ok(false);
        };
        let fill = (NodeId(u32::MAX), NodeId(u32::MAX));
        extend_run(&mut self.pairs, &mut p.0, more, fill)?;
        Ok(true)
    }

    /// Slots used by the item arena (children of every container, plus room
    /// left by moved runs): what decoding limits.
    pub fn item_slots(&self) -> usize {
        self.items.len()
    }

    /// Slots used by the pair arena.
    pub fn pair_slots(&self) -> usize {
        self.pairs.len()
    }

    /// Whether node `a` of this graph and node `b` of `other` are the same
    /// value one level deep: same variant and payload, containers with the
    /// same child ids in the same order. Floats are compared by their bits, as
    /// they are kept: a NaN is the same as itself, `-0.0` is not `0.0`.
    pub fn same_value(&self, a: NodeId, other: &Graph, b: NodeId) -> bool {
        match (self.get(a), other.get(b)) {
            (Value::Tuple(x), Value::Tuple(y))
            | (Value::List(x), Value::List(y))
            | (Value::Set(x), Value::Set(y))
            | (Value::FrozenSet(x), Value::FrozenSet(y)) => self.items(*x) == other.items(*y),
            (Value::Dict(x), Value::Dict(y)) => self.pairs(*x) == other.pairs(*y),
            (Value::None, Value::None) => true,
            (Value::Bool(x), Value::Bool(y)) => x == y,
            (Value::Int(x), Value::Int(y)) => x == y,
            (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
            (Value::Str(x), Value::Str(y)) => x == y,
            (Value::Bytes(x), Value::Bytes(y)) | (Value::ByteArray(x), Value::ByteArray(y)) => {
                x == y
            }
            (
                Value::Global { module, name },
                Value::Global {
                    module: m2,
                    name: n2,
                },
            ) => module == m2 && name == n2,
            (Value::Object(x), Value::Object(y)) => x == y,
            (Value::PersId(x), Value::PersId(y)) => x == y,
            (Value::Ext(x), Value::Ext(y)) => x == y,
            (
                Value::Buffer { index, readonly },
                Value::Buffer {
                    index: i2,
                    readonly: r2,
                },
            ) => index == i2 && readonly == r2,
            _ => false,
        }
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
        let args = self.add_tuple(&args);
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
        self.nodes.get(id.index()).map(|v| &**v)
    }

    /// Mutable access, for building cycles after the fact.
    pub fn get_mut(&mut self, id: NodeId) -> &mut Value {
        // The caller may store anything there.
        self.owners = true;
        &mut self.nodes[id.index()]
    }

    /// Mutable access for changing a node in place (a list's run, an
    /// object's state, a buffer's flag), never to store a value that owns
    /// memory where there was none: the graph's drop would not visit it
    /// (debug builds check).
    pub(crate) fn node_mut(&mut self, id: NodeId) -> &mut Value {
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
            Value::Tuple(v) | Value::List(v) | Value::Set(v) | Value::FrozenSet(v) => {
                out.extend(self.items(*v))
            }
            Value::Dict(kv) => self
                .pairs(*kv)
                .iter()
                .for_each(|(k, v)| out.extend([*k, *v])),
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

impl Graph {
    /// Node `id` of `src` as a value of this graph, with every child id passed
    /// through `f` (for copying nodes between graphs): a container's children
    /// are written into this graph's arena.
    ///
    /// # Panics
    /// If `id` is out of range in `src`, or this graph's arena is full.
    pub fn import_value(
        &mut self,
        src: &Graph,
        id: NodeId,
        mut f: impl FnMut(NodeId) -> NodeId,
    ) -> Value {
        let v = match src.get(id).clone() {
            Value::Tuple(s) => Value::Tuple(self.copy_items(src, s, &mut f)),
            Value::List(s) => Value::List(self.copy_items(src, s, &mut f)),
            Value::Set(s) => Value::Set(self.copy_items(src, s, &mut f)),
            Value::FrozenSet(s) => Value::FrozenSet(self.copy_items(src, s, &mut f)),
            Value::Dict(p) => {
                let kv: Vec<(NodeId, NodeId)> =
                    src.pairs(p).iter().map(|&(k, v)| (f(k), f(v))).collect();
                Value::Dict(self.new_pairs(&kv))
            }
            other => other.map_children(f),
        };
        v
    }

    fn copy_items(&mut self, src: &Graph, s: Items, f: &mut impl FnMut(NodeId) -> NodeId) -> Items {
        let ids: Vec<NodeId> = src.items(s).iter().map(|&c| f(c)).collect();
        self.new_items(&ids)
    }
}

impl Value {
    /// The same value with every child id passed through `f`. Containers are
    /// returned as they are: their children live in a graph's arena, so
    /// [`Graph::import_value`] is what copies those.
    fn map_children(self, mut f: impl FnMut(NodeId) -> NodeId) -> Value {
        match self {
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
        let args = self.items(*args);
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
        match (builtins, module.as_bytes(), name.as_bytes(), args) {
            (true, _, b"set" | b"frozenset", items) if items.len() <= 1 => {
                let elems = match items.first().and_then(|&a| self.try_get(a)) {
                    None => Vec::new(),
                    Some(Value::List(v) | Value::Tuple(v)) => self.items(*v).to_vec(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn int(g: &mut Graph, v: i64) -> NodeId {
        g.add(Value::Int(Int::Small(v)))
    }

    /// A graph drops what its nodes own however the owner got in: added,
    /// stored through `get_mut` over a node that owned nothing, cleared or
    /// truncated away; and a graph without owners drops without a visit.
    #[test]
    fn owned_memory_is_freed_however_it_was_stored() {
        let shared = Bytes::from(vec![7u8; 100]);
        let held = |g: Graph| {
            drop(g);
            shared.is_unique()
        };
        let mut g = Graph::new();
        int(&mut g, 1);
        g.add(Value::Bytes(shared.clone()));
        assert!(held(g));
        let mut g = Graph::new();
        let n = int(&mut g, 1);
        *g.get_mut(n) = Value::Bytes(shared.clone());
        assert!(held(g));
        let mut g = Graph::new();
        g.add(Value::Bytes(shared.clone()));
        g.clear();
        assert!(shared.is_unique());
        int(&mut g, 2);
        assert!(!g.owners);
        assert!(held(g));
        let mut g = Graph::new();
        int(&mut g, 1);
        g.add(Value::Bytes(shared.clone()));
        g.truncate(1);
        assert!(shared.is_unique());
        let mut g = Graph::new();
        int(&mut g, 1);
        g.add(Value::Str(PyStr::from("short")));
        assert!(!g.owners);
        g.add(Value::Str(PyStr::from("a str too long to be kept inline")));
        assert!(g.owners);
    }

    #[test]
    fn interleaved_appends_keep_every_container_whole_and_the_arena_linear() {
        // Two lists and a set grown in turns, one child at a time: each append
        // lands after the others' runs, so runs move; they must keep their
        // children and order, and the moves must stay amortized.
        let mut g = Graph::new();
        let a = g.add_list(&[]);
        let b = g.add_list(&[]);
        let s = g.add_set(&[]);
        let n = 10_000;
        for i in 0..n {
            let x = int(&mut g, i);
            for id in [a, b, s] {
                assert_eq!(g.extend_items(id, &[x]), Ok(true));
            }
        }
        for id in [a, b, s] {
            let items = g.seq_items(id).unwrap();
            assert_eq!(items.len(), n as usize);
            assert!(items
                .iter()
                .enumerate()
                .all(|(i, &c)| matches!(g.get(c), Value::Int(Int::Small(v)) if *v == i as i64)));
        }
        // Each run's room is at most twice its length, and the rooms it left
        // behind when it moved sum to less than its own: at most 4 slots per child.
        assert!(
            g.item_slots() <= 4 * 3 * n as usize,
            "{} slots",
            g.item_slots()
        );
    }

    #[test]
    fn dict_pairs_grow_like_items() {
        let mut g = Graph::new();
        let d = g.add_dict(&[]);
        let e = g.add_dict(&[]);
        for i in 0..1000 {
            let k = int(&mut g, i);
            assert_eq!(g.extend_pairs(d, &[(k, k)]), Ok(true));
            assert_eq!(g.extend_pairs(e, &[(k, d)]), Ok(true));
        }
        let Value::Dict(p) = g.get(d) else { panic!() };
        assert_eq!(g.pairs(*p).len(), 1000);
        assert!(g.pairs(*p).iter().all(|(k, v)| k == v));
        assert!(g.pair_slots() <= 4 * 2 * 1000, "{} slots", g.pair_slots());
        // Not a dict: nothing changes.
        let l = g.add_list(&[]);
        assert_eq!(g.extend_pairs(l, &[(d, d)]), Ok(false));
    }

    #[test]
    fn replacing_items_in_place_and_beyond_the_run() {
        let mut g = Graph::new();
        let xs: Vec<NodeId> = (0..5).map(|i| int(&mut g, i)).collect();
        let t = g.add_tuple(&xs);
        let after = g.add_list(&xs[..1]);
        assert_eq!(g.replace_items(t, &xs[..2]), Ok(true));
        assert_eq!(g.seq_items(t).unwrap(), &xs[..2]);
        assert_eq!(
            g.replace_items(t, &[xs[4], xs[3], xs[2], xs[1], xs[0], xs[0]]),
            Ok(true)
        );
        assert_eq!(
            g.seq_items(t).unwrap(),
            &[xs[4], xs[3], xs[2], xs[1], xs[0], xs[0]]
        );
        // The list after it was not touched by the move.
        assert_eq!(g.seq_items(after).unwrap(), &xs[..1]);
        let i = xs[0];
        assert_eq!(g.replace_items(i, &xs), Ok(false));
    }

    #[test]
    fn graphs_compare_by_contents_not_by_where_runs_sit() {
        // The same values, one built directly, one through a moved run.
        let mut a = Graph::new();
        let x = int(&mut a, 1);
        let l = a.add_list(&[x, x]);
        a.set_root(l);
        let mut b = Graph::new();
        let y = int(&mut b, 1);
        let m = b.add_list(&[]);
        b.new_items(&[y, y, y]); // other children in between
        b.extend_items(m, &[y]).unwrap();
        b.extend_items(m, &[y]).unwrap();
        b.set_root(m);
        assert_eq!(a, b);
        b.extend_items(m, &[y]).unwrap();
        assert_ne!(a, b);
        // Copying between graphs writes the children into the target's arena.
        let mut c = Graph::new();
        c.new_items(&[NodeId(0); 7]);
        let z = c.add(Value::None);
        let v = c.import_value(&a, l, |_| z);
        let id = c.add(v);
        assert_eq!(c.seq_items(id).unwrap(), &[z, z]);
    }

    /// `add_str` writes a short str in place and `new_items` copies short
    /// runs by fixed-size arms: both must give what the general forms give,
    /// at every length around the inline limit and the arms' limit.
    #[test]
    fn add_str_and_short_runs_equal_their_general_forms() {
        let long = "x".repeat(100);
        let texts = [
            "",
            "a",
            "name-123456",
            "é",
            "ab€ç\u{1F600}",
            &long[..22],
            &long[..23],
            &long[..24],
            &long,
        ];
        for t in texts {
            let mut a = Graph::new();
            let id = a.add_str(t);
            a.set_root(id);
            let mut b = Graph::new();
            let id = b.add(Value::Str(PyStr::from(t)));
            b.set_root(id);
            assert_eq!(a, b, "{t:?}");
            match a.get(id) {
                Value::Str(s) => assert_eq!(s.as_bytes(), t.as_bytes()),
                other => panic!("{other:?}"),
            }
        }
        for n in 0..=7u32 {
            let mut g = Graph::new();
            let ids: Vec<NodeId> = (0..n).map(|i| int(&mut g, i64::from(i) * 7)).collect();
            g.new_items(&[ids.first().copied().unwrap_or(NodeId(0))]);
            let t = g.add_tuple(&ids);
            let l = g.add_list(&ids);
            assert_eq!(g.seq_items(t).unwrap(), &ids[..], "tuple of {n}");
            assert_eq!(g.seq_items(l).unwrap(), &ids[..], "list of {n}");
        }
    }

    /// Floats are kept as bits, so graphs compare them as bits: the
    /// `pickle_decode` fuzz target's comparison of the decoder's two paths
    /// failed on a NaN they had both decoded alike.
    #[test]
    fn floats_compare_by_their_bits() {
        let graph = |x: f64| {
            let mut g = Graph::new();
            let id = g.add(Value::Float(x));
            g.set_root(id);
            g
        };
        assert_eq!(graph(f64::NAN), graph(f64::NAN));
        assert_ne!(
            graph(f64::NAN),
            graph(f64::from_bits(f64::NAN.to_bits() | 1))
        );
        assert_ne!(graph(0.0), graph(-0.0));
        assert_eq!(graph(-0.0), graph(-0.0));
    }

    #[test]
    fn dropping_truncating_and_clearing_release_what_nodes_own() {
        // Nodes are kept as ManuallyDrop: whatever a node owns must still be
        // released, here seen as the shared buffer becoming unique again.
        let buf = Bytes::from(vec![b'a'; 64]);
        let fill = |g: &mut Graph| {
            // Long enough to share the buffer (short ones are inline).
            let s = g.add(Value::Str(PyStr::from_validated(buf.slice(0..40))));
            g.add(Value::Str(PyStr::from_validated(buf.slice(0..3))));
            let b = g.add(Value::Bytes(buf.slice(1..9)));
            g.add(Value::ByteArray(buf.clone()));
            g.add(Value::Int(Int::Big(BigInt::from(u64::MAX) * 7)));
            let args = g.add_tuple(&[s, b]);
            let callable = g.global("m", "f");
            g.add(Value::Object(Box::new(Object::new(Construct::Reduce {
                callable,
                args,
            }))));
            g.add(Value::PersId(PersId::Text(PyStr::from_validated(
                buf.slice(2..40),
            ))));
        };
        let mut g = Graph::new();
        fill(&mut g);
        assert!(!buf.is_unique());
        let copy = g.clone();
        drop(g);
        assert!(!buf.is_unique(), "the clone still holds its own references");
        assert_eq!(copy.len(), 11);
        drop(copy);
        assert!(buf.is_unique());

        let mut g = Graph::new();
        let keep = g.add(Value::Int(Int::Small(1)));
        fill(&mut g);
        g.truncate(1);
        assert!(buf.is_unique());
        assert!(matches!(g.get(keep), Value::Int(Int::Small(1))));
        fill(&mut g);
        g.clear();
        assert!(buf.is_unique());
        assert!(g.is_empty());
    }
}
