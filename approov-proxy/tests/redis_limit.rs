//! `REDIS_URL`: the per-device rate limit shared by every proxy that uses
//! the same Redis, against a real `redis-server` started here; Redis
//! stopped and started again under running proxies; `REDIS_UNAVAILABLE`.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;
use std::time::Instant;

use common::redis::Redis;
use common::upstream::{PROXY, Upstream, get, start_proxy};
use common::{
    LIMIT, Server, command, metric, request, run, shared_limit_proxy, statuses, statuses_in_turn,
};

const DEVICE_A: &str = "device-a-did==";
const DEVICE_B: &str = "device-b-did==";

/// A proxy on `upstream` sharing `redis`, 3 requests per device per
/// minute, with its metrics on a port of its own.
fn proxy(upstream: &Upstream, redis_url: &str, extra: &[(&str, &str)]) -> (Server, SocketAddr) {
    shared_limit_proxy(upstream, ("REDIS_URL", redis_url), extra)
}

/// Waits (bounded) until a request through `proxy` for a device never
/// seen before is decided by Redis again: the key count grows.
async fn wait_shared_again(proxy: &Server, redis: &Redis) {
    let deadline = Instant::now() + LIMIT;
    for probe in 0.. {
        let before: u64 = redis.query(&["DBSIZE"]);
        let res = get(proxy.addr, "/x", Some(&format!("probe-{probe}")), &[]).await;
        assert_eq!(res.status, 200, "{}", res.text());
        let after: u64 = redis.query(&["DBSIZE"]);
        if after > before {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the proxy never used redis again"
        );
        // Pacing the probes while the proxy's backoff runs out (bounded).
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// A proxy configured by a routes file naming the Redis (`redis_url`),
/// with one route like the single upstream of [`proxy`].
fn proxy_from_file(upstream: &Upstream, redis_url: &str) -> Server {
    let path = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("redis-limit-{}.toml", std::process::id()));
    let text = format!(
        "redis_url = \"{redis_url}\"\n\n[[route]]\nname = \"default\"\nprefix = \"/\"\n\
         upstream = \"{}\"\nkey_env = \"ROUTE_KEY\"\nkey_header = \"X-Api-Key\"\n\
         rate_limit_per_device_per_minute = 3\n",
        upstream.url()
    );
    std::fs::write(&path, text).unwrap();
    let path = path.to_str().unwrap().to_owned();
    start_proxy(&[("PROXY_CONFIG", &path), ("ROUTE_KEY", "redis-test-key")])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_proxies_sharing_redis_allow_a_device_its_limit_once() {
    let redis = Redis::start();
    let upstream = Upstream::start();
    let (one, one_metrics) = proxy(&upstream, &redis.url(), &[]);
    // The other names the Redis in its routes file.
    let two = proxy_from_file(&upstream, &redis.url());

    // Three requests in all, whichever proxy they reach.
    let mut answers = Vec::new();
    for addr in [one.addr, two.addr, one.addr, two.addr, one.addr] {
        answers.push(get(addr, "/x", Some(DEVICE_A), &[]).await);
    }
    assert_eq!(statuses(&answers), [200, 200, 200, 429, 429]);
    assert_eq!(upstream.recorded().len(), 3);
    // Retry-After from the script's answer: 3 a minute, the next in 20 s.
    for refused in &answers[3..] {
        let retry: u64 = refused.headers["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=20).contains(&retry), "Retry-After: {retry}");
        assert!(refused.text().contains("\"error\":\"rate_limited\""));
    }

    // Another device has its own budget, on both proxies together.
    assert_eq!(
        statuses_in_turn([two.addr, one.addr, two.addr, one.addr], Some(DEVICE_B)).await,
        [200, 200, 200, 429]
    );
    // Tokens without `did` share one budget across the proxies too.
    assert_eq!(
        statuses_in_turn([one.addr, two.addr, one.addr, two.addr], None).await,
        [200, 200, 200, 429]
    );

    // One key per device and route, named by the hash of the device id,
    // and each expires on its own.
    let keys: Vec<String> = redis.query(&["KEYS", "*"]);
    assert_eq!(keys.len(), 3, "{keys:?}");
    for key in &keys {
        assert!(key.starts_with("approov-proxy:rate:{default:"), "{key}");
        assert!(key.ends_with('}'), "{key}");
        assert!(!key.contains("device-"), "a device id in a key: {key}");
        let ttl: i64 = redis.query(&["PTTL", key]);
        assert!(ttl > 0 && ttl <= 60_000, "{key}: PTTL {ttl}");
    }

    assert_eq!(metric(one_metrics, "approov_proxy_redis_up"), Some(1.0));
    assert_eq!(
        metric(
            one_metrics,
            "approov_proxy_redis_fallbacks_total{route=\"default\"}"
        ),
        None
    );
    let (_, log) = one.stop();
    assert!(!log.contains("falling back"), "{log}");
    assert!(!log.contains(DEVICE_A), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_stopped_then_back_falls_back_then_shares_again() {
    let mut redis = Redis::start();
    let upstream = Upstream::start();
    let (one, one_metrics) = proxy(&upstream, &redis.url(), &[]);
    let (two, _) = proxy(&upstream, &redis.url(), &[]);
    assert_eq!(get(one.addr, "/x", Some(DEVICE_A), &[]).await.status, 200);

    redis.stop();
    // Each proxy limits on its own: the device gets 3 on each, and no
    // request fails for want of Redis.
    for addr in [one.addr, two.addr] {
        assert_eq!(
            statuses_in_turn([addr; 4], Some(DEVICE_B)).await,
            [200, 200, 200, 429]
        );
    }
    let fallbacks = metric(
        one_metrics,
        "approov_proxy_redis_fallbacks_total{route=\"default\"}",
    )
    .unwrap();
    assert!(fallbacks >= 4.0, "{fallbacks}");
    assert_eq!(metric(one_metrics, "approov_proxy_redis_up"), Some(0.0));

    redis.restart();
    wait_shared_again(&one, &redis).await;
    wait_shared_again(&two, &redis).await;
    assert_eq!(metric(one_metrics, "approov_proxy_redis_up"), Some(1.0));
    assert_eq!(
        statuses_in_turn(
            [two.addr, one.addr, two.addr, one.addr, two.addr],
            Some("device-c-did==")
        )
        .await,
        [200, 200, 200, 429, 429]
    );

    // Each change of mode is logged once.
    for server in [one, two] {
        let (_, log) = server.stop();
        assert_eq!(
            log.matches("redis unavailable, falling back to the in-process limit")
                .count(),
            1,
            "{log}"
        );
        assert_eq!(log.matches("redis available again").count(), 1, "{log}");
    }
}

/// A Redis that stops answering without closing its connections costs a
/// request at most `REDIS_TIMEOUT_MS`: never a hang, never a 5xx.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_that_stops_answering_is_timed_out_and_the_proxy_falls_back() {
    let redis = Redis::start();
    let upstream = Upstream::start();
    let (proxy, metrics) = proxy(&upstream, &redis.url(), &[("REDIS_TIMEOUT_MS", "50")]);
    assert_eq!(get(proxy.addr, "/x", Some(DEVICE_A), &[]).await.status, 200);
    redis.pause();
    assert_eq!(
        statuses_in_turn([proxy.addr; 4], Some(DEVICE_B)).await,
        [200, 200, 200, 429]
    );
    assert_eq!(metric(metrics, "approov_proxy_redis_up"), Some(0.0));
    redis.resume();
    wait_shared_again(&proxy, &redis).await;
    let (_, log) = proxy.stop();
    assert_eq!(log.matches("falling back").count(), 1, "{log}");
    assert_eq!(log.matches("redis available again").count(), 1, "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuse_mode_answers_503_while_redis_is_down() {
    let mut redis = Redis::start();
    let upstream = Upstream::start();
    let (proxy, metrics) = proxy(&upstream, &redis.url(), &[("REDIS_UNAVAILABLE", "refuse")]);
    assert_eq!(get(proxy.addr, "/x", Some(DEVICE_A), &[]).await.status, 200);
    redis.stop();
    let res = get(proxy.addr, "/x", Some(DEVICE_A), &[]).await;
    assert_eq!(res.status, 503, "{}", res.text());
    assert!(res.text().contains("\"error\":\"rate_limit_unavailable\""));
    assert!(res.headers.contains_key("retry-after"));
    assert_eq!(upstream.recorded().len(), 1);
    let fallbacks = metric(
        metrics,
        "approov_proxy_redis_fallbacks_total{route=\"default\"}",
    );
    assert_eq!(fallbacks, Some(1.0));
    let (_, log) = proxy.stop();
    assert!(log.contains("redis unavailable: requests on rate-limited routes are refused"));
}

/// A Redis that is not there at start-up is the fallback case, not a
/// configuration error; its password appears nowhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_redis_at_start_up_is_not_fatal() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let url = format!("redis://:redis-pass-s3cret@127.0.0.1:{port}/0");
    let upstream = Upstream::start();
    let (proxy, metrics) = proxy(&upstream, &url, &[]);
    assert_eq!(
        statuses_in_turn([proxy.addr; 4], Some(DEVICE_A)).await,
        [200, 200, 200, 429]
    );
    assert_eq!(metric(metrics, "approov_proxy_redis_up"), Some(0.0));
    let (_, log) = proxy.stop();
    assert!(
        log.contains("falling back to the in-process limit"),
        "{log}"
    );
    assert!(log.contains(&format!("127.0.0.1:{port}")), "{log}");
    assert!(!log.contains("redis-pass-s3cret"), "{log}");
}

#[test]
fn malformed_redis_url_stops_the_start_naming_the_variable() {
    let mut cmd = command(PROXY);
    cmd.envs([
        ("APPROOV_BASE64_SECRET", common::SECRET),
        ("UPSTREAM_URL", "http://127.0.0.1:9"),
        ("API_KEY", "k"),
        ("API_KEY_HEADER", "X-Api-Key"),
        ("RATE_LIMIT_PER_DEVICE_PER_MINUTE", "3"),
        ("REDIS_URL", "redis//:pass-s3cret@host"),
    ]);
    let out = run(cmd);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        out.stderr
            .starts_with("approov-proxy: REDIS_URL is not usable"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(!out.stderr.contains("s3cret"), "{}", out.stderr);
}

/// The forward-auth endpoint draws on the same shared budget: two proxies
/// answering nginx's checks allow one device its limit once in total.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forward_auth_proxies_share_the_limit_through_redis() {
    let redis = Redis::start();
    let url = redis.url();
    let envs = [
        ("AUTH_ENDPOINT", "/approov/auth"),
        ("RATE_LIMIT_PER_DEVICE_PER_MINUTE", "3"),
        ("REDIS_URL", url.as_str()),
    ];
    let first = start_proxy(&envs);
    let second = start_proxy(&envs);
    let token = common::upstream::token(Some(DEVICE_A));
    let check = |addr: SocketAddr| {
        let token = token.clone();
        async move {
            let headers = [
                ("Approov-Token", token.as_str()),
                ("X-Original-Method", "GET"),
                ("X-Original-URI", "/api/items"),
            ];
            tokio::task::block_in_place(|| request(addr, "GET", "/approov/auth", &headers))
        }
    };
    let mut got = Vec::new();
    for addr in [first.addr, second.addr, first.addr, second.addr, first.addr] {
        got.push(check(addr).await.status);
    }
    // nginx gets each 429 as a 403 that says so in `Approov-Status`.
    assert_eq!(got, [200, 200, 200, 403, 403]);
    let keys: u64 = redis.query(&["DBSIZE"]);
    assert_eq!(keys, 1);
    for server in [first, second] {
        let (_, stderr) = tokio::task::block_in_place(|| server.stop());
        assert!(!stderr.contains(DEVICE_A), "{stderr}");
        assert!(!stderr.contains("falling back"), "{stderr}");
    }
}
