//! `REDIS_CLUSTER_URLS`: the shared per-device limit on a real three-node
//! Redis Cluster (`redis-server --cluster-enabled yes`, joined by
//! `redis-cli --cluster create` on loopback ports picked here): budgets
//! shared exactly and spread over the nodes, scripts loaded again after
//! `SCRIPT FLUSH` (also with a node down), a node and then the whole
//! cluster going away mid-run.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::redis::Cluster;
use common::upstream::{Upstream, get};
use common::{Server, metric, shared_limit_proxy, statuses_in_turn};

/// A proxy on `upstream` sharing the cluster at `urls`, 3 requests per
/// device per minute, with its metrics on a port of its own.
fn proxy(upstream: &Upstream, urls: &str) -> (Server, SocketAddr) {
    proxy_with(upstream, urls, &[])
}

fn proxy_with(upstream: &Upstream, urls: &str, extra: &[(&str, &str)]) -> (Server, SocketAddr) {
    let mut envs = vec![("REDIS_TIMEOUT_MS", "500")];
    envs.extend_from_slice(extra);
    shared_limit_proxy(upstream, ("REDIS_CLUSTER_URLS", urls), &envs)
}

const FALLBACKS: &str = "approov_proxy_redis_fallbacks_total{route=\"default\"}";

/// Sends `device`'s first request through `proxy` and returns the node
/// that now holds one more key: the node of the device's budget.
async fn first_request(cluster: &Cluster, proxy: &Server, device: &str) -> usize {
    let before = cluster.key_counts();
    let res = get(proxy.addr, "/x", Some(device), &[]).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let after = cluster.key_counts();
    let grown: Vec<usize> = (0..before.len())
        .filter(|&i| after[i] > before[i])
        .collect();
    assert_eq!(grown.len(), 1, "{device}: {before:?} -> {after:?}");
    grown[0]
}

/// The rest of `device`'s budget, alternating between the proxies: two
/// more allowed in all, then refused.
async fn spend_the_rest(device: &str, proxies: [&Server; 2]) {
    let [one, two] = proxies.map(|p| p.addr);
    assert_eq!(
        statuses_in_turn([two, one, two, one], Some(device)).await,
        [200, 200, 429, 429],
        "{device}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_proxies_share_budgets_spread_over_the_cluster() {
    let cluster = Cluster::start();
    let upstream = Upstream::start();
    let (one, one_metrics) = proxy(&upstream, &cluster.urls());
    // The other knows one seed only: it learns the rest from it.
    let (two, _) = proxy(
        &upstream,
        &format!("redis://127.0.0.1:{}", cluster.ports[1]),
    );

    let devices: Vec<String> = (0..8).map(|i| format!("cluster-device-{i}==")).collect();
    let mut nodes = Vec::new();
    for device in &devices {
        nodes.push(first_request(&cluster, &one, device).await);
        spend_the_rest(device, [&one, &two]).await;
    }
    nodes.sort_unstable();
    nodes.dedup();
    assert!(nodes.len() > 1, "every budget on one node: {nodes:?}");
    assert_eq!(cluster.key_counts().iter().sum::<u64>(), 8);
    assert_eq!(upstream.recorded().len(), 8 * 3);

    // Scripts gone from every node (a restart, a failover): the next
    // decision's NOSCRIPT loads the script again on the key's node.
    for i in 0..3 {
        assert_eq!(cluster.query(i, &["SCRIPT", "FLUSH"]), "OK");
    }
    // Loaded on the key's node only: the cluster client alone would send
    // `SCRIPT LOAD` to every primary, and fail while one is unreachable.
    let node = first_request(&cluster, &two, "after-flush-a==").await;
    for i in 0..3 {
        let expected = u64::from(i == node);
        assert_eq!(cluster.cached_scripts(i), expected, "node {i}");
    }
    spend_the_rest("after-flush-a==", [&two, &one]).await;
    for device in ["after-flush-b==", "after-flush-c=="] {
        let node = first_request(&cluster, &one, device).await;
        assert_eq!(cluster.cached_scripts(node), 1, "{device}");
        spend_the_rest(device, [&one, &two]).await;
    }
    assert_eq!(metric(one_metrics, "approov_proxy_redis_up"), Some(1.0));
    assert_eq!(metric(one_metrics, FALLBACKS), None);
    for server in [one, two] {
        let (_, log) = server.stop();
        assert!(!log.contains("falling back"), "{log}");
        assert!(log.contains("cluster 127.0.0.1:"), "{log}");
    }
}

/// The proxy backs off a failing cluster node by regions of 256 hash
/// slots (as `approov-proxy/src/limit/shared.rs` computes them).
const SLOTS_PER_REGION: u16 = 256;

/// Sends `device`'s first request through `proxy` and returns the node
/// that holds its key and the key's hash slot.
async fn placed(cluster: &Cluster, proxy: &Server, device: &str) -> (usize, u16) {
    let before: Vec<Vec<String>> = (0..3).map(|i| cluster.keys(i)).collect();
    let node = first_request(cluster, proxy, device).await;
    let key = cluster
        .keys(node)
        .into_iter()
        .find(|k| !before[node].contains(k))
        .unwrap();
    (node, cluster.slot_of(node, &key))
}

/// One node killed: the devices whose budgets it held fall back to each
/// proxy's own limit (no 5xx, no hang). The other nodes' devices are
/// still shared, at once and for as long as the node is down: the
/// backoff after the dead node's failures holds for its slots only, and
/// the fallback is logged once, not again at each answer of a live node.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_mid_run_falls_back_for_its_devices_only() {
    let mut cluster = Cluster::start();
    let upstream = Upstream::start();
    let (one, one_metrics) = proxy(&upstream, &cluster.urls());
    let (two, two_metrics) = proxy(&upstream, &cluster.urls());

    // A device on node 0, and one on another node whose region of slots
    // holds none of node 0's.
    let dead_runs = cluster.slot_runs(0);
    let shares_a_region_with_node_0 = |slot: u16| {
        let region = slot / SLOTS_PER_REGION;
        dead_runs
            .iter()
            .any(|&(a, b)| a / SLOTS_PER_REGION <= region && region <= b / SLOTS_PER_REGION)
    };
    let (mut lost, mut kept) = (None, None);
    for i in 0.. {
        assert!(i < 64, "no devices found: {lost:?} {kept:?}");
        let device = format!("spread-{i}==");
        let (node, slot) = placed(&cluster, &one, &device).await;
        if node == 0 {
            lost.get_or_insert(device);
        } else if !shares_a_region_with_node_0(slot) {
            kept.get_or_insert(device);
        }
        if lost.is_some() && kept.is_some() {
            break;
        }
    }
    let (lost, kept) = (lost.unwrap(), kept.unwrap());
    cluster.stop(0);
    // Scripts gone from the nodes left: loading again must not need the
    // dead one.
    for i in 1..3 {
        assert_eq!(cluster.query(i, &["SCRIPT", "FLUSH"]), "OK");
    }

    // The lost node's device: each proxy limits on its own, 3 on each
    // (the one request before the kill counted in Redis only).
    for proxy in [&one, &two] {
        assert_eq!(
            statuses_in_turn([proxy.addr; 4], Some(&lost)).await,
            [200, 200, 200, 429]
        );
    }
    assert!(metric(one_metrics, FALLBACKS).is_some_and(|n| n >= 4.0));

    // The other node's device, right away: shared through the nodes left,
    // exactly (two more in all across both proxies, where each proxy on
    // its own would allow three).
    spend_the_rest(&kept, [&one, &two]).await;

    // Past the backoff the dead node is tried again and fails again; a
    // live node's answer meanwhile is no recovery to log. (Pacing past the
    // one-second backoff, bounded.)
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let res = get(two.addr, "/x", Some(&lost), &[]).await;
    assert_eq!(res.status, 429, "{}", res.text());
    // Still refused by the shared count: proxy two has seen two of its
    // requests, so on its own it would allow a third.
    let res = get(two.addr, "/x", Some(&kept), &[]).await;
    assert_eq!(res.status, 429, "{}", res.text());
    for (server, metrics) in [(one, one_metrics), (two, two_metrics)] {
        assert_eq!(metric(metrics, "approov_proxy_redis_up"), Some(0.0));
        let (_, log) = server.stop();
        assert_eq!(log.matches("falling back").count(), 1, "{log}");
        assert_eq!(log.matches("redis available again").count(), 0, "{log}");
    }
}

/// The whole cluster gone: every decision falls back, logged once, with
/// no 5xx and no hang.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_cluster_killed_falls_back_logged_once() {
    let mut cluster = Cluster::start();
    let upstream = Upstream::start();
    let (one, one_metrics) = proxy(&upstream, &cluster.urls());
    first_request(&cluster, &one, "before-all-down==").await;
    for i in 0..3 {
        cluster.stop(i);
    }
    assert_eq!(
        statuses_in_turn([one.addr; 4], Some("all-down==")).await,
        [200, 200, 200, 429]
    );
    assert_eq!(metric(one_metrics, "approov_proxy_redis_up"), Some(0.0));
    let (_, log) = one.stop();
    assert_eq!(
        log.matches("redis unavailable, falling back to the in-process limit")
            .count(),
        1,
        "{log}"
    );
}

/// A cluster that is not there at start-up is the fallback case, not a
/// configuration error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_cluster_at_start_up_is_not_fatal() {
    let port = common::redis::free_port();
    let upstream = Upstream::start();
    let (one, metrics) = proxy(
        &upstream,
        &format!("redis://:cluster-s3cret@127.0.0.1:{port}"),
    );
    assert_eq!(
        statuses_in_turn([one.addr; 4], Some("nobody-home==")).await,
        [200, 200, 200, 429]
    );
    assert_eq!(metric(metrics, "approov_proxy_redis_up"), Some(0.0));
    let (_, log) = one.stop();
    assert!(log.contains("falling back"), "{log}");
    assert!(log.contains(&format!("127.0.0.1:{port}")), "{log}");
    assert!(!log.contains("cluster-s3cret"), "{log}");
}

/// A cluster speaking TLS only, and requiring client certificates: the
/// seed and every node learnt from the slot map are reached over TLS,
/// checked against the test CA, with the proxy's client certificate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_proxies_share_budgets_on_a_tls_cluster() {
    let cluster = Cluster::start_tls();
    let certificates = cluster.certificates.as_ref().unwrap();
    let ca = certificates.ca.clone();
    let upstream = Upstream::start();
    let extra = [
        ("REDIS_TLS_CA_FILE", ca.as_str()),
        ("REDIS_TLS_CERT_FILE", certificates.client_cert.as_str()),
        ("REDIS_TLS_KEY_FILE", certificates.client_key.as_str()),
    ];
    let (one, one_metrics) = proxy_with(&upstream, &cluster.urls(), &extra);
    let seed = format!("rediss://127.0.0.1:{}", cluster.ports[2]);
    let (two, _) = proxy_with(&upstream, &seed, &extra);
    let mut nodes = Vec::new();
    for i in 0..6 {
        let device = format!("tls-cluster-device-{i}==");
        nodes.push(first_request(&cluster, &one, &device).await);
        spend_the_rest(&device, [&one, &two]).await;
    }
    nodes.sort_unstable();
    nodes.dedup();
    assert!(nodes.len() > 1, "every budget on one node: {nodes:?}");
    assert_eq!(metric(one_metrics, "approov_proxy_redis_up"), Some(1.0));
    assert_eq!(metric(one_metrics, FALLBACKS), None);

    // Without the CA file the webpki roots refuse the nodes: fallback.
    let (alone, alone_metrics) = proxy(&upstream, &cluster.urls());
    // Its own limit: the device's shared budget is spent, but this proxy
    // cannot see it.
    assert_eq!(
        statuses_in_turn([alone.addr; 4], Some("tls-cluster-device-0==")).await,
        [200, 200, 200, 429]
    );
    assert_eq!(metric(alone_metrics, "approov_proxy_redis_up"), Some(0.0));
    let (_, log) = alone.stop();
    assert_eq!(log.matches("falling back").count(), 1, "{log}");
    for server in [one, two] {
        let (_, log) = server.stop();
        assert!(!log.contains("falling back"), "{log}");
    }
}
