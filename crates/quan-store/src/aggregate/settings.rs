//! Named settings and API keys.

use async_trait::async_trait;
use quan_core::access::Role;

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

fn key_record(r: &Row) -> Result<KeyRecord> {
    let (role, stores): (String, String) = (r.get(1)?, r.get(2)?);
    Ok(KeyRecord {
        id: r.get(0)?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt("key role".into()))?,
        store_ids: serde_json::from_str(&stores)
            .map_err(|_| StoreError::Corrupt("key stores".into()))?,
        user_id: r.get(3)?,
        created_at: r.time(4)?,
    })
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
                let stores = serde_json::to_string(&key.store_ids).expect("strings serialize");
                db.execute(
                    "INSERT INTO api_keys (id, key_hash, role, store_ids, user_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
                    &[&key.id, &key.key_hash, &key.role.as_str(), &stores, &key.user_id, &micros(key.created_at)],
                )
                .await?;
                Ok(KeyRecord {
                    id: key.id.clone(),
                    role: key.role,
                    store_ids: key.store_ids.clone(),
                    user_id: key.user_id.clone(),
                    created_at: key.created_at,
                })
            })
        })
        .await
    }

    async fn key_by_hash(&self, key_hash: &str) -> Result<Option<KeyRecord>> {
        let key_hash = key_hash.to_string();
        self.read_point(move |db| {
            Box::pin(async move {
                db.query_opt(
                    "SELECT id, role, store_ids, user_id, created_at FROM api_keys WHERE key_hash = $1",
                    &[&key_hash],
                    key_record,
                )
                .await
            })
        })
        .await
    }
}
