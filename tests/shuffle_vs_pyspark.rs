//! The shuffle map side against PySpark's own `add_shuffle_key` (captured from
//! `RDD.partitionBy` by the oracle and run over the same pairs): partition ids,
//! bucket order, spill points and the pickled buckets are the same bytes; and the
//! block reader gives back every bucket.

use bytes::BytesMut;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::json;
use sparkwire_framing::Step;
use sparkwire_serializers::pickle::{Graph, Int, NodeId, PyStr, Value};
use sparkwire_serializers::pyspark::shuffle::{portable_hash, ShuffleDecoder, ShuffleWriter};
use sparkwire_testkit::pickle_desc::describe;
use sparkwire_testkit::{hex, oracle_versions, unhex, with_oracle};

#[derive(Debug, Clone)]
enum Key {
    Int(i64),
    None,
    Pair(i64, bool),
}

fn build(pairs: &[(Key, String)]) -> (Graph, Vec<NodeId>) {
    let mut g = Graph::new();
    let mut ids = Vec::new();
    for (k, v) in pairs {
        let k = match k {
            Key::Int(i) => g.add(Value::Int(Int::Small(*i))),
            Key::None => g.add(Value::None),
            Key::Pair(i, b) => {
                let a = g.add(Value::Int(Int::Small(*i)));
                let b = g.add(Value::Bool(*b));
                g.add_tuple(&[a, b])
            }
        };
        let v = g.add(Value::Str(PyStr::from(v.as_str())));
        ids.push(g.add_tuple(&[k, v]));
    }
    let root = g.add_list(&ids);
    g.set_root(root);
    (g, ids)
}

fn ours(g: &Graph, pairs: &[NodeId], partitions: u64) -> Vec<u8> {
    let mut w = ShuffleWriter::new(partitions);
    for &p in pairs {
        let Value::Tuple(kv) = g.get(p) else {
            unreachable!()
        };
        let h = portable_hash(g, g.items(*kv)[0]).expect("hashable key");
        // Copy the pair into the writer's graph.
        let wg = w.graph();
        let copy = copy_into(wg, g, p);
        w.push(h, copy).unwrap();
    }
    w.finish().unwrap()
}

fn copy_into(dst: &mut Graph, src: &Graph, id: NodeId) -> NodeId {
    let v = src.get(id).clone();
    let v = match v {
        Value::Tuple(items) => {
            let ids: Vec<NodeId> = src
                .items(items)
                .iter()
                .map(|&c| copy_into(dst, src, c))
                .collect();
            Value::Tuple(dst.new_items(&ids))
        }
        other => other,
    };
    dst.add(v)
}

#[test]
fn add_shuffle_key_like_pyspark() {
    let key = prop_oneof![
        (-1000i64..1000).prop_map(Key::Int),
        any::<i64>().prop_map(Key::Int),
        Just(Key::None),
        (-50i64..50, any::<bool>()).prop_map(|(i, b)| Key::Pair(i, b)),
    ];
    let pairs = prop::collection::vec((key, "[a-z]{0,6}"), 0..400);
    for release in oracle_versions() {
        with_oracle(&release, |oracle| {
            let oracle = std::cell::RefCell::new(oracle);
            TestRunner::new(Config {
                cases: 40,
                failure_persistence: None,
                ..Config::default()
            })
            .run(&(pairs.clone(), 1u64..40), |(pairs, n)| {
                let (g, ids) = build(&pairs);
                let r = oracle
                    .borrow_mut()
                    .call(json!({"op": "shuffle_blocks", "graph": describe(&g).unwrap(), "partitions": n}))
                    .unwrap();
                let theirs = unhex(r["data"].as_str().unwrap());
                let mine = ours(&g, &ids, n);
                prop_assert_eq!(hex(&mine), hex(&theirs));
                // Every block reads back, with its partition in range.
                let mut dec = ShuffleDecoder::new();
                let mut buf = BytesMut::from(&mine[..]);
                let mut count = 0;
                while let Step::Item(Some(b)) = dec.decode(&mut buf).unwrap() {
                    prop_assert!((0..n as i64).contains(&b.partition));
                    count += 1;
                }
                dec.finish(&buf).unwrap();
                prop_assert_eq!(count > 0, !pairs.is_empty());
                Ok(())
            })
            .unwrap();
        });
    }
}
