//! The shared fixtures (`approov_conformance::fixtures`), and what the
//! layer's tests add: a stricter verifier that reaches every rejection kind,
//! one request per kind, and responses that name the kind.
#![allow(dead_code)]

pub mod signing;

pub use approov_conformance::fixtures::*;
use approov_core::mint::TokenBuilder;
use approov_core::{ApproovOutcome, Rejection, TokenBinding, Verifier};
use http::{HeaderName, HeaderValue, Response, StatusCode};

pub const KID: &str = "k1";
pub const ISSUER: &str = "approov-tower-tests";
pub const AUDIENCE: &str = "api.example";
pub const AUTH: &str = "Bearer user-session";

/// [`SECRET`] bound to a `kid` (so `unknown_key` is reachable), an issuer
/// and an audience (so `issuer`/`audience` are), a short maximum length;
/// the clock stopped at [`NOW`].
pub fn strict_verifier() -> Verifier {
    Verifier::builder()
        .secret_base64_with_kid(KID, SECRET)
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .max_token_len(1024)
        .clock(clock())
        .build()
        .expect("test verifier")
}

pub fn authorization_binding() -> TokenBinding {
    TokenBinding::new(["Authorization"]).expect("binding")
}

/// Claims [`strict_verifier`] accepts, before any binding.
pub fn strict_claims() -> TokenBuilder {
    claims()
        .kid(KID)
        .claim("iss", ISSUER)
        .claim("aud", AUDIENCE)
}

/// A token [`strict_verifier`] accepts.
pub fn strict_token() -> String {
    sign(&strict_claims())
}

/// A token [`strict_verifier`] accepts, bound to [`AUTH`].
pub fn bound_token() -> String {
    sign(&strict_claims().pay_for([AUTH]))
}

/// One rejected request: its name, the expected kind, and its headers as
/// raw bytes (values may be anything a socket can carry).
pub struct Case {
    pub kind: &'static str,
    pub headers: Vec<(&'static str, Vec<u8>)>,
}

fn case(kind: &'static str, headers: Vec<(&'static str, Vec<u8>)>) -> Case {
    Case { kind, headers }
}

fn token_header(value: impl Into<Vec<u8>>) -> (&'static str, Vec<u8>) {
    ("Approov-Token", value.into())
}

/// Every rejection kind [`strict_verifier`] reaches without token binding.
pub fn unbound_cases() -> Vec<Case> {
    vec![
        case("missing", vec![]),
        case("missing", vec![token_header("")]),
        case(
            "multiple",
            vec![token_header(strict_token()), token_header(strict_token())],
        ),
        case("too_long", vec![token_header("a".repeat(2000))]),
        case("malformed", vec![token_header("not-a-jwt")]),
        // obs-text: legal on the wire, never a valid token, never a 5xx.
        case("malformed", vec![token_header(b"\xff\xfe\x80abc".to_vec())]),
        case(
            "algorithm",
            vec![token_header(sign(&strict_claims().header("alg", "HS512")))],
        ),
        case(
            "algorithm",
            vec![token_header(
                strict_claims().header("alg", "none").unsigned(),
            )],
        ),
        case(
            "crit",
            vec![token_header(sign(
                &strict_claims().header("crit", vec!["exp"]),
            ))],
        ),
        case(
            "unknown_key",
            vec![token_header(sign(&strict_claims().kid("k2")))],
        ),
        case(
            "signature",
            vec![token_header(
                strict_claims()
                    .sign_hs256_base64(WRONG_SECRET)
                    .expect("sign"),
            )],
        ),
        case(
            "expired",
            vec![token_header(sign(&strict_claims().exp((NOW - 1) as f64)))],
        ),
        case(
            "not_yet_valid",
            vec![token_header(sign(&strict_claims().claim("nbf", NOW + 60)))],
        ),
        case(
            "claim",
            vec![token_header(sign(&strict_claims().claim("did", 42)))],
        ),
        case(
            "claim",
            vec![token_header(sign(&strict_claims().without_claim("exp")))],
        ),
        case(
            "issuer",
            vec![token_header(sign(
                &strict_claims().claim("iss", "someone-else"),
            ))],
        ),
        case(
            "audience",
            vec![token_header(sign(
                &strict_claims().claim("aud", "other.example"),
            ))],
        ),
    ]
}

/// The rejection kinds only token binding (to `Authorization`) produces.
pub fn binding_cases() -> Vec<Case> {
    vec![
        case(
            "binding_missing",
            vec![token_header(strict_token()), ("Authorization", AUTH.into())],
        ),
        case("binding_header", vec![token_header(bound_token())]),
        case(
            "binding_header",
            vec![
                token_header(bound_token()),
                ("Authorization", AUTH.into()),
                ("Authorization", AUTH.into()),
            ],
        ),
        case(
            "binding",
            vec![
                token_header(bound_token()),
                ("Authorization", b"Bearer someone-else".to_vec()),
            ],
        ),
    ]
}

pub fn header_value(bytes: &[u8]) -> HeaderValue {
    HeaderValue::from_bytes(bytes).expect("a value a socket can carry")
}

/// A rejection response that says which kind it was, for assertions.
pub fn echo_kind(rejection: &Rejection) -> Response<String> {
    let mut response = Response::new(String::from("rejected"));
    *response.status_mut() = StatusCode::UNAUTHORIZED;
    response.headers_mut().insert(
        HeaderName::from_static(REASON_HEADER),
        HeaderValue::from_static(rejection.kind().as_str()),
    );
    response
}

/// How the echo handlers describe an outcome.
pub fn describe(
    outcome: Option<&ApproovOutcome>,
    claims: Option<&approov_core::ApproovClaims>,
) -> String {
    let claims = claims.map_or("none".to_owned(), |c| c.did().unwrap_or("?").to_owned());
    let outcome = match outcome {
        Some(ApproovOutcome::Verified(c)) => format!("verified:{}", c.did().unwrap_or("?")),
        Some(ApproovOutcome::Rejected(r)) => format!("rejected:{}", r.kind()),
        Some(ApproovOutcome::SkippedPreflight) => "preflight".to_owned(),
        Some(ApproovOutcome::OpenPath) => "open_path".to_owned(),
        Some(_) => "other".to_owned(),
        None => "no-outcome".to_owned(),
    };
    format!("{outcome} claims={claims}")
}
