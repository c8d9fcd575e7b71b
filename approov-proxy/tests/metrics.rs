//! `METRICS_ADDR`: the proxy serves the core's counters and its own series
//! in Prometheus format at `GET /metrics` on a listener of its own; after a
//! known mix of requests the scraped counts are exact.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;

use common::raw_upstream::RawUpstream;
use common::upstream::{Upstream, full, send, start_keyed_proxy, start_proxy};
use common::{counts, scrape_metrics, token_expiring_in};

/// Each `approov_` sample and its value (see [`scrape_metrics`]), the
/// core's series and the proxy's apart.
fn scrape(addr: SocketAddr, tokens: &[&str]) -> (BTreeMap<String, u64>, BTreeMap<String, f64>) {
    let mut core = BTreeMap::new();
    let mut proxy = BTreeMap::new();
    for (name, value) in scrape_metrics(addr, tokens) {
        if name.starts_with("approov_proxy_") {
            proxy.insert(name, value.parse().unwrap());
        } else {
            core.insert(name, value.parse().unwrap());
        }
    }
    (core, proxy)
}

/// Report-only mode, where the figures matter before switching to
/// enforcing: rejections counted with `report_only="true"`, and the
/// requests let through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_counts_report_only_rejections() {
    let upstream = Upstream::start();
    let proxy = start_proxy(&[
        ("UPSTREAM_URL", &upstream.url()),
        ("API_KEY", "metrics-test-key"),
        ("API_KEY_HEADER", "X-Api-Key"),
        ("APPROOV_REPORT_ONLY", "true"),
        ("METRICS_ADDR", "127.0.0.1:0"),
    ]);
    let metrics = proxy.metrics_addr();
    let valid = token_expiring_in(3600);
    let expired = token_expiring_in(-60);
    for headers in [
        &[("Approov-Token", valid.as_str())][..],
        &[("Approov-Token", expired.as_str())][..],
        &[][..],
    ] {
        let res = send(proxy.addr, "GET", "/x", headers, full("")).await;
        assert_eq!(res.status, 200, "{res:?}");
    }
    assert_eq!(upstream.recorded().len(), 3);
    let (got, proxy_series) = tokio::task::block_in_place(|| scrape(metrics, &[&valid, &expired]));
    assert_eq!(
        proxy_series.get(r#"approov_proxy_requests_total{route="default",status="200"}"#),
        Some(&3.0),
        "{proxy_series:?}"
    );
    let want = counts(&[
        (r#"approov_requests_total{outcome="accepted"}"#, 1),
        (r#"approov_requests_total{outcome="report_only"}"#, 2),
        (
            r#"approov_rejections_total{kind="expired",report_only="true"}"#,
            1,
        ),
        (
            r#"approov_rejections_total{kind="missing",report_only="true"}"#,
            1,
        ),
        (r#"approov_token_cache_total{result="miss"}"#, 2),
    ]);
    assert_eq!(got, want);
    let (stdout, stderr) = tokio::task::block_in_place(|| proxy.stop());
    assert!(!stderr.contains("metrics-test-key"), "{stderr}");
    assert!(!stdout.contains("metrics-test-key"), "{stdout}");
}

/// The proxy's own series: requests by route and status (refusals of its
/// own and 401s included, `-` where no route matched), 429s by route, and
/// the upstream latency histogram, with one observation per upstream answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_series_count_routes_statuses_limits_and_upstream_time() {
    let upstream = Upstream::start();
    let dir = std::env::temp_dir().join(format!("approov-proxy-metrics-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("routes.toml");
    std::fs::write(
        &file,
        format!(
            "[[route]]\nname = \"api\"\nprefix = \"/api\"\nupstream = \"{}\"\n\
             key_env = \"METRICS_KEY\"\nkey_header = \"X-Api-Key\"\n\
             rate_limit_per_device_per_minute = 2\n",
            upstream.url()
        ),
    )
    .unwrap();
    let proxy = start_proxy(&[
        ("PROXY_CONFIG", file.to_str().unwrap()),
        ("METRICS_KEY", "metrics-test-key"),
        ("METRICS_ADDR", "127.0.0.1:0"),
    ]);
    let metrics = proxy.metrics_addr();
    let valid = token_expiring_in(3600);
    let with_token = [("Approov-Token", valid.as_str())];
    let mut statuses = Vec::new();
    for (path, headers) in [
        ("/api/a", &with_token[..]),
        ("/api/b", &with_token[..]),
        ("/api/c", &with_token[..]),
        ("/api/d", &[][..]),
        ("/api/%2e%2e/x", &with_token[..]),
        ("/elsewhere", &with_token[..]),
    ] {
        statuses.push(
            send(proxy.addr, "GET", path, headers, full(""))
                .await
                .status,
        );
    }
    assert_eq!(statuses, [200, 200, 429, 401, 400, 404]);
    let (_, got) = tokio::task::block_in_place(|| scrape(metrics, &[&valid]));
    let count = |name: &str| got.get(name).copied();
    assert_eq!(
        count(r#"approov_proxy_requests_total{route="api",status="200"}"#),
        Some(2.0),
        "{got:?}"
    );
    assert_eq!(
        count(r#"approov_proxy_requests_total{route="api",status="429"}"#),
        Some(1.0)
    );
    assert_eq!(
        count(r#"approov_proxy_requests_total{route="api",status="401"}"#),
        Some(1.0)
    );
    assert_eq!(
        count(r#"approov_proxy_requests_total{route="api",status="400"}"#),
        Some(1.0)
    );
    assert_eq!(
        count(r#"approov_proxy_requests_total{route="-",status="404"}"#),
        Some(1.0)
    );
    assert_eq!(
        count(r#"approov_proxy_rate_limited_total{route="api"}"#),
        Some(1.0)
    );
    assert_eq!(
        count(r#"approov_proxy_upstream_duration_seconds_count{route="api"}"#),
        Some(2.0)
    );
    assert_eq!(
        count(r#"approov_proxy_upstream_duration_seconds_bucket{route="api",le="+Inf"}"#),
        Some(2.0)
    );
    let (stdout, stderr) = tokio::task::block_in_place(|| proxy.stop());
    assert!(!stderr.contains("metrics-test-key"), "{stderr}");
    assert!(!stdout.contains("metrics-test-key"), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The upstream picks the status code: one outside the registry is counted
/// as `status="other"`, so an upstream answering hundreds of codes cannot
/// add hundreds of series per route.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_codes_outside_the_registry_are_counted_as_other() {
    // `/<code>` answers `<code>`.
    let upstream = RawUpstream::start(|path| {
        let code = path.trim_start_matches('/');
        format!("HTTP/1.1 {code} Odd\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            .into_bytes()
    });
    let proxy = start_keyed_proxy(
        &upstream.url(),
        "metrics-test-key",
        ("API_KEY_HEADER", "X-Api-Key"),
        &[("METRICS_ADDR", "127.0.0.1:0")],
    );
    let metrics = proxy.metrics_addr();
    let valid = token_expiring_in(3600);
    let with_token = [("Approov-Token", valid.as_str())];
    for code in [299, 599, 999, 200, 418] {
        let res = send(
            proxy.addr,
            "GET",
            &format!("/{code}"),
            &with_token,
            full(""),
        )
        .await;
        assert_eq!(res.status.as_u16(), code, "{res:?}");
    }
    let (_, got) = tokio::task::block_in_place(|| scrape(metrics, &[&valid]));
    let requests: BTreeMap<&str, f64> = got
        .iter()
        .filter(|(name, _)| name.starts_with("approov_proxy_requests_total{"))
        .map(|(name, value)| (name.as_str(), *value))
        .collect();
    let want = BTreeMap::from([
        (
            r#"approov_proxy_requests_total{route="default",status="200"}"#,
            1.0,
        ),
        (
            r#"approov_proxy_requests_total{route="default",status="418"}"#,
            1.0,
        ),
        (
            r#"approov_proxy_requests_total{route="default",status="other"}"#,
            3.0,
        ),
    ]);
    assert_eq!(requests, want);
    let (stdout, stderr) = tokio::task::block_in_place(|| proxy.stop());
    assert!(!stderr.contains("metrics-test-key"), "{stderr}");
    assert!(!stdout.contains("metrics-test-key"), "{stdout}");
}
