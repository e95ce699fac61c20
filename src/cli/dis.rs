//! `sparkwire dis`: what `python -m pickletools FILE` prints.

use std::fmt;
use std::io::{self, BufWriter, Read, Write};
use std::process::ExitCode;

use sparkwire::serializers::pickle::dis::{DisError, DisStep, Disassembler};

use super::args::DisArgs;
use super::{named, open_input};

/// Input is read in pieces of this size; the window grows only to hold the
/// largest opcode.
const READ_SIZE: usize = 64 * 1024;

/// Prints the disassembly as it is made; on a malformed pickle, the lines up
/// to the bad opcode, then pickletools' message on stderr and exit code 1.
/// Neither the input nor the text is held whole: memory is the largest
/// opcode's argument plus the emulated stack and memo.
pub fn run(args: &DisArgs) -> io::Result<ExitCode> {
    let mut input = open_input(&args.file)?;
    let mut out = Stream {
        out: BufWriter::new(io::stdout().lock()),
        error: None,
    };
    // pickletools multiplies a blank by the level: a negative level is none.
    let indent = usize::try_from(args.indentlevel.max(0)).unwrap_or(usize::MAX);
    let mut d = Disassembler::new(indent);
    let mut window: Vec<u8> = Vec::new();
    let mut start = 0usize;
    let mut eof = false;
    let result: Result<(), DisError> = loop {
        match d.step(&window[start..], eof, &mut out) {
            Ok(DisStep::Op(n)) => start += n,
            Ok(DisStep::Stop(_)) => break Ok(()),
            Ok(DisStep::NeedMore) => {
                // Drop what is done, then read at least as much as is held,
                // so that a long line is rescanned a logarithmic number of
                // times, not once per piece.
                window.drain(..start);
                start = 0;
                let want = READ_SIZE.max(window.len()) as u64;
                let n = (&mut input)
                    .take(want)
                    .read_to_end(&mut window)
                    .map_err(|e| named(&args.file, e))?;
                eof = (n as u64) < want;
            }
            Err(e) => break Err(e),
        }
    };
    if let Some(e) = out.error {
        return Err(e);
    }
    out.out.flush()?;
    match result {
        Ok(()) => Ok(ExitCode::SUCCESS),
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
