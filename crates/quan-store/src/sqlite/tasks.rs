//! Store-guide tasks on SQLite: the single writer makes each read-decide-write one step.

use async_trait::async_trait;
use jiff::Timestamp;
use quan_core::task::{self, Completion, TaskStatus};
use quan_core::ErrorCode;
use rusqlite::types::Type;
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::rows::*;
use super::SqliteStore;
use crate::model::*;
use crate::tasks::*;
use crate::traits::*;
use crate::Result;

const COLS: &str = "id, campaign_id, user_id, guide_id, title, template_id, material, message, \
                    status, outcome, coupon_id, grant_attempts, created_at, done_at";

/// A stored value quan would not have written.
fn unreadable(column: usize, what: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, Type::Text, what.to_string().into())
}

fn task_row(r: &Row) -> rusqlite::Result<TaskRecord> {
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
        status: TaskStatus::parse(&status).ok_or_else(|| unreadable(8, "task status"))?,
        outcome: r.get(9)?,
        coupon_id: r.get(10)?,
        grant_attempts: u32::try_from(attempts)
            .map_err(|_| unreadable(11, "task grant attempts"))?,
        created_at: ts(r.get(12)?),
        done_at: r.get::<_, Option<i64>>(13)?.map(ts),
    })
}

fn get_task(conn: &Connection, id: &str) -> Result<Option<TaskRecord>> {
    conn.prepare_cached(&format!("SELECT {COLS} FROM tasks WHERE id = ?1"))?
        .query_row([id], task_row)
        .optional()
        .map_err(Into::into)
}

fn task_of(conn: &Connection, id: &str) -> Result<TaskRecord> {
    get_task(conn, id)?.ok_or_else(|| corrupt("task vanished"))
}

#[async_trait]
impl Tasks for SqliteStore {
    async fn insert_task(&self, t: NewTask) -> Result<TaskRecord> {
        self.write_conn(move |tx, _| {
            tx.prepare_cached(
                "INSERT INTO tasks (id, campaign_id, user_id, guide_id, title, template_id, material, message, status, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'open', ?9)",
            )?
            .execute(params![t.id, t.campaign_id, t.user_id, t.guide_id, t.title, t.template_id, t.material, t.message, micros(t.now)])?;
            task_of(tx, &t.id)
        })
        .await
    }

    async fn task(&self, id: &str) -> Result<Option<TaskRecord>> {
        let id = id.to_string();
        self.read_point_conn(move |conn| get_task(conn, &id)).await
    }

    async fn list_tasks(&self, f: TaskFilter) -> Result<Page<TaskRecord>> {
        self.read_conn(move |conn| {
            let tx = conn.unchecked_transaction()?;
            let status = f.status.map(TaskStatus::as_str);
            let filter = "(?1 IS NULL OR guide_id = ?1) AND (?2 IS NULL OR status = ?2)";
            let total: i64 = tx
                .prepare_cached(&format!("SELECT count(*) FROM tasks WHERE {filter}"))?
                .query_row(params![f.guide_id, status], |r| r.get(0))?;
            let items = tx
                .prepare_cached(&format!(
                    "SELECT {COLS} FROM tasks WHERE {filter} AND id > ?3 ORDER BY id LIMIT ?4"
                ))?
                .query_map(
                    params![
                        f.guide_id,
                        status,
                        f.cursor.unwrap_or_default(),
                        i64::from(f.limit) + 1
                    ],
                    task_row,
                )?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(page_of(items, f.limit, total, |t| t.id.clone()))
        })
        .await
    }

    async fn complete_task(
        &self,
        id: &str,
        outcome: &str,
        now: Timestamp,
    ) -> Result<Result<TaskRecord, ErrorCode>> {
        let (id, outcome) = (id.to_string(), outcome.to_string());
        self.write_conn(move |tx, _| {
            let Some(t) = get_task(tx, &id)? else {
                return Ok(Err(ErrorCode::NotFound));
            };
            match task::complete(t.status, t.outcome.as_deref(), &outcome) {
                Err(code) => Ok(Err(code)),
                Ok(Completion::Repeat) => Ok(Ok(t)),
                Ok(Completion::Complete) => {
                    tx.prepare_cached(
                        "UPDATE tasks SET status = 'done', outcome = ?2, done_at = ?3 WHERE id = ?1 AND status = 'open'",
                    )?
                    .execute(params![id, outcome, micros(now)])?;
                    Ok(Ok(task_of(tx, &id)?))
                }
            }
        })
        .await
    }

    async fn record_task_coupon(&self, id: &str, coupon_id: &str) -> Result<Option<TaskRecord>> {
        let (id, coupon_id) = (id.to_string(), coupon_id.to_string());
        self.write_conn(move |tx, _| {
            tx.prepare_cached(
                "UPDATE tasks SET coupon_id = ?2 WHERE id = ?1 AND coupon_id IS NULL",
            )?
            .execute(params![id, coupon_id])?;
            get_task(tx, &id)
        })
        .await
    }

    async fn count_refused_grant(&self, id: &str, attempts: u32) -> Result<bool> {
        let id = id.to_string();
        self.write_conn(move |tx, _| {
            let n = tx
                .prepare_cached(
                    "UPDATE tasks SET grant_attempts = grant_attempts + 1 WHERE id = ?1 AND grant_attempts = ?2 AND coupon_id IS NULL",
                )?
                .execute(params![id, attempts])?;
            Ok(n == 1)
        })
        .await
    }
}
