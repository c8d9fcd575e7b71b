//! The three example servers, started as processes on 127.0.0.1:0 and
//! called over sockets: the same routes, status codes, bodies and headers
//! for each framework, the rejection reason logged (never the token), the
//! development-secret mode, and clean exits on bad configuration.
#![allow(clippy::unwrap_used)]

mod common;

use approov_core::Verifier;
use common::{Response, SECRET, Server, command, run};

const CLI: &str = env!("CARGO_BIN_EXE_approov-token");
const HELLO: &str = r#"{"message":"Hello, World!"}"#;
const HEALTH: &str = r#"{"status":"ok"}"#;

/// Mints a token for [`SECRET`] with the `approov-token` CLI.
fn mint(args: &[&str]) -> String {
    let mut cmd = command(CLI);
    cmd.env("APPROOV_BASE64_SECRET", SECRET).args(args);
    let out = run(cmd);
    assert!(out.status.success(), "{out:?}");
    out.stdout.trim().to_owned()
}

fn start(exe: &str) -> Server {
    Server::start(exe, &[("APPROOV_BASE64_SECRET", SECRET)])
}

fn assert_json(res: &Response, status: u16, body: &str) {
    assert_eq!(res.status, status, "{res:?}");
    assert_eq!(res.body, body, "{res:?}");
    assert_eq!(
        res.header("content-type"),
        Some("application/json"),
        "{res:?}"
    );
}

/// The adapters' shared rejection: 401, `{}`, JSON, `WWW-Authenticate: Approov`.
fn assert_401(res: &Response) {
    assert_json(res, 401, "{}");
    assert_eq!(res.header("www-authenticate"), Some("Approov"), "{res:?}");
}

/// Waits (bounded) for the server to log a rejection of this kind.
fn assert_logged(server: &Server, kind: &str) {
    let needle = format!("kind=\"{kind}\"");
    server.stderr_until(|line| line.contains(&needle));
}

/// Stops the server and checks its logs never held any of `tokens`.
fn assert_no_token_logged(server: Server, tokens: &[&str]) {
    let (_, stderr) = server.stop();
    for token in tokens {
        assert!(!stderr.contains(token), "a token was logged:\n{stderr}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
}

fn root_needs_a_genuine_token(exe: &str) {
    let server = start(exe);
    let valid = mint(&[]);
    let expired = mint(&["--expired"]);
    let forged = {
        let mut cmd = command(CLI);
        cmd.env(
            "APPROOV_BASE64_SECRET",
            "b3RoZXItc2VjcmV0LW5vdC10aGUtc2VydmVycy1rZXk=",
        );
        run(cmd).stdout.trim().to_owned()
    };

    let res = server.get("/", &[]);
    assert_401(&res);
    assert_logged(&server, "missing");

    assert_401(&server.get("/", &[("Approov-Token", &expired)]));
    assert_logged(&server, "expired");

    assert_401(&server.get("/", &[("Approov-Token", &forged)]));
    assert_logged(&server, "signature");

    assert_401(&server.get("/", &[("Approov-Token", "not.a.jwt")]));
    assert_logged(&server, "malformed");

    assert_401(&server.get("/", &[("Approov-Token", &valid), ("Approov-Token", &valid)]));
    assert_logged(&server, "multiple");

    assert_json(&server.get("/", &[("Approov-Token", &valid)]), 200, HELLO);
    assert_no_token_logged(server, &[&valid, &expired, &forged]);
}

fn token_binding_needs_the_matching_authorization(exe: &str) {
    let server = start(exe);
    let bound = mint(&["--bind", "Bearer alice-session"]);
    let unbound = mint(&[]);
    let alice = ("Authorization", "Bearer alice-session");

    assert_json(
        &server.get("/token-binding", &[("Approov-Token", &bound), alice]),
        200,
        HELLO,
    );

    let bob = ("Authorization", "Bearer bob-session");
    assert_401(&server.get("/token-binding", &[("Approov-Token", &bound), bob]));
    assert_logged(&server, "binding");

    assert_401(&server.get("/token-binding", &[("Approov-Token", &bound)]));
    assert_logged(&server, "binding_header");

    assert_401(&server.get("/token-binding", &[("Approov-Token", &unbound), alice]));
    assert_logged(&server, "binding_missing");

    assert_401(&server.get("/token-binding", &[alice]));
    assert_logged(&server, "missing");

    // `/` is not bound: any genuine token will do, bound or not.
    assert_json(&server.get("/", &[("Approov-Token", &bound)]), 200, HELLO);
    assert_json(&server.get("/", &[("Approov-Token", &unbound)]), 200, HELLO);
    assert_no_token_logged(server, &[&bound, &unbound]);
}

fn health_is_open(exe: &str) {
    let server = start(exe);
    assert_json(&server.get("/health", &[]), 200, HEALTH);
    assert_json(
        &server.get("/health", &[("Approov-Token", "junk")]),
        200,
        HEALTH,
    );
}

/// The whole app is protected: an unknown path, or anything but exactly
/// `/health`, needs a token before the router says 404.
fn unknown_paths_are_401_without_a_token_404_with_one(exe: &str) {
    let server = start(exe);
    let valid = mint(&[]);
    for path in ["/nope", "/health/more", "/token-binding/x"] {
        assert_401(&server.get(path, &[]));
        assert_eq!(
            server.get(path, &[("Approov-Token", &valid)]).status,
            404,
            "{path}"
        );
    }
    // Not exactly the open path, so checked, whatever the framework's
    // router makes of them then (warp takes `/health/` for `/health`,
    // actix-web decodes `/%68ealth`).
    for path in ["/health/", "/HEALTH", "//health", "/%68ealth", "/health%2F"] {
        assert_401(&server.get(path, &[]));
    }
}

fn wrong_method_on_a_protected_route_is_401_before_405(exe: &str) {
    let server = start(exe);
    let valid = mint(&[]);
    assert_401(&common::request(server.addr, "POST", "/", &[]));
    let res = common::request(server.addr, "POST", "/", &[("Approov-Token", &valid)]);
    assert_eq!(res.status, 405, "{res:?}");
}

fn development_secret_mode_prints_a_working_token(exe: &str) {
    let server = Server::start(exe, &[]);
    let banner = server.stderr_until(|line| line.starts_with("curl "));
    assert!(
        banner
            .iter()
            .any(|l| l.contains("DEVELOPMENT SECRET — do not use in production")),
        "{banner:#?}"
    );
    let secret = banner
        .iter()
        .find_map(|l| l.strip_prefix("APPROOV_BASE64_SECRET="))
        .unwrap_or_else(|| panic!("no secret line in {banner:#?}"));
    let curl = banner.last().unwrap();
    let (token, url) = curl
        .strip_prefix("curl -i -H \"Approov-Token: ")
        .and_then(|rest| rest.split_once("\" "))
        .unwrap_or_else(|| panic!("unexpected curl line {curl:?}"));
    assert_eq!(url, format!("http://{}/", server.addr));
    assert!(
        banner
            .iter()
            .any(|l| l.contains(token) && !l.starts_with("curl"))
    );

    // The printed secret is the server's, and the printed token is valid for it.
    let verifier = Verifier::builder().secret_base64(secret).build().unwrap();
    assert!(verifier.verify(token).is_ok());
    assert_json(&server.get("/", &[("Approov-Token", token)]), 200, HELLO);
    // Tokens for any other secret (here the tests' fixed one) are refused.
    assert_401(&server.get("/", &[("Approov-Token", &mint(&[]))]));
    assert_logged(&server, "signature");
}

fn no_banner_when_a_secret_is_set(exe: &str) {
    let server = start(exe);
    let (_, stderr) = server.stop();
    assert!(!stderr.contains("DEVELOPMENT SECRET"), "{stderr}");
}

fn url_safe_secret_variable_is_read(exe: &str) {
    let url_safe = SECRET.replace('+', "-").replace('/', "_");
    let server = Server::start(
        exe,
        &[("APPROOV_BASE64URL_SECRET", url_safe.trim_end_matches('='))],
    );
    assert_json(
        &server.get("/", &[("Approov-Token", &mint(&[]))]),
        200,
        HELLO,
    );
}

/// Starts `exe` with `envs` and expects exit code 2, one message naming
/// `names`, no `listening on` line and no panic.
fn fails_to_start(exe: &str, envs: &[(&str, &str)], names: &[&str]) -> String {
    let mut cmd = command(exe);
    cmd.env("LISTEN_ADDR", "127.0.0.1:0")
        .envs(envs.iter().copied());
    let out = run(cmd);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    for name in names {
        assert!(out.stderr.contains(name), "{name} not in {}", out.stderr);
    }
    out.stderr
}

fn bad_configuration_exits_2(exe: &str) {
    let stderr = fails_to_start(
        exe,
        &[("APPROOV_BASE64_SECRET", "not*base64!")],
        &["APPROOV_BASE64_SECRET is not usable"],
    );
    assert!(
        !stderr.contains("not*base64!"),
        "the secret was echoed: {stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");

    fails_to_start(
        exe,
        &[("APPROOV_BASE64_SECRET", "")],
        &["APPROOV_BASE64_SECRET", "empty"],
    );
    fails_to_start(
        exe,
        &[
            ("APPROOV_BASE64_SECRET", SECRET),
            ("APPROOV_BASE64URL_SECRET", SECRET),
        ],
        &["set only one"],
    );
    fails_to_start(
        exe,
        &[
            ("APPROOV_BASE64_SECRET", SECRET),
            ("APPROOV_LEEWAY_SECONDS", "soon"),
        ],
        &["APPROOV_LEEWAY_SECONDS"],
    );
    for addr in ["localhost", "127.0.0.1", "127.0.0.1:99999", ":8080"] {
        let stderr = fails_to_start(
            exe,
            &[("APPROOV_BASE64_SECRET", SECRET), ("LISTEN_ADDR", addr)],
            &["LISTEN_ADDR is not usable"],
        );
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
    // Bad configuration fails even without a secret (development mode).
    fails_to_start(exe, &[("LISTEN_ADDR", "nowhere")], &["LISTEN_ADDR"]);
}

fn port_in_use_exits_2(exe: &str) {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    fails_to_start(
        exe,
        &[("APPROOV_BASE64_SECRET", SECRET), ("LISTEN_ADDR", &addr)],
        &["cannot listen on", &addr, "LISTEN_ADDR"],
    );
}

macro_rules! server_tests {
    ($($module:ident => $bin:literal),* $(,)?) => {$(
        mod $module {
            const EXE: &str = env!(concat!("CARGO_BIN_EXE_", $bin));

            #[test]
            fn root_needs_a_genuine_token() {
                super::root_needs_a_genuine_token(EXE);
            }
            #[test]
            fn token_binding_needs_the_matching_authorization() {
                super::token_binding_needs_the_matching_authorization(EXE);
            }
            #[test]
            fn health_is_open() {
                super::health_is_open(EXE);
            }
            #[test]
            fn unknown_paths_are_401_without_a_token_404_with_one() {
                super::unknown_paths_are_401_without_a_token_404_with_one(EXE);
            }
            #[test]
            fn wrong_method_on_a_protected_route_is_401_before_405() {
                super::wrong_method_on_a_protected_route_is_401_before_405(EXE);
            }
            #[test]
            fn development_secret_mode_prints_a_working_token() {
                super::development_secret_mode_prints_a_working_token(EXE);
            }
            #[test]
            fn no_banner_when_a_secret_is_set() {
                super::no_banner_when_a_secret_is_set(EXE);
            }
            #[test]
            fn url_safe_secret_variable_is_read() {
                super::url_safe_secret_variable_is_read(EXE);
            }
            #[test]
            fn bad_configuration_exits_2() {
                super::bad_configuration_exits_2(EXE);
            }
            #[test]
            fn port_in_use_exits_2() {
                super::port_in_use_exits_2(EXE);
            }
        }
    )*};
}

server_tests! {
    axum_hello => "axum-hello",
    actix_hello => "actix-hello",
    warp_hello => "warp-hello",
}
