//! What a JVM-side RDD holds: pickled batches (`byte[]`), strings of a text
//! file, partition keys of a shuffle, and pairs.

use std::sync::Arc;

use bytes::Bytes;

/// One element of a JVM-side RDD.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Elem {
    /// `byte[]`: a pickled batch (or, from a `PythonRDD` with a bypassed
    /// serializer, UTF-8 text).
    Bytes(Bytes),
    /// `String`: a line of a text file.
    Str(Arc<str>),
    /// `Long`: a shuffle's partition key (`PairwiseRDD`).
    Long(i64),
    /// `Tuple2`: pair RDDs (`zip`, `cartesian`, `PairwiseRDD`).
    Pair(Box<(Elem, Elem)>),
}

impl Elem {
    /// A pair.
    pub fn pair(a: Elem, b: Elem) -> Elem {
        Elem::Pair(Box::new((a, b)))
    }

    /// The frames PySpark's socket and worker protocols carry for it: one
    /// length-prefixed payload per element, a pair as key then value.
    pub fn write_payloads(&self, out: &mut Vec<Bytes>) {
        match self {
            Elem::Bytes(b) => out.push(b.clone()),
            Elem::Str(s) => out.push(Bytes::copy_from_slice(s.as_bytes())),
            Elem::Long(n) => out.push(Bytes::copy_from_slice(&n.to_be_bytes())),
            Elem::Pair(p) => {
                p.0.write_payloads(out);
                p.1.write_payloads(out);
            }
        }
    }

    /// `String.valueOf` of the element, as `saveAsTextFile` writes it.
    pub fn text(&self) -> String {
        match self {
            Elem::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
            Elem::Str(s) => s.to_string(),
            Elem::Long(n) => n.to_string(),
            Elem::Pair(p) => format!("({},{})", p.0.text(), p.1.text()),
        }
    }
}
