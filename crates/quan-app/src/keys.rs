//! API keys: secrets to principals (cached), and new keys made by an operator.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::Instant;

use jiff::Timestamp;
use quan_core::access::{Principal, Role};
use quan_core::text::Id;
use quan_core::ErrorCode;
use quan_store::{hash_secret, new_id, new_secret, KeyRecord, NewKey, Store};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::page::{self, PageBody, Paging};
use crate::{require, App, Error, Result};

/// How long a resolved key is trusted before its row is read again: a revocation reaches every
/// process on the database within this.
const RECHECK: std::time::Duration = std::time::Duration::from_millis(500);

/// Resolves API keys, remembering each for [`RECHECK`] (a revoked or expired key answers 401).
#[derive(Default)]
pub struct KeyRing {
    known: RwLock<HashMap<String, Known>>,
}

struct Known {
    record: KeyRecord,
    read_at: Instant,
}

impl KeyRing {
    pub fn new() -> Self {
        Self::default()
    }

    /// The principal of a usable key at `now`, or `None` for an unknown, revoked or expired
    /// one.
    pub async fn resolve(
        &self,
        store: &dyn Store,
        secret: &str,
        now: Timestamp,
    ) -> Result<Option<Principal>> {
        let hash = hash_secret(secret);
        let cached = self
            .known
            .read()
            .expect("key cache")
            .get(&hash)
            .map(|k| (k.record.clone(), k.read_at.elapsed() < RECHECK));
        let record = match cached {
            Some((record, true)) => record,
            // Stale: the first caller to see it reads the row again; the others answer from
            // the record they have meanwhile, so a busy key costs one read per RECHECK.
            Some((record, false)) if !self.take_refresh(&hash) => record,
            _ => {
                let Some(record) = store.key_by_hash(&hash).await? else {
                    return Ok(None);
                };
                let known = Known {
                    record: record.clone(),
                    read_at: Instant::now(),
                };
                self.known.write().expect("key cache").insert(hash, known);
                record
            }
        };
        Ok(record.usable(now).then_some(Principal {
            key_id: record.id,
            role: record.role,
            store_ids: record.store_ids,
            user_id: record.user_id,
        }))
    }

    /// Whether this caller is the one to read a stale key's row again (it marks the entry
    /// fresh, so that callers arriving meanwhile do not read it too).
    fn take_refresh(&self, hash: &str) -> bool {
        let mut known = self.known.write().expect("key cache");
        match known.get_mut(hash) {
            Some(k) if k.read_at.elapsed() >= RECHECK => {
                k.read_at = Instant::now();
                true
            }
            _ => false,
        }
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
    /// guide's id (its tasks are those of the members it guides; required for both).
    #[serde(default)]
    pub user_id: Option<Id>,
    /// When the key stops working (default: never).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyBody {
    pub id: String,
    /// The secret; shown once, stored only as a hash.
    pub key: String,
    pub role: Role,
    pub store_ids: Vec<String>,
    pub user_id: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
}

/// A key as listed: never its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyView {
    pub id: String,
    pub role: Role,
    pub store_ids: Vec<String>,
    pub user_id: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<Timestamp>,
    /// Whether it works now: not revoked, not expired.
    pub active: bool,
}

impl KeyView {
    fn of(k: KeyRecord, now: Timestamp) -> Self {
        KeyView {
            active: k.usable(now),
            id: k.id,
            role: k.role,
            store_ids: k.store_ids,
            user_id: k.user_id,
            created_at: k.created_at,
            expires_at: k.expires_at,
            revoked_at: k.revoked_at,
        }
    }
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
        let now = self.now();
        crate::input::accepted_opt("expires_at", body.expires_at)?;
        if body.expires_at.is_some_and(|e| e <= now) {
            return Err(Error::field(
                ErrorCode::InvalidValue,
                "expires_at",
                "a key must expire in the future",
            ));
        }
        let secret = new_secret();
        let record = self
            .store
            .insert_key(NewKey {
                id: new_id("key", now.as_millisecond()),
                key_hash: hash_secret(&secret),
                role: body.role,
                store_ids,
                user_id: body.user_id.map(Id::into_string),
                created_at: now,
                expires_at: body.expires_at,
            })
            .await?;
        Ok(KeyBody {
            id: record.id,
            key: secret,
            role: record.role,
            store_ids: record.store_ids,
            user_id: record.user_id,
            expires_at: record.expires_at,
        })
    }

    /// Every key, without secrets (platform operators only).
    pub async fn list_keys(
        &self,
        principal: &Principal,
        paging: Paging,
    ) -> Result<PageBody<KeyView>> {
        require(principal, &[Role::Platform])?;
        let limit = page::limit(paging.limit)?;
        let now = self.now();
        let page = self.store.list_keys(limit, paging.cursor).await?;
        Ok(PageBody::from(page, |k| KeyView::of(k, now)))
    }

    /// Revokes a key: from then on it answers 401, in every process on the database within
    /// [`RECHECK`] (platform operators only).
    pub async fn revoke_key(&self, principal: &Principal, id: &Id) -> Result<KeyView> {
        require(principal, &[Role::Platform])?;
        let now = self.now();
        match self.store.revoke_key(id, now).await? {
            Ok(k) => Ok(KeyView::of(k, now)),
            Err(ErrorCode::NotFound) => Err(Error::not_found("key")),
            Err(code) => Err(Error::field(
                code,
                "id",
                "the last platform key cannot be revoked: make another first",
            )),
        }
    }

    /// The bootstrap platform key at start: the one `given` (`QUAN_ADMIN_KEY`) is stored if it
    /// is not yet; without one, the first start of a database mints a key and answers its
    /// secret to be shown once, and every later start mints nothing (`quan keys create --role
    /// platform` makes another).
    pub async fn bootstrap_admin(&self, given: Option<&str>) -> Result<Option<String>> {
        let secret = given.map_or_else(new_secret, str::to_string);
        let now = self.now();
        let key_hash = hash_secret(&secret);
        let key = NewKey {
            // Named by its hash: the same given key is the same row on every start.
            id: format!("admin-{}", &key_hash[..12]),
            key_hash,
            role: Role::Platform,
            store_ids: vec![],
            user_id: None,
            created_at: now,
            expires_at: None,
        };
        let stored = self.store.bootstrap_key(key, given.is_some()).await?;
        Ok((stored && given.is_none()).then_some(secret))
    }
}
