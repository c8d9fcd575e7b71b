//! The binary's start-up, in order: logging, the proxy, the verifier, the
//! listeners (announced on stdout once bound), the key file watcher, the
//! metrics listener; then serving until SIGTERM or Ctrl-C.

use tokio::net::TcpListener;

use super::app::Proxy;
use super::{listen, metrics};
use crate::config::{Config, ServeLimits};
use crate::error::StartError;
use crate::telemetry::log::{self, TARGET};

/// The proxy started: its listeners bound and announced, ready to
/// [`serve`](Server::serve). Built by [`Server::start`] from a
/// [`Config`]; call both inside a tokio runtime.
#[derive(Debug)]
pub struct Server {
    public: TcpListener,
    /// `AUTH_LISTEN_ADDR`'s listener, when set.
    auth: Option<TcpListener>,
    proxy: Proxy,
    verifier: approov_core::Verifier,
    limits: ServeLimits,
    /// Keeps the log thread until the server is done.
    _log: tracing_appender::non_blocking::WorkerGuard,
}

impl Server {
    /// Installs the log subscriber, builds the proxy and the verifier,
    /// binds `LISTEN_ADDR` (and `AUTH_LISTEN_ADDR`) and prints `listening
    /// on <ip>:<port>` (and `forward-auth on <ip>:<port>`), starts the key
    /// file watcher and, with `METRICS_ADDR`, the metrics listener.
    pub fn start(config: Config) -> Result<Self, StartError> {
        let log = log::init_logging(config.log_format());
        let proxy = Proxy::new(&config)?;
        let verifier = config.verifier()?;
        let (public, local_addr) = listen::listen(&config)?;
        let auth = proxy.listen_auth()?;
        listen::watch_keys(&verifier, config.key_reload())?;
        tracing::info!(target: TARGET, %local_addr, "starting");
        listen::announce("listening", local_addr);
        let auth = auth.map(|(auth, auth_addr)| {
            tracing::info!(target: TARGET, %auth_addr, "serving forward-auth");
            listen::announce("forward-auth", auth_addr);
            auth
        });
        if let Some(addr) = config.metrics_addr() {
            metrics::start(addr, config.limits())?;
        }
        proxy.log_routes();
        proxy.check_redis();
        Ok(Self {
            public,
            auth,
            proxy,
            verifier,
            limits: *config.limits(),
            _log: log,
        })
    }

    /// `approov-proxy check`: what [`start`](Self::start) checks, without
    /// logging, binding or calling anything: the configuration read by
    /// [`Config::from_env`], the key files ([`Config::check_keys`]; a JWKS
    /// URL is not fetched), the proxy built. Returns
    /// [`Config::summary`], which holds no secret.
    pub fn check(config: &Config) -> Result<String, StartError> {
        config.check_keys()?;
        Proxy::new(config)?;
        Ok(config.summary())
    }

    /// Serves until SIGTERM or Ctrl-C, then drains (see
    /// [`serve`](super::serve)); the forward-auth listener, when it has its
    /// own, with the same limits, and the first to fail stops both.
    pub async fn serve(self) -> Result<(), StartError> {
        let Self {
            public,
            auth,
            proxy,
            verifier,
            limits,
            _log,
        } = self;
        let app = || proxy.service(verifier.clone());
        let public = super::serve(public, app, limits, super::shutdown_signal());
        let served = match auth {
            Some(auth) => {
                let auth_app = || proxy.auth_service(verifier.clone());
                let auth = super::serve(auth, auth_app, limits, super::shutdown_signal());
                tokio::try_join!(public, auth).map(|_drained| ())
            }
            None => public.await.map(|_drained| ()),
        };
        served.map_err(|source| StartError::Spawn {
            what: "the worker threads",
            source,
        })
    }
}
