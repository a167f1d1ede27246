//! Background jobs (claim-code jobs) on PostgreSQL.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use jiff::Timestamp;

use super::rows::*;
use super::PgStore;
use crate::model::*;
use crate::traits::*;
use crate::{Result, StoreError};

pub(super) async fn get_job(c: &impl GenericClient, id: &str) -> Result<Option<JobRecord>> {
    c.query_opt(
        &format!("SELECT {JOB_COLS} FROM jobs WHERE id = $1"),
        &[&id],
    )
    .await?
    .as_ref()
    .map(job_record)
    .transpose()
}

async fn job_of(c: &impl GenericClient, id: &str) -> Result<JobRecord> {
    get_job(c, id)
        .await?
        .ok_or_else(|| StoreError::Corrupt("job vanished".into()))
}

/// Background jobs. A batch locks its job row first, so two runners of one job (one whose
/// lease lapsed, one that took it over) take turns, and the second finds `done` moved on.
#[async_trait]
impl Jobs for PgStore {
    async fn insert_job(&self, job: NewJob) -> Result<Option<JobRecord>> {
        let c = self.pool.get().await?;
        let row = c
            .query_opt(
                &format!(
                    "INSERT INTO jobs (id, kind, template_id, store_id, status, total, done, lease_owner, lease_until, created_by, created_at, updated_at) \
                     SELECT $1, $2, id, store_id, 'running', $3, 0, $4, $5, $6, $7, $7 FROM templates WHERE id = $8 RETURNING {JOB_COLS}"
                ),
                &[
                    &job.id,
                    &job.kind.as_str(),
                    &job.total,
                    &job.lease.owner,
                    &micros(job.lease.until),
                    &job.created_by,
                    &micros(job.now),
                    &job.template_id,
                ],
            )
            .await?;
        row.as_ref().map(job_record).transpose()
    }

    async fn job(&self, id: &str) -> Result<Option<JobRecord>> {
        let c = self.pool.get().await?;
        get_job(&c, id).await
    }

    async fn job_codes(
        &self,
        id: &str,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<Page<String>> {
        let mut c = self.pool.get().await?;
        // One snapshot for the page and its total.
        let tx = c
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        let Some(done) = tx
            .query_opt("SELECT done FROM jobs WHERE id = $1", &[&id])
            .await?
        else {
            return Ok(Page {
                items: vec![],
                total: 0,
                next: None,
            });
        };
        // Every code sorts after "", so the first page needs no other statement.
        let items: Vec<String> = tx
            .query(
                "SELECT code FROM claim_codes WHERE job_id = $1 AND code > $2 ORDER BY code LIMIT $3",
                &[&id, &cursor.unwrap_or_default(), &(i64::from(limit) + 1)],
            )
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        tx.commit().await?;
        Ok(page_of(items, limit, done.get(0), Clone::clone))
    }

    async fn run_job_batch(&self, b: JobBatch) -> Result<Option<JobRecord>> {
        let mut c = self.pool.get().await?;
        let tx = c.transaction().await?;
        // Read committed re-checks the conditions after waiting for the row lock, so a runner
        // that waited behind another's batch finds `done` moved on and stops.
        let Some(held) = tx
            .query_opt(
                "SELECT template_id, total FROM jobs WHERE id = $1 AND status = 'running' AND lease_owner = $2 AND done = $3 FOR UPDATE",
                &[&b.job_id, &b.lease.owner, &b.done],
            )
            .await?
        else {
            return Ok(None);
        };
        let (template_id, total): (String, i64) = (held.get(0), held.get(1));
        let n = b.size.min(total - b.done);
        let now = micros(b.now);
        let taken = tx
            .execute(
                "UPDATE templates SET remaining = remaining - $2, issued = issued + $2 WHERE id = $1 AND (remaining IS NULL OR remaining >= $2)",
                &[&template_id, &n],
            )
            .await?;
        if taken == 0 {
            let remaining: Option<i64> = tx
                .query_one(
                    "SELECT remaining FROM templates WHERE id = $1",
                    &[&template_id],
                )
                .await?
                .get(0);
            let error = out_of_stock(n, remaining, b.done);
            tx.execute(
                "UPDATE jobs SET status = 'failed', error_code = $2, error_message = $3, lease_owner = NULL, lease_until = NULL, updated_at = $4, finished_at = $4 WHERE id = $1",
                &[&b.job_id, &error.code.as_str(), &error.message, &now],
            )
            .await?;
            let job = job_of(&tx, &b.job_id).await?;
            tx.commit().await?;
            return Ok(Some(job));
        }
        let codes: Vec<String> = (0..n).map(|_| crate::ids::new_code()).collect();
        tx.execute(
            "INSERT INTO claim_codes (code, template_id, created_at, job_id) SELECT code, $2, $3, $4 FROM unnest($1::text[]) AS code",
            &[&codes, &template_id, &now, &b.job_id],
        )
        .await?;
        // SET expressions read the row as it was, so `done + $2` is the new count throughout.
        tx.execute(
            "UPDATE jobs SET done = done + $2, updated_at = $3, \
             status = CASE WHEN done + $2 = total THEN 'succeeded' ELSE status END, \
             finished_at = CASE WHEN done + $2 = total THEN $3::bigint END, \
             lease_owner = CASE WHEN done + $2 = total THEN NULL ELSE lease_owner END, \
             lease_until = CASE WHEN done + $2 = total THEN NULL ELSE $4::bigint END WHERE id = $1",
            &[&b.job_id, &n, &now, &micros(b.lease.until)],
        )
        .await?;
        let job = job_of(&tx, &b.job_id).await?;
        tx.commit().await?;
        Ok(Some(job))
    }

    async fn take_lapsed_job(&self, now: Timestamp, lease: Lease) -> Result<Option<JobRecord>> {
        let c = self.pool.get().await?;
        let row = c
            .query_opt(
                &format!(
                    "UPDATE jobs SET lease_owner = $2, lease_until = $3 WHERE id = \
                     (SELECT id FROM jobs WHERE status = 'running' AND lease_until < $1 ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) \
                     RETURNING {JOB_COLS}"
                ),
                &[&micros(now), &lease.owner, &micros(lease.until)],
            )
            .await?;
        row.as_ref().map(job_record).transpose()
    }

    async fn fail_job(
        &self,
        id: &str,
        owner: &str,
        error: JobError,
        now: Timestamp,
    ) -> Result<bool> {
        let c = self.pool.get().await?;
        let failed = c
            .execute(
                "UPDATE jobs SET status = 'failed', error_code = $3, error_message = $4, lease_owner = NULL, lease_until = NULL, updated_at = $5, finished_at = $5 \
                 WHERE id = $1 AND lease_owner = $2 AND status = 'running'",
                &[&id, &owner, &error.code.as_str(), &error.message, &micros(now)],
            )
            .await?;
        Ok(failed == 1)
    }
}
