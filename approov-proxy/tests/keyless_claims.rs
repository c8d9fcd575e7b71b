//! A gateway in front of an API that needs no key: no key variables (or
//! no `key_env` in a route) forwards without one, said once at start-up;
//! `UPSTREAM_CLAIMS` / `upstream_claims` send the verified token's claims
//! upstream as `Approov-Claim-<name>`; an `Approov-Claim-*` header the
//! client sent never reaches the upstream, in any mode.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;

use bytes::Bytes;
use common::upstream::{PROXY, Recorded, Upstream, full, get, send, start_proxy};
use common::{SECRET, command, forged_token, run};

/// Every `approov-claim-*` header the upstream received (`_` read as
/// `-`, as CGI-style backends read them), sorted.
fn claim_headers(seen: &Recorded) -> Vec<(String, String)> {
    let mut out: Vec<_> = seen
        .headers
        .iter()
        .filter(|(name, _)| {
            name.as_str()
                .replace('_', "-")
                .starts_with("approov-claim-")
        })
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

const FORGED: [(&str, &str); 5] = [
    ("Approov-Claim-Did", "forged-device"),
    ("approov-claim-ip", "6.6.6.6"),
    ("APPROOV-CLAIM-ROLE", "admin"),
    // Read as HTTP_APPROOV_CLAIM_DID by CGI, WSGI and Rack, like the above.
    ("Approov_Claim_Did", "forged-device"),
    ("approov-claim_role", "admin"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyless_route_forwards_without_a_key_with_the_claims() {
    let upstream = Upstream::start();
    let proxy = start_proxy(&[
        ("UPSTREAM_URL", &upstream.url()),
        ("UPSTREAM_CLAIMS", "did,ip,missing"),
    ]);
    let lines = tokio::task::block_in_place(|| {
        proxy.stderr_until(|line| line.contains("no API key configured for this route"))
    });
    let route_line = lines.iter().find(|l| l.contains(" route ")).unwrap();
    assert!(route_line.contains("key=none"), "{route_line}");
    assert!(
        route_line.contains("upstream_claims=did,ip,missing"),
        "{route_line}"
    );

    let res = get(proxy.addr, "/items?q=1", Some("device-1"), &FORGED).await;
    assert_eq!(res.status, 200, "{res:?}");
    let seen = upstream.single();
    assert_eq!(seen.path, "/items");
    assert_eq!(seen.query.as_deref(), Some("q=1"), "no key parameter added");
    assert_eq!(
        claim_headers(&seen),
        [
            ("approov-claim-did".into(), "device-1".into()),
            ("approov-claim-ip".into(), "1.2.3.4".into()),
            // Configured but not in the token: sent empty.
            ("approov-claim-missing".into(), String::new()),
        ],
        "the forged headers are gone, the real claims in their place"
    );
    assert!(seen.headers.get("approov-token").is_none());

    // Without a token: 401, the upstream is not called.
    let res = send(proxy.addr, "GET", "/items", &FORGED, full(Bytes::new())).await;
    assert_eq!(res.status, 401, "{res:?}");
    assert_eq!(upstream.recorded().len(), 1);
    let (_, rest) = tokio::task::block_in_place(|| proxy.stop());
    assert_eq!(
        rest.matches("no API key configured").count(),
        0,
        "logged once, at start-up: {rest}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_claim_headers_are_stripped_in_every_mode() {
    // Keyed, no UPSTREAM_CLAIMS: the client's claim headers are removed,
    // none is added.
    let upstream = Upstream::start();
    let proxy = start_proxy(&[
        ("UPSTREAM_URL", &upstream.url()),
        ("API_KEY", "strip-KEY"),
        ("API_KEY_HEADER", "X-Api-Key"),
    ]);
    let res = get(proxy.addr, "/a", Some("device-2"), &FORGED).await;
    assert_eq!(res.status, 200, "{res:?}");
    let seen = upstream.single();
    assert_eq!(claim_headers(&seen), []);
    assert_eq!(seen.header_values("x-api-key"), ["strip-KEY"]);
    drop(proxy);

    // Report-only with a bad token: forwarded, every configured claim
    // header empty, the client's gone.
    let upstream = Upstream::start();
    let proxy = start_proxy(&[
        ("UPSTREAM_URL", &upstream.url()),
        ("UPSTREAM_CLAIMS", "did"),
        ("APPROOV_REPORT_ONLY", "true"),
    ]);
    let token = forged_token();
    let mut headers = vec![("Approov-Token", token.as_str())];
    headers.extend_from_slice(&FORGED);
    let res = send(proxy.addr, "GET", "/a", &headers, full(Bytes::new())).await;
    assert_eq!(res.status, 200, "{res:?}");
    assert_eq!(
        claim_headers(&upstream.single()),
        [("approov-claim-did".into(), String::new())]
    );
}

fn write_routes(text: &str, tag: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("keyless-{}-{tag}.toml", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_file_mixes_keyless_and_keyed_routes_with_their_claims() {
    let internal = Upstream::start();
    let third_party = Upstream::start();
    let file = write_routes(
        &format!(
            r#"
            [[route]]
            name = "internal"
            prefix = "/internal"
            upstream = "{internal}"
            upstream_claims = ["did"]

            [[route]]
            name = "nasa"
            prefix = "/nasa"
            upstream = "{third_party}"
            key_env = "TEST_KEYLESS_NASA_KEY"
            key_query_param = "api_key"
            "#,
            internal = internal.url(),
            third_party = third_party.url(),
        ),
        "mixed",
    );
    let proxy = start_proxy(&[
        ("PROXY_CONFIG", file.to_str().unwrap()),
        ("TEST_KEYLESS_NASA_KEY", "nasa-KEY"),
        // The default of routes that name none: "nasa" here.
        ("UPSTREAM_CLAIMS", "ip"),
    ]);
    let res = get(proxy.addr, "/internal/x", Some("device-3"), &FORGED).await;
    assert_eq!(res.status, 200, "{res:?}");
    let seen = internal.single();
    assert_eq!(seen.path, "/x");
    assert_eq!(seen.query, None);
    assert_eq!(
        claim_headers(&seen),
        [("approov-claim-did".into(), "device-3".into())]
    );

    let res = get(proxy.addr, "/nasa/y", Some("device-3"), &FORGED).await;
    assert_eq!(res.status, 200, "{res:?}");
    let seen = third_party.single();
    assert_eq!(seen.query.as_deref(), Some("api_key=nasa-KEY"));
    assert_eq!(
        claim_headers(&seen),
        [("approov-claim-ip".into(), "1.2.3.4".into())]
    );
}

/// Runs the proxy and expects exit code 2 and one line naming `setting`.
fn fails_naming(envs: &[(&str, &str)], setting: &str) {
    let mut cmd = command(PROXY);
    cmd.env("APPROOV_BASE64_SECRET", SECRET)
        .env("LISTEN_ADDR", "127.0.0.1:0")
        .envs(envs.iter().copied());
    let out = run(cmd);
    assert_eq!(out.status.code(), Some(2), "{envs:?}: {out:?}");
    assert_eq!(out.stderr.lines().count(), 1, "{out:?}");
    assert!(
        out.stderr.starts_with(&format!("approov-proxy: {setting}")),
        "{setting}: {out:?}"
    );
    assert!(!out.stderr.contains("half-KEY"), "{out:?}");
    assert!(!out.stdout.contains("listening on"), "{out:?}");
}

#[test]
fn half_a_key_or_bad_claims_stop_start_up() {
    let url = ("UPSTREAM_URL", "https://api.internal");
    fails_naming(
        &[url, ("API_KEY", "half-KEY")],
        "API_KEY_QUERY_PARAM or API_KEY_HEADER is not set",
    );
    fails_naming(
        &[url, ("API_KEY_HEADER", "X-Api-Key")],
        "API_KEY is not set",
    );
    fails_naming(
        &[url, ("API_KEY_QUERY_PARAM", "api_key")],
        "API_KEY is not set",
    );
    fails_naming(
        &[url, ("UPSTREAM_CLAIMS", "did,no good")],
        "UPSTREAM_CLAIMS is not usable",
    );
    let many = (0..17)
        .map(|i| format!("c{i}"))
        .collect::<Vec<_>>()
        .join(",");
    fails_naming(
        &[url, ("UPSTREAM_CLAIMS", &many)],
        "UPSTREAM_CLAIMS is not usable: at most 16 claims",
    );
    let file = write_routes(
        "[[route]]\nname = \"r\"\nprefix = \"/r\"\nupstream = \"https://a.example\"\n\
         key_header = \"X-Api-Key\"\n",
        "half",
    );
    let file = file.to_str().unwrap();
    fails_naming(
        &[("PROXY_CONFIG", file)],
        &format!("route \"r\" in {file}: key_env is not set"),
    );
    let file = write_routes(
        "[[route]]\nname = \"r\"\nprefix = \"/r\"\nupstream = \"https://a.example\"\n\
         upstream_claims = [\"did\", \"x y\"]\n",
        "claims",
    );
    let file = file.to_str().unwrap();
    fails_naming(
        &[("PROXY_CONFIG", file)],
        &format!("route \"r\" in {file}: upstream_claims is not usable"),
    );
}
