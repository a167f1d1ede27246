//! The use cases' one error: a stable code, a sentence, and the field at fault.

use quan_core::{ErrorCode, FieldError};
use serde::Serialize;
use utoipa::ToSchema;

/// A refusal or failure as every client reports it; the HTTP status comes from the code's row
/// in [`ErrorCode`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub code: ErrorCode,
    pub message: String,
    pub field: Option<String>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The error body of every failure: `{"error": {"code", "message", "field"?}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            field: None,
        }
    }

    pub fn field(code: ErrorCode, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            field: Some(field.into()),
        }
    }

    /// The refusal with the code's own meaning as its message.
    pub fn code(code: ErrorCode) -> Self {
        Self::new(code, code.meaning())
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("no such {what}"))
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    /// Something the store holds is not what quan wrote.
    pub fn internal() -> Self {
        Self::code(ErrorCode::Internal)
    }

    /// A failure inside quan, not the caller's: logged with its cause, answered `internal`.
    pub fn failure(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "failure");
        Self::internal()
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message.clone(),
                field: self.field.clone(),
            },
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{}: {} ({field})", self.code.as_str(), self.message),
            None => write!(f, "{}: {}", self.code.as_str(), self.message),
        }
    }
}

impl std::error::Error for Error {}

impl From<FieldError> for Error {
    fn from(e: FieldError) -> Self {
        Self {
            code: e.code,
            message: e.message,
            field: Some(e.field),
        }
    }
}

impl From<quan_store::StoreError> for Error {
    fn from(e: quan_store::StoreError) -> Self {
        tracing::error!(error = %e, "store failure");
        match e {
            quan_store::StoreError::Pool(_) | quan_store::StoreError::WriterGone => {
                Error::code(ErrorCode::Unavailable)
            }
            _ => Error::internal(),
        }
    }
}

/// An id from a path or a field, parsed by the one id rule.
pub fn id(field: &str, raw: impl Into<String>) -> Result<quan_core::text::Id> {
    Ok(quan_core::text::Id::field(field, raw)?)
}
