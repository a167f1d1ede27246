//! API keys: an operator makes keys for merchants, guides and customers.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use quan_app::keys::{KeyBody, KeyView, MeView, NewKeyBody};
use quan_app::page::{PageBody, Paging};
use quan_core::text::Id;

use super::created;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Body, Caller, PathIds, QueryParams};
use crate::AppState;

/// Makes an API key (platform operators only).
#[utoipa::path(post, path = "/v1/keys", tag = "keys", operation_id = "keys_create", request_body = NewKeyBody,
    responses((status = 201, body = KeyBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Caller(p): Caller,
    Body(body, _): Body<NewKeyBody>,
) -> ApiResult<(StatusCode, Json<KeyBody>)> {
    Ok(created(state.app.create_key(&p, body).await?))
}

/// The caller's own key: its role, stores and user (what the console may show).
#[utoipa::path(get, path = "/v1/me", tag = "keys", operation_id = "keys_me",
    responses((status = 200, body = MeView), (status = 401, body = ErrorBody)))]
pub async fn me(State(state): State<AppState>, Caller(p): Caller) -> Json<MeView> {
    Json(state.app.me(&p))
}

/// Every key, oldest first, without secrets (platform operators only).
#[utoipa::path(get, path = "/v1/keys", tag = "keys", operation_id = "keys_list", params(Paging),
    responses((status = 200, body = PageBody<KeyView>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Caller(p): Caller,
    QueryParams(paging): QueryParams<Paging>,
) -> ApiResult<Json<PageBody<KeyView>>> {
    Ok(Json(state.app.list_keys(&p, paging).await?))
}

/// Revokes a key: from then on it answers 401, in every process serving the database, within
/// a second (platform operators only).
#[utoipa::path(post, path = "/v1/keys/{id}/revoke", tag = "keys", operation_id = "keys_revoke", params(("id" = String, Path)),
    responses((status = 200, body = KeyView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    Caller(p): Caller,
    PathIds(id): PathIds<Id>,
) -> ApiResult<Json<KeyView>> {
    Ok(Json(state.app.revoke_key(&p, &id).await?))
}
