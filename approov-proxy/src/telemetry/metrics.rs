//! The proxy's own series, recorded through the [`metrics`] facade beside
//! those of [`approov_core::metrics`] (outcomes, rejection kinds, token
//! cache), and exported at `GET /metrics` when `METRICS_ADDR` is set.
//!
//! | series | type | labels | counts |
//! |---|---|---|---|
//! | [`REQUESTS`] | counter | `route`, `status` | every request answered, by route name (`-` when none matched) and status code (`other` for a code outside the registry, see [`status_label`]) |
//! | [`RATE_LIMITED`] | counter | `route` | requests refused `429` by the per-device limit |
//! | [`UPSTREAM_SECONDS`] | histogram | `route` | time from sending to the upstream to its response head, for requests it answered |
//! | [`REDIS_FALLBACKS`] | counter | `route` | rate-limit decisions made without Redis (`REDIS_URL`) because it did not answer in time: by the in-process limit, or refused `503` |
//! | [`REDIS_CALLS`] | counter | `route` | rate-limit calls to Redis: each decides one request or leases a slice of a device's budget for the next ones |
//! | [`REDIS_UP`] | gauge | | `1` while the rate limit is shared through Redis, `0` while the proxy falls back; absent without `REDIS_URL` |
//!
//! Label values are route names from the configuration and registered
//! status codes: never a path, a token, a device id or a key, and never a
//! value the upstream can pick from hundreds, so the number of series
//! stays bounded whatever the upstream answers.
//!
//! ```
//! approov_proxy::metrics::describe(); // without a recorder: does nothing
//! assert_eq!(approov_proxy::metrics::REQUESTS, "approov_proxy_requests_total");
//! ```

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Set once the exporter is installed: until then nothing is recorded, so
/// the proxy without `METRICS_ADDR` builds no labels per request.
static ON: AtomicBool = AtomicBool::new(false);

pub(crate) fn enable() {
    ON.store(true, Ordering::Relaxed);
}

/// Whether the exporter is installed (`METRICS_ADDR`).
pub(crate) fn on() -> bool {
    ON.load(Ordering::Relaxed)
}

/// `approov_proxy_requests_total{route, status}`.
pub const REQUESTS: &str = "approov_proxy_requests_total";
/// `approov_proxy_rate_limited_total{route}`.
pub const RATE_LIMITED: &str = "approov_proxy_rate_limited_total";
/// `approov_proxy_upstream_duration_seconds{route}`.
pub const UPSTREAM_SECONDS: &str = "approov_proxy_upstream_duration_seconds";

/// `approov_proxy_redis_fallbacks_total{route}`.
pub const REDIS_FALLBACKS: &str = "approov_proxy_redis_fallbacks_total";
/// `approov_proxy_redis_calls_total{route}`.
pub const REDIS_CALLS: &str = "approov_proxy_redis_calls_total";
/// `approov_proxy_redis_up`.
pub const REDIS_UP: &str = "approov_proxy_redis_up";

/// The histogram buckets of [`UPSTREAM_SECONDS`], in seconds: from a
/// loopback upstream to one at the edge of the default 30 s timeout.
pub const UPSTREAM_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Gives every series its help text. Call it once, after installing the
/// recorder; the series work without it.
pub fn describe() {
    metrics::describe_counter!(
        REQUESTS,
        "Requests answered by the proxy, by route and status code"
    );
    metrics::describe_counter!(
        RATE_LIMITED,
        "Requests refused 429 by the per-device rate limit, by route"
    );
    metrics::describe_histogram!(
        UPSTREAM_SECONDS,
        metrics::Unit::Seconds,
        "Time from sending a request upstream to its response head, by route"
    );
    metrics::describe_counter!(
        REDIS_FALLBACKS,
        "Rate-limit decisions made without Redis because it did not answer in time, by route"
    );
    metrics::describe_counter!(
        REDIS_CALLS,
        "Rate-limit calls to Redis, each deciding a request or leasing a slice of a device's budget, by route"
    );
    metrics::describe_gauge!(
        REDIS_UP,
        "1 while the per-device rate limit is shared through Redis, 0 while falling back"
    );
}

/// The `status` label of [`REQUESTS`] for `status`: the code itself when
/// it is in the IANA registry (62 codes, every one the proxy answers with
/// among them), else `other`. The upstream chooses its status: one that
/// answers `299`, `599` or `999` must not add a series per code.
///
/// ```
/// use approov_proxy::metrics::status_label;
/// assert_eq!(status_label(200), "200");
/// assert_eq!(status_label(429), "429");
/// assert_eq!(status_label(299), "other");
/// assert_eq!(status_label(999), "other");
/// ```
#[must_use]
pub fn status_label(status: u16) -> &'static str {
    // A `&'static str` per code: no text is formatted per request.
    macro_rules! registered {
        ($($code:literal)*) => {
            match status {
                $($code => stringify!($code),)*
                _ => "other",
            }
        };
    }
    registered!(
        100 101 102 103
        200 201 202 203 204 205 206 207 208 226
        300 301 302 303 304 305 307 308
        400 401 402 403 404 405 406 407 408 409 410 411 412 413 414 415 416 417 418
        421 422 423 424 425 426 428 429 431 451
        500 501 502 503 504 505 506 507 508 510 511
    )
}

/// Counts an answered request.
pub(crate) fn request(route: &str, status: u16) {
    if !on() {
        return;
    }
    metrics::counter!(REQUESTS, "route" => route.to_owned(), "status" => status_label(status))
        .increment(1);
}

/// Counts a `429`.
pub(crate) fn rate_limited(route: &str) {
    if !on() {
        return;
    }
    metrics::counter!(RATE_LIMITED, "route" => route.to_owned()).increment(1);
}

/// Records how long the upstream took to its response head.
pub(crate) fn upstream(route: &str, took: Duration) {
    if !on() {
        return;
    }
    metrics::histogram!(UPSTREAM_SECONDS, "route" => route.to_owned()).record(took.as_secs_f64());
}

/// Counts a rate-limit decision made without Redis.
pub(crate) fn redis_fallback(route: &str) {
    if !on() {
        return;
    }
    metrics::counter!(REDIS_FALLBACKS, "route" => route.to_owned()).increment(1);
}

/// Counts a rate-limit call to Redis.
pub(crate) fn redis_call(route: &str) {
    if !on() {
        return;
    }
    metrics::counter!(REDIS_CALLS, "route" => route.to_owned()).increment(1);
}

/// Whether the last attempt to reach Redis succeeded.
pub(crate) fn redis_up(up: bool) {
    if !on() {
        return;
    }
    metrics::gauge!(REDIS_UP).set(if up { 1.0 } else { 0.0 });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table holds exactly the codes `http` knows a reason for.
    #[test]
    fn status_labels_are_the_registered_codes_and_other() {
        for status in 0..=1000u16 {
            let registered = http::StatusCode::from_u16(status)
                .is_ok_and(|code| code.canonical_reason().is_some());
            let want = if registered {
                status.to_string()
            } else {
                "other".to_owned()
            };
            assert_eq!(status_label(status), want, "{status}");
        }
    }
}
