//! `APPROOV_JWKS_URL` and the proxy variables of the environment, through
//! the real `approov-token verify` binary: a plain-`http` (loopback) JWKS
//! URL is always fetched directly, never through `http_proxy`,
//! `HTTP_PROXY` or `ALL_PROXY` (a proxy there could answer with keys of
//! its own); an `https` URL goes through `HTTPS_PROXY` (a `CONNECT`
//! tunnel, TLS end to end) unless `NO_PROXY` names its host; a proxy
//! variable that is not a URL stops start-up, naming it.
//!
//! The JWKS server and the proxy are small axum servers on 127.0.0.1 that
//! this test runs; the proxy answers every request with its own JWKS and
//! records what it was asked.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use approov_core::Algorithm;
use approov_core::mint::{SigningKey, TokenBuilder};
use axum::extract::Request;
use common::{Finished, command, run_with_input};

const EXE: &str = env!("CARGO_BIN_EXE_approov-token");
const KID: &str = "keyset-1";

/// A server on 127.0.0.1 answering any method and path with `body`,
/// recording `METHOD URI` of each request.
struct Recorder {
    port: u16,
    seen: Arc<Mutex<Vec<String>>>,
    _runtime: tokio::runtime::Runtime,
}

impl Recorder {
    fn start(body: String) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        let app = axum::Router::new().fallback(move |request: Request| {
            let (log, body) = (Arc::clone(&log), body.clone());
            async move {
                log.lock()
                    .unwrap()
                    .push(format!("{} {}", request.method(), request.uri()));
                ([("content-type", "application/json")], body)
            }
        });
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        runtime.spawn(async move { axum::serve(listener, app).await });
        Self {
            port,
            seen,
            _runtime: runtime,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

fn signing_key() -> SigningKey {
    SigningKey::generate_ecdsa(Algorithm::ES256).unwrap()
}

fn token(key: &SigningKey) -> String {
    TokenBuilder::approov_example()
        .expires_in(300)
        .kid(KID)
        .sign(key)
}

/// `approov-token verify` with `token` on standard input, the JWKS at
/// `url`, and these proxy variables (every other one removed).
fn verify(url: &str, token: &str, proxies: &[(&str, &str)]) -> Finished {
    let mut cmd = command(EXE);
    for var in [
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
        "no_proxy",
        "NO_PROXY",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("APPROOV_JWKS_URL", url)
        .envs(proxies.iter().copied())
        .arg("verify");
    let out = run_with_input(cmd, Some(token.as_bytes()));
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    out
}

#[test]
fn a_loopback_http_jwks_url_never_goes_through_a_proxy() {
    let (genuine, evil) = (signing_key(), signing_key());
    let jwks = Recorder::start(genuine.public_jwks(Some(KID)).unwrap());
    let proxy = Recorder::start(evil.public_jwks(Some(KID)).unwrap());
    let url = format!("{}/jwks.json", jwks.url());
    let proxy_url = proxy.url();
    let proxies = [
        ("http_proxy", proxy_url.as_str()),
        ("HTTP_PROXY", proxy_url.as_str()),
        ("all_proxy", proxy_url.as_str()),
        ("ALL_PROXY", proxy_url.as_str()),
    ];

    let forged = verify(&url, &token(&evil), &proxies);
    assert_eq!(forged.status.code(), Some(1), "{forged:?}");
    assert!(
        forged.stdout.starts_with("refused\nkind: signature\n"),
        "a token signed by the proxy's key: {forged:?}"
    );
    let genuine = verify(&url, &token(&genuine), &proxies);
    assert_eq!(
        (genuine.status.code(), genuine.stdout.as_str()),
        (Some(0), "valid\n"),
        "{genuine:?}"
    );
    assert!(proxy.seen().is_empty(), "{:?}", proxy.seen());
    assert_eq!(jwks.seen(), ["GET /jwks.json"; 2]);
}

#[test]
fn an_https_jwks_url_goes_through_https_proxy_unless_no_proxy_names_it() {
    let proxy = Recorder::start("{}".to_owned());
    let proxy_url = proxy.url();
    // A port nothing listens on: the direct connection is refused at once.
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("https://127.0.0.1:{closed}/jwks.json");
    let token = token(&signing_key());

    let tunnelled = verify(&url, &token, &[("HTTPS_PROXY", &proxy_url)]);
    assert_eq!(tunnelled.status.code(), Some(2), "{tunnelled:?}");
    assert!(
        tunnelled.stderr.contains("APPROOV_JWKS_URL"),
        "{tunnelled:?}"
    );
    assert_eq!(proxy.seen(), [format!("CONNECT 127.0.0.1:{closed}")]);

    let direct = verify(
        &url,
        &token,
        &[("HTTPS_PROXY", &proxy_url), ("NO_PROXY", "127.0.0.1")],
    );
    assert_eq!(direct.status.code(), Some(2), "{direct:?}");
    assert_eq!(proxy.seen().len(), 1, "NO_PROXY: {:?}", proxy.seen());

    // A proxy variable that is not a URL stops start-up, naming the
    // variable and not its value (which may hold credentials).
    for var in ["HTTPS_PROXY", "ALL_PROXY"] {
        let bad = verify(&url, &token, &[(var, "http://user:s3cret@[::1")]);
        assert_eq!(bad.status.code(), Some(2), "{bad:?}");
        assert!(
            bad.stderr.contains(&format!("{var} is not usable")),
            "{bad:?}"
        );
        assert!(!bad.stderr.contains("s3cret"), "{bad:?}");
    }
}
