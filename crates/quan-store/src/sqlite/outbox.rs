//! The outbox on SQLite: the single writer makes taking due messages one atomic step.

use async_trait::async_trait;
use jiff::Timestamp;
use quan_core::campaign::MessageChannel;
use quan_core::outbox::{AfterFailure, MessageStatus};
use quan_core::ErrorCode;
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::rows::*;
use super::SqliteStore;
use crate::messages::*;
use crate::model::*;
use crate::traits::*;
use crate::Result;

const COLS: &str = "id, campaign_id, user_id, channel, text, link_template_id, status, attempts, \
                    next_attempt_at, lease_until, last_error, created_at, sent_at";

type MessageRow = (
    String,
    Option<String>,
    String,
    String,
    String,
    Option<String>,
    String,
    i64,
    i64,
    i64,
    Option<String>,
    i64,
    Option<i64>,
);

fn message_row(r: &Row) -> rusqlite::Result<MessageRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
        r.get(11)?,
        r.get(12)?,
    ))
}

fn message_record(row: MessageRow) -> Result<MessageRecord> {
    let (
        id,
        campaign_id,
        user_id,
        channel,
        text,
        link,
        status,
        attempts,
        next,
        lease,
        error,
        created,
        sent,
    ) = row;
    Ok(MessageRecord {
        channel: MessageChannel::parse(&channel).ok_or_else(|| corrupt("message channel"))?,
        status: MessageStatus::parse(&status).ok_or_else(|| corrupt("message status"))?,
        attempts: u32::try_from(attempts).map_err(|_| corrupt("message attempts"))?,
        id,
        campaign_id,
        user_id,
        text,
        link_template_id: link,
        next_attempt_at: ts(next),
        lease_until: ts(lease),
        last_error: error,
        created_at: ts(created),
        sent_at: sent.map(ts),
    })
}

fn get_message(conn: &Connection, id: &str) -> Result<Option<MessageRecord>> {
    conn.prepare_cached(&format!("SELECT {COLS} FROM outbox WHERE id = ?1"))?
        .query_row([id], message_row)
        .optional()?
        .map(message_record)
        .transpose()
}

fn message_of(conn: &Connection, id: &str) -> Result<MessageRecord> {
    get_message(conn, id)?.ok_or_else(|| corrupt("message vanished"))
}

#[async_trait]
impl Outbox for SqliteStore {
    async fn enqueue_message(&self, m: NewMessage) -> Result<MessageRecord> {
        self.write_conn(move |tx, _| {
            tx.prepare_cached(
                "INSERT INTO outbox (id, campaign_id, user_id, channel, text, link_template_id, status, attempts, next_attempt_at, lease_until, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', 0, ?7, 0, ?7)",
            )?
            .execute(params![m.id, m.campaign_id, m.user_id, m.channel.as_str(), m.text, m.link_template_id, micros(m.now)])?;
            message_of(tx, &m.id)
        })
        .await
    }

    async fn message(&self, id: &str) -> Result<Option<MessageRecord>> {
        let id = id.to_string();
        self.read_point_conn(move |conn| get_message(conn, &id))
            .await
    }

    async fn list_messages(&self, f: MessageFilter) -> Result<Page<MessageRecord>> {
        self.read_conn(move |conn| {
            let tx = conn.unchecked_transaction()?;
            let status = f.status.map(MessageStatus::as_str);
            let total: i64 = tx
                .prepare_cached("SELECT count(*) FROM outbox WHERE ?1 IS NULL OR status = ?1")?
                .query_row([status], |r| r.get(0))?;
            let rows = tx
                .prepare_cached(&format!(
                    "SELECT {COLS} FROM outbox WHERE (?1 IS NULL OR status = ?1) AND id > ?2 ORDER BY id LIMIT ?3"
                ))?
                .query_map(
                    params![status, f.cursor.unwrap_or_default(), i64::from(f.limit) + 1],
                    message_row,
                )?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let items = rows.into_iter().map(message_record).collect::<Result<Vec<_>>>()?;
            Ok(page_of(items, f.limit, total, |m| m.id.clone()))
        })
        .await
    }

    async fn take_due_messages(&self, due: DueMessages) -> Result<Vec<MessageRecord>> {
        if due.channels.is_empty() || due.limit == 0 {
            return Ok(vec![]);
        }
        self.write_conn(move |tx, _| {
            let channels: Vec<String> = due.channels.iter().map(|c| c.as_str().to_string()).collect();
            let ids: Vec<String> = tx
                .prepare_cached(
                    "SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?1 AND lease_until < ?1 \
                     AND channel IN (SELECT value FROM json_each(?2)) ORDER BY next_attempt_at, id LIMIT ?3",
                )?
                .query_map(params![micros(due.now), json_list(&channels), due.limit], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let mut lease = tx.prepare_cached("UPDATE outbox SET lease_until = ?2 WHERE id = ?1")?;
            let mut taken = Vec::with_capacity(ids.len());
            for id in ids {
                lease.execute(params![id, micros(due.lease_until)])?;
                taken.push(message_of(tx, &id)?);
            }
            Ok(taken)
        })
        .await
    }

    async fn mark_sent(&self, id: &str, now: Timestamp) -> Result<bool> {
        let id = id.to_string();
        self.write_conn(move |tx, _| {
            let n = tx
                .prepare_cached(
                    "UPDATE outbox SET status = 'sent', attempts = attempts + 1, sent_at = ?2, lease_until = 0, last_error = NULL \
                     WHERE id = ?1 AND status = 'pending'",
                )?
                .execute(params![id, micros(now)])?;
            Ok(n == 1)
        })
        .await
    }

    async fn mark_failed(&self, f: MessageFailure) -> Result<Option<MessageRecord>> {
        self.write_conn(move |tx, _| {
            let (status, next) = match f.next {
                AfterFailure::RetryAt(at) => ("pending", at),
                AfterFailure::Dead => ("dead", f.now),
            };
            let n = tx
                .prepare_cached(
                    "UPDATE outbox SET status = ?3, attempts = attempts + 1, last_error = ?4, next_attempt_at = ?5, lease_until = 0 \
                     WHERE id = ?1 AND status = 'pending' AND attempts = ?2",
                )?
                .execute(params![f.id, f.attempts, status, f.error, micros(next)])?;
            if n == 0 {
                return Ok(None);
            }
            Ok(Some(message_of(tx, &f.id)?))
        })
        .await
    }

    async fn retry_dead(
        &self,
        id: &str,
        now: Timestamp,
    ) -> Result<Result<MessageRecord, ErrorCode>> {
        let id = id.to_string();
        self.write_conn(move |tx, _| {
            let n = tx
                .prepare_cached(
                    "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?2, lease_until = 0 \
                     WHERE id = ?1 AND status = 'dead'",
                )?
                .execute(params![id, micros(now)])?;
            Ok(match get_message(tx, &id)? {
                None => Err(ErrorCode::NotFound),
                Some(m) if n == 1 => Ok(m),
                Some(_) => Err(ErrorCode::InvalidState),
            })
        })
        .await
    }

    async fn pending_by_channel(&self) -> Result<Vec<(MessageChannel, i64)>> {
        self.read_conn(move |conn| {
            let rows = conn
                .prepare_cached(
                    "SELECT channel, count(*) FROM outbox WHERE status = 'pending' GROUP BY channel ORDER BY channel",
                )?
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            rows.into_iter()
                .map(|(c, n)| {
                    Ok((MessageChannel::parse(&c).ok_or_else(|| corrupt("message channel"))?, n))
                })
                .collect()
        })
        .await
    }
}
