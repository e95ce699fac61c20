//! The gateway-wide object registry: every returned object gets a fresh id.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::object::ObjRef;

/// Ids py4j reserves: the entry point, the default JVM view and the gateway
/// server object. `m d` never frees them (py4j's Java side means to skip them).
pub const RESERVED_IDS: &[&str] = &["t", "j", "GATEWAY_SERVER"];

/// Thread-safe map from object id to object.
///
/// py4j registers a returned object under a **fresh** id every time, even when
/// it is the same object (each `SparkConf.set` returns a new id), and Python
/// releases ids one by one (`m d`), from any connection, sometimes twice. Each
/// id holds its own `Arc`, so an object lives until its last id is released
/// (and nothing else holds it) — exactly the JVM's reachability.
#[derive(Default)]
pub struct Registry {
    objects: Mutex<HashMap<Box<str>, ObjRef>>,
    next: AtomicU64,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Registry {
        Registry::default()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Box<str>, ObjRef>> {
        // A panic while holding the lock cannot leave the map half-updated
        // (every operation is one insert or remove), so a poisoned lock is safe
        // to keep using.
        self.objects.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers `obj` under a fresh `o<N>` id and returns the id.
    pub fn put(&self, obj: ObjRef) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let id = format!("o{n}");
        self.lock().insert(id.as_str().into(), obj);
        id
    }

    /// Registers `obj` under a fixed id (`j`, `GATEWAY_SERVER`, `t`).
    pub fn bind(&self, id: &str, obj: ObjRef) {
        self.lock().insert(id.into(), obj);
    }

    /// The object behind `id`.
    pub fn get(&self, id: &str) -> Option<ObjRef> {
        self.lock().get(id).map(Arc::clone)
    }

    /// Releases `id`; unknown, already released and reserved ids are ignored,
    /// as py4j's Java side ignores them. Returns whether an id was released.
    pub fn release(&self, id: &str) -> bool {
        if RESERVED_IDS.contains(&id) {
            return false;
        }
        // Drop the object outside the lock: its destructor may be arbitrary.
        let removed = self.lock().remove(id);
        removed.is_some()
    }

    /// Ids currently registered, reserved ones included.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether nothing is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Ids handed out so far.
    pub fn issued(&self) -> u64 {
        self.next.load(Ordering::Relaxed)
    }
}
