//! Key files kept current while the server runs: read again on SIGHUP and
//! on an interval (feature `watch-key-files`).

use std::io;
use std::time::Duration;

use tokio::time::Instant;

use super::store::{KEY_FILE_SETTLE, KeysReloaded};
use crate::token::verifier::Verifier;

impl Verifier {
    /// When the verifier has [key files](Self::key_files) (a secret file, a
    /// JWKS or PEM file): reads them again with
    /// [`reload_keys_settled`](Self::reload_keys_settled) every `every`
    /// and, on Unix, on each SIGHUP, so a rotated secret takes effect
    /// without a restart. Without key files it does nothing.
    ///
    /// A changed file is taken once it reads the same
    /// [`KEY_FILE_SETTLE`](crate::KEY_FILE_SETTLE) (1 s; `every` when
    /// shorter) after it was first seen changed: the watcher reads it again
    /// then, so a rotation takes effect about a second after the check
    /// that saw it, and a file caught half-written is never put in use
    /// while its writer finishes within that second. Write key files by
    /// atomic rename (a temporary file in the same directory, then `mv`
    /// over the key file), as Kubernetes and systemd do, and no reader
    /// ever sees half a file. A key file that is not a regular file (or a
    /// symlink to one), such as a FIFO, is a failed reload, never a wait.
    ///
    /// The checks run on a thread of their own with a single-threaded
    /// tokio runtime, so they work the same under any framework's runtime
    /// (or none), for as long as the process runs; they act on this
    /// verifier and every clone and derived verifier, which share its keys.
    /// Each reload swaps the keys whole and is logged, as is each failure,
    /// naming the file; a file that does not parse keeps the keys in use.
    /// A file unchanged since the last check costs a small read.
    ///
    /// Kubernetes updates a mounted secret within a minute or so: every
    /// 10 seconds adds little to that. (A zero `every` is taken as 1 ms.)
    ///
    /// ```
    /// use std::time::Duration;
    /// use approov_core::Verifier;
    ///
    /// let dir = std::env::temp_dir().join(format!("approov-watch-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let file = dir.join("secret");
    /// std::fs::write(&file, "YXBwcm9vdi1ycyBleGFtcGxlIHNlY3JldDogMzIgYnl0ZXMgb3IgbW9yZSwgYXMgUkZDIDc1MTggYXNrcw==\n")?;
    /// let verifier = Verifier::builder().secret_base64_file(&file).build()?;
    /// verifier.watch_key_files(Duration::from_secs(10))?;
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// When the thread or its runtime cannot be started (out of threads or
    /// file descriptors): a start-up error.
    #[cfg_attr(docsrs, doc(cfg(feature = "watch-key-files")))]
    pub fn watch_key_files(&self, every: Duration) -> io::Result<()> {
        if self.key_files().next().is_none() {
            return Ok(());
        }
        let verifier = self.clone();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        // A zero interval would make tokio panic: check as often as it can.
        let every = every.max(Duration::from_millis(1));
        let settle = KEY_FILE_SETTLE.min(every);
        // The handler is installed before this returns, so a SIGHUP sent
        // once the server is up never meets the default action (exit).
        let mut hangup = {
            let _context = runtime.enter();
            Hangup::new()
        };
        std::thread::Builder::new()
            .name("approov-keys".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let mut ticks = tokio::time::interval(every);
                    // The first tick is immediate: the keys were just read.
                    ticks.tick().await;
                    // When a changed file is settling: when to read it again.
                    let mut recheck: Option<Instant> = None;
                    loop {
                        tokio::select! {
                            _ = ticks.tick() => {}
                            () = hangup.recv() => {}
                            () = sleep_until(recheck) => {}
                        }
                        // Failures are logged by `reload_keys_settled`; the old keys stay.
                        recheck = match verifier.reload_keys_settled(settle) {
                            Ok(KeysReloaded::Settling) => Some(Instant::now() + settle),
                            _ => None,
                        };
                    }
                });
            })?;
        Ok(())
    }
}

/// Sleeps until `at`; without one, for ever.
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// SIGHUP on Unix; elsewhere, never.
struct Hangup {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
}

impl Hangup {
    fn new() -> Self {
        Self {
            #[cfg(unix)]
            signal: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok(),
        }
    }

    async fn recv(&mut self) {
        #[cfg(unix)]
        if let Some(signal) = &mut self.signal {
            if signal.recv().await.is_some() {
                return;
            }
            // The signal stream ended: stop listening for it.
            self.signal = None;
        }
        std::future::pending::<()>().await;
    }
}
