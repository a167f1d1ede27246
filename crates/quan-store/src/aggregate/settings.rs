//! Named settings and API keys.

use async_trait::async_trait;
use jiff::Timestamp;
use quan_core::access::{may_revoke, Role};
use quan_core::ErrorCode;

use super::page_of;
use crate::records::*;
use crate::sql::{Db, Engine, Row};
use crate::traits::{Keys, Settings};
use crate::{Result, StoreError};

/// A setting, if set.
pub(crate) async fn get_setting(db: &mut Db<'_>, name: &str) -> Result<Option<String>> {
    db.query_opt(
        "SELECT value FROM settings WHERE name = $1",
        &[&name],
        |r| r.get(0),
    )
    .await
}

const KEY_COLS: &str = "id, role, store_ids, user_id, created_at, expires_at, revoked_at";

fn key_record(r: &Row) -> Result<KeyRecord> {
    let (role, stores): (String, String) = (r.get(1)?, r.get(2)?);
    Ok(KeyRecord {
        id: r.get(0)?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt("key role".into()))?,
        store_ids: serde_json::from_str(&stores)
            .map_err(|_| StoreError::Corrupt("key stores".into()))?,
        user_id: r.get(3)?,
        created_at: r.time(4)?,
        expires_at: r.get::<Option<i64>>(5)?.map(from_micros),
        revoked_at: r.get::<Option<i64>>(6)?.map(from_micros),
    })
}

/// Stores a key; `false` when a key with its hash exists already.
async fn insert_key(db: &mut Db<'_>, key: &NewKey) -> Result<bool> {
    let stores = serde_json::to_string(&key.store_ids).expect("strings serialize");
    let n = db
        .execute(
            "INSERT INTO api_keys (id, key_hash, role, store_ids, user_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (key_hash) DO NOTHING",
            &[&key.id, &key.key_hash, &key.role.as_str(), &stores, &key.user_id, &micros(key.created_at), &key.expires_at.map(micros)],
        )
        .await?;
    Ok(n == 1)
}

async fn get_key(db: &mut Db<'_>, id: &str) -> Result<Option<KeyRecord>> {
    db.query_opt(
        &format!("SELECT {KEY_COLS} FROM api_keys WHERE id = $1"),
        &[&id],
        key_record,
    )
    .await
}

#[async_trait]
impl<E: Engine> Settings for E {
    async fn setting_or_init(&self, name: &str, init: String) -> Result<String> {
        self.write((name.to_string(), init), |db, (name, init)| {
            Box::pin(async move {
                db.execute(
                    "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
                    &[name, init],
                )
                .await?;
                db.query_one("SELECT value FROM settings WHERE name = $1", &[name], |r| r.get(0))
                    .await
            })
        })
        .await
    }

    async fn setting(&self, name: &str) -> Result<Option<String>> {
        let name = name.to_string();
        self.read_point(move |db| Box::pin(async move { get_setting(db, &name).await }))
            .await
    }

    async fn put_setting(&self, name: &str, value: String) -> Result<()> {
        self.write((name.to_string(), value), |db, (name, value)| {
            Box::pin(async move {
                db.execute(
                    "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
                    &[name, value],
                )
                .await?;
                Ok(())
            })
        })
        .await
    }
}

#[async_trait]
impl<E: Engine> Keys for E {
    async fn insert_key(&self, key: NewKey) -> Result<KeyRecord> {
        self.write(key, |db, key| {
            Box::pin(async move {
                if !insert_key(db, key).await? {
                    return Err(StoreError::Corrupt("a key with this hash exists".into()));
                }
                get_key(db, &key.id)
                    .await?
                    .ok_or_else(|| StoreError::Corrupt("key vanished".into()))
            })
        })
        .await
    }

    async fn bootstrap_key(&self, key: NewKey, given: bool) -> Result<bool> {
        self.write((key, given), |db, (key, given)| {
            Box::pin(async move {
                let first = db
                    .execute(
                        "INSERT INTO settings (name, value) VALUES ('admin_bootstrapped', $1) ON CONFLICT (name) DO NOTHING",
                        &[&key.id],
                    )
                    .await?
                    == 1;
                if *given || first {
                    return insert_key(db, key).await;
                }
                Ok(false)
            })
        })
        .await
    }

    async fn key_by_hash(&self, key_hash: &str) -> Result<Option<KeyRecord>> {
        let key_hash = key_hash.to_string();
        self.read_point(move |db| {
            Box::pin(async move {
                db.query_opt(
                    &format!("SELECT {KEY_COLS} FROM api_keys WHERE key_hash = $1"),
                    &[&key_hash],
                    key_record,
                )
                .await
            })
        })
        .await
    }

    async fn list_keys(&self, limit: u32, cursor: Option<String>) -> Result<Page<KeyRecord>> {
        self.read(move |db| {
            Box::pin(async move {
                let total: i64 = db
                    .query_one("SELECT COUNT(*) FROM api_keys", &[], |r| r.get(0))
                    .await?;
                let items = db
                    .query(
                        &format!("SELECT {KEY_COLS} FROM api_keys WHERE ($1::text IS NULL OR id > $1) ORDER BY id LIMIT $2"),
                        &[&cursor, &(i64::from(limit) + 1)],
                        key_record,
                    )
                    .await?;
                Ok(page_of(items, limit, total, |k| k.id.clone()))
            })
        })
        .await
    }

    async fn revoke_key(&self, id: &str, now: Timestamp) -> Result<Result<KeyRecord, ErrorCode>> {
        self.write((id.to_string(), now), |db, (id, now)| {
            Box::pin(async move {
                let Some(key) = get_key(db, id).await? else {
                    return Ok(Err(ErrorCode::NotFound));
                };
                // A revoked key stays revoked as of its first revocation.
                if !key.usable(*now) {
                    return Ok(Ok(key));
                }
                // The platform's usable keys, locked: two revocations at once count in turn.
                let platform: Vec<String> = db
                    .query(
                        "SELECT id FROM api_keys WHERE role = 'platform' AND revoked_at IS NULL \
                         AND (expires_at IS NULL OR expires_at > $1) FOR UPDATE",
                        &[&micros(*now)],
                        |r| r.get(0),
                    )
                    .await?;
                if !may_revoke(key.role, platform.len() as i64) {
                    return Ok(Err(ErrorCode::InvalidState));
                }
                db.execute(
                    "UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                    &[id, &micros(*now)],
                )
                .await?;
                Ok(Ok(get_key(db, id).await?.ok_or_else(|| {
                    StoreError::Corrupt("key vanished".into())
                })?))
            })
        })
        .await
    }
}
