//! `approov-token`: mints example Approov tokens for a secret, like the
//! Approov CLI's `approov token -genExample`, for trying a protected API;
//! and `approov-token verify` says why a token is refused.
//!
//! ```text
//! export APPROOV_BASE64_SECRET=...        # or: approov-token --secret-stdin < secret.txt
//! approov-token
//! approov-token --expired --curl http://127.0.0.1:8080/
//! approov-token --bind "Bearer my-session" --curl http://127.0.0.1:8080/token-binding
//! approov-token --bind "Bearer s" --bind-header Authorization --bind dev-1 --bind-header X-Device \
//!     --curl http://127.0.0.1:8080/
//! approov-token --claim arc=\"ABC\" --claim 'extra={"a":1}' --kid my-key
//!
//! approov-token verify < token.txt       # or: printf '%s' "$TOKEN" | approov-token verify
//! approov-token verify --claims --header "Authorization=Bearer my-session" < token.txt
//! ```
//!
//! `verify` reads the keys from the environment the servers read
//! (`APPROOV_BASE64_SECRET`, `APPROOV_TOKEN_BINDING_HEADER`,
//! `APPROOV_LEEWAY_SECONDS`, …) and prints the verdict and, when refused,
//! the rejection kind and reason; with `--claims`, the claims. It exits 0
//! when the token is valid, 1 when it is refused, 2 for a configuration
//! error. With `APPROOV_TOKEN_SCHEME` (e.g. `Bearer`) the token is checked
//! as the servers would receive it, `<scheme> <token>` in the
//! `APPROOV_TOKEN_HEADER` header; a token given with the scheme already in
//! front is taken as it is. `--curl` also follows `APPROOV_TOKEN_HEADER`
//! and `APPROOV_TOKEN_SCHEME`.
//!
//! The secret is never a command-line argument: every user of the machine
//! can read those (`ps`, `/proc/<pid>/cmdline`). For the same reason give
//! `verify` the token on standard input rather than as `verify TOKEN`
//! (which works, for a token that does not matter). Like the servers, it
//! refuses a secret shorter than 32 bytes. What `--curl` prints is quoted
//! for a POSIX shell throughout, header and scheme from the environment
//! included, so pasting it runs curl and nothing else.

use std::io::{self, Read as _, Write as _};
use std::process::ExitCode;

use approov_core::mint::TokenBuilder;
use approov_core::{DEFAULT_TOKEN_HEADER, Secret, TokenBinding, VerifierBuilder};
use approov_examples::{CONFIG_ERROR_EXIT, shell_quote};
use clap::{Parser, Subcommand};
use serde_json::Value;

/// Mints an HS256 Approov token with example claims (`exp`, `ip`, `did`)
/// signed with the account secret, and prints it (or a curl line using it).
/// `approov-token verify` checks a token instead.
#[derive(Debug, Parser)]
#[command(version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    mint: Args,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Verifies a token with the keys the servers use (APPROOV_BASE64_SECRET,
    /// ...) and prints whether it is valid and, if not, why. Exit code 0:
    /// valid, 1: refused, 2: configuration error.
    Verify(VerifyArgs),
}

#[derive(Debug, clap::Args)]
struct VerifyArgs {
    /// The token; read from standard input when absent or `-`. Prefer
    /// standard input: an argument is visible to every user of the machine
    /// (`ps`).
    token: Option<String>,
    /// A request header NAME=VALUE, to check token binding; repeat for
    /// several. The binding headers are APPROOV_TOKEN_BINDING_HEADER's
    /// when it is set, else these, in the order given.
    #[arg(long, value_name = "NAME=VALUE", value_parser = parse_header)]
    header: Vec<(String, String)>,
    /// Also print the token's claims (JSON), when it verified.
    #[arg(long)]
    claims: bool,
}

/// Arguments of the default command: mint a token.
#[derive(Debug, clap::Args)]
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
    #[arg(long, value_name = "HEADER_VALUE", value_parser = parse_header_value)]
    bind: Vec<String>,
    /// Add or replace a claim: NAME=VALUE, VALUE parsed as JSON, falling back
    /// to a string (`n=5` is a number, `s=abc` a string, `s="5"` the string 5).
    #[arg(long, value_name = "NAME=VALUE", value_parser = parse_claim)]
    claim: Vec<(String, Value)>,
    /// Put this key id in the token header (`kid`).
    #[arg(long)]
    kid: Option<String>,
    /// The header that carries the `--bind` value of the same position in
    /// the `--curl` line; give one for each `--bind`. Default: the names in
    /// APPROOV_TOKEN_BINDING_HEADER, else `Authorization` for a single
    /// `--bind` (the header the examples bind on /token-binding).
    #[arg(long, value_name = "NAME", requires = "bind", value_parser = parse_header_name)]
    bind_header: Vec<String>,
    /// Print a ready curl command for this URL instead of the bare token,
    /// with the token header and every bound header.
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

/// A header value as HTTP allows it: no control character but tab. (A
/// line break could never be sent in the header the `--curl` line puts it
/// in.)
fn parse_header_value(arg: &str) -> Result<String, String> {
    if arg.chars().any(|c| c.is_control() && c != '\t') {
        return Err("a header value cannot hold control characters such as a line break".into());
    }
    Ok(arg.to_owned())
}

fn parse_header_name(arg: &str) -> Result<String, String> {
    http::HeaderName::from_bytes(arg.as_bytes())
        .map(|_| arg.to_owned())
        .map_err(|_| format!("{arg:?} is not a header name"))
}

fn parse_header(arg: &str) -> Result<(String, String), String> {
    match arg.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_owned(), value.to_owned()))
        }
        _ => Err(format!("{arg:?} is not NAME=VALUE")),
    }
}

/// Exit code of `verify` for a refused token.
const REFUSED_EXIT: u8 = 1;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (result, refused) = match &cli.command {
        Some(Command::Verify(args)) => match verify(args) {
            Ok((out, valid)) => (Ok(out), !valid),
            Err(message) => (Err(message), false),
        },
        None => (run(&cli.mint), false),
    };
    match result {
        Ok(out) => {
            let mut stdout = io::stdout().lock();
            match stdout
                .write_all(out.as_bytes())
                .and_then(|()| stdout.flush())
            {
                Ok(()) if refused => ExitCode::from(REFUSED_EXIT),
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
    // The header the servers read, as configured by the same variables.
    let var = |name| {
        std::env::var(name)
            .ok()
            .filter(|v: &String| !v.trim().is_empty())
    };
    let header = var("APPROOV_TOKEN_HEADER");
    let header = header.as_deref().map_or(DEFAULT_TOKEN_HEADER, str::trim);
    let value = header_value(
        var("APPROOV_TOKEN_SCHEME").as_deref().map(str::trim),
        &token,
    );
    // Every part quoted: the header and scheme come from the environment
    // and must not become shell syntax when the line is pasted.
    let mut out = format!("curl -i -H {}", shell_quote(&format!("{header}: {value}")));
    for (name, value) in bound_headers(args, var("APPROOV_TOKEN_BINDING_HEADER"))? {
        out.push_str(&format!(" -H {}", shell_quote(&format!("{name}: {value}"))));
    }
    out.push_str(&format!(" {}\n", shell_quote(url)));
    Ok(out)
}

/// The headers the `--curl` line sends the `--bind` values in, in order:
/// named by `--bind-header`, else by `binding_var`
/// (APPROOV_TOKEN_BINDING_HEADER, as the servers read it), else
/// `Authorization` for a single value. The counts must match.
fn bound_headers(args: &Args, binding_var: Option<String>) -> Result<Vec<(String, &str)>, String> {
    if args.bind.is_empty() {
        return Ok(Vec::new());
    }
    let (names, from) = if !args.bind_header.is_empty() {
        (args.bind_header.clone(), "--bind-header")
    } else if let Some(var) = binding_var {
        let names = var.split(',').map(|n| n.trim().to_owned()).collect();
        (names, "APPROOV_TOKEN_BINDING_HEADER")
    } else if args.bind.len() == 1 {
        (vec!["Authorization".to_owned()], "the default")
    } else {
        return Err(format!(
            "{} --bind values need the header each is sent in: give --bind-header NAME \
             for each, in order, or set APPROOV_TOKEN_BINDING_HEADER",
            args.bind.len()
        ));
    };
    if names.len() != args.bind.len() {
        return Err(format!(
            "{from} names {} header(s) for {} --bind value(s): give one header for each value, \
             in order",
            names.len(),
            args.bind.len()
        ));
    }
    if let Some(bad) = names
        .iter()
        .find(|n| http::HeaderName::from_bytes(n.as_bytes()).is_err())
    {
        return Err(format!("{from} names {bad:?}, which is not a header name"));
    }
    Ok(names
        .into_iter()
        .zip(args.bind.iter().map(String::as_str))
        .collect())
}

/// The token header's value for `token`: `<scheme> <token>` when the
/// servers expect a scheme (`APPROOV_TOKEN_SCHEME`), unless `token` already
/// starts with it (pasted from an `Authorization` header).
fn header_value(scheme: Option<&str>, token: &str) -> String {
    match scheme {
        Some(scheme)
            if !token
                .split_once(' ')
                .is_some_and(|(first, _)| first.eq_ignore_ascii_case(scheme)) =>
        {
            format!("{scheme} {token}")
        }
        _ => token.to_owned(),
    }
}

/// `verify`: the report to print and whether the token is valid. A
/// configuration problem (no secret, a bad variable or header) is an
/// error, exit 2. Nothing printed contains the secret; the token itself is
/// not echoed either.
fn verify(args: &VerifyArgs) -> Result<(String, bool), String> {
    let mut builder = VerifierBuilder::from_env().map_err(|e| e.to_string())?;
    let bound_by_env = std::env::var_os("APPROOV_TOKEN_BINDING_HEADER").is_some();
    if !bound_by_env && !args.header.is_empty() {
        let names: Vec<&str> = args.header.iter().map(|(n, _)| n.as_str()).collect();
        builder = builder.token_binding(TokenBinding::new(names).map_err(|e| e.to_string())?);
    }
    let verifier = builder.build().map_err(|e| e.to_string())?;
    let token = match args.token.as_deref() {
        Some(token) if token != "-" => token.to_owned(),
        _ => {
            // A token is at most a few KiB; the verifier refuses more than 16.
            let mut text = String::new();
            io::stdin()
                .take(64 * 1024)
                .read_to_string(&mut text)
                .map_err(|e| format!("cannot read the token from standard input: {e}"))?;
            text
        }
    };
    let token = token.trim();
    let mut headers = vec![(
        verifier.token_header().to_owned(),
        header_value(verifier.token_scheme(), token),
    )];
    headers.extend(args.header.iter().cloned());
    let binding = verifier
        .token_binding()
        .map(|b| b.headers().collect::<Vec<_>>().join(", "));
    let mut out = String::new();
    let valid = match verifier.verify_request(&headers[..]) {
        Ok(claims) => {
            out.push_str("valid\n");
            if let Some(names) = &binding {
                out.push_str(&format!("binding: checked over {names}\n"));
            }
            if args.claims {
                let all: serde_json::Map<String, Value> = claims
                    .names()
                    .into_iter()
                    .filter_map(|name| claims.claim(&name).map(|value| (name, value)))
                    .collect();
                let json = serde_json::to_string_pretty(&all).unwrap_or_default();
                out.push_str(&format!("claims: {json}\n"));
            }
            true
        }
        Err(rejection) => {
            out.push_str(&format!(
                "refused\nkind: {}\nreason: {rejection}\n",
                rejection.kind().as_str()
            ));
            if let Some(names) = &binding {
                out.push_str(&format!("binding: checked over {names}\n"));
            }
            false
        }
    };
    Ok((out, valid))
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
    // The servers refuse a shorter secret at start-up; a token signed with
    // one would only teach the wrong thing.
    Secret::from_base64(&value, source)
        .and_then(|secret| secret.for_hmac(source))
        .map_err(|e| e.to_string())
}
