//! Row mapping for SQLite: the columns each record is read from, and the small conversions
//! (times, JSON lists, pages) every module shares.

use jiff::Timestamp;
use quan_core::scrm::{History, RfmScore, RfmTier};
use rusqlite::{params, Connection, Row};

use crate::model::*;
use crate::scrm::*;
use crate::{Result, StoreError};

pub(super) fn ts(us: i64) -> Timestamp {
    from_micros(us)
}

pub(super) fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

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

pub(super) fn json<T: serde::de::DeserializeOwned>(raw: &str, what: &str) -> Result<T> {
    serde_json::from_str(raw).map_err(|_| corrupt(what))
}

pub(super) fn member_row(r: &Row) -> rusqlite::Result<Result<MemberRecord>> {
    let tags: String = r.get(7)?;
    let attributes: String = r.get(8)?;
    let opt_ts = |v: Option<i64>| v.map(from_micros);
    let tier: String = r.get(17)?;
    let record = (|| {
        Ok(MemberRecord {
            profile: MemberProfile {
                id: r.get(0)?,
                joined_at: r.get::<_, Option<i64>>(1)?.map(ts),
                tier: r.get(2)?,
                region: r.get(3)?,
                channel: r.get(4)?,
                guide_id: r.get(5)?,
                points: r.get(6)?,
                tags: Vec::new(),
                attributes: serde_json::Value::Null,
            },
            history: History {
                orders: r.get(9)?,
                spent: r.get(10)?,
                first: opt_ts(r.get(11)?),
                last: opt_ts(r.get(12)?),
                prev: opt_ts(r.get(13)?),
            },
            rfm: RfmScore {
                r: r.get(14)?,
                f: r.get(15)?,
                m: r.get(16)?,
                tier: RfmTier::C,
            },
            rfm_at: opt_ts(r.get(18)?),
            updated_at: ts(r.get(19)?),
        })
    })();
    Ok(record.and_then(|mut m: MemberRecord| {
        m.profile.tags = json(&tags, "member tags")?;
        m.profile.attributes = json(&attributes, "member attributes")?;
        m.rfm.tier = RfmTier::parse(&tier).ok_or_else(|| corrupt("member rfm tier"))?;
        Ok(m)
    }))
}

pub(super) const PRODUCT_COLS: &str =
    "id, name, store_id, department, category, brand, attributes, updated_at";
pub(super) const EVENT_COLS: &str = "id, user_id, kind, at, store_id, order_id, data";
pub(super) const HISTORY_COLS: &str =
    "id, user_id, status, channel, store_id, paid_at, amount, line_count, source";

pub(super) fn summary_row(r: &Row) -> rusqlite::Result<OrderSummary> {
    Ok(OrderSummary {
        id: r.get(0)?,
        user_id: r.get(1)?,
        status: r.get(2)?,
        channel: r.get(3)?,
        store_id: r.get(4)?,
        paid_at: ts(r.get(5)?),
        amount: r.get(6)?,
        line_count: r.get(7)?,
        source: r.get(8)?,
    })
}

pub(super) fn store_row(r: &Row) -> rusqlite::Result<Result<StoreRecord>> {
    let attributes: String = r.get(3)?;
    Ok(
        json(&attributes, "store attributes").and_then(|attributes| {
            Ok(StoreRecord {
                id: r.get(0)?,
                name: r.get(1)?,
                region: r.get(2)?,
                attributes,
                updated_at: ts(r.get(4)?),
            })
        }),
    )
}

pub(super) fn product_row(r: &Row) -> rusqlite::Result<Result<ProductRecord>> {
    let attributes: String = r.get(6)?;
    Ok(
        json(&attributes, "product attributes").and_then(|attributes| {
            Ok(ProductRecord {
                id: r.get(0)?,
                name: r.get(1)?,
                store_id: r.get(2)?,
                department: r.get(3)?,
                category: r.get(4)?,
                brand: r.get(5)?,
                attributes,
                updated_at: ts(r.get(7)?),
            })
        }),
    )
}

pub(super) fn event_row(r: &Row) -> rusqlite::Result<Result<EventRecord>> {
    let data: String = r.get(6)?;
    Ok(json(&data, "event data").and_then(|data| {
        Ok(EventRecord {
            id: r.get(0)?,
            user_id: r.get(1)?,
            kind: r.get(2)?,
            at: ts(r.get(3)?),
            store_id: r.get(4)?,
            order_id: r.get(5)?,
            data,
        })
    }))
}

/// A page of `SELECT {cols} FROM {table} WHERE id > cursor ORDER BY id`, with the table's count.
pub(super) fn id_page<T>(
    conn: &Connection,
    table: &str,
    cols: &str,
    limit: u32,
    cursor: Option<String>,
    row: impl Fn(&Row) -> rusqlite::Result<Result<T>>,
    id_of: impl Fn(&T) -> String,
) -> Result<Page<T>> {
    let total: i64 = conn
        .prepare_cached(&format!("SELECT count(*) FROM {table}"))?
        .query_row([], |r| r.get(0))?;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {cols} FROM {table} WHERE id > ?1 ORDER BY id LIMIT 0 + ?2"
    ))?;
    let items = stmt
        .query_map(
            params![cursor.unwrap_or_default(), i64::from(limit) + 1],
            row,
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?
        .into_iter()
        .collect::<Result<Vec<T>>>()?;
    Ok(page_of(items, limit, total, id_of))
}
