//! What every request goes through before its handler: the body read whole (so a refusal
//! never leaves a half-read body on a keep-alive connection), URIs bounded, a token bucket per
//! API key, and idempotency keys for every mutating call.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use quan_app::idempotency::Answer;
use quan_core::ErrorCode;

use crate::error::ApiError;
use crate::AppState;

/// Bodies up to this size are read (and refused with a proper answer when over
/// [`crate::MAX_BODY`]); larger ones are cut off.
const READ_LIMIT: usize = 8 * 1024 * 1024;
/// The longest path and query accepted.
pub const MAX_URI: usize = 8 * 1024;

/// What every request meets first: long URIs are refused, the caller's API key must have a
/// token left in its bucket, and the body is read whole before anything else looks at the
/// request (so a refusal never leaves a half-read body on a keep-alive connection).
pub async fn front(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let uri_len = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if uri_len > MAX_URI {
        return ApiError::new(
            ErrorCode::UriTooLong,
            format!("the path and query are limited to {MAX_URI} bytes"),
        )
        .into_response();
    }
    let (parts, body) = req.into_parts();
    if let (Some(limiter), Some(secret)) = (&state.limiter, crate::extract::bearer(&parts)) {
        if let Err(wait) = limiter.check(secret) {
            return rate_limited(wait);
        }
    }
    // A body the client said is empty needs no reading.
    if body.size_hint().exact() == Some(0) {
        return next.run(Request::from_parts(parts, body)).await;
    }
    match axum::body::to_bytes(body, READ_LIMIT).await {
        Ok(bytes) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Err(_) => ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("bodies are limited to {} bytes", crate::MAX_BODY),
        )
        .into_response(),
    }
}

/// A token bucket per API key (`--rate-limit` requests a second, bursts of as many).
pub struct RateLimiter {
    buckets: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
    checks: AtomicU64,
}

/// Checks between two sweeps of idle buckets.
const SWEEP_EVERY: u64 = 100_000;

impl RateLimiter {
    /// `None` when `per_second` is 0 (no limit).
    pub fn new(per_second: u32) -> Option<Self> {
        let rate = std::num::NonZeroU32::new(per_second)?;
        Some(Self {
            buckets: governor::RateLimiter::dashmap(Quota::per_second(rate)),
            clock: DefaultClock::default(),
            checks: AtomicU64::new(0),
        })
    }

    /// `Err(seconds to wait)` when the key's bucket is empty. Buckets are keyed by the
    /// secret itself (held in memory only, like the request that carried it).
    pub fn check(&self, key: &str) -> Result<(), u64> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.buckets.retain_recent();
        }
        self.buckets
            .check_key(&key.to_string())
            .map_err(|not_until| {
                let wait = not_until.wait_time_from(self.clock.now());
                wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
            })
    }
}

/// 429 with `Retry-After`: the caller's API key has used up its bucket.
fn rate_limited(wait: u64) -> Response {
    let mut response = ApiError::new(
        ErrorCode::RateLimited,
        format!("this API key is over its rate limit; retry in {wait} s"),
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(wait.max(1)));
    response
}

/// Gives every mutating call `Idempotency-Key` semantics through `App::idempotent`: the first answer
/// (success or refusal) is kept and replayed; the same key with another request is refused.
/// The caller it resolved is handed on to the handler (`extract::Caller` reads it).
/// (Claims and grants are routed outside this layer: they decide their key inside the claim's
/// own transaction, `routes::keyed_in_transaction`.)
pub async fn idempotency(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let Some(header) = req.headers().get("idempotency-key").cloned() else {
        return next.run(req).await;
    };
    let (parts, body) = req.into_parts();
    let principal = match crate::extract::bearer(&parts) {
        Some(secret) => match state.app.principal(secret).await {
            Ok(p) => p,
            Err(e) => return ApiError(e).into_response(),
        },
        None => None,
    };
    let bytes = match axum::body::to_bytes(body, READ_LIMIT).await {
        Ok(b) => b,
        Err(_) => return ApiError::code(ErrorCode::PayloadTooLarge).into_response(),
    };
    let mut req = Request::from_parts(parts, Body::from(bytes.clone()));
    // Without a known key the handler answers 401 and nothing is recorded.
    let Some(principal) = principal else {
        return next.run(req).await;
    };
    req.extensions_mut()
        .insert(crate::extract::Resolved(principal.clone()));
    let what = format!(
        "{} {}",
        req.method(),
        req.uri().path_and_query().map_or("", |p| p.as_str())
    );
    let key = match quan_app::idempotency::key(&principal.key_id, header.as_bytes(), &what, &bytes)
    {
        Ok(k) => k,
        Err(e) => return ApiError(e).into_response(),
    };
    match state
        .app
        .idempotent(
            Some(key),
            || async move { answer(next.run(req).await).await },
        )
        .await
    {
        Ok(a) => render(a),
        Err(e) => ApiError(e).into_response(),
    }
}

/// A response as an [`Answer`] to keep.
async fn answer(response: Response) -> Answer {
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, READ_LIMIT)
        .await
        .unwrap_or_else(|_| Bytes::new());
    Answer {
        status: parts.status.as_u16(),
        body: serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(&bytes).into())),
        location: parts
            .headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    }
}

/// An [`Answer`] as the response it was.
pub fn render(a: Answer) -> Response {
    let status = StatusCode::from_u16(a.status).unwrap_or(StatusCode::OK);
    let mut response = (status, axum::Json(a.body)).into_response();
    if let Some(location) = a.location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}
