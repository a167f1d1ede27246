//! Background jobs (claim-code jobs) on SQLite.

use async_trait::async_trait;
use jiff::Timestamp;
use rusqlite::{params, Connection, OptionalExtension};

use super::rows::*;
use super::SqliteStore;
use crate::model::*;
use crate::traits::*;
use crate::Result;

pub(super) fn get_job(conn: &Connection, id: &str) -> Result<Option<JobRecord>> {
    conn.prepare_cached(&format!("SELECT {JOB_COLS} FROM jobs WHERE id = ?1"))?
        .query_row([id], job_row)
        .optional()?
        .transpose()
}

fn job_of(conn: &Connection, id: &str) -> Result<JobRecord> {
    get_job(conn, id)?.ok_or_else(|| corrupt("job vanished"))
}

/// Background jobs. The single writer makes each batch's checks and writes one atomic step;
/// the lease and `done` checks matter here only when a runner outlived its lease.
#[async_trait]
impl Jobs for SqliteStore {
    async fn insert_job(&self, job: NewJob) -> Result<Option<JobRecord>> {
        self.write_conn(move |tx, _| {
            let now = micros(job.now);
            let inserted = tx.execute(
                "INSERT INTO jobs (id, kind, template_id, store_id, status, total, done, lease_owner, lease_until, created_by, created_at, updated_at) \
                 SELECT ?1, ?2, id, store_id, 'running', ?3, 0, ?4, ?5, ?6, ?7, ?7 FROM templates WHERE id = ?8",
                params![job.id, job.kind.as_str(), job.total, job.lease.owner, micros(job.lease.until), job.created_by, now, job.template_id],
            )?;
            if inserted == 0 {
                return Ok(None);
            }
            Ok(Some(job_of(tx, &job.id)?))
        })
        .await
    }

    async fn job(&self, id: &str) -> Result<Option<JobRecord>> {
        let id = id.to_string();
        self.read_conn(move |conn| get_job(conn, &id)).await
    }

    async fn job_codes(
        &self,
        id: &str,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<Page<String>> {
        let id = id.to_string();
        self.read_conn(move |conn| {
            // One read transaction: the page and its total come from one snapshot.
            let tx = conn.unchecked_transaction()?;
            let done: Option<i64> = tx
                .prepare_cached("SELECT done FROM jobs WHERE id = ?1")?
                .query_row([&id], |r| r.get(0))
                .optional()?;
            let Some(total) = done else {
                return Ok(Page { items: vec![], total: 0, next: None });
            };
            // Every code sorts after "", so the first page needs no other statement.
            let items = tx
                .prepare_cached("SELECT code FROM claim_codes WHERE job_id = ?1 AND code > ?2 ORDER BY code LIMIT 0 + ?3")?
                .query_map(params![id, cursor.unwrap_or_default(), i64::from(limit) + 1], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?;
            Ok(page_of(items, limit, total, Clone::clone))
        })
        .await
    }

    async fn run_job_batch(&self, b: JobBatch) -> Result<Option<JobRecord>> {
        self.write_conn(move |tx, _| {
            let held: Option<(String, i64)> = tx
                .prepare_cached("SELECT template_id, total FROM jobs WHERE id = ?1 AND status = 'running' AND lease_owner = ?2 AND done = ?3")?
                .query_row(params![b.job_id, b.lease.owner, b.done], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            let Some((template_id, total)) = held else {
                return Ok(None);
            };
            let n = b.size.min(total - b.done);
            let now = micros(b.now);
            let taken = tx
                .prepare_cached("UPDATE templates SET remaining = remaining - ?2, issued = issued + ?2 WHERE id = ?1 AND (remaining IS NULL OR remaining >= ?2)")?
                .execute(params![template_id, n])?;
            if taken == 0 {
                let remaining: Option<i64> = tx.query_row("SELECT remaining FROM templates WHERE id = ?1", [&template_id], |r| r.get(0))?;
                let error = out_of_stock(n, remaining, b.done);
                tx.execute(
                    "UPDATE jobs SET status = 'failed', error_code = ?2, error_message = ?3, lease_owner = NULL, lease_until = NULL, updated_at = ?4, finished_at = ?4 WHERE id = ?1",
                    params![b.job_id, error.code.as_str(), error.message, now],
                )?;
                return Ok(Some(job_of(tx, &b.job_id)?));
            }
            let mut insert = tx.prepare_cached("INSERT INTO claim_codes (code, template_id, created_at, job_id) VALUES (?1, ?2, ?3, ?4)")?;
            for _ in 0..n {
                insert.execute(params![crate::ids::new_code(), template_id, now, b.job_id])?;
            }
            // SET expressions read the row as it was, so `done + ?2` is the new count throughout.
            tx.prepare_cached(
                "UPDATE jobs SET done = done + ?2, updated_at = ?3, \
                 status = CASE WHEN done + ?2 = total THEN 'succeeded' ELSE status END, \
                 finished_at = CASE WHEN done + ?2 = total THEN ?3 END, \
                 lease_owner = CASE WHEN done + ?2 = total THEN NULL ELSE lease_owner END, \
                 lease_until = CASE WHEN done + ?2 = total THEN NULL ELSE ?4 END WHERE id = ?1",
            )?
            .execute(params![b.job_id, n, now, micros(b.lease.until)])?;
            Ok(Some(job_of(tx, &b.job_id)?))
        })
        .await
    }

    async fn take_lapsed_job(&self, now: Timestamp, lease: Lease) -> Result<Option<JobRecord>> {
        self.write_conn(move |tx, _| {
            let id: Option<String> = tx
                .prepare_cached("SELECT id FROM jobs WHERE status = 'running' AND lease_until < ?1 ORDER BY id LIMIT 1")?
                .query_row([micros(now)], |r| r.get(0))
                .optional()?;
            let Some(id) = id else { return Ok(None) };
            tx.prepare_cached("UPDATE jobs SET lease_owner = ?2, lease_until = ?3 WHERE id = ?1")?
                .execute(params![id, lease.owner, micros(lease.until)])?;
            Ok(Some(job_of(tx, &id)?))
        })
        .await
    }

    async fn fail_job(
        &self,
        id: &str,
        owner: &str,
        error: JobError,
        now: Timestamp,
    ) -> Result<bool> {
        let (id, owner) = (id.to_string(), owner.to_string());
        self.write_conn(move |tx, _| {
            let failed = tx.execute(
                "UPDATE jobs SET status = 'failed', error_code = ?3, error_message = ?4, lease_owner = NULL, lease_until = NULL, updated_at = ?5, finished_at = ?5 \
                 WHERE id = ?1 AND lease_owner = ?2 AND status = 'running'",
                params![id, owner, error.code.as_str(), error.message, micros(now)],
            )?;
            Ok(failed == 1)
        })
        .await
    }
}
