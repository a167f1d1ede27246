//! Upgrading a SQLite database written by an earlier version: migration 0005 rebuilds the
//! ledger on the plain rowid and keeps every entry, its sequence and the append-only rule;
//! 0006 rebuilds `members` with a nullable join time and keeps every row a member.

use quan_core::zone::TenantZone;

const EARLIER: &[&str] = &[
    include_str!("../migrations/sqlite/0001_foundation.sql"),
    include_str!("../migrations/sqlite/0002_orders.sql"),
    include_str!("../migrations/sqlite/0003_jobs.sql"),
    include_str!("../migrations/sqlite/0004_scrm.sql"),
];

/// A database migrated by `EARLIER[..n]` and then `extra`, as an earlier version left it.
fn earlier_database(path: &str, n: usize, extra: &[&str]) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
    )
    .unwrap();
    for (i, sql) in EARLIER[..n].iter().chain(extra).enumerate() {
        conn.execute_batch(sql).unwrap();
        conn.execute(
            "INSERT INTO schema_migrations VALUES (?1, 0)",
            [i as i64 + 1],
        )
        .unwrap();
    }
}

#[tokio::test]
async fn the_ledger_keeps_its_entries_and_rules_through_0005() {
    let dir = tempfile::tempdir().unwrap();
    let path = format!("{}/quan.db", dir.path().display());
    earlier_database(&path, EARLIER.len(), &[]);
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        for (coupon, event) in [("c1", "claimed"), ("c2", "claimed"), ("c1", "locked")] {
            conn.execute(
                "INSERT INTO coupon_ledger (coupon_id, template_id, user_id, event, to_status, at, actor) \
                 VALUES (?1, 't', 'u', ?2, ?2, 0, 'k')",
                [coupon, event],
            )
            .unwrap();
        }
    }
    let store = quan_store::open(&format!("sqlite://{path}"), TenantZone::utc())
        .await
        .expect("open and migrate");
    let c1 = store.ledger("c1").await.unwrap();
    let seqs: Vec<(i64, &str)> = c1.iter().map(|e| (e.seq, e.event.as_str())).collect();
    assert_eq!(seqs, [(1, "claimed"), (3, "locked")]);
    assert_eq!(store.ledger_count().await.unwrap(), 3);
    drop(store);

    let conn = rusqlite::Connection::open(&path).unwrap();
    let autoincrement: bool = conn
        .query_row(
            "SELECT sql LIKE '%AUTOINCREMENT%' FROM sqlite_master WHERE name = 'coupon_ledger'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(!autoincrement);
    for refused in [
        "DELETE FROM coupon_ledger",
        "UPDATE coupon_ledger SET event = 'x'",
    ] {
        let err = conn.execute(refused, []).unwrap_err();
        assert!(err.to_string().contains("append-only"), "{refused}: {err}");
    }
    conn.execute(
        "INSERT INTO coupon_ledger (coupon_id, template_id, user_id, event, to_status, at, actor) \
         VALUES ('c3', 't', 'u', 'claimed', 'claimed', 0, 'k')",
        [],
    )
    .unwrap();
    let last: i64 = conn
        .query_row("SELECT max(seq) FROM coupon_ledger", [], |r| r.get(0))
        .unwrap();
    assert_eq!(last, 4, "numbers go on after the last entry");
}

#[tokio::test]
async fn members_stay_members_through_0006() {
    let dir = tempfile::tempdir().unwrap();
    let path = format!("{}/quan.db", dir.path().display());
    earlier_database(
        &path,
        EARLIER.len(),
        &[include_str!("../migrations/sqlite/0005_ledger_rowid.sql")],
    );
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        // Before 0006 an order made a member, joined at the order; that row stays a member.
        conn.execute(
            "INSERT INTO members (id, joined_at, tier, paid_orders, total_spent, tags, rfm_tier, updated_at) \
             VALUES ('old', 1000000, 'gold', 2, 700, '[\"vip\"]', 'A', 5)",
            [],
        )
        .unwrap();
    }
    let store = quan_store::open(&format!("sqlite://{path}"), TenantZone::utc())
        .await
        .expect("open and migrate");
    let old = store.member("old").await.unwrap().expect("kept");
    assert!(old.is_member());
    assert_eq!(
        (
            old.profile.joined_at.map(|t| t.as_microsecond()),
            old.profile.tier.as_deref(),
            old.profile.tags.as_slice(),
            old.history.orders,
            old.history.spent,
        ),
        (
            Some(1000000),
            Some("gold"),
            &["vip".to_string()][..],
            2,
            700
        )
    );
    // A new buyer now has a row without a join time.
    let order = quan_store::scrm::HistoryOrder {
        id: "o1".into(),
        user_id: "buyer".into(),
        status: quan_store::scrm::HistoryStatus::Paid,
        channel: None,
        paid_at: jiff::Timestamp::UNIX_EPOCH,
        lines: vec![],
        source: quan_store::scrm::OrderSource::Ingest,
    };
    store
        .put_orders(
            vec![order],
            jiff::Timestamp::UNIX_EPOCH,
            quan_store::scrm::Aggregates::Current,
        )
        .await
        .unwrap();
    let buyer = store.member("buyer").await.unwrap().expect("a row");
    assert_eq!((buyer.is_member(), buyer.history.orders), (false, 1));
}
