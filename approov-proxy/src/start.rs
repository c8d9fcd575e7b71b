//! Start-up: every setting besides the routes, read and checked before the
//! listener is bound. The proxy has no development mode: it guards real
//! keys, so a missing Approov key is a configuration error.

use std::io::{self, Write as _};
use std::net::{SocketAddr, TcpListener};
use std::num::NonZeroUsize;
use std::process::ExitCode;
use std::time::Duration;

use approov_core::{ConfigError, Verifier, VerifierBuilder};

use crate::{CpuAffinity, ProxyConfigError};

/// The exit code for bad configuration (the convention of command-line
/// tools for usage errors).
pub const CONFIG_ERROR_EXIT: u8 = 2;

/// Where the proxy listens when `LISTEN_ADDR` is unset: loopback only, so
/// it is not reachable from the network by accident.
pub const DEFAULT_LISTEN_ADDR: &str = "127.0.0.1:8080";

const CACHE_VAR: &str = "APPROOV_TOKEN_CACHE_SIZE";
/// Tokens of 10 000 devices: about 10 MiB at most. An app sends the same
/// token until it fetches the next, so most checks are cache hits.
const DEFAULT_CACHE_SIZE: &str = "10000";

/// hyper's own default, and what slow mobile networks need at most.
const DEFAULT_HEADER_READ_SECONDS: u64 = 30;
/// Mobile apps send bursts, then nothing for a while: a minute keeps a
/// burst on one connection without keeping quiet apps forever.
const DEFAULT_IDLE_SECONDS: u64 = 60;
/// nginx's `send_timeout`: a client that takes no byte of its answer for
/// a minute is gone or hostile.
const DEFAULT_SEND_SECONDS: u64 = 60;
/// nginx's `keepalive_requests`: plenty for an app's burst, and a bound on
/// the work one connection can queue.
const DEFAULT_MAX_REQUESTS: usize = 1000;
/// The usual soft limit on open files is 1024, and the proxy may hold an
/// upstream connection for each client one: 512 clients stay within it.
const DEFAULT_MAX_CONNECTIONS: usize = 512;
/// Below Kubernetes' default grace period of 30 s, so the proxy exits on
/// its own before it would be killed.
const DEFAULT_DRAIN_SECONDS: u64 = 25;
/// Kubernetes refreshes a mounted secret within a minute or so; checking
/// every 10 s adds little to that and costs a few small file reads.
const DEFAULT_KEY_RELOAD_SECONDS: u64 = 10;
/// Longer than any client needs, short enough to be a limit.
const MAX_SECONDS: u64 = 3600;
/// Far beyond what one process can hold open.
const MAX_MAX_CONNECTIONS: usize = 1_000_000;
/// Far beyond what any client needs on one connection.
const MAX_MAX_REQUESTS: usize = 1_000_000;
/// More threads than any machine has cores.
const MAX_WORKERS: usize = 1024;

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

/// How log lines are written (`LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum LogFormat {
    /// One human-readable line per event (the default).
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// The listener's limits (see the [crate docs](crate) for the variables).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServeLimits {
    /// A request head must be complete within this time, or the connection
    /// is closed (`HEADER_READ_TIMEOUT_SECONDS`, default 30 s).
    pub header_read_timeout: Duration,
    /// A keep-alive connection waiting for its next request is closed after
    /// this time (`IDLE_TIMEOUT_SECONDS`, default 60 s). hyper times the
    /// wait for a request and its head with one timer, which gets the
    /// shorter of the two.
    pub idle_timeout: Duration,
    /// A connection whose answer makes no write progress for this long (a
    /// client that stopped reading) is closed (`SEND_TIMEOUT_SECONDS`,
    /// default 60 s).
    pub send_timeout: Duration,
    /// At most this many connections are open at once; more wait in the
    /// listen backlog (`MAX_CONNECTIONS`, default 512).
    pub max_connections: usize,
    /// A connection is closed once it has answered this many requests
    /// (`MAX_REQUESTS_PER_CONNECTION`, default 1000); the last answer says
    /// `Connection: close`.
    pub max_requests_per_connection: usize,
    /// On SIGTERM or Ctrl-C, requests in flight get this long to finish
    /// before the proxy exits anyway (`DRAIN_TIMEOUT_SECONDS`, default 25 s).
    pub drain_timeout: Duration,
    /// Threads serving connections (`WORKER_THREADS`, default one per CPU
    /// the process may use).
    pub workers: NonZeroUsize,
    /// Whether each worker is pinned to a CPU of its own
    /// (`WORKER_CPU_AFFINITY`, default `auto`).
    pub cpu_affinity: CpuAffinity,
}

impl Default for ServeLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(DEFAULT_HEADER_READ_SECONDS),
            idle_timeout: Duration::from_secs(DEFAULT_IDLE_SECONDS),
            send_timeout: Duration::from_secs(DEFAULT_SEND_SECONDS),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_requests_per_connection: DEFAULT_MAX_REQUESTS,
            drain_timeout: Duration::from_secs(DEFAULT_DRAIN_SECONDS),
            workers: default_workers(),
            cpu_affinity: CpuAffinity::Auto,
        }
    }
}

/// One worker per CPU the process may use, as nginx's `worker_processes
/// auto`.
fn default_workers() -> NonZeroUsize {
    std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN)
}

/// Every setting besides the routes, checked.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Settings {
    /// `LISTEN_ADDR`.
    pub listen_addr: SocketAddr,
    /// The listener's limits.
    pub limits: ServeLimits,
    /// How often key files are read again (`KEY_RELOAD_SECONDS`, 1 to 3600,
    /// default 10); SIGHUP reads them at once.
    pub key_reload: Duration,
    /// Where `GET /metrics` is served (`METRICS_ADDR`), if anywhere.
    pub metrics_addr: Option<SocketAddr>,
    /// `LOG_FORMAT`.
    pub log_format: LogFormat,
}

impl Settings {
    /// Reads the settings through `var`. A blank `METRICS_ADDR` is off;
    /// any other blank value is refused, as it is more likely a mistake
    /// than a wish for the default.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, StartError> {
        let seconds = |name: &'static str, default: u64| {
            number(
                &var,
                name,
                default,
                1..=MAX_SECONDS,
                "seconds from 1 to 3600, e.g. 30",
            )
            .map(Duration::from_secs)
        };
        let limits = ServeLimits {
            header_read_timeout: seconds(
                "HEADER_READ_TIMEOUT_SECONDS",
                DEFAULT_HEADER_READ_SECONDS,
            )?,
            idle_timeout: seconds("IDLE_TIMEOUT_SECONDS", DEFAULT_IDLE_SECONDS)?,
            send_timeout: seconds("SEND_TIMEOUT_SECONDS", DEFAULT_SEND_SECONDS)?,
            max_connections: number(
                &var,
                "MAX_CONNECTIONS",
                DEFAULT_MAX_CONNECTIONS,
                1..=MAX_MAX_CONNECTIONS,
                "from 1 to 1000000, e.g. 512",
            )?,
            max_requests_per_connection: number(
                &var,
                "MAX_REQUESTS_PER_CONNECTION",
                DEFAULT_MAX_REQUESTS,
                1..=MAX_MAX_REQUESTS,
                "from 1 to 1000000, e.g. 1000",
            )?,
            drain_timeout: seconds("DRAIN_TIMEOUT_SECONDS", DEFAULT_DRAIN_SECONDS)?,
            workers: NonZeroUsize::new(number(
                &var,
                "WORKER_THREADS",
                default_workers().get(),
                1..=MAX_WORKERS,
                "from 1 to 1024, e.g. 2",
            )?)
            .unwrap_or(NonZeroUsize::MIN),
            cpu_affinity: match var("WORKER_CPU_AFFINITY") {
                None => CpuAffinity::Auto,
                Some(v) => CpuAffinity::parse(&v).ok_or(StartError::CpuAffinity(v))?,
            },
        };
        let log_format = match var("LOG_FORMAT") {
            None => LogFormat::Text,
            Some(v) if v.trim().eq_ignore_ascii_case("text") => LogFormat::Text,
            Some(v) if v.trim().eq_ignore_ascii_case("json") => LogFormat::Json,
            Some(v) => return Err(StartError::LogFormat(v)),
        };
        Ok(Self {
            listen_addr: parse_addr(
                "LISTEN_ADDR",
                var("LISTEN_ADDR").unwrap_or_else(|| DEFAULT_LISTEN_ADDR.to_owned()),
            )?,
            limits,
            key_reload: seconds("KEY_RELOAD_SECONDS", DEFAULT_KEY_RELOAD_SECONDS)?,
            metrics_addr: var("METRICS_ADDR")
                .filter(|v| !v.trim().is_empty())
                .map(|value| parse_addr("METRICS_ADDR", value))
                .transpose()?,
            log_format,
        })
    }
}

fn number<N: std::str::FromStr + PartialOrd + Copy>(
    var: impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: N,
    range: std::ops::RangeInclusive<N>,
    expected: &str,
) -> Result<N, StartError> {
    let Some(value) = var(name) else {
        return Ok(default);
    };
    value
        .trim()
        .parse()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| StartError::Limit {
            name,
            value,
            expected: format!("a whole number of {expected}"),
        })
}

fn parse_addr(name: &'static str, value: String) -> Result<SocketAddr, StartError> {
    value
        .trim()
        .parse()
        .map_err(|_| StartError::Addr { name, value })
}

/// The verifier from the Approov variables ([`VerifierBuilder::from_vars`]),
/// remembering verified tokens unless `APPROOV_TOKEN_CACHE_SIZE` says
/// otherwise (unset means 10000 here).
pub fn verifier_from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Verifier, StartError> {
    Ok(VerifierBuilder::from_vars(|name| match var(name) {
        None if name == CACHE_VAR => Some(DEFAULT_CACHE_SIZE.to_owned()),
        value => value,
    })?
    .build()?)
}

/// Binds `LISTEN_ADDR`; returns the listener and its real address (the
/// port chosen when port 0 was asked).
pub fn listen(settings: &Settings) -> Result<(tokio::net::TcpListener, SocketAddr), StartError> {
    let addr = settings.listen_addr;
    let bind_error = |source| StartError::Bind {
        name: "LISTEN_ADDR",
        addr,
        source,
    };
    let listener = bind("LISTEN_ADDR", addr)?;
    let local_addr = listener.local_addr().map_err(bind_error)?;
    let listener = tokio::net::TcpListener::from_std(listener).map_err(bind_error)?;
    Ok((listener, local_addr))
}

/// Binds `addr`, non-blocking as tokio expects a std listener to be.
pub(crate) fn bind(name: &'static str, addr: SocketAddr) -> Result<TcpListener, StartError> {
    let bind_error = |source| StartError::Bind { name, addr, source };
    let listener = TcpListener::bind(addr).map_err(bind_error)?;
    listener.set_nonblocking(true).map_err(bind_error)?;
    Ok(listener)
}

/// Prints `<what> on <ip>:<port>` on stdout and flushes it: scripts and
/// tests wait for this line to learn the port when port 0 was asked.
pub fn announce(what: &str, addr: SocketAddr) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "{what} on {addr}");
    let _ = out.flush();
}

/// Installs the log subscriber on stderr (stdout carries only the
/// `listening on` line), filtered by `RUST_LOG` (default `info`).
///
/// Lines are written by a thread of their own through a buffer
/// (`tracing-appender`), so a worker never waits on the terminal or a
/// pipe for the line of each request; the buffer is written out whenever
/// the queue of lines is empty, and at exit when the returned guard is
/// dropped. A full queue (100 000 lines) slows the workers down rather
/// than dropping lines. Keep the guard until the process ends.
#[must_use = "dropping the guard stops the log thread"]
pub fn init_logging(format: LogFormat) -> tracing_appender::non_blocking::WorkerGuard {
    use std::io::IsTerminal as _;
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .buffered_lines_limit(100_000)
        .thread_name("approov-proxy-log")
        .finish(io::BufWriter::new(io::stderr()));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    // A second call (tests, embedding) keeps the first subscriber.
    let _ = match format {
        LogFormat::Text => builder.with_ansi(io::stderr().is_terminal()).try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    guard
}

/// When the verifier has key files: reads them again on SIGHUP and every
/// `every`, on a thread of its own ([`Verifier::watch_key_files`]). Each
/// reload swaps the keys atomically and logs what happened; a file that
/// does not parse keeps the keys in use.
pub fn watch_keys(verifier: &Verifier, every: Duration) -> Result<(), StartError> {
    verifier
        .watch_key_files(every)
        .map_err(|source| StartError::Spawn {
            what: "the key reload thread",
            source,
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<Settings, String> {
        Settings::from_vars(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
        .map_err(|e| e.to_string())
    }

    #[test]
    fn unset_means_the_defaults() {
        let s = read(&[]).unwrap();
        assert_eq!(s.limits, ServeLimits::default());
        assert_eq!(s.listen_addr, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(s.limits.drain_timeout, Duration::from_secs(25));
        assert_eq!(s.limits.send_timeout, Duration::from_secs(60));
        assert_eq!(s.limits.max_requests_per_connection, 1000);
        assert_eq!(s.key_reload, Duration::from_secs(10));
        assert_eq!(s.metrics_addr, None);
        assert_eq!(s.log_format, LogFormat::Text);
    }

    #[test]
    fn values_are_read() {
        let s = read(&[
            ("LISTEN_ADDR", "0.0.0.0:0"),
            ("HEADER_READ_TIMEOUT_SECONDS", "1"),
            ("IDLE_TIMEOUT_SECONDS", " 2 "),
            ("SEND_TIMEOUT_SECONDS", "7"),
            ("MAX_CONNECTIONS", "3"),
            ("MAX_REQUESTS_PER_CONNECTION", "8"),
            ("DRAIN_TIMEOUT_SECONDS", "4"),
            ("WORKER_THREADS", "6"),
            ("WORKER_CPU_AFFINITY", "Off"),
            ("KEY_RELOAD_SECONDS", "5"),
            ("METRICS_ADDR", "127.0.0.1:9090"),
            ("LOG_FORMAT", "JSON"),
        ])
        .unwrap();
        assert_eq!(s.listen_addr, "0.0.0.0:0".parse().unwrap());
        assert_eq!(s.limits.header_read_timeout, Duration::from_secs(1));
        assert_eq!(s.limits.idle_timeout, Duration::from_secs(2));
        assert_eq!(s.limits.send_timeout, Duration::from_secs(7));
        assert_eq!(s.limits.max_connections, 3);
        assert_eq!(s.limits.max_requests_per_connection, 8);
        assert_eq!(s.limits.drain_timeout, Duration::from_secs(4));
        assert_eq!(s.limits.workers.get(), 6);
        assert_eq!(s.limits.cpu_affinity, CpuAffinity::Off);
        assert_eq!(s.key_reload, Duration::from_secs(5));
        assert_eq!(s.metrics_addr, Some("127.0.0.1:9090".parse().unwrap()));
        assert_eq!(s.log_format, LogFormat::Json);
    }

    #[test]
    fn bad_values_name_the_variable() {
        for name in [
            "HEADER_READ_TIMEOUT_SECONDS",
            "IDLE_TIMEOUT_SECONDS",
            "SEND_TIMEOUT_SECONDS",
            "MAX_CONNECTIONS",
            "MAX_REQUESTS_PER_CONNECTION",
            "DRAIN_TIMEOUT_SECONDS",
            "WORKER_THREADS",
            "KEY_RELOAD_SECONDS",
        ] {
            for value in ["0", "", "-1", "1.5", "ten", "3601s", "99999999999999999999"] {
                let err = read(&[(name, value)]).unwrap_err();
                assert!(err.starts_with(&format!("{name} is not usable")), "{err}");
                assert!(!err.contains('\n'), "{err}");
            }
        }
        for name in ["LISTEN_ADDR", "METRICS_ADDR"] {
            let err = read(&[(name, "9090")]).unwrap_err();
            assert!(err.starts_with(&format!("{name} is not usable")), "{err}");
        }
        assert_eq!(read(&[("METRICS_ADDR", " ")]).unwrap().metrics_addr, None);
        let err = read(&[("LOG_FORMAT", "yaml")]).unwrap_err();
        assert!(err.starts_with("LOG_FORMAT is not usable"), "{err}");
        let err = read(&[("WORKER_CPU_AFFINITY", "0,1")]).unwrap_err();
        assert!(
            err.starts_with("WORKER_CPU_AFFINITY is not usable"),
            "{err}"
        );
    }
}
