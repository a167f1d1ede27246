//! Members' events on PostgreSQL.

use crate::scrm::*;
use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use jiff::Timestamp;

use super::rows::*;
use super::{retrying, PgStore};
use crate::model::*;
use crate::traits::*;
use crate::Result;

#[async_trait]
impl Events for PgStore {
    async fn put_events(&self, events: Vec<EventRecord>, now: Timestamp) -> Result<Vec<Written>> {
        let events = &events;
        retrying(|| async move {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let mut out = Vec::with_capacity(events.len());
        for e in events {
            let before = tx
                .query_opt(
                    &format!("SELECT {EVENT_COLS} FROM events WHERE id = $1"),
                    &[&e.id],
                )
                .await?
                .as_ref()
                .map(event_record)
                .transpose()?;
            if let Some(b) = before {
                out.push(if b == *e {
                    Written::Unchanged
                } else {
                    Written::Conflict
                });
                continue;
            }
            tx.execute(
                "INSERT INTO events (id, user_id, kind, at, store_id, order_id, data, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                &[&e.id, &e.user_id, &e.kind, &micros(e.at), &e.store_id, &e.order_id, &e.data.to_string(), &micros(now)],
            )
            .await?;
            tx.execute(
                &crate::campaigning::inbox_sql(super::segments::ph),
                &[&e.id, &e.user_id, &e.kind, &micros(e.at), &micros(now)],
            )
            .await?;
            match e.kind.as_str() {
                "signup" => {
                    tx.execute(
                        &crate::scrm::members::signup_sql(super::segments::ph),
                        &[&e.user_id, &micros(e.at), &micros(now)],
                    )
                    .await?;
                }
                "tier_changed" => {
                    let tier = e.data.get("tier").and_then(|t| t.as_str());
                    tx.execute(
                        "UPDATE members SET tier = $2, updated_at = $3 WHERE id = $1",
                        &[&e.user_id, &tier, &micros(now)],
                    )
                    .await?;
                }
                _ => {}
            }
            out.push(Written::Inserted);
        }
        tx.commit().await?;
        Ok(out)
        })
        .await
    }

    async fn event(&self, id: &str) -> Result<Option<EventRecord>> {
        let c = self.pool.get().await?;
        c.query_opt(
            &format!("SELECT {EVENT_COLS} FROM events WHERE id = $1"),
            &[&id],
        )
        .await?
        .as_ref()
        .map(event_record)
        .transpose()
    }

    async fn list_events(
        &self,
        user_id: &str,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<Page<EventRecord>> {
        let c = self.pool.get().await?;
        let total: i64 = c
            .query_one(
                "SELECT count(*) FROM events WHERE user_id = $1",
                &[&user_id],
            )
            .await?
            .get(0);
        let items = c
            .query(
                &format!("SELECT {EVENT_COLS} FROM events WHERE user_id = $1 AND id > $2 ORDER BY id LIMIT $3"),
                &[&user_id, &cursor.unwrap_or_default(), &(i64::from(limit) + 1)],
            )
            .await?
            .iter()
            .map(event_record)
            .collect::<Result<Vec<_>>>()?;
        Ok(page_of(items, limit, total, |e| e.id.clone()))
    }
}
