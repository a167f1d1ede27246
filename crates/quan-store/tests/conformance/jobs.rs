//! Claim-code jobs: batches under a lease, `done` as the only progress, failing when the stock
//! runs out, taking over a job whose runner died.

use quan_core::ErrorCode;
use quan_store::on_both_backends;
use quan_store::testing::Backend;
use quan_store::{JobBatch, JobError, JobKind, JobStatus, Lease, NewJob};
use serde_json::json;

use crate::common::*;

on_both_backends!(
    jobs_make_codes_in_leased_batches,
    lapsed_jobs_are_taken_over
);

fn lease(owner: &str, until: i64) -> Lease {
    Lease {
        owner: owner.into(),
        until: at(until),
    }
}

fn new_job(id: &str, template: &str, total: i64, owner: &str) -> NewJob {
    NewJob {
        id: id.into(),
        kind: JobKind::ClaimCodes,
        template_id: template.into(),
        total,
        created_by: "test".into(),
        now: t0(),
        lease: lease(owner, 1),
    }
}

fn batch(job: &str, done: i64, owner: &str, now: i64) -> JobBatch {
    JobBatch {
        job_id: job.into(),
        done,
        size: 10,
        now: at(now),
        lease: lease(owner, now + 1),
    }
}

async fn jobs_make_codes_in_leased_batches(backend: Backend) {
    let db = open(backend).await;
    let s = &*db.store;
    assert_eq!(
        s.insert_job(new_job("job_0", "nope", 5, "r1"))
            .await
            .unwrap(),
        None
    );
    let t = active(
        s,
        "tpl_j",
        json!({"stock": 25, "scope": {"kind": "store", "store_id": "s1"}}),
    )
    .await;
    let job = s
        .insert_job(new_job("job_1", &t, 25, "r1"))
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(
        (
            job.status,
            job.done,
            job.total,
            job.store_id.as_deref(),
            job.lease_owner.as_deref()
        ),
        (JobStatus::Running, 0, 25, Some("s1"), Some("r1"))
    );
    assert_eq!(s.job("job_1").await.unwrap(), Some(job));
    assert_eq!(s.job("nope").await.unwrap(), None);

    let b1 = s
        .run_job_batch(batch("job_1", 0, "r1", 1))
        .await
        .unwrap()
        .expect("batch 1");
    assert_eq!(
        (b1.status, b1.done, b1.updated_at),
        (JobStatus::Running, 10, at(1))
    );
    // Only the lease's owner at the expected `done` goes on.
    assert_eq!(
        s.run_job_batch(batch("job_1", 10, "r2", 2)).await.unwrap(),
        None
    );
    assert_eq!(
        s.run_job_batch(batch("job_1", 0, "r1", 2)).await.unwrap(),
        None
    );
    let b2 = s
        .run_job_batch(batch("job_1", 10, "r1", 2))
        .await
        .unwrap()
        .unwrap();
    let b3 = s
        .run_job_batch(batch("job_1", 20, "r1", 3))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (b2.done, b3.done),
        (20, 25),
        "the last batch is what is left"
    );
    assert_eq!(
        (b3.status, b3.lease_owner, b3.finished_at),
        (JobStatus::Succeeded, None, Some(at(3)))
    );
    assert_eq!(
        s.run_job_batch(batch("job_1", 25, "r1", 4)).await.unwrap(),
        None
    );
    let tpl = s.template(&t).await.unwrap().unwrap();
    assert_eq!((tpl.remaining, tpl.issued), (Some(0), 25));

    // The codes, in code order, page by page; `total` is `done`.
    let mut codes = Vec::new();
    let mut cursor = None;
    loop {
        let page = s.job_codes("job_1", 10, cursor).await.unwrap();
        assert_eq!(page.total, 25);
        codes.extend(page.items);
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(codes.len(), 25);
    assert!(
        codes.windows(2).all(|w| w[0] < w[1]),
        "in code order, each once"
    );
    let none = s.job_codes("nope", 10, None).await.unwrap();
    assert_eq!((none.items.len(), none.total, none.next), (0, 0, None));

    // A batch the stock cannot cover fails the job; what it made before stays.
    let job = s
        .insert_job(new_job("job_2", &t, 5, "r1"))
        .await
        .unwrap()
        .unwrap();
    let failed = s
        .run_job_batch(batch(&job.id, 0, "r1", 5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (failed.status, failed.done, failed.lease_owner),
        (JobStatus::Failed, 0, None)
    );
    let error = failed.error.expect("an error");
    assert_eq!(error.code, ErrorCode::OutOfStock);
    assert!(
        error.message.contains("remaining stock (0)"),
        "{}",
        error.message
    );
    assert_eq!(s.job_codes("job_2", 10, None).await.unwrap().total, 0);
}

async fn lapsed_jobs_are_taken_over(backend: Backend) {
    let db = open(backend).await;
    let s = &*db.store;
    let t = active(s, "tpl_j", json!({})).await;
    s.insert_job(new_job("job_a", &t, 100, "r1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        s.take_lapsed_job(at(1), lease("r2", 10)).await.unwrap(),
        None,
        "still leased"
    );
    let taken = s
        .take_lapsed_job(at(2), lease("r2", 10))
        .await
        .unwrap()
        .expect("the lease lapsed");
    assert_eq!(
        (taken.id.as_str(), taken.lease_owner.as_deref()),
        ("job_a", Some("r2"))
    );
    assert_eq!(
        s.take_lapsed_job(at(3), lease("r3", 10)).await.unwrap(),
        None
    );
    // The runner that lost its lease stops; the new one goes on from `done`.
    assert_eq!(
        s.run_job_batch(batch("job_a", 0, "r1", 3)).await.unwrap(),
        None
    );
    let error = |m: &str| JobError {
        code: ErrorCode::Internal,
        message: m.into(),
    };
    assert!(!s
        .fail_job("job_a", "r1", error("late"), at(3))
        .await
        .unwrap());
    let b = s
        .run_job_batch(batch("job_a", 0, "r2", 3))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b.done, 10);
    assert!(s
        .fail_job("job_a", "r2", error("store down"), at(4))
        .await
        .unwrap());
    let job = s.job("job_a").await.unwrap().unwrap();
    assert_eq!(
        (job.status, job.done, job.finished_at, job.error),
        (
            JobStatus::Failed,
            10,
            Some(at(4)),
            Some(error("store down"))
        )
    );
    assert!(
        !s.fail_job("job_a", "r2", error("again"), at(5))
            .await
            .unwrap(),
        "it ended"
    );
    assert_eq!(
        s.take_lapsed_job(at(60), lease("r3", 70)).await.unwrap(),
        None
    );
}
