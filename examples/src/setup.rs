//! Everything an example server needs before it can serve.

use std::net::{SocketAddr, TcpListener};

use approov_core::{TokenBinding, Verifier, VerifierBuilder};

use crate::keys;
use crate::{ServeLimits, StartError, dev, listen, logging, metrics};

const SECRET_VAR: &str = "APPROOV_BASE64_SECRET";
const SECRET_URL_VAR: &str = "APPROOV_BASE64URL_SECRET";
const CACHE_VAR: &str = "APPROOV_TOKEN_CACHE_SIZE";
/// Tokens of 10 000 devices: about 10 MiB at most.
const DEFAULT_CACHE_SIZE: &str = "10000";

/// A configured verifier and a bound listener, read from the environment
/// (see the [crate docs](crate) for the variables).
#[derive(Debug)]
#[non_exhaustive]
pub struct Setup {
    /// The verifier for plain protected routes, configured like
    /// [`Verifier::from_env`] (so `APPROOV_TOKEN_BINDING_HEADER`, when set,
    /// binds these routes too).
    pub verifier: Verifier,
    /// Token binding to the `Authorization` header, for `/token-binding`:
    /// give it to the adapter's `token_binding` option on that route.
    pub token_binding: TokenBinding,
    /// The bound, non-blocking listener.
    pub listener: TcpListener,
    /// The listener's real address (the port chosen when port 0 was asked).
    pub local_addr: SocketAddr,
    /// Request-head and idle timeouts and the connection cap, for the
    /// server loop to apply.
    pub limits: ServeLimits,
    /// Where `GET /metrics` is served (`METRICS_ADDR`, the real port), if
    /// it is: already running on a thread of its own.
    pub metrics_addr: Option<SocketAddr>,
}

impl Setup {
    /// Starts logging, builds the verifiers, binds `LISTEN_ADDR`, prints the
    /// development banner when no secret is set, then prints
    /// `listening on <ip>:<port>` on stdout; with `METRICS_ADDR` set, then
    /// serves `GET /metrics` there and prints `metrics on <ip>:<port>`.
    pub fn from_env() -> Result<Self, StartError> {
        Self::start(true)
    }

    /// Like [`from_env`](Self::from_env), except that a missing secret is
    /// a configuration error (exit code 2) instead of development mode: for
    /// servers that guard something real, such as `api-key-proxy`, where a
    /// printed development token would open the third-party key to anyone
    /// who reads the logs.
    pub fn from_env_requiring_secret() -> Result<Self, StartError> {
        Self::start(false)
    }

    fn start(allow_development_secret: bool) -> Result<Self, StartError> {
        logging::init();
        // Non-UTF-8 values are passed on lossily so they fail as "not
        // base64" or "not <ip>:<port>" instead of looking unset.
        let var = |name: &str| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned());
        let dev_secret = (allow_development_secret
            && [
                SECRET_VAR,
                SECRET_URL_VAR,
                "APPROOV_BASE64_SECRET_FILE",
                "APPROOV_JWKS_FILE",
                "APPROOV_JWKS_URL",
                "APPROOV_PUBLIC_KEY_FILE",
            ]
            .iter()
            .all(|name| var(name).is_none()))
        .then(approov_core::mint::generate_secret_base64);
        let verifier = VerifierBuilder::from_vars(|name| match &dev_secret {
            Some(secret) if name == SECRET_VAR => Some(secret.clone()),
            // The examples remember verified tokens unless told otherwise:
            // an app sends the same token until it fetches the next.
            _ if name == CACHE_VAR => var(name).or_else(|| Some(DEFAULT_CACHE_SIZE.to_owned())),
            _ => var(name),
        })?
        .build()?;
        let token_binding = TokenBinding::new(["Authorization"])?;
        let limits = ServeLimits::from_vars(var)?;
        let reload_every = keys::interval(var)?;
        let addr = listen::listen_addr(var("LISTEN_ADDR"))?;
        let metrics_addr = metrics::metrics_addr(var(metrics::METRICS_VAR))?;
        let listener = listen::bind(addr)?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| StartError::Bind { addr, source })?;
        if let Some(secret) = &dev_secret {
            dev::print_banner(secret, verifier.token_header(), local_addr)?;
        }
        keys::watch(&verifier, reload_every).map_err(StartError::KeyWatch)?;
        tracing::info!(%local_addr, development_secret = dev_secret.is_some(), "starting");
        listen::announce(local_addr);
        let metrics_addr = metrics_addr
            .map(|addr| metrics::start(addr, limits.header_read_timeout))
            .transpose()?;
        Ok(Self {
            verifier,
            token_binding,
            listener,
            local_addr,
            limits,
            metrics_addr,
        })
    }
}
