//! Members' events, idempotent by id; what an event does to its member is
//! [`quan_core::scrm::event::member_effect`].

use std::collections::HashMap;

use async_trait::async_trait;
use jiff::Timestamp;
use quan_core::scrm::event::{member_effect, MemberEffect};

use super::{json, page_of};
use crate::records::*;
use crate::scrm::{batch, *};
use crate::sql::{Column, Db, Engine, Row, Strings};
use crate::traits::Events;
use crate::Result;

const EVENT_COLS: &str = "id, user_id, kind, at, store_id, order_id, data";

fn event_record(r: &Row) -> Result<EventRecord> {
    Ok(EventRecord {
        id: r.get(0)?,
        user_id: r.get(1)?,
        kind: r.get(2)?,
        at: r.time(3)?,
        store_id: r.get(4)?,
        order_id: r.get(5)?,
        data: json(&r.get::<String>(6)?, "event data")?,
    })
}

/// What storing `new` does over the event stored under its id: an event is written once;
/// the same event again changes nothing, another under its id is refused.
fn event_written(before: Option<&EventRecord>, new: &EventRecord) -> Written {
    match before {
        None => Written::Inserted,
        Some(b) if b == new => Written::Unchanged,
        Some(_) => Written::Conflict,
    }
}

async fn insert_events(db: &mut Db<'_>, events: &[&EventRecord], now: Timestamp) -> Result<u64> {
    let texts =
        |f: fn(&EventRecord) -> String| -> Vec<String> { events.iter().map(|e| f(e)).collect() };
    let maybe = |f: fn(&EventRecord) -> Option<String>| -> Vec<Option<String>> {
        events.iter().map(|e| f(e)).collect()
    };
    let at: Vec<i64> = events.iter().map(|e| micros(e.at)).collect();
    db.execute_rows(
        "INSERT INTO events (id, user_id, kind, at, store_id, order_id, data, created_at) \
         SELECT x.id, x.user_id, x.kind, x.at, x.store_id, x.order_id, x.data, $1::bigint FROM {rows}",
        &[&micros(now)],
        &[
            ("id", Column::Text(&texts(|e| e.id.clone()))),
            ("user_id", Column::Text(&texts(|e| e.user_id.clone()))),
            ("kind", Column::Text(&texts(|e| e.kind.clone()))),
            ("at", Column::Int(&at)),
            ("store_id", Column::MaybeText(&maybe(|e| e.store_id.clone()))),
            ("order_id", Column::MaybeText(&maybe(|e| e.order_id.clone()))),
            ("data", Column::Text(&texts(|e| e.data.to_string()))),
        ],
    )
    .await
}

#[async_trait]
impl<E: Engine> Events for E {
    async fn put_events(&self, events: Vec<EventRecord>, now: Timestamp) -> Result<Vec<Written>> {
        self.write((events, now), |db, (events, now)| {
            Box::pin(async move {
                let now = *now;
                let ids: Vec<String> = events.iter().map(|e| e.id.clone()).collect();
                let before: HashMap<String, EventRecord> = db
                    .query(
                        &format!("SELECT {EVENT_COLS} FROM events WHERE id = ANY($1)"),
                        &[&Strings(&ids)],
                        event_record,
                    )
                    .await?
                    .into_iter()
                    .map(|e| (e.id.clone(), e))
                    .collect();
                let planned = batch::plan(before, events, |e| &e.id, event_written, Clone::clone);
                insert_events(db, &planned.rows, now).await?;
                // In the batch's order: the campaigns' inbox, and what each does to its member.
                for e in &planned.rows {
                    db.execute(
                        crate::records::campaigns::INBOX_SQL,
                        &[&e.id, &e.user_id, &e.kind, &micros(e.at), &micros(now)],
                    )
                    .await?;
                    match member_effect(&e.kind, e.at, &e.data) {
                        Some(MemberEffect::Join { at }) => {
                            db.execute(
                                crate::scrm::members::SIGNUP_SQL,
                                &[&e.user_id, &micros(at), &micros(now)],
                            )
                            .await?;
                        }
                        Some(MemberEffect::SetTier(tier)) => {
                            db.execute(
                                "UPDATE members SET tier = $2, updated_at = $3 WHERE id = $1",
                                &[&e.user_id, &tier, &micros(now)],
                            )
                            .await?;
                        }
                        None => {}
                    }
                }
                Ok(planned.written)
            })
        })
        .await
    }

    async fn event(&self, id: &str) -> Result<Option<EventRecord>> {
        let id = id.to_string();
        self.read_point(move |db| {
            Box::pin(async move {
                db.query_opt(
                    &format!("SELECT {EVENT_COLS} FROM events WHERE id = $1"),
                    &[&id],
                    event_record,
                )
                .await
            })
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
        self.read(move |db| {
            Box::pin(async move {
                let total: i64 = db
                    .query_one("SELECT COUNT(*) FROM events WHERE user_id = $1", &[&user], |r| {
                        r.get(0)
                    })
                    .await?;
                let items = db
                    .query(
                        &format!("SELECT {EVENT_COLS} FROM events WHERE user_id = $1 AND id > $2 ORDER BY id LIMIT $3"),
                        &[&user, &cursor.unwrap_or_default(), &(i64::from(limit) + 1)],
                        event_record,
                    )
                    .await?;
                Ok(page_of(items, limit, total, |e| e.id.clone()))
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_written_once() {
        let e = EventRecord {
            id: "e1".into(),
            user_id: "ana".into(),
            kind: "signup".into(),
            at: Timestamp::UNIX_EPOCH,
            store_id: None,
            order_id: None,
            data: serde_json::json!({}),
        };
        let other = EventRecord {
            user_id: "bob".into(),
            ..e.clone()
        };
        assert_eq!(event_written(None, &e), Written::Inserted);
        assert_eq!(event_written(Some(&e), &e), Written::Unchanged);
        assert_eq!(event_written(Some(&e), &other), Written::Conflict);
    }
}
