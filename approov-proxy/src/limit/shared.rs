//! The per-device rate limit shared by every replica through Redis
//! (`REDIS_URL`): a Lua script runs GCRA atomically on the server's clock,
//! so any number of proxies sharing a Redis allow a device its budget once
//! in total; on routes with large limits one call leases a slice of the
//! budget that later requests spend here (see [`lease`] for
//! the algorithm and its exact bound). When Redis is slow or down the proxy keeps
//! answering: it decides with its in-process limiter (or refuses `503`,
//! with `REDIS_UNAVAILABLE=refuse`), tries Redis again after a short
//! backoff, and logs each change of mode once. A Redis that answers with
//! more than a decision's answer loses its connection (see [`link`](super::link)).

use std::fmt;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::DeviceKey;
use super::lease::{self, Leases, Plan, Take};
use super::link::{Link, Links};
use crate::telemetry::log::TARGET;
use crate::telemetry::metrics;

/// After a failure, Redis is left alone this long: requests meanwhile do
/// not each pay the timeout.
const BACKOFF: Duration = Duration::from_secs(1);
/// What the proxy does while Redis does not answer (`REDIS_UNAVAILABLE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WhenUnavailable {
    /// Each proxy enforces the limit on its own (the default).
    Local,
    /// Requests on rate-limited routes are refused `503`.
    Refuse,
}

/// `REDIS_URL` (or `redis_url` in the routes file) and its settings, read
/// by `config/redis.rs`.
#[derive(Clone)]
pub(crate) struct RedisConfig {
    pub(crate) client: redis::Client,
    /// How long one decision may wait for Redis (`REDIS_TIMEOUT_MS`).
    pub(crate) timeout: Duration,
    pub(crate) when_unavailable: WhenUnavailable,
}

/// The address only: the URL may hold a password.
impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConfig")
            .field(
                "addr",
                &self.client.get_connection_info().addr().to_string(),
            )
            .field("timeout", &self.timeout)
            .field("when_unavailable", &self.when_unavailable)
            .finish()
    }
}

/// The connections to Redis and whether it answers, shared by every route.
pub(crate) struct SharedLimit {
    pub(super) config: RedisConfig,
    links: Links,
    script: redis::Script,
    /// The slices of device budgets held here.
    leases: Leases,
    /// Whether the last attempt succeeded; changes are logged.
    up: AtomicBool,
    /// Milliseconds after `epoch` before which Redis is not tried.
    retry_at_ms: AtomicU64,
    epoch: Instant,
}

impl SharedLimit {
    pub(crate) fn new(config: RedisConfig) -> Self {
        Self {
            links: Links::new(config.client.get_connection_info().clone()),
            config,
            script: redis::Script::new(lease::SCRIPT),
            leases: Leases::default(),
            up: AtomicBool::new(true),
            retry_at_ms: AtomicU64::new(0),
            epoch: Instant::now(),
        }
    }

    /// Asks Redis on a connection, which is kept for the next decision
    /// only when the answer came and was what `T` expects: after an error
    /// (or a timeout that drops this future) the connection is closed,
    /// whatever it was in the middle of reading.
    async fn ask<T: redis::FromRedisValue + Send>(&self, ask: Ask<'_>) -> Result<T, ()> {
        let (mut link, reused) = self.links.take().await.map_err(|_| ())?;
        let answer = match ask.on(&mut link).await {
            // A connection lost since the last decision (Redis restarted):
            // one more try, on a new one, tells whether Redis is back.
            Err(e) if reused && (e.is_io_error() || e.is_connection_dropped()) => {
                drop(link);
                link = self.links.connect().await.map_err(|_| ())?;
                ask.on(&mut link).await
            }
            answer => answer,
        };
        let answer = answer.map_err(|_| ())?;
        self.links.put(link);
        Ok(answer)
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Pings Redis once (bounded) at start-up, so an unreachable one is
    /// reported before the first request; the proxy starts either way.
    pub(crate) async fn check(&self) {
        let ping = self.ask::<String>(Ask::Ping);
        match tokio::time::timeout(self.config.timeout, ping).await {
            Ok(Ok(_)) => {
                self.up.store(true, Ordering::Relaxed);
                metrics::redis_up(true);
                tracing::info!(
                    target: TARGET,
                    redis = %self.config.client.get_connection_info().addr(),
                    "the per-device rate limit is shared through redis"
                );
            }
            Ok(Err(())) | Err(_) => self.failed(),
        }
    }

    /// Whether `device` may send a request on `route` (`n` per minute):
    /// `Some(Ok)` yes, `Some(Err(wait))` not before `wait`, `None` when
    /// Redis did not answer in time (or is in its backoff). A cell leased
    /// earlier is spent without asking; otherwise one call, shared by the
    /// device's concurrent requests, asks for the next slice.
    pub(super) async fn decide(
        &self,
        route: &str,
        device: DeviceKey,
        n: NonZeroU32,
    ) -> Option<Result<(), Duration>> {
        let plan = Plan::of(n);
        let deadline = tokio::time::Instant::now() + self.config.timeout;
        loop {
            let may_ask = self.now_ms() >= self.retry_at_ms.load(Ordering::Relaxed);
            let ticket = match self
                .leases
                .take(route, device, plan, Instant::now(), may_ask)
            {
                Take::Spent => return Some(Ok(())),
                Take::Unavailable => return None,
                Take::Refused(wait) => return Some(Err(wait)),
                Take::Wait(mut flight) => {
                    // Ends (with an error) when the call in flight does.
                    if tokio::time::timeout_at(deadline, flight.changed())
                        .await
                        .is_err()
                    {
                        return None;
                    }
                    continue;
                }
                Take::Ask(ticket) => ticket,
            };
            let key = lease::key(route, device);
            let mut invocation = self.script.key(&key);
            invocation
                .arg(plan.interval_us)
                .arg(plan.burst)
                .arg(ticket.want)
                .arg(ticket.back_tat)
                .arg(ticket.back);
            metrics::redis_call(route);
            let run = self.ask::<(i64, i64, i64)>(Ask::Script(&invocation));
            return match tokio::time::timeout_at(deadline, run).await {
                Ok(Ok((got, wait_us, tat))) => {
                    if !self.up.swap(true, Ordering::Relaxed) {
                        tracing::info!(
                            target: TARGET,
                            "redis available again: the per-device rate limit is shared again"
                        );
                    }
                    metrics::redis_up(true);
                    Some(
                        self.leases
                            .answered(route, device, ticket, got, wait_us, tat),
                    )
                }
                Ok(Err(())) | Err(_) => {
                    self.failed();
                    None
                }
            };
        }
    }

    /// Notes a failure: Redis is left alone for [`BACKOFF`], and the change
    /// is logged once.
    fn failed(&self) {
        let backoff = u64::try_from(BACKOFF.as_millis()).unwrap_or(1000);
        self.retry_at_ms
            .store(self.now_ms().saturating_add(backoff), Ordering::Relaxed);
        metrics::redis_up(false);
        if self.up.swap(false, Ordering::Relaxed) {
            let redis = self.config.client.get_connection_info().addr().to_string();
            match self.config.when_unavailable {
                WhenUnavailable::Local => tracing::warn!(
                    target: TARGET,
                    redis,
                    timeout_ms = self.config.timeout.as_millis(),
                    "redis unavailable, falling back to the in-process limit"
                ),
                WhenUnavailable::Refuse => tracing::warn!(
                    target: TARGET,
                    redis,
                    timeout_ms = self.config.timeout.as_millis(),
                    "redis unavailable: requests on rate-limited routes are refused (503) \
                     until it answers"
                ),
            }
        }
    }
}

/// What the proxy asks Redis.
enum Ask<'a> {
    /// Whether it answers, at start-up.
    Ping,
    /// A decision.
    Script(&'a redis::ScriptInvocation<'a>),
}

impl Ask<'_> {
    async fn on<T: redis::FromRedisValue + Send>(&self, link: &mut Link) -> redis::RedisResult<T> {
        match self {
            Self::Ping => redis::cmd("PING").query_async(link.start()).await,
            Self::Script(invocation) => invocation.invoke_async(link.start()).await,
        }
    }
}
