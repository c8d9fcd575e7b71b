//! The command line: `approov-proxy` serves, `approov-proxy check` reads
//! and checks the configuration as start-up does and prints a summary,
//! `--help` lists every setting from the table the configuration is read
//! by (`config/settings.rs`), `--version` prints `approov-proxy
//! <version>`. The settings themselves come from the environment only,
//! never from arguments, where `ps` would show an API key to every user
//! of the machine.

use std::ffi::OsString;

use crate::config::settings;

/// What the command line asks for.
///
/// ```
/// use approov_proxy::Invocation;
///
/// assert_eq!(Invocation::try_from_args(["approov-proxy"]).unwrap(), Invocation::Serve);
/// assert_eq!(Invocation::try_from_args(["approov-proxy", "check"]).unwrap(), Invocation::Check);
/// let help = Invocation::try_from_args(["approov-proxy", "--help"]).unwrap_err();
/// assert!(help.contains("UPSTREAM_URL"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Invocation {
    /// No arguments: read the configuration and serve.
    Serve,
    /// `check`: read and check the configuration (keys and key files, the
    /// routes file, forward-auth, Redis URL syntax) as start-up does, bind
    /// nothing, call nothing, print a summary without any secret.
    Check,
}

impl Invocation {
    /// Reads the process's arguments. `--help`, `-h` and `--version` are
    /// answered here (exit 0), as is anything else the proxy does not know
    /// (clap's message on stderr, exit 2).
    pub fn from_args() -> Self {
        match command().try_get_matches() {
            Ok(matches) => Self::of(&matches),
            Err(e) => e.exit(),
        }
    }

    /// Like [`from_args`](Self::from_args) for `args` (the first is the
    /// program's name), returning instead of exiting: `Err` holds the text
    /// `--help`, `--version` or the usage error would print.
    pub fn try_from_args<I, T>(args: I) -> Result<Self, String>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        command()
            .try_get_matches_from(args)
            .map(|matches| Self::of(&matches))
            .map_err(|e| e.render().to_string())
    }

    fn of(matches: &clap::ArgMatches) -> Self {
        match matches.subcommand_name() {
            Some("check") => Self::Check,
            _ => Self::Serve,
        }
    }
}

/// The command, its one subcommand, and the settings table as the help's
/// last part.
fn command() -> clap::Command {
    clap::Command::new("approov-proxy")
        .version(env!("CARGO_PKG_VERSION"))
        .about(
            "Verifies the Approov token of every request, then forwards it (with the API key the \
             app must never hold, if any) or answers forward-auth checks for nginx, Traefik and \
             Envoy. Configured by environment variables only.",
        )
        .disable_help_subcommand(true)
        .subcommand(clap::Command::new("check").about(
            "Read and check the configuration as start-up does (key files, routes file, \
             forward-auth, Redis URL), print a summary without secrets; exit 0, or 2 naming \
             the setting to fix. Binds and calls nothing",
        ))
        .after_help(settings::help())
}
