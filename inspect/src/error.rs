//! Errors of reading captures: which file, and what was wrong with it.

use std::path::PathBuf;

use thiserror::Error;

use crate::capture::CaptureError;
use crate::pcap::PcapReadError;

/// Why a capture could not be read.
#[derive(Debug, Error)]
pub enum InspectError {
    /// A file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A capture directory holds no recorded connection.
    #[error("no to_worker*.bin in {}", dir.display())]
    NoConnections {
        /// The directory.
        dir: PathBuf,
    },
    /// A pcap or pcapng file is malformed.
    #[error("{}: {source}", path.display())]
    Pcap {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: PcapReadError,
    },
    /// A decoded connection could not be re-encoded (for `--verify`).
    #[error("{source}")]
    Reencode {
        /// Why.
        #[source]
        source: CaptureError,
    },
}
