//! `sparkwire dis`: what `python -m pickletools FILE` prints.

use std::io::{self, Write};
use std::process::ExitCode;

use sparkwire::serializers::pickle::dis::dis_with;

use super::args::DisArgs;
use super::read_input;

/// Prints the disassembly; on a malformed pickle, the lines up to the bad
/// opcode, then pickletools' message on stderr and exit code 1.
pub fn run(args: &DisArgs) -> io::Result<ExitCode> {
    let data = read_input(&args.file)?;
    let mut text = String::new();
    let result = dis_with(&data, &mut text, args.indentlevel);
    io::stdout().lock().write_all(text.as_bytes())?;
    match result {
        Ok(_) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            eprintln!("sparkwire dis: byte {}: {}", e.offset, e.message);
            Ok(ExitCode::from(1))
        }
    }
}
