//! Campaigns: create, read with stats, list, status changes, their members and their review.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use quan_app::campaigns::{CampaignView, EntryQuery, EntryView};
use quan_app::page::{PageBody, Paging};
use quan_app::playbooks::{ApplyQuery, PlaybookApplied, PlaybookBody};
use quan_app::review::CampaignReview;
use quan_app::slices::{CampaignSlices, SlicesQuery};
use quan_core::campaign::{CampaignAction, CampaignSpec};
use quan_core::text::Id;

use super::created;
use crate::csv_export::{attachment, figures};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Body, Caller, PathIds, QueryParams};
use crate::AppState;

/// Creates a campaign as a draft; every part is checked and every template it names.
#[utoipa::path(post, path = "/v1/campaigns", tag = "campaigns", operation_id = "campaigns_create", request_body = CampaignSpec,
    responses((status = 201, body = CampaignView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Caller(p): Caller,
    Body(spec, _): Body<CampaignSpec>,
) -> ApiResult<(StatusCode, Json<CampaignView>)> {
    Ok(created(state.app.create_campaign(&p, spec).await?))
}

/// A campaign with its stats and warnings.
#[utoipa::path(get, path = "/v1/campaigns/{id}", tag = "campaigns", operation_id = "campaigns_get", params(("id" = String, Path)),
    responses((status = 200, body = CampaignView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Caller(p): Caller,
    PathIds(id): PathIds<Id>,
) -> ApiResult<Json<CampaignView>> {
    Ok(Json(state.app.campaign(&p, &id).await?))
}

/// The campaign's review as of now: funnel, cost by funder, coupon orders and ROI, and, with a
/// holdout, the uplift with its 95% intervals (docs/DOMAIN.md section 9).
#[utoipa::path(get, path = "/v1/campaigns/{id}/review", tag = "campaigns", operation_id = "campaigns_review", params(("id" = String, Path)),
    responses((status = 200, body = CampaignReview), (status = 404, body = ErrorBody)))]
pub async fn review(
    State(state): State<AppState>,
    Caller(p): Caller,
    PathIds(id): PathIds<Id>,
) -> ApiResult<Json<CampaignReview>> {
    Ok(Json(state.app.campaign_review(&p, &id).await?))
}

/// The campaign's coupons in slices: by store, claim route or template (from the daily
/// counters), or by the members' RFM tier or a segment (`segment_id`), each with the coupons
/// granted and used and the money they gave.
#[utoipa::path(get, path = "/v1/campaigns/{id}/slices", tag = "campaigns", operation_id = "campaigns_slices", params(("id" = String, Path), SlicesQuery),
    responses((status = 200, body = CampaignSlices), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn slices(
    State(state): State<AppState>,
    Caller(p): Caller,
    PathIds(id): PathIds<Id>,
    QueryParams(q): QueryParams<SlicesQuery>,
) -> ApiResult<Json<CampaignSlices>> {
    Ok(Json(state.app.campaign_slices(&p, &id, q).await?))
}

/// The campaign's review as CSV: a header line, then one figure a line (`figure,value`, the
/// figure by its path in the JSON review: `funnel.used`, `cost.by_funder.platform`,
/// `holdout.revenue_uplift_per_member_ci95[0]`).
#[utoipa::path(get, path = "/v1/campaigns/{id}/review.csv", tag = "campaigns", operation_id = "campaigns_review_csv", params(("id" = String, Path)),
    responses((status = 200, description = "a header line, then one figure a line", content_type = "text/csv", body = String), (status = 404, body = ErrorBody)))]
pub async fn review_csv(
    State(state): State<AppState>,
    Caller(p): Caller,
    PathIds(id): PathIds<Id>,
) -> ApiResult<Response> {
    let review = state.app.campaign_review(&p, &id).await?;
    let doc = serde_json::to_value(&review).expect("a review serializes");
    Ok(attachment(
        &format!("{id}-review.csv"),
        figures(&doc).into_bytes(),
    ))
}

/// Campaigns in id order.
#[utoipa::path(get, path = "/v1/campaigns", tag = "campaigns", operation_id = "campaigns_list", params(Paging),
    responses((status = 200, body = PageBody<CampaignView>)))]
pub async fn list(
    State(state): State<AppState>,
    Caller(p): Caller,
    QueryParams(paging): QueryParams<Paging>,
) -> ApiResult<Json<PageBody<CampaignView>>> {
    Ok(Json(state.app.list_campaigns(&p, paging).await?))
}

/// The members who entered, in member order (`?status=treated|held_out|...`).
#[utoipa::path(get, path = "/v1/campaigns/{id}/members", tag = "campaigns", operation_id = "campaigns_members", params(("id" = String, Path), EntryQuery),
    responses((status = 200, body = PageBody<EntryView>), (status = 404, body = ErrorBody)))]
pub async fn members(
    State(state): State<AppState>,
    Caller(p): Caller,
    PathIds(id): PathIds<Id>,
    QueryParams(q): QueryParams<EntryQuery>,
) -> ApiResult<Json<PageBody<EntryView>>> {
    Ok(Json(state.app.campaign_members(&p, &id, q).await?))
}

async fn change(
    state: AppState,
    p: Caller,
    id: Id,
    action: CampaignAction,
) -> ApiResult<Json<CampaignView>> {
    Ok(Json(state.app.change_campaign(&p.0, &id, action).await?))
}

/// Starts a draft campaign (its templates are checked again).
#[utoipa::path(post, path = "/v1/campaigns/{id}/activate", tag = "campaigns", operation_id = "campaigns_activate", params(("id" = String, Path)),
    responses((status = 200, body = CampaignView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn activate(
    State(state): State<AppState>,
    caller: Caller,
    PathIds(id): PathIds<Id>,
) -> ApiResult<Json<CampaignView>> {
    change(state, caller, id, CampaignAction::Activate).await
}

/// Pauses a campaign: nothing enters or is treated until it resumes.
#[utoipa::path(post, path = "/v1/campaigns/{id}/pause", tag = "campaigns", operation_id = "campaigns_pause", params(("id" = String, Path)),
    responses((status = 200, body = CampaignView), (status = 409, body = ErrorBody)))]
pub async fn pause(
    State(state): State<AppState>,
    caller: Caller,
    PathIds(id): PathIds<Id>,
) -> ApiResult<Json<CampaignView>> {
    change(state, caller, id, CampaignAction::Pause).await
}

/// Resumes a paused campaign.
#[utoipa::path(post, path = "/v1/campaigns/{id}/resume", tag = "campaigns", operation_id = "campaigns_resume", params(("id" = String, Path)),
    responses((status = 200, body = CampaignView), (status = 409, body = ErrorBody)))]
pub async fn resume(
    State(state): State<AppState>,
    caller: Caller,
    PathIds(id): PathIds<Id>,
) -> ApiResult<Json<CampaignView>> {
    change(state, caller, id, CampaignAction::Resume).await
}

/// Ends a campaign for good; its pending entries expire.
#[utoipa::path(post, path = "/v1/campaigns/{id}/end", tag = "campaigns", operation_id = "campaigns_end", params(("id" = String, Path)),
    responses((status = 200, body = CampaignView), (status = 409, body = ErrorBody)))]
pub async fn end(
    State(state): State<AppState>,
    caller: Caller,
    PathIds(id): PathIds<Id>,
) -> ApiResult<Json<CampaignView>> {
    change(state, caller, id, CampaignAction::End).await
}

/// Applies a playbook (examples/campaigns/*.json): its templates (created active), segments
/// and campaigns (drafts, or active with `?activate=true`), checked whole first.
#[utoipa::path(post, path = "/v1/playbooks", tag = "campaigns", operation_id = "playbooks_apply", params(ApplyQuery), request_body = PlaybookBody,
    responses((status = 201, body = PlaybookApplied), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn apply_playbook(
    State(state): State<AppState>,
    Caller(p): Caller,
    QueryParams(q): QueryParams<ApplyQuery>,
    Body(body, _): Body<PlaybookBody>,
) -> ApiResult<(StatusCode, Json<PlaybookApplied>)> {
    let activate = q.activate.unwrap_or(false);
    Ok(created(state.app.apply_playbook(&p, body, activate).await?))
}
