//! The PySpark releases whose serializers differ, and how.

use std::fmt;
use std::str::FromStr;

/// A PySpark release line whose `serializers.py` behaviour is modelled.
///
/// `pyspark/serializers.py` of 3.5.9, 4.0.1, 4.1.4, 4.2.1 and 4.3.0 were diffed
/// in full (spec `serializers.md` §1.1); the only stream-level difference is
/// `BatchedSerializer._batched` (see [`Batching`]), which changed in 4.2.
/// (4.1 adds `CloudPickleSerializer(allowed_names)`, a load-side restriction;
/// 4.3 adds `START_OF_INIT_MESSAGE`, a worker-protocol marker.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Version {
    /// 3.5.x.
    V3_5,
    /// 4.0.x.
    V4_0,
    /// 4.1.x.
    V4_1,
    /// 4.2.x.
    V4_2,
    /// 4.3.x.
    V4_3,
}

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

impl Version {
    /// Every modelled version, oldest first.
    pub const ALL: [Version; 5] = [
        Version::V3_5,
        Version::V4_0,
        Version::V4_1,
        Version::V4_2,
        Version::V4_3,
    ];

    /// The batching rule of this release.
    pub fn batching(self) -> Batching {
        match self {
            Version::V3_5 | Version::V4_0 | Version::V4_1 => Batching::CountEquals,
            Version::V4_2 | Version::V4_3 => Batching::Islice,
        }
    }

    /// The version of a pinned PySpark release string such as `"4.0.1"`.
    pub fn of_release(release: &str) -> Option<Version> {
        let mut parts = release.split('.');
        match (parts.next()?, parts.next()?) {
            ("3", "5") => Some(Version::V3_5),
            ("4", "0") => Some(Version::V4_0),
            ("4", "1") => Some(Version::V4_1),
            ("4", "2") => Some(Version::V4_2),
            ("4", "3") => Some(Version::V4_3),
            _ => None,
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Version::V3_5 => "3.5",
            Version::V4_0 => "4.0",
            Version::V4_1 => "4.1",
            Version::V4_2 => "4.2",
            Version::V4_3 => "4.3",
        })
    }
}

impl FromStr for Version {
    type Err = String;

    fn from_str(s: &str) -> Result<Version, String> {
        Version::of_release(s)
            .ok_or_else(|| format!("unsupported PySpark version {s:?} (3.5, 4.0, 4.1, 4.2 or 4.3)"))
    }
}
