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

/// Reads a whole input file ("-" for standard input); an error names the path.
pub fn read_input(path: &Path) -> io::Result<Vec<u8>> {
    let mut data = Vec::new();
    if path.as_os_str() == "-" {
        io::stdin()
            .lock()
            .read_to_end(&mut data)
            .map_err(|e| named(Path::new("standard input"), e))?;
    } else {
        File::open(path)
            .and_then(|mut f| f.read_to_end(&mut data))
            .map_err(|e| named(path, e))?;
    }
    Ok(data)
}

/// Opens an input file for streaming ("-" for standard input); an error names
/// the path.
pub fn open_input(path: &Path) -> io::Result<Box<dyn Read>> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(io::stdin().lock()));
    }
    Ok(Box::new(File::open(path).map_err(|e| named(path, e))?))
}

/// The same error, with the path in front: "x.bin: No such file or directory".
pub fn named(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}
