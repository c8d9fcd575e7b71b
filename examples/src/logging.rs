//! Logs go to stderr so stdout carries only the `listening on` line.

use std::io::IsTerminal as _;

use tracing_subscriber::EnvFilter;

/// Installs a `fmt` subscriber filtered by `RUST_LOG` (default `info`).
/// Rejections are logged by approov-core with their kind, never the token.
pub(crate) fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // A second call (tests, embedding) keeps the first subscriber.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}
