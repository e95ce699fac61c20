//! Serves the gateway on a loopback port until a client sends `s` or stdin
//! closes, printing the port and token for a py4j client:
//!
//! ```text
//! cargo run -p sparkwire-gateway --example serve -- [clientserver|gateway] [TOKEN]
//! ```

use std::io::Read;
use std::sync::Arc;

use sparkwire_gateway::jvm::Jvm;
use sparkwire_gateway::py4j::server::{Mode, Server, ServerConfig};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let mode = match args.next().as_deref() {
        Some("gateway") => Mode::JavaGateway,
        _ => Mode::ClientServer,
    };
    let token = args
        .next()
        .unwrap_or_else(|| "sparkwire-example-token".into());
    let server = Server::start(
        ServerConfig::new(token.clone()).mode(mode),
        Arc::new(Jvm::new()),
    )?;
    println!("{}", server.port());
    println!("{token}");
    let handle = server.handle();
    std::thread::spawn(move || {
        // Like PySpark's gateway: stop when the parent closes our stdin.
        let mut sink = [0u8; 64];
        while std::io::stdin()
            .read(&mut sink)
            .map(|n| n > 0)
            .unwrap_or(false)
        {}
        handle.stop();
    });
    server.wait();
    let stats = server.stats();
    eprintln!(
        "served {} connections ({} refused)",
        stats.accepted, stats.auth_failures
    );
    Ok(())
}
