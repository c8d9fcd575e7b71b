//! Where the verifier reads the time, so tests can set it exactly.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of the current time.
///
/// The default is [`SystemClock`]. Tests use [`ManualClock`] to put the
/// verifier at any instant, so no time rule ever needs a sleep.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The operating system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that only moves when told to; clones share the same time.
///
/// ```
/// use approov_core::ManualClock;
/// use std::time::Duration;
///
/// let clock = ManualClock::at_unix(1_700_000_000);
/// clock.advance(Duration::from_secs(60));
/// assert_eq!(clock.unix_seconds(), 1_700_000_060.0);
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<SystemTime>>);

impl ManualClock {
    /// A clock stopped at `time`.
    pub fn new(time: SystemTime) -> Self {
        Self(Arc::new(Mutex::new(time)))
    }

    /// A clock stopped at `seconds` after the Unix epoch.
    pub fn at_unix(seconds: u64) -> Self {
        Self::new(UNIX_EPOCH + Duration::from_secs(seconds))
    }

    /// Moves the clock to `time`.
    pub fn set(&self, time: SystemTime) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = time;
    }

    /// Moves the clock to `seconds` (fractional allowed) after the Unix epoch.
    pub fn set_unix(&self, seconds: f64) {
        self.set(UNIX_EPOCH + Duration::from_secs_f64(seconds));
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut time = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        *time += by;
    }

    /// The clock's time as seconds after the Unix epoch.
    pub fn unix_seconds(&self) -> f64 {
        unix_seconds(self.now())
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Seconds since the Unix epoch as a JWT NumericDate (negative before it).
pub(crate) fn unix_seconds(time: SystemTime) -> f64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => after.as_secs_f64(),
        Err(before) => -before.duration().as_secs_f64(),
    }
}
