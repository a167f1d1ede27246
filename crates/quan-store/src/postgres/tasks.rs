//! Store-guide tasks on PostgreSQL: completion reads and decides under the task's row lock.

use async_trait::async_trait;
use jiff::Timestamp;
use quan_core::task::{self, Completion, TaskStatus};
use quan_core::ErrorCode;
use tokio_postgres::Row;

use super::rows::*;
use super::{exec, query, query_one, query_opt, PgStore};
use crate::model::*;
use crate::tasks::*;
use crate::traits::*;
use crate::Result;

const COLS: &str = "id, campaign_id, user_id, guide_id, title, template_id, material, message, \
                    status, outcome, coupon_id, grant_attempts, created_at, done_at";

fn task_record(r: &Row) -> Result<TaskRecord> {
    let status: String = r.get(8);
    let attempts: i64 = r.get(11);
    Ok(TaskRecord {
        id: r.get(0),
        campaign_id: r.get(1),
        user_id: r.get(2),
        guide_id: r.get(3),
        title: r.get(4),
        template_id: r.get(5),
        material: r.get(6),
        message: r.get(7),
        status: TaskStatus::parse(&status).ok_or_else(|| corrupt("task status"))?,
        outcome: r.get(9),
        coupon_id: r.get(10),
        grant_attempts: u32::try_from(attempts).map_err(|_| corrupt("task grant attempts"))?,
        created_at: from_micros(r.get(12)),
        done_at: r.get::<_, Option<i64>>(13).map(from_micros),
    })
}

#[async_trait]
impl Tasks for PgStore {
    async fn insert_task(&self, t: NewTask) -> Result<TaskRecord> {
        let c = self.pool.get().await?;
        let row = query_one(
            &c,
            &format!(
                "INSERT INTO tasks (id, campaign_id, user_id, guide_id, title, template_id, material, message, status, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open', $9) RETURNING {COLS}"
            ),
            &[&t.id, &t.campaign_id, &t.user_id, &t.guide_id, &t.title, &t.template_id, &t.material, &t.message, &micros(t.now)],
        )
        .await?;
        task_record(&row)
    }

    async fn task(&self, id: &str) -> Result<Option<TaskRecord>> {
        let c = self.pool.get().await?;
        query_opt(
            &c,
            &format!("SELECT {COLS} FROM tasks WHERE id = $1"),
            &[&id],
        )
        .await?
        .as_ref()
        .map(task_record)
        .transpose()
    }

    async fn list_tasks(&self, f: TaskFilter) -> Result<Page<TaskRecord>> {
        let mut c = self.pool.get().await?;
        // One snapshot for the page and its total.
        let tx = c
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        let status = f.status.map(TaskStatus::as_str);
        let filter = "($1::text IS NULL OR guide_id = $1) AND ($2::text IS NULL OR status = $2)";
        let total: i64 = query_one(
            &tx,
            &format!("SELECT count(*) FROM tasks WHERE {filter}"),
            &[&f.guide_id, &status],
        )
        .await?
        .get(0);
        let items = query(
            &tx,
            &format!("SELECT {COLS} FROM tasks WHERE {filter} AND id > $3 ORDER BY id LIMIT $4"),
            &[
                &f.guide_id,
                &status,
                &f.cursor.unwrap_or_default(),
                &(i64::from(f.limit) + 1),
            ],
        )
        .await?
        .iter()
        .map(task_record)
        .collect::<Result<Vec<_>>>()?;
        tx.commit().await?;
        Ok(page_of(items, f.limit, total, |t| t.id.clone()))
    }

    async fn complete_task(
        &self,
        id: &str,
        outcome: &str,
        now: Timestamp,
    ) -> Result<Result<TaskRecord, ErrorCode>> {
        let mut c = self.pool.get().await?;
        let tx = c.transaction().await?;
        let Some(row) = query_opt(
            &tx,
            &format!("SELECT {COLS} FROM tasks WHERE id = $1 FOR UPDATE"),
            &[&id],
        )
        .await?
        else {
            return Ok(Err(ErrorCode::NotFound));
        };
        let t = task_record(&row)?;
        let answer = match task::complete(t.status, t.outcome.as_deref(), outcome) {
            Err(code) => Err(code),
            Ok(Completion::Repeat) => Ok(t),
            Ok(Completion::Complete) => {
                let row = query_one(
                    &tx,
                    &format!(
                        "UPDATE tasks SET status = 'done', outcome = $2, done_at = $3 WHERE id = $1 RETURNING {COLS}"
                    ),
                    &[&id, &outcome, &micros(now)],
                )
                .await?;
                Ok(task_record(&row)?)
            }
        };
        tx.commit().await?;
        Ok(answer)
    }

    async fn record_task_coupon(&self, id: &str, coupon_id: &str) -> Result<Option<TaskRecord>> {
        let c = self.pool.get().await?;
        exec(
            &c,
            "UPDATE tasks SET coupon_id = $2 WHERE id = $1 AND coupon_id IS NULL",
            &[&id, &coupon_id],
        )
        .await?;
        query_opt(
            &c,
            &format!("SELECT {COLS} FROM tasks WHERE id = $1"),
            &[&id],
        )
        .await?
        .as_ref()
        .map(task_record)
        .transpose()
    }

    async fn count_refused_grant(&self, id: &str, attempts: u32) -> Result<bool> {
        let c = self.pool.get().await?;
        let n = exec(
            &c,
            "UPDATE tasks SET grant_attempts = grant_attempts + 1 WHERE id = $1 AND grant_attempts = $2 AND coupon_id IS NULL",
            &[&id, &i64::from(attempts)],
        )
        .await?;
        Ok(n == 1)
    }
}
