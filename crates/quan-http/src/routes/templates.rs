//! Templates: create, read (live counters, the review), list, edit drafts, change status.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use quan_app::page::PageBody;
use quan_app::template_review::TemplateReview;
use quan_app::templates::{TemplateQuery, TemplateView};
use quan_core::template::{StatusAction, TemplateSpec};
use quan_core::text::Id;

use super::created;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Body, Caller, PathIds, QueryParams};
use crate::AppState;

/// Creates a template as a draft.
#[utoipa::path(post, path = "/v1/templates", tag = "templates", operation_id = "templates_create", request_body = TemplateSpec,
    responses((status = 201, body = TemplateView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Caller(p): Caller,
    Body(spec, _): Body<TemplateSpec>,
) -> ApiResult<(StatusCode, Json<TemplateView>)> {
    Ok(created(state.app.create_template(&p, spec).await?))
}

/// A template with its live counters.
#[utoipa::path(get, path = "/v1/templates/{id}", tag = "templates", operation_id = "templates_get", params(("id" = String, Path)),
    responses((status = 200, body = TemplateView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Caller(p): Caller,
    PathIds(id): PathIds<Id>,
) -> ApiResult<Json<TemplateView>> {
    Ok(Json(state.app.template(&p, &id).await?))
}

/// A template's review from the daily counters: claimed, used, the use rate, what its coupons
/// gave net of refunds by funder, the orders they were used in and ROI, by day, by claim route
/// and by campaign (docs/DOMAIN.md section 9).
#[utoipa::path(get, path = "/v1/templates/{id}/review", tag = "templates", operation_id = "templates_review", params(("id" = String, Path)),
    responses((status = 200, body = TemplateReview), (status = 404, body = ErrorBody)))]
pub async fn review(
    State(state): State<AppState>,
    Caller(p): Caller,
    PathIds(id): PathIds<Id>,
) -> ApiResult<Json<TemplateReview>> {
    Ok(Json(state.app.template_review(&p, &id).await?))
}

/// Lists templates, oldest first, filtered by status, scope kind and store.
#[utoipa::path(get, path = "/v1/templates", tag = "templates", operation_id = "templates_list", params(TemplateQuery),
    responses((status = 200, body = PageBody<TemplateView>)))]
pub async fn list(
    State(state): State<AppState>,
    Caller(p): Caller,
    QueryParams(q): QueryParams<TemplateQuery>,
) -> ApiResult<Json<PageBody<TemplateView>>> {
    Ok(Json(state.app.list_templates(&p, q).await?))
}

/// Replaces a draft template's content.
#[utoipa::path(put, path = "/v1/templates/{id}", tag = "templates", operation_id = "templates_update", params(("id" = String, Path)), request_body = TemplateSpec,
    responses((status = 200, body = TemplateView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Caller(p): Caller,
    PathIds(id): PathIds<Id>,
    Body(spec, _): Body<TemplateSpec>,
) -> ApiResult<Json<TemplateView>> {
    Ok(Json(state.app.update_template(&p, &id, spec).await?))
}

async fn change(
    state: AppState,
    p: Caller,
    id: Id,
    action: StatusAction,
) -> ApiResult<Json<TemplateView>> {
    Ok(Json(state.app.change_template(&p.0, &id, action).await?))
}

/// Makes a template claimable (from draft or paused).
#[utoipa::path(post, path = "/v1/templates/{id}/activate", tag = "templates", operation_id = "templates_activate", params(("id" = String, Path)),
    responses((status = 200, body = TemplateView), (status = 409, body = ErrorBody)))]
pub async fn activate(
    State(state): State<AppState>,
    caller: Caller,
    PathIds(id): PathIds<Id>,
) -> ApiResult<Json<TemplateView>> {
    change(state, caller, id, StatusAction::Activate).await
}

/// Stops claims for a while.
#[utoipa::path(post, path = "/v1/templates/{id}/pause", tag = "templates", operation_id = "templates_pause", params(("id" = String, Path)),
    responses((status = 200, body = TemplateView), (status = 409, body = ErrorBody)))]
pub async fn pause(
    State(state): State<AppState>,
    caller: Caller,
    PathIds(id): PathIds<Id>,
) -> ApiResult<Json<TemplateView>> {
    change(state, caller, id, StatusAction::Pause).await
}

/// Ends a template for good; coupons already claimed stay usable.
#[utoipa::path(post, path = "/v1/templates/{id}/end", tag = "templates", operation_id = "templates_end", params(("id" = String, Path)),
    responses((status = 200, body = TemplateView), (status = 409, body = ErrorBody)))]
pub async fn end(
    State(state): State<AppState>,
    caller: Caller,
    PathIds(id): PathIds<Id>,
) -> ApiResult<Json<TemplateView>> {
    change(state, caller, id, StatusAction::End).await
}
