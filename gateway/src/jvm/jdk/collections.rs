//! `java.util.ArrayList`, `HashMap`, `HashSet`, their iterators and map
//! entries: what py4j's auto-conversion builds from Python lists, dicts and
//! sets, and what PySpark fills (`HashMap.put`, `ArrayList.add`).
//!
//! Iteration follows insertion order, where Java's `HashMap` and `HashSet`
//! follow hash buckets: Python sees the same elements, possibly in another
//! order, which Java itself does not promise.

use std::any::Any;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::jvm::invoke::{invoke, void_result};
use crate::jvm::{CallError, Cx, JArray, JKey, JValue, JvmObject, ObjRef, Shape};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The elements of a collection argument (`addAll`, constructors): a list, a
/// set, or a map's keys; `None` for anything else.
fn items_of(v: &JValue) -> Option<Vec<JValue>> {
    let o = v.as_object()?;
    if let Some(l) = o
        .as_any()
        .downcast_ref::<crate::jvm::jdk::collections::JList>()
    {
        return Some(l.items());
    }
    let any = o.as_any();
    if let Some(s) = any.downcast_ref::<JSet>() {
        return Some(s.items());
    }
    if let Some(a) = o.as_any().downcast_ref::<crate::jvm::JArray>() {
        return Some(a.elements());
    }
    None
}

fn index_error(index: i64, len: usize) -> CallError {
    CallError::throw(
        "java.lang.IndexOutOfBoundsException",
        format!("Index {index} out of bounds for length {len}"),
        "java.util.Objects.checkIndex",
    )
}

thread_local! {
    /// How deep `toString`/`equals`/`hashCode` are inside nested collections,
    /// and how many collections the outermost call has visited.
    static DEPTH: std::cell::Cell<(u32, u32)> = const { std::cell::Cell::new((0, 0)) };
}

/// Nesting beyond which a collection stops descending (Java would overflow
/// its stack).
const MAX_DEPTH: u32 = 256;
/// Collections one outermost `toString`/`equals`/`hashCode` may visit: nested
/// collections that contain each other more than once would otherwise take
/// exponential time within the depth bound.
const MAX_VISITS: u32 = 100_000;

/// Runs `f` one level deeper, or answers `fallback` past the bounds.
fn nested<R>(fallback: R, f: impl FnOnce() -> R) -> R {
    let (depth, visits) = DEPTH.with(|d| d.get());
    let visits = if depth == 0 { 0 } else { visits };
    if depth >= MAX_DEPTH || visits >= MAX_VISITS {
        return fallback;
    }
    DEPTH.with(|c| c.set((depth + 1, visits + 1)));
    let r = f();
    DEPTH.with(|c| c.set((depth, c.get().1)));
    r
}

/// An element's text in a collection's `toString`: `(this Collection)` for
/// the collection itself, as Java prints it.
fn element_text(me: *const (), v: &JValue) -> String {
    match v {
        JValue::Object(o) if std::ptr::addr_eq(Arc::as_ptr(o), me) => "(this Collection)".into(),
        other => other.java_string(),
    }
}

fn join(items: impl Iterator<Item = String>, open: &str, close: &str) -> String {
    let v: Vec<String> = items.collect();
    format!("{open}{}{close}", v.join(", "))
}

/// `java.util.ArrayList`.
#[derive(Debug, Default)]
pub struct JList {
    items: Mutex<Vec<JValue>>,
}

impl JList {
    /// An empty list.
    pub fn new() -> JList {
        JList::default()
    }

    /// A list of these elements.
    pub fn from_vec(items: Vec<JValue>) -> JList {
        JList {
            items: Mutex::new(items),
        }
    }

    /// A copy of the elements.
    pub fn items(&self) -> Vec<JValue> {
        lock(&self.items).clone()
    }

    /// `size()`.
    pub fn len(&self) -> usize {
        lock(&self.items).len()
    }

    /// `isEmpty()`.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `add(e)`.
    pub fn push(&self, v: JValue) {
        lock(&self.items).push(v);
    }

    /// `get(i)`.
    pub fn get(&self, i: i32) -> Result<JValue, CallError> {
        let v = lock(&self.items);
        usize::try_from(i)
            .ok()
            .and_then(|i| v.get(i).cloned())
            .ok_or_else(|| index_error(i.into(), v.len()))
    }

    /// `Collections.reverse`.
    pub fn reverse(&self) {
        lock(&self.items).reverse();
    }

    /// `Collections.sort` (natural order), or `ClassCastException` for elements
    /// that are not mutually comparable.
    pub fn sort_natural(&self) -> Result<(), CallError> {
        let mut v = lock(&self.items);
        let mut failed = None;
        sort_guarded(&mut v, |a, b| match a.java_compare(b) {
            Some(o) => o,
            None => {
                failed.get_or_insert_with(|| (a.class_name(), b.class_name()));
                std::cmp::Ordering::Equal
            }
        })?;
        match failed {
            None => Ok(()),
            Some((a, b)) => Err(CallError::throw(
                "java.lang.ClassCastException",
                format!(
                    "class {} cannot be cast to class {}",
                    a.unwrap_or_else(|| "null".into()),
                    b.unwrap_or_else(|| "java.lang.Comparable".into())
                ),
                "java.util.Collections.sort",
            )),
        }
    }

    /// Sorts with a `Comparator` object (a Python proxy calls back).
    fn sort_with(&self, comparator: &ObjRef, cx: &mut Cx<'_>) -> Result<(), CallError> {
        let mut items = self.items();
        let mut failed: Option<CallError> = None;
        sort_guarded(&mut items, |a, b| {
            if failed.is_some() {
                return std::cmp::Ordering::Equal;
            }
            match invoke(comparator, "compare", &[a.clone(), b.clone()], cx) {
                Ok(JValue::Int(n)) => n.cmp(&0),
                Ok(other) => {
                    failed = Some(CallError::throw(
                        "java.lang.ClassCastException",
                        format!("compare returned {}, not an int", other.java_string()),
                        "java.util.Comparator.compare",
                    ));
                    std::cmp::Ordering::Equal
                }
                Err(e) => {
                    failed = Some(e);
                    std::cmp::Ordering::Equal
                }
            }
        })?;
        match failed {
            Some(e) => Err(e),
            None => {
                *lock(&self.items) = items;
                Ok(())
            }
        }
    }

    /// `Collections.max` / `min`.
    pub fn extreme(&self, max: bool) -> Result<JValue, CallError> {
        let v = lock(&self.items);
        let mut best: Option<&JValue> = None;
        for x in v.iter() {
            best = Some(match best {
                None => x,
                Some(b) => match x.java_compare(b) {
                    Some(o) if (o.is_gt() && max) || (o.is_lt() && !max) => x,
                    Some(_) => b,
                    None => {
                        return Err(CallError::throw(
                            "java.lang.ClassCastException",
                            "elements are not mutually comparable",
                            "java.util.Collections.max",
                        ))
                    }
                },
            });
        }
        best.cloned().ok_or_else(|| {
            CallError::throw(
                "java.util.NoSuchElementException",
                "",
                "java.util.ArrayList$Itr.next",
            )
        })
    }

    /// The elements repeated `n` times (`list * n`; `n` ≤ 0 gives none).
    pub fn repeated(&self, n: i32) -> Result<Vec<JValue>, CallError> {
        let v = lock(&self.items);
        let n = usize::try_from(n).unwrap_or(0);
        if v.len().saturating_mul(n) > crate::jvm::MAX_ELEMENTS_PER_COMMAND {
            return Err(CallError::throw(
                "java.lang.OutOfMemoryError",
                "Requested list size exceeds the gateway's limit",
                "py4j.commands.ListCommand.mult",
            ));
        }
        Ok(v.iter().cloned().cycle().take(v.len() * n).collect())
    }

    /// `list *= n`.
    pub fn repeat_in_place(&self, n: i32) -> Result<(), CallError> {
        let r = self.repeated(n)?;
        *lock(&self.items) = r;
        Ok(())
    }

    /// `Collections.frequency`.
    pub fn frequency(&self, v: &JValue) -> i32 {
        let n = lock(&self.items)
            .iter()
            .filter(|x| x.java_equals(v))
            .count();
        i32::try_from(n).unwrap_or(i32::MAX)
    }
}

fn bool_result(b: bool) -> JValue {
    JValue::Bool(b)
}

impl JvmObject for JList {
    fn java_method_names(&self) -> &'static [&'static str] {
        &[
            "add",
            "addAll",
            "clear",
            "clone",
            "contains",
            "containsAll",
            "ensureCapacity",
            "equals",
            "forEach",
            "get",
            "getClass",
            "hashCode",
            "indexOf",
            "isEmpty",
            "iterator",
            "lastIndexOf",
            "listIterator",
            "notify",
            "notifyAll",
            "parallelStream",
            "remove",
            "removeAll",
            "removeIf",
            "replaceAll",
            "retainAll",
            "set",
            "size",
            "sort",
            "spliterator",
            "stream",
            "subList",
            "toArray",
            "toString",
            "trimToSize",
            "wait",
        ]
    }

    fn class_name(&self) -> String {
        "java.util.ArrayList".into()
    }

    fn call(
        &self,
        _: &ObjRef,
        method: &str,
        args: &[JValue],
        cx: &mut Cx<'_>,
    ) -> Result<JValue, CallError> {
        let len = self.len();
        match (method, args) {
            ("add", [v]) => {
                self.push(v.clone());
                Ok(bool_result(true))
            }
            ("add", [JValue::Int(i), v]) => {
                let mut items = lock(&self.items);
                let at = usize::try_from(*i).ok().filter(|i| *i <= items.len());
                let at = at.ok_or_else(|| {
                    CallError::throw(
                        "java.lang.IndexOutOfBoundsException",
                        format!("Index: {i}, Size: {}", items.len()),
                        "java.util.ArrayList.rangeCheckForAdd",
                    )
                })?;
                items.insert(at, v.clone());
                Ok(void_result())
            }
            ("addAll", [c]) => {
                let new = items_of(c).ok_or_else(|| CallError::no_such_method(method, args))?;
                let changed = !new.is_empty();
                lock(&self.items).extend(new);
                Ok(bool_result(changed))
            }
            ("get", [JValue::Int(i)]) => self.get(*i),
            ("set", [JValue::Int(i), v]) => {
                let mut items = lock(&self.items);
                let len = items.len();
                let slot = usize::try_from(*i)
                    .ok()
                    .and_then(|i| items.get_mut(i))
                    .ok_or_else(|| index_error((*i).into(), len))?;
                Ok(std::mem::replace(slot, v.clone()))
            }
            ("remove", [JValue::Int(i)]) => {
                let mut items = lock(&self.items);
                match usize::try_from(*i).ok().filter(|i| *i < items.len()) {
                    Some(i) => Ok(items.remove(i)),
                    None => Err(index_error((*i).into(), items.len())),
                }
            }
            ("remove", [v]) => {
                let mut items = lock(&self.items);
                match items.iter().position(|x| x.java_equals(v)) {
                    Some(i) => {
                        items.remove(i);
                        Ok(bool_result(true))
                    }
                    None => Ok(bool_result(false)),
                }
            }
            ("size", []) => Ok(JValue::Int(i32::try_from(len).unwrap_or(i32::MAX))),
            ("isEmpty", []) => Ok(bool_result(len == 0)),
            ("contains", [v]) => Ok(bool_result(
                lock(&self.items).iter().any(|x| x.java_equals(v)),
            )),
            ("indexOf", [v]) => Ok(JValue::Int(
                lock(&self.items)
                    .iter()
                    .position(|x| x.java_equals(v))
                    .map_or(-1, |i| i32::try_from(i).unwrap_or(i32::MAX)),
            )),
            ("lastIndexOf", [v]) => Ok(JValue::Int(
                lock(&self.items)
                    .iter()
                    .rposition(|x| x.java_equals(v))
                    .map_or(-1, |i| i32::try_from(i).unwrap_or(i32::MAX)),
            )),
            ("clear", []) => {
                lock(&self.items).clear();
                Ok(void_result())
            }
            ("iterator" | "listIterator", []) => {
                Ok(JValue::Object(Arc::new(JIterator::new(self.items()))))
            }
            ("subList", [JValue::Int(a), JValue::Int(b)]) => {
                let items = lock(&self.items);
                let (a, b) = (usize::try_from(*a).ok(), usize::try_from(*b).ok());
                match (a, b) {
                    (Some(a), Some(b)) if a <= b && b <= items.len() => Ok(JValue::Object(
                        Arc::new(JList::from_vec(items[a..b].to_vec())),
                    )),
                    _ => Err(index_error(a.unwrap_or(0) as i64, items.len())),
                }
            }
            ("sort", [JValue::Null]) => self.sort_natural().map(|()| void_result()),
            ("sort", [JValue::Object(c)]) => self.sort_with(c, cx).map(|()| void_result()),
            ("forEach", [JValue::Object(f)]) => {
                for x in self.items() {
                    invoke(f, "accept", &[x], cx)?;
                }
                Ok(void_result())
            }
            ("toArray", []) => Ok(JValue::Object(Arc::new(JArray::new(
                "java.lang.Object",
                self.items(),
            )))),
            _ => Err(CallError::no_such_method(method, args)),
        }
    }

    fn shape(&self) -> Shape {
        Shape::List
    }

    fn instance_of(&self, fqn: &str) -> bool {
        matches!(
            fqn,
            "java.util.ArrayList"
                | "java.util.List"
                | "java.util.Collection"
                | "java.util.AbstractList"
                | "java.lang.Iterable"
                | "java.lang.Object"
        )
    }

    fn method_names(&self) -> Vec<&'static str> {
        vec![
            "add",
            "addAll",
            "clear",
            "contains",
            "forEach",
            "get",
            "indexOf",
            "isEmpty",
            "iterator",
            "lastIndexOf",
            "listIterator",
            "remove",
            "set",
            "size",
            "sort",
            "subList",
            "toArray",
        ]
    }

    fn to_java_string(&self) -> String {
        let me = self as *const Self as *const ();
        nested("[...]".into(), || {
            join(self.items().iter().map(|v| element_text(me, v)), "[", "]")
        })
    }

    fn java_equals(&self, other: &ObjRef) -> bool {
        if std::ptr::addr_eq(self as *const Self, Arc::as_ptr(other)) {
            return true;
        }
        nested(false, || equal_lists(self, other))
    }

    fn hash_code(&self) -> i32 {
        let me = self as *const Self as *const ();
        nested(0, || {
            self.items().iter().fold(1i32, |h, x| {
                let e = match x {
                    JValue::Object(o) if std::ptr::addr_eq(Arc::as_ptr(o), me) => 0,
                    other => crate::jvm::model::java_hash(other),
                };
                h.wrapping_mul(31).wrapping_add(e)
            })
        })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A sort that survives a comparison that is not a total order (a Python
/// comparator may answer anything; Rust's sort may panic on that) with the
/// exception Java's TimSort throws.
fn sort_guarded(
    items: &mut [JValue],
    cmp: impl FnMut(&JValue, &JValue) -> std::cmp::Ordering,
) -> Result<(), CallError> {
    let mut cmp = cmp;
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| items.sort_by(&mut cmp))).map_err(
        |_| {
            CallError::throw(
                "java.lang.IllegalArgumentException",
                "Comparison method violates its general contract!",
                "java.util.TimSort.mergeHi",
            )
        },
    )
}

/// `ArrayList.equals`: element by element.
fn equal_lists(me: &JList, other: &ObjRef) -> bool {
    match other
        .as_any()
        .downcast_ref::<crate::jvm::jdk::collections::JList>()
    {
        Some(o) => {
            let (a, b) = (me.items(), o.items());
            a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| x.java_equals(y))
        }
        None => false,
    }
}

/// Insertion-ordered hash table with Java's key equality.
#[derive(Debug, Default)]
struct Table {
    next: u64,
    order: BTreeMap<u64, (JValue, JValue)>,
    index: HashMap<JKey, u64>,
}

impl Table {
    fn put(&mut self, k: JValue, v: JValue) -> Option<JValue> {
        let key = JKey(k.clone());
        if let Some(seq) = self.index.get(&key) {
            if let Some(slot) = self.order.get_mut(seq) {
                return Some(std::mem::replace(&mut slot.1, v));
            }
        }
        let seq = self.next;
        self.next += 1;
        self.index.insert(key, seq);
        self.order.insert(seq, (k, v));
        None
    }

    fn get(&self, k: &JValue) -> Option<&JValue> {
        let seq = self.index.get(&JKey(k.clone()))?;
        self.order.get(seq).map(|(_, v)| v)
    }

    fn remove(&mut self, k: &JValue) -> Option<JValue> {
        let seq = self.index.remove(&JKey(k.clone()))?;
        self.order.remove(&seq).map(|(_, v)| v)
    }

    fn clear(&mut self) {
        self.order.clear();
        self.index.clear();
    }

    fn len(&self) -> usize {
        self.order.len()
    }
}

/// `java.util.HashMap`.
#[derive(Debug, Default)]
pub struct JMap {
    table: Mutex<Table>,
}

impl JMap {
    /// An empty map.
    pub fn new() -> JMap {
        JMap::default()
    }

    /// `put(k, v)`: the previous value.
    pub fn put(&self, k: JValue, v: JValue) -> Option<JValue> {
        lock(&self.table).put(k, v)
    }

    /// `get(k)`.
    pub fn get(&self, k: &JValue) -> Option<JValue> {
        lock(&self.table).get(k).cloned()
    }

    /// The entries in iteration order.
    pub fn entries(&self) -> Vec<(JValue, JValue)> {
        lock(&self.table).order.values().cloned().collect()
    }

    /// `size()`.
    pub fn len(&self) -> usize {
        lock(&self.table).len()
    }

    /// `isEmpty()`.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn or_null(v: Option<JValue>) -> JValue {
    v.unwrap_or(JValue::Null)
}

fn int_len(n: usize) -> JValue {
    JValue::Int(i32::try_from(n).unwrap_or(i32::MAX))
}

impl JvmObject for JMap {
    fn java_method_names(&self) -> &'static [&'static str] {
        &[
            "clear",
            "clone",
            "compute",
            "computeIfAbsent",
            "computeIfPresent",
            "containsKey",
            "containsValue",
            "entrySet",
            "equals",
            "forEach",
            "get",
            "getClass",
            "getOrDefault",
            "hashCode",
            "isEmpty",
            "keySet",
            "merge",
            "notify",
            "notifyAll",
            "put",
            "putAll",
            "putIfAbsent",
            "remove",
            "replace",
            "replaceAll",
            "size",
            "toString",
            "values",
            "wait",
        ]
    }

    fn class_name(&self) -> String {
        "java.util.HashMap".into()
    }

    fn call(
        &self,
        _: &ObjRef,
        method: &str,
        args: &[JValue],
        _: &mut Cx<'_>,
    ) -> Result<JValue, CallError> {
        match (method, args) {
            ("put", [k, v]) => Ok(or_null(self.put(k.clone(), v.clone()))),
            ("putIfAbsent", [k, v]) => {
                let mut t = lock(&self.table);
                match t.get(k).cloned() {
                    Some(JValue::Null) | None => Ok(or_null(t.put(k.clone(), v.clone()))),
                    Some(old) => Ok(old),
                }
            }
            ("get", [k]) => Ok(or_null(self.get(k))),
            ("getOrDefault", [k, d]) => Ok(self.get(k).unwrap_or_else(|| d.clone())),
            ("containsKey", [k]) => Ok(JValue::Bool(lock(&self.table).get(k).is_some())),
            ("containsValue", [v]) => Ok(JValue::Bool(
                self.entries().iter().any(|(_, x)| x.java_equals(v)),
            )),
            ("remove", [k]) => Ok(or_null(lock(&self.table).remove(k))),
            ("size", []) => Ok(int_len(self.len())),
            ("isEmpty", []) => Ok(JValue::Bool(self.is_empty())),
            ("clear", []) => {
                lock(&self.table).clear();
                Ok(void_result())
            }
            ("keySet", []) => Ok(JValue::Object(Arc::new(JSet::from_items(
                self.entries().into_iter().map(|(k, _)| k),
            )))),
            ("values", []) => Ok(JValue::Object(Arc::new(JList::from_vec(
                self.entries().into_iter().map(|(_, v)| v).collect(),
            )))),
            ("entrySet", []) => Ok(JValue::Object(Arc::new(JSet::from_items(
                self.entries()
                    .into_iter()
                    .map(|(k, v)| JValue::Object(Arc::new(MapEntry { key: k, value: v }))),
            )))),
            ("putAll", [JValue::Object(o)]) => match o.as_any().downcast_ref::<JMap>() {
                Some(m) => {
                    for (k, v) in m.entries() {
                        self.put(k, v);
                    }
                    Ok(void_result())
                }
                None => Err(CallError::no_such_method(method, args)),
            },
            _ => Err(CallError::no_such_method(method, args)),
        }
    }

    fn shape(&self) -> Shape {
        Shape::Map
    }

    fn instance_of(&self, fqn: &str) -> bool {
        matches!(
            fqn,
            "java.util.HashMap" | "java.util.Map" | "java.util.AbstractMap" | "java.lang.Object"
        )
    }

    fn method_names(&self) -> Vec<&'static str> {
        vec![
            "clear",
            "containsKey",
            "containsValue",
            "entrySet",
            "get",
            "getOrDefault",
            "isEmpty",
            "keySet",
            "put",
            "putAll",
            "putIfAbsent",
            "remove",
            "size",
            "values",
        ]
    }

    fn to_java_string(&self) -> String {
        let me = self as *const Self as *const ();
        nested("{...}".into(), || {
            join(
                self.entries()
                    .iter()
                    .map(|(k, v)| format!("{}={}", element_text(me, k), element_text(me, v))),
                "{",
                "}",
            )
        })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A `Map.Entry` from `entrySet()`.
#[derive(Debug)]
pub struct MapEntry {
    key: JValue,
    value: JValue,
}

impl JvmObject for MapEntry {
    fn java_method_names(&self) -> &'static [&'static str] {
        &[
            "equals",
            "getClass",
            "getKey",
            "getValue",
            "hashCode",
            "notify",
            "notifyAll",
            "setValue",
            "toString",
            "wait",
        ]
    }

    fn class_name(&self) -> String {
        "java.util.HashMap$Node".into()
    }

    fn call(
        &self,
        _: &ObjRef,
        method: &str,
        args: &[JValue],
        _: &mut Cx<'_>,
    ) -> Result<JValue, CallError> {
        match (method, args) {
            ("getKey", []) => Ok(self.key.clone()),
            ("getValue", []) => Ok(self.value.clone()),
            _ => Err(CallError::no_such_method(method, args)),
        }
    }

    fn instance_of(&self, fqn: &str) -> bool {
        matches!(fqn, "java.util.Map$Entry" | "java.lang.Object")
    }

    fn method_names(&self) -> Vec<&'static str> {
        vec!["getKey", "getValue"]
    }

    fn to_java_string(&self) -> String {
        nested("...".into(), || {
            format!("{}={}", self.key.java_string(), self.value.java_string())
        })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// `java.util.HashSet`.
#[derive(Debug, Default)]
pub struct JSet {
    table: Mutex<Table>,
}

impl JSet {
    /// An empty set.
    pub fn new() -> JSet {
        JSet::default()
    }

    /// A set of these elements (duplicates dropped).
    pub fn from_items(items: impl IntoIterator<Item = JValue>) -> JSet {
        let s = JSet::new();
        {
            let mut t = lock(&s.table);
            for x in items {
                t.put(x, JValue::Null);
            }
        }
        s
    }

    /// The elements in iteration order.
    pub fn items(&self) -> Vec<JValue> {
        lock(&self.table)
            .order
            .values()
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// `add(e)`: whether it was new.
    pub fn insert(&self, v: JValue) -> bool {
        let mut t = lock(&self.table);
        if t.get(&v).is_some() {
            false
        } else {
            t.put(v, JValue::Null);
            true
        }
    }
}

impl JvmObject for JSet {
    fn java_method_names(&self) -> &'static [&'static str] {
        &[
            "add",
            "addAll",
            "clear",
            "clone",
            "contains",
            "containsAll",
            "equals",
            "forEach",
            "getClass",
            "hashCode",
            "isEmpty",
            "iterator",
            "notify",
            "notifyAll",
            "parallelStream",
            "remove",
            "removeAll",
            "removeIf",
            "retainAll",
            "size",
            "spliterator",
            "stream",
            "toArray",
            "toString",
            "wait",
        ]
    }

    fn class_name(&self) -> String {
        "java.util.HashSet".into()
    }

    fn call(
        &self,
        _: &ObjRef,
        method: &str,
        args: &[JValue],
        _: &mut Cx<'_>,
    ) -> Result<JValue, CallError> {
        match (method, args) {
            ("add", [v]) => Ok(JValue::Bool(self.insert(v.clone()))),
            ("remove", [v]) => Ok(JValue::Bool(lock(&self.table).remove(v).is_some())),
            ("contains", [v]) => Ok(JValue::Bool(lock(&self.table).get(v).is_some())),
            ("size", []) => Ok(int_len(lock(&self.table).len())),
            ("isEmpty", []) => Ok(JValue::Bool(lock(&self.table).len() == 0)),
            ("clear", []) => {
                lock(&self.table).clear();
                Ok(void_result())
            }
            ("iterator", []) => Ok(JValue::Object(Arc::new(JIterator::new(self.items())))),
            ("addAll", [c]) => {
                let new = items_of(c).ok_or_else(|| CallError::no_such_method(method, args))?;
                let mut changed = false;
                for x in new {
                    changed |= self.insert(x);
                }
                Ok(JValue::Bool(changed))
            }
            ("toArray", []) => Ok(JValue::Object(Arc::new(JArray::new(
                "java.lang.Object",
                self.items(),
            )))),
            _ => Err(CallError::no_such_method(method, args)),
        }
    }

    fn shape(&self) -> Shape {
        Shape::Set
    }

    fn instance_of(&self, fqn: &str) -> bool {
        matches!(
            fqn,
            "java.util.HashSet"
                | "java.util.Set"
                | "java.util.Collection"
                | "java.lang.Iterable"
                | "java.lang.Object"
        )
    }

    fn method_names(&self) -> Vec<&'static str> {
        vec![
            "add", "addAll", "clear", "contains", "isEmpty", "iterator", "remove", "size",
            "toArray",
        ]
    }

    fn to_java_string(&self) -> String {
        let me = self as *const Self as *const ();
        nested("[...]".into(), || {
            join(self.items().iter().map(|v| element_text(me, v)), "[", "]")
        })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A `java.util.Iterator` over a snapshot of a collection.
#[derive(Debug)]
pub struct JIterator {
    rest: Mutex<VecDeque<JValue>>,
}

impl JIterator {
    /// An iterator over `items`.
    pub fn new(items: Vec<JValue>) -> JIterator {
        JIterator {
            rest: Mutex::new(items.into()),
        }
    }
}

impl JvmObject for JIterator {
    fn java_method_names(&self) -> &'static [&'static str] {
        &[
            "equals",
            "forEachRemaining",
            "getClass",
            "hasNext",
            "hashCode",
            "next",
            "notify",
            "notifyAll",
            "remove",
            "toString",
            "wait",
        ]
    }

    fn class_name(&self) -> String {
        "java.util.ArrayList$Itr".into()
    }

    fn call(
        &self,
        _: &ObjRef,
        method: &str,
        args: &[JValue],
        _: &mut Cx<'_>,
    ) -> Result<JValue, CallError> {
        match (method, args) {
            ("hasNext", []) => Ok(JValue::Bool(!lock(&self.rest).is_empty())),
            ("next", []) => lock(&self.rest).pop_front().ok_or_else(|| {
                CallError::Throw(Arc::new(crate::jvm::Throwable::new(
                    "java.util.NoSuchElementException",
                    None,
                    "java.util.ArrayList$Itr.next",
                )))
            }),
            ("remove", []) => Err(CallError::throw(
                "java.lang.UnsupportedOperationException",
                "remove",
                "java.util.Iterator.remove",
            )),
            _ => Err(CallError::no_such_method(method, args)),
        }
    }

    fn shape(&self) -> Shape {
        Shape::Iterator
    }

    fn instance_of(&self, fqn: &str) -> bool {
        matches!(fqn, "java.util.Iterator" | "java.lang.Object")
    }

    fn method_names(&self) -> Vec<&'static str> {
        vec!["hasNext", "next", "remove"]
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
