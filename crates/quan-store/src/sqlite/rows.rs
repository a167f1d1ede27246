//! Row mapping for SQLite: the columns each record is read from, and the small conversions
//! (times, JSON lists, pages) every module shares.

use jiff::Timestamp;
use quan_core::coupon::CouponStatus;
use quan_core::scrm::{History, RfmScore, RfmTier};
use quan_core::template::TemplateStatus;
use rusqlite::{params, Connection, Row};

use crate::model::*;
use crate::scrm::*;
use crate::{OrderStatus, Result, StoreError};

pub(super) fn ts(us: i64) -> Timestamp {
    from_micros(us)
}

pub(super) fn json_list(v: &[String]) -> String {
    serde_json::to_string(v).expect("strings serialize")
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

pub(super) const TEMPLATE_COLS: &str =
    "id, store_id, status, spec, remaining, issued, claimed, used, created_at, updated_at";

pub(super) fn template_row(r: &Row) -> rusqlite::Result<TemplateRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
    ))
}

pub(super) type TemplateRow = (
    String,
    Option<String>,
    String,
    String,
    Option<i64>,
    i64,
    i64,
    i64,
    i64,
    i64,
);

pub(super) fn template_record(row: TemplateRow) -> Result<TemplateRecord> {
    let (id, store_id, status, spec, remaining, issued, claimed, used, created_at, updated_at) =
        row;
    Ok(TemplateRecord {
        spec: serde_json::from_str(&spec)
            .map_err(|e| StoreError::Corrupt(format!("template {id}: {e}")))?,
        status: TemplateStatus::parse(&status).ok_or_else(|| corrupt("template status"))?,
        id,
        store_id,
        remaining,
        issued,
        claimed,
        used,
        created_at: ts(created_at),
        updated_at: ts(updated_at),
    })
}

pub(super) const COUPON_COLS: &str = "id, template_id, store_id, user_id, code, status, route, claimed_at, valid_from, valid_until, order_id, updated_at";

pub(super) fn coupon_row(r: &Row) -> rusqlite::Result<Result<CouponRecord>> {
    let status: String = r.get(5)?;
    let Some(status) = CouponStatus::parse(&status) else {
        return Ok(Err(corrupt("coupon status")));
    };
    Ok(Ok(CouponRecord {
        id: r.get(0)?,
        template_id: r.get(1)?,
        store_id: r.get(2)?,
        user_id: r.get(3)?,
        code: r.get(4)?,
        status,
        route: r.get(6)?,
        claimed_at: ts(r.get(7)?),
        valid_from: ts(r.get(8)?),
        valid_until: ts(r.get(9)?),
        order_id: r.get(10)?,
        updated_at: ts(r.get(11)?),
    }))
}

pub(super) const ORDER_COLS: &str = "id, user_id, status, quote, lines, coupon_ids, payable, lock_until, created_at, updated_at, request_hash";

/// An order and the hash of the request that locked it.
pub(super) fn order_row(r: &Row) -> rusqlite::Result<Result<(OrderRecord, String)>> {
    let (status, lines, coupons): (String, String, String) = (r.get(2)?, r.get(4)?, r.get(5)?);
    let Some(status) = OrderStatus::parse(&status) else {
        return Ok(Err(corrupt("order status")));
    };
    let Ok(lines) = serde_json::from_str(&lines) else {
        return Ok(Err(corrupt("order lines")));
    };
    let Ok(coupon_ids) = serde_json::from_str(&coupons) else {
        return Ok(Err(corrupt("order coupons")));
    };
    Ok(Ok((
        OrderRecord {
            id: r.get(0)?,
            user_id: r.get(1)?,
            status,
            quote: r.get(3)?,
            lines,
            coupon_ids,
            payable: r.get(6)?,
            lock_until: ts(r.get(7)?),
            created_at: ts(r.get(8)?),
            updated_at: ts(r.get(9)?),
        },
        r.get(10)?,
    )))
}

pub(super) const JOB_COLS: &str =
    "id, kind, template_id, store_id, status, total, done, error_code, error_message, \
     lease_owner, created_by, created_at, updated_at, finished_at";

pub(super) fn job_row(r: &Row) -> rusqlite::Result<Result<JobRecord>> {
    let (kind, status): (String, String) = (r.get(1)?, r.get(4)?);
    let (Some(kind), Some(status)) = (JobKind::parse(&kind), JobStatus::parse(&status)) else {
        return Ok(Err(corrupt("job kind or status")));
    };
    let error = match r.get::<_, Option<String>>(7)? {
        None => None,
        Some(c) => match error_code(&c) {
            Some(code) => Some(JobError {
                code,
                message: r.get::<_, Option<String>>(8)?.unwrap_or_default(),
            }),
            None => return Ok(Err(corrupt("job error code"))),
        },
    };
    Ok(Ok(JobRecord {
        id: r.get(0)?,
        kind,
        template_id: r.get(2)?,
        store_id: r.get(3)?,
        status,
        total: r.get(5)?,
        done: r.get(6)?,
        error,
        lease_owner: r.get(9)?,
        created_by: r.get(10)?,
        created_at: ts(r.get(11)?),
        updated_at: ts(r.get(12)?),
        finished_at: r.get::<_, Option<i64>>(13)?.map(ts),
    }))
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
