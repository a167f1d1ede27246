//! The SCRM storage, one suite run on both backends: SQLite always, PostgreSQL when
//! `QUAN_TEST_DATABASE_URL` names a server where the user may create databases
//! (scripts/with-postgres.sh starts one); without it the PostgreSQL cases are skipped.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use quan_core::checkout::refund::PaidLine;
use quan_core::scrm::{History, Purchase, RfmScore, RfmTier, Rule};
use quan_core::template::{StatusAction, Template};
use quan_core::zone::TenantZone;
use quan_core::ErrorCode;
use quan_store::prelude::*;
use quan_store::scrm::{
    self, Aggregates, EventRecord, HistoryLine, HistoryOrder, MemberProfile, OrderFilter,
    ProductRecord, SegmentDefinition, SegmentRecord, StoreRecord, Written,
};
use quan_store::{ClaimOutcome, NewOrder, NewTemplate, OrderStatus};
use serde_json::json;

mod common;
use common::{claim, t0};

#[derive(Debug, Clone, Copy)]
enum Backend {
    Sqlite,
    Postgres,
}

/// Declares a test once and runs it on both backends.
macro_rules! both {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(super::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(super::Backend::Postgres).await
            }
        }
    };
}

/// A store on a fresh database; the guard keeps a SQLite directory alive.
struct Db {
    store: Arc<dyn Store>,
    _dir: Option<tempfile::TempDir>,
}

impl Db {
    /// `None` (the test is skipped) for PostgreSQL without `QUAN_TEST_DATABASE_URL`.
    async fn open(backend: Backend) -> Option<Db> {
        let (url, dir) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                (
                    format!("sqlite://{}/quan.db", dir.path().display()),
                    Some(dir),
                )
            }
            Backend::Postgres => {
                let Ok(admin) = std::env::var("QUAN_TEST_DATABASE_URL") else {
                    eprintln!("QUAN_TEST_DATABASE_URL is not set: PostgreSQL case skipped");
                    return None;
                };
                let (client, conn) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
                    .await
                    .expect("connect to the test server");
                tokio::spawn(conn);
                let name = format!("scrm_{:016x}", rand::random::<u64>());
                client
                    .batch_execute(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create database");
                let base = admin
                    .rsplit_once('/')
                    .map(|(b, _)| b)
                    .expect("URL has a database");
                (format!("{base}/{name}"), None)
            }
        };
        let store = quan_store::open(&url, TenantZone::utc())
            .await
            .expect("open store");
        Some(Db { store, _dir: dir })
    }
}

/// `n` days before [`t0`].
fn days_ago(n: i64) -> Timestamp {
    t0().checked_sub(SignedDuration::from_hours(24 * n))
        .unwrap()
}

fn order(
    id: &str,
    user: &str,
    status: &str,
    paid_at: Timestamp,
    lines: &[(&str, i64)],
) -> HistoryOrder {
    HistoryOrder {
        id: id.into(),
        user_id: user.into(),
        status: status.into(),
        channel: Some("store".into()),
        paid_at,
        lines: lines
            .iter()
            .enumerate()
            .map(|(i, (sku, amount))| HistoryLine {
                line_id: (i + 1).to_string(),
                sku: sku.to_string(),
                store_id: Some("s1".into()),
                category: None,
                qty: 1,
                amount: *amount,
            })
            .collect(),
        source: "ingest".into(),
    }
}

fn product(id: &str, category: &str) -> ProductRecord {
    ProductRecord {
        id: id.into(),
        name: Some(format!("product {id}")),
        store_id: None,
        department: Some("food".into()),
        category: Some(category.into()),
        brand: None,
        attributes: json!({}),
        updated_at: t0(),
    }
}

fn profile(id: &str, joined_at: Timestamp, tags: &[&str]) -> MemberProfile {
    MemberProfile {
        id: id.into(),
        joined_at,
        tier: None,
        region: None,
        channel: None,
        guide_id: None,
        points: 0,
        tags: tags.iter().map(|t| t.to_string()).collect(),
        attributes: json!({}),
    }
}

async fn history(s: &dyn Store, id: &str) -> History {
    s.member(id)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("member {id}"))
        .history
}

fn ids(v: &[&str]) -> HashSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn rule(v: serde_json::Value) -> Rule {
    serde_json::from_value(v).expect("a rule")
}

both!(orders_are_idempotent_and_keep_aggregates);
async fn orders_are_idempotent_and_keep_aggregates(backend: Backend) {
    let Some(db) = Db::open(backend).await else {
        return;
    };
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

    // The first order creates the member, joined when it was paid.
    let o2 = order("o2", "ana", "completed", days_ago(10), &[("tea", 300)]);
    assert_eq!(
        s.put_orders(vec![o2.clone()], now, Aggregates::Current)
            .await
            .unwrap(),
        [Inserted]
    );
    let ana = s.member("ana").await.unwrap().expect("ana created");
    assert_eq!(ana.profile.joined_at, days_ago(10));
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
        status: "completed".into(),
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

both!(members_and_stores_are_idempotent);
async fn members_and_stores_are_idempotent(backend: Backend) {
    let Some(db) = Db::open(backend).await else {
        return;
    };
    let s = &*db.store;
    use Written::*;

    let p = MemberProfile {
        id: "m1".into(),
        joined_at: days_ago(100),
        tier: Some("gold".into()),
        region: Some("east".into()),
        channel: Some("wechat".into()),
        guide_id: Some("g1".into()),
        points: 10,
        tags: vec!["vip".into(), "tea".into()],
        attributes: json!({"age": 30, "nested": {"a": [1, 2.5, null]}}),
    };
    assert_eq!(
        s.put_members(vec![p.clone()], days_ago(3)).await.unwrap(),
        [Inserted]
    );
    assert_eq!(
        s.put_members(vec![p.clone()], days_ago(2)).await.unwrap(),
        [Unchanged]
    );
    let m = s.member("m1").await.unwrap().expect("m1");
    assert_eq!(
        (&m.profile, m.updated_at),
        (&p, days_ago(3)),
        "an unchanged write leaves updated_at"
    );
    let p2 = MemberProfile {
        points: 20,
        ..p.clone()
    };
    let put = s
        .put_members(
            vec![
                p2.clone(),
                profile("m3", days_ago(1), &[]),
                profile("m2", days_ago(1), &[]),
            ],
            days_ago(1),
        )
        .await
        .unwrap();
    assert_eq!(put, [Updated, Inserted, Inserted]);
    let m = s.member("m1").await.unwrap().expect("m1");
    assert_eq!((&m.profile, m.updated_at), (&p2, days_ago(1)));
    assert_eq!(
        (m.history, m.rfm, m.rfm_at),
        (History::default(), RfmScore::NONE, None)
    );
    assert!(s.member("m9").await.unwrap().is_none());
    let page = s.list_members(2, None).await.unwrap();
    let got: Vec<&str> = page.items.iter().map(|m| m.profile.id.as_str()).collect();
    assert_eq!(
        (got, page.total, page.next.as_deref()),
        (vec!["m1", "m2"], 3, Some("m2"))
    );
    let page = s.list_members(2, page.next).await.unwrap();
    assert_eq!((page.items.len(), page.next), (1, None));
    let all: Vec<String> = s
        .all_members()
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.profile.id)
        .collect();
    assert_eq!(all, ["m1", "m2", "m3"]);

    let store = StoreRecord {
        id: "s1".into(),
        name: Some("Main St".into()),
        region: Some("east".into()),
        attributes: json!({"open": "9-21"}),
        updated_at: days_ago(2),
    };
    assert_eq!(s.put_stores(vec![store.clone()]).await.unwrap(), [Inserted]);
    let again = StoreRecord {
        updated_at: days_ago(1),
        ..store.clone()
    };
    assert_eq!(s.put_stores(vec![again]).await.unwrap(), [Unchanged]);
    let moved = StoreRecord {
        region: Some("west".into()),
        updated_at: days_ago(1),
        ..store.clone()
    };
    assert_eq!(s.put_stores(vec![moved.clone()]).await.unwrap(), [Updated]);
    assert_eq!(s.store_record("s1").await.unwrap(), Some(moved));
    let page = s.list_stores(10, None).await.unwrap();
    assert_eq!((page.items.len(), page.total, page.next), (1, 1, None));

    assert_eq!(s.setting("x").await.unwrap(), None);
    s.put_setting("x", "1".into()).await.unwrap();
    s.put_setting("x", "2".into()).await.unwrap();
    assert_eq!(s.setting("x").await.unwrap().as_deref(), Some("2"));
}

both!(rfm_full_and_incremental);
async fn rfm_full_and_incremental(backend: Backend) {
    let Some(db) = Db::open(backend).await else {
        return;
    };
    let s = &*db.store;
    let now = t0();
    // a < b < c < d < e in recency, frequency and money alike: one member per quintile.
    let plan: [(&str, &[i64], i64); 6] = [
        ("a", &[100], 100),
        ("b", &[50, 60], 200),
        ("c", &[10, 20, 30], 300),
        ("d", &[4, 6, 8, 9], 1000),
        ("e", &[1, 2, 3, 5, 7], 2000),
        ("f", &[400], 5000), // outside the 365-day window
    ];
    let mut orders = Vec::new();
    for (user, days, amount) in plan {
        for d in days {
            orders.push(order(
                &format!("{user}-{d}"),
                user,
                "completed",
                days_ago(*d),
                &[("tea", amount)],
            ));
        }
    }
    s.put_orders(orders, now, Aggregates::Current)
        .await
        .unwrap();
    s.put_members(vec![profile("g", days_ago(500), &[])], now)
        .await
        .unwrap();

    let config = scrm::rfm_config(s).await.unwrap();
    let inputs = s.rfm_inputs(config.window_start(now), now).await.unwrap();
    let by_id: HashMap<&str, _> = inputs.iter().map(|i| (i.member_id.as_str(), i)).collect();
    assert_eq!(by_id.len(), 5, "f's order is out of the window, g has none");
    let e = by_id["e"];
    assert_eq!(
        (e.last, e.frequency, e.monetary),
        (days_ago(1).as_microsecond(), 5, 10000)
    );

    let run = scrm::recompute_rfm(s, now).await.unwrap();
    assert_eq!((run.scored, run.unscored), (5, 2));
    let tiers: HashMap<&str, usize> = run.tiers.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(
        tiers,
        HashMap::from([("S", 1), ("A", 1), ("B", 1), ("C", 2)])
    );
    let score = |r, f, m, tier| RfmScore { r, f, m, tier };
    for (id, want) in [
        ("a", score(1, 1, 1, RfmTier::C)),
        ("b", score(2, 2, 2, RfmTier::C)),
        ("c", score(3, 3, 3, RfmTier::B)),
        ("d", score(4, 4, 4, RfmTier::A)),
        ("e", score(5, 5, 5, RfmTier::S)),
        ("f", RfmScore::NONE),
        ("g", RfmScore::NONE),
    ] {
        let m = s.member(id).await.unwrap().unwrap();
        assert_eq!((m.rfm, m.rfm_at), (want, Some(now)), "{id}");
    }
    assert!(s.setting(scrm::RFM_CUTS_SETTING).await.unwrap().is_some());

    // A new order rescores its member against the cuts at once.
    let later = now.checked_add(SignedDuration::from_hours(1)).unwrap();
    let fresh = order("f-new", "f", "paid", now, &[("tea", 50000)]);
    s.put_orders(vec![fresh], later, Aggregates::Current)
        .await
        .unwrap();
    let f = s.member("f").await.unwrap().unwrap();
    assert_eq!((f.rfm, f.rfm_at), (score(5, 1, 5, RfmTier::A), Some(later)));
    let e = s.member("e").await.unwrap().unwrap();
    assert_eq!(
        (e.rfm, e.rfm_at),
        (score(5, 5, 5, RfmTier::S), Some(now)),
        "others keep their scores"
    );
}

both!(purchases_and_segments);
async fn purchases_and_segments(backend: Backend) {
    let Some(db) = Db::open(backend).await else {
        return;
    };
    let s = &*db.store;
    let now = t0();
    s.put_products(vec![product("tea", "tea"), product("cup", "ware")])
        .await
        .unwrap();
    let orders = vec![
        order("u1-a", "u1", "completed", days_ago(5), &[("tea", 500)]),
        order("u2-a", "u2", "completed", days_ago(40), &[("tea", 3000)]),
        order("u2-b", "u2", "paid", days_ago(2), &[("cup", 100)]),
        order("u3-a", "u3", "refunded", days_ago(1), &[("tea", 9999)]),
    ];
    s.put_orders(orders, now, Aggregates::Current)
        .await
        .unwrap();
    s.put_members(vec![profile("u4", days_ago(200), &["vip"])], now)
        .await
        .unwrap();

    let bought = |category: &str, within_days| Purchase::Bought {
        category: category.into(),
        within_days,
    };
    for (p, want) in [
        (bought("tea", 30), ids(&["u1"])),
        (bought("tea", 60), ids(&["u1", "u2"])),
        (bought("tea", 5), ids(&[])), // the window's start is exclusive
        (bought("ware", 7), ids(&["u2"])),
        (
            Purchase::Spent {
                min: 1000,
                within_days: None,
            },
            ids(&["u2"]),
        ),
        (
            Purchase::Spent {
                min: 500,
                within_days: Some(30),
            },
            ids(&["u1"]),
        ),
        (
            Purchase::Orders {
                min: 2,
                within_days: None,
            },
            ids(&["u2"]),
        ),
        (
            Purchase::Orders {
                min: 1,
                within_days: Some(10),
            },
            ids(&["u1", "u2"]),
        ),
    ] {
        assert_eq!(s.purchase_members(&p, now).await.unwrap(), want, "{p:?}");
        for user in ["u1", "u2", "u3", "u4"] {
            assert_eq!(
                s.member_purchased(user, &p, now).await.unwrap(),
                want.contains(user),
                "{user} {p:?}"
            );
        }
    }

    let tea_or_vip = rule(json!({"kind": "or", "rules": [
        {"kind": "bought", "category": "tea", "within_days": 30},
        {"kind": "tag", "tag": "vip"}
    ]}));
    let big_not_vip = rule(json!({"kind": "and", "rules": [
        {"kind": "spent", "min": 1000},
        {"kind": "not", "rule": {"kind": "tag", "tag": "vip"}}
    ]}));
    let new = rule(json!({"kind": "stage", "stages": ["new"]}));
    assert_eq!(
        scrm::rule_members(s, &tea_or_vip, now).await.unwrap(),
        ["u1", "u4"]
    );
    assert_eq!(
        scrm::rule_members(s, &big_not_vip, now).await.unwrap(),
        ["u2"]
    );
    assert_eq!(
        scrm::rule_members(s, &new, now).await.unwrap(),
        ["u3", "u4"],
        "a refunded order is no purchase"
    );

    let segment = |id: &str, definition| SegmentRecord {
        id: id.into(),
        name: format!("segment {id}"),
        definition,
        created_at: now,
        updated_at: now,
    };
    let ruled = s
        .put_segment(segment(
            "s-rule",
            SegmentDefinition::Rule(tea_or_vip.clone()),
        ))
        .await
        .unwrap();
    assert_eq!(
        ruled,
        segment("s-rule", SegmentDefinition::Rule(tea_or_vip))
    );
    let listed = s
        .put_segment(segment(
            "s-list",
            SegmentDefinition::Listed(vec!["u3".into(), "u2".into(), "u2".into()]),
        ))
        .await
        .unwrap();
    assert_eq!(
        listed.definition,
        SegmentDefinition::Listed(vec!["u2".into(), "u3".into()])
    );
    assert_eq!(s.segment("s-rule").await.unwrap(), Some(ruled.clone()));
    assert_eq!(s.segment("s-none").await.unwrap(), None);
    let page = s.list_segments(1, None).await.unwrap();
    assert_eq!(
        (page.items, page.total, page.next.as_deref()),
        (vec![listed.clone()], 2, Some("s-list"))
    );
    let page = s.list_segments(1, page.next).await.unwrap();
    assert_eq!((page.items, page.next), (vec![ruled.clone()], None));

    assert_eq!(
        scrm::segment_members(s, &ruled, now).await.unwrap(),
        ["u1", "u4"]
    );
    assert_eq!(
        scrm::segment_members(s, &listed, now).await.unwrap(),
        ["u2", "u3"]
    );
    for (segment, user, want) in [
        ("s-rule", "u1", true),
        ("s-rule", "u2", false),
        ("s-rule", "u4", true),
        ("s-rule", "ghost", false),
        ("s-list", "u2", true),
        ("s-list", "u1", false),
        ("s-none", "u1", false),
    ] {
        assert_eq!(
            scrm::in_segment(s, segment, user, now).await.unwrap(),
            want,
            "{segment} {user}"
        );
    }

    // Claims of `segment` audiences ask the same questions inside the claim's transaction.
    for (segment, yes, no) in [
        ("s-rule", ["u1", "u4"], ["u2", "ghost"]),
        ("s-list", ["u2", "u3"], ["u1", "u4"]),
    ] {
        let template = active_template(
            s,
            &format!("t-{segment}"),
            json!({"kind": "segment", "segment_id": segment}),
        )
        .await;
        for user in yes {
            let outcome = s.claim(claim(&template, user)).await.unwrap();
            assert!(
                matches!(outcome, ClaimOutcome::Claimed(_)),
                "{segment} {user}: {outcome:?}"
            );
        }
        for user in no {
            let outcome = s.claim(claim(&template, user)).await.unwrap();
            assert_eq!(
                outcome,
                ClaimOutcome::Refused(ErrorCode::NotInAudience),
                "{segment} {user}"
            );
        }
    }
    // Claims of one batch decided together (PostgreSQL batches claims of a template).
    let template = active_template(
        s,
        "t-batch",
        json!({"kind": "segment", "segment_id": "s-rule"}),
    )
    .await;
    let outcomes = concurrent_claims(&db.store, &template, &["u1", "u2", "u4", "ghost"]).await;
    let claimed: Vec<bool> = outcomes
        .iter()
        .map(|o| matches!(o, ClaimOutcome::Claimed(_)))
        .collect();
    assert_eq!(claimed, [true, false, true, false]);
}

async fn active_template(s: &dyn Store, id: &str, audience: serde_json::Value) -> String {
    let spec = serde_json::from_value(json!({
        "name": "segment coupon",
        "scope": {"kind": "platform"},
        "benefit": {"kind": "reduction", "threshold": 0, "off": 1000},
        "validity": {"kind": "relative", "days": 30},
        "audience": audience,
        "distribution": ["public"],
        "funding": {"platform_bp": 10000, "merchant_bp": 0}
    }))
    .expect("a template spec");
    let template = Template::parse(spec).expect("a valid template");
    let new = NewTemplate {
        id: id.into(),
        template,
        created_by: "test".into(),
        now: t0(),
    };
    s.insert_template(new).await.unwrap();
    s.set_template_status(id, StatusAction::Activate, t0())
        .await
        .unwrap()
        .expect("activated");
    id.to_string()
}

/// Submits claims at once (they may share a batch) and waits for all, in order.
async fn concurrent_claims(
    s: &Arc<dyn Store>,
    template: &str,
    users: &[&str],
) -> Vec<ClaimOutcome> {
    let pending: Vec<_> = users
        .iter()
        .map(|user| {
            let (s, cmd) = (s.clone(), claim(template, user));
            tokio::spawn(async move { s.claim(cmd).await })
        })
        .collect();
    let mut out = Vec::new();
    for p in pending {
        out.push(p.await.expect("claim task").unwrap());
    }
    out
}

both!(events_create_and_update_members);
async fn events_create_and_update_members(backend: Backend) {
    let Some(db) = Db::open(backend).await else {
        return;
    };
    let s = &*db.store;
    let now = t0();
    use Written::*;
    let event = |id: &str, user: &str, kind: &str, at, data| EventRecord {
        id: id.into(),
        user_id: user.into(),
        kind: kind.into(),
        at,
        store_id: Some("s1".into()),
        order_id: None,
        data,
    };
    let signup = event("e1", "new1", "signup", days_ago(3), json!({"source": "qr"}));
    assert!(s.member("new1").await.unwrap().is_none());
    assert_eq!(
        s.put_events(vec![signup.clone()], now).await.unwrap(),
        [Inserted]
    );
    let m = s
        .member("new1")
        .await
        .unwrap()
        .expect("signup creates the member");
    assert_eq!((m.profile.joined_at, m.profile.tier), (days_ago(3), None));
    assert_eq!(
        s.put_events(vec![signup.clone()], now).await.unwrap(),
        [Unchanged]
    );
    let other = EventRecord {
        data: json!({"source": "link"}),
        ..signup
    };
    assert_eq!(s.put_events(vec![other], now).await.unwrap(), [Conflict]);

    let tier = event(
        "e2",
        "new1",
        "tier_changed",
        days_ago(2),
        json!({"tier": "gold"}),
    );
    let visit = event("e3", "new1", "visit", days_ago(1), json!({}));
    assert_eq!(
        s.put_events(vec![tier, visit], now).await.unwrap(),
        [Inserted, Inserted]
    );
    assert_eq!(
        s.member("new1")
            .await
            .unwrap()
            .unwrap()
            .profile
            .tier
            .as_deref(),
        Some("gold")
    );

    // A signup of a known member leaves it as it is.
    s.put_members(vec![profile("old", days_ago(100), &[])], now)
        .await
        .unwrap();
    let late = event("e4", "old", "signup", days_ago(1), json!({}));
    assert_eq!(s.put_events(vec![late], now).await.unwrap(), [Inserted]);
    assert_eq!(
        s.member("old").await.unwrap().unwrap().profile.joined_at,
        days_ago(100)
    );

    let page = s.list_events("new1", 2, None).await.unwrap();
    let got: Vec<&str> = page.items.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(
        (got, page.total, page.next.as_deref()),
        (vec!["e1", "e2"], 3, Some("e2"))
    );
    assert_eq!(page.items[0].data, json!({"source": "qr"}));
    let page = s.list_events("new1", 2, page.next).await.unwrap();
    let got: Vec<&str> = page.items.iter().map(|e| e.id.as_str()).collect();
    assert_eq!((got, page.next), (vec!["e3"], None));
}

both!(paid_checkout_orders_join_the_history);
async fn paid_checkout_orders_join_the_history(backend: Backend) {
    let Some(db) = Db::open(backend).await else {
        return;
    };
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
        .expect("the buyer becomes a member");
    assert_eq!(m.profile.joined_at, now);
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

both!(concurrent_writers_of_one_member);
async fn concurrent_writers_of_one_member(backend: Backend) {
    let Some(db) = Db::open(backend).await else {
        return;
    };
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
