//! The serving settings: the listener's address and limits, the workers,
//! key reloads, `METRICS_ADDR` and `LOG_FORMAT`.

use std::fmt;
use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::time::Duration;

use super::env::{number, parse_addr};
use crate::error::StartError;
use crate::telemetry::log::LogFormat;

/// Where the proxy listens when `LISTEN_ADDR` is unset: loopback only, so
/// it is not reachable from the network by accident.
pub const DEFAULT_LISTEN_ADDR: &str = "127.0.0.1:8080";

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

/// `WORKER_CPU_AFFINITY`: whether worker threads are pinned to CPUs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CpuAffinity {
    /// Each worker on a CPU of its own when there are exactly as many
    /// workers as CPUs the process may run on (the default with the
    /// default `WORKER_THREADS`); otherwise none is pinned.
    #[default]
    Auto,
    /// The kernel places the workers.
    Off,
}

impl CpuAffinity {
    /// Reads `auto` or `off` (any case, spaces around ignored).
    pub fn parse(value: &str) -> Option<Self> {
        let value = value.trim();
        if value.eq_ignore_ascii_case("auto") {
            Some(Self::Auto)
        } else if value.eq_ignore_ascii_case("off") {
            Some(Self::Off)
        } else {
            None
        }
    }
}

impl fmt::Display for CpuAffinity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Auto => "auto",
            Self::Off => "off",
        })
    }
}

/// One worker per CPU the process may use, as nginx's `worker_processes
/// auto`.
fn default_workers() -> NonZeroUsize {
    std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN)
}

/// The serving settings, checked.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// `LISTEN_ADDR`.
    pub(crate) listen_addr: SocketAddr,
    /// The listener's limits.
    pub(crate) limits: ServeLimits,
    /// How often key files are read again (`KEY_RELOAD_SECONDS`, 1 to 3600,
    /// default 10); SIGHUP reads them at once.
    pub(crate) key_reload: Duration,
    /// Where `GET /metrics` is served (`METRICS_ADDR`), if anywhere.
    pub(crate) metrics_addr: Option<SocketAddr>,
    /// `LOG_FORMAT`.
    pub(crate) log_format: LogFormat,
}

impl Settings {
    /// Reads the settings through `var`. A blank `METRICS_ADDR` is off;
    /// any other blank value is refused, as it is more likely a mistake
    /// than a wish for the default.
    pub(crate) fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, StartError> {
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
