//! One table of conformance cases, run against every adapter in-process
//! (`tests/in_process.rs`) and against every example server over sockets
//! (`examples/tests/conformance.rs`).
//!
//! Every adapter's test app mounts the same routes (see [`Route`]) with the
//! same policies, so every case must give the same answer everywhere. The
//! apps use [`SECRET`], the secret of Approov's own published quickstart
//! tokens, so those tokens run here unchanged.
#![allow(clippy::unwrap_used)]

use approov_core::mint::TokenBuilder;

pub mod process;
pub mod serve_limits;
mod signed;
use serde_json::json;
pub use signed::{ACCOUNT_SECRET, AUTHORITY, MSKID, message_signing};

/// The app secret: `S1` of `shared/vectors/approov-published.json`.
pub const SECRET: &str =
    "TEST+SECRET/TEST+SECRET/TEST+SECRET/TEST+SECRET/TEST+SECRET/TEST+SECRET/TEST+SECRET/AA==";
/// Another valid secret, for tokens that must fail the signature check.
pub const WRONG_SECRET: &str =
    "h+CX0tOzdAAR9l15bWAqvq7w9olk66daIH+Xk+IAHhVVHszjDzeGobzNnqyRze3lw/WVyWrc2gZfh3XXfBOmww==";
/// The token header.
pub const TOKEN_HEADER: &str = "Approov-Token";
/// The header the bound routes bind the token to.
pub const BINDING_HEADER: &str = "Authorization";
/// The response header in which report-only routes echo the outcome: `verified`,
/// `skipped_preflight`, or the rejection kind.
pub const OUTCOME_HEADER: &str = "x-approov-outcome";
/// The response header in which the custom rejection response names the kind.
pub const REASON_HEADER: &str = "x-approov-reason";
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
}

impl Route {
    /// Every route.
    pub const ALL: [Route; 9] = [
        Route::Plain,
        Route::Bound,
        Route::Health,
        Route::ReportOnly,
        Route::BoundReportOnly,
        Route::Custom,
        Route::NoPreflightSkip,
        Route::MessageSigning,
        Route::MessageSigningAccount,
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
        }
    }

    /// The report-only twin of an enforcing route, which tells the reason.
    pub const fn report_twin(self) -> Option<Route> {
        match self {
            Route::Plain | Route::Custom => Some(Route::ReportOnly),
            Route::Bound => Some(Route::BoundReportOnly),
            _ => None,
        }
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
            (Expect::Reject(_), Route::ReportOnly | Route::BoundReportOnly) => 200,
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

/// The verifier every test app uses: [`SECRET`], default settings.
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

/// The published quickstart tokens signed with [`SECRET`] (name, token).
pub const PUBLISHED: [(&str, &str); 6] = [
    (
        "published_good_full",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJhcHByb292LmlvIiwiZXhwIjoxOTk5OTk5OTk5LCJpYXQiOjE3MDAwMDAwMDAsImlzcyI6IkFwcHJvb3ZBY2NvdW50SUQuYXBwcm9vdi5pbyIsInN1YiI6ImFwcHJvb3Z8RXhhbXBsZUFwcHJvb3ZUb2tlbkRJRD09IiwiaXAiOiIxLjIuMy40IiwiZGlkIjoiRXhhbXBsZUFwcHJvb3ZUb2tlbkRJRD09In0.1jKWka6OrKAURvibZ26ApvOLNl6pv5cVuu2pJnExvW0",
    ),
    (
        "published_good_min",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjE5OTk5OTk5OTksImRpZCI6IkV4YW1wbGVBcHByb292VG9rZW5ESUQ9PSJ9.1dR3xFNCWonw3Cdm3UbZRIlfL-IWy_ncnF3aA_hdDps",
    ),
    (
        "published_bad_signature",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjE5OTk5OTk5OTksImRpZCI6IkV4YW1wbGVBcHByb292VG9rZW5ESUQ9PSJ9.2dR3xFNCWonw3Cdm3UbZRIlfL-IWy_ncnF3aA_hdDps",
    ),
    (
        "published_no_alg_enc_header",
        "eyJ0eXAiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIn0.eyJleHAiOjE5OTk5OTk5OTksImRpZCI6IkV4YW1wbGVBcHByb292VG9rZW5ESUQ9PSJ9.NwqfsaOUBfXaf8KxRZovYCy0c6hqy29g88z1LIgzuQY",
    ),
    (
        "published_no_exp",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJhcHByb292LmlvIiwiaWF0IjoxNzAwMDAwMDAwLCJpc3MiOiJBcHByb292QWNjb3VudElELmFwcHJvb3YuaW8iLCJzdWIiOiJhcHByb292fEV4YW1wbGVBcHByb292VG9rZW5ESUQ9PSIsImlwIjoiMS4yLjMuNCIsImRpZCI6IkV4YW1wbGVBcHByb292VG9rZW5ESUQ9PSJ9.eSOEdq__Wg4fiMHGLN2afqIsymYwH4KSamKwHM_r0OE",
    ),
    (
        "published_expired",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJhcHByb292LmlvIiwiZXhwIjoxNzEwMDAwMDAwLCJpYXQiOjE3MDAwMDAwMDAsImlzcyI6IkFwcHJvb3ZBY2NvdW50SUQuYXBwcm9vdi5pbyIsInN1YiI6ImFwcHJvb3Z8RXhhbXBsZUFwcHJvb3ZUb2tlbkRJRD09IiwiaXAiOiIxLjIuMy40IiwiZGlkIjoiRXhhbXBsZUFwcHJvb3ZUb2tlbkRJRD09In0.Mv8Y73reHTPdPsFXCqS-TC7J60Y5t1jxeojZOjli_iQ",
    ),
];

/// The published token whose `pay` does not match `Bearer myauth_token`.
pub const PUBLISHED_WRONG_BINDING: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJhcHByb292LmlvIiwiZXhwIjoxOTk5OTk5OTk5LCJpYXQiOjE3MDAwMDAwMDAsImlzcyI6IkFwcHJvb3ZBY2NvdW50SUQuYXBwcm9vdi5pbyIsInN1YiI6ImFwcHJvb3Z8RXhhbXBsZUFwcHJvb3ZUb2tlbkRJRD09IiwiaXAiOiIxLjIuMy40IiwiZGlkIjoiRXhhbXBsZUFwcHJvb3ZUb2tlbkRJRD09IiwicGF5IjoiTWlzbWF0Y2hpbmdCaW5kaW5nIn0.kriaAIhtORaMXYwgEgA8AdW_5RUcVb2NRgwVM1trrjY";

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
            "published_wrong_binding",
            Route::Bound,
            vec![
                token_header(PUBLISHED_WRONG_BINDING),
                (BINDING_HEADER, bearer.into()),
            ],
            Expect::Reject("binding"),
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
    for (name, token) in PUBLISHED {
        let expect = match name {
            "published_good_full" | "published_good_min" => Expect::Accept,
            "published_bad_signature" => Expect::Reject("signature"),
            "published_no_alg_enc_header" => Expect::Reject("algorithm"),
            "published_no_exp" => Expect::Reject("claim"),
            _ => Expect::Reject("expired"),
        };
        list.push(Case {
            name,
            method: "GET",
            route: Route::Plain,
            headers: vec![token_header(token)],
            body: Vec::new(),
            expect,
        });
    }
    list.extend(crate::signed::cases());
    list
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
        (_, Route::ReportOnly | Route::BoundReportOnly) => {
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
