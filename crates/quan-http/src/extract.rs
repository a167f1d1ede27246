//! Extractors: the authenticated caller, JSON bodies, path ids and query strings, each turning
//! a failure into the API's error shape with the field named.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::HeaderValue;
use quan_core::access::Principal;
use quan_core::ErrorCode;
use quan_store::IdempotencyKey;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ApiResult};
use crate::AppState;

/// The authenticated caller of a request.
pub struct Caller(pub Principal);

/// The secret of `Authorization: Bearer <key>`, if the request has one.
pub fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// The caller a layer already resolved from the request's key (so it is not looked up twice).
#[derive(Clone)]
pub struct Resolved(pub Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        if let Some(Resolved(p)) = parts.extensions.remove::<Resolved>() {
            return Ok(Caller(p));
        }
        let Some(secret) = bearer(parts) else {
            return Err(ApiError::new(
                ErrorCode::Unauthorized,
                "send an API key as `Authorization: Bearer <key>`",
            ));
        };
        match state.app.principal(secret).await? {
            Some(p) => Ok(Caller(p)),
            None => Err(ApiError::new(ErrorCode::Unauthorized, "unknown API key")),
        }
    }
}

/// `Option<Caller>`: no key is no caller (`None`); a key that is given must be known (401).
impl axum::extract::OptionalFromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Option<Self>> {
        if parts.extensions.get::<Resolved>().is_none() && bearer(parts).is_none() {
            return Ok(None);
        }
        <Caller as FromRequestParts<AppState>>::from_request_parts(parts, state)
            .await
            .map(Some)
    }
}

/// A JSON body read with `quan_app::input::parse`, with its bytes (for idempotency keys).
pub struct Body<T>(pub T, pub Bytes);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> ApiResult<Self> {
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
        Ok(Body(quan_app::input::parse(&bytes)?, bytes))
    }
}

/// Path parameters (ids parsed by the one id rule), failures in the error shape.
pub struct PathIds<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for PathIds<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> ApiResult<Self> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(PathIds(v)),
            Err(e) => {
                // An id that breaks the id rule says so with its code and names its parameter.
                if let Ok(raw) = RawPathParams::from_request_parts(parts, state).await {
                    for (name, value) in &raw {
                        if let Err(refusal) = quan_core::text::Id::field(name, value) {
                            return Err(refusal.into());
                        }
                    }
                }
                // Anything else (a bad percent-escape, say) is a request that cannot be read.
                let text = e.body_text();
                let reason = text.strip_prefix("Invalid URL: ").unwrap_or(&text);
                match quan_core::text::code_of(reason) {
                    Some(code) => Err(ApiError::new(code, quan_app::input::plain(reason, code))),
                    None => Err(ApiError::new(ErrorCode::BadRequest, text)),
                }
            }
        }
    }
}

/// A query string read with the API's error shape.
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> ApiResult<Self> {
        Query::<T>::try_from_uri(&parts.uri)
            .map(|Query(v)| QueryParams(v))
            .map_err(|e| ApiError::new(ErrorCode::BadRequest, e.body_text()))
    }
}

/// A request's `Idempotency-Key` header, for the calls that carry it into their own
/// transaction (claims and grants).
pub struct IdempotencyHeader(Option<HeaderValue>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyHeader {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(parts.headers.get("idempotency-key").cloned()))
    }
}

impl IdempotencyHeader {
    /// The key of this request by `principal`: `what` (method and path) with the parsed body.
    pub fn key(
        &self,
        principal: &Principal,
        what: &str,
        body: &[u8],
    ) -> ApiResult<Option<IdempotencyKey>> {
        self.0
            .as_ref()
            .map(|v| quan_app::idempotency::key(&principal.key_id, v.as_bytes(), what, body))
            .transpose()
            .map_err(ApiError::from)
    }
}
