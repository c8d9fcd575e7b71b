//! The per-device rate limit, keyed by the token's device id so one
//! compromised device cannot drain the upstream quota: in process
//! ([`local`], `governor`'s GCRA), or shared by every replica through
//! Redis ([`shared`], with its bounded connections in [`link`]) when
//! `REDIS_URL` (one Redis) or `REDIS_CLUSTER_URLS` (a Redis Cluster) is
//! set, over TLS with `rediss://`, falling back to the local one (or
//! `503`) while Redis does not answer. On routes of 240 requests a minute
//! or more a replica leases slices of a device's budget ([`lease`]): a busy device
//! costs one Redis call per many requests, and the replicas together still
//! never allow more than `n` in a burst and one every `60/n` s after it.

mod lease;
mod link;
pub(crate) mod local;
pub(crate) mod shared;

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::response::Response;

use crate::proxy::reply;
use crate::telemetry::log::DeviceHash;
use crate::telemetry::metrics;
use local::DeviceLimiter;
use shared::{SharedLimit, WhenUnavailable};

/// Whose budget a request draws on: a device (by the hash of its `did`), or
/// the one budget shared by every request without a device id (tokens
/// without `did`, and bad tokens let through in report-only mode), so that
/// leaving out `did` is not a way around the limit.
pub(crate) type DeviceKey = Option<DeviceHash>;

/// The limit of one route (or of the forward-auth endpoint): `n` requests
/// per minute per device, under the route's name.
pub(crate) struct RouteLimit {
    /// The name keying the shared budget, and the `route` label.
    name: Arc<str>,
    n: NonZeroU32,
    local: DeviceLimiter,
    /// The limit shared through Redis (`REDIS_URL`), when configured.
    shared: Option<Arc<SharedLimit>>,
}

impl RouteLimit {
    pub(crate) fn new(name: Arc<str>, n: NonZeroU32, shared: Option<Arc<SharedLimit>>) -> Self {
        Self {
            name,
            n,
            local: DeviceLimiter::per_minute(n),
            shared,
        }
    }

    /// Whether the limit is shared through Redis.
    pub(crate) fn is_shared(&self) -> bool {
        self.shared.is_some()
    }

    /// The limit for `device`: `None` to go on, or the answer (`429`, or
    /// `503` when Redis is unavailable in refuse mode).
    pub(crate) async fn check(&self, device: DeviceKey) -> Option<Response> {
        check_limit(
            &self.name,
            self.n,
            &self.local,
            self.shared.as_deref(),
            device,
        )
        .await
    }
}

/// The rate limit of `n` per minute on `route` (the name keying the shared
/// budget) for `device`, shared through Redis when `shared` is given,
/// else `local`: `None` to go on, or the answer.
pub(crate) async fn check_limit(
    route: &str,
    n: NonZeroU32,
    local: &DeviceLimiter,
    shared: Option<&SharedLimit>,
    device: DeviceKey,
) -> Option<Response> {
    let verdict = match shared {
        None => local.check(device),
        Some(shared) => match shared.decide(route, device, n).await {
            Some(verdict) => verdict,
            None => {
                metrics::redis_fallback(route);
                match shared.config.when_unavailable {
                    WhenUnavailable::Local => local.check(device),
                    WhenUnavailable::Refuse => return Some(reply::rate_limit_unavailable()),
                }
            }
        },
    };
    verdict.err().map(|wait| {
        metrics::rate_limited(route);
        reply::rate_limited(retry_after_seconds(wait))
    })
}

/// `Retry-After` in whole seconds, rounded up and at least 1.
fn retry_after_seconds(wait: Duration) -> u64 {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    seconds.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_seconds(Duration::ZERO), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(29_001)), 30);
        assert_eq!(retry_after_seconds(Duration::from_secs(30)), 30);
    }
}
