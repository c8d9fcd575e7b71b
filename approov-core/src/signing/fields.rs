//! Reading `Signature-Input` and `Signature` (RFC 9421 §4) with a
//! structured-fields parser, never by hand.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use sfv::{BareItem, Dictionary, Item, ListEntry, ListSerializer, Parameters, Parser, Version};

use crate::headers::RequestHeaders;

use super::problem::SignatureProblem;

const LENIENT: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const STANDARD_LENIENT: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);
const URL_SAFE_LENIENT: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);

/// One labelled entry of `Signature-Input`.
#[derive(Debug)]
pub(crate) struct SignatureInput {
    /// The covered component identifiers, in order.
    pub(crate) components: Vec<Item>,
    /// The signature parameters (`created`, `alg`, …).
    pub(crate) params: Parameters,
    /// The inner list with its parameters, serialised (RFC 9421 §2.3): the
    /// value of the `@signature-params` line.
    pub(crate) serialized: String,
}

/// Why a dictionary field could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldError {
    /// All its lines together are longer than the limit; not parsed.
    TooLong,
    /// Not an RFC 8941 dictionary.
    Malformed,
}

/// Every line of header `name`, combined as RFC 9110 §5.3 says (joined
/// with `, `) and parsed as an RFC 8941 dictionary, unless the combined
/// value would be longer than `max_len` bytes: that is found before
/// anything is copied or parsed. `Ok(None)` when the header is absent.
pub(crate) fn dictionary<H: RequestHeaders + ?Sized>(
    headers: &H,
    name: &str,
    max_len: usize,
) -> Result<Option<Dictionary>, FieldError> {
    let mut len = 0usize;
    let mut lines = 0usize;
    for value in headers.header_values(name) {
        len = len.saturating_add(value.len());
        lines += 1;
    }
    if lines == 0 {
        return Ok(None);
    }
    let len = len.saturating_add(2 * (lines - 1));
    if len > max_len {
        return Err(FieldError::TooLong);
    }
    let mut joined = Vec::with_capacity(len);
    for value in headers.header_values(name) {
        if !joined.is_empty() {
            joined.extend_from_slice(b", ");
        }
        joined.extend_from_slice(value);
    }
    Parser::new(&joined)
        .with_version(Version::Rfc8941)
        .parse::<Dictionary>()
        .map(Some)
        .map_err(|_| FieldError::Malformed)
}

/// Why an entry of `Signature-Input` cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EntryError {
    /// It covers more than `max_components` components.
    TooManyComponents,
    /// It is not an inner list of strings.
    Invalid(SignatureProblem),
}

/// The entry labelled `label` in a parsed `Signature-Input`, refused
/// before it is copied when it covers more than `max_components`.
pub(crate) fn input_entry(
    dict: &Dictionary,
    label: &str,
    max_components: usize,
) -> Result<Option<SignatureInput>, EntryError> {
    let Some(entry) = get(dict, label) else {
        return Ok(None);
    };
    let ListEntry::InnerList(list) = entry else {
        return Err(EntryError::Invalid(SignatureProblem::MalformedInput));
    };
    if list.items.len() > max_components {
        return Err(EntryError::TooManyComponents);
    }
    if !list
        .items
        .iter()
        .all(|i| matches!(i.bare_item, BareItem::String(_)))
    {
        return Err(EntryError::Invalid(SignatureProblem::MalformedInput));
    }
    let mut ser = ListSerializer::new();
    ser.members(std::iter::once(entry));
    Ok(Some(SignatureInput {
        components: list.items.clone(),
        params: list.params.clone(),
        serialized: ser.finish().unwrap_or_default(),
    }))
}

/// The signature bytes labelled `label` in a parsed `Signature`: a byte
/// sequence (`:…:`, RFC 9421) or a string of base64 (`"…"`, which shipping
/// Approov clients send).
pub(crate) fn signature_entry(
    dict: &Dictionary,
    label: &str,
) -> Result<Option<Vec<u8>>, SignatureProblem> {
    let Some(entry) = get(dict, label) else {
        return Ok(None);
    };
    match entry {
        ListEntry::Item(Item {
            bare_item: BareItem::ByteSequence(bytes),
            ..
        }) => Ok(Some(bytes.clone())),
        ListEntry::Item(Item {
            bare_item: BareItem::String(text),
            ..
        }) => decode_base64(text.as_str())
            .map(Some)
            .ok_or(SignatureProblem::MalformedSignature),
        _ => Err(SignatureProblem::MalformedSignature),
    }
}

/// Standard or URL-safe base64, padded or not.
pub(crate) fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let engine = if text.contains(['-', '_']) {
        &URL_SAFE_LENIENT
    } else {
        &STANDARD_LENIENT
    };
    engine.decode(text).ok()
}

fn get<'d>(dict: &'d Dictionary, label: &str) -> Option<&'d ListEntry> {
    let key = sfv::KeyRef::from_str(label).ok()?;
    dict.get(key)
}

/// An item (a component identifier) serialised as RFC 8941 says, e.g.
/// `"@query-param";name="Pet"`.
pub(crate) fn serialize_item(item: &Item) -> String {
    sfv::ItemSerializer::new()
        .bare_item(&item.bare_item)
        .parameters(&item.params)
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_long_fields_and_long_lists_before_parsing_them() {
        // Two lines joined by ", ": 8 + 2 + 8 bytes.
        let headers = [("Signature", "a=:AA==:"), ("Signature", "b=:AQ==:")];
        assert!(matches!(
            dictionary(&headers[..], "signature", 18),
            Ok(Some(d)) if d.len() == 2
        ));
        assert_eq!(
            dictionary(&headers[..], "signature", 17),
            Err(FieldError::TooLong)
        );
        let headers = [("Signature-Input", r#"install=("a" "b" "c")"#)];
        let dict = dictionary(&headers[..], "signature-input", 1024)
            .expect("parses")
            .expect("present");
        assert!(matches!(input_entry(&dict, "install", 3), Ok(Some(_))));
        assert_eq!(
            input_entry(&dict, "install", 2).map(|_| ()),
            Err(EntryError::TooManyComponents)
        );
    }

    #[test]
    fn reserialises_the_inner_list_canonically() {
        let headers = [(
            "Signature-Input",
            r#"install=( "@method"   "@path" );created=1;alg="ecdsa-p256-sha256""#,
        )];
        let dict = dictionary(&headers[..], "signature-input", 1024)
            .expect("parses")
            .expect("present");
        let input = input_entry(&dict, "install", 32)
            .expect("well formed")
            .expect("present");
        assert_eq!(
            input.serialized,
            r#"("@method" "@path");created=1;alg="ecdsa-p256-sha256""#
        );
    }

    #[test]
    fn reads_both_signature_encodings() {
        let headers = [("Signature", r#"a=:AAEC:, b="AAEC", c=1"#)];
        let dict = dictionary(&headers[..], "signature", 1024)
            .expect("parses")
            .expect("present");
        assert_eq!(signature_entry(&dict, "a"), Ok(Some(vec![0, 1, 2])));
        assert_eq!(signature_entry(&dict, "b"), Ok(Some(vec![0, 1, 2])));
        assert_eq!(
            signature_entry(&dict, "c"),
            Err(SignatureProblem::MalformedSignature)
        );
        assert_eq!(signature_entry(&dict, "d"), Ok(None));
    }
}
