//! The installed command: `--help` lists every setting of the README's
//! tables in the same groups (and no other), `--version`, unknown
//! arguments, and `approov-proxy check`: exit 0 with a summary holding no
//! secret, or exit 2 with start-up's one line naming the setting; it binds
//! nothing and calls nothing.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::PathBuf;

use common::upstream::PROXY;
use common::{Finished, SECRET, command, run};

const KEY: &str = "cli-KEY-never-printed";

fn proxy(args: &[&str], envs: &[(&str, &str)]) -> Finished {
    let mut cmd = command(PROXY);
    cmd.args(args).envs(envs.iter().copied());
    run(cmd)
}

/// `(group, setting)` pairs of the README's settings tables: the `###`
/// headings of its `## Configuration` section, and the upper-case names
/// in backticks in each row's first cell.
fn readme_settings() -> BTreeMap<String, String> {
    let readme = include_str!("../README.md");
    let section = readme
        .split("\n## Configuration\n")
        .nth(1)
        .unwrap()
        .split("\n## ")
        .next()
        .unwrap();
    let mut out = BTreeMap::new();
    let mut group = String::new();
    for line in section.lines() {
        if let Some(title) = line.strip_prefix("### ") {
            group = title.trim().to_owned();
        } else if let Some(row) = line.strip_prefix("| `") {
            let first = row.split(" |").next().unwrap();
            for name in first.split('`').filter(|n| is_setting_name(n)) {
                let before = out.insert(name.to_owned(), group.clone());
                assert_eq!(before, None, "{name} is twice in the README");
            }
        }
    }
    out
}

fn is_setting_name(text: &str) -> bool {
    text.len() > 2
        && text.starts_with(|c: char| c.is_ascii_uppercase())
        && text
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// `(group, setting)` pairs of `--help`'s settings part: a line ending in
/// `:` starts a group, an indented upper-case name is a setting.
fn help_settings(help: &str) -> BTreeMap<String, String> {
    let settings = help
        .split("Settings (environment variables")
        .nth(1)
        .unwrap();
    let mut out = BTreeMap::new();
    let mut group = String::new();
    for line in settings.lines().skip(1) {
        if let Some(rest) = line.strip_prefix("  ") {
            let name = rest.split_whitespace().next().unwrap();
            assert!(is_setting_name(name), "{line:?}");
            assert_eq!(out.insert(name.to_owned(), group.clone()), None, "{name}");
        } else if let Some(title) = line.strip_suffix(':') {
            group = title.to_owned();
        }
    }
    out
}

#[test]
fn help_lists_every_setting_of_the_readme_in_its_group() {
    let out = proxy(&["--help"], &[]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(out.stderr.is_empty(), "{out:?}");
    assert!(
        out.stdout.contains("Usage: approov-proxy [COMMAND]"),
        "{out:?}"
    );
    assert!(out.stdout.contains("\n  check "), "{out:?}");
    let help = help_settings(&out.stdout);
    let readme = readme_settings();
    assert!(readme.len() > 40, "{readme:?}");
    for (name, group) in &readme {
        assert_eq!(help.get(name), Some(group), "{name}: README vs --help");
    }
    for (name, group) in &help {
        assert_eq!(readme.get(name), Some(group), "{name}: --help vs README");
    }
    // One line each, with the default where there is one.
    let line = |name: &str| {
        out.stdout
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{name} ")))
            .unwrap()
            .to_owned()
    };
    assert!(line("UPSTREAM_TIMEOUT_SECONDS").ends_with("[default: 30]"));
    assert!(line("LISTEN_ADDR").ends_with("[default: 127.0.0.1:8080]"));
    assert!(!line("UPSTREAM_URL").contains("[default"));
    assert_eq!(proxy(&["-h"], &[]).stdout, out.stdout);
}

#[test]
fn help_and_version_need_no_configuration() {
    let out = proxy(&["--version"], &[]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        out.stdout.trim_end(),
        format!("approov-proxy {}", env!("CARGO_PKG_VERSION"))
    );
    // A secret in the environment is never shown by --help.
    let out = proxy(
        &["--help"],
        &[("APPROOV_BASE64_SECRET", SECRET), ("API_KEY", KEY)],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(!out.stdout.contains(SECRET) && !out.stdout.contains(KEY));
}

#[test]
fn unknown_arguments_exit_2() {
    for args in [
        &["--bogus"][..],
        &["serve"],
        &["check", "extra"],
        &["--upstream-url=x"],
    ] {
        let out = proxy(args, &[]);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        assert!(out.stderr.contains("error:"), "{out:?}");
        assert!(out.stdout.is_empty(), "{out:?}");
    }
}

fn write_routes(text: &str) -> PathBuf {
    let path =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{}.toml", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn check_prints_a_summary_without_secrets_and_binds_nothing() {
    // Held open: check must not try to bind it.
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let listen = taken.local_addr().unwrap().to_string();
    let routes = write_routes(
        "[[route]]\nname = \"nasa\"\nprefix = \"/nasa\"\nupstream = \"https://api.nasa.gov\"\n\
         key_env = \"CLI_NASA_KEY\"\nkey_query_param = \"api_key\"\n\
         rate_limit_per_device_per_minute = 30\n\n\
         [[route]]\nname = \"internal\"\nprefix = \"/internal\"\n\
         upstream = \"https://orders.internal\"\nupstream_claims = [\"did\", \"ip\"]\n",
    );
    let out = proxy(
        &["check"],
        &[
            ("APPROOV_BASE64_SECRET", SECRET),
            ("LISTEN_ADDR", &listen),
            ("PROXY_CONFIG", routes.to_str().unwrap()),
            ("CLI_NASA_KEY", KEY),
            ("AUTH_ENDPOINT", "/approov/auth"),
            ("AUTH_LISTEN_ADDR", &listen),
            // Nothing listens there: check does not connect.
            ("REDIS_URL", "redis://:redis-PASSWORD@127.0.0.1:9/0"),
            ("APPROOV_JWKS_URL", "http://127.0.0.1:9/jwks.json"),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(out.stderr.is_empty(), "{out:?}");
    let summary = &out.stdout;
    for expected in [
        "approov-proxy: the configuration is usable\n",
        "mode: proxy and forward-auth\n",
        "approov: APPROOV_BASE64_SECRET, APPROOV_JWKS_URL set",
        &format!("listen: {listen} "),
        "route \"nasa\": /nasa -> https://api.nasa.gov, key query parameter api_key, \
         claims upstream none",
        "rate limit 30 per device per minute",
        "route \"internal\": /internal -> https://orders.internal, key none, \
         claims upstream did,ip",
        &format!("forward-auth: /approov/auth on {listen} for nginx"),
        "rate limit shared through Redis at 127.0.0.1:9",
    ] {
        assert!(
            summary.contains(expected),
            "{expected:?} not in:\n{summary}"
        );
    }
    for secret in [SECRET, KEY, "redis-PASSWORD"] {
        assert!(!summary.contains(secret), "{secret} in:\n{summary}");
    }
    assert!(!summary.contains("listening on"), "{summary}");
}

#[test]
fn check_fails_as_start_up_does_naming_the_setting() {
    let keyed = [
        ("APPROOV_BASE64_SECRET", SECRET),
        ("UPSTREAM_URL", "https://api.nasa.gov"),
        ("API_KEY", KEY),
        ("API_KEY_HEADER", "X-Api-Key"),
    ];
    let with = |changes: &[(&'static str, &'static str)]| {
        let mut envs: Vec<_> = keyed
            .iter()
            .filter(|(k, _)| !changes.iter().any(|(c, _)| c == k))
            .copied()
            .collect();
        envs.extend(changes.iter().filter(|(_, v)| !v.is_empty()));
        envs
    };
    let missing_file = "/nonexistent/approov-secret";
    for (envs, says) in [
        (
            with(&[("APPROOV_BASE64_SECRET", "")]),
            "APPROOV_BASE64_SECRET is not set",
        ),
        (
            with(&[("APPROOV_BASE64_SECRET", "c2hvcnQ=")]),
            "APPROOV_BASE64_SECRET",
        ),
        (
            with(&[
                ("APPROOV_BASE64_SECRET", ""),
                ("APPROOV_BASE64_SECRET_FILE", missing_file),
            ]),
            // approov-core names the file rather than the variable.
            "cannot read /nonexistent/approov-secret",
        ),
        (
            with(&[("API_KEY_HEADER", "")]),
            "API_KEY_QUERY_PARAM or API_KEY_HEADER is not set",
        ),
        (
            with(&[("UPSTREAM_CLAIMS", "did,,ip")]),
            "UPSTREAM_CLAIMS is not usable",
        ),
        (
            with(&[("REDIS_URL", "redis://:redis-PASSWORD@[::1")]),
            "REDIS_URL is not usable",
        ),
        (
            with(&[("AUTH_GATEWAY", "haproxy")]),
            "AUTH_ENDPOINT is not set",
        ),
        (
            with(&[("MAX_CONNECTIONS", "0")]),
            "MAX_CONNECTIONS is not usable",
        ),
        (
            with(&[
                ("PROXY_CONFIG", "/nonexistent/routes.toml"),
                ("UPSTREAM_URL", ""),
                ("API_KEY", ""),
                ("API_KEY_HEADER", ""),
            ]),
            "PROXY_CONFIG (/nonexistent/routes.toml): cannot read it",
        ),
    ] {
        let check = proxy(&["check"], &envs);
        assert_eq!(check.status.code(), Some(2), "{envs:?}: {check:?}");
        assert!(check.stdout.is_empty(), "{check:?}");
        assert_eq!(check.stderr.lines().count(), 1, "{check:?}");
        assert!(
            check.stderr.starts_with("approov-proxy: ") && check.stderr.contains(says),
            "{says:?} not in {check:?}"
        );
        for secret in [SECRET, KEY, "redis-PASSWORD", "c2hvcnQ="] {
            assert!(!check.stderr.contains(secret), "{check:?}");
        }
        // Start-up says the same.
        let mut serve_envs = envs.clone();
        serve_envs.push(("LISTEN_ADDR", "127.0.0.1:0"));
        let serve = proxy(&[], &serve_envs);
        assert_eq!(serve.status.code(), Some(2), "{serve:?}");
        assert_eq!(serve.stderr, check.stderr);
    }
}
