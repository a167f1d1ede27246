//! Claiming: public claims, grants by service staff, signed links and pre-made claim codes.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use quan_app::claims::{
    ClaimBody, ClaimCodesAnswer, ClaimCodesBody, ClaimedBody, CodesMade, GrantBody, LinkAnswer,
    LinkBody,
};
use quan_app::jobs::JobView;
use quan_core::text::Id;

use super::created;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Body, Caller, IdempotencyHeader, PathIds};
use crate::AppState;

/// Claims a coupon for a user: the rules of docs/DOMAIN.md section 5, in order.
#[utoipa::path(post, path = "/v1/templates/{id}/claim", tag = "claims", operation_id = "claims_claim", params(("id" = String, Path)), request_body = ClaimBody,
    responses((status = 201, body = ClaimedBody), (status = 404, body = ErrorBody), (status = 409, description = "A claim rule refused it", body = ErrorBody)))]
pub async fn claim(
    State(state): State<AppState>,
    Caller(p): Caller,
    idem: IdempotencyHeader,
    PathIds(id): PathIds<Id>,
    Body(body, raw): Body<ClaimBody>,
) -> ApiResult<(StatusCode, Json<ClaimedBody>)> {
    let key = idem.key(&p, &format!("POST /v1/templates/{id}/claim"), &raw)?;
    Ok(created(state.app.claim(&p, id, body, key).await?))
}

/// Grants a coupon to a user as customer service or a store guide (`service_only` templates).
#[utoipa::path(post, path = "/v1/templates/{id}/grant", tag = "claims", operation_id = "claims_grant", params(("id" = String, Path)), request_body = GrantBody,
    responses((status = 201, body = ClaimedBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn grant(
    State(state): State<AppState>,
    Caller(p): Caller,
    idem: IdempotencyHeader,
    PathIds(id): PathIds<Id>,
    Body(body, raw): Body<GrantBody>,
) -> ApiResult<(StatusCode, Json<ClaimedBody>)> {
    let key = idem.key(&p, &format!("POST /v1/templates/{id}/grant"), &raw)?;
    Ok(created(state.app.grant(&p, id, body, key).await?))
}

/// Signs a claim link for a template (the "own channel promotion link"). A template whose
/// distribution never honours links (`service_only`, `campaign_only`) answers 422.
#[utoipa::path(post, path = "/v1/templates/{id}/links", tag = "claims", operation_id = "claims_create_link", params(("id" = String, Path)), request_body = LinkBody,
    responses((status = 201, body = LinkAnswer), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_link(
    State(state): State<AppState>,
    Caller(p): Caller,
    PathIds(id): PathIds<Id>,
    Body(body, _): Body<LinkBody>,
) -> ApiResult<(StatusCode, Json<LinkAnswer>)> {
    Ok(created(state.app.create_link(&p, id, body).await?))
}

/// Makes pre-made, single-use claim codes; they count as issued and take stock when made.
///
/// Up to 10000 codes are made at once and answered (201). A larger count (up to 1000000)
/// answers 202 with a job (`Location: /v1/jobs/{job_id}`) that makes the codes in batches of
/// 10000, each batch taking its stock as it commits; a batch the remaining stock cannot cover
/// fails the job (`out_of_stock`) and the batches before it stand. Follow the job with
/// `GET /v1/jobs/{job_id}`, and read its codes with `GET /v1/jobs/{job_id}/codes` or
/// `GET /v1/jobs/{job_id}/codes.csv`. A template whose distribution never honours claim codes
/// answers 422.
#[utoipa::path(post, path = "/v1/templates/{id}/claim-codes", tag = "claims", operation_id = "claims_create_claim_codes", params(("id" = String, Path)), request_body = ClaimCodesBody,
    responses((status = 201, body = ClaimCodesAnswer),
        (status = 202, description = "A job makes the codes", body = JobView,
            headers(("Location" = String, description = "The job: `/v1/jobs/{job_id}`"))),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_claim_codes(
    State(state): State<AppState>,
    Caller(p): Caller,
    PathIds(id): PathIds<Id>,
    Body(body, _): Body<ClaimCodesBody>,
) -> ApiResult<Response> {
    Ok(match state.app.create_claim_codes(&p, id, body).await? {
        CodesMade::Now(codes) => created(codes).into_response(),
        CodesMade::ByJob(job) => (
            StatusCode::ACCEPTED,
            [(header::LOCATION, format!("/v1/jobs/{}", job.job_id))],
            Json(job),
        )
            .into_response(),
    })
}
