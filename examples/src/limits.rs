//! `HEADER_READ_TIMEOUT_SECONDS`, `IDLE_TIMEOUT_SECONDS`, `MAX_CONNECTIONS`,
//! `BODY_READ_TIMEOUT_SECONDS`: the limits every example server applies to
//! its connections and to the bodies message signing reads. Only the
//! reading is here; each server binary applies them where a reader of that
//! one file sees it.

use std::time::Duration;

use crate::StartError;

const HEADER_READ_VAR: &str = "HEADER_READ_TIMEOUT_SECONDS";
const IDLE_VAR: &str = "IDLE_TIMEOUT_SECONDS";
const MAX_CONNECTIONS_VAR: &str = "MAX_CONNECTIONS";
const BODY_READ_VAR: &str = "BODY_READ_TIMEOUT_SECONDS";

/// hyper's own default, and what slow mobile networks need at most.
const DEFAULT_HEADER_READ_SECONDS: u64 = 30;
/// Mobile apps send bursts of requests, then nothing for a while: a minute
/// keeps a burst on one connection without keeping quiet apps forever.
const DEFAULT_IDLE_SECONDS: u64 = 60;
/// The usual soft limit on open files (`ulimit -n`) is 1024, and
/// `api-key-proxy` may hold an upstream connection for each client one: 512
/// clients stay within it, where more would fail to accept (`EMFILE`).
/// Each connection costs a task and its buffers (hyper reads a head of at
/// most about 400 KiB), so 512 stay within a few hundred MiB even when
/// every one is sending a maximal head: a 2-core, 2 GiB box survives.
const DEFAULT_MAX_CONNECTIONS: usize = 512;

/// Longer than any client needs, short enough to be a limit.
const MAX_SECONDS: u64 = 3600;
/// Far beyond what one process can hold open.
const MAX_MAX_CONNECTIONS: usize = 1_000_000;

/// How long a connection may take and how many may be open at once (see
/// the [crate docs](crate) for the variables).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServeLimits {
    /// A request head (request line and headers) must be complete within
    /// this time, or the connection is closed (`HEADER_READ_TIMEOUT_SECONDS`,
    /// default 30 s).
    pub header_read_timeout: Duration,
    /// A keep-alive connection waiting for its next request is closed after
    /// this time (`IDLE_TIMEOUT_SECONDS`, default 60 s). hyper times the wait
    /// for a request and its head with one timer: a hyper server gives it
    /// the shorter of this and `header_read_timeout`.
    pub idle_timeout: Duration,
    /// At most this many connections are open at once; more wait in the
    /// listen backlog until one closes (`MAX_CONNECTIONS`, default 512).
    pub max_connections: usize,
    /// A body that message signing must check (it has a `Content-Digest`)
    /// must arrive in full within this time, or the request is answered
    /// `408` with `{}` (`BODY_READ_TIMEOUT_SECONDS`, default 30 s, the
    /// core's [`DEFAULT_BODY_READ_TIMEOUT`](approov_core::signing::DEFAULT_BODY_READ_TIMEOUT)).
    pub body_read_timeout: Duration,
}

impl Default for ServeLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(DEFAULT_HEADER_READ_SECONDS),
            idle_timeout: Duration::from_secs(DEFAULT_IDLE_SECONDS),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            body_read_timeout: approov_core::signing::DEFAULT_BODY_READ_TIMEOUT,
        }
    }
}

impl ServeLimits {
    /// Reads the three variables through `var`; unset means the default.
    pub(crate) fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, StartError> {
        let defaults = Self::default();
        let seconds = |name: &'static str, default: Duration| match var(name) {
            None => Ok(default),
            Some(value) => parse_in(&value, 1..=MAX_SECONDS)
                .map(Duration::from_secs)
                .ok_or_else(|| StartError::Limit {
                    name,
                    value,
                    expected: format!("a whole number of seconds from 1 to {MAX_SECONDS}, e.g. 30"),
                }),
        };
        let header_read_timeout = seconds(HEADER_READ_VAR, defaults.header_read_timeout)?;
        let idle_timeout = seconds(IDLE_VAR, defaults.idle_timeout)?;
        let body_read_timeout = seconds(BODY_READ_VAR, defaults.body_read_timeout)?;
        let max_connections = match var(MAX_CONNECTIONS_VAR) {
            None => defaults.max_connections,
            Some(value) => {
                parse_in(&value, 1..=MAX_MAX_CONNECTIONS).ok_or_else(|| StartError::Limit {
                    name: MAX_CONNECTIONS_VAR,
                    value,
                    expected: format!("a whole number from 1 to {MAX_MAX_CONNECTIONS}, e.g. 512"),
                })?
            }
        };
        Ok(Self {
            header_read_timeout,
            idle_timeout,
            max_connections,
            body_read_timeout,
        })
    }
}

fn parse_in<N: std::str::FromStr + PartialOrd>(
    value: &str,
    range: std::ops::RangeInclusive<N>,
) -> Option<N> {
    value.trim().parse().ok().filter(|n| range.contains(n))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<ServeLimits, String> {
        ServeLimits::from_vars(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
        .map_err(|e| e.to_string())
    }

    #[test]
    fn unset_means_the_defaults() {
        let limits = read(&[]).unwrap();
        assert_eq!(limits, ServeLimits::default());
        assert_eq!(limits.header_read_timeout, Duration::from_secs(30));
        assert_eq!(limits.idle_timeout, Duration::from_secs(60));
        assert_eq!(limits.max_connections, 512);
        assert_eq!(limits.body_read_timeout, Duration::from_secs(30));
    }

    #[test]
    fn values_are_read() {
        let limits = read(&[
            (HEADER_READ_VAR, "1"),
            (IDLE_VAR, " 2 "),
            (MAX_CONNECTIONS_VAR, "3"),
            (BODY_READ_VAR, "4"),
        ])
        .unwrap();
        assert_eq!(limits.body_read_timeout, Duration::from_secs(4));
        assert_eq!(limits.header_read_timeout, Duration::from_secs(1));
        assert_eq!(limits.idle_timeout, Duration::from_secs(2));
        assert_eq!(limits.max_connections, 3);
    }

    #[test]
    fn zero_empty_and_garbage_name_the_variable() {
        for name in [
            HEADER_READ_VAR,
            IDLE_VAR,
            MAX_CONNECTIONS_VAR,
            BODY_READ_VAR,
        ] {
            for value in ["0", "", "-1", "1.5", "ten", "3601s", "99999999999999999999"] {
                let err = read(&[(name, value)]).unwrap_err();
                assert!(err.starts_with(&format!("{name} is not usable")), "{err}");
                assert!(!err.contains('\n'), "{err}");
            }
        }
        assert!(read(&[(HEADER_READ_VAR, "3601")]).is_err());
        assert!(read(&[(MAX_CONNECTIONS_VAR, "1000001")]).is_err());
    }
}
