//! Idempotency records on PostgreSQL.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use jiff::Timestamp;

use super::PgStore;
use crate::model::*;
use crate::traits::*;
use crate::Result;

#[async_trait]
impl Idempotency for PgStore {
    async fn begin_idempotent(
        &self,
        key: &IdempotencyKey,
        now: Timestamp,
    ) -> Result<IdempotencyStart> {
        let c = self.pool.get().await?;
        let inserted = c
            .execute(
                "INSERT INTO idempotency (key_id, idem_key, request_hash, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                &[&key.key_id, &key.key, &key.request_hash, &micros(now)],
            )
            .await?;
        if inserted == 1 {
            return Ok(IdempotencyStart::Started);
        }
        let r = c.query_one("SELECT request_hash, response FROM idempotency WHERE key_id = $1 AND idem_key = $2", &[&key.key_id, &key.key]).await?;
        let (hash, response): (String, Option<String>) = (r.get(0), r.get(1));
        Ok(match response {
            _ if hash != key.request_hash => IdempotencyStart::Mismatch,
            Some(response) => IdempotencyStart::Replay(response),
            None => IdempotencyStart::InFlight,
        })
    }

    async fn finish_idempotent(&self, key: &IdempotencyKey, response: &str) -> Result<()> {
        let c = self.pool.get().await?;
        c.execute(
            "UPDATE idempotency SET response = $3 WHERE key_id = $1 AND idem_key = $2",
            &[&key.key_id, &key.key, &response],
        )
        .await?;
        Ok(())
    }

    async fn sweep_idempotency(&self, before: Timestamp) -> Result<u64> {
        let c = self.pool.get().await?;
        Ok(c.execute(
            "DELETE FROM idempotency WHERE created_at < $1",
            &[&micros(before)],
        )
        .await?)
    }
}
