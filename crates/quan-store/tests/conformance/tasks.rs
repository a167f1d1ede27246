//! Store-guide tasks: listed by guide and status, completed once (the same outcome again is the
//! same completion), the granted coupon recorded once, refused grants counted.

use quan_core::task::TaskStatus;
use quan_core::ErrorCode;
use quan_store::on_both_backends;
use quan_store::testing::Backend;
use quan_store::{NewTask, TaskFilter, TaskRecord};

use crate::common::*;

on_both_backends!(
    tasks_are_listed_by_guide_and_status,
    a_task_is_completed_once,
    a_tasks_coupon_is_recorded_once
);

fn task(id: &str, guide: Option<&str>) -> NewTask {
    NewTask {
        id: id.into(),
        campaign_id: "cmp_1".into(),
        user_id: "u1".into(),
        guide_id: guide.map(str::to_string),
        title: "Remind of the gold tier".into(),
        template_id: Some("tpl_1".into()),
        material: Some("Gold members save 5%".into()),
        message: Some("Hi! One more order keeps your gold tier.".into()),
        now: at(0),
    }
}

fn ids(ts: &[TaskRecord]) -> Vec<&str> {
    ts.iter().map(|t| t.id.as_str()).collect()
}

async fn tasks_are_listed_by_guide_and_status(backend: Backend) {
    let db = open(backend).await;
    let s = &*db.store;
    let t = s.insert_task(task("tsk_1", Some("g1"))).await.unwrap();
    assert_eq!((t.status, t.grant_attempts), (TaskStatus::Open, 0));
    assert_eq!((t.outcome, t.coupon_id, t.done_at), (None, None, None));
    assert_eq!(
        t.message.as_deref(),
        Some("Hi! One more order keeps your gold tier.")
    );
    assert_eq!(t.created_at, at(0));
    for (id, guide) in [
        ("tsk_2", Some("g2")),
        ("tsk_3", Some("g1")),
        ("tsk_4", None),
        ("tsk_5", Some("g1")),
    ] {
        s.insert_task(task(id, guide)).await.unwrap();
    }
    s.complete_task("tsk_3", "called", at(1))
        .await
        .unwrap()
        .unwrap();
    let list = |guide: Option<&str>, status, limit, cursor: Option<&str>| TaskFilter {
        guide_id: guide.map(str::to_string),
        status,
        limit,
        cursor: cursor.map(str::to_string),
    };
    let g1 = s.list_tasks(list(Some("g1"), None, 2, None)).await.unwrap();
    assert_eq!((ids(&g1.items), g1.total), (vec!["tsk_1", "tsk_3"], 3));
    let rest = s
        .list_tasks(list(Some("g1"), None, 2, g1.next.as_deref()))
        .await
        .unwrap();
    assert_eq!((ids(&rest.items), rest.next), (vec!["tsk_5"], None));
    let open = s
        .list_tasks(list(Some("g1"), Some(TaskStatus::Open), 50, None))
        .await
        .unwrap();
    assert_eq!((ids(&open.items), open.total), (vec!["tsk_1", "tsk_5"], 2));
    let done = s
        .list_tasks(list(None, Some(TaskStatus::Done), 50, None))
        .await
        .unwrap();
    assert_eq!(ids(&done.items), ["tsk_3"]);
    let all = s.list_tasks(list(None, None, 50, None)).await.unwrap();
    assert_eq!(all.total, 5);
    let nobody = s
        .list_tasks(list(Some("g9"), None, 50, None))
        .await
        .unwrap();
    assert_eq!((nobody.items.len(), nobody.total), (0, 0));
    assert!(s.task("tsk_nope").await.unwrap().is_none());
}

async fn a_task_is_completed_once(backend: Backend) {
    let db = open(backend).await;
    let s = &*db.store;
    s.insert_task(task("tsk_1", Some("g1"))).await.unwrap();
    let done = s
        .complete_task("tsk_1", "called, will come Friday", at(5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.status, TaskStatus::Done);
    assert_eq!(done.outcome.as_deref(), Some("called, will come Friday"));
    assert_eq!(done.done_at, Some(at(5)));
    // The same outcome again is the same completion, answered as it was.
    let again = s
        .complete_task("tsk_1", "called, will come Friday", at(9))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again, done);
    assert_eq!(
        s.complete_task("tsk_1", "no answer", at(9)).await.unwrap(),
        Err(ErrorCode::InvalidState)
    );
    assert_eq!(
        s.complete_task("tsk_nope", "called", at(9)).await.unwrap(),
        Err(ErrorCode::NotFound)
    );
    assert_eq!(s.task("tsk_1").await.unwrap().unwrap(), done);
}

async fn a_tasks_coupon_is_recorded_once(backend: Backend) {
    let db = open(backend).await;
    let s = &*db.store;
    s.insert_task(task("tsk_1", Some("g1"))).await.unwrap();
    // Refused grants are counted, each once for the count it was made with.
    assert!(s.count_refused_grant("tsk_1", 0).await.unwrap());
    assert!(!s.count_refused_grant("tsk_1", 0).await.unwrap());
    assert!(s.count_refused_grant("tsk_1", 1).await.unwrap());
    assert_eq!(s.task("tsk_1").await.unwrap().unwrap().grant_attempts, 2);
    let t = s
        .record_task_coupon("tsk_1", "cpn_a")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(t.coupon_id.as_deref(), Some("cpn_a"));
    let t = s
        .record_task_coupon("tsk_1", "cpn_b")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        t.coupon_id.as_deref(),
        Some("cpn_a"),
        "the first coupon stays"
    );
    assert!(
        !s.count_refused_grant("tsk_1", 2).await.unwrap(),
        "granted already"
    );
    assert!(s
        .record_task_coupon("tsk_nope", "cpn_a")
        .await
        .unwrap()
        .is_none());
}
