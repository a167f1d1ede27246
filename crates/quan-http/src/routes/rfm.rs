//! The SCRM's settings (lifecycle gaps, RFM window and tiers) and full RFM recomputes.

use axum::extract::State;
use axum::Json;
use quan_app::rfm::{RecomputeBody, RecomputeView, ScrmConfig};

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Body, Caller};
use crate::AppState;

/// The lifecycle gaps and the RFM window and tier mapping in force.
#[utoipa::path(get, path = "/v1/scrm/config", tag = "segments", operation_id = "scrm_config_get", responses((status = 200, body = ScrmConfig)))]
pub async fn get_config(
    State(state): State<AppState>,
    Caller(p): Caller,
) -> ApiResult<Json<ScrmConfig>> {
    Ok(Json(state.app.scrm_config(&p).await?))
}

/// Replaces the lifecycle gaps and the RFM configuration (scores change at the next recompute).
#[utoipa::path(put, path = "/v1/scrm/config", tag = "segments", operation_id = "scrm_config_put", request_body = ScrmConfig,
    responses((status = 200, body = ScrmConfig), (status = 422, body = ErrorBody)))]
pub async fn put_config(
    State(state): State<AppState>,
    Caller(p): Caller,
    Body(body, _): Body<ScrmConfig>,
) -> ApiResult<Json<ScrmConfig>> {
    Ok(Json(state.app.put_scrm_config(&p, body).await?))
}

/// Recomputes every member's RFM scores and tier as of `as_of`; until the next recompute,
/// members whose orders change are scored against this run's quintile cuts.
#[utoipa::path(post, path = "/v1/rfm/recompute", tag = "segments", operation_id = "rfm_recompute", request_body = RecomputeBody,
    responses((status = 200, body = RecomputeView)))]
pub async fn recompute(
    State(state): State<AppState>,
    Caller(p): Caller,
    Body(body, _): Body<RecomputeBody>,
) -> ApiResult<Json<RecomputeView>> {
    Ok(Json(state.app.recompute_rfm(&p, body).await?))
}
