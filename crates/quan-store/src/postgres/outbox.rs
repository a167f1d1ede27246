//! The outbox on PostgreSQL: due messages are leased with `FOR UPDATE SKIP LOCKED`, so several
//! `quan serve` processes sharing the database take disjoint messages.

use async_trait::async_trait;
use jiff::Timestamp;
use quan_core::campaign::MessageChannel;
use quan_core::outbox::{AfterFailure, MessageStatus};
use quan_core::ErrorCode;
use tokio_postgres::Row;

use super::rows::*;
use super::{exec, query, query_one, query_opt, PgStore};
use crate::messages::*;
use crate::model::*;
use crate::traits::*;
use crate::Result;

const COLS: &str = "id, campaign_id, user_id, channel, text, link_template_id, status, attempts, \
                    next_attempt_at, lease_until, last_error, created_at, sent_at";

fn message_record(r: &Row) -> Result<MessageRecord> {
    let channel: String = r.get(3);
    let status: String = r.get(6);
    let attempts: i64 = r.get(7);
    Ok(MessageRecord {
        id: r.get(0),
        campaign_id: r.get(1),
        user_id: r.get(2),
        channel: MessageChannel::parse(&channel).ok_or_else(|| corrupt("message channel"))?,
        text: r.get(4),
        link_template_id: r.get(5),
        status: MessageStatus::parse(&status).ok_or_else(|| corrupt("message status"))?,
        attempts: u32::try_from(attempts).map_err(|_| corrupt("message attempts"))?,
        next_attempt_at: from_micros(r.get(8)),
        lease_until: from_micros(r.get(9)),
        last_error: r.get(10),
        created_at: from_micros(r.get(11)),
        sent_at: r.get::<_, Option<i64>>(12).map(from_micros),
    })
}

#[async_trait]
impl Outbox for PgStore {
    async fn enqueue_message(&self, m: NewMessage) -> Result<MessageRecord> {
        let c = self.pool.get().await?;
        let row = query_one(
            &c,
            &format!(
                "INSERT INTO outbox (id, campaign_id, user_id, channel, text, link_template_id, status, attempts, next_attempt_at, lease_until, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, 0, $7) RETURNING {COLS}"
            ),
            &[&m.id, &m.campaign_id, &m.user_id, &m.channel.as_str(), &m.text, &m.link_template_id, &micros(m.now)],
        )
        .await?;
        message_record(&row)
    }

    async fn message(&self, id: &str) -> Result<Option<MessageRecord>> {
        let c = self.pool.get().await?;
        query_opt(
            &c,
            &format!("SELECT {COLS} FROM outbox WHERE id = $1"),
            &[&id],
        )
        .await?
        .as_ref()
        .map(message_record)
        .transpose()
    }

    async fn list_messages(&self, f: MessageFilter) -> Result<Page<MessageRecord>> {
        let mut c = self.pool.get().await?;
        // One snapshot for the page and its total.
        let tx = c
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        let status = f.status.map(MessageStatus::as_str);
        let total: i64 = query_one(
            &tx,
            "SELECT count(*) FROM outbox WHERE $1::text IS NULL OR status = $1",
            &[&status],
        )
        .await?
        .get(0);
        let items = query(
            &tx,
            &format!(
                "SELECT {COLS} FROM outbox WHERE ($1::text IS NULL OR status = $1) AND id > $2 ORDER BY id LIMIT $3"
            ),
            &[&status, &f.cursor.unwrap_or_default(), &(i64::from(f.limit) + 1)],
        )
        .await?
        .iter()
        .map(message_record)
        .collect::<Result<Vec<_>>>()?;
        tx.commit().await?;
        Ok(page_of(items, f.limit, total, |m| m.id.clone()))
    }

    async fn take_due_messages(&self, due: DueMessages) -> Result<Vec<MessageRecord>> {
        if due.channels.is_empty() || due.limit == 0 {
            return Ok(vec![]);
        }
        let c = self.pool.get().await?;
        let channels: Vec<&str> = due.channels.iter().map(|c| c.as_str()).collect();
        // Read committed re-checks a locked row's conditions after the lock, and SKIP LOCKED
        // passes over rows another process is leasing right now: each message goes to one.
        let mut taken = query(
            &c,
            &format!(
                "UPDATE outbox SET lease_until = $2 WHERE id IN (\
                 SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= $1 AND lease_until < $1 \
                 AND channel = ANY($3) ORDER BY next_attempt_at, id LIMIT $4 FOR UPDATE SKIP LOCKED) \
                 RETURNING {COLS}"
            ),
            &[&micros(due.now), &micros(due.lease_until), &channels, &i64::from(due.limit)],
        )
        .await?
        .iter()
        .map(message_record)
        .collect::<Result<Vec<_>>>()?;
        taken.sort_by(|a, b| (a.next_attempt_at, &a.id).cmp(&(b.next_attempt_at, &b.id)));
        Ok(taken)
    }

    async fn mark_sent(&self, id: &str, now: Timestamp) -> Result<bool> {
        let c = self.pool.get().await?;
        let n = exec(
            &c,
            "UPDATE outbox SET status = 'sent', attempts = attempts + 1, sent_at = $2, lease_until = 0, last_error = NULL \
             WHERE id = $1 AND status = 'pending'",
            &[&id, &micros(now)],
        )
        .await?;
        Ok(n == 1)
    }

    async fn mark_failed(&self, f: MessageFailure) -> Result<Option<MessageRecord>> {
        let (status, next) = match f.next {
            AfterFailure::RetryAt(at) => ("pending", at),
            AfterFailure::Dead => ("dead", f.now),
        };
        let c = self.pool.get().await?;
        query_opt(
            &c,
            &format!(
                "UPDATE outbox SET status = $3, attempts = attempts + 1, last_error = $4, next_attempt_at = $5, lease_until = 0 \
                 WHERE id = $1 AND status = 'pending' AND attempts = $2 RETURNING {COLS}"
            ),
            &[&f.id, &i64::from(f.attempts), &status, &f.error, &micros(next)],
        )
        .await?
        .as_ref()
        .map(message_record)
        .transpose()
    }

    async fn retry_dead(
        &self,
        id: &str,
        now: Timestamp,
    ) -> Result<Result<MessageRecord, ErrorCode>> {
        let c = self.pool.get().await?;
        let retried = query_opt(
            &c,
            &format!(
                "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = $2, lease_until = 0 \
                 WHERE id = $1 AND status = 'dead' RETURNING {COLS}"
            ),
            &[&id, &micros(now)],
        )
        .await?;
        if let Some(row) = retried {
            return Ok(Ok(message_record(&row)?));
        }
        let exists = query_opt(&c, "SELECT 1 FROM outbox WHERE id = $1", &[&id]).await?;
        Ok(Err(if exists.is_some() {
            ErrorCode::InvalidState
        } else {
            ErrorCode::NotFound
        }))
    }

    async fn pending_by_channel(&self) -> Result<Vec<(MessageChannel, i64)>> {
        let c = self.pool.get().await?;
        query(
            &c,
            "SELECT channel, count(*) FROM outbox WHERE status = 'pending' GROUP BY channel ORDER BY channel",
            &[],
        )
        .await?
        .iter()
        .map(|r| {
            let channel: String = r.get(0);
            Ok((
                MessageChannel::parse(&channel).ok_or_else(|| corrupt("message channel"))?,
                r.get(1),
            ))
        })
        .collect()
    }
}
