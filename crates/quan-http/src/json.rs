//! Request bodies: a JSON extractor whose every failure names the field and has the error shape.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use quan_core::ErrorCode;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Like `axum::Json`, but a malformed body, a wrong type, an unknown or missing field, or an
/// oversized body answers with the API's error body, the dotted path of the field included.
pub struct Body<T>(pub T, pub Bytes);

/// Reads `bytes` as `T`, naming the field at fault.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(de) {
        Ok(v) => Ok(v),
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let message = inner.to_string();
            let field = (path != ".").then_some(path);
            let code = match inner.classify() {
                serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                    ErrorCode::MalformedJson
                }
                serde_json::error::Category::Io => ErrorCode::BadRequest,
                serde_json::error::Category::Data if message.starts_with("unknown field") => {
                    ErrorCode::UnknownField
                }
                serde_json::error::Category::Data if message.starts_with("missing field") => {
                    ErrorCode::MissingField
                }
                serde_json::error::Category::Data => ErrorCode::InvalidType,
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
            Err(ApiError {
                code,
                message,
                field: field.filter(|f| !f.is_empty()),
            })
        }
    }
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

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::code(ErrorCode::PayloadTooLarge)
            } else {
                ApiError::new(ErrorCode::BadRequest, e.body_text())
            }
        })?;
        if bytes.len() > crate::MAX_BODY {
            return Err(ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!("bodies are limited to {} bytes", crate::MAX_BODY),
            ));
        }
        let bytes = if bytes.iter().all(u8::is_ascii_whitespace) {
            Bytes::from_static(b"{}")
        } else {
            bytes
        };
        Ok(Body(parse(&bytes)?, bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

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
    }

    #[test]
    fn failures_name_their_field() {
        let e = parse::<Outer>(b"{not json").unwrap_err();
        assert_eq!(e.code, ErrorCode::MalformedJson);
        let e = parse::<Outer>(br#"{"inner": {"n": "x"}}"#).unwrap_err();
        assert_eq!(
            (e.code, e.field.as_deref()),
            (ErrorCode::InvalidType, Some("inner.n"))
        );
        let e = parse::<Outer>(br#"{"inner": {"n": 1, "m": 2}}"#).unwrap_err();
        assert_eq!(
            (e.code, e.field.as_deref()),
            (ErrorCode::UnknownField, Some("inner.m"))
        );
        let e = parse::<Outer>(br#"{"inner": {}}"#).unwrap_err();
        assert_eq!(
            (e.code, e.field.as_deref()),
            (ErrorCode::MissingField, Some("inner.n"))
        );
        let e = parse::<Outer>(br#"{"inner": {"n": 99999999999999999999999}}"#).unwrap_err();
        assert_eq!(
            (e.code, e.field.as_deref()),
            (ErrorCode::InvalidType, Some("inner.n"))
        );
    }
}
