//! Row mapping for PostgreSQL: the columns each record is read from, and pages.

use deadpool_postgres::GenericClient;
use quan_core::scrm::{History, RfmScore, RfmTier};
use tokio_postgres::Row;

use crate::model::*;
use crate::scrm::*;
use crate::{Page, Result, StoreError};

pub(super) fn page_of<T>(
    mut items: Vec<T>,
    limit: u32,
    total: i64,
    cursor_of: impl Fn(&T) -> String,
) -> Page<T> {
    let next = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(&cursor_of)
    } else {
        None
    };
    Page { items, total, next }
}

pub(super) const MEMBER_COLS: &str = "id, joined_at, tier, region, channel, guide_id, points, tags, attributes, \
    paid_orders, total_spent, first_paid_at, last_paid_at, prev_paid_at, rfm_r, rfm_f, rfm_m, rfm_tier, rfm_at, updated_at";
pub(super) const STORE_COLS: &str = "id, name, region, attributes, updated_at";
pub(super) const PRODUCT_COLS: &str =
    "id, name, store_id, department, category, brand, attributes, updated_at";
pub(super) const HISTORY_COLS: &str =
    "id, user_id, status, channel, store_id, paid_at, amount, line_count, source";
pub(super) const EVENT_COLS: &str = "id, user_id, kind, at, store_id, order_id, data";

pub(super) fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

pub(super) fn json<T: serde::de::DeserializeOwned>(raw: &str, what: &str) -> Result<T> {
    serde_json::from_str(raw).map_err(|_| corrupt(what))
}

pub(super) fn score(v: i64, what: &str) -> Result<u8> {
    u8::try_from(v).map_err(|_| corrupt(what))
}

pub(super) fn member_record(r: &Row) -> Result<MemberRecord> {
    let opt_ts = |v: Option<i64>| v.map(from_micros);
    Ok(MemberRecord {
        profile: MemberProfile {
            id: r.get(0),
            joined_at: r.get::<_, Option<i64>>(1).map(from_micros),
            tier: r.get(2),
            region: r.get(3),
            channel: r.get(4),
            guide_id: r.get(5),
            points: r.get(6),
            tags: json(r.get(7), "member tags")?,
            attributes: json(r.get(8), "member attributes")?,
        },
        history: History {
            orders: r.get(9),
            spent: r.get(10),
            first: opt_ts(r.get(11)),
            last: opt_ts(r.get(12)),
            prev: opt_ts(r.get(13)),
        },
        rfm: RfmScore {
            r: score(r.get(14), "member rfm r")?,
            f: score(r.get(15), "member rfm f")?,
            m: score(r.get(16), "member rfm m")?,
            tier: RfmTier::parse(r.get(17)).ok_or_else(|| corrupt("member rfm tier"))?,
        },
        rfm_at: opt_ts(r.get(18)),
        updated_at: from_micros(r.get(19)),
    })
}

pub(super) fn store_record(r: &Row) -> Result<StoreRecord> {
    Ok(StoreRecord {
        id: r.get(0),
        name: r.get(1),
        region: r.get(2),
        attributes: json(r.get(3), "store attributes")?,
        updated_at: from_micros(r.get(4)),
    })
}

pub(super) fn product_record(r: &Row) -> Result<ProductRecord> {
    Ok(ProductRecord {
        id: r.get(0),
        name: r.get(1),
        store_id: r.get(2),
        department: r.get(3),
        category: r.get(4),
        brand: r.get(5),
        attributes: json(r.get(6), "product attributes")?,
        updated_at: from_micros(r.get(7)),
    })
}

pub(super) fn order_summary(r: &Row) -> Result<OrderSummary> {
    Ok(OrderSummary {
        id: r.get(0),
        user_id: r.get(1),
        status: r.get(2),
        channel: r.get(3),
        store_id: r.get(4),
        paid_at: from_micros(r.get(5)),
        amount: r.get(6),
        line_count: r.get(7),
        source: r.get(8),
    })
}

pub(super) fn event_record(r: &Row) -> Result<EventRecord> {
    Ok(EventRecord {
        id: r.get(0),
        user_id: r.get(1),
        kind: r.get(2),
        at: from_micros(r.get(3)),
        store_id: r.get(4),
        order_id: r.get(5),
        data: json(r.get(6), "event data")?,
    })
}

/// A page of `SELECT {cols} FROM {table} WHERE id > cursor ORDER BY id`, with the table's count.
pub(super) async fn id_page<T: Send>(
    c: &impl GenericClient,
    table: &str,
    cols: &str,
    limit: u32,
    cursor: Option<String>,
    row: fn(&Row) -> Result<T>,
    id_of: fn(&T) -> String,
) -> Result<Page<T>> {
    let total: i64 = c
        .query_one(&format!("SELECT count(*) FROM {table}"), &[])
        .await?
        .get(0);
    let items = c
        .query(
            &format!("SELECT {cols} FROM {table} WHERE id > $1 ORDER BY id LIMIT $2"),
            &[&cursor.unwrap_or_default(), &(i64::from(limit) + 1)],
        )
        .await?
        .iter()
        .map(row)
        .collect::<Result<Vec<T>>>()?;
    Ok(page_of(items, limit, total, id_of))
}
