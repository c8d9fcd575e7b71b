//! The body comes last, over a socket, on every example server: a POST to
//! `/message-signing` with a `Content-Digest` that announces 900,000 bytes
//! and sends 1 KB is answered 401 at once when it has no token or a bad
//! signature (the body is never waited for); a signed one whose body
//! stalls is answered 408 once `BODY_READ_TIMEOUT_SECONDS` pass; one that
//! announces more than the limit is answered 413 before its body, and one
//! whose chunked body is malformed 400. Each refusal is logged by the core
//! with its kind (`missing`, `signature_invalid`, `body_timeout`,
//! `body_too_large`, `body_unreadable`).
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use approov_core::mint::{InstallKey, RequestSigner, SignedRequest, TokenBuilder};
use common::{SECRET, SERVERS, Server, assert_logged, partial_request};

fn signed(server: &Server, key: &InstallKey, body: &[u8]) -> SignedRequest {
    let token = TokenBuilder::approov_example()
        .expires_in(300)
        .claim("ipk", key.ipk())
        .sign_hs256_base64(SECRET)
        .unwrap();
    RequestSigner::new("POST", &format!("http://{}/message-signing", server.addr))
        .unwrap()
        .header("Approov-Token", &token)
        .body(body.to_vec())
        .sign_install(key)
        .finish()
        .unwrap()
}

/// The headers to send: all but `Host`, which the helper writes.
fn headers(request: &SignedRequest) -> Vec<(&str, &[u8])> {
    request
        .headers
        .iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case("host"))
        .map(|(n, v)| (n.as_str(), v.as_bytes()))
        .collect()
}

#[test]
fn a_refused_request_is_answered_without_waiting_for_its_body() {
    let key = InstallKey::generate().unwrap();
    let body = vec![b'x'; 900_000];
    for exe in SERVERS {
        let server = Server::start(exe, &[("APPROOV_BASE64_SECRET", SECRET)]);
        let request = signed(&server, &key, &body);

        let mut no_token = request.clone();
        no_token.headers.retain(|(n, _)| n != "Approov-Token");
        let answer = partial_request(
            server.addr,
            "/message-signing",
            &headers(&no_token),
            body.len(),
            &body[..1024],
            Duration::from_secs(5),
        );
        let answer = answer.unwrap_or_else(|| panic!("{exe}: no answer before the body"));
        assert_eq!((answer.status, answer.body.as_str()), (401, "{}"), "{exe}");
        assert_logged(&server, "missing");

        let mut forged = request;
        forged.set_header("Signature", &format!("install=:{}:", "A".repeat(88)));
        let answer = partial_request(
            server.addr,
            "/message-signing",
            &headers(&forged),
            body.len(),
            &body[..1024],
            Duration::from_secs(5),
        );
        let answer = answer.unwrap_or_else(|| panic!("{exe}: no answer before the body"));
        assert_eq!((answer.status, answer.body.as_str()), (401, "{}"), "{exe}");
        assert_logged(&server, "signature_invalid");
    }
}

#[test]
fn a_stalled_body_gets_408_and_an_announced_oversize_413() {
    let key = InstallKey::generate().unwrap();
    for exe in SERVERS {
        let server = Server::start(
            exe,
            &[
                ("APPROOV_BASE64_SECRET", SECRET),
                ("BODY_READ_TIMEOUT_SECONDS", "1"),
            ],
        );
        // Genuine and correctly signed; half the body, then nothing.
        let body = vec![b'x'; 4096];
        let request = signed(&server, &key, &body);
        let answer = partial_request(
            server.addr,
            "/message-signing",
            &headers(&request),
            body.len(),
            &body[..2048],
            Duration::from_secs(15),
        );
        let answer = answer.unwrap_or_else(|| panic!("{exe}: no answer after the deadline"));
        assert_eq!((answer.status, answer.body.as_str()), (408, "{}"), "{exe}");
        assert_logged(&server, "body_timeout");

        // More than the 1 MiB limit announced: refused before the body.
        let big = vec![b'x'; 1024 * 1024 + 1];
        let request = signed(&server, &key, &big);
        let answer = partial_request(
            server.addr,
            "/message-signing",
            &headers(&request),
            big.len(),
            b"",
            Duration::from_secs(5),
        );
        let answer = answer.unwrap_or_else(|| panic!("{exe}: no answer before the body"));
        assert_eq!((answer.status, answer.body.as_str()), (413, "{}"), "{exe}");
        assert_logged(&server, "body_too_large");
    }
}

#[test]
fn a_body_that_cannot_be_read_gets_400() {
    let key = InstallKey::generate().unwrap();
    for exe in SERVERS {
        let server = Server::start(exe, &[("APPROOV_BASE64_SECRET", SECRET)]);
        let body = vec![b'x'; 64];
        let request = signed(&server, &key, &body);
        // Chunked, and the second chunk's size line is not hexadecimal.
        let mut raw = format!(
            "POST /message-signing HTTP/1.1\r\nHost: {}\r\n",
            server.addr
        );
        for (name, value) in headers(&request) {
            raw.push_str(&format!("{name}: {}\r\n", String::from_utf8_lossy(value)));
        }
        raw.push_str("Transfer-Encoding: chunked\r\n\r\n10\r\nxxxxxxxxxxxxxxxx\r\nzz\r\n");
        let answer = common::raw_exchange(server.addr, raw.as_bytes(), Duration::from_secs(5));
        let answer = answer.unwrap_or_else(|| panic!("{exe}: no answer"));
        assert_eq!(answer.status, 400, "{exe}: {answer:?}");
        assert_logged(&server, "body_unreadable");
    }
}
