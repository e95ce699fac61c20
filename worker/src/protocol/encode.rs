//! The JVM → worker direction written out: what `PythonRunner`'s writer sends
//! for each task. One writer for everything that produces this direction — the
//! JVM-side [`Session`](super::session::Session) that a host drives, and the
//! re-encoding of recorded connections — so both write the same bytes.

use bytes::BufMut;
use sparkwire_framing::{Frame, SpecialLength};
use sparkwire_serializers::pyspark::arrow::{ArrowItem, SectionItem};

use super::error::HeaderError;
use super::eval_type::EvalType;
use super::header::TaskHeader;
use super::version::SparkVersion;

/// Writes tasks in one release's layout.
///
/// A task is: [`TaskEncoder::header`], then its data section — framed items
/// ([`TaskEncoder::frame`]) closed by [`TaskEncoder::end_of_data`], or, for the
/// Arrow and pandas eval types, the section's raw bytes ([`TaskEncoder::arrow`])
/// with no end marker of their own — then [`TaskEncoder::finish`] (the JVM
/// always sends END_OF_STREAM, which lets the worker be reused).
#[derive(Debug, Clone, Copy)]
pub struct TaskEncoder {
    version: SparkVersion,
}

impl TaskEncoder {
    /// A writer of `version`'s layout.
    pub fn new(version: SparkVersion) -> TaskEncoder {
        TaskEncoder { version }
    }

    /// The layout written.
    pub fn version(&self) -> SparkVersion {
        self.version
    }

    /// The task header, command included.
    pub fn header<B: BufMut>(&self, header: &TaskHeader, out: &mut B) -> Result<(), HeaderError> {
        out.put_slice(&header.encode(self.version)?);
        Ok(())
    }

    /// One item of a framed data section.
    pub fn frame<B: BufMut>(
        &self,
        frame: &Frame,
        out: &mut B,
    ) -> Result<(), sparkwire_framing::EncodeError> {
        frame.encode(out)
    }

    /// END_OF_DATA_SECTION (−1), which closes a framed data section.
    pub fn end_of_data<B: BufMut>(&self, out: &mut B) {
        out.put_i32(SpecialLength::EndOfDataSection.value());
    }

    /// An Arrow data section's items as they were decoded: group headers, the
    /// streams' messages byte for byte, and the `i32 0` that closes grouped input
    /// (a plain stream ends with its own end-of-stream message).
    pub fn arrow<B: BufMut>(&self, items: &[SectionItem], out: &mut B) {
        let grouped = matches!(
            items.first(),
            Some(SectionItem::Group(_) | SectionItem::End)
        );
        for item in items {
            match item {
                SectionItem::Group(n) => out.put_i32(*n),
                SectionItem::Arrow(ArrowItem::Message { bytes, .. } | ArrowItem::End(bytes)) => {
                    out.put_slice(bytes)
                }
                SectionItem::End if grouped => out.put_i32(0),
                SectionItem::End => {}
            }
        }
    }

    /// The `i32` after the data section; the JVM sends END_OF_STREAM (−4).
    pub fn finish<B: BufMut>(&self, value: i32, out: &mut B) {
        out.put_i32(value);
    }

    /// Whether `eval_type`'s data section is framed (closed by
    /// END_OF_DATA_SECTION) rather than an Arrow section.
    pub fn is_framed(&self, eval_type: EvalType) -> bool {
        !eval_type.is_arrow()
    }
}
