//! Store-guide tasks: made by campaigns, listed to their guides, completed once.

use async_trait::async_trait;
use jiff::Timestamp;
use quan_core::task::{self, Completion, TaskStatus};
use quan_core::ErrorCode;

use super::page_of;
use crate::records::tasks::*;
use crate::records::*;
use crate::sql::{Column, Db, Engine, Row};
use crate::traits::Tasks;
use crate::{Result, StoreError};

const COLS: &str = "id, campaign_id, user_id, guide_id, title, template_id, material, message, \
                    status, outcome, coupon_id, grant_attempts, created_at, done_at";

fn task_record(r: &Row) -> Result<TaskRecord> {
    let status: String = r.get(8)?;
    let attempts: i64 = r.get(11)?;
    Ok(TaskRecord {
        id: r.get(0)?,
        campaign_id: r.get(1)?,
        user_id: r.get(2)?,
        guide_id: r.get(3)?,
        title: r.get(4)?,
        template_id: r.get(5)?,
        material: r.get(6)?,
        message: r.get(7)?,
        status: TaskStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt("task status".into()))?,
        outcome: r.get(9)?,
        coupon_id: r.get(10)?,
        grant_attempts: u32::try_from(attempts)
            .map_err(|_| StoreError::Corrupt("task grant attempts".into()))?,
        created_at: r.time(12)?,
        done_at: r.get::<Option<i64>>(13)?.map(from_micros),
    })
}

async fn get_task(db: &mut Db<'_>, id: &str, lock: bool) -> Result<Option<TaskRecord>> {
    let sql = if lock {
        format!("SELECT {COLS} FROM tasks WHERE id = $1 FOR UPDATE")
    } else {
        format!("SELECT {COLS} FROM tasks WHERE id = $1")
    };
    db.query_opt(&sql, &[&id], task_record).await
}

/// Writes open tasks, a statement for all of them: the one insert of tasks.
pub(crate) async fn insert_tasks(db: &mut Db<'_>, tasks: &[NewTask]) -> Result<u64> {
    let text = |f: fn(&NewTask) -> &String| tasks.iter().map(|t| f(t).clone()).collect::<Vec<_>>();
    let maybe =
        |f: fn(&NewTask) -> &Option<String>| tasks.iter().map(|t| f(t).clone()).collect::<Vec<_>>();
    let (id, campaign, user, title) = (
        text(|t| &t.id),
        text(|t| &t.campaign_id),
        text(|t| &t.user_id),
        text(|t| &t.title),
    );
    let (guide, template, material, message) = (
        maybe(|t| &t.guide_id),
        maybe(|t| &t.template_id),
        maybe(|t| &t.material),
        maybe(|t| &t.message),
    );
    let created: Vec<i64> = tasks.iter().map(|t| micros(t.now)).collect();
    db.execute_rows(
        "INSERT INTO tasks (id, campaign_id, user_id, guide_id, title, template_id, material, message, status, created_at) \
         SELECT x.id, x.campaign_id, x.user_id, x.guide_id, x.title, x.template_id, x.material, x.message, 'open', x.created_at FROM {rows}",
        &[],
        &[
            ("id", Column::Text(&id)),
            ("campaign_id", Column::Text(&campaign)),
            ("user_id", Column::Text(&user)),
            ("guide_id", Column::MaybeText(&guide)),
            ("title", Column::Text(&title)),
            ("template_id", Column::MaybeText(&template)),
            ("material", Column::MaybeText(&material)),
            ("message", Column::MaybeText(&message)),
            ("created_at", Column::Int(&created)),
        ],
    )
    .await
}

#[async_trait]
impl<E: Engine> Tasks for E {
    async fn insert_task(&self, t: NewTask) -> Result<TaskRecord> {
        self.write(t, |db, t| {
            Box::pin(async move {
                insert_tasks(db, std::slice::from_ref(t)).await?;
                get_task(db, &t.id, false)
                    .await?
                    .ok_or_else(|| StoreError::Corrupt("task vanished".into()))
            })
        })
        .await
    }

    async fn task(&self, id: &str) -> Result<Option<TaskRecord>> {
        let id = id.to_string();
        self.read_point(move |db| Box::pin(async move { get_task(db, &id, false).await }))
            .await
    }

    async fn list_tasks(&self, f: TaskFilter) -> Result<Page<TaskRecord>> {
        self.read(move |db| {
            Box::pin(async move {
                let status = f.status.map(TaskStatus::as_str);
                let filter =
                    "($1::text IS NULL OR guide_id = $1) AND ($2::text IS NULL OR status = $2)";
                let total: i64 = db
                    .query_one(
                        &format!("SELECT count(*) FROM tasks WHERE {filter}"),
                        &[&f.guide_id, &status],
                        |r| r.get(0),
                    )
                    .await?;
                let items = db
                    .query(
                        &format!(
                            "SELECT {COLS} FROM tasks WHERE {filter} AND id > $3 ORDER BY id LIMIT $4"
                        ),
                        &[
                            &f.guide_id,
                            &status,
                            &f.cursor.clone().unwrap_or_default(),
                            &(i64::from(f.limit) + 1),
                        ],
                        task_record,
                    )
                    .await?;
                Ok(page_of(items, f.limit, total, |t| t.id.clone()))
            })
        })
        .await
    }

    async fn complete_task(
        &self,
        id: &str,
        outcome: &str,
        now: Timestamp,
    ) -> Result<Result<TaskRecord, ErrorCode>> {
        let args = (id.to_string(), outcome.to_string(), micros(now));
        self.write(args, |db, (id, outcome, now)| {
            Box::pin(async move {
                let Some(t) = get_task(db, id, true).await? else {
                    return Ok(Err(ErrorCode::NotFound));
                };
                match task::complete(t.status, t.outcome.as_deref(), outcome) {
                    Err(code) => Ok(Err(code)),
                    Ok(Completion::Repeat) => Ok(Ok(t)),
                    Ok(Completion::Complete) => {
                        db.execute(
                            "UPDATE tasks SET status = 'done', outcome = $2, done_at = $3 WHERE id = $1 AND status = 'open'",
                            &[id, outcome, now],
                        )
                        .await?;
                        get_task(db, id, false)
                            .await?
                            .map(Ok)
                            .ok_or_else(|| StoreError::Corrupt("task vanished".into()))
                    }
                }
            })
        })
        .await
    }

    async fn record_task_coupon(&self, id: &str, coupon_id: &str) -> Result<Option<TaskRecord>> {
        let args = (id.to_string(), coupon_id.to_string());
        self.write(args, |db, (id, coupon_id)| {
            Box::pin(async move {
                db.execute(
                    "UPDATE tasks SET coupon_id = $2 WHERE id = $1 AND coupon_id IS NULL",
                    &[id, coupon_id],
                )
                .await?;
                get_task(db, id, false).await
            })
        })
        .await
    }

    async fn count_refused_grant(&self, id: &str, attempts: u32) -> Result<bool> {
        let args = (id.to_string(), i64::from(attempts));
        self.write(args, |db, (id, attempts)| {
            Box::pin(async move {
                let n = db
                    .execute(
                        "UPDATE tasks SET grant_attempts = grant_attempts + 1 WHERE id = $1 AND grant_attempts = $2 AND coupon_id IS NULL",
                        &[id, attempts],
                    )
                    .await?;
                Ok(n == 1)
            })
        })
        .await
    }
}
