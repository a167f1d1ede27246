//! The API's one error response: every failure becomes `{"error": {"code", "message", "field"}}`
//! with the status of its code's row in the table.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use quan_core::{ErrorCode, FieldError};

pub use quan_app::error::{ErrorBody, ErrorDetail};

/// A use case's [`quan_app::Error`], as an HTTP response.
#[derive(Debug, Clone)]
pub struct ApiError(pub quan_app::Error);

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self(quan_app::Error::new(code, message))
    }

    pub fn field(code: ErrorCode, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self(quan_app::Error::field(code, field, message))
    }

    pub fn code(code: ErrorCode) -> Self {
        Self(quan_app::Error::code(code))
    }
}

impl From<quan_app::Error> for ApiError {
    fn from(e: quan_app::Error) -> Self {
        Self(e)
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        Self(e.into())
    }
}

/// The status of a code's row.
pub fn status(code: ErrorCode) -> StatusCode {
    StatusCode::from_u16(code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (status(self.0.code), Json(self.0.body())).into_response()
    }
}
