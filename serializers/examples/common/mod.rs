//! What the serializers' examples share: the pickle bench's row batch.

use bytes::Bytes;
use sparkwire_serializers::pickle::{self, Graph, Int, Profile, PyStr, Value};

/// `pickle.dumps([(i, "name-%d" % i, i * 0.5, None, i % 3 == 0) ...], 5)`
/// for 1000 rows from `first` (our encoder writes CPython's bytes; the
/// differential tests prove it).
pub fn row_batch(first: i64) -> Bytes {
    let mut g = Graph::new();
    let rows: Vec<_> = (first..first + 1000)
        .map(|i| {
            let f = [
                g.add(Value::Int(Int::Small(i))),
                g.add(Value::Str(PyStr::from(format!("name-{i}").as_str()))),
                g.add(Value::Float(i as f64 * 0.5)),
                g.add(Value::None),
                g.add(Value::Bool(i % 3 == 0)),
            ];
            g.add_tuple(&f)
        })
        .collect();
    let root = g.add_list(&rows);
    g.set_root(root);
    Bytes::from(pickle::encode(&g, Profile::PYSPARK).expect("encodes"))
}
