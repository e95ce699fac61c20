//! What a JVM-side object receives and returns: py4j's values with references
//! resolved to the objects themselves.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use bytes::Bytes;

use super::object::ObjRef;
use crate::py4j::Decimal;

/// A Java value as the object model sees it: a boxed primitive, a string,
/// a `byte[]`, or an object.
#[derive(Clone, Debug)]
pub enum JValue {
    /// `null`.
    Null,
    /// `java.lang.Boolean`.
    Bool(bool),
    /// `java.lang.Integer`.
    Int(i32),
    /// `java.lang.Long`.
    Long(i64),
    /// `java.lang.Double`.
    Double(f64),
    /// `java.math.BigDecimal`, as its text.
    Decimal(Decimal),
    /// `java.lang.String`.
    Str(Arc<str>),
    /// `byte[]` (py4j passes it by value, base64 on the wire).
    Bytes(Bytes),
    /// Any other object.
    Object(ObjRef),
}

impl JValue {
    /// A string value.
    pub fn str(s: impl Into<Arc<str>>) -> JValue {
        JValue::Str(s.into())
    }

    /// The class Java would report for the value, as `Arrays.toString` of a
    /// parameter-class array prints it (`class java.lang.String`, `null`): what
    /// py4j's "Method m([…]) does not exist" message lists.
    pub fn class_description(&self) -> String {
        match self.class_name() {
            Some(c) => format!("class {c}"),
            None => "null".into(),
        }
    }

    /// The runtime class name, `None` for `null`.
    pub fn class_name(&self) -> Option<String> {
        Some(
            match self {
                JValue::Null => return None,
                JValue::Bool(_) => "java.lang.Boolean",
                JValue::Int(_) => "java.lang.Integer",
                JValue::Long(_) => "java.lang.Long",
                JValue::Double(_) => "java.lang.Double",
                JValue::Decimal(_) => "java.math.BigDecimal",
                JValue::Str(_) => "java.lang.String",
                JValue::Bytes(_) => "[B",
                JValue::Object(o) => return Some(o.class_name()),
            }
            .to_owned(),
        )
    }

    /// The object, if this is one.
    pub fn as_object(&self) -> Option<&ObjRef> {
        match self {
            JValue::Object(o) => Some(o),
            _ => None,
        }
    }

    /// `String.valueOf(x)`: what `toString` of the value gives (and what Java's
    /// collections print for their elements).
    pub fn java_string(&self) -> String {
        match self {
            JValue::Null => "null".into(),
            JValue::Bool(b) => b.to_string(),
            JValue::Int(n) => n.to_string(),
            JValue::Long(n) => n.to_string(),
            JValue::Double(d) => crate::py4j::Double::java(*d).text().to_owned(),
            JValue::Decimal(d) => d.text().to_owned(),
            JValue::Str(s) => s.to_string(),
            JValue::Bytes(b) => format!("[B@{:x}", b.as_ptr() as usize & 0xfff_ffff),
            JValue::Object(o) => o.to_java_string(),
        }
    }

    /// `Objects.equals(self, other)` for the values this model has: boxed
    /// primitives and strings by value (an `Integer` never equals a `Long`),
    /// arrays and objects by identity unless the object defines equality.
    pub fn java_equals(&self, other: &JValue) -> bool {
        match (self, other) {
            (JValue::Null, JValue::Null) => true,
            (JValue::Bool(a), JValue::Bool(b)) => a == b,
            (JValue::Int(a), JValue::Int(b)) => a == b,
            (JValue::Long(a), JValue::Long(b)) => a == b,
            // Double.equals compares bits (NaN equals NaN, 0.0 is not -0.0).
            (JValue::Double(a), JValue::Double(b)) => a.to_bits() == b.to_bits(),
            (JValue::Decimal(a), JValue::Decimal(b)) => a == b,
            (JValue::Str(a), JValue::Str(b)) => a == b,
            (JValue::Bytes(a), JValue::Bytes(b)) => a.as_ptr() == b.as_ptr() && a.len() == b.len(),
            (JValue::Object(a), JValue::Object(b)) => a.java_equals(b),
            _ => false,
        }
    }

    /// The ordering `Comparable.compareTo` gives between two values of the same
    /// comparable class; `None` where Java would throw `ClassCastException`.
    pub fn java_compare(&self, other: &JValue) -> Option<std::cmp::Ordering> {
        match (self, other) {
            (JValue::Bool(a), JValue::Bool(b)) => Some(a.cmp(b)),
            (JValue::Int(a), JValue::Int(b)) => Some(a.cmp(b)),
            (JValue::Long(a), JValue::Long(b)) => Some(a.cmp(b)),
            (JValue::Double(a), JValue::Double(b)) => Some(java_double_compare(*a, *b)),
            // String.compareTo compares UTF-16 code units.
            (JValue::Str(a), JValue::Str(b)) => Some(a.encode_utf16().cmp(b.encode_utf16())),
            _ => None,
        }
    }
}

/// `Double.compare`: -0.0 < 0.0, NaN greater than everything and equal to itself.
fn java_double_compare(a: f64, b: f64) -> std::cmp::Ordering {
    a.partial_cmp(&b)
        .unwrap_or_else(|| a.is_nan().cmp(&b.is_nan()))
        .then_with(|| {
            if a == b {
                b.is_sign_negative().cmp(&a.is_sign_negative())
            } else {
                std::cmp::Ordering::Equal
            }
        })
}

/// A [`JValue`] as a hash key with Java's `equals`/`hashCode` contract (for
/// `HashMap` and `HashSet`): value types by value, objects by identity.
#[derive(Clone, Debug)]
pub struct JKey(pub JValue);

impl PartialEq for JKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.java_equals(&other.0)
    }
}

impl Eq for JKey {}

impl Hash for JKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match &self.0 {
            JValue::Null => 0u8.hash(state),
            JValue::Bool(b) => (1u8, b).hash(state),
            JValue::Int(n) => (2u8, n).hash(state),
            JValue::Long(n) => (3u8, n).hash(state),
            JValue::Double(d) => (4u8, d.to_bits()).hash(state),
            JValue::Decimal(d) => (5u8, d.text()).hash(state),
            JValue::Str(s) => (6u8, s).hash(state),
            JValue::Bytes(b) => (7u8, b.as_ptr() as usize, b.len()).hash(state),
            JValue::Object(o) => (8u8, o.hash_code()).hash(state),
        }
    }
}

/// `String.hashCode()`: `s[0]*31^(n-1) + … + s[n-1]` over UTF-16 code units,
/// wrapping.
pub fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

/// `hashCode()` of a value, as Java's boxed types define it.
pub fn java_hash(v: &JValue) -> i32 {
    match v {
        JValue::Null => 0,
        JValue::Bool(b) => {
            if *b {
                1231
            } else {
                1237
            }
        }
        JValue::Int(n) => *n,
        JValue::Long(n) => (*n ^ (*n >> 32)) as i32,
        JValue::Double(d) => {
            let bits = if d.is_nan() {
                0x7ff8_0000_0000_0000
            } else {
                d.to_bits()
            };
            (bits ^ (bits >> 32)) as i32
        }
        JValue::Decimal(d) => java_string_hash(d.text()),
        JValue::Str(s) => java_string_hash(s),
        JValue::Bytes(b) => (b.as_ptr() as usize >> 4) as i32,
        JValue::Object(o) => o.hash_code(),
    }
}
