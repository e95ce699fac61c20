//! `sparkwire submit`: argument parsing for [`sparkwire_gateway::submit`].

use std::io;
use std::path::PathBuf;
use std::process::ExitCode;

use sparkwire_gateway::submit::{submit, SubmitOptions};

use super::args::SubmitArgs;

fn list(v: &Option<String>) -> Vec<PathBuf> {
    v.as_deref()
        .map(|s| {
            s.split(',')
                .filter(|p| !p.is_empty())
                .map(PathBuf::from)
                .collect()
        })
        .unwrap_or_default()
}

/// Runs it; the program's exit status.
pub fn run(a: &SubmitArgs) -> io::Result<ExitCode> {
    let mut conf = Vec::new();
    for c in &a.conf {
        let Some((k, v)) = c.split_once('=') else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("--conf {c:?}: expected KEY=VALUE"),
            ));
        };
        conf.push((k.to_owned(), v.to_owned()));
    }
    let opts = SubmitOptions {
        master: a.master.clone(),
        conf,
        py_files: list(&a.py_files),
        files: list(&a.files),
        name: a.name.clone(),
        driver_python: a.driver_python.clone(),
        app: a.app.clone(),
        args: a.args.clone(),
    };
    let status =
        submit(&opts).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
    let code = match status.code() {
        Some(c) => c,
        None => {
            use std::os::unix::process::ExitStatusExt;
            128 + status.signal().unwrap_or(0)
        }
    };
    Ok(ExitCode::from(u8::try_from(code & 0xff).unwrap_or(1)))
}
