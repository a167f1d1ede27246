//! The outbox: campaign messages waiting for their channel, leased to one sender at a time
//! (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the single writer on SQLite).

use async_trait::async_trait;
use jiff::Timestamp;
use quan_core::campaign::MessageChannel;
use quan_core::outbox::{AfterFailure, MessageStatus};
use quan_core::ErrorCode;

use super::{corrupt, page_of};
use crate::records::messages::*;
use crate::records::*;
use crate::sql::{Column, Db, Engine, Row, Strings};
use crate::traits::Outbox;
use crate::Result;

const COLS: &str = "id, campaign_id, user_id, channel, text, link_template_id, status, attempts, \
                    next_attempt_at, lease_until, last_error, created_at, sent_at";

fn message_record(r: &Row) -> Result<MessageRecord> {
    let channel: String = r.get(3)?;
    let status: String = r.get(6)?;
    let attempts: i64 = r.get(7)?;
    Ok(MessageRecord {
        id: r.get(0)?,
        campaign_id: r.get(1)?,
        user_id: r.get(2)?,
        channel: MessageChannel::parse(&channel).ok_or_else(|| corrupt("message channel"))?,
        text: r.get(4)?,
        link_template_id: r.get(5)?,
        status: MessageStatus::parse(&status).ok_or_else(|| corrupt("message status"))?,
        attempts: u32::try_from(attempts).map_err(|_| corrupt("message attempts"))?,
        next_attempt_at: r.time(8)?,
        lease_until: r.time(9)?,
        last_error: r.get(10)?,
        created_at: r.time(11)?,
        sent_at: r.get::<Option<i64>>(12)?.map(from_micros),
    })
}

async fn get_message(db: &mut Db<'_>, id: &str) -> Result<Option<MessageRecord>> {
    db.query_opt(
        &format!("SELECT {COLS} FROM outbox WHERE id = $1"),
        &[&id],
        message_record,
    )
    .await
}

/// Puts messages in the outbox, due at once, a statement for all of them: the one insert of
/// messages.
pub(crate) async fn insert_messages(db: &mut Db<'_>, messages: &[NewMessage]) -> Result<u64> {
    let id: Vec<String> = messages.iter().map(|m| m.id.clone()).collect();
    let campaign: Vec<Option<String>> = messages.iter().map(|m| m.campaign_id.clone()).collect();
    let user: Vec<String> = messages.iter().map(|m| m.user_id.clone()).collect();
    let channel: Vec<String> = messages
        .iter()
        .map(|m| m.channel.as_str().to_string())
        .collect();
    let text: Vec<String> = messages.iter().map(|m| m.text.clone()).collect();
    let link: Vec<Option<String>> = messages
        .iter()
        .map(|m| m.link_template_id.clone())
        .collect();
    let now: Vec<i64> = messages.iter().map(|m| micros(m.now)).collect();
    db.execute_rows(
        "INSERT INTO outbox (id, campaign_id, user_id, channel, text, link_template_id, status, attempts, next_attempt_at, lease_until, created_at) \
         SELECT x.id, x.campaign_id, x.user_id, x.channel, x.text, x.link, 'pending', 0, x.now, 0, x.now FROM {rows}",
        &[],
        &[
            ("id", Column::Text(&id)),
            ("campaign_id", Column::MaybeText(&campaign)),
            ("user_id", Column::Text(&user)),
            ("channel", Column::Text(&channel)),
            ("text", Column::Text(&text)),
            ("link", Column::MaybeText(&link)),
            ("now", Column::Int(&now)),
        ],
    )
    .await
}

#[async_trait]
impl<E: Engine> Outbox for E {
    async fn enqueue_message(&self, m: NewMessage) -> Result<MessageRecord> {
        self.write(m, |db, m| {
            Box::pin(async move {
                insert_messages(db, std::slice::from_ref(m)).await?;
                get_message(db, &m.id)
                    .await?
                    .ok_or_else(|| corrupt("message vanished"))
            })
        })
        .await
    }

    async fn message(&self, id: &str) -> Result<Option<MessageRecord>> {
        let id = id.to_string();
        self.read_point(move |db| Box::pin(async move { get_message(db, &id).await }))
            .await
    }

    async fn list_messages(&self, f: MessageFilter) -> Result<Page<MessageRecord>> {
        self.read(move |db| {
            Box::pin(async move {
                let status = f.status.map(MessageStatus::as_str);
                let total: i64 = db
                    .query_one(
                        "SELECT count(*) FROM outbox WHERE $1::text IS NULL OR status = $1",
                        &[&status],
                        |r| r.get(0),
                    )
                    .await?;
                let items = db
                    .query(
                        &format!(
                            "SELECT {COLS} FROM outbox WHERE ($1::text IS NULL OR status = $1) AND id > $2 ORDER BY id LIMIT $3"
                        ),
                        &[&status, &f.cursor.clone().unwrap_or_default(), &(i64::from(f.limit) + 1)],
                        message_record,
                    )
                    .await?;
                Ok(page_of(items, f.limit, total, |m| m.id.clone()))
            })
        })
        .await
    }

    async fn take_due_messages(&self, due: DueMessages) -> Result<Vec<MessageRecord>> {
        if due.channels.is_empty() || due.limit == 0 {
            return Ok(vec![]);
        }
        self.write(due, |db, due| {
            Box::pin(async move {
                let channels: Vec<String> =
                    due.channels.iter().map(|c| c.as_str().to_string()).collect();
                // On PostgreSQL, read committed re-checks a locked row's conditions after the
                // lock, and SKIP LOCKED passes over rows another process is leasing right now:
                // each message goes to one.
                let mut taken = db
                    .query(
                        &format!(
                            "UPDATE outbox SET lease_until = $2 WHERE id IN (\
                             SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= $1 AND lease_until < $1 \
                             AND channel = ANY($3) ORDER BY next_attempt_at, id LIMIT $4 FOR UPDATE SKIP LOCKED) \
                             RETURNING {COLS}"
                        ),
                        &[
                            &micros(due.now),
                            &micros(due.lease_until),
                            &Strings(&channels),
                            &i64::from(due.limit),
                        ],
                        message_record,
                    )
                    .await?;
                taken.sort_by(|a, b| (a.next_attempt_at, &a.id).cmp(&(b.next_attempt_at, &b.id)));
                Ok(taken)
            })
        })
        .await
    }

    async fn mark_sent(&self, id: &str, now: Timestamp) -> Result<bool> {
        let args = (id.to_string(), micros(now));
        self.write(args, |db, (id, now)| {
            Box::pin(async move {
                let n = db
                    .execute(
                        "UPDATE outbox SET status = 'sent', attempts = attempts + 1, sent_at = $2, lease_until = 0, last_error = NULL \
                         WHERE id = $1 AND status = 'pending'",
                        &[id, now],
                    )
                    .await?;
                Ok(n == 1)
            })
        })
        .await
    }

    async fn mark_failed(&self, f: MessageFailure) -> Result<Option<MessageRecord>> {
        self.write(f, |db, f| {
            Box::pin(async move {
                let (status, next) = match f.next {
                    AfterFailure::RetryAt(at) => ("pending", at),
                    AfterFailure::Dead => ("dead", f.now),
                };
                db.query_opt(
                    &format!(
                        "UPDATE outbox SET status = $3, attempts = attempts + 1, last_error = $4, next_attempt_at = $5, lease_until = 0 \
                         WHERE id = $1 AND status = 'pending' AND attempts = $2 RETURNING {COLS}"
                    ),
                    &[&f.id, &i64::from(f.attempts), &status, &f.error, &micros(next)],
                    message_record,
                )
                .await
            })
        })
        .await
    }

    async fn retry_dead(
        &self,
        id: &str,
        now: Timestamp,
    ) -> Result<Result<MessageRecord, ErrorCode>> {
        let args = (id.to_string(), micros(now));
        self.write(args, |db, (id, now)| {
            Box::pin(async move {
                let retried = db
                    .query_opt(
                        &format!(
                            "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = $2, lease_until = 0 \
                             WHERE id = $1 AND status = 'dead' RETURNING {COLS}"
                        ),
                        &[id, now],
                        message_record,
                    )
                    .await?;
                if let Some(m) = retried {
                    return Ok(Ok(m));
                }
                let exists = db
                    .query_opt("SELECT 1 FROM outbox WHERE id = $1", &[id], |_| Ok(()))
                    .await?;
                Ok(Err(if exists.is_some() {
                    ErrorCode::InvalidState
                } else {
                    ErrorCode::NotFound
                }))
            })
        })
        .await
    }

    async fn pending_by_channel(&self) -> Result<Vec<(MessageChannel, i64)>> {
        self.read(|db| {
            Box::pin(async move {
                db.query(
                    "SELECT channel, count(*) FROM outbox WHERE status = 'pending' GROUP BY channel ORDER BY channel",
                    &[],
                    |r| {
                        let channel: String = r.get(0)?;
                        Ok((
                            MessageChannel::parse(&channel).ok_or_else(|| corrupt("message channel"))?,
                            r.get(1)?,
                        ))
                    },
                )
                .await
            })
        })
        .await
    }
}
