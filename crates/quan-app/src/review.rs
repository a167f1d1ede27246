//! A campaign's review (docs/DOMAIN.md section 9): its funnel, what it cost (face value, and
//! the money its coupons gave net of refunds, by funder), the orders they were used in and ROI,
//! and, with a holdout, what the campaign added, with 95% intervals.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use quan_core::access::Principal;
use quan_core::review::uplift::incrementality;
use quan_core::review::{ratio_bp_floor, Arm, ByFunder, Incrementality};
use quan_core::text::Id;
use quan_core::zone::TenantZone;
use quan_store::{CountsOf, CouponCount, SalesCount};
use serde::Serialize;
use utoipa::ToSchema;

use crate::forecast::CampaignForecast;
use crate::keys::Capability;
use crate::{require, App, Error, Result};

/// `GET /v1/campaigns/{id}/review`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignReview {
    pub campaign_id: String,
    /// When it was computed: every figure is as of then.
    #[schema(value_type = String, format = DateTime)]
    pub as_of: Timestamp,
    /// The days after entering in which a member's orders count.
    pub attribution_days: u32,
    pub funnel: Funnel,
    pub cost: Cost,
    pub coupon_orders: CouponOrders,
    /// Per tenant-local day, the coupons granted, redeemed, and given back by refunds.
    pub daily: Vec<Day>,
    /// Coupon GMV × 10000 / money given, rounded down; absent when nothing was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roi_bp: Option<i64>,
    /// The forecast made when the campaign was activated, beside what happened.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forecast: Option<ForecastBeside>,
    /// What the holdout says, for a campaign that holds members out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holdout: Option<Incrementality>,
}

/// From entering to using.
#[derive(Debug, Serialize, ToSchema)]
pub struct Funnel {
    /// Entries of members, whatever became of them.
    pub entered: i64,
    pub treated: i64,
    pub held_out: i64,
    /// Coupons granted.
    pub granted: i64,
    /// Granted coupons redeemed now (a coupon a full refund gave back is not).
    pub used: i64,
    /// Messages the campaign queued for its members.
    pub messages_sent: i64,
    /// Of those, the ones a channel's webhook accepted.
    pub messages_delivered: i64,
    /// Of those, the ones given up after their last retry.
    pub messages_dead: i64,
    /// Opens of the claim links the campaign's messages carried (the claim page read with
    /// one; a short link leads there).
    pub links_opened: i64,
}

/// What the campaign's coupons cost, minor units.
#[derive(Debug, Serialize, ToSchema)]
pub struct Cost {
    pub face_value_granted: i64,
    /// Face value of the coupons used (the articles' 实际发放成本).
    pub face_value_used: i64,
    /// What the used coupons took off, net of refunds.
    pub discount_given: i64,
    /// `discount_given` by who pays it, by each template's funding shares (largest remainder).
    pub by_funder: ByFunder,
}

/// The paid orders that used at least one of the campaign's coupons (checkout orders, and
/// purchases at a store counter).
#[derive(Debug, Serialize, ToSchema)]
pub struct CouponOrders {
    pub count: i64,
    /// What they cost the members, less refunds.
    pub gmv: i64,
}

/// A day of a campaign.
#[derive(Debug, Serialize, ToSchema)]
pub struct Day {
    /// The tenant-local date.
    #[schema(value_type = String, format = Date)]
    pub day: jiff::civil::Date,
    pub granted: i64,
    /// Redemptions that day.
    pub used: i64,
    /// Redemptions undone that day (a refund gave the coupon back).
    pub returned: i64,
}

/// Counter rows added up per tenant-local day.
#[derive(Default)]
pub(crate) struct Days(BTreeMap<i64, (i64, i64, i64)>);

impl Days {
    pub fn add(&mut self, c: &CouponCount) {
        let d = self.0.entry(c.day).or_default();
        d.0 += c.claimed;
        d.1 += c.used;
        d.2 += c.returned;
    }

    pub fn into_days(self) -> Vec<Day> {
        self.0
            .into_iter()
            .map(|(day, (granted, used, returned))| Day {
                day: TenantZone::date_of_day(day),
                granted,
                used,
                returned,
            })
            .collect()
    }
}

impl CouponOrders {
    /// What sales counters add up to.
    pub(crate) fn of(sales: &[SalesCount]) -> CouponOrders {
        CouponOrders {
            count: sales.iter().map(|s| s.orders).sum(),
            gmv: sales.iter().map(|s| s.gmv).sum(),
        }
    }
}

/// What a campaign's coupons gave ([`App::campaign_spent`]).
pub(crate) struct Spent {
    pub daily: Vec<Day>,
    pub used: i64,
    pub face_value_used: i64,
    pub by_funder: ByFunder,
    pub coupon_orders: CouponOrders,
}

/// The forecast made at activation and the same figures as they turned out.
#[derive(Debug, Serialize, ToSchema)]
pub struct ForecastBeside {
    #[serde(flatten)]
    pub forecast: CampaignForecast,
    pub actual: Actual,
}

/// What happened, in the forecast's terms.
#[derive(Debug, Serialize, ToSchema)]
pub struct Actual {
    /// Coupons granted.
    pub issued: i64,
    pub used: i64,
    /// used / issued, bp rounded down (absent when nothing was issued).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub use_bp: Option<i64>,
    /// The face value of the coupons used, as the forecast's use cost counts it.
    pub use_cost: i64,
    /// Coupon GMV.
    pub output: i64,
    /// output / use cost, bp rounded down (absent when nothing was used).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roi_bp: Option<i64>,
}

impl App {
    /// The review of a campaign as of now.
    pub async fn campaign_review(&self, principal: &Principal, id: &Id) -> Result<CampaignReview> {
        require(principal, Capability::Campaigns.roles())?;
        let campaign = self.campaign_record(id).await?;
        let _report = self
            .reports
            .acquire()
            .await
            .map_err(|_| Error::internal())?;
        let attribution_days = campaign.spec.attribution_days();
        let Spent {
            daily,
            used,
            face_value_used,
            by_funder,
            coupon_orders,
        } = self.campaign_spent(id).await?;
        let discount_given = by_funder.total();
        let holdout = match campaign.spec.holdout_bp {
            0 => None,
            bp => {
                let window = SignedDuration::from_hours(24 * i64::from(attribution_days));
                let members = self.store.campaign_outcomes(id, window).await?;
                let (mut treated, mut control) = (Arm::default(), Arm::default());
                for m in &members {
                    if m.treated {
                        &mut treated
                    } else {
                        &mut control
                    }
                    .add(&m.outcome);
                }
                Some(incrementality(&treated, &control, bp, discount_given))
            }
        };
        let messages = self.store.campaign_messages(id).await?;
        let stats = campaign.stats;
        let forecast = self
            .campaign_forecast(id)
            .await?
            .map(|forecast| ForecastBeside {
                forecast,
                actual: Actual {
                    issued: stats.granted,
                    used,
                    use_bp: ratio_bp_floor(used, stats.granted),
                    use_cost: face_value_used,
                    output: coupon_orders.gmv,
                    roi_bp: ratio_bp_floor(coupon_orders.gmv, face_value_used),
                },
            });
        Ok(CampaignReview {
            campaign_id: campaign.id,
            as_of: self.now(),
            attribution_days,
            funnel: Funnel {
                entered: stats.entered,
                treated: stats.treated,
                held_out: stats.held_out,
                granted: stats.granted,
                used,
                messages_sent: messages.sent,
                messages_delivered: messages.delivered,
                messages_dead: messages.dead,
                links_opened: self.store.link_opens(id).await?,
            },
            cost: Cost {
                face_value_granted: stats.spent,
                face_value_used,
                discount_given,
                by_funder,
            },
            roi_bp: ratio_bp_floor(coupon_orders.gmv, discount_given),
            coupon_orders,
            daily,
            forecast,
            holdout,
        })
    }

    /// Recomputes the daily counters from the coupon and sales ledgers.
    pub async fn rebuild_counters(&self, principal: &Principal) -> Result<quan_store::Rebuilt> {
        require(principal, Capability::Campaigns.roles())?;
        Ok(self.store.rebuild_counts().await?)
    }

    /// What a campaign's coupons gave, from the daily counters (never the coupons): how many
    /// are used, their face value, the money they took off net of refunds by funder, the
    /// orders they were used in, and each day's grants and uses.
    pub(crate) async fn campaign_spent(&self, id: &str) -> Result<Spent> {
        let counts = self
            .store
            .coupon_counts(CountsOf::Campaign(id.to_string()))
            .await?;
        // Per template: the coupons used now and what they gave; each template read once.
        let mut by_template: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
        let mut days = Days::default();
        for c in &counts {
            let (used, given) = by_template.entry(&c.template_id).or_default();
            *used += c.used - c.returned;
            *given += c.given;
            days.add(c);
        }
        let (mut used, mut face_value_used, mut by_funder) = (0, 0, ByFunder::default());
        for (template_id, (count, amount)) in by_template {
            let template = self.parsed_template(template_id).await?;
            used += count;
            face_value_used += count * template.face_value();
            by_funder += ByFunder::split(amount, &template.spec().funding);
        }
        let sales = self
            .store
            .sales_counts(CountsOf::Campaign(id.to_string()))
            .await?;
        Ok(Spent {
            daily: days.into_days(),
            used,
            face_value_used,
            by_funder,
            coupon_orders: CouponOrders::of(&sales),
        })
    }
}
