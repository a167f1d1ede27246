//! Row mapping for PostgreSQL: the columns each record is read from, and pages.

use quan_core::coupon::CouponStatus;
use quan_core::scrm::{History, RfmScore, RfmTier};
use tokio_postgres::Row;

use crate::model::*;
use crate::scrm::*;
use crate::{OrderStatus, Page, Result, StoreError};

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

pub(super) const COUPON_COLS: &str = "id, template_id, store_id, user_id, code, status, route, claimed_at, valid_from, valid_until, order_id, updated_at";

pub(super) fn coupon_record(r: &Row) -> Result<CouponRecord> {
    Ok(CouponRecord {
        id: r.get(0),
        template_id: r.get(1),
        store_id: r.get(2),
        user_id: r.get(3),
        code: r.get(4),
        status: CouponStatus::parse(r.get(5))
            .ok_or_else(|| StoreError::Corrupt("coupon status".into()))?,
        route: r.get(6),
        claimed_at: from_micros(r.get(7)),
        valid_from: from_micros(r.get(8)),
        valid_until: from_micros(r.get(9)),
        order_id: r.get(10),
        updated_at: from_micros(r.get(11)),
    })
}

pub(super) const ORDER_COLS: &str = "id, user_id, status, quote, lines, coupon_ids, payable, lock_until, created_at, updated_at, request_hash";

/// An order and the hash of the request that locked it.
pub(super) fn order_record(r: &Row) -> Result<(OrderRecord, String)> {
    Ok((
        OrderRecord {
            id: r.get(0),
            user_id: r.get(1),
            status: OrderStatus::parse(r.get(2)).ok_or_else(|| corrupt("order status"))?,
            quote: r.get(3),
            lines: serde_json::from_str(r.get(4)).map_err(|_| corrupt("order lines"))?,
            coupon_ids: serde_json::from_str(r.get(5)).map_err(|_| corrupt("order coupons"))?,
            payable: r.get(6),
            lock_until: from_micros(r.get(7)),
            created_at: from_micros(r.get(8)),
            updated_at: from_micros(r.get(9)),
        },
        r.get(10),
    ))
}

pub(super) const JOB_COLS: &str =
    "id, kind, template_id, store_id, status, total, done, error_code, error_message, \
     lease_owner, created_by, created_at, updated_at, finished_at";

pub(super) fn job_record(r: &Row) -> Result<JobRecord> {
    let corrupt = |what: &str| StoreError::Corrupt(what.into());
    let error = match r.get::<_, Option<String>>(7) {
        None => None,
        Some(c) => Some(JobError {
            code: error_code(&c).ok_or_else(|| corrupt("job error code"))?,
            message: r.get::<_, Option<String>>(8).unwrap_or_default(),
        }),
    };
    Ok(JobRecord {
        id: r.get(0),
        kind: JobKind::parse(r.get(1)).ok_or_else(|| corrupt("job kind"))?,
        template_id: r.get(2),
        store_id: r.get(3),
        status: JobStatus::parse(r.get(4)).ok_or_else(|| corrupt("job status"))?,
        total: r.get(5),
        done: r.get(6),
        error,
        lease_owner: r.get(9),
        created_by: r.get(10),
        created_at: from_micros(r.get(11)),
        updated_at: from_micros(r.get(12)),
        finished_at: r.get::<_, Option<i64>>(13).map(from_micros),
    })
}

pub(super) const MEMBER_COLS: &str = "id, joined_at, tier, region, channel, guide_id, points, tags, attributes, \
    paid_orders, total_spent, first_paid_at, last_paid_at, prev_paid_at, rfm_r, rfm_f, rfm_m, rfm_tier, rfm_at, updated_at";
pub(super) const SEGMENT_COLS: &str = "id, name, rule, created_at, updated_at";

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
