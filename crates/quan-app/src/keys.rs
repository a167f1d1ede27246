//! API keys: secrets to principals (cached), and new keys made by an operator.

use std::collections::HashMap;
use std::sync::RwLock;

use quan_core::access::{Principal, Role};
use quan_core::text::Id;
use quan_core::ErrorCode;
use quan_store::{hash_secret, new_id, new_secret, NewKey, Store};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{require, App, Error, Result};

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

    pub async fn resolve(&self, store: &dyn Store, secret: &str) -> Result<Option<Principal>> {
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

/// At most this many stores on one key.
const MAX_STORES: usize = 1_000;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKeyBody {
    pub role: Role,
    /// The stores a merchant or guide key is confined to (required for those roles).
    #[serde(default)]
    #[schema(max_items = 1000)]
    pub store_ids: Option<Vec<Id>>,
    /// The user a customer key speaks for (required for customers); for a guide key, the
    /// guide's id (its tasks are those of the members it guides).
    #[serde(default)]
    pub user_id: Option<Id>,
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

/// What the caller's key may do (the console shows only that).
#[derive(Debug, Serialize, ToSchema)]
pub struct MeView {
    pub role: Role,
    /// The stores a merchant or guide key is confined to.
    pub store_ids: Vec<String>,
    /// The user a customer key speaks for, or the guide a guide key is.
    pub user_id: Option<String>,
    /// The parts of the API this key may use.
    pub capabilities: Vec<Capability>,
}

/// A part of the API and the roles that may use it: the one table the use cases check
/// (`require(principal, Capability::X.roles())`) and `GET /v1/me` answers, so a client offers
/// what a key may do without a role table of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    /// The dashboard of the caller's templates.
    Dashboard,
    /// Templates: list and read (a merchant's or guide's own stores only).
    ReadTemplates,
    /// Templates: create, edit drafts, activate, pause and end.
    WriteTemplates,
    /// Signed claim links and pre-made claim codes for templates.
    LinksAndCodes,
    /// Quotes and wallets for any member (a customer's key quotes for itself only).
    QuoteForMembers,
    /// Members, their 360° view and their events.
    Members,
    /// Segments: make, preview, list.
    Segments,
    /// Campaigns: make, run, review.
    Campaigns,
}

impl Capability {
    const ALL: [Capability; 8] = [
        Capability::Dashboard,
        Capability::ReadTemplates,
        Capability::WriteTemplates,
        Capability::LinksAndCodes,
        Capability::QuoteForMembers,
        Capability::Members,
        Capability::Segments,
        Capability::Campaigns,
    ];

    /// The roles that hold this capability.
    pub fn roles(self) -> &'static [Role] {
        match self {
            Capability::Dashboard | Capability::WriteTemplates | Capability::LinksAndCodes => {
                &[Role::Platform, Role::Merchant]
            }
            Capability::ReadTemplates => &[Role::Platform, Role::Merchant, Role::Guide],
            Capability::QuoteForMembers
            | Capability::Members
            | Capability::Segments
            | Capability::Campaigns => &[Role::Platform],
        }
    }

    /// The capabilities a role holds.
    pub fn of(role: Role) -> Vec<Capability> {
        Capability::ALL
            .into_iter()
            .filter(|c| c.roles().contains(&role))
            .collect()
    }
}

impl App {
    /// The caller's own key: its role, stores and user.
    pub fn me(&self, principal: &Principal) -> MeView {
        MeView {
            role: principal.role,
            store_ids: principal.store_ids.clone(),
            user_id: principal.user_id.clone(),
            capabilities: Capability::of(principal.role),
        }
    }

    /// Makes an API key (platform operators only).
    pub async fn create_key(&self, principal: &Principal, body: NewKeyBody) -> Result<KeyBody> {
        require(principal, &[Role::Platform])?;
        let mut store_ids: Vec<String> = body
            .store_ids
            .unwrap_or_default()
            .into_iter()
            .map(Id::into_string)
            .collect();
        store_ids.sort();
        store_ids.dedup();
        if store_ids.len() > MAX_STORES {
            return Err(Error::field(
                ErrorCode::TooLarge,
                "store_ids",
                "at most 1000 stores",
            ));
        }
        match body.role {
            Role::Merchant | Role::Guide if store_ids.is_empty() => {
                return Err(Error::field(
                    ErrorCode::EmptyList,
                    "store_ids",
                    "merchant and guide keys need their stores",
                ))
            }
            Role::Customer if body.user_id.is_none() => {
                return Err(Error::field(
                    ErrorCode::MissingField,
                    "user_id",
                    "customer keys speak for one user",
                ))
            }
            Role::Guide if body.user_id.is_none() => {
                return Err(Error::field(
                    ErrorCode::MissingField,
                    "user_id",
                    "guide keys name their guide (a guide's tasks are its own)",
                ))
            }
            _ => {}
        }
        let secret = new_secret();
        let now = self.now();
        let record = self
            .store
            .insert_key(NewKey {
                id: new_id("key", now.as_millisecond()),
                key_hash: hash_secret(&secret),
                role: body.role,
                store_ids,
                user_id: body.user_id.map(Id::into_string),
                created_at: now,
            })
            .await?;
        Ok(KeyBody {
            id: record.id,
            key: secret,
            role: record.role,
            store_ids: record.store_ids,
            user_id: record.user_id,
        })
    }
}
