//! The SCRM's settings (lifecycle gaps, RFM window and tiers) and full RFM recomputes.

use axum::extract::State;
use axum::Json;
use jiff::Timestamp;
use quan_core::access::Role;
use quan_core::scrm::{LifecycleConfig, RfmConfig};
use quan_store::scrm::{self, LIFECYCLE_SETTING, RFM_SETTING};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::json::Body;
use crate::AppState;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScrmConfig {
    pub lifecycle: LifecycleConfig,
    pub rfm: RfmConfig,
}

/// The lifecycle gaps and the RFM window and tier mapping in force.
#[utoipa::path(get, path = "/v1/scrm/config", tag = "segments", responses((status = 200, body = ScrmConfig)))]
pub async fn get_config(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<ScrmConfig>> {
    caller.require(&[Role::Platform])?;
    Ok(Json(ScrmConfig {
        lifecycle: scrm::lifecycle_config(state.store.as_ref()).await?,
        rfm: scrm::rfm_config(state.store.as_ref()).await?,
    }))
}

/// Replaces the lifecycle gaps and the RFM configuration (scores change at the next recompute).
#[utoipa::path(put, path = "/v1/scrm/config", tag = "segments", request_body = ScrmConfig,
    responses((status = 200, body = ScrmConfig), (status = 422, body = ErrorBody)))]
pub async fn put_config(
    State(state): State<AppState>,
    caller: Caller,
    Body(body, _): Body<ScrmConfig>,
) -> ApiResult<Json<ScrmConfig>> {
    caller.require(&[Role::Platform])?;
    body.lifecycle
        .validate()
        .map_err(|e| ApiError::from(prefixed(e, "lifecycle")))?;
    body.rfm
        .validate()
        .map_err(|e| ApiError::from(prefixed(e, "rfm")))?;
    let lifecycle = serde_json::to_string(&body.lifecycle).expect("a configuration serializes");
    let rfm = serde_json::to_string(&body.rfm).expect("a configuration serializes");
    state
        .store
        .put_setting(LIFECYCLE_SETTING, lifecycle)
        .await?;
    state.store.put_setting(RFM_SETTING, rfm).await?;
    Ok(Json(body))
}

fn prefixed(mut e: quan_core::FieldError, at: &str) -> quan_core::FieldError {
    e.field = format!("{at}.{}", e.field);
    e
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecomputeBody {
    /// The end of the window (default now).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub as_of: Option<Timestamp>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecomputeView {
    #[schema(value_type = String, format = DateTime)]
    pub as_of: Timestamp,
    pub window_days: u32,
    /// Members with an order in the window.
    pub scored: usize,
    /// Members without: scores 0, tier C.
    pub unscored: u64,
    /// Scored members per tier.
    #[schema(value_type = Object)]
    pub tiers: std::collections::HashMap<String, usize>,
}

/// Recomputes every member's RFM scores and tier as of `as_of`; until the next recompute,
/// members whose orders change are scored against this run's quintile cuts.
#[utoipa::path(post, path = "/v1/rfm/recompute", tag = "segments", request_body = RecomputeBody,
    responses((status = 200, body = RecomputeView)))]
pub async fn recompute(
    State(state): State<AppState>,
    caller: Caller,
    Body(body, _): Body<RecomputeBody>,
) -> ApiResult<Json<RecomputeView>> {
    caller.require(&[Role::Platform])?;
    let run = scrm::recompute_rfm(state.store.as_ref(), body.as_of.unwrap_or(state.now())).await?;
    Ok(Json(RecomputeView {
        as_of: run.as_of,
        window_days: run.window_days,
        scored: run.scored,
        unscored: run.unscored,
        tiers: run.tiers,
    }))
}
