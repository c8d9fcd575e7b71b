//! Verification keys: what they are, where they are kept, and where they
//! come from.
//!
//! - `set`: the [`KeySet`](set::KeySet) the signature step looks a token's
//!   key up in (HS256 secrets, PEM and JWKS public keys, by `kid`).
//! - `algorithm`, `secret`: the [`Algorithm`](crate::Algorithm)s and the
//!   zeroized [`Secret`](crate::Secret).
//! - `store`: the current key set, swapped whole (`arc-swap`) when a key
//!   file is read again or an outside source brings new keys.
//! - `source`: the one seam for keys from outside the process. The token
//!   path sees only its trait.
//! - `jwks_url` (feature `jwks-url`), `watch` (feature `watch-key-files`):
//!   the fetcher of a JWKS URL and the key files' watcher, each on a
//!   thread of its own.

pub(crate) mod algorithm;
#[cfg(feature = "jwks-url")]
#[cfg_attr(docsrs, doc(cfg(feature = "jwks-url")))]
pub mod jwks_url;
pub(crate) mod secret;
pub(crate) mod set;
pub(crate) mod source;
pub(crate) mod store;
#[cfg(feature = "watch-key-files")]
mod watch;

use crate::error::ConfigError;
use source::StartKeySource;

/// The source `APPROOV_JWKS_URL` (`var`) names, for
/// [`VerifierBuilder::from_vars`](crate::VerifierBuilder::from_vars); a
/// build without the `jwks-url` feature refuses the variable rather than
/// ignore it.
pub(crate) fn jwks_url_from_env(
    var: &'static str,
    url: String,
    start_without_keys: bool,
) -> Result<Box<dyn StartKeySource>, ConfigError> {
    #[cfg(feature = "jwks-url")]
    {
        Ok(Box::new(
            jwks_url::JwksUrl::new(url)
                .named(var)
                .start_without_keys(start_without_keys),
        ))
    }
    #[cfg(not(feature = "jwks-url"))]
    {
        let _ = (url, start_without_keys);
        Err(ConfigError::invalid(
            var,
            "this build cannot fetch a JWKS: enable the `jwks-url` feature of your approov adapter crate (or of approov-core)",
        ))
    }
}
