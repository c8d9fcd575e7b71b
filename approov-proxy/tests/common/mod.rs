//! The proxy's tests share the process and socket helpers of
//! `approov_conformance::process`; this adds a test upstream, a raw one
//! and a Redis.
#![allow(dead_code)]

pub mod raw_upstream;
pub mod redis;
pub mod upstream;

pub use approov_conformance::process::*;

use std::net::SocketAddr;

use upstream::{TestResponse, Upstream, start_proxy};

/// The value of the proxy's metrics sample `name` (with its labels), read
/// from its metrics listener at `addr`, if present.
pub fn metric(addr: SocketAddr, name: &str) -> Option<f64> {
    let res = request(addr, "GET", "/metrics", &[]);
    assert_eq!(res.status, 200, "{res:?}");
    res.body
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .map(|v| v.parse().unwrap())
}

/// The statuses of `responses`, in order.
pub fn statuses(responses: &[TestResponse]) -> Vec<u16> {
    responses.iter().map(|r| r.status.as_u16()).collect()
}

/// The statuses of `GET /x` with `did`'s token, sent one after another to
/// each of `addrs` in turn.
pub async fn statuses_in_turn(
    addrs: impl IntoIterator<Item = SocketAddr>,
    did: Option<&str>,
) -> Vec<u16> {
    let mut out = Vec::new();
    for addr in addrs {
        out.push(upstream::get(addr, "/x", did, &[]).await.status.as_u16());
    }
    out
}

/// A proxy on `upstream` sharing its limit through the Redis that `redis`
/// names (`("REDIS_URL", url)` or `("REDIS_CLUSTER_URLS", urls)`), 3
/// requests per device per minute, with its metrics on a port of its own;
/// `extra` comes last, so it may override these.
pub fn shared_limit_proxy(
    upstream: &Upstream,
    redis: (&str, &str),
    extra: &[(&str, &str)],
) -> (Server, SocketAddr) {
    let url = upstream.url();
    let mut envs = vec![
        ("UPSTREAM_URL", url.as_str()),
        ("API_KEY", "redis-test-key"),
        ("API_KEY_HEADER", "X-Api-Key"),
        ("RATE_LIMIT_PER_DEVICE_PER_MINUTE", "3"),
        redis,
        ("METRICS_ADDR", "127.0.0.1:0"),
    ];
    envs.extend_from_slice(extra);
    let server = start_proxy(&envs);
    let metrics = server.metrics_addr();
    (server, metrics)
}
