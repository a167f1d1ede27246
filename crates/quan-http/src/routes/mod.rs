//! The handlers, one module per resource, and the pieces they share (paging, idempotency).

pub mod catalog;
pub mod checkout;
pub mod claims;
pub mod events;
pub mod history;
pub mod jobs;
pub mod keys;
pub mod members;
pub mod orders;
pub mod rfm;
pub mod segments;
pub mod system;
pub mod templates;
pub mod wallet;

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::HeaderValue;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use quan_core::ErrorCode;
use quan_store::{IdempotencyKey, IdempotencyStart, Page};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(system::healthz))
        .route("/openapi.json", get(system::openapi))
        .route("/v1/keys", post(keys::create))
        .route(
            "/v1/templates",
            post(templates::create).get(templates::list),
        )
        .route(
            "/v1/templates/{id}",
            get(templates::get).put(templates::update),
        )
        .route("/v1/templates/{id}/activate", post(templates::activate))
        .route("/v1/templates/{id}/pause", post(templates::pause))
        .route("/v1/templates/{id}/end", post(templates::end))
        .route("/v1/templates/{id}/claim", post(claims::claim))
        .route("/v1/templates/{id}/grant", post(claims::grant))
        .route("/v1/templates/{id}/links", post(claims::create_link))
        .route(
            "/v1/templates/{id}/claim-codes",
            post(claims::create_claim_codes),
        )
        .route("/v1/jobs/{id}", get(jobs::get))
        .route("/v1/jobs/{id}/codes", get(jobs::codes))
        .route("/v1/jobs/{id}/codes.csv", get(jobs::codes_csv))
        .route("/v1/checkout/quote", post(checkout::quote))
        .route("/v1/orders", post(orders::create).get(history::list))
        .route("/v1/orders/{order_id}", get(orders::get).put(history::put))
        .route("/v1/orders/{order_id}/pay", post(orders::pay))
        .route("/v1/orders/{order_id}/cancel", post(orders::cancel))
        .route("/v1/orders/{order_id}/refund", post(orders::refund))
        .route("/v1/users/{user_id}/coupons", get(wallet::wallet))
        .route("/v1/coupons/redeem", post(wallet::redeem_by_code))
        .route("/v1/coupons/{id}", get(wallet::coupon))
        .route("/v1/coupons/{id}/revoke", post(wallet::revoke))
        .route("/v1/members", post(members::create).get(members::list))
        .route("/v1/members/{id}", put(members::put).get(members::get))
        .route("/v1/members/{id}/360", get(members::view_360))
        .route("/v1/members/{id}/events", get(events::list))
        .route("/v1/events", post(events::create))
        .route("/v1/stores", get(catalog::list_stores))
        .route(
            "/v1/stores/{id}",
            put(catalog::put_store).get(catalog::get_store),
        )
        .route("/v1/products", get(catalog::list_products))
        .route(
            "/v1/products/{sku}",
            put(catalog::put_product).get(catalog::get_product),
        )
        .route("/v1/segments", post(segments::create).get(segments::list))
        .route("/v1/segments/preview", post(segments::preview))
        .route("/v1/segments/{id}", put(segments::put).get(segments::get))
        .route("/v1/segments/{id}/members", get(segments::members))
        .route("/v1/segments/{id}/members.csv", get(segments::members_csv))
        .route("/v1/scrm/config", get(rfm::get_config).put(rfm::put_config))
        .route("/v1/rfm/recompute", post(rfm::recompute))
        .fallback(system::not_found)
        .method_not_allowed_fallback(system::method_not_allowed)
}

/// A query string read with the API's error shape.
pub struct Q<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Q<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::try_from_uri(&parts.uri)
            .map(|Query(v)| Q(v))
            .map_err(|e| ApiError::new(ErrorCode::BadRequest, e.body_text()))
    }
}

/// `?limit=&cursor=`, as every list takes them.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct Paging {
    /// At most this many items (1..=500, default 50).
    pub limit: Option<u32>,
    /// The `next` of the previous page.
    pub cursor: Option<String>,
}

impl Paging {
    pub fn limit(&self) -> ApiResult<u32> {
        match self.limit {
            None => Ok(50),
            Some(n @ 1..=500) => Ok(n),
            Some(_) => Err(ApiError::field(
                ErrorCode::InvalidValue,
                "limit",
                "must be within 1..500",
            )),
        }
    }
}

/// A page of a list: `{"items", "total", "next"}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PageBody<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub next: Option<String>,
}

impl<T> PageBody<T> {
    pub fn from<R>(page: Page<R>, f: impl FnMut(R) -> T) -> Json<Self> {
        Json(PageBody {
            items: page.items.into_iter().map(f).collect(),
            total: page.total,
            next: page.next,
        })
    }
}

/// A request's `Idempotency-Key` header, taken without copying the other headers.
pub struct IdempotencyHeader(Option<HeaderValue>);

impl IdempotencyHeader {
    pub fn is_present(&self) -> bool {
        self.0.is_some()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyHeader {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(parts.headers.get("idempotency-key").cloned()))
    }
}

/// The `Idempotency-Key` of a request, scoped to the API key and tied to the body.
pub fn idempotency_key(
    header: &IdempotencyHeader,
    key_id: &str,
    what: &str,
    body: &[u8],
) -> ApiResult<Option<IdempotencyKey>> {
    let Some(value) = &header.0 else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= 255)
        .ok_or_else(|| {
            ApiError::field(
                ErrorCode::BadRequest,
                "Idempotency-Key",
                "must be 1..255 visible characters",
            )
        })?;
    let mut hash = Sha256::new();
    hash.update(what.as_bytes());
    hash.update([0]);
    hash.update(body);
    let request_hash = quan_store::hex(&hash.finalize());
    Ok(Some(IdempotencyKey {
        key_id: key_id.to_string(),
        key: key.to_string(),
        request_hash,
    }))
}

/// A stored answer: the status and the JSON body.
#[derive(Serialize, Deserialize)]
struct Stored {
    status: u16,
    body: serde_json::Value,
}

/// Runs a mutating call at most once per idempotency key, replaying its first answer.
pub async fn once<F, Fut>(
    state: &AppState,
    key: Option<IdempotencyKey>,
    run: F,
) -> axum::response::Response
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ApiResult<(axum::http::StatusCode, serde_json::Value)>>,
{
    use axum::response::IntoResponse;
    match answer_once(state, key, run).await {
        Ok((status, body)) => (status, Json(body)).into_response(),
        Err(e) => e.into_response(),
    }
}

/// [`once`], answering the status and body (first or replayed) for the caller to finish.
pub async fn answer_once<F, Fut>(
    state: &AppState,
    key: Option<IdempotencyKey>,
    run: F,
) -> ApiResult<(axum::http::StatusCode, serde_json::Value)>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ApiResult<(axum::http::StatusCode, serde_json::Value)>>,
{
    let Some(key) = key else {
        return run().await;
    };
    match state.store.begin_idempotent(&key, state.now()).await? {
        IdempotencyStart::Mismatch => Err(ApiError::field(
            ErrorCode::IdempotencyMismatch,
            "Idempotency-Key",
            "this key was used with another request",
        )),
        IdempotencyStart::InFlight => Err(ApiError::code(ErrorCode::InFlight)),
        IdempotencyStart::Replay(stored) => match serde_json::from_str::<Stored>(&stored) {
            Ok(s) => Ok((
                axum::http::StatusCode::from_u16(s.status).unwrap_or(axum::http::StatusCode::OK),
                s.body,
            )),
            Err(_) => Err(ApiError::code(ErrorCode::Internal)),
        },
        IdempotencyStart::Started => {
            let (status, body) = match run().await {
                Ok((status, body)) => (status, body),
                Err(e) => {
                    let status = axum::http::StatusCode::from_u16(e.code.status())
                        .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
                    (
                        status,
                        serde_json::to_value(e.body()).expect("error serializes"),
                    )
                }
            };
            let stored = serde_json::to_string(&Stored {
                status: status.as_u16(),
                body: body.clone(),
            })
            .expect("serializes");
            state.store.finish_idempotent(&key, &stored).await?;
            Ok((status, body))
        }
    }
}
