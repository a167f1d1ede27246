//! Health, the OpenAPI document, and the answers for unknown paths and methods.

use axum::extract::State;
use axum::Json;
use quan_core::ErrorCode;

use crate::error::{ApiError, ApiResult};
use crate::AppState;

/// 200 when the service can reach its database.
#[utoipa::path(get, path = "/healthz", tag = "system", responses((status = 200, description = "Can serve")))]
pub async fn healthz(State(state): State<AppState>) -> ApiResult<Json<serde_json::Value>> {
    let backend = state.app.health().await?;
    Ok(Json(
        serde_json::json!({"status": "ok", "backend": backend}),
    ))
}

/// The OpenAPI 3 document of the whole API.
#[utoipa::path(get, path = "/openapi.json", tag = "system", responses((status = 200, description = "OpenAPI 3 document")))]
pub async fn openapi() -> Json<serde_json::Value> {
    Json(crate::openapi::document())
}

pub async fn not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "no such path")
}

/// The unknown-path answer, outside a handler.
pub fn not_found_response() -> axum::response::Response {
    use axum::response::IntoResponse;
    ApiError::new(ErrorCode::NotFound, "no such path").into_response()
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        ErrorCode::MethodNotAllowed,
        "the path does not take this method",
    )
}
