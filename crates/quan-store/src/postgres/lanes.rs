//! PostgreSQL claim lanes: per template, the claims waiting while a batch is in flight go
//! together as the next batch (one transaction, retried whole on a deadlock or race).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use deadpool_postgres::Pool;
use tokio::sync::oneshot;

use super::{retryable, ATTEMPTS};
use crate::aggregate::claims::claim_in;
use crate::records::*;
use crate::sql::Ctx;
use crate::sql::Db;
use crate::{Result, StoreError};

const MAX_BATCH: usize = 1000;

pub(super) type ClaimJob = (ClaimCommand, oneshot::Sender<Result<ClaimOutcome>>);

/// One claim lane per template: while a batch of a template is in flight, its next claims
/// queue here and go together in the next batch (they would wait on the row lock anyway).
#[derive(Default)]
struct Lanes(Mutex<HashMap<String, Vec<ClaimJob>>>);

/// What a lane's runner needs.
#[derive(Clone)]
pub(super) struct Claimer {
    pool: Pool,
    ctx: Arc<Ctx>,
    lanes: Arc<Lanes>,
}

impl Claimer {
    pub(super) fn new(pool: Pool, ctx: Arc<Ctx>) -> Self {
        Claimer {
            pool,
            ctx,
            lanes: Arc::default(),
        }
    }

    pub(super) fn submit(&self, job: ClaimJob) {
        let mut lanes = self.lanes.0.lock().expect("lanes lock");
        match lanes.get_mut(&job.0.template_id) {
            Some(queue) => queue.push(job),
            None => {
                let template_id = job.0.template_id.clone();
                lanes.insert(template_id.clone(), vec![job]);
                tokio::spawn(self.clone().run_lane(template_id));
            }
        }
    }

    /// Runs batches for one template until its queue is empty, then retires the lane.
    async fn run_lane(self, template_id: String) {
        loop {
            let batch = {
                let mut lanes = self.lanes.0.lock().expect("lanes lock");
                let queue = lanes
                    .get_mut(&template_id)
                    .expect("lane exists while it runs");
                if queue.is_empty() {
                    lanes.remove(&template_id);
                    return;
                }
                let n = queue.len().min(MAX_BATCH);
                queue.drain(..n).collect::<Vec<_>>()
            };
            run_batch(&self.pool, &self.ctx, batch).await;
        }
    }
}

async fn run_batch(pool: &Pool, ctx: &Ctx, jobs: Vec<ClaimJob>) {
    let (cmds, replies): (Vec<ClaimCommand>, Vec<_>) = jobs.into_iter().unzip();
    metrics::histogram!("quan_store_claim_group_size", "backend" => "postgres")
        .record(cmds.len() as f64);
    let started = std::time::Instant::now();
    let mut attempt = 0;
    let result = loop {
        attempt += 1;
        match claim_batch(pool, ctx, &cmds).await {
            Err(e) if attempt < ATTEMPTS && retryable(&e) => {
                tracing::debug!(error = %e, attempt, "retrying claim batch");
                continue;
            }
            other => break other,
        }
    };
    // A batch is one transaction; its time is mostly the commit's fsync on the server.
    metrics::histogram!("quan_store_claim_batch_seconds", "backend" => "postgres")
        .record(started.elapsed().as_secs_f64());
    match result {
        Ok(outcomes) => {
            for (reply, outcome) in replies.into_iter().zip(outcomes) {
                let _ = reply.send(Ok(outcome));
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "claim batch failed");
            let message = e.to_string();
            for reply in replies {
                let _ = reply.send(Err(StoreError::Corrupt(format!(
                    "claim batch failed: {message}"
                ))));
            }
        }
    }
}

/// One template's batch of claims in one transaction.
async fn claim_batch(pool: &Pool, ctx: &Ctx, cmds: &[ClaimCommand]) -> Result<Vec<ClaimOutcome>> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let outcomes = claim_in(&mut Db::PgTx(&tx), ctx, cmds).await?;
    tx.commit().await?;
    Ok(outcomes)
}
