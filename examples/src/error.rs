//! Start-up errors: one line on stderr saying what to fix, then exit code 2.

use std::io::{self, Write as _};
use std::net::SocketAddr;
use std::process::ExitCode;

use approov_core::ConfigError;

use crate::CONFIG_ERROR_EXIT;

/// Why an example server could not start. Every message names the setting
/// to fix and never contains the secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The Approov configuration (secret, token header, binding, leeway) is unusable.
    #[error("{0}")]
    Approov(#[from] ConfigError),
    /// `LISTEN_ADDR` is not an `<ip>:<port>`.
    #[error(
        "LISTEN_ADDR is not usable: {value:?} is not <ip>:<port>; \
         use e.g. 127.0.0.1:8080, 0.0.0.0:8080 or [::1]:8080 (port 0 picks a free port)"
    )]
    ListenAddr {
        /// The value given.
        value: String,
    },
    /// `HEADER_READ_TIMEOUT_SECONDS`, `IDLE_TIMEOUT_SECONDS` or
    /// `MAX_CONNECTIONS` is not a whole number in its range.
    #[error("{name} is not usable: {value:?} is not {expected}")]
    Limit {
        /// The variable.
        name: &'static str,
        /// The value given.
        value: String,
        /// What it must be.
        expected: String,
    },
    /// The thread that reloads the key files could not be started.
    #[error("cannot start the key reload thread: {0}")]
    KeyWatch(#[source] io::Error),
    /// The listener could not be bound (port in use, permission denied...).
    #[error(
        "cannot listen on {addr} (LISTEN_ADDR): {source}; stop whatever uses it \
         or set LISTEN_ADDR to another address (port 0 picks a free port)"
    )]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// `METRICS_ADDR` is not an `<ip>:<port>`.
    #[error(
        "METRICS_ADDR is not usable: {value:?} is not <ip>:<port>; \
         use e.g. 127.0.0.1:9090 (port 0 picks a free port), or leave it unset for no metrics"
    )]
    MetricsAddr {
        /// The value given.
        value: String,
    },
    /// The metrics listener could not be bound.
    #[error(
        "cannot serve metrics on {addr} (METRICS_ADDR): {source}; stop whatever uses it \
         or set METRICS_ADDR to another address (port 0 picks a free port)"
    )]
    MetricsBind {
        /// The address asked for.
        addr: SocketAddr,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The Prometheus recorder could not be installed (another metrics
    /// recorder already is).
    #[error("cannot export metrics (METRICS_ADDR): {0}")]
    MetricsRecorder(String),
}

impl StartError {
    /// Prints `<program>: <message>` on stderr and returns exit code 2.
    pub fn exit(self) -> ExitCode {
        let _ = writeln!(io::stderr(), "{}: {self}", program_name());
        ExitCode::from(CONFIG_ERROR_EXIT)
    }
}

/// The exit code for a server that has stopped: success, or 1 with the
/// error on stderr (the listener failed after start-up).
pub fn served(result: io::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(io::stderr(), "{}: the server stopped: {e}", program_name());
            ExitCode::FAILURE
        }
    }
}

fn program_name() -> String {
    std::env::args_os()
        .next()
        .as_deref()
        .map(std::path::Path::new)
        .and_then(|p| p.file_stem())
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "approov-example".to_owned())
}
