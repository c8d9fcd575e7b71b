//! `rediss://`: the shared per-device limit over TLS, against a real
//! `redis-server --tls-port` with a certificate from a CA the test makes
//! (`REDIS_TLS_CA_FILE`), and one that requires a client certificate
//! (`REDIS_TLS_CERT_FILE`, `REDIS_TLS_KEY_FILE`); a server the webpki roots
//! do not vouch for, one asking for a certificate the proxy lacks, and one
//! killed mid-run, fall back without a 5xx.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;

use common::redis::TlsRedis;
use common::upstream::{PROXY, Upstream, get};
use common::{Server, command, metric, run, shared_limit_proxy, statuses_in_turn};

const DEVICE_A: &str = "device-a-did==";
const DEVICE_B: &str = "device-b-did==";

/// A proxy on `upstream` sharing the Redis at `redis_url`, 3 requests per
/// device per minute, with its metrics on a port of its own.
fn proxy(upstream: &Upstream, redis_url: &str, extra: &[(&str, &str)]) -> (Server, SocketAddr) {
    let mut envs = vec![("REDIS_TIMEOUT_MS", "500")];
    envs.extend_from_slice(extra);
    shared_limit_proxy(upstream, ("REDIS_URL", redis_url), &envs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_proxies_share_the_limit_over_tls_with_a_private_ca() {
    let redis = TlsRedis::start();
    let upstream = Upstream::start();
    let ca = [("REDIS_TLS_CA_FILE", redis.certificates.ca.as_str())];
    let (one, one_metrics) = proxy(&upstream, &redis.url(), &ca);
    let (two, _) = proxy(&upstream, &redis.url(), &ca);

    assert_eq!(
        statuses_in_turn(
            [one.addr, two.addr, one.addr, two.addr, one.addr],
            Some(DEVICE_A)
        )
        .await,
        [200, 200, 200, 429, 429]
    );
    assert_eq!(upstream.recorded().len(), 3);
    // The budget is in the TLS Redis: one key, for the one device.
    assert_eq!(redis.query(&["DBSIZE"]), "1");
    let keys = redis.query(&["KEYS", "approov-proxy:*"]);
    assert!(!keys.contains("device-"), "{keys}");
    assert_eq!(metric(one_metrics, "approov_proxy_redis_up"), Some(1.0));
    for server in [one, two] {
        let (_, log) = server.stop();
        assert!(!log.contains("falling back"), "{log}");
        assert!(
            log.contains("the per-device rate limit is shared through redis"),
            "{log}"
        );
    }
}

/// A Redis that requires a client certificate (`tls-auth-clients yes`,
/// redis-server's default on a TLS port): two proxies showing one from its
/// CA share the limit; one without falls back, logged once, with no 5xx.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_certificate_is_shown_to_a_redis_that_requires_one() {
    let redis = TlsRedis::start_requiring_client_certificates();
    let upstream = Upstream::start();
    let c = &redis.certificates;
    let with_certificate = [
        ("REDIS_TLS_CA_FILE", c.ca.as_str()),
        ("REDIS_TLS_CERT_FILE", c.client_cert.as_str()),
        ("REDIS_TLS_KEY_FILE", c.client_key.as_str()),
    ];
    let (one, one_metrics) = proxy(&upstream, &redis.url(), &with_certificate);
    let (two, _) = proxy(&upstream, &redis.url(), &with_certificate);
    assert_eq!(
        statuses_in_turn(
            [one.addr, two.addr, one.addr, two.addr, one.addr],
            Some(DEVICE_A)
        )
        .await,
        [200, 200, 200, 429, 429]
    );
    assert_eq!(redis.query(&["DBSIZE"]), "1");
    assert_eq!(metric(one_metrics, "approov_proxy_redis_up"), Some(1.0));

    // Without one the server ends the handshake: each proxy on its own.
    let (lacking, lacking_metrics) = proxy(
        &upstream,
        &redis.url(),
        &[("REDIS_TLS_CA_FILE", c.ca.as_str())],
    );
    assert_eq!(
        statuses_in_turn([lacking.addr; 4], Some(DEVICE_B)).await,
        [200, 200, 200, 429]
    );
    assert_eq!(
        redis.query(&["DBSIZE"]),
        "1",
        "DEVICE_B never reached Redis"
    );
    assert_eq!(metric(lacking_metrics, "approov_proxy_redis_up"), Some(0.0));
    let (_, log) = lacking.stop();
    assert_eq!(log.matches("falling back").count(), 1, "{log}");
    for server in [one, two] {
        let (_, log) = server.stop();
        assert!(!log.contains("falling back"), "{log}");
        assert!(!log.contains("PRIVATE KEY"), "{log}");
    }
}

/// Without `REDIS_TLS_CA_FILE` only the webpki roots are trusted: the
/// test CA is not one of them, so the handshake fails and the proxy limits
/// on its own, logged once, with no 5xx.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_the_webpki_roots_do_not_vouch_for_is_refused() {
    let redis = TlsRedis::start();
    let upstream = Upstream::start();
    let (proxy, metrics) = proxy(&upstream, &redis.url(), &[]);
    assert_eq!(
        statuses_in_turn([proxy.addr; 4], Some(DEVICE_A)).await,
        [200, 200, 200, 429]
    );
    assert_eq!(metric(metrics, "approov_proxy_redis_up"), Some(0.0));
    assert!(
        metric(
            metrics,
            "approov_proxy_redis_fallbacks_total{route=\"default\"}"
        )
        .is_some_and(|n| n >= 1.0)
    );
    // Nothing was written to Redis.
    assert_eq!(redis.query(&["DBSIZE"]), "0");
    let (_, log) = proxy.stop();
    assert_eq!(
        log.matches("redis unavailable, falling back to the in-process limit")
            .count(),
        1,
        "{log}"
    );
}

/// A plain `redis://` client against the TLS port gets nothing it can
/// read, and the reverse: a `rediss://` URL on a port that speaks plain
/// Redis. Both fall back; neither hangs nor answers 5xx.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_against_a_plain_redis_falls_back() {
    let plain = common::redis::Redis::start();
    let tls_url = format!("rediss://127.0.0.1:{}", plain.port);
    let ca_redis = TlsRedis::start();
    let upstream = Upstream::start();
    let (proxy, metrics) = proxy(
        &upstream,
        &tls_url,
        &[("REDIS_TLS_CA_FILE", ca_redis.certificates.ca.as_str())],
    );
    assert_eq!(
        statuses_in_turn([proxy.addr; 4], Some(DEVICE_B)).await,
        [200, 200, 200, 429]
    );
    assert_eq!(metric(metrics, "approov_proxy_redis_up"), Some(0.0));
    let keys: u64 = plain.query(&["DBSIZE"]);
    assert_eq!(keys, 0);
    let (_, log) = proxy.stop();
    assert_eq!(log.matches("falling back").count(), 1, "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_redis_killed_mid_run_falls_back_without_5xx() {
    let mut redis = TlsRedis::start();
    let upstream = Upstream::start();
    let ca = [("REDIS_TLS_CA_FILE", redis.certificates.ca.as_str())];
    let (one, one_metrics) = proxy(&upstream, &redis.url(), &ca);
    let (two, _) = proxy(&upstream, &redis.url(), &ca);
    assert_eq!(get(one.addr, "/x", Some(DEVICE_A), &[]).await.status, 200);
    assert_eq!(get(two.addr, "/x", Some(DEVICE_A), &[]).await.status, 200);
    assert_eq!(redis.query(&["DBSIZE"]), "1");

    redis.stop();
    // Each proxy limits on its own: 3 on each, no request fails.
    for addr in [one.addr, two.addr] {
        assert_eq!(
            statuses_in_turn([addr; 4], Some(DEVICE_B)).await,
            [200, 200, 200, 429]
        );
    }
    assert_eq!(metric(one_metrics, "approov_proxy_redis_up"), Some(0.0));
    for server in [one, two] {
        let (_, log) = server.stop();
        assert_eq!(
            log.matches("redis unavailable, falling back to the in-process limit")
                .count(),
            1,
            "{log}"
        );
    }
}

/// `approov-proxy check` names the Redis by address, says TLS and where
/// its CA comes from, never the password.
#[test]
fn check_shows_tls_and_the_ca_file_without_the_password() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("redis-tls-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let certificates = common::redis::Certificates::make(&dir);
    let base = [
        ("APPROOV_BASE64_SECRET", common::SECRET),
        ("UPSTREAM_URL", "http://127.0.0.1:9"),
        ("API_KEY", "k"),
        ("API_KEY_HEADER", "X-Api-Key"),
        ("RATE_LIMIT_PER_DEVICE_PER_MINUTE", "3"),
    ];
    for (vars, expected) in [
        (
            vec![
                ("REDIS_URL", "rediss://:redis-PASSWORD@127.0.0.1:6380"),
                ("REDIS_TLS_CA_FILE", certificates.ca.as_str()),
            ],
            "rate limit shared through Redis at 127.0.0.1:6380 over TLS (CA from \
             REDIS_TLS_CA_FILE) (timeout 100 ms, when unavailable: local)",
        ),
        (
            vec![
                ("REDIS_URL", "rediss://:redis-PASSWORD@127.0.0.1:6380"),
                ("REDIS_TLS_CERT_FILE", certificates.client_cert.as_str()),
                ("REDIS_TLS_KEY_FILE", certificates.client_key.as_str()),
            ],
            "rate limit shared through Redis at 127.0.0.1:6380 over TLS (webpki roots, client \
             certificate from REDIS_TLS_CERT_FILE) (timeout 100 ms, when unavailable: local)",
        ),
        (
            vec![(
                "REDIS_CLUSTER_URLS",
                "rediss://:redis-PASSWORD@127.0.0.1:7000,rediss://:redis-PASSWORD@127.0.0.1:7001",
            )],
            "rate limit shared through Redis Cluster (2 seed nodes: 127.0.0.1:7000, \
             127.0.0.1:7001) over TLS (webpki roots) (timeout 100 ms, when unavailable: local)",
        ),
    ] {
        let mut cmd = command(PROXY);
        cmd.arg("check").envs(base).envs(vars);
        let out = run(cmd);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        assert!(out.stdout.contains(expected), "{}", out.stdout);
        assert!(!out.stdout.contains("PASSWORD"), "{}", out.stdout);
        assert!(!out.stdout.contains("PRIVATE KEY"), "{}", out.stdout);
    }
}

/// Start-up errors name the setting, never the URL or its password.
#[test]
fn tls_configuration_errors_stop_the_start() {
    let base = [
        ("APPROOV_BASE64_SECRET", common::SECRET),
        ("UPSTREAM_URL", "http://127.0.0.1:9"),
        ("API_KEY", "k"),
        ("API_KEY_HEADER", "X-Api-Key"),
        ("RATE_LIMIT_PER_DEVICE_PER_MINUTE", "3"),
    ];
    for (vars, expected) in [
        (
            vec![(
                "REDIS_URL",
                "rediss://:pass-s3cret@127.0.0.1:6380/#insecure",
            )],
            "approov-proxy: REDIS_URL is not usable",
        ),
        (
            vec![
                ("REDIS_URL", "rediss://:pass-s3cret@127.0.0.1:6380"),
                ("REDIS_TLS_CA_FILE", "/nonexistent/ca.pem"),
            ],
            "approov-proxy: REDIS_TLS_CA_FILE is not usable",
        ),
        (
            vec![
                ("REDIS_URL", "redis://:pass-s3cret@127.0.0.1:6379"),
                ("REDIS_CLUSTER_URLS", "redis://:pass-s3cret@127.0.0.1:7000"),
            ],
            "approov-proxy: REDIS_URL and REDIS_CLUSTER_URLS are both set",
        ),
        (
            vec![
                ("REDIS_URL", "rediss://:pass-s3cret@127.0.0.1:6380"),
                ("REDIS_TLS_CERT_FILE", "/nonexistent/client.pem"),
            ],
            "approov-proxy: REDIS_TLS_CERT_FILE is not usable: a client certificate needs its \
             private key too",
        ),
    ] {
        let mut cmd = command(PROXY);
        cmd.envs(base).envs(vars);
        let out = run(cmd);
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        assert!(out.stderr.starts_with(expected), "{}", out.stderr);
        assert!(!out.stderr.contains("s3cret"), "{}", out.stderr);
    }
}
