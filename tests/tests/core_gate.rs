//! The conformance table run against `approov_core::Gate` itself: the
//! reference every adapter must agree with.

use approov_conformance::{Case, Expect, Route, cases};
use approov_core::{ApproovOutcome, Decision, Gate, TokenBinding, Verifier};

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
    Some(match route {
        Route::Health => return None,
        Route::Plain | Route::Custom => Gate::new(verifier),
        Route::Bound => Gate::new(bound()),
        Route::ReportOnly => Gate::new(verifier).report_only(true),
        Route::BoundReportOnly => Gate::new(bound()).report_only(true),
        Route::NoPreflightSkip => Gate::new(verifier).skip_cors_preflight(false),
    })
}

fn outcome(case: &Case) -> &'static str {
    let Some(gate) = gate(case.route) else {
        return "verified";
    };
    match gate.check(case.method, &case.headers) {
        Decision::Reject(r) => r.kind().as_str(),
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
fn names_are_unique_and_every_route_and_kind_is_covered() {
    let all = cases();
    let mut names: Vec<_> = all.iter().map(|c| c.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), all.len(), "duplicate case names");
    for route in Route::ALL {
        assert!(
            all.iter().any(|c| c.route == route),
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
    ] {
        assert!(
            all.iter().any(|c| c.expect == Expect::Reject(kind)),
            "no case rejects for {kind}"
        );
    }
}
