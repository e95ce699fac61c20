//! How PySpark's serializers differ between releases.

use crate::release::SparkVersion;

/// How `BatchedSerializer` cuts a stream into lists for a batch size `n ≠ -1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Batching {
    /// ≤ 4.1: fill a list and yield it when `count == n`; yield the rest at the
    /// end. For `n ≤ 0` the count never matches, so everything is one batch.
    CountEquals,
    /// 4.2 and later: `list(islice(it, n))` until empty. `n == 0` yields nothing (the data is
    /// dropped); `n < -1` raises `ValueError` from `islice`.
    Islice,
}

impl SparkVersion {
    /// The batching rule of this release's `serializers.py`.
    ///
    /// `pyspark/serializers.py` of 3.5.9, 4.0.1, 4.1.4, 4.2.1 and 4.3.0 were
    /// diffed in full (spec `serializers.md` §1.1); the only stream-level
    /// difference is `BatchedSerializer._batched`, which changed in 4.2. (4.1
    /// adds `CloudPickleSerializer(allowed_names)`, a load-side restriction; 4.3
    /// adds `START_OF_INIT_MESSAGE`, a worker-protocol marker.)
    pub fn batching(self) -> Batching {
        match self {
            SparkVersion::V3_5 | SparkVersion::V4_0 | SparkVersion::V4_1 => Batching::CountEquals,
            SparkVersion::V4_2 | SparkVersion::V4_3 => Batching::Islice,
        }
    }
}
