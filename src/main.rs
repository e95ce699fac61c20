//! The `sparkwire` command-line tool.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

mod cli;

/// Decode and inspect the wire formats PySpark speaks.
#[derive(Debug, Parser)]
#[command(name = "sparkwire", version, about)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Split a length-prefixed stream (as PySpark's serializers, the JVM and the
    /// workers write them) into frames, nulls and markers.
    Frames(FramesArgs),
}

/// Options of `sparkwire frames`.
#[derive(Debug, clap::Args)]
pub struct FramesArgs {
    /// The stream to decode ("-" for standard input).
    pub file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Largest frame accepted, in bytes (default 256 MiB; at most 2147483647).
    #[arg(long)]
    pub max_frame_len: Option<u32>,
    /// Include every payload in full, as hex (JSON) or a hex dump (text).
    #[arg(long)]
    pub payloads: bool,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One line per item, for people.
    Text,
    /// One JSON document, for programs.
    Json,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = match args.command {
        Command::Frames(a) => cli::frames::run(&a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("sparkwire: {e}");
            ExitCode::from(2)
        }
    }
}
