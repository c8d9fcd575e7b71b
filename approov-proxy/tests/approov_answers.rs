//! The Approov-specific answers over sockets, in proxy mode and from the
//! forward-auth endpoint: the Approov SDK's fetch status in place of a
//! token is refused as `sdk_status` (401, logged with the status name, or
//! `other`, never the client's value), and a proxy with no usable key (a
//! JWKS URL that refuses every fetch, `APPROOV_JWKS_START_WITHOUT_KEYS`)
//! answers `503` with `Retry-After` and `{}`, the upstream never called.
#![allow(clippy::unwrap_used)]

mod common;

use bytes::Bytes;
use common::upstream::{
    PROXY, TestResponse, Upstream, full, send, start_keyed_proxy, start_proxy, token,
};
use common::{SECRET, Server, command, run};

const KEY: &str = "answers-KEY-never-shown";
const ENDPOINT: &str = "/approov/auth";

/// The proxy with no usable key: its only key source is a JWKS URL that
/// refuses every fetch, started anyway.
fn keyless_proxy(envs: &[(&str, &str)]) -> Server {
    let url = approov_conformance::fixtures::refused_jwks_url();
    let mut all = vec![
        ("APPROOV_JWKS_URL", url.as_str()),
        ("APPROOV_JWKS_START_WITHOUT_KEYS", "true"),
    ];
    all.extend_from_slice(envs);
    tokio::task::block_in_place(|| Server::start_graceful(PROXY, &all))
}

fn assert_unavailable(res: &TestResponse, what: &str) {
    assert_eq!(res.status, 503, "{what}: {res:?}");
    assert_eq!(res.headers["retry-after"], "10", "{what}");
    assert_eq!(res.headers["content-type"], "application/json", "{what}");
    assert!(
        !res.headers.contains_key("www-authenticate"),
        "{what}: {res:?}"
    );
    assert_eq!(res.text(), "{}", "{what}");
}

fn stop(proxy: Server) -> String {
    let (_, stderr) = tokio::task::block_in_place(|| proxy.stop());
    assert!(!stderr.contains(KEY), "key logged:\n{stderr}");
    assert!(!stderr.contains("eyJ"), "token logged:\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

async fn get_with(proxy: &Server, path: &str, token: &str) -> TestResponse {
    send(
        proxy.addr,
        "GET",
        path,
        &[("Approov-Token", token)],
        full(Bytes::new()),
    )
    .await
}

async fn nginx_check(proxy: &Server, token: &str) -> TestResponse {
    let headers = [
        ("X-Original-Method", "GET"),
        ("X-Original-URI", "/api"),
        ("Approov-Token", token),
    ];
    send(proxy.addr, "GET", ENDPOINT, &headers, full(Bytes::new())).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_refuses_an_sdk_status_and_logs_its_name_only() {
    let upstream = Upstream::start();
    let proxy = start_keyed_proxy(&upstream.url(), KEY, ("API_KEY_HEADER", "X-Api-Key"), &[]);
    for status in ["NO_NETWORK", "MITM_DETECTED", "SOME_CLIENT_WORD"] {
        let res = get_with(&proxy, "/", status).await;
        assert_eq!(res.status, 401, "{status}: {res:?}");
        assert_eq!(res.headers["www-authenticate"], "Approov");
        assert_eq!(res.text(), "{}");
    }
    assert!(upstream.recorded().is_empty(), "a refusal reached upstream");
    let stderr = stop(proxy);
    assert_eq!(stderr.matches("kind=\"sdk_status\"").count(), 3, "{stderr}");
    assert!(stderr.contains("sdk_status=\"NO_NETWORK\""), "{stderr}");
    assert!(stderr.contains("sdk_status=\"MITM_DETECTED\""), "{stderr}");
    assert!(stderr.contains("sdk_status=\"other\""), "{stderr}");
    assert!(
        !stderr.contains("SOME_CLIENT_WORD"),
        "the client's value logged:\n{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forward_auth_refuses_an_sdk_status() {
    let proxy = start_proxy(&[("AUTH_ENDPOINT", ENDPOINT)]);
    let res = nginx_check(&proxy, "POOR_NETWORK").await;
    assert_eq!(res.status, 401, "{res:?}");
    assert_eq!(res.text(), "{}");
    let stderr = stop(proxy);
    assert!(stderr.contains("sdk_status=\"POOR_NETWORK\""), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_without_keys_answers_503_and_calls_no_upstream() {
    let upstream = Upstream::start();
    let proxy = keyless_proxy(&[
        ("UPSTREAM_URL", &upstream.url()),
        ("API_KEY", KEY),
        ("API_KEY_HEADER", "X-Api-Key"),
    ]);
    let res = get_with(&proxy, "/", &token(Some("device-k"))).await;
    assert_unavailable(&res, "proxy");
    // What needs no key is judged as ever.
    let res = send(proxy.addr, "GET", "/", &[], full(Bytes::new())).await;
    assert_eq!(res.status, 401, "{res:?}");
    assert!(upstream.recorded().is_empty(), "a refusal reached upstream");
    let stderr = stop(proxy);
    assert!(stderr.contains("kind=\"keys_unavailable\""), "{stderr}");
}

/// Traefik passes the endpoint's 503 on as it is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forward_auth_without_keys_answers_503() {
    let proxy = keyless_proxy(&[("AUTH_ENDPOINT", ENDPOINT), ("AUTH_GATEWAY", "traefik")]);
    fn traefik(token: &str) -> [(&str, &str); 3] {
        [
            ("X-Forwarded-Method", "GET"),
            ("X-Forwarded-Uri", "/api"),
            ("Approov-Token", token),
        ]
    }
    let t = token(Some("device-k"));
    let res = send(
        proxy.addr,
        "GET",
        ENDPOINT,
        &traefik(&t),
        full(Bytes::new()),
    )
    .await;
    assert_unavailable(&res, "forward-auth");
    assert!(res.headers.get("approov-status").is_none(), "{res:?}");
    let res = send(
        proxy.addr,
        "GET",
        ENDPOINT,
        &traefik("NO_NETWORK"),
        full(Bytes::new()),
    )
    .await;
    assert_eq!(res.status, 401, "{res:?}");
    let stderr = stop(proxy);
    assert!(stderr.contains("kind=\"keys_unavailable\""), "{stderr}");
}

/// nginx takes only 2xx, 401 and 403 from `auth_request`: the 503 goes to
/// it as 403 with `Approov-Status: 503` and its `Retry-After` (the README's
/// nginx block, run against a real nginx in `forward_auth_nginx.rs`, turns
/// it back into the 503).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forward_auth_without_keys_tells_nginx_503_in_a_403() {
    let proxy = keyless_proxy(&[("AUTH_ENDPOINT", ENDPOINT)]);
    let res = nginx_check(&proxy, &token(Some("device-k"))).await;
    assert_eq!(res.status, 403, "{res:?}");
    assert_eq!(res.headers["approov-status"], "503", "{res:?}");
    assert_eq!(res.headers["retry-after"], "10", "{res:?}");
    assert_eq!(res.text(), "{}");
    let res = nginx_check(&proxy, "NO_NETWORK").await;
    assert_eq!(res.status, 401, "{res:?}");
    stop(proxy);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_only_lets_an_unjudged_request_through() {
    let upstream = Upstream::start();
    let proxy = keyless_proxy(&[
        ("UPSTREAM_URL", &upstream.url()),
        ("API_KEY", KEY),
        ("API_KEY_HEADER", "X-Api-Key"),
        ("APPROOV_REPORT_ONLY", "true"),
    ]);
    let res = get_with(&proxy, "/", &token(Some("device-k"))).await;
    assert_eq!(res.status, 200, "{res:?}");
    assert_eq!(upstream.recorded().len(), 1);
    let stderr = stop(proxy);
    assert!(stderr.contains("kind=\"keys_unavailable\""), "{stderr}");
}

/// `approov-proxy check` takes `APPROOV_JWKS_START_WITHOUT_KEYS` with the
/// JWKS URL beside a secret (it fetches nothing), and refuses it without
/// the URL, naming it.
#[test]
fn check_reads_start_without_keys() {
    let check = |envs: &[(&str, &str)]| {
        let mut cmd = command(PROXY);
        cmd.arg("check")
            .env("APPROOV_BASE64_SECRET", SECRET)
            .env("AUTH_ENDPOINT", ENDPOINT)
            .envs(envs.iter().copied());
        run(cmd)
    };
    let out = check(&[
        ("APPROOV_JWKS_URL", "http://127.0.0.1:9/jwks.json"),
        ("APPROOV_JWKS_START_WITHOUT_KEYS", "true"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let out = check(&[("APPROOV_JWKS_START_WITHOUT_KEYS", "true")]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        out.stderr
            .contains("APPROOV_JWKS_START_WITHOUT_KEYS is not usable")
            && out.stderr.contains("APPROOV_JWKS_URL is not"),
        "{out:?}"
    );
}
