//! An opt-in cache of verified tokens ([`VerifierBuilder::cache_verified_tokens`]).
//!
//! An Approov SDK sends the same token with every request until it fetches
//! the next one, so a busy server verifies the same few hundred bytes again
//! and again. The cache remembers the claims of tokens whose signature and
//! claims verified, keyed by the exact token bytes, so a repeat costs a hash
//! and a comparison instead of base64, HMAC and JSON. What it does not
//! change: the time rules and any issuer or audience rule are applied to the
//! cached claims on every request, token binding and message signing are
//! checked per request as before (after the token is stored: they are not
//! properties of the token), and a token whose signature or claims failed
//! is never stored.
//!
//! Layout: a fixed number of shards, each a mutex around a map from a
//! randomly keyed 64-bit hash of the token to the token and its claims, so
//! an attacker can neither predict which tokens collide nor make one shard
//! hot. A hash match is confirmed by comparing the whole token (in time that
//! depends on its length only). A full shard evicts one entry (whichever its map yields first) to
//! make room, so memory stays bounded by the capacity whatever the traffic.
//!
//! [`VerifierBuilder::cache_verified_tokens`]: crate::VerifierBuilder::cache_verified_tokens

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};
use std::sync::{Mutex, MutexGuard, PoisonError};

use zeroize::Zeroizing;

use super::claims::ApproovClaims;

/// Enough shards that worker threads rarely wait on one another.
const SHARDS: usize = 16;

pub(crate) struct TokenCache {
    shards: Box<[Mutex<Shard>]>,
    hasher: RandomState,
    per_shard: usize,
}

type Shard = HashMap<u64, Entry, BuildHasherDefault<PreHashed>>;

struct Entry {
    /// The token itself: a credential, wiped when the entry goes.
    token: Zeroizing<Vec<u8>>,
    claims: ApproovClaims,
    /// The key set it verified under: after a key reload it is verified
    /// again (its secret may be the one that was removed).
    generation: u64,
}

/// A token's place in the cache, computed once per request.
#[derive(Clone, Copy)]
pub(crate) struct Slot(u64);

impl TokenCache {
    /// A cache holding at most about `capacity` tokens (rounded up to a
    /// multiple of the shard count); `capacity` must be above zero.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            hasher: RandomState::new(),
            per_shard: capacity.div_ceil(SHARDS).max(1),
        }
    }

    /// How many tokens a full cache holds.
    pub(crate) fn capacity(&self) -> usize {
        self.per_shard * SHARDS
    }

    /// How many tokens the cache holds now.
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).len()).sum()
    }

    pub(crate) fn slot(&self, token: &[u8]) -> Slot {
        Slot(self.hasher.hash_one(token))
    }

    /// The claims of `token`, if it verified before under the key set of
    /// this `generation`.
    pub(crate) fn get(&self, slot: Slot, token: &[u8], generation: u64) -> Option<ApproovClaims> {
        let shard = lock(self.shard(slot));
        let entry = shard.get(&slot.0)?;
        (entry.generation == generation && same(&entry.token, token)).then(|| entry.claims.clone())
    }

    /// Remembers a token that verified. A different token in the same slot
    /// (a 64-bit collision) is replaced.
    pub(crate) fn insert(&self, slot: Slot, token: &[u8], claims: &ApproovClaims, generation: u64) {
        let mut shard = lock(self.shard(slot));
        if shard.len() >= self.per_shard
            && !shard.contains_key(&slot.0)
            && let Some(victim) = shard.keys().next().copied()
        {
            shard.remove(&victim);
        }
        shard.insert(
            slot.0,
            Entry {
                token: Zeroizing::new(token.to_vec()),
                claims: claims.clone(),
                generation,
            },
        );
    }

    /// Forgets `token` (it expired): no need to keep it until evicted.
    pub(crate) fn remove(&self, slot: Slot, token: &[u8]) {
        let mut shard = lock(self.shard(slot));
        if shard.get(&slot.0).is_some_and(|e| same(&e.token, token)) {
            shard.remove(&slot.0);
        }
    }

    fn shard(&self, slot: Slot) -> &Mutex<Shard> {
        // The hash's low bits pick the map bucket; use high ones here.
        &self.shards[(slot.0 >> 58) as usize % SHARDS]
    }
}

/// Whether two tokens are the same bytes, in time that depends on their
/// length only: a branch-free fold, which compiles to a vectorised loop
/// (`subtle`'s byte-at-a-time compare cost more than the rest of a cache
/// hit). A comparison is only reached through a match of the randomly keyed
/// hash, which an attacker cannot aim at, so even an early-exit compare
/// would leak nothing useful; this one leaks nothing at all.
fn same(stored: &[u8], token: &[u8]) -> bool {
    stored.len() == token.len()
        && stored
            .iter()
            .zip(token)
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

/// A panic elsewhere while holding the lock leaves the map consistent (every
/// operation above is a single map call), so a poisoned lock is used as is.
fn lock(shard: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    shard.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The map's keys are already keyed hashes: pass them through.
#[derive(Default)]
struct PreHashed(u64);

impl Hasher for PreHashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` keys reach this hasher; fold anything else anyway.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}
