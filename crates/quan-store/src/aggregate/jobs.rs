//! Background jobs (claim-code jobs), leased to the runner that runs them. A batch locks its
//! job row first, so two runners of one job (one whose lease lapsed, one that took it over)
//! take turns, and the second finds `done` moved on.

use async_trait::async_trait;
use jiff::Timestamp;

use super::claims::make_codes;
use super::page_of;
use crate::records::*;
use crate::sql::{Db, Engine, Row};
use crate::traits::Jobs;
use crate::{Result, StoreError};

const JOB_COLS: &str =
    "id, kind, template_id, store_id, status, total, done, error_code, error_message, \
     lease_owner, created_by, created_at, updated_at, finished_at";

fn job_record(r: &Row) -> Result<JobRecord> {
    let corrupt = |what: &str| StoreError::Corrupt(what.into());
    let error = match r.get::<Option<String>>(7)? {
        None => None,
        Some(c) => Some(JobError {
            code: error_code(&c).ok_or_else(|| corrupt("job error code"))?,
            message: r.get::<Option<String>>(8)?.unwrap_or_default(),
        }),
    };
    let kind: String = r.get(1)?;
    let status: String = r.get(4)?;
    Ok(JobRecord {
        id: r.get(0)?,
        kind: JobKind::parse(&kind).ok_or_else(|| corrupt("job kind"))?,
        template_id: r.get(2)?,
        store_id: r.get(3)?,
        status: JobStatus::parse(&status).ok_or_else(|| corrupt("job status"))?,
        total: r.get(5)?,
        done: r.get(6)?,
        error,
        lease_owner: r.get(9)?,
        created_by: r.get(10)?,
        created_at: r.time(11)?,
        updated_at: r.time(12)?,
        finished_at: r.get::<Option<i64>>(13)?.map(from_micros),
    })
}

async fn get_job(db: &mut Db<'_>, id: &str) -> Result<Option<JobRecord>> {
    db.query_opt(
        &format!("SELECT {JOB_COLS} FROM jobs WHERE id = $1"),
        &[&id],
        job_record,
    )
    .await
}

async fn job_of(db: &mut Db<'_>, id: &str) -> Result<JobRecord> {
    get_job(db, id)
        .await?
        .ok_or_else(|| StoreError::Corrupt("job vanished".into()))
}

/// What a batch of `n` codes does to a job that has `done` of `total`: its new count, and
/// whether that finishes it.
fn after_batch(done: i64, n: i64, total: i64) -> (i64, bool) {
    (done + n, done + n == total)
}

async fn fail(db: &mut Db<'_>, id: &str, error: &JobError, now: i64) -> Result<()> {
    db.execute(
        "UPDATE jobs SET status = 'failed', error_code = $2, error_message = $3, lease_owner = NULL, lease_until = NULL, updated_at = $4, finished_at = $4 WHERE id = $1",
        &[&id, &error.code.as_str(), &error.message, &now],
    )
    .await?;
    Ok(())
}

/// Makes a job's next batch: takes it from the stock, writes its codes and moves the job on,
/// or fails the job when the stock cannot cover the batch.
async fn run_batch(db: &mut Db<'_>, b: &JobBatch) -> Result<Option<JobRecord>> {
    let Some((template_id, total)) = db
        .query_opt(
            "SELECT template_id, total FROM jobs WHERE id = $1 AND status = 'running' AND lease_owner = $2 AND done = $3 FOR UPDATE",
            &[&b.job_id, &b.lease.owner, &b.done],
            |r| Ok((r.get::<String>(0)?, r.get::<i64>(1)?)),
        )
        .await?
    else {
        return Ok(None);
    };
    let n = b.size.min(total - b.done);
    let now = micros(b.now);
    let codes: Vec<String> = (0..n).map(|_| crate::ids::new_code()).collect();
    if make_codes(db, &template_id, &codes, Some(&b.job_id), b.now)
        .await?
        .is_err()
    {
        let remaining: Option<i64> = db
            .query_one(
                "SELECT remaining FROM templates WHERE id = $1",
                &[&template_id],
                |r| r.get(0),
            )
            .await?;
        fail(db, &b.job_id, &out_of_stock(n, remaining, b.done), now).await?;
        return Ok(Some(job_of(db, &b.job_id).await?));
    }
    let (done, finished) = after_batch(b.done, n, total);
    let (status, lease_owner, lease_until, finished_at) = if finished {
        (JobStatus::Succeeded.as_str(), None, None, Some(now))
    } else {
        (
            JobStatus::Running.as_str(),
            Some(b.lease.owner.as_str()),
            Some(micros(b.lease.until)),
            None,
        )
    };
    db.execute(
        "UPDATE jobs SET done = $2, status = $3, lease_owner = $4, lease_until = $5, finished_at = $6, updated_at = $7 WHERE id = $1",
        &[&b.job_id, &done, &status, &lease_owner, &lease_until, &finished_at, &now],
    )
    .await?;
    Ok(Some(job_of(db, &b.job_id).await?))
}

#[async_trait]
impl<E: Engine> Jobs for E {
    async fn insert_job(&self, job: NewJob) -> Result<Option<JobRecord>> {
        self.write(job, |db, job| {
            Box::pin(async move {
                db.query_opt(
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
                    job_record,
                )
                .await
            })
        })
        .await
    }

    async fn job(&self, id: &str) -> Result<Option<JobRecord>> {
        let id = id.to_string();
        self.read_point(move |db| Box::pin(async move { get_job(db, &id).await }))
            .await
    }

    async fn job_codes(
        &self,
        id: &str,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<Page<String>> {
        let id = id.to_string();
        self.read(move |db| {
            Box::pin(async move {
                // The codes of a job are written before its `done` moves on, in one
                // transaction, so codes read after `done` are at least that many.
                let Some(done) = db
                    .query_opt("SELECT done FROM jobs WHERE id = $1", &[&id], |r| {
                        r.get::<i64>(0)
                    })
                    .await?
                else {
                    return Ok(Page {
                        items: vec![],
                        total: 0,
                        next: None,
                    });
                };
                // Every code sorts after "", so the first page needs no other statement.
                let items: Vec<String> = db
                    .query(
                        "SELECT code FROM claim_codes WHERE job_id = $1 AND code > $2 ORDER BY code LIMIT $3",
                        &[&id, &cursor.unwrap_or_default(), &(i64::from(limit) + 1)],
                        |r| r.get(0),
                    )
                    .await?;
                Ok(page_of(items, limit, done, Clone::clone))
            })
        })
        .await
    }

    async fn run_job_batch(&self, batch: JobBatch) -> Result<Option<JobRecord>> {
        self.write(batch, |db, b| Box::pin(run_batch(db, b))).await
    }

    async fn take_lapsed_job(&self, now: Timestamp, lease: Lease) -> Result<Option<JobRecord>> {
        self.write((now, lease), |db, (now, lease)| {
            Box::pin(async move {
                db.query_opt(
                    &format!(
                        "UPDATE jobs SET lease_owner = $2, lease_until = $3 WHERE id = \
                         (SELECT id FROM jobs WHERE status = 'running' AND lease_until < $1 ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) \
                         RETURNING {JOB_COLS}"
                    ),
                    &[&micros(*now), &lease.owner, &micros(lease.until)],
                    job_record,
                )
                .await
            })
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
        self.write(
            (id.to_string(), owner.to_string(), error, now),
            |db, (id, owner, error, now)| {
                Box::pin(async move {
                    let failed = db
                        .execute(
                            "UPDATE jobs SET status = 'failed', error_code = $3, error_message = $4, lease_owner = NULL, lease_until = NULL, updated_at = $5, finished_at = $5 \
                             WHERE id = $1 AND lease_owner = $2 AND status = 'running'",
                            &[id, owner, &error.code.as_str(), &error.message, &micros(*now)],
                        )
                        .await?;
                    Ok(failed == 1)
                })
            },
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::after_batch;

    #[test]
    fn the_last_batch_finishes_the_job() {
        assert_eq!(after_batch(0, 100, 250), (100, false));
        assert_eq!(after_batch(200, 50, 250), (250, true));
    }
}
