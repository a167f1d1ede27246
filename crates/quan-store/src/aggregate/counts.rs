//! The daily counters (docs/DOMAIN.md section 9): written by the same transactions as the
//! coupon and sales ledgers they add up, read by reviews and reports, and rebuilt from those
//! ledgers by `quan report rebuild`.

use std::collections::BTreeMap;

use jiff::Timestamp;
use quan_core::coupon::CouponStatus;
use quan_core::zone::TenantZone;

use crate::plan::counts::{CouponCounts, CouponDelta, CouponKey, SaleEntry};
use crate::records::micros;
use crate::records::reviews::{CountsOf, CouponCount, Rebuilt, SalesCount};
use crate::sql::{Column, Db, Row};
use crate::{Result, StoreError};

/// Adds a [`CountRows`] to `coupon_counts` (its parameters: the rows' columns only).
pub(crate) const ADD_COUPON_COUNTS: &str =
    "INSERT INTO coupon_counts (template_id, campaign_id, store_id, route, day, claimed, used, returned, given) \
     SELECT x.template_id, x.campaign_id, x.store_id, x.route, x.day, x.claimed, x.used, x.returned, x.given \
     FROM {rows} WHERE true \
     ON CONFLICT (template_id, campaign_id, store_id, route, day) DO UPDATE SET \
     claimed = coupon_counts.claimed + excluded.claimed, used = coupon_counts.used + excluded.used, \
     returned = coupon_counts.returned + excluded.returned, given = coupon_counts.given + excluded.given";

/// Adds deltas to `coupon_counts`, one row per key.
pub(crate) async fn add_coupon_counts(db: &mut Db<'_>, counts: &CouponCounts) -> Result<()> {
    let rows = CountRows::of(counts);
    db.execute_rows(ADD_COUPON_COUNTS, &[], &rows.columns())
        .await?;
    Ok(())
}

/// [`CouponCounts`] as the columns of [`ADD_COUPON_COUNTS`].
#[derive(Default)]
pub(crate) struct CountRows {
    template: Vec<String>,
    campaign: Vec<String>,
    store: Vec<String>,
    route: Vec<String>,
    day: Vec<i64>,
    claimed: Vec<i64>,
    used: Vec<i64>,
    returned: Vec<i64>,
    given: Vec<i64>,
}

impl CountRows {
    pub fn of(counts: &CouponCounts) -> CountRows {
        let mut cols = CountRows::default();
        for (k, d) in counts.rows() {
            cols.template.push(k.template_id.clone());
            cols.campaign.push(k.campaign_id.clone());
            cols.store.push(k.store_id.clone());
            cols.route.push(k.route.clone());
            cols.day.push(k.day);
            cols.claimed.push(d.claimed);
            cols.used.push(d.used);
            cols.returned.push(d.returned);
            cols.given.push(d.given);
        }
        cols
    }

    pub fn is_empty(&self) -> bool {
        self.day.is_empty()
    }

    pub fn columns(&self) -> [(&'static str, Column<'_>); 9] {
        [
            ("template_id", Column::Text(&self.template)),
            ("campaign_id", Column::Text(&self.campaign)),
            ("store_id", Column::Text(&self.store)),
            ("route", Column::Text(&self.route)),
            ("day", Column::Int(&self.day)),
            ("claimed", Column::Int(&self.claimed)),
            ("used", Column::Int(&self.used)),
            ("returned", Column::Int(&self.returned)),
            ("given", Column::Int(&self.given)),
        ]
    }
}

/// Appends an order's sales entries to the sales ledger and adds them to `sales_counts`.
pub(crate) async fn record_sales(
    db: &mut Db<'_>,
    order_id: &str,
    entries: &[SaleEntry],
    at: Timestamp,
    day: i64,
) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let kind: Vec<String> = entries
        .iter()
        .map(|e| e.kind.as_str().to_string())
        .collect();
    let key: Vec<String> = entries.iter().map(|e| e.key.clone()).collect();
    let orders: Vec<i64> = entries.iter().map(|e| e.orders).collect();
    let gmv: Vec<i64> = entries.iter().map(|e| e.gmv).collect();
    let rows = [
        ("kind", Column::Text(&kind)),
        ("key", Column::Text(&key)),
        ("orders", Column::Int(&orders)),
        ("gmv", Column::Int(&gmv)),
    ];
    db.execute_rows(
        "INSERT INTO sales_ledger (order_id, kind, key, at, orders, gmv) \
         SELECT $1, x.kind, x.key, $2, x.orders, x.gmv FROM {rows}",
        &[&order_id, &micros(at)],
        &rows,
    )
    .await?;
    db.execute_rows(
        "INSERT INTO sales_counts (kind, key, day, orders, gmv) \
         SELECT x.kind, x.key, $1, x.orders, x.gmv FROM {rows} WHERE true \
         ON CONFLICT (kind, key, day) DO UPDATE SET \
         orders = sales_counts.orders + excluded.orders, gmv = sales_counts.gmv + excluded.gmv",
        &[&day],
        &rows,
    )
    .await?;
    Ok(())
}

const COUPON_COUNT_COLS: &str =
    "template_id, campaign_id, store_id, route, day, claimed, used, returned, given";

fn coupon_count(r: &Row) -> Result<CouponCount> {
    Ok(CouponCount {
        template_id: r.get(0)?,
        campaign_id: r.get(1)?,
        store_id: r.get(2)?,
        route: r.get(3)?,
        day: r.get(4)?,
        claimed: r.get(5)?,
        used: r.get(6)?,
        returned: r.get(7)?,
        given: r.get(8)?,
    })
}

/// The coupon counters of `of`, in key order.
pub(crate) async fn coupon_counts(db: &mut Db<'_>, of: &CountsOf) -> Result<Vec<CouponCount>> {
    let (filter, key) = match of {
        CountsOf::Campaign(id) => ("campaign_id = $1", id.as_str()),
        CountsOf::Template(id) => ("template_id = $1", id.as_str()),
        // Every row: no template id is empty.
        CountsOf::Everything => ("template_id <> $1", ""),
    };
    db.query(
        &format!(
            "SELECT {COUPON_COUNT_COLS} FROM coupon_counts WHERE {filter} \
             ORDER BY template_id, campaign_id, store_id, route, day"
        ),
        &[&key],
        coupon_count,
    )
    .await
}

/// The sales counters of `of`, in key order.
pub(crate) async fn sales_counts(db: &mut Db<'_>, of: &CountsOf) -> Result<Vec<SalesCount>> {
    let (filter, key) = match of {
        CountsOf::Campaign(id) => ("kind = 'campaign' AND key = $1", id.as_str()),
        CountsOf::Template(id) => ("kind = 'template' AND key = $1", id.as_str()),
        CountsOf::Everything => ("key <> $1", ""),
    };
    db.query(
        &format!(
            "SELECT kind, key, day, orders, gmv FROM sales_counts WHERE {filter} ORDER BY kind, key, day"
        ),
        &[&key],
        |r| {
            Ok(SalesCount {
                kind: r.get(0)?,
                key: r.get(1)?,
                day: r.get(2)?,
                orders: r.get(3)?,
                gmv: r.get(4)?,
            })
        },
    )
    .await
}

/// Ledger entries read at a time by a rebuild.
const PAGE: i64 = 50_000;

/// Recomputes both counters from the ledgers, through the same arithmetic as the writes
/// ([`CouponDelta::of`], days in `zone`).
pub(crate) async fn rebuild(db: &mut Db<'_>, zone: &TenantZone) -> Result<Rebuilt> {
    let mut counts = CouponCounts::default();
    let (mut after, mut coupon_entries) = (0i64, 0u64);
    loop {
        let page = db
            .query(
                "SELECT l.seq, l.template_id, c.campaign_id, c.store_id, c.route, l.at, l.from_status, l.to_status, l.given \
                 FROM coupon_ledger l JOIN coupons c ON c.id = l.coupon_id \
                 WHERE l.seq > $1 ORDER BY l.seq LIMIT $2",
                &[&after, &PAGE],
                |r| {
                    let status = |s: Option<String>| -> Result<Option<CouponStatus>> {
                        s.map(|s| {
                            CouponStatus::parse(&s)
                                .ok_or_else(|| StoreError::Corrupt("ledger status".into()))
                        })
                        .transpose()
                    };
                    let to = status(Some(r.get(7)?))?.expect("a status");
                    let key = CouponKey {
                        template_id: r.get(1)?,
                        campaign_id: r.get::<Option<String>>(2)?.unwrap_or_default(),
                        store_id: r.get::<Option<String>>(3)?.unwrap_or_default(),
                        route: r.get(4)?,
                        day: zone.day_number(r.time(5)?),
                    };
                    let delta = CouponDelta::of(status(r.get(6)?)?, to, r.get(8)?);
                    Ok((r.get::<i64>(0)?, key, delta))
                },
            )
            .await?;
        let Some((last, _, _)) = page.last() else {
            break;
        };
        after = *last;
        coupon_entries += page.len() as u64;
        for (_, key, delta) in page {
            counts.add(key, delta);
        }
    }
    let mut sales: BTreeMap<(String, String, i64), (i64, i64)> = BTreeMap::new();
    let (mut after, mut sales_entries) = (0i64, 0u64);
    loop {
        let page: Vec<(i64, String, String, Timestamp, i64, i64)> = db
            .query(
                "SELECT seq, kind, key, at, orders, gmv FROM sales_ledger WHERE seq > $1 ORDER BY seq LIMIT $2",
                &[&after, &PAGE],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.time(3)?, r.get(4)?, r.get(5)?)),
            )
            .await?;
        let Some(last) = page.last() else {
            break;
        };
        after = last.0;
        sales_entries += page.len() as u64;
        for (_, kind, key, at, orders, gmv) in page {
            let e = sales.entry((kind, key, zone.day_number(at))).or_default();
            e.0 += orders;
            e.1 += gmv;
        }
    }
    db.execute("DELETE FROM coupon_counts", &[]).await?;
    db.execute("DELETE FROM sales_counts", &[]).await?;
    let rows = CountRows::of(&counts);
    let coupon_rows = db
        .execute_rows(ADD_COUPON_COUNTS, &[], &rows.columns())
        .await?;
    let sales: Vec<_> = sales.into_iter().filter(|(_, v)| *v != (0, 0)).collect();
    let kind: Vec<String> = sales.iter().map(|((k, _, _), _)| k.clone()).collect();
    let key: Vec<String> = sales.iter().map(|((_, k, _), _)| k.clone()).collect();
    let day: Vec<i64> = sales.iter().map(|((_, _, d), _)| *d).collect();
    let orders: Vec<i64> = sales.iter().map(|(_, (o, _))| *o).collect();
    let gmv: Vec<i64> = sales.iter().map(|(_, (_, g))| *g).collect();
    let sales_rows = db
        .execute_rows(
            "INSERT INTO sales_counts (kind, key, day, orders, gmv) \
             SELECT x.kind, x.key, x.day, x.orders, x.gmv FROM {rows}",
            &[],
            &[
                ("kind", Column::Text(&kind)),
                ("key", Column::Text(&key)),
                ("day", Column::Int(&day)),
                ("orders", Column::Int(&orders)),
                ("gmv", Column::Int(&gmv)),
            ],
        )
        .await?;
    Ok(Rebuilt {
        coupon_entries,
        sales_entries,
        coupon_rows,
        sales_rows,
    })
}
