//! JVM views: the import tables py4j resolves simple class names through
//! (`jvm.SparkConf` after `java_import(jvm, "org.apache.spark.SparkConf")`).

use std::any::Any;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use super::model::CallError;
use super::model::Cx;
use super::model::JValue;
use super::model::{JvmObject, ObjRef};

/// A `py4j.JVMView`: single-type imports (simple name → class), package
/// imports (`java.lang` always), and a sequence number that changes with the
/// single imports (Python's `dir(jvm)` cache key).
#[derive(Debug)]
pub struct JvmView {
    name: String,
    state: Mutex<Imports>,
}

#[derive(Debug)]
struct Imports {
    single: BTreeMap<String, String>,
    /// Package names, iterated in sorted order as py4j's
    /// `ConcurrentSkipListSet` is.
    star: BTreeSet<String>,
    sequence: i32,
}

impl JvmView {
    /// A view with only `java.lang.*` imported.
    pub fn new(name: &str) -> JvmView {
        JvmView {
            name: name.to_owned(),
            state: Mutex::new(Imports {
                single: BTreeMap::new(),
                star: BTreeSet::from(["java.lang".to_owned()]),
                sequence: 1,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Imports> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `j i`: `a.b.*` imports a package, anything else one class (the first
    /// import of a simple name wins, as in py4j).
    pub fn import(&self, import: &str) {
        let mut s = self.lock();
        if let Some(pkg) = import.strip_suffix('*') {
            s.star.insert(pkg.trim_end_matches('.').to_owned());
        } else {
            let simple = import.rsplit('.').next().unwrap_or(import).to_owned();
            s.single.entry(simple).or_insert_with(|| import.to_owned());
            s.sequence += 1;
        }
    }

    /// `j r`: whether the import was there.
    pub fn remove_import(&self, import: &str) -> bool {
        let mut s = self.lock();
        if let Some(pkg) = import.strip_suffix('*') {
            s.star.remove(pkg.trim_end_matches('.'))
        } else {
            let simple = import.rsplit('.').next().unwrap_or(import);
            let removed = s.single.get(simple).is_some_and(|f| f == import);
            if removed {
                s.single.remove(simple);
            }
            s.sequence += 1;
            removed
        }
    }

    /// The candidates a simple name may stand for, in py4j's order: the single
    /// import, then each imported package.
    pub fn candidates(&self, simple: &str) -> Vec<String> {
        let s = self.lock();
        match s.single.get(simple) {
            Some(fqn) => vec![fqn.clone()],
            None => s.star.iter().map(|p| format!("{p}.{simple}")).collect(),
        }
    }

    /// The sequence number and the simple names imported (`d v`).
    pub fn imported_names(&self) -> (i32, Vec<String>) {
        let s = self.lock();
        (s.sequence, s.single.keys().cloned().collect())
    }

    /// The view's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl JvmObject for JvmView {
    fn java_method_names(&self) -> &'static [&'static str] {
        &[
            "addSingleImport",
            "addStarImport",
            "clearImports",
            "equals",
            "getClass",
            "getId",
            "getImportedNames",
            "getLastImportSearches",
            "getName",
            "getSequenceId",
            "getSingleImportsMap",
            "getStarImports",
            "hashCode",
            "notify",
            "notifyAll",
            "removeSingleImport",
            "removeStarImport",
            "setId",
            "setName",
            "toString",
            "wait",
        ]
    }

    fn class_name(&self) -> String {
        "py4j.JVMView".into()
    }

    fn call(
        &self,
        _: &ObjRef,
        method: &str,
        args: &[JValue],
        _: &mut Cx<'_>,
    ) -> Result<JValue, CallError> {
        match (method, args) {
            ("getName", []) => Ok(JValue::str(self.name.as_str())),
            _ => Err(CallError::no_such_method(method, args)),
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
