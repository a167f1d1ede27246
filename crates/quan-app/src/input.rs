//! Request bodies into typed values: one JSON parser for every client, whose every failure
//! names the field and carries a stable code.
//!
//! A body is one JSON object and nothing after it. A wrong type, an unknown or missing field,
//! an id or text that breaks its rule ([`quan_core::text`]), or a number out of its field's
//! range answers an [`Error`] with the dotted path of the field (`lines[2].qty`).

use jiff::Timestamp;
use quan_core::zone::ACCEPTED_YEARS;
use quan_core::ErrorCode;
use serde::de::DeserializeOwned;

use crate::Error;

/// Reads `bytes` as one JSON object of type `T`, naming the field at fault. An empty body
/// reads as `{}`.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    match first {
        None => return parse_value(b"{}"),
        Some(b'{') => {}
        Some(b'[' | b'"' | b't' | b'f' | b'n' | b'-' | b'0'..=b'9') => {
            return Err(Error::new(
                ErrorCode::InvalidType,
                "the body must be a JSON object",
            ))
        }
        Some(_) => {
            return Err(Error::new(
                ErrorCode::MalformedJson,
                "the body is not valid JSON",
            ))
        }
    }
    parse_value(bytes)
}

fn parse_value<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    if may_hold_a_year_out_of_range(bytes) {
        refuse_times_out_of_range(bytes)?;
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize::<_, T>(&mut *de).map_err(refusal)?;
    de.end().map_err(|e| {
        Error::new(
            ErrorCode::MalformedJson,
            format!("trailing characters after the JSON object: {e}"),
        )
    })?;
    Ok(value)
}

fn refusal(e: serde_path_to_error::Error<serde_json::Error>) -> Error {
    let path = e.path().to_string();
    let inner = e.into_inner();
    let message = inner.to_string();
    let field = (path != ".").then_some(path);
    let code = match inner.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            ErrorCode::MalformedJson
        }
        serde_json::error::Category::Io => ErrorCode::BadRequest,
        serde_json::error::Category::Data => data_code(&message),
    };
    let field = match (code, field) {
        (ErrorCode::MissingField, f) => Some(join(f, quoted(&message))),
        // Inside tagged enums the path stops at the enum; elsewhere it names the field.
        (ErrorCode::UnknownField, f) => match (f, quoted(&message)) {
            (Some(f), Some(name)) if f.rsplit('.').next() != Some(name.as_str()) => {
                Some(format!("{f}.{name}"))
            }
            (f, name) => f.or(name),
        },
        (_, f) => f,
    };
    // A coded refusal of an id or text says only its rule, as it does everywhere else.
    let message = match quan_core::text::code_of(&message) {
        Some(c) => plain(&message, c),
        None => message,
    };
    Error {
        code,
        message,
        field: field.filter(|f| !f.is_empty()),
    }
}

/// Whether the body holds a string that starts like a date (`"YYYY-`) with a year outside
/// [`ACCEPTED_YEARS`]: a scan of the bytes, so that bodies without one are read only once (a
/// plain loop: request bodies are small, and a vectorised search costs more to start).
fn may_hold_a_year_out_of_range(bytes: &[u8]) -> bool {
    let quotes = bytes.iter().enumerate().filter(|(_, b)| **b == b'"');
    quotes
        .map(|(at, _)| at)
        .any(|at| match bytes.get(at + 1..at + 6) {
            Some(&[a, b, c, d, b'-']) if [a, b, c, d].iter().all(u8::is_ascii_digit) => {
                let year = [a, b, c, d]
                    .iter()
                    .fold(0i16, |y, digit| y * 10 + i16::from(digit - b'0'));
                !ACCEPTED_YEARS.contains(&year)
            }
            _ => false,
        })
}

/// Refuses the first string of the body that is a time (RFC 3339) outside [`ACCEPTED_YEARS`],
/// naming its field.
fn refuse_times_out_of_range(bytes: &[u8]) -> Result<(), Error> {
    fn walk(v: &serde_json::Value, path: &str) -> Option<String> {
        match v {
            serde_json::Value::String(s) => {
                let year = s.get(..4).and_then(|y| y.parse::<i16>().ok())?;
                let looks_like_time = s.len() > 10 && s.as_bytes().get(4) == Some(&b'-');
                (looks_like_time && !ACCEPTED_YEARS.contains(&year)).then(|| path.to_string())
            }
            serde_json::Value::Array(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, item)| walk(item, &format!("{path}[{i}]"))),
            serde_json::Value::Object(fields) => fields.iter().find_map(|(k, item)| {
                let at = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                walk(item, &at)
            }),
            _ => None,
        }
    }
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return Ok(()); // the typed parse names what is wrong with it
    };
    match walk(&value, "") {
        Some(field) => Err(out_of_range(&field)),
        None => Ok(()),
    }
}

/// A time that comes other than in a body this parser reads (a query string, a command-line
/// argument, an import row), refused outside [`ACCEPTED_YEARS`] as a body's time is.
pub fn accepted_time(field: &str, at: Timestamp) -> Result<Timestamp, Error> {
    let year = at.to_zoned(jiff::tz::TimeZone::UTC).year();
    if ACCEPTED_YEARS.contains(&year) {
        Ok(at)
    } else {
        Err(out_of_range(field))
    }
}

/// [`accepted_time`] of a time that may be absent.
pub fn accepted_opt(field: &str, at: Option<Timestamp>) -> Result<Option<Timestamp>, Error> {
    at.map(|t| accepted_time(field, t)).transpose()
}

fn out_of_range(field: &str) -> Error {
    Error::field(
        ErrorCode::InvalidValue,
        field,
        format!(
            "times are accepted from {} to before {} (UTC)",
            ACCEPTED_YEARS.start, ACCEPTED_YEARS.end
        ),
    )
}

/// The sentence of a coded message: without its `code: ` and serde_json's position.
pub fn plain(message: &str, code: ErrorCode) -> String {
    let m = message
        .strip_prefix(code.as_str())
        .and_then(|m| m.strip_prefix(": "))
        .unwrap_or(message);
    match m.rfind(" at line ") {
        Some(at) => m[..at].to_string(),
        None => m.to_string(),
    }
}

/// The code of a data error: a coded refusal of an id or text, a number out of range, or the
/// shape of the value.
fn data_code(message: &str) -> ErrorCode {
    if let Some(code) = quan_core::text::code_of(message) {
        return code;
    }
    if message.starts_with("unknown field") {
        return ErrorCode::UnknownField;
    }
    if message.starts_with("missing field") {
        return ErrorCode::MissingField;
    }
    if let Some(rest) = message.strip_prefix("invalid value: integer `") {
        return if rest.starts_with('-') {
            ErrorCode::Negative
        } else {
            ErrorCode::TooLarge
        };
    }
    if message.starts_with("number out of range") {
        return ErrorCode::TooLarge;
    }
    // An integer beyond 64 bits reads as a float: too large, not of the wrong type.
    if let Some(rest) = message.strip_prefix("invalid type: floating point `") {
        let value = rest.split('`').next().and_then(|v| v.parse::<f64>().ok());
        if value.is_some_and(|v| v.abs() >= 9.2e18) {
            return ErrorCode::TooLarge;
        }
    }
    ErrorCode::InvalidType
}

fn quoted(message: &str) -> Option<String> {
    message.split('`').nth(1).map(str::to_string)
}

fn join(parent: Option<String>, leaf: Option<String>) -> String {
    match (parent, leaf) {
        (Some(p), Some(l)) => format!("{p}.{l}"),
        (Some(p), None) => p,
        (None, Some(l)) => l,
        (None, None) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quan_core::text::Id;
    use serde::Deserialize;

    #[test]
    fn the_year_scan_finds_only_years_outside_the_range() {
        for (body, out) in [
            (r#"{"at": "2026-01-01T00:00:00Z"}"#, false),
            (
                r#"{"at": "1970-01-01T00:00:00Z", "b": "2099-12-31"}"#,
                false,
            ),
            (r#"{"at": "2100-01-01T00:00:00Z"}"#, true),
            (r#"{"a": "x", "at": "0001-01-01"}"#, true),
            (r#"{"n": 19690, "s": "1969-"}"#, true),
            (r#"{"s": "12345-"}"#, false),
            (r#"{"s": "9999"}"#, false),
            (r#"{"s": ""#, false),
        ] {
            assert_eq!(may_hold_a_year_out_of_range(body.as_bytes()), out, "{body}");
        }
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        inner: Inner,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        n: i64,
        #[serde(default)]
        small: Option<u32>,
        #[serde(default)]
        id: Option<Id>,
    }

    fn refused(body: &str) -> (ErrorCode, Option<String>) {
        let e = parse::<Outer>(body.as_bytes()).unwrap_err();
        (e.code, e.field)
    }

    #[test]
    fn failures_name_their_field() {
        assert_eq!(refused("{not json").0, ErrorCode::MalformedJson);
        let f = |s: &str| Some(s.to_string());
        assert_eq!(
            refused(r#"{"inner": {"n": "x"}}"#),
            (ErrorCode::InvalidType, f("inner.n"))
        );
        assert_eq!(
            refused(r#"{"inner": {"n": 1, "m": 2}}"#),
            (ErrorCode::UnknownField, f("inner.m"))
        );
        assert_eq!(
            refused(r#"{"inner": {}}"#),
            (ErrorCode::MissingField, f("inner.n"))
        );
        assert_eq!(
            refused(r#"{"inner": {"n": 99999999999999999999999}}"#),
            (ErrorCode::TooLarge, f("inner.n"))
        );
        assert_eq!(
            refused(r#"{"inner": {"n": 1, "small": 99999999999}}"#),
            (ErrorCode::TooLarge, f("inner.small"))
        );
        assert_eq!(
            refused(r#"{"inner": {"n": 1, "small": -1}}"#),
            (ErrorCode::Negative, f("inner.small"))
        );
        assert_eq!(
            refused(r#"{"inner": {"n": 1, "id": "  "}}"#),
            (ErrorCode::InvalidValue, f("inner.id"))
        );
    }

    #[test]
    fn one_object_and_nothing_else() {
        assert_eq!(
            refused(r#"{"inner": {"n": 1}} garbage"#).0,
            ErrorCode::MalformedJson
        );
        assert_eq!(
            refused(r#"{"inner": {"n": 1}}{"inner": {"n": 2}}"#).0,
            ErrorCode::MalformedJson
        );
        assert_eq!(refused("[]").0, ErrorCode::InvalidType);
        assert_eq!(refused("[{\"n\": 1}]").0, ErrorCode::InvalidType);
        assert_eq!(refused("12").0, ErrorCode::InvalidType);
        assert!(parse::<Outer>(br#" {"inner": {"n": 1}} "#).is_ok());
    }
}
