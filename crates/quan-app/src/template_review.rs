//! A template's review (docs/DOMAIN.md section 9), from the daily counters: its coupons claimed
//! and used, the use rate, what they gave net of refunds by funder, the orders they were used
//! in and ROI, by day, by claim route (channel) and by campaign.

use std::collections::BTreeMap;

use jiff::Timestamp;
use quan_core::access::Principal;
use quan_core::review::{ratio_bp_floor, ByFunder};
use quan_core::text::Id;
use quan_store::CountsOf;
use serde::Serialize;
use utoipa::ToSchema;

use crate::keys::Capability;
use crate::review::{CouponOrders, Day, Days};
use crate::{require, App, Result};

/// `GET /v1/templates/{id}/review`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateReview {
    pub template_id: String,
    #[schema(value_type = String, format = DateTime)]
    pub as_of: Timestamp,
    /// Coupons that came into wallets (claimed or granted).
    pub claimed: i64,
    /// Of those, redeemed now (a coupon a refund gave back is not).
    pub used: i64,
    /// used / claimed, bp rounded down (absent before any claim).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub use_rate_bp: Option<i64>,
    /// used × face value (the articles' 实际发放成本).
    pub face_value_used: i64,
    /// What the used coupons took off, net of refunds.
    pub discount_given: i64,
    pub by_funder: ByFunder,
    pub coupon_orders: CouponOrders,
    /// Coupon GMV × 10000 / money given, rounded down (absent when nothing was given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roi_bp: Option<i64>,
    pub daily: Vec<Day>,
    /// By claim route: `public`, `link`, `claim_code`, `service`, `campaign`.
    pub by_route: Vec<Slice>,
    /// By the campaign that granted them (`""`: claimed outside campaigns).
    pub by_campaign: Vec<Slice>,
}

/// A part of a template's coupons.
#[derive(Debug, Serialize, ToSchema)]
pub struct Slice {
    pub key: String,
    pub claimed: i64,
    pub used: i64,
    pub discount_given: i64,
}

impl App {
    /// The review of a template the caller may see, as of now.
    pub async fn template_review(&self, principal: &Principal, id: &Id) -> Result<TemplateReview> {
        require(principal, Capability::Dashboard.roles())?;
        let record = self.visible_template(principal, id).await?;
        let template = self.parsed_template(&record.id).await?;
        let counts = self
            .store
            .coupon_counts(CountsOf::Template(record.id.clone()))
            .await?;
        let sales = self
            .store
            .sales_counts(CountsOf::Template(record.id.clone()))
            .await?;
        let mut days = Days::default();
        let mut routes: BTreeMap<&str, (i64, i64, i64)> = BTreeMap::new();
        let mut campaigns: BTreeMap<&str, (i64, i64, i64)> = BTreeMap::new();
        let (mut claimed, mut used, mut given) = (0, 0, 0);
        for c in &counts {
            claimed += c.claimed;
            used += c.used - c.returned;
            given += c.given;
            days.add(c);
            for part in [
                routes.entry(c.route.as_str()).or_default(),
                campaigns.entry(c.campaign_id.as_str()).or_default(),
            ] {
                part.0 += c.claimed;
                part.1 += c.used - c.returned;
                part.2 += c.given;
            }
        }
        let slices = |parts: BTreeMap<&str, (i64, i64, i64)>| -> Vec<Slice> {
            parts
                .into_iter()
                .map(|(key, (claimed, used, discount_given))| Slice {
                    key: key.to_string(),
                    claimed,
                    used,
                    discount_given,
                })
                .collect()
        };
        let coupon_orders = CouponOrders::of(&sales);
        let by_funder = ByFunder::split(given, &template.spec().funding);
        Ok(TemplateReview {
            template_id: record.id.clone(),
            as_of: self.now(),
            claimed,
            used,
            use_rate_bp: ratio_bp_floor(used, claimed),
            face_value_used: used * template.face_value(),
            discount_given: given,
            roi_bp: ratio_bp_floor(coupon_orders.gmv, given),
            by_funder,
            coupon_orders,
            daily: days.into_days(),
            by_route: slices(routes),
            by_campaign: slices(campaigns),
        })
    }
}
