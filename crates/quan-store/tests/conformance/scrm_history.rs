//! Members' order history: ingested orders (idempotent, one customer each), paid checkout
//! orders joining it, aggregates kept current under concurrent writers.

use jiff::SignedDuration;
use quan_core::checkout::refund::PaidLine;
use quan_core::scrm::{History, Purchase};
use quan_store::on_both_backends;
use quan_store::scrm::{Aggregates, HistoryOrder, OrderFilter, ProductRecord, Written};
use quan_store::testing::Backend;
use quan_store::{NewOrder, OrderStatus};

use crate::common::*;

on_both_backends!(
    orders_are_idempotent_and_keep_aggregates,
    paid_checkout_orders_join_the_history,
    concurrent_writers_of_one_member,
    an_ingested_order_belongs_to_one_member,
);

async fn orders_are_idempotent_and_keep_aggregates(backend: Backend) {
    let db = open(backend).await;
    let s = &*db.store;
    let now = t0();
    use Written::*;

    let put = s
        .put_products(vec![product("tea", "tea"), product("cup", "ware")])
        .await
        .unwrap();
    assert_eq!(put, [Inserted, Inserted]);
    let later = ProductRecord {
        updated_at: days_ago(-1),
        ..product("tea", "tea")
    };
    assert_eq!(
        s.put_products(vec![later]).await.unwrap(),
        [Unchanged],
        "updated_at alone changes nothing"
    );
    let branded = ProductRecord {
        brand: Some("leaf".into()),
        ..product("tea", "tea")
    };
    assert_eq!(
        s.put_products(vec![branded.clone()]).await.unwrap(),
        [Updated]
    );
    assert_eq!(s.product("tea").await.unwrap(), Some(branded));
    let page = s.list_products(1, None).await.unwrap();
    assert_eq!(
        (page.items.len(), page.total, page.next.as_deref()),
        (1, 2, Some("cup"))
    );

    // The first order gives the customer a row for its history; buying is not joining.
    let o2 = order("o2", "ana", "completed", days_ago(10), &[("tea", 300)]);
    assert_eq!(
        s.put_orders(vec![o2.clone()], now, Aggregates::Current)
            .await
            .unwrap(),
        [Inserted]
    );
    let ana = s.member("ana").await.unwrap().expect("ana has a row");
    assert_eq!((ana.is_member(), ana.profile.joined_at), (false, None));
    assert_eq!(
        ana.history,
        History {
            orders: 1,
            spent: 300,
            first: Some(days_ago(10)),
            last: Some(days_ago(10)),
            prev: None
        }
    );

    // An older order arriving later.
    let o1 = order("o1", "ana", "paid", days_ago(20), &[("cup", 200)]);
    assert_eq!(
        s.put_orders(vec![o1], now, Aggregates::Current)
            .await
            .unwrap(),
        [Inserted]
    );
    let h = History {
        orders: 2,
        spent: 500,
        first: Some(days_ago(20)),
        last: Some(days_ago(10)),
        prev: Some(days_ago(20)),
    };
    assert_eq!(history(s, "ana").await, h);

    // A refunded order is kept but does not count.
    let o3 = order("o3", "ana", "refunded", days_ago(5), &[("tea", 1000)]);
    assert_eq!(
        s.put_orders(vec![o3.clone()], now, Aggregates::Current)
            .await
            .unwrap(),
        [Inserted]
    );
    assert_eq!(history(s, "ana").await, h);

    // The same content again changes nothing; changed content replaces the order.
    assert_eq!(
        s.put_orders(vec![o2.clone()], now, Aggregates::Current)
            .await
            .unwrap(),
        [Unchanged]
    );
    let mut o2b = o2.clone();
    o2b.lines[0].amount = 400;
    assert_eq!(
        s.put_orders(vec![o2b.clone()], now, Aggregates::Current)
            .await
            .unwrap(),
        [Updated]
    );
    assert_eq!(history(s, "ana").await, History { spent: 600, ..h });
    let o3b = HistoryOrder {
        status: quan_store::scrm::HistoryStatus::Completed,
        ..o3
    };
    assert_eq!(
        s.put_orders(vec![o3b], now, Aggregates::Current)
            .await
            .unwrap(),
        [Updated]
    );
    assert_eq!(
        history(s, "ana").await,
        History {
            orders: 3,
            spent: 1600,
            first: Some(days_ago(20)),
            last: Some(days_ago(5)),
            prev: Some(days_ago(10))
        }
    );

    // Lines without a category take their product's.
    let (summary, lines) = s.history_order("o2").await.unwrap().expect("o2");
    assert_eq!(
        (
            summary.amount,
            summary.line_count,
            summary.store_id.as_deref(),
            summary.source.as_str()
        ),
        (400, 1, Some("s1"), "ingest")
    );
    assert_eq!(
        (summary.status.as_str(), summary.paid_at),
        ("completed", days_ago(10))
    );
    assert_eq!(lines[0].category.as_deref(), Some("tea"));
    assert!(s.history_order("nope").await.unwrap().is_none());

    let o4 = order("o4", "bob", "shipped", days_ago(3), &[("tea", 700)]);
    let batch = s
        .put_orders(vec![o2b, o4], now, Aggregates::Current)
        .await
        .unwrap();
    assert_eq!(batch, [Unchanged, Inserted]);
    assert_eq!(s.order_totals().await.unwrap(), (4, 200 + 400 + 1000 + 700));

    // Paging: limit + 1 fetched, the cursor is the last id.
    let all = |cursor: Option<&str>| OrderFilter {
        user_id: None,
        limit: 2,
        cursor: cursor.map(String::from),
    };
    let p1 = s.list_orders(all(None)).await.unwrap();
    let got: Vec<&str> = p1.items.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(
        (got, p1.total, p1.next.as_deref()),
        (vec!["o1", "o2"], 4, Some("o2"))
    );
    let p2 = s.list_orders(all(p1.next.as_deref())).await.unwrap();
    let got: Vec<&str> = p2.items.iter().map(|o| o.id.as_str()).collect();
    assert_eq!((got, p2.next), (vec!["o3", "o4"], None));
    let anas = s
        .list_orders(OrderFilter {
            user_id: Some("ana".into()),
            limit: 10,
            cursor: None,
        })
        .await
        .unwrap();
    assert_eq!((anas.items.len(), anas.total), (3, 3));
    let recent: Vec<String> = s
        .recent_orders("ana", 2)
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.id)
        .collect();
    assert_eq!(recent, ["o3", "o2"]);

    // Deferred aggregates wait for a refresh.
    let o5 = order(
        "o5",
        "cat",
        "paid",
        days_ago(2),
        &[("cup", 50), ("tea", 60)],
    );
    assert_eq!(
        s.put_orders(vec![o5], now, Aggregates::Deferred)
            .await
            .unwrap(),
        [Inserted]
    );
    assert_eq!(history(s, "cat").await, History::default());
    assert_eq!(
        s.refresh_members(Some(vec!["cat".into()]), now)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        (
            history(s, "cat").await.orders,
            history(s, "cat").await.spent
        ),
        (1, 110)
    );
    assert_eq!(s.refresh_members(None, now).await.unwrap(), 3);
    assert_eq!(history(s, "bob").await.orders, 1);
}

async fn paid_checkout_orders_join_the_history(backend: Backend) {
    let db = open(backend).await;
    let s = &*db.store;
    let now = t0();
    s.put_products(vec![product("tea", "tea")]).await.unwrap();
    let line = |id: &str, sku: &str, category: Option<&str>, paid| PaidLine {
        line_id: id.into(),
        sku: sku.into(),
        category: category.map(String::from),
        store_id: "s1".into(),
        qty: 2,
        paid,
        refunded_qty: 0,
        refunded: 0,
    };
    let new = NewOrder {
        id: "ck-1".into(),
        user_id: "buyer".into(),
        request_hash: "h".into(),
        quote: "{}".into(),
        lines: vec![
            line("1", "tea", None, 800),
            line("2", "pot", Some("ware"), 1200),
        ],
        coupon_ids: vec![],
        payable: 2000,
        lock_until: now.checked_add(SignedDuration::from_mins(15)).unwrap(),
        now: days_ago(1),
        actor: "test".into(),
    };
    s.lock_order(new).await.unwrap().expect("locked");
    let paid = s
        .pay_order("ck-1", now, "test")
        .await
        .unwrap()
        .expect("paid");
    assert_eq!(paid.status, OrderStatus::Paid);
    let m = s
        .member("buyer")
        .await
        .unwrap()
        .expect("the buyer has a row for its history");
    assert_eq!(m.profile.joined_at, None, "paying is not joining");
    assert_eq!(
        m.history,
        History {
            orders: 1,
            spent: 2000,
            first: Some(now),
            last: Some(now),
            prev: None
        }
    );
    let (summary, lines) = s
        .history_order("ck-1")
        .await
        .unwrap()
        .expect("in the history");
    assert_eq!(
        (
            summary.source.as_str(),
            summary.status.as_str(),
            summary.amount
        ),
        ("checkout", "paid", 2000)
    );
    let categories: Vec<Option<&str>> = lines.iter().map(|l| l.category.as_deref()).collect();
    assert_eq!(categories, [Some("tea"), Some("ware")]);

    // Paying again changes nothing; an ingested order may not take a checkout order's id.
    s.pay_order("ck-1", now, "test")
        .await
        .unwrap()
        .expect("still paid");
    assert_eq!(history(s, "buyer").await.orders, 1);
    let clash = order("ck-1", "buyer", "completed", days_ago(1), &[("tea", 5)]);
    assert_eq!(
        s.put_orders(vec![clash], now, Aggregates::Current)
            .await
            .unwrap(),
        [Written::Conflict]
    );
    assert_eq!(history(s, "buyer").await.spent, 2000);
    assert!(s
        .purchase_members(
            &Purchase::Bought {
                category: "ware".into(),
                within_days: 1
            },
            now
        )
        .await
        .unwrap()
        .contains("buyer"));
}

async fn concurrent_writers_of_one_member(backend: Backend) {
    let db = open(backend).await;
    let write_at_once = |orders: Vec<HistoryOrder>| {
        let tasks: Vec<_> = orders
            .into_iter()
            .map(|o| {
                let s = db.store.clone();
                tokio::spawn(async move {
                    s.put_orders(vec![o], t0(), Aggregates::Current)
                        .await
                        .unwrap()[0]
                })
            })
            .collect();
        async move {
            let mut out = Vec::new();
            for t in tasks {
                out.push(t.await.expect("writer task"));
            }
            out
        }
    };
    // Eight writers of one member's orders at once: none misses another's order.
    let own = (1..=8).map(|i| {
        order(
            &format!("own-{i}"),
            "hot",
            "paid",
            days_ago(i),
            &[("tea", 100 * i)],
        )
    });
    assert_eq!(write_at_once(own.collect()).await, [Written::Inserted; 8]);
    let h = History {
        orders: 8,
        spent: 3600,
        first: Some(days_ago(8)),
        last: Some(days_ago(1)),
        prev: Some(days_ago(2)),
    };
    assert_eq!(history(&*db.store, "hot").await, h);
    // Eight writers of the same new order: one inserts it, the others find it unchanged.
    let same = (1..=8).map(|_| order("shared", "hot", "paid", days_ago(20), &[("tea", 1)]));
    let mut written = write_at_once(same.collect()).await;
    written.sort_by_key(|w| *w != Written::Inserted);
    assert_eq!(
        written,
        [[Written::Inserted].as_slice(), &[Written::Unchanged; 7]].concat()
    );
    let h = History {
        orders: 9,
        spent: 3601,
        first: Some(days_ago(20)),
        ..h
    };
    assert_eq!(history(&*db.store, "hot").await, h);
}

async fn an_ingested_order_belongs_to_one_member(backend: Backend) {
    let db = open(backend).await;
    let s = &*db.store;
    let now = t0();
    use Written::*;
    let mine = order("o1", "ana", "paid", days_ago(3), &[("tea", 300)]);
    assert_eq!(
        s.put_orders(vec![mine.clone()], now, Aggregates::Current)
            .await
            .unwrap(),
        [Inserted]
    );
    // The same order id for another member is refused, alone or in a batch, and moves nothing.
    let theirs = HistoryOrder {
        user_id: "bob".into(),
        ..mine.clone()
    };
    let other = order("o2", "bob", "paid", days_ago(2), &[("tea", 100)]);
    assert_eq!(
        s.put_orders(vec![theirs.clone()], now, Aggregates::Current)
            .await
            .unwrap(),
        [Conflict]
    );
    assert_eq!(
        s.put_orders(vec![theirs, other], now, Aggregates::Current)
            .await
            .unwrap(),
        [Conflict, Inserted]
    );
    let (summary, _) = s.history_order("o1").await.unwrap().expect("o1");
    assert_eq!((summary.user_id.as_str(), summary.amount), ("ana", 300));
    assert_eq!(history(s, "ana").await.spent, 300);
    assert_eq!(
        history(s, "bob").await.spent,
        100,
        "bob has only his own order"
    );
    // Its own member may still change it.
    let changed = HistoryOrder {
        status: quan_store::scrm::HistoryStatus::Refunded,
        ..mine
    };
    assert_eq!(
        s.put_orders(vec![changed], now, Aggregates::Current)
            .await
            .unwrap(),
        [Updated]
    );
    assert_eq!(history(s, "ana").await.orders, 0);
}
