//! The API's typed strings: ids and bounded texts, each parsed once by one rule.
//!
//! Every id of every route (users, members, orders, lines, SKUs, stores, segments, events,
//! coupons, templates, codes) is an [`Id`]: surrounding whitespace is trimmed, and what is left
//! is 1..=128 bytes with no whitespace or control character. Free texts (names, categories,
//! regions, tags, reasons) are [`Text`]s: trimmed, non-empty, no control character, and at most
//! `MAX` bytes. Parsing either from JSON names the failing rule in the error message as
//! `code: message`, so the body parser can answer with the rule's stable code.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{ErrorCode, FieldError};

/// The longest id, in bytes.
pub const ID_MAX: usize = 128;

/// Why a string is not an id or a text: the code and a sentence.
pub type Refusal = (ErrorCode, &'static str);

/// An id, trimmed and checked.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Id(String);

impl Id {
    /// Trims `raw` and checks the id rules.
    pub fn parse(raw: impl Into<String>) -> Result<Id, Refusal> {
        let raw = raw.into();
        let v = raw.trim();
        if v.is_empty() {
            return Err((ErrorCode::InvalidValue, "must not be empty"));
        }
        if v.len() > ID_MAX {
            return Err((ErrorCode::TooLarge, "an id has at most 128 bytes"));
        }
        if v.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err((
                ErrorCode::InvalidValue,
                "an id has no spaces or control characters",
            ));
        }
        Ok(Id(if v.len() == raw.len() {
            raw
        } else {
            v.to_string()
        }))
    }

    /// [`Id::parse`], naming `field` in the refusal.
    pub fn field(field: impl Into<String>, raw: impl Into<String>) -> Result<Id, FieldError> {
        Id::parse(raw).map_err(|(code, message)| FieldError::new(code, field, message))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// Checks a string field in place: trims it and applies the id rules.
pub fn id_in_place(field: impl Into<String>, v: &mut String) -> Result<(), FieldError> {
    *v = Id::field(field, std::mem::take(v))?.into_string();
    Ok(())
}

/// Checks an optional string field in place with the text rules of `max` bytes.
pub fn text_in_place(
    field: impl Into<String>,
    v: &mut String,
    max: usize,
) -> Result<(), FieldError> {
    match check_text(v, max) {
        Ok(t) => {
            *v = t;
            Ok(())
        }
        Err((code, message)) => Err(FieldError::new(code, field, message)),
    }
}

fn check_text(raw: &str, max: usize) -> Result<String, Refusal> {
    free_text(raw, max, false)?;
    Ok(raw.trim().to_string())
}

/// The one rule of free texts: after trimming, non-empty and at most `max` bytes, with no
/// control character (line breaks allowed when `line_breaks`, for descriptions) and no
/// bidirectional override or isolate (U+202A..U+202E, U+2066..U+2069), which make a text read
/// differently from what it is.
pub fn free_text(raw: &str, max: usize, line_breaks: bool) -> Result<(), Refusal> {
    let v = raw.trim();
    if v.is_empty() {
        return Err((ErrorCode::InvalidValue, "must not be empty"));
    }
    if v.len() > max {
        return Err((ErrorCode::TooLarge, "too long"));
    }
    if v.chars()
        .any(|c| c.is_control() && !(line_breaks && (c == '\n' || c == '\r')))
    {
        return Err((ErrorCode::InvalidValue, "has a control character"));
    }
    if v.chars()
        .any(|c| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
    {
        return Err((
            ErrorCode::InvalidValue,
            "has a bidirectional override character",
        ));
    }
    Ok(())
}

/// A cell of a CSV file quan writes, safe to open in a spreadsheet (OWASP's rule against CSV
/// injection): a cell beginning with `=`, `+`, `-`, `@`, a tab or a carriage return gets a
/// leading `'`, so it reads as text and is never run as a formula. A number (`-12`, `3.5`) is
/// left as it is.
pub fn csv_cell(cell: &str) -> std::borrow::Cow<'_, str> {
    let risky = cell
        .as_bytes()
        .first()
        .is_some_and(|b| matches!(b, b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r'));
    if risky && !is_number(cell) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

fn is_number(cell: &str) -> bool {
    let digits = cell.strip_prefix(['-', '+']).unwrap_or(cell);
    let mut parts = digits.splitn(2, '.');
    let whole = parts.next().unwrap_or("");
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    all_digits(whole) && parts.next().is_none_or(all_digits)
}

impl std::ops::Deref for Id {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Id {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for Id {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl From<Id> for String {
    fn from(id: Id) -> String {
        id.0
    }
}

impl PartialEq<str> for Id {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Id {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Id {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Id::parse(raw).map_err(|(code, message)| coded(code, message))
    }
}

impl utoipa::PartialSchema for Id {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .min_length(Some(1))
            .max_length(Some(ID_MAX))
            .pattern(Some(r"^\S+$"))
            .description(Some(
                "An id: 1..128 bytes, no whitespace (surrounding spaces are trimmed).",
            ))
            .into()
    }
}

impl utoipa::ToSchema for Id {}

/// A free text of at most `MAX` bytes, trimmed, non-empty, with no control character.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Text<const MAX: usize>(String);

/// A short label: a category, region, tier, tag, channel name or brand.
pub type Label = Text<128>;
/// A name or a title.
pub type Name = Text<200>;
/// A sentence: a reason, a note.
pub type Note = Text<500>;

impl<const MAX: usize> Text<MAX> {
    pub fn parse(raw: &str) -> Result<Self, Refusal> {
        check_text(raw, MAX).map(Text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl<const MAX: usize> std::ops::Deref for Text<MAX> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl<const MAX: usize> From<Text<MAX>> for String {
    fn from(t: Text<MAX>) -> String {
        t.0
    }
}

impl<const MAX: usize> Serialize for Text<MAX> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de, const MAX: usize> Deserialize<'de> for Text<MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Text::parse(&raw).map_err(|(code, message)| coded(code, message))
    }
}

impl<const MAX: usize> utoipa::PartialSchema for Text<MAX> {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .min_length(Some(1))
            .max_length(Some(MAX))
            .into()
    }
}

impl<const MAX: usize> utoipa::ToSchema for Text<MAX> {}

/// Reads a `String` field by the id rule (for the core's own structs: `deserialize_with`).
pub fn de_id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Id::deserialize(d).map(Id::into_string)
}

/// Reads an optional `String` field by the label rule (`deserialize_with`, with `default`).
pub fn de_label<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<Label>::deserialize(d).map(|l| l.map(Label::into_string))
}

/// A deserialization error that carries a stable code: `"code: message"`.
fn coded<E: serde::de::Error>(code: ErrorCode, message: &str) -> E {
    E::custom(format!("{}: {message}", code.as_str()))
}

/// The code a deserialization message starts with, if [`Id`] or [`Text`] wrote it.
pub fn code_of(message: &str) -> Option<ErrorCode> {
    let (head, _) = message.split_once(": ")?;
    [ErrorCode::InvalidValue, ErrorCode::TooLarge]
        .into_iter()
        .find(|c| c.as_str() == head)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_that_a_spreadsheet_would_run_read_as_text() {
        for formula in [
            "=HYPERLINK(\"http://x\",\"y\")",
            "+cmd|' /C calc'!A0",
            "-2+3",
            "@SUM(1)",
            "\tx",
            "\rx",
        ] {
            assert_eq!(csv_cell(formula), format!("'{formula}"));
        }
        for plain in ["u1", "gold", "", "-12", "+3", "3.5", "-0.25", "a=b"] {
            assert_eq!(csv_cell(plain), plain);
        }
    }

    #[test]
    fn ids_are_trimmed_and_bounded() {
        assert_eq!(Id::parse(" u1 ").unwrap().as_str(), "u1");
        assert_eq!(Id::parse("  ").unwrap_err().0, ErrorCode::InvalidValue);
        assert_eq!(Id::parse("").unwrap_err().0, ErrorCode::InvalidValue);
        assert_eq!(Id::parse("a b").unwrap_err().0, ErrorCode::InvalidValue);
        assert_eq!(Id::parse("a\u{0}").unwrap_err().0, ErrorCode::InvalidValue);
        assert_eq!(
            Id::parse("x".repeat(129)).unwrap_err().0,
            ErrorCode::TooLarge
        );
        assert!(Id::parse("x".repeat(128)).is_ok());
        assert!(Id::parse("会员-42").is_ok());
    }

    #[test]
    fn texts_keep_inner_spaces_and_refuse_long_ones() {
        assert_eq!(
            Label::parse(" FROZEN PIZZA ").unwrap().as_str(),
            "FROZEN PIZZA"
        );
        assert_eq!(
            Label::parse(&"x".repeat(129)).unwrap_err().0,
            ErrorCode::TooLarge
        );
        assert_eq!(Label::parse(" ").unwrap_err().0, ErrorCode::InvalidValue);
    }

    #[test]
    fn json_errors_carry_the_code() {
        let e = serde_json::from_str::<Id>("\"  \"").unwrap_err();
        assert_eq!(code_of(&e.to_string()), Some(ErrorCode::InvalidValue));
        let e = serde_json::from_str::<Label>(&format!("\"{}\"", "x".repeat(200))).unwrap_err();
        assert_eq!(code_of(&e.to_string()), Some(ErrorCode::TooLarge));
    }
}
