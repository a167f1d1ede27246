//! Members: profiles, their stage and RFM, lists, events, and the 360 view.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use jiff::Timestamp;
use quan_core::access::Role;
use quan_core::scrm::{lifecycle, History, LifecycleConfig, RfmScore, Stage};
use quan_core::ErrorCode;
use quan_store::scrm::{self, MemberProfile, MemberRecord, Written};
use quan_store::WalletQuery;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::history::OrderSummaryView;
use super::wallet::{CouponView, LedgerView};
use super::{PageBody, Paging, Q};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::json::Body;
use crate::AppState;

/// A member's profile as written (the aggregates are quan's own).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberBody {
    /// Required by `POST /v1/members`; taken from the path by `PUT`.
    #[serde(default)]
    pub id: Option<String>,
    /// When the member joined (default: kept, or now for a new member).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub joined_at: Option<Timestamp>,
    /// The membership tier (gold, vip, ...).
    pub tier: Option<String>,
    pub region: Option<String>,
    /// The channel the member came from.
    pub channel: Option<String>,
    /// The assigned store guide.
    pub guide_id: Option<String>,
    #[serde(default)]
    pub points: i64,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Anything else (demographics, ...): an object.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<serde_json::Value>,
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

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    pub id: String,
    #[schema(value_type = String, format = DateTime)]
    pub joined_at: Timestamp,
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

/// A short text field: 1..=128 bytes.
pub(crate) fn text(field: &str, v: &str) -> ApiResult<()> {
    if v.is_empty() || v.len() > 128 {
        return Err(ApiError::field(
            ErrorCode::InvalidValue,
            field,
            "must be 1..128 bytes",
        ));
    }
    Ok(())
}

/// Checks a member's profile; `joined_at` when the body gives none.
pub fn profile(id: String, body: MemberBody, joined_at: Timestamp) -> ApiResult<MemberProfile> {
    text("id", &id)?;
    for (field, v) in [
        ("tier", &body.tier),
        ("region", &body.region),
        ("channel", &body.channel),
        ("guide_id", &body.guide_id),
    ] {
        if let Some(v) = v {
            text(field, v)?;
        }
    }
    if body.points < 0 {
        return Err(ApiError::field(
            ErrorCode::Negative,
            "points",
            "must not be negative",
        ));
    }
    if body.tags.len() > 100 {
        return Err(ApiError::field(
            ErrorCode::TooLarge,
            "tags",
            "at most 100 tags",
        ));
    }
    for (i, t) in body.tags.iter().enumerate() {
        text(&format!("tags[{i}]"), t)?;
    }
    let attributes = body.attributes.unwrap_or_else(|| serde_json::json!({}));
    if !attributes.is_object() {
        return Err(ApiError::field(
            ErrorCode::InvalidType,
            "attributes",
            "must be an object",
        ));
    }
    let mut tags = body.tags;
    tags.sort();
    tags.dedup();
    Ok(MemberProfile {
        id,
        joined_at: body.joined_at.unwrap_or(joined_at),
        tier: body.tier,
        region: body.region,
        channel: body.channel,
        guide_id: body.guide_id,
        points: body.points,
        tags,
        attributes,
    })
}

async fn write(state: &AppState, p: MemberProfile) -> ApiResult<(Written, MemberView)> {
    let now = state.now();
    let written = state.store.put_members(vec![p.clone()], now).await?[0];
    let m = state
        .store
        .member(&p.id)
        .await?
        .ok_or_else(|| ApiError::code(ErrorCode::Internal))?;
    let config = scrm::lifecycle_config(state.store.as_ref()).await?;
    Ok((written, MemberView::current(m, now, &config)))
}

/// Creates or replaces a member's profile; `201` when it is new.
#[utoipa::path(put, path = "/v1/members/{id}", tag = "members", params(("id" = String, Path)), request_body = MemberBody,
    responses((status = 200, body = MemberView), (status = 201, body = MemberView), (status = 422, body = ErrorBody)))]
pub async fn put(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body, _): Body<MemberBody>,
) -> ApiResult<(StatusCode, Json<MemberView>)> {
    caller.require(&[Role::Platform])?;
    if body.id.as_ref().is_some_and(|b| *b != id) {
        return Err(ApiError::field(
            ErrorCode::InvalidValue,
            "id",
            "differs from the path",
        ));
    }
    let joined = match state.store.member(&id).await? {
        Some(m) => m.profile.joined_at,
        None => state.now(),
    };
    let (written, view) = write(&state, profile(id, body, joined)?).await?;
    let status = if written == Written::Inserted {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(view)))
}

/// Creates a member (`id` in the body); `409` when the id exists.
#[utoipa::path(post, path = "/v1/members", tag = "members", request_body = MemberBody,
    responses((status = 201, body = MemberView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Body(body, _): Body<MemberBody>,
) -> ApiResult<(StatusCode, Json<MemberView>)> {
    caller.require(&[Role::Platform])?;
    let id = body
        .id
        .clone()
        .ok_or_else(|| ApiError::field(ErrorCode::MissingField, "id", "a member needs an id"))?;
    if state.store.member(&id).await?.is_some() {
        return Err(ApiError::field(
            ErrorCode::Conflict,
            "id",
            "a member with this id exists",
        ));
    }
    let (_, view) = write(&state, profile(id, body, state.now())?).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AsOf {
    /// Evaluate the stage (and counts) as of this time; default now.
    #[param(value_type = Option<String>, format = DateTime)]
    pub as_of: Option<Timestamp>,
}

/// One member, with `lifecycle_stage`, `rfm`, `orders_count` and `total_spent`.
#[utoipa::path(get, path = "/v1/members/{id}", tag = "members", params(("id" = String, Path), AsOf),
    responses((status = 200, body = MemberView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Q(q): Q<AsOf>,
) -> ApiResult<Json<MemberView>> {
    caller.require(&[Role::Platform])?;
    Ok(Json(member_view(&state, &id, q.as_of).await?))
}

/// The member as of `as_of` (default now): from the stored aggregates, or, for a past time,
/// from the orders paid up to it.
async fn member_view(
    state: &AppState,
    id: &str,
    as_of: Option<Timestamp>,
) -> ApiResult<MemberView> {
    let m = state
        .store
        .member(id)
        .await?
        .ok_or_else(|| ApiError::not_found("member"))?;
    let config = scrm::lifecycle_config(state.store.as_ref()).await?;
    let now = state.now();
    let Some(as_of) = as_of else {
        return Ok(MemberView::current(m, now, &config));
    };
    let history = if m.history.last.is_some_and(|last| last > as_of) {
        let orders = state.store.recent_orders(id, u32::MAX).await?;
        History::of(
            orders
                .iter()
                .filter(|o| quan_core::scrm::history::counts(&o.status))
                .map(|o| (o.paid_at, o.amount)),
            as_of,
        )
    } else {
        m.history
    };
    Ok(MemberView::new(m, history, as_of, &config))
}

/// Members in id order.
#[utoipa::path(get, path = "/v1/members", tag = "members", params(Paging),
    responses((status = 200, body = PageBody<MemberView>)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Q(paging): Q<Paging>,
) -> ApiResult<Json<PageBody<MemberView>>> {
    caller.require(&[Role::Platform])?;
    let page = state
        .store
        .list_members(paging.limit()?, paging.cursor.clone())
        .await?;
    let config = scrm::lifecycle_config(state.store.as_ref()).await?;
    let now = state.now();
    Ok(PageBody::from(page, |m| {
        MemberView::current(m, now, &config)
    }))
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
    pub events: Vec<super::events::EventView>,
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

/// The member 360 view: profile, stage, RFM, recent orders, wallet and coupon history.
#[utoipa::path(get, path = "/v1/members/{id}/360", tag = "members", params(("id" = String, Path)),
    responses((status = 200, body = Member360), (status = 404, body = ErrorBody)))]
pub async fn view_360(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Member360>> {
    caller.require(&[Role::Platform])?;
    let member = member_view(&state, &id, None).await?;
    let now = state.now();
    let recent_orders = state
        .store
        .recent_orders(&id, 10)
        .await?
        .into_iter()
        .map(OrderSummaryView::from)
        .collect();
    let mut wallet = WalletSummary::default();
    let mut coupons = Vec::new();
    let mut cursor = None;
    loop {
        let page = state
            .store
            .wallet(WalletQuery {
                user_id: id.clone(),
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
                quan_core::coupon::CouponStatus::Claimed => &mut wallet.claimed,
                quan_core::coupon::CouponStatus::Locked => &mut wallet.locked,
                quan_core::coupon::CouponStatus::Redeemed => &mut wallet.redeemed,
                quan_core::coupon::CouponStatus::Expired => &mut wallet.expired,
                quan_core::coupon::CouponStatus::Revoked => &mut wallet.revoked,
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
        let ledger = state
            .store
            .ledger(&coupon.id)
            .await?
            .into_iter()
            .map(LedgerView::from)
            .collect();
        history.push(CouponHistory { coupon, ledger });
    }
    let events = state
        .store
        .list_events(&id, 20, None)
        .await?
        .items
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(Json(Member360 {
        member,
        recent_orders,
        wallet,
        coupons: history,
        events,
    }))
}
