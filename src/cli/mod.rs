//! One module per subcommand.

pub mod frames;
pub mod preview;
