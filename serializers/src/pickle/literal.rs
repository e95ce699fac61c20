//! Python literals (what `ast.literal_eval` accepts) parsed into a value graph,
//! with the object identity `literal_eval` produces: every literal is a fresh
//! object, so only CPython's cached singletons end up shared.
//!
//! Containers behave as the builtins do: a dict keeps the first key and the last
//! value of equal keys (`1`, `1.0` and `True` are equal), and a set keeps the first
//! of equal elements, in CPython's hash-table order (`setobject.c`'s probing and
//! resizing, with `int`/`float`/`bool`/`tuple` hashes). Elements whose hash is
//! randomized per process (`str`, `bytes`) or address-based (`None`, NaN) keep
//! their source order: no Python process could promise another order either.

use num_bigint::BigInt;
use num_traits::{ToPrimitive, Zero};

use super::pystr::PyStr;
use super::pytext::push_code_point;
use super::value::{Construct, Graph, Int, NodeId, Object, Value};

/// Why a literal was refused, with the byte offset.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("literal at byte {offset}: {what}")]
pub struct LiteralError {
    /// Byte offset in the source.
    pub offset: usize,
    /// What was wrong.
    pub what: String,
}

/// Parses a Python literal into a graph whose root is its value.
pub fn parse_literal(src: &str) -> Result<Graph, LiteralError> {
    let mut p = Parser {
        s: src.as_bytes(),
        pos: 0,
        g: Graph::new(),
        depth: 0,
    };
    let v = p.top()?;
    p.ws();
    if p.pos != p.s.len() {
        return p.err("unexpected text after the literal");
    }
    p.g.set_root(v);
    Ok(p.g)
}

const MAX_DEPTH: usize = 200;

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    g: Graph,
    depth: usize,
}

impl Parser<'_> {
    fn err<T>(&self, what: &str) -> Result<T, LiteralError> {
        Err(LiteralError {
            offset: self.pos,
            what: what.into(),
        })
    }

    fn ws(&mut self) {
        while let Some(&c) = self.s.get(self.pos) {
            match c {
                b' ' | b'\t' | b'\n' | b'\r' | 0x0c => self.pos += 1,
                b'\\' if self.s.get(self.pos + 1) == Some(&b'\n') => self.pos += 2,
                b'#' => {
                    while self.s.get(self.pos).is_some_and(|&c| c != b'\n') {
                        self.pos += 1
                    }
                }
                _ => break,
            }
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.pos).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// A bare top-level `a, b` is a tuple, as in eval mode.
    fn top(&mut self) -> Result<NodeId, LiteralError> {
        let first = self.value()?;
        if self.peek() != Some(b',') {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat(b',') {
            if self.peek().is_none() {
                break;
            }
            items.push(self.value()?);
        }
        Ok(self.g.add_tuple(&items))
    }

    fn seq(&mut self, close: u8) -> Result<(Vec<NodeId>, bool), LiteralError> {
        let mut items = Vec::new();
        let mut comma = false;
        loop {
            if self.eat(close) {
                return Ok((items, comma));
            }
            items.push(self.value()?);
            comma = false;
            if self.eat(b',') {
                comma = true;
            } else if self.peek() != Some(close) {
                return self.err("expected ',' or a closing bracket");
            }
        }
    }

    fn value(&mut self) -> Result<NodeId, LiteralError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.err("nesting too deep");
        }
        let v = self.value_inner();
        self.depth -= 1;
        v
    }

    fn value_inner(&mut self) -> Result<NodeId, LiteralError> {
        let Some(c) = self.peek() else {
            return self.err("expected a value");
        };
        match c {
            b'(' => {
                self.pos += 1;
                let (items, comma) = self.seq(b')')?;
                if items.len() == 1 && !comma {
                    return Ok(items[0]);
                }
                Ok(self.g.add_tuple(&items))
            }
            b'[' => {
                self.pos += 1;
                let (items, _) = self.seq(b']')?;
                Ok(self.g.add_list(&items))
            }
            b'{' => {
                self.pos += 1;
                if self.eat(b'}') {
                    return Ok(self.g.add_dict(&[]));
                }
                let first = self.value()?;
                if self.eat(b':') {
                    let v = self.value()?;
                    let mut kv = vec![(first, v)];
                    loop {
                        if self.eat(b'}') {
                            break;
                        }
                        if !self.eat(b',') {
                            return self.err("expected ',' or '}'");
                        }
                        if self.eat(b'}') {
                            break;
                        }
                        let k = self.value()?;
                        if !self.eat(b':') {
                            return self.err("expected ':'");
                        }
                        let v = self.value()?;
                        kv.push((k, v));
                    }
                    if kv.len() > 1 && kv.iter().any(|(k, _)| is_complex(&self.g, *k)) {
                        return self.err(COMPLEX_KEYS);
                    }
                    let kv = dedupe_dict(&self.g, kv);
                    return Ok(self.g.add_dict(&kv));
                }
                let mut items = vec![first];
                if self.eat(b',') {
                    let (rest, _) = self.seq(b'}')?;
                    items.extend(rest);
                } else if !self.eat(b'}') {
                    return self.err("expected ',' or '}'");
                }
                if items.len() > 1 && items.iter().any(|&i| is_complex(&self.g, i)) {
                    return self.err(COMPLEX_KEYS);
                }
                let items = set_order(&self.g, items);
                Ok(self.g.add_set(&items))
            }
            b'-' | b'+' => {
                self.pos += 1;
                let neg = c == b'-';
                if !matches!(self.peek(), Some(b'0'..=b'9' | b'.')) {
                    return self.err("a sign must be followed by a number");
                }
                let v = self.number()?;
                self.maybe_complex(if neg { v.negate() } else { v })
            }
            b'0'..=b'9' | b'.' => {
                let v = self.number()?;
                self.maybe_complex(v)
            }
            b'"' | b'\'' => self.strings(),
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = self.pos;
                while self
                    .s
                    .get(self.pos)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
                {
                    self.pos += 1;
                }
                let word = &self.s[start..self.pos];
                if matches!(self.s.get(self.pos), Some(b'"' | b'\'')) && word.len() <= 2 {
                    self.pos = start;
                    return self.strings();
                }
                match word {
                    b"None" => Ok(self.g.add(Value::None)),
                    b"True" => Ok(self.g.add(Value::Bool(true))),
                    b"False" => Ok(self.g.add(Value::Bool(false))),
                    b"set" => {
                        if self.eat(b'(') && self.eat(b')') {
                            Ok(self.g.add_set(&[]))
                        } else {
                            self.pos = start;
                            self.err("only set() is a literal call")
                        }
                    }
                    _ => {
                        self.pos = start;
                        self.err("not a literal")
                    }
                }
            }
            _ => self.err("expected a value"),
        }
    }

    /// A number, or `real ± imaginary` (literal_eval's one binary operation:
    /// a signed int or float on the left, an unsigned imaginary literal on the
    /// right), or an imaginary literal alone: `complex` values, computed with
    /// CPython's complex arithmetic so that signed zeros come out the same.
    fn maybe_complex(&mut self, left: Num) -> Result<NodeId, LiteralError> {
        let at = self.pos;
        let op = match self.peek() {
            Some(c @ (b'+' | b'-')) => c,
            _ => {
                return Ok(match left {
                    Num::Real(v) => self.g.add(v),
                    Num::Imag(re, im) => self.complex(re, im),
                })
            }
        };
        self.pos += 1;
        if !matches!(self.peek(), Some(b'0'..=b'9' | b'.')) {
            self.pos = at;
            return self.err("only an imaginary number may be added to a number");
        }
        let right_at = self.pos;
        let right = self.number()?;
        let (Num::Real(l), Num::Imag(_, y)) = (&left, &right) else {
            self.pos = at;
            return self.err("only an imaginary number may be added to a number");
        };
        // int/float + complex: the left side becomes complex(l, 0.0) first.
        let l = match l {
            Value::Float(f) => *f,
            Value::Int(i) => match i.to_big().to_f64().filter(|f| f.is_finite()) {
                Some(f) => f,
                None => {
                    return Err(LiteralError {
                        offset: right_at,
                        what: "int too large to convert to float".into(),
                    })
                }
            },
            _ => unreachable!("number() makes ints and floats only"),
        };
        let (re, im) = if op == b'+' {
            (l + 0.0, 0.0 + y)
        } else {
            (l - 0.0, 0.0 - y)
        };
        Ok(self.complex(re, im))
    }

    /// `complex(re, im)` as its pickle reduces it: `builtins.complex(re, im)`.
    fn complex(&mut self, re: f64, im: f64) -> NodeId {
        let module = self.g.add(Value::Str("builtins".into()));
        let name = self.g.add(Value::Str("complex".into()));
        let callable = self.g.add(Value::Global { module, name });
        let re = self.g.add(Value::Float(re));
        let im = self.g.add(Value::Float(im));
        let args = self.g.add_tuple(&[re, im]);
        self.g
            .add(Value::Object(Box::new(Object::new(Construct::Reduce {
                callable,
                args,
            }))))
    }

    fn number(&mut self) -> Result<Num, LiteralError> {
        let start = self.pos;
        let s = self.s;
        let radix = match (
            s.get(self.pos),
            s.get(self.pos + 1).map(u8::to_ascii_lowercase),
        ) {
            (Some(b'0'), Some(b'x')) => 16,
            (Some(b'0'), Some(b'o')) => 8,
            (Some(b'0'), Some(b'b')) => 2,
            _ => 10,
        };
        if radix != 10 {
            self.pos += 2;
            let d0 = self.pos;
            while s
                .get(self.pos)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
            {
                self.pos += 1;
            }
            let digits: String = std::str::from_utf8(&s[d0..self.pos])
                .unwrap_or("")
                .trim_start_matches('_')
                .replace('_', "");
            return BigInt::parse_bytes(digits.as_bytes(), radix)
                .map(|b| Num::Real(Value::Int(Int::from_big(b))))
                .ok_or(LiteralError {
                    offset: start,
                    what: "invalid number".into(),
                });
        }
        while s
            .get(self.pos)
            .is_some_and(|c| c.is_ascii_digit() || *c == b'_')
        {
            self.pos += 1;
        }
        let mut float = false;
        if s.get(self.pos) == Some(&b'.') {
            float = true;
            self.pos += 1;
            while s
                .get(self.pos)
                .is_some_and(|c| c.is_ascii_digit() || *c == b'_')
            {
                self.pos += 1;
            }
        }
        if matches!(s.get(self.pos), Some(b'e' | b'E')) {
            float = true;
            self.pos += 1;
            if matches!(s.get(self.pos), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            while s
                .get(self.pos)
                .is_some_and(|c| c.is_ascii_digit() || *c == b'_')
            {
                self.pos += 1;
            }
        }
        let text: String = std::str::from_utf8(&s[start..self.pos])
            .unwrap_or("")
            .replace('_', "");
        let bad = || LiteralError {
            offset: start,
            what: "invalid number".into(),
        };
        if matches!(s.get(self.pos), Some(b'j' | b'J')) {
            self.pos += 1;
            // An imaginary literal is complex(0.0, float(digits)).
            let im = text.parse::<f64>().map_err(|_| bad())?;
            return Ok(Num::Imag(0.0, im));
        }
        if float {
            return text
                .parse::<f64>()
                .map(Value::Float)
                .map(Num::Real)
                .map_err(|_| bad());
        }
        if text.len() > 1 && text.starts_with('0') && text.bytes().any(|c| c != b'0') {
            return Err(LiteralError {
                offset: start,
                what: "leading zeros in a decimal integer".into(),
            });
        }
        if text.len() > 4300 {
            return Err(LiteralError {
                offset: start,
                what: "more than 4300 digits".into(),
            });
        }
        BigInt::parse_bytes(text.as_bytes(), 10)
            .map(|b| Num::Real(Value::Int(Int::from_big(b))))
            .ok_or_else(bad)
    }

    /// One or more adjacent string literals, concatenated.
    fn strings(&mut self) -> Result<NodeId, LiteralError> {
        let mut text: Vec<u8> = Vec::new();
        let mut kind: Option<bool> = None; // Some(true) = bytes
        loop {
            let start = self.pos;
            let mut raw = false;
            let mut bytes = false;
            while let Some(&c) = self.s.get(self.pos) {
                match c.to_ascii_lowercase() {
                    b'r' => raw = true,
                    b'b' => bytes = true,
                    b'u' => {}
                    _ => break,
                }
                self.pos += 1;
            }
            let Some(&q) = self.s.get(self.pos) else {
                return self.err("expected a string");
            };
            if q != b'"' && q != b'\'' {
                self.pos = start;
                return self.err("expected a string");
            }
            if kind.is_some_and(|k| k != bytes) {
                return self.err("cannot mix bytes and nonbytes literals");
            }
            kind = Some(bytes);
            let triple = self.s[self.pos..].starts_with(&[q, q, q]);
            let ql = if triple { 3 } else { 1 };
            self.pos += ql;
            let body_start = self.pos;
            loop {
                let Some(&c) = self.s.get(self.pos) else {
                    return self.err("unterminated string");
                };
                if c == b'\\' {
                    self.pos += 2;
                    continue;
                }
                if c == b'\n' && !triple {
                    return self.err("unterminated string");
                }
                if c == q && (!triple || self.s[self.pos..].starts_with(&[q, q, q])) {
                    break;
                }
                self.pos += 1;
            }
            let body = &self.s[body_start..self.pos];
            self.pos += ql;
            if bytes && !body.is_ascii() {
                return self.err("bytes can only contain ASCII literal characters");
            }
            unescape(body, raw, bytes, &mut text).map_err(|what| LiteralError {
                offset: body_start,
                what,
            })?;
            match self.peek() {
                Some(b'"' | b'\'') => continue,
                Some(c) if c.is_ascii_alphabetic() => {
                    let save = self.pos;
                    let n = self.s[self.pos..]
                        .iter()
                        .take_while(|c| c.is_ascii_alphabetic())
                        .count();
                    if n <= 2 && matches!(self.s.get(self.pos + n), Some(b'"' | b'\'')) {
                        continue;
                    }
                    self.pos = save;
                    break;
                }
                _ => break,
            }
        }
        let v = if kind == Some(true) {
            Value::Bytes(text.into())
        } else {
            Value::Str(PyStr::from_utf8(text.into()).map_err(|at| LiteralError {
                offset: at,
                what: "invalid text".into(),
            })?)
        };
        Ok(self.g.add(v))
    }
}

/// Undoes string-literal escapes, appending `surrogatepass` UTF-8 (or raw bytes).
fn unescape(body: &[u8], raw: bool, bytes: bool, out: &mut Vec<u8>) -> Result<(), String> {
    let text = std::str::from_utf8(body).map_err(|_| "invalid UTF-8".to_string())?;
    let mut chars = text.chars().peekable();
    let put = |out: &mut Vec<u8>, cp: u32| {
        if bytes {
            out.push(cp as u8)
        } else {
            push_code_point(out, cp)
        }
    };
    while let Some(c) = chars.next() {
        if c != '\\' || raw {
            if raw && c == '\\' {
                out.push(b'\\');
                if let Some(n) = chars.next() {
                    put(out, n as u32);
                }
                continue;
            }
            let mut b = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            continue;
        }
        let Some(e) = chars.next() else {
            return Err("trailing backslash".into());
        };
        let hex =
            |chars: &mut std::iter::Peekable<std::str::Chars>, n: usize| -> Result<u32, String> {
                let s: String = (0..n).filter_map(|_| chars.next()).collect();
                if s.len() != n {
                    return Err("truncated escape".into());
                }
                u32::from_str_radix(&s, 16).map_err(|_| "invalid escape".into())
            };
        match e {
            '\n' => {}
            '\\' | '\'' | '"' => put(out, e as u32),
            'a' => put(out, 7),
            'b' => put(out, 8),
            'f' => put(out, 12),
            'n' => put(out, 10),
            'r' => put(out, 13),
            't' => put(out, 9),
            'v' => put(out, 11),
            '0'..='7' => {
                let mut v = e.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match chars.peek().and_then(|c| c.to_digit(8)) {
                        Some(d) => {
                            v = v * 8 + d;
                            chars.next();
                        }
                        None => break,
                    }
                }
                put(out, if bytes { v & 0xff } else { v });
            }
            'x' => {
                let v = hex(&mut chars, 2)?;
                put(out, v)
            }
            'u' if !bytes => {
                let v = hex(&mut chars, 4)?;
                put(out, v)
            }
            'U' if !bytes => {
                let v = hex(&mut chars, 8)?;
                if v > 0x10FFFF {
                    return Err("illegal Unicode character".into());
                }
                put(out, v)
            }
            'N' if !bytes => return Err("\\N{...} escapes are not supported".into()),
            other => {
                out.push(b'\\');
                let mut b = [0u8; 4];
                out.extend_from_slice(other.encode_utf8(&mut b).as_bytes());
            }
        }
    }
    Ok(())
}

/// Why a complex key among others is refused: equal keys merge and set order
/// follows hashes, and complex equality (`1 == 1+0j`) and hashing are not
/// modelled here, so the result could differ from Python's.
const COMPLEX_KEYS: &str =
    "a complex number among other set elements or dict keys is not supported";

/// Whether a node is a `complex` as [`Parser::complex`] builds it.
fn is_complex(g: &Graph, id: NodeId) -> bool {
    let Value::Object(o) = g.get(id) else {
        return false;
    };
    let Construct::Reduce { callable, .. } = o.construct else {
        return false;
    };
    matches!(g.get(callable), Value::Global { module, name }
        if matches!(g.get(*module), Value::Str(m) if m.as_bytes() == b"builtins")
            && matches!(g.get(*name), Value::Str(n) if n.as_bytes() == b"complex"))
}

/// A number literal: real, or `complex(re, im)` (an imaginary literal, maybe
/// signed).
enum Num {
    Real(Value),
    Imag(f64, f64),
}

impl Num {
    /// Unary minus, as `int`, `float` and `complex` define it.
    fn negate(self) -> Num {
        match self {
            Num::Real(Value::Int(i)) => Num::Real(Value::Int(Int::from_big(-i.to_big()))),
            Num::Real(Value::Float(f)) => Num::Real(Value::Float(-f)),
            Num::Real(other) => Num::Real(other),
            Num::Imag(re, im) => Num::Imag(-re, -im),
        }
    }
}

/// A number as Python compares it (`1 == 1.0 == True`).
#[derive(Debug, Clone, PartialEq)]
enum Cmp {
    Int(BigInt),
    Float(f64),
}

fn num(v: &Value) -> Option<Cmp> {
    match v {
        Value::Bool(b) => Some(Cmp::Int(BigInt::from(*b as u8))),
        Value::Int(i) => Some(Cmp::Int(i.to_big())),
        Value::Float(f) => Some(Cmp::Float(*f)),
        _ => None,
    }
}

fn py_eq(g: &Graph, a: NodeId, b: NodeId) -> bool {
    if a == b {
        return true;
    }
    let (x, y) = (g.get(a), g.get(b));
    if let (Some(p), Some(q)) = (num(x), num(y)) {
        return match (p, q) {
            (Cmp::Int(i), Cmp::Int(j)) => i == j,
            (Cmp::Float(f), Cmp::Float(h)) => f == h,
            (Cmp::Int(i), Cmp::Float(f)) | (Cmp::Float(f), Cmp::Int(i)) => {
                f.fract() == 0.0 && i.to_f64() == Some(f) && BigInt::from(f as i128) == i
            }
        };
    }
    match (x, y) {
        (Value::None, Value::None) => true,
        (Value::Str(s), Value::Str(t)) => s == t,
        (Value::Bytes(s), Value::Bytes(t)) => s == t,
        (Value::Tuple(s), Value::Tuple(t)) => {
            let (s, t) = (g.items(*s), g.items(*t));
            s.len() == t.len() && s.iter().zip(t).all(|(a, b)| py_eq(g, *a, *b))
        }
        _ => false,
    }
}

/// A bucket for equality checks: equal values always share a bucket.
fn bucket(g: &Graph, id: NodeId) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    match g.get(id) {
        Value::Str(s) => (1u8, s.as_bytes()).hash(&mut h),
        Value::Bytes(b) => (2u8, &b[..]).hash(&mut h),
        Value::None => 3u8.hash(&mut h),
        Value::Tuple(items) => {
            4u8.hash(&mut h);
            for &i in g.items(*items) {
                bucket(g, i).hash(&mut h);
            }
        }
        // Numbers: equal numbers have equal Python hashes (NaN aside: its own bucket).
        _ => (5u8, py_hash(g, id).unwrap_or(i64::MIN)).hash(&mut h),
    }
    h.finish()
}

/// Index of the first earlier element equal to `id`, through hash buckets.
fn find_equal(
    g: &Graph,
    buckets: &mut std::collections::HashMap<u64, Vec<usize>>,
    kept: &[NodeId],
    id: NodeId,
) -> Result<usize, u64> {
    let b = bucket(g, id);
    match buckets
        .get(&b)
        .and_then(|c| c.iter().copied().find(|&i| py_eq(g, kept[i], id)))
    {
        Some(i) => Ok(i),
        None => Err(b),
    }
}

fn dedupe_dict(g: &Graph, kv: Vec<(NodeId, NodeId)>) -> Vec<(NodeId, NodeId)> {
    let mut buckets = std::collections::HashMap::new();
    let mut keys: Vec<NodeId> = Vec::with_capacity(kv.len());
    let mut out: Vec<(NodeId, NodeId)> = Vec::with_capacity(kv.len());
    for (k, v) in kv {
        match find_equal(g, &mut buckets, &keys, k) {
            Ok(i) => out[i].1 = v,
            Err(b) => {
                buckets.entry(b).or_insert_with(Vec::new).push(keys.len());
                keys.push(k);
                out.push((k, v));
            }
        }
    }
    out
}

const MODULUS: u64 = (1 << 61) - 1;

/// CPython's `hash()` where it does not depend on the process.
pub(crate) fn py_hash(g: &Graph, id: NodeId) -> Option<i64> {
    let h = match g.get(id) {
        Value::Bool(b) => *b as i64,
        Value::Int(i) => {
            let b = i.to_big();
            let m = BigInt::from(MODULUS);
            let r = (if b < BigInt::zero() { -&b } else { b.clone() } % &m).to_i64()?;
            let r = if b < BigInt::zero() { -r } else { r };
            if r == -1 {
                -2
            } else {
                r
            }
        }
        Value::Float(f) => super::repr::float_hash(*f)?,
        Value::Tuple(items) => {
            const P1: u64 = 11400714785074694791;
            const P2: u64 = 14029467366897019727;
            const P5: u64 = 2870177450012600261;
            let mut acc = P5;
            for &it in g.items(*items) {
                let lane = py_hash(g, it)? as u64;
                acc = acc.wrapping_add(lane.wrapping_mul(P2));
                acc = acc.rotate_left(31);
                acc = acc.wrapping_mul(P1);
            }
            acc = acc.wrapping_add(items.len() as u64 ^ (P5 ^ 3527539));
            if acc == u64::MAX {
                1546275796
            } else {
                acc as i64
            }
        }
        _ => return None,
    };
    Some(h)
}

/// `set(elements)`: first of equal elements kept, CPython's table order when all
/// hashes are deterministic, else source order.
/// Puts every set of `g` in the order CPython iterates a set built by adding its
/// elements in their current order (where hashes are deterministic), as
/// `marshal.loads` and `pickle.loads` build them.
pub fn reorder_sets(g: &mut Graph) {
    let ids: Vec<NodeId> = g.ids().collect();
    for id in ids {
        let items = match g.get(id) {
            Value::Set(items) | Value::FrozenSet(items) => g.items(*items).to_vec(),
            _ => continue,
        };
        let ordered = set_order(g, items);
        g.replace_items(id, &ordered)
            .expect("a reordering needs no more room than the set had");
    }
}

pub(crate) fn set_order(g: &Graph, items: Vec<NodeId>) -> Vec<NodeId> {
    let mut uniq: Vec<NodeId> = Vec::with_capacity(items.len());
    let mut buckets = std::collections::HashMap::new();
    for it in items {
        if let Err(b) = find_equal(g, &mut buckets, &uniq, it) {
            buckets.entry(b).or_insert_with(Vec::new).push(uniq.len());
            uniq.push(it);
        }
    }
    let hashes: Option<Vec<i64>> = uniq.iter().map(|&i| py_hash(g, i)).collect();
    let Some(hashes) = hashes else { return uniq };
    // setobject.c: table of 8, linear probes of 9, perturbed probing, resize to
    // used*4 (above 50 000: used*2) when fill*5 >= mask*3.
    let mut table: Vec<Option<(i64, NodeId)>> = vec![None; 8];
    let mut used = 0usize;
    for (&id, &h) in uniq.iter().zip(&hashes) {
        insert_clean(&mut table, h, id);
        used += 1;
        let mask = table.len() - 1;
        if used * 5 >= mask * 3 {
            let min = if used > 50_000 { used * 2 } else { used * 4 };
            let mut size = 8;
            while size <= min {
                size <<= 1;
            }
            let old = std::mem::replace(&mut table, vec![None; size]);
            for (h, id) in old.into_iter().flatten() {
                insert_clean(&mut table, h, id);
            }
        }
    }
    table.into_iter().flatten().map(|(_, id)| id).collect()
}

fn insert_clean(table: &mut [Option<(i64, NodeId)>], hash: i64, id: NodeId) {
    let mask = table.len() - 1;
    let mut perturb = hash as u64;
    let mut i = (hash as u64 as usize) & mask;
    loop {
        if table[i].is_none() {
            table[i] = Some((hash, id));
            return;
        }
        if i + 9 <= mask {
            for j in 1..=9 {
                if table[i + j].is_none() {
                    table[i + j] = Some((hash, id));
                    return;
                }
            }
        }
        perturb >>= 5;
        i = (i
            .wrapping_mul(5)
            .wrapping_add(1)
            .wrapping_add(perturb as usize))
            & mask;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pickle::repr::repr;

    fn r(s: &str) -> String {
        repr(&parse_literal(s).unwrap()).unwrap()
    }

    #[test]
    fn parses_what_literal_eval_parses() {
        assert_eq!(
            r("[1, -2, +3, 0x1F, 0o17, 0b101, 1_000, 1.5e3, .5, 5.]"),
            "[1, -2, 3, 31, 15, 5, 1000, 1500.0, 0.5, 5.0]"
        );
        assert_eq!(
            r("('a' \"b\", b'\\x00', r'\\n', (1,), ())"),
            "('ab', b'\\x00', '\\\\n', (1,), ())"
        );
        assert_eq!(
            r("{1: 'a', True: 'b', 2.0: 'c', 2: 'd'}"),
            "{1: 'b', 2.0: 'd'}"
        );
        assert_eq!(r("1, 2"), "(1, 2)");
        assert_eq!(r("set()"), "set()");
        assert_eq!(r("'\\u20ac\\U0001F600\\ud800'"), "'€😀\\ud800'");
        assert!(parse_literal("foo").is_err());
        assert!(parse_literal("[1,").is_err());
        // Complex: `real ± imaginary` only, as literal_eval.
        assert!(parse_literal("1j").is_ok());
        assert!(parse_literal("-1.5-2j").is_ok());
        assert!(parse_literal("1+2").is_err());
        assert!(parse_literal("1j+2").is_err());
        assert!(parse_literal("01").is_err());
    }

    #[test]
    fn set_order_follows_cpython_hash_table() {
        // Checked with CPython 3.11: repr({8, 0, 16, 1, -1, 100}) and friends.
        assert_eq!(r("{8, 0, 16, 1}"), "{8, 0, 16, 1}");
        assert_eq!(r("{3, 1, 2}"), "{1, 2, 3}");
        assert_eq!(r("{1, 1.0, True}"), "{1}");
        assert_eq!(r("{-1, -2}"), "{-1, -2}");
    }
}
