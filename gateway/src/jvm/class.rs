//! The class table: which Java classes the model has, how to construct them,
//! their static members, and how names resolve (py4j's `TypeUtil.forName`).

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::context::Cx;
use super::error::CallError;
use super::object::{JvmObject, ObjRef};
use super::value::JValue;
use super::view::JvmView;

/// A constructor or static method body.
pub type StaticFn = Arc<dyn Fn(&[JValue], &mut Cx<'_>) -> Result<JValue, CallError> + Send + Sync>;

/// One class of the model.
#[derive(Clone)]
pub struct JavaClass {
    name: String,
    interface: bool,
    constructor: Option<StaticFn>,
    statics: HashMap<String, StaticFn>,
    static_fields: HashMap<String, JValue>,
    instance_methods: Vec<String>,
    nested: Vec<String>,
}

impl std::fmt::Debug for JavaClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JavaClass")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl JavaClass {
    /// A class with no members yet.
    pub fn new(name: &str) -> JavaClass {
        JavaClass {
            name: name.to_owned(),
            interface: false,
            constructor: None,
            statics: HashMap::new(),
            static_fields: HashMap::new(),
            instance_methods: Vec::new(),
            nested: Vec::new(),
        }
    }

    /// Marks it an interface (`java.lang.Class.toString` says so).
    pub fn interface(mut self) -> JavaClass {
        self.interface = true;
        self
    }

    /// Its constructors (one body; it dispatches on the arguments).
    pub fn constructor(
        mut self,
        f: impl Fn(&[JValue], &mut Cx<'_>) -> Result<JValue, CallError> + Send + Sync + 'static,
    ) -> JavaClass {
        self.constructor = Some(Arc::new(f));
        self
    }

    /// A static method (one body for all overloads of the name).
    pub fn static_method(
        mut self,
        name: &str,
        f: impl Fn(&[JValue], &mut Cx<'_>) -> Result<JValue, CallError> + Send + Sync + 'static,
    ) -> JavaClass {
        self.statics.insert(name.to_owned(), Arc::new(f));
        self
    }

    /// A static field with a constant value.
    pub fn static_field(mut self, name: &str, value: JValue) -> JavaClass {
        self.static_fields.insert(name.to_owned(), value);
        self
    }

    /// Names of instance methods: `r m` on them answers py4j's "non-static
    /// member" error instead of "no such member".
    pub fn instance_methods(mut self, names: &[&str]) -> JavaClass {
        self.instance_methods
            .extend(names.iter().map(|s| (*s).to_owned()));
        self
    }

    /// Simple names of nested classes (`Outer$Inner`).
    pub fn nested(mut self, names: &[&str]) -> JavaClass {
        self.nested.extend(names.iter().map(|s| (*s).to_owned()));
        self
    }

    /// The fully qualified name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Calls the constructor.
    pub fn construct(&self, args: &[JValue], cx: &mut Cx<'_>) -> Result<JValue, CallError> {
        match &self.constructor {
            Some(f) => f(args, cx),
            None => Err(CallError::NoSuchConstructor {
                class: self.name.clone(),
                args: args.iter().map(JValue::class_description).collect(),
            }),
        }
    }

    /// Calls a static method.
    pub fn call_static(
        &self,
        method: &str,
        args: &[JValue],
        cx: &mut Cx<'_>,
    ) -> Result<JValue, CallError> {
        match self.statics.get(method) {
            Some(f) => f(args, cx),
            None => Err(CallError::no_such_method(method, args)),
        }
    }

    /// Whether a static method of that name is modelled.
    pub fn has_static(&self, method: &str) -> bool {
        self.statics.contains_key(method)
    }

    /// What `r m` finds for `member`.
    pub fn member(&self, member: &str) -> Member {
        if let Some(v) = self.static_fields.get(member) {
            Member::Field(v.clone())
        } else if self.statics.contains_key(member) {
            Member::StaticMethod
        } else if self.instance_methods.iter().any(|m| m == member) {
            Member::InstanceMethod
        } else if self.nested.iter().any(|n| n == member) {
            Member::Class
        } else {
            Member::None
        }
    }

    /// Public static member names (`d s`), sorted.
    pub fn static_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .statics
            .keys()
            .chain(self.static_fields.keys())
            .chain(self.nested.iter())
            .cloned()
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

/// The result of a static member lookup.
#[derive(Clone, Debug)]
pub enum Member {
    /// A static field's value.
    Field(JValue),
    /// A static method.
    StaticMethod,
    /// A method that exists but is not static.
    InstanceMethod,
    /// A nested class.
    Class,
    /// Nothing of that name.
    None,
}

/// Primitive type names py4j's `TypeUtil.forName` knows without a class.
const PRIMITIVE_TYPES: &[&str] = &[
    "boolean", "byte", "char", "short", "int", "long", "float", "double", "void",
];

/// All classes of the model, by fully qualified name. Thread-safe: the engine
/// may add classes while connections resolve names.
#[derive(Default)]
pub struct ClassTable {
    classes: RwLock<HashMap<String, Arc<JavaClass>>>,
}

impl ClassTable {
    /// An empty table.
    pub fn new() -> ClassTable {
        ClassTable::default()
    }

    /// Adds or replaces a class.
    pub fn add(&self, class: JavaClass) {
        let mut map = self.classes.write().unwrap_or_else(|p| p.into_inner());
        map.insert(class.name.clone(), Arc::new(class));
    }

    /// The class of a fully qualified name (nested classes as `Outer$Inner`).
    pub fn get(&self, fqn: &str) -> Option<Arc<JavaClass>> {
        let map = self.classes.read().unwrap_or_else(|p| p.into_inner());
        map.get(fqn).cloned()
    }

    /// py4j's `r u` resolution of `name` in `view`: a primitive type name; a
    /// dotted name as a fully qualified class; a simple name through the view's
    /// single import, then its imported packages in order. `None` means "not a
    /// class", which py4j answers as "a package".
    pub fn resolve(&self, name: &str, view: &JvmView) -> Option<String> {
        if PRIMITIVE_TYPES.contains(&name) {
            return Some(name.to_owned());
        }
        if name.contains('.') || self.get(name).is_some() {
            return match self.get(name) {
                Some(c) => Some(c.name.clone()),
                None => is_unmodelled_class(name).then(|| name.to_owned()),
            };
        }
        view.candidates(name)
            .into_iter()
            .find(|fqn| self.get(fqn).is_some())
    }

    /// Whether `fqn` names a class of the model or a primitive type.
    pub fn knows(&self, fqn: &str) -> bool {
        PRIMITIVE_TYPES.contains(&fqn) || self.get(fqn).is_some()
    }
}

/// Package prefixes of the JVM PySpark talks to (the JDK, Scala, Spark, py4j).
/// A dotted name under one of them whose last part is capitalised is taken to
/// be a class that exists in a real JVM but not in this model: name resolution
/// answers "a class" so that a call to it reaches the model and fails with an
/// exception naming the class and method, instead of Python's "Trying to call
/// a package".
const JVM_PACKAGES: &[&str] = &["java.", "javax.", "scala.", "org.apache.spark.", "py4j."];

/// Whether `fqn` looks like a class of the real JVM that the model lacks.
pub fn is_unmodelled_class(fqn: &str) -> bool {
    JVM_PACKAGES.iter().any(|p| fqn.starts_with(p))
        && fqn
            .rsplit('.')
            .next()
            .and_then(|last| last.chars().next())
            .is_some_and(char::is_uppercase)
}

/// A `java.lang.Class` object (`r c`, `getClass()`).
#[derive(Debug)]
pub struct ClassObject {
    name: String,
    interface: bool,
}

impl ClassObject {
    /// The `Class` of `name`.
    pub fn new(name: &str, interface: bool) -> ClassObject {
        ClassObject {
            name: name.to_owned(),
            interface,
        }
    }

    /// For a class of the table.
    pub fn of(class: &JavaClass) -> ClassObject {
        ClassObject::new(&class.name, class.interface)
    }
}

impl JvmObject for ClassObject {
    fn class_name(&self) -> String {
        "java.lang.Class".into()
    }

    fn call(
        &self,
        _: &ObjRef,
        method: &str,
        args: &[JValue],
        _: &mut Cx<'_>,
    ) -> Result<JValue, CallError> {
        match (method, args) {
            ("getName" | "getTypeName" | "getCanonicalName", []) => Ok(JValue::str(
                self.name
                    .replace('$', if method == "getName" { "$" } else { "." }),
            )),
            ("getSimpleName", []) => Ok(JValue::str(
                self.name.rsplit(['.', '$']).next().unwrap_or(&self.name),
            )),
            ("isInterface", []) => Ok(JValue::Bool(self.interface)),
            ("isArray", []) => Ok(JValue::Bool(self.name.starts_with('['))),
            _ => Err(CallError::no_such_method(method, args)),
        }
    }

    fn method_names(&self) -> Vec<&'static str> {
        vec![
            "getCanonicalName",
            "getName",
            "getSimpleName",
            "getTypeName",
            "isArray",
            "isInterface",
        ]
    }

    fn to_java_string(&self) -> String {
        let kind = if self.interface { "interface" } else { "class" };
        format!("{kind} {}", self.name)
    }

    fn java_equals(&self, other: &ObjRef) -> bool {
        other
            .as_any()
            .downcast_ref::<ClassObject>()
            .is_some_and(|o| o.name == self.name)
    }

    fn hash_code(&self) -> i32 {
        super::value::java_string_hash(&self.name)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
