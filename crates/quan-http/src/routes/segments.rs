//! Segments: listed members or saved rules; their size, members (paged and as CSV).

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use jiff::Timestamp;
use quan_core::access::Role;
use quan_core::scrm::Rule;
use quan_core::ErrorCode;
use quan_store::scrm::{self, SegmentDefinition, SegmentRecord};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::members::{text, AsOf, MemberView};
use super::{PageBody, Q};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::json::Body;
use crate::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SegmentBody {
    pub name: String,
    /// A listed segment: these members.
    pub member_ids: Option<Vec<String>>,
    /// A rule segment: evaluated whenever it is asked (`and` / `or` / `not` over conditions).
    pub rule: Option<Rule>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SegmentView {
    pub id: String,
    pub name: String,
    /// `listed` or `rule`.
    pub kind: String,
    pub rule: Option<Rule>,
    /// Members as of now (or `as_of`); absent in lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<usize>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl SegmentView {
    fn new(s: SegmentRecord, size: Option<usize>) -> Self {
        let (kind, rule) = match s.definition {
            SegmentDefinition::Listed(_) => ("listed", None),
            SegmentDefinition::Rule(rule) => ("rule", Some(rule)),
        };
        SegmentView {
            id: s.id,
            name: s.name,
            kind: kind.into(),
            rule,
            size,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

fn definition(body: SegmentBody) -> ApiResult<(String, SegmentDefinition)> {
    if body.name.trim().is_empty() || body.name.len() > 200 {
        return Err(ApiError::field(
            ErrorCode::InvalidValue,
            "name",
            "must be 1..200 bytes, not blank",
        ));
    }
    let definition = match (body.member_ids, body.rule) {
        (Some(ids), None) => {
            if ids.len() > 100_000 {
                return Err(ApiError::field(
                    ErrorCode::TooLarge,
                    "member_ids",
                    "at most 100000 per call",
                ));
            }
            for (i, id) in ids.iter().enumerate() {
                text(&format!("member_ids[{i}]"), id)?;
            }
            SegmentDefinition::Listed(ids)
        }
        (None, Some(rule)) => {
            rule.validate("rule").map_err(ApiError::from)?;
            SegmentDefinition::Rule(rule)
        }
        _ => {
            return Err(ApiError::field(
                ErrorCode::InvalidValue,
                "rule",
                "give exactly one of member_ids and rule",
            ))
        }
    };
    Ok((body.name, definition))
}

async fn save(state: &AppState, id: String, body: SegmentBody) -> ApiResult<(bool, SegmentView)> {
    text("id", &id)?;
    let (name, definition) = definition(body)?;
    let now = state.now();
    let existing = state.store.segment(&id).await?;
    let created_at = existing.as_ref().map_or(now, |s| s.created_at);
    let saved = state
        .store
        .put_segment(SegmentRecord {
            id,
            name,
            definition,
            created_at,
            updated_at: now,
        })
        .await?;
    let size = scrm::segment_members(state.store.as_ref(), &saved, now)
        .await?
        .len();
    Ok((existing.is_none(), SegmentView::new(saved, Some(size))))
}

/// Creates or replaces a segment: a list of members or a rule.
#[utoipa::path(put, path = "/v1/segments/{id}", tag = "segments", params(("id" = String, Path)), request_body = SegmentBody,
    responses((status = 200, body = SegmentView), (status = 201, body = SegmentView), (status = 422, body = ErrorBody)))]
pub async fn put(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body, _): Body<SegmentBody>,
) -> ApiResult<(StatusCode, Json<SegmentView>)> {
    caller.require(&[Role::Platform])?;
    let (created, view) = save(&state, id, body).await?;
    Ok((
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        Json(view),
    ))
}

/// Creates a segment with a new id.
#[utoipa::path(post, path = "/v1/segments", tag = "segments", request_body = SegmentBody,
    responses((status = 201, body = SegmentView), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Body(body, _): Body<SegmentBody>,
) -> ApiResult<(StatusCode, Json<SegmentView>)> {
    caller.require(&[Role::Platform])?;
    let (_, view) = save(
        &state,
        quan_store::new_id("seg", state.now().as_millisecond()),
        body,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

async fn segment(state: &AppState, id: &str) -> ApiResult<SegmentRecord> {
    state
        .store
        .segment(id)
        .await?
        .ok_or_else(|| ApiError::not_found("segment"))
}

/// One segment with its size as of now (or `as_of`).
#[utoipa::path(get, path = "/v1/segments/{id}", tag = "segments", params(("id" = String, Path), AsOf),
    responses((status = 200, body = SegmentView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Q(q): Q<AsOf>,
) -> ApiResult<Json<SegmentView>> {
    caller.require(&[Role::Platform])?;
    let s = segment(&state, &id).await?;
    let size = scrm::segment_members(state.store.as_ref(), &s, q.as_of.unwrap_or(state.now()))
        .await?
        .len();
    Ok(Json(SegmentView::new(s, Some(size))))
}

/// Segments in id order (without sizes: ask one segment for its size).
#[utoipa::path(get, path = "/v1/segments", tag = "segments", params(super::Paging),
    responses((status = 200, body = PageBody<SegmentView>)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Q(paging): Q<super::Paging>,
) -> ApiResult<Json<PageBody<SegmentView>>> {
    caller.require(&[Role::Platform])?;
    let page = state
        .store
        .list_segments(paging.limit()?, paging.cursor.clone())
        .await?;
    Ok(PageBody::from(page, |s| SegmentView::new(s, None)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewBody {
    pub rule: Rule,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub as_of: Option<Timestamp>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewView {
    pub size: usize,
    /// The first members by id (at most 20).
    pub sample: Vec<String>,
}

/// Sizes a rule without saving it.
#[utoipa::path(post, path = "/v1/segments/preview", tag = "segments", request_body = PreviewBody,
    responses((status = 200, body = PreviewView), (status = 422, body = ErrorBody)))]
pub async fn preview(
    State(state): State<AppState>,
    caller: Caller,
    Body(body, _): Body<PreviewBody>,
) -> ApiResult<Json<PreviewView>> {
    caller.require(&[Role::Platform])?;
    body.rule.validate("rule").map_err(ApiError::from)?;
    let members = scrm::rule_members(
        state.store.as_ref(),
        &body.rule,
        body.as_of.unwrap_or(state.now()),
    )
    .await?;
    Ok(Json(PreviewView {
        size: members.len(),
        sample: members.into_iter().take(20).collect(),
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct MembersQuery {
    #[param(value_type = Option<String>, format = DateTime)]
    pub as_of: Option<Timestamp>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// A segment's members as of now (or `as_of`), in id order.
#[utoipa::path(get, path = "/v1/segments/{id}/members", tag = "segments", params(("id" = String, Path), MembersQuery),
    responses((status = 200, body = PageBody<MemberView>), (status = 404, body = ErrorBody)))]
pub async fn members(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Q(q): Q<MembersQuery>,
) -> ApiResult<Json<PageBody<MemberView>>> {
    caller.require(&[Role::Platform])?;
    let limit = super::Paging {
        limit: q.limit,
        cursor: None,
    }
    .limit()? as usize;
    let s = segment(&state, &id).await?;
    let now = state.now();
    let ids = scrm::segment_members(state.store.as_ref(), &s, q.as_of.unwrap_or(now)).await?;
    let start = q
        .cursor
        .as_ref()
        .map_or(0, |c| ids.partition_point(|m| m <= c));
    let config = scrm::lifecycle_config(state.store.as_ref()).await?;
    let mut items = Vec::new();
    for m in ids.iter().skip(start).take(limit) {
        if let Some(record) = state.store.member(m).await? {
            items.push(MemberView::current(record, now, &config));
        }
    }
    let next = (start + limit < ids.len()).then(|| ids[start + limit - 1].clone());
    Ok(Json(PageBody {
        items,
        total: ids.len() as i64,
        next,
    }))
}

/// A segment's members as CSV: id, joined_at, tier, region, lifecycle_stage, rfm_tier, r, f,
/// m, orders_count, total_spent.
#[utoipa::path(get, path = "/v1/segments/{id}/members.csv", tag = "segments", params(("id" = String, Path), AsOf),
    responses((status = 200, description = "a header line, then one member a line", content_type = "text/csv", body = String), (status = 404, body = ErrorBody)))]
pub async fn members_csv(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Q(q): Q<AsOf>,
) -> ApiResult<axum::response::Response> {
    caller.require(&[Role::Platform])?;
    let s = segment(&state, &id).await?;
    let now = state.now();
    let ids: std::collections::HashSet<String> =
        scrm::segment_members(state.store.as_ref(), &s, q.as_of.unwrap_or(now))
            .await?
            .into_iter()
            .collect();
    let config = scrm::lifecycle_config(state.store.as_ref()).await?;
    let mut out = csv::Writer::from_writer(Vec::new());
    let csv_err = |_| ApiError::code(ErrorCode::Internal);
    out.write_record([
        "id",
        "joined_at",
        "tier",
        "region",
        "lifecycle_stage",
        "rfm_tier",
        "r",
        "f",
        "m",
        "orders_count",
        "total_spent",
    ])
    .map_err(csv_err)?;
    for m in state.store.all_members().await? {
        if !ids.contains(&m.profile.id) {
            continue;
        }
        let v = MemberView::current(m, now, &config);
        out.write_record([
            v.id,
            v.joined_at.to_string(),
            v.tier.unwrap_or_default(),
            v.region.unwrap_or_default(),
            v.lifecycle_stage.as_str().to_string(),
            v.rfm.tier,
            v.rfm.r.to_string(),
            v.rfm.f.to_string(),
            v.rfm.m.to_string(),
            v.orders_count.to_string(),
            v.total_spent.to_string(),
        ])
        .map_err(csv_err)?;
    }
    let body = out
        .into_inner()
        .map_err(|_| ApiError::code(ErrorCode::Internal))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{id}-members.csv\""),
            ),
        ],
        body,
    )
        .into_response())
}
