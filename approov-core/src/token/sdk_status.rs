//! The Approov SDK's token fetch statuses, which some apps send in place of
//! a token when the SDK could not get one.

use std::fmt;

/// What the app's Approov SDK sent in place of a token: one of its token
/// fetch status names, when it could not fetch a token (no network, a
/// man-in-the-middle detected, an unknown URL…), or [`SdkStatus::Other`].
///
/// The names are those of the SDK's token fetch status
/// (Android: `com.criticalblue.approovsdk.Approov.TokenFetchStatus`; iOS:
/// `ApproovTokenFetchStatus`, whose string form the SDK gives in the same
/// `SCREAMING_SNAKE_CASE`), the status an app's networking layer reads from
/// the result of the SDK's token fetch. [`SdkStatus::KNOWN`] lists every
/// one, here and nowhere else.
///
/// A token header value counts as a status when it is 1 to
/// [`MAX_LEN`](Self::MAX_LEN) bytes of `A`–`Z` and `_` that begins with a
/// letter (a token, being base64url with dots, always has a lowercase
/// letter, a digit or a dot). Such a value that is not one of the names is
/// [`SdkStatus::Other`]: what the client sent is never kept, so it cannot
/// reach a log or a metric label. Anything else without the dots of a
/// token stays [`RejectionKind::Malformed`](crate::RejectionKind::Malformed).
///
/// ```
/// use approov_core::{Rejection, RejectionKind, SdkStatus, Verifier};
///
/// let verifier = Verifier::builder()
///     .secret_base64("YXBwcm9vdi1ycyBleGFtcGxlIHNlY3JldDogMzIgYnl0ZXMgb3IgbW9yZSwgYXMgUkZDIDc1MTggYXNrcw==")
///     .build()?;
/// let rejection = verifier.verify("NO_NETWORK").unwrap_err();
/// assert_eq!(rejection.kind(), RejectionKind::SdkStatus);
/// assert_eq!(rejection.sdk_status(), Some(SdkStatus::NoNetwork));
/// assert_eq!(SdkStatus::NoNetwork.as_str(), "NO_NETWORK");
///
/// // Of the shape, but not a name the SDK uses: counted as `other`.
/// assert_eq!(verifier.verify("NOT_A_STATUS").unwrap_err().sdk_status(), Some(SdkStatus::Other));
/// // Not of the shape: malformed, as before.
/// assert_eq!(verifier.verify("no_network").unwrap_err().kind(), RejectionKind::Malformed);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum SdkStatus {
    /// `SUCCESS`: the SDK did get a token (an app that sends the status
    /// instead of the token is broken).
    Success,
    /// `NO_NETWORK`: no network, or the Approov service could not be reached.
    NoNetwork,
    /// `POOR_NETWORK`: the network is too poor for the fetch to complete.
    PoorNetwork,
    /// `MITM_DETECTED`: the SDK detected a man-in-the-middle on its
    /// connection to the Approov service.
    MitmDetected,
    /// `NO_APPROOV_SERVICE`: the SDK has no Approov service to fetch from
    /// (not initialised, or the service is not available to the app).
    NoApproovService,
    /// `BAD_URL`: the URL given to the fetch is not valid.
    BadUrl,
    /// `UNKNOWN_URL`: the URL's domain is not added to the account.
    UnknownUrl,
    /// `UNPROTECTED_URL`: the URL's domain is set to receive no token.
    UnprotectedUrl,
    /// `NO_NETWORK_PERMISSION`: the app lacks the network permission.
    NoNetworkPermission,
    /// `MISSING_LIB_DEPENDENCY`: the app lacks a library the SDK needs.
    MissingLibDependency,
    /// `INTERNAL_ERROR`: the SDK failed internally.
    InternalError,
    /// `REJECTED`: the attestation rejected the device or app (for calls
    /// that report it).
    Rejected,
    /// `DISABLED`: the feature asked for is disabled.
    Disabled,
    /// `UNKNOWN_KEY`: a secure string or key the app asked for is unknown.
    UnknownKey,
    /// `BAD_KEY`: the key the app asked for is not valid.
    BadKey,
    /// `BAD_PAYLOAD`: the payload the app gave is not valid.
    BadPayload,
    /// `other`: of a status's shape, but not one of the names above (a
    /// newer SDK's, or anything a client made up).
    Other,
}

impl SdkStatus {
    /// Every status name the SDK is known to send, in the SDK's order.
    pub const KNOWN: [SdkStatus; 16] = [
        Self::Success,
        Self::NoNetwork,
        Self::PoorNetwork,
        Self::MitmDetected,
        Self::NoApproovService,
        Self::BadUrl,
        Self::UnknownUrl,
        Self::UnprotectedUrl,
        Self::NoNetworkPermission,
        Self::MissingLibDependency,
        Self::InternalError,
        Self::Rejected,
        Self::Disabled,
        Self::UnknownKey,
        Self::BadKey,
        Self::BadPayload,
    ];

    /// The longest value read as a status, in bytes: longer than every
    /// name, short enough that checking the shape costs nothing.
    pub const MAX_LEN: usize = 32;

    /// The SDK's name, e.g. `"NO_NETWORK"`, or `"other"`: the label logs
    /// and metrics use. Part of the public contract, like
    /// [`RejectionKind::as_str`](crate::RejectionKind::as_str).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Success => "SUCCESS",
            Self::NoNetwork => "NO_NETWORK",
            Self::PoorNetwork => "POOR_NETWORK",
            Self::MitmDetected => "MITM_DETECTED",
            Self::NoApproovService => "NO_APPROOV_SERVICE",
            Self::BadUrl => "BAD_URL",
            Self::UnknownUrl => "UNKNOWN_URL",
            Self::UnprotectedUrl => "UNPROTECTED_URL",
            Self::NoNetworkPermission => "NO_NETWORK_PERMISSION",
            Self::MissingLibDependency => "MISSING_LIB_DEPENDENCY",
            Self::InternalError => "INTERNAL_ERROR",
            Self::Rejected => "REJECTED",
            Self::Disabled => "DISABLED",
            Self::UnknownKey => "UNKNOWN_KEY",
            Self::BadKey => "BAD_KEY",
            Self::BadPayload => "BAD_PAYLOAD",
            Self::Other => "other",
        }
    }

    /// The status a token header value is, if it has a status's shape
    /// (see the type's docs). Called only for values that are already
    /// refused (no dot), so it costs a valid token nothing.
    pub(crate) fn classify(value: &[u8]) -> Option<Self> {
        let shaped = (1..=Self::MAX_LEN).contains(&value.len())
            && value[0].is_ascii_uppercase()
            && value.iter().all(|b| b.is_ascii_uppercase() || *b == b'_');
        if !shaped {
            return None;
        }
        Some(
            Self::KNOWN
                .into_iter()
                .find(|status| status.as_str().as_bytes() == value)
                .unwrap_or(Self::Other),
        )
    }
}

impl fmt::Display for SdkStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_name_is_itself() {
        for status in SdkStatus::KNOWN {
            let name = status.as_str();
            assert_eq!(SdkStatus::classify(name.as_bytes()), Some(status), "{name}");
            assert!(name.len() <= SdkStatus::MAX_LEN, "{name}");
        }
    }

    #[test]
    fn other_words_of_the_shape_are_other() {
        for value in ["A", "NOT_A_STATUS", "NO_NETWORK_", "X_______", "SUCCESSFUL"] {
            assert_eq!(
                SdkStatus::classify(value.as_bytes()),
                Some(SdkStatus::Other),
                "{value}"
            );
        }
        let longest = "Z".repeat(SdkStatus::MAX_LEN);
        assert_eq!(
            SdkStatus::classify(longest.as_bytes()),
            Some(SdkStatus::Other)
        );
    }

    #[test]
    fn anything_else_is_not_a_status() {
        let too_long = "N".repeat(SdkStatus::MAX_LEN + 1);
        for value in [
            "",
            "no_network",
            "No_Network",
            "_NO_NETWORK",
            "NO-NETWORK",
            "NO NETWORK",
            "NO_NETWORK2",
            "NO_NETWORK\n",
            "ÉCHEC",
            too_long.as_str(),
        ] {
            assert_eq!(SdkStatus::classify(value.as_bytes()), None, "{value:?}");
        }
    }

    #[test]
    fn the_names_are_distinct() {
        let mut names: Vec<_> = SdkStatus::KNOWN.iter().map(|s| s.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), SdkStatus::KNOWN.len());
        assert!(!names.contains(&SdkStatus::Other.as_str()));
    }
}
