//! Members: profiles, their stage and RFM, lists, and the 360 view.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use quan_app::members::{AsOf, Member360, MemberBody, MemberSearch, MemberView};
use quan_app::page::PageBody;
use quan_core::text::Id;

use super::{created, written};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Body, Caller, PathIds, QueryParams};
use crate::AppState;

/// Creates or replaces a member's profile; `201` when it is a new member (a customer known
/// only from orders joins by it, keeping its history).
#[utoipa::path(put, path = "/v1/members/{id}", tag = "members", operation_id = "members_put", params(("id" = String, Path)), request_body = MemberBody,
    responses((status = 200, body = MemberView), (status = 201, body = MemberView), (status = 422, body = ErrorBody)))]
pub async fn put(
    State(state): State<AppState>,
    Caller(p): Caller,
    PathIds(id): PathIds<Id>,
    Body(body, _): Body<MemberBody>,
) -> ApiResult<(StatusCode, Json<MemberView>)> {
    let (w, view) = state.app.put_member(&p, id, body).await?;
    Ok(written(w, view))
}

/// Creates a member (`id` in the body); `409` when the id is a member's (a customer known only
/// from orders joins by it).
#[utoipa::path(post, path = "/v1/members", tag = "members", operation_id = "members_create", request_body = MemberBody,
    responses((status = 201, body = MemberView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Caller(p): Caller,
    Body(body, _): Body<MemberBody>,
) -> ApiResult<(StatusCode, Json<MemberView>)> {
    Ok(created(state.app.create_member(&p, body).await?))
}

/// One customer, with `member` (whether it joined), `lifecycle_stage`, `rfm`, `orders_count`
/// and `total_spent`; a buyer who never joined answers `member` false, `joined_at` null.
#[utoipa::path(get, path = "/v1/members/{id}", tag = "members", operation_id = "members_get", params(("id" = String, Path), AsOf),
    responses((status = 200, body = MemberView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Caller(p): Caller,
    PathIds(id): PathIds<Id>,
    QueryParams(q): QueryParams<AsOf>,
) -> ApiResult<Json<MemberView>> {
    Ok(Json(state.app.member(&p, &id, q.as_of).await?))
}

/// Customers in id order: members, and buyers known only from orders (`member` false).
#[utoipa::path(get, path = "/v1/members", tag = "members", operation_id = "members_list", params(MemberSearch),
    responses((status = 200, body = PageBody<MemberView>)))]
pub async fn list(
    State(state): State<AppState>,
    Caller(p): Caller,
    QueryParams(q): QueryParams<MemberSearch>,
) -> ApiResult<Json<PageBody<MemberView>>> {
    Ok(Json(state.app.list_members(&p, q).await?))
}

/// The member 360 view: profile, stage, RFM, recent orders, wallet and coupon history.
#[utoipa::path(get, path = "/v1/members/{id}/360", tag = "members", operation_id = "members_360", params(("id" = String, Path)),
    responses((status = 200, body = Member360), (status = 404, body = ErrorBody)))]
pub async fn view_360(
    State(state): State<AppState>,
    Caller(p): Caller,
    PathIds(id): PathIds<Id>,
) -> ApiResult<Json<Member360>> {
    Ok(Json(state.app.member_360(&p, &id).await?))
}
