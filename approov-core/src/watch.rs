//! Key files kept current while the server runs: read again on SIGHUP and
//! on an interval (feature `watch-key-files`).

use std::io;
use std::time::Duration;

use crate::Verifier;

impl Verifier {
    /// When the verifier has [key files](Self::key_files) (a secret file, a
    /// JWKS or PEM file): reads them again with
    /// [`reload_keys`](Self::reload_keys) every `every` and, on Unix, on
    /// each SIGHUP, so a rotated secret takes effect without a restart.
    /// Without key files it does nothing.
    ///
    /// The checks run on a thread of their own with a single-threaded
    /// tokio runtime, so they work the same under any framework's runtime
    /// (or none), for as long as the process runs; they act on this
    /// verifier and every clone and derived verifier, which share its keys.
    /// `reload_keys` swaps the keys whole and logs each reload and each
    /// failure naming the file; a file that does not parse keeps the keys
    /// in use. A file unchanged since the last check costs a small read.
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
                    loop {
                        tokio::select! {
                            _ = ticks.tick() => {}
                            () = hangup.recv() => {}
                        }
                        // Failures are logged by `reload_keys`; the old keys stay.
                        let _ = verifier.reload_keys();
                    }
                });
            })?;
        Ok(())
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
