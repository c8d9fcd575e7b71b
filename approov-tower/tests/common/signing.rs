//! Message-signing fixtures: a verifier and a `MessageSigning` on one
//! manual clock, tokens carrying `ipk`, signed requests as `http::Request`s,
//! the published Approov key pair, and a body that streams in chunks (and
//! can fail, and counts how often it was read).

use std::collections::VecDeque;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use approov_core::mint::{InstallKey, RequestSigner, SignedRequest, TokenBuilder};
use approov_core::signing::{MessageSigning, MessageSigningBuilder};
use approov_core::{ManualClock, Verifier};
use approov_tower::ApproovLayer;
use approov_tower::mode::MessageSigned;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::{HeaderMap, Request};
use http_body::{Body, Frame, SizeHint};
use serde_json::Value;

use super::NOW;
/// [`SECRET`] is `S1` of the published vectors: the `good_ipk` token is
/// signed with it.
pub use super::{SECRET, clock};
/// An account message-signing secret, configured under `mskid` [`MSKID`].
pub const ACCOUNT_SECRET: &str = "YWNjb3VudC1tZXNzYWdlLXNpZ25pbmctc2VjcmV0LTAx";
pub const MSKID: &str = "msk-1";
/// What the requests are signed for: plain http to this host, as a server
/// without TLS sees them (origin-form target, `Host` header).
pub const HOST: &str = "api.example.com";
pub const PATH: &str = "/shapes?size=2";
pub const SIGNING_DID: &str = "SigningTestDID==";
pub const BODY: &[u8] = br#"{"shape":"circle"}"#;

pub fn created() -> i64 {
    NOW as i64
}

/// [`SECRET`], on the shared manual clock.
pub fn signing_verifier(clock: &ManualClock) -> Verifier {
    super::verifier_with_clock(clock)
}

/// A message-signing layer configured by `builder`, verifier and signing
/// both reading the same manual clock.
pub fn signing_layer(builder: MessageSigningBuilder) -> ApproovLayer<MessageSigned> {
    let clock = clock();
    let signing: MessageSigning = builder.clock(clock.clone()).build().expect("signing");
    ApproovLayer::new(signing_verifier(&clock)).message_signing(signing)
}

pub fn default_signing_layer() -> ApproovLayer<MessageSigned> {
    signing_layer(MessageSigning::builder())
}

pub fn token_claims(key: &InstallKey) -> TokenBuilder {
    TokenBuilder::new()
        .exp((NOW + 300) as f64)
        .claim("did", SIGNING_DID)
        .claim("ipk", key.ipk())
}

/// A token signed with [`SECRET`] carrying `key`'s public half as `ipk`.
pub fn token_for(key: &InstallKey) -> String {
    token_claims(key).sign_hs256_base64(SECRET).expect("sign")
}

/// A token signed with [`SECRET`] without `ipk`.
pub fn token_without_ipk() -> String {
    TokenBuilder::new()
        .exp((NOW + 300) as f64)
        .claim("did", SIGNING_DID)
        .sign_hs256_base64(SECRET)
        .expect("sign")
}

/// A signer for `method` to `http://api.example.com{path}` with `token`
/// and `created` = now.
pub fn signer(method: &str, path: &str, token: &str) -> RequestSigner {
    RequestSigner::new(method, &format!("http://{HOST}{path}"))
        .expect("signer")
        .header("Approov-Token", token)
        .created(created())
}

/// A POST of [`BODY`] with its Content-Digest and `key`'s token, signed.
pub fn signed_post(key: &InstallKey) -> SignedRequest {
    signer("POST", PATH, &token_for(key))
        .header("Content-Type", "application/json")
        .body(BODY)
        .sign_install(key)
        .finish()
        .expect("signed")
}

/// The signed request as a server sees it (origin-form target, every
/// header line including `Host`), with the signed body.
pub fn to_http<B: From<Bytes>>(signed: &SignedRequest) -> Request<B> {
    let body = Bytes::from(signed.body.clone().unwrap_or_default());
    to_http_with(signed, B::from(body))
}

/// Like [`to_http`] with another body.
pub fn to_http_with<B>(signed: &SignedRequest, body: B) -> Request<B> {
    let mut request = Request::builder()
        .method(signed.method.as_str())
        .uri(signed.path_and_query.as_str());
    for (name, value) in &signed.headers {
        request = request.header(name.as_str(), value.as_str());
    }
    request.body(body).expect("request")
}

fn vectors() -> &'static Value {
    static VECTORS: OnceLock<Value> = OnceLock::new();
    VECTORS.get_or_init(|| {
        let text = approov_core::mint::PUBLISHED_VECTORS;
        serde_json::from_str(text).expect("vectors are JSON")
    })
}

/// The P-256 key pair published by Approov's quickstarts.
pub fn published_key() -> InstallKey {
    let sec1 = vectors()["ipk_key_pair"]["private_sec1_der_base64"]
        .as_str()
        .expect("published key");
    InstallKey::from_sec1_der(&STANDARD.decode(sec1).expect("base64")).expect("P-256 key")
}

/// The published `good_ipk` token (signed with [`SECRET`]), whose `ipk` is [`published_key`].
pub fn good_ipk_token() -> String {
    vectors()["tokens"]
        .as_array()
        .expect("tokens")
        .iter()
        .find(|t| t["name"] == "good_ipk")
        .and_then(|t| t["token"].as_str())
        .expect("good_ipk")
        .to_owned()
}

/// The published Content-Digest example: (body, header value).
pub fn published_digest_example() -> (String, String) {
    let example = &vectors()["content_digest_example"];
    (
        example["body"].as_str().expect("body").to_owned(),
        example["content_digest"]
            .as_str()
            .expect("digest")
            .to_owned(),
    )
}

/// An `ipk` claim holding a P-384 public key: the PEM's base64 is the
/// DER SubjectPublicKeyInfo.
pub fn p384_ipk() -> String {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../approov-core/tests/keys/p384.pub.pem");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect()
}

/// A request body that yields its chunks one poll at a time, then
/// optionally an error and optionally trailers; its size is unknown, like a
/// chunked upload. Counts the frames read, so tests can tell whether
/// anyone read it.
#[derive(Debug)]
pub struct Chunks {
    chunks: VecDeque<Bytes>,
    fail: bool,
    trailers: Option<HeaderMap>,
    reads: Arc<AtomicUsize>,
}

impl Chunks {
    pub fn new(data: &[u8], chunk: usize) -> Self {
        Self {
            chunks: data
                .chunks(chunk.max(1))
                .map(Bytes::copy_from_slice)
                .collect(),
            fail: false,
            trailers: None,
            reads: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Fails with an I/O error after the chunks.
    pub fn failing(mut self) -> Self {
        self.fail = true;
        self
    }

    pub fn with_trailers(mut self, trailers: HeaderMap) -> Self {
        self.trailers = Some(trailers);
        self
    }

    /// How many frames have been read, shared with the caller.
    pub fn reads(&self) -> Arc<AtomicUsize> {
        self.reads.clone()
    }
}

impl Body for Chunks {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        if let Some(chunk) = self.chunks.pop_front() {
            return Poll::Ready(Some(Ok(Frame::data(chunk))));
        }
        if self.fail {
            self.fail = false;
            return Poll::Ready(Some(Err(std::io::Error::other("connection reset"))));
        }
        Poll::Ready(self.trailers.take().map(|t| Ok(Frame::trailers(t))))
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

/// `count` bytes of varied printable ASCII (so a reordered or truncated
/// body shows, and handlers can echo it as text).
pub fn big_body(count: usize) -> Vec<u8> {
    (0..count)
        .map(|i| b'!' + ((i * 31 + i / 97) % 94) as u8)
        .collect()
}
