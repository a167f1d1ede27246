//! Idempotency records on SQLite.

use async_trait::async_trait;
use jiff::Timestamp;
use rusqlite::{params, OptionalExtension};

use super::SqliteStore;
use crate::model::*;
use crate::traits::*;
use crate::Result;

#[async_trait]
impl Idempotency for SqliteStore {
    async fn begin_idempotent(
        &self,
        key: &IdempotencyKey,
        now: Timestamp,
    ) -> Result<IdempotencyStart> {
        let key = key.clone();
        self.write_conn(move |tx, _| {
            let prior: Option<(String, Option<String>)> = tx
                .query_row("SELECT request_hash, response FROM idempotency WHERE key_id = ?1 AND idem_key = ?2", [&key.key_id, &key.key], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?;
            Ok(match prior {
                Some((hash, _)) if hash != key.request_hash => IdempotencyStart::Mismatch,
                Some((_, Some(response))) => IdempotencyStart::Replay(response),
                Some((_, None)) => IdempotencyStart::InFlight,
                None => {
                    tx.execute(
                        "INSERT INTO idempotency (key_id, idem_key, request_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
                        params![key.key_id, key.key, key.request_hash, micros(now)],
                    )?;
                    IdempotencyStart::Started
                }
            })
        })
        .await
    }

    async fn finish_idempotent(&self, key: &IdempotencyKey, response: &str) -> Result<()> {
        let (key, response) = (key.clone(), response.to_string());
        self.write_conn(move |tx, _| {
            tx.execute(
                "UPDATE idempotency SET response = ?3 WHERE key_id = ?1 AND idem_key = ?2",
                params![key.key_id, key.key, response],
            )?;
            Ok(())
        })
        .await
    }

    async fn sweep_idempotency(&self, before: Timestamp) -> Result<u64> {
        self.write_conn(move |tx, _| {
            Ok(tx.execute(
                "DELETE FROM idempotency WHERE created_at < ?1",
                [micros(before)],
            )? as u64)
        })
        .await
    }
}
