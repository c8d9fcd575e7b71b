//! RFC 9421 Appendix B: the signature bases of B.2.1–B.2.6 rebuilt from the
//! RFC's test request, each checked against the RFC's own signature with
//! the RFC's key (so a single wrong byte fails), and B.2.5 (hmac-sha256)
//! reproduced byte for byte by the request signer.
//!
//! B.2.4 signs a *response* (`@status`), which a request verifier never
//! computes: its header lines are rebuilt, its `@status` line is the RFC's,
//! and its ECDSA signature is verified with [`InstallPublicKey`], the code
//! that checks installation signatures.
#![allow(clippy::unwrap_used)]

use approov_core::signing::{InstallPublicKey, MessageParts, MessageSigning};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::signature;

// --- B.1: the RFC's keys -------------------------------------------------

/// B.1.2 `test-key-rsa-pss`, public modulus (base64url) and exponent.
const RSA_PSS_N: &str = "r4tmm3r20Wd_PbqvP1s2-QEtvpuRaV8Yq40gjUR8y2Rjxa6dpG2GXHbPfvMs8ct-Lh1GH45x28Rw3Ry53mm-oAXjyQ86OnDkZ5N8lYbggD4O3w6M6pAvLkhk95AndTrifbIFPNU8PPMO7OyrFAHqgDsznjPFmTOtCEcN2Z1FpWgchwuYLPL-Wokqltd11nqqzi-bJ9cvSKADYdUAAN5WUtzdpiy6LbTgSxP7ociU4Tn0g5I6aDZJ7A8Lzo0KSyZYoA485mqcO0GVAdVw9lq4aOT9v6d-nb4bnNkQVklLQ3fVAvJm-xdDOp9LCNCN48V2pnDOkFV6-U9nV5oyc6XI2w";
const RSA_PSS_E: &str = "AQAB";
/// B.1.3 `test-key-ecc-p256`, SubjectPublicKeyInfo.
const ECC_P256_SPKI: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqIVYZVLCrPZHGHjP17CTW0/+D9Lfw0EkjqF7xB4FivAxzic30tMM4GF+hR6Dxh71Z50VGGdldkkDXZCnTNnoXQ==";
/// B.1.4 `test-key-ed25519`, public key (base64url).
const ED25519_X: &str = "JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs";
/// B.1.5 `test-shared-secret`.
const SHARED_SECRET: &str =
    "uzvJfB4u3N0Jy4T7NZ75MDVcr8zSTInedJtkgcu46YW4XByzNJjxBdtjUkdJPBtbmHhIDi6pcl8jsasjlTMtDQ==";

// --- B.2: the test request -------------------------------------------------

const CONTENT_DIGEST: &str = "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:";

/// `POST /foo?param=Value&Pet=dog HTTP/1.1` with its headers, plus the
/// example's `Signature-Input`.
fn test_request(signature_input: &str) -> Vec<(String, String)> {
    [
        ("Host", "example.com"),
        ("Date", "Tue, 20 Apr 2021 02:07:55 GMT"),
        ("Content-Type", "application/json"),
        ("Content-Digest", CONTENT_DIGEST),
        ("Content-Length", "18"),
        ("Signature-Input", signature_input),
    ]
    .into_iter()
    .map(|(n, v)| (n.to_owned(), v.to_owned()))
    .collect()
}

/// The signature base this crate builds for `label` in the test request.
fn rebuilt_base(signature_input: &str, label: &str) -> String {
    let headers = test_request(signature_input);
    let parts = MessageParts::new("POST", "/foo?param=Value&Pet=dog", &headers[..])
        .with_scheme(Some("https"));
    let base = MessageSigning::default()
        .signature_base(&parts, label)
        .unwrap_or_else(|| panic!("no base for {label}"));
    String::from_utf8(base).unwrap()
}

fn verify_rsa_pss(base: &str, sig_b64: &str) {
    let n = URL_SAFE_NO_PAD.decode(RSA_PSS_N).unwrap();
    let e = URL_SAFE_NO_PAD.decode(RSA_PSS_E).unwrap();
    let sig = STANDARD.decode(sig_b64).unwrap();
    signature::RsaPublicKeyComponents { n: &n, e: &e }
        .verify(&signature::RSA_PSS_2048_8192_SHA512, base.as_bytes(), &sig)
        .expect("the RFC's signature verifies over the rebuilt base");
}

#[test]
fn b_2_1_minimal_signature_base() {
    let input =
        r#"sig-b21=();created=1618884473;keyid="test-key-rsa-pss";nonce="b3k2pp5k7z-50gnwp.yemd""#;
    let expected = r#""@signature-params": ();created=1618884473;keyid="test-key-rsa-pss";nonce="b3k2pp5k7z-50gnwp.yemd""#;
    let base = rebuilt_base(input, "sig-b21");
    assert_eq!(base, expected);
    verify_rsa_pss(
        &base,
        "d2pmTvmbncD3xQm8E9ZV2828BjQWGgiwAaw5bAkgibUopemLJcWDy/lkbbHAve4cRAtx31Iq786U7it++wgGxbtRxf8Udx7zFZsckzXaJMkA7ChG52eSkFxykJeNqsrWH5S+oxNFlD4dzVuwe8DhTSja8xxbR/Z2cOGdCbzR72rgFWhzx2VjBqJzsPLMIQKhO4DGezXehhWwE56YCE+O6c0mKZsfxVrogUvA4HELjVKWmAvtl6UnCh8jYzuVG5WSb/QEVPnP5TmcAnLH1g+s++v6d4s8m0gCw1fV5/SITLq9mhho8K3+7EPYTU8IU1bLhdxO5Nyt8C8ssinQ98Xw9Q==",
    );
}

#[test]
fn b_2_2_selective_components_base() {
    let input = r#"sig-b22=("@authority" "content-digest" "@query-param";name="Pet");created=1618884473;keyid="test-key-rsa-pss";tag="header-example""#;
    let expected = [
        r#""@authority": example.com"#,
        &format!(r#""content-digest": {CONTENT_DIGEST}"#),
        r#""@query-param";name="Pet": dog"#,
        r#""@signature-params": ("@authority" "content-digest" "@query-param";name="Pet");created=1618884473;keyid="test-key-rsa-pss";tag="header-example""#,
    ]
    .join("\n");
    let base = rebuilt_base(input, "sig-b22");
    assert_eq!(base, expected);
    verify_rsa_pss(
        &base,
        "LjbtqUbfmvjj5C5kr1Ugj4PmLYvx9wVjZvD9GsTT4F7GrcQEdJzgI9qHxICagShLRiLMlAJjtq6N4CDfKtjvuJyE5qH7KT8UCMkSowOB4+ECxCmT8rtAmj/0PIXxi0A0nxKyB09RNrCQibbUjsLS/2YyFYXEu4TRJQzRw1rLEuEfY17SARYhpTlaqwZVtR8NV7+4UKkjqpcAoFqWFQh62s7Cl+H2fjBSpqfZUJcsIk4N6wiKYd4je2U/lankenQ99PZfB4jY3I5rSV2DSBVkSFsURIjYErOs0tFTQosMTAoxk//0RoKUqiYY8Bh0aaUEb0rQl3/XaVe4bXTugEjHSw==",
    );
}

#[test]
fn b_2_3_full_coverage_base() {
    let input = r#"sig-b23=("date" "@method" "@path" "@query" "@authority" "content-type" "content-digest" "content-length");created=1618884473;keyid="test-key-rsa-pss""#;
    let expected = [
        r#""date": Tue, 20 Apr 2021 02:07:55 GMT"#,
        r#""@method": POST"#,
        r#""@path": /foo"#,
        r#""@query": ?param=Value&Pet=dog"#,
        r#""@authority": example.com"#,
        r#""content-type": application/json"#,
        &format!(r#""content-digest": {CONTENT_DIGEST}"#),
        r#""content-length": 18"#,
        r#""@signature-params": ("date" "@method" "@path" "@query" "@authority" "content-type" "content-digest" "content-length");created=1618884473;keyid="test-key-rsa-pss""#,
    ]
    .join("\n");
    let base = rebuilt_base(input, "sig-b23");
    assert_eq!(base, expected);
    verify_rsa_pss(
        &base,
        "bbN8oArOxYoyylQQUU6QYwrTuaxLwjAC9fbY2F6SVWvh0yBiMIRGOnMYwZ/5MR6fb0Kh1rIRASVxFkeGt683+qRpRRU5p2voTp768ZrCUb38K0fUxN0O0iC59DzYx8DFll5GmydPxSmme9v6ULbMFkl+V5B1TP/yPViV7KsLNmvKiLJH1pFkh/aYA2HXXZzNBXmIkoQoLd7YfW91kE9o/CCoC1xMy7JA1ipwvKvfrs65ldmlu9bpG6A9BmzhuzF8Eim5f8ui9eH8LZH896+QIF61ka39VBrohr9iyMUJpvRX2Zbhl5ZJzSRxpJyoEZAFL2FUo5fTIztsDZKEgM4cUA==",
    );
}

#[test]
fn b_2_4_response_signature_verifies_with_the_rfc_p256_key() {
    // The test response of B.2.
    let response: Vec<(String, String)> = [
        ("Date", "Tue, 20 Apr 2021 02:07:56 GMT"),
        ("Content-Type", "application/json"),
        (
            "Content-Digest",
            "sha-512=:mEWXIS7MaLRuGgxOBdODa3xqM1XdEvxoYhvlCFJ41QJgJc4GTsPp29l5oGX69wWdXymyU0rjJuahq4l5aGgfLQ==:",
        ),
        ("Content-Length", "23"),
        (
            "Signature-Input",
            r#"sig-b24=("@status" "content-type" "content-digest" "content-length");created=1618884473;keyid="test-key-ecc-p256""#,
        ),
        (
            "Signature",
            "sig-b24=:wNmSUAhwb5LxtOtOpNa6W5xj067m5hFrj0XQ4fvpaCLx0NKocgPquLgyahnzDnDAUy5eCdlYUEkLIj+32oiasw==:",
        ),
        (
            "Signature-Input",
            r#"fields=("content-type" "content-digest" "content-length")"#,
        ),
    ]
    .into_iter()
    .map(|(n, v)| (n.to_owned(), v.to_owned()))
    .collect();
    let parts = MessageParts::new("POST", "/foo", &response[..]);
    let signing = MessageSigning::default();
    // A request verifier never computes @status: no base for sig-b24.
    assert_eq!(signing.signature_base(&parts, "sig-b24"), None);

    // The header lines, rebuilt; the @status and @signature-params lines
    // are the RFC's.
    let fields = String::from_utf8(signing.signature_base(&parts, "fields").unwrap()).unwrap();
    let field_lines = fields.rsplit_once('\n').unwrap().0;
    let base = format!(
        "\"@status\": 200\n{field_lines}\n\"@signature-params\": (\"@status\" \"content-type\" \"content-digest\" \"content-length\");created=1618884473;keyid=\"test-key-ecc-p256\""
    );
    let expected = [
        r#""@status": 200"#,
        r#""content-type": application/json"#,
        r#""content-digest": sha-512=:mEWXIS7MaLRuGgxOBdODa3xqM1XdEvxoYhvlCFJ41QJgJc4GTsPp29l5oGX69wWdXymyU0rjJuahq4l5aGgfLQ==:"#,
        r#""content-length": 23"#,
        r#""@signature-params": ("@status" "content-type" "content-digest" "content-length");created=1618884473;keyid="test-key-ecc-p256""#,
    ]
    .join("\n");
    assert_eq!(base, expected);

    let key = InstallPublicKey::from_ipk(ECC_P256_SPKI).unwrap();
    let sig = STANDARD
        .decode("wNmSUAhwb5LxtOtOpNa6W5xj067m5hFrj0XQ4fvpaCLx0NKocgPquLgyahnzDnDAUy5eCdlYUEkLIj+32oiasw==")
        .unwrap();
    assert!(
        key.verify(base.as_bytes(), &sig),
        "the RFC's ECDSA signature verifies"
    );
    let mut tampered = base.into_bytes();
    tampered[10] ^= 1;
    assert!(!key.verify(&tampered, &sig), "one flipped bit fails");
}

#[test]
fn b_2_5_hmac_signature_base() {
    let input = r#"sig-b25=("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret""#;
    let expected = [
        r#""date": Tue, 20 Apr 2021 02:07:55 GMT"#,
        r#""@authority": example.com"#,
        r#""content-type": application/json"#,
        r#""@signature-params": ("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret""#,
    ]
    .join("\n");
    let base = rebuilt_base(input, "sig-b25");
    assert_eq!(base, expected);
    let key = ring::hmac::Key::new(
        ring::hmac::HMAC_SHA256,
        &STANDARD.decode(SHARED_SECRET).unwrap(),
    );
    let tag = ring::hmac::sign(&key, base.as_bytes());
    assert_eq!(
        STANDARD.encode(tag),
        "pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE8="
    );
}

#[cfg(feature = "mint")]
#[test]
fn b_2_5_is_reproduced_byte_for_byte_by_the_request_signer() {
    use approov_core::Secret;
    use approov_core::mint::{MessageKey, RequestSigner};

    let secret = Secret::from_base64(SHARED_SECRET, "test").unwrap();
    let signed = RequestSigner::new("POST", "https://example.com/foo?param=Value&Pet=dog")
        .unwrap()
        .header("Date", "Tue, 20 Apr 2021 02:07:55 GMT")
        .header("Content-Type", "application/json")
        .header("Content-Digest", CONTENT_DIGEST)
        .header("Content-Length", "18")
        .covering(["date", "@authority", "content-type"])
        .created(1_618_884_473)
        .alg(None)
        .param("keyid", "test-shared-secret")
        .sign_as("sig-b25", MessageKey::Account(&secret))
        .finish()
        .unwrap();
    assert_eq!(
        signed.header("Signature-Input"),
        Some(
            r#"sig-b25=("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret""#
        )
    );
    assert_eq!(
        signed.header("Signature"),
        Some("sig-b25=:pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE8=:")
    );
}

#[test]
fn b_2_6_ed25519_signature_base() {
    let input = r#"sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519""#;
    let expected = [
        r#""date": Tue, 20 Apr 2021 02:07:55 GMT"#,
        r#""@method": POST"#,
        r#""@path": /foo"#,
        r#""@authority": example.com"#,
        r#""content-type": application/json"#,
        r#""content-length": 18"#,
        r#""@signature-params": ("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519""#,
    ]
    .join("\n");
    let base = rebuilt_base(input, "sig-b26");
    assert_eq!(base, expected);
    let x = URL_SAFE_NO_PAD.decode(ED25519_X).unwrap();
    let sig = STANDARD
        .decode("wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==")
        .unwrap();
    signature::UnparsedPublicKey::new(&signature::ED25519, &x)
        .verify(base.as_bytes(), &sig)
        .expect("the RFC's Ed25519 signature verifies over the rebuilt base");
}

#[test]
fn the_test_request_content_digest_matches_its_body() {
    assert_eq!(
        approov_core::signing::content_digest(
            approov_core::signing::DigestAlgorithm::Sha512,
            br#"{"hello": "world"}"#
        ),
        CONTENT_DIGEST
    );
}
