//! The in-process per-device limiter: `governor`'s GCRA, keyed by the
//! token's device id.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use governor::clock::{Clock as _, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use super::DeviceKey;

/// Forgotten devices are swept every this many checks: cheap, and no
/// background task to manage.
const SWEEP_EVERY: u32 = 4096;

/// `n` requests per minute per device, with bursts of up to `n`.
pub(crate) struct DeviceLimiter {
    limiter: RateLimiter<DeviceKey, DefaultKeyedStateStore<DeviceKey>, DefaultClock>,
    checks: AtomicU32,
}

impl DeviceLimiter {
    pub(crate) fn per_minute(n: NonZeroU32) -> Self {
        Self {
            limiter: RateLimiter::keyed(Quota::per_minute(n)),
            checks: AtomicU32::new(0),
        }
    }

    /// `Ok` when `device` may send a request now, else how long to wait.
    pub(crate) fn check(&self, device: DeviceKey) -> Result<(), Duration> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            // Devices whose budget is full again hold no information.
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
        self.limiter
            .check_key(&device)
            .map_err(|not_until| not_until.wait_time_from(self.limiter.clock().now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::log::DeviceHash;

    #[test]
    fn each_device_has_its_own_budget_and_anonymous_ones_share_one() {
        let limiter = DeviceLimiter::per_minute(NonZeroU32::new(2).unwrap_or(NonZeroU32::MIN));
        let a = Some(DeviceHash::of("device-a"));
        let b = Some(DeviceHash::of("device-b"));
        assert!(limiter.check(a).is_ok());
        assert!(limiter.check(a).is_ok());
        let wait = limiter.check(a).err();
        // Two per minute: the next cell is at most 30 s away.
        assert!(
            wait.is_some_and(|w| w <= Duration::from_secs(30)),
            "{wait:?}"
        );
        assert!(limiter.check(b).is_ok());
        assert!(limiter.check(None).is_ok());
        assert!(limiter.check(None).is_ok());
        assert!(limiter.check(None).is_err());
    }
}
