//! Eval types: what kind of Python code a task runs, and so how its command and
//! data section are laid out (PySpark's `PythonEvalType`).

use std::fmt;

/// A task's eval type, as the `i32` of the header carries it.
///
/// Every eval type a pinned release defines has a name ([`EvalType::name`]);
/// any other value is kept as it was sent (`EvalType::from(7)`), so an unknown
/// eval type is reported as unknown rather than guessed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EvalType(i32);

/// How a task's input data section is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataLayout {
    /// Length-prefixed frames closed by END_OF_DATA_SECTION: NON_UDF (the
    /// command's own deserializer), SQL_BATCHED_UDF and SQL_TABLE_UDF (pickled
    /// row batches).
    Framed,
    /// Arrow IPC streams, plain or grouped, with no end marker of their own: the
    /// Arrow and pandas eval types.
    Arrow,
    /// An eval type no modelled release defines.
    Unknown,
}

macro_rules! eval_types {
    ($($(#[$doc:meta])* $name:ident = $code:literal,)*) => {
        impl EvalType {
            $($(#[$doc])* pub const $name: EvalType = EvalType($code);)*

            /// Every eval type some modelled release defines, by code.
            pub const KNOWN: &'static [EvalType] = &[$(EvalType::$name),*];

            /// PySpark's name for it (`"SQL_BATCHED_UDF"`), `None` when unknown.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($code => Some(stringify!($name)),)*
                    _ => None,
                }
            }
        }
    };
}

eval_types! {
    /// An RDD task: one cloudpickled `(func, profiler, deserializer, serializer)`.
    NON_UDF = 0,
    /// Python UDFs over pickled row batches.
    SQL_BATCHED_UDF = 100,
    /// Arrow-optimised Python UDFs.
    SQL_ARROW_BATCHED_UDF = 101,
    /// Scalar pandas UDFs.
    SQL_SCALAR_PANDAS_UDF = 200,
    /// `groupBy().applyInPandas`.
    SQL_GROUPED_MAP_PANDAS_UDF = 201,
    /// Grouped aggregate pandas UDFs.
    SQL_GROUPED_AGG_PANDAS_UDF = 202,
    /// Window aggregate pandas UDFs.
    SQL_WINDOW_AGG_PANDAS_UDF = 203,
    /// Scalar iterator pandas UDFs.
    SQL_SCALAR_PANDAS_ITER_UDF = 204,
    /// `mapInPandas`.
    SQL_MAP_PANDAS_ITER_UDF = 205,
    /// `cogroup().applyInPandas`.
    SQL_COGROUPED_MAP_PANDAS_UDF = 206,
    /// `mapInArrow`.
    SQL_MAP_ARROW_ITER_UDF = 207,
    /// `applyInPandasWithState`.
    SQL_GROUPED_MAP_PANDAS_UDF_WITH_STATE = 208,
    /// `groupBy().applyInArrow` (4.0+).
    SQL_GROUPED_MAP_ARROW_UDF = 209,
    /// `cogroup().applyInArrow` (4.0+).
    SQL_COGROUPED_MAP_ARROW_UDF = 210,
    /// `transformWithStateInPandas` (4.0+).
    SQL_TRANSFORM_WITH_STATE_PANDAS_UDF = 211,
    /// `transformWithStateInPandas` with initial state (4.0+).
    SQL_TRANSFORM_WITH_STATE_PANDAS_INIT_STATE_UDF = 212,
    /// `transformWithState` over rows (4.1+).
    SQL_TRANSFORM_WITH_STATE_PYTHON_ROW_UDF = 213,
    /// `transformWithState` over rows with initial state (4.1+).
    SQL_TRANSFORM_WITH_STATE_PYTHON_ROW_INIT_STATE_UDF = 214,
    /// Grouped map over Arrow batch iterators (4.1+).
    SQL_GROUPED_MAP_ARROW_ITER_UDF = 215,
    /// Grouped map over pandas iterators (4.1+).
    SQL_GROUPED_MAP_PANDAS_ITER_UDF = 216,
    /// Grouped aggregate over pandas iterators (4.2+).
    SQL_GROUPED_AGG_PANDAS_ITER_UDF = 217,
    /// Scalar Arrow UDFs (4.1+).
    SQL_SCALAR_ARROW_UDF = 250,
    /// Scalar iterator Arrow UDFs (4.1+).
    SQL_SCALAR_ARROW_ITER_UDF = 251,
    /// Grouped aggregate Arrow UDFs (4.1+).
    SQL_GROUPED_AGG_ARROW_UDF = 252,
    /// Window aggregate Arrow UDFs (4.1+).
    SQL_WINDOW_AGG_ARROW_UDF = 253,
    /// Grouped aggregate over Arrow iterators (4.2+).
    SQL_GROUPED_AGG_ARROW_ITER_UDF = 254,
    /// Python UDTFs over pickled rows.
    SQL_TABLE_UDF = 300,
    /// Arrow-optimised Python UDTFs.
    SQL_ARROW_TABLE_UDF = 301,
    /// Pure-Arrow UDTFs (4.1+).
    SQL_ARROW_UDTF = 302,
}

impl EvalType {
    /// The `i32` the header carries.
    pub fn code(self) -> i32 {
        self.0
    }

    /// Whether a modelled release defines it.
    pub fn is_known(self) -> bool {
        self.name().is_some()
    }

    /// How the task's input data section is laid out.
    pub fn data_layout(self) -> DataLayout {
        match self {
            EvalType::NON_UDF | EvalType::SQL_BATCHED_UDF | EvalType::SQL_TABLE_UDF => {
                DataLayout::Framed
            }
            t if t.is_known() => DataLayout::Arrow,
            _ => DataLayout::Unknown,
        }
    }

    /// Whether the data section is Arrow (a known Arrow or pandas eval type).
    pub fn is_arrow(self) -> bool {
        self.data_layout() == DataLayout::Arrow
    }
}

impl From<i32> for EvalType {
    fn from(code: i32) -> EvalType {
        EvalType(code)
    }
}

impl From<EvalType> for i32 {
    fn from(t: EvalType) -> i32 {
        t.0
    }
}

impl fmt::Display for EvalType {
    /// The number, as PySpark prints it; [`EvalType::name`] gives the name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_types_have_names_and_layouts_unknown_ones_stay_unknown() {
        assert_eq!(EvalType::from(100).name(), Some("SQL_BATCHED_UDF"));
        assert_eq!(EvalType::from(0).data_layout(), DataLayout::Framed);
        assert_eq!(EvalType::from(206).data_layout(), DataLayout::Arrow);
        for code in [1, 99, 102, 218, 255, 303, -1] {
            let t = EvalType::from(code);
            assert!(!t.is_known(), "{code}");
            assert_eq!(t.data_layout(), DataLayout::Unknown);
            assert_eq!(i32::from(t), code);
        }
        assert_eq!(EvalType::KNOWN.len(), 29);
    }
}
