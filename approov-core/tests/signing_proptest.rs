//! Arbitrary `Signature-Input`, `Signature` and `Content-Digest` bytes
//! never panic: the gate always answers with a decision, and a request
//! carrying garbage is rejected for a message-signing reason.
#![cfg(feature = "mint")]
#![allow(clippy::unwrap_used)]

use approov_core::mint::{InstallKey, TokenBuilder};
use approov_core::signing::{MessageParts, MessageSigning};
use approov_core::{Decision, Gate, ManualClock, RejectionKind, Verifier};
use proptest::prelude::*;
use std::sync::OnceLock;

const SECRET: &str = "c2lnbmluZy1wcm9wdGVzdC1zZWNyZXQtMDEyMzQ1Njc4OQ==";
const NOW: u64 = 1_700_000_000;

struct Fixture {
    gate: Gate,
    token: String,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let clock = ManualClock::at_unix(NOW);
        let verifier = Verifier::builder()
            .secret_base64(SECRET)
            .clock(clock.clone())
            .build()
            .unwrap();
        let signing = MessageSigning::builder()
            .account_secret_base64("msk", SECRET)
            .clock(clock)
            .build()
            .unwrap();
        let key = InstallKey::generate().unwrap();
        let token = TokenBuilder::new()
            .exp((NOW + 300) as f64)
            .claim("ipk", key.ipk())
            .claim("mskid", "msk")
            .sign_hs256_base64(SECRET)
            .unwrap();
        Fixture {
            gate: Gate::new(verifier).message_signing(signing),
            token,
        }
    })
}

fn is_signing_kind(kind: RejectionKind) -> bool {
    matches!(
        kind,
        RejectionKind::SignatureMissing
            | RejectionKind::SignatureInvalid
            | RejectionKind::SignatureExpired
            | RejectionKind::SignatureUnsupported
            | RejectionKind::SignatureKey
            | RejectionKind::DigestMismatch
            | RejectionKind::DigestInvalid
    )
}

/// Text close to real field values, so the parser gets past the first byte.
fn sf_like() -> impl Strategy<Value = Vec<u8>> {
    let atoms = prop::sample::select(vec![
        "install=",
        "account=",
        "(",
        ")",
        "\"@method\"",
        "\"@target-uri\"",
        "\"approov-token\"",
        "\"content-digest\"",
        "\"@query-param\";name=\"a\"",
        ";created=1700000000",
        ";expires=1",
        ";alg=\"ecdsa-p256-sha256\"",
        ";key=\"sha-256\"",
        ";sf",
        ";bs",
        ":AAAA:",
        "\"QUJD\"",
        " ",
        ", ",
        "=",
        "sha-256=",
        "?1",
        "-1",
        "1.5",
        "\\",
        "\"",
        ":",
        "@status",
    ]);
    prop::collection::vec(atoms, 0..24).prop_map(|v| v.concat().into_bytes())
}

fn any_field() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![prop::collection::vec(any::<u8>(), 0..200), sf_like()]
}

proptest! {
    #[test]
    fn arbitrary_signature_fields_never_panic(
        input in any_field(),
        signature in any_field(),
        digest in prop::option::of(any_field()),
        body in prop::option::of(prop::collection::vec(any::<u8>(), 0..64)),
        query in "[a-z=&%+0-9]{0,20}",
    ) {
        let f = fixture();
        let mut headers: Vec<(&str, Vec<u8>)> = vec![
            ("Host", b"api.example.com".to_vec()),
            ("Approov-Token", f.token.clone().into_bytes()),
            ("Signature-Input", input),
            ("Signature", signature),
        ];
        if let Some(d) = digest {
            headers.push(("Content-Digest", d));
        }
        let target = format!("/p?{query}");
        let parts = MessageParts::new("POST", &target, &headers[..]);
        let _ = f.gate.check_head(&parts);
        match f.gate.check_message(&parts, body.as_deref()) {
            Decision::Reject(r) => {
                prop_assert!(is_signing_kind(r.kind()), "{r:?}");
                // The Display text is one line, whatever the request held.
                prop_assert!(!r.to_string().contains('\n'));
            }
            Decision::Forward(outcome) => prop_assert!(false, "accepted garbage: {outcome:?}"),
            Decision::RefuseBody(problem) => prop_assert!(false, "no body limit here: {problem:?}"),
        }
    }
}
