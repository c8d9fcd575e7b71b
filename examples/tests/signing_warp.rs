//! `warp-hello`'s `/message-signing` routes, started as a process on
//! 127.0.0.1:0 and called over sockets with requests signed as an Approov
//! SDK would, with the key pair Approov's quickstarts publish: a signed GET
//! and a signed POST with a body and its `Content-Digest` pass; a token
//! without `ipk`, a body that does not match its digest, and an unsigned
//! request are refused with the shared 401 and the reason in the log; a
//! body over the limit is a 413.
#![allow(clippy::unwrap_used)]

mod common;

use approov_core::Secret;
use approov_core::mint::{InstallKey, RequestSigner, SignedRequest, TokenBuilder};
use common::{Response, SECRET, Server, request_bytes, request_with_body};
use serde_json::Value;

const EXE: &str = env!("CARGO_BIN_EXE_warp-hello");
const HELLO: &str = r#"{"message":"Hello, World!"}"#;
const BODY: &str = r#"{"shape":"circle","size":2}"#;

fn start() -> Server {
    Server::start(EXE, &[("APPROOV_BASE64_SECRET", SECRET)])
}

/// The P-256 key pair published in Approov's quickstarts.
fn published_key() -> InstallKey {
    let text = approov_core::mint::PUBLISHED_VECTORS;
    let vectors: Value = serde_json::from_str(text).unwrap();
    let sec1 = vectors["ipk_key_pair"]["private_sec1_der_base64"]
        .as_str()
        .unwrap();
    // `Secret` decodes standard base64 and wipes the key bytes afterwards.
    let der = Secret::from_base64(sec1, "private_sec1_der_base64").unwrap();
    InstallKey::from_sec1_der(der.expose()).unwrap()
}

/// A token for the server's secret, valid for five minutes, carrying
/// `key`'s public key as `ipk`.
fn ipk_token(key: &InstallKey) -> String {
    TokenBuilder::approov_example()
        .claim("ipk", key.ipk())
        .sign_hs256_base64(SECRET)
        .unwrap()
}

/// `method` of `/message-signing` as the client addresses it: the signer's
/// `Host` header, and the one `request_bytes` sends, name the server's
/// address, so that is the authority signed.
fn signer(server: &Server, method: &str, token: &str) -> RequestSigner {
    RequestSigner::new(method, &format!("http://{}/message-signing", server.addr))
        .unwrap()
        .header("Approov-Token", token)
}

/// `signed`'s header lines, its `Host` (the server's address) included.
fn headers(signed: &SignedRequest) -> Vec<(&str, &[u8])> {
    signed
        .headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_bytes()))
        .collect()
}

/// Sends `signed` with `body`, which may differ from the one signed.
fn send(server: &Server, signed: &SignedRequest, body: &[u8]) -> Response {
    request_with_body(
        server.addr,
        &signed.method,
        &signed.path_and_query,
        &headers(signed),
        body,
    )
}

#[track_caller]
fn assert_json(res: &Response, status: u16, body: &str) {
    assert_eq!((res.status, res.body.as_str()), (status, body), "{res:?}");
    assert_eq!(
        res.header("content-type"),
        Some("application/json"),
        "{res:?}"
    );
}

/// The adapters' shared rejection: 401, `{}`, JSON, `WWW-Authenticate: Approov`.
#[track_caller]
fn assert_401(res: &Response) {
    assert_json(res, 401, "{}");
    assert_eq!(res.header("www-authenticate"), Some("Approov"), "{res:?}");
}

/// Waits (bounded) for the server to log a rejection of this kind.
fn assert_logged(server: &Server, kind: &str) {
    let needle = format!("kind=\"{kind}\"");
    server.stderr_until(|line| line.contains(&needle));
}

#[test]
fn signed_requests_with_the_published_key_pair_pass() {
    let server = start();
    let key = published_key();
    let token = ipk_token(&key);

    let get = signer(&server, "GET", &token)
        .sign_install(&key)
        .finish()
        .unwrap();
    assert_json(&send(&server, &get, b""), 200, HELLO);

    let post = signer(&server, "POST", &token)
        .header("Content-Type", "application/json")
        .body(BODY)
        .sign_install(&key)
        .finish()
        .unwrap();
    assert!(post.header("Content-Digest").is_some());
    assert_json(&send(&server, &post, BODY.as_bytes()), 200, HELLO);

    // The signature is bound to the method, the URI and the token.
    let mut as_put = post.clone();
    as_put.method = "PUT".into();
    assert_401(&send(&server, &as_put, BODY.as_bytes()));
    assert_logged(&server, "signature_invalid");

    let (_, stderr) = server.stop();
    assert!(!stderr.contains(&token), "the token was logged:\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_token_without_ipk_is_refused() {
    let server = start();
    let key = published_key();
    let token = TokenBuilder::approov_example()
        .sign_hs256_base64(SECRET)
        .unwrap();
    // Signed with the right key, but the token does not name it.
    let get = signer(&server, "GET", &token)
        .sign_install(&key)
        .finish()
        .unwrap();
    assert_401(&send(&server, &get, b""));
    assert_logged(&server, "signature_missing");
    // `/` does not ask for a signature: the same token passes there.
    let res = request_bytes(
        server.addr,
        "GET",
        "/",
        &[("Approov-Token", token.as_bytes())],
    );
    assert_json(&res, 200, HELLO);
}

#[test]
fn a_body_that_does_not_match_its_digest_is_refused() {
    let server = start();
    let key = published_key();
    let post = signer(&server, "POST", &ipk_token(&key))
        .body(BODY)
        .sign_install(&key)
        .finish()
        .unwrap();
    let other = BODY.replace("circle", "square");
    assert_401(&send(&server, &post, other.as_bytes()));
    assert_logged(&server, "digest_mismatch");
    // The same request with its own body still passes.
    assert_json(&send(&server, &post, BODY.as_bytes()), 200, HELLO);
}

#[test]
fn an_unsigned_request_is_refused() {
    let server = start();
    let key = published_key();
    let token = ipk_token(&key);
    let res = request_bytes(
        server.addr,
        "GET",
        "/message-signing",
        &[("Approov-Token", token.as_bytes())],
    );
    assert_401(&res);
    assert_logged(&server, "signature_missing");
    let unsigned_post = signer(&server, "POST", &token).body(BODY).finish().unwrap();
    assert_401(&send(&server, &unsigned_post, BODY.as_bytes()));
    // Without any token: the token is what is missing.
    assert_401(&request_bytes(server.addr, "GET", "/message-signing", &[]));
    assert_logged(&server, "missing");
}

#[test]
fn a_body_over_the_limit_is_413() {
    let server = start();
    let key = published_key();
    let post = signer(&server, "POST", &ipk_token(&key))
        .body(BODY)
        .sign_install(&key)
        .finish()
        .unwrap();
    // Announced by Content-Length (1 MiB + 1): refused before it is sent.
    let mut head = headers(&post);
    let length = (1024 * 1024 + 1).to_string();
    head.push(("Content-Length", length.as_bytes()));
    let res = request_bytes(server.addr, "POST", "/message-signing", &head);
    assert_json(&res, 413, "{}");
    // Sent whole: read up to the limit, then refused.
    let big = vec![b'x'; 1024 * 1024 + 1];
    assert_json(&send(&server, &post, &big), 413, "{}");
}
