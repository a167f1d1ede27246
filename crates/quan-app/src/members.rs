//! Members: profiles, their stage and RFM, lists, and the 360 view (buying is not joining: a
//! customer known only from orders is listed too, as no member).

use jiff::Timestamp;
use quan_core::access::Principal;
use quan_core::coupon::CouponStatus;
use quan_core::scrm::{lifecycle, History, LifecycleConfig, RfmScore, Stage};
use quan_core::text::{Id, Label};
use quan_core::ErrorCode;
use quan_store::scrm::{self, MemberProfile, MemberRecord, Written};
use quan_store::WalletQuery;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::events::{object, EventView};
use crate::history::OrderSummaryView;
use crate::keys::Capability;
use crate::page::{self, PageBody};
use crate::wallet::{CouponView, LedgerView};
use crate::{require, App, Error, Result};

/// A member's profile as written (the aggregates are quan's own).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberBody {
    /// Required by `POST /v1/members`; taken from the path by `PUT`.
    #[serde(default)]
    pub id: Option<Id>,
    /// When the member joined (default: kept, or now for a new member, or for a customer known
    /// only from orders, who joins by this write).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub joined_at: Option<Timestamp>,
    /// The membership tier (gold, vip, ...).
    pub tier: Option<Label>,
    pub region: Option<Label>,
    /// The channel the member came from.
    pub channel: Option<Label>,
    /// The assigned store guide.
    pub guide_id: Option<Id>,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub points: i64,
    #[serde(default)]
    #[schema(max_items = 100)]
    pub tags: Vec<Label>,
    /// Anything else (demographics, ...): an object.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<serde_json::Value>,
}

/// `?as_of=`: evaluate as of this time (default now).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AsOf {
    /// Evaluate the stage (and counts) as of this time; default now.
    #[param(value_type = Option<String>, format = DateTime)]
    pub as_of: Option<Timestamp>,
}

/// RFM scores (0 without orders in the window) and tier.
#[derive(Debug, Serialize, ToSchema)]
pub struct RfmView {
    pub r: u8,
    pub f: u8,
    pub m: u8,
    /// S, A, B or C.
    pub tier: String,
    /// The as-of time of the computation that set them (`null`: never computed).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub as_of: Option<Timestamp>,
}

/// A customer as quan knows it: a member, or a buyer known only from orders (buying is not
/// joining), who has its history, stage and RFM but no membership.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    pub id: String,
    /// Whether the customer joined the membership (created or put as a member, a `signup`
    /// event, a member import); `false` for a buyer known only from its orders. `member_only`
    /// coupons and `new_members` audiences read this and `joined_at`.
    pub member: bool,
    /// When the customer joined; `null` for one who never joined (`member` false).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub joined_at: Option<Timestamp>,
    pub tier: Option<String>,
    pub region: Option<String>,
    pub channel: Option<String>,
    pub guide_id: Option<String>,
    pub points: i64,
    pub tags: Vec<String>,
    #[schema(value_type = Object)]
    pub attributes: serde_json::Value,
    pub lifecycle_stage: Stage,
    pub rfm: RfmView,
    /// Counted orders (paid, shipped, confirmed, completed), all time up to the as-of time.
    pub orders_count: i64,
    /// Their amounts, minor units.
    pub total_spent: i64,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub first_order_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_order_at: Option<Timestamp>,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl MemberView {
    /// The member as of `as_of`, from `history` (its counted orders up to then).
    pub fn new(
        m: MemberRecord,
        history: History,
        as_of: Timestamp,
        config: &LifecycleConfig,
    ) -> Self {
        let RfmScore {
            r,
            f,
            m: money,
            tier,
        } = m.rfm;
        let p = m.profile;
        MemberView {
            lifecycle_stage: lifecycle::stage(&history, as_of, config),
            rfm: RfmView {
                r,
                f,
                m: money,
                tier: tier.as_str().into(),
                as_of: m.rfm_at,
            },
            orders_count: history.orders,
            total_spent: history.spent,
            first_order_at: history.first,
            last_order_at: history.last,
            id: p.id,
            member: p.joined_at.is_some(),
            joined_at: p.joined_at,
            tier: p.tier,
            region: p.region,
            channel: p.channel,
            guide_id: p.guide_id,
            points: p.points,
            tags: p.tags,
            attributes: p.attributes,
            updated_at: m.updated_at,
        }
    }

    /// As of `now`, from the stored aggregates.
    pub fn current(m: MemberRecord, now: Timestamp, config: &LifecycleConfig) -> Self {
        let history = m.history;
        MemberView::new(m, history, now, config)
    }
}

/// Checks a member's profile; `joined_at` when the body gives none. The profile is a member's
/// (it has a join time): writing it makes the customer a member.
pub fn profile(id: Id, body: MemberBody, joined_at: Timestamp) -> Result<MemberProfile> {
    if body.points < 0 {
        return Err(Error::field(
            ErrorCode::Negative,
            "points",
            "must not be negative",
        ));
    }
    if body.points > quan_core::template::MAX_AMOUNT {
        return Err(Error::field(ErrorCode::TooLarge, "points", "too large"));
    }
    if body.tags.len() > 100 {
        return Err(Error::field(
            ErrorCode::TooLarge,
            "tags",
            "at most 100 tags",
        ));
    }
    let attributes = object("attributes", body.attributes)?;
    let mut tags: Vec<String> = body.tags.into_iter().map(Into::into).collect();
    tags.sort();
    tags.dedup();
    Ok(MemberProfile {
        id: id.into_string(),
        joined_at: Some(
            crate::input::accepted_opt("joined_at", body.joined_at)?.unwrap_or(joined_at),
        ),
        tier: body.tier.map(Into::into),
        region: body.region.map(Into::into),
        channel: body.channel.map(Into::into),
        guide_id: body.guide_id.map(Id::into_string),
        points: body.points,
        tags,
        attributes,
    })
}

/// Everything quan knows of a member at a glance.
#[derive(Debug, Serialize, ToSchema)]
pub struct Member360 {
    pub member: MemberView,
    /// The latest orders, newest first (at most 10).
    pub recent_orders: Vec<OrderSummaryView>,
    /// The wallet's coupons by status as of now.
    pub wallet: WalletSummary,
    /// The latest coupons (at most 20), each with its ledger.
    pub coupons: Vec<CouponHistory>,
    /// The latest events (at most 20).
    pub events: Vec<EventView>,
}

/// `?q=&limit=&cursor=`: members whose id starts with `q` (every member without it).
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MemberSearch {
    /// An id prefix (at most 64 characters).
    #[param(max_length = 64)]
    pub q: Option<String>,
    /// At most this many items (1..=500, default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct WalletSummary {
    pub claimed: i64,
    pub locked: i64,
    pub redeemed: i64,
    pub expired: i64,
    pub revoked: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CouponHistory {
    pub coupon: CouponView,
    pub ledger: Vec<LedgerView>,
}

impl App {
    async fn write_member(&self, p: MemberProfile) -> Result<(Written, MemberView)> {
        let now = self.now();
        let written = self.store.put_members(vec![p.clone()], now).await?[0];
        let m = self
            .store
            .member(&p.id)
            .await?
            .ok_or_else(Error::internal)?;
        let config = scrm::lifecycle_config(self.store.as_ref()).await?;
        Ok((written, MemberView::current(m, now, &config)))
    }

    /// Creates or replaces a member's profile; a customer known only from orders joins by it
    /// (now, unless the body says when), keeping its history. `Inserted` for a new member.
    pub async fn put_member(
        &self,
        principal: &Principal,
        id: Id,
        body: MemberBody,
    ) -> Result<(Written, MemberView)> {
        require(principal, Capability::Members.roles())?;
        if body.id.as_ref().is_some_and(|b| *b != id) {
            return Err(Error::field(
                ErrorCode::InvalidValue,
                "id",
                "differs from the path",
            ));
        }
        let joined = self
            .store
            .member(&id)
            .await?
            .and_then(|m| m.profile.joined_at)
            .unwrap_or_else(|| self.now());
        self.write_member(profile(id, body, joined)?).await
    }

    /// Creates a member (`id` in the body); a conflict when the id is a member's. A customer
    /// known only from orders joins by it, keeping its history.
    pub async fn create_member(
        &self,
        principal: &Principal,
        body: MemberBody,
    ) -> Result<MemberView> {
        require(principal, Capability::Members.roles())?;
        let id = body
            .id
            .clone()
            .ok_or_else(|| Error::field(ErrorCode::MissingField, "id", "a member needs an id"))?;
        if self.store.member(&id).await?.is_some_and(|m| m.is_member()) {
            return Err(Error::field(
                ErrorCode::Conflict,
                "id",
                "a member with this id exists",
            ));
        }
        Ok(self.write_member(profile(id, body, self.now())?).await?.1)
    }

    /// One member as of `as_of` (default now): from the stored aggregates, or, for a past
    /// time, from the orders paid up to it.
    pub async fn member(
        &self,
        principal: &Principal,
        id: &Id,
        as_of: Option<Timestamp>,
    ) -> Result<MemberView> {
        require(principal, Capability::Members.roles())?;
        let m = self
            .store
            .member(id)
            .await?
            .ok_or_else(|| Error::not_found("member"))?;
        let config = scrm::lifecycle_config(self.store.as_ref()).await?;
        let Some(as_of) = crate::input::accepted_opt("as_of", as_of)? else {
            return Ok(MemberView::current(m, self.now(), &config));
        };
        let history = if m.history.last.is_some_and(|last| last > as_of) {
            let orders = self.store.recent_orders(id, u32::MAX).await?;
            History::of(
                orders
                    .iter()
                    .filter(|o| o.status.counts())
                    .map(|o| (o.paid_at, o.amount)),
                as_of,
            )
        } else {
            m.history
        };
        Ok(MemberView::new(m, history, as_of, &config))
    }

    /// Customers in id order: members, and buyers known only from orders (`member` false).
    pub async fn list_members(
        &self,
        principal: &Principal,
        q: MemberSearch,
    ) -> Result<PageBody<MemberView>> {
        require(principal, Capability::Members.roles())?;
        let limit = page::limit(q.limit)?;
        let prefix = match q.q.map(|q| q.trim().to_string()) {
            Some(q) if q.chars().count() > 64 => {
                return Err(Error::field(
                    ErrorCode::TooLarge,
                    "q",
                    "at most 64 characters",
                ))
            }
            Some(q) if !q.is_empty() => Some(q),
            _ => None,
        };
        let page = self.store.list_members(prefix, limit, q.cursor).await?;
        let config = scrm::lifecycle_config(self.store.as_ref()).await?;
        let now = self.now();
        Ok(PageBody::from(page, |m| {
            MemberView::current(m, now, &config)
        }))
    }

    /// The member 360 view: profile, stage, RFM, recent orders, wallet and coupon history.
    pub async fn member_360(&self, principal: &Principal, id: &Id) -> Result<Member360> {
        let member = self.member(principal, id, None).await?;
        let now = self.now();
        let recent_orders = self
            .store
            .recent_orders(id, 10)
            .await?
            .into_iter()
            .map(OrderSummaryView::from)
            .collect();
        let mut wallet = WalletSummary::default();
        let mut coupons = Vec::new();
        let mut cursor = None;
        loop {
            let page = self
                .store
                .wallet(WalletQuery {
                    user_id: id.to_string(),
                    status: None,
                    stores: None,
                    now,
                    limit: 500,
                    cursor,
                })
                .await?;
            for c in page.items {
                let view = CouponView::new(c, now);
                *match view.status {
                    CouponStatus::Claimed => &mut wallet.claimed,
                    CouponStatus::Locked => &mut wallet.locked,
                    CouponStatus::Redeemed => &mut wallet.redeemed,
                    CouponStatus::Expired => &mut wallet.expired,
                    CouponStatus::Revoked => &mut wallet.revoked,
                } += 1;
                coupons.push(view);
            }
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        coupons.sort_by(|a, b| {
            b.claimed_at
                .cmp(&a.claimed_at)
                .then_with(|| b.id.cmp(&a.id))
        });
        coupons.truncate(20);
        let mut history = Vec::with_capacity(coupons.len());
        for coupon in coupons {
            let ledger = self
                .store
                .ledger(&coupon.id)
                .await?
                .into_iter()
                .map(LedgerView::from)
                .collect();
            history.push(CouponHistory { coupon, ledger });
        }
        let events = self
            .store
            .list_events(id, 20, None)
            .await?
            .items
            .into_iter()
            .map(Into::into)
            .collect();
        Ok(Member360 {
            member,
            recent_orders,
            wallet,
            coupons: history,
            events,
        })
    }
}
