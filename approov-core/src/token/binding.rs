//! Token binding: the `pay` claim ties a token to request header values.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::digest;
use subtle::ConstantTimeEq as _;

use super::claims::ApproovClaims;
use crate::error::{ConfigError, HeaderProblem, Rejection};
use crate::headers::{RequestHeaders, check_header_name, single};

/// Binds a token to the values of one or more request headers.
///
/// The app's Approov SDK puts `pay` = standard base64 (padded) of SHA-256
/// over the bound headers' values, concatenated in order with no separator.
/// The usual binding is the `Authorization` header, `Bearer ` included, so a
/// stolen Approov token is useless without the user's session.
///
/// ```
/// use approov_core::{RejectionKind, TokenBinding};
///
/// let binding = TokenBinding::new(["Authorization"]).unwrap();
/// // The SHA-256 of "Bearer myauth_token" in standard base64:
/// let headers = [("Authorization", "Bearer myauth_token")];
/// assert!(binding.check_pay(Some("Rd7hTCAr1vfB6ejYGQNFyj9J+rwwqv/ukn8we4+93HQ="), &headers).is_ok());
/// let err = binding.check_pay(Some("d3Jvbmc="), &headers).unwrap_err();
/// assert_eq!(err.kind(), RejectionKind::Binding);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenBinding {
    headers: Vec<Box<str>>,
    failover_tolerant: bool,
    trim_values: bool,
    bearer_credential_only: bool,
}

impl TokenBinding {
    /// Binds to `headers`, hashed in the given order. Strict: a token without
    /// `pay` is rejected.
    ///
    /// Fails when the list is empty or a name is not a valid header name.
    pub fn new<I, S>(headers: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Self::from_names(headers, "TokenBinding::new")
    }

    pub(crate) fn from_names<I, S>(headers: I, source: &str) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut names = Vec::new();
        for name in headers {
            let name = name.as_ref().trim();
            check_header_name(name, source)?;
            names.push(name.into());
        }
        if names.is_empty() {
            return Err(ConfigError::invalid(
                source,
                "name at least one header to bind the token to, e.g. Authorization",
            ));
        }
        Ok(Self {
            headers: names,
            failover_tolerant: false,
            trim_values: false,
            bearer_credential_only: false,
        })
    }

    /// Accepts tokens that have no `pay` claim (as some official gateways
    /// do when the Approov failover service issued the token). A token that
    /// has `pay` is still checked. Off by default.
    pub fn failover_tolerant(mut self, yes: bool) -> Self {
        self.failover_tolerant = yes;
        self
    }

    /// Trims leading and trailing white space from each value before hashing.
    /// Off by default (the SDK hashes values exactly as sent).
    pub fn trim_values(mut self, yes: bool) -> Self {
        self.trim_values = yes;
        self
    }

    /// Hashes only the credential after a `Bearer ` prefix (scheme matched
    /// case-insensitively); values without the prefix are hashed whole. Off
    /// by default (the SDK hashes the whole `Authorization` value).
    pub fn bearer_credential_only(mut self, yes: bool) -> Self {
        self.bearer_credential_only = yes;
        self
    }

    /// The bound header names, in hashing order.
    pub fn headers(&self) -> impl Iterator<Item = &str> {
        self.headers.iter().map(AsRef::as_ref)
    }

    /// Checks verified claims against the request's headers.
    pub fn check<H: RequestHeaders + ?Sized>(
        &self,
        claims: &ApproovClaims,
        headers: &H,
    ) -> Result<(), Rejection> {
        self.check_pay(claims.pay(), headers)
    }

    /// Checks a `pay` value (absent: `None`) against the request's headers.
    pub fn check_pay<H: RequestHeaders + ?Sized>(
        &self,
        pay: Option<&str>,
        headers: &H,
    ) -> Result<(), Rejection> {
        let Some(pay) = pay else {
            return if self.failover_tolerant {
                Ok(())
            } else {
                Err(Rejection::BindingMissing)
            };
        };
        let mut hash = digest::Context::new(&digest::SHA256);
        for name in &self.headers {
            let problem = |problem| Rejection::BindingHeader {
                header: name.clone(),
                problem,
            };
            let value = single(headers, name)
                .map_err(|()| problem(HeaderProblem::Repeated))?
                .ok_or_else(|| problem(HeaderProblem::Missing))?;
            let value = self.prepare(value);
            if value.is_empty() {
                return Err(problem(HeaderProblem::Empty));
            }
            hash.update(value);
        }
        let mut expected = [0u8; 44];
        let len = STANDARD
            .encode_slice(hash.finish(), &mut expected)
            .map_err(|_| Rejection::Binding)?;
        if bool::from(expected[..len].ct_eq(pay.as_bytes())) {
            Ok(())
        } else {
            Err(Rejection::Binding)
        }
    }

    fn prepare<'v>(&self, mut value: &'v [u8]) -> &'v [u8] {
        if self.trim_values {
            value = value.trim_ascii();
        }
        if self.bearer_credential_only
            && value.len() >= 7
            && value[..7].eq_ignore_ascii_case(b"bearer ")
        {
            value = &value[7..];
        }
        value
    }
}

/// The `pay` value the SDK would compute for these header values, in order.
///
/// ```
/// assert_eq!(
///     approov_core::binding_hash(["Bearer myauth_token", "my-device-id"]),
///     "71tnS3rSq2lanEWrKz4MoexiOMtv7w0fspfM8BAQKNU="
/// );
/// ```
pub fn binding_hash<I, V>(values: I) -> String
where
    I: IntoIterator<Item = V>,
    V: AsRef<[u8]>,
{
    let mut hash = digest::Context::new(&digest::SHA256);
    for v in values {
        hash.update(v.as_ref());
    }
    STANDARD.encode(hash.finish())
}
