//! `METRICS_ADDR`: each example server serves the
//! core's counters in Prometheus format at `GET /metrics` on a listener of
//! their own; after a known mix of requests the scraped counts are exact.
//! A bad `METRICS_ADDR` stops start-up, naming the variable.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;

use common::{
    SECRET, SERVERS, Server, command, counts, request, run, scrape_metrics, token_expiring_in,
};

/// Each `approov_` sample and its count (see [`scrape_metrics`]).
fn scrape(addr: SocketAddr, tokens: &[&str]) -> BTreeMap<String, u64> {
    scrape_metrics(addr, tokens)
        .into_iter()
        .map(|(name, value)| (name, value.parse().unwrap()))
        .collect()
}

fn server_counts_a_known_mix(exe: &str) {
    let server = Server::start(
        exe,
        &[
            ("APPROOV_BASE64_SECRET", SECRET),
            ("METRICS_ADDR", "127.0.0.1:0"),
        ],
    );
    let metrics = server.metrics_addr();
    assert_ne!(metrics, server.addr);
    let valid = token_expiring_in(3600);
    let expired = token_expiring_in(-60);
    let status = |headers: &[(&str, &str)]| server.get("/", headers).status;
    assert_eq!(status(&[("Approov-Token", &valid)]), 200);
    assert_eq!(status(&[("Approov-Token", &valid)]), 200);
    assert_eq!(status(&[("Approov-Token", &expired)]), 401);
    assert_eq!(status(&[]), 401);
    assert_eq!(status(&[("Approov-Token", "not.a.jwt")]), 401);
    let preflight = request(
        server.addr,
        "OPTIONS",
        "/",
        &[
            ("Origin", "https://app.example"),
            ("Access-Control-Request-Method", "GET"),
        ],
    );
    assert_ne!(preflight.status, 401, "{preflight:?}");
    // The open path: let through, counted as such.
    assert_eq!(server.get("/health", &[]).status, 200);

    let got = scrape(metrics, &[&valid, &expired]);
    let want = counts(&[
        (r#"approov_requests_total{outcome="accepted"}"#, 2),
        (r#"approov_requests_total{outcome="rejected"}"#, 3),
        (r#"approov_requests_total{outcome="preflight_skipped"}"#, 1),
        (r#"approov_requests_total{outcome="open_path"}"#, 1),
        (
            r#"approov_rejections_total{kind="expired",report_only="false"}"#,
            1,
        ),
        (
            r#"approov_rejections_total{kind="missing",report_only="false"}"#,
            1,
        ),
        (
            r#"approov_rejections_total{kind="malformed",report_only="false"}"#,
            1,
        ),
        // The examples remember verified tokens: the valid token's repeat.
        (r#"approov_token_cache_total{result="hit"}"#, 1),
        // The valid token's first time, the expired and malformed ones.
        (r#"approov_token_cache_total{result="miss"}"#, 3),
    ]);
    assert_eq!(got, want, "{exe}");
    // Only /metrics is served there.
    assert_eq!(request(metrics, "GET", "/", &[]).status, 404);
    let (_, stderr) = server.stop();
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn axum_hello_serves_exact_metrics() {
    server_counts_a_known_mix(SERVERS[0]);
}

#[test]
fn actix_hello_serves_exact_metrics() {
    server_counts_a_known_mix(SERVERS[1]);
}

#[test]
fn warp_hello_serves_exact_metrics() {
    server_counts_a_known_mix(SERVERS[2]);
}

#[test]
fn a_bad_metrics_addr_stops_start_up_naming_it() {
    for exe in SERVERS {
        let mut cmd = command(exe);
        cmd.env("APPROOV_BASE64_SECRET", SECRET)
            .env("LISTEN_ADDR", "127.0.0.1:0")
            .env("METRICS_ADDR", "9090");
        let out = run(cmd);
        assert_eq!(out.status.code(), Some(2), "{exe}: {out:?}");
        assert!(out.stderr.contains("METRICS_ADDR"), "{exe}: {out:?}");
        assert!(!out.stdout.contains("listening on"), "{exe}: {out:?}");
    }
}

#[test]
fn metrics_are_off_by_default() {
    let server = Server::start(SERVERS[0], &[("APPROOV_BASE64_SECRET", SECRET)]);
    assert_eq!(server.get("/health", &[]).status, 200);
    let (stdout, _) = server.stop();
    assert!(!stdout.contains("metrics on"), "{stdout}");
}
