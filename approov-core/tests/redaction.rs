//! Nothing secret ever shows: the token, the account secret (base64 or
//! raw) and claim values (device id, IP, binding hash…) are absent from the
//! `Debug` of every public type, the `Display` of every rejection and
//! configuration error, and the `tracing` event logged for a rejection.

mod common;

use std::fmt::{self, Write as _};
use std::sync::{Arc, Mutex, PoisonError};

use approov_core::{
    ApproovOutcome, ConfigError, Decision, Gate, ManualClock, Rejection, Secret, TokenBinding,
    Verifier, VerifierBuilder, binding_hash, log_rejection,
};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use common::{NOW, b64url, flip_signature_bit, sign_raw};

/// No English words in it, so any 4-character piece of it that shows up in
/// output is a leak, not a coincidence.
const RAW: &[u8] = b"Qz7#Vk2!Lp9@Wx4$Rt6%Ym3^Hb8&Nc5*";
const SESSION: &str = "Bearer Sess10n-Mrk-Jq4Wz";
const DID: &str = "D1d-Mrk-Zx8Pq2Lk==";
const IP: &str = "198.51.100.77";
const ARC: &str = "Arc-Mrk-Yh5Tb";
const IPK: &str = "Ipk-Mrk-Vd3Gs";
const MSKID: &str = "Msk-Mrk-Uf6Rc";
const ISS: &str = "Iss-Mrk-Nm2Kw.approov.io";
const SUB: &str = "Sub-Mrk-Oe9Bj";
const AUD: &str = "Aud-Mrk-Wr1Hx";
const TIER: &str = "Tier-Mrk-Pk7Cv";

fn secret_forms() -> Vec<String> {
    vec![
        STANDARD.encode(RAW),
        STANDARD_NO_PAD.encode(RAW),
        URL_SAFE.encode(RAW),
        URL_SAFE_NO_PAD.encode(RAW),
    ]
}

fn pay() -> String {
    binding_hash([SESSION])
}

fn payload(exp: u64) -> String {
    format!(
        r#"{{"exp":{exp},"iat":{NOW},"ip":"{IP}","did":"{DID}","arc":"{ARC}","pay":"{}","ipk":"{IPK}","mskid":"{MSKID}","iss":"{ISS}","sub":"{SUB}","aud":["{AUD}"],"tier":"{TIER}"}}"#,
        pay()
    )
}

const HEADER: &str = r#"{"alg":"HS256","typ":"JWT","kid":"kid_approov"}"#;

fn marked_token() -> String {
    sign_raw(HEADER, payload(NOW + 300), RAW)
}

/// Every string that must never appear, with a name for the failure message.
fn secrets_and_values() -> Vec<(String, String)> {
    let token = marked_token();
    let mut segments = token.split('.');
    let _header = segments.next();
    let payload_seg = segments.next().expect("payload").to_owned();
    let sig_seg = segments.next().expect("signature").to_owned();
    let mut all = vec![
        ("token".to_owned(), token.clone()),
        ("payload segment".to_owned(), payload_seg),
        ("signature segment".to_owned(), sig_seg),
        ("session header".to_owned(), SESSION.to_owned()),
        ("pay".to_owned(), pay()),
    ];
    for (name, value) in [
        ("did", DID),
        ("ip", IP),
        ("arc", ARC),
        ("ipk", IPK),
        ("mskid", MSKID),
        ("iss", ISS),
        ("sub", SUB),
        ("aud", AUD),
        ("tier", TIER),
    ] {
        all.push((name.to_owned(), value.to_owned()));
    }
    // Any 4-character piece of the secret, raw or in any base64 form.
    let raw = String::from_utf8(RAW.to_vec()).expect("ASCII");
    for form in std::iter::once(raw).chain(secret_forms()) {
        let chars: Vec<char> = form.chars().collect();
        for window in chars.windows(4) {
            all.push(("secret piece".to_owned(), window.iter().collect()));
        }
    }
    all
}

/// The first secret or value found in `text`, if any.
fn leak(text: &str) -> Option<(String, String)> {
    secrets_and_values()
        .into_iter()
        .find(|(_, value)| text.contains(value))
}

#[track_caller]
fn assert_clean(what: &str, text: &str) {
    if let Some((name, value)) = leak(text) {
        panic!("{what} leaks the {name} ({value:?}): {text}");
    }
}

fn builder() -> VerifierBuilder {
    Verifier::builder()
        .secret_base64(&secret_forms()[0])
        .secret_base64_with_kid("kid_approov", &secret_forms()[3])
        .token_binding(TokenBinding::new(["Authorization"]).expect("binding"))
        .clock(ManualClock::at_unix(NOW))
}

fn verifier() -> Verifier {
    builder().build().expect("verifier")
}

fn bound_request(token: &str) -> Vec<(&str, &str)> {
    vec![("Approov-Token", token), ("Authorization", SESSION)]
}

#[test]
fn the_marked_token_verifies_with_every_claim() {
    // Otherwise the checks below would look at empty claims.
    let token = marked_token();
    let claims = verifier()
        .verify_request(&bound_request(&token))
        .expect("verifies");
    assert_eq!(claims.did(), Some(DID));
    assert_eq!(claims.ip(), Some(IP));
    assert_eq!(claims.arc(), Some(ARC));
    assert_eq!(claims.pay(), Some(pay().as_str()));
    assert_eq!(claims.ipk(), Some(IPK));
    assert_eq!(claims.mskid(), Some(MSKID));
    assert_eq!(claims.iss(), Some(ISS));
    assert_eq!(claims.sub(), Some(SUB));
    assert_eq!(claims.aud().collect::<Vec<_>>(), [AUD]);
    assert_eq!(claims.claim("tier"), Some(serde_json::json!(TIER)));
    // And the leak checker does see them when they are there.
    assert!(leak(&format!("{claims:?}")).is_none());
    assert_eq!(leak(&format!("x{DID}x")).map(|l| l.0), Some("did".into()));
    assert_eq!(leak(&token).map(|l| l.0), Some("token".into()));
    let piece = &secret_forms()[2][10..14];
    assert_eq!(leak(piece).map(|l| l.0), Some("secret piece".into()));
}

#[test]
fn secret_debug_is_redacted() {
    let from_raw = Secret::from_bytes(RAW);
    assert_eq!(format!("{from_raw:?}"), "Secret([redacted])");
    for form in secret_forms() {
        let secret = Secret::from_base64(&form, "test").expect("valid");
        let text = format!("{secret:?} {secret:#?}");
        assert_clean("Secret Debug", &text);
    }
}

#[test]
fn verifier_and_builder_debug_show_no_key_material() {
    let builder_text = format!("{:?} {:#?}", builder(), builder());
    assert_clean("VerifierBuilder Debug", &builder_text);
    // The kid is public configuration and may show.
    assert!(builder_text.contains("kid_approov"), "{builder_text}");

    let v = verifier();
    let text = format!("{v:?} {v:#?}");
    assert_clean("Verifier Debug", &text);
    assert!(text.contains("HS256"), "{text}");

    let with_raw = Verifier::builder()
        .secret(Secret::from_bytes(RAW))
        .build()
        .expect("verifier");
    assert_clean("Verifier Debug", &format!("{with_raw:?}"));
}

#[test]
fn builder_debug_holding_a_failed_secret_shows_none_of_it() {
    let bad = "Zq8vK3pX$Wm7Ty2Rb9Lc";
    let builder = Verifier::builder().secret_base64(bad);
    let text = format!("{builder:?}");
    assert_no_piece_of(bad, "VerifierBuilder Debug", &text);
}

#[test]
fn claims_debug_shows_which_claims_not_their_values() {
    let claims = verifier()
        .verify_request(&bound_request(&marked_token()))
        .expect("verifies");
    let text = format!("{claims:?} {claims:#?}");
    assert_clean("ApproovClaims Debug", &text);
    assert!(text.contains("did"), "{text}");
}

#[test]
fn token_binding_gate_decision_and_outcome_debug() {
    let binding = TokenBinding::new(["Authorization", "X-Device-Id"])
        .expect("binding")
        .failover_tolerant(true);
    assert_clean("TokenBinding Debug", &format!("{binding:?}"));

    let gate = Gate::new(verifier()).report_only(true);
    assert_clean("Gate Debug", &format!("{gate:?} {gate:#?}"));

    let token = marked_token();
    let verified = Gate::new(verifier()).check("GET", &bound_request(&token));
    assert!(matches!(
        &verified,
        Decision::Forward(ApproovOutcome::Verified(_))
    ));
    assert_clean("Decision Debug", &format!("{verified:?} {verified:#?}"));

    let wrong_session = [
        ("Approov-Token", token.as_str()),
        ("Authorization", "Bearer x"),
    ];
    let rejected = Gate::new(verifier()).check("GET", &wrong_session);
    assert!(matches!(&rejected, Decision::Reject(Rejection::Binding)));
    assert_clean("Decision Debug", &format!("{rejected:?}"));
    let reported = gate.check("GET", &wrong_session);
    assert_clean("Decision Debug", &format!("{reported:?}"));

    for outcome in [
        ApproovOutcome::SkippedPreflight,
        ApproovOutcome::Rejected(Rejection::Binding),
        match verified {
            Decision::Forward(outcome) => outcome,
            other => panic!("{other:?}"),
        },
    ] {
        assert_clean("ApproovOutcome Debug", &format!("{outcome:?} {outcome:#?}"));
    }
}

#[cfg(feature = "mint")]
#[test]
fn signing_key_debug_is_redacted() {
    use approov_core::mint::{SigningKey, TokenBuilder};

    for form in secret_forms() {
        let key = SigningKey::hs256_base64(&form).expect("valid");
        assert_clean("SigningKey Debug", &format!("{key:?} {key:#?}"));
        // The key signs what the hand-made helper signs.
        let builder = TokenBuilder::new().exp((NOW + 300) as f64);
        assert!(verifier().verify(builder.sign(&key)).is_ok());
    }
    let key = SigningKey::hs256(&Secret::from_bytes(RAW));
    assert_clean("SigningKey Debug", &format!("{key:?}"));
}

/// The requests that produce each rejection, all carrying the marked
/// token or a variant of it and the marked session.
fn rejected_requests() -> Vec<Vec<(&'static str, String)>> {
    let token = marked_token();
    let expired = sign_raw(HEADER, payload(NOW - 1), RAW);
    let early = sign_raw(
        HEADER,
        payload(NOW + 300).replace(r#""iat""#, r#""nbf":1999999999,"iat""#),
        RAW,
    );
    let wrong_type = sign_raw(
        HEADER,
        payload(NOW + 300).replace(&format!(r#""ip":"{IP}""#), r#""ip":7"#),
        RAW,
    );
    let other_secret = sign_raw(HEADER, payload(NOW + 300), b"another secret entirely");
    let unknown_kid = sign_raw(r#"{"alg":"HS256","kid":"nope"}"#, payload(NOW + 300), b"x");
    let no_pay = sign_raw(
        HEADER,
        payload(NOW + 300).replace(&format!(r#""pay":"{}","#, pay()), ""),
        RAW,
    );
    let (input, _) = token.rsplit_once('.').expect("three segments");
    let session = SESSION.to_owned();
    let t = |token: &str| ("Approov-Token", token.to_owned());
    let auth = |value: &str| ("Authorization", value.to_owned());
    vec![
        vec![auth(&session)],
        vec![t(&token), t(&token), auth(&session)],
        vec![t(&format!("{token} ")), auth(&session)],
        vec![t(&format!("{token}.")), auth(&session)],
        vec![t(&token.repeat(20)), auth(&session)],
        vec![t(&format!("{input}.")), auth(&session)],
        vec![t(&flip_signature_bit(&token)), auth(&session)],
        vec![t(&other_secret), auth(&session)],
        vec![t(&unknown_kid), auth(&session)],
        vec![t(&expired), auth(&session)],
        vec![t(&early), auth(&session)],
        vec![t(&wrong_type), auth(&session)],
        vec![
            t(&sign_raw(r#"{"alg":"none"}"#, payload(NOW + 300), RAW)),
            auth(&session),
        ],
        vec![t(&sign_raw(
            r#"{"alg":"HS256","crit":[]}"#,
            payload(NOW + 300),
            RAW,
        ))],
        vec![t(&token)],
        vec![t(&token), auth(&session), auth(&session)],
        vec![t(&token), auth("")],
        vec![t(&token), auth("Bearer someone-else")],
        vec![t(&no_pay), auth(&session)],
        vec![t(&sign_raw(HEADER, b64url("x"), RAW)), auth(&session)],
    ]
}

#[test]
fn every_rejection_debug_and_display_is_clean() {
    let v = verifier();
    let mut kinds = std::collections::BTreeSet::new();
    for headers in rejected_requests() {
        let rejection = v.verify_request(&headers).expect_err("rejected");
        kinds.insert(rejection.kind());
        let text = format!(
            "{rejection} {rejection:?} {rejection:#?} {}",
            rejection.kind()
        );
        assert_clean("Rejection", &text);
    }
    // The cases really cover the kinds (unknown_key cannot happen beside a
    // kid-less secret; issuer and audience need their own verifiers).
    let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    assert_eq!(
        names,
        [
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
        ]
    );
    let token = marked_token();
    let cases = [
        (builder().issuer("expected.approov.io"), "issuer"),
        (builder().audience("expected-audience"), "audience"),
        (
            Verifier::builder()
                .secret_base64_with_kid("another-kid", &secret_forms()[0])
                .clock(ManualClock::at_unix(NOW)),
            "unknown_key",
        ),
    ];
    for (builder, name) in cases {
        let rejection = builder
            .build()
            .expect("verifier")
            .verify(&token)
            .expect_err("rejected");
        assert_eq!(rejection.kind().as_str(), name);
        assert_clean("Rejection", &format!("{rejection} {rejection:?}"));
    }
}

/// Asserts no 4-character piece of `secret` appears in `text`.
#[track_caller]
fn assert_no_piece_of(secret: &str, what: &str, text: &str) {
    let chars: Vec<char> = secret.chars().collect();
    for window in chars.windows(4) {
        let piece: String = window.iter().collect();
        assert!(
            !text.contains(&piece),
            "{what} contains {piece:?} of the secret: {text}"
        );
    }
}

#[test]
fn config_errors_from_bad_secrets_show_no_piece_of_them() {
    let bad_secrets = [
        "Zq8vK3pX$Wm7Ty2Rb9Lc",
        "Zq8vK3pX Wm7Ty2Rb9Lc",
        "Zq8vK3pX+Wm7Ty2Rb9-c",
        "Zq8vK3pXWm7Ty2Rb9",
        "Zq8vK3pXWm7Ty2Rb9L=c",
        "Zq8vK3pX\u{e9}Wm7Ty2Rb",
    ];
    for bad in bad_secrets {
        let errors = [
            Verifier::builder()
                .secret_base64(bad)
                .build()
                .expect_err(bad),
            Verifier::builder()
                .secret_base64_with_kid("k", bad)
                .build()
                .expect_err(bad),
            from_vars(&[("APPROOV_BASE64_SECRET", bad)]).expect_err(bad),
            from_vars(&[("APPROOV_BASE64URL_SECRET", bad)]).expect_err(bad),
            Secret::from_base64(bad, "test").expect_err(bad),
        ];
        for err in errors {
            let text = format!("{err} {err:?} {err:#?}");
            assert_no_piece_of(bad, "ConfigError", &text);
            assert!(text.contains("not base64"), "{text}");
        }
    }
}

fn from_vars(vars: &[(&str, &str)]) -> Result<VerifierBuilder, ConfigError> {
    VerifierBuilder::from_vars(|name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    })
}

#[test]
fn every_other_config_error_is_clean() {
    let good = secret_forms()[0].clone();
    let errors = [
        Verifier::builder().build().expect_err("no keys"),
        from_vars(&[]).expect_err("no secret"),
        from_vars(&[
            ("APPROOV_BASE64_SECRET", &good),
            ("APPROOV_BASE64URL_SECRET", &secret_forms()[3]),
        ])
        .expect_err("both"),
        from_vars(&[
            ("APPROOV_BASE64_SECRET", &good),
            ("APPROOV_LEEWAY_SECONDS", "x"),
        ])
        .expect_err("leeway"),
        from_vars(&[
            ("APPROOV_BASE64_SECRET", &good),
            ("APPROOV_TOKEN_HEADER", "a b"),
        ])
        .expect_err("header"),
        from_vars(&[
            ("APPROOV_BASE64_SECRET", &good),
            ("APPROOV_TOKEN_BINDING_HEADER", "a,,b"),
        ])
        .expect_err("binding"),
        Verifier::builder()
            .secret_base64(&good)
            .max_token_len(0)
            .build()
            .expect_err("zero"),
        Verifier::builder()
            .secret(Secret::from_bytes(Vec::new()))
            .build()
            .expect_err("empty"),
        Verifier::builder()
            .secret_base64(" ")
            .build()
            .expect_err("blank"),
        TokenBinding::new([] as [&str; 0]).expect_err("no headers"),
    ];
    for err in errors {
        assert_clean("ConfigError", &format!("{err} {err:?} {err:#?}"));
    }
}

// ---- tracing ---------------------------------------------------------------

/// A subscriber that keeps each event as text: its target, level and every
/// field, formatted as a log line would show them.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<String>>>);

impl Capture {
    fn lines(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

struct Fields<'a>(&'a mut String);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn fmt::Debug) {
        let _ = write!(self.0, " {}={value:?}", field.name());
    }
}

impl tracing::Subscriber for Capture {
    fn register_callsite(
        &self,
        _: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        // Ask every time: other tests in this binary run without a
        // subscriber, and must not make the callsite cache "never".
        tracing::subscriber::Interest::sometimes()
    }
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let meta = event.metadata();
        let mut line = format!("{} {}", meta.level(), meta.target());
        event.record(&mut Fields(&mut line));
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(line);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[test]
fn gate_logs_one_clean_event_per_rejection() {
    for report_only in [false, true] {
        let gate = Gate::new(verifier()).report_only(report_only);
        let capture = Capture::default();
        let requests = rejected_requests();
        let kinds: Vec<&str> = tracing::subscriber::with_default(capture.clone(), || {
            requests
                .iter()
                .map(|headers| match gate.check("GET", headers) {
                    Decision::Reject(r) | Decision::Forward(ApproovOutcome::Rejected(r)) => {
                        r.kind().as_str()
                    }
                    other => panic!("{other:?}"),
                })
                .collect()
        });
        let lines = capture.lines();
        assert_eq!(lines.len(), requests.len(), "{lines:#?}");
        for (line, kind) in lines.iter().zip(kinds) {
            assert!(line.starts_with("WARN approov "), "{line}");
            assert!(line.contains(&format!("kind={kind:?}")), "{line}");
            assert!(
                line.contains(&format!("report_only={report_only}")),
                "{line}"
            );
            assert_clean("the rejection event", line);
        }
    }
}

#[test]
fn gate_logs_nothing_for_a_verified_request_or_a_preflight() {
    let gate = Gate::new(verifier());
    let capture = Capture::default();
    let token = marked_token();
    tracing::subscriber::with_default(capture.clone(), || {
        assert!(matches!(
            gate.check("GET", &bound_request(&token)),
            Decision::Forward(ApproovOutcome::Verified(_))
        ));
        let preflight = [
            ("Origin", "https://app.example"),
            ("Access-Control-Request-Method", "POST"),
        ];
        assert!(matches!(
            gate.check("OPTIONS", &preflight),
            Decision::Forward(ApproovOutcome::SkippedPreflight)
        ));
    });
    assert_eq!(capture.lines(), Vec::<String>::new());
}

#[test]
fn log_rejection_directly() {
    let capture = Capture::default();
    tracing::subscriber::with_default(capture.clone(), || {
        log_rejection(&Rejection::Expired, true);
    });
    let lines = capture.lines();
    assert_eq!(lines.len(), 1);
    assert!(lines[0].contains(r#"kind="expired""#), "{}", lines[0]);
    assert!(lines[0].contains("report_only=true"), "{}", lines[0]);
    assert!(lines[0].contains("has expired"), "{}", lines[0]);
}
