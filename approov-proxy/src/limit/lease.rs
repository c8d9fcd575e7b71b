//! Leased slices of a device's shared budget: a replica takes several
//! requests' worth of a device's budget from Redis in one script call and
//! spends them without asking again, so a busy device costs one round trip
//! per many requests instead of one per request.
//!
//! # The algorithm
//! Redis keeps GCRA state per route and device, as before: the theoretical
//! arrival time (TAT) in microseconds of the Redis server's clock, with
//! interval `T = 60 s / n`. [`SCRIPT`] grants `k = min(want, cells
//! conformant now)` cells at once, moving the TAT by `k·T`: exactly `k`
//! GCRA admissions at the moment of the call. The replica spends them
//! within [`LEASE_LIFE`], counted from before it asked (so never later than
//! `LEASE_LIFE` after Redis granted them); what is left when the lease
//! ends is given back with its next call when that is safe (below).
//!
//! # What holds (the error bound)
//! Spending a granted cell up to `D = LEASE_LIFE` later than Redis's grant
//! would let `D/T` more requests into some windows than GCRA allows (a
//! full burst spent at the end of its lease, then another full burst `n·T`
//! after the grant). So on a leasing route Redis runs GCRA with the burst
//! reduced by the slack `s = ⌈(D + 1 ms)/T⌉` cells, for every call on that
//! route (one request or a slice alike: the slack must be the same for all
//! of a key's grants). Then, for any window of length `w`, the requests
//! allowed across all replicas are at most
//! `(n − s) + (w + D)/T ≤ n + w/T`: never more than the in-process limit
//! allows one device (`n` in a burst, then one every `T`). No
//! over-admission, by construction.
//!
//! What a device may lose against a single in-process limiter:
//! - the last `s` cells of a full burst: `s ≈ n·0.251/60`, 0.42 % of `n`
//!   (6000/min: 26 of 6000); the sustained rate is exact;
//! - cells leased but not spent when a lease ends. The device's next call
//!   on the same replica gives them back, moving the TAT back by as many
//!   cells, but only if the key still holds the TAT that lease left:
//!   then nothing was granted on it since and the result is exactly what
//!   a smaller lease would have left. Moving it back otherwise, even never
//!   below "now", would hand out cells already spent (lease 26 at 0 ms;
//!   the budget refills at 300 ms; another replica leases 26; a return of
//!   25 would let it spend them twice). Unspent cells not given back
//!   (another replica asked in between, or the device never came back)
//!   count as spent: they refill at the limit's rate like any other. A
//!   replica holds one slice per device, at most [`Plan::cap`] (= `s`)
//!   cells, so a device that alternates between bursts and pauses across
//!   replicas can lose up to `s` per replica per pause within the minute
//!   its budget takes to refill; a device far from its limit loses
//!   nothing (its bucket refills to full anyway).
//!
//! Routes whose limit leaves a slack below 2 cells (under 240 requests per
//! minute with these constants) do not lease: one call per request with the
//! full burst `n`, exactly as without leases.
//!
//! # Slice size
//! The first lease of a device is one cell. The next is sized from the
//! device's rate on this replica over its last lease (`rate × LEASE_LIFE`),
//! at most twice the last slice and at most [`Plan::cap`]: a device at a few
//! requests a second keeps asking per request, one at thousands asks a few
//! times a second.
//!
//! # Single flight, refusals, memory
//! Requests of one device that find no cell while a lease is being asked
//! for wait for that one call (within `REDIS_TIMEOUT_MS` in all), not one
//! call each. A refusal is kept until the moment Redis named for the next
//! cell (at most [`REFUSAL_RECHECK`]): a flooding device costs one call per
//! recheck per replica, and no request Redis would allow is refused, as the
//! wait is counted from before the call. Cells held locally may be spent
//! while Redis is down: they are within the budget.
//!
//! The table of devices holds at most [`MAX_DEVICES`] entries; finished
//! ones (lease over, no refusal, no call in flight) are swept when it is
//! full, at most every [`SWEEP_GAP`]. A device that finds it full is
//! decided by one call per request, unleased: many device ids cannot grow
//! the table, and cost Redis what they cost before leases.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::DeviceKey;

/// How long leased cells may be spent after the replica asked for them.
pub(super) const LEASE_LIFE: Duration = Duration::from_millis(250);
/// Added to [`LEASE_LIFE`] in the slack, for the replica's and Redis's
/// clocks running at slightly different rates.
const CLOCK_MARGIN: Duration = Duration::from_millis(1);
/// A refusal is asked again at most this long after Redis gave it.
pub(super) const REFUSAL_RECHECK: Duration = Duration::from_secs(1);
/// The most devices (route and device id) the table keeps.
pub(super) const MAX_DEVICES: usize = 65_536;
/// A full table is swept at most this often.
pub(super) const SWEEP_GAP: Duration = Duration::from_millis(100);
/// The longest wait a refusal may name: GCRA at `n` a minute never makes a
/// device wait more than one interval, at most a minute. A longer answer is
/// a broken Redis's, and is cut to this.
pub(super) const MAX_WAIT: Duration = Duration::from_secs(60);
/// Every key starts with this; the rest, `{route:device}`, is a Redis
/// Cluster hash tag, so a decision touches one slot.
const KEY_PREFIX: &str = "approov-proxy:rate:";

/// GCRA leasing up to `want` cells: `interval` µs per cell, `burst` cells
/// at most. Times are microseconds of the Redis server's clock, so
/// replicas need not agree on theirs. The key holds the theoretical arrival
/// time (TAT) of the next cell and expires when the budget is full again.
/// First, `back` unspent cells of this replica's last lease are given back
/// if the key still holds `back_tat`, the TAT that lease left: then nothing
/// was granted on the key since (every grant moves it forward, and a new
/// life of the key starts past it), and the TAT is exactly what a lease of
/// that many fewer cells would have left. Returns `{k, 0, tat}` with
/// `k ≥ 1` cells granted and the TAT after them, or `{0, wait_us, 0}`
/// until the next one.
pub(super) const SCRIPT: &str = r"
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local back_tat = tonumber(ARGV[4])
local back = tonumber(ARGV[5])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local stored = tonumber(redis.call('GET', KEYS[1]))
local tat = stored or now
if back > 0 and stored == back_tat then tat = tat - back * interval end
if tat < now then tat = now end
local free = math.floor((now + burst * interval - tat) / interval)
if free < 1 then
  if tat ~= stored then
    redis.call('SET', KEYS[1], string.format('%d', tat),
      'PX', string.format('%d', math.ceil((tat - now) / 1000)))
  end
  return {0, tat + interval - burst * interval - now, 0}
end
local k = math.min(want, free)
local next_tat = tat + k * interval
redis.call('SET', KEYS[1], string.format('%d', next_tat),
  'PX', string.format('%d', math.ceil((next_tat - now) / 1000)))
return {k, 0, next_tat}
";

/// The Redis key of `device` on `route`:
/// `approov-proxy:rate:{<route>:<SHA-256 of the did, hex, or ->}`.
pub(super) fn key(route: &str, device: DeviceKey) -> String {
    match device {
        Some(hash) => format!("{KEY_PREFIX}{{{route}:{hash:x}}}"),
        None => format!("{KEY_PREFIX}{{{route}:-}}"),
    }
}

/// How a route of `n` requests per minute asks Redis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Plan {
    /// Microseconds per cell (`60 s / n`, at least 1).
    pub(super) interval_us: u64,
    /// The burst Redis allows: `n`, less the slack on leasing routes.
    pub(super) burst: u64,
    /// The largest slice: 1 on routes that do not lease.
    pub(super) cap: u64,
}

impl Plan {
    pub(super) fn of(n: NonZeroU32) -> Self {
        let n = u64::from(n.get());
        let interval_us = (60_000_000 / n).max(1);
        let slack_us = u64::try_from((LEASE_LIFE + CLOCK_MARGIN).as_micros()).unwrap_or(u64::MAX);
        let slack = slack_us.div_ceil(interval_us);
        if slack >= 2 && slack < n {
            Self {
                interval_us,
                burst: n - slack,
                cap: slack,
            }
        } else {
            Self {
                interval_us,
                burst: n,
                cap: 1,
            }
        }
    }

    fn leases(self) -> bool {
        self.cap > 1
    }
}

/// What a request does next.
#[derive(Debug)]
pub(super) enum Take {
    /// It spent a cell held here: go on.
    Spent,
    /// Redis refused this device lately: not before this long.
    Refused(Duration),
    /// A call for this device is in flight: wait until it ends (the
    /// receiver's `changed` fails then), and take again.
    Wait(watch::Receiver<()>),
    /// Ask Redis with this ticket.
    Ask(Ticket),
    /// Nothing held here, and Redis is not to be asked now.
    Unavailable,
}

/// A call to Redis about to be made: how many cells to ask for, and when.
/// Dropping it (the answer came, or the request was dropped) wakes the
/// device's waiting requests.
#[derive(Debug)]
pub(super) struct Ticket {
    pub(super) want: u64,
    /// The TAT the last lease left and its unspent cells, given back
    /// (`0, 0`: none).
    pub(super) back_tat: i64,
    pub(super) back: u64,
    asked: Instant,
    /// Held while the call is in flight.
    flight: Option<watch::Sender<()>>,
}

/// One device on one route.
#[derive(Debug)]
struct Entry {
    /// Cells left of the current lease.
    left: u64,
    /// When the current lease was asked for: it ends [`LEASE_LIFE`] later.
    asked: Instant,
    /// The cells it brought.
    got: u64,
    /// The TAT Redis left after granting them (0: unknown).
    tat: i64,
    /// Refused: asked again after the first instant, allowed after the
    /// second.
    refused: Option<(Instant, Instant)>,
    /// The call in flight, if any.
    flight: Option<watch::Receiver<()>>,
}

impl Entry {
    fn in_flight(&self) -> Option<&watch::Receiver<()>> {
        // `has_changed` fails once the ticket's sender is gone.
        self.flight.as_ref().filter(|rx| rx.has_changed().is_ok())
    }

    /// Nothing here is worth keeping: no cells, no refusal, no call.
    fn finished(&self, now: Instant) -> bool {
        self.in_flight().is_none()
            && (self.left == 0 || now >= self.asked + LEASE_LIFE)
            && self.refused.is_none_or(|(recheck, _)| now >= recheck)
    }
}

/// The table of devices, per route.
#[derive(Debug, Default)]
struct Table {
    routes: HashMap<Box<str>, HashMap<DeviceKey, Entry>>,
    len: usize,
    next_sweep: Option<Instant>,
}

impl Table {
    fn get(&mut self, route: &str, device: DeviceKey) -> Option<&mut Entry> {
        self.routes.get_mut(route)?.get_mut(&device)
    }

    /// The entry of `device`, made when there is room (after a sweep, at
    /// most every [`SWEEP_GAP`]).
    fn get_or_insert(
        &mut self,
        route: &str,
        device: DeviceKey,
        now: Instant,
    ) -> Option<&mut Entry> {
        let known = self
            .routes
            .get(route)
            .is_some_and(|devices| devices.contains_key(&device));
        if !known {
            if self.len >= MAX_DEVICES {
                self.sweep(now);
            }
            if self.len >= MAX_DEVICES {
                return None;
            }
            self.len += 1;
            self.routes
                .entry(route.into())
                .or_default()
                .insert(device, Entry::new(now));
        }
        self.get(route, device)
    }

    fn sweep(&mut self, now: Instant) {
        if self.next_sweep.is_some_and(|at| now < at) {
            return;
        }
        self.next_sweep = Some(now + SWEEP_GAP);
        for devices in self.routes.values_mut() {
            devices.retain(|_, entry| !entry.finished(now));
            devices.shrink_to_fit();
        }
        self.routes.retain(|_, devices| !devices.is_empty());
        self.len = self.routes.values().map(HashMap::len).sum();
    }
}

impl Entry {
    fn new(now: Instant) -> Self {
        Self {
            left: 0,
            asked: now,
            got: 0,
            tat: 0,
            refused: None,
            flight: None,
        }
    }

    /// The next slice: the device's rate over its last lease times
    /// [`LEASE_LIFE`], at least 1, at most twice the last slice and the cap.
    fn want(&self, plan: Plan, now: Instant) -> u64 {
        if !plan.leases() || self.got == 0 {
            return 1;
        }
        let used = u128::from(self.got - self.left.min(self.got));
        let elapsed = now.saturating_duration_since(self.asked).as_micros().max(1);
        let life = LEASE_LIFE.as_micros();
        let by_rate = u64::try_from((used * life).div_ceil(elapsed)).unwrap_or(u64::MAX);
        by_rate.clamp(1, plan.cap.min(self.got.saturating_mul(2)))
    }
}

/// The leases of every device on every route of one proxy.
#[derive(Debug, Default)]
pub(super) struct Leases {
    table: Mutex<Table>,
}

impl Leases {
    /// What a request of `device` on `route` does at `now`; `may_ask`
    /// says false while Redis is left alone after a failure, and is
    /// called only when the request would ask (so a cell spent here costs
    /// no key and no slot computed).
    pub(super) fn take(
        &self,
        route: &str,
        device: DeviceKey,
        plan: Plan,
        now: Instant,
        may_ask: impl FnOnce() -> bool,
    ) -> Take {
        let mut table = self.table.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = if plan.leases() {
            table.get_or_insert(route, device, now)
        } else {
            // Unleased routes keep refusals only.
            table.get(route, device)
        };
        let Some(entry) = entry else {
            if !may_ask() {
                return Take::Unavailable;
            }
            return Take::Ask(Ticket {
                want: 1,
                back_tat: 0,
                back: 0,
                asked: now,
                flight: None,
            });
        };
        if let Some(rx) = entry.in_flight() {
            return Take::Wait(rx.clone());
        }
        if let Some((recheck, allowed)) = entry.refused {
            if now < recheck {
                return Take::Refused(allowed.saturating_duration_since(now));
            }
            entry.refused = None;
        }
        if entry.left > 0 && now < entry.asked + LEASE_LIFE {
            entry.left -= 1;
            return Take::Spent;
        }
        if !may_ask() {
            return Take::Unavailable;
        }
        let want = entry.want(plan, now);
        // The lease is over: what it did not spend is dead here, and given
        // back with this call.
        let (back_tat, back) = if entry.tat > 0 {
            (entry.tat, entry.left)
        } else {
            (0, 0)
        };
        entry.left = 0;
        entry.tat = 0;
        let flight = if plan.leases() {
            let (tx, rx) = watch::channel(());
            entry.flight = Some(rx);
            Some(tx)
        } else {
            None
        };
        Take::Ask(Ticket {
            want,
            back_tat,
            back,
            asked: now,
            flight,
        })
    }

    /// Records Redis's answer to `ticket` (`got` cells and the TAT after
    /// them, or none and the wait in µs) and returns the verdict for the
    /// request that asked.
    pub(super) fn answered(
        &self,
        route: &str,
        device: DeviceKey,
        ticket: Ticket,
        got: i64,
        wait_us: i64,
        tat: i64,
    ) -> Result<(), Duration> {
        // More than asked would be a broken Redis: never spend it.
        let got = u64::try_from(got).unwrap_or(0).min(ticket.want);
        let mut table = self.table.lock().unwrap_or_else(PoisonError::into_inner);
        if got > 0 {
            if let Some(entry) = table.get(route, device).filter(|_| ticket.flight.is_some()) {
                entry.left = got - 1;
                entry.asked = ticket.asked;
                entry.got = got;
                entry.tat = tat;
                entry.flight = None;
            }
            return Ok(());
        }
        let wait = Duration::from_micros(u64::try_from(wait_us).unwrap_or(0)).min(MAX_WAIT);
        let refused = (
            ticket.asked + wait.min(REFUSAL_RECHECK),
            ticket.asked + wait,
        );
        if let Some(entry) = table.get_or_insert(route, device, ticket.asked) {
            entry.left = 0;
            entry.refused = Some(refused);
            entry.flight = None;
        }
        Err(wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::log::DeviceHash;

    fn plan(n: u32) -> Plan {
        Plan::of(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))
    }

    fn ticket(take: Take) -> Ticket {
        match take {
            Take::Ask(ticket) => ticket,
            other => panic!("expected a call to Redis, got {other:?}"),
        }
    }

    const ROUTE: &str = "default";

    #[test]
    fn small_limits_do_not_lease_and_keep_their_whole_burst() {
        for n in [1, 3, 10, 60, 64, 120, 239] {
            let p = plan(n);
            assert_eq!(p.cap, 1, "{n}");
            assert_eq!(p.burst, u64::from(n), "{n}");
            assert_eq!(p.interval_us, 60_000_000 / u64::from(n), "{n}");
        }
    }

    #[test]
    fn large_limits_lease_with_the_slack_taken_from_the_burst() {
        // 6000/min: 10 ms a cell, 251 ms of slack is 26 cells.
        assert_eq!(
            plan(6000),
            Plan {
                interval_us: 10_000,
                burst: 5974,
                cap: 26
            }
        );
        assert_eq!(plan(480).cap, 3);
        assert_eq!(plan(480).burst, 477);
        // Beyond a million a minute the interval is 1 µs, as before.
        let huge = plan(4_000_000_000);
        assert_eq!(huge.interval_us, 1);
        assert_eq!(huge.cap, 251_000);
        assert_eq!(huge.burst, 4_000_000_000 - 251_000);
        // The slack covers the lease life: no window sees more than n.
        for n in [240, 478, 600, 6000, 100_000, 4_000_000_000] {
            let p = plan(n);
            assert!(p.cap > 1, "{n}");
            let slack_us = p.cap * p.interval_us;
            assert!(slack_us >= 251_000, "{n}: {slack_us}");
            assert_eq!(p.burst + p.cap, u64::from(n), "{n}");
        }
    }

    #[test]
    fn keys_are_hash_tagged_by_route_and_device() {
        let device = DeviceHash::of("device-a");
        let k = key("orders", Some(device));
        assert!(k.starts_with("approov-proxy:rate:{orders:"), "{k}");
        assert!(k.ends_with('}'), "{k}");
        assert_eq!(k.len(), "approov-proxy:rate:{orders:}".len() + 64);
        assert_eq!(key("orders", None), "approov-proxy:rate:{orders:-}");
    }

    #[test]
    fn slices_start_at_one_and_grow_with_the_rate_up_to_the_cap() {
        let leases = Leases::default();
        let p = plan(6000);
        let device = Some(DeviceHash::of("busy"));
        let t0 = Instant::now();
        let first = ticket(leases.take(ROUTE, device, p, t0, || true));
        assert_eq!(first.want, 1);
        assert!(leases.answered(ROUTE, device, first, 1, 0, 1).is_ok());
        // One cell used in 1 ms: the rate says 250, twice the last says 2.
        let t1 = t0 + Duration::from_millis(1);
        let second = ticket(leases.take(ROUTE, device, p, t1, || true));
        assert_eq!(second.want, 2);
        assert!(leases.answered(ROUTE, device, second, 2, 0, 1).is_ok());
        // One cell left: spent without Redis.
        assert!(matches!(
            leases.take(ROUTE, device, p, t1, || true),
            Take::Spent
        ));
        let mut at = t1;
        let mut want = 2;
        for expected in [4, 8, 16, 26, 26] {
            at += Duration::from_millis(1);
            let t = ticket(leases.take(ROUTE, device, p, at, || true));
            assert_eq!(t.want, expected, "after a slice of {want}");
            want = t.want;
            assert!(
                leases
                    .answered(ROUTE, device, t, want.try_into().unwrap_or(0), 0, 1)
                    .is_ok()
            );
            for _ in 1..want {
                assert!(matches!(
                    leases.take(ROUTE, device, p, at, || true),
                    Take::Spent
                ));
            }
        }
    }

    #[test]
    fn a_slow_device_asks_one_cell_at_a_time() {
        let leases = Leases::default();
        let p = plan(6000);
        let device = Some(DeviceHash::of("slow"));
        let mut at = Instant::now();
        for _ in 0..5 {
            let t = ticket(leases.take(ROUTE, device, p, at, || true));
            assert_eq!(t.want, 1);
            assert!(leases.answered(ROUTE, device, t, 1, 0, 1).is_ok());
            // One request a second: 0.25 of one per lease life.
            at += Duration::from_secs(1);
        }
    }

    #[test]
    fn a_lease_ends_after_its_life_and_redis_may_give_less_than_asked() {
        let leases = Leases::default();
        let p = plan(6000);
        let device = Some(DeviceHash::of("d"));
        let t0 = Instant::now();
        let t = ticket(leases.take(ROUTE, device, p, t0, || true));
        assert!(leases.answered(ROUTE, device, t, 1, 0, 1).is_ok());
        let t = ticket(leases.take(ROUTE, device, p, t0, || true));
        assert_eq!(t.want, 2);
        // A hostile answer of more than asked is cut to what was asked.
        assert!(leases.answered(ROUTE, device, t, 1000, 0, 1).is_ok());
        assert!(matches!(
            leases.take(ROUTE, device, p, t0, || true),
            Take::Spent
        ));
        assert!(matches!(
            leases.take(ROUTE, device, p, t0, || true),
            Take::Ask(_)
        ));

        let device = Some(DeviceHash::of("e"));
        let t = ticket(leases.take(ROUTE, device, p, t0, || true));
        assert!(leases.answered(ROUTE, device, t, 1, 0, 1).is_ok());
        let t = ticket(leases.take(ROUTE, device, p, t0, || true));
        assert!(leases.answered(ROUTE, device, t, 2, 0, 1).is_ok());
        // The second cell is not spent after the lease's life.
        let late = t0 + LEASE_LIFE;
        assert!(matches!(
            leases.take(ROUTE, device, p, late, || true),
            Take::Ask(_)
        ));
    }

    #[test]
    fn an_ended_lease_gives_back_its_unspent_cells_with_the_tat_it_left() {
        let leases = Leases::default();
        let p = plan(6000);
        let device = Some(DeviceHash::of("back"));
        let t0 = Instant::now();
        let t = ticket(leases.take(ROUTE, device, p, t0, || true));
        assert_eq!((t.back_tat, t.back), (0, 0));
        assert!(leases.answered(ROUTE, device, t, 1, 0, 1_000).is_ok());
        // Spent whole: nothing to give back.
        let t = ticket(leases.take(ROUTE, device, p, t0, || true));
        assert_eq!(t.back, 0);
        assert!(leases.answered(ROUTE, device, t, 2, 0, 3_000).is_ok());
        // One of two spent when the lease ends: the other goes back with
        // the TAT the lease left, and is not spent here.
        let late = t0 + LEASE_LIFE;
        let t = ticket(leases.take(ROUTE, device, p, late, || true));
        assert_eq!((t.back_tat, t.back), (3_000, 1));
        drop(t);
        let t = ticket(leases.take(ROUTE, device, p, late, || true));
        assert_eq!((t.back_tat, t.back), (0, 0));
    }

    #[test]
    fn requests_wait_for_the_call_in_flight_and_a_dropped_call_frees_them() {
        let leases = Leases::default();
        let p = plan(6000);
        let device = Some(DeviceHash::of("d"));
        let now = Instant::now();
        let t = ticket(leases.take(ROUTE, device, p, now, || true));
        let Take::Wait(rx) = leases.take(ROUTE, device, p, now, || true) else {
            panic!("a second request must wait for the call in flight");
        };
        // Another device is not held up.
        let other = Some(DeviceHash::of("other"));
        assert!(matches!(
            leases.take(ROUTE, other, p, now, || true),
            Take::Ask(_)
        ));
        // The request that asked was dropped (its client went away).
        drop(t);
        assert!(rx.has_changed().is_err(), "the waiter is woken");
        assert!(matches!(
            leases.take(ROUTE, device, p, now, || true),
            Take::Ask(_)
        ));
    }

    #[test]
    fn a_wait_longer_than_a_minute_is_a_broken_redis_and_is_cut() {
        let leases = Leases::default();
        for p in [plan(3), plan(6000)] {
            let device = Some(DeviceHash::of(&format!("lying-{}", p.cap)));
            let t0 = Instant::now();
            let t = ticket(leases.take(ROUTE, device, p, t0, || true));
            assert_eq!(
                leases.answered(ROUTE, device, t, 0, i64::MAX, 1),
                Err(MAX_WAIT)
            );
            match leases.take(ROUTE, device, p, t0, || true) {
                Take::Refused(wait) => assert_eq!(wait, MAX_WAIT),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn a_refusal_is_kept_until_redis_said_or_the_recheck() {
        let leases = Leases::default();
        for p in [plan(3), plan(6000)] {
            let device = Some(DeviceHash::of(&format!("refused-{}", p.cap)));
            let t0 = Instant::now();
            let t = ticket(leases.take(ROUTE, device, p, t0, || true));
            assert_eq!(
                leases.answered(ROUTE, device, t, 0, 20_000_000, 1),
                Err(Duration::from_secs(20))
            );
            let later = t0 + Duration::from_millis(400);
            match leases.take(ROUTE, device, p, later, || true) {
                Take::Refused(wait) => assert_eq!(wait, Duration::from_millis(19_600)),
                other => panic!("{other:?}"),
            }
            // Asked again after the recheck.
            assert!(matches!(
                leases.take(ROUTE, device, p, t0 + REFUSAL_RECHECK, || true),
                Take::Ask(_)
            ));
            // A short wait is kept only that long.
            let t = ticket(leases.take(ROUTE, device, p, t0 + REFUSAL_RECHECK, || true));
            assert!(leases.answered(ROUTE, device, t, 0, 5_000, 1).is_err());
            let after = t0 + REFUSAL_RECHECK + Duration::from_micros(5_000);
            assert!(matches!(
                leases.take(ROUTE, device, p, after, || true),
                Take::Ask(_)
            ));
        }
    }

    #[test]
    fn while_redis_is_left_alone_held_cells_are_spent_and_nothing_is_asked() {
        let leases = Leases::default();
        let p = plan(6000);
        let device = Some(DeviceHash::of("d"));
        let now = Instant::now();
        let t = ticket(leases.take(ROUTE, device, p, now, || true));
        assert!(leases.answered(ROUTE, device, t, 1, 0, 1).is_ok());
        let t = ticket(leases.take(ROUTE, device, p, now, || true));
        assert!(leases.answered(ROUTE, device, t, 2, 0, 1).is_ok());
        assert!(matches!(
            leases.take(ROUTE, device, p, now, || false),
            Take::Spent
        ));
        assert!(matches!(
            leases.take(ROUTE, device, p, now, || false),
            Take::Unavailable
        ));
        // No call was marked in flight: the next request may ask at once.
        assert!(matches!(
            leases.take(ROUTE, device, p, now, || true),
            Take::Ask(_)
        ));
        let small = Some(DeviceHash::of("small"));
        assert!(matches!(
            leases.take(ROUTE, small, plan(3), now, || false),
            Take::Unavailable
        ));
    }

    #[test]
    fn the_table_is_bounded_and_swept_of_finished_devices() {
        let leases = Leases::default();
        let p = plan(6000);
        let t0 = Instant::now();
        let mut flights = Vec::new();
        for i in 0..MAX_DEVICES {
            let device = Some(DeviceHash::of(&i.to_string()));
            let t = ticket(leases.take(ROUTE, device, p, t0, || true));
            assert!(t.flight.is_some());
            flights.push(t);
        }
        let len = || leases.table.lock().map(|t| t.len).unwrap_or(0);
        // Full of devices with a call in flight: a newcomer asks per
        // request, unleased.
        let newcomer = Some(DeviceHash::of("newcomer"));
        let t = ticket(leases.take(ROUTE, newcomer, p, t0, || true));
        assert!(t.flight.is_none());
        assert_eq!(len(), MAX_DEVICES);
        // Half of the calls end; the sweep runs at most every SWEEP_GAP.
        flights.truncate(MAX_DEVICES / 2);
        let soon = t0 + SWEEP_GAP / 2;
        assert!(
            ticket(leases.take(ROUTE, newcomer, p, soon, || true))
                .flight
                .is_none()
        );
        let later = t0 + SWEEP_GAP;
        assert!(
            ticket(leases.take(ROUTE, newcomer, p, later, || true))
                .flight
                .is_some()
        );
        assert_eq!(len(), MAX_DEVICES / 2 + 1);
    }
}
