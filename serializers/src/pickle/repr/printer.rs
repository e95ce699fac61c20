//! The iterative walk that writes a repr: builtin values directly, known
//! objects through their [`Shape`], everything else as the call that builds it.

use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt::Write;

use super::super::limits::Limits;
use super::super::pytext::float_repr;
use super::super::pytext::{self, write_bytearray_repr, write_bytes_repr};
use super::super::value::{Builtin, Construct, Graph, NodeId, PersId, State, Value};
use super::classes::Classes;
use super::keys::{dedup_items, dedup_pairs};
use super::known::recognize;
use super::names::global_repr;
use super::output::{int_repr, Fidelity, Repr, ReprError, ReprOptions};
use super::setorder::cpython_order;
use super::shape::{Ctx, Piece};

enum Work {
    Node(NodeId),
    Text(&'static str),
    Owned(String),
    Leave(NodeId),
}

pub(super) struct Printer<'a> {
    cx: Ctx<'a>,
    opts: &'a ReprOptions,
    out: String,
    /// Containers being printed: meeting one again prints `[...]` as CPython's
    /// `Py_ReprEnter` does.
    active: HashSet<NodeId>,
    budget: u64,
    fidelity: Fidelity,
}

impl<'a> Printer<'a> {
    pub(super) fn new(graph: &'a Graph, opts: &'a ReprOptions) -> Printer<'a> {
        Printer {
            cx: Ctx {
                g: graph,
                fix_imports: opts.protocol.is_none_or(|p| p < 3),
                py2_str: opts.protocol.is_some_and(|p| p < 3),
                max_int_digits: opts.limits.max_int_digits,
                schemas: Default::default(),
                classes: RefCell::new(Classes::new(graph)),
            },
            opts,
            out: String::new(),
            active: HashSet::new(),
            budget: opts.limits.max_expanded,
            fidelity: Fidelity::default(),
        }
    }

    fn get(&self, id: NodeId) -> Result<&'a Value, ReprError> {
        self.cx.g.try_get(id).ok_or(ReprError::Dangling(id.0))
    }

    pub(super) fn run(mut self, root: NodeId) -> Result<Repr, ReprError> {
        // The node budget alone does not bound the text: one shared node can
        // print thousands of digits each time it is reached (found by the
        // pickle_decode fuzz target: a 1 900-digit int under a DAG of tuples
        // printed 124 MB within 65 536 nodes). So the text is bounded too, at
        // 32 bytes a node of the budget, and at the limits' own text bound.
        let mut work = vec![Work::Node(root)];
        while let Some(w) = work.pop() {
            match w {
                Work::Text(t) => self.out.push_str(t),
                Work::Owned(t) => self.out.push_str(&t),
                Work::Leave(id) => {
                    self.active.remove(&id);
                }
                Work::Node(id) => {
                    may_visit(&self.opts.limits, self.budget, self.out.len())?;
                    self.budget -= 1;
                    self.node(id, &mut work)?;
                }
            }
        }
        Ok(Repr {
            text: self.out,
            fidelity: self.fidelity,
        })
    }

    /// Schedules `open items… close`, with `, ` between items.
    fn seq(
        &mut self,
        work: &mut Vec<Work>,
        id: NodeId,
        open: &'static str,
        items: &[NodeId],
        close: &'static str,
    ) {
        self.active.insert(id);
        work.push(Work::Leave(id));
        work.push(Work::Text(close));
        for (i, &it) in items.iter().enumerate().rev() {
            work.push(Work::Node(it));
            if i > 0 {
                work.push(Work::Text(", "));
            }
        }
        self.out.push_str(open);
    }

    /// A set's elements in the order CPython iterates them.
    fn set_order(&mut self, items: &[NodeId]) -> Vec<NodeId> {
        match cpython_order(&self.cx, items) {
            Some(order) => order,
            None => {
                let kept = dedup_items(&self.cx, items);
                if kept.len() > 1 {
                    self.fidelity.unordered_sets += 1;
                }
                kept
            }
        }
    }

    fn set(&mut self, work: &mut Vec<Work>, id: NodeId, items: &[NodeId], frozen: bool) {
        let recursive = self.active.contains(&id);
        match (frozen, recursive, items.is_empty()) {
            (false, true, _) => self.out.push_str("set(...)"),
            (true, true, _) => self.out.push_str("frozenset(...)"),
            (false, _, true) => self.out.push_str("set()"),
            (true, _, true) => self.out.push_str("frozenset()"),
            (false, _, false) => {
                let order = self.set_order(items);
                self.seq(work, id, "{", &order, "}")
            }
            (true, _, false) => {
                let order = self.set_order(items);
                self.seq(work, id, "frozenset({", &order, "})")
            }
        }
    }

    fn node(&mut self, id: NodeId, work: &mut Vec<Work>) -> Result<(), ReprError> {
        let v = self.get(id)?;
        let recursive = self.active.contains(&id);
        match v {
            Value::None => self.out.push_str("None"),
            Value::Bool(b) => self.out.push_str(if *b { "True" } else { "False" }),
            Value::Int(i) => {
                let s = int_repr(i, self.opts.limits.max_int_digits)?;
                self.out.push_str(&s)
            }
            Value::Float(f) => self.out.push_str(&float_repr(*f)),
            Value::Str(s) => pytext::write_str_repr(&mut self.out, s.as_bytes()),
            // A Python 2 `str` loads as ASCII text; non-ASCII makes Python raise.
            Value::Bytes(b) if self.cx.py2_str && b.is_ascii() => {
                pytext::write_str_repr(&mut self.out, b)
            }
            Value::Bytes(b) => {
                if self.cx.py2_str {
                    self.fidelity.call_forms += 1;
                }
                write_bytes_repr(&mut self.out, b)
            }
            Value::ByteArray(b) => write_bytearray_repr(&mut self.out, b),
            Value::List(_) if recursive => self.out.push_str("[...]"),
            Value::List(items) => self.seq(work, id, "[", self.cx.items(*items), "]"),
            Value::Tuple(_) if recursive => self.out.push_str("(...)"),
            Value::Tuple(items) if items.len() == 1 => {
                self.seq(work, id, "(", self.cx.items(*items), ",)")
            }
            Value::Tuple(items) => self.seq(work, id, "(", self.cx.items(*items), ")"),
            Value::Dict(_) if recursive => self.out.push_str("{...}"),
            Value::Dict(kv) => {
                let kv = dedup_pairs(&self.cx, self.cx.pairs(*kv));
                self.pairs(work, id, "{", &kv, "}");
            }
            Value::Set(items) => self.set(work, id, self.cx.items(*items), false),
            Value::FrozenSet(items) => self.set(work, id, self.cx.items(*items), true),
            Value::Global { module, name } => {
                match self.cx.global(id).and_then(|n| global_repr(&n)) {
                    Some(text) => self.out.push_str(text),
                    None => {
                        self.fidelity.call_forms += 1;
                        let text = |n: &NodeId| {
                            self.cx
                                .g
                                .str_of(*n)
                                .map(|s| String::from_utf8_lossy(s.as_bytes()).into_owned())
                                .ok_or(ReprError::Dangling(n.0))
                        };
                        let (m, n) = (text(module)?, text(name)?);
                        let _ = write!(self.out, "{m}.{n}");
                    }
                }
            }
            Value::Object(o) => {
                if let Some(b) = self.cx.g.builtin(id) {
                    match b {
                        Builtin::Set(items) => self.set(work, id, &items, false),
                        Builtin::FrozenSet(items) => self.set(work, id, &items, true),
                        Builtin::Bytes(d) if self.cx.py2_str => {
                            // `_codecs.encode(...)` is real bytes even in protocol 2.
                            write_bytes_repr(&mut self.out, &d)
                        }
                        Builtin::Bytes(d) => write_bytes_repr(&mut self.out, &d),
                        Builtin::ByteArray(d) => write_bytearray_repr(&mut self.out, &d),
                    }
                    return Ok(());
                }
                if let Some(shape) = recognize(&self.cx, id)? {
                    if recursive {
                        match shape.recursive {
                            Some(t) => self.out.push_str(t),
                            None => {
                                self.fidelity.call_forms += 1;
                                self.out.push_str("...")
                            }
                        }
                        return Ok(());
                    }
                    // Text pieces are output too: charged like nodes.
                    self.budget = self
                        .budget
                        .checked_sub(shape.pieces.len() as u64)
                        .ok_or(ReprError::TooLarge(self.opts.limits.max_expanded))?;
                    self.active.insert(id);
                    work.push(Work::Leave(id));
                    for p in shape.pieces.into_iter().rev() {
                        work.push(match p {
                            Piece::Text(std::borrow::Cow::Borrowed(t)) => Work::Text(t),
                            Piece::Text(std::borrow::Cow::Owned(t)) => Work::Owned(t),
                            Piece::Node(n) => Work::Node(n),
                        });
                    }
                    return Ok(());
                }
                self.fidelity.call_forms += 1;
                if recursive {
                    self.out.push_str("...");
                    return Ok(());
                }
                self.call_form(work, id, o)?;
            }
            Value::PersId(PersId::Text(s)) => {
                self.fidelity.call_forms += 1;
                self.out.push_str("persistent_load(");
                pytext::write_str_repr(&mut self.out, s.as_bytes());
                self.out.push(')');
            }
            Value::PersId(PersId::Value(v)) => {
                self.fidelity.call_forms += 1;
                work.push(Work::Text(")"));
                work.push(Work::Node(*v));
                self.out.push_str("persistent_load(");
            }
            Value::Ext(code) => {
                self.fidelity.call_forms += 1;
                let _ = write!(self.out, "copyreg._extension_registry[{code}]");
            }
            Value::Buffer { index, readonly } => {
                self.fidelity.call_forms += 1;
                let _ = write!(
                    self.out,
                    "pickle.PickleBuffer(<out-of-band buffer {index}>)"
                );
                if *readonly {
                    self.out.push_str(".toreadonly()");
                }
            }
        }
        Ok(())
    }

    /// Schedules `open k: v, … close`.
    fn pairs(
        &mut self,
        work: &mut Vec<Work>,
        id: NodeId,
        open: &'static str,
        kv: &[(NodeId, NodeId)],
        close: &'static str,
    ) {
        self.active.insert(id);
        work.push(Work::Leave(id));
        work.push(Work::Text(close));
        for (i, (k, v)) in kv.iter().enumerate().rev() {
            work.push(Work::Node(*v));
            work.push(Work::Text(": "));
            work.push(Work::Node(*k));
            if i > 0 {
                work.push(Work::Text(", "));
            }
        }
        self.out.push_str(open);
    }

    /// An unknown object as the calls that build it:
    /// `callable(args).extend([…]).update({…}).__setstate__(state)`.
    fn call_form(
        &mut self,
        work: &mut Vec<Work>,
        id: NodeId,
        o: &'a super::super::value::Object,
    ) -> Result<(), ReprError> {
        self.active.insert(id);
        work.push(Work::Leave(id));
        // Tail first (the work stack is LIFO).
        for s in o.states.iter().rev() {
            match s {
                State::Build(st) => {
                    work.push(Work::Text(")"));
                    work.push(Work::Node(*st));
                    work.push(Work::Text(".__setstate__("));
                }
                State::Setter { setter, state } => {
                    work.push(Work::Text(")"));
                    work.push(Work::Node(*setter));
                    work.push(Work::Text(", setter="));
                    work.push(Work::Node(*state));
                    work.push(Work::Text(".__setstate__("));
                }
            }
        }
        if !o.dict_items.is_empty() {
            work.push(Work::Text("})"));
            for (i, (k, v)) in o.dict_items.iter().enumerate().rev() {
                work.push(Work::Node(*v));
                work.push(Work::Text(": "));
                work.push(Work::Node(*k));
                if i > 0 {
                    work.push(Work::Text(", "));
                }
            }
            work.push(Work::Text(".update({"));
        }
        if !o.list_items.is_empty() {
            work.push(Work::Text("])"));
            for (i, it) in o.list_items.iter().enumerate().rev() {
                work.push(Work::Node(*it));
                if i > 0 {
                    work.push(Work::Text(", "));
                }
            }
            work.push(Work::Text(".extend(["));
        }
        self.construct(&o.construct, work)
    }

    /// A callable in a call form: a global by the name the pickle gives it
    /// (not its repr, `<class 'int'>(…)` would read badly).
    fn callee(&self, id: NodeId) -> Work {
        match self.cx.g.global_name(id) {
            Some((m, n)) => Work::Owned(format!(
                "{}.{}",
                String::from_utf8_lossy(m.as_bytes()),
                String::from_utf8_lossy(n.as_bytes())
            )),
            None => Work::Node(id),
        }
    }

    /// Schedules `callable(args)` for an object's construction.
    fn construct(&mut self, c: &Construct, work: &mut Vec<Work>) -> Result<(), ReprError> {
        let call = |work: &mut Vec<Work>, args: &[NodeId]| {
            work.push(Work::Text(")"));
            for (i, a) in args.iter().enumerate().rev() {
                work.push(Work::Node(*a));
                if i > 0 {
                    work.push(Work::Text(", "));
                }
            }
            work.push(Work::Text("("));
        };
        match c {
            Construct::Reduce { callable, args }
            | Construct::NewObj {
                cls: callable,
                args,
            } => {
                match self.get(*args)? {
                    Value::Tuple(t) => call(work, self.cx.items(*t)),
                    _ => {
                        work.push(Work::Text(")"));
                        work.push(Work::Node(*args));
                        work.push(Work::Text("(*"));
                    }
                }
                if matches!(c, Construct::NewObj { .. }) {
                    work.push(Work::Text(".__new__"));
                }
                work.push(self.callee(*callable));
            }
            Construct::NewObjEx { cls, args, kwargs } => {
                work.push(Work::Text(")"));
                work.push(Work::Node(*kwargs));
                work.push(Work::Text(", **"));
                work.push(Work::Node(*args));
                work.push(Work::Text(".__new__(*"));
                work.push(self.callee(*cls));
            }
            Construct::Obj { cls, args } => {
                call(work, args);
                work.push(self.callee(*cls));
            }
            Construct::Inst { module, name, args } => {
                call(work, args);
                work.push(Work::Owned(format!(
                    "{}.{}",
                    String::from_utf8_lossy(module.as_bytes()),
                    String::from_utf8_lossy(name.as_bytes())
                )));
            }
        }
        Ok(())
    }
}

/// Whether the printer may visit one more node, with `budget` nodes left
/// and `text` bytes written: it stops when the node budget is spent, or the
/// text is past [`Limits::max_repr_text`] or past 32 bytes a node of
/// `max_expanded`, whichever is lower. The graph's printer and the flat
/// batch's ([`crate::pickle::flat::FlatRecord::repr_within`]) both ask
/// here, so that they stop alike.
pub(crate) fn may_visit(limits: &Limits, budget: u64, text: usize) -> Result<(), ReprError> {
    let per_node = limits.max_expanded.saturating_mul(32);
    if budget == 0 || text as u64 > per_node {
        Err(ReprError::TooLarge(limits.max_expanded))
    } else if text as u64 > limits.max_repr_text {
        Err(ReprError::TooLong(limits.max_repr_text))
    } else {
        Ok(())
    }
}
