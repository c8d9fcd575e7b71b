//! Keys from a JWKS URL, against a real JWKS server on a loopback port that
//! each test starts and controls (axum): the first fetch and its failure,
//! rotation through the on-demand fetch for an unknown `kid`, its rate
//! limit (requests counted at the server), `Cache-Control: max-age` and
//! its clamping, stale-if-error, removal, oversize and malformed responses,
//! keys skipped for a contradicting `alg`/`use`, `APPROOV_JWKS_URL`.
//!
//! Time is a `ManualClock`: a test moves it, sends one verification (which
//! wakes the fetcher when a fetch is due), and waits for the fetch by
//! polling a condition (the server's request count, the verifier's fetch
//! status) with a deadline; no sleep stands in for synchronisation.
#![cfg(all(feature = "jwks-url", feature = "mint"))]
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use approov_core::mint::{SigningKey, TokenBuilder};
use approov_core::{
    Algorithm, JwksStatus, JwksUrl, ManualClock, RejectionKind, Verifier, VerifierBuilder,
};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

const NOW: u64 = 1_700_000_000;
/// Tokens outlive every clock move of these tests.
const EXP: f64 = (NOW + 30 * 24 * 3600) as f64;

#[derive(Clone)]
struct Reply {
    status: StatusCode,
    body: String,
    cache_control: Option<&'static str>,
}

#[derive(Default)]
struct State {
    requests: AtomicUsize,
    reply: Mutex<Option<Reply>>,
}

/// A JWKS server on 127.0.0.1, answering `/jwks.json` with what the test
/// set, counting requests.
struct JwksServer {
    state: Arc<State>,
    port: u16,
    _runtime: tokio::runtime::Runtime,
}

impl JwksServer {
    fn start(body: &str) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let state = Arc::new(State::default());
        let shared = Arc::clone(&state);
        let app = axum::Router::new().route(
            "/jwks.json",
            axum::routing::get(move || {
                let state = Arc::clone(&shared);
                async move {
                    state.requests.fetch_add(1, Ordering::SeqCst);
                    let reply = state.reply.lock().unwrap().clone().unwrap();
                    let mut response: Response = (reply.status, reply.body).into_response();
                    response.headers_mut().insert(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    );
                    if let Some(cc) = reply.cache_control {
                        response
                            .headers_mut()
                            .insert(header::CACHE_CONTROL, HeaderValue::from_static(cc));
                    }
                    response
                }
            }),
        );
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        runtime.spawn(async move { axum::serve(listener, app).await });
        let server = Self {
            state,
            port,
            _runtime: runtime,
        };
        server.serve(StatusCode::OK, body, None);
        server
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/jwks.json", self.port)
    }

    fn serve(&self, status: StatusCode, body: &str, cache_control: Option<&'static str>) {
        *self.state.reply.lock().unwrap() = Some(Reply {
            status,
            body: body.to_owned(),
            cache_control,
        });
    }

    fn requests(&self) -> usize {
        self.state.requests.load(Ordering::SeqCst)
    }
}

/// Polls `condition` until it holds, for at most 10 s.
fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn key() -> SigningKey {
    SigningKey::generate_ecdsa(Algorithm::ES256).unwrap()
}

fn jwk(key: &SigningKey, kid: &str) -> Value {
    let doc: Value = serde_json::from_str(&key.public_jwks(Some(kid)).unwrap()).unwrap();
    doc["keys"][0].clone()
}

fn jwks(keys: &[Value]) -> String {
    json!({ "keys": keys }).to_string()
}

fn token(key: &SigningKey, kid: &str) -> String {
    TokenBuilder::new()
        .exp(EXP)
        .claim("did", "JwksUrlTestDID==")
        .kid(kid)
        .sign(key)
}

fn builder(clock: &ManualClock) -> VerifierBuilder {
    Verifier::builder().clock(clock.clone())
}

fn status(verifier: &Verifier) -> JwksStatus {
    verifier.jwks_status().unwrap()
}

fn kind(verifier: &Verifier, token: &str) -> Option<RejectionKind> {
    verifier.verify(token).err().map(|r| r.kind())
}

#[test]
fn first_fetch_gives_the_keys() {
    let a = key();
    let server = JwksServer::start(&jwks(&[jwk(&a, "a")]));
    let clock = ManualClock::at_unix(NOW);
    let verifier = builder(&clock).jwks_url(server.url()).build().unwrap();
    assert_eq!(server.requests(), 1);
    assert_eq!(
        status(&verifier),
        verifier.jwks_status().unwrap(),
        "status is stable"
    );
    assert_eq!(status(&verifier).fetched, 1);
    assert!(verifier.verify(token(&a, "a")).is_ok());
    // Another key with the same kid is not ours.
    assert_eq!(
        kind(&verifier, &token(&key(), "a")),
        Some(RejectionKind::Signature)
    );
    assert_eq!(
        verifier.algorithms().collect::<Vec<_>>(),
        vec![Algorithm::ES256]
    );
}

#[test]
fn rotation_new_kid_is_accepted_after_the_on_demand_fetch() {
    let (a, b) = (key(), key());
    let server = JwksServer::start(&jwks(&[jwk(&a, "a")]));
    let clock = ManualClock::at_unix(NOW);
    let verifier = builder(&clock).jwks_url(server.url()).build().unwrap();
    server.serve(StatusCode::OK, &jwks(&[jwk(&a, "a"), jwk(&b, "b")]), None);
    // Past the unknown-kid interval since the first fetch.
    clock.advance(Duration::from_secs(10));
    assert_eq!(
        kind(&verifier, &token(&b, "b")),
        Some(RejectionKind::UnknownKey),
        "refused while the fetch runs"
    );
    wait_until("the on-demand fetch", || status(&verifier).fetched == 2);
    assert_eq!(server.requests(), 2);
    assert!(verifier.verify(token(&b, "b")).is_ok());
    assert!(verifier.verify(token(&a, "a")).is_ok());
}

#[test]
fn unknown_kids_fetch_at_most_once_per_interval() {
    let a = key();
    let forger = key();
    let server = JwksServer::start(&jwks(&[jwk(&a, "a")]));
    let clock = ManualClock::at_unix(NOW);
    let verifier = builder(&clock)
        .jwks_url(JwksUrl::new(server.url()).unknown_kid_interval(Duration::from_secs(30)))
        .build()
        .unwrap();
    // Within the interval after the first fetch: no fetch at all.
    for i in 0..50 {
        let forged = token(&forger, &format!("forged-{i}"));
        assert_eq!(kind(&verifier, &forged), Some(RejectionKind::UnknownKey));
    }
    clock.advance(Duration::from_secs(30));
    for i in 0..200 {
        let forged = token(&forger, &format!("forged-{i}"));
        assert_eq!(kind(&verifier, &forged), Some(RejectionKind::UnknownKey));
    }
    wait_until("one fetch", || status(&verifier).fetched == 2);
    for i in 0..200 {
        let forged = token(&forger, &format!("forged-again-{i}"));
        assert_eq!(kind(&verifier, &forged), Some(RejectionKind::UnknownKey));
    }
    // 29 s later: still within the interval.
    clock.advance(Duration::from_secs(29));
    for i in 0..50 {
        let forged = token(&forger, &format!("later-{i}"));
        assert_eq!(kind(&verifier, &forged), Some(RejectionKind::UnknownKey));
    }
    clock.advance(Duration::from_secs(1));
    assert_eq!(
        kind(&verifier, &token(&forger, "last")),
        Some(RejectionKind::UnknownKey)
    );
    wait_until("the next fetch", || status(&verifier).fetched == 3);
    // 500 forged kids, three requests at the JWKS server in all.
    assert_eq!(server.requests(), 3);
    assert!(verifier.verify(token(&a, "a")).is_ok());
}

#[test]
fn max_age_is_honoured_and_clamped() {
    let (a, b) = (key(), key());
    let server = JwksServer::start(&jwks(&[jwk(&a, "a")]));
    server.serve(
        StatusCode::OK,
        &jwks(&[jwk(&a, "a")]),
        Some("public, max-age=600"),
    );
    let clock = ManualClock::at_unix(NOW);
    let verifier = builder(&clock)
        .jwks_url(
            JwksUrl::new(server.url())
                .refresh_range(Duration::from_secs(60), Duration::from_secs(3600)),
        )
        .build()
        .unwrap();
    let good = token(&a, "a");
    clock.advance(Duration::from_secs(599));
    assert!(verifier.verify(&good).is_ok());
    // max-age 5, below the minimum: clamped to 60 s.
    server.serve(
        StatusCode::OK,
        &jwks(&[jwk(&a, "a"), jwk(&b, "b")]),
        Some("max-age=5"),
    );
    clock.advance(Duration::from_secs(1));
    assert!(verifier.verify(&good).is_ok());
    wait_until("the refresh at max-age", || status(&verifier).fetched == 2);
    assert!(verifier.verify(token(&b, "b")).is_ok());
    // Nothing is due before 60 s; 99999 s is clamped to 3600 s.
    server.serve(
        StatusCode::OK,
        &jwks(&[jwk(&a, "a"), jwk(&b, "b")]),
        Some("max-age=99999"),
    );
    clock.advance(Duration::from_secs(59));
    assert!(verifier.verify(&good).is_ok());
    assert_eq!(server.requests(), 2, "not fetched before the minimum");
    clock.advance(Duration::from_secs(1));
    assert!(verifier.verify(&good).is_ok());
    wait_until("the refresh at the minimum", || {
        status(&verifier).fetched == 3
    });
    clock.advance(Duration::from_secs(3600));
    assert!(verifier.verify(&good).is_ok());
    wait_until("the refresh at the maximum", || {
        status(&verifier).fetched == 4
    });
    assert_eq!(server.requests(), 4);
}

#[test]
fn without_max_age_the_default_refresh_applies() {
    let a = key();
    let server = JwksServer::start(&jwks(&[jwk(&a, "a")]));
    let clock = ManualClock::at_unix(NOW);
    let verifier = builder(&clock)
        .jwks_url(JwksUrl::new(server.url()).default_refresh(Duration::from_secs(120)))
        .build()
        .unwrap();
    let good = token(&a, "a");
    clock.advance(Duration::from_secs(119));
    assert!(verifier.verify(&good).is_ok());
    assert_eq!(server.requests(), 1);
    clock.advance(Duration::from_secs(1));
    assert!(verifier.verify(&good).is_ok());
    wait_until("the default refresh", || status(&verifier).fetched == 2);
}

#[test]
fn a_removed_key_is_dropped_at_the_next_refresh() {
    let (a, b) = (key(), key());
    let server = JwksServer::start(&jwks(&[jwk(&a, "a"), jwk(&b, "b")]));
    let clock = ManualClock::at_unix(NOW);
    let verifier = builder(&clock)
        .jwks_url(server.url())
        .cache_verified_tokens(100)
        .build()
        .unwrap();
    let old = token(&b, "b");
    assert!(verifier.verify(&old).is_ok());
    assert!(verifier.verify(&old).is_ok(), "from the cache");
    server.serve(StatusCode::OK, &jwks(&[jwk(&a, "a")]), None);
    clock.advance(Duration::from_secs(300));
    assert!(verifier.verify(token(&a, "a")).is_ok());
    wait_until("the refresh", || status(&verifier).fetched == 2);
    assert_eq!(kind(&verifier, &old), Some(RejectionKind::UnknownKey));
    assert!(verifier.verify(token(&a, "a")).is_ok());
}

#[test]
fn stale_if_error_keeps_the_last_good_keys() {
    let a = key();
    let good_doc = jwks(&[jwk(&a, "a")]);
    let server = JwksServer::start(&good_doc);
    let clock = ManualClock::at_unix(NOW);
    let verifier = builder(&clock)
        .jwks_url(JwksUrl::new(server.url()).max_size(4096))
        .build()
        .unwrap();
    let good = token(&a, "a");
    let oversize = jwks(&vec![jwk(&a, "a"); 40]);
    assert!(oversize.len() > 4096);
    let oct = json!({"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "h"}]}).to_string();
    let bad_replies = [
        (StatusCode::INTERNAL_SERVER_ERROR, "oops".to_owned()),
        (StatusCode::OK, "{\"keys\": [".to_owned()),
        (StatusCode::OK, "<html>not json</html>".to_owned()),
        (StatusCode::OK, oversize),
        (StatusCode::OK, "{\"keys\": []}".to_owned()),
        (StatusCode::OK, oct),
    ];
    clock.advance(Duration::from_secs(300));
    for (i, (code, body)) in bad_replies.iter().enumerate() {
        server.serve(*code, body, None);
        assert!(verifier.verify(&good).is_ok());
        let failed = i as u64 + 1;
        wait_until("a failed fetch", || status(&verifier).failed == failed);
        assert_eq!(status(&verifier).failing_for, failed);
        assert!(verifier.verify(&good).is_ok(), "reply {i}: stale kept");
        // A failed fetch is retried after the refresh minimum (1 min).
        clock.advance(Duration::from_secs(60));
    }
    server.serve(StatusCode::OK, &good_doc, None);
    assert!(verifier.verify(&good).is_ok());
    wait_until("the recovery", || status(&verifier).fetched == 2);
    assert_eq!(status(&verifier).failing_for, 0);
    assert_eq!(server.requests(), 1 + bad_replies.len() + 1);
}

#[test]
fn keys_that_contradict_their_type_are_skipped() {
    let a = key();
    let mut wrong_alg = jwk(&key(), "wrong-alg");
    wrong_alg["alg"] = json!("RS256");
    let mut enc = jwk(&key(), "enc");
    enc["use"] = json!("enc");
    let mut odd_use = jwk(&key(), "odd-use");
    odd_use["use"] = json!("wrap");
    let okp = json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": "ed"});
    let doc = jwks(&[wrong_alg, enc, odd_use, okp, jwk(&a, "a")]);
    let server = JwksServer::start(&doc);
    let clock = ManualClock::at_unix(NOW);
    let verifier = builder(&clock).jwks_url(server.url()).build().unwrap();
    assert!(verifier.verify(token(&a, "a")).is_ok());
    assert_eq!(
        verifier.algorithms().collect::<Vec<_>>(),
        vec![Algorithm::ES256]
    );
}

#[test]
fn a_failed_first_fetch_refuses_to_start_naming_the_url_without_secrets() {
    let server = JwksServer::start("{}");
    server.serve(StatusCode::INTERNAL_SERVER_ERROR, "down", None);
    let url = format!(
        "http://user:hunter2@127.0.0.1:{}/jwks.json?token=s3cret",
        server.port
    );
    let err = Verifier::builder()
        .jwks_url(url)
        .build()
        .unwrap_err()
        .to_string();
    assert!(err.contains(&server.url()), "{err}");
    assert!(err.contains("500"), "{err}");
    assert!(!err.contains("hunter2") && !err.contains("s3cret"), "{err}");

    // Oversize and malformed first documents too.
    server.serve(StatusCode::OK, &"x".repeat(2000), None);
    let err = Verifier::builder()
        .jwks_url(JwksUrl::new(server.url()).max_size(1000))
        .build()
        .unwrap_err()
        .to_string();
    assert!(err.contains("1000-byte limit"), "{err}");
    server.serve(StatusCode::OK, "[1, 2]", None);
    let err = Verifier::builder()
        .jwks_url(server.url())
        .build()
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a JWKS document"), "{err}");

    // Nothing listening.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let err = Verifier::builder()
        .jwks_url(format!("http://127.0.0.1:{closed}/jwks.json"))
        .build()
        .unwrap_err()
        .to_string();
    assert!(err.contains(&format!("127.0.0.1:{closed}")), "{err}");
}

#[test]
fn start_without_keys_refuses_tokens_until_a_fetch_succeeds() {
    let a = key();
    let server = JwksServer::start("{}");
    server.serve(StatusCode::SERVICE_UNAVAILABLE, "later", None);
    let clock = ManualClock::at_unix(NOW);
    let verifier = builder(&clock)
        .jwks_url(JwksUrl::new(server.url()).start_without_keys(true))
        .build()
        .unwrap();
    assert_eq!(status(&verifier).failed, 1);
    let good = token(&a, "a");
    assert_eq!(kind(&verifier, &good), Some(RejectionKind::KeysUnavailable));
    server.serve(StatusCode::OK, &jwks(&[jwk(&a, "a")]), None);
    clock.advance(Duration::from_secs(10));
    assert_eq!(kind(&verifier, &good), Some(RejectionKind::KeysUnavailable));
    wait_until("the fetch a token asked for", || {
        status(&verifier).fetched == 1
    });
    assert!(verifier.verify(&good).is_ok());
}

/// A loopback URL on a port nothing listens on: every fetch is refused.
fn refused_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}/jwks.json")
}

#[test]
fn no_key_at_all_is_keys_unavailable_answered_503() {
    let clock = ManualClock::at_unix(NOW);
    let verifier = builder(&clock)
        .jwks_url(
            JwksUrl::new(refused_url())
                .timeout(Duration::from_millis(500))
                .start_without_keys(true),
        )
        .build()
        .unwrap();
    assert_eq!(status(&verifier).fetched, 0);
    // Whatever the token's algorithm: no key could judge it.
    let es256 = token(&key(), "a");
    let hs256 = TokenBuilder::new()
        .exp(EXP)
        .sign_hs256_base64(
            "YXBwcm9vdi1ycyBleGFtcGxlIHNlY3JldDogMzIgYnl0ZXMgb3IgbW9yZSwgYXMgUkZDIDc1MTggYXNrcw==",
        )
        .unwrap();
    for token in [&es256, &hs256] {
        let rejection = verifier.verify(token).unwrap_err();
        assert_eq!(rejection, approov_core::Rejection::KeysUnavailable);
        assert_eq!(rejection.kind().as_str(), "keys_unavailable");
        assert_eq!(
            (
                rejection.status(),
                rejection.retry_after(),
                rejection.grpc_status()
            ),
            (503, Some("10"), "14")
        );
    }
    // What needs no key is judged as ever: no token, not a token, an
    // SDK status, `alg: none`.
    let none: [(&str, &str); 0] = [];
    assert_eq!(
        verifier.verify_request(&none).unwrap_err().kind(),
        RejectionKind::Missing
    );
    assert_eq!(kind(&verifier, "garbage"), Some(RejectionKind::Malformed));
    assert_eq!(
        kind(&verifier, "NO_NETWORK"),
        Some(RejectionKind::SdkStatus)
    );
    let unsigned = TokenBuilder::new()
        .exp(EXP)
        .header("alg", "none")
        .unsigned();
    assert_eq!(kind(&verifier, &unsigned), Some(RejectionKind::Algorithm));
    // The gate refuses it (report-only: lets it through, marked).
    let headers = [("Approov-Token", es256.as_str())];
    let decision = approov_core::Gate::new(verifier.clone()).check("GET", &headers);
    assert!(
        matches!(&decision, approov_core::Decision::Reject(r) if r.status() == 503),
        "{decision:?}"
    );
    let decision = approov_core::Gate::new(verifier)
        .report_only(true)
        .check("GET", &headers);
    assert!(
        matches!(
            &decision,
            approov_core::Decision::Forward(approov_core::ApproovOutcome::Rejected(
                approov_core::Rejection::KeysUnavailable
            ))
        ),
        "{decision:?}"
    );
}

#[test]
fn a_secret_beside_an_unfetched_jwks_is_a_usable_key() {
    let clock = ManualClock::at_unix(NOW);
    let secret =
        "YXBwcm9vdi1ycyBleGFtcGxlIHNlY3JldDogMzIgYnl0ZXMgb3IgbW9yZSwgYXMgUkZDIDc1MTggYXNrcw==";
    let verifier = builder(&clock)
        .secret_base64(secret)
        .jwks_url(
            JwksUrl::new(refused_url())
                .timeout(Duration::from_millis(500))
                .start_without_keys(true),
        )
        .build()
        .unwrap();
    let hs256 = TokenBuilder::new()
        .exp(EXP)
        .sign_hs256_base64(secret)
        .unwrap();
    assert!(verifier.verify(&hs256).is_ok());
    // An ES256 token is judged against the keys there are: 401, as before.
    assert_eq!(
        kind(&verifier, &token(&key(), "a")),
        Some(RejectionKind::Algorithm)
    );
}

#[test]
fn urls_other_than_https_or_loopback_http_are_refused() {
    for url in [
        "http://example.com/jwks.json",
        "ftp://127.0.0.1/jwks.json",
        "jwks.json",
    ] {
        let err = Verifier::builder()
            .jwks_url(url)
            .build()
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("jwks_url is not usable"), "{err}");
    }
}

#[test]
fn approov_jwks_url_needs_no_secret() {
    let a = key();
    let server = JwksServer::start(&jwks(&[jwk(&a, "a")]));
    let vars = HashMap::from([("APPROOV_JWKS_URL", server.url())]);
    let verifier = VerifierBuilder::from_vars(|k| vars.get(k).cloned())
        .unwrap()
        .clock(ManualClock::at_unix(NOW))
        .build()
        .unwrap();
    assert!(verifier.verify(token(&a, "a")).is_ok());

    // With a secret too: both kinds of key.
    let secret = approov_core::mint::generate_secret_base64();
    let vars = HashMap::from([
        ("APPROOV_JWKS_URL", server.url()),
        ("APPROOV_BASE64_SECRET", secret.clone()),
    ]);
    let verifier = VerifierBuilder::from_vars(|k| vars.get(k).cloned())
        .unwrap()
        .clock(ManualClock::at_unix(NOW))
        .build()
        .unwrap();
    assert!(verifier.verify(token(&a, "a")).is_ok());
    let hs = TokenBuilder::new()
        .exp(EXP)
        .sign_hs256_base64(&secret)
        .unwrap();
    assert!(verifier.verify(hs).is_ok());

    let vars = HashMap::from([("APPROOV_JWKS_URL", "http://example.com/jwks".to_owned())]);
    let err = VerifierBuilder::from_vars(|k| vars.get(k).cloned())
        .unwrap()
        .build()
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("APPROOV_JWKS_URL is not usable"), "{err}");
}

#[test]
fn approov_jwks_start_without_keys_from_the_environment() {
    let url = refused_url();
    let from = |vars: &[(&str, &str)]| {
        let vars: HashMap<&str, String> = vars.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        VerifierBuilder::from_vars(|k| vars.get(k).cloned())
            .and_then(|b| b.clock(ManualClock::at_unix(NOW)).build())
    };
    // Unset or false: the failed first fetch stops start-up.
    for vars in [
        vec![("APPROOV_JWKS_URL", url.as_str())],
        vec![
            ("APPROOV_JWKS_URL", url.as_str()),
            ("APPROOV_JWKS_START_WITHOUT_KEYS", "false"),
        ],
    ] {
        let err = from(&vars).unwrap_err().to_string();
        assert!(err.starts_with("APPROOV_JWKS_URL is not usable"), "{err}");
    }
    let verifier = from(&[
        ("APPROOV_JWKS_URL", url.as_str()),
        ("APPROOV_JWKS_START_WITHOUT_KEYS", "true"),
    ])
    .unwrap();
    assert_eq!(
        kind(&verifier, &token(&key(), "a")),
        Some(RejectionKind::KeysUnavailable)
    );
    // Anything but true or false, or without a URL: a start-up error
    // naming the variable.
    let err = from(&[
        ("APPROOV_JWKS_URL", url.as_str()),
        ("APPROOV_JWKS_START_WITHOUT_KEYS", "yes please"),
    ])
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "APPROOV_JWKS_START_WITHOUT_KEYS is not usable: it must be true or false"
    );
    let err = from(&[
        (
            "APPROOV_BASE64_SECRET",
            "YXBwcm9vdi1ycyBleGFtcGxlIHNlY3JldDogMzIgYnl0ZXMgb3IgbW9yZSwgYXMgUkZDIDc1MTggYXNrcw==",
        ),
        ("APPROOV_JWKS_START_WITHOUT_KEYS", "true"),
    ])
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("APPROOV_JWKS_START_WITHOUT_KEYS is not usable")
            && err.contains("APPROOV_JWKS_URL is not"),
        "{err}"
    );
}

#[test]
fn the_fetcher_stops_with_the_verifier() {
    let a = key();
    let server = JwksServer::start(&jwks(&[jwk(&a, "a")]));
    let clock = ManualClock::at_unix(NOW);
    let verifier = builder(&clock).jwks_url(server.url()).build().unwrap();
    let derived = verifier.with_token_binding(None);
    drop(verifier);
    // A derived verifier shares the keys and the fetcher.
    assert!(derived.verify(token(&a, "a")).is_ok());
    assert!(format!("{derived:?}").contains("ES256"));
    drop(derived);
    clock.advance(Duration::from_secs(3600));
    assert_eq!(server.requests(), 1);
}
