//! Start-up code for development servers, not part of verification:
//! nothing on the token path calls it, and only the example servers use
//! it (feature `dev`). With no key configured,
//! [`secret_unless_configured`] makes a random secret and prints the
//! [`banner`]: the secret, a ready token and a `curl` line, so the server
//! can be called the minute it starts. It is one line in a server's
//! start-up, after binding the listener (the `curl` line names the real
//! port), and the line to delete for production: without it, a missing
//! secret stops start-up, naming `APPROOV_BASE64_SECRET`.
//!
//! ```no_run
//! use approov_core::VerifierBuilder;
//!
//! let var = |name: &str| std::env::var(name).ok();
//! let listener = std::net::TcpListener::bind("127.0.0.1:8080")?;
//! // Development only: delete this line for production.
//! let var = approov_core::dev::secret_unless_configured(var, listener.local_addr()?);
//! let verifier = VerifierBuilder::from_vars(&var)?.build()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The secret lives only as long as the process, and only the variables
//! of [`KEY_VARS`] count as "configured": a server given only public keys
//! (a JWKS or PEM file, a JWKS URL) never gets a development secret.

use std::io::{self, Write as _};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use zeroize::Zeroizing;

use crate::error::ConfigError;
use crate::mint::{TokenBuilder, generate_secret_base64};
use crate::token::builder::VerifierBuilder;
use crate::token::verifier::Verifier;

/// The variables that configure keys (see [`VerifierBuilder::from_env`]):
/// with none of them set, [`secret_unless_configured`] makes a secret.
pub const KEY_VARS: [&str; 6] = [
    SECRET_VAR,
    "APPROOV_BASE64URL_SECRET",
    "APPROOV_BASE64_SECRET_FILE",
    "APPROOV_JWKS_FILE",
    "APPROOV_JWKS_URL",
    "APPROOV_PUBLIC_KEY_FILE",
];

/// The first line of the banner, for scripts and tests to look for.
pub const BANNER_TITLE: &str = "DEVELOPMENT SECRET — do not use in production";

/// How long the printed token stays valid.
const TOKEN_SECONDS: i64 = 3600;

const SECRET_VAR: &str = "APPROOV_BASE64_SECRET";

/// `var` (read variables as [`VerifierBuilder::from_vars`] does), except
/// that when none of [`KEY_VARS`] is set it answers `APPROOV_BASE64_SECRET`
/// with a fresh random secret, and prints on stderr the [`banner`] for a
/// server listening on `addr`: the secret, a token valid for an hour, and a
/// `curl` line calling `/` with it.
///
/// The banner is printed only when the verifier configured by the
/// returned variables builds: otherwise nothing is printed, and the
/// caller's own `from_vars(...)?.build()` reports the error, naming the
/// variable to fix as usual.
///
/// ```
/// use approov_core::VerifierBuilder;
///
/// let addr = "127.0.0.1:8080".parse()?;
/// // A secret is configured: nothing changes, nothing is printed.
/// let set = |name: &str| (name == "APPROOV_BASE64_SECRET")
///     .then(|| "YXBwcm9vdi1ycyBleGFtcGxlIHNlY3JldDogMzIgYnl0ZXMgb3IgbW9yZSwgYXMgUkZDIDc1MTggYXNrcw==".to_owned());
/// let var = approov_core::dev::secret_unless_configured(set, addr);
/// assert_eq!(var("APPROOV_BASE64_SECRET"), set("APPROOV_BASE64_SECRET"));
///
/// // None is: a random one (the banner goes to stderr).
/// let var = approov_core::dev::secret_unless_configured(|_: &str| None, addr);
/// let secret = var("APPROOV_BASE64_SECRET").expect("a development secret");
/// assert_eq!(var("APPROOV_BASE64_SECRET"), Some(secret)); // the same one each time
/// assert!(VerifierBuilder::from_vars(&var)?.build().is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn secret_unless_configured<F>(var: F, addr: SocketAddr) -> impl Fn(&str) -> Option<String>
where
    F: Fn(&str) -> Option<String>,
{
    let generated = KEY_VARS
        .iter()
        .all(|name| var(name).is_none())
        .then(|| Zeroizing::new(generate_secret_base64()));
    if let Some(secret) = &generated {
        let with_secret = |name: &str| match name {
            SECRET_VAR => Some(secret.as_str().to_owned()),
            _ => var(name),
        };
        if let Ok(verifier) =
            VerifierBuilder::from_vars(with_secret).and_then(VerifierBuilder::build)
            && let Ok(text) = banner(secret, &verifier, addr)
        {
            let mut err = io::stderr().lock();
            let _ = writeln!(err, "{text}");
            let _ = err.flush();
        }
    }
    move |name: &str| match &generated {
        Some(secret) if name == SECRET_VAR => Some(secret.as_str().to_owned()),
        _ => var(name),
    }
}

/// The development banner for a server with `verifier`, configured with
/// the base64 `secret`, listening on `addr`: the secret, a token valid for
/// an hour, and a `curl` line that sends it to `/` the way `verifier`
/// reads it (its token header, and scheme when it has one). An
/// unspecified address (`0.0.0.0`, `::`) is called on
/// loopback.
///
/// ```
/// use approov_core::Verifier;
///
/// let secret = approov_core::mint::generate_secret_base64();
/// let verifier = Verifier::builder().secret_base64(&secret).build()?;
/// let banner = approov_core::dev::banner(&secret, &verifier, "0.0.0.0:8080".parse()?)?;
/// assert!(banner.contains(approov_core::dev::BANNER_TITLE));
/// assert!(banner.contains(&format!("APPROOV_BASE64_SECRET={secret}")));
/// let curl = banner.lines().find(|l| l.starts_with("curl ")).unwrap();
/// let token = curl
///     .strip_prefix("curl -i -H \"Approov-Token: ")
///     .and_then(|rest| rest.strip_suffix("\" http://127.0.0.1:8080/"))
///     .unwrap();
/// assert!(verifier.verify(token).is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// When `secret` is not base64.
pub fn banner(secret: &str, verifier: &Verifier, addr: SocketAddr) -> Result<String, ConfigError> {
    let token = TokenBuilder::approov_example()
        .expires_in(TOKEN_SECONDS)
        .sign_hs256_base64(secret)?;
    let header = verifier.token_header();
    let value = match verifier.token_scheme() {
        Some(scheme) => format!("{scheme} {token}"),
        None => token.clone(),
    };
    let rule = "=".repeat(78);
    let url = loopback_url(addr, "/");
    Ok(format!(
        "{rule}\n\
         !!! {BANNER_TITLE} !!!\n\
         {SECRET_VAR} is not set, so this server made a random secret that\n\
         lives only as long as this process. Set {SECRET_VAR} to your\n\
         account secret (`approov secret -getSharedKey`) for anything real.\n\
         \n\
         {SECRET_VAR}={secret}\n\
         {header} (valid for 1 hour): {value}\n\
         \n\
         Try it:\n\
         curl -i -H \"{header}: {value}\" {url}\n\
         \n\
         More tokens (expired, bound to an Authorization value, custom claims):\n\
         approov_core::mint::TokenBuilder, or the approov-token tool of approov-rs:\n\
         {SECRET_VAR}='{secret}' cargo run -p approov-examples --bin approov-token -- --help\n\
         {rule}"
    ))
}

/// `http://<addr><path>`, with an unspecified address on loopback.
fn loopback_url(mut addr: SocketAddr, path: &str) -> String {
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr.ip() {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
        });
    }
    format!("http://{addr}{path}")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn addr() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 8080))
    }

    #[test]
    fn any_key_variable_means_no_development_secret() {
        for name in KEY_VARS {
            let var = |n: &str| (n == name).then(|| "/some/where".to_owned());
            let vars = secret_unless_configured(var, addr());
            assert_eq!(vars(SECRET_VAR), var(SECRET_VAR), "{name}");
        }
    }

    #[test]
    fn other_variables_pass_through() {
        let var = |n: &str| (n == "APPROOV_LEEWAY_SECONDS").then(|| "soon".to_owned());
        let vars = secret_unless_configured(var, addr());
        assert!(vars(SECRET_VAR).is_some());
        assert_eq!(vars("APPROOV_LEEWAY_SECONDS").as_deref(), Some("soon"));
        // The caller's own build reports the bad variable.
        let err = VerifierBuilder::from_vars(&vars).unwrap_err();
        assert!(err.to_string().contains("APPROOV_LEEWAY_SECONDS"), "{err}");
    }

    #[test]
    fn the_curl_line_follows_the_token_header_and_scheme() {
        let secret = generate_secret_base64();
        let verifier = Verifier::builder()
            .secret_base64(&secret)
            .token_header("Authorization")
            .token_scheme("Bearer")
            .build()
            .unwrap();
        let text = banner(&secret, &verifier, "[::]:9000".parse().unwrap()).unwrap();
        let curl = text.lines().find(|l| l.starts_with("curl ")).unwrap();
        let value = curl
            .strip_prefix("curl -i -H \"Authorization: ")
            .and_then(|rest| rest.strip_suffix("\" http://[::1]:9000/"))
            .unwrap();
        let headers = [("Authorization", value)];
        assert!(verifier.verify_request(&headers).is_ok(), "{curl}");
    }
}
