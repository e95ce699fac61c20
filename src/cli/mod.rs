//! One module per subcommand.

pub mod args;
pub mod decode;
pub mod dis;
pub mod frames;
pub mod pickle;
pub mod preview;
pub mod replay;
pub mod submit;

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// Reads a whole input file ("-" for standard input).
pub fn read_input(path: &Path) -> io::Result<Vec<u8>> {
    let mut data = Vec::new();
    if path.as_os_str() == "-" {
        io::stdin().lock().read_to_end(&mut data)?;
    } else {
        File::open(path)?.read_to_end(&mut data)?;
    }
    Ok(data)
}
