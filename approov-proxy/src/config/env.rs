//! Reading values out of environment variables: numbers in a range,
//! timeouts, rate limits, flags and addresses, each refused with the name
//! of the variable (or file entry) and what it must be.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use crate::error::{ProxyConfigError, StartError};

/// The longest route timeout accepted: a day. Anything longer is a typo.
const MAX_TIMEOUT_SECONDS: u64 = 24 * 3600;

/// A whole number of seconds from 1 to a day, or `None` when unset.
pub(crate) fn timeout_from(
    value: Option<String>,
    setting: &str,
) -> Result<Option<Duration>, ProxyConfigError> {
    let Some(value) = value else { return Ok(None) };
    match value.trim().parse::<u64>() {
        Ok(seconds @ 1..=MAX_TIMEOUT_SECONDS) => Ok(Some(Duration::from_secs(seconds))),
        _ => Err(ProxyConfigError::invalid(
            setting,
            format!(
                "it must be a whole number of seconds from 1 to {MAX_TIMEOUT_SECONDS}, e.g. 30"
            ),
        )),
    }
}

/// Requests per minute, at least 1, or `None` when unset.
pub(crate) fn rate_limit_from(
    value: Option<String>,
    setting: &str,
) -> Result<Option<NonZeroU32>, ProxyConfigError> {
    let Some(value) = value else { return Ok(None) };
    value.trim().parse::<NonZeroU32>().map(Some).map_err(|_| {
        ProxyConfigError::invalid(
            setting,
            "it must be a whole number of requests per minute, at least 1 (leave it \
             unset for no limit)",
        )
    })
}

/// `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`, in any case.
pub(crate) fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// The number in `name`, `default` when unset; a value outside `range`
/// (blank included) is refused, saying it must be a whole number of
/// `expected`.
pub(crate) fn number<N: std::str::FromStr + PartialOrd + Copy>(
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

/// An `<ip>:<port>`.
pub(crate) fn parse_addr(name: &'static str, value: String) -> Result<SocketAddr, StartError> {
    value
        .trim()
        .parse()
        .map_err(|_| StartError::Addr { name, value })
}
