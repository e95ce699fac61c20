//! The Pyrolite profile against the real Pyrolite jar each pinned PySpark
//! bundles (1.3 in 3.5.9, 1.5 in 4.x), driven by `testkit/java/PyroliteOracle`.
//!
//! * `encodes_like_pyrolite`: random Java-shaped values (Integer, Long,
//!   BigInteger, Double, String, byte[], BigDecimal, Object[], ArrayList, Map, Set,
//!   null, Boolean, with shared Strings and containers) built both as a Java object
//!   graph and as our value graph: our Pyrolite encoding must equal
//!   `Pickler(true, false).dumps`.
//!   Primitive arrays (int[], long[], short[], double[], float[]) are among
//!   them: Pyrolite writes `array.array` calls for these.
//! * `round_trips_what_pyrolite_writes`: whatever the jar writes (Calendar and
//!   java.sql.Date, primitive arrays of every kind included) decodes and
//!   re-encodes byte for byte.

use std::cell::RefCell;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use sparkwire_serializers::pickle::{self, Graph, Int, NodeId, Profile, PyStr, Value};
use sparkwire_testkit::pyrolite::{with_pyrolite, Pyrolite};
use sparkwire_testkit::{hex, oracle_versions};

#[derive(Debug, Clone)]
enum J {
    Null,
    Bool(bool),
    Integer(i32),
    Long(i64),
    BigInt(Vec<u8>),
    Double(u64),
    Str(String),
    Bytes(Vec<u8>),
    Decimal(String),
    Array(Vec<J>),
    List(Vec<J>),
    Map(Vec<(String, J)>),
    Set(Vec<i32>),
    /// A primitive array: Java kind and values (floats as f64 bits).
    Prim(&'static str, Vec<i64>),
    /// A reference back to an earlier String or container (by pre-order rank).
    Ref(usize),
}

fn leaf() -> impl Strategy<Value = J> {
    prop_oneof![
        Just(J::Null),
        any::<bool>().prop_map(J::Bool),
        prop_oneof![any::<i32>(), -300..70_000i32].prop_map(J::Integer),
        prop_oneof![any::<i64>(), Just(i64::MIN), Just(1 << 31)].prop_map(J::Long),
        prop::collection::vec(any::<u8>(), 9..40).prop_map(J::BigInt),
        any::<u64>().prop_map(J::Double),
        "[a-zé€😀 ]{0,12}".prop_map(J::Str),
        prop::collection::vec(any::<u8>(), 0..8).prop_map(J::Bytes),
        ("-?[1-9][0-9]{0,6}", "[0-9]{1,4}").prop_map(|(a, b)| J::Decimal(format!("{a}.{b}"))),
        any::<usize>().prop_map(J::Ref),
        prim(),
    ]
}

/// int[], long[], short[], double[] and float[] with values at the edges of
/// Pyrolite's integer opcodes (and of the i32 range, past which a long is
/// memoized).
fn prim() -> impl Strategy<Value = J> {
    let ints = prop::collection::vec(
        prop_oneof![any::<i32>().prop_map(i64::from), -300..70_000i64],
        0..6,
    );
    let longs = prop::collection::vec(
        prop_oneof![
            any::<i64>(),
            Just(1i64 << 31),
            Just(-(1i64 << 31) - 1),
            -300..300i64
        ],
        0..6,
    );
    let shorts = prop::collection::vec(any::<i16>().prop_map(i64::from), 0..6);
    let doubles = prop::collection::vec(any::<u64>().prop_map(|b| b as i64), 0..6);
    let floats = prop::collection::vec(any::<u32>().prop_map(i64::from), 0..6);
    prop_oneof![
        ints.prop_map(|v| J::Prim("int", v)),
        longs.prop_map(|v| J::Prim("long", v)),
        shorts.prop_map(|v| J::Prim("short", v)),
        doubles.prop_map(|v| J::Prim("double", v)),
        floats.prop_map(|v| J::Prim("float", v)),
    ]
}

fn jval() -> impl Strategy<Value = J> {
    leaf().prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(J::Array),
            prop::collection::vec(inner.clone(), 0..6).prop_map(J::List),
            prop::collection::vec(("[a-z]{1,3}", inner), 0..5).prop_map(|kv| {
                let mut seen = std::collections::HashSet::new();
                J::Map(
                    kv.into_iter()
                        .filter(|(k, _)| seen.insert(k.clone()))
                        .collect(),
                )
            }),
            prop::collection::btree_set(-500..500i32, 0..5)
                .prop_map(|s| J::Set(s.into_iter().collect())),
        ]
    })
}

/// Builds the Java notation and our graph together, in the same pre-order.
struct Builder {
    g: Graph,
    spec: Vec<String>,
    /// (pre-order rank, node) of values a `Ref` may point at: finished Strings
    /// and containers that are not ancestors of the current position.
    shareable: Vec<(usize, NodeId)>,
    rank: usize,
}

impl Builder {
    fn build(&mut self, v: &J) -> NodeId {
        if let J::Ref(i) = v {
            if !self.shareable.is_empty() {
                let (rank, id) = self.shareable[i % self.shareable.len()];
                self.spec.push(format!("@{rank}"));
                return id;
            }
            return self.build(&J::Null);
        }
        let rank = self.rank;
        self.rank += 1;
        let id = match v {
            J::Null => {
                self.spec.push("N".into());
                self.g.add(Value::None)
            }
            J::Bool(b) => {
                self.spec.push(if *b { "T" } else { "F" }.into());
                self.g.add(Value::Bool(*b))
            }
            J::Integer(i) => {
                self.spec.push(format!("i:{i}"));
                self.g.add(Value::Int(Int::Small(*i as i64)))
            }
            J::Long(l) => {
                self.spec.push(format!("l:{l}"));
                self.g.add(Value::Int(Int::Small(*l)))
            }
            J::BigInt(b) => {
                let v = num_bigint::BigInt::from_signed_bytes_le(b);
                self.spec.push(format!("g:{v}"));
                self.g.add(Value::Int(Int::from_big(v)))
            }
            J::Double(bits) => {
                self.spec.push(format!("d:{bits:016x}"));
                self.g.add(Value::Float(f64::from_bits(*bits)))
            }
            J::Str(s) => {
                self.spec.push(format!("s:{}", hex(s.as_bytes())));
                self.g.add(Value::Str(PyStr::from(s.as_str())))
            }
            J::Bytes(b) => {
                self.spec.push(format!("b:{}", hex(b)));
                self.g.add(Value::Bytes(b.clone().into()))
            }
            J::Decimal(t) => {
                self.spec.push(format!("D:{}", hex(t.as_bytes())));
                let text = self.g.add(Value::Str(PyStr::from(t.as_str())));
                let callable = self.g.global("decimal", "Decimal");
                self.g.reduce(callable, vec![text])
            }
            J::Array(items) | J::List(items) => {
                let (open, close) = if matches!(v, J::Array(_)) {
                    ("(", ")")
                } else {
                    ("[", "]")
                };
                self.spec.push(open.into());
                let ids: Vec<NodeId> = items.iter().map(|x| self.build(x)).collect();
                self.spec.push(close.into());
                if matches!(v, J::Array(_)) {
                    self.g.add_tuple(&ids)
                } else {
                    self.g.add_list(&ids)
                }
            }
            J::Map(kv) => {
                self.spec.push("{".into());
                let mut pairs = Vec::new();
                for (k, x) in kv {
                    let kid = self.build(&J::Str(k.clone()));
                    pairs.push((kid, self.build(x)));
                }
                self.spec.push("}".into());
                self.g.add_dict(&pairs)
            }
            J::Set(items) => {
                self.spec.push("<".into());
                let ids: Vec<NodeId> = items.iter().map(|&i| self.build(&J::Integer(i))).collect();
                self.spec.push(">".into());
                self.g.add_set(&ids)
            }
            J::Prim(kind, values) => {
                let text: Vec<String> = values
                    .iter()
                    .map(|&v| match *kind {
                        "double" => format!("{:016x}", v as u64),
                        "float" => format!("{:08x}", v as u32),
                        _ => v.to_string(),
                    })
                    .collect();
                self.spec.push(format!("A:{kind}:{}", text.join(",")));
                let items: Vec<NodeId> = values
                    .iter()
                    .map(|&v| {
                        self.g.add(match *kind {
                            "double" => Value::Float(f64::from_bits(v as u64)),
                            "float" => Value::Float(f32::from_bits(v as u32) as f64),
                            _ => Value::Int(Int::Small(v)),
                        })
                    })
                    .collect();
                let code: &[u8] = match *kind {
                    "int" => b"i",
                    "long" => b"l",
                    "short" => b"h",
                    "double" => b"d",
                    _ => b"f",
                };
                let code = self.g.add(Value::Bytes(code.to_vec().into()));
                let list = self.g.add_list(&items);
                let callable = self.g.global("array", "array");
                self.g.reduce(callable, vec![code, list])
            }
            J::Ref(_) => unreachable!("handled above"),
        };
        if matches!(v, J::Str(_) | J::Array(_) | J::List(_) | J::Map(_)) {
            self.shareable.push((rank, id));
        }
        id
    }
}

fn to_java(v: &J) -> (Graph, String) {
    let mut b = Builder {
        g: Graph::new(),
        spec: Vec::new(),
        shareable: Vec::new(),
        rank: 0,
    };
    let root = b.build(v);
    b.g.set_root(root);
    (b.g, b.spec.join(" "))
}

fn compare(p: &mut Pyrolite, v: &J) -> Result<(), TestCaseError> {
    let (g, spec) = to_java(v);
    let theirs = p.dumps(&spec).map_err(TestCaseError::fail)?;
    let ours =
        pickle::encode(&g, Profile::Pyrolite).map_err(|e| TestCaseError::fail(e.to_string()))?;
    if ours != theirs {
        let at = ours
            .iter()
            .zip(&theirs)
            .position(|(a, b)| a != b)
            .unwrap_or(ours.len().min(theirs.len()));
        return Err(TestCaseError::fail(format!(
            "differs at byte {at}\n ours {}\n them {}\n spec {spec}",
            hex(&ours),
            hex(&theirs)
        )));
    }
    round_trip(&theirs)
}

fn round_trip(theirs: &[u8]) -> Result<(), TestCaseError> {
    let d = pickle::decode_slice(theirs).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let again = pickle::encode(&d.graph, Profile::Pyrolite)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    if again != theirs {
        return Err(TestCaseError::fail(format!(
            "decode+re-encode differs\n ours {}\n them {}",
            hex(&again),
            hex(theirs)
        )));
    }
    pickle::repr(&d.graph).map_err(|e| TestCaseError::fail(e.to_string()))?;
    Ok(())
}

#[test]
fn encodes_like_pyrolite() {
    for version in oracle_versions() {
        with_pyrolite(&version, |p| {
            let p = RefCell::new(p);
            let mut runner = TestRunner::new(Config {
                cases: 500,
                failure_persistence: None,
                ..Config::default()
            });
            runner
                .run(&jval(), |v| compare(&mut p.borrow_mut(), &v))
                .unwrap();
        });
    }
}

#[test]
fn round_trips_what_pyrolite_writes() {
    let specials = [
        "C:1577934245006:UTC",
        "C:1577934245006:Europe/Amsterdam",
        "[ C:0:UTC C:86400000:America/New_York Q:1577934245006 ]",
        "[ b:00ff b:61 b: ]",
        "( )",
        "[ D:312e3530 D:2d302e303031 ]",
        "< s:61 s:62 i:1 >",
        "[ l:4294967296 l:4294967296 g:-170141183460469231731687303715884105728 ]",
        // Primitive arrays: array.array calls (boolean[] is a tuple, char[] a str).
        "A:int:1,2,-3",
        "A:long:1,5000000000,-5000000000",
        "A:double:3ff8000000000000,7ff8000000000001",
        "A:float:3fc00000,ff800000",
        "A:short:1,-2",
        "A:int:",
        "A:boolean:1,0,1,1",
        "A:char:97,233,55357,56832",
        "( A:int:1 A:int:2 [ A:long:4294967296 @3 ] )",
    ];
    for version in oracle_versions() {
        with_pyrolite(&version, |p| {
            for spec in specials {
                let theirs = p.dumps(spec).unwrap();
                round_trip(&theirs).unwrap_or_else(|e| panic!("{version} {spec}: {e}"));
            }
        });
    }
}
