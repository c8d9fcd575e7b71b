//! `KEY_RELOAD_SECONDS` and SIGHUP: the key files of the verifier
//! (`APPROOV_BASE64_SECRET_FILE`, `APPROOV_JWKS_FILE`) read again while the
//! server runs, so a rotated secret takes effect without a restart.

use std::time::Duration;

use approov_core::Verifier;

use crate::StartError;

const VAR: &str = "KEY_RELOAD_SECONDS";
/// Kubernetes refreshes a mounted secret within a minute or so; checking
/// every 10 s adds little to that and costs a few small file reads.
const DEFAULT_SECONDS: u64 = 10;

/// How often the key files are checked: `KEY_RELOAD_SECONDS` (1 to 3600,
/// default 10).
pub(crate) fn interval(var: impl Fn(&str) -> Option<String>) -> Result<Duration, StartError> {
    match var(VAR) {
        None => Ok(Duration::from_secs(DEFAULT_SECONDS)),
        Some(value) => value
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| (1..=3600).contains(n))
            .map(Duration::from_secs)
            .ok_or_else(|| StartError::Limit {
                name: VAR,
                value,
                expected: "a whole number of seconds from 1 to 3600, e.g. 10".to_owned(),
            }),
    }
}

/// When the verifier has key files: re-reads them on SIGHUP and every
/// `every`, on a thread of its own (so it works the same under tokio and
/// actix runtimes). `Verifier::reload_keys` swaps the keys atomically and
/// logs each reload and each failure (a file that does not parse keeps the
/// keys in use).
pub(crate) fn watch(verifier: &Verifier, every: Duration) -> std::io::Result<()> {
    if verifier.key_files().next().is_none() {
        return Ok(());
    }
    let verifier = verifier.clone();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("approov-keys".into())
        .spawn(move || {
            runtime.block_on(async move {
                let mut hangup =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
                let mut ticks = tokio::time::interval(every);
                loop {
                    match &mut hangup {
                        Some(hangup) => tokio::select! {
                            _ = ticks.tick() => {}
                            _ = hangup.recv() => {}
                        },
                        None => {
                            ticks.tick().await;
                        }
                    }
                    // Failures are logged by the verifier; the old keys stay.
                    let _ = verifier.reload_keys();
                }
            });
        })?;
    Ok(())
}
