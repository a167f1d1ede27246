//! Campaigns of the past, imported with who they reached and what became of each coupon: the
//! campaign (ended), its treated entries, its coupons with their ledger (granted; redeemed, or
//! expired once their validity ended before `now`), their templates' counters and the daily
//! counters, in one transaction. Nothing is decided here but the arithmetic of the counters,
//! which is the writes' own (`plan::counts`).

use std::collections::BTreeMap;

use jiff::Timestamp;
use quan_core::coupon::{CouponStatus, LedgerEvent};

use super::counts::add_coupon_counts;
use crate::plan::counts::{CouponCounts, CouponDelta, CouponKey};
use crate::records::campaigns::PastCampaign;
use crate::records::micros;
use crate::sql::{Column, Ctx, Db};
use crate::Result;

/// Coupon rows, column by column.
#[derive(Default)]
struct CouponRows {
    id: Vec<String>,
    template: Vec<String>,
    user: Vec<String>,
    status: Vec<String>,
    claimed_at: Vec<i64>,
    day: Vec<i64>,
    until: Vec<i64>,
    updated_at: Vec<i64>,
    discount: Vec<Option<i64>>,
}

/// Ledger rows, column by column.
#[derive(Default)]
struct LedgerRows {
    coupon: Vec<String>,
    template: Vec<String>,
    user: Vec<String>,
    event: Vec<String>,
    from: Vec<Option<String>>,
    to: Vec<String>,
    at: Vec<i64>,
    given: Vec<i64>,
}

impl LedgerRows {
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        coupon: &str,
        template: &str,
        user: &str,
        event: LedgerEvent,
        from: Option<CouponStatus>,
        to: CouponStatus,
        at: Timestamp,
        given: i64,
    ) {
        self.coupon.push(coupon.to_string());
        self.template.push(template.to_string());
        self.user.push(user.to_string());
        self.event.push(event.as_str().to_string());
        self.from.push(from.map(|s| s.as_str().to_string()));
        self.to.push(to.as_str().to_string());
        self.at.push(micros(at));
        self.given.push(given);
    }
}

/// Writes a past campaign; `false` (and nothing written) when a campaign with its id exists.
pub(crate) async fn import(
    db: &mut Db<'_>,
    ctx: &Ctx,
    c: &PastCampaign,
    now: Timestamp,
) -> Result<bool> {
    let spec = serde_json::to_string(&c.spec).expect("a spec serializes");
    let inserted = db
        .execute(
            "INSERT INTO campaigns (id, name, spec, status, end_reason, activated_at, created_at, updated_at) \
             VALUES ($1, $2, $3, 'ended', 'completed', $4, $4, $5) ON CONFLICT (id) DO NOTHING",
            &[&c.id, &c.spec.name.as_str(), &spec, &micros(c.started_at), &micros(c.ended_at)],
        )
        .await?;
    if inserted == 0 {
        return Ok(false);
    }
    let zone = &ctx.zone;
    let start_day = zone.day_number(c.started_at);
    let mut coupons = CouponRows::default();
    let mut ledger = LedgerRows::default();
    let mut counts = CouponCounts::default();
    let mut per_template: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    let (mut users, mut lists) = (Vec::new(), Vec::new());
    for (user, granted) in &c.members {
        users.push(user.clone());
        lists.push(
            serde_json::to_string(&granted.iter().map(|p| &p.id).collect::<Vec<_>>())
                .expect("ids serialize"),
        );
        for p in granted {
            let key = |day| CouponKey {
                template_id: p.template_id.clone(),
                campaign_id: c.id.clone(),
                store_id: String::new(),
                route: "campaign".into(),
                day,
            };
            let t = per_template.entry(&p.template_id).or_default();
            t.0 += 1;
            ledger.push(
                &p.id,
                &p.template_id,
                user,
                LedgerEvent::Granted,
                None,
                CouponStatus::Claimed,
                c.started_at,
                0,
            );
            counts.add(
                key(start_day),
                CouponDelta::of(None, CouponStatus::Claimed, 0),
            );
            let (status, updated, discount) = match p.redeemed {
                Some((at, given)) => {
                    t.1 += 1;
                    ledger.push(
                        &p.id,
                        &p.template_id,
                        user,
                        LedgerEvent::Redeemed,
                        Some(CouponStatus::Claimed),
                        CouponStatus::Redeemed,
                        at,
                        given,
                    );
                    counts.add(
                        key(zone.day_number(at)),
                        CouponDelta::of(Some(CouponStatus::Claimed), CouponStatus::Redeemed, given),
                    );
                    (CouponStatus::Redeemed, at, Some(given))
                }
                None if p.valid_until <= now => {
                    ledger.push(
                        &p.id,
                        &p.template_id,
                        user,
                        LedgerEvent::Expired,
                        Some(CouponStatus::Claimed),
                        CouponStatus::Expired,
                        p.valid_until,
                        0,
                    );
                    (CouponStatus::Expired, p.valid_until, None)
                }
                None => (CouponStatus::Claimed, c.started_at, None),
            };
            coupons.id.push(p.id.clone());
            coupons.template.push(p.template_id.clone());
            coupons.user.push(user.clone());
            coupons.status.push(status.as_str().to_string());
            coupons.claimed_at.push(micros(c.started_at));
            coupons.day.push(start_day);
            coupons.until.push(micros(p.valid_until));
            coupons.updated_at.push(micros(updated));
            coupons.discount.push(discount);
        }
    }
    db.execute_rows(
        "INSERT INTO campaign_entries (campaign_id, user_id, occurrence, status, due_at, entered_at, done_at, coupon_ids) \
         SELECT $1, x.u, 'once', 'treated', $2, $2, $2, x.ids FROM {rows}",
        &[&c.id, &micros(c.started_at)],
        &[("u", Column::Text(&users)), ("ids", Column::Text(&lists))],
    )
    .await?;
    // Redemptions at a counter, in effect: what they took off is kept on the coupon.
    db.execute_rows(
        "INSERT INTO coupons (id, template_id, store_id, user_id, code, status, route, campaign_id, \
         claimed_at, claim_day, valid_from, valid_until, updated_at, discount, payable) \
         SELECT x.id, x.template_id, NULL, x.user_id, x.id, x.status, 'campaign', $1, \
         x.claimed_at, x.day, x.claimed_at, x.until, x.updated_at, x.discount, NULL FROM {rows}",
        &[&c.id],
        &[
            ("id", Column::Text(&coupons.id)),
            ("template_id", Column::Text(&coupons.template)),
            ("user_id", Column::Text(&coupons.user)),
            ("status", Column::Text(&coupons.status)),
            ("claimed_at", Column::Int(&coupons.claimed_at)),
            ("day", Column::Int(&coupons.day)),
            ("until", Column::Int(&coupons.until)),
            ("updated_at", Column::Int(&coupons.updated_at)),
            ("discount", Column::MaybeInt(&coupons.discount)),
        ],
    )
    .await?;
    db.execute_rows(
        "INSERT INTO coupon_ledger (coupon_id, template_id, user_id, event, from_status, to_status, at, actor, reason, given) \
         SELECT x.coupon_id, x.template_id, x.user_id, x.event, x.from_status, x.to_status, x.at, 'import', 'past campaign', x.given FROM {rows}",
        &[],
        &[
            ("coupon_id", Column::Text(&ledger.coupon)),
            ("template_id", Column::Text(&ledger.template)),
            ("user_id", Column::Text(&ledger.user)),
            ("event", Column::Text(&ledger.event)),
            ("from_status", Column::MaybeText(&ledger.from)),
            ("to_status", Column::Text(&ledger.to)),
            ("at", Column::Int(&ledger.at)),
            ("given", Column::Int(&ledger.given)),
        ],
    )
    .await?;
    add_coupon_counts(db, &counts).await?;
    let (mut templates, mut granted, mut used) = (Vec::new(), Vec::new(), Vec::new());
    for (t, (g, u)) in per_template {
        templates.push(t.to_string());
        granted.push(g);
        used.push(u);
    }
    db.execute_rows(
        "UPDATE templates SET issued = issued + x.g, claimed = claimed + x.g, used = used + x.u \
         FROM {rows} WHERE templates.id = x.id",
        &[],
        &[
            ("id", Column::Text(&templates)),
            ("g", Column::Int(&granted)),
            ("u", Column::Int(&used)),
        ],
    )
    .await?;
    let members = c.members.len() as i64;
    let total: i64 = granted.iter().sum();
    db.execute(
        "UPDATE campaigns SET entered = $2, treated = $2, granted = $3, spent = $4 WHERE id = $1",
        &[&c.id, &members, &total, &c.spent],
    )
    .await?;
    Ok(true)
}
