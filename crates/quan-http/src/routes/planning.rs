//! Planning and judging campaigns: the forecast of a coupon before launch, the operator's
//! calculators (LTV, CAC, threshold, pack, lottery) and the economics settings they read, and
//! the programme's global holdout with what every campaign together added.

use axum::extract::State;
use axum::Json;
use quan_app::calculators::{
    CacQuery, CacView, Economics, LotteryBody, LotteryView, LtvQuery, LtvView, PackBody, PackView,
    ThresholdBody, ThresholdView,
};
use quan_app::forecast::{Forecast, ForecastBody};
use quan_app::programme::{ProgrammeQuery, ProgrammeReview, ProgrammeSettings};

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Body, Caller, QueryParams};
use crate::AppState;

/// What a coupon offered to an audience is expected to cost and earn: the expected use rate
/// (from the tenant's redemption model, similar settled coupons, or the assumed rate, saying
/// which) and the figures of docs/DOMAIN.md section 9.
#[utoipa::path(post, path = "/v1/forecasts", tag = "campaigns", operation_id = "forecasts_create", request_body = ForecastBody,
    responses((status = 200, body = Forecast), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn forecast(
    State(state): State<AppState>,
    Caller(p): Caller,
    Body(body, _): Body<ForecastBody>,
) -> ApiResult<Json<Forecast>> {
    Ok(Json(state.app.forecast(&p, body).await?))
}

/// The tenant's economics settings (gross margin).
#[utoipa::path(get, path = "/v1/economics", tag = "campaigns", operation_id = "economics_get",
    responses((status = 200, body = Economics)))]
pub async fn get_economics(
    State(state): State<AppState>,
    Caller(p): Caller,
) -> ApiResult<Json<Economics>> {
    Ok(Json(state.app.economics(&p).await?))
}

/// Replaces the tenant's economics settings.
#[utoipa::path(put, path = "/v1/economics", tag = "campaigns", operation_id = "economics_put", request_body = Economics,
    responses((status = 200, body = Economics), (status = 422, body = ErrorBody)))]
pub async fn put_economics(
    State(state): State<AppState>,
    Caller(p): Caller,
    Body(body, _): Body<Economics>,
) -> ApiResult<Json<Economics>> {
    Ok(Json(state.app.put_economics(&p, body).await?))
}

/// LTV for everyone who bought, each RFM tier and optionally a segment, from the tenant's
/// counted orders, with the CAC ceiling (80% of LTV).
#[utoipa::path(get, path = "/v1/calculators/ltv", tag = "campaigns", operation_id = "calculators_ltv", params(LtvQuery),
    responses((status = 200, body = LtvView), (status = 422, body = ErrorBody)))]
pub async fn ltv(
    State(state): State<AppState>,
    Caller(p): Caller,
    QueryParams(q): QueryParams<LtvQuery>,
) -> ApiResult<Json<LtvView>> {
    Ok(Json(state.app.ltv_calculator(&p, q).await?))
}

/// CAC of acquisition campaigns (default every `signup` campaign) against the LTV.
#[utoipa::path(get, path = "/v1/calculators/cac", tag = "campaigns", operation_id = "calculators_cac", params(CacQuery),
    responses((status = 200, body = CacView), (status = 422, body = ErrorBody)))]
pub async fn cac(
    State(state): State<AppState>,
    Caller(p): Caller,
    QueryParams(q): QueryParams<CacQuery>,
) -> ApiResult<Json<CacView>> {
    Ok(Json(state.app.cac_calculator(&p, q).await?))
}

/// A threshold designed from a category mix, each category's average price read from the
/// orders unless given.
#[utoipa::path(post, path = "/v1/calculators/threshold", tag = "campaigns", operation_id = "calculators_threshold", request_body = ThresholdBody,
    responses((status = 200, body = ThresholdView), (status = 422, body = ErrorBody)))]
pub async fn threshold(
    State(state): State<AppState>,
    Caller(p): Caller,
    Body(body, _): Body<ThresholdBody>,
) -> ApiResult<Json<ThresholdView>> {
    Ok(Json(state.app.threshold_calculator(&p, body).await?))
}

/// A pack's expected cost against the CAC ceiling.
#[utoipa::path(post, path = "/v1/calculators/pack", tag = "campaigns", operation_id = "calculators_pack", request_body = PackBody,
    responses((status = 200, body = PackView), (status = 422, body = ErrorBody)))]
pub async fn pack(
    State(state): State<AppState>,
    Caller(p): Caller,
    Body(body, _): Body<PackBody>,
) -> ApiResult<Json<PackView>> {
    Ok(Json(state.app.pack_calculator(&p, body).await?))
}

/// A lottery's big-prize reach against the 20% rule.
#[utoipa::path(post, path = "/v1/calculators/lottery", tag = "campaigns", operation_id = "calculators_lottery", request_body = LotteryBody,
    responses((status = 200, body = LotteryView), (status = 422, body = ErrorBody)))]
pub async fn lottery(
    State(state): State<AppState>,
    Caller(p): Caller,
    Body(body, _): Body<LotteryBody>,
) -> ApiResult<Json<LotteryView>> {
    Ok(Json(state.app.lottery_calculator(&p, body).await?))
}

/// The programme's settings (the global holdout).
#[utoipa::path(get, path = "/v1/programme", tag = "campaigns", operation_id = "programme_get",
    responses((status = 200, body = ProgrammeSettings)))]
pub async fn get_programme(
    State(state): State<AppState>,
    Caller(p): Caller,
) -> ApiResult<Json<ProgrammeSettings>> {
    Ok(Json(state.app.programme(&p).await?))
}

/// Replaces the programme's settings: `global_holdout_bp`, the share of all members no
/// campaign enters.
#[utoipa::path(put, path = "/v1/programme", tag = "campaigns", operation_id = "programme_put", request_body = ProgrammeSettings,
    responses((status = 200, body = ProgrammeSettings), (status = 422, body = ErrorBody)))]
pub async fn put_programme(
    State(state): State<AppState>,
    Caller(p): Caller,
    Body(body, _): Body<ProgrammeSettings>,
) -> ApiResult<Json<ProgrammeSettings>> {
    Ok(Json(state.app.put_programme(&p, body).await?))
}

/// What every campaign together added over a window, against the global holdout: conversion
/// and revenue per member with their 95% intervals, CUPED, incremental ROI.
#[utoipa::path(get, path = "/v1/programme/review", tag = "campaigns", operation_id = "programme_review", params(ProgrammeQuery),
    responses((status = 200, body = ProgrammeReview), (status = 422, body = ErrorBody)))]
pub async fn programme_review(
    State(state): State<AppState>,
    Caller(p): Caller,
    QueryParams(q): QueryParams<ProgrammeQuery>,
) -> ApiResult<Json<ProgrammeReview>> {
    Ok(Json(state.app.programme_review(&p, q).await?))
}
