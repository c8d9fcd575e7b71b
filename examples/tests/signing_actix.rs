//! `actix-hello`'s `/message-signing` routes over a socket: requests signed
//! with the key pair published in Approov's quickstarts and a token minted
//! with the server's secret carrying its `ipk` pass (GET, and POST with a
//! body and its `Content-Digest`); a token without `ipk`, a body that does
//! not match its digest, and an unsigned request get the 401, each with its
//! reason in the server's log.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;

use approov_core::Secret;
use approov_core::mint::{InstallKey, RequestSigner, SignedRequest, TokenBuilder};
use common::{Response, SECRET, Server, request_bytes, request_with_body};
use serde_json::Value;

const EXE: &str = env!("CARGO_BIN_EXE_actix-hello");
const HELLO: &str = r#"{"message":"Hello, World!"}"#;
const PATH: &str = "/message-signing";

/// The key pair published in Approov's quickstarts.
fn published_key() -> InstallKey {
    let text = approov_core::mint::PUBLISHED_VECTORS;
    let vectors: Value = serde_json::from_str(text).unwrap();
    let sec1 = vectors["ipk_key_pair"]["private_sec1_der_base64"]
        .as_str()
        .unwrap();
    // The core's base64 reader (standard alphabet, padded) spares this
    // crate a base64 dependency for one test.
    let der = Secret::from_base64(sec1, "private_sec1_der_base64").unwrap();
    let key = InstallKey::from_sec1_der(der.expose()).unwrap();
    assert_eq!(
        Some(key.ipk().as_str()),
        vectors["ipk_key_pair"]["public_spki_der_base64"].as_str()
    );
    key
}

/// A valid token for the server's secret, carrying `key`'s `ipk`.
fn ipk_token(key: &InstallKey) -> String {
    TokenBuilder::approov_example()
        .claim("ipk", key.ipk())
        .sign_hs256_base64(SECRET)
        .unwrap()
}

/// A request to the server's `/message-signing` with `token`, signed for
/// the authority the test client sends as `Host` (the server's address).
fn signer(addr: SocketAddr, method: &str, token: &str) -> RequestSigner {
    RequestSigner::new(method, &format!("http://{addr}{PATH}"))
        .unwrap()
        .header("Approov-Token", token)
}

/// The request's header lines, without `Host` (the client sends its own).
fn header_lines(req: &SignedRequest) -> Vec<(&str, &[u8])> {
    req.headers
        .iter()
        .filter(|(name, _)| !name.eq_ignore_ascii_case("host"))
        .map(|(name, value)| (name.as_str(), value.as_bytes()))
        .collect()
}

/// `GET` of a signed request, through the shared client.
fn get(addr: SocketAddr, req: &SignedRequest) -> Response {
    assert_eq!(req.method, "GET");
    request_bytes(addr, "GET", &req.path_and_query, &header_lines(req))
}

/// `POST` of a signed request's headers with `body`.
fn post(addr: SocketAddr, req: &SignedRequest, body: &[u8]) -> Response {
    request_with_body(addr, "POST", &req.path_and_query, &header_lines(req), body)
}

/// Waits (bounded) for the server to log a rejection of this kind.
fn assert_logged(server: &Server, kind: &str) {
    let needle = format!("kind=\"{kind}\"");
    server.stderr_until(|line| line.contains(&needle));
}

fn assert_hello(res: &Response) {
    assert_eq!((res.status, res.body.as_str()), (200, HELLO), "{res:?}");
    assert_eq!(res.header("content-type"), Some("application/json"));
}

fn assert_401(res: &Response) {
    assert_eq!((res.status, res.body.as_str()), (401, "{}"), "{res:?}");
    assert_eq!(res.header("content-type"), Some("application/json"));
    assert_eq!(res.header("www-authenticate"), Some("Approov"));
}

#[test]
fn message_signing_routes_need_the_installation_signature() {
    let server = Server::start(EXE, &[("APPROOV_BASE64_SECRET", SECRET)]);
    let addr = server.addr;
    let key = published_key();
    let token = ipk_token(&key);

    // Signed GET: 200.
    let req = signer(addr, "GET", &token)
        .sign_install(&key)
        .finish()
        .unwrap();
    assert_hello(&get(addr, &req));

    // Signed POST with a body and its Content-Digest: 200.
    let body = br#"{"shape":"circle","sides":0}"#;
    let req = signer(addr, "POST", &token)
        .header("Content-Type", "application/json")
        .body(body.as_slice())
        .sign_install(&key)
        .finish()
        .unwrap();
    assert!(
        req.header("Content-Digest")
            .unwrap()
            .starts_with("sha-256=:")
    );
    let res = post(addr, &req, body);
    assert_eq!((res.status, res.body.as_str()), (200, HELLO), "{res:?}");
    assert_eq!(
        res.header("content-type"),
        Some("application/json"),
        "{res:?}"
    );

    // The same signed request with another body of the same length.
    let res = post(addr, &req, br#"{"shape":"square","sides":4}"#);
    assert_eq!((res.status, res.body.as_str()), (401, "{}"), "{res:?}");
    assert!(
        res.header("www-authenticate")
            .is_some_and(|v| v.to_ascii_lowercase().starts_with("approov")),
        "{res:?}"
    );
    assert_logged(&server, "digest_mismatch");

    // A token without ipk, even with a signature: the route requires one
    // from the installation the token names.
    let plain = TokenBuilder::approov_example()
        .sign_hs256_base64(SECRET)
        .unwrap();
    let req = signer(addr, "GET", &plain)
        .sign_install(&key)
        .finish()
        .unwrap();
    assert_401(&get(addr, &req));
    assert_logged(&server, "signature_missing");

    // The ipk token without a signature.
    let req = signer(addr, "GET", &token).finish().unwrap();
    assert_eq!(req.header("Signature"), None);
    assert_401(&get(addr, &req));
    assert_logged(&server, "signature_missing");

    // A signature for another path.
    let mut req = signer(addr, "GET", &token)
        .sign_install(&key)
        .finish()
        .unwrap();
    req.path_and_query = format!("{PATH}?page=2");
    assert_401(&get(addr, &req));
    assert_logged(&server, "signature_invalid");

    let (_, stderr) = server.stop();
    assert!(!stderr.contains(&token), "a token was logged:\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
