//! What every crate's tests share: one secret, one instant, one way to mint
//! tokens and to build verifiers, one header for the rejection kind.
//!
//! The adapters' tests import it whole (`pub use
//! approov_conformance::fixtures::*;` in their `tests/common/mod.rs`) and
//! keep beside it only what is specific to their framework.
//!
//! Verifiers built here read a [`ManualClock`] stopped at [`NOW`], and
//! [`claims`] expire five minutes after it, so a test moves time by hand
//! and never sleeps. The conformance table itself runs on the system clock
//! (the example servers do), with tokens minted far from today.

use approov_core::mint::TokenBuilder;
use approov_core::{ManualClock, Verifier, VerifierBuilder};

/// The app secret: `S1` of `approov-core/vectors/approov-published.json`,
/// the secret of Approov's own quickstart tokens.
pub const SECRET: &str =
    "TEST+SECRET/TEST+SECRET/TEST+SECRET/TEST+SECRET/TEST+SECRET/TEST+SECRET/TEST+SECRET/AA==";
/// Another valid secret, for tokens that must fail the signature check.
pub const WRONG_SECRET: &str =
    "h+CX0tOzdAAR9l15bWAqvq7w9olk66daIH+Xk+IAHhVVHszjDzeGobzNnqyRze3lw/WVyWrc2gZfh3XXfBOmww==";
/// The instant (Unix seconds) the verifiers' clock is stopped at.
pub const NOW: u64 = 1_700_000_000;
/// The device id of [`claims`] (Approov's example).
pub const DID: &str = "ExampleApproovTokenDID==";
/// The IP of [`claims`] (Approov's example).
pub const IP: &str = "1.2.3.4";
/// The response header in which a custom rejection response names the
/// rejection kind, wherever a test needs to tell reasons apart.
pub const REASON_HEADER: &str = "x-approov-reason";

/// A clock stopped at [`NOW`].
pub fn clock() -> ManualClock {
    ManualClock::at_unix(NOW)
}

/// A builder for [`SECRET`] reading time from `clock`.
pub fn builder_with_clock(clock: &ManualClock) -> VerifierBuilder {
    Verifier::builder()
        .secret_base64(SECRET)
        .clock(clock.clone())
}

/// A verifier for [`SECRET`] reading time from `clock`.
pub fn verifier_with_clock(clock: &ManualClock) -> Verifier {
    builder_with_clock(clock)
        .build()
        .expect("the test verifier builds")
}

/// A verifier for [`SECRET`] at [`NOW`].
pub fn verifier() -> Verifier {
    verifier_with_clock(&clock())
}

/// A loopback JWKS URL on a port nothing listens on (bound, then let go):
/// every fetch is refused at once.
pub fn refused_jwks_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    let port = listener.local_addr().expect("its address").port();
    drop(listener);
    format!("http://127.0.0.1:{port}/jwks.json")
}

/// A verifier with no usable key at all: its only key source is a JWKS URL
/// that refuses every fetch ([`refused_jwks_url`]), started anyway
/// (`start_without_keys`). Every token that needs a key is
/// `keys_unavailable`, answered 503.
pub fn keyless_verifier() -> Verifier {
    Verifier::builder()
        .clock(clock())
        .jwks_url(
            approov_core::JwksUrl::new(refused_jwks_url())
                .timeout(std::time::Duration::from_millis(500))
                .start_without_keys(true),
        )
        .build()
        .expect("the keyless verifier builds")
}

/// Valid claims at [`NOW`]: `exp` five minutes later, [`IP`], [`DID`].
pub fn claims() -> TokenBuilder {
    TokenBuilder::new()
        .exp((NOW + 300) as f64)
        .claim("ip", IP)
        .claim("did", DID)
}

/// Signs with [`SECRET`] (HS256).
pub fn sign(builder: &TokenBuilder) -> String {
    builder
        .sign_hs256_base64(SECRET)
        .expect("the test secret signs")
}

/// A token valid at [`NOW`]: [`claims`] signed with [`SECRET`].
pub fn token() -> String {
    sign(&claims())
}
