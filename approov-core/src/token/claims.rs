//! The verified claims of an Approov token, parsed strictly: a known claim
//! with the wrong JSON type (`null` included) or repeated is a rejection,
//! never "absent" (treating it as absent was CVE-2026-25537 in jsonwebtoken).

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;
use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::{ClaimProblem, Rejection, TokenPart};

/// The claims of a verified Approov token.
///
/// The common Approov claims have typed accessors; [`ApproovClaims::claim`]
/// reads any other. `Debug` shows which claims are present but not their
/// values, so claims can be logged by accident without leaking device ids,
/// IP addresses or binding hashes.
///
/// Cloning is cheap: clones share one allocation.
#[derive(Clone, PartialEq)]
pub struct ApproovClaims(Arc<Claims>);

#[derive(PartialEq)]
struct Claims {
    exp: f64,
    iat: Option<f64>,
    nbf: Option<f64>,
    ip: Option<Text>,
    did: Option<Text>,
    arc: Option<Text>,
    pay: Option<Text>,
    ipk: Option<Text>,
    mskid: Option<Text>,
    iss: Option<Text>,
    sub: Option<Text>,
    aud: Option<Aud>,
    /// The whole decoded payload: string claims point into it, and
    /// [`ApproovClaims::claim`] parses it again.
    raw: String,
}

impl Claims {
    fn empty() -> Self {
        Self {
            exp: 0.0,
            iat: None,
            nbf: None,
            ip: None,
            did: None,
            arc: None,
            pay: None,
            ipk: None,
            mskid: None,
            iss: None,
            sub: None,
            aud: None,
            raw: String::new(),
        }
    }
}

/// `aud`: one string (what Approov issues, kept as a range of the payload
/// like the other string claims) or an array of strings.
#[derive(PartialEq)]
enum Aud {
    One(Text),
    Many(Vec<String>),
}

/// A string claim. Keeping a range of the payload instead of a `String`
/// per claim saves an allocation and a copy each: with the payload buffer
/// reused as `raw`, the claims of Approov's `good_full` example take four
/// allocations instead of eight (about 45 ns, 4%, of an HS256 verify on the
/// `BENCHMARKS.md` machine). Only a JSON string with escapes, whose value
/// differs from its bytes, is copied out.
#[derive(PartialEq)]
enum Text {
    Span(Range<usize>),
    Unescaped(Box<str>),
}

impl ApproovClaims {
    /// `exp`: when the token expires, in seconds since the Unix epoch. Approov
    /// tokens may carry a fractional value.
    pub fn exp(&self) -> f64 {
        self.0.exp
    }

    /// `exp` as a [`SystemTime`].
    pub fn expires_at(&self) -> SystemTime {
        to_system_time(self.0.exp)
    }

    /// `iat`: when the token was issued, in seconds since the Unix epoch.
    pub fn iat(&self) -> Option<f64> {
        self.0.iat
    }

    /// `nbf`: the time before which the token is not valid.
    pub fn nbf(&self) -> Option<f64> {
        self.0.nbf
    }

    /// `ip`: the client IP address Approov saw when it issued the token.
    pub fn ip(&self) -> Option<&str> {
        self.text(&self.0.ip)
    }

    /// `did`: the device id (base64), stable for an app installation.
    pub fn did(&self) -> Option<&str> {
        self.text(&self.0.did)
    }

    /// `arc`: the annotated attestation response code, when the account
    /// enables it.
    pub fn arc(&self) -> Option<&str> {
        self.text(&self.0.arc)
    }

    /// `pay`: the token binding hash (standard base64 of SHA-256).
    pub fn pay(&self) -> Option<&str> {
        self.text(&self.0.pay)
    }

    /// `ipk`: the installation public key (base64 P-256 SubjectPublicKeyInfo)
    /// used for HTTP message signing.
    pub fn ipk(&self) -> Option<&str> {
        self.text(&self.0.ipk)
    }

    /// `mskid`: the account message-signing key id.
    pub fn mskid(&self) -> Option<&str> {
        self.text(&self.0.mskid)
    }

    /// `iss`: the issuer.
    pub fn iss(&self) -> Option<&str> {
        self.text(&self.0.iss)
    }

    /// `sub`: the subject.
    pub fn sub(&self) -> Option<&str> {
        self.text(&self.0.sub)
    }

    /// `aud`: the audiences, in token order (a single string in the token
    /// counts as one). Empty when the token has no `aud`.
    pub fn aud(&self) -> impl Iterator<Item = &str> + '_ {
        let (one, many) = match &self.0.aud {
            None => (None, &[][..]),
            Some(Aud::One(text)) => (self.str_of(text), &[][..]),
            Some(Aud::Many(all)) => (None, all.as_slice()),
        };
        one.into_iter().chain(many.iter().map(String::as_str))
    }

    /// Any claim by name, as JSON, or `None` when the token does not have it.
    ///
    /// This parses the payload again, so call it outside hot loops.
    ///
    /// ```
    /// # #[cfg(feature = "mint")] {
    /// use approov_core::{Verifier, mint::TokenBuilder};
    ///
    /// let secret = "YXBwcm9vdi1ycyBleGFtcGxlIHNlY3JldDogMzIgYnl0ZXMgb3IgbW9yZSwgYXMgUkZDIDc1MTggYXNrcw==";
    /// let verifier = Verifier::builder().secret_base64(secret).build().unwrap();
    /// let token = TokenBuilder::new()
    ///     .expires_in(60)
    ///     .claim("tier", "gold")
    ///     .sign_hs256_base64(secret)
    ///     .unwrap();
    /// let claims = verifier.verify(&token).unwrap();
    /// assert_eq!(claims.claim("tier"), Some(serde_json::json!("gold")));
    /// assert_eq!(claims.claim("absent"), None);
    /// # }
    /// ```
    pub fn claim(&self, name: &str) -> Option<serde_json::Value> {
        let mut all: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&self.0.raw).ok()?;
        all.remove(name)
    }

    /// Reads the token's claims into your own `serde` type: the custom
    /// claims Approov adds for your account (annotations, your own fields)
    /// next to the standard ones. It reads the payload that already
    /// verified, so there is no second signature check; a missing claim or
    /// one of the wrong type is an error value, never a panic. Fields may
    /// borrow from the claims (`&str`). Like [`claim`](Self::claim), this
    /// parses the payload again.
    ///
    /// ```
    /// # #[cfg(feature = "mint")] {
    /// use approov_core::{Verifier, mint::TokenBuilder};
    ///
    /// #[derive(serde::Deserialize)]
    /// struct MyClaims<'a> {
    ///     did: &'a str,
    ///     tier: String,
    ///     #[serde(default)]
    ///     beta: bool,
    /// }
    ///
    /// let secret = "YXBwcm9vdi1ycyBleGFtcGxlIHNlY3JldDogMzIgYnl0ZXMgb3IgbW9yZSwgYXMgUkZDIDc1MTggYXNrcw==";
    /// let verifier = Verifier::builder().secret_base64(secret).build().unwrap();
    /// let token = TokenBuilder::approov_example()
    ///     .claim("tier", "gold")
    ///     .sign_hs256_base64(secret)
    ///     .unwrap();
    /// let claims = verifier.verify(&token).unwrap();
    /// let mine: MyClaims = claims.deserialize().unwrap();
    /// assert_eq!((mine.did, mine.tier.as_str(), mine.beta), ("ExampleApproovTokenDID==", "gold", false));
    ///
    /// // A claim of another type is an error that names no claim value.
    /// #[derive(Debug, serde::Deserialize)]
    /// struct Wrong { tier: u32 }
    /// let err = claims.deserialize::<Wrong>().unwrap_err();
    /// assert!(!err.to_string().contains("gold"));
    /// # }
    /// ```
    pub fn deserialize<'a, T: serde::Deserialize<'a>>(&'a self) -> Result<T, ClaimsError> {
        serde_json::from_str(&self.0.raw).map_err(ClaimsError::from_json)
    }

    /// The names of every claim in the token, in payload order.
    pub fn names(&self) -> Vec<String> {
        serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&self.0.raw)
            .map(|all| all.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn text<'a>(&'a self, text: &'a Option<Text>) -> Option<&'a str> {
        self.str_of(text.as_ref()?)
    }

    fn str_of<'a>(&'a self, text: &'a Text) -> Option<&'a str> {
        match text {
            Text::Span(range) => self.0.raw.get(range.clone()),
            Text::Unescaped(s) => Some(s),
        }
    }

    /// Parses a payload that has already passed signature verification,
    /// keeping it as the claims' one buffer.
    pub(crate) fn parse(payload: Vec<u8>) -> Result<Self, Rejection> {
        let malformed = Rejection::malformed(TokenPart::Payload);
        let text = String::from_utf8(payload).map_err(|_| malformed.clone())?;
        let problem = Cell::new(None);
        // Filled in place: the claims are a few hundred bytes, and moving
        // them out of serde's visitor and into the `Arc` cost about 3% of a
        // verify.
        let mut claims = Claims::empty();
        let mut de = serde_json::Deserializer::from_str(&text);
        let parsed = de
            .deserialize_map(ClaimsVisitor {
                problem: &problem,
                base: text.as_ptr() as usize,
                claims: &mut claims,
            })
            .and_then(|()| de.end());
        match parsed {
            Ok(()) => {
                claims.raw = text;
                Ok(Self(Arc::new(claims)))
            }
            Err(e) => match (e.classify(), problem.take()) {
                (serde_json::error::Category::Data, Some((claim, problem))) => {
                    Err(Rejection::Claim { claim, problem })
                }
                _ => Err(malformed),
            },
        }
    }
}

impl fmt::Debug for ApproovClaims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn shown<T>(v: &Option<T>) -> &'static str {
            if v.is_some() { "[redacted]" } else { "None" }
        }
        f.debug_struct("ApproovClaims")
            .field("exp", &self.0.exp)
            .field("iat", &self.0.iat)
            .field("nbf", &self.0.nbf)
            .field("ip", &format_args!("{}", shown(&self.0.ip)))
            .field("did", &format_args!("{}", shown(&self.0.did)))
            .field("arc", &format_args!("{}", shown(&self.0.arc)))
            .field("pay", &format_args!("{}", shown(&self.0.pay)))
            .field("ipk", &format_args!("{}", shown(&self.0.ipk)))
            .field("mskid", &format_args!("{}", shown(&self.0.mskid)))
            .field("iss", &format_args!("{}", shown(&self.0.iss)))
            .field("sub", &format_args!("{}", shown(&self.0.sub)))
            .field("aud", &format_args!("{}", shown(&self.0.aud)))
            .finish_non_exhaustive()
    }
}

fn to_system_time(seconds: f64) -> SystemTime {
    let magnitude = Duration::try_from_secs_f64(seconds.abs()).unwrap_or(Duration::MAX);
    let shifted = if seconds >= 0.0 {
        UNIX_EPOCH.checked_add(magnitude)
    } else {
        UNIX_EPOCH.checked_sub(magnitude)
    };
    shifted.unwrap_or(UNIX_EPOCH)
}

/// A JSON string, borrowed from the input when it has no escapes.
pub(crate) struct StrictStr<'a>(pub(crate) Cow<'a, str>);

impl<'de> de::Deserialize<'de> for StrictStr<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StrictStr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(StrictStr(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(StrictStr(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(StrictStr(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// `aud`: a string or an array of strings (RFC 7519 §4.1.3).
enum Audience<'de> {
    One(StrictStr<'de>),
    Many(Vec<String>),
}

impl<'de> de::Deserialize<'de> for Audience<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Audience<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array of strings")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Audience::One(StrictStr(Cow::Borrowed(v))))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Audience::One(StrictStr(Cow::Owned(v.to_owned()))))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut all = Vec::new();
                while let Some(StrictStr(s)) = seq.next_element()? {
                    all.push(s.into_owned());
                }
                Ok(Audience::Many(all))
            }
        }
        d.deserialize_any(V)
    }
}

/// A NumericDate: any JSON number, integer or fractional.
struct NumericDate(f64);

impl<'de> de::Deserialize<'de> for NumericDate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // f64's own impl accepts exactly the JSON numbers (not strings,
        // booleans or null).
        f64::deserialize(d).map(NumericDate)
    }
}

struct ClaimsVisitor<'p, 'c> {
    /// Set when the error is about a known claim, so the caller can report
    /// which one without parsing serde's message.
    problem: &'p Cell<Option<(&'static str, ClaimProblem)>>,
    /// The address of the payload text, to turn borrowed strings into spans.
    base: usize,
    /// Where the claims go.
    claims: &'c mut Claims,
}

impl<'de> Visitor<'de> for ClaimsVisitor<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object of claims")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut exp = None;
        let mut iat = None;
        let mut nbf = None;
        let ClaimsVisitor {
            problem,
            base,
            claims: c,
        } = self;
        let blame = Blame(problem);
        let text = |StrictStr(s): StrictStr<'de>| match s {
            // serde_json borrows only from the payload text, so the
            // fallback copy is never taken; it just keeps this panic-free.
            Cow::Borrowed(s) => match (s.as_ptr() as usize).checked_sub(base) {
                Some(start) => Text::Span(start..start + s.len()),
                None => Text::Unescaped(s.into()),
            },
            Cow::Owned(s) => Text::Unescaped(s.into_boxed_str()),
        };
        while let Some(StrictStr(key)) = map.next_key()? {
            let key = key.as_ref();
            match key {
                "exp" => blame.once(&mut exp, "exp", &mut map, |NumericDate(v)| v)?,
                "iat" => blame.once(&mut iat, "iat", &mut map, |NumericDate(v)| v)?,
                "nbf" => blame.once(&mut nbf, "nbf", &mut map, |NumericDate(v)| v)?,
                "ip" => blame.once(&mut c.ip, "ip", &mut map, text)?,
                "did" => blame.once(&mut c.did, "did", &mut map, text)?,
                "arc" => blame.once(&mut c.arc, "arc", &mut map, text)?,
                "pay" => blame.once(&mut c.pay, "pay", &mut map, text)?,
                "ipk" => blame.once(&mut c.ipk, "ipk", &mut map, text)?,
                "mskid" => blame.once(&mut c.mskid, "mskid", &mut map, text)?,
                "iss" => blame.once(&mut c.iss, "iss", &mut map, text)?,
                "sub" => blame.once(&mut c.sub, "sub", &mut map, text)?,
                "aud" => blame.once(&mut c.aud, "aud", &mut map, |aud| match aud {
                    Audience::One(s) => Aud::One(text(s)),
                    Audience::Many(all) => Aud::Many(all),
                })?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        c.exp = match exp {
            Some(exp) => exp,
            None => return Err(blame.fail("exp", ClaimProblem::Missing)),
        };
        c.iat = iat;
        c.nbf = nbf;
        Ok(())
    }
}

/// Records which known claim a data error is about.
struct Blame<'p>(&'p Cell<Option<(&'static str, ClaimProblem)>>);

impl Blame<'_> {
    fn fail<E: de::Error>(&self, claim: &'static str, problem: ClaimProblem) -> E {
        self.0.set(Some((claim, problem)));
        E::custom("claim")
    }

    /// Reads the value of a known claim into `slot`, refusing a second
    /// occurrence and any value of the wrong type.
    fn once<'de, A, T, U>(
        &self,
        slot: &mut Option<U>,
        claim: &'static str,
        map: &mut A,
        convert: impl FnOnce(T) -> U,
    ) -> Result<(), A::Error>
    where
        A: MapAccess<'de>,
        T: de::Deserialize<'de>,
    {
        if slot.is_some() {
            return Err(self.fail(claim, ClaimProblem::Repeated));
        }
        // Blame this claim if its value fails as *data* (wrong type); the
        // caller tells that apart from a syntax error by serde_json's category.
        self.0.set(Some((claim, ClaimProblem::WrongType)));
        let value = map.next_value::<T>()?;
        self.0.set(None);
        *slot = Some(convert(value));
        Ok(())
    }
}

/// Why [`ApproovClaims::deserialize`] could not read the claims into the
/// requested type. It never quotes a claim value: what serde would say
/// about a wrong value (`invalid type: string "…"`) is not kept.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClaimsError {
    /// The type requires a claim the token does not have.
    MissingClaim {
        /// The claim's name, as the type names it.
        name: String,
    },
    /// A claim has another type or value than the type allows (or the
    /// type does not match the claims at all).
    Invalid {
        /// Where in the payload JSON the problem was found (1-based).
        column: usize,
    },
}

impl ClaimsError {
    fn from_json(error: serde_json::Error) -> Self {
        // serde's text for a missing field names the field of the type,
        // never a value: keep that name, drop every other text.
        let text = error.to_string();
        let missing = text
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split_once('`'))
            .map(|(name, _)| name)
            .filter(|name| name.len() <= 64 && !name.contains(['"', '\\']));
        match missing {
            Some(name) => Self::MissingClaim {
                name: name.to_owned(),
            },
            None => Self::Invalid {
                column: error.column(),
            },
        }
    }
}

impl fmt::Display for ClaimsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingClaim { name } => write!(f, "the token has no `{name}` claim"),
            Self::Invalid { column } => write!(
                f,
                "a claim has a type or value the requested type does not allow \
                 (payload column {column})"
            ),
        }
    }
}

impl std::error::Error for ClaimsError {}
