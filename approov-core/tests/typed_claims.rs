//! `ApproovClaims::deserialize`: the verified claims in the caller's own
//! type, custom claims included; wrong types and missing claims are error
//! values that never quote a claim value; cached claims read the same.
#![cfg(feature = "mint")]
#![allow(clippy::unwrap_used)]

use approov_core::mint::TokenBuilder;
use approov_core::{ClaimsError, Verifier};
use serde::Deserialize;
use serde_json::json;

const SECRET: &str =
    "YXBwcm9vdi1ycyBleGFtcGxlIHNlY3JldDogMzIgYnl0ZXMgb3IgbW9yZSwgYXMgUkZDIDc1MTggYXNrcw==";

#[derive(Debug, Deserialize, PartialEq)]
struct Annotations {
    team: String,
    level: u8,
}

#[derive(Debug, Deserialize, PartialEq)]
struct Mine<'a> {
    did: &'a str,
    exp: f64,
    annotations: Annotations,
    #[serde(default)]
    beta: Option<bool>,
}

fn token() -> String {
    TokenBuilder::approov_example()
        .expires_in(300)
        .claim("annotations", json!({"team": "mobile", "level": 3}))
        .claim("secret-ish", "do-not-print-me")
        .sign_hs256_base64(SECRET)
        .unwrap()
}

#[test]
fn custom_claims_read_into_a_borrowing_struct() {
    let verifier = Verifier::builder().secret_base64(SECRET).build().unwrap();
    let claims = verifier.verify(token()).unwrap();
    let mine: Mine<'_> = claims.deserialize().unwrap();
    assert_eq!(mine.did, "ExampleApproovTokenDID==");
    assert_eq!(
        mine.annotations,
        Annotations {
            team: "mobile".into(),
            level: 3
        }
    );
    assert_eq!(mine.beta, None);
    assert!(mine.exp > 0.0);
    // Into JSON, or a map, as well.
    let all: serde_json::Map<String, serde_json::Value> = claims.deserialize().unwrap();
    assert_eq!(all["secret-ish"], "do-not-print-me");
}

#[test]
fn a_missing_claim_is_named_and_a_wrong_type_quotes_nothing() {
    let verifier = Verifier::builder().secret_base64(SECRET).build().unwrap();
    let claims = verifier.verify(token()).unwrap();

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct NeedsTier {
        tier: String,
    }
    assert_eq!(
        claims.deserialize::<NeedsTier>().unwrap_err(),
        ClaimsError::MissingClaim {
            name: "tier".into()
        }
    );

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct WrongType {
        #[serde(rename = "secret-ish")]
        value: u64,
    }
    let err = claims.deserialize::<WrongType>().unwrap_err();
    assert!(
        matches!(err, ClaimsError::Invalid { column } if column > 0),
        "{err:?}"
    );
    for text in [err.to_string(), format!("{err:?}")] {
        assert!(!text.contains("do-not-print-me"), "{text}");
    }
}

#[test]
fn cached_claims_read_the_same() {
    let verifier = Verifier::builder()
        .secret_base64(SECRET)
        .cache_verified_tokens(8)
        .build()
        .unwrap();
    let token = token();
    let first: serde_json::Value = verifier.verify(&token).unwrap().deserialize().unwrap();
    let again: serde_json::Value = verifier.verify(&token).unwrap().deserialize().unwrap();
    assert_eq!(first, again);
}
