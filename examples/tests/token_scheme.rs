//! `Authorization: Bearer <token>` end to end: each example server started
//! with `APPROOV_TOKEN_HEADER=Authorization APPROOV_TOKEN_SCHEME=Bearer`
//! and called over 127.0.0.1 (the reason logged with its kind), the
//! start-up refusals, and `approov-token verify` / `--curl` following the
//! same variables.
#![allow(clippy::unwrap_used)]

mod common;

use common::{SECRET, SERVERS, Server, assert_logged, command, run, run_with_input};

const CLI: &str = env!("CARGO_BIN_EXE_approov-token");
const HELLO: &str = r#"{"message":"Hello, World!"}"#;
const BEARER_ENV: [(&str, &str); 3] = [
    ("APPROOV_BASE64_SECRET", SECRET),
    ("APPROOV_TOKEN_HEADER", "Authorization"),
    ("APPROOV_TOKEN_SCHEME", "Bearer"),
];

/// Mints a token for [`SECRET`] with the `approov-token` CLI.
fn mint(args: &[&str]) -> String {
    let mut cmd = command(CLI);
    cmd.env("APPROOV_BASE64_SECRET", SECRET).args(args);
    let out = run(cmd);
    assert!(out.status.success(), "{out:?}");
    out.stdout.trim().to_owned()
}

#[test]
fn every_server_reads_bearer_tokens_from_authorization() {
    let token = mint(&[]);
    let bearer = format!("Bearer {token}");
    let lower = format!("bearer {token}");
    let two_spaces = format!("Bearer  {token}");
    for exe in SERVERS {
        let server = Server::start(exe, &BEARER_ENV);
        for value in [&bearer, &lower] {
            let res = server.get("/", &[("Authorization", value)]);
            assert_eq!((res.status, res.body.as_str()), (200, HELLO), "{exe}");
        }
        for (headers, kind) in [
            (vec![("Authorization", "Basic x")], "scheme"),
            (vec![("Authorization", "Bearer")], "missing"),
            (vec![("Authorization", two_spaces.as_str())], "scheme"),
            (vec![("Authorization", "Bearer a b")], "scheme"),
            (vec![], "missing"),
            (vec![("Approov-Token", token.as_str())], "missing"),
        ] {
            let res = server.get("/", &headers);
            assert_eq!(
                (res.status, res.body.as_str()),
                (401, "{}"),
                "{exe}: {headers:?}"
            );
            assert_eq!(res.header("www-authenticate"), Some("Approov"));
            assert_logged(&server, kind);
        }
        // `/token-binding` binds to Authorization, the token's own header:
        // it refuses every request (here the token has no `pay`).
        let res = server.get("/token-binding", &[("Authorization", &bearer)]);
        assert_eq!(res.status, 401, "{exe}");
        assert_logged(&server, "binding_missing");
        let (_, stderr) = server.stop();
        assert!(!stderr.contains(&token), "{exe}: the token was logged");
    }
}

#[test]
fn a_scheme_without_a_header_or_a_binding_over_the_token_header_stops_start_up() {
    let exe = SERVERS[0];
    for (extra, names) in [
        (
            vec![("APPROOV_TOKEN_SCHEME", "Bearer")],
            vec!["APPROOV_TOKEN_SCHEME", "APPROOV_TOKEN_HEADER"],
        ),
        (
            vec![
                ("APPROOV_TOKEN_HEADER", "Authorization"),
                ("APPROOV_TOKEN_SCHEME", "Bear er"),
            ],
            vec!["APPROOV_TOKEN_SCHEME"],
        ),
        (
            vec![
                ("APPROOV_TOKEN_HEADER", "Authorization"),
                ("APPROOV_TOKEN_SCHEME", "Bearer"),
                ("APPROOV_TOKEN_BINDING_HEADER", "Authorization"),
            ],
            vec!["APPROOV_TOKEN_BINDING_HEADER"],
        ),
    ] {
        let mut cmd = command(exe);
        cmd.env("LISTEN_ADDR", "127.0.0.1:0")
            .env("APPROOV_BASE64_SECRET", SECRET)
            .envs(extra.iter().copied());
        let out = run(cmd);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {out:?}");
        assert!(out.stdout.is_empty(), "{out:?}");
        assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
        for name in names {
            assert!(out.stderr.contains(name), "{name} not in {}", out.stderr);
        }
    }
}

#[test]
fn approov_token_verify_follows_the_scheme() {
    let token = mint(&[]);
    let verify = |input: &str, envs: &[(&str, &str)]| {
        let mut cmd = command(CLI);
        cmd.envs(envs.iter().copied()).arg("verify");
        run_with_input(cmd, Some(input.as_bytes()))
    };
    // The bare token, or pasted with its scheme.
    for input in [
        token.clone(),
        format!("Bearer {token}"),
        format!("bearer {token}"),
    ] {
        let out = verify(&input, &BEARER_ENV);
        assert_eq!(
            (out.status.code(), out.stdout.as_str()),
            (Some(0), "valid\n"),
            "{out:?}"
        );
    }
    let out = verify(&format!("Basic {token}"), &BEARER_ENV);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(out.stdout.contains("kind: scheme\n"), "{out:?}");
    // Without the header variable the scheme is a configuration error.
    let out = verify(
        &token,
        &[
            ("APPROOV_BASE64_SECRET", SECRET),
            ("APPROOV_TOKEN_SCHEME", "Bearer"),
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(out.stderr.contains("APPROOV_TOKEN_SCHEME"), "{out:?}");
}

#[test]
fn curl_sends_the_token_where_the_servers_read_it() {
    let mut cmd = command(CLI);
    cmd.envs(BEARER_ENV)
        .args(["--curl", "http://127.0.0.1:8080/"]);
    let out = run(cmd);
    assert!(out.status.success(), "{out:?}");
    let line = out.stdout.trim();
    let token = line
        .strip_prefix("curl -i -H 'Authorization: Bearer ")
        .and_then(|rest| rest.strip_suffix("' http://127.0.0.1:8080/"))
        .unwrap_or_else(|| panic!("{line:?}"));
    // The same token, accepted by a server configured the same way.
    let server = Server::start(SERVERS[0], &BEARER_ENV);
    let res = server.get("/", &[("Authorization", &format!("Bearer {token}"))]);
    assert_eq!((res.status, res.body.as_str()), (200, HELLO));
}
