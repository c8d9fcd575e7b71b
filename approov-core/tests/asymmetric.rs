//! Asymmetric keys end to end: RS*/PS*/ES* tokens signed with the fixtures
//! in `tests/keys/`, verified from SPKI and PKCS#1 PEM, JWKS documents and
//! files; `kid` selection; the algorithm rules (including the HS256-with-a-
//! public-key confusion attack); and every key configuration error.
#![cfg(feature = "mint")]

use approov_core::mint::{SigningKey, TokenBuilder};
use approov_core::{
    Algorithm, AlgorithmProblem, ConfigError, ManualClock, Rejection, RejectionKind, Secret,
    Verifier, VerifierBuilder,
};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use std::path::PathBuf;

/// The fixed "now" of every verifier here; tokens expire five minutes later.
const NOW: u64 = 1_700_000_000;
const EXP: f64 = (NOW + 300) as f64;
const DID: &str = "AsymmetricTestDID==";

const RSA_ALGS: [Algorithm; 6] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
];

fn key_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/keys")
        .join(name)
}

fn fixture(name: &str) -> String {
    let path = key_path(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()))
}

fn builder() -> VerifierBuilder {
    Verifier::builder().clock(ManualClock::at_unix(NOW))
}

fn claims() -> TokenBuilder {
    TokenBuilder::new()
        .exp(EXP)
        .claim("did", DID)
        .claim("ip", "1.2.3.4")
}

fn signer(alg: Algorithm, private_pem: &str) -> SigningKey {
    SigningKey::from_pkcs8_pem(alg, &fixture(private_pem))
        .unwrap_or_else(|e| panic!("{alg} signing key from {private_pem}: {e}"))
}

fn rsa(alg: Algorithm) -> SigningKey {
    signer(alg, "rsa2048.key")
}

fn p256() -> SigningKey {
    signer(Algorithm::ES256, "p256.key")
}

fn p384() -> SigningKey {
    signer(Algorithm::ES384, "p384.key")
}

fn build(b: VerifierBuilder) -> Verifier {
    b.build().unwrap_or_else(|e| panic!("verifier: {e}"))
}

fn assert_accepts(verifier: &Verifier, token: &str, what: &str) {
    match verifier.verify(token) {
        Ok(claims) => assert_eq!(claims.did(), Some(DID), "{what}"),
        Err(e) => panic!("{what}: expected accept, got {e}"),
    }
}

fn rejection(verifier: &Verifier, token: &str, what: &str) -> Rejection {
    match verifier.verify(token) {
        Ok(_) => panic!("{what}: expected a rejection, the token was accepted"),
        Err(e) => e,
    }
}

fn not_configured(alg: Algorithm) -> Rejection {
    Rejection::Algorithm(AlgorithmProblem::NotConfigured(alg))
}

/// The token with its signature segment replaced by `sig`.
fn with_signature(token: &str, sig: &[u8]) -> String {
    let (input, _) = token.rsplit_once('.').expect("three segments");
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

/// The token with the first byte of its signature changed.
fn tampered(token: &str) -> String {
    let (_, sig) = token.rsplit_once('.').expect("three segments");
    let mut sig = URL_SAFE_NO_PAD.decode(sig).expect("base64url signature");
    sig[0] ^= 0x01;
    with_signature(token, &sig)
}

fn the_jwks() -> Value {
    serde_json::from_str(&fixture("jwks.json")).expect("jwks.json is JSON")
}

/// `{"keys":[…]}` with the keys of several single-key documents.
fn merge_jwks<'a>(docs: impl IntoIterator<Item = &'a str>) -> String {
    let keys: Vec<Value> = docs
        .into_iter()
        .flat_map(|d| {
            let doc: Value = serde_json::from_str(d).expect("JWKS is JSON");
            doc["keys"].as_array().expect("keys").clone()
        })
        .collect();
    json!({ "keys": keys }).to_string()
}

// ---------------------------------------------------------------------------
// Round trips: every algorithm, every way of giving the public key.
// ---------------------------------------------------------------------------

#[test]
fn every_rsa_algorithm_verifies_from_spki_and_pkcs1_pem() {
    let spki = fixture("rsa2048.pub.pem");
    let pkcs1 = fixture("rsa2048.pkcs1.pem");
    for alg in RSA_ALGS {
        let token = claims().sign(&rsa(alg));
        for (form, pem) in [("SPKI", &spki), ("PKCS#1", &pkcs1)] {
            let verifier = build(builder().public_key_pem(alg, pem));
            assert_eq!(verifier.algorithms().collect::<Vec<_>>(), [alg]);
            assert_accepts(&verifier, &token, &format!("{alg} from {form} PEM"));
            assert_eq!(
                rejection(&verifier, &tampered(&token), &format!("{alg} tampered")),
                Rejection::Signature,
                "{alg} from {form} PEM, tampered signature"
            );
        }
    }
}

#[test]
fn es256_and_es384_verify_from_spki_pem() {
    for (alg, key, public) in [
        (Algorithm::ES256, p256(), "p256.pub.pem"),
        (Algorithm::ES384, p384(), "p384.pub.pem"),
    ] {
        let token = claims().sign(&key);
        let verifier = build(builder().public_key_pem(alg, &fixture(public)));
        assert_accepts(&verifier, &token, &format!("{alg}"));
        assert_eq!(
            rejection(&verifier, &tampered(&token), "tampered"),
            Rejection::Signature,
            "{alg} tampered signature"
        );
    }
}

#[test]
fn every_algorithm_verifies_from_the_signing_keys_own_jwks() {
    let mut keys: Vec<SigningKey> = RSA_ALGS.into_iter().map(rsa).collect();
    keys.push(p256());
    keys.push(p384());
    for key in &keys {
        let alg = key.algorithm();
        for kid in [Some("k1"), None] {
            let jwks = key.public_jwks(kid).expect("asymmetric keys have a JWKS");
            let verifier = build(builder().jwks(&jwks));
            assert_eq!(verifier.algorithms().collect::<Vec<_>>(), [alg]);
            let mut token = claims();
            if let Some(kid) = kid {
                token = token.kid(kid);
            }
            assert_accepts(&verifier, &token.sign(key), &format!("{alg} kid {kid:?}"));
        }
    }
}

#[test]
fn hmac_keys_have_no_public_jwks() {
    let key = SigningKey::hs256(&Secret::from_bytes(b"not public".to_vec()));
    assert_eq!(key.public_jwks(Some("k")), None);
}

#[test]
fn hand_written_jwks_without_alg_gives_rsa_keys_rs256_and_ec_keys_their_curve() {
    let mut doc = the_jwks();
    // Keep only the signature keys, and drop the EC key's alg too.
    let keys = doc["keys"].as_array_mut().expect("keys");
    keys.truncate(2);
    keys[1].as_object_mut().expect("EC key").remove("alg");
    assert!(keys.iter().all(|k| k.get("alg").is_none()));
    let verifier = build(builder().jwks(&doc.to_string()));
    assert_eq!(
        verifier.algorithms().collect::<Vec<_>>(),
        [Algorithm::RS256, Algorithm::ES256]
    );
    assert_accepts(
        &verifier,
        &claims().kid("rsa").sign(&rsa(Algorithm::RS256)),
        "RS256",
    );
    assert_accepts(&verifier, &claims().kid("p256").sign(&p256()), "ES256");
    assert_eq!(
        rejection(
            &verifier,
            &claims().kid("rsa").sign(&rsa(Algorithm::PS256)),
            "PS256"
        ),
        not_configured(Algorithm::PS256),
        "an RSA JWK without alg is RS256 only"
    );
}

#[test]
fn hand_written_jwks_alg_is_obeyed() {
    let mut doc = the_jwks();
    doc["keys"][0]["alg"] = json!("PS384");
    let verifier = build(builder().jwks(&doc.to_string()));
    assert_accepts(
        &verifier,
        &claims().kid("rsa").sign(&rsa(Algorithm::PS384)),
        "PS384",
    );
    assert_eq!(
        rejection(
            &verifier,
            &claims().kid("rsa").sign(&rsa(Algorithm::RS256)),
            "RS256"
        ),
        not_configured(Algorithm::RS256),
        "alg PS384 on the JWK replaces the RS256 default"
    );
}

#[test]
fn jwks_encryption_keys_are_skipped() {
    // jwks.json has a P-384 key and an X25519 key, both "use":"enc". The
    // X25519 one would be a configuration error if it were read at all.
    let verifier = build(builder().jwks(&fixture("jwks.json")));
    assert_eq!(
        verifier.algorithms().collect::<Vec<_>>(),
        [Algorithm::RS256, Algorithm::ES256]
    );
    let p384_token = claims().kid("p384-enc").sign(&p384());
    assert_eq!(
        rejection(&verifier, &p384_token, "token for an enc key"),
        not_configured(Algorithm::ES384)
    );
    // The same key marked "sig" instead is used.
    let mut doc = the_jwks();
    doc["keys"][2]["use"] = json!("sig");
    let verifier = build(builder().jwks(&doc.to_string()));
    assert_accepts(&verifier, &p384_token, "the P-384 key as a signature key");
}

#[test]
fn jwks_with_only_encryption_keys_is_refused() {
    let mut doc = the_jwks();
    let keys = doc["keys"].as_array_mut().expect("keys");
    keys.drain(..2);
    let err = builder()
        .jwks(&doc.to_string())
        .build()
        .expect_err("only encryption keys");
    assert_invalid(&err, "jwks", &["no signature keys"]);
}

#[test]
fn jwks_file_and_public_key_pem_file_read_the_fixtures() {
    let verifier = build(builder().jwks_file(key_path("jwks.json")));
    assert_accepts(
        &verifier,
        &claims().kid("rsa").sign(&rsa(Algorithm::RS256)),
        "RS256 from jwks_file",
    );
    assert_accepts(
        &verifier,
        &claims().kid("p256").sign(&p256()),
        "ES256 from jwks_file",
    );

    let verifier = build(
        builder()
            .public_key_pem_file(Algorithm::ES384, None, key_path("p384.pub.pem"))
            .public_key_pem_file(Algorithm::PS512, Some("rsa"), key_path("rsa2048.pkcs1.pem")),
    );
    assert_accepts(&verifier, &claims().sign(&p384()), "ES384 from a PEM file");
    assert_accepts(
        &verifier,
        &claims().kid("rsa").sign(&rsa(Algorithm::PS512)),
        "PS512 from a PKCS#1 PEM file with kid",
    );
    assert_eq!(
        rejection(
            &verifier,
            &claims().kid("other").sign(&rsa(Algorithm::PS512)),
            "PS512 with another kid"
        ),
        Rejection::UnknownKey
    );
}

#[test]
fn pem_with_crlf_line_endings_and_surrounding_white_space_is_accepted() {
    let pem = format!("\n  {}  \n", fixture("p256.pub.pem").replace('\n', "\r\n"));
    let verifier = build(builder().public_key_pem(Algorithm::ES256, &pem));
    assert_accepts(&verifier, &claims().sign(&p256()), "CRLF PEM");
}

// ---------------------------------------------------------------------------
// Key selection by kid.
// ---------------------------------------------------------------------------

struct TwoKeys {
    a: SigningKey,
    b: SigningKey,
}

fn two_keys() -> TwoKeys {
    TwoKeys {
        a: SigningKey::generate_ecdsa(Algorithm::ES256).expect("key a"),
        b: SigningKey::generate_ecdsa(Algorithm::ES256).expect("key b"),
    }
}

fn jwks_of(key: &SigningKey, kid: Option<&str>) -> String {
    key.public_jwks(kid).expect("public JWKS")
}

#[test]
fn token_kid_selects_its_key_among_several() {
    let k = two_keys();
    let ja = jwks_of(&k.a, Some("a"));
    let jb = jwks_of(&k.b, Some("b"));
    let both = build(builder().jwks(&merge_jwks([ja.as_str(), jb.as_str()])));
    let only_a = build(builder().jwks(&ja));
    let only_b = build(builder().jwks(&jb));

    let token_b = claims().kid("b").sign(&k.b);
    assert_accepts(&both, &token_b, "kid b among a and b");
    assert_accepts(&only_b, &token_b, "kid b with b only");
    assert_eq!(
        rejection(&only_a, &token_b, "kid b with a only"),
        Rejection::UnknownKey
    );

    let token_a = claims().kid("a").sign(&k.a);
    assert_accepts(&both, &token_a, "kid a among a and b");
    assert_eq!(
        rejection(&only_b, &token_a, "kid a with b only"),
        Rejection::UnknownKey
    );

    // Signed by b but naming a: only a is tried, and its signature fails.
    let lying = claims().kid("a").sign(&k.b);
    assert_eq!(
        rejection(&both, &lying, "signed by b, kid a"),
        Rejection::Signature
    );
}

#[test]
fn a_key_without_kid_accepts_any_kid_and_no_kid() {
    let key = p256();
    let verifier = build(builder().public_key_pem(Algorithm::ES256, &fixture("p256.pub.pem")));
    assert_accepts(&verifier, &claims().sign(&key), "no kid");
    assert_accepts(&verifier, &claims().kid("anything").sign(&key), "kid");
    assert_accepts(&verifier, &claims().kid("").sign(&key), "empty kid");
    let jwks = build(builder().jwks(&jwks_of(&key, None)));
    assert_accepts(&jwks, &claims().kid("x").sign(&key), "JWK without kid");
}

#[test]
fn keys_without_kid_are_tried_after_the_named_key() {
    let k = two_keys();
    let verifier = build(
        builder()
            .jwks(&jwks_of(&k.a, Some("a")))
            .jwks(&jwks_of(&k.b, None)),
    );
    // Names a, signed by the anonymous key b: a fails, b (accepts any kid) verifies.
    assert_accepts(&verifier, &claims().kid("a").sign(&k.b), "fallback to b");
    // Signed by a but without kid: only b is a candidate.
    assert_eq!(
        rejection(&verifier, &claims().sign(&k.a), "no kid, signed by a"),
        Rejection::Signature
    );
}

#[test]
fn unknown_kid_with_only_named_keys_is_unknown_key() {
    let k = two_keys();
    let ja = jwks_of(&k.a, Some("a"));
    let jb = jwks_of(&k.b, Some("b"));
    let verifier = build(builder().jwks(&merge_jwks([ja.as_str(), jb.as_str()])));
    let err = rejection(&verifier, &claims().kid("c").sign(&k.a), "kid c");
    assert_eq!(err, Rejection::UnknownKey);
    assert_eq!(err.kind().as_str(), "unknown_key");
}

#[test]
fn token_without_kid_when_every_key_has_one_is_unknown_key() {
    let k = two_keys();
    let ja = jwks_of(&k.a, Some("a"));
    let jb = jwks_of(&k.b, Some("b"));
    let verifier = build(builder().jwks(&merge_jwks([ja.as_str(), jb.as_str()])));
    assert_eq!(
        rejection(&verifier, &claims().sign(&k.a), "no kid"),
        Rejection::UnknownKey
    );
}

#[test]
fn kid_matches_exactly() {
    let k = two_keys();
    let verifier = build(builder().jwks(&jwks_of(&k.a, Some("key-A"))));
    for kid in ["key-a", "KEY-A", "key-A ", " key-A"] {
        assert_eq!(
            rejection(&verifier, &claims().kid(kid).sign(&k.a), kid),
            Rejection::UnknownKey,
            "kid {kid:?}"
        );
    }
    assert_accepts(&verifier, &claims().kid("key-A").sign(&k.a), "exact kid");
}

/// Signs `header_json.payload` with the P-256 fixture directly through
/// ring, so the header text is exactly as written (escapes included).
fn sign_es256_raw(header_json: &str) -> String {
    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
    let (_, der) = pem_der(&fixture("p256.key"));
    let rng = ring::rand::SystemRandom::new();
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der, &rng).expect("P-256");
    let payload = json!({ "exp": EXP, "did": DID }).to_string();
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header_json),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let sig = pair.sign(&rng, input.as_bytes()).expect("sign");
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

#[test]
fn an_escaped_kid_means_the_same_kid() {
    let verifier =
        build(builder().public_key_pem_with_kid(Algorithm::ES256, "b/1", &fixture("p256.pub.pem")));
    for header in [
        r#"{"alg":"ES256","kid":"b/1"}"#,
        r#"{"alg":"ES256","kid":"\u0062\/1"}"#,
        r#"{"kid":"b/1","alg":"E\u0053256"}"#,
    ] {
        assert_accepts(&verifier, &sign_es256_raw(header), header);
    }
    for header in [
        r#"{"alg":"ES256","kid":"B/1"}"#,
        r#"{"alg":"ES256","kid":"b/1\u0000"}"#,
    ] {
        assert_eq!(
            rejection(&verifier, &sign_es256_raw(header), header),
            Rejection::UnknownKey,
            "{header}"
        );
    }
    // A kid that is not a string is a malformed header, not "no kid".
    for header in [
        r#"{"alg":"ES256","kid":null}"#,
        r#"{"alg":"ES256","kid":1}"#,
        r#"{"alg":"ES256","kid":["b/1"]}"#,
    ] {
        let err = rejection(&verifier, &sign_es256_raw(header), header);
        assert_eq!(err.kind(), RejectionKind::Malformed, "{header}");
    }
}

#[test]
fn a_named_key_of_another_algorithm_is_not_a_candidate() {
    // kid "k" names an ES256 key; an ES384 key without kid is configured too.
    let verifier = build(
        builder()
            .public_key_pem_with_kid(Algorithm::ES256, "k", &fixture("p256.pub.pem"))
            .public_key_pem(Algorithm::ES384, &fixture("p384.pub.pem")),
    );
    assert_accepts(&verifier, &claims().kid("k").sign(&p384()), "ES384 kid k");
    assert_accepts(&verifier, &claims().kid("k").sign(&p256()), "ES256 kid k");
}

// ---------------------------------------------------------------------------
// Algorithm rules.
// ---------------------------------------------------------------------------

#[test]
fn an_rs256_key_does_not_accept_ps256_unless_configured() {
    let pem = fixture("rsa2048.pub.pem");
    let ps256 = claims().sign(&rsa(Algorithm::PS256));
    let rs256 = claims().sign(&rsa(Algorithm::RS256));
    let only_rs = build(builder().public_key_pem(Algorithm::RS256, &pem));
    let err = rejection(&only_rs, &ps256, "PS256 against RS256");
    assert_eq!(err, not_configured(Algorithm::PS256));
    assert_eq!(err.kind(), RejectionKind::Algorithm);

    let both = build(
        builder()
            .public_key_pem(Algorithm::RS256, &pem)
            .public_key_pem(Algorithm::PS256, &pem),
    );
    assert_accepts(&both, &ps256, "PS256 once configured");
    assert_accepts(&both, &rs256, "RS256 still");
}

#[test]
fn a_token_whose_alg_lies_about_its_padding_is_a_signature_failure() {
    // A PKCS#1 v1.5 signature presented as PS256 (and the reverse), both
    // algorithms configured for the key: the right algorithm's check fails.
    let pem = fixture("rsa2048.pub.pem");
    let verifier = build(
        builder()
            .public_key_pem(Algorithm::RS256, &pem)
            .public_key_pem(Algorithm::PS256, &pem),
    );
    for (claimed, real) in [
        (Algorithm::PS256, Algorithm::RS256),
        (Algorithm::RS256, Algorithm::PS256),
    ] {
        let token = claims().header("alg", claimed.as_str()).sign(&rsa(real));
        assert_eq!(
            rejection(&verifier, &token, "lying alg"),
            Rejection::Signature,
            "{real} signature labelled {claimed}"
        );
    }
}

#[test]
fn hs256_signed_with_the_public_key_pem_is_refused() {
    // The classic confusion attack: the attacker knows the public key, MACs
    // a token with its PEM text as the HMAC secret and sets alg HS256,
    // hoping the server feeds "the key" to HMAC.
    for (alg, public) in [
        (Algorithm::RS256, "rsa2048.pub.pem"),
        (Algorithm::RS256, "rsa2048.pkcs1.pem"),
        (Algorithm::ES256, "p256.pub.pem"),
    ] {
        let pem = fixture(public);
        let forged = claims().sign(&SigningKey::hs256(&Secret::from_bytes(pem.as_bytes())));
        assert!(forged.starts_with("eyJhbGciOiJIUzI1NiIs"), "HS256 header");
        let verifier = build(builder().public_key_pem(alg, &pem));
        assert_eq!(
            rejection(&verifier, &forged, public),
            not_configured(Algorithm::HS256),
            "{public}"
        );
        // Also with the trimmed PEM and the DER bytes as the "secret".
        let (_, der) = pem_der(&pem);
        for secret in [pem.trim().as_bytes().to_vec(), der] {
            let forged = claims().sign(&SigningKey::hs256(&Secret::from_bytes(secret)));
            assert_eq!(
                rejection(&verifier, &forged, public),
                not_configured(Algorithm::HS256)
            );
        }
    }
    // And against a JWKS-only verifier, with the JWKS text as the secret.
    let jwks = fixture("jwks.json");
    let verifier = build(builder().jwks(&jwks));
    let forged = claims().sign(&SigningKey::hs256(&Secret::from_bytes(jwks.as_bytes())));
    assert_eq!(
        rejection(&verifier, &forged, "JWKS as secret"),
        not_configured(Algorithm::HS256)
    );
}

fn pem_der(pem: &str) -> (String, Vec<u8>) {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let label = pem
        .lines()
        .next()
        .unwrap_or_default()
        .trim_start_matches("-----BEGIN ")
        .trim_end_matches("-----")
        .to_owned();
    (label, STANDARD.decode(body).expect("PEM body is base64"))
}

#[test]
fn hs256_secret_and_rsa_key_together_each_verify_their_own_family() {
    let secret = approov_core::mint::generate_secret_base64();
    let pem = fixture("rsa2048.pub.pem");
    let verifier = build(
        builder()
            .secret_base64(&secret)
            .public_key_pem(Algorithm::RS256, &pem),
    );
    let hs = claims().sign_hs256_base64(&secret).expect("HS256 token");
    let rs = claims().sign(&rsa(Algorithm::RS256));
    assert_accepts(&verifier, &hs, "HS256");
    assert_accepts(&verifier, &rs, "RS256");
    assert_eq!(
        rejection(&verifier, &tampered(&rs), "RS256 tampered"),
        Rejection::Signature
    );
    assert_eq!(
        rejection(&verifier, &tampered(&hs), "HS256 tampered"),
        Rejection::Signature
    );
    // The confusion attack now reaches the HMAC check, and fails there.
    let forged = claims().sign(&SigningKey::hs256(&Secret::from_bytes(pem.as_bytes())));
    assert_eq!(
        rejection(&verifier, &forged, "PEM as HMAC secret"),
        Rejection::Signature
    );
    // An RS256 header over an HMAC signature, and the reverse.
    let hmac_as_rs = claims()
        .header("alg", "RS256")
        .sign_hs256_base64(&secret)
        .expect("sign");
    assert_eq!(
        rejection(&verifier, &hmac_as_rs, "HMAC under RS256"),
        Rejection::Signature
    );
    let rsa_as_hs = claims().header("alg", "HS256").sign(&rsa(Algorithm::RS256));
    assert_eq!(
        rejection(&verifier, &rsa_as_hs, "RSA under HS256"),
        Rejection::Signature
    );
    // Other algorithms of either family are still refused.
    assert_eq!(
        rejection(&verifier, &claims().sign(&rsa(Algorithm::RS512)), "RS512"),
        not_configured(Algorithm::RS512)
    );
}

fn signature_of(token: &str) -> Vec<u8> {
    let (_, sig) = token.rsplit_once('.').expect("three segments");
    URL_SAFE_NO_PAD.decode(sig).expect("base64url")
}

#[test]
fn es256_token_against_an_es384_only_verifier_is_an_algorithm_rejection() {
    let verifier = build(builder().public_key_pem(Algorithm::ES384, &fixture("p384.pub.pem")));
    let err = rejection(&verifier, &claims().sign(&p256()), "ES256");
    assert_eq!(err, not_configured(Algorithm::ES256));
    assert_eq!(err.kind().as_str(), "algorithm");
    // An ES384 header over a P-256 signature reaches the key and fails.
    let token = claims().header("alg", "ES384").sign(&p256());
    assert_eq!(
        rejection(&verifier, &token, "P-256 signature as ES384"),
        Rejection::Signature
    );
}

#[test]
fn wrong_length_signatures_are_signature_rejections() {
    let es256 = claims().sign(&p256());
    let es384 = claims().sign(&p384());
    let rs256 = claims().sign(&rsa(Algorithm::RS256));
    let verifier = build(
        builder()
            .public_key_pem(Algorithm::ES256, &fixture("p256.pub.pem"))
            .public_key_pem(Algorithm::ES384, &fixture("p384.pub.pem"))
            .public_key_pem(Algorithm::RS256, &fixture("rsa2048.pub.pem")),
    );
    for token in [&es256, &es384, &rs256] {
        assert_accepts(&verifier, token, "untouched");
        let sig = signature_of(token);
        let mut longer = sig.clone();
        longer.push(0);
        let mut zero_prefixed = vec![0];
        zero_prefixed.extend_from_slice(&sig);
        let cases: [(&str, Vec<u8>); 7] = [
            ("one byte", vec![1]),
            ("one byte short", sig[..sig.len() - 1].to_vec()),
            ("half", sig[..sig.len() / 2].to_vec()),
            ("one byte long", longer),
            ("zero prefixed", zero_prefixed),
            ("all zero", vec![0; sig.len()]),
            ("all ones", vec![0xff; sig.len()]),
        ];
        for (what, bad) in cases {
            assert_eq!(
                rejection(&verifier, &with_signature(token, &bad), what),
                Rejection::Signature,
                "{what}"
            );
        }
        let (input, _) = token.rsplit_once('.').expect("segments");
        assert_eq!(
            rejection(&verifier, &format!("{input}."), "empty signature"),
            Rejection::Signature
        );
    }
}

#[test]
fn a_der_encoded_ecdsa_signature_is_refused() {
    // JWS ES256 signatures are r‖s (RFC 7518 §3.4); some libraries emit the
    // ASN.1 DER form by mistake. It must not verify.
    let token = claims().sign(&p256());
    let sig = signature_of(&token);
    let der = der_ecdsa(&sig[..32], &sig[32..]);
    let verifier = build(builder().public_key_pem(Algorithm::ES256, &fixture("p256.pub.pem")));
    assert_eq!(
        rejection(&verifier, &with_signature(&token, &der), "DER signature"),
        Rejection::Signature
    );
}

fn der_ecdsa(r: &[u8], s: &[u8]) -> Vec<u8> {
    fn int(v: &[u8]) -> Vec<u8> {
        let v = &v[v.iter().take_while(|b| **b == 0).count()..];
        let mut out = vec![0x02];
        let pad = v.first().is_some_and(|b| b & 0x80 != 0);
        out.push(u8::try_from(v.len() + usize::from(pad)).expect("short"));
        if pad {
            out.push(0);
        }
        out.extend_from_slice(v);
        out
    }
    let body = [int(r), int(s)].concat();
    let mut out = vec![0x30, u8::try_from(body.len()).expect("short")];
    out.extend(body);
    out
}

#[test]
fn an_oversized_signature_segment_is_refused_without_panicking() {
    let token = claims().sign(&rsa(Algorithm::RS256));
    let verifier = build(
        builder()
            .public_key_pem(Algorithm::RS256, &fixture("rsa2048.pub.pem"))
            .max_token_len(64 * 1024),
    );
    for len in [1023, 1024, 1025, 4096, 20_000] {
        let err = rejection(&verifier, &with_signature(&token, &vec![7; len]), "long");
        // Up to 1024 bytes (an 8192-bit RSA signature) it reaches the key;
        // beyond, no supported key could have made it.
        let expected = if len <= 1024 {
            RejectionKind::Signature
        } else {
            RejectionKind::Malformed
        };
        assert_eq!(err.kind(), expected, "{len}-byte signature");
    }
}

// ---------------------------------------------------------------------------
// The published P-256 key pair (Approov's message-signing quickstarts).
// ---------------------------------------------------------------------------

/// Wraps a SEC1 `ECPrivateKey` (RFC 5915) for P-256 in a PKCS#8
/// `PrivateKeyInfo` (RFC 5208), the only form ring reads.
fn pkcs8_from_sec1_p256(sec1: &[u8]) -> Vec<u8> {
    use der::Encode as _;
    use der::asn1::OctetStringRef;
    use spki::ObjectIdentifier;
    let algorithm = spki::AlgorithmIdentifier {
        oid: ObjectIdentifier::new_unwrap("1.2.840.10045.2.1"),
        parameters: Some(ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7")),
    };
    let body = [
        0u8.to_der().expect("version"),
        algorithm.to_der().expect("algorithm"),
        OctetStringRef::new(sec1)
            .expect("octet string")
            .to_der()
            .expect("private key"),
    ]
    .concat();
    let len = der::Length::try_from(body.len()).expect("length");
    let mut out = der::Header::new(der::Tag::Sequence, len)
        .to_der()
        .expect("header");
    out.extend(body);
    out
}

#[test]
fn the_published_p256_key_pair_signs_es256_tokens_its_spki_verifies() {
    let text = approov_core::mint::PUBLISHED_VECTORS;
    let vectors: Value = serde_json::from_str(text).expect("vectors are JSON");
    let pair = &vectors["ipk_key_pair"];
    let sec1 = STANDARD
        .decode(pair["private_sec1_der_base64"].as_str().expect("private"))
        .expect("base64");
    let spki_der = STANDARD
        .decode(pair["public_spki_der_base64"].as_str().expect("public"))
        .expect("base64");

    let key = SigningKey::from_pkcs8_der(Algorithm::ES256, &pkcs8_from_sec1_p256(&sec1))
        .expect("ring reads the wrapped key");
    let public_pem =
        pem_rfc7468::encode_string("PUBLIC KEY", pem_rfc7468::LineEnding::LF, &spki_der)
            .expect("PEM");
    let verifier = build(builder().public_key_pem(Algorithm::ES256, &public_pem));
    assert_accepts(&verifier, &claims().sign(&key), "published key pair");
    // The same public key through the key's own JWKS, and a stranger's token.
    assert_accepts(
        &build(builder().jwks(&jwks_of(&key, Some("ipk")))),
        &claims().kid("ipk").sign(&key),
        "published key pair via JWKS",
    );
    assert_eq!(
        rejection(&verifier, &claims().sign(&p256()), "another P-256 key"),
        Rejection::Signature
    );
}

// ---------------------------------------------------------------------------
// Configuration errors, all at build().
// ---------------------------------------------------------------------------

#[track_caller]
fn assert_invalid(err: &ConfigError, source: &str, needles: &[&str]) {
    match err {
        ConfigError::Invalid {
            source_name,
            problem,
        } => {
            assert_eq!(source_name, source, "source of: {err}");
            for needle in needles {
                assert!(
                    problem.contains(needle),
                    "{needle:?} not in the message: {err}"
                );
            }
        }
        other => panic!("expected ConfigError::Invalid, got {other:?}"),
    }
    // Display names the source and the problem.
    let text = err.to_string();
    assert!(text.starts_with(source), "{text}");
}

fn pem_error(alg: Algorithm, pem: &str) -> ConfigError {
    builder()
        .public_key_pem(alg, pem)
        .build()
        .expect_err("the key must be refused")
}

fn jwks_error(json: &str) -> ConfigError {
    builder()
        .jwks(json)
        .build()
        .expect_err("the JWKS must be refused")
}

#[test]
fn rsa_1024_is_refused_with_the_supported_sizes() {
    for alg in RSA_ALGS {
        let err = pem_error(alg, &fixture("rsa1024.pub.pem"));
        assert_invalid(&err, "public_key_pem", &["1024 bits", "2048 to 8192"]);
    }
}

#[test]
fn ed25519_is_refused_as_neither_rsa_nor_ec() {
    let err = pem_error(Algorithm::ES256, &fixture("ed25519.pub.pem"));
    assert_invalid(
        &err,
        "public_key_pem",
        &["1.3.101.112", "neither RSA nor EC"],
    );
}

#[test]
fn a_private_key_given_as_public_key_is_refused() {
    for (alg, private) in [
        (Algorithm::RS256, "rsa2048.key"),
        (Algorithm::ES256, "p256.key"),
    ] {
        let err = pem_error(alg, &fixture(private));
        assert_invalid(
            &err,
            "public_key_pem",
            &["PRIVATE KEY", "never a private one"],
        );
        // The message names the label, never the key material.
        let body = fixture(private)
            .lines()
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        assert!(!err.to_string().contains(&body[..20]));
    }
}

#[test]
fn garbage_pem_is_refused() {
    for garbage in [
        "",
        "not a pem",
        "-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n",
        "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQ\n",
    ] {
        let err = pem_error(Algorithm::ES256, garbage);
        assert_invalid(&err, "public_key_pem", &["not a PEM public key"]);
    }
    // A well-formed PEM whose body is not a SubjectPublicKeyInfo.
    let junk = pem_rfc7468::encode_string("PUBLIC KEY", pem_rfc7468::LineEnding::LF, b"junk")
        .expect("PEM");
    let err = pem_error(Algorithm::ES256, &junk);
    assert_invalid(&err, "public_key_pem", &["SubjectPublicKeyInfo"]);
    let junk = pem_rfc7468::encode_string("RSA PUBLIC KEY", pem_rfc7468::LineEnding::LF, b"junk")
        .expect("PEM");
    let err = pem_error(Algorithm::RS256, &junk);
    assert_invalid(&err, "public_key_pem", &["RSA public key does not parse"]);
}

#[test]
fn a_key_that_cannot_make_the_algorithm_is_refused() {
    let cases = [
        (
            Algorithm::ES256,
            "rsa2048.pub.pem",
            "an RSA key cannot verify ES256",
        ),
        (
            Algorithm::ES384,
            "rsa2048.pkcs1.pem",
            "an RSA key cannot verify ES384",
        ),
        (
            Algorithm::ES384,
            "p256.pub.pem",
            "a P-256 key cannot verify ES384",
        ),
        (
            Algorithm::RS256,
            "p256.pub.pem",
            "a P-256 key cannot verify RS256",
        ),
        (
            Algorithm::ES256,
            "p384.pub.pem",
            "a P-384 key cannot verify ES256",
        ),
        (
            Algorithm::PS256,
            "p384.pub.pem",
            "a P-384 key cannot verify PS256",
        ),
    ];
    for (alg, public, message) in cases {
        let err = pem_error(alg, &fixture(public));
        assert_invalid(&err, "public_key_pem", &[message]);
    }
}

#[test]
fn hs256_is_refused_for_a_public_key() {
    for (public, kid) in [("rsa2048.pub.pem", None), ("p256.pub.pem", Some("k"))] {
        let b = match kid {
            None => builder().public_key_pem(Algorithm::HS256, &fixture(public)),
            Some(kid) => builder().public_key_pem_with_kid(Algorithm::HS256, kid, &fixture(public)),
        };
        let err = b.build().expect_err("HS256 with a public key");
        let source = if kid.is_some() {
            "public_key_pem_with_kid"
        } else {
            "public_key_pem"
        };
        assert_invalid(&err, source, &["HS256 takes a secret"]);
    }
}

#[test]
fn jwks_that_is_not_json_is_refused() {
    for text in ["", "not json", "{\"keys\":", "[]", "{\"keys\":{}}", "{}"] {
        let err = jwks_error(text);
        assert_invalid(&err, "jwks", &["not a JWKS document"]);
    }
    let err = jwks_error(r#"{"keys":[]}"#);
    assert_invalid(&err, "jwks", &["no signature keys"]);
}

#[test]
fn jwks_key_types_other_than_rsa_and_ec_are_refused() {
    let okp = r#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"gCCT1tUHksp_kgZvzUWCWqWqGbHWezFG1HzdtAJhfgE"}]}"#;
    assert_invalid(
        &jwks_error(okp),
        "jwks",
        &["key 0", "kty \"OKP\" is not supported"],
    );
    // A symmetric JWK would hand an attacker-known HMAC key to the verifier.
    let oct = r#"{"keys":[{"kty":"oct","kid":"s","alg":"HS256","k":"c2VjcmV0"}]}"#;
    assert_invalid(
        &jwks_error(oct),
        "jwks",
        &["kid \"s\"", "kty \"oct\" is not supported"],
    );
}

#[test]
fn jwks_members_missing_or_broken_are_named() {
    let mut doc = the_jwks();
    doc["keys"][0].as_object_mut().expect("RSA").remove("n");
    assert_invalid(
        &jwks_error(&doc.to_string()),
        "jwks",
        &["key 0 (kid \"rsa\")", "the n member is missing"],
    );

    let mut doc = the_jwks();
    doc["keys"][0]["e"] = json!("AQAB==");
    assert_invalid(
        &jwks_error(&doc.to_string()),
        "jwks",
        &["the e member is not base64url"],
    );

    let mut doc = the_jwks();
    doc["keys"][1].as_object_mut().expect("EC").remove("y");
    assert_invalid(
        &jwks_error(&doc.to_string()),
        "jwks",
        &["key 1 (kid \"p256\")", "the y member is missing"],
    );

    let mut doc = the_jwks();
    doc["keys"][1]["crv"] = json!("P-521");
    assert_invalid(&jwks_error(&doc.to_string()), "jwks", &["curve \"P-521\""]);

    let mut doc = the_jwks();
    doc["keys"][1]["x"] = json!("AAAA");
    assert_invalid(
        &jwks_error(&doc.to_string()),
        "jwks",
        &["not an uncompressed point"],
    );

    let mut doc = the_jwks();
    doc["keys"][1]["alg"] = json!("RS256");
    assert_invalid(
        &jwks_error(&doc.to_string()),
        "jwks",
        &["a P-256 key cannot verify RS256"],
    );

    let mut doc = the_jwks();
    doc["keys"][0]["alg"] = json!("HS256");
    assert_invalid(
        &jwks_error(&doc.to_string()),
        "jwks",
        &["an RSA key cannot verify HS256"],
    );

    let mut doc = the_jwks();
    doc["keys"][0]["alg"] = json!("ES512");
    assert_invalid(
        &jwks_error(&doc.to_string()),
        "jwks",
        &["alg \"ES512\" is not supported"],
    );

    let mut doc = the_jwks();
    let short_n = URL_SAFE_NO_PAD.encode([0xc5; 128]);
    doc["keys"][0]["n"] = json!(short_n);
    assert_invalid(&jwks_error(&doc.to_string()), "jwks", &["1024 bits"]);
}

/// A JWKS with only the RSA key of `jwks.json`, its exponent replaced.
fn rsa_jwks_with_exponent(e: &[u8]) -> String {
    let mut doc = the_jwks();
    doc["keys"].as_array_mut().expect("keys").truncate(1);
    doc["keys"][0]["e"] = json!(URL_SAFE_NO_PAD.encode(e));
    doc.to_string()
}

/// A JWKS with only the RSA key of `jwks.json`, its modulus made even.
fn rsa_jwks_with_even_modulus() -> String {
    let mut doc = the_jwks();
    doc["keys"].as_array_mut().expect("keys").truncate(1);
    let mut n = URL_SAFE_NO_PAD
        .decode(doc["keys"][0]["n"].as_str().expect("n"))
        .expect("base64url");
    if let Some(last) = n.last_mut() {
        *last &= 0xfe;
    }
    doc["keys"][0]["n"] = json!(URL_SAFE_NO_PAD.encode(n));
    doc.to_string()
}

/// Exponents ring refuses: 1, even (65536), above 2^33 - 1, and empty.
const UNUSABLE_EXPONENTS: [&[u8]; 4] = [&[1], &[1, 0, 0], &[2, 0, 0, 0, 1], &[]];

#[test]
fn usual_rsa_exponents_in_a_jwks_are_accepted() {
    for e in [&[3u8][..], &[1, 0, 1], &[0, 1, 0, 1]] {
        assert!(builder().jwks(&rsa_jwks_with_exponent(e)).build().is_ok());
    }
}

#[test]
fn an_rsa_key_ring_cannot_use_never_verifies() {
    // What happens today: the key builds, and every token fails.
    let token = claims().kid("rsa").sign(&rsa(Algorithm::RS256));
    let jwks: Vec<String> = UNUSABLE_EXPONENTS
        .iter()
        .map(|e| rsa_jwks_with_exponent(e))
        .chain([rsa_jwks_with_even_modulus()])
        .collect();
    for jwks in jwks {
        if let Ok(verifier) = builder().jwks(&jwks).build() {
            assert_eq!(
                rejection(&verifier, &token, "unusable RSA key"),
                Rejection::Signature
            );
        }
    }
}

#[test]
fn an_rsa_key_ring_cannot_use_is_a_config_error() {
    for e in UNUSABLE_EXPONENTS {
        let err = builder()
            .jwks(&rsa_jwks_with_exponent(e))
            .build()
            .expect_err("unusable exponent");
        assert_invalid(&err, "jwks", &["exponent"]);
    }
    let err = builder()
        .jwks(&rsa_jwks_with_even_modulus())
        .build()
        .expect_err("even modulus");
    assert_invalid(&err, "jwks", &["modulus"]);
}

/// The P-256 fixture's SubjectPublicKeyInfo with its point replaced by
/// (1, 1), which is not on the curve.
fn off_curve_p256() -> (String, String) {
    let (_, mut der) = pem_der(&fixture("p256.pub.pem"));
    let at = der.len() - 64;
    der[at..].fill(0);
    der[at + 31] = 1;
    der[at + 63] = 1;
    let pem =
        pem_rfc7468::encode_string("PUBLIC KEY", pem_rfc7468::LineEnding::LF, &der).expect("PEM");
    let one = URL_SAFE_NO_PAD.encode(&der[at..at + 32]);
    let jwks = json!({"keys":[{"kty":"EC","crv":"P-256","x":one,"y":one}]}).to_string();
    (pem, jwks)
}

#[test]
fn an_off_curve_point_never_verifies() {
    // What happens today: the key builds, and every token fails.
    let (pem, jwks) = off_curve_p256();
    for verifier in [
        builder().public_key_pem(Algorithm::ES256, &pem).build(),
        builder().jwks(&jwks).build(),
    ]
    .into_iter()
    .flatten()
    {
        assert_eq!(
            rejection(&verifier, &claims().sign(&p256()), "off-curve key"),
            Rejection::Signature
        );
    }
}

#[test]
fn an_off_curve_point_is_a_config_error() {
    let (pem, jwks) = off_curve_p256();
    let err = builder()
        .public_key_pem(Algorithm::ES256, &pem)
        .build()
        .expect_err("off-curve PEM");
    assert_invalid(&err, "public_key_pem", &["not on"]);
    let err = builder().jwks(&jwks).build().expect_err("off-curve JWK");
    assert_invalid(&err, "jwks", &["not on"]);
}

#[test]
fn missing_files_are_io_errors_naming_the_path() {
    let missing = std::env::temp_dir().join(format!(
        "approov-core-asymmetric-{}-does-not-exist.pem",
        std::process::id()
    ));
    let errors = [
        builder()
            .public_key_pem_file(Algorithm::ES256, None, &missing)
            .build()
            .expect_err("missing PEM file"),
        builder()
            .jwks_file(&missing)
            .build()
            .expect_err("missing JWKS file"),
    ];
    for err in errors {
        match &err {
            ConfigError::Io { path, source } => {
                assert_eq!(path, &missing.display().to_string());
                assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
            }
            other => panic!("expected ConfigError::Io, got {other:?}"),
        }
        let text = err.to_string();
        assert!(
            text.contains("cannot read") && text.contains(&missing.display().to_string()),
            "{text}"
        );
    }
}

#[test]
fn file_errors_name_the_file_as_their_source() {
    let err = builder()
        .public_key_pem_file(Algorithm::RS256, None, key_path("rsa1024.pub.pem"))
        .build()
        .expect_err("1024-bit key file");
    assert_invalid(
        &err,
        &key_path("rsa1024.pub.pem").display().to_string(),
        &["1024 bits"],
    );
    // A JWKS file that is really a PEM.
    let err = builder()
        .jwks_file(key_path("p256.pub.pem"))
        .build()
        .expect_err("PEM as JWKS");
    assert_invalid(
        &err,
        &key_path("p256.pub.pem").display().to_string(),
        &["not a JWKS document"],
    );
}

#[test]
fn the_first_configuration_error_is_reported_even_with_good_keys() {
    let err = builder()
        .public_key_pem(Algorithm::ES256, &fixture("p256.pub.pem"))
        .public_key_pem(Algorithm::RS256, &fixture("rsa1024.pub.pem"))
        .jwks("not json")
        .build()
        .expect_err("a bad key among good ones");
    assert_invalid(&err, "public_key_pem", &["1024 bits"]);
}
