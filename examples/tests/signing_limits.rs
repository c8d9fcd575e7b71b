//! Bounded work per request, over a socket, on every example server: a
//! genuine token with `ipk` and a `Signature-Input` naming 3,000 components
//! (the amplification attack of a client holding the real app) is refused
//! with 401 and logged as `signature_limit`, before any signature base is
//! built; a POST whose body the signature does not cover is refused too.
#![allow(clippy::unwrap_used)]

mod common;

use approov_core::mint::{InstallKey, RequestSigner, TokenBuilder};
use common::{SECRET, SERVERS, Server, assert_logged, request_bytes, request_with_body};

fn token(key: &InstallKey) -> String {
    TokenBuilder::approov_example()
        .expires_in(300)
        .claim("ipk", key.ipk())
        .sign_hs256_base64(SECRET)
        .unwrap()
}

#[test]
fn three_thousand_components_are_refused_as_a_limit_on_every_server() {
    let key = InstallKey::generate().unwrap();
    for exe in SERVERS {
        let server = Server::start(exe, &[("APPROOV_BASE64_SECRET", SECRET)]);
        let query: Vec<String> = (0..3000).map(|i| format!("a{i}=1")).collect();
        let path = format!("/message-signing?{}", query.join("&"));
        let names: Vec<String> = (0..3000)
            .map(|i| format!(r#""@query-param";name="a{i}""#))
            .collect();
        let created = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let input = format!(
            r#"install=("@method" "@target-uri" "approov-token" {});created={created}"#,
            names.join(" ")
        );
        let signature = format!("install=:{}:", "A".repeat(88));
        let token = token(&key);
        let res = request_bytes(
            server.addr,
            "GET",
            &path,
            &[
                ("Approov-Token", token.as_bytes()),
                ("Signature-Input", input.as_bytes()),
                ("Signature", signature.as_bytes()),
            ],
        );
        assert_eq!(res.status, 401, "{exe}: {res:?}");
        assert_eq!(res.body, "{}", "{exe}");
        assert_logged(&server, "signature_limit");
    }
}

#[test]
fn a_body_the_signature_does_not_cover_is_refused_on_every_server() {
    let key = InstallKey::generate().unwrap();
    for exe in SERVERS {
        let server = Server::start(exe, &[("APPROOV_BASE64_SECRET", SECRET)]);
        let body = br#"{"shape":"circle"}"#;
        let signed = RequestSigner::new("POST", &format!("http://{}/message-signing", server.addr))
            .unwrap()
            .header("Approov-Token", &token(&key))
            .content_digest(None)
            .body(body.to_vec())
            .covering(["@method", "@target-uri", "approov-token"])
            .sign_install(&key)
            .finish()
            .unwrap();
        let headers: Vec<(&str, &[u8])> = signed
            .headers
            .iter()
            .filter(|(n, _)| !n.eq_ignore_ascii_case("host"))
            .map(|(n, v)| (n.as_str(), v.as_bytes()))
            .collect();
        let res = request_with_body(server.addr, "POST", "/message-signing", &headers, body);
        assert_eq!(res.status, 401, "{exe}: {res:?}");
        assert_logged(&server, "signature_invalid");
    }
}
