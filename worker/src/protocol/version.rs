//! Each Spark release's worker-protocol layout, in one place: the
//! [`WorkerLayout`] rules of the workspace's one release type, [`SparkVersion`].

use std::fmt;

pub use sparkwire_serializers::{SparkVersion, UnknownVersion};

use super::eval_type::EvalType;

/// How the task header carries the task context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderStyle {
    /// Field by field. `barrier_always`: the barrier port and secret follow
    /// `isBarrier` even for non-barrier tasks (3.5, 4.0); from 4.1 they are only
    /// there for barrier tasks, and a port of −1 is followed by a Unix-socket path.
    Fields {
        /// 3.5 and 4.0.
        barrier_always: bool,
    },
    /// A JSON task context string, then runner and eval conf maps after the eval
    /// type. `init_message`: the whole header is wrapped in START_OF_INIT_MESSAGE
    /// (−8) and an `i32` length (4.3).
    Json {
        /// 4.3.
        init_message: bool,
    },
}

/// Which command layout follows the eval type (and, from 4.2, the conf maps).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandKind {
    /// NON_UDF's cloudpickled tuple.
    NonUdf,
    /// A list of SQL UDFs.
    Udfs,
    /// A UDTF.
    Udtf,
}

impl fmt::Display for CommandKind {
    /// The name the worker's own code uses for the kind.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CommandKind::NonUdf => "NON_UDF",
            CommandKind::Udfs => "UDF",
            CommandKind::Udtf => "UDTF",
        })
    }
}

/// The worker-protocol layout of each release: every difference between
/// releases that the worker protocol sees, one method each.
///
/// Layouts were read from each published pyspark's `worker.py` / `worker_util.py`
/// (3.5.9, 4.0.1, 4.1.4, 4.2.1, 4.3.0), checked against recorded traffic of
/// every release (spec §10, `docs/worker-protocol-addendum.md`), and run by the
/// real worker of every release for every eval type it defines
/// (`worker/tests/real_worker_eval_types.rs`).
pub trait WorkerLayout: Copy {
    /// The header layout.
    fn header_style(self) -> HeaderStyle;

    /// Whether a connection-info `i32 -1` is followed by a Unix-socket path
    /// (broadcast decryption server, barrier server): 4.1 and later.
    fn conn_info_paths(self) -> bool;

    /// Longs after TIMING_DATA before the two spill counters: boot, init, finish,
    /// and from 4.2 the processing time.
    fn timing_longs(self) -> usize;

    /// Whether the command of a SQL UDF `eval_type` starts with a runner conf map:
    /// the Arrow and pandas eval types before 4.2 (from 4.2 every task carries the
    /// conf maps in the header). `read_udfs` in each `worker.py`.
    fn command_conf(self, eval_type: EvalType) -> bool;

    /// Whether `eval_type`'s command names the `transformWithState` server and key
    /// schema after its runner conf (before 4.2).
    fn state_server(self, eval_type: EvalType) -> bool;

    /// Whether the command of `eval_type` sends its input types (struct type
    /// JSON) after the runner conf: the Arrow-optimised Python UDF (101) in 4.1
    /// (found in recorded 4.1.4 traffic, then in its `read_udfs`).
    fn udf_input_types(self, eval_type: EvalType) -> bool;

    /// Whether each UDF argument offset is followed by an `isKwarg` flag (and a
    /// name when set): never in 3.5, for the eval types supporting named
    /// arguments in 4.0 and 4.1, for every eval type from 4.2.
    fn kwarg_flags(self, eval_type: EvalType) -> bool;

    /// Whether a UDF command carries `bool isProfiling` (+ profiler name) before
    /// its UDFs, each UDF then ending with a result id when profiling: 4.0, 4.1.
    fn profiler_flag(self) -> bool;

    /// Whether every UDF ends with an `i64` result id, profiling or not: 4.2+.
    fn result_ids_always(self) -> bool;

    /// Whether `eval_type`'s command is read as a UDTF: 300 and 301 always, 302
    /// (pure Arrow UDTFs) from 4.1; older workers read 302 as a UDF list.
    fn is_udtf(self, eval_type: EvalType) -> bool;

    /// The command layout `eval_type` takes.
    fn command_kind(self, eval_type: EvalType) -> CommandKind;

    /// Whether a UDTF command sends its input types (`str`) after the runner
    /// conf: 301 in 4.1.
    fn udtf_input_types(self, eval_type: EvalType) -> bool;

    /// Whether a UDTF command sends table-argument offsets (`i32 n` × `i32`)
    /// after the runner conf: 302 in 4.1.
    fn udtf_table_arg_offsets(self, eval_type: EvalType) -> bool;

    /// Whether a UDTF command starts with a runner conf map: 301 before 4.2, and
    /// 302 in 4.1 (where 301 adds its input types and 302 its table-argument
    /// offsets).
    fn udtf_conf(self, eval_type: EvalType) -> bool;
}

impl WorkerLayout for SparkVersion {
    fn header_style(self) -> HeaderStyle {
        match self {
            SparkVersion::V3_5 | SparkVersion::V4_0 => HeaderStyle::Fields {
                barrier_always: true,
            },
            SparkVersion::V4_1 => HeaderStyle::Fields {
                barrier_always: false,
            },
            SparkVersion::V4_2 => HeaderStyle::Json {
                init_message: false,
            },
            SparkVersion::V4_3 => HeaderStyle::Json { init_message: true },
        }
    }

    fn conn_info_paths(self) -> bool {
        self >= SparkVersion::V4_1
    }

    fn timing_longs(self) -> usize {
        if self >= SparkVersion::V4_2 {
            4
        } else {
            3
        }
    }

    fn command_conf(self, eval_type: EvalType) -> bool {
        match self {
            SparkVersion::V3_5 => matches!(eval_type.code(), 101 | 200..=208),
            SparkVersion::V4_0 => matches!(eval_type.code(), 101 | 200..=212),
            SparkVersion::V4_1 => matches!(eval_type.code(), 101 | 200..=216 | 250..=253),
            SparkVersion::V4_2 | SparkVersion::V4_3 => false,
        }
    }

    fn state_server(self, eval_type: EvalType) -> bool {
        match self {
            SparkVersion::V4_0 => matches!(eval_type.code(), 211 | 212),
            SparkVersion::V4_1 => matches!(eval_type.code(), 211..=214),
            _ => false,
        }
    }

    fn udf_input_types(self, eval_type: EvalType) -> bool {
        self == SparkVersion::V4_1 && eval_type.code() == 101
    }

    fn kwarg_flags(self, eval_type: EvalType) -> bool {
        match self {
            SparkVersion::V3_5 => false,
            SparkVersion::V4_0 => matches!(eval_type.code(), 100 | 101 | 200 | 202 | 203 | 204),
            SparkVersion::V4_1 => {
                matches!(
                    eval_type.code(),
                    100 | 101 | 200 | 202 | 203 | 204 | 250..=253
                )
            }
            SparkVersion::V4_2 | SparkVersion::V4_3 => true,
        }
    }

    fn profiler_flag(self) -> bool {
        matches!(self, SparkVersion::V4_0 | SparkVersion::V4_1)
    }

    fn result_ids_always(self) -> bool {
        self >= SparkVersion::V4_2
    }

    fn is_udtf(self, eval_type: EvalType) -> bool {
        matches!(eval_type.code(), 300 | 301)
            || (eval_type.code() == 302 && self >= SparkVersion::V4_1)
    }

    fn command_kind(self, eval_type: EvalType) -> CommandKind {
        if eval_type == EvalType::NON_UDF {
            CommandKind::NonUdf
        } else if self.is_udtf(eval_type) {
            CommandKind::Udtf
        } else {
            CommandKind::Udfs
        }
    }

    fn udtf_input_types(self, eval_type: EvalType) -> bool {
        self == SparkVersion::V4_1 && eval_type.code() == 301
    }

    fn udtf_table_arg_offsets(self, eval_type: EvalType) -> bool {
        self == SparkVersion::V4_1 && eval_type.code() == 302
    }

    fn udtf_conf(self, eval_type: EvalType) -> bool {
        match self {
            SparkVersion::V3_5 | SparkVersion::V4_0 => eval_type.code() == 301,
            SparkVersion::V4_1 => matches!(eval_type.code(), 301 | 302),
            SparkVersion::V4_2 | SparkVersion::V4_3 => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_kinds_print_as_the_worker_names_them() {
        assert_eq!(CommandKind::NonUdf.to_string(), "NON_UDF");
        assert_eq!(CommandKind::Udfs.to_string(), "UDF");
        assert_eq!(CommandKind::Udtf.to_string(), "UDTF");
        let v = SparkVersion::V3_5;
        assert_eq!(v.command_kind(EvalType::NON_UDF), CommandKind::NonUdf);
        assert_eq!(v.command_kind(EvalType::SQL_BATCHED_UDF), CommandKind::Udfs);
        assert_eq!(v.command_kind(EvalType::SQL_TABLE_UDF), CommandKind::Udtf);
        // 302 is a UDF list before 4.1 and a UDTF from 4.1.
        assert_eq!(v.command_kind(EvalType::SQL_ARROW_UDTF), CommandKind::Udfs);
        assert_eq!(
            SparkVersion::V4_1.command_kind(EvalType::SQL_ARROW_UDTF),
            CommandKind::Udtf
        );
    }
}
