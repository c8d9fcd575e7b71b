//! One gate check, so one log event, per refused request (message-signing
//! refusals and refused bodies included): the filter does not verify twice,
//! and neither the event nor the response carries the token.

use std::sync::{Arc, Mutex};

use approov_core::Verifier;
use approov_core::mint::TokenBuilder;
use approov_warp::ApproovFilter;
use tracing::field::{Field, Visit};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt as _};
use warp::Filter;

const SECRET: &str = "bG9nZ2luZy10ZXN0LXNlY3JldC1mb3ItYXBwcm9vdi13YXJwLTAxMjM0NTY3ODk=";

/// Every `approov` event, as its formatted fields.
#[derive(Clone, Default)]
struct Events(Arc<Mutex<Vec<String>>>);

struct Fields(String);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!("{}={:?} ", field.name(), value));
    }
}

impl<S: tracing::Subscriber> Layer<S> for Events {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() == "approov" {
            let mut fields = Fields(String::new());
            event.record(&mut fields);
            self.0.lock().expect("not poisoned").push(fields.0);
        }
    }
}

impl Events {
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().expect("not poisoned"))
    }
}

#[tokio::test]
async fn one_event_per_refused_request_without_the_token() {
    let events = Events::default();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(events.clone()));

    let approov = ApproovFilter::new(
        Verifier::builder()
            .secret_base64(SECRET)
            .build()
            .expect("verifier"),
    );
    // Path filters first, as the crate docs advise: only the matching
    // route checks the token.
    let routes = warp::path!("a")
        .and(approov.protect())
        .map(|| "a")
        .or(warp::path!("b").and(approov.protect()).map(|| "b"))
        .or(warp::path!("c").and(approov.claims()).map(|_| "c"))
        .recover(approov_warp::recover);

    let expired = TokenBuilder::approov_example()
        .expires_in(-60)
        .sign_hs256_base64(SECRET)
        .expect("token");
    for path in ["/a", "/b", "/c"] {
        let res = warp::test::request()
            .path(path)
            .header("approov-token", &expired)
            .reply(&routes)
            .await;
        assert_eq!(res.status(), 401);
        let logged = events.take();
        assert_eq!(logged.len(), 1, "{path}: {logged:?}");
        assert!(logged[0].contains("kind=\"expired\""), "{logged:?}");
        assert!(logged[0].contains("report_only=false"), "{logged:?}");
        for segment in expired.split('.') {
            assert!(!logged[0].contains(segment), "{logged:?}");
        }
    }

    let good = TokenBuilder::approov_example()
        .sign_hs256_base64(SECRET)
        .expect("token");
    let res = warp::test::request()
        .path("/b")
        .header("approov-token", &good)
        .reply(&routes)
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(events.take(), Vec::<String>::new());

    // Report-only: logged once, marked, and let through.
    let report = approov
        .clone()
        .report_only(true)
        .protect()
        .map(|| "through");
    let res = warp::test::request()
        .header("approov-token", &expired)
        .reply(&report)
        .await;
    assert_eq!(res.status(), 200);
    let logged = events.take();
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert!(logged[0].contains("report_only=true"), "{logged:?}");
}

#[tokio::test]
async fn one_event_per_refused_signed_request_and_per_refused_body() {
    use approov_core::mint::{InstallKey, RequestSigner};
    use approov_core::signing::MessageSigning;

    let events = Events::default();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(events.clone()));

    let signing = MessageSigning::builder()
        .max_body_len(16)
        .build()
        .expect("signing");
    let approov = ApproovFilter::new(
        Verifier::builder()
            .secret_base64(SECRET)
            .build()
            .expect("verifier"),
    )
    .message_signing(signing);
    let routes = warp::path!("get")
        .and(approov.protect())
        .map(|| "get")
        .or(warp::path!("post")
            .and(approov.signed_claims())
            .map(|_, _| "post"))
        .recover(approov_warp::recover);

    let key = InstallKey::generate().expect("key");
    let token = TokenBuilder::approov_example()
        .claim("ipk", key.ipk())
        .sign_hs256_base64(SECRET)
        .expect("token");
    for path in ["/get", "/post"] {
        let res = warp::test::request()
            .path(path)
            .header("approov-token", &token)
            .reply(&routes)
            .await;
        assert_eq!(res.status(), 401);
        let logged = events.take();
        assert_eq!(logged.len(), 1, "{path}: {logged:?}");
        assert!(
            logged[0].contains("kind=\"signature_missing\""),
            "{logged:?}"
        );
        for segment in token.split('.') {
            assert!(!logged[0].contains(segment), "{logged:?}");
        }
    }

    let signed = RequestSigner::new("POST", "http://localhost/post")
        .expect("uri")
        .header("Approov-Token", &token)
        .body(vec![b'x'; 17])
        .sign_install(&key)
        .finish()
        .expect("signed");
    let mut req = warp::test::request().method("POST").path("/post");
    for (name, value) in &signed.headers {
        req = req.header(name.as_str(), value.as_str());
    }
    let res = req.body(vec![b'x'; 17]).reply(&routes).await;
    assert_eq!(res.status(), 413);
    let logged = events.take();
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert!(logged[0].contains("kind=\"body_too_large\""), "{logged:?}");
    // The core's event: the adapter does not log the body again.
    assert!(logged[0].contains("status=413"), "{logged:?}");
    assert!(logged[0].contains("16-byte limit"), "{logged:?}");
}
