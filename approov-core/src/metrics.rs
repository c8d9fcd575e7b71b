//! Counters every adapter records, through the [`metrics`](https://docs.rs/metrics)
//! facade, because the core makes every adapter's decision.
//!
//! Nothing is exported until the application installs a recorder (for
//! Prometheus, `metrics-exporter-prometheus`); with none, recording costs a
//! thread-local and an atomic load per counter, and nothing is allocated.
//! Every label value is a fixed string of this crate (a [`RejectionKind`],
//! a [`BodyProblem`](crate::BodyProblem::kind) kind, an [`SdkStatus`] name,
//! `true`/`false`): never a token, a claim, a header or a path.
//!
//! | counter | labels | counts |
//! |---|---|---|
//! | [`REQUESTS`] | `outcome` | every request the [`Gate`](crate::Gate) decides, once: `accepted`, `rejected`, `report_only` (rejected, let through in report-only mode), `preflight_skipped`, `open_path` (one of the gate's open paths), `body_refused` (the body a `Content-Digest` needed could not be read) |
//! | [`REJECTIONS`] | `kind`, `report_only` | every rejection, by [`RejectionKind::as_str`], and whether it was let through (`"true"`) or answered 401 (`"false"`) |
//! | [`SDK_STATUSES`] | `status`, `report_only` | every `sdk_status` rejection (also in [`REJECTIONS`]), by the status the Approov SDK sent in place of a token: one of [`SdkStatus::KNOWN`] (`NO_NETWORK`, `POOR_NETWORK`, `MITM_DETECTED`, …) or `other`; app-side network trouble apart from attacks |
//! | [`BODY_REFUSALS`] | `kind` | every body refused: `body_too_large`, `body_unreadable`, `body_timeout` |
//! | [`TOKEN_CACHE`] | `result` | lookups in the verified-token cache: `hit`, `miss` |
//! | [`JWKS_FETCHES`] | `result` | JWKS fetches: `ok`, `error` |
//! | [`KEY_RELOADS`] | `result` | reloads of the secret or keys: `ok`, `error` |
//!
//! A request the warp `signed` filter forwarded on its token and whose body
//! could not then be read counts as `accepted` in [`REQUESTS`] and in
//! [`BODY_REFUSALS`]: the token decision came first.
//!
//! ```
//! // At start-up, after installing a recorder: names and help texts.
//! approov_core::metrics::describe();
//! assert_eq!(approov_core::metrics::REQUESTS, "approov_requests_total");
//! ```

use ::metrics::{Key, Label, Level, Metadata};

use crate::error::RejectionKind;
use crate::token::sdk_status::SdkStatus;

/// `approov_requests_total{outcome}`: requests by the gate's decision.
pub const REQUESTS: &str = "approov_requests_total";
/// `approov_rejections_total{kind, report_only}`: rejections by kind.
pub const REJECTIONS: &str = "approov_rejections_total";
/// `approov_sdk_statuses_total{status, report_only}`: the Approov SDK's
/// token fetch statuses sent in place of a token, by [`SdkStatus::as_str`].
pub const SDK_STATUSES: &str = "approov_sdk_statuses_total";
/// `approov_body_refusals_total{kind}`: bodies refused, by problem.
pub const BODY_REFUSALS: &str = "approov_body_refusals_total";
/// `approov_token_cache_total{result}`: verified-token cache hits and misses.
pub const TOKEN_CACHE: &str = "approov_token_cache_total";
/// `approov_jwks_fetches_total{result}`: JWKS fetches that worked or failed.
pub const JWKS_FETCHES: &str = "approov_jwks_fetches_total";
/// `approov_key_reloads_total{result}`: secret and key reloads that worked
/// or failed.
pub const KEY_RELOADS: &str = "approov_key_reloads_total";

/// Gives every counter its help text (Prometheus `# HELP`). Call it once,
/// after installing the recorder; the counters work without it.
///
/// ```
/// approov_core::metrics::describe(); // without a recorder: does nothing
/// ```
pub fn describe() {
    describe_requests();
    describe_rejections();
    describe_sdk_statuses();
    describe_body_refusals();
    describe_token_cache();
    describe_jwks_fetches();
    describe_key_reloads();
}

/// The help text of [`REQUESTS`].
///
/// ```
/// approov_core::metrics::describe_requests();
/// ```
pub fn describe_requests() {
    ::metrics::describe_counter!(
        REQUESTS,
        "Requests checked for an Approov token, by outcome: accepted, rejected, \
         report_only (rejected and let through), preflight_skipped, open_path, body_refused"
    );
}

/// The help text of [`REJECTIONS`].
///
/// ```
/// approov_core::metrics::describe_rejections();
/// ```
pub fn describe_rejections() {
    ::metrics::describe_counter!(
        REJECTIONS,
        "Approov rejections by kind; report_only=\"true\" ones were let through"
    );
}

/// The help text of [`SDK_STATUSES`].
///
/// ```
/// approov_core::metrics::describe_sdk_statuses();
/// ```
pub fn describe_sdk_statuses() {
    ::metrics::describe_counter!(
        SDK_STATUSES,
        "Approov SDK token fetch statuses sent in place of a token (rejected as sdk_status), \
         by status: the SDK's name (NO_NETWORK, MITM_DETECTED, ...) or other"
    );
}

/// The help text of [`BODY_REFUSALS`].
///
/// ```
/// approov_core::metrics::describe_body_refusals();
/// ```
pub fn describe_body_refusals() {
    ::metrics::describe_counter!(
        BODY_REFUSALS,
        "Request bodies refused while checking a Content-Digest, by problem"
    );
}

/// The help text of [`TOKEN_CACHE`].
///
/// ```
/// approov_core::metrics::describe_token_cache();
/// ```
pub fn describe_token_cache() {
    ::metrics::describe_counter!(
        TOKEN_CACHE,
        "Lookups in the verified-token cache, by result: hit, miss"
    );
}

/// The help text of [`JWKS_FETCHES`].
///
/// ```
/// approov_core::metrics::describe_jwks_fetches();
/// ```
pub fn describe_jwks_fetches() {
    ::metrics::describe_counter!(JWKS_FETCHES, "JWKS fetches, by result: ok, error");
}

/// The help text of [`KEY_RELOADS`].
///
/// ```
/// approov_core::metrics::describe_key_reloads();
/// ```
pub fn describe_key_reloads() {
    ::metrics::describe_counter!(
        KEY_RELOADS,
        "Reloads of the Approov secret or keys, by result: ok, error"
    );
}

/// Where the counters say they come from, for recorders that filter.
static METADATA: Metadata<'static> = Metadata::new("approov", Level::INFO, Some(module_path!()));

/// A key built once, at compile time: recording one never allocates.
macro_rules! key {
    ($name:expr, $($label:literal => $value:expr),+) => {{
        static LABELS: [Label; [$($label),+].len()] =
            [$(Label::from_static_parts($label, $value)),+];
        static KEY: Key = Key::from_static_parts($name, &LABELS);
        &KEY
    }};
}

fn increment(key: &'static Key) {
    ::metrics::with_recorder(|recorder| recorder.register_counter(key, &METADATA).increment(1));
}

/// Two counters with one recorder lookup.
fn increment_both(first: &'static Key, second: &'static Key) {
    ::metrics::with_recorder(|recorder| {
        recorder.register_counter(first, &METADATA).increment(1);
        recorder.register_counter(second, &METADATA).increment(1);
    });
}

/// How a forwarded request passed, as [`REQUESTS`] names it. (The gate
/// maps its outcomes to these, so this module imports nothing of the
/// gate's.)
pub(crate) enum Passed {
    /// `accepted`: the token verified.
    Accepted,
    /// `report_only`: refused, let through in report-only mode.
    ReportOnly,
    /// `preflight_skipped`: a CORS preflight, not checked.
    PreflightSkipped,
    /// `open_path`: one of the gate's open paths, not checked.
    OpenPath,
}

/// The request was forwarded.
pub(crate) fn forwarded(passed: Passed) {
    increment(match passed {
        Passed::Accepted => key!(REQUESTS, "outcome" => "accepted"),
        Passed::ReportOnly => key!(REQUESTS, "outcome" => "report_only"),
        Passed::PreflightSkipped => key!(REQUESTS, "outcome" => "preflight_skipped"),
        Passed::OpenPath => key!(REQUESTS, "outcome" => "open_path"),
    });
}

/// The request was rejected for `kind` (and let through in report-only
/// mode): counted in [`REJECTIONS`] and [`REQUESTS`].
pub(crate) fn rejected(kind: RejectionKind, report_only: bool) {
    let request = if report_only {
        key!(REQUESTS, "outcome" => "report_only")
    } else {
        key!(REQUESTS, "outcome" => "rejected")
    };
    increment_both(rejection_key(kind, report_only), request);
}

/// An `sdk_status` rejection's status, counted in [`SDK_STATUSES`] (the
/// rejection itself is counted by [`rejected`]).
pub(crate) fn sdk_status(status: SdkStatus, report_only: bool) {
    increment(sdk_status_key(status, report_only));
}

/// Why a body was refused, as [`BODY_REFUSALS`] names it.
pub(crate) enum Refusal {
    /// `body_too_large`
    TooLarge,
    /// `body_unreadable`
    Unreadable,
    /// `body_timeout`
    TimedOut,
}

/// The body was refused; `request` when this decided the request (the
/// token decision was not counted already).
pub(crate) fn body_refused(refusal: Refusal, request: bool) {
    let refusal = match refusal {
        Refusal::TooLarge => key!(BODY_REFUSALS, "kind" => "body_too_large"),
        Refusal::Unreadable => key!(BODY_REFUSALS, "kind" => "body_unreadable"),
        Refusal::TimedOut => key!(BODY_REFUSALS, "kind" => "body_timeout"),
    };
    if request {
        increment_both(refusal, key!(REQUESTS, "outcome" => "body_refused"));
    } else {
        increment(refusal);
    }
}

/// A lookup in the verified-token cache.
pub(crate) fn token_cache(hit: bool) {
    increment(if hit {
        key!(TOKEN_CACHE, "result" => "hit")
    } else {
        key!(TOKEN_CACHE, "result" => "miss")
    });
}

/// A JWKS fetch that worked or failed (feature `jwks-url`).
#[cfg_attr(not(feature = "jwks-url"), allow(dead_code))]
pub(crate) fn jwks_fetch(ok: bool) {
    increment(if ok {
        key!(JWKS_FETCHES, "result" => "ok")
    } else {
        key!(JWKS_FETCHES, "result" => "error")
    });
}

/// A reload of the secret or keys that worked or failed.
pub(crate) fn key_reload(ok: bool) {
    increment(if ok {
        key!(KEY_RELOADS, "result" => "ok")
    } else {
        key!(KEY_RELOADS, "result" => "error")
    });
}

/// One static key per kind and report-only flag. The match is exhaustive
/// inside the crate, so a new kind does not compile until it has its keys.
fn rejection_key(kind: RejectionKind, report_only: bool) -> &'static Key {
    macro_rules! keys {
        ($($kind:ident),+ $(,)?) => {
            match kind {
                $(RejectionKind::$kind => {
                    const KIND: &str = RejectionKind::$kind.as_str();
                    if report_only {
                        key!(REJECTIONS, "kind" => KIND, "report_only" => "true")
                    } else {
                        key!(REJECTIONS, "kind" => KIND, "report_only" => "false")
                    }
                })+
            }
        };
    }
    keys!(
        Missing,
        Multiple,
        TooLong,
        Malformed,
        Algorithm,
        Crit,
        UnknownKey,
        Signature,
        Expired,
        NotYetValid,
        Claim,
        Issuer,
        Audience,
        BindingHeader,
        BindingMissing,
        Binding,
        SignatureMissing,
        SignatureInvalid,
        SignatureExpired,
        SignatureUnsupported,
        SignatureKey,
        SignatureLimit,
        DigestMismatch,
        DigestInvalid,
        Scheme,
        SdkStatus,
        KeysUnavailable,
    )
}

/// One static key per SDK status and report-only flag; exhaustive, like
/// [`rejection_key`].
fn sdk_status_key(status: SdkStatus, report_only: bool) -> &'static Key {
    macro_rules! keys {
        ($($status:ident),+ $(,)?) => {
            match status {
                $(SdkStatus::$status => {
                    const STATUS: &str = SdkStatus::$status.as_str();
                    if report_only {
                        key!(SDK_STATUSES, "status" => STATUS, "report_only" => "true")
                    } else {
                        key!(SDK_STATUSES, "status" => STATUS, "report_only" => "false")
                    }
                })+
            }
        };
    }
    keys!(
        Success,
        NoNetwork,
        PoorNetwork,
        MitmDetected,
        NoApproovService,
        BadUrl,
        UnknownUrl,
        UnprotectedUrl,
        NoNetworkPermission,
        MissingLibDependency,
        InternalError,
        Rejected,
        Disabled,
        UnknownKey,
        BadKey,
        BadPayload,
        Other,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejection_keys_carry_the_kind_and_flag() {
        let key = rejection_key(RejectionKind::NotYetValid, true);
        assert_eq!(key.name(), REJECTIONS);
        let labels: Vec<_> = key.labels().map(|l| (l.key(), l.value())).collect();
        assert_eq!(labels, [("kind", "not_yet_valid"), ("report_only", "true")]);
    }

    #[test]
    fn sdk_status_keys_carry_the_status_and_flag() {
        for status in SdkStatus::KNOWN.into_iter().chain([SdkStatus::Other]) {
            let key = sdk_status_key(status, false);
            assert_eq!(key.name(), SDK_STATUSES);
            let labels: Vec<_> = key.labels().map(|l| (l.key(), l.value())).collect();
            assert_eq!(
                labels,
                [("status", status.as_str()), ("report_only", "false")]
            );
        }
        let key = sdk_status_key(SdkStatus::Other, true);
        let labels: Vec<_> = key.labels().map(|l| l.value()).collect();
        assert_eq!(labels, ["other", "true"]);
    }

    #[test]
    fn jwks_and_reload_counters_record() {
        let recorder = metrics_util::debugging::DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        ::metrics::with_local_recorder(&recorder, || {
            jwks_fetch(true);
            jwks_fetch(false);
            jwks_fetch(false);
            key_reload(true);
        });
        let counts: Vec<(String, Vec<String>, u64)> = snapshotter
            .snapshot()
            .into_vec()
            .into_iter()
            .filter_map(|(key, _, _, value)| match value {
                metrics_util::debugging::DebugValue::Counter(n) => Some((
                    key.key().name().to_owned(),
                    key.key().labels().map(|l| l.value().to_owned()).collect(),
                    n,
                )),
                _ => None,
            })
            .collect();
        let get = |name: &str, value: &str| {
            counts
                .iter()
                .find(|(n, l, _)| n == name && l == &[value])
                .map(|c| c.2)
        };
        assert_eq!(get(JWKS_FETCHES, "ok"), Some(1));
        assert_eq!(get(JWKS_FETCHES, "error"), Some(2));
        assert_eq!(get(KEY_RELOADS, "ok"), Some(1));
        assert_eq!(get(KEY_RELOADS, "error"), None);
    }
}
