//! The per-device rate limit shared by every replica through Redis
//! (`REDIS_URL`, or a Redis Cluster with `REDIS_CLUSTER_URLS`, either over
//! TLS with `rediss://`): a Lua script runs GCRA atomically on the
//! server's clock, so any number of proxies sharing a Redis allow a device
//! its budget once in total; on routes with large limits one call leases a
//! slice of the budget that later requests spend here (see [`lease`] for
//! the algorithm and its exact bound). When Redis is slow or down the proxy keeps
//! answering: it decides with its in-process limiter (or refuses `503`,
//! with `REDIS_UNAVAILABLE=refuse`), tries Redis again after a short
//! backoff, and logs each change of mode once. On a cluster the backoff
//! after a node's failure holds only for the devices of its region of
//! hash slots ([`Health`]), so the nodes still up keep sharing their
//! devices' budgets. A Redis that answers with more than a decision's
//! answer loses its connection (see [`link`](super::link)).

use std::fmt;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::{ConnectionAddr, ConnectionInfo};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore};

use super::DeviceKey;
use super::lease::{self, Leases, Plan, Take};
use super::link::{KeyRouted, Links, Node};
use crate::telemetry::log::TARGET;
use crate::telemetry::metrics;

/// After a failure, Redis is left alone this long: requests meanwhile do
/// not each pay the timeout.
const BACKOFF: Duration = Duration::from_secs(1);
/// A Redis Cluster's hash slots.
const SLOTS: u16 = 16384;
/// The regions of hash slots a cluster backs off by: 64 of 256 slots.
const REGIONS: usize = 64;
/// A region's failure that no later call of the region cleared still
/// counts this long (its devices may have gone quiet).
const FAILURE_MEMORY: Duration = Duration::from_secs(10);
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
    /// Where the client certificate came from (`REDIS_TLS_CERT_FILE` or
    /// `redis_tls_cert_file in <file>`), or `None` for none.
    pub(crate) client_from: Option<String>,
}

/// A client certificate for Redis servers that ask for one
/// (`tls-auth-clients yes`, redis-server's default on a TLS port).
pub(crate) struct ClientCert {
    /// The certificate, then the intermediates to send with it.
    pub(crate) chain: Vec<CertificateDer<'static>>,
    pub(crate) key: PrivateKeyDer<'static>,
    /// The settings that named the two files.
    pub(crate) from: String,
    pub(crate) key_from: String,
}

impl RedisTls {
    /// The client side of TLS to Redis, with *ring*: the webpki roots, or
    /// only the certificates given (`REDIS_TLS_CA_FILE`, named `ca_from`),
    /// and the client certificate when given. An error names the setting
    /// to fix (`url_setting` when it is neither file's) and the problem.
    pub(crate) fn new(
        ca: Option<Vec<CertificateDer<'static>>>,
        ca_from: Option<String>,
        client: Option<ClientCert>,
        url_setting: &str,
    ) -> Result<Self, (String, String)> {
        let ca_setting = ca_from.clone().unwrap_or_else(|| url_setting.to_owned());
        let mut roots = RootCertStore::empty();
        match ca {
            None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
            Some(certificates) => {
                for certificate in certificates {
                    roots.add(certificate).map_err(|e| {
                        (
                            ca_setting.clone(),
                            format!("a certificate in the file is not usable as a CA ({e})"),
                        )
                    })?;
                }
            }
        }
        let builder =
            ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .map_err(|e| (url_setting.to_owned(), e.to_string()))?
                .with_root_certificates(roots);
        let (config, client_from) = match client {
            None => (builder.with_no_client_auth(), None),
            Some(ClientCert {
                chain,
                key,
                from,
                key_from,
            }) => {
                let config = builder.with_client_auth_cert(chain, key).map_err(|e| {
                    let problem = match e {
                        rustls::Error::InconsistentKeys(_) => {
                            format!("the private key is not the one of the certificate in {from}")
                        }
                        _ => format!(
                            "the private key is not usable for TLS (RSA, ECDSA P-256 or \
                             P-384, or Ed25519 are): {e}"
                        ),
                    };
                    (key_from, problem)
                })?;
                (config, Some(from))
            }
        };
        Ok(Self {
            config: Arc::new(config),
            ca_from,
            client_from,
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
            .field(
                "tls",
                &self
                    .tls
                    .as_ref()
                    .map(|t| (t.ca_from.as_deref(), t.client_from.as_deref())),
            )
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
    /// Whether the cluster connection is made.
    fn is_connected(&self) -> bool {
        self.conn
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }

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
    health: Health,
    epoch: Instant,
}

/// Whether Redis answers, and when to try it again after a failure.
///
/// One Redis fails as a whole. A cluster fails by node: a node down, its
/// hash slots' devices fall back, the others' decisions go on. The proxy
/// does not see the slot map (the cluster client keeps it), so it backs
/// off by region, 64 runs of 256 slots: nodes hold runs of slots, so a
/// region belongs to one node except where two nodes' runs meet, and a
/// dead node's devices cost at most one failed call a second per region
/// of it, not one per request. A failure of the cluster connection itself
/// (no seed answers) backs off every region.
struct Health {
    /// Whether every decision is shared (no region failing); the changes
    /// are logged and shown as `approov_proxy_redis_up`.
    up: AtomicBool,
    /// Milliseconds after `epoch` before which no decision asks.
    all_retry_at_ms: AtomicU64,
    /// Per region: milliseconds after `epoch` before which its decisions
    /// do not ask.
    retry_at_ms: [AtomicU64; REGIONS],
    /// Per region: 1 + the milliseconds after `epoch` of its last failure
    /// that no later call of the region cleared; 0 for none.
    failed_at_ms: [AtomicU64; REGIONS],
}

/// Where a failure happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// Redis as a whole: one Redis, or the cluster connection.
    All,
    /// One region of a cluster's hash slots.
    Region(usize),
}

impl Health {
    fn new() -> Self {
        Self {
            up: AtomicBool::new(true),
            all_retry_at_ms: AtomicU64::new(0),
            retry_at_ms: std::array::from_fn(|_| AtomicU64::new(0)),
            failed_at_ms: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }

    /// Whether a decision of `region` may ask Redis at `now_ms`.
    fn may_ask(&self, region: usize, now_ms: u64) -> bool {
        now_ms >= self.all_retry_at_ms.load(Ordering::Relaxed)
            && now_ms >= self.retry_at_ms[region].load(Ordering::Relaxed)
    }

    /// Notes a failure at `now_ms`; true when it ends a time of every
    /// decision shared (to be logged).
    fn failed(&self, scope: Scope, now_ms: u64) -> bool {
        let backoff = u64::try_from(BACKOFF.as_millis()).unwrap_or(1000);
        let retry_at = now_ms.saturating_add(backoff);
        match scope {
            Scope::All => self.all_retry_at_ms.store(retry_at, Ordering::Relaxed),
            Scope::Region(region) => {
                self.retry_at_ms[region].store(retry_at, Ordering::Relaxed);
                self.failed_at_ms[region].store(now_ms.saturating_add(1), Ordering::Relaxed);
            }
        }
        self.up.swap(false, Ordering::Relaxed)
    }

    /// Notes an answer for `region` at `now_ms`; true when every decision
    /// is shared again (to be logged): no region has failed since its
    /// last answer, within [`FAILURE_MEMORY`].
    fn answered(&self, region: usize, now_ms: u64) -> bool {
        if self.failed_at_ms[region].load(Ordering::Relaxed) != 0 {
            self.failed_at_ms[region].store(0, Ordering::Relaxed);
        }
        if self.up.load(Ordering::Relaxed) {
            return false;
        }
        let memory = u64::try_from(FAILURE_MEMORY.as_millis()).unwrap_or(u64::MAX);
        let failing = self.failed_at_ms.iter().any(|at| {
            let at = at.load(Ordering::Relaxed);
            at != 0 && now_ms < at.saturating_add(memory)
        });
        !failing && !self.up.swap(true, Ordering::Relaxed)
    }

    fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }
}

/// The hash slot of `key`, as Redis Cluster computes it: CRC16 (XMODEM)
/// of the hash tag (what is between the first `{` and the next `}`, when
/// not empty), else of the whole key, modulo 16384.
fn slot(key: &[u8]) -> u16 {
    let tag = key
        .iter()
        .position(|&b| b == b'{')
        .and_then(|open| {
            let rest = &key[open + 1..];
            let close = rest.iter().position(|&b| b == b'}')?;
            (close > 0).then(|| &rest[..close])
        })
        .unwrap_or(key);
    crc16::State::<crc16::XMODEM>::calculate(tag) % SLOTS
}

/// The region of hash slots `key` falls in.
fn region_of(key: &[u8]) -> usize {
    usize::from(slot(key)) * REGIONS / usize::from(SLOTS)
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
            health: Health::new(),
            epoch: Instant::now(),
        }
    }

    /// Asks Redis. On one Redis, on a connection of our pool, which is
    /// kept for the next decision only when the answer came and was what
    /// `T` expects: after an error (or a timeout that drops this future)
    /// the connection is closed, whatever it was in the middle of reading.
    /// On a cluster, through the cluster client, which routes the command
    /// by its key.
    ///
    /// A failure's scope is the whole Redis, but for a cluster's decision
    /// that had a connection: the region of its key.
    async fn ask<T: redis::FromRedisValue + Send>(&self, ask: Ask<'_>) -> Result<T, Scope> {
        let links = match &self.backend {
            Backend::Single(links) => links,
            Backend::Cluster(cluster) => {
                let conn = cluster.connection().await.map_err(|()| Scope::All)?;
                let scope = ask.region().map_or(Scope::All, Scope::Region);
                return ask.on(&mut KeyRouted::new(conn)).await.map_err(|_| scope);
            }
        };
        self.ask_single(links, ask).await.map_err(|()| Scope::All)
    }

    /// [`ask`](Self::ask) on one Redis.
    async fn ask_single<T: redis::FromRedisValue + Send>(
        &self,
        links: &Links,
        ask: Ask<'_>,
    ) -> Result<T, ()> {
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
                metrics::redis_up(self.health.is_up());
                tracing::info!(
                    target: TARGET,
                    redis = %self.config.describe(),
                    tls = self.config.tls.is_some(),
                    "the per-device rate limit is shared through redis"
                );
            }
            Ok(Err(_)) | Err(_) => self.failed(Scope::All),
        }
    }

    /// The region of `key`'s hash slots on a cluster; one Redis has one.
    fn region(&self, key: &str) -> usize {
        match self.backend {
            Backend::Single(_) => 0,
            Backend::Cluster(_) => region_of(key.as_bytes()),
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
        // The key, and its region on a cluster, once a request asks.
        let keyed = std::sync::OnceLock::new();
        let keyed = || {
            keyed.get_or_init(|| {
                let key = lease::key(route, device);
                let region = self.region(&key);
                (key, region)
            })
        };
        loop {
            let may_ask = || {
                let region = match self.backend {
                    Backend::Single(_) => 0,
                    Backend::Cluster(_) => keyed().1,
                };
                self.health.may_ask(region, self.now_ms())
            };
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
            let (key, region) = keyed();
            let region = *region;
            let mut invocation = self.script.key(key);
            invocation
                .arg(plan.interval_us)
                .arg(plan.burst)
                .arg(ticket.want)
                .arg(ticket.back_tat)
                .arg(ticket.back);
            metrics::redis_call(route);
            let run = self.ask::<(i64, i64, i64)>(Ask::Script(&invocation, region));
            return match tokio::time::timeout_at(deadline, run).await {
                Ok(Ok((got, wait_us, tat))) => {
                    if self.health.answered(region, self.now_ms()) {
                        tracing::info!(
                            target: TARGET,
                            "redis available again: the per-device rate limit is shared again"
                        );
                    }
                    metrics::redis_up(self.health.is_up());
                    Some(
                        self.leases
                            .answered(route, device, ticket, got, wait_us, tat),
                    )
                }
                Ok(Err(scope)) => {
                    self.failed(scope);
                    None
                }
                // No answer in time: from the key's node, or from a
                // cluster not yet connected (or one Redis): all of it.
                Err(_) => {
                    self.failed(match &self.backend {
                        Backend::Cluster(cluster) if cluster.is_connected() => {
                            Scope::Region(region)
                        }
                        _ => Scope::All,
                    });
                    None
                }
            };
        }
    }

    /// Notes a failure: Redis (or, on a cluster, the region's slots) is
    /// left alone for [`BACKOFF`], and the change is logged once.
    fn failed(&self, scope: Scope) {
        metrics::redis_up(false);
        if self.health.failed(scope, self.now_ms()) {
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
    /// A decision, and the region of its key.
    Script(&'a redis::ScriptInvocation<'a>, usize),
}

impl Ask<'_> {
    /// The region of the key asked about, if any.
    fn region(&self) -> Option<usize> {
        match self {
            Self::Ping => None,
            Self::Script(_, region) => Some(*region),
        }
    }

    async fn on<T: redis::FromRedisValue + Send>(
        &self,
        conn: &mut (impl redis::aio::ConnectionLike + Send),
    ) -> redis::RedisResult<T> {
        match self {
            Self::Ping => redis::cmd("PING").query_async(conn).await,
            Self::Script(invocation, _) => invocation.invoke_async(conn).await,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn slots_are_redis_cluster_s() {
        // What `CLUSTER KEYSLOT` answers (redis-server 7.0).
        for (key, expected) in [
            (&b"somekey"[..], 11058),
            (b"foo", 12182),
            (b"foo{hash_tag}", 2515),
            // An empty or unclosed tag: the whole key.
            (b"a{}b", 13694),
            (b"{123456789", 5574),
            (b"approov-proxy:rate:{default:-}", 6691),
            // CRC16/XMODEM's check value, 0x31C3, by the tag alone.
            (b"x{123456789}{other}", 0x31C3),
        ] {
            assert_eq!(slot(key), expected, "{}", String::from_utf8_lossy(key));
        }
        assert_eq!(region_of(b"foo{hash_tag}"), 2515 / 256);
        assert_eq!(region_of(b"{123456789}"), 0x31C3 / 256);
    }

    #[test]
    fn one_redis_backs_off_whole_and_recovers_at_its_next_answer() {
        let health = Health::new();
        assert!(health.may_ask(0, 0));
        assert!(health.failed(Scope::All, 100), "the change is logged");
        assert!(!health.failed(Scope::All, 200), "once");
        assert!(!health.is_up());
        assert!(!health.may_ask(0, 1199) && !health.may_ask(7, 1199));
        assert!(health.may_ask(0, 1200));
        assert!(health.answered(0, 1200), "the recovery is logged");
        assert!(health.is_up());
        assert!(!health.answered(0, 1300), "once");
    }

    #[test]
    fn a_cluster_region_backs_off_alone_and_up_waits_for_it() {
        let health = Health::new();
        assert!(health.failed(Scope::Region(3), 1000));
        // Only region 3 waits; the others ask and answer.
        assert!(!health.may_ask(3, 1500));
        assert!(health.may_ask(4, 1500));
        assert!(!health.answered(4, 1500), "region 3 still failing");
        assert!(!health.is_up());
        // Past the backoff region 3 asks again; failing again is no news.
        assert!(health.may_ask(3, 2000));
        assert!(!health.failed(Scope::Region(3), 2000));
        assert!(!health.answered(4, 2500));
        // Its own answer ends it.
        assert!(health.answered(3, 3000));
        assert!(health.is_up());
    }

    #[test]
    fn a_failed_region_gone_quiet_is_forgotten() {
        let health = Health::new();
        let memory = u64::try_from(FAILURE_MEMORY.as_millis()).unwrap();
        assert!(health.failed(Scope::Region(9), 1000));
        assert!(!health.answered(1, 1000 + memory - 1));
        assert!(health.answered(1, 1001 + memory));
        assert!(health.is_up());
    }

    #[test]
    fn a_whole_backoff_holds_its_second_whatever_answers_late() {
        let health = Health::new();
        assert!(health.failed(Scope::All, 0));
        // A call in flight before the failure answers: the failure was
        // later, so the backoff holds; the mode is logged back though.
        assert!(health.answered(5, 20));
        assert!(!health.may_ask(6, 999));
        assert!(health.may_ask(6, 1000));
    }
}
