//! The conformance table run against `approov_core::Gate` itself: the
//! reference every adapter must agree with.

use approov_conformance::{
    BEARER_HEADER, BEARER_SCHEME, Case, Expect, Route, all_requests, cases, message_signing,
    pair_binding,
};
use approov_core::signing::MessageParts;
use approov_core::{ApproovOutcome, Decision, Gate, HeadDecision, TokenBinding, Verifier};

fn gate(route: Route) -> Option<Gate> {
    let verifier = Verifier::builder()
        .secret_base64(approov_conformance::SECRET)
        .build()
        .expect("verifier");
    let bound = || {
        verifier.with_token_binding(Some(
            TokenBinding::new([approov_conformance::BINDING_HEADER]).expect("binding"),
        ))
    };
    let pair = || verifier.with_token_binding(Some(pair_binding()));
    let bearer = || {
        verifier
            .with_token_header(BEARER_HEADER)
            .and_then(|v| v.with_token_scheme(Some(BEARER_SCHEME)))
            .expect("bearer verifier")
    };
    Some(match route {
        Route::Health => return None,
        Route::Plain | Route::Custom => Gate::new(verifier),
        Route::Bound => Gate::new(bound()),
        Route::ReportOnly => Gate::new(verifier).report_only(true),
        Route::BoundReportOnly => Gate::new(bound()).report_only(true),
        Route::NoPreflightSkip => Gate::new(verifier).skip_cors_preflight(false),
        Route::MessageSigning => Gate::new(verifier).message_signing(message_signing(false)),
        Route::MessageSigningAccount => Gate::new(verifier).message_signing(message_signing(true)),
        Route::Bearer => Gate::new(bearer()),
        Route::BearerReportOnly => Gate::new(bearer()).report_only(true),
        Route::BoundPair => Gate::new(pair()),
        Route::BoundPairReportOnly => Gate::new(pair()).report_only(true),
    })
}

fn outcome(case: &Case) -> &'static str {
    let Some(gate) = gate(case.route) else {
        return "verified";
    };
    let decision = if gate.signing().is_some() {
        // The two steps, as every adapter takes them: the body is read only
        // when the head step asks, and at most to the limit.
        let parts = MessageParts::new(case.method, case.route.path(), &case.headers[..])
            .with_body(!case.body.is_empty());
        match gate.check_head(&parts) {
            HeadDecision::Decided(decision) => decision,
            HeadDecision::ReadBody(check) if case.body.len() > check.max_len() => {
                let problem = check.too_large();
                check.finish(Err(problem))
            }
            HeadDecision::ReadBody(check) => check.finish(Ok(&case.body)),
        }
    } else {
        gate.check(case.method, &case.headers)
    };
    match decision {
        Decision::Reject(r) => r.kind().as_str(),
        Decision::RefuseBody(p) => p.kind(),
        Decision::Forward(ApproovOutcome::Verified(_)) => "verified",
        Decision::Forward(ApproovOutcome::SkippedPreflight) => "skipped_preflight",
        Decision::Forward(ApproovOutcome::Rejected(r)) => r.kind().as_str(),
        Decision::Forward(other) => panic!("unexpected outcome {other:?}"),
    }
}

#[test]
fn every_case_matches_the_core_gate() {
    let all = cases();
    assert!(all.len() >= 40, "the table shrank: {}", all.len());
    let mut failures = Vec::new();
    for case in &all {
        let got = outcome(case);
        if got != case.outcome() {
            failures.push(format!(
                "{}: expected {}, core says {got}",
                case.name,
                case.outcome()
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn the_sf_string_case_really_sends_an_sf_string() {
    let case = cases()
        .into_iter()
        .find(|c| c.name == "ms_valid_signature_as_sf_string")
        .expect("case");
    let (_, sig) = case
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("signature"))
        .expect("Signature header");
    assert!(
        sig.starts_with(b"install=\""),
        "{}",
        String::from_utf8_lossy(sig)
    );
}

#[test]
fn names_are_unique_and_every_route_and_kind_is_covered() {
    let all = cases();
    let mut names: Vec<_> = all.iter().map(|c| c.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), all.len(), "duplicate case names");
    let sent = all_requests();
    for route in Route::ALL {
        assert!(
            sent.iter().any(|c| c.route == route),
            "no case for {route:?}"
        );
    }
    for kind in [
        "missing",
        "multiple",
        "too_long",
        "malformed",
        "algorithm",
        "crit",
        "signature",
        "expired",
        "not_yet_valid",
        "claim",
        "binding_header",
        "binding_missing",
        "binding",
        "signature_limit",
        "scheme",
        "sdk_status",
    ] {
        assert!(
            all.iter().any(|c| c.expect == Expect::Reject(kind)),
            "no case rejects for {kind}"
        );
    }
}
