//! The vocabulary of the known-object recognizers: a [`Shape`] (text around
//! child values), the [`Ctx`] they read the graph through, and the [`Call`]
//! every reduce form is normalized to.
//!
//! Every form first becomes a [`Call`]: the class or function after
//! `fix_imports`, whether it is `cls(*args)` or `cls.__new__(cls, *args)`
//! (NEWOBJ, `copyreg.__newobj__`, `copyreg._reconstructor`), and what was
//! applied afterwards (appends, set items, BUILD states). Each type's module
//! then decides whether the call is one it can show exactly.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use super::super::pystr::PyStr;
use super::super::value::{Construct, Graph, Int, NodeId, Object, State, Value};
use super::names::{resolve, Name};
use super::schema::DType;

/// A piece of a known object's repr: literal text or a child value's repr.
#[derive(Debug, Clone)]
pub(crate) enum Piece {
    Text(Cow<'static, str>),
    Node(NodeId),
}

/// How a known object prints.
#[derive(Debug, Clone)]
pub(crate) struct Shape {
    pub(crate) pieces: Vec<Piece>,
    /// What CPython prints when the object is met again inside itself
    /// (`Py_ReprEnter`), or `None` when Python would recurse without end.
    pub(crate) recursive: Option<&'static str>,
}

impl Shape {
    pub(crate) fn text(s: impl Into<Cow<'static, str>>) -> Shape {
        Shape {
            pieces: vec![Piece::Text(s.into())],
            recursive: None,
        }
    }
    pub(crate) fn new() -> Shape {
        Shape {
            pieces: Vec::new(),
            recursive: None,
        }
    }
    pub(crate) fn recursive(mut self, text: &'static str) -> Shape {
        self.recursive = Some(text);
        self
    }
    pub(crate) fn push(&mut self, s: impl Into<Cow<'static, str>>) -> &mut Shape {
        self.pieces.push(Piece::Text(s.into()));
        self
    }
    pub(crate) fn node(&mut self, id: NodeId) -> &mut Shape {
        self.pieces.push(Piece::Node(id));
        self
    }
    /// `a, b, c` for the given nodes.
    pub(crate) fn joined(&mut self, items: &[NodeId]) -> &mut Shape {
        for (i, &it) in items.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.node(it);
        }
        self
    }
}

/// What the recognizers may read.
pub(crate) struct Ctx<'g> {
    pub(crate) g: &'g Graph,
    /// Protocol below 3 or unknown: Python 2 names are mapped.
    pub(crate) fix_imports: bool,
    /// Protocol known to be below 3: STRING/BINSTRING (bytes nodes) load as
    /// ASCII `str`, as `pickle.loads`'s default `encoding='ASCII'` does.
    pub(crate) py2_str: bool,
    pub(crate) max_int_digits: usize,
    /// Spark schemas already parsed, by the node of their
    /// `_parse_datatype_json_string` call (every row of a batch shares one).
    pub(crate) schemas: RefCell<HashMap<NodeId, Option<Rc<DType>>>>,
    /// Equality classes of the set elements and dict keys met so far, shared
    /// by the whole repr so each node is classified once.
    pub(crate) classes: RefCell<super::classes::Classes<'g>>,
}

impl<'g> Ctx<'g> {
    /// The children of a container of this graph.
    pub(crate) fn items(&self, s: crate::pickle::Items) -> &'g [NodeId] {
        self.g.items(s)
    }
    /// The pairs of a dict of this graph.
    pub(crate) fn pairs(&self, p: crate::pickle::Pairs) -> &'g [(NodeId, NodeId)] {
        self.g.pairs(p)
    }
    pub(crate) fn get(&self, id: NodeId) -> Option<&'g Value> {
        self.g.try_get(id)
    }
    pub(crate) fn tuple(&self, id: NodeId) -> Option<&'g [NodeId]> {
        match self.get(id)? {
            Value::Tuple(t) => Some(self.g.items(*t)),
            _ => None,
        }
    }
    /// An int (bools count: `operator.index(True) == 1`).
    pub(crate) fn int(&self, id: NodeId) -> Option<Int> {
        match self.get(id)? {
            Value::Int(i) => Some(i.clone()),
            Value::Bool(b) => Some(Int::Small(i64::from(*b))),
            _ => None,
        }
    }
    pub(crate) fn small(&self, id: NodeId) -> Option<i64> {
        self.int(id)?.as_i64()
    }
    pub(crate) fn is_none(&self, id: NodeId) -> bool {
        matches!(self.get(id), Some(Value::None))
    }
    /// A `str` as UTF-8 (surrogatepass) bytes, Python 2 ASCII strings included.
    pub(crate) fn text(&self, id: NodeId) -> Option<&'g [u8]> {
        match self.get(id)? {
            Value::Str(s) => Some(s.as_bytes()),
            Value::Bytes(b) if self.py2_str && b.is_ascii() => Some(b),
            _ => None,
        }
    }
    /// A `str` as a Rust string (no lone surrogates).
    pub(crate) fn string(&self, id: NodeId) -> Option<&'g str> {
        std::str::from_utf8(self.text(id)?).ok()
    }
    /// `bytes`, or its protocol-2 spelling `_codecs.encode(text, 'latin1')`,
    /// or a `str` of code points below 256 (datetime accepts both as state).
    pub(crate) fn state_bytes(&self, id: NodeId) -> Option<Vec<u8>> {
        match self.get(id)? {
            // A non-ASCII Python 2 string makes `pickle.loads` raise first.
            Value::Bytes(b) if !self.py2_str || b.is_ascii() => Some(b.to_vec()),
            Value::Str(s) => latin1(s),
            Value::Object(_) => match self.g.builtin(id)? {
                super::super::value::Builtin::Bytes(b) => Some(b),
                _ => None,
            },
            _ => None,
        }
    }
    /// A global's name after `fix_imports`.
    pub(crate) fn global(&self, id: NodeId) -> Option<Name<'g>> {
        let (m, n) = self.g.global_name(id)?;
        Some(resolve(
            std::str::from_utf8(m.as_bytes()).ok()?,
            std::str::from_utf8(n.as_bytes()).ok()?,
            self.fix_imports,
        ))
    }
}

fn latin1(s: &PyStr) -> Option<Vec<u8>> {
    s.code_points().map(|c| u8::try_from(c).ok()).collect()
}

/// An object's construction in one normalized form.
pub(crate) struct Call<'g> {
    pub(crate) target: Name<'g>,
    /// `cls.__new__(cls, *args)` rather than `cls(*args)`.
    pub(crate) new: bool,
    /// For `copyreg._reconstructor(cls, base, state)`: `base`.
    pub(crate) base: Option<Name<'g>>,
    pub(crate) args: Vec<NodeId>,
    pub(crate) kwargs: Option<NodeId>,
    pub(crate) obj: &'g Object,
}

impl Call<'_> {
    /// Nothing was appended, set or built after construction.
    pub(crate) fn bare(&self) -> bool {
        self.obj.list_items.is_empty()
            && self.obj.dict_items.is_empty()
            && self.obj.states.is_empty()
    }
    /// The BUILD state, when exactly one was applied and nothing else.
    pub(crate) fn only_state(&self) -> Option<NodeId> {
        match (
            self.obj.list_items.is_empty() && self.obj.dict_items.is_empty(),
            &self.obj.states[..],
        ) {
            (true, [State::Build(s)]) => Some(*s),
            _ => None,
        }
    }
    pub(crate) fn no_kwargs(&self, cx: &Ctx<'_>) -> bool {
        match self.kwargs {
            None => true,
            Some(k) => matches!(cx.get(k), Some(Value::Dict(kv)) if kv.is_empty()),
        }
    }
}

/// `getattr(cls, 'name')` (how protocols below 4 reach a class attribute such
/// as `ZoneInfo._unpickle`) as the dotted name `cls.name`.
fn attribute<'g>(cx: &Ctx<'g>, id: NodeId) -> Option<Name<'g>> {
    let Value::Object(o) = cx.get(id)? else {
        return None;
    };
    let Construct::Reduce { callable, args } = &o.construct else {
        return None;
    };
    if !cx.global(*callable)?.is("builtins", "getattr") || !o.states.is_empty() {
        return None;
    }
    let [owner, attr] = cx.tuple(*args)? else {
        return None;
    };
    let owner = cx.global(*owner)?;
    let attr = cx.string(*attr)?;
    Some(Name {
        module: owner.module,
        name: std::borrow::Cow::Owned(format!("{}.{attr}", owner.name)),
    })
}

/// The object at `id` as a [`Call`], if its callable is a global.
pub(crate) fn call<'g>(cx: &Ctx<'g>, id: NodeId) -> Option<Call<'g>> {
    let Some(Value::Object(obj)) = cx.get(id) else {
        return None;
    };
    let plain = |target, new, args: Vec<NodeId>, kwargs| Call {
        target,
        new,
        base: None,
        args,
        kwargs,
        obj,
    };
    Some(match &obj.construct {
        Construct::Reduce { callable, args } => {
            let target = cx.global(*callable).or_else(|| attribute(cx, *callable))?;
            let args = cx.tuple(*args)?.to_vec();
            if target.is("copyreg", "_reconstructor") && args.len() == 3 {
                let cls = cx.global(args[0])?;
                let base = cx.global(args[1])?;
                let rest = if cx.is_none(args[2]) {
                    vec![]
                } else {
                    vec![args[2]]
                };
                return Some(Call {
                    target: cls,
                    new: true,
                    base: Some(base),
                    args: rest,
                    kwargs: None,
                    obj,
                });
            }
            if target.is("copyreg", "__newobj__") && !args.is_empty() {
                return Some(plain(cx.global(args[0])?, true, args[1..].to_vec(), None));
            }
            plain(target, false, args, None)
        }
        Construct::NewObj { cls, args } => {
            plain(cx.global(*cls)?, true, cx.tuple(*args)?.to_vec(), None)
        }
        Construct::NewObjEx { cls, args, kwargs } => plain(
            cx.global(*cls)?,
            true,
            cx.tuple(*args)?.to_vec(),
            Some(*kwargs),
        ),
        Construct::Obj { cls, args } => plain(cx.global(*cls)?, false, args.clone(), None),
        Construct::Inst { module, name, args } => plain(
            resolve(
                std::str::from_utf8(module.as_bytes()).ok()?,
                std::str::from_utf8(name.as_bytes()).ok()?,
                cx.fix_imports,
            ),
            false,
            args.clone(),
            None,
        ),
    })
}
