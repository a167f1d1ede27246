//! Settings and API keys on SQLite.

use async_trait::async_trait;
use quan_core::access::Role;
use rusqlite::{params, Connection, OptionalExtension};

use super::rows::*;
use super::SqliteStore;
use crate::model::*;
use crate::traits::*;
use crate::Result;

#[async_trait]
impl Settings for SqliteStore {
    async fn setting_or_init(&self, name: &str, init: String) -> Result<String> {
        let name = name.to_string();
        self.write_conn(move |tx, _| {
            tx.execute(
                "INSERT INTO settings (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
                [&name, &init],
            )?;
            Ok(
                tx.query_row("SELECT value FROM settings WHERE name = ?1", [&name], |r| {
                    r.get(0)
                })?,
            )
        })
        .await
    }

    async fn setting(&self, name: &str) -> Result<Option<String>> {
        let name = name.to_string();
        self.read_point_conn(move |conn| get_setting(conn, &name))
            .await
    }

    async fn put_setting(&self, name: &str, value: String) -> Result<()> {
        let name = name.to_string();
        self.write_conn(move |tx, _| {
            tx.execute(
                "INSERT INTO settings (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                [&name, &value],
            )?;
            Ok(())
        })
        .await
    }
}

pub(super) fn get_setting(conn: &Connection, name: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT value FROM settings WHERE name = ?1")?
        .query_row([name], |r| r.get(0))
        .optional()?)
}

#[async_trait]
impl Keys for SqliteStore {
    async fn insert_key(&self, key: NewKey) -> Result<KeyRecord> {
        self.write_conn(move |tx, _| {
            tx.execute(
                "INSERT INTO api_keys (id, key_hash, role, store_ids, user_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![key.id, key.key_hash, key.role.as_str(), json_list(&key.store_ids), key.user_id, micros(key.created_at)],
            )?;
            Ok(KeyRecord { id: key.id, role: key.role, store_ids: key.store_ids, user_id: key.user_id, created_at: key.created_at })
        })
        .await
    }

    async fn key_by_hash(&self, key_hash: &str) -> Result<Option<KeyRecord>> {
        let key_hash = key_hash.to_string();
        self.read_point_conn(move |conn| {
            let row = conn
                .prepare_cached("SELECT id, role, store_ids, user_id, created_at FROM api_keys WHERE key_hash = ?1")?
                .query_row([&key_hash], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, Option<String>>(3)?, r.get::<_, i64>(4)?))
                })
                .optional()?;
            row.map(|(id, role, stores, user_id, created)| {
                Ok(KeyRecord {
                    id,
                    role: Role::parse(&role).ok_or_else(|| corrupt("key role"))?,
                    store_ids: serde_json::from_str(&stores).map_err(|_| corrupt("key stores"))?,
                    user_id,
                    created_at: ts(created),
                })
            })
            .transpose()
        })
        .await
    }
}
