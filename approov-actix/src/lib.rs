//! Approov adapter (work in progress).
