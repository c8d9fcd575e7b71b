//! `approov-token`: mints example Approov tokens for a secret, like the
//! Approov CLI's `approov token -genExample`, for trying a protected API.
//!
//! ```text
//! export APPROOV_BASE64_SECRET=...        # or: approov-token --secret-stdin < secret.txt
//! approov-token
//! approov-token --expired --curl http://127.0.0.1:8080/
//! approov-token --bind "Bearer my-session" --curl http://127.0.0.1:8080/token-binding
//! approov-token --claim arc=\"ABC\" --claim 'extra={"a":1}' --kid my-key
//! ```
//!
//! The secret is never a command-line argument: every user of the machine
//! can read those (`ps`, `/proc/<pid>/cmdline`).

use std::io::{self, Read as _, Write as _};
use std::process::ExitCode;

use approov_core::Secret;
use approov_core::mint::TokenBuilder;
use approov_examples::{CONFIG_ERROR_EXIT, shell_quote};
use clap::Parser;
use serde_json::Value;

/// Mints an HS256 Approov token with example claims (`exp`, `ip`, `did`)
/// signed with the account secret, and prints it (or a curl line using it).
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Read the account secret (base64, standard or URL-safe, padded or
    /// not) from standard input instead of the APPROOV_BASE64_SECRET (or
    /// APPROOV_BASE64URL_SECRET) environment variable.
    #[arg(long)]
    secret_stdin: bool,
    /// Make a token that expired an hour ago.
    #[arg(long, conflicts_with = "expires_in")]
    expired: bool,
    /// Seconds until the token expires.
    #[arg(long, value_name = "SECONDS", default_value_t = 3600,
          value_parser = clap::value_parser!(i64).range(1..=10 * 365 * 24 * 3600))]
    expires_in: i64,
    /// Bind the token to this header value (e.g. "Bearer my-session"); repeat
    /// for several headers, in the order the server hashes them. Sets `pay`.
    #[arg(long, value_name = "HEADER_VALUE")]
    bind: Vec<String>,
    /// Add or replace a claim: NAME=VALUE, VALUE parsed as JSON, falling back
    /// to a string (`n=5` is a number, `s=abc` a string, `s="5"` the string 5).
    #[arg(long, value_name = "NAME=VALUE", value_parser = parse_claim)]
    claim: Vec<(String, Value)>,
    /// Put this key id in the token header (`kid`).
    #[arg(long)]
    kid: Option<String>,
    /// Print a ready curl command for this URL instead of the bare token.
    #[arg(long, value_name = "URL")]
    curl: Option<String>,
}

fn parse_claim(arg: &str) -> Result<(String, Value), String> {
    let (name, value) = arg
        .split_once('=')
        .ok_or_else(|| format!("{arg:?} is not NAME=VALUE"))?;
    if name.is_empty() {
        return Err(format!("{arg:?} has an empty claim name"));
    }
    let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned()));
    Ok((name.to_owned(), value))
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(out) => {
            let mut stdout = io::stdout().lock();
            match stdout
                .write_all(out.as_bytes())
                .and_then(|()| stdout.flush())
            {
                Ok(()) => ExitCode::SUCCESS,
                Err(_) => ExitCode::FAILURE,
            }
        }
        Err(message) => {
            let _ = writeln!(io::stderr(), "approov-token: {message}");
            ExitCode::from(CONFIG_ERROR_EXIT)
        }
    }
}

fn run(args: &Args) -> Result<String, String> {
    let secret = secret(args)?;
    let mut token = TokenBuilder::approov_example().expires_in(if args.expired {
        -3600
    } else {
        args.expires_in
    });
    if !args.bind.is_empty() {
        token = token.pay_for(&args.bind);
    }
    for (name, value) in &args.claim {
        token = token.claim(name, value.clone());
    }
    if let Some(kid) = &args.kid {
        token = token.kid(kid);
    }
    let token = token.sign_hs256(&secret);
    let Some(url) = &args.curl else {
        return Ok(format!("{token}\n"));
    };
    let mut out = format!(
        "curl -i -H \"Approov-Token: {token}\" {}\n",
        shell_quote(url)
    );
    if !args.bind.is_empty() {
        out.push_str(
            "# The token is bound to these header values, in this order: send each in the \
             header the server binds (APPROOV_TOKEN_BINDING_HEADER; the examples bind \
             Authorization on /token-binding), e.g.\n",
        );
        for value in &args.bind {
            out.push_str(&format!(
                "#   -H {}\n",
                shell_quote(&format!("Authorization: {value}"))
            ));
        }
    }
    Ok(out)
}

/// The secret from standard input or the environment, decoded; errors name
/// the source, never the value.
fn secret(args: &Args) -> Result<Secret, String> {
    let env = |name: &'static str| {
        std::env::var_os(name).map(|v| (name, v.to_string_lossy().into_owned()))
    };
    let (source, value) = if args.secret_stdin {
        // A secret is short: more than 64 KiB is not one.
        let mut text = String::new();
        io::stdin()
            .take(64 * 1024)
            .read_to_string(&mut text)
            .map_err(|e| format!("cannot read the secret from standard input: {e}"))?;
        ("standard input", text)
    } else {
        env("APPROOV_BASE64_SECRET")
            .or_else(|| env("APPROOV_BASE64URL_SECRET"))
            .ok_or(
                "no secret: set APPROOV_BASE64_SECRET (the account secret from \
                 `approov secret -getSharedKey`) or pass --secret-stdin and write it \
                 to standard input",
            )?
    };
    Secret::from_base64(&value, source).map_err(|e| e.to_string())
}
