//! The member store as claims need it: members (tier, join time, paid orders) and segments.
//! The SCRM work grows this into orders, events, lifecycle, RFM and rule-based segments.

use axum::extract::{Path, State};
use axum::Json;
use jiff::Timestamp;
use quan_core::access::Role;
use quan_core::ErrorCode;
use quan_store::{MemberRecord, SegmentRecord};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::json::Body;
use crate::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberBody {
    #[schema(value_type = Option<String>, format = DateTime)]
    pub joined_at: Option<Timestamp>,
    pub tier: Option<String>,
    pub region: Option<String>,
    /// Paid orders so far (kept by order ingestion once orders flow in).
    #[serde(default)]
    pub paid_orders: i64,
    /// Money spent so far, minor units.
    #[serde(default)]
    pub total_spent: i64,
    /// Points, origin channel, tags, assigned guide, ...
    #[serde(default)]
    #[schema(value_type = Object)]
    pub attributes: Option<serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    pub id: String,
    #[schema(value_type = String, format = DateTime)]
    pub joined_at: Timestamp,
    pub tier: Option<String>,
    pub region: Option<String>,
    pub orders_count: i64,
    pub total_spent: i64,
    #[schema(value_type = Object)]
    pub attributes: serde_json::Value,
}

impl From<MemberRecord> for MemberView {
    fn from(m: MemberRecord) -> Self {
        MemberView {
            id: m.id,
            joined_at: m.joined_at,
            tier: m.tier,
            region: m.region,
            orders_count: m.paid_orders,
            total_spent: m.total_spent,
            attributes: m.attributes,
        }
    }
}

/// Creates or replaces a member.
#[utoipa::path(put, path = "/v1/members/{id}", tag = "members", params(("id" = String, Path)), request_body = MemberBody,
    responses((status = 200, body = MemberView), (status = 422, body = ErrorBody)))]
pub async fn put(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body, _): Body<MemberBody>,
) -> ApiResult<Json<MemberView>> {
    caller.require(&[Role::Platform])?;
    for (field, v) in [
        ("paid_orders", body.paid_orders),
        ("total_spent", body.total_spent),
    ] {
        if v < 0 {
            return Err(ApiError::field(
                ErrorCode::Negative,
                field,
                "must not be negative",
            ));
        }
    }
    let attributes = body.attributes.unwrap_or_else(|| serde_json::json!({}));
    if !attributes.is_object() {
        return Err(ApiError::field(
            ErrorCode::InvalidType,
            "attributes",
            "must be an object",
        ));
    }
    let now = state.now();
    let m = MemberRecord {
        id,
        joined_at: body.joined_at.unwrap_or(now),
        tier: body.tier,
        region: body.region,
        paid_orders: body.paid_orders,
        total_spent: body.total_spent,
        attributes,
        updated_at: now,
    };
    Ok(Json(state.store.upsert_member(m).await?.into()))
}

/// One member.
#[utoipa::path(get, path = "/v1/members/{id}", tag = "members", params(("id" = String, Path)),
    responses((status = 200, body = MemberView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<MemberView>> {
    caller.require(&[Role::Platform])?;
    state
        .store
        .member(&id)
        .await?
        .map(|m| Json(m.into()))
        .ok_or_else(|| ApiError::not_found("member"))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SegmentBody {
    pub name: String,
    /// The segment's members, listed.
    pub member_ids: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SegmentView {
    pub id: String,
    pub name: String,
    pub size: usize,
}

/// Creates or replaces a listed segment (for `segment` audiences).
#[utoipa::path(put, path = "/v1/segments/{id}", tag = "members", params(("id" = String, Path)), request_body = SegmentBody,
    responses((status = 200, body = SegmentView), (status = 422, body = ErrorBody)))]
pub async fn put_segment(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body, _): Body<SegmentBody>,
) -> ApiResult<Json<SegmentView>> {
    caller.require(&[Role::Platform])?;
    if body.name.trim().is_empty() {
        return Err(ApiError::field(
            ErrorCode::InvalidValue,
            "name",
            "must not be blank",
        ));
    }
    if body.member_ids.len() > 100_000 {
        return Err(ApiError::field(
            ErrorCode::TooLarge,
            "member_ids",
            "at most 100000 per call",
        ));
    }
    let s = state
        .store
        .upsert_segment(SegmentRecord {
            id,
            name: body.name,
            member_ids: body.member_ids,
            created_at: state.now(),
        })
        .await?;
    Ok(Json(SegmentView {
        id: s.id,
        name: s.name,
        size: s.member_ids.len(),
    }))
}
