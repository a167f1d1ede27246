//! Authentication: the bearer API key becomes a [`Principal`]; keys are looked up by hash.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use quan_core::access::{Principal, Role};
use quan_core::ErrorCode;
use quan_store::{hash_secret, Store};

use crate::error::ApiError;
use crate::AppState;

/// Resolves API keys, remembering the ones it has seen (keys are immutable once made).
pub struct KeyRing {
    admin_hash: String,
    known: RwLock<HashMap<String, Principal>>,
}

impl KeyRing {
    /// `admin_hash`: the hash of the bootstrap platform key (`QUAN_ADMIN_KEY`).
    pub fn new(admin_hash: String) -> Self {
        Self {
            admin_hash,
            known: RwLock::new(HashMap::new()),
        }
    }

    pub async fn resolve(
        &self,
        store: &Arc<dyn Store>,
        secret: &str,
    ) -> Result<Option<Principal>, ApiError> {
        let hash = hash_secret(secret);
        if hash == self.admin_hash {
            return Ok(Some(Principal {
                key_id: "admin".into(),
                role: Role::Platform,
                store_ids: vec![],
                user_id: None,
            }));
        }
        if let Some(p) = self.known.read().expect("key cache").get(&hash) {
            return Ok(Some(p.clone()));
        }
        let Some(record) = store.key_by_hash(&hash).await? else {
            return Ok(None);
        };
        let principal = Principal {
            key_id: record.id,
            role: record.role,
            store_ids: record.store_ids,
            user_id: record.user_id,
        };
        self.known
            .write()
            .expect("key cache")
            .insert(hash, principal.clone());
        Ok(Some(principal))
    }
}

/// The authenticated caller of a request.
pub struct Caller(pub Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let Some(secret) = header
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|s| !s.is_empty())
        else {
            return Err(ApiError::new(
                ErrorCode::Unauthorized,
                "send an API key as `Authorization: Bearer <key>`",
            ));
        };
        match state.keys.resolve(&state.store, secret).await? {
            Some(p) => Ok(Caller(p)),
            None => Err(ApiError::new(ErrorCode::Unauthorized, "unknown API key")),
        }
    }
}

impl Caller {
    /// Refuses unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<&Principal, ApiError> {
        if roles.contains(&self.0.role) {
            Ok(&self.0)
        } else {
            Err(ApiError::forbidden(format!(
                "a {} key may not do this",
                self.0.role.as_str()
            )))
        }
    }
}
