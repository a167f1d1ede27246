//! The console's dashboard.

use axum::extract::State;
use axum::Json;
use quan_app::dashboard::{Dashboard, DashboardQuery};

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Caller, QueryParams};
use crate::AppState;

/// The last `days` days (default 30): the period's templates with issued, claimed and used,
/// today's claims, and members per RFM tier and lifecycle stage (operators only).
#[utoipa::path(get, path = "/v1/dashboard", tag = "dashboard", operation_id = "dashboard_get", params(DashboardQuery),
    responses((status = 200, body = Dashboard), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn dashboard(
    State(state): State<AppState>,
    Caller(p): Caller,
    QueryParams(q): QueryParams<DashboardQuery>,
) -> ApiResult<Json<Dashboard>> {
    Ok(Json(state.app.dashboard(&p, q).await?))
}
