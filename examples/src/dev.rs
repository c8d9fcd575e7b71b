//! Development mode: no secret configured, so the server makes one and
//! says so loudly, with everything needed to call it right away.

use std::io::{self, Write as _};
use std::net::SocketAddr;

use approov_core::mint::TokenBuilder;

use crate::{StartError, curl_url};

/// How long the printed development token stays valid.
const DEV_TOKEN_SECONDS: i64 = 3600;

/// The banner's title line; tests look for it.
pub(crate) const DEV_BANNER: &str = "DEVELOPMENT SECRET — do not use in production";

/// Prints the development secret, a valid token and a curl line on stderr.
pub(crate) fn print_banner(
    secret: &str,
    token_header: &str,
    addr: SocketAddr,
) -> Result<(), StartError> {
    let token = TokenBuilder::approov_example()
        .expires_in(DEV_TOKEN_SECONDS)
        .sign_hs256_base64(secret)?;
    let rule = "=".repeat(78);
    let url = curl_url(addr, "/");
    let banner = format!(
        "{rule}\n\
         !!! {DEV_BANNER} !!!\n\
         APPROOV_BASE64_SECRET is not set, so this server made a random secret that\n\
         lives only as long as this process. Set APPROOV_BASE64_SECRET to your\n\
         account secret (`approov secret -getSharedKey`) for anything real.\n\
         \n\
         APPROOV_BASE64_SECRET={secret}\n\
         {token_header} (valid for 1 hour): {token}\n\
         \n\
         Try it:\n\
         curl -i -H \"{token_header}: {token}\" {url}\n\
         \n\
         More tokens (expired, bound to an Authorization value, custom claims):\n\
         APPROOV_BASE64_SECRET='{secret}' cargo run -p approov-examples --bin approov-token -- --help\n\
         {rule}"
    );
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "{banner}");
    let _ = err.flush();
    Ok(())
}
