//! How fast `Verifier::verify` is, beside `jsonwebtoken::decode` (HS256)
//! and beside ring's bare signature check (HS256, ES256, RS256), all in one
//! run so the ratios in `BENCHMARKS.md` compare like with like.
//!
//! Run: `cargo bench -p approov-core --bench verify --all-features`.

use std::hint::black_box;
use std::time::Duration;

use approov_core::Algorithm;
use approov_core::Verifier;
use approov_core::mint::{SigningKey, TokenBuilder};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use criterion::{Criterion, criterion_group, criterion_main};
use ring::signature::{self, KeyPair as _};
use ring::{hmac, rand::SystemRandom};

/// Approov's published `good_full` quickstart token (aud, exp in 2033, iat,
/// iss, sub, ip, did) and the secret it is signed with.
const SECRET: &str =
    "TEST+SECRET/TEST+SECRET/TEST+SECRET/TEST+SECRET/TEST+SECRET/TEST+SECRET/TEST+SECRET/AA==";
const GOOD_FULL: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJhcHByb292LmlvIiwiZXhwIjoxOTk5OTk5OTk5LCJpYXQiOjE3MDAwMDAwMDAsImlzcyI6IkFwcHJvb3ZBY2NvdW50SUQuYXBwcm9vdi5pbyIsInN1YiI6ImFwcHJvb3Z8RXhhbXBsZUFwcHJvb3ZUb2tlbkRJRD09IiwiaXAiOiIxLjIuMy40IiwiZGlkIjoiRXhhbXBsZUFwcHJvb3ZUb2tlbkRJRD09In0.1jKWka6OrKAURvibZ26ApvOLNl6pv5cVuu2pJnExvW0";

const P256_KEY: &str = include_str!("../tests/keys/p256.key");
const P256_PUB: &str = include_str!("../tests/keys/p256.pub.pem");
const RSA_KEY: &str = include_str!("../tests/keys/rsa2048.key");
const RSA_PUB: &str = include_str!("../tests/keys/rsa2048.pub.pem");

/// The baseline's view of the claims: the same fields our `ApproovClaims`
/// makes owned copies of, so both sides do comparable work.
#[derive(serde::Deserialize)]
#[allow(dead_code)] // Read by serde only; the values are not the point.
struct JwtClaims {
    exp: u64,
    iat: Option<u64>,
    aud: Option<String>,
    iss: Option<String>,
    sub: Option<String>,
    ip: Option<String>,
    did: Option<String>,
}

/// The parts a bare signature check needs: signing input and raw signature.
fn split(token: &str) -> (&[u8], Vec<u8>) {
    let dot = token.rfind('.').expect("a compact JWS");
    let sig = URL_SAFE_NO_PAD
        .decode(&token[dot + 1..])
        .expect("a base64url signature");
    (&token.as_bytes()[..dot], sig)
}

/// The same claims as `good_full`, for the asymmetric tokens.
fn good_full_claims() -> TokenBuilder {
    TokenBuilder::new()
        .claim("aud", "approov.io")
        .exp(1_999_999_999.0)
        .claim("iat", 1_700_000_000)
        .claim("iss", "ApproovAccountID.approov.io")
        .claim("sub", "approov|ExampleApproovTokenDID==")
        .claim("ip", "1.2.3.4")
        .claim("did", "ExampleApproovTokenDID==")
}

fn pkcs8_der(pem: &str) -> Vec<u8> {
    let (label, der) = pem_rfc7468::decode_vec(pem.trim().as_bytes()).expect("a PEM key");
    assert_eq!(label, "PRIVATE KEY");
    der
}

fn hs256(c: &mut Criterion) {
    let verifier = Verifier::builder()
        .secret_base64(SECRET)
        .build()
        .expect("verifier");
    // Change the first signature character: still base64url, wrong MAC.
    let bad = GOOD_FULL.replace(".1jKWka", ".2jKWka");
    assert!(verifier.verify(GOOD_FULL).is_ok());
    assert!(verifier.verify(&bad).is_err());

    let secret = STANDARD.decode(SECRET).expect("base64 secret");
    let jwt_key = jsonwebtoken::DecodingKey::from_secret(&secret);
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    // Our verifier checks `aud` only when configured to; so does this one.
    validation.validate_aud = false;
    let jwt = |token: &str| jsonwebtoken::decode::<JwtClaims>(token, &jwt_key, &validation);
    assert!(jwt(GOOD_FULL).is_ok());
    assert!(jwt(&bad).is_err());

    let ring_key = hmac::Key::new(hmac::HMAC_SHA256, &secret);
    let (input, sig) = split(GOOD_FULL);
    assert!(hmac::verify(&ring_key, input, &sig).is_ok());

    // With the verified-token cache, holding this token: a repeat.
    let cached = Verifier::builder()
        .secret_base64(SECRET)
        .cache_verified_tokens(10_000)
        .build()
        .expect("verifier");
    assert!(cached.verify(GOOD_FULL).is_ok());
    assert_eq!(cached.cached_tokens(), 1);

    let mut g = c.benchmark_group("HS256");
    g.bench_function("approov_core_verify", |b| {
        b.iter(|| verifier.verify(black_box(GOOD_FULL)))
    });
    g.bench_function("approov_core_verify_cached", |b| {
        b.iter(|| cached.verify(black_box(GOOD_FULL)))
    });
    g.bench_function("approov_core_verify_bad_signature", |b| {
        b.iter(|| verifier.verify(black_box(bad.as_str())))
    });
    g.bench_function("jsonwebtoken_decode", |b| {
        b.iter(|| jwt(black_box(GOOD_FULL)))
    });
    g.bench_function("jsonwebtoken_decode_bad_signature", |b| {
        b.iter(|| jwt(black_box(bad.as_str())))
    });
    g.bench_function("ring_hmac_verify", |b| {
        b.iter(|| hmac::verify(&ring_key, black_box(input), black_box(&sig)))
    });
    g.finish();
}

fn es256(c: &mut Criterion) {
    let signer = SigningKey::from_pkcs8_pem(Algorithm::ES256, P256_KEY).expect("P-256 key");
    let token = good_full_claims().sign(&signer);
    let verifier = Verifier::builder()
        .public_key_pem(Algorithm::ES256, P256_PUB)
        .build()
        .expect("verifier");
    assert!(verifier.verify(&token).is_ok());

    let pair = signature::EcdsaKeyPair::from_pkcs8(
        &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        &pkcs8_der(P256_KEY),
        &SystemRandom::new(),
    )
    .expect("P-256 key pair");
    let point = pair.public_key().as_ref().to_vec();
    let (input, sig) = split(&token);
    let bare = || {
        signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, &point)
            .verify(black_box(input), black_box(&sig))
    };
    assert!(bare().is_ok());

    let mut g = c.benchmark_group("ES256");
    g.bench_function("approov_core_verify", |b| {
        b.iter(|| verifier.verify(black_box(token.as_str())))
    });
    g.bench_function("ring_verify", |b| b.iter(bare));
    g.finish();
}

fn rs256(c: &mut Criterion) {
    let signer = SigningKey::from_pkcs8_pem(Algorithm::RS256, RSA_KEY).expect("RSA key");
    let token = good_full_claims().sign(&signer);
    let verifier = Verifier::builder()
        .public_key_pem(Algorithm::RS256, RSA_PUB)
        .build()
        .expect("verifier");
    assert!(verifier.verify(&token).is_ok());

    let pair = signature::RsaKeyPair::from_pkcs8(&pkcs8_der(RSA_KEY)).expect("RSA key pair");
    // The PKCS#1 RSAPublicKey DER, which ring parses on every verify.
    let public = pair.public_key().as_ref().to_vec();
    let (input, sig) = split(&token);
    let bare = || {
        signature::UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, &public)
            .verify(black_box(input), black_box(&sig))
    };
    assert!(bare().is_ok());

    let mut g = c.benchmark_group("RS256");
    g.bench_function("approov_core_verify", |b| {
        b.iter(|| verifier.verify(black_box(token.as_str())))
    });
    g.bench_function("ring_verify", |b| b.iter(bare));
    g.finish();
}

/// The verifier of the signing benchmarks, an installation key, and a
/// `good_full` token carrying its `ipk`.
fn signing_fixture() -> (Verifier, approov_core::mint::InstallKey, String) {
    let verifier = Verifier::builder()
        .secret_base64(SECRET)
        .build()
        .expect("verifier");
    let key = approov_core::mint::InstallKey::generate().expect("install key");
    let token = good_full_claims()
        .claim("ipk", key.ipk())
        .sign_hs256_base64(SECRET)
        .expect("token");
    (verifier, key, token)
}

/// A full installation-signature check (token, then the RFC 9421
/// signature over method, URI and token, then `Content-Digest`) beside the
/// token check alone on the same request.
fn message_signing(c: &mut Criterion) {
    use approov_core::mint::RequestSigner;
    use approov_core::signing::{MessageSigning, SignaturePolicy};
    use approov_core::{Decision, Gate};

    let (verifier, key, token) = signing_fixture();
    let signing = MessageSigning::builder()
        .policy(SignaturePolicy::Always)
        .build()
        .expect("signing");
    let token_only = Gate::new(verifier.clone());
    let signed_gate = Gate::new(verifier).message_signing(signing);
    let sign = |method: &str, body: Option<Vec<u8>>| {
        let mut req = RequestSigner::new(method, "https://api.example.com/shapes?size=2")
            .expect("uri")
            .header("Approov-Token", &token);
        if let Some(body) = body {
            req = req.body(body);
        }
        req.sign_install(&key).finish().expect("signed request")
    };
    let get = sign("GET", None);
    let post = sign("POST", Some(vec![b'x'; 1024]));
    let ok = |d: Decision| matches!(d, Decision::Forward(_));
    assert!(ok(token_only.check(&get.method, &get.headers[..])));
    assert!(ok(signed_gate.check_message(&get.parts(), None)));
    assert!(ok(
        signed_gate.check_message(&post.parts(), post.body.as_deref())
    ));

    let mut g = c.benchmark_group("MessageSigning");
    g.bench_function("gate_check_token_only", |b| {
        b.iter(|| token_only.check(black_box(&get.method), black_box(&get.headers[..])))
    });
    g.bench_function("gate_check_message_install_get", |b| {
        b.iter(|| signed_gate.check_message(black_box(&get.parts()), None))
    });
    g.bench_function("gate_check_message_install_post_1kib_digest", |b| {
        b.iter(|| {
            signed_gate.check_message(black_box(&post.parts()), black_box(post.body.as_deref()))
        })
    });
    g.finish();
}

/// The signing limits at work: building a signature base at the default
/// component limit (and, with the limits lifted, at 30 and 3,000
/// components: linear, not quadratic), and refusing a 3,000-component
/// `Signature-Input` beside refusing a normal request.
fn signing_limits(c: &mut Criterion) {
    use approov_core::mint::{RequestSigner, SignedRequest};
    use approov_core::signing::{MessageSigning, SignaturePolicy};
    use approov_core::{Decision, Gate, RejectionKind};

    let (verifier, key, token) = signing_fixture();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    // `n` query parameters, each covered by a `@query-param` component,
    // after `@method`, `@target-uri` and the token.
    let request = |n: usize, created: i64| -> SignedRequest {
        let query: Vec<String> = (0..n).map(|i| format!("a{i}=1")).collect();
        let uri = format!("https://api.example.com/shapes?{}", query.join("&"));
        let mut components: Vec<String> = ["@method", "@target-uri", "approov-token"]
            .map(str::to_owned)
            .to_vec();
        components.extend((0..n).map(|i| format!(r#""@query-param";name="a{i}""#)));
        RequestSigner::new("GET", &uri)
            .expect("uri")
            .header("Approov-Token", &token)
            .created(created)
            .covering(components)
            .sign_install(&key)
            .finish()
            .expect("signed request")
    };
    let signing = |b: approov_core::signing::MessageSigningBuilder| {
        b.policy(SignaturePolicy::Always).build().expect("signing")
    };
    let defaults = signing(MessageSigning::builder());
    let lifted = signing(
        MessageSigning::builder()
            .max_components(4000)
            .max_signature_field_len(1 << 20),
    );
    let gate = Gate::new(verifier).message_signing(defaults.clone());
    let at_limit = request(29, now);
    let small = request(27, now);
    let huge = request(3000, now);
    let expired = request(0, now - 3600);
    let mut bad_signature = request(0, now);
    bad_signature.set_header("Signature", "install=:AAAA:");
    let kind = |d: Decision| match d {
        Decision::Reject(r) => Some(r.kind()),
        Decision::Forward(_) => None,
        Decision::RefuseBody(p) => panic!("no body here: {p}"),
    };
    assert_eq!(kind(gate.check_message(&at_limit.parts(), None)), None);
    assert_eq!(
        kind(gate.check_message(&huge.parts(), None)),
        Some(RejectionKind::SignatureLimit)
    );
    assert_eq!(
        kind(gate.check_message(&expired.parts(), None)),
        Some(RejectionKind::SignatureExpired)
    );
    assert_eq!(
        kind(gate.check_message(&bad_signature.parts(), None)),
        Some(RejectionKind::SignatureInvalid)
    );
    assert!(lifted.signature_base(&huge.parts(), "install").is_some());

    let mut g = c.benchmark_group("SigningLimits");
    g.bench_function("signature_base_32_components", |b| {
        b.iter(|| defaults.signature_base(black_box(&at_limit.parts()), "install"))
    });
    g.bench_function("signature_base_30_components_lifted", |b| {
        b.iter(|| lifted.signature_base(black_box(&small.parts()), "install"))
    });
    g.bench_function("signature_base_3000_components_lifted", |b| {
        b.iter(|| lifted.signature_base(black_box(&huge.parts()), "install"))
    });
    g.bench_function("refuse_3000_components", |b| {
        b.iter(|| gate.check_message(black_box(&huge.parts()), None))
    });
    g.bench_function("refuse_normal_expired", |b| {
        b.iter(|| gate.check_message(black_box(&expired.parts()), None))
    });
    g.bench_function("refuse_normal_bad_signature", |b| {
        b.iter(|| gate.check_message(black_box(&bad_signature.parts()), None))
    });
    g.finish();
}

/// The gate's shortest paths, where per-request bookkeeping (the
/// `metrics` counters, with no recorder installed) weighs the most: a
/// token the verified-token cache holds, and a request without a token.
fn gate(c: &mut Criterion) {
    use approov_core::{Decision, Gate};

    let verifier = Verifier::builder()
        .secret_base64(SECRET)
        .cache_verified_tokens(10_000)
        .build()
        .expect("verifier");
    let gate = Gate::new(verifier);
    let token = [("Approov-Token", GOOD_FULL)];
    let none: [(&str, &str); 0] = [];
    assert!(matches!(gate.check("GET", &token), Decision::Forward(_)));
    assert!(matches!(gate.check("GET", &none), Decision::Reject(_)));

    let mut g = c.benchmark_group("Gate");
    g.bench_function("check_cached_token", |b| {
        b.iter(|| gate.check(black_box("GET"), black_box(&token)))
    });
    g.bench_function("check_missing_token", |b| {
        b.iter(|| gate.check(black_box("GET"), black_box(&none)))
    });
    g.finish();
}

fn config() -> Criterion {
    // Twenty-one benchmarks at ~4 s each keep the whole run near 90 s.
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = hs256, es256, rs256, message_signing, signing_limits, gate
}
criterion_main!(benches);
