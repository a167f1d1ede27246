//! The outbox: messages leased when due, one sender at a time, settled as sent or failed
//! (retried later, then dead), dead letters retried by hand, lists paged by status.

use quan_core::campaign::MessageChannel;
use quan_core::outbox::{AfterFailure, MessageStatus};
use quan_core::ErrorCode;
use quan_store::on_both_backends;
use quan_store::testing::Backend;
use quan_store::{DueMessages, MessageFailure, MessageFilter, NewMessage};

use crate::common::*;

on_both_backends!(
    due_messages_are_leased_once_and_settled,
    failed_messages_wait_then_die_and_come_back_by_hand,
    messages_are_listed_by_status_a_page_at_a_time,
    concurrent_takers_lease_disjoint_messages
);

fn message(id: &str, channel: MessageChannel, minute: i64) -> NewMessage {
    NewMessage {
        id: id.into(),
        campaign_id: Some("cmp_1".into()),
        user_id: "u1".into(),
        channel,
        text: "hello".into(),
        link_template_id: None,
        now: at(minute),
    }
}

fn due(minute: i64, limit: u32, channels: &[MessageChannel]) -> DueMessages {
    DueMessages {
        now: at(minute),
        lease_until: at(minute + 1),
        limit,
        channels: channels.to_vec(),
    }
}

fn ids(ms: &[quan_store::MessageRecord]) -> Vec<&str> {
    ms.iter().map(|m| m.id.as_str()).collect()
}

async fn due_messages_are_leased_once_and_settled(backend: Backend) {
    use MessageChannel::*;
    let db = open(backend).await;
    let s = &*db.store;
    let m = s.enqueue_message(message("msg_1", Sms, 0)).await.unwrap();
    assert_eq!((m.status, m.attempts), (MessageStatus::Pending, 0));
    assert_eq!((m.next_attempt_at, m.created_at), (at(0), at(0)));
    assert_eq!(m.campaign_id.as_deref(), Some("cmp_1"));
    s.enqueue_message(message("msg_2", Sms, 1)).await.unwrap();
    s.enqueue_message(message("msg_3", Email, 0)).await.unwrap();
    s.enqueue_message(message("msg_4", Sms, 5)).await.unwrap();

    // Only the channels asked for, only what is due, soonest first.
    assert!(s
        .take_due_messages(due(2, 10, &[]))
        .await
        .unwrap()
        .is_empty());
    let taken = s
        .take_due_messages(due(2, 10, &[Sms, Wechat]))
        .await
        .unwrap();
    assert_eq!(ids(&taken), ["msg_1", "msg_2"]);
    assert_eq!(taken[0].lease_until, at(3));
    // Leased: nobody else takes them until the lease lapses.
    assert!(s
        .take_due_messages(due(2, 10, &[Sms]))
        .await
        .unwrap()
        .is_empty());
    let again = s.take_due_messages(due(4, 1, &[Sms])).await.unwrap();
    assert_eq!(ids(&again), ["msg_1"], "the lease lapsed, one at a time");

    assert!(s.mark_sent("msg_1", at(4)).await.unwrap());
    assert!(!s.mark_sent("msg_1", at(4)).await.unwrap(), "sent once");
    let sent = s.message("msg_1").await.unwrap().unwrap();
    assert_eq!((sent.status, sent.attempts), (MessageStatus::Sent, 1));
    assert_eq!(sent.sent_at, Some(at(4)));
    assert!(s.message("msg_nope").await.unwrap().is_none());

    // msg_2 and msg_4 (sms, one leased, one not yet due) and msg_3: by channel name.
    assert_eq!(
        s.pending_by_channel().await.unwrap(),
        vec![(Email, 1), (Sms, 2)]
    );
}

async fn failed_messages_wait_then_die_and_come_back_by_hand(backend: Backend) {
    use MessageChannel::*;
    let db = open(backend).await;
    let s = &*db.store;
    s.enqueue_message(message("msg_1", AppPush, 0))
        .await
        .unwrap();
    let m = &s.take_due_messages(due(0, 10, &[AppPush])).await.unwrap()[0];
    let failure = |attempts, next, minute| MessageFailure {
        id: "msg_1".into(),
        attempts,
        error: "500 Internal Server Error".into(),
        next,
        now: at(minute),
    };
    let failed = s
        .mark_failed(failure(m.attempts, AfterFailure::RetryAt(at(10)), 0))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (failed.status, failed.attempts),
        (MessageStatus::Pending, 1)
    );
    assert_eq!(failed.next_attempt_at, at(10));
    assert_eq!(
        failed.last_error.as_deref(),
        Some("500 Internal Server Error")
    );
    assert_eq!(
        failed.lease_until,
        jiff::Timestamp::UNIX_EPOCH,
        "the lease is given back"
    );
    // The same failure again (a stale sender) counts nothing.
    assert!(s
        .mark_failed(failure(0, AfterFailure::RetryAt(at(10)), 0))
        .await
        .unwrap()
        .is_none());
    assert!(s
        .take_due_messages(due(9, 10, &[AppPush]))
        .await
        .unwrap()
        .is_empty());
    let m = &s.take_due_messages(due(10, 10, &[AppPush])).await.unwrap()[0];
    assert_eq!(m.attempts, 1);

    // Only a dead letter is retried by hand.
    assert_eq!(
        s.retry_dead("msg_1", at(10)).await.unwrap(),
        Err(ErrorCode::InvalidState)
    );
    assert_eq!(
        s.retry_dead("msg_nope", at(10)).await.unwrap(),
        Err(ErrorCode::NotFound)
    );
    let dead = s
        .mark_failed(failure(1, AfterFailure::Dead, 10))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((dead.status, dead.attempts), (MessageStatus::Dead, 2));
    assert!(s
        .take_due_messages(due(99, 10, &[AppPush]))
        .await
        .unwrap()
        .is_empty());
    assert!(s.pending_by_channel().await.unwrap().is_empty());

    let back = s.retry_dead("msg_1", at(20)).await.unwrap().unwrap();
    assert_eq!((back.status, back.attempts), (MessageStatus::Pending, 0));
    assert_eq!(back.next_attempt_at, at(20));
    assert_eq!(
        back.last_error.as_deref(),
        Some("500 Internal Server Error")
    );
    let m = s.take_due_messages(due(20, 10, &[AppPush])).await.unwrap();
    assert_eq!(ids(&m), ["msg_1"]);
    assert!(s.mark_sent("msg_1", at(20)).await.unwrap());
    assert_eq!(
        s.retry_dead("msg_1", at(21)).await.unwrap(),
        Err(ErrorCode::InvalidState)
    );
}

async fn messages_are_listed_by_status_a_page_at_a_time(backend: Backend) {
    let db = open(backend).await;
    let s = &*db.store;
    for i in 0..5 {
        s.enqueue_message(message(&format!("msg_{i}"), MessageChannel::Wechat, 0))
            .await
            .unwrap();
    }
    s.take_due_messages(due(0, 2, &[MessageChannel::Wechat]))
        .await
        .unwrap();
    s.mark_sent("msg_0", at(0)).await.unwrap();
    s.mark_sent("msg_1", at(0)).await.unwrap();
    let list = |status, limit, cursor: Option<&str>| MessageFilter {
        status,
        limit,
        cursor: cursor.map(str::to_string),
    };
    let first = s
        .list_messages(list(Some(MessageStatus::Pending), 2, None))
        .await
        .unwrap();
    assert_eq!(ids(&first.items), ["msg_2", "msg_3"]);
    assert_eq!((first.total, first.next.as_deref()), (3, Some("msg_3")));
    let second = s
        .list_messages(list(Some(MessageStatus::Pending), 2, first.next.as_deref()))
        .await
        .unwrap();
    assert_eq!(ids(&second.items), ["msg_4"]);
    assert_eq!(second.next, None);
    let sent = s
        .list_messages(list(Some(MessageStatus::Sent), 50, None))
        .await
        .unwrap();
    assert_eq!((ids(&sent.items), sent.total), (vec!["msg_0", "msg_1"], 2));
    let all = s.list_messages(list(None, 50, None)).await.unwrap();
    assert_eq!(all.total, 5);
    let dead = s
        .list_messages(list(Some(MessageStatus::Dead), 50, None))
        .await
        .unwrap();
    assert_eq!((dead.items.len(), dead.total), (0, 0));
}

async fn concurrent_takers_lease_disjoint_messages(backend: Backend) {
    let db = open(backend).await;
    for i in 0..50 {
        db.store
            .enqueue_message(message(&format!("msg_{i:02}"), MessageChannel::Sms, 0))
            .await
            .unwrap();
    }
    let takers = (0..6).map(|_| {
        let store = db.store.clone();
        tokio::spawn(async move {
            store
                .take_due_messages(due(1, 10, &[MessageChannel::Sms]))
                .await
                .unwrap()
        })
    });
    let mut taken = Vec::new();
    for t in joined(takers).await {
        taken.extend(t.into_iter().map(|m| m.id));
    }
    let distinct: std::collections::HashSet<_> = taken.iter().collect();
    assert_eq!(distinct.len(), taken.len(), "a message leased twice");
    assert_eq!(taken.len(), 50, "six takers of ten lease all fifty");
}

async fn joined<T>(handles: impl Iterator<Item = tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::new();
    for h in handles.collect::<Vec<_>>() {
        out.push(h.await.unwrap());
    }
    out
}
