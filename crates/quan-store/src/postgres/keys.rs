//! Settings and API keys on PostgreSQL.

use quan_core::access::Role;

use async_trait::async_trait;
use deadpool_postgres::GenericClient;

use super::PgStore;
use crate::model::*;
use crate::traits::*;
use crate::{Result, StoreError};

#[async_trait]
impl Settings for PgStore {
    async fn setting_or_init(&self, name: &str, init: String) -> Result<String> {
        let c = self.pool.get().await?;
        c.execute(
            "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            &[&name, &init],
        )
        .await?;
        Ok(
            c.query_one("SELECT value FROM settings WHERE name = $1", &[&name])
                .await?
                .get(0),
        )
    }

    async fn setting(&self, name: &str) -> Result<Option<String>> {
        let c = self.pool.get().await?;
        get_setting(&c, name).await
    }

    async fn put_setting(&self, name: &str, value: String) -> Result<()> {
        let c = self.pool.get().await?;
        put_setting_in(&c, name, &value).await
    }
}

pub(super) async fn get_setting(c: &impl GenericClient, name: &str) -> Result<Option<String>> {
    Ok(
        c.query_opt("SELECT value FROM settings WHERE name = $1", &[&name])
            .await?
            .map(|r| r.get(0)),
    )
}

pub(super) async fn put_setting_in(c: &impl GenericClient, name: &str, value: &str) -> Result<()> {
    c.execute(
        "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
        &[&name, &value],
    )
    .await?;
    Ok(())
}

#[async_trait]
impl Keys for PgStore {
    async fn insert_key(&self, key: NewKey) -> Result<KeyRecord> {
        let c = self.pool.get().await?;
        let stores = serde_json::to_string(&key.store_ids).expect("strings serialize");
        c.execute(
            "INSERT INTO api_keys (id, key_hash, role, store_ids, user_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            &[&key.id, &key.key_hash, &key.role.as_str(), &stores, &key.user_id, &micros(key.created_at)],
        )
        .await?;
        Ok(KeyRecord {
            id: key.id,
            role: key.role,
            store_ids: key.store_ids,
            user_id: key.user_id,
            created_at: key.created_at,
        })
    }

    async fn key_by_hash(&self, key_hash: &str) -> Result<Option<KeyRecord>> {
        let c = self.pool.get().await?;
        let row = c
            .query_opt(
                "SELECT id, role, store_ids, user_id, created_at FROM api_keys WHERE key_hash = $1",
                &[&key_hash],
            )
            .await?;
        row.map(|r| {
            Ok(KeyRecord {
                id: r.get(0),
                role: Role::parse(r.get(1))
                    .ok_or_else(|| StoreError::Corrupt("key role".into()))?,
                store_ids: serde_json::from_str(r.get(2))
                    .map_err(|_| StoreError::Corrupt("key stores".into()))?,
                user_id: r.get(3),
                created_at: from_micros(r.get(4)),
            })
        })
        .transpose()
    }
}
