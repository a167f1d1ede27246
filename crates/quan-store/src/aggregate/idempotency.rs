//! Idempotency records of mutating calls.

use async_trait::async_trait;
use jiff::Timestamp;

use crate::records::*;
use crate::sql::Engine;
use crate::traits::Idempotency;
use crate::Result;

#[async_trait]
impl<E: Engine> Idempotency for E {
    async fn begin_idempotent(
        &self,
        key: &IdempotencyKey,
        now: Timestamp,
    ) -> Result<IdempotencyStart> {
        self.write((key.clone(), now), |db, (key, now)| {
            Box::pin(async move {
                let inserted = db
                    .execute(
                        "INSERT INTO idempotency (key_id, idem_key, request_hash, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                        &[&key.key_id, &key.key, &key.request_hash, &micros(*now)],
                    )
                    .await?;
                if inserted == 1 {
                    return Ok(IdempotencyStart::Started);
                }
                let (hash, response): (String, Option<String>) = db
                    .query_one(
                        "SELECT request_hash, response FROM idempotency WHERE key_id = $1 AND idem_key = $2",
                        &[&key.key_id, &key.key],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .await?;
                Ok(match response {
                    _ if hash != key.request_hash => IdempotencyStart::Mismatch,
                    Some(response) => IdempotencyStart::Replay(response),
                    None => IdempotencyStart::InFlight,
                })
            })
        })
        .await
    }

    async fn finish_idempotent(&self, key: &IdempotencyKey, response: &str) -> Result<()> {
        self.write(
            (key.clone(), response.to_string()),
            |db, (key, response)| {
                Box::pin(async move {
                    db.execute(
                        "UPDATE idempotency SET response = $3 WHERE key_id = $1 AND idem_key = $2",
                        &[&key.key_id, &key.key, response],
                    )
                    .await?;
                    Ok(())
                })
            },
        )
        .await
    }

    async fn sweep_idempotency(&self, before: Timestamp) -> Result<u64> {
        self.write(micros(before), |db, before| {
            Box::pin(async move {
                db.execute("DELETE FROM idempotency WHERE created_at < $1", &[before])
                    .await
            })
        })
        .await
    }
}
