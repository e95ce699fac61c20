//! The Spark releases sparkwire models, as one value type for the whole
//! workspace. Each layer keeps its own rules about them where it owns them: the
//! serializers' batching rule in [`crate::pyspark::Batching`], the worker
//! protocol's layouts in `sparkwire_worker::protocol::WorkerLayout`.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

/// A Spark (and PySpark) release line: 3.5, 4.0, 4.1, 4.2 or 4.3.
///
/// Pinned and checked against real releases 3.5.9, 4.0.1, 4.1.4, 4.2.1 and
/// 4.3.0 (spec `serializers.md` §1.1, `worker-protocol.md` §10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SparkVersion {
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

/// A version string that names no modelled release.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unsupported Spark version {0:?} (3.5, 4.0, 4.1, 4.2 or 4.3)")]
pub struct UnknownVersion(pub String);

impl SparkVersion {
    /// Every modelled release, oldest first.
    pub const ALL: [SparkVersion; 5] = [
        SparkVersion::V3_5,
        SparkVersion::V4_0,
        SparkVersion::V4_1,
        SparkVersion::V4_2,
        SparkVersion::V4_3,
    ];

    /// The release line of a version string such as `"4.0.1"` or `"4.3"`.
    pub fn of_release(release: &str) -> Option<SparkVersion> {
        let mut parts = release.split('.');
        match (parts.next()?, parts.next()?) {
            ("3", "5") => Some(SparkVersion::V3_5),
            ("4", "0") => Some(SparkVersion::V4_0),
            ("4", "1") => Some(SparkVersion::V4_1),
            ("4", "2") => Some(SparkVersion::V4_2),
            ("4", "3") => Some(SparkVersion::V4_3),
            _ => None,
        }
    }
}

impl fmt::Display for SparkVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SparkVersion::V3_5 => "3.5",
            SparkVersion::V4_0 => "4.0",
            SparkVersion::V4_1 => "4.1",
            SparkVersion::V4_2 => "4.2",
            SparkVersion::V4_3 => "4.3",
        })
    }
}

impl FromStr for SparkVersion {
    type Err = UnknownVersion;

    fn from_str(s: &str) -> Result<SparkVersion, UnknownVersion> {
        SparkVersion::of_release(s).ok_or_else(|| UnknownVersion(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_parse_and_print_and_unknown_ones_name_the_input() {
        for v in SparkVersion::ALL {
            assert_eq!(v.to_string().parse::<SparkVersion>(), Ok(v));
        }
        assert_eq!("4.0.1".parse::<SparkVersion>(), Ok(SparkVersion::V4_0));
        let e = "3.4".parse::<SparkVersion>().unwrap_err();
        assert_eq!(e, UnknownVersion("3.4".into()));
        assert_eq!(
            e.to_string(),
            r#"unsupported Spark version "3.4" (3.5, 4.0, 4.1, 4.2 or 4.3)"#
        );
    }
}
