//! Why the proxy cannot start: [`ProxyConfigError`] for the routes, keys
//! and limits, [`StartError`] for everything else at start-up. Each names
//! the setting to fix, never a key. At the bottom of the crate, so every
//! folder's parse functions can name them.

use std::io::{self, Write as _};
use std::net::SocketAddr;
use std::process::ExitCode;

use approov_core::ConfigError;

/// The exit code for bad configuration (the convention of command-line
/// tools for usage errors).
pub const CONFIG_ERROR_EXIT: u8 = 2;

/// Why the proxy's configuration is unusable. Every message names the
/// environment variable or file entry to fix; none contains an API key or
/// the value of a variable that may hold one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProxyConfigError {
    /// A required setting is absent (or empty).
    #[error("{setting} is not set: {hint}")]
    Missing {
        /// The variable or file entry.
        setting: String,
        /// What to set it to.
        hint: String,
    },
    /// A setting has a value the proxy cannot use.
    #[error("{setting} is not usable: {problem}")]
    Invalid {
        /// The variable or file entry.
        setting: String,
        /// What is wrong and how to fix it.
        problem: String,
    },
    /// Two settings contradict each other.
    #[error("{first} and {second} are both set: {hint}")]
    Conflict {
        /// One setting.
        first: String,
        /// The other.
        second: String,
        /// Which one to keep.
        hint: String,
    },
    /// The routes file (`PROXY_CONFIG`) cannot be read or parsed.
    #[error("PROXY_CONFIG ({path}): {problem}")]
    File {
        /// The file's path.
        path: String,
        /// What is wrong, with the line and column for syntax errors.
        problem: String,
    },
    /// The TLS client for HTTPS upstreams could not be built.
    #[error("cannot set up TLS for the upstreams: {0}")]
    Tls(String),
}

impl ProxyConfigError {
    pub(crate) fn missing(setting: impl Into<String>, hint: impl Into<String>) -> Self {
        Self::Missing {
            setting: setting.into(),
            hint: hint.into(),
        }
    }

    pub(crate) fn invalid(setting: impl Into<String>, problem: impl Into<String>) -> Self {
        Self::Invalid {
            setting: setting.into(),
            problem: problem.into(),
        }
    }

    pub(crate) fn conflict(
        first: impl Into<String>,
        second: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Self::Conflict {
            first: first.into(),
            second: second.into(),
            hint: hint.into(),
        }
    }
}

/// Why the proxy could not start. Every message names the setting to fix
/// and never contains a key or the Approov secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The Approov configuration (secret, token header, binding, leeway) is unusable.
    #[error("{0}")]
    Approov(#[from] ConfigError),
    /// The routes, keys or limits are unusable.
    #[error("{0}")]
    Proxy(#[from] ProxyConfigError),
    /// An address setting is not an `<ip>:<port>`.
    #[error(
        "{name} is not usable: {value:?} is not <ip>:<port>; use e.g. 127.0.0.1:8080, \
         0.0.0.0:8080 or [::1]:8080 (port 0 picks a free port)"
    )]
    Addr {
        /// The variable.
        name: &'static str,
        /// The value given.
        value: String,
    },
    /// A number setting is not a whole number in its range.
    #[error("{name} is not usable: {value:?} is not {expected}")]
    Limit {
        /// The variable.
        name: &'static str,
        /// The value given.
        value: String,
        /// What it must be.
        expected: String,
    },
    /// `LOG_FORMAT` is neither `text` nor `json`.
    #[error("LOG_FORMAT is not usable: {0:?} is neither text nor json")]
    LogFormat(String),
    /// `WORKER_CPU_AFFINITY` is neither `auto` nor `off`.
    #[error("WORKER_CPU_AFFINITY is not usable: {0:?} is neither auto nor off")]
    CpuAffinity(String),
    /// A listener could not be bound (port in use, permission denied...).
    #[error(
        "cannot listen on {addr} ({name}): {source}; stop whatever uses it or set {name} \
         to another address (port 0 picks a free port)"
    )]
    Bind {
        /// The variable.
        name: &'static str,
        /// The address asked for.
        addr: SocketAddr,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// A thread or runtime of the proxy could not be started.
    #[error("cannot start {what}: {source}")]
    Spawn {
        /// What could not be started.
        what: &'static str,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The Prometheus recorder could not be installed.
    #[error("cannot export metrics (METRICS_ADDR): {0}")]
    MetricsRecorder(String),
}

impl StartError {
    /// Prints `approov-proxy: <message>` on stderr and returns exit code 2.
    pub fn exit(self) -> ExitCode {
        let _ = writeln!(io::stderr(), "approov-proxy: {self}");
        ExitCode::from(CONFIG_ERROR_EXIT)
    }
}
