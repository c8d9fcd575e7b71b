//! The forward-auth endpoint (`AUTH_ENDPOINT`) over sockets, with the
//! headers nginx, Traefik and Envoy send: allowed (`200` with the claim
//! headers, every one of them on every `200`, empty when there is nothing
//! to show), denied (`401 {}`), rate-limited (`429`; nginx: `403` with
//! `Approov-Status: 429`), token binding,
//! report-only, message signing, and gateway requests that do not say
//! which request they are about.
#![allow(clippy::unwrap_used)]

mod common;

use bytes::Bytes;
use common::upstream::{TestResponse, Upstream, full, get, send, start_proxy, token};
use common::{SECRET, Server};

const ENDPOINT: &str = "/approov/auth";

fn auth_proxy(extra: &[(&str, &str)]) -> Server {
    let mut envs = vec![("AUTH_ENDPOINT", ENDPOINT)];
    envs.extend_from_slice(extra);
    start_proxy(&envs)
}

/// Asks `proxy` about a request, as nginx's `auth_request` does with the
/// README's configuration.
async fn nginx_check(
    proxy: &Server,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
) -> TestResponse {
    let mut all = vec![("X-Original-Method", method), ("X-Original-URI", uri)];
    all.extend_from_slice(headers);
    send(proxy.addr, "GET", ENDPOINT, &all, full(Bytes::new())).await
}

fn assert_denied(res: &TestResponse, what: &str) {
    assert_eq!(res.status, 401, "{what}: {res:?}");
    assert_eq!(res.text(), "{}", "{what}");
    assert_eq!(res.headers["www-authenticate"], "Approov", "{what}");
    assert!(
        !res.headers
            .keys()
            .any(|k| k.as_str().starts_with("approov-claim")),
        "{what}: {res:?}"
    );
}

/// Stops the proxy; returns its stderr, checked for tokens and panics.
fn logs(proxy: Server, tokens: &[&str]) -> String {
    let (stdout, stderr) = tokio::task::block_in_place(|| proxy.stop());
    for t in tokens {
        assert!(!stderr.contains(t), "token logged:\n{stderr}");
        assert!(!stdout.contains(t), "token printed:\n{stdout}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_a_valid_token_is_allowed_with_the_device_id() {
    let proxy = auth_proxy(&[]);
    let t = token(Some("device-1"));
    let res = nginx_check(&proxy, "POST", "/api/orders?x=1", &[("Approov-Token", &t)]).await;
    assert_eq!(res.status, 200, "{res:?}");
    assert_eq!(res.headers["approov-claim-did"], "device-1");
    assert!(res.body.is_empty());
    // The token itself is never in the answer.
    for (name, value) in &res.headers {
        let value = String::from_utf8_lossy(value.as_bytes());
        assert!(!value.contains(&t[t.len() - 20..]), "{name}");
    }
    let stderr = logs(proxy, &[&t]);
    let line = stderr
        .lines()
        .find(|l| l.contains("status=200"))
        .unwrap_or_else(|| panic!("no request line:\n{stderr}"));
    assert!(line.contains("route=\"auth\""), "{line}");
    assert!(line.contains("approov=\"verified\""), "{line}");
    assert!(!line.contains("device-1"), "the device id itself: {line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_missing_forged_and_expired_tokens_are_denied() {
    let proxy = auth_proxy(&[]);
    let forged = common::forged_token();
    let expired = common::token_expiring_in(-3600);
    let res = nginx_check(&proxy, "GET", "/api", &[]).await;
    assert_denied(&res, "missing");
    let res = nginx_check(&proxy, "GET", "/api", &[("Approov-Token", &forged)]).await;
    assert_denied(&res, "forged");
    let res = nginx_check(&proxy, "GET", "/api", &[("Approov-Token", &expired)]).await;
    assert_denied(&res, "expired");
    let stderr = logs(proxy, &[&forged, &expired]);
    assert_eq!(
        stderr.matches("approov=\"rejected\"").count(),
        3,
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_or_malformed_original_request_is_denied() {
    let proxy = auth_proxy(&[]);
    let t = token(Some("device-1"));
    let long = format!("/{}", "a".repeat(9000));
    for (headers, reason) in [
        (vec![("X-Original-Method", "GET")], "auth_bad_original_uri"),
        (vec![("X-Original-URI", "/api")], "auth_bad_original_method"),
        (
            vec![("X-Original-Method", "GET"), ("X-Original-URI", "api")],
            "auth_bad_original_uri",
        ),
        (
            vec![
                ("X-Original-Method", "GET"),
                ("X-Original-URI", "http://h/api"),
            ],
            "auth_bad_original_uri",
        ),
        (
            vec![("X-Original-Method", "GET"), ("X-Original-URI", &long)],
            "auth_bad_original_uri",
        ),
        (
            vec![
                ("X-Original-Method", "GET"),
                ("X-Original-URI", "/a"),
                ("X-Original-URI", "/b"),
            ],
            "auth_bad_original_uri",
        ),
        (
            vec![("X-Original-Method", "G(T"), ("X-Original-URI", "/a")],
            "auth_bad_original_method",
        ),
        // Traefik's header means nothing to an nginx endpoint.
        (
            vec![("X-Forwarded-Method", "GET"), ("X-Forwarded-Uri", "/a")],
            "auth_bad_original_method",
        ),
    ] {
        let mut all = headers.clone();
        all.push(("Approov-Token", &t));
        let res = send(proxy.addr, "GET", ENDPOINT, &all, full(Bytes::new())).await;
        assert_denied(&res, reason);
        let seen = proxy.stderr_until(|l| l.contains("status=401"));
        let line = seen.last().unwrap();
        assert!(
            line.contains(&format!("refused=\"{reason}\"")),
            "{headers:?}: {line}"
        );
    }
    logs(proxy, &[&t]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traefik_forwarded_headers() {
    let proxy = auth_proxy(&[("AUTH_GATEWAY", "traefik")]);
    let t = token(Some("device-2"));
    let traefik = [
        ("X-Forwarded-Method", "DELETE"),
        ("X-Forwarded-Uri", "/api/items/7?hard=1"),
        ("X-Forwarded-Host", "api.example.com"),
        ("X-Forwarded-Proto", "https"),
        ("Approov-Token", t.as_str()),
    ];
    let res = send(proxy.addr, "GET", ENDPOINT, &traefik, full(Bytes::new())).await;
    assert_eq!(res.status, 200, "{res:?}");
    assert_eq!(res.headers["approov-claim-did"], "device-2");
    let res = send(
        proxy.addr,
        "GET",
        ENDPOINT,
        &traefik[..4],
        full(Bytes::new()),
    )
    .await;
    assert_denied(&res, "no token");
    // nginx's headers mean nothing to a Traefik endpoint: a client could
    // add them, and Traefik passes them on.
    let nginx = [
        ("X-Original-Method", "GET"),
        ("X-Original-URI", "/api"),
        ("Approov-Token", t.as_str()),
    ];
    let res = send(proxy.addr, "GET", ENDPOINT, &nginx, full(Bytes::new())).await;
    assert_denied(&res, "nginx headers");
    logs(proxy, &[&t]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn envoy_original_path_after_the_prefix() {
    let proxy = auth_proxy(&[("AUTH_GATEWAY", "envoy")]);
    let t = token(Some("device-3"));
    let headers = [("Approov-Token", t.as_str())];
    for path in ["/approov/auth/api/items?x=1", "/approov/auth/"] {
        let res = send(proxy.addr, "PUT", path, &headers, full(Bytes::new())).await;
        assert_eq!(res.status, 200, "{path}: {res:?}");
        assert_eq!(res.headers["approov-claim-did"], "device-3");
    }
    let res = send(
        proxy.addr,
        "GET",
        "/approov/auth/api",
        &[],
        full(Bytes::new()),
    )
    .await;
    assert_denied(&res, "no token");
    // No original path at all: refused, not allowed.
    let res = send(
        proxy.addr,
        "GET",
        "/approov/auth",
        &headers,
        full(Bytes::new()),
    )
    .await;
    assert_denied(&res, "no original path");
    // Alone, the proxy serves nothing else but /health.
    let res = send(
        proxy.addr,
        "GET",
        "/approov/authx",
        &headers,
        full(Bytes::new()),
    )
    .await;
    assert_eq!(res.status, 404, "{res:?}");
    let res = send(proxy.addr, "GET", "/health", &[], full(Bytes::new())).await;
    assert_eq!(res.status, 200, "{res:?}");
    logs(proxy, &[&t]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_binding_applies() {
    let proxy = auth_proxy(&[("APPROOV_TOKEN_BINDING_HEADER", "Authorization")]);
    let bound = common::bound_token("Bearer session-1");
    let ok = [
        ("Approov-Token", bound.as_str()),
        ("Authorization", "Bearer session-1"),
    ];
    let res = nginx_check(&proxy, "GET", "/api", &ok).await;
    assert_eq!(res.status, 200, "{res:?}");
    let other = [
        ("Approov-Token", bound.as_str()),
        ("Authorization", "Bearer session-2"),
    ];
    let res = nginx_check(&proxy, "GET", "/api", &other).await;
    assert_denied(&res, "other session");
    let res = nginx_check(&proxy, "GET", "/api", &ok[..1]).await;
    assert_denied(&res, "no session");
    logs(proxy, &[&bound]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_only_allows_bad_tokens_with_empty_claims() {
    let proxy = auth_proxy(&[("APPROOV_REPORT_ONLY", "true")]);
    let res = nginx_check(&proxy, "GET", "/api", &[("Approov-Token", "not-a-token")]).await;
    assert_eq!(res.status, 200, "{res:?}");
    assert_eq!(res.headers["approov-claim-did"], "", "{res:?}");
    let stderr = logs(proxy, &[]);
    assert!(
        stderr.contains("approov=\"report_only_rejected\""),
        "{stderr}"
    );
}

/// The value of every `Approov-Claim-*` header of `res`, by name.
fn claim_headers(res: &TestResponse) -> Vec<(String, String)> {
    let mut claims: Vec<(String, String)> = res
        .headers
        .iter()
        .filter(|(name, _)| name.as_str().starts_with("approov-claim-"))
        .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_owned()))
        .collect();
    claims.sort();
    claims
}

/// Envoy's `allowed_upstream_headers` (and a Traefik or nginx set-up that
/// copies only what the answer has) replaces a client's `Approov-Claim-*`
/// only with a header from the endpoint: so every `200`, for each
/// gateway's convention, carries every configured claim header, empty
/// when there is nothing to show: a forged token in report-only mode, a
/// valid token without the claim, or with a value unsafe to show.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_200_carries_every_claim_header_for_each_gateway() {
    let unsafe_did = approov_core::mint::TokenBuilder::approov_example()
        .expires_in(3600)
        .claim("did", "victim\r\nX-Injected: yes")
        .sign_hs256_base64(SECRET)
        .unwrap();
    let forged = common::forged_token();
    let anonymous = token(None);
    let genuine = token(Some("device-1"));
    for gateway in ["nginx", "traefik", "envoy"] {
        let proxy = auth_proxy(&[
            ("AUTH_GATEWAY", gateway),
            ("AUTH_RESPONSE_CLAIMS", "did,ip"),
            ("APPROOV_REPORT_ONLY", "true"),
        ]);
        for (token, did, ip) in [
            (forged.as_str(), "", ""),
            ("not-a-token", "", ""),
            (anonymous.as_str(), "", "1.2.3.4"),
            (unsafe_did.as_str(), "", "1.2.3.4"),
            (genuine.as_str(), "device-1", "1.2.3.4"),
        ] {
            // What the gateway passes on: the client's own claim headers
            // too, which must not change the answer.
            let mut headers = vec![
                ("Approov-Token", token),
                ("Approov-Claim-Did", "victim"),
                ("Approov-Claim-Ip", "6.6.6.6"),
            ];
            let (method, path) = match gateway {
                "nginx" => {
                    headers.extend([("X-Original-Method", "DELETE"), ("X-Original-URI", "/a")]);
                    ("GET", ENDPOINT.to_owned())
                }
                "traefik" => {
                    headers.extend([("X-Forwarded-Method", "DELETE"), ("X-Forwarded-Uri", "/a")]);
                    ("GET", ENDPOINT.to_owned())
                }
                _ => ("DELETE", format!("{ENDPOINT}/a")),
            };
            let res = send(proxy.addr, method, &path, &headers, full(Bytes::new())).await;
            assert_eq!(res.status, 200, "{gateway}: {res:?}");
            assert_eq!(
                claim_headers(&res),
                [
                    ("approov-claim-did".to_owned(), did.to_owned()),
                    ("approov-claim-ip".to_owned(), ip.to_owned()),
                ],
                "{gateway}, expecting did {did:?}"
            );
            assert!(res.headers.get("x-injected").is_none(), "{res:?}");
        }
        logs(proxy, &[&forged, &anonymous, &unsafe_did, &genuine]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_limit_applies_per_device() {
    let proxy = auth_proxy(&[("RATE_LIMIT_PER_DEVICE_PER_MINUTE", "2")]);
    let a = token(Some("device-a"));
    let b = token(Some("device-b"));
    for _ in 0..2 {
        let res = nginx_check(&proxy, "GET", "/api", &[("Approov-Token", &a)]).await;
        assert_eq!(res.status, 200, "{res:?}");
    }
    // nginx takes only 2xx, 401 and 403 from the endpoint: the 429 goes to
    // it as a 403 that says 429.
    let res = nginx_check(&proxy, "GET", "/api", &[("Approov-Token", &a)]).await;
    assert_eq!(res.status, 403, "{res:?}");
    assert_eq!(res.headers["approov-status"], "429", "{res:?}");
    let retry: u64 = res.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&retry), "{retry}");
    assert!(res.headers.get("approov-claim-did").is_none(), "{res:?}");
    let res = nginx_check(&proxy, "GET", "/api", &[("Approov-Token", &b)]).await;
    assert_eq!(res.status, 200, "{res:?}");
    logs(proxy, &[&a, &b]);
}

/// Traefik and Envoy pass the endpoint's status on: they get the `429`
/// itself, and no `Approov-Status`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traefik_and_envoy_get_the_429_itself() {
    for gateway in ["traefik", "envoy"] {
        let proxy = auth_proxy(&[
            ("AUTH_GATEWAY", gateway),
            ("RATE_LIMIT_PER_DEVICE_PER_MINUTE", "1"),
        ]);
        let a = token(Some("device-a"));
        let (path, headers) = match gateway {
            "traefik" => (
                ENDPOINT.to_owned(),
                vec![
                    ("X-Forwarded-Method", "GET"),
                    ("X-Forwarded-Uri", "/api"),
                    ("Approov-Token", a.as_str()),
                ],
            ),
            _ => (
                format!("{ENDPOINT}/api"),
                vec![("Approov-Token", a.as_str())],
            ),
        };
        let mut statuses = Vec::new();
        for _ in 0..2 {
            let res = send(proxy.addr, "GET", &path, &headers, full(Bytes::new())).await;
            assert!(res.headers.get("approov-status").is_none(), "{res:?}");
            statuses.push(res.status);
        }
        assert_eq!(statuses, [200, 429], "{gateway}");
        logs(proxy, &[&a]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chosen_claims_become_headers_and_unsafe_values_are_left_out() {
    let proxy = auth_proxy(&[("AUTH_RESPONSE_CLAIMS", "did,ip,arc,score,flag,aud,nested")]);
    let t = approov_core::mint::TokenBuilder::approov_example()
        .expires_in(3600)
        .claim("did", "dev\r\nX-Injected: yes")
        .claim("ip", "1.2.3.4")
        .claim("score", 42)
        .claim("flag", true)
        .claim("arc", "caf\u{e9}")
        .claim("nested", serde_json::json!({"a": 1}))
        .sign_hs256_base64(SECRET)
        .unwrap();
    let res = nginx_check(&proxy, "GET", "/api", &[("Approov-Token", &t)]).await;
    assert_eq!(res.status, 200, "{res:?}");
    assert_eq!(res.headers["approov-claim-ip"], "1.2.3.4");
    assert_eq!(res.headers["approov-claim-score"], "42");
    assert_eq!(res.headers["approov-claim-flag"], "true");
    // Unsafe to show, or absent: present and empty, so that a gateway
    // replaces whatever the client sent.
    for empty in [
        "approov-claim-did",
        "approov-claim-arc",
        "approov-claim-nested",
        "approov-claim-aud",
    ] {
        assert_eq!(res.headers[empty], "", "{empty}: {res:?}");
    }
    assert!(res.headers.get("x-injected").is_none(), "{res:?}");
    let proxy_none = auth_proxy(&[("AUTH_RESPONSE_CLAIMS", "none")]);
    let t2 = token(Some("device-1"));
    let res = nginx_check(&proxy_none, "GET", "/api", &[("Approov-Token", &t2)]).await;
    assert_eq!(res.status, 200, "{res:?}");
    assert!(
        !res.headers
            .keys()
            .any(|k| k.as_str().starts_with("approov-claim"))
    );
    logs(proxy, &[&t]);
    logs(proxy_none, &[&t2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beside_an_upstream_the_endpoint_comes_first_and_never_forwards() {
    let upstream = Upstream::start();
    let proxy = auth_proxy(&[
        ("UPSTREAM_URL", &upstream.url()),
        ("API_KEY", "the-key-1234"),
        ("API_KEY_HEADER", "X-Api-Key"),
    ]);
    let t = token(Some("device-1"));
    let res = nginx_check(&proxy, "GET", "/api", &[("Approov-Token", &t)]).await;
    assert_eq!(res.status, 200, "{res:?}");
    let res = nginx_check(&proxy, "GET", "/api", &[]).await;
    assert_denied(&res, "no token");
    assert!(upstream.recorded().is_empty());
    // Everything else is proxied as before.
    let res = get(proxy.addr, "/elsewhere", Some("device-1"), &[]).await;
    assert_eq!(res.status, 200, "{res:?}");
    assert_eq!(upstream.single().path, "/elsewhere");
    logs(proxy, &[&t, "the-key-1234"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_signing_covers_the_original_request() {
    use approov_core::mint::{InstallKey, RequestSigner, TokenBuilder};
    let proxy = auth_proxy(&[("AUTH_MESSAGE_SIGNING", "required")]);
    let key = InstallKey::generate().unwrap();
    let t = TokenBuilder::approov_example()
        .expires_in(3600)
        .claim("did", "device-s")
        .claim("ipk", key.ipk())
        .sign_hs256_base64(SECRET)
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let signed = RequestSigner::new("GET", "https://api.example.com/shapes?size=2")
        .unwrap()
        .header("Approov-Token", &t)
        .created(now)
        .sign_install(&key)
        .finish()
        .unwrap();
    // What nginx passes: the client's headers (but Host, which nginx sets
    // to the auth server's), and the original request in headers of its own.
    let check = |method: &'static str, uri: &'static str, host: &'static str| {
        let mut headers: Vec<(String, String)> = signed
            .headers
            .iter()
            .filter(|(n, _)| !n.eq_ignore_ascii_case("host"))
            .cloned()
            .collect();
        headers.push(("X-Original-Method".into(), method.into()));
        headers.push(("X-Original-URI".into(), uri.into()));
        headers.push(("X-Forwarded-Host".into(), host.into()));
        headers.push(("X-Forwarded-Proto".into(), "https".into()));
        let addr = proxy.addr;
        async move {
            let refs: Vec<(&str, &str)> = headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            send(addr, "GET", ENDPOINT, &refs, full(Bytes::new())).await
        }
    };
    let res = check("GET", "/shapes?size=2", "api.example.com").await;
    assert_eq!(res.status, 200, "{res:?}");
    assert_eq!(res.headers["approov-claim-did"], "device-s");
    // The same signature for another request: refused.
    assert_denied(
        &check("GET", "/shapes?size=3", "api.example.com").await,
        "uri",
    );
    assert_denied(
        &check("DELETE", "/shapes?size=2", "api.example.com").await,
        "method",
    );
    assert_denied(
        &check("GET", "/shapes?size=2", "evil.example").await,
        "host",
    );
    // Required: a token without `ipk` is refused.
    let plain = token(Some("device-p"));
    let res = nginx_check(&proxy, "GET", "/shapes", &[("Approov-Token", &plain)]).await;
    assert_denied(&res, "no ipk");

    // A signature covering a body's Content-Digest cannot be checked here:
    // the body never reaches the endpoint. Refused.
    let with_body = RequestSigner::new("POST", "https://api.example.com/shapes")
        .unwrap()
        .header("Approov-Token", &t)
        .body(br#"{"shape":"circle"}"#.to_vec())
        .created(now)
        .sign_install(&key)
        .finish()
        .unwrap();
    let mut headers: Vec<(&str, &str)> = with_body
        .headers
        .iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case("host"))
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    headers.extend([
        ("X-Original-Method", "POST"),
        ("X-Original-URI", "/shapes"),
        ("X-Forwarded-Host", "api.example.com"),
        ("X-Forwarded-Proto", "https"),
    ]);
    let res = send(proxy.addr, "GET", ENDPOINT, &headers, full(Bytes::new())).await;
    assert_denied(&res, "body");
    let stderr = logs(proxy, &[&t, &plain]);
    assert!(stderr.contains("kind=\"digest_invalid\""), "{stderr}");
}

#[test]
fn configuration_errors_stop_start_up() {
    let exe = common::upstream::PROXY;
    let file = std::env::temp_dir().join(format!("approov-fauth-{}.toml", std::process::id()));
    let routes_file = "[[route]]\nname = \"hidden\"\nprefix = \"/approov/auth/v1\"\n\
        upstream = \"https://api.example.com\"\nkey_env = \"K\"\nkey_header = \"X-Api-Key\"\n";
    std::fs::write(&file, routes_file).unwrap();
    let routes = file.display().to_string();
    for (envs, expected) in [
        (
            vec![("AUTH_ENDPOINT", "/health")],
            "approov-proxy: AUTH_ENDPOINT is not usable",
        ),
        (
            vec![("AUTH_ENDPOINT", "/a"), ("AUTH_GATEWAY", "apache")],
            "approov-proxy: AUTH_GATEWAY is not usable",
        ),
        (
            vec![("AUTH_RESPONSE_CLAIMS", "did")],
            "approov-proxy: AUTH_ENDPOINT is not set",
        ),
        (vec![], "approov-proxy: UPSTREAM_URL is not set"),
        (
            vec![
                ("AUTH_ENDPOINT", "/approov/auth"),
                ("PROXY_CONFIG", routes.as_str()),
            ],
            "approov-proxy: route \"hidden\" and AUTH_ENDPOINT are both set",
        ),
    ] {
        let mut cmd = common::command(exe);
        cmd.env("APPROOV_BASE64_SECRET", SECRET)
            .env("K", "the-route-key")
            .envs(envs.iter().copied());
        let out = common::run(cmd);
        assert_eq!(out.status.code(), Some(2), "{envs:?}: {out:?}");
        assert!(out.stderr.starts_with(expected), "{envs:?}: {}", out.stderr);
        assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
        assert!(out.stdout.is_empty(), "{}", out.stdout);
        assert!(!out.stderr.contains("the-route-key"), "{}", out.stderr);
    }
    std::fs::remove_file(file).unwrap();
}
