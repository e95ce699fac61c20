//! The `sparkwire` command-line tool.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

mod cli;

use cli::args::{Args, Command};

fn run_tap(args: &[String]) -> std::io::Result<ExitCode> {
    let config = sparkwire_worker::tap::TapConfig {
        python: std::env::var_os("SPARKWIRE_TAP_PYTHON")
            .map_or_else(|| "python3".into(), PathBuf::from),
        dir: std::env::var_os("SPARKWIRE_TAP_DIR")
            .map_or_else(|| "sparkwire-capture".into(), PathBuf::from),
    };
    let code = sparkwire_worker::tap::run(&config, args)?;
    Ok(ExitCode::from(u8::try_from(code & 0xff).unwrap_or(1)))
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = match args.command {
        Command::Frames(a) => cli::frames::run(&a),
        Command::Dis(a) => cli::dis::run(&a),
        Command::Pickle(c) => cli::pickle::run(&c),
        Command::Decode(a) => cli::decode::run(&a),
        Command::Replay(a) => cli::replay::run(&a),
        Command::Submit(a) => cli::submit::run(&a),
        Command::Tap { args } => run_tap(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => exit_for(&e),
    }
}

/// The documented exit scheme (see the long `--help`): a reader that stopped
/// reading (`| head`) is no failure, so a broken pipe exits 0 quietly; input
/// found malformed exits 1; anything else (usage, a file that cannot be read)
/// exits 2.
fn exit_for(e: &std::io::Error) -> ExitCode {
    match e.kind() {
        std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        std::io::ErrorKind::InvalidData => {
            eprintln!("sparkwire: {e}");
            ExitCode::from(1)
        }
        _ => {
            eprintln!("sparkwire: {e}");
            ExitCode::from(2)
        }
    }
}
