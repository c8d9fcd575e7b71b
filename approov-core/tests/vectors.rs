//! Every token published in Approov's official quickstarts, with the outcome
//! those quickstarts expect (`approov_core::mint::PUBLISHED_VECTORS`, the
//! in-repository copy of the upstream `shared/vectors/approov-published.json`).
#![cfg(feature = "mint")]

use approov_core::{RejectionKind, TokenBinding, Verifier};
use serde_json::Value;
use std::path::PathBuf;

fn vectors() -> Value {
    let text = approov_core::mint::PUBLISHED_VECTORS;
    serde_json::from_str(text).expect("vectors are JSON")
}

/// The upstream copy, when the repository sits beside `shared/`: the
/// in-repository copy must carry the same cases. Skipped, saying so, when
/// it is absent (a crates.io user's checkout).
#[test]
fn the_in_repository_vectors_match_the_upstream_copy_when_present() {
    let upstream = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/vectors/approov-published.json");
    let Ok(text) = std::fs::read_to_string(&upstream) else {
        eprintln!(
            "skipped: no upstream vectors at {} (only the in-repository copy is used)",
            upstream.display()
        );
        return;
    };
    let upstream: Value = serde_json::from_str(&text).expect("upstream vectors are JSON");
    assert_eq!(
        vectors(),
        upstream,
        "approov-core/vectors/approov-published.json differs from {}: copy it again",
        "the upstream shared/vectors/approov-published.json"
    );
}

fn verifier_for(v: &Value, secret: &str, binding: Option<&Value>) -> Verifier {
    let b64 = v["secrets"][secret]["base64"].as_str().expect("secret");
    let mut builder = Verifier::builder().secret_base64(b64);
    if let Some(detail) = binding {
        let names: Vec<&str> = detail["binding_headers"]
            .as_array()
            .expect("binding_headers")
            .iter()
            .map(|h| h.as_str().expect("name"))
            .collect();
        builder = builder.token_binding(TokenBinding::new(names).expect("binding"));
    }
    builder.build().expect("verifier")
}

fn headers_for(token: &str, detail: Option<&Value>) -> Vec<(String, String)> {
    let mut headers = vec![("Approov-Token".to_owned(), token.to_owned())];
    if let Some(detail) = detail {
        for (k, val) in detail["headers"].as_object().expect("headers") {
            headers.push((k.clone(), val.as_str().expect("value").to_owned()));
        }
    }
    headers
}

#[test]
fn every_published_token_has_its_expected_outcome() {
    let v = vectors();
    let tokens = v["tokens"].as_array().expect("tokens");
    assert_eq!(
        tokens.len(),
        15,
        "the vector file changed: review this test"
    );
    for case in tokens {
        let name = case["name"].as_str().expect("name");
        let token = case["token"].as_str().expect("token");
        let secret = case["secret"].as_str().expect("secret");
        let detail = case["detail"].is_object().then(|| &case["detail"]);
        let unbound = verifier_for(&v, secret, None);
        match case["expect"].as_str().expect("expect") {
            "accept" => {
                unbound
                    .verify(token)
                    .unwrap_or_else(|e| panic!("{name}: expected accept, got {e}"));
                if detail.is_some() {
                    let bound = verifier_for(&v, secret, detail);
                    bound
                        .verify_request(&headers_for(token, detail))
                        .unwrap_or_else(|e| panic!("{name}: expected accept when bound, got {e}"));
                }
            }
            "reject" => {
                let err = unbound.verify(token).expect_err(name);
                let expected = match name {
                    "bad_signature" => RejectionKind::Signature,
                    "no_alg_enc_header" => RejectionKind::Algorithm,
                    "no_exp" => RejectionKind::Claim,
                    "expired" | "expired_fractional" => RejectionKind::Expired,
                    other => panic!("{other}: no expected kind recorded in this test"),
                };
                assert_eq!(err.kind(), expected, "{name}");
            }
            "reject_when_bound" => {
                unbound
                    .verify(token)
                    .unwrap_or_else(|e| panic!("{name}: valid unbound, got {e}"));
                let bound = verifier_for(&v, secret, detail);
                let err = bound
                    .verify_request(&headers_for(token, detail))
                    .expect_err(name);
                assert_eq!(err.kind(), RejectionKind::Binding, "{name}");
            }
            other => panic!("{name}: unknown expectation {other}"),
        }
    }
}

#[test]
fn published_binding_hashes_match() {
    let v = vectors();
    for example in v["binding_hash_examples"].as_array().expect("examples") {
        let values: Vec<&str> = example["headers_in_order"]
            .as_array()
            .expect("values")
            .iter()
            .map(|h| h.as_str().expect("value"))
            .collect();
        assert_eq!(
            approov_core::binding_hash(values),
            example["pay"].as_str().expect("pay")
        );
    }
}

#[test]
fn published_ipk_token_exposes_the_published_public_key() {
    let v = vectors();
    let case = v["tokens"]
        .as_array()
        .expect("tokens")
        .iter()
        .find(|t| t["name"] == "good_ipk")
        .expect("good_ipk");
    let claims = verifier_for(&v, "S1", None)
        .verify(case["token"].as_str().expect("token"))
        .expect("valid");
    assert_eq!(
        claims.ipk(),
        v["ipk_key_pair"]["public_spki_der_base64"].as_str()
    );
}
