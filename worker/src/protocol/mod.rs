//! Sans-I/O codecs for everything on a JVM ⇄ worker connection.
//!
//! ```
//! use sparkwire_worker::protocol::{SparkVersion, TaskHeader};
//!
//! let header = TaskHeader::example(b"\x80\x05N.".to_vec().into());
//! for v in SparkVersion::ALL {
//!     let bytes = header.encode(v)?;
//!     let (back, used) = TaskHeader::decode(&bytes, v)?.expect("complete");
//!     assert_eq!(used, bytes.len());
//!     assert_eq!(back.encode(v)?, bytes);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod command;
mod conn_info;
pub mod daemon;
mod encode;
mod error;
mod eval_type;
mod header;
mod limits;
mod reply;
pub mod session;
mod task;
mod version;
mod wire;

pub use command::{sql_serializers, Arg, Command, StateServer, Udf, UdfCommand, UdtfCommand};
pub use conn_info::ConnInfo;
pub use encode::TaskEncoder;
pub use error::{EncodeProblem, FieldProblem, HeaderError, JsonError, ReplyError};
pub use eval_type::{DataLayout, EvalType};
pub use header::{
    BroadcastEntry, BroadcastServer, Broadcasts, HeaderPrefix, PartialHeader, PrefixEnd, Resource,
    TaskContext, TaskHeader,
};
pub use limits::Limits;
pub use reply::{encode_reply, encode_reply_declaring, End, ReplyDecoder, ReplyItem, Timing};
pub use task::{TaskDecoder, TaskError, TaskItem};
pub use version::{CommandKind, HeaderStyle, SparkVersion, UnknownVersion, WorkerLayout};
pub use wire::{FieldSpan, HeaderCut};
