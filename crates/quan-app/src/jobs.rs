//! Background jobs: their views, and the runner that makes a job's claim codes batch by batch
//! under a lease and resumes orphaned jobs.

use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use quan_core::access::{Principal, Role};
use quan_core::text::Id;
use quan_core::ErrorCode;
use quan_store::{new_id, JobBatch, JobError, JobRecord, JobStatus, Lease, Page, Store};
use serde::Serialize;
use utoipa::ToSchema;

use crate::page::{PageBody, Paging};
use crate::{require, App, Error, Result};

use crate::clock::Clock;

/// Codes made per transaction.
pub const BATCH: i64 = 10_000;
/// How long a runner holds a job without committing a batch, unless configured otherwise.
pub const DEFAULT_LEASE: SignedDuration = SignedDuration::from_secs(30);
/// Failures of one batch in a row (about a minute of retries) before the job is failed.
const ATTEMPTS: u32 = 15;

/// Runs jobs in the background of this process.
///
/// Every batch is one store transaction that checks the lease and the job's `done` count before
/// it writes, so a batch is made once whoever runs the job; a committed batch renews the lease,
/// which is the runner's heartbeat. A process that dies leaves its jobs `running` with a lease
/// that lapses; [`JobRunner::resume_lapsed`] (run by `quan serve`) finds such jobs and goes on
/// from the last committed batch.
pub struct JobRunner {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    lease: SignedDuration,
}

impl JobRunner {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, lease: SignedDuration) -> Self {
        Self {
            store,
            clock,
            lease,
        }
    }

    /// A new lease, for one run of one job, from now.
    pub fn new_lease(&self) -> Lease {
        let now = self.clock.now();
        Lease {
            owner: new_id("lease", now.as_millisecond()),
            until: now + self.lease,
        }
    }

    /// Runs `job`, which `owner` holds, in the background until it ends or is taken over.
    pub fn spawn(self: &Arc<Self>, job: JobRecord, owner: String) {
        tokio::spawn(self.clone().run(job, owner));
    }

    async fn run(self: Arc<Self>, job: JobRecord, owner: String) {
        let mut done = job.done;
        let mut failures = 0;
        loop {
            let now = self.clock.now();
            let batch = JobBatch {
                job_id: job.id.clone(),
                done,
                size: BATCH,
                now,
                lease: Lease {
                    owner: owner.clone(),
                    until: now + self.lease,
                },
            };
            match self.store.run_job_batch(batch).await {
                Ok(Some(j)) if j.status == JobStatus::Running => {
                    done = j.done;
                    failures = 0;
                }
                Ok(Some(j)) => {
                    tracing::info!(job = %j.id, status = j.status.as_str(), done = j.done, "job ended");
                    return;
                }
                // Either another runner holds the job now, or our last batch committed but its
                // answer was lost: then the lease is still ours and `done` moved on.
                Ok(None) => match self.store.job(&job.id).await {
                    Ok(Some(j))
                        if j.status == JobStatus::Running
                            && j.lease_owner.as_deref() == Some(owner.as_str())
                            && j.done != done =>
                    {
                        done = j.done;
                    }
                    _ => {
                        tracing::info!(job = %job.id, "job taken over or ended elsewhere");
                        return;
                    }
                },
                Err(e) => {
                    failures += 1;
                    tracing::warn!(job = %job.id, error = ?e, failures, "job batch failed");
                    if failures >= ATTEMPTS {
                        let error = JobError {
                            code: ErrorCode::Internal,
                            message: format!(
                                "making codes failed {failures} times in a row (the service's log \
                                 says why); the {done} codes made before stay valid"
                            ),
                        };
                        // If this fails too, the lease lapses and a runner takes the job over.
                        if let Err(e) = self
                            .store
                            .fail_job(&job.id, &owner, error, self.clock.now())
                            .await
                        {
                            tracing::warn!(job = %job.id, error = ?e, "could not fail the job");
                        }
                        return;
                    }
                    let backoff = Duration::from_millis(100 << failures.min(6));
                    tokio::time::sleep(backoff.min(Duration::from_secs(5))).await;
                }
            }
        }
    }

    /// Forever: takes over running jobs whose lease lapsed and runs them, checking at once and
    /// then every half lease (at most every 5 s).
    pub async fn resume_lapsed(self: Arc<Self>) {
        let every = Duration::try_from(self.lease / 2)
            .unwrap_or(Duration::from_secs(5))
            .clamp(Duration::from_millis(100), Duration::from_secs(5));
        loop {
            loop {
                let lease = self.new_lease();
                let owner = lease.owner.clone();
                match self.store.take_lapsed_job(self.clock.now(), lease).await {
                    Ok(Some(job)) => {
                        tracing::info!(job = %job.id, done = job.done, total = job.total, "resuming job");
                        self.spawn(job, owner);
                    }
                    Ok(None) => break,
                    Err(e) => {
                        tracing::warn!(error = ?e, "looking for lapsed jobs failed");
                        break;
                    }
                }
            }
            tokio::time::sleep(every).await;
        }
    }
}

/// A background job and its progress.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobView {
    pub job_id: String,
    /// What the job does: `claim_codes`.
    #[schema(example = "claim_codes")]
    pub kind: String,
    pub template_id: String,
    /// `running`, then `succeeded`, or `failed` when a batch was refused (see `error`).
    #[schema(example = "running")]
    pub status: String,
    /// Codes asked for.
    pub total: i64,
    /// Codes made so far, a committed batch at a time. They are valid and took stock at once,
    /// and stay so if the job fails later.
    pub done: i64,
    /// Why the job failed; `null` unless `failed`.
    pub error: Option<JobErrorView>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// When `done` last moved (or the job ended).
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<Timestamp>,
}

/// A failed job's reason: a code of the error table and a sentence.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobErrorView {
    pub code: ErrorCode,
    pub message: String,
}

impl From<JobRecord> for JobView {
    fn from(j: JobRecord) -> Self {
        JobView {
            job_id: j.id,
            kind: j.kind.as_str().to_string(),
            template_id: j.template_id,
            status: j.status.as_str().to_string(),
            total: j.total,
            done: j.done,
            error: j.error.map(|e| JobErrorView {
                code: e.code,
                message: e.message,
            }),
            created_at: j.created_at,
            updated_at: j.updated_at,
            finished_at: j.finished_at,
        }
    }
}

/// Codes per read while streaming all of a job's codes.
pub const CODES_PAGE: u32 = 5_000;

impl App {
    /// A job the caller may see: one of a template of its stores (operators: any).
    pub async fn job(&self, principal: &Principal, id: &Id) -> Result<JobView> {
        Ok(self.visible_job(principal, id).await?.into())
    }

    async fn visible_job(&self, principal: &Principal, id: &Id) -> Result<JobRecord> {
        require(principal, &[Role::Platform, Role::Merchant])?;
        match self.store.job(id).await? {
            Some(j) if principal.owns_store(j.store_id.as_deref()) => Ok(j),
            _ => Err(Error::not_found("job")),
        }
    }

    /// A page of the claim codes a job made so far, in code order (`total`: the job's `done`).
    pub async fn job_codes(
        &self,
        principal: &Principal,
        id: &Id,
        paging: Paging,
    ) -> Result<PageBody<String>> {
        let limit = paging.limit()?;
        self.visible_job(principal, id).await?;
        let page = self.store.job_codes(id, limit, paging.cursor).await?;
        Ok(PageBody::from(page, |c| c))
    }

    /// Checks the caller may read the job's codes, and answers a reader of all of them, a page
    /// of [`CODES_PAGE`] at a time (for streaming).
    pub async fn job_code_reader(&self, principal: &Principal, id: &Id) -> Result<CodeReader> {
        self.visible_job(principal, id).await?;
        Ok(CodeReader {
            store: self.store.clone(),
            id: id.to_string(),
        })
    }
}

/// Reads every code of one job, a page at a time.
#[derive(Clone)]
pub struct CodeReader {
    store: Arc<dyn Store>,
    pub id: String,
}

impl CodeReader {
    /// The page after `cursor` (`None`: the first).
    pub async fn page(&self, cursor: Option<String>) -> Result<Page<String>> {
        Ok(self.store.job_codes(&self.id, CODES_PAGE, cursor).await?)
    }
}
