//! The coupon center (领券中心): the public coupons a member may claim, each with whether they
//! can claim it now and, if not, the rule that refuses them.

use quan_core::access::Principal;
use quan_core::claim::{claim_day, ClaimAsk, ClaimBook, Route};
use quan_core::template::{
    Benefit, Channel, ClaimWindow, Distribution, DistributionMode, HourRange, Scope,
    TemplateStatus, Validity,
};
use quan_core::ErrorCode;
use quan_store::TemplateRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::page::{self, PageBody};

use crate::{require, App, Error, Id, Result, Role};

/// A template as members may see it: its terms and stock, never its audience lists, funding
/// or counters.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicTemplate {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub status: TemplateStatus,
    pub scope: Scope,
    pub benefit: Benefit,
    pub validity: Validity,
    pub distribution: Distribution,
    pub channels: Option<Vec<Channel>>,
    pub regions: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claim_window: Option<ClaimWindow>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usable_hours: Option<Vec<HourRange>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usable_weekdays: Option<Vec<i64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usable_on_orders: Option<Vec<i64>>,
    pub excludes_activity_price: bool,
    pub stock: Option<i64>,
    /// Stock not yet issued; `null` when unlimited.
    pub remaining: Option<i64>,
    pub per_user_limit: Option<i64>,
    pub per_user_daily_limit: Option<i64>,
}

impl From<TemplateRecord> for PublicTemplate {
    fn from(t: TemplateRecord) -> Self {
        let s = t.spec().clone();
        PublicTemplate {
            id: t.id,
            name: s.name,
            description: s.description,
            status: t.status,
            scope: s.scope,
            benefit: s.benefit,
            validity: s.validity,
            distribution: s.distribution,
            channels: s.channels,
            regions: s.regions,
            claim_window: s.claim_window,
            usable_hours: s.usable_hours,
            usable_weekdays: s.usable_weekdays,
            usable_on_orders: s.usable_on_orders,
            excludes_activity_price: s.excludes_activity_price,
            stock: s.stock,
            remaining: t.remaining,
            per_user_limit: s.per_user_limit,
            per_user_daily_limit: s.per_user_daily_limit,
        }
    }
}

/// One coupon of the center, for one member.
#[derive(Debug, Serialize, ToSchema)]
pub struct CenterItem {
    pub template: PublicTemplate,
    /// A claim from the center (no link) would be accepted now.
    pub claimable: bool,
    /// Why not, as the claim would answer it (`user_limit`, `out_of_stock`, ...).
    pub reason: Option<ErrorCode>,
}

/// `?user_id=&channel=&region=&limit=&cursor=`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CenterQuery {
    /// The member (a customer key speaks for its own; a platform key names one).
    pub user_id: Option<Id>,
    /// The channel the member browses on (templates that restrict channels need it).
    pub channel: Option<Channel>,
    /// The member's region code (templates that restrict regions need it).
    pub region: Option<String>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Templates the center lists: claimable without a link by any member, or by store members.
fn listed_in_center(t: &TemplateRecord) -> bool {
    let d = &t.spec().distribution;
    d.has(DistributionMode::Public)
        || d.has(DistributionMode::MemberOnly) && !d.has(DistributionMode::LinkOnly)
}

impl App {
    /// The active public coupons, oldest first, each decided for the member as a claim from
    /// the center would be (reads only: nothing is claimed).
    pub async fn coupon_center(
        &self,
        principal: &Principal,
        q: CenterQuery,
    ) -> Result<PageBody<CenterItem>> {
        // It decides with the member's tier, segments and claims: a merchant may not ask.
        require(principal, &[Role::Customer, Role::Platform])?;
        let user_id = match (principal.role, q.user_id) {
            (Role::Customer, None) => principal.user_id.clone().ok_or_else(Error::internal)?,
            (Role::Customer, Some(u)) if principal.speaks_for(&u) => u.into_string(),
            (Role::Customer, Some(_)) => {
                return Err(Error::field(
                    ErrorCode::Forbidden,
                    "user_id",
                    "a customer key sees its own coupon center only",
                ))
            }
            (_, Some(u)) => u.into_string(),
            (_, None) => {
                return Err(Error::field(
                    ErrorCode::MissingField,
                    "user_id",
                    "name the member whose coupon center to show",
                ))
            }
        };
        let limit = page::limit(q.limit)?;
        let stores = principal.issuing_stores().map(<[String]>::to_vec);
        let mut listed = self
            .all_templates(stores, Some(TemplateStatus::Active))
            .await?;
        listed.retain(listed_in_center);
        let from = q
            .cursor
            .as_ref()
            .map_or(0, |c| listed.partition_point(|t| t.id <= *c));
        let mut items = Vec::new();
        let ask = Asking {
            user_id: &user_id,
            channel: q.channel,
            region: q.region.as_deref(),
            route: Route::Public,
        };
        for record in listed.iter().skip(from).take(limit as usize) {
            let decided = self.would_claim(record, &ask).await?;
            items.push(CenterItem {
                template: record.clone().into(),
                claimable: decided.is_ok(),
                reason: decided.err(),
            });
        }
        let end = from + items.len();
        Ok(PageBody {
            next: (end < listed.len()).then(|| listed[end - 1].id.clone()),
            total: listed.len() as i64,
            items,
        })
    }

    /// Whether a claim of `record` asked as `ask` would be accepted now, decided by the same
    /// [`ClaimBook`] a claim goes through (reads only: nothing is claimed). The coupon center
    /// and a signed link's page both answer with it, so neither page decides for itself.
    pub(crate) async fn would_claim(
        &self,
        record: &TemplateRecord,
        ask: &Asking<'_>,
    ) -> Result<std::result::Result<(), ErrorCode>> {
        let now = self.now();
        let template = record.template.clone();
        let claimant = self
            .store
            .claimant(&record.id, &template, ask.user_id, now)
            .await?;
        let claim = ClaimAsk {
            user_id: ask.user_id,
            channel: ask.channel,
            region: ask.region,
            route: ask.route,
            member: &claimant.facts,
        };
        Ok(
            ClaimBook::new(&template, record.status, record.remaining).decide(
                &claim,
                claimant.counts(claim_day(&self.zone, now)),
                now,
            ),
        )
    }
}

/// A claim as a page would make it, before the member's facts are read.
pub(crate) struct Asking<'a> {
    pub user_id: &'a str,
    pub channel: Option<Channel>,
    pub region: Option<&'a str>,
    pub route: Route,
}
