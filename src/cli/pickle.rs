//! `sparkwire pickle show | check | encode`.

use std::io::{self, Write};
use std::process::ExitCode;

use sparkwire::serializers::pickle::{self, literal::parse_literal, Profile};

use super::args::{PickleCommand, ProfileName};
use super::read_input;

/// Runs one `pickle` subcommand.
pub fn run(cmd: &PickleCommand) -> io::Result<ExitCode> {
    match cmd {
        PickleCommand::Show { file } => show(&read_input(file)?),
        PickleCommand::Check { file } => check(&read_input(file)?),
        PickleCommand::Encode {
            protocol,
            profile,
            literal,
        } => encode(literal, *protocol, *profile),
    }
}

fn show(data: &[u8]) -> io::Result<ExitCode> {
    let d = match pickle::decode_slice(data) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("sparkwire pickle show: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    match pickle::repr::repr_decoded(&d) {
        Ok(text) => writeln!(io::stdout().lock(), "{text}")?,
        Err(e) => {
            eprintln!("sparkwire pickle show: {e}");
            return Ok(ExitCode::from(1));
        }
    }
    if d.end < data.len() {
        eprintln!(
            "sparkwire pickle show: {} bytes after STOP (at byte {}) ignored",
            data.len() - d.end,
            d.end
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn profile_name(p: Profile) -> String {
    match p {
        Profile::CPython { protocol } => format!("cpython protocol {protocol}"),
        Profile::Pyrolite => "pyrolite".into(),
    }
}

/// Exit 0 iff re-encoding the decoded value reproduces the pickle byte for byte,
/// with the CPython profile of its protocol (0 or 1 when it does not say) or
/// (protocol 2) the Pyrolite one.
fn check(data: &[u8]) -> io::Result<ExitCode> {
    let d = match pickle::decode_slice(data) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("sparkwire pickle check: does not decode: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    let original = &data[..d.end];
    // Without a PROTO opcode the pickle is protocol 0 or 1 (1 only adds
    // binary opcodes): try both.
    let profiles: Vec<Profile> = match d.protocol {
        Some(2) => vec![Profile::CPython { protocol: 2 }, Profile::Pyrolite],
        Some(p) => vec![Profile::CPython { protocol: p }],
        None => vec![
            Profile::CPython { protocol: 1 },
            Profile::CPython { protocol: 0 },
        ],
    };
    let mut best: Option<(usize, Profile, String)> = None;
    for profile in profiles {
        match pickle::encode(&d.graph, profile) {
            Ok(bytes) if bytes == original => {
                writeln!(
                    io::stdout().lock(),
                    "ok: {} bytes re-encode byte for byte as {}",
                    original.len(),
                    profile_name(profile)
                )?;
                return Ok(ExitCode::SUCCESS);
            }
            Ok(bytes) => {
                let at = bytes
                    .iter()
                    .zip(original)
                    .position(|(a, b)| a != b)
                    .unwrap_or(bytes.len().min(original.len()));
                let detail = format!(
                    "re-encoding as {} differs at byte {at}: ours {}, file {} ({} vs {} bytes)",
                    profile_name(profile),
                    bytes.get(at).map_or("<end>".into(), |b| format!("{b:02x}")),
                    original
                        .get(at)
                        .map_or("<end>".into(), |b| format!("{b:02x}")),
                    bytes.len(),
                    original.len()
                );
                if best.as_ref().is_none_or(|(b, _, _)| at > *b) {
                    best = Some((at, profile, detail));
                }
            }
            Err(e) => {
                if best.is_none() {
                    best = Some((
                        0,
                        profile,
                        format!("cannot re-encode as {}: {e}", profile_name(profile)),
                    ));
                }
            }
        }
    }
    if let Some((_, _, detail)) = best {
        eprintln!("sparkwire pickle check: {detail}");
    }
    Ok(ExitCode::from(1))
}

fn encode(literal: &str, protocol: Option<u8>, profile: ProfileName) -> io::Result<ExitCode> {
    let profile = match (profile, protocol) {
        (ProfileName::Cpython, p) => Profile::CPython {
            protocol: p.unwrap_or(5),
        },
        (ProfileName::Pyrolite, None | Some(2)) => Profile::Pyrolite,
        (ProfileName::Pyrolite, Some(p)) => {
            // Writing protocol 2 when 5 was asked for would be a silent lie.
            eprintln!(
                "sparkwire pickle encode: the pyrolite profile writes protocol 2 only, not {p}"
            );
            return Ok(ExitCode::from(2));
        }
    };
    let g = match parse_literal(literal) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("sparkwire pickle encode: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    match pickle::encode(&g, profile) {
        Ok(bytes) => {
            io::stdout().lock().write_all(&bytes)?;
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("sparkwire pickle encode: {e}");
            Ok(ExitCode::from(1))
        }
    }
}
