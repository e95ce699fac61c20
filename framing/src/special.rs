//! The negative values PySpark and the JVM put in an `i32` length slot to mean
//! something other than "this many bytes follow".

use std::fmt;

/// A special length: a marker written where a frame length would otherwise be.
///
/// The values are PySpark's `SpecialLengths` (`pyspark/serializers.py`) and the JVM's
/// `SpecialLengths` object. `-7` has never been assigned; `-8` exists only from
/// Spark 4.3 on. Which of them a given stream may contain is protocol knowledge, so
/// decoders take a [`SpecialSet`] rather than hard-coding a version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(i32)]
pub enum SpecialLength {
    /// End of a data section; also the worker's "do not reuse me" answer.
    EndOfDataSection = -1,
    /// A Python exception follows as a length-prefixed UTF-8 traceback.
    PythonExceptionThrown = -2,
    /// Timing and spill figures follow as `i64`s.
    TimingData = -3,
    /// The task is finished; echoed by a worker that may be reused.
    EndOfStream = -4,
    /// A `null` element (decoded as [`crate::Frame::Null`], never as a marker).
    Null = -5,
    /// An Arrow IPC stream follows, without length prefixes.
    StartArrowStream = -6,
    /// Spark 4.3: the task header follows as one length-prefixed message.
    StartOfInitMessage = -8,
}

impl SpecialLength {
    /// Every assigned special length, from -1 downwards.
    pub const ALL: [SpecialLength; 7] = [
        SpecialLength::EndOfDataSection,
        SpecialLength::PythonExceptionThrown,
        SpecialLength::TimingData,
        SpecialLength::EndOfStream,
        SpecialLength::Null,
        SpecialLength::StartArrowStream,
        SpecialLength::StartOfInitMessage,
    ];

    /// The value as written on the wire.
    pub const fn value(self) -> i32 {
        self as i32
    }

    /// The special length with this wire value, if one is assigned.
    pub const fn from_i32(value: i32) -> Option<SpecialLength> {
        Some(match value {
            -1 => SpecialLength::EndOfDataSection,
            -2 => SpecialLength::PythonExceptionThrown,
            -3 => SpecialLength::TimingData,
            -4 => SpecialLength::EndOfStream,
            -5 => SpecialLength::Null,
            -6 => SpecialLength::StartArrowStream,
            -8 => SpecialLength::StartOfInitMessage,
            _ => return None,
        })
    }

    /// The constant's name in `pyspark.serializers.SpecialLengths`, so that output
    /// reads like the Python source people will compare it with.
    pub const fn name(self) -> &'static str {
        match self {
            SpecialLength::EndOfDataSection => "END_OF_DATA_SECTION",
            SpecialLength::PythonExceptionThrown => "PYTHON_EXCEPTION_THROWN",
            SpecialLength::TimingData => "TIMING_DATA",
            SpecialLength::EndOfStream => "END_OF_STREAM",
            SpecialLength::Null => "NULL",
            SpecialLength::StartArrowStream => "START_ARROW_STREAM",
            SpecialLength::StartOfInitMessage => "START_OF_INIT_MESSAGE",
        }
    }

    const fn bit(self) -> u16 {
        1 << (-(self as i32)) as u16
    }
}

impl fmt::Display for SpecialLength {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.value())
    }
}

/// The set of special lengths a decoder accepts; anything else negative is an error.
///
/// The default accepts all of them. A worker-protocol layer narrows it per Spark
/// version (for example without [`SpecialLength::StartOfInitMessage`] before 4.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SpecialSet(u16);

impl SpecialSet {
    /// No special length at all: every negative length is an error.
    pub const NONE: SpecialSet = SpecialSet(0);

    /// Every assigned special length.
    pub const ALL: SpecialSet = {
        let mut bits = 0;
        let mut i = 0;
        while i < SpecialLength::ALL.len() {
            bits |= SpecialLength::ALL[i].bit();
            i += 1;
        }
        SpecialSet(bits)
    };

    /// This set plus `s`.
    pub const fn with(self, s: SpecialLength) -> SpecialSet {
        SpecialSet(self.0 | s.bit())
    }

    /// This set without `s`.
    pub const fn without(self, s: SpecialLength) -> SpecialSet {
        SpecialSet(self.0 & !s.bit())
    }

    /// Whether `s` is accepted.
    pub const fn contains(self, s: SpecialLength) -> bool {
        self.0 & s.bit() != 0
    }

    /// The accepted special length with wire value `value`, if any.
    pub const fn lookup(self, value: i32) -> Option<SpecialLength> {
        match SpecialLength::from_i32(value) {
            Some(s) if self.contains(s) => Some(s),
            _ => None,
        }
    }
}

impl Default for SpecialSet {
    fn default() -> Self {
        SpecialSet::ALL
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_match_pyspark() {
        let expected = [-1, -2, -3, -4, -5, -6, -8];
        for (s, v) in SpecialLength::ALL.iter().zip(expected) {
            assert_eq!(s.value(), v);
            assert_eq!(SpecialLength::from_i32(v), Some(*s));
        }
        assert_eq!(SpecialLength::from_i32(-7), None);
        assert_eq!(SpecialLength::from_i32(-9), None);
        assert_eq!(SpecialLength::from_i32(0), None);
        assert_eq!(SpecialLength::from_i32(i32::MIN), None);
    }

    #[test]
    fn sets_narrow_and_widen() {
        let pre43 = SpecialSet::ALL.without(SpecialLength::StartOfInitMessage);
        assert_eq!(pre43.lookup(-8), None);
        assert_eq!(pre43.lookup(-6), Some(SpecialLength::StartArrowStream));
        assert_eq!(
            pre43.with(SpecialLength::StartOfInitMessage),
            SpecialSet::ALL
        );
        assert_eq!(SpecialSet::NONE.lookup(-1), None);
        assert!(SpecialLength::ALL
            .iter()
            .all(|s| SpecialSet::ALL.contains(*s)));
    }
}
