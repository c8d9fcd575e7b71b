//! The `approov-token` CLI: every option, checked by verifying the minted
//! token with approov-core, and every error path (exit code 2, a message,
//! no panic).
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use approov_core::{ApproovClaims, RejectionKind, Verifier, binding_hash};
use common::{SECRET, command, run, run_with_input};
use serde_json::json;

const EXE: &str = env!("CARGO_BIN_EXE_approov-token");

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// Runs the CLI with `APPROOV_BASE64_SECRET=SECRET` and these arguments;
/// returns stdout.
fn mint(args: &[&str]) -> String {
    mint_with(&[], args)
}

/// [`mint`] with these variables set too.
fn mint_with(envs: &[(&str, &str)], args: &[&str]) -> String {
    let mut cmd = command(EXE);
    cmd.env("APPROOV_BASE64_SECRET", SECRET)
        .envs(envs.iter().copied())
        .args(args);
    let out = run(cmd);
    assert!(out.status.success(), "{args:?}: {out:?}");
    out.stdout
}

fn verify(token: &str) -> Result<ApproovClaims, approov_core::Rejection> {
    Verifier::builder()
        .secret_base64(SECRET)
        .build()
        .unwrap()
        .verify(token)
}

/// Asserts the CLI fails as a usage error: exit 2, a message, no panic.
fn fails(args: &[&str], envs: &[(&str, &str)], message: &str) -> String {
    fails_with_input(args, envs, None, message)
}

fn fails_with_input(
    args: &[&str],
    envs: &[(&str, &str)],
    input: Option<&str>,
    message: &str,
) -> String {
    let mut cmd = command(EXE);
    cmd.args(args).envs(envs.iter().copied());
    let out = run_with_input(cmd, input.map(str::as_bytes));
    assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
    assert!(out.stderr.contains(message), "{args:?}: {}", out.stderr);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    out.stderr
}

#[test]
fn default_token_is_valid_for_an_hour_with_example_claims() {
    let before = now().floor();
    let out = mint(&[]);
    let after = now().ceil();
    assert_eq!(out.lines().count(), 1, "{out:?}");
    let claims = verify(out.trim()).unwrap();
    assert!((before + 3600.0..=after + 3600.0).contains(&claims.exp()));
    assert_eq!(claims.ip(), Some("1.2.3.4"));
    assert_eq!(claims.did(), Some("ExampleApproovTokenDID=="));
    assert_eq!(claims.pay(), None);
}

#[test]
fn another_secret_does_not_verify_the_token() {
    let token = mint(&[]);
    let other = Verifier::builder()
        .secret_base64(&approov_core::mint::generate_secret_base64())
        .build()
        .unwrap();
    assert_eq!(
        other.verify(token.trim()).unwrap_err().kind(),
        RejectionKind::Signature
    );
}

#[test]
fn expires_in_sets_exp() {
    let before = now().floor();
    let claims = verify(mint(&["--expires-in", "60"]).trim()).unwrap();
    let after = now().ceil();
    assert!((before + 60.0..=after + 60.0).contains(&claims.exp()));
}

#[test]
fn expired_token_is_rejected_as_expired() {
    let token = mint(&["--expired"]);
    assert_eq!(
        verify(token.trim()).unwrap_err().kind(),
        RejectionKind::Expired
    );
}

#[test]
fn bind_values_are_hashed_in_order_into_pay() {
    let token = mint(&["--bind", "Bearer abc", "--bind", "device-1"]);
    let claims = verify(token.trim()).unwrap();
    assert_eq!(
        claims.pay(),
        Some(binding_hash(["Bearer abc", "device-1"]).as_str())
    );
    assert_ne!(
        claims.pay(),
        Some(binding_hash(["device-1", "Bearer abc"]).as_str())
    );
}

#[test]
fn claims_are_json_or_strings() {
    let token = mint(&[
        "--claim",
        r#"obj={"a":[1,true]}"#,
        "--claim",
        "num=5",
        "--claim",
        "word=hello world",
        "--claim",
        r#"quoted="5""#,
        "--claim",
        "eq=a=b",
        "--claim",
        "ip=9.9.9.9",
    ]);
    let claims = verify(token.trim()).unwrap();
    assert_eq!(claims.claim("obj"), Some(json!({"a": [1, true]})));
    assert_eq!(claims.claim("num"), Some(json!(5)));
    assert_eq!(claims.claim("word"), Some(json!("hello world")));
    assert_eq!(claims.claim("quoted"), Some(json!("5")));
    assert_eq!(claims.claim("eq"), Some(json!("a=b")));
    assert_eq!(
        claims.ip(),
        Some("9.9.9.9"),
        "--claim replaces example claims"
    );
}

#[test]
fn a_claim_of_the_wrong_type_makes_a_token_the_verifier_refuses() {
    let token = mint(&["--claim", "did=5"]);
    assert_eq!(
        verify(token.trim()).unwrap_err().kind(),
        RejectionKind::Claim
    );
}

#[test]
fn kid_is_put_in_the_header() {
    let token = mint(&["--kid", "key-1"]);
    let with_kid = |kid: &str| {
        Verifier::builder()
            .secret_base64_with_kid(kid, SECRET)
            .build()
            .unwrap()
            .verify(token.trim())
    };
    assert!(with_kid("key-1").is_ok());
    assert_eq!(
        with_kid("key-2").unwrap_err().kind(),
        RejectionKind::UnknownKey
    );
}

#[test]
fn secret_can_come_from_either_environment_variable() {
    for var in ["APPROOV_BASE64_SECRET", "APPROOV_BASE64URL_SECRET"] {
        let mut cmd = command(EXE);
        cmd.env(var, SECRET);
        let out = run(cmd);
        assert!(out.status.success(), "{var}: {out:?}");
        assert!(verify(out.stdout.trim()).is_ok(), "{var}");
    }
}

#[test]
fn secret_stdin_wins_over_the_environment() {
    let mut cmd = command(EXE);
    cmd.env("APPROOV_BASE64_SECRET", "b3RoZXItc2VjcmV0")
        .arg("--secret-stdin");
    // With the newline `echo` or a file leaves.
    let out = run_with_input(cmd, Some(format!("{SECRET}\n").as_bytes()));
    assert!(out.status.success(), "{out:?}");
    assert!(verify(out.stdout.trim()).is_ok(), "{out:?}");
}

#[test]
fn the_secret_is_never_a_command_line_argument() {
    // `ps` would show it to every user of the machine.
    let stderr = fails(&["--secret", SECRET], &[], "--secret");
    assert!(!stderr.contains(SECRET), "{stderr}");
}

#[test]
fn curl_prints_a_command_with_the_token_header() {
    let out = mint(&["--curl", "http://127.0.0.1:8080/"]);
    let line = out.trim();
    let token = line
        .strip_prefix("curl -i -H 'Approov-Token: ")
        .and_then(|rest| rest.strip_suffix("' http://127.0.0.1:8080/"))
        .unwrap_or_else(|| panic!("{line:?}"));
    assert!(verify(token).is_ok());
}

/// The words a POSIX shell makes of `line`'s arguments after `curl`.
fn shell_words(line: &str) -> Vec<String> {
    let args = line
        .strip_prefix("curl ")
        .unwrap_or_else(|| panic!("{line:?}"));
    let mut cmd = std::process::Command::new("sh");
    cmd.arg("-c").arg(format!("printf '%s\\0' {args}"));
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .split_terminator('\0')
        .map(str::to_owned)
        .collect()
}

#[test]
fn curl_quotes_the_header_and_scheme_from_the_environment_for_the_shell() {
    let dir = std::env::temp_dir().join(format!("approov-cli-quote-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let marker = dir.join("ran");
    let header = format!("X-Token\"$(touch {})\"", marker.display());
    let scheme = format!("Bearer`touch {}`'", marker.display());
    let url = "http://127.0.0.1:8080/?a=1&b=$(id)";
    let mut cmd = command(EXE);
    cmd.env("APPROOV_BASE64_SECRET", SECRET)
        .env("APPROOV_TOKEN_HEADER", &header)
        .env("APPROOV_TOKEN_SCHEME", &scheme)
        .args(["--curl", url]);
    let out = run(cmd);
    assert!(out.status.success(), "{out:?}");
    let words = shell_words(out.stdout.trim());
    assert!(!marker.exists(), "the printed line ran a command: {out:?}");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(words.len(), 4, "{words:?}");
    assert_eq!(words[..2], ["-i", "-H"], "{words:?}");
    assert_eq!(words[3], url);
    let token = words[2]
        .strip_prefix(&format!("{header}: {scheme} "))
        .unwrap_or_else(|| panic!("{words:?}"));
    assert!(verify(token).is_ok());
}

#[test]
fn curl_quotes_urls_for_the_shell() {
    let out = mint(&["--curl", "http://127.0.0.1:8080/?a=1&b=2"]);
    assert!(
        out.trim_end()
            .ends_with(" 'http://127.0.0.1:8080/?a=1&b=2'"),
        "{out}"
    );
}

/// Splits a printed curl line into its words as a POSIX shell would and
/// returns the `-H` values.
fn curl_headers(out: &str) -> Vec<String> {
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "one line, ready to paste: {out}");
    let words = shell_words(lines[0]);
    words
        .windows(2)
        .filter(|w| w[0] == "-H")
        .map(|w| w[1].clone())
        .collect()
}

#[test]
fn curl_with_bind_sends_the_bound_header_too() {
    let out = mint(&[
        "--bind",
        "Bearer it's me",
        "--curl",
        "http://127.0.0.1:8080/token-binding",
    ]);
    let headers = curl_headers(&out);
    assert_eq!(headers.len(), 2, "{out}");
    let token = headers[0].strip_prefix("Approov-Token: ").unwrap();
    let claims = verify(token).unwrap();
    assert_eq!(
        claims.pay(),
        Some(binding_hash(["Bearer it's me"]).as_str())
    );
    assert_eq!(headers[1], "Authorization: Bearer it's me");
    assert!(
        out.trim_end()
            .ends_with(" http://127.0.0.1:8080/token-binding"),
        "{out}"
    );
}

#[test]
fn curl_with_bind_names_the_headers_from_bind_header_or_the_environment() {
    let url = "http://127.0.0.1:8080/";
    let out = mint(&[
        "--bind",
        "Bearer s",
        "--bind-header",
        "Authorization",
        "--bind",
        "dev-1",
        "--bind-header",
        "X-Device",
        "--curl",
        url,
    ]);
    assert_eq!(
        curl_headers(&out)[1..],
        ["Authorization: Bearer s", "X-Device: dev-1"]
    );
    // The servers' variable names them when --bind-header does not.
    let env = [("APPROOV_TOKEN_BINDING_HEADER", "X-Session, X-Device")];
    let out = mint_with(&env, &["--bind", "s-1", "--bind", "dev-1", "--curl", url]);
    assert_eq!(
        curl_headers(&out)[1..],
        ["X-Session: s-1", "X-Device: dev-1"]
    );
}

#[test]
fn curl_with_bind_refuses_headers_it_cannot_pair_or_name() {
    let env = [("APPROOV_BASE64_SECRET", SECRET)];
    let url = "http://127.0.0.1:8080/";
    fails(
        &["--bind", "a", "--bind", "b", "--curl", url],
        &env,
        "--bind-header NAME",
    );
    fails(
        &[
            "--bind",
            "a",
            "--bind-header",
            "X-A",
            "--bind-header",
            "X-B",
            "--curl",
            url,
        ],
        &env,
        "--bind-header names 2 header(s) for 1 --bind value(s)",
    );
    fails(
        &["--bind", "a", "--bind-header", "X A", "--curl", url],
        &env,
        "is not a header name",
    );
    fails(&["--bind-header", "X-A"], &env, "--bind");
    let bad_var = [
        ("APPROOV_BASE64_SECRET", SECRET),
        ("APPROOV_TOKEN_BINDING_HEADER", "X-A,$(id)"),
    ];
    fails(
        &["--bind", "a", "--bind", "b", "--curl", url],
        &bad_var,
        "APPROOV_TOKEN_BINDING_HEADER names \"$(id)\", which is not a header name",
    );
}

#[test]
fn no_secret_is_a_usage_error() {
    fails(&[], &[], "APPROOV_BASE64_SECRET");
    fails(&[], &[], "--secret-stdin");
}

#[test]
fn bad_secret_is_a_usage_error_that_does_not_echo_it() {
    let stderr = fails(
        &[],
        &[("APPROOV_BASE64_SECRET", "not base64 at all!")],
        "APPROOV_BASE64_SECRET is not usable",
    );
    assert!(!stderr.contains("not base64 at all!"), "{stderr}");
    let stderr = fails_with_input(
        &["--secret-stdin"],
        &[],
        Some("not base64 at all!"),
        "standard input is not usable",
    );
    assert!(!stderr.contains("not base64 at all!"), "{stderr}");
    fails_with_input(&["--secret-stdin"], &[], Some(""), "empty");
    fails(&[], &[("APPROOV_BASE64_SECRET", "")], "empty");
}

#[test]
fn a_secret_shorter_than_32_bytes_is_refused_as_the_servers_do() {
    // 5 and 31 bytes: base64 of "short" and of 31 "a"s.
    let short = "c2hvcnQ=";
    let almost = "YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYQ==";
    for secret in [short, almost] {
        let stderr = fails(
            &[],
            &[("APPROOV_BASE64_SECRET", secret)],
            "APPROOV_BASE64_SECRET is not usable",
        );
        assert!(stderr.contains("at least 32 bytes"), "{stderr}");
        assert!(!stderr.contains(secret), "{stderr}");
    }
    let stderr = fails_with_input(
        &["--secret-stdin", "--curl", "http://127.0.0.1:8080/"],
        &[],
        Some(short),
        "standard input is not usable",
    );
    assert!(stderr.contains("5 bytes long"), "{stderr}");
}

#[test]
fn bad_arguments_are_usage_errors() {
    let env = [("APPROOV_BASE64_SECRET", SECRET)];
    fails(&["--claim", "novalue"], &env, "NAME=VALUE");
    fails(&["--claim", "=5"], &env, "empty claim name");
    fails(&["--expires-in", "soon"], &env, "--expires-in");
    fails(&["--expires-in", "0"], &env, "--expires-in");
    fails(
        &["--expired", "--expires-in", "5"],
        &env,
        "cannot be used with",
    );
    fails(&["--no-such-flag"], &env, "--no-such-flag");
    // A line break can never be sent in a header.
    fails(&["--bind", "a\nrm -rf ~"], &env, "control characters");
}

#[test]
fn help_exits_zero() {
    let mut cmd = command(EXE);
    cmd.arg("--help");
    let out = run(cmd);
    assert!(out.status.success(), "{out:?}");
    assert!(out.stdout.contains("--bind"));
}

// --- approov-token verify -----------------------------------------------------

/// Runs `approov-token verify` with `args`, the token on standard input,
/// and `APPROOV_BASE64_SECRET=SECRET` plus `envs`.
fn check(args: &[&str], token: &str, envs: &[(&str, &str)]) -> common::Finished {
    let mut cmd = command(EXE);
    cmd.env("APPROOV_BASE64_SECRET", SECRET)
        .envs(envs.iter().copied())
        .arg("verify")
        .args(args);
    let out = run_with_input(cmd, Some(token.as_bytes()));
    assert!(!out.stdout.contains(SECRET) && !out.stderr.contains(SECRET));
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    out
}

#[track_caller]
fn refused(out: &common::Finished, kind: &str) {
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(out.stdout.starts_with("refused\n"), "{out:?}");
    assert!(out.stdout.contains(&format!("kind: {kind}\n")), "{out:?}");
}

#[test]
fn verify_says_valid_and_exits_0() {
    let token = mint(&[]);
    let out = check(&[], &token, &[]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(out.stdout, "valid\n");
    // The token may come as an argument too (`-` is standard input).
    let mut cmd = command(EXE);
    cmd.env("APPROOV_BASE64_SECRET", SECRET)
        .args(["verify", token.trim()]);
    let out = run(cmd);
    assert_eq!(
        (out.status.code(), out.stdout.as_str()),
        (Some(0), "valid\n")
    );
    assert!(
        !out.stdout.contains(token.trim()),
        "the token is not echoed"
    );
}

#[test]
fn verify_names_the_kind_of_every_refusal_and_exits_1() {
    refused(&check(&[], &mint(&["--expired"]), &[]), "expired");
    refused(&check(&[], "garbage", &[]), "malformed");
    refused(&check(&[], "", &[]), "missing");
    let forged = {
        let mut cmd = command(EXE);
        cmd.env(
            "APPROOV_BASE64_SECRET",
            "b3RoZXIgc2VjcmV0IG9mIGF0IGxlYXN0IHRoaXJ0eS10d28gYnl0ZXMgbG9uZw==",
        );
        run(cmd).stdout
    };
    let out = check(&[], &forged, &[]);
    refused(&out, "signature");
    assert!(out.stdout.contains("reason: "), "{out:?}");
}

#[test]
fn verify_names_an_sdk_status_sent_in_place_of_a_token() {
    let out = check(&[], "NO_NETWORK", &[]);
    refused(&out, "sdk_status");
    assert!(out.stdout.contains("NO_NETWORK"), "{out:?}");
    // A word the SDK does not use is `other`, never repeated.
    let out = check(&[], "MADE_UP_WORD", &[]);
    refused(&out, "sdk_status");
    assert!(out.stdout.contains(" other "), "{out:?}");
    assert!(!out.stdout.contains("MADE_UP_WORD"), "{out:?}");
    refused(&check(&[], "no_network", &[]), "malformed");
}

#[test]
fn verify_names_keys_unavailable_when_the_jwks_url_gives_no_key() {
    let url = approov_conformance::fixtures::refused_jwks_url();
    let mut cmd = command(EXE);
    cmd.env("APPROOV_JWKS_URL", &url)
        .env("APPROOV_JWKS_START_WITHOUT_KEYS", "true")
        .arg("verify");
    let out = run_with_input(cmd, Some(mint(&[]).as_bytes()));
    refused(&out, "keys_unavailable");
}

#[test]
fn verify_prints_the_claims_on_request() {
    let out = check(&["--claims"], &mint(&["--claim", "tier=gold"]), &[]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        out.stdout.contains("\"did\": \"ExampleApproovTokenDID==\""),
        "{out:?}"
    );
    assert!(out.stdout.contains("\"tier\": \"gold\""), "{out:?}");
    // Refused tokens show no claims.
    let out = check(&["--claims"], &mint(&["--expired"]), &[]);
    assert!(!out.stdout.contains("claims"), "{out:?}");
}

#[test]
fn verify_checks_token_binding_with_headers() {
    let token = mint(&["--bind", "Bearer my-session"]);
    let ok = check(
        &["--header", "Authorization=Bearer my-session"],
        &token,
        &[],
    );
    assert_eq!(ok.status.code(), Some(0), "{ok:?}");
    assert!(
        ok.stdout.contains("binding: checked over Authorization"),
        "{ok:?}"
    );
    let other = check(&["--header", "Authorization=Bearer another"], &token, &[]);
    refused(&other, "binding");
    // The servers' binding variable names the headers; the values come from --header.
    let env = [("APPROOV_TOKEN_BINDING_HEADER", "Authorization")];
    refused(&check(&[], &token, &env), "binding_header");
    let ok = check(
        &["--header", "Authorization=Bearer my-session"],
        &token,
        &env,
    );
    assert_eq!(ok.status.code(), Some(0), "{ok:?}");
}

#[test]
fn verify_configuration_errors_exit_2() {
    let token = mint(&[]);
    fails_with_input(&["verify"], &[], Some(&token), "APPROOV_BASE64_SECRET");
    fails_with_input(
        &["verify"],
        &[
            ("APPROOV_BASE64_SECRET", SECRET),
            ("APPROOV_LEEWAY_SECONDS", "soon"),
        ],
        Some(&token),
        "APPROOV_LEEWAY_SECONDS",
    );
    fails_with_input(
        &["verify", "--header", "no-equals-sign"],
        &[("APPROOV_BASE64_SECRET", SECRET)],
        Some(&token),
        "NAME=VALUE",
    );
}
