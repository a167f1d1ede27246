//! Members' events on SQLite.

use crate::scrm::*;
use async_trait::async_trait;
use jiff::Timestamp;
use rusqlite::{params, OptionalExtension};

use super::rows::*;
use super::SqliteStore;
use crate::model::*;
use crate::traits::*;
use crate::Result;

#[async_trait]
impl Events for SqliteStore {
    async fn put_events(&self, events: Vec<EventRecord>, now: Timestamp) -> Result<Vec<Written>> {
        self.write_conn(move |tx, _| {
            let mut out = Vec::with_capacity(events.len());
            for e in events {
                let before = tx
                    .prepare_cached(&format!("SELECT {EVENT_COLS} FROM events WHERE id = ?1"))?
                    .query_row([&e.id], event_row)
                    .optional()?
                    .transpose()?;
                if let Some(b) = before {
                    out.push(if b == e { Written::Unchanged } else { Written::Conflict });
                    continue;
                }
                tx.prepare_cached(
                    "INSERT INTO events (id, user_id, kind, at, store_id, order_id, data, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )?
                .execute(params![e.id, e.user_id, e.kind, micros(e.at), e.store_id, e.order_id, e.data.to_string(), micros(now)])?;
                tx.prepare_cached(&crate::campaigning::inbox_sql(super::segments::ph))?
                    .execute(params![e.id, e.user_id, e.kind, micros(e.at), micros(now)])?;
                match e.kind.as_str() {
                    "signup" => {
                        tx.prepare_cached(&crate::scrm::members::signup_sql(super::segments::ph))?
                            .execute(params![e.user_id, micros(e.at), micros(now)])?;
                    }
                    "tier_changed" => {
                        let tier = e.data.get("tier").and_then(|t| t.as_str());
                        tx.prepare_cached("UPDATE members SET tier = ?2, updated_at = ?3 WHERE id = ?1")?
                            .execute(params![e.user_id, tier, micros(now)])?;
                    }
                    _ => {}
                }
                out.push(Written::Inserted);
            }
            Ok(out)
        })
        .await
    }

    async fn event(&self, id: &str) -> Result<Option<EventRecord>> {
        let id = id.to_string();
        self.read_point_conn(move |conn| {
            conn.prepare_cached(&format!("SELECT {EVENT_COLS} FROM events WHERE id = ?1"))?
                .query_row([&id], event_row)
                .optional()?
                .transpose()
        })
        .await
    }

    async fn list_events(
        &self,
        user_id: &str,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<Page<EventRecord>> {
        let user = user_id.to_string();
        self.read_conn(move |conn| {
            let total = conn
                .prepare_cached("SELECT count(*) FROM events WHERE user_id = ?1")?
                .query_row([&user], |r| r.get(0))?;
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {EVENT_COLS} FROM events WHERE user_id = ?1 AND id > ?2 ORDER BY id LIMIT 0 + ?3"
            ))?;
            let items = stmt
                .query_map(params![user, cursor.unwrap_or_default(), i64::from(limit) + 1], event_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?
                .into_iter()
                .collect::<Result<Vec<_>>>()?;
            Ok(page_of(items, limit, total, |e| e.id.clone()))
        })
        .await
    }
}
