//! Leased slices of the shared budget (`REDIS_URL`), against a real
//! `redis-server` started here: two and three proxies sharing one Redis
//! allow a device exactly what one limiter would, with small limits (one
//! call per request) and large ones (slices spent without Redis, fewer
//! calls than requests); Redis killed or frozen in the middle of a run.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::redis::Redis;
use common::upstream::{TestBody, Upstream, full, start_proxy, token};
use common::{LIMIT, Server, metric, request};
use http_body_util::BodyExt;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// A proxy on `upstream` sharing `redis_url`, `n` requests per device per
/// minute, with its metrics on a port of its own.
fn proxy(upstream: &Upstream, redis_url: &str, n: u32, extra: &[(&str, &str)]) -> Server {
    let url = upstream.url();
    let n = n.to_string();
    let mut envs = vec![
        ("UPSTREAM_URL", url.as_str()),
        ("API_KEY", "lease-test-key"),
        ("API_KEY_HEADER", "X-Api-Key"),
        ("RATE_LIMIT_PER_DEVICE_PER_MINUTE", n.as_str()),
        ("REDIS_URL", redis_url),
        ("METRICS_ADDR", "127.0.0.1:0"),
    ];
    envs.extend_from_slice(extra);
    start_proxy(&envs)
}

/// How many times Redis ran a script (`EVALSHA`, and `EVAL` had one been
/// used), from `INFO commandstats`.
fn script_calls(redis: &Redis) -> u64 {
    let info: String = redis.query(&["INFO", "commandstats"]);
    info.lines()
        .filter(|l| l.starts_with("cmdstat_evalsha:") || l.starts_with("cmdstat_eval:"))
        .filter_map(|l| {
            l.split("calls=")
                .nth(1)?
                .split(',')
                .next()?
                .parse::<u64>()
                .ok()
        })
        .sum()
}

/// The statuses of a run, counted.
#[derive(Debug, Default)]
struct Tally {
    ok: AtomicUsize,
    limited: AtomicUsize,
    /// Anything else: must stay 0.
    other: AtomicUsize,
    done: AtomicUsize,
}

impl Tally {
    fn ok(&self) -> usize {
        self.ok.load(Ordering::Relaxed)
    }
    fn limited(&self) -> usize {
        self.limited.load(Ordering::Relaxed)
    }
    fn other(&self) -> usize {
        self.other.load(Ordering::Relaxed)
    }
    fn done(&self) -> usize {
        self.done.load(Ordering::Relaxed)
    }
}

/// Sends `total` `GET /x` for device `did`, from `tasks` concurrent
/// clients each on kept-alive connections, spread round-robin over
/// `proxies`, counting the answers in `tally`.
async fn hammer(
    proxies: Vec<SocketAddr>,
    did: &str,
    total: usize,
    tasks: usize,
    tally: Arc<Tally>,
) {
    let token = token(Some(did));
    let next = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let (proxies, token, next, tally) =
            (proxies.clone(), token.clone(), next.clone(), tally.clone());
        handles.push(tokio::spawn(async move {
            let client: Client<HttpConnector, TestBody> =
                Client::builder(TokioExecutor::new()).build_http();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return;
                }
                let addr = proxies[i % proxies.len()];
                let request = http::Request::get(format!("http://{addr}/x"))
                    .header("Approov-Token", &token)
                    .body(full(Bytes::new()))
                    .unwrap();
                let response = tokio::time::timeout(LIMIT, client.request(request))
                    .await
                    .expect("no answer in time: the proxy hung")
                    .expect("request failed");
                let status = response.status().as_u16();
                let _ = response.into_body().collect().await;
                let counter = match status {
                    200 => &tally.ok,
                    429 => &tally.limited,
                    _ => &tally.other,
                };
                counter.fetch_add(1, Ordering::Relaxed);
                tally.done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for handle in handles {
        handle.await.unwrap();
    }
}

/// A finished run of [`shared_run`].
struct Run {
    tally: Arc<Tally>,
    took: Duration,
    redis: Redis,
    upstream: Upstream,
    proxies: Vec<Server>,
}

impl Run {
    /// Stops the proxies, which never fell back nor logged the device id,
    /// and returns their count of calls to Redis.
    fn finish(self) -> f64 {
        let mut counted = 0.0;
        for server in self.proxies {
            counted += metric(
                server.metrics_addr(),
                "approov_proxy_redis_calls_total{route=\"default\"}",
            )
            .unwrap_or(0.0);
            let (_, log) = tokio::task::block_in_place(|| server.stop());
            assert!(!log.contains("falling back"), "{log}");
            assert!(!log.contains(DEVICE), "{log}");
        }
        counted
    }
}

const DEVICE: &str = "lease-device-did==";

/// `replicas` proxies at `n` a minute sharing one Redis take `total`
/// requests of one device from `tasks` clients.
async fn shared_run(replicas: usize, n: u32, total: usize, tasks: usize) -> Run {
    let redis = Redis::start();
    let upstream = Upstream::start();
    let proxies: Vec<Server> = (0..replicas)
        .map(|_| proxy(&upstream, &redis.url(), n, &[]))
        .collect();
    let addrs = proxies.iter().map(|p| p.addr).collect();
    let tally = Arc::new(Tally::default());
    let start = Instant::now();
    hammer(addrs, DEVICE, total, tasks, tally.clone()).await;
    Run {
        tally,
        took: start.elapsed(),
        redis,
        upstream,
        proxies,
    }
}

/// A small limit is not leased: one call per request, and the device gets
/// exactly its limit across the proxies, however they are hit.
async fn small_limit_exact(replicas: usize) {
    let run = shared_run(replicas, 10, 24, 6).await;
    let tally = &run.tally;
    assert_eq!(tally.ok(), 10, "{tally:?}");
    assert_eq!(tally.limited(), 14, "{tally:?}");
    assert_eq!(tally.other(), 0, "{tally:?}");
    assert_eq!(run.upstream.recorded().len(), 10);
    let calls = script_calls(&run.redis);
    assert!((10..=24).contains(&calls), "{calls} calls");
    // A refusal is kept until Redis's next cell (seconds away), rechecked
    // at most every second: three more requests on each proxy cost Redis
    // at most one call each.
    let token = token(Some(DEVICE));
    for server in &run.proxies {
        for _ in 0..3 {
            let res = tokio::task::block_in_place(|| {
                request(server.addr, "GET", "/x", &[("Approov-Token", &token)])
            });
            assert_eq!(res.status, 429, "{res:?}");
        }
    }
    let more = script_calls(&run.redis) - calls;
    assert!(more <= replicas as u64, "{more} calls for refused requests");
    assert_eq!(run.upstream.recorded().len(), 10);
    let counted = run.finish();
    assert!(counted >= 10.0, "{counted}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_proxies_allow_a_small_limit_exactly() {
    small_limit_exact(2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_proxies_allow_a_small_limit_exactly() {
    small_limit_exact(3).await;
}

/// 3000 a minute: a cell every 20 ms, 251 ms of lease life is a slack of
/// 13 cells, so Redis's burst is 2987 and a slice at most 13.
const LARGE: u32 = 3000;
const INTERVAL_US: u64 = 20_000;
const SLACK: usize = 13;

/// A large limit is leased: across the proxies the device never gets more
/// than GCRA at `n` allows in the run's window (`n` plus one per interval),
/// and no less than the burst less the slack and the slices the proxies
/// may hold unspent; Redis is asked far fewer times than requests came.
async fn large_limit_bounded(replicas: usize) {
    let total = 3400;
    let run = shared_run(replicas, LARGE, total, 24).await;
    let (tally, took) = (&run.tally, run.took);
    assert_eq!(tally.other(), 0, "{tally:?}");
    assert_eq!(tally.ok() + tally.limited(), total);
    let refill = usize::try_from(took.as_micros().div_ceil(u128::from(INTERVAL_US))).unwrap();
    let most = LARGE as usize + refill;
    let least = LARGE as usize - SLACK - replicas * SLACK;
    assert!(
        tally.ok() <= most,
        "{} allowed in {took:?}: more than {most}",
        tally.ok()
    );
    assert!(
        tally.ok() >= least,
        "{} allowed: fewer than {least}",
        tally.ok()
    );
    assert_eq!(run.upstream.recorded().len(), tally.ok());
    // Slices were leased: far fewer script calls than requests.
    let calls = script_calls(&run.redis);
    eprintln!(
        "{replicas} proxies: {tally:?} in {took:?}, {calls} script calls, bounds {least}..={most}"
    );
    assert!(
        calls < (total / 2) as u64,
        "{calls} script calls for {total} requests"
    );
    let counted = run.finish();
    assert!(counted < (total / 2) as f64, "{counted} calls counted");
    assert!(counted >= 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_proxies_lease_a_large_limit_without_over_admission() {
    large_limit_bounded(2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_proxies_lease_a_large_limit_without_over_admission() {
    large_limit_bounded(3).await;
}

/// How Redis goes away in the middle of a run.
#[derive(Clone, Copy)]
enum Outage {
    /// Killed: connections refused.
    Kill,
    /// Frozen (SIGSTOP): nothing answers, connections stay open.
    Pause,
}

/// Two proxies leasing a limit the device never reaches (60 000 a minute:
/// slices of at most 251, so each proxy must ask again after the outage);
/// Redis goes away
/// after a third of the run. Every request is answered 200 (held cells,
/// then the in-process limit), none hangs, and each proxy logs the change
/// once.
async fn redis_goes_away_mid_run(outage: Outage) {
    let mut redis = Redis::start();
    let upstream = Upstream::start();
    let extra = [("REDIS_TIMEOUT_MS", "100")];
    let proxies: Vec<Server> = (0..2)
        .map(|_| proxy(&upstream, &redis.url(), 60_000, &extra))
        .collect();
    let addrs: Vec<SocketAddr> = proxies.iter().map(|p| p.addr).collect();
    let total = 1500;
    let tally = Arc::new(Tally::default());
    let run = tokio::spawn(hammer(addrs, "outage-did==", total, 8, tally.clone()));
    let deadline = Instant::now() + LIMIT;
    while tally.done() < total / 3 {
        assert!(Instant::now() < deadline, "the run did not get going");
        // Polling the run's progress (bounded above).
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let calls_before = script_calls(&redis);
    match outage {
        Outage::Kill => redis.stop(),
        Outage::Pause => redis.pause(),
    }
    tokio::time::timeout(LIMIT, run)
        .await
        .expect("the run hung")
        .unwrap();
    if let Outage::Pause = outage {
        redis.resume();
    }
    assert_eq!(tally.ok(), total, "{tally:?}");
    assert!(calls_before >= 1);
    for server in proxies {
        let metrics = server.metrics_addr();
        assert_eq!(metric(metrics, "approov_proxy_redis_up"), Some(0.0));
        let fallbacks = metric(
            metrics,
            "approov_proxy_redis_fallbacks_total{route=\"default\"}",
        );
        assert!(fallbacks.is_some_and(|f| f >= 1.0), "{fallbacks:?}");
        let (_, log) = tokio::task::block_in_place(|| server.stop());
        assert_eq!(
            log.matches("redis unavailable, falling back to the in-process limit")
                .count(),
            1,
            "{log}"
        );
        assert!(!log.contains("panicked"), "{log}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_mid_run_falls_back_without_errors() {
    redis_goes_away_mid_run(Outage::Kill).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_frozen_mid_run_falls_back_without_errors() {
    redis_goes_away_mid_run(Outage::Pause).await;
}

/// How long a proxy spends a leased slice (the proxy's `LEASE_LIFE`).
const LEASE_LIFE: Duration = Duration::from_millis(250);

/// The unspent cells of a lease that ended go back to Redis with the
/// device's next call on that proxy, when nothing was granted on its key
/// since: the TAT is what a smaller lease would have left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ended_lease_gives_its_unspent_cells_back() {
    let redis = Redis::start();
    let upstream = Upstream::start();
    // 240 a minute: a cell every 250 ms, slices of at most 2.
    let proxy = proxy(&upstream, &redis.url(), 240, &[]);
    let token = token(Some(DEVICE));
    let get = || {
        tokio::task::block_in_place(|| {
            request(proxy.addr, "GET", "/x", &[("Approov-Token", &token)]).status
        })
    };
    // A slice of 1 (its call also loads the script), then (the device is
    // quick) one of 2: one cell unspent.
    assert_eq!(get(), 200);
    let first = script_calls(&redis);
    assert_eq!(get(), 200);
    assert_eq!(script_calls(&redis), first + 1);
    let keys: Vec<String> = redis.query(&["KEYS", "*"]);
    assert_eq!(keys.len(), 1, "{keys:?}");
    let tat = || redis.query::<i64>(&["GET", &keys[0]]);
    let before = tat();
    // The lease's life running out is what is tested: waited for, with
    // a margin, while the key (750 ms of budget) is still there.
    tokio::time::sleep(LEASE_LIFE + Duration::from_millis(50)).await;
    assert_eq!(get(), 200);
    assert_eq!(script_calls(&redis), first + 2);
    // A slice of 1 after the unspent cell went back: the TAT is where the
    // last lease left it, not a cell (250 000 µs) beyond.
    assert_eq!(tat(), before);
    assert_eq!(upstream.recorded().len(), 3);
    let (_, log) = tokio::task::block_in_place(|| proxy.stop());
    assert!(!log.contains("falling back"), "{log}");
}
