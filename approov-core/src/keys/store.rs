//! The verifier's keys, swappable while the server runs: the keys given as
//! values at start-up, plus keys read from files (a secret, PEM keys, a
//! JWKS document) that [`Verifier::reload_keys`](crate::Verifier::reload_keys)
//! reads again. A reload builds a whole new key set and swaps it in at
//! once: a request in flight finishes with the keys it started with, the
//! next one sees the new set, and a file that does not parse changes
//! nothing. Reading the current set is lock-free and allocation-free
//! (`arc-swap`), so the hot path costs what it did with fixed keys.
//!
//! A key file must be a regular file, or a symlink to one (how Kubernetes
//! mounts secrets): it is opened without blocking and anything else (a
//! FIFO, a device, a directory) is a failed read, so a reload never waits
//! on a file. The watcher ([`Verifier::reload_keys_settled`](crate::Verifier::reload_keys_settled)) takes a
//! changed file only once it reads the same across a settle time, so a
//! file caught half-written is not put in use; writing key files by an
//! atomic rename avoids half-written files altogether.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use ring::digest;

use super::algorithm::Algorithm;
use super::secret::Secret;
use super::set::{HmacKey, KeySet, PublicKey, public_keys_from_jwks};
use crate::error::ConfigError;

/// One key set, as the hot path reads it.
pub(crate) struct Loaded {
    pub(crate) keys: KeySet,
    pub(crate) algorithms: u16,
    /// Bumped by every swap; cached tokens verified under another
    /// generation are verified again.
    pub(crate) generation: u64,
}

/// A file that holds keys, read at start-up and on every reload.
#[derive(Debug, Clone)]
pub(crate) enum KeyFile {
    /// One or more base64 HS256 secrets, one per line (blank lines and
    /// lines starting with `#` are skipped): during a rotation the file
    /// holds the old and the new secret.
    Secret(PathBuf),
    /// A PEM public key for `alg`, with an optional `kid`.
    Pem {
        alg: Algorithm,
        kid: Option<String>,
        path: PathBuf,
    },
    /// A JWKS document.
    Jwks(PathBuf),
}

impl KeyFile {
    fn path(&self) -> &Path {
        match self {
            Self::Secret(path) | Self::Jwks(path) | Self::Pem { path, .. } => path,
        }
    }

    /// Adds this file's keys to `keys`; `text` is its content.
    fn load(&self, text: &str, keys: &mut KeySet) -> Result<(), ConfigError> {
        let source = self.path().display().to_string();
        match self {
            Self::Secret(_) => {
                let mut found = 0;
                for line in text.lines().map(str::trim) {
                    if line.is_empty() || line.starts_with('#') {
                        continue;
                    }
                    let secret = Secret::from_base64(line, &source)?.for_hmac(&source)?;
                    keys.hmac.push(HmacKey::new(None, &secret));
                    found += 1;
                }
                if found == 0 {
                    return Err(ConfigError::invalid(
                        source,
                        "the file holds no secret: put the base64 account secret on a line",
                    ));
                }
            }
            Self::Pem { alg, kid, .. } => {
                keys.public
                    .push(PublicKey::from_pem(*alg, kid.as_deref(), text, &source)?);
            }
            Self::Jwks(_) => keys.public.extend(public_keys_from_jwks(text, &source)?),
        }
        Ok(())
    }
}

/// What [`Verifier::reload_keys`](crate::Verifier::reload_keys) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeysReloaded {
    /// No key file changed since the last load (or there is none): nothing
    /// was swapped.
    Unchanged,
    /// At least one file changed and every file parsed: the new key set is
    /// in use, and the verified-token cache was emptied.
    Reloaded,
    /// From [`Verifier::reload_keys_settled`](crate::Verifier::reload_keys_settled): a file changed but has not
    /// yet read the same across the settle time (it may be half-written).
    /// Nothing was swapped; call again once the settle time has passed.
    Settling,
}

/// The settle time of [`Verifier::watch_key_files`](crate::Verifier::watch_key_files): a changed key file is
/// taken once it reads the same this long after it was first seen
/// changed ([`Verifier::reload_keys_settled`](crate::Verifier::reload_keys_settled)).
pub const KEY_FILE_SETTLE: Duration = Duration::from_secs(1);

/// The keys of a verifier and of every verifier derived from it.
pub(crate) struct KeyStore {
    current: ArcSwap<Loaded>,
    /// The keys given as values, kept to rebuild the set on a reload.
    fixed: KeySet,
    files: Vec<KeyFile>,
    /// What a swap recomposes, under one lock: one swap at a time.
    parts: Mutex<Parts>,
    /// The last reload error, as logged: the same error again (a broken
    /// file checked every few seconds) is not logged again.
    last_error: Mutex<Option<String>>,
}

struct Parts {
    /// A digest of each file's content at the last load: a reload that
    /// finds the same content swaps nothing. (A digest, not the content:
    /// no second copy of a secret is kept.)
    digests: Vec<digest::Digest>,
    /// The keys of the files at their last load.
    file_keys: KeySet,
    /// The keys of the outside source's last good document (none without
    /// one).
    source_keys: KeySet,
    /// Content that differs from the last load, seen by a settled reload
    /// and not yet taken: its digests, and when it was first read.
    pending: Option<(Vec<digest::Digest>, Instant)>,
}

impl KeyStore {
    /// Loads `fixed` plus every file; the first problem is the error.
    pub(crate) fn new(fixed: KeySet, files: Vec<KeyFile>) -> Result<Self, ConfigError> {
        let store = Self::read(fixed, files)?;
        if store.current.load().keys.is_empty() {
            return Err(ConfigError::NoKeys);
        }
        Ok(store)
    }

    /// Like [`KeyStore::new`] for a store an outside source
    /// ([`KeySource`](super::source::KeySource)) adds keys to later: it may
    /// start empty.
    pub(crate) fn read(fixed: KeySet, files: Vec<KeyFile>) -> Result<Self, ConfigError> {
        let texts = read_all(&files)?;
        let file_keys = build(&files, &texts)?;
        let keys = compose(&fixed, &file_keys, &KeySet::default());
        Ok(Self {
            current: ArcSwap::from_pointee(Loaded {
                algorithms: keys.algorithms(),
                keys,
                generation: 0,
            }),
            fixed,
            parts: Mutex::new(Parts {
                digests: texts.iter().map(|t| sha256(t)).collect(),
                file_keys,
                source_keys: KeySet::default(),
                pending: None,
            }),
            last_error: Mutex::new(None),
            files,
        })
    }

    /// Replaces the outside source's keys and swaps in the new set.
    #[cfg_attr(not(feature = "jwks-url"), allow(dead_code))]
    pub(crate) fn set_source_keys(&self, source_keys: KeySet) {
        let mut parts = self.parts.lock().unwrap_or_else(|e| e.into_inner());
        let keys = compose(&self.fixed, &parts.file_keys, &source_keys);
        parts.source_keys = source_keys;
        self.swap(keys);
    }

    fn swap(&self, keys: KeySet) {
        let generation = self.current.load().generation.wrapping_add(1);
        self.current.store(Arc::new(Loaded {
            algorithms: keys.algorithms(),
            keys,
            generation,
        }));
    }

    /// The current key set, lock-free.
    #[inline]
    pub(crate) fn load(&self) -> arc_swap::Guard<Arc<Loaded>> {
        self.current.load()
    }

    /// Reads every file again and swaps in the new set when one changed;
    /// with `settle`, only once the changed content has read the same
    /// `settle` after it was first seen. Logs and counts the outcome.
    pub(crate) fn reload_and_log(
        &self,
        settle: Option<Duration>,
    ) -> Result<KeysReloaded, ConfigError> {
        let result = self.reload(settle);
        match &result {
            Ok(KeysReloaded::Reloaded) => crate::metrics::key_reload(true),
            Ok(_) => {}
            Err(_) => crate::metrics::key_reload(false),
        }
        if !self.is_news(&result) {
            return result;
        }
        match &result {
            Ok(_) => {
                tracing::info!(target: "approov", files = %self.file_list(), "Approov keys reloaded");
            }
            Err(e) => tracing::error!(
                target: "approov",
                "Approov keys not reloaded, the keys in use stay: {e}"
            ),
        }
        result
    }

    fn reload(&self, settle: Option<Duration>) -> Result<KeysReloaded, ConfigError> {
        if self.files.is_empty() {
            return Ok(KeysReloaded::Unchanged);
        }
        // One reload at a time: two would race on the digests.
        let mut parts = self.parts.lock().unwrap_or_else(|e| e.into_inner());
        let texts = read_all(&self.files)?;
        let fresh: Vec<digest::Digest> = texts.iter().map(|t| sha256(t)).collect();
        if same(&fresh, &parts.digests) {
            parts.pending = None;
            return Ok(KeysReloaded::Unchanged);
        }
        if let Some(settle) = settle {
            let now = Instant::now();
            match &parts.pending {
                Some((seen, since)) if same(seen, &fresh) => {
                    if now.duration_since(*since) < settle {
                        return Ok(KeysReloaded::Settling);
                    }
                }
                _ => {
                    parts.pending = Some((fresh, now));
                    tracing::info!(
                        target: "approov",
                        files = %self.file_list(),
                        "Approov key files changed; taken once they read the same {settle:?} later"
                    );
                    return Ok(KeysReloaded::Settling);
                }
            }
        }
        let file_keys = build(&self.files, &texts)?;
        let keys = compose(&self.fixed, &file_keys, &parts.source_keys);
        if keys.is_empty() {
            return Err(ConfigError::NoKeys);
        }
        self.swap(keys);
        parts.digests = fresh;
        parts.file_keys = file_keys;
        parts.pending = None;
        Ok(KeysReloaded::Reloaded)
    }

    /// Whether `result` is news worth logging: a success clears the
    /// failure streak, an error is news when it differs from the last one.
    pub(crate) fn is_news(&self, result: &Result<KeysReloaded, ConfigError>) -> bool {
        let mut last = self.last_error.lock().unwrap_or_else(|e| e.into_inner());
        match result {
            // Nothing happened yet: a failure streak goes on.
            Ok(KeysReloaded::Settling) => false,
            Ok(outcome) => {
                *last = None;
                *outcome == KeysReloaded::Reloaded
            }
            Err(e) => {
                let text = e.to_string();
                let news = last.as_deref() != Some(text.as_str());
                *last = Some(text);
                news
            }
        }
    }

    /// The key files, for logs.
    pub(crate) fn files(&self) -> impl Iterator<Item = &Path> {
        self.files.iter().map(KeyFile::path)
    }

    /// The key files' names, comma-separated, for logs.
    fn file_list(&self) -> String {
        self.files()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Key ids, algorithms and file names; never key material.
        f.debug_struct("Keys")
            .field("current", &self.current.load().keys)
            .field(
                "files",
                &self.files.iter().map(KeyFile::path).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// The most a key file may hold: far above a JWKS of dozens of keys, and
/// a bound on what a wrong path (a log file, a device) costs every check.
const MAX_KEY_FILE_LEN: u64 = 1024 * 1024;

fn read_all(files: &[KeyFile]) -> Result<Vec<zeroize::Zeroizing<String>>, ConfigError> {
    files.iter().map(|file| read_capped(file.path())).collect()
}

/// Reads at most [`MAX_KEY_FILE_LEN`] bytes of `path` (one more tells a
/// longer file, which is refused naming it).
fn read_capped(path: &Path) -> Result<zeroize::Zeroizing<String>, ConfigError> {
    use std::io::Read as _;
    let io = |source| ConfigError::Io {
        path: path.display().to_string(),
        source,
    };
    let file = open_regular(path).map_err(io)?;
    if !file.metadata().map_err(io)?.is_file() {
        return Err(ConfigError::invalid(
            path.display().to_string(),
            "it is not a regular file (a FIFO, a device or a directory?): a key file must be \
             a regular file or a symlink to one",
        ));
    }
    let mut text = zeroize::Zeroizing::new(String::new());
    file.take(MAX_KEY_FILE_LEN + 1)
        .read_to_string(&mut text)
        .map_err(io)?;
    if text.len() as u64 > MAX_KEY_FILE_LEN {
        return Err(ConfigError::invalid(
            path.display().to_string(),
            format!("the file is longer than {MAX_KEY_FILE_LEN} bytes: is it the key file?"),
        ));
    }
    Ok(text)
}

/// Opens `path` for reading without waiting: a FIFO with no writer would
/// block `open()` for ever, and with it every later reload. The caller
/// checks what was opened (its metadata, not the path's, so a file swapped
/// between a check and the open cannot slip through). On a regular file
/// `O_NONBLOCK` changes nothing.
fn open_regular(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NONBLOCK);
    }
    options.open(path)
}

/// The keys of every file.
fn build(files: &[KeyFile], texts: &[zeroize::Zeroizing<String>]) -> Result<KeySet, ConfigError> {
    let mut keys = KeySet::default();
    for (file, text) in files.iter().zip(texts) {
        file.load(text, &mut keys)?;
    }
    Ok(keys)
}

/// The whole set: the fixed keys, the files' and the outside source's.
fn compose(fixed: &KeySet, file_keys: &KeySet, source_keys: &KeySet) -> KeySet {
    let mut keys = fixed.clone();
    keys.extend_from(file_keys);
    keys.extend_from(source_keys);
    keys
}

fn same(a: &[digest::Digest], b: &[digest::Digest]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(a, b)| a.as_ref() == b.as_ref())
}

fn sha256(text: &str) -> digest::Digest {
    digest::digest(&digest::SHA256, text.as_bytes())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_repeated_failure_is_news_once_and_a_success_ends_the_streak() {
        let path = std::env::temp_dir().join(format!("approov-news-{}", std::process::id()));
        let secret = "bmV3IHNlY3JldCBvZiBhdCBsZWFzdCB0aGlydHktdHdvIGJ5dGVzIGxvbmcu";
        std::fs::write(&path, secret).unwrap();
        let store = KeyStore::new(KeySet::default(), vec![KeyFile::Secret(path.clone())]).unwrap();
        std::fs::write(&path, "broken!").unwrap();
        let first = store.reload(None);
        assert!(first.is_err() && store.is_news(&first));
        let again = store.reload(None);
        assert!(
            again.is_err() && !store.is_news(&again),
            "the same error is not news"
        );
        std::fs::remove_file(&path).unwrap();
        let other = store.reload(None);
        assert!(store.is_news(&other), "another error is news");
        std::fs::write(&path, secret).unwrap();
        let fixed = store.reload(None);
        // The content equals the last good load: nothing to swap, but the
        // streak is over, so the next failure is news again.
        assert_eq!(*fixed.as_ref().unwrap(), KeysReloaded::Unchanged);
        assert!(!store.is_news(&fixed));
        std::fs::write(&path, "broken!").unwrap();
        let broken = store.reload(None);
        assert!(store.is_news(&broken));
        let _ = std::fs::remove_file(&path);
    }
}
