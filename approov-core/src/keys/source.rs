//! The one seam for keys from outside the process. A source (the JWKS
//! URL's fetcher, feature `jwks-url`) runs on a thread of its own and swaps
//! its keys into the [`KeyStore`]; the token path only reads the store and
//! tells the source, without waiting, what it may act on. The token path
//! knows the trait, never a source, so it names no I/O feature and does no
//! network I/O.

use std::any::Any;
use std::sync::Arc;
use std::time::SystemTime;

use super::set::KeySet;
use super::store::{KeyFile, KeyStore};
use crate::clock::Clock;
use crate::error::{ConfigError, Rejection};

/// A running source of keys. Both calls come from the token path: they
/// must be cheap (a few atomic operations) and never block. `Any`, so the
/// source's own module can find it again behind a verifier (its status).
pub(crate) trait KeySource: Any + Send + Sync {
    /// On every verification, with the verifier's clock's time: a
    /// refresh that is due is started here.
    fn tick(&self, now: SystemTime);

    /// On a token the signature step refused: a source may fetch early
    /// when no key matched (an unknown `kid`), at a bounded rate.
    fn rejected(&self, rejection: &Rejection, now: SystemTime);
}

/// A configured source, started by
/// [`VerifierBuilder::build`](crate::VerifierBuilder::build).
pub(crate) trait StartKeySource: Send + Sync {
    /// Checks the configuration, builds the key store from the keys given
    /// as values and the key files (it may start without keys, the
    /// source's arrive later), starts the source and returns both.
    fn start(
        self: Box<Self>,
        fixed: KeySet,
        files: Vec<KeyFile>,
        clock: Arc<dyn Clock>,
    ) -> Result<(Arc<KeyStore>, Arc<dyn KeySource>), ConfigError>;
}
