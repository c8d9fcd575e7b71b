//! Keys from a JWKS URL (feature `jwks-url`): fetched when the verifier is
//! built, then kept current by a background thread.
//!
//! # How it works
//! - The fetcher runs on its own thread with its own single-threaded tokio
//!   runtime, so the verifier needs no runtime of the caller's (actix,
//!   warp, axum or none). It ends when the last clone of the verifier is
//!   dropped.
//! - A fetch that succeeds and parses replaces the URL's keys: the whole
//!   key set (keys given as values, key files, the URL's keys) is rebuilt
//!   and swapped with `arc-swap`, as [`Verifier::reload_keys`] does. A key
//!   removed from the document is gone from that swap on. A document that
//!   did not change swaps nothing, so the verified-token cache stays warm.
//! - Refresh: after each fetch, at the response's `Cache-Control: max-age`
//!   clamped to [`JwksUrl::refresh_range`] (default 1 min to 24 h), or
//!   [`JwksUrl::default_refresh`] (5 min) without one; after a failed
//!   fetch, at the range's minimum.
//! - A token whose `kid` (or algorithm) no key matches asks for a fetch at
//!   once, but at most once per [`JwksUrl::unknown_kid_interval`] (default
//!   10 s) after the previous fetch: forged `kid`s cannot make the server
//!   hammer the JWKS endpoint. The request never waits for that fetch; it
//!   is refused, and the app's next request uses the new keys.
//! - Stale-if-error: a fetch that fails (network, timeout, status, size,
//!   a document that does not parse or has no usable key) keeps the last
//!   good keys; the first failure of a streak is logged as an error, the
//!   rest at debug level, and the recovery at info level.
//! - The time of every rule above is read from the verifier's
//!   [`Clock`], so tests move a [`ManualClock`](crate::ManualClock)
//!   instead of sleeping; a verification notices a refresh that is due
//!   and wakes the fetcher, which otherwise sleeps until then.
//! - The hot path only reads the swapped key set; the fetcher is woken by
//!   an atomic flag and at most one `Notify` per fetch, never waited for.
//!
//! # Limits
//! HTTPS only (rustls, the webpki root certificates), except plain `http`
//! to a loopback address (`127.0.0.0/8`, `::1`, `localhost`) for tests and
//! sidecars; redirects are followed (at most 5) under the same rule.
//! Plain `http` is always fetched directly: `http_proxy`, `HTTP_PROXY` and
//! `ALL_PROXY` are never used for it, since a proxy could answer with keys
//! of its own. An `https` fetch goes through the proxy the environment
//! names for https (`HTTPS_PROXY`, else `ALL_PROXY`; not for the hosts of
//! `NO_PROXY`), as a `CONNECT` tunnel: TLS stays end to end and the
//! server's certificate is checked as without a proxy. Each
//! request has a timeout (default 10 s) and a response limit (default
//! 1 MiB, enforced while reading). Only RSA and EC (P-256, P-384)
//! signature keys are taken: any other key, or one whose `alg` or `use`
//! contradicts its type, is skipped with a warning naming its `kid`.
//! Errors and logs name the URL without its user information, query or
//! fragment, which may hold credentials.

use std::any::Any;
use std::fmt;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak, mpsc};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ring::digest;
use tokio::sync::Notify;

use super::set::{KeySet, public_keys_from_jwks_lenient};
use super::source::{KeySource, StartKeySource};
use super::store::{KeyFile, KeyStore};
use crate::clock::Clock;
use crate::error::{AlgorithmProblem, ConfigError, Rejection};
use crate::token::builder::VerifierBuilder;
use crate::token::verifier::Verifier;

/// Default for [`JwksUrl::timeout`].
pub const DEFAULT_JWKS_TIMEOUT: Duration = Duration::from_secs(10);
/// Default for [`JwksUrl::max_size`]: 1 MiB.
pub const DEFAULT_JWKS_MAX_SIZE: usize = 1 << 20;
/// Default for [`JwksUrl::unknown_kid_interval`].
pub const DEFAULT_UNKNOWN_KID_INTERVAL: Duration = Duration::from_secs(10);
/// Default for [`JwksUrl::default_refresh`].
pub const DEFAULT_JWKS_REFRESH: Duration = Duration::from_secs(5 * 60);
const MAX_REDIRECTS: usize = 5;

/// Where to fetch a JWKS from, and how; give it to
/// [`VerifierBuilder::jwks_url`]. A `&str` or `String` converts into one
/// with every default.
///
/// ```
/// use approov_core::{JwksUrl, Verifier};
/// use std::time::Duration;
///
/// let source = JwksUrl::new("https://keys.example.com/.well-known/jwks.json")
///     .refresh_range(Duration::from_secs(60), Duration::from_secs(3600))
///     .unknown_kid_interval(Duration::from_secs(30))
///     .timeout(Duration::from_secs(5));
/// let builder = Verifier::builder().jwks_url(source);
/// # let _ = builder;
/// ```
#[derive(Clone)]
pub struct JwksUrl {
    url: String,
    source: String,
    refresh_min: Duration,
    refresh_max: Duration,
    refresh_default: Duration,
    unknown_kid_interval: Duration,
    timeout: Duration,
    max_size: usize,
    start_without_keys: bool,
}

impl fmt::Debug for JwksUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwksUrl")
            .field("url", &redact_str(&self.url))
            .field("refresh_min", &self.refresh_min)
            .field("refresh_max", &self.refresh_max)
            .field("refresh_default", &self.refresh_default)
            .field("unknown_kid_interval", &self.unknown_kid_interval)
            .field("timeout", &self.timeout)
            .field("max_size", &self.max_size)
            .field("start_without_keys", &self.start_without_keys)
            .finish()
    }
}

impl From<&str> for JwksUrl {
    fn from(url: &str) -> Self {
        Self::new(url)
    }
}

impl From<String> for JwksUrl {
    fn from(url: String) -> Self {
        Self::new(url)
    }
}

impl JwksUrl {
    /// A JWKS URL with every default. The URL is checked by
    /// [`VerifierBuilder::build`]: `https`, or `http` to a loopback address.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            source: "jwks_url".to_owned(),
            refresh_min: Duration::from_secs(60),
            refresh_max: Duration::from_secs(24 * 3600),
            refresh_default: DEFAULT_JWKS_REFRESH,
            unknown_kid_interval: DEFAULT_UNKNOWN_KID_INTERVAL,
            timeout: DEFAULT_JWKS_TIMEOUT,
            max_size: DEFAULT_JWKS_MAX_SIZE,
            start_without_keys: false,
        }
    }

    /// The name configuration errors give (default `jwks_url`).
    pub(crate) fn named(mut self, source: &str) -> Self {
        self.source = source.to_owned();
        self
    }

    /// The response's `Cache-Control: max-age` is clamped to this range
    /// (default 1 minute to 24 hours); the minimum is also the delay
    /// before a failed fetch is tried again.
    pub fn refresh_range(mut self, min: Duration, max: Duration) -> Self {
        self.refresh_min = min;
        self.refresh_max = max;
        self
    }

    /// The refresh interval when the response has no `max-age` (default
    /// 5 minutes), clamped to [`refresh_range`](Self::refresh_range).
    pub fn default_refresh(mut self, every: Duration) -> Self {
        self.refresh_default = every;
        self
    }

    /// The least time between the previous fetch and one asked for by a
    /// token with an unknown `kid` (default 10 s).
    pub fn unknown_kid_interval(mut self, interval: Duration) -> Self {
        self.unknown_kid_interval = interval;
        self
    }

    /// The timeout of each request, connection and body included (default
    /// 10 s); [`VerifierBuilder::build`] waits at most this long for the
    /// first fetch.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The largest response accepted, in bytes (default 1 MiB).
    pub fn max_size(mut self, bytes: usize) -> Self {
        self.max_size = bytes;
        self
    }

    /// When `true`, [`VerifierBuilder::build`] succeeds even when the first
    /// fetch fails (logged as an error): the verifier refuses tokens the
    /// URL's keys would verify until a fetch succeeds. With no other key
    /// configured, such a token cannot be judged at all: it is
    /// [`Rejection::KeysUnavailable`], which the adapters answer `503` with
    /// `Retry-After` rather than 401 (each one asks for an early fetch, at
    /// most once per [`unknown_kid_interval`](Self::unknown_kid_interval)).
    /// `APPROOV_JWKS_START_WITHOUT_KEYS=true` sets it. Default `false`: a
    /// first fetch that fails is a configuration error naming the URL.
    pub fn start_without_keys(mut self, yes: bool) -> Self {
        self.start_without_keys = yes;
        self
    }
}

impl VerifierBuilder {
    /// Adds the keys of a JWKS served at a URL (feature `jwks-url`),
    /// fetched by [`build`](Self::build) and kept current in the
    /// background: see [`JwksUrl`] for the options and the
    /// [`jwks_url`](crate::jwks_url) module for the rules.
    /// `APPROOV_JWKS_URL` sets it.
    pub fn jwks_url(self, url: impl Into<JwksUrl>) -> Self {
        self.key_source(Box::new(url.into()))
    }
}

/// How the JWKS URL's fetches went, from [`Verifier::jwks_status`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct JwksStatus {
    /// Fetches that succeeded and parsed (changed keys or not).
    pub fetched: u64,
    /// Fetches that failed.
    pub failed: u64,
    /// Failures since the last success: above zero, the keys in use are
    /// stale (or missing, before the first success).
    pub failing_for: u64,
}

impl Verifier {
    /// How the fetches of the JWKS URL went; `None` without a JWKS URL.
    /// For health checks, metrics and tests.
    pub fn jwks_status(&self) -> Option<JwksStatus> {
        let source: &dyn Any = &**self.key_source()?;
        let shared = &source.downcast_ref::<Handle>()?.shared;
        Some(JwksStatus {
            fetched: shared.fetched.load(Ordering::Acquire),
            failed: shared.failed.load(Ordering::Acquire),
            failing_for: shared.failing_for.load(Ordering::Acquire),
        })
    }
}

/// The verifier's side of the fetcher, its [`KeySource`]: dropping it (with the last verifier)
/// stops the thread.
pub(crate) struct Handle {
    shared: Arc<Shared>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        self.shared.notify.notify_one();
    }
}

/// What the hot path and the fetcher share. Times are milliseconds after
/// the Unix epoch by the verifier's clock.
struct Shared {
    notify: Notify,
    /// Set by whoever wakes the fetcher, cleared by it: one notification
    /// per wake-up however many requests see the reason.
    woken: AtomicBool,
    stop: AtomicBool,
    refresh_at: AtomicU64,
    kid_fetch_after: AtomicU64,
    kid_wanted: AtomicBool,
    fetched: AtomicU64,
    failed: AtomicU64,
    failing_for: AtomicU64,
}

impl Shared {
    fn wake(&self) {
        if !self.woken.load(Ordering::Relaxed) && !self.woken.swap(true, Ordering::AcqRel) {
            self.notify.notify_one();
        }
    }
}

impl KeySource for Handle {
    /// On every verification: wakes the fetcher when a refresh is due.
    #[inline]
    fn tick(&self, now: SystemTime) {
        if millis(now) >= self.shared.refresh_at.load(Ordering::Relaxed) {
            self.shared.wake();
        }
    }

    /// On a rejection: a token no key matched asks for a fetch.
    fn rejected(&self, rejection: &Rejection, now: SystemTime) {
        let unknown = matches!(
            rejection,
            Rejection::UnknownKey
                | Rejection::KeysUnavailable
                | Rejection::Algorithm(AlgorithmProblem::NotConfigured(_))
        );
        if !unknown {
            return;
        }
        let s = &*self.shared;
        s.kid_wanted.store(true, Ordering::Release);
        if millis(now) >= s.kid_fetch_after.load(Ordering::Acquire) {
            s.wake();
        }
    }
}

fn millis(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn add(at: u64, d: Duration) -> u64 {
    at.saturating_add(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl StartKeySource for JwksUrl {
    fn start(
        self: Box<Self>,
        fixed: KeySet,
        files: Vec<KeyFile>,
        clock: Arc<dyn Clock>,
    ) -> Result<(Arc<KeyStore>, Arc<dyn KeySource>), ConfigError> {
        start(*self, fixed, files, clock)
    }
}

/// Checks the URL, builds the key store, starts the fetcher and waits for
/// its first fetch.
fn start(
    config: JwksUrl,
    fixed: KeySet,
    files: Vec<KeyFile>,
    clock: Arc<dyn Clock>,
) -> Result<(Arc<KeyStore>, Arc<dyn KeySource>), ConfigError> {
    let url = check_url(&config.url, &config.source)?;
    let shown = redact(&url);
    if config.refresh_min > config.refresh_max {
        return Err(ConfigError::invalid(
            &config.source,
            "the refresh range's minimum is above its maximum",
        ));
    }
    if config.max_size == 0 || config.timeout.is_zero() {
        return Err(ConfigError::invalid(
            &config.source,
            "the timeout and the maximum size must be above zero",
        ));
    }
    let shared = Arc::new(Shared {
        notify: Notify::new(),
        woken: AtomicBool::new(false),
        stop: AtomicBool::new(false),
        refresh_at: AtomicU64::new(u64::MAX),
        kid_fetch_after: AtomicU64::new(u64::MAX),
        kid_wanted: AtomicBool::new(false),
        fetched: AtomicU64::new(0),
        failed: AtomicU64::new(0),
        failing_for: AtomicU64::new(0),
    });
    let handle: Arc<dyn KeySource> = Arc::new(Handle {
        shared: Arc::clone(&shared),
    });
    let store = Arc::new(KeyStore::read(fixed, files)?);
    let (first_tx, first_rx) = mpsc::sync_channel(1);
    let fetcher = Fetcher {
        url,
        shown: shown.clone(),
        config: config.clone(),
        clock,
        shared,
        client: client(&config)?,
        last_digest: None,
    };
    let weak = Arc::downgrade(&store);
    std::thread::Builder::new()
        .name("approov-jwks".to_owned())
        .spawn(move || fetcher.run(weak, first_tx))
        .map_err(|e| {
            ConfigError::invalid(
                &config.source,
                format!("cannot start the JWKS fetcher's thread: {e}"),
            )
        })?;
    // The request has its own timeout; the margin covers the runtime's
    // start and the parse.
    let first = first_rx
        .recv_timeout(config.timeout + Duration::from_secs(5))
        .unwrap_or_else(|_| Err("no answer within the timeout".to_owned()));
    match first {
        Ok(()) => Ok((store, handle)),
        Err(problem) if config.start_without_keys => {
            tracing::error!(
                target: "approov",
                url = %shown,
                "the first JWKS fetch failed; starting without its keys, as configured: {problem}"
            );
            Ok((store, handle))
        }
        Err(problem) => Err(ConfigError::invalid(
            &config.source,
            format!(
                "the first fetch of the JWKS at {shown} failed: {problem} (or set \
                 start_without_keys to start anyway)"
            ),
        )),
    }
}

/// The fetcher's HTTP client. Built before the fetcher's thread starts, so
/// a proxy variable that is not usable stops start-up, naming it.
fn client(config: &JwksUrl) -> Result<reqwest::Client, ConfigError> {
    let policy = reqwest::redirect::Policy::custom(|attempt| {
        if attempt.previous().len() >= MAX_REDIRECTS {
            attempt.error("too many redirects")
        } else if allowed(attempt.url()) {
            attempt.follow()
        } else {
            attempt.error("a redirect to plain http outside loopback")
        }
    });
    // Plain http is allowed only to loopback, on the premise that the
    // connection is direct: a proxy there could answer with keys of its
    // own. So `http_proxy`, `HTTP_PROXY` and `ALL_PROXY` are never used
    // for it (nor for a redirect to it); an https fetch may be tunnelled
    // (`CONNECT`: TLS stays end to end, the certificate is still ours
    // to check).
    let mut builder = reqwest::Client::builder().no_proxy();
    if let Some(proxy) = https_proxy_from_env()? {
        builder = builder.proxy(proxy);
    }
    builder
        .timeout(config.timeout)
        .connect_timeout(config.timeout)
        .redirect(policy)
        .user_agent(concat!("approov-core/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| {
            ConfigError::invalid(
                &config.source,
                format!("cannot build the HTTP client: {}", describe(e)),
            )
        })
}

struct Fetcher {
    url: reqwest::Url,
    shown: String,
    config: JwksUrl,
    clock: Arc<dyn Clock>,
    shared: Arc<Shared>,
    client: reqwest::Client,
    /// The digest of the last good document: the same document again
    /// swaps nothing.
    last_digest: Option<digest::Digest>,
}

impl Fetcher {
    fn run(mut self, store: Weak<KeyStore>, first: mpsc::SyncSender<Result<(), String>>) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build();
        let runtime = match runtime {
            Ok(runtime) => runtime,
            Err(e) => {
                let _ = first.send(Err(format!("cannot start its runtime: {e}")));
                return;
            }
        };
        runtime.block_on(async move {
            // A clone shares the connection pool; it keeps `self` free to borrow.
            let client = self.client.clone();
            let Some(keys) = store.upgrade() else { return };
            let result = self.refresh(&client, &keys).await;
            drop(keys);
            let _ = first.send(result);
            self.serve(&client, &store).await;
        });
    }

    /// Waits for a reason to fetch (a refresh due, an unknown `kid`),
    /// fetches, and again, until the verifier is dropped.
    async fn serve(&mut self, client: &reqwest::Client, store: &Weak<KeyStore>) {
        let s = Arc::clone(&self.shared);
        loop {
            let now = millis(self.clock.now());
            let mut next = s.refresh_at.load(Ordering::Acquire);
            if s.kid_wanted.load(Ordering::Acquire) {
                next = next.min(s.kid_fetch_after.load(Ordering::Acquire));
            }
            // Capped, so a clock moved by hand is looked at again.
            let wait = Duration::from_millis(next.saturating_sub(now).min(3_600_000));
            tokio::select! {
                () = s.notify.notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
            s.woken.store(false, Ordering::Release);
            if s.stop.load(Ordering::Acquire) {
                return;
            }
            let now = millis(self.clock.now());
            let due = now >= s.refresh_at.load(Ordering::Acquire);
            let kid = s.kid_wanted.load(Ordering::Acquire)
                && now >= s.kid_fetch_after.load(Ordering::Acquire);
            if !due && !kid {
                continue;
            }
            let Some(keys) = store.upgrade() else { return };
            let _ = self.refresh(client, &keys).await;
        }
    }

    /// One fetch: on success the URL's keys are replaced (when the document
    /// changed); on failure the last good keys stay.
    async fn refresh(&mut self, client: &reqwest::Client, store: &KeyStore) -> Result<(), String> {
        let shared = Arc::clone(&self.shared);
        let s = &*shared;
        s.kid_wanted.store(false, Ordering::Release);
        let result = self.fetch(client).await;
        let now = millis(self.clock.now());
        s.kid_fetch_after.store(
            add(now, self.config.unknown_kid_interval),
            Ordering::Release,
        );
        let result = result.and_then(|(text, max_age)| {
            self.install(&text, store)?;
            Ok(max_age)
        });
        match result {
            Ok(max_age) => {
                crate::metrics::jwks_fetch(true);
                let every = max_age
                    .unwrap_or(self.config.refresh_default)
                    .clamp(self.config.refresh_min, self.config.refresh_max);
                s.refresh_at.store(add(now, every), Ordering::Release);
                let streak = s.failing_for.swap(0, Ordering::AcqRel);
                s.fetched.fetch_add(1, Ordering::AcqRel);
                if streak > 0 {
                    tracing::info!(
                        target: "approov",
                        url = %self.shown,
                        failures = streak,
                        "JWKS fetched again after failures"
                    );
                }
                Ok(())
            }
            Err(problem) => {
                crate::metrics::jwks_fetch(false);
                s.refresh_at
                    .store(add(now, self.config.refresh_min), Ordering::Release);
                let streak = s.failing_for.fetch_add(1, Ordering::AcqRel);
                s.failed.fetch_add(1, Ordering::AcqRel);
                if streak == 0 {
                    tracing::error!(
                        target: "approov",
                        url = %self.shown,
                        "JWKS fetch failed, the last good keys stay in use: {problem}"
                    );
                } else {
                    tracing::debug!(
                        target: "approov",
                        url = %self.shown,
                        failures = streak + 1,
                        "JWKS fetch failed again: {problem}"
                    );
                }
                Err(problem)
            }
        }
    }

    /// The document and its `max-age`.
    async fn fetch(&self, client: &reqwest::Client) -> Result<(String, Option<Duration>), String> {
        let max = self.config.max_size;
        let mut response = client
            .get(self.url.clone())
            .header(
                reqwest::header::ACCEPT,
                "application/jwk-set+json, application/json",
            )
            .send()
            .await
            .map_err(describe)?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("the server answered {status}"));
        }
        if response
            .content_length()
            .is_some_and(|len| len > max as u64)
        {
            return Err(format!("the response is over the {max}-byte limit"));
        }
        let max_age = max_age(response.headers());
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(describe)? {
            if body.len() + chunk.len() > max {
                return Err(format!("the response is over the {max}-byte limit"));
            }
            body.extend_from_slice(&chunk);
        }
        let text = String::from_utf8(body).map_err(|_| "the response is not UTF-8".to_owned())?;
        Ok((text, max_age))
    }

    /// Parses the document and swaps its keys in when it changed.
    fn install(&mut self, text: &str, store: &KeyStore) -> Result<(), String> {
        let digest = digest::digest(&digest::SHA256, text.as_bytes());
        if self
            .last_digest
            .is_some_and(|last| last.as_ref() == digest.as_ref())
        {
            return Ok(());
        }
        let (keys, skipped) =
            public_keys_from_jwks_lenient(text, &self.shown).map_err(|e| e.to_string())?;
        for problem in &skipped {
            tracing::warn!(target: "approov", url = %self.shown, "JWKS key skipped: {problem}");
        }
        let count = keys.len();
        store.set_source_keys(KeySet {
            hmac: Vec::new(),
            public: keys,
        });
        self.last_digest = Some(digest);
        tracing::info!(target: "approov", url = %self.shown, keys = count, "JWKS keys in use");
        Ok(())
    }
}

/// The environment's proxy for `https` URLs, read as curl reads it:
/// `HTTPS_PROXY` (or `https_proxy`), else `ALL_PROXY` (or `all_proxy`),
/// with the hosts of `NO_PROXY` (or `no_proxy`) reached directly. It
/// applies to `https` URLs only. The error names the variable, never its
/// value (which may hold the proxy's credentials).
fn https_proxy_from_env() -> Result<Option<reqwest::Proxy>, ConfigError> {
    let first = |names: [&'static str; 2]| {
        names.into_iter().find_map(|name| {
            std::env::var(name)
                .ok()
                .filter(|value| !value.trim().is_empty())
                .map(|value| (name, value))
        })
    };
    let Some((name, value)) =
        first(["HTTPS_PROXY", "https_proxy"]).or_else(|| first(["ALL_PROXY", "all_proxy"]))
    else {
        return Ok(None);
    };
    let proxy = reqwest::Proxy::https(value.trim()).map_err(|_| {
        ConfigError::invalid(
            name,
            "it is not a proxy URL (e.g. http://proxy.example:3128)",
        )
    })?;
    Ok(Some(proxy.no_proxy(reqwest::NoProxy::from_env())))
}

/// `max-age` of the `Cache-Control` headers; `no-store` and `no-cache`
/// count as 0 (then clamped to the minimum).
fn max_age(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let mut found = None;
    for value in headers.get_all(reqwest::header::CACHE_CONTROL) {
        let Ok(value) = value.to_str() else { continue };
        for directive in value.split(',').map(str::trim) {
            let (name, arg) = directive.split_once('=').unwrap_or((directive, ""));
            let name = name.trim();
            if name.eq_ignore_ascii_case("no-store") || name.eq_ignore_ascii_case("no-cache") {
                return Some(Duration::ZERO);
            }
            if name.eq_ignore_ascii_case("max-age")
                && let Ok(seconds) = arg.trim().trim_matches('"').parse::<u64>()
            {
                found = Some(Duration::from_secs(seconds));
            }
        }
    }
    found
}

/// A reqwest error without its URL (which may hold credentials), with
/// its causes.
fn describe(e: reqwest::Error) -> String {
    use std::error::Error as _;
    let e = e.without_url();
    let mut text = if e.is_timeout() {
        "the request timed out".to_owned()
    } else {
        e.to_string()
    };
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn check_url(raw: &str, source: &str) -> Result<reqwest::Url, ConfigError> {
    // The parser's errors never quote the input.
    let url = reqwest::Url::parse(raw.trim())
        .map_err(|e| ConfigError::invalid(source, format!("it is not a URL: {e}")))?;
    if url.host_str().is_none() {
        return Err(ConfigError::invalid(source, "the URL has no host"));
    }
    if !allowed(&url) {
        return Err(ConfigError::invalid(
            source,
            format!(
                "{} is neither https nor http to a loopback address (plain http is \
                 allowed only to 127.0.0.1, ::1 or localhost)",
                redact(&url)
            ),
        ));
    }
    Ok(url)
}

fn allowed(url: &reqwest::Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => match url.host_str() {
            Some(host) if host.eq_ignore_ascii_case("localhost") => true,
            Some(host) => host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .is_ok_and(|ip| ip.is_loopback()),
            None => false,
        },
        _ => false,
    }
}

/// The URL without user information, query and fragment.
fn redact(url: &reqwest::Url) -> String {
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    format!(
        "{}://{}{port}{}",
        url.scheme(),
        url.host_str().unwrap_or_default(),
        url.path()
    )
}

fn redact_str(raw: &str) -> String {
    reqwest::Url::parse(raw.trim()).map_or_else(|_| "(not a URL)".to_owned(), |u| redact(&u))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let ok = |u: &str| check_url(u, "t").is_ok();
        assert!(ok("https://example.com/jwks.json"));
        assert!(ok("http://127.0.0.1:8080/jwks"));
        assert!(ok("http://127.5.0.1/jwks"));
        assert!(ok("http://[::1]:9/jwks"));
        assert!(ok("http://localhost/jwks"));
        assert!(!ok("http://example.com/jwks"));
        assert!(!ok("http://10.0.0.1/jwks"));
        assert!(!ok("ftp://example.com/jwks"));
        assert!(!ok("not a url"));
        let err = check_url("http://user:pw@example.com/j?token=s3cret", "t")
            .unwrap_err()
            .to_string();
        assert!(err.contains("http://example.com/j"), "{err}");
        assert!(!err.contains("pw") && !err.contains("s3cret"), "{err}");
    }

    #[test]
    fn cache_control() {
        use reqwest::header::{CACHE_CONTROL, HeaderMap, HeaderValue};
        let age = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(CACHE_CONTROL, HeaderValue::from_static(v));
            max_age(&h)
        };
        assert_eq!(age("public, max-age=600"), Some(Duration::from_secs(600)));
        assert_eq!(age("MAX-AGE = 5"), Some(Duration::from_secs(5)));
        assert_eq!(age("no-store"), Some(Duration::ZERO));
        assert_eq!(age("max-age=soon"), None);
        assert_eq!(max_age(&HeaderMap::new()), None);
    }
}
