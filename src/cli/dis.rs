//! `sparkwire dis`: what `python -m pickletools FILE` prints.

use std::fmt;
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use sparkwire::serializers::pickle::dis::dis_with;

use super::args::DisArgs;
use super::read_input;

/// Prints the disassembly as it is made; on a malformed pickle, the lines up
/// to the bad opcode, then pickletools' message on stderr and exit code 1.
/// The text is never held whole: a 20 MB pickle has some 200 MB of it.
pub fn run(args: &DisArgs) -> io::Result<ExitCode> {
    let data = read_input(&args.file)?;
    let mut out = Stream {
        out: BufWriter::new(io::stdout().lock()),
        error: None,
    };
    // pickletools multiplies a blank by the level: a negative level is none.
    let indent = usize::try_from(args.indentlevel.max(0)).unwrap_or(usize::MAX);
    let result = dis_with(&data, &mut out, indent);
    if let Some(e) = out.error {
        return Err(e);
    }
    out.out.flush()?;
    match result {
        Ok(_) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            eprintln!("sparkwire dis: byte {}: {}", e.offset, e.message);
            Ok(ExitCode::from(1))
        }
    }
}

/// `fmt::Write` onto a buffered stdout, keeping the I/O error that a
/// `fmt::Error` cannot carry (a closed pipe ends the run quietly).
struct Stream<W: Write> {
    out: W,
    error: Option<io::Error>,
}

impl<W: Write> fmt::Write for Stream<W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.out.write_all(s.as_bytes()).map_err(|e| {
            self.error = Some(e);
            fmt::Error
        })
    }
}
