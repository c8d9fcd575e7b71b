//! One table of conformance cases, run against every adapter in-process
//! (`tests/tests/{tower,actix,warp}.rs`), against the core's `Gate` itself
//! (`tests/tests/core_gate.rs`) and against every example server over
//! sockets (`examples/tests/conformance.rs`); and the [`fixtures`] every
//! crate's tests share.
//!
//! Every adapter's test app mounts the same routes (see [`Route`]) with the
//! same policies, so every case must give the same answer everywhere. The
//! apps use [`SECRET`], the secret of Approov's own published quickstart
//! tokens, so those tokens ([`published`]) run here unchanged.
#![allow(clippy::unwrap_used)]

use approov_core::mint::TokenBuilder;

pub mod fixtures;
pub mod process;
pub mod serve_limits;
mod signed;
pub use fixtures::{REASON_HEADER, SECRET, WRONG_SECRET};
use serde_json::{Value, json};
use signed::leak;
pub use signed::{ACCOUNT_SECRET, AUTHORITY, MSKID, message_signing};

/// The token header.
pub const TOKEN_HEADER: &str = "Approov-Token";
/// The header the bound routes bind the token to.
pub const BINDING_HEADER: &str = "Authorization";
/// The response header in which report-only routes echo the outcome: `verified`,
/// `skipped_preflight`, or the rejection kind.
pub const OUTCOME_HEADER: &str = "x-approov-outcome";
/// The headers the pair-bound routes bind the token to, in order (those of
/// the published vector `good_full_with_binding`).
pub const PAIR_BINDING_HEADERS: [&str; 2] = ["Authorization", "X-Device-Id"];
/// The header the bearer routes read the token from.
pub const BEARER_HEADER: &str = "Authorization";
/// The scheme the bearer routes expect before the token.
pub const BEARER_SCHEME: &str = "Bearer";
/// The status of the custom rejection response.
pub const CUSTOM_STATUS: u16 = 403;
/// The body of the custom rejection response.
pub const CUSTOM_BODY: &str = r#"{"custom":true}"#;
/// The body of the protected routes.
pub const HELLO_BODY: &str = r#"{"message":"Hello, World!"}"#;
/// The largest token the apps accept (the core's default).
pub const MAX_TOKEN_LEN: usize = approov_core::DEFAULT_MAX_TOKEN_LEN;

/// The routes every test app mounts. Protected routes answer `GET` and
/// `OPTIONS` with [`HELLO_BODY`], so preflight cases have one status everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Route {
    /// `/`: enforcing, no binding.
    Plain,
    /// `/token-binding`: enforcing, bound to [`BINDING_HEADER`].
    Bound,
    /// `/health`: unprotected.
    Health,
    /// `/report-only`: like `Plain` in report-only mode; the handler echoes
    /// the outcome in [`OUTCOME_HEADER`].
    ReportOnly,
    /// `/token-binding/report-only`: like `Bound` in report-only mode.
    BoundReportOnly,
    /// `/custom`: like `Plain` with a custom rejection response:
    /// [`CUSTOM_STATUS`], the kind in [`REASON_HEADER`], body `{"custom":true}`.
    Custom,
    /// `/no-preflight-skip`: like `Plain` but CORS preflights are checked too.
    NoPreflightSkip,
    /// `/message-signing` (`GET` and `POST`): an installation signature is
    /// required always ([`SignaturePolicy::Always`](approov_core::signing::SignaturePolicy::Always)); `Content-Digest` is
    /// verified when present. See [`message_signing`].
    MessageSigning,
    /// `/message-signing/account`: like `MessageSigning`, with the account
    /// message-signing secret [`ACCOUNT_SECRET`] under [`MSKID`].
    MessageSigningAccount,
    /// `/bearer`: like `Plain`, but the token is read from
    /// `Authorization: Bearer <token>` ([`BEARER_HEADER`], [`BEARER_SCHEME`]),
    /// set through each adapter's own options.
    Bearer,
    /// `/bearer/report-only`: like `Bearer` in report-only mode.
    BearerReportOnly,
    /// `/token-binding/pair`: enforcing, bound to [`PAIR_BINDING_HEADERS`].
    BoundPair,
    /// `/token-binding/pair/report-only`: like `BoundPair` in report-only mode.
    BoundPairReportOnly,
}

impl Route {
    /// Every route.
    pub const ALL: [Route; 13] = [
        Route::Plain,
        Route::Bound,
        Route::Health,
        Route::ReportOnly,
        Route::BoundReportOnly,
        Route::Custom,
        Route::NoPreflightSkip,
        Route::MessageSigning,
        Route::MessageSigningAccount,
        Route::Bearer,
        Route::BearerReportOnly,
        Route::BoundPair,
        Route::BoundPairReportOnly,
    ];

    /// The path the apps mount it at.
    pub const fn path(self) -> &'static str {
        match self {
            Route::Plain => "/",
            Route::Bound => "/token-binding",
            Route::Health => "/health",
            Route::ReportOnly => "/report-only",
            Route::BoundReportOnly => "/token-binding/report-only",
            Route::Custom => "/custom",
            Route::NoPreflightSkip => "/no-preflight-skip",
            Route::MessageSigning => "/message-signing",
            Route::MessageSigningAccount => "/message-signing/account",
            Route::Bearer => "/bearer",
            Route::BearerReportOnly => "/bearer/report-only",
            Route::BoundPair => "/token-binding/pair",
            Route::BoundPairReportOnly => "/token-binding/pair/report-only",
        }
    }

    /// The report-only twin of an enforcing route, which tells the reason.
    pub const fn report_twin(self) -> Option<Route> {
        match self {
            Route::Plain | Route::Custom => Some(Route::ReportOnly),
            Route::Bound => Some(Route::BoundReportOnly),
            Route::Bearer => Some(Route::BearerReportOnly),
            Route::BoundPair => Some(Route::BoundPairReportOnly),
            _ => None,
        }
    }

    /// Whether the route lets every request through and echoes the outcome
    /// in [`OUTCOME_HEADER`].
    pub const fn is_report_only(self) -> bool {
        matches!(
            self,
            Route::ReportOnly
                | Route::BoundReportOnly
                | Route::BearerReportOnly
                | Route::BoundPairReportOnly
        )
    }

    /// Whether the example servers have this route (they mount `/`,
    /// `/token-binding`, `/health` and `/message-signing`).
    pub const fn in_examples(self) -> bool {
        matches!(
            self,
            Route::Plain | Route::Bound | Route::Health | Route::MessageSigning
        )
    }
}

/// What a case must produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// 200 with [`HELLO_BODY`]; outcome `verified`.
    Accept,
    /// Rejected for this kind ([`approov_core::RejectionKind::as_str`]).
    Reject(&'static str),
    /// A CORS preflight let through unchecked; outcome `skipped_preflight`.
    Preflight,
    /// An unprotected route: 200 whatever the token.
    Unprotected,
    /// The body is over the message-signing limit: 413 with `{}`, and the
    /// handler is not called.
    BodyTooLarge,
}

/// One request and what every adapter must answer.
#[derive(Debug, Clone)]
pub struct Case {
    /// A unique, descriptive name.
    pub name: &'static str,
    /// The HTTP method.
    pub method: &'static str,
    /// Where it goes.
    pub route: Route,
    /// Headers in order; values are raw bytes (some cases are not UTF-8).
    pub headers: Vec<(&'static str, Vec<u8>)>,
    /// The request body (empty for most cases).
    pub body: Vec<u8>,
    /// The expected result.
    pub expect: Expect,
}

impl Case {
    /// The status every adapter must answer.
    pub fn status(&self) -> u16 {
        match (self.expect, self.route) {
            (Expect::BodyTooLarge, _) => 413,
            (Expect::Reject(_), Route::Custom) => CUSTOM_STATUS,
            (Expect::Reject(_), route) if route.is_report_only() => 200,
            (Expect::Reject(_), _) => 401,
            _ => 200,
        }
    }

    /// What a report-only route echoes for this case.
    pub fn outcome(&self) -> &'static str {
        match self.expect {
            Expect::Accept | Expect::Unprotected => "verified",
            Expect::Reject(kind) => kind,
            Expect::Preflight => "skipped_preflight",
            Expect::BodyTooLarge => "body_too_large",
        }
    }
}

/// The verifier every test app uses: [`SECRET`], default settings, the
/// system clock (as the example servers run; the table's tokens are minted
/// far from today). Tests on a stopped clock use [`fixtures::verifier`].
pub fn verifier() -> approov_core::Verifier {
    approov_core::Verifier::builder()
        .secret_base64(SECRET)
        .build()
        .unwrap()
}

/// The binding of the bound routes: [`BINDING_HEADER`].
pub fn binding() -> approov_core::TokenBinding {
    approov_core::TokenBinding::new([BINDING_HEADER]).unwrap()
}

/// The binding of the pair-bound routes: [`PAIR_BINDING_HEADERS`].
pub fn pair_binding() -> approov_core::TokenBinding {
    approov_core::TokenBinding::new(PAIR_BINDING_HEADERS).unwrap()
}

/// The outcome a report-only handler echoes in [`OUTCOME_HEADER`].
pub fn outcome_name(outcome: Option<&approov_core::ApproovOutcome>) -> &'static str {
    use approov_core::ApproovOutcome;
    match outcome {
        Some(ApproovOutcome::Verified(_)) => "verified",
        Some(ApproovOutcome::SkippedPreflight) => "skipped_preflight",
        Some(ApproovOutcome::Rejected(r)) => r.kind().as_str(),
        Some(_) => "unknown",
        None => "absent",
    }
}

/// Every case followed by its report-only twin, where it has one: the
/// requests every runner sends, each checked with [`check`].
pub fn all_requests() -> Vec<Case> {
    cases()
        .into_iter()
        .flat_map(|case| {
            let twin = report_twin(&case);
            std::iter::once(case).chain(twin)
        })
        .collect()
}

pub(crate) fn token_header(token: impl Into<Vec<u8>>) -> (&'static str, Vec<u8>) {
    (TOKEN_HEADER, token.into())
}

/// A valid token (far-future `exp`) with the example claims.
pub fn valid_token() -> String {
    base().sign_hs256_base64(SECRET).unwrap()
}

pub(crate) fn base() -> TokenBuilder {
    TokenBuilder::new()
        .exp(4_000_000_000.0)
        .claim("ip", "1.2.3.4")
        .claim("did", "ExampleApproovTokenDID==")
}

pub(crate) fn sign(builder: TokenBuilder) -> String {
    builder.sign_hs256_base64(SECRET).unwrap()
}

/// The published quickstart vectors (`approov_core::mint::PUBLISHED_VECTORS`).
fn vectors() -> Value {
    serde_json::from_str(approov_core::mint::PUBLISHED_VECTORS).unwrap()
}

/// The published quickstart tokens made with [`SECRET`] (`S1`): each entry
/// of `tokens` in `approov_core::mint::PUBLISHED_VECTORS` (name, expectation,
/// token, detail).
pub fn published() -> Vec<(String, String, String, Value)> {
    let vectors = vectors();
    assert_eq!(vectors["secrets"]["S1"]["base64"], SECRET, "S1 is SECRET");
    vectors["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["secret"] == "S1")
        .map(|t| {
            let text = |key: &str| t[key].as_str().unwrap().to_owned();
            (
                text("name"),
                text("expect"),
                text("token"),
                t["detail"].clone(),
            )
        })
        .collect()
}

/// The table's rows for the published `S1` tokens: each with the outcome
/// the quickstarts expect, and each bound one with its headers where the
/// route binds them, without them where it does not, and with another
/// session's headers.
fn published_cases() -> Vec<Case> {
    let all = published();
    assert_eq!(
        all.len(),
        9,
        "the published vectors changed: review the table"
    );
    let mut list = Vec::new();
    for (name, expect, token, detail) in all {
        let name = leak(format!("published_{name}"));
        let with = |suffix: &str| leak(format!("{name}_{suffix}"));
        let detail_headers: Vec<(&'static str, Vec<u8>)> = detail["headers"]
            .as_object()
            .map(|h| {
                h.iter()
                    .map(|(k, v)| (leak(k.clone()), v.as_str().unwrap().into()))
                    .collect()
            })
            .unwrap_or_default();
        let mut headers = vec![token_header(token.clone())];
        headers.extend(detail_headers.iter().cloned());
        let kind = match (expect.as_str(), name) {
            ("accept" | "reject_when_bound", _) => None,
            (_, "published_bad_signature") => Some("signature"),
            (_, "published_no_alg_enc_header") => Some("algorithm"),
            (_, "published_no_exp") => Some("claim"),
            (_, "published_expired") => Some("expired"),
            (expect, name) => panic!("{name}: no outcome recorded for {expect}"),
        };
        list.push(case(
            name,
            Route::Plain,
            headers.clone(),
            kind.map_or(Expect::Accept, Expect::Reject),
        ));
        let bound_route = match detail["binding_headers"].as_array() {
            Some(names) if names.len() == 1 && names[0] == BINDING_HEADER => Route::Bound,
            Some(names) if *names == PAIR_BINDING_HEADERS.map(Value::from) => Route::BoundPair,
            Some(names) => panic!("{name}: no route binds {names:?}"),
            None => continue,
        };
        let when_bound = if expect == "reject_when_bound" {
            Expect::Reject("binding")
        } else {
            Expect::Accept
        };
        list.push(case(with("bound"), bound_route, headers, when_bound));
        if when_bound != Expect::Accept {
            continue;
        }
        // Each bound header: another value, then left out.
        for (index, (header, _)) in detail_headers.iter().enumerate() {
            let mut other = vec![token_header(token.clone())];
            other.extend(detail_headers.iter().cloned());
            other[index + 1].1 = b"another-session".to_vec();
            let mut without = vec![token_header(token.clone())];
            without.extend(detail_headers.iter().filter(|(k, _)| k != header).cloned());
            let header = header.to_ascii_lowercase();
            list.push(case(
                with(&format!("other_{header}")),
                bound_route,
                other,
                Expect::Reject("binding"),
            ));
            list.push(case(
                with(&format!("without_{header}")),
                bound_route,
                without,
                Expect::Reject("binding_header"),
            ));
        }
    }
    list
}

/// Every case. Tokens are minted with far-past or far-future times, so the
/// table holds against the real clock (the example servers) as well.
pub fn cases() -> Vec<Case> {
    let valid = valid_token();
    let bearer = "Bearer myauth_token";
    let bound = sign(base().pay_for([bearer]));
    // Another device's claims under this token's signature.
    let forged = sign(base().claim("did", "SomeoneElse=="));
    let (signing_input, _) = forged.rsplit_once('.').unwrap();
    let tampered = format!("{signing_input}.{}", valid.rsplit_once('.').unwrap().1);
    let stripped = format!("{}.", valid.rsplit_once('.').unwrap().0);

    let mut list = vec![
        case(
            "valid",
            Route::Plain,
            vec![token_header(valid.clone())],
            Expect::Accept,
        ),
        case("missing", Route::Plain, vec![], Expect::Reject("missing")),
        case(
            "empty",
            Route::Plain,
            vec![token_header("")],
            Expect::Reject("missing"),
        ),
        case(
            "garbage",
            Route::Plain,
            vec![token_header("not-a-token")],
            Expect::Reject("malformed"),
        ),
        case(
            "bearer_prefix",
            Route::Plain,
            vec![token_header(format!("Bearer {valid}"))],
            Expect::Reject("malformed"),
        ),
        case(
            "expired",
            Route::Plain,
            vec![token_header(sign(base().exp(1_600_000_000.0)))],
            Expect::Reject("expired"),
        ),
        case(
            "not_yet_valid",
            Route::Plain,
            vec![token_header(sign(base().claim("nbf", 3_999_000_000_i64)))],
            Expect::Reject("not_yet_valid"),
        ),
        case(
            "wrong_secret",
            Route::Plain,
            vec![token_header(
                base().sign_hs256_base64(WRONG_SECRET).unwrap(),
            )],
            Expect::Reject("signature"),
        ),
        case(
            "alg_none",
            Route::Plain,
            vec![token_header(base().header("alg", "none").unsigned())],
            Expect::Reject("algorithm"),
        ),
        case(
            "alg_hs384",
            Route::Plain,
            vec![token_header(sign(base().header("alg", "HS384")))],
            Expect::Reject("algorithm"),
        ),
        case(
            "alg_hs512",
            Route::Plain,
            vec![token_header(sign(base().header("alg", "HS512")))],
            Expect::Reject("algorithm"),
        ),
        case(
            "crit_header",
            Route::Plain,
            vec![token_header(sign(base().header("crit", json!(["b64"]))))],
            Expect::Reject("crit"),
        ),
        case(
            "tampered_payload",
            Route::Plain,
            vec![token_header(tampered)],
            Expect::Reject("signature"),
        ),
        case(
            "stripped_signature",
            Route::Plain,
            vec![token_header(stripped)],
            Expect::Reject("signature"),
        ),
        case(
            "exp_as_string",
            Route::Plain,
            vec![token_header(sign(base().claim("exp", "4000000000")))],
            Expect::Reject("claim"),
        ),
        case(
            "did_as_number",
            Route::Plain,
            vec![token_header(sign(base().claim("did", 42)))],
            Expect::Reject("claim"),
        ),
        case(
            "pay_as_null",
            Route::Plain,
            vec![token_header(sign(
                base().claim("pay", serde_json::Value::Null),
            ))],
            Expect::Reject("claim"),
        ),
        case(
            "oversized",
            Route::Plain,
            vec![token_header(sign(
                base().claim("padding", "x".repeat(MAX_TOKEN_LEN)),
            ))],
            Expect::Reject("too_long"),
        ),
        case(
            "repeated_token_header",
            Route::Plain,
            vec![token_header(valid.clone()), token_header(valid.clone())],
            Expect::Reject("multiple"),
        ),
        case(
            "obs_text_bytes",
            Route::Plain,
            vec![token_header({
                let mut v = valid.clone().into_bytes();
                v[10] = 0xE9;
                v
            })],
            Expect::Reject("malformed"),
        ),
        case(
            "non_utf8_bytes",
            Route::Plain,
            vec![token_header(b"\xff\xfe\xfd".to_vec())],
            Expect::Reject("malformed"),
        ),
        case(
            "utf8_multibyte",
            Route::Plain,
            vec![token_header(
                [b"\xc3\xa9".as_slice(), valid.as_bytes()].concat(),
            )],
            Expect::Reject("malformed"),
        ),
        case(
            "space_inside",
            Route::Plain,
            vec![token_header(format!("{valid} trailing"))],
            Expect::Reject("malformed"),
        ),
        case(
            "tab_inside",
            Route::Plain,
            vec![token_header(b"a.b\tc".to_vec())],
            Expect::Reject("malformed"),
        ),
        case(
            "two_segments",
            Route::Plain,
            vec![token_header(valid.rsplit_once('.').unwrap().0)],
            Expect::Reject("malformed"),
        ),
        case(
            "alg_none_signed",
            Route::Plain,
            vec![token_header(sign(base().header("alg", "none")))],
            Expect::Reject("algorithm"),
        ),
        case(
            "no_alg",
            Route::Plain,
            vec![token_header(sign(base().without_header("alg")))],
            Expect::Reject("algorithm"),
        ),
        case(
            "exp_as_null",
            Route::Plain,
            vec![token_header(sign(
                base().claim("exp", serde_json::Value::Null),
            ))],
            Expect::Reject("claim"),
        ),
        case(
            "ip_as_array",
            Route::Plain,
            vec![token_header(sign(base().claim("ip", json!(["1.2.3.4"]))))],
            Expect::Reject("claim"),
        ),
        case(
            "nbf_as_string",
            Route::Plain,
            vec![token_header(sign(base().claim("nbf", "0")))],
            Expect::Reject("claim"),
        ),
        case(
            "repeated_token_header_one_empty",
            Route::Plain,
            vec![token_header(valid.clone()), token_header("")],
            Expect::Reject("multiple"),
        ),
        case(
            "repeated_token_header_other_case",
            Route::Plain,
            vec![
                ("approov-token", valid.clone().into()),
                ("APPROOV-TOKEN", b"x".to_vec()),
            ],
            Expect::Reject("multiple"),
        ),
        case(
            "bearer_in_authorization_only",
            Route::Plain,
            vec![(BINDING_HEADER, format!("Bearer {valid}").into())],
            Expect::Reject("missing"),
        ),
        case(
            "minted_example_on_the_system_clock",
            Route::Plain,
            vec![token_header(
                TokenBuilder::approov_example()
                    .sign_hs256_base64(SECRET)
                    .unwrap(),
            )],
            Expect::Accept,
        ),
        case(
            "binding_match",
            Route::Bound,
            vec![token_header(bound.clone()), (BINDING_HEADER, bearer.into())],
            Expect::Accept,
        ),
        case(
            "binding_mismatch",
            Route::Bound,
            vec![
                token_header(bound.clone()),
                (BINDING_HEADER, b"Bearer someone-else".to_vec()),
            ],
            Expect::Reject("binding"),
        ),
        case(
            "binding_header_missing",
            Route::Bound,
            vec![token_header(bound.clone())],
            Expect::Reject("binding_header"),
        ),
        case(
            "binding_header_repeated",
            Route::Bound,
            vec![
                token_header(bound.clone()),
                (BINDING_HEADER, bearer.into()),
                (BINDING_HEADER, bearer.into()),
            ],
            Expect::Reject("binding_header"),
        ),
        case(
            "binding_no_pay",
            Route::Bound,
            vec![token_header(valid.clone()), (BINDING_HEADER, bearer.into())],
            Expect::Reject("binding_missing"),
        ),
        case(
            "unbound_route_ignores_pay",
            Route::Plain,
            vec![token_header(bound.clone())],
            Expect::Accept,
        ),
        case(
            "report_only_valid",
            Route::ReportOnly,
            vec![token_header(valid.clone())],
            Expect::Accept,
        ),
        case(
            "report_only_missing",
            Route::ReportOnly,
            vec![],
            Expect::Reject("missing"),
        ),
        case(
            "report_only_bound_mismatch",
            Route::BoundReportOnly,
            vec![
                token_header(bound.clone()),
                (BINDING_HEADER, b"Bearer someone-else".to_vec()),
            ],
            Expect::Reject("binding"),
        ),
        Case {
            name: "preflight_skipped",
            method: "OPTIONS",
            route: Route::Plain,
            headers: vec![
                ("Origin", b"https://app.example".to_vec()),
                ("Access-Control-Request-Method", b"GET".to_vec()),
            ],
            body: Vec::new(),
            expect: Expect::Preflight,
        },
        Case {
            name: "options_without_preflight_header_checked",
            method: "OPTIONS",
            route: Route::Plain,
            headers: vec![],
            body: Vec::new(),
            expect: Expect::Reject("missing"),
        },
        Case {
            name: "preflight_without_origin_checked",
            method: "OPTIONS",
            route: Route::Plain,
            headers: vec![("Access-Control-Request-Method", b"GET".to_vec())],
            body: Vec::new(),
            expect: Expect::Reject("missing"),
        },
        Case {
            name: "preflight_checked_when_not_skipped",
            method: "OPTIONS",
            route: Route::NoPreflightSkip,
            headers: vec![
                ("Origin", b"https://app.example".to_vec()),
                ("Access-Control-Request-Method", b"GET".to_vec()),
            ],
            body: Vec::new(),
            expect: Expect::Reject("missing"),
        },
        case(
            "custom_response",
            Route::Custom,
            vec![token_header("garbage")],
            Expect::Reject("malformed"),
        ),
        case(
            "custom_response_sdk_status",
            Route::Custom,
            vec![token_header("POOR_NETWORK")],
            Expect::Reject("sdk_status"),
        ),
        case(
            "custom_route_valid",
            Route::Custom,
            vec![token_header(valid.clone())],
            Expect::Accept,
        ),
        case(
            "health_unprotected",
            Route::Health,
            vec![],
            Expect::Unprotected,
        ),
        case(
            "health_ignores_bad_token",
            Route::Health,
            vec![token_header("garbage")],
            Expect::Unprotected,
        ),
    ];
    list.extend(sdk_status_cases());
    list.extend(published_cases());
    list.extend(bearer_cases(&valid));
    list.extend(crate::signed::cases());
    list
}

/// The Approov SDK's fetch status in place of a token: `sdk_status`, a 401
/// like any refusal; a value not of a status's shape stays `malformed`.
fn sdk_status_cases() -> Vec<Case> {
    let mut list: Vec<Case> = [
        "NO_NETWORK",
        "POOR_NETWORK",
        "MITM_DETECTED",
        "NO_APPROOV_SERVICE",
        "UNKNOWN_URL",
        "UNPROTECTED_URL",
    ]
    .into_iter()
    .map(|status| {
        let name = leak(format!("sdk_status_{}", status.to_ascii_lowercase()));
        case(
            name,
            Route::Plain,
            vec![token_header(status)],
            Expect::Reject("sdk_status"),
        )
    })
    .collect();
    list.extend([
        case(
            "sdk_status_unknown_word",
            Route::Plain,
            vec![token_header("NOT_A_STATUS")],
            Expect::Reject("sdk_status"),
        ),
        case(
            "sdk_status_lower_case_is_malformed",
            Route::Plain,
            vec![token_header("no_network")],
            Expect::Reject("malformed"),
        ),
        case(
            "sdk_status_too_long_is_malformed",
            Route::Plain,
            vec![token_header(
                "N".repeat(approov_core::SdkStatus::MAX_LEN + 1),
            )],
            Expect::Reject("malformed"),
        ),
        case(
            "sdk_status_on_a_bound_route",
            Route::Bound,
            vec![
                token_header("NO_NETWORK"),
                (BINDING_HEADER, b"Bearer x".to_vec()),
            ],
            Expect::Reject("sdk_status"),
        ),
        case(
            "sdk_status_after_bearer",
            Route::Bearer,
            vec![(BEARER_HEADER, b"Bearer MITM_DETECTED".to_vec())],
            Expect::Reject("sdk_status"),
        ),
    ]);
    list
}

/// Checks the answer to a request no key could judge (`keys_unavailable`,
/// a verifier with no usable key): `503`, `retry-after: 10`,
/// `content-type: application/json`, body `{}`, no `www-authenticate` and
/// no other header of its own.
pub fn check_keys_unavailable(answer: &Answer) -> Result<(), String> {
    let fail = |what: &str| Err(format!("keys_unavailable: {what}; got {answer:?}"));
    if answer.status != 503 {
        return fail("expected status 503");
    }
    if answer.header("retry-after") != Some(approov_core::response::RETRY_AFTER) {
        return fail("expected retry-after: 10");
    }
    if answer.header("content-type") != Some("application/json") || answer.body != b"{}" {
        return fail("expected {} as application/json");
    }
    if let Some((name, _)) = answer.headers.iter().find(|(name, _)| {
        let name = name.to_ascii_lowercase();
        name == "www-authenticate"
            || (name != "retry-after" && !TRANSPORT_HEADERS.contains(&name.as_str()))
    }) {
        return fail(&format!("unexpected header {name}"));
    }
    Ok(())
}

/// The bearer routes: the cases each adapter's token-scheme tests sent.
fn bearer_cases(valid: &str) -> Vec<Case> {
    let auth = |value: String| vec![(BEARER_HEADER, value.into_bytes())];
    [
        ("bearer_scheme", auth(format!("Bearer {valid}")), None),
        (
            "bearer_scheme_lower_case",
            auth(format!("bearer {valid}")),
            None,
        ),
        (
            "bearer_other_scheme",
            auth("Basic x".into()),
            Some("scheme"),
        ),
        (
            "bearer_scheme_alone",
            auth("Bearer".into()),
            Some("missing"),
        ),
        (
            "bearer_two_spaces",
            auth(format!("Bearer  {valid}")),
            Some("scheme"),
        ),
        (
            "bearer_two_words",
            auth("Bearer a b".into()),
            Some("scheme"),
        ),
        ("bearer_no_header", vec![], Some("missing")),
        (
            "bearer_token_in_approov_token",
            vec![token_header(valid)],
            Some("missing"),
        ),
    ]
    .into_iter()
    .map(|(name, headers, kind)| {
        let expect = kind.map_or(Expect::Accept, Expect::Reject);
        case(name, Route::Bearer, headers, expect)
    })
    .collect()
}

fn case(
    name: &'static str,
    route: Route,
    headers: Vec<(&'static str, Vec<u8>)>,
    expect: Expect,
) -> Case {
    Case {
        name,
        method: "GET",
        route,
        headers,
        body: Vec::new(),
        expect,
    }
}

/// A response as the runners see it, whatever the framework.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// Headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Answer {
    /// The first value of a header, by lower-case name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The only headers a default rejection answer may carry: its own two, the
/// transport's, and the `Allow` axum's router adds to an `OPTIONS` answer
/// on a route that does not mount `OPTIONS` (the example servers).
const TRANSPORT_HEADERS: [&str; 7] = [
    "content-type",
    "www-authenticate",
    "content-length",
    "date",
    "connection",
    "keep-alive",
    "allow",
];

/// Checks one answer against its case; `Err` says what differs.
pub fn check(case: &Case, answer: &Answer) -> Result<(), String> {
    let fail = |what: String| Err(format!("case {}: {what}; got {answer:?}", case.name));
    if answer.status != case.status() {
        return fail(format!("expected status {}", case.status()));
    }
    match (case.expect, case.route) {
        (Expect::Reject(_), Route::Custom) => {
            if answer.header(REASON_HEADER) != Some(case.outcome()) {
                return fail(format!("expected {REASON_HEADER}: {}", case.outcome()));
            }
            if answer.body != CUSTOM_BODY.as_bytes() {
                return fail("expected the custom body".into());
            }
        }
        (_, route) if route.is_report_only() => {
            if answer.header(OUTCOME_HEADER) != Some(case.outcome()) {
                return fail(format!("expected {OUTCOME_HEADER}: {}", case.outcome()));
            }
        }
        (Expect::Reject(_) | Expect::BodyTooLarge, _) => {
            if answer.body != b"{}" {
                return fail("expected body {}".into());
            }
            if answer.header("content-type") != Some("application/json") {
                return fail("expected content-type application/json".into());
            }
            if case.expect != Expect::BodyTooLarge
                && answer.header("www-authenticate") != Some("Approov")
            {
                return fail("expected www-authenticate: Approov".into());
            }
            // The default answer says nothing about the reason: no header
            // beyond these.
            if let Some((name, _)) = answer
                .headers
                .iter()
                .find(|(name, _)| !TRANSPORT_HEADERS.contains(&name.to_ascii_lowercase().as_str()))
            {
                return fail(format!("unexpected header {name}"));
            }
        }
        (Expect::Accept | Expect::Preflight, _) => {
            if answer.body != HELLO_BODY.as_bytes() {
                return fail("expected the hello body".into());
            }
        }
        (Expect::Unprotected, _) => {}
    }
    Ok(())
}

/// The same case sent to the report-only twin of its route, which must
/// echo the reason: this is how every enforcing case also checks *why*.
pub fn report_twin(case: &Case) -> Option<Case> {
    let twin = case.route.report_twin()?;
    Some(Case {
        route: twin,
        ..case.clone()
    })
}
