//! Python `repr` of decoded values.
//!
//! For builtin types the text equals `repr(pickle.loads(data))`: CPython's quote
//! choice and escapes for `str` (its `isprintable` table) and `bytes`, the
//! shortest-round-trip float repr with its switch to exponent notation, `[...]`
//! for a container that contains itself, and the builtin reconstructions older
//! protocols use (`set([...])`, `_codecs.encode(s, 'latin1')`, `bytearray(b)`).
//! Other objects are shown readably as the calls that would build them, e.g.
//! `pyspark.sql.types._create_row(['a', 'b'], (1, 2))`; datetime, date, time,
//! timedelta and Decimal are shown as Python shows them. Nothing is executed.
//!
//! The walk is iterative and charged against [`Limits::max_expanded`], so deep,
//! cyclic or exponentially shared graphs cannot exhaust the stack or the memory.

use std::collections::HashSet;
use std::fmt::Write;

use num_traits::Signed;

use super::limits::Limits;
use super::pystr::PyStr;
use super::pytext::{self, write_bytearray_repr, write_bytes_repr};
use super::value::{Builtin, Construct, Graph, Int, NodeId, PersId, State, Value};

pub use super::pytext::{bytearray_repr, bytes_repr, float_repr, is_printable};

/// Why a repr could not be produced.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[allow(missing_docs)]
pub enum ReprError {
    #[error("the repr would expand more than {0} nodes")]
    TooLarge(u64),
    #[error("Exceeds the limit ({0} digits) for integer string conversion")]
    IntTooLong(usize),
    #[error("node {0} does not exist")]
    Dangling(u32),
}

/// `repr(v)` of a whole graph's root.
pub fn repr(graph: &Graph) -> Result<String, ReprError> {
    match graph.root() {
        Some(root) => repr_node(graph, root, &Limits::default()),
        None => Ok(String::new()),
    }
}

/// `repr` of one node.
pub fn repr_node(graph: &Graph, node: NodeId, limits: &Limits) -> Result<String, ReprError> {
    let mut p = Printer {
        graph,
        limits,
        out: String::new(),
        active: HashSet::new(),
        budget: limits.max_expanded,
    };
    p.run(node)?;
    Ok(p.out)
}

/// `repr(str)`.
pub fn str_repr(s: &PyStr) -> String {
    pytext::str_repr(s.as_bytes())
}

fn write_str_repr(out: &mut String, s: &PyStr) {
    pytext::write_str_repr(out, s.as_bytes())
}

/// `repr(int)`, refusing more than `max_digits` digits as CPython 3.11 does.
pub fn int_repr(v: &Int, max_digits: usize) -> Result<String, ReprError> {
    match v {
        Int::Small(v) => Ok(v.to_string()),
        Int::Big(b) => {
            // Cheap bound first: bits * log10(2) digits, give or take one.
            let bits = b.bits();
            if bits as f64 * std::f64::consts::LOG10_2 > max_digits as f64 + 1.0 {
                return Err(ReprError::IntTooLong(max_digits));
            }
            let s = b.to_string();
            let digits = s.len() - usize::from(b.is_negative());
            if digits > max_digits {
                return Err(ReprError::IntTooLong(max_digits));
            }
            Ok(s)
        }
    }
}

enum Work {
    Node(NodeId),
    Text(&'static str),
    Owned(String),
    Leave(NodeId),
}

struct Printer<'a> {
    graph: &'a Graph,
    limits: &'a Limits,
    out: String,
    /// Containers being printed: meeting one again prints `[...]` as CPython's
    /// `Py_ReprEnter` does.
    active: HashSet<NodeId>,
    budget: u64,
}

impl<'a> Printer<'a> {
    fn get(&self, id: NodeId) -> Result<&'a Value, ReprError> {
        self.graph.try_get(id).ok_or(ReprError::Dangling(id.0))
    }

    fn run(&mut self, root: NodeId) -> Result<(), ReprError> {
        let mut work = vec![Work::Node(root)];
        while let Some(w) = work.pop() {
            match w {
                Work::Text(t) => self.out.push_str(t),
                Work::Owned(t) => self.out.push_str(&t),
                Work::Leave(id) => {
                    self.active.remove(&id);
                }
                Work::Node(id) => {
                    if self.budget == 0 {
                        return Err(ReprError::TooLarge(self.limits.max_expanded));
                    }
                    self.budget -= 1;
                    self.node(id, &mut work)?;
                }
            }
        }
        Ok(())
    }

    /// Schedules `open items… close`, with `sep` between items.
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

    fn node(&mut self, id: NodeId, work: &mut Vec<Work>) -> Result<(), ReprError> {
        let v = self.get(id)?;
        let recursive = self.active.contains(&id);
        match v {
            Value::None => self.out.push_str("None"),
            Value::Bool(b) => self.out.push_str(if *b { "True" } else { "False" }),
            Value::Int(i) => {
                let s = int_repr(i, self.limits.max_int_digits)?;
                self.out.push_str(&s)
            }
            Value::Float(f) => self.out.push_str(&float_repr(*f)),
            Value::Str(s) => write_str_repr(&mut self.out, s),
            Value::Bytes(b) => write_bytes_repr(&mut self.out, b),
            Value::ByteArray(b) => write_bytearray_repr(&mut self.out, b),
            Value::List(items) if recursive => {
                let _ = items;
                self.out.push_str("[...]")
            }
            Value::List(items) => self.seq(work, id, "[", items, "]"),
            Value::Tuple(_) if recursive => self.out.push_str("(...)"),
            Value::Tuple(items) if items.len() == 1 => self.seq(work, id, "(", items, ",)"),
            Value::Tuple(items) => self.seq(work, id, "(", items, ")"),
            Value::Dict(_) if recursive => self.out.push_str("{...}"),
            Value::Dict(kv) => {
                self.active.insert(id);
                work.push(Work::Leave(id));
                work.push(Work::Text("}"));
                for (i, (k, v)) in kv.iter().enumerate().rev() {
                    work.push(Work::Node(*v));
                    work.push(Work::Text(": "));
                    work.push(Work::Node(*k));
                    if i > 0 {
                        work.push(Work::Text(", "));
                    }
                }
                self.out.push('{');
            }
            Value::Set(_) if recursive => self.out.push_str("set(...)"),
            Value::Set(items) if items.is_empty() => self.out.push_str("set()"),
            Value::Set(items) => self.seq(work, id, "{", items, "}"),
            Value::FrozenSet(_) if recursive => self.out.push_str("frozenset(...)"),
            Value::FrozenSet(items) if items.is_empty() => self.out.push_str("frozenset()"),
            Value::FrozenSet(items) => self.seq(work, id, "frozenset({", items, "})"),
            Value::Global { module, name } => {
                let m = self
                    .graph
                    .str_of(*module)
                    .ok_or(ReprError::Dangling(module.0))?;
                let n = self
                    .graph
                    .str_of(*name)
                    .ok_or(ReprError::Dangling(name.0))?;
                self.out.push_str(&String::from_utf8_lossy(m.as_bytes()));
                self.out.push('.');
                self.out.push_str(&String::from_utf8_lossy(n.as_bytes()));
            }
            Value::Object(_) if recursive => self.out.push_str("..."),
            Value::Object(o) => {
                if let Some(text) = self.builtin_object(id)? {
                    match text {
                        Known::Text(t) => self.out.push_str(&t),
                        Known::Items { open, items, close } => {
                            self.seq(work, id, open, &items, close)
                        }
                    }
                    return Ok(());
                }
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
                self.construct(&o.construct, work)?;
            }
            Value::PersId(PersId::Text(s)) => {
                self.out.push_str("persistent_load(");
                write_str_repr(&mut self.out, s);
                self.out.push(')');
            }
            Value::PersId(PersId::Value(v)) => {
                work.push(Work::Text(")"));
                work.push(Work::Node(*v));
                self.out.push_str("persistent_load(");
            }
            Value::Ext(code) => {
                let _ = write!(self.out, "copyreg._extension_registry[{code}]");
            }
            Value::Buffer { index, readonly } => {
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
        let args_of = |p: &Self, args: NodeId| -> Result<Option<Vec<NodeId>>, ReprError> {
            Ok(match p.get(args)? {
                Value::Tuple(t) => Some(t.clone()),
                _ => None,
            })
        };
        match c {
            Construct::Reduce { callable, args }
            | Construct::NewObj {
                cls: callable,
                args,
            } => {
                match args_of(self, *args)? {
                    Some(t) => call(work, &t),
                    None => {
                        work.push(Work::Text(")"));
                        work.push(Work::Node(*args));
                        work.push(Work::Text("(*"));
                    }
                }
                if matches!(c, Construct::NewObj { .. }) {
                    work.push(Work::Text(".__new__"));
                }
                work.push(Work::Node(*callable));
            }
            Construct::NewObjEx { cls, args, kwargs } => {
                work.push(Work::Text(")"));
                work.push(Work::Node(*kwargs));
                work.push(Work::Text(", **"));
                work.push(Work::Node(*args));
                work.push(Work::Text(".__new__(*"));
                work.push(Work::Node(*cls));
            }
            Construct::Obj { cls, args } => {
                call(work, args);
                work.push(Work::Node(*cls));
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

    /// Objects that `pickle.loads` turns into builtin values or into the
    /// datetime/decimal types, shown as Python shows those.
    fn builtin_object(&self, id: NodeId) -> Result<Option<Known>, ReprError> {
        let Value::Object(o) = self.get(id)? else {
            return Ok(None);
        };
        if !(o.list_items.is_empty() && o.dict_items.is_empty() && o.states.is_empty()) {
            return Ok(None);
        }
        let Construct::Reduce { callable, args } = &o.construct else {
            return Ok(None);
        };
        let Some((module, name)) = self.graph.global_name(*callable) else {
            return Ok(None);
        };
        let Value::Tuple(args) = self.get(*args)? else {
            return Ok(None);
        };
        let arg = |i: usize| args.get(i).and_then(|a| self.graph.try_get(*a));
        // datetime's state is bytes, spelled `_codecs.encode(text, 'latin1')` in
        // protocol 2.
        let state = |i: usize| -> Option<Vec<u8>> {
            let a = *args.get(i)?;
            match self.graph.try_get(a)? {
                Value::Bytes(b) => Some(b.to_vec()),
                Value::Object(_) => match self.graph.builtin(a)? {
                    Builtin::Bytes(b) => Some(b),
                    _ => None,
                },
                _ => None,
            }
        };
        let (m, n) = (module.as_bytes(), name.as_bytes());
        // set, frozenset, bytes and bytearray in their reduce spellings.
        if let Some(b) = self.graph.builtin(id) {
            let mut r = String::new();
            return Ok(Some(match b {
                Builtin::Set(items) if items.is_empty() => Known::Text("set()".into()),
                Builtin::FrozenSet(items) if items.is_empty() => Known::Text("frozenset()".into()),
                Builtin::Set(items) => Known::Items {
                    open: "{",
                    items,
                    close: "}",
                },
                Builtin::FrozenSet(items) => Known::Items {
                    open: "frozenset({",
                    items,
                    close: "})",
                },
                Builtin::Bytes(d) => {
                    write_bytes_repr(&mut r, &d);
                    Known::Text(r)
                }
                Builtin::ByteArray(d) => {
                    write_bytearray_repr(&mut r, &d);
                    Known::Text(r)
                }
            }));
        }
        Ok(match (m, n, args.len()) {
            (b"datetime", b"date", 1) => match state(0) {
                Some(b) if b.len() == 4 => Some(Known::Text(format!(
                    "datetime.date({}, {}, {})",
                    u16::from_be_bytes([b[0], b[1]]),
                    b[2],
                    b[3]
                ))),
                _ => None,
            },
            (b"datetime", b"datetime", 1) => match state(0) {
                Some(b) if b.len() == 10 && b[2] <= 12 => {
                    let year = u16::from_be_bytes([b[0], b[1]]);
                    let us = u32::from_be_bytes([0, b[7], b[8], b[9]]);
                    let fields = [
                        b[2] as u32,
                        b[3] as u32,
                        b[4] as u32,
                        b[5] as u32,
                        b[6] as u32,
                        us,
                    ];
                    Some(Known::Text(datetime_repr(
                        "datetime.datetime",
                        Some(year),
                        &fields,
                    )))
                }
                _ => None,
            },
            (b"datetime", b"time", 1) => match state(0) {
                Some(b) if b.len() == 6 && b[0] < 24 => {
                    let us = u32::from_be_bytes([0, b[3], b[4], b[5]]);
                    let fields = [b[0] as u32, b[1] as u32, b[2] as u32, us];
                    Some(Known::Text(datetime_repr("datetime.time", None, &fields)))
                }
                _ => None,
            },
            (b"datetime", b"timedelta", 3) => match (arg(0), arg(1), arg(2)) {
                (Some(Value::Int(d)), Some(Value::Int(s)), Some(Value::Int(us))) => {
                    let mut parts = Vec::new();
                    for (label, v) in [("days", d), ("seconds", s), ("microseconds", us)] {
                        if v.as_i64() != Some(0) {
                            parts.push(format!(
                                "{label}={}",
                                int_repr(v, self.limits.max_int_digits)?
                            ));
                        }
                    }
                    if parts.is_empty() {
                        parts.push("0".into());
                    }
                    Some(Known::Text(format!(
                        "datetime.timedelta({})",
                        parts.join(", ")
                    )))
                }
                _ => None,
            },
            (b"decimal", b"Decimal", 1) => match arg(0) {
                Some(Value::Str(s)) => Some(Known::Text(format!("Decimal({})", str_repr(s)))),
                _ => None,
            },
            _ => None,
        })
    }
}

enum Known {
    Text(String),
    Items {
        open: &'static str,
        items: Vec<NodeId>,
        close: &'static str,
    },
}

/// datetime's repr drops trailing zero fields (microseconds, then seconds).
fn datetime_repr(ty: &str, year: Option<u16>, fields: &[u32]) -> String {
    let mut parts: Vec<String> = year.map(|y| y.to_string()).into_iter().collect();
    // Seconds and microseconds are the optional tail in both types.
    let required = fields.len() - 2;
    let mut tail: Vec<u32> = fields[required..].to_vec();
    while tail.last() == Some(&0) {
        tail.pop();
    }
    // A non-zero microsecond keeps the seconds even when they are zero.
    parts.extend(fields[..required].iter().map(u32::to_string));
    parts.extend(tail.iter().map(u32::to_string));
    format!("{ty}({})", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_like_python() {
        assert_eq!(str_repr(&"it's".into()), "\"it's\"");
        assert_eq!(str_repr(&"'\"".into()), "'\\'\"'");
        assert_eq!(
            str_repr(&"a\u{0}\u{7f}\u{85}é\u{2028}😀".into()),
            "'a\\x00\\x7f\\x85é\\u2028😀'"
        );
        assert_eq!(str_repr(&PyStr::from_code_points([0xd800])), "'\\ud800'");
        assert_eq!(bytes_repr(b"a'\x00\xff\\"), "b\"a'\\x00\\xff\\\\\"");
    }

    #[test]
    fn datetimes_of_protocol_2_like_python() {
        // pickle.dumps([datetime(2020, 1, 2, 3, 4, 5, 6), date(2020, 1, 2),
        // time(1, 2, 3, 4)], 2) on CPython 3.11: the states are
        // _codecs.encode(text, 'latin1') calls.
        let data = b"\x80\x02]q\x00(cdatetime\ndatetime\nq\x01c_codecs\nencode\nq\x02X\x0b\x00\x00\x00\x07\xc3\xa4\x01\x02\x03\x04\x05\x00\x00\x06q\x03X\x06\x00\x00\x00latin1q\x04\x86q\x05Rq\x06\x85q\x07Rq\x08cdatetime\ndate\nq\th\x02X\x05\x00\x00\x00\x07\xc3\xa4\x01\x02q\nh\x04\x86q\x0bRq\x0c\x85q\rRq\x0ecdatetime\ntime\nq\x0fh\x02X\x06\x00\x00\x00\x01\x02\x03\x00\x00\x04q\x10h\x04\x86q\x11Rq\x12\x85q\x13Rq\x14e.";
        let d = crate::pickle::decode_slice(data).unwrap();
        assert_eq!(
            repr(&d.graph).unwrap(),
            "[datetime.datetime(2020, 1, 2, 3, 4, 5, 6), datetime.date(2020, 1, 2), \
             datetime.time(1, 2, 3, 4)]"
        );
    }

    #[test]
    fn datetime_fields() {
        assert_eq!(
            datetime_repr("datetime.datetime", Some(2020), &[1, 2, 3, 4, 5, 6]),
            "datetime.datetime(2020, 1, 2, 3, 4, 5, 6)"
        );
        assert_eq!(
            datetime_repr("datetime.datetime", Some(2020), &[1, 2, 0, 0, 0, 0]),
            "datetime.datetime(2020, 1, 2, 0, 0)"
        );
        assert_eq!(
            datetime_repr("datetime.time", None, &[1, 2, 0, 0]),
            "datetime.time(1, 2)"
        );
        assert_eq!(
            datetime_repr("datetime.time", None, &[0, 0, 0, 0]),
            "datetime.time(0, 0)"
        );
    }
}
