//! API keys: an operator makes keys for merchants, guides and customers.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use quan_core::access::Role;
use quan_core::ErrorCode;
use quan_store::{hash_secret, new_id, new_secret, NewKey};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::json::Body;
use crate::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKeyBody {
    pub role: Role,
    /// The stores a merchant or guide key is confined to (required for those roles).
    #[serde(default)]
    pub store_ids: Option<Vec<String>>,
    /// The user a customer key speaks for (required for customers).
    #[serde(default)]
    pub user_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyBody {
    pub id: String,
    /// The secret; shown once, stored only as a hash.
    pub key: String,
    pub role: Role,
    pub store_ids: Vec<String>,
    pub user_id: Option<String>,
}

/// Makes an API key (platform operators only).
#[utoipa::path(post, path = "/v1/keys", tag = "keys", request_body = NewKeyBody,
    responses((status = 201, body = KeyBody), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    idem_header: super::IdempotencyHeader,
    Body(body, raw): Body<NewKeyBody>,
) -> ApiResult<Response> {
    let principal = caller.require(&[Role::Platform])?;
    let store_ids = body.store_ids.unwrap_or_default();
    match body.role {
        Role::Merchant | Role::Guide if store_ids.is_empty() => {
            return Err(ApiError::field(
                ErrorCode::EmptyList,
                "store_ids",
                "merchant and guide keys need their stores",
            ))
        }
        Role::Customer if body.user_id.as_deref().is_none_or(str::is_empty) => {
            return Err(ApiError::field(
                ErrorCode::MissingField,
                "user_id",
                "customer keys speak for one user",
            ))
        }
        _ => {}
    }
    if store_ids.iter().any(|s| s.trim().is_empty()) {
        return Err(ApiError::field(
            ErrorCode::InvalidValue,
            "store_ids",
            "store ids must not be blank",
        ));
    }
    let idem = super::idempotency_key(&idem_header, &principal.key_id, "POST /v1/keys", &raw)?;
    Ok(super::once(&state, idem, || async {
        let secret = new_secret();
        let now = state.now();
        let record = state
            .store
            .insert_key(NewKey {
                id: new_id("key", now.as_millisecond()),
                key_hash: hash_secret(&secret),
                role: body.role,
                store_ids,
                user_id: body.user_id,
                created_at: now,
            })
            .await?;
        let out = KeyBody {
            id: record.id,
            key: secret,
            role: record.role,
            store_ids: record.store_ids,
            user_id: record.user_id,
        };
        Ok((
            StatusCode::CREATED,
            serde_json::to_value(out).expect("serializes"),
        ))
    })
    .await)
}
