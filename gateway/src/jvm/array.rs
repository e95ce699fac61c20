//! Java arrays (`Object[]`, `String[]`, `int[]`, `Tuple2[]` …): fixed length,
//! typed elements, reached through py4j's `a` commands.

use std::any::Any;
use std::sync::{Mutex, MutexGuard};

use super::model::CallError;
use super::model::Cx;
use super::model::JValue;
use super::model::{JvmObject, ObjRef, Shape};

/// A Java array of a component type.
#[derive(Debug)]
pub struct JArray {
    component: String,
    elements: Mutex<Vec<JValue>>,
}

/// JVM descriptors of the primitive component types.
const PRIMITIVES: &[(&str, char)] = &[
    ("boolean", 'Z'),
    ("byte", 'B'),
    ("char", 'C'),
    ("short", 'S'),
    ("int", 'I'),
    ("long", 'J'),
    ("float", 'F'),
    ("double", 'D'),
];

impl JArray {
    /// An array of `component` holding `elements`.
    pub fn new(component: &str, elements: Vec<JValue>) -> JArray {
        JArray {
            component: component.to_owned(),
            elements: Mutex::new(elements),
        }
    }

    /// `new component[len]`, filled with the component's default value.
    pub fn with_len(component: &str, len: usize) -> JArray {
        let fill = default_value(component);
        JArray::new(component, vec![fill; len])
    }

    fn lock(&self) -> MutexGuard<'_, Vec<JValue>> {
        self.elements.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The component type's name (`java.lang.String`, `int`, `int[]`).
    pub fn component(&self) -> &str {
        &self.component
    }

    /// `array.length`.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A copy of the elements.
    pub fn elements(&self) -> Vec<JValue> {
        self.lock().clone()
    }

    /// `array[index]`, or Java's `ArrayIndexOutOfBoundsException`.
    pub fn get(&self, index: i32) -> Result<JValue, CallError> {
        let v = self.lock();
        usize::try_from(index)
            .ok()
            .and_then(|i| v.get(i).cloned())
            .ok_or_else(|| out_of_bounds(index, v.len()))
    }

    /// `array[index] = value`, converting as py4j does (an `Integer` into a
    /// `long[]` widens) and refusing what Java's `Array.set` would.
    pub fn set(&self, index: i32, value: JValue) -> Result<(), CallError> {
        let value = convert_element(&self.component, value)?;
        let mut v = self.lock();
        let len = v.len();
        let slot = usize::try_from(index)
            .ok()
            .and_then(|i| v.get_mut(i))
            .ok_or_else(|| out_of_bounds(index, len))?;
        *slot = value;
        Ok(())
    }
}

fn out_of_bounds(index: i32, len: usize) -> CallError {
    CallError::throw(
        "java.lang.ArrayIndexOutOfBoundsException",
        format!("Index {index} out of bounds for length {len}"),
        "java.lang.reflect.Array.get",
    )
}

/// The value a new array of `component` starts with.
pub fn default_value(component: &str) -> JValue {
    match component {
        "boolean" => JValue::Bool(false),
        "byte" | "short" | "int" | "char" => JValue::Int(0),
        "long" => JValue::Long(0),
        "float" | "double" => JValue::Double(0.0),
        _ => JValue::Null,
    }
}

/// py4j's conversion of an argument into an array slot of `component`.
fn convert_element(component: &str, value: JValue) -> Result<JValue, CallError> {
    let refuse = |v: &JValue| {
        CallError::Py4j(match v.class_name() {
            Some(c) => format!("Cannot convert {c} to {component}"),
            None => format!("Cannot convert null to {component}"),
        })
    };
    Ok(match (component, &value) {
        // py4j's numeric conversions: `Integer` into int, short, byte and
        // long slots; `Double` into double and float; never int → double.
        ("int" | "short" | "byte", JValue::Int(_)) => value,
        ("long", JValue::Int(n)) => JValue::Long(i64::from(*n)),
        ("long", JValue::Long(_)) => value,
        ("double" | "float", JValue::Double(_)) => value,
        ("char", JValue::Str(s)) if s.chars().count() == 1 => value,
        ("boolean", JValue::Bool(_)) => value,
        (c, _) if PRIMITIVES.iter().any(|(p, _)| *p == c) => return Err(refuse(&value)),
        ("java.lang.Object", _) | (_, JValue::Null) => value,
        ("java.lang.String", JValue::Str(_)) => value,
        ("java.lang.Integer", JValue::Int(_)) | ("java.lang.Long", JValue::Long(_)) => value,
        ("java.lang.Double", JValue::Double(_)) | ("java.lang.Boolean", JValue::Bool(_)) => value,
        (c, JValue::Object(o)) if o.instance_of(c) => value,
        _ => return Err(refuse(&value)),
    })
}

/// The JVM's name of an array class: `[Ljava.lang.String;`, `[I`, `[[I`.
pub fn array_class_name(component: &str) -> String {
    let mut dims = 1;
    let mut base = component;
    while let Some(b) = base.strip_suffix("[]") {
        dims += 1;
        base = b;
    }
    let mut out = "[".repeat(dims);
    match PRIMITIVES.iter().find(|(p, _)| *p == base) {
        Some((_, d)) => out.push(*d),
        None => {
            out.push('L');
            out.push_str(base);
            out.push(';');
        }
    }
    out
}

impl JvmObject for JArray {
    fn java_method_names(&self) -> &'static [&'static str] {
        &[
            "clone",
            "equals",
            "getClass",
            "hashCode",
            "notify",
            "notifyAll",
            "toString",
            "wait",
        ]
    }

    fn class_name(&self) -> String {
        array_class_name(&self.component)
    }

    fn call(
        &self,
        _: &ObjRef,
        method: &str,
        args: &[JValue],
        _: &mut Cx<'_>,
    ) -> Result<JValue, CallError> {
        match (method, args) {
            ("clone", []) => Ok(JValue::Object(std::sync::Arc::new(JArray::new(
                &self.component,
                self.elements(),
            )))),
            _ => Err(CallError::no_such_method(method, args)),
        }
    }

    fn shape(&self) -> Shape {
        Shape::Array
    }

    fn instance_of(&self, fqn: &str) -> bool {
        fqn == "java.lang.Object" || fqn == self.class_name()
    }

    fn field_names(&self) -> Vec<&'static str> {
        vec!["length"]
    }

    fn get_field(&self, name: &str) -> Option<JValue> {
        (name == "length").then(|| JValue::Int(i32::try_from(self.len()).unwrap_or(i32::MAX)))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
