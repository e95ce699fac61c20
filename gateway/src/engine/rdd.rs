//! The lineage: what each RDD is made of, as the JVM side of PySpark sees it.
//! Elements are what the JVM holds: pickled batches (`byte[]`), strings of a
//! text file, partition keys of a shuffle, and pairs.

use std::sync::{Arc, Mutex, OnceLock};

use super::elem::Elem;
use super::error::JobError;
use super::python::PythonFunction;
use super::textfile::Split;

/// An RDD's id, as `rdd.id()` reports it.
pub type RddId = i32;

/// How an RDD's partitions are computed.
#[derive(Debug)]
pub enum RddKind {
    /// `ParallelCollectionRDD`: elements already sliced into partitions.
    Parallel(Vec<Vec<Elem>>),
    /// A Hadoop text file input: one split per partition, strings.
    Text(Vec<Split>),
    /// `objectFile`: SequenceFile splits of serialized `byte[]` arrays.
    Object(Vec<Split>),
    /// `sequenceFile`: SequenceFile splits of Writables, pickled as
    /// `SerDeUtil` pickles them for that release.
    Sequence(Vec<Split>, sparkwire_serializers::SparkVersion),
    /// `PythonRDD`: a Python function over its parent's partition.
    Python {
        /// The parent.
        parent: RddId,
        /// What the worker runs.
        func: Arc<PythonFunction>,
        /// `preservePartitioning` (kept for `partitioner` queries).
        preserve: bool,
        /// A barrier stage.
        barrier: bool,
    },
    /// `PairwiseRDD`: the parent's elements taken two by two, the first an
    /// 8-byte partition key.
    Pairwise {
        /// The parent.
        parent: RddId,
    },
    /// `partitionBy(PythonPartitioner(n))`: a shuffle by key.
    Shuffled {
        /// The keyed parent.
        parent: RddId,
        /// Partitions after the shuffle.
        partitions: usize,
    },
    /// `PythonRDD.valueOfPair`: the values of a pair RDD.
    Values {
        /// The pair parent.
        parent: RddId,
    },
    /// `union`: the parents' partitions one after another.
    Union(Vec<RddId>),
    /// `union` of RDDs with one partitioner (`PartitionerAwareUnionRDD`):
    /// partition i concatenates every parent's partition i.
    AwareUnion(Vec<RddId>),
    /// `zip`: partition i of both, element by element.
    Zip(RddId, RddId),
    /// `cartesian`: partition (i, j) pairs every element of a's i with b's j.
    Cartesian(RddId, RddId),
    /// `map(BytesToString)`.
    BytesToString {
        /// The parent.
        parent: RddId,
    },
    /// `coalesce` without a shuffle: each partition concatenates these parent
    /// partitions.
    Coalesce {
        /// The parent.
        parent: RddId,
        /// Parent partitions per new partition.
        groups: Vec<Vec<usize>>,
    },
    /// `coalesce(n, shuffle = true)`: a round-robin shuffle.
    Repartition {
        /// The parent.
        parent: RddId,
        /// Partitions after it.
        partitions: usize,
    },
    /// `emptyRDD`.
    Empty,
}

/// Where an RDD's checkpoint stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checkpoint {
    /// Not asked for.
    None,
    /// `checkpoint()` was called; the next job writes it.
    Requested,
    /// Written.
    Done,
}

/// Kept partitions, by index (`None` until computed).
pub type PartitionCache = Vec<Option<Arc<Vec<Elem>>>>;

/// An RDD of the lineage.
#[derive(Debug)]
pub struct Rdd {
    /// Its id.
    pub id: RddId,
    /// What it is.
    pub kind: RddKind,
    /// Number of partitions.
    pub partitions: usize,
    /// A shuffle's output by reduce partition, computed once.
    pub(super) shuffle: OnceLock<Result<Arc<Vec<super::spill::Bucket>>, JobError>>,
    /// Partitions kept by `persist`/`cache`.
    pub(super) cache: Mutex<Option<PartitionCache>>,
    /// `setName`.
    pub name: Mutex<Option<String>>,
    /// `checkpoint`.
    pub checkpoint: Mutex<Checkpoint>,
    /// Its partitioner, `(partitions, Python partition function id)`: what
    /// `partitionBy` set, kept by the RDDs that preserve partitioning.
    pub partitioner: Option<(usize, i64)>,
}

impl Rdd {
    pub(super) fn new(id: RddId, kind: RddKind, partitions: usize) -> Rdd {
        Rdd {
            id,
            kind,
            partitions,
            shuffle: OnceLock::new(),
            cache: Mutex::new(None),
            name: Mutex::new(None),
            checkpoint: Mutex::new(Checkpoint::None),
            partitioner: None,
        }
    }

    /// Whether `persist`/`cache` asked to keep its partitions.
    pub fn is_cached(&self) -> bool {
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
    }

    /// The Scala class Spark would report for it.
    pub fn class_name(&self) -> &'static str {
        match self.kind {
            RddKind::Parallel(_) => "org.apache.spark.rdd.ParallelCollectionRDD",
            RddKind::Text(_) | RddKind::Object(_) | RddKind::Sequence(..) => {
                "org.apache.spark.rdd.MapPartitionsRDD"
            }
            RddKind::Python { .. } => "org.apache.spark.api.python.PythonRDD",
            RddKind::Pairwise { .. } => "org.apache.spark.api.python.PairwiseRDD",
            RddKind::Shuffled { .. } => "org.apache.spark.rdd.ShuffledRDD",
            RddKind::Repartition { .. } => "org.apache.spark.rdd.MapPartitionsRDD",
            RddKind::Values { .. } | RddKind::BytesToString { .. } => {
                "org.apache.spark.rdd.MapPartitionsRDD"
            }
            RddKind::Union(_) => "org.apache.spark.rdd.UnionRDD",
            RddKind::AwareUnion(_) => "org.apache.spark.rdd.PartitionerAwareUnionRDD",
            RddKind::Zip(..) => "org.apache.spark.rdd.ZippedPartitionsRDD2",
            RddKind::Cartesian(..) => "org.apache.spark.rdd.CartesianRDD",
            RddKind::Coalesce { .. } => "org.apache.spark.rdd.CoalescedRDD",
            RddKind::Empty => "org.apache.spark.rdd.EmptyRDD",
        }
    }
}

/// `ParallelCollectionRDD.slice` of a sequence: partition `i` of `n` holds
/// positions `[i·len/n, (i+1)·len/n)`.
pub fn slice<T: Clone>(items: &[T], n: usize) -> Vec<Vec<T>> {
    let len = items.len();
    (0..n)
        .map(|i| {
            let start = i * len / n;
            let end = (i + 1) * len / n;
            items[start..end].to_vec()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_as_spark_does() {
        let v: Vec<i32> = (0..10).collect();
        let s = slice(&v, 3);
        assert_eq!(s, vec![vec![0, 1, 2], vec![3, 4, 5], vec![6, 7, 8, 9]]);
        let s = slice(&v[..0], 4);
        assert_eq!(s.len(), 4);
        assert!(s.iter().all(Vec::is_empty));
    }
}
