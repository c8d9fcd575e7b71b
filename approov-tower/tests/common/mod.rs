//! Shared fixtures: a verifier on a manual clock, tokens, and one request
//! per rejection kind, so every adapter test walks the same table.
#![allow(dead_code)]

pub mod signing;

use approov_core::mint::TokenBuilder;
use approov_core::{ApproovOutcome, ManualClock, Rejection, TokenBinding, Verifier};
use http::{HeaderName, HeaderValue, Response, StatusCode};

/// The verifier's clock reads this (Unix seconds); tokens are made around it.
pub const NOW: u64 = 1_700_000_000;
pub const SECRET: &str = "YXBwcm9vdi10b3dlci10ZXN0LXNlY3JldC0wMTIzNDU2Nzg5YWJjZGVmZ2hpag==";
pub const OTHER_SECRET: &str = "b3RoZXItc2VjcmV0LW5vdC10aGUtcmlnaHQtb25lLTAxMjM0NTY3ODk=";
pub const KID: &str = "k1";
pub const ISSUER: &str = "approov-tower-tests";
pub const AUDIENCE: &str = "api.example";
pub const DID: &str = "ExampleApproovTokenDID==";
pub const AUTH: &str = "Bearer user-session";
/// The header a custom rejection response echoes the rejection kind in.
pub const KIND_HEADER: &str = "x-approov-rejection";

/// Keys bound to a `kid` (so `unknown_key` is reachable), an issuer and an
/// audience (so `issuer`/`audience` are), a short maximum length.
pub fn verifier() -> Verifier {
    Verifier::builder()
        .secret_base64_with_kid(KID, SECRET)
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .max_token_len(1024)
        .clock(ManualClock::at_unix(NOW))
        .build()
        .expect("test verifier")
}

pub fn authorization_binding() -> TokenBinding {
    TokenBinding::new(["Authorization"]).expect("binding")
}

/// Claims every check accepts, before any binding.
pub fn claims() -> TokenBuilder {
    TokenBuilder::new()
        .kid(KID)
        .exp((NOW + 300) as f64)
        .claim("did", DID)
        .claim("iss", ISSUER)
        .claim("aud", AUDIENCE)
}

pub fn sign(builder: TokenBuilder) -> String {
    builder.sign_hs256_base64(SECRET).expect("sign")
}

pub fn valid_token() -> String {
    sign(claims())
}

/// A valid token bound to [`AUTH`].
pub fn bound_token() -> String {
    sign(claims().pay_for([AUTH]))
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

fn token(value: impl Into<Vec<u8>>) -> (&'static str, Vec<u8>) {
    ("Approov-Token", value.into())
}

/// Every rejection kind reachable without token binding.
pub fn unbound_cases() -> Vec<Case> {
    vec![
        case("missing", vec![]),
        case("missing", vec![token("")]),
        case("multiple", vec![token(valid_token()), token(valid_token())]),
        case("too_long", vec![token("a".repeat(2000))]),
        case("malformed", vec![token("not-a-jwt")]),
        // obs-text: legal on the wire, never a valid token, never a 5xx.
        case("malformed", vec![token(b"\xff\xfe\x80abc".to_vec())]),
        case(
            "algorithm",
            vec![token(sign(claims().header("alg", "HS512")))],
        ),
        case(
            "algorithm",
            vec![token(claims().header("alg", "none").unsigned())],
        ),
        case(
            "crit",
            vec![token(sign(claims().header("crit", vec!["exp"])))],
        ),
        case("unknown_key", vec![token(sign(claims().kid("k2")))]),
        case(
            "signature",
            vec![token(
                claims().sign_hs256_base64(OTHER_SECRET).expect("sign"),
            )],
        ),
        case("expired", vec![token(sign(claims().exp((NOW - 1) as f64)))]),
        case(
            "not_yet_valid",
            vec![token(sign(claims().claim("nbf", NOW + 60)))],
        ),
        case("claim", vec![token(sign(claims().claim("did", 42)))]),
        case("claim", vec![token(sign(claims().without_claim("exp")))]),
        case(
            "issuer",
            vec![token(sign(claims().claim("iss", "someone-else")))],
        ),
        case(
            "audience",
            vec![token(sign(claims().claim("aud", "other.example")))],
        ),
    ]
}

/// The rejection kinds only token binding (to `Authorization`) produces.
pub fn binding_cases() -> Vec<Case> {
    vec![
        case(
            "binding_missing",
            vec![token(valid_token()), ("Authorization", AUTH.into())],
        ),
        case("binding_header", vec![token(bound_token())]),
        case(
            "binding_header",
            vec![
                token(bound_token()),
                ("Authorization", AUTH.into()),
                ("Authorization", AUTH.into()),
            ],
        ),
        case(
            "binding",
            vec![
                token(bound_token()),
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
        HeaderName::from_static(KIND_HEADER),
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
        Some(_) => "other".to_owned(),
        None => "no-outcome".to_owned(),
    };
    format!("{outcome} claims={claims}")
}
