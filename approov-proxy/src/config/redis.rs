//! The Redis the per-device limit is shared through: `REDIS_URL` (or
//! `redis_url` in the routes file), `REDIS_TIMEOUT_MS` and
//! `REDIS_UNAVAILABLE`.

use std::time::Duration;

use crate::error::ProxyConfigError;
use crate::limit::shared::{RedisConfig, WhenUnavailable};

/// How long one decision may wait for Redis when `REDIS_TIMEOUT_MS` is
/// unset: a request pays at most this much when Redis stops answering.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_millis(100);
/// The longest `REDIS_TIMEOUT_MS` accepted.
const MAX_TIMEOUT_MS: u64 = 10_000;

impl RedisConfig {
    /// Reads `REDIS_URL`, `REDIS_TIMEOUT_MS` and `REDIS_UNAVAILABLE`;
    /// `file_url` is the routes file's `redis_url` with the file's path.
    /// Both URLs set is a conflict; the other two without a URL are refused
    /// as a likely mistake.
    pub(crate) fn from_vars(
        var: &impl Fn(&str) -> Option<String>,
        file_url: Option<(String, &str)>,
    ) -> Result<Option<Self>, ProxyConfigError> {
        let (url, setting) = match (var("REDIS_URL"), file_url) {
            (Some(_), Some((_, path))) => {
                return Err(ProxyConfigError::conflict(
                    "REDIS_URL",
                    format!("redis_url in {path}"),
                    "name the Redis in one place: keep one of them",
                ));
            }
            (Some(url), None) => (url, "REDIS_URL".to_owned()),
            (None, Some((url, path))) => (url, format!("redis_url in {path}")),
            (None, None) => {
                for name in ["REDIS_TIMEOUT_MS", "REDIS_UNAVAILABLE"] {
                    if var(name).is_some() {
                        return Err(ProxyConfigError::invalid(
                            name,
                            "it applies only to a shared rate limit: set REDIS_URL \
                             (or redis_url in the routes file), or unset it",
                        ));
                    }
                }
                return Ok(None);
            }
        };
        let client = redis::Client::open(url.trim())
            .ok()
            // TLS (rediss://) needs a feature this build leaves out; the
            // client only fails on it when connecting.
            .filter(|c| {
                !matches!(
                    c.get_connection_info().addr(),
                    redis::ConnectionAddr::TcpTls { .. }
                )
            })
            .ok_or_else(|| {
                // Never the value: it may hold a password.
                ProxyConfigError::invalid(
                    &setting,
                    "it must be a URL like redis://[user:password@]host[:port][/db] or \
                     unix:///path/to/redis.sock (rediss:// is not supported)",
                )
            })?;
        let timeout = match var("REDIS_TIMEOUT_MS") {
            None => DEFAULT_TIMEOUT,
            Some(v) => match v.trim().parse::<u64>() {
                Ok(ms @ 1..=MAX_TIMEOUT_MS) => Duration::from_millis(ms),
                _ => {
                    return Err(ProxyConfigError::invalid(
                        "REDIS_TIMEOUT_MS",
                        format!(
                            "it must be a whole number of milliseconds from 1 to \
                             {MAX_TIMEOUT_MS}, e.g. 100"
                        ),
                    ));
                }
            },
        };
        let when_unavailable = match var("REDIS_UNAVAILABLE") {
            None => WhenUnavailable::Local,
            Some(v) if v.trim().eq_ignore_ascii_case("local") => WhenUnavailable::Local,
            Some(v) if v.trim().eq_ignore_ascii_case("refuse") => WhenUnavailable::Refuse,
            Some(_) => {
                return Err(ProxyConfigError::invalid(
                    "REDIS_UNAVAILABLE",
                    "it must be local (each proxy limits on its own while Redis is \
                     unavailable) or refuse (answer 503)",
                ));
            }
        };
        Ok(Some(Self {
            client,
            timeout,
            when_unavailable,
        }))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn read(vars: &[(&str, &str)], file: Option<&str>) -> Result<Option<RedisConfig>, String> {
        let var = |name: &str| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        };
        RedisConfig::from_vars(&var, file.map(|url| (url.to_owned(), "f.toml")))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn settings_are_read() {
        assert!(read(&[], None).unwrap().is_none());
        let c = read(&[("REDIS_URL", "redis://:s3cret@127.0.0.1:6390/2")], None)
            .unwrap()
            .unwrap();
        assert_eq!(c.timeout, DEFAULT_TIMEOUT);
        assert_eq!(c.when_unavailable, WhenUnavailable::Local);
        let debug = format!("{c:?}");
        assert!(debug.contains("127.0.0.1:6390"), "{debug}");
        assert!(!debug.contains("s3cret"), "{debug}");
        let c = read(
            &[
                ("REDIS_TIMEOUT_MS", "250"),
                ("REDIS_UNAVAILABLE", " Refuse "),
            ],
            Some("redis://127.0.0.1"),
        )
        .unwrap()
        .unwrap();
        assert_eq!(c.timeout, Duration::from_millis(250));
        assert_eq!(c.when_unavailable, WhenUnavailable::Refuse);
    }

    #[test]
    fn bad_settings_name_the_setting_and_never_the_url() {
        for url in [
            "http://:s3cret@example.com",
            "redis://:s3cret@[::1",
            "s3cret",
            "rediss://:s3cret@example.com",
        ] {
            let err = read(&[("REDIS_URL", url)], None).unwrap_err();
            assert!(err.starts_with("REDIS_URL is not usable"), "{err}");
            assert!(!err.contains("s3cret"), "{err}");
            let err = read(&[], Some(url)).unwrap_err();
            assert!(
                err.starts_with("redis_url in f.toml is not usable"),
                "{err}"
            );
            assert!(!err.contains("s3cret"), "{err}");
        }
        let err = read(&[("REDIS_URL", "redis://a")], Some("redis://b")).unwrap_err();
        assert!(
            err.starts_with("REDIS_URL and redis_url in f.toml are both set"),
            "{err}"
        );
        for (name, value) in [
            ("REDIS_TIMEOUT_MS", "0"),
            ("REDIS_TIMEOUT_MS", "10001"),
            ("REDIS_TIMEOUT_MS", "fast"),
            ("REDIS_UNAVAILABLE", "ignore"),
        ] {
            let err = read(&[("REDIS_URL", "redis://127.0.0.1"), (name, value)], None).unwrap_err();
            assert!(err.starts_with(&format!("{name} is not usable")), "{err}");
            let err = read(&[(name, "100")], None).unwrap_err();
            assert!(err.starts_with(&format!("{name} is not usable")), "{err}");
            assert!(err.contains("REDIS_URL"), "{err}");
        }
    }
}
