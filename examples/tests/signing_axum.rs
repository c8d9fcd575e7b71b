//! `axum-hello`'s `/message-signing` routes, started as a process on
//! 127.0.0.1:0 and called over a socket: requests signed with the key pair
//! Approov publishes, under tokens carrying its `ipk` minted with the
//! server's secret, pass (GET, and POST with a body and `Content-Digest`);
//! a token without `ipk`, a digest mismatch, an unsigned request and an
//! oversized body do not, each with its reason logged and no token logged.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;

use approov_core::Secret;
use approov_core::mint::{InstallKey, RequestSigner, SignedRequest, TokenBuilder};
use common::{Response, SECRET, Server, request_bytes, request_with_body};
use serde_json::Value;

const EXE: &str = env!("CARGO_BIN_EXE_axum-hello");
const PATH: &str = "/message-signing";
const HELLO: &str = r#"{"message":"Hello, World!"}"#;
const BODY: &str = r#"{"shape":"circle","colour":"red"}"#;

/// The P-256 key pair published in Approov's quickstarts
/// (`approov_core::mint::PUBLISHED_VECTORS`).
fn published_key() -> InstallKey {
    let text = approov_core::mint::PUBLISHED_VECTORS;
    let vectors: Value = serde_json::from_str(text).unwrap();
    let sec1 = vectors["ipk_key_pair"]["private_sec1_der_base64"]
        .as_str()
        .unwrap();
    // `Secret` decodes standard base64; the key is test data, not a secret.
    let der = Secret::from_base64(sec1, "private_sec1_der_base64").unwrap();
    InstallKey::from_sec1_der(der.expose()).unwrap()
}

/// A token for the server's secret, valid for five minutes, with `ipk`
/// when a key is given.
fn token(ipk: Option<&InstallKey>) -> String {
    let mut builder = TokenBuilder::approov_example().expires_in(300);
    if let Some(key) = ipk {
        builder = builder.claim("ipk", key.ipk());
    }
    builder.sign_hs256_base64(SECRET).unwrap()
}

/// A request to the server's `/message-signing` with `token`, to be signed
/// (`created` is now). The socket address is the authority: the test
/// client sends it as `Host`.
fn signer(server: &Server, method: &str, token: &str) -> RequestSigner {
    RequestSigner::new(method, &format!("http://{}{PATH}", server.addr))
        .unwrap()
        .header("Approov-Token", token)
}

/// Sends `signed` (its headers but `Host`, which the client adds) with
/// `body`, and reads the whole response.
fn send(addr: SocketAddr, signed: &SignedRequest, body: &[u8]) -> Response {
    let headers: Vec<(&str, &[u8])> = signed
        .headers
        .iter()
        .filter(|(name, _)| !name.eq_ignore_ascii_case("host"))
        .map(|(name, value)| (name.as_str(), value.as_bytes()))
        .collect();
    if signed.method == "GET" && body.is_empty() {
        return request_bytes(addr, "GET", &signed.path_and_query, &headers);
    }
    let res = request_with_body(addr, "POST", &signed.path_and_query, &headers, body);
    // These small answers come with `Content-Length`, never chunked.
    assert!(res.header("transfer-encoding").is_none(), "{res:?}");
    res
}

#[track_caller]
fn assert_hello(res: &Response) {
    assert_eq!((res.status, res.body.as_str()), (200, HELLO), "{res:?}");
    assert_eq!(res.header("content-type"), Some("application/json"));
}

/// 401 `{}`, and the server logged this rejection kind.
#[track_caller]
fn assert_rejected(server: &Server, res: &Response, kind: &str) {
    assert_eq!(
        (res.status, res.body.as_str()),
        (401, "{}"),
        "{kind}: {res:?}"
    );
    assert_eq!(res.header("www-authenticate"), Some("Approov"));
    let needle = format!("kind=\"{kind}\"");
    server.stderr_until(|line| line.contains(&needle));
}

#[test]
fn message_signing_routes_need_a_signature_by_the_tokens_installation_key() {
    let server = Server::start(EXE, &[("APPROOV_BASE64_SECRET", SECRET)]);
    let key = published_key();
    let with_ipk = token(Some(&key));
    let without_ipk = token(None);

    // GET, signed.
    let get = signer(&server, "GET", &with_ipk)
        .sign_install(&key)
        .finish()
        .unwrap();
    assert_hello(&send(server.addr, &get, b""));

    // POST with a body and its Content-Digest, signed over both.
    let post = signer(&server, "POST", &with_ipk)
        .header("Content-Type", "application/json")
        .body(BODY)
        .sign_install(&key)
        .finish()
        .unwrap();
    assert!(
        post.header("Content-Digest")
            .unwrap()
            .starts_with("sha-256=:")
    );
    assert_hello(&send(server.addr, &post, BODY.as_bytes()));

    // A token without `ipk`: refused on this route, signed or not...
    let no_ipk = signer(&server, "GET", &without_ipk)
        .sign_install(&key)
        .finish()
        .unwrap();
    assert_rejected(
        &server,
        &send(server.addr, &no_ipk, b""),
        "signature_missing",
    );
    // ... while `/` takes it.
    let res = server.get("/", &[("Approov-Token", &without_ipk)]);
    assert_eq!((res.status, res.body.as_str()), (200, HELLO), "{res:?}");

    // The signed POST with another body of the same length.
    let other = BODY.replace("red", "tan");
    assert_rejected(
        &server,
        &send(server.addr, &post, other.as_bytes()),
        "digest_mismatch",
    );

    // Not signed at all.
    let unsigned = signer(&server, "GET", &with_ipk).finish().unwrap();
    assert_rejected(
        &server,
        &send(server.addr, &unsigned, b""),
        "signature_missing",
    );

    // The signed GET sent to `/message-signing?x=1`: another target URI.
    let mut moved = get.clone();
    moved.path_and_query = format!("{PATH}?x=1");
    assert_rejected(
        &server,
        &send(server.addr, &moved, b""),
        "signature_invalid",
    );

    let (_, stderr) = server.stop();
    for token in [&with_ipk, &without_ipk] {
        assert!(
            !stderr.contains(token.as_str()),
            "a token was logged:\n{stderr}"
        );
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_body_over_the_limit_is_refused_with_413_before_it_is_read() {
    let server = Server::start(EXE, &[("APPROOV_BASE64_SECRET", SECRET)]);
    let key = published_key();
    let post = signer(&server, "POST", &token(Some(&key)))
        .body(BODY)
        .sign_install(&key)
        .finish()
        .unwrap();
    // Announce 2 MiB (over the 1 MiB default) and send none of it: the
    // server must answer from the header alone.
    let headers: Vec<(&str, &[u8])> = post
        .headers
        .iter()
        .filter(|(name, _)| !name.eq_ignore_ascii_case("host"))
        .map(|(name, value)| (name.as_str(), value.as_bytes()))
        .chain([("Content-Length", b"2097152".as_slice())])
        .collect();
    let res = request_bytes(server.addr, "POST", PATH, &headers);
    assert_eq!((res.status, res.body.as_str()), (413, "{}"), "{res:?}");
    assert_eq!(res.header("content-type"), Some("application/json"));
}
