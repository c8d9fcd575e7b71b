//! Message-signing cases (RFC 9421): requests signed as an Approov SDK
//! signs them, with the published installation key pair, and broken in
//! every way the adapters must refuse.

use approov_core::Secret;
use approov_core::mint::{InstallKey, RequestSigner, SignedRequest, TokenBuilder};
use approov_core::signing::{MessageSigning, SignaturePolicy};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::{Case, Expect, Route, base, sign};

/// The authority the signed cases address (their `Host` header).
pub const AUTHORITY: &str = "approov.test";
/// The account message-signing key id of [`Route::MessageSigningAccount`].
pub const MSKID: &str = "conformance-mskid";
/// The account message-signing secret of [`Route::MessageSigningAccount`].
pub const ACCOUNT_SECRET: &str = "YWNjb3VudCBtZXNzYWdlLXNpZ25pbmcgc2VjcmV0IGZvciB0ZXN0cw==";

/// The published installation key pair (`ipk_key_pair` in
/// `shared/vectors/approov-published.json`), SEC1 DER in base64.
const PUBLISHED_SEC1: &str = "MHcCAQEEIHWZ2Ueq6odQNG+aaYmEbp7C6nujYNGr7nYKK2jqQ2asoAoGCCqGSM49AwEHoUQDQgAEJSm4DMcivAwvhM+KNce2C/X26cj3oGyUwWVUPuNuZHtd2qyVsM+0g7qX73Qh0Of6fn10AApLnl8vRQsvx94fZQ==";

/// A P-384 public key: an `ipk` that is not a P-256 key.
const P384_PEM: &str = include_str!("../../approov-core/tests/keys/p384.pub.pem");

/// The message-signing configuration of the signing routes: installation
/// signature always required, and with `account`, the account secret.
pub fn message_signing(account: bool) -> MessageSigning {
    let builder = MessageSigning::builder().policy(SignaturePolicy::Always);
    let builder = if account {
        builder.account_secret_base64(MSKID, ACCOUNT_SECRET)
    } else {
        builder
    };
    builder.build().unwrap()
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn key() -> InstallKey {
    InstallKey::from_sec1_der(&STANDARD.decode(PUBLISHED_SEC1).unwrap()).unwrap()
}

fn ipk_token(key: &InstallKey) -> TokenBuilder {
    base().claim("ipk", key.ipk())
}

fn uri(route: Route) -> String {
    format!("http://{AUTHORITY}{}", route.path())
}

/// A request to `route`, carrying `token`, signed over the usual components.
fn request(method: &str, route: Route, token: &str) -> RequestSigner {
    RequestSigner::new(method, &uri(route))
        .unwrap()
        .header(crate::TOKEN_HEADER, token)
}

fn to_case(
    name: &'static str,
    route: Route,
    method: &'static str,
    signed: SignedRequest,
    expect: Expect,
) -> Case {
    Case {
        name,
        method,
        route,
        headers: signed
            .headers
            .into_iter()
            .map(|(k, v)| (leak(k), v.into_bytes()))
            .collect(),
        body: signed.body.unwrap_or_default(),
        expect,
    }
}

/// Names must be `'static` in [`Case`]; the few built at run time are
/// leaked once per table, which is fine for tests.
pub(crate) fn leak(name: String) -> &'static str {
    Box::leak(name.into_boxed_str())
}

/// Every message-signing case.
pub fn cases() -> Vec<Case> {
    let key = key();
    let token = sign(ipk_token(&key));
    let other_token = sign(ipk_token(&key).claim("did", "AnotherDevice=="));
    let body = br#"{"hello":"world"}"#.to_vec();
    let ms = Route::MessageSigning;
    let get = |t: &str| request("GET", ms, t).sign_install(&key);
    let post = |t: &str| request("POST", ms, t).body(body.clone()).sign_install(&key);
    let done = |r: RequestSigner| r.finish().unwrap();

    let mut wrong_body = done(post(&token));
    wrong_body.body = Some(br#"{"hello":"mallory"}"#.to_vec());
    let mut resigned_body = done(
        request("POST", ms, &token)
            .body(br#"{"hello":"mallory"}"#.to_vec())
            .sign_install(&key),
    );
    resigned_body.set_header(
        "Content-Digest",
        done(post(&token)).header("Content-Digest").unwrap(),
    );
    let mut other_token_sent = done(get(&token));
    other_token_sent.set_header(crate::TOKEN_HEADER, &other_token);
    let mut no_signature = done(get(&token));
    no_signature.headers.retain(|(k, _)| k != "Signature");
    let p384_ipk: String = P384_PEM
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let p384_token = sign(base().claim("ipk", p384_ipk));
    let plain_token = sign(base());
    let big = vec![b'x'; message_signing(false).max_body_len() + 1];

    let account_token = sign(ipk_token(&key).claim("mskid", MSKID));
    let account_secret = Secret::from_base64(ACCOUNT_SECRET, "conformance").unwrap();
    let wrong_secret = Secret::from_base64(crate::WRONG_SECRET, "conformance").unwrap();
    let account = |secret: &Secret| {
        done(
            request("GET", Route::MessageSigningAccount, &account_token)
                .sign_install(&key)
                .sign_account(secret),
        )
    };

    // A request signed over the usual components and `n` more headers.
    let extra_headers = |n: usize| {
        let mut req = request("GET", ms, &token);
        let mut components: Vec<String> = ["@method", "@target-uri", "approov-token"]
            .map(str::to_owned)
            .to_vec();
        for i in 0..n {
            req = req.header(&format!("x-c{i}"), "1");
            components.push(format!("x-c{i}"));
        }
        done(req.covering(components).sign_install(&key))
    };
    // A genuine token and a Signature-Input naming 3,000 query parameters
    // (the signature does not matter): the amplification attempt every
    // server must refuse before building anything.
    let mut amplified = done(get(&token));
    let names: Vec<String> = (0..3000)
        .map(|i| format!(r#""@query-param";name="a{i}""#))
        .collect();
    amplified.set_header(
        "Signature-Input",
        &format!(
            r#"install=("@method" "@target-uri" "approov-token" {});created={}"#,
            names.join(" "),
            now()
        ),
    );

    vec![
        to_case("ms_valid_get", ms, "GET", done(get(&token)), Expect::Accept),
        to_case(
            "ms_32_components",
            ms,
            "GET",
            extra_headers(29),
            Expect::Accept,
        ),
        to_case(
            "ms_33_components",
            ms,
            "GET",
            extra_headers(30),
            Expect::Reject("signature_limit"),
        ),
        to_case(
            "ms_3000_components",
            ms,
            "GET",
            amplified,
            Expect::Reject("signature_limit"),
        ),
        to_case(
            "ms_body_not_covered",
            ms,
            "POST",
            done(
                request("POST", ms, &token)
                    .body(body.clone())
                    .covering(["@method", "@target-uri", "approov-token"])
                    .sign_install(&key),
            ),
            Expect::Reject("signature_invalid"),
        ),
        to_case(
            "ms_valid_post_with_body",
            ms,
            "POST",
            done(post(&token)),
            Expect::Accept,
        ),
        to_case(
            "ms_valid_signature_as_sf_string",
            ms,
            "POST",
            done(
                request("POST", ms, &token)
                    .body(body.clone())
                    .signature_as_string(true)
                    .sign_install(&key),
            ),
            Expect::Accept,
        ),
        to_case(
            "ms_signed_for_another_method",
            ms,
            "GET",
            done(request("POST", ms, &token).sign_install(&key)),
            Expect::Reject("signature_invalid"),
        ),
        to_case(
            "ms_signed_for_another_uri",
            ms,
            "GET",
            done(
                RequestSigner::new("GET", &format!("http://{AUTHORITY}/elsewhere"))
                    .unwrap()
                    .header(crate::TOKEN_HEADER, &token)
                    .sign_install(&key),
            ),
            Expect::Reject("signature_invalid"),
        ),
        to_case(
            "ms_signed_for_another_token",
            ms,
            "GET",
            other_token_sent,
            Expect::Reject("signature_invalid"),
        ),
        to_case(
            "ms_body_changed",
            ms,
            "POST",
            wrong_body,
            Expect::Reject("digest_mismatch"),
        ),
        to_case(
            "ms_signed_over_another_body",
            ms,
            "POST",
            resigned_body,
            Expect::Reject("signature_invalid"),
        ),
        to_case(
            "ms_missing_signature",
            ms,
            "GET",
            no_signature,
            Expect::Reject("signature_missing"),
        ),
        to_case(
            "ms_unsigned_request",
            ms,
            "GET",
            done(request("GET", ms, &token)),
            Expect::Reject("signature_missing"),
        ),
        to_case(
            "ms_created_long_ago",
            ms,
            "GET",
            done(
                request("GET", ms, &token)
                    .created(now() - 3600)
                    .sign_install(&key),
            ),
            Expect::Reject("signature_expired"),
        ),
        to_case(
            "ms_created_in_the_future",
            ms,
            "GET",
            done(
                request("GET", ms, &token)
                    .created(now() + 3600)
                    .sign_install(&key),
            ),
            Expect::Reject("signature_invalid"),
        ),
        to_case(
            "ms_wrong_alg",
            ms,
            "GET",
            done(
                request("GET", ms, &token)
                    .alg(Some("hmac-sha256"))
                    .sign_install(&key),
            ),
            Expect::Reject("signature_invalid"),
        ),
        to_case(
            "ms_ipk_not_p256",
            ms,
            "GET",
            done(request("GET", ms, &p384_token).sign_install(&key)),
            Expect::Reject("signature_key"),
        ),
        to_case(
            "ms_token_without_ipk",
            ms,
            "GET",
            done(request("GET", ms, &plain_token).sign_install(&key)),
            Expect::Reject("signature_missing"),
        ),
        to_case(
            "ms_oversized_body",
            ms,
            "POST",
            done(
                request("POST", ms, &token)
                    .body(big.clone())
                    .sign_install(&key),
            ),
            Expect::BodyTooLarge,
        ),
        // The token and the signatures come before the body: a refused
        // request gets its 401 however large the body it announces.
        to_case(
            "ms_oversized_body_no_token",
            ms,
            "POST",
            done(
                request("POST", ms, &token)
                    .body(big.clone())
                    .sign_install(&key),
            ),
            Expect::Reject("missing"),
        )
        .without_token(),
        to_case(
            "ms_oversized_body_bad_signature",
            ms,
            "POST",
            bad_signature(done(
                request("POST", ms, &token)
                    .body(big.clone())
                    .sign_install(&key),
            )),
            Expect::Reject("signature_invalid"),
        ),
        // A body whose digest the signature does not cover, over the limit:
        // refused from the head on every adapter, never read or capped.
        to_case(
            "ms_uncovered_body_over_limit",
            ms,
            "POST",
            done(
                request("POST", ms, &token)
                    .body(big)
                    .content_digest(None)
                    .sign_install(&key),
            ),
            Expect::Reject("signature_invalid"),
        ),
        to_case(
            "ms_no_token",
            ms,
            "GET",
            done(get(&token)),
            Expect::Reject("missing"),
        )
        .without_token(),
        to_case(
            "ms_account_signature_valid",
            Route::MessageSigningAccount,
            "GET",
            account(&account_secret),
            Expect::Accept,
        ),
        to_case(
            "ms_account_signature_wrong",
            Route::MessageSigningAccount,
            "GET",
            account(&wrong_secret),
            Expect::Reject("signature_invalid"),
        ),
    ]
}

/// `signed` with a well-formed `install` signature that does not verify.
fn bad_signature(mut signed: SignedRequest) -> SignedRequest {
    signed.set_header("Signature", &format!("install=:{}:", "A".repeat(88)));
    signed
}

impl Case {
    /// The same request without its token header.
    fn without_token(mut self) -> Self {
        self.headers
            .retain(|(k, _)| !k.eq_ignore_ascii_case(crate::TOKEN_HEADER));
        self
    }
}
