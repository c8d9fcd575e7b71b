//! Configuration errors: each names the setting to fix, never a key.

/// Why the proxy's configuration is unusable. Every message names the
/// environment variable or file entry to fix; none contains an API key or
/// the value of a variable that may hold one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProxyConfigError {
    /// A required setting is absent (or empty).
    #[error("{setting} is not set: {hint}")]
    Missing {
        /// The variable or file entry.
        setting: String,
        /// What to set it to.
        hint: String,
    },
    /// A setting has a value the proxy cannot use.
    #[error("{setting} is not usable: {problem}")]
    Invalid {
        /// The variable or file entry.
        setting: String,
        /// What is wrong and how to fix it.
        problem: String,
    },
    /// Two settings contradict each other.
    #[error("{first} and {second} are both set: {hint}")]
    Conflict {
        /// One setting.
        first: String,
        /// The other.
        second: String,
        /// Which one to keep.
        hint: String,
    },
    /// The routes file (`PROXY_CONFIG`) cannot be read or parsed.
    #[error("PROXY_CONFIG ({path}): {problem}")]
    File {
        /// The file's path.
        path: String,
        /// What is wrong, with the line and column for syntax errors.
        problem: String,
    },
    /// The TLS client for HTTPS upstreams could not be built.
    #[error("cannot set up TLS for the upstreams: {0}")]
    Tls(String),
}

impl ProxyConfigError {
    pub(crate) fn missing(setting: impl Into<String>, hint: impl Into<String>) -> Self {
        Self::Missing {
            setting: setting.into(),
            hint: hint.into(),
        }
    }

    pub(crate) fn invalid(setting: impl Into<String>, problem: impl Into<String>) -> Self {
        Self::Invalid {
            setting: setting.into(),
            problem: problem.into(),
        }
    }

    pub(crate) fn conflict(
        first: impl Into<String>,
        second: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Self::Conflict {
            first: first.into(),
            second: second.into(),
            hint: hint.into(),
        }
    }
}
