//! The per-device rate limit shared by every replica through Redis
//! (`REDIS_URL`, or a Redis Cluster with `REDIS_CLUSTER_URLS`, either over
//! TLS with `rediss://`): a Lua script runs GCRA atomically on the
//! server's clock, so any number of proxies sharing a Redis allow a device
//! its budget once in total; on routes with large limits one call leases a
//! slice of the budget that later requests spend here (see [`lease`] for
//! the algorithm and its exact bound). When Redis is slow or down the proxy keeps
//! answering: it decides with its in-process limiter (or refuses `503`,
//! with `REDIS_UNAVAILABLE=refuse`), tries Redis again after a short
//! backoff, and logs each change of mode once. A Redis that answers with
//! more than a decision's answer loses its connection (see [`link`](super::link)).

use std::fmt;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::{ConnectionAddr, ConnectionInfo};
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore};

use super::DeviceKey;
use super::lease::{self, Leases, Plan, Take};
use super::link::{KeyRouted, Links, Node};
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

/// The Redis the limit is shared through.
#[derive(Clone)]
pub(crate) enum RedisTarget {
    /// One Redis (`REDIS_URL`).
    Single(ConnectionInfo),
    /// A Redis Cluster (`REDIS_CLUSTER_URLS`): the client, and the seed
    /// nodes' addresses.
    Cluster {
        client: Box<ClusterClient>,
        seeds: Vec<ConnectionAddr>,
    },
}

/// TLS to Redis (`rediss://` URLs).
#[derive(Clone)]
pub(crate) struct RedisTls {
    pub(crate) config: Arc<rustls::ClientConfig>,
    /// Where the trusted CA certificates came from (`REDIS_TLS_CA_FILE` or
    /// `redis_tls_ca_file in <file>`), or `None` for the webpki roots.
    pub(crate) ca_from: Option<String>,
}

impl RedisTls {
    /// The client side of TLS to Redis, with *ring*: the webpki roots, or
    /// only the certificates given (`REDIS_TLS_CA_FILE`, named `ca_from`).
    pub(crate) fn new(
        ca: Option<Vec<CertificateDer<'static>>>,
        ca_from: Option<String>,
    ) -> Result<Self, String> {
        let mut roots = RootCertStore::empty();
        match ca {
            None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
            Some(certificates) => {
                for certificate in certificates {
                    roots.add(certificate).map_err(|e| {
                        format!("a certificate in the file is not usable as a CA ({e})")
                    })?;
                }
            }
        }
        let config =
            ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .map_err(|e| e.to_string())?
                .with_root_certificates(roots)
                .with_no_client_auth();
        Ok(Self {
            config: Arc::new(config),
            ca_from,
        })
    }
}

/// `REDIS_URL` or `REDIS_CLUSTER_URLS` (or `redis_url` /
/// `redis_cluster_urls` in the routes file) and their settings, read by
/// `config/redis.rs`.
#[derive(Clone)]
pub(crate) struct RedisConfig {
    pub(crate) target: RedisTarget,
    /// Set when the URLs are `rediss://`.
    pub(crate) tls: Option<RedisTls>,
    /// How long one decision may wait for Redis (`REDIS_TIMEOUT_MS`).
    pub(crate) timeout: Duration,
    pub(crate) when_unavailable: WhenUnavailable,
}

impl RedisConfig {
    /// The address (or the seed nodes' addresses), never the URL: it may
    /// hold a password.
    pub(crate) fn addresses(&self) -> String {
        match &self.target {
            RedisTarget::Single(info) => info.addr().to_string(),
            RedisTarget::Cluster { seeds, .. } => seeds
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    /// For logs: `127.0.0.1:6379`, or `cluster 127.0.0.1:7000, …`.
    fn describe(&self) -> String {
        match &self.target {
            RedisTarget::Single(_) => self.addresses(),
            RedisTarget::Cluster { .. } => format!("cluster {}", self.addresses()),
        }
    }
}

/// The addresses only: the URLs may hold a password.
impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConfig")
            .field("addr", &self.describe())
            .field("tls", &self.tls.as_ref().map(|t| t.ca_from.as_deref()))
            .field("timeout", &self.timeout)
            .field("when_unavailable", &self.when_unavailable)
            .finish()
    }
}

/// The connections: our own pool to one Redis, or the cluster client's
/// connection.
enum Backend {
    Single(Links),
    Cluster(Box<ClusterLinks>),
}

/// The cluster client's connection, made at the first decision (again
/// after it failed to be); it reconnects lost nodes itself.
struct ClusterLinks {
    client: ClusterClient,
    conn: Mutex<Option<ClusterConnection<Node>>>,
    /// One decision at a time connects; the others wait, in their timeout,
    /// and use its connection.
    connecting: tokio::sync::Mutex<()>,
}

impl ClusterLinks {
    async fn connection(&self) -> Result<ClusterConnection<Node>, ()> {
        let current = || {
            self.conn
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone()
        };
        if let Some(c) = current() {
            return Ok(c);
        }
        let _turn = self.connecting.lock().await;
        if let Some(c) = current() {
            return Ok(c);
        }
        // The `redis` crate's way to plug in its `Connect` trait; public
        // though hidden from its docs: check it on each upgrade.
        let made = self
            .client
            .get_async_generic_connection::<Node>()
            .await
            .map_err(|_| ())?;
        *self.conn.lock().unwrap_or_else(PoisonError::into_inner) = Some(made.clone());
        Ok(made)
    }
}

/// The connections to Redis and whether it answers, shared by every route.
pub(crate) struct SharedLimit {
    pub(super) config: RedisConfig,
    backend: Backend,
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
        let tls = config.tls.as_ref().map(|t| t.config.clone());
        let backend = match &config.target {
            RedisTarget::Single(info) => Backend::Single(Links::new(info.clone(), tls)),
            RedisTarget::Cluster { client, .. } => {
                super::link::set_node_setup(tls, config.timeout);
                Backend::Cluster(Box::new(ClusterLinks {
                    client: (**client).clone(),
                    conn: Mutex::new(None),
                    connecting: tokio::sync::Mutex::new(()),
                }))
            }
        };
        Self {
            backend,
            config,
            script: redis::Script::new(lease::SCRIPT),
            leases: Leases::default(),
            up: AtomicBool::new(true),
            retry_at_ms: AtomicU64::new(0),
            epoch: Instant::now(),
        }
    }

    /// Asks Redis. On one Redis, on a connection of our pool, which is
    /// kept for the next decision only when the answer came and was what
    /// `T` expects: after an error (or a timeout that drops this future)
    /// the connection is closed, whatever it was in the middle of reading.
    /// On a cluster, through the cluster client, which routes the command
    /// by its key.
    async fn ask<T: redis::FromRedisValue + Send>(&self, ask: Ask<'_>) -> Result<T, ()> {
        let links = match &self.backend {
            Backend::Single(links) => links,
            Backend::Cluster(cluster) => {
                let conn = cluster.connection().await?;
                return ask.on(&mut KeyRouted::new(conn)).await.map_err(|_| ());
            }
        };
        let (mut link, reused) = links.take().await.map_err(|_| ())?;
        let answer = match ask.on(link.start()).await {
            // A connection lost since the last decision (Redis restarted):
            // one more try, on a new one, tells whether Redis is back.
            Err(e) if reused && (e.is_io_error() || e.is_connection_dropped()) => {
                drop(link);
                link = links.connect().await.map_err(|_| ())?;
                ask.on(link.start()).await
            }
            answer => answer,
        };
        let answer = answer.map_err(|_| ())?;
        links.put(link);
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
                    redis = %self.config.describe(),
                    tls = self.config.tls.is_some(),
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
            let redis = self.config.describe();
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
    async fn on<T: redis::FromRedisValue + Send>(
        &self,
        conn: &mut (impl redis::aio::ConnectionLike + Send),
    ) -> redis::RedisResult<T> {
        match self {
            Self::Ping => redis::cmd("PING").query_async(conn).await,
            Self::Script(invocation) => invocation.invoke_async(conn).await,
        }
    }
}
