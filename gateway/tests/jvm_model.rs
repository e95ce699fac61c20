//! The object model in memory: py4j commands executed against a [`Jvm`] with no
//! sockets, checking the replies byte for byte against what py4j's Java side
//! writes (the texts come from py4j's sources and from the real-server test
//! `server_vs_py4j.rs`), and the registry's life cycle.

use std::any::Any;
use std::sync::{Arc, Weak};

use bytes::BytesMut;
use sparkwire_gateway::jvm::{
    CallError, Cx, JValue, JavaClass, Jvm, JvmObject, NoCallbacks, ObjRef, Outcome,
};
use sparkwire_gateway::py4j::{Command, Direction, Message, Py4jDecoder, Reply, Value};

/// Decodes `wire` as Python → JVM commands and executes each; the reply lines.
fn run(jvm: &Jvm, wire: &str) -> Vec<String> {
    let mut dec = Py4jDecoder::new(Direction::ToJava);
    let mut buf = BytesMut::from(wire.as_bytes());
    let mut out = Vec::new();
    while let Some(m) = dec.decode_eof(&mut buf).expect("well-formed test input") {
        let Message::Command(c) = m else {
            panic!("a command")
        };
        out.push(match jvm.execute(&c, &mut NoCallbacks) {
            Outcome::Reply(r) => String::from_utf8(r.to_bytes()).expect("utf-8"),
            other => format!("{other:?}"),
        });
    }
    out
}

fn one(jvm: &Jvm, wire: &str) -> String {
    let mut r = run(jvm, wire);
    assert_eq!(r.len(), 1, "{wire:?}");
    r.remove(0)
}

/// An object whose `me()` returns itself: the same object under many ids.
struct Me;

impl JvmObject for Me {
    fn class_name(&self) -> String {
        "test.Me".into()
    }
    fn call(
        &self,
        this: &ObjRef,
        method: &str,
        args: &[JValue],
        _: &mut Cx<'_>,
    ) -> Result<JValue, CallError> {
        match method {
            "me" => Ok(JValue::Object(this.clone())),
            _ => Err(CallError::no_such_method(method, args)),
        }
    }
    fn method_names(&self) -> Vec<&'static str> {
        vec!["me"]
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[test]
fn every_return_gets_a_fresh_id_and_the_object_lives_until_its_last_id_goes() {
    let jvm = Jvm::new();
    jvm.classes()
        .add(JavaClass::new("test.Me").constructor(|_, _| Ok(JValue::Object(Arc::new(Me)))));
    let base = jvm.registry().len();
    assert_eq!(one(&jvm, "i\ntest.Me\ne\n"), "!yro0\n");
    assert_eq!(one(&jvm, "c\no0\nme\ne\n"), "!yro1\n");
    assert_eq!(one(&jvm, "c\no1\nme\ne\n"), "!yro2\n");
    let weak: Weak<dyn JvmObject> = Arc::downgrade(&jvm.registry().get("o0").expect("o0"));
    assert_eq!(jvm.registry().len(), base + 3);
    // Released out of order, one twice, one never issued: all `!yv`.
    for id in ["o1", "o1", "o0", "o99", "j", "GATEWAY_SERVER", "t"] {
        assert_eq!(one(&jvm, &format!("m\nd\n{id}\ne\n")), "!yv\n", "m d {id}");
    }
    assert!(weak.upgrade().is_some(), "o2 still holds the object");
    assert_eq!(one(&jvm, "c\no2\nme\ne\n"), "!yro3\n");
    run(&jvm, "m\nd\no2\ne\nm\nd\no3\ne\n");
    assert!(
        weak.upgrade().is_none(),
        "every id released: the object is gone"
    );
    assert_eq!(jvm.registry().len(), base);
    // The default view survives `m d j` (py4j means to skip reserved ids).
    assert_eq!(one(&jvm, "r\nu\nArrayList\nrj\ne\n"), "!yp\n");
    assert_eq!(jvm.registry().issued(), 4);
}

#[test]
fn names_resolve_through_views_as_py4j_resolves_them() {
    let jvm = Jvm::new();
    assert_eq!(
        one(&jvm, "r\nu\nInteger\nrj\ne\n"),
        "!ycjava.lang.Integer\n",
        "java.lang.* is implicit"
    );
    assert_eq!(one(&jvm, "r\nu\nHashMap\nrj\ne\n"), "!yp\n");
    assert_eq!(one(&jvm, "j\ni\nrj\njava.util.*\ne\n"), "!yv\n");
    assert_eq!(
        one(&jvm, "r\nu\nHashMap\nrj\ne\n"),
        "!ycjava.util.HashMap\n"
    );
    assert_eq!(one(&jvm, "j\ni\nrj\nscala.Tuple2\ne\n"), "!yv\n");
    assert_eq!(one(&jvm, "r\nu\nTuple2\nrj\ne\n"), "!ycscala.Tuple2\n");
    assert_eq!(one(&jvm, "r\nu\nint\nrj\ne\n"), "!ycint\n");
    assert_eq!(
        one(&jvm, "r\nu\njava.io.File\nrj\ne\n"),
        "!ycjava.io.File\n"
    );
    assert_eq!(one(&jvm, "r\nu\njava\nrj\ne\n"), "!yp\n");
    assert_eq!(one(&jvm, "r\nu\ncom.example.Nope\nrj\ne\n"), "!yp\n");
    // A class a real Spark JVM has and the model lacks still reads as a class.
    assert_eq!(
        one(&jvm, "r\nu\norg.apache.spark.sql.SparkSession\nrj\ne\n"),
        "!ycorg.apache.spark.sql.SparkSession\n"
    );
    // A new view does not see the default view's imports.
    assert_eq!(one(&jvm, "j\nc\nsmine\ne\n"), "!yro0\n");
    assert_eq!(one(&jvm, "r\nu\nHashMap\nro0\ne\n"), "!yp\n");
    assert_eq!(one(&jvm, "j\nr\nrj\njava.util.*\ne\n"), "!ybtrue\n");
    assert_eq!(one(&jvm, "r\nu\nHashMap\nrj\ne\n"), "!yp\n");
    // Static members.
    assert_eq!(
        one(&jvm, "r\nm\njava.lang.Integer\nMAX_VALUE\ne\n"),
        "!yi2147483647\n"
    );
    assert_eq!(one(&jvm, "r\nm\njava.lang.Math\nmax\ne\n"), "!ym\n");
    assert_eq!(
        one(&jvm, "r\nm\njava.util.ArrayList\nsize\ne\n"),
        "!xsTrying to access a non-static member from a static context.\n"
    );
    assert_eq!(one(&jvm, "r\nm\njava.lang.Integer\nNOPE\ne\n"), "!x\n");
    assert_eq!(one(&jvm, "r\nm\ncom.example.Nope\nx\ne\n"), "!x\n");
    assert_eq!(one(&jvm, "r\nc\njava.util.HashMap\ne\n"), "!yro1\n");
    assert_eq!(one(&jvm, "c\no1\ngetName\ne\n"), "!ysjava.util.HashMap\n");
    assert_eq!(
        one(&jvm, "r\nc\ncom.example.Nope\ne\n"),
        "!xsThe class com.example.Nope does not exist.\n"
    );
}

#[test]
fn replies_use_java_spellings_and_void_is_not_null() {
    let jvm = Jvm::new();
    assert_eq!(one(&jvm, "i\njava.util.HashMap\ne\n"), "!yao0\n");
    assert_eq!(
        one(&jvm, "c\no0\nput\nsk\nd1.5\ne\n"),
        "!yn\n",
        "no previous value: null"
    );
    assert_eq!(one(&jvm, "c\no0\nput\nsk\nd1e+16\ne\n"), "!yd1.5\n");
    assert_eq!(one(&jvm, "c\no0\nget\nsk\ne\n"), "!yd1.0E16\n");
    assert_eq!(one(&jvm, "c\no0\ncontainsKey\nsk\ne\n"), "!ybtrue\n");
    assert_eq!(one(&jvm, "c\no0\nput\nsd\nD1E+5\ne\n"), "!yn\n");
    assert_eq!(
        one(&jvm, "c\no0\nget\nsd\ne\n"),
        "!yD100000\n",
        "BigDecimal.toPlainString"
    );
    assert_eq!(one(&jvm, "i\njava.util.ArrayList\ne\n"), "!ylo1\n");
    assert_eq!(
        one(&jvm, "c\no1\nadd\ni0\nsx\ne\n"),
        "!yv\n",
        "add(int, E) is void"
    );
    assert_eq!(one(&jvm, "c\no1\nadd\nbTrue\ne\n"), "!ybtrue\n");
    assert_eq!(one(&jvm, "c\no1\nadd\nn\ne\n"), "!ybtrue\n");
    assert_eq!(
        one(&jvm, "c\no1\nget\ni2\ne\n"),
        "!yn\n",
        "a null element is null, not void"
    );
    assert_eq!(one(&jvm, "c\no1\ntoString\ne\n"), "!ys[x, true, null]\n");
    assert_eq!(one(&jvm, "a\nc\nsjava.lang.String\ni2\ne\n"), "!yto2\n");
    assert_eq!(one(&jvm, "a\ns\no2\ni0\nsa\\nb\ne\n"), "!yv\n");
    assert_eq!(one(&jvm, "a\ng\no2\ni0\ne\n"), "!ysa\\nb\n");
    assert_eq!(one(&jvm, "a\ng\no2\ni1\ne\n"), "!yn\n");
    assert_eq!(one(&jvm, "a\ne\no2\ne\n"), "!yi2\n");
    assert_eq!(one(&jvm, "c\no2\ngetClass\ne\n"), "!yro3\n");
    assert_eq!(one(&jvm, "c\no3\ngetName\ne\n"), "!ys[Ljava.lang.String;\n");
}

#[test]
fn thrown_java_exceptions_are_objects_with_a_stack_trace() {
    let jvm = Jvm::new();
    assert_eq!(
        one(&jvm, "c\nz:java.lang.Integer\nparseInt\nsx\ne\n"),
        "!xro0\n"
    );
    let trace = one(&jvm, "p\nro0\ne\n");
    assert!(
        trace.starts_with("!ysjava.lang.NumberFormatException: For input string: \"x\"\\n\tat "),
        "{trace}"
    );
    assert_eq!(
        one(&jvm, "c\no0\ngetMessage\ne\n"),
        "!ysFor input string: \"x\"\n"
    );
    assert_eq!(
        one(
            &jvm,
            "c\nz:py4j.reflection.TypeUtil\nisInstanceOf\nsjava.lang.RuntimeException\nro0\ne\n"
        ),
        "!ybtrue\n"
    );
    // py4j's own failures are `!xs` + the trace of a py4j.Py4JException.
    let r = one(&jvm, "c\no77\nfoo\ne\n");
    assert!(
        r.starts_with(
            "!xspy4j.Py4JException: Target Object ID does not exist for this gateway :o77\\n"
        ),
        "{r}"
    );
    let r = one(&jvm, "i\njava.util.ArrayList\nsa\nsb\ne\n");
    assert!(
        r.starts_with(
            "!xspy4j.Py4JException: Constructor java.util.ArrayList([class java.lang.String, class java.lang.String]) does not exist\\n"
        ),
        "{r}"
    );
}

#[test]
fn what_the_model_lacks_fails_with_a_java_exception_naming_class_and_method() {
    let jvm = Jvm::new();
    let text = |r: &str| {
        let id = r
            .strip_prefix("!xr")
            .and_then(|s| s.strip_suffix('\n'))
            .unwrap_or_else(|| panic!("a thrown object: {r}"));
        one(&jvm, &format!("p\nr{id}\ne\n"))
    };
    // A real ArrayList method the model does not implement.
    one(&jvm, "i\njava.util.ArrayList\ne\n");
    let t = text(&one(&jvm, "c\no0\nensureCapacity\ni10\ne\n"));
    assert!(
        t.starts_with("!ysjava.lang.UnsupportedOperationException: java.util.ArrayList.ensureCapacity is not implemented by the sparkwire gateway"),
        "{t}"
    );
    // A name ArrayList does not have at all: py4j's own "does not exist".
    let r = one(&jvm, "c\no0\nfooBar\ne\n");
    assert!(
        r.starts_with("!xspy4j.Py4JException: Method fooBar([]) does not exist"),
        "{r}"
    );
    // A Spark class the model lacks: static call and constructor.
    assert_eq!(
        one(
            &jvm,
            "r\nm\norg.apache.spark.sql.SparkSession\nbuilder\ne\n"
        ),
        "!ym\n"
    );
    let t = text(&one(
        &jvm,
        "c\nz:org.apache.spark.sql.SparkSession\nbuilder\ne\n",
    ));
    assert!(
        t.contains("org.apache.spark.sql.SparkSession.builder is not implemented"),
        "{t}"
    );
    let t = text(&one(
        &jvm,
        "i\norg.apache.spark.streaming.StreamingContext\nro0\ne\n",
    ));
    assert!(
        t.contains("org.apache.spark.streaming.StreamingContext.<init> is not implemented"),
        "{t}"
    );
    // Not a JVM package at all: ClassNotFoundException, as py4j reports it.
    let r = one(&jvm, "c\nz:com.example.Nope\nrun\ne\n");
    assert!(
        r.starts_with("!xsjava.lang.ClassNotFoundException: com.example.Nope"),
        "{r}"
    );
}

#[test]
fn list_commands_follow_java_collections() {
    let jvm = Jvm::new();
    one(&jvm, "i\njava.util.ArrayList\ne\n");
    for x in ["sb", "sa", "sC", "sa"] {
        one(&jvm, &format!("c\no0\nadd\n{x}\ne\n"));
    }
    assert_eq!(one(&jvm, "l\nf\no0\nsa\ne\n"), "!yi2\n");
    assert_eq!(one(&jvm, "l\ns\no0\ne\n"), "!yv\n");
    assert_eq!(
        one(&jvm, "c\no0\ntoString\ne\n"),
        "!ys[C, a, a, b]\n",
        "UTF-16 order: capitals first"
    );
    assert_eq!(one(&jvm, "l\nr\no0\ne\n"), "!yv\n");
    assert_eq!(one(&jvm, "l\nl\no0\ni0\ni3\ne\n"), "!ylo1\n");
    assert_eq!(one(&jvm, "c\no1\ntoString\ne\n"), "!ys[b, C]\n");
    assert_eq!(one(&jvm, "l\na\no0\no1\ne\n"), "!ylo2\n");
    assert_eq!(one(&jvm, "c\no2\nsize\ne\n"), "!yi6\n");
    assert_eq!(one(&jvm, "l\nm\no1\ni3\ne\n"), "!ylo3\n");
    assert_eq!(one(&jvm, "c\no3\nsize\ne\n"), "!yi6\n");
    assert_eq!(one(&jvm, "l\ni\no1\ni0\ne\n"), "!yv\n");
    assert_eq!(one(&jvm, "c\no1\nisEmpty\ne\n"), "!ybtrue\n");
    assert_eq!(one(&jvm, "l\nx\no0\ne\n"), "!ysb\n");
    assert_eq!(one(&jvm, "l\nn\no0\ne\n"), "!ysC\n");
    // Mixed elements are not comparable: ClassCastException, thrown.
    one(&jvm, "c\no0\nadd\ni1\ne\n");
    assert!(one(&jvm, "l\ns\no0\ne\n").starts_with("!xro"));
    // Not a list.
    one(&jvm, "i\njava.util.HashMap\ne\n");
    assert!(one(&jvm, "l\ns\no5\ne\n").starts_with("!xro"));
}

#[test]
fn arrays_refuse_what_javas_array_set_refuses_and_bound_their_size() {
    let jvm = Jvm::new();
    assert_eq!(one(&jvm, "a\nc\nsint\ni2\ni3\ne\n"), "!yto0\n");
    assert_eq!(one(&jvm, "a\ng\no0\ni1\ne\n"), "!yto1\n");
    assert_eq!(one(&jvm, "c\no1\ngetClass\ne\n"), "!yro2\n");
    assert_eq!(one(&jvm, "c\no2\ngetName\ne\n"), "!ys[I\n");
    assert_eq!(one(&jvm, "a\ns\no1\ni0\ni7\ne\n"), "!yv\n");
    assert!(one(&jvm, "a\ns\no1\ni0\nd1.5\ne\n")
        .starts_with("!xspy4j.Py4JException: Cannot convert java.lang.Double to int"));
    assert!(
        one(&jvm, "a\ng\no1\ni3\ne\n").starts_with("!xro"),
        "index out of bounds is thrown"
    );
    assert!(
        one(&jvm, "a\nc\nsint\ni1024\ni1025\ne\n").starts_with("!xro"),
        "just over 2^20 slots refused"
    );
    assert!(one(&jvm, "a\nc\nsint\ni-1\ne\n").starts_with("!xro"));
    assert!(one(&jvm, "a\nc\nscom.example.Nope\ni1\ne\n")
        .starts_with("!xsjava.lang.ClassNotFoundException"));
    assert_eq!(one(&jvm, "a\nc\nsjava.lang.Object\ni2\ne\n"), "!yto6\n");
    assert_eq!(one(&jvm, "a\ns\no6\ni1\nd1.5\ne\n"), "!yv\n");
    assert_eq!(one(&jvm, "a\nl\no6\ni1\ni0\ni1\ne\n"), "!yto7\n");
    assert_eq!(one(&jvm, "a\ng\no7\ni2\ne\n"), "!yd1.5\n");
}

#[test]
fn commands_of_the_other_direction_are_fatal_and_shutdown_is_reported() {
    let jvm = Jvm::new();
    let c = Command::ProxyCollected { proxy: "p0".into() };
    match jvm.execute(&c, &mut NoCallbacks) {
        Outcome::Fatal(Reply::Fatal(Some(Value::Str(t)))) => {
            assert!(
                t.starts_with("py4j.Py4JException: Unknown command received"),
                "{t}"
            )
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        jvm.execute(&Command::Shutdown, &mut NoCallbacks),
        Outcome::Shutdown
    );
}

#[test]
fn self_containing_collections_and_hostile_sizes_do_not_take_the_gateway_down() {
    let jvm = Jvm::new();
    assert_eq!(one(&jvm, "i\njava.util.ArrayList\ne\n"), "!ylo0\n");
    assert_eq!(one(&jvm, "c\no0\nadd\nro0\ne\n"), "!ybtrue\n");
    assert_eq!(
        one(&jvm, "c\no0\ntoString\ne\n"),
        "!ys[(this Collection)]\n",
        "as Java prints a list that contains itself"
    );
    assert!(one(&jvm, "c\no0\nhashCode\ne\n").starts_with("!yi"));
    assert_eq!(one(&jvm, "c\no0\nequals\nro0\ne\n"), "!ybtrue\n");
    // Two lists that contain each other: bounded, not a stack overflow.
    assert_eq!(one(&jvm, "i\njava.util.ArrayList\ne\n"), "!ylo1\n");
    one(&jvm, "c\no0\nadd\nro1\ne\n");
    one(&jvm, "c\no1\nadd\nro0\ne\n");
    assert!(one(&jvm, "c\no1\ntoString\ne\n").starts_with("!ys["));
    assert!(one(&jvm, "c\no1\nhashCode\ne\n").starts_with("!yi"));
    // `new int[2^20 + 1][0]` makes 2^20 + 1 arrays: refused before allocating.
    assert!(one(&jvm, "a\nc\nsint\ni1048577\ni0\ne\n").starts_with("!xro"));
    // An exponent at the edge of i64 in a decimal: no overflow.
    let map = one(&jvm, "i\njava.util.HashMap\ne\n");
    let id = map
        .trim_end()
        .strip_prefix("!ya")
        .expect("a map")
        .to_owned();
    let r = one(
        &jvm,
        &format!("c\n{id}\nput\nsk\nD1.5E-9223372036854775808\ne\n"),
    );
    assert!(r.starts_with("!y") || r.starts_with("!x"), "{r}");
}
