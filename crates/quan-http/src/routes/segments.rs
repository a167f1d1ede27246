//! Segments: listed members or saved rules; their size, members (paged and as CSV).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use quan_app::members::{AsOf, MemberView};
use quan_app::page::{PageBody, Paging};
use quan_app::segments::{
    MembersQuery, PreviewBody, PreviewView, SegmentBody, SegmentView, MEMBER_CSV_HEADER,
};
use quan_core::text::Id;

use crate::csv_export::{attachment, CsvRows};

use super::created;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Body, Caller, PathIds, QueryParams};
use crate::AppState;

/// Creates or replaces a segment: a list of members or a rule.
#[utoipa::path(put, path = "/v1/segments/{id}", tag = "segments", operation_id = "segments_put", params(("id" = String, Path)), request_body = SegmentBody,
    responses((status = 200, body = SegmentView), (status = 201, body = SegmentView), (status = 422, body = ErrorBody)))]
pub async fn put(
    State(state): State<AppState>,
    Caller(p): Caller,
    PathIds(id): PathIds<Id>,
    Body(body, _): Body<SegmentBody>,
) -> ApiResult<(StatusCode, Json<SegmentView>)> {
    let (new, view) = state.app.put_segment(&p, id, body).await?;
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(view)))
}

/// Creates a segment with a new id.
#[utoipa::path(post, path = "/v1/segments", tag = "segments", operation_id = "segments_create", request_body = SegmentBody,
    responses((status = 201, body = SegmentView), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Caller(p): Caller,
    Body(body, _): Body<SegmentBody>,
) -> ApiResult<(StatusCode, Json<SegmentView>)> {
    Ok(created(state.app.create_segment(&p, body).await?))
}

/// One segment with its size as of now (or `as_of`).
#[utoipa::path(get, path = "/v1/segments/{id}", tag = "segments", operation_id = "segments_get", params(("id" = String, Path), AsOf),
    responses((status = 200, body = SegmentView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Caller(p): Caller,
    PathIds(id): PathIds<Id>,
    QueryParams(q): QueryParams<AsOf>,
) -> ApiResult<Json<SegmentView>> {
    Ok(Json(state.app.segment(&p, &id, q.as_of).await?))
}

/// Segments in id order (without sizes: ask one segment for its size).
#[utoipa::path(get, path = "/v1/segments", tag = "segments", operation_id = "segments_list", params(Paging),
    responses((status = 200, body = PageBody<SegmentView>)))]
pub async fn list(
    State(state): State<AppState>,
    Caller(p): Caller,
    QueryParams(paging): QueryParams<Paging>,
) -> ApiResult<Json<PageBody<SegmentView>>> {
    Ok(Json(state.app.list_segments(&p, paging).await?))
}

/// Sizes a rule without saving it.
#[utoipa::path(post, path = "/v1/segments/preview", tag = "segments", operation_id = "segments_preview", request_body = PreviewBody,
    responses((status = 200, body = PreviewView), (status = 422, body = ErrorBody)))]
pub async fn preview(
    State(state): State<AppState>,
    Caller(p): Caller,
    Body(body, _): Body<PreviewBody>,
) -> ApiResult<Json<PreviewView>> {
    Ok(Json(state.app.preview_segment(&p, body).await?))
}

/// A segment's members as of now (or `as_of`), in id order.
#[utoipa::path(get, path = "/v1/segments/{id}/members", tag = "segments", operation_id = "segments_members", params(("id" = String, Path), MembersQuery),
    responses((status = 200, body = PageBody<MemberView>), (status = 404, body = ErrorBody)))]
pub async fn members(
    State(state): State<AppState>,
    Caller(p): Caller,
    PathIds(id): PathIds<Id>,
    QueryParams(q): QueryParams<MembersQuery>,
) -> ApiResult<Json<PageBody<MemberView>>> {
    Ok(Json(state.app.segment_members(&p, &id, q).await?))
}

/// A segment's members as CSV: id, joined_at, tier, region, lifecycle_stage, rfm_tier, r, f,
/// m, orders_count, total_spent, member (`false`, with `joined_at` empty, for a buyer who never
/// joined).
#[utoipa::path(get, path = "/v1/segments/{id}/members.csv", tag = "segments", operation_id = "segments_members_csv", params(("id" = String, Path), AsOf),
    responses((status = 200, description = "a header line, then one member a line", content_type = "text/csv", body = String), (status = 404, body = ErrorBody)))]
pub async fn members_csv(
    State(state): State<AppState>,
    Caller(p): Caller,
    PathIds(id): PathIds<Id>,
    QueryParams(q): QueryParams<AsOf>,
) -> ApiResult<Response> {
    let members = state.app.segment_export(&p, &id, q.as_of).await?;
    let mut out = CsvRows::new();
    out.row(MEMBER_CSV_HEADER);
    for m in members {
        out.row(m.csv_row());
    }
    Ok(attachment(&format!("{id}-members.csv"), out.into_bytes()))
}
