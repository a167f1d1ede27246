//! Wallets: a user's coupons by status, one coupon with its ledger, and revocation.

use jiff::Timestamp;
use quan_core::access::{Principal, Role};
use quan_core::coupon::CouponStatus;
use quan_core::text::{Id, Note};
use quan_core::ErrorCode;
use quan_store::{CouponRecord, LedgerEntry, WalletQuery};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::page::{self, PageBody};
use crate::{require, App, Error, Result};

/// A coupon in a wallet; `status` is as of now (a claimed coupon past its end is `expired`).
#[derive(Debug, Serialize, ToSchema)]
pub struct CouponView {
    pub id: String,
    pub template_id: String,
    pub store_id: Option<String>,
    pub user_id: String,
    pub code: String,
    pub status: CouponStatus,
    /// How it reached the wallet: public, link, claim_code, service, campaign.
    pub route: String,
    #[schema(value_type = String, format = DateTime)]
    pub claimed_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub valid_from: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub valid_until: Timestamp,
    pub order_id: Option<String>,
}

impl CouponView {
    pub fn new(c: CouponRecord, now: Timestamp) -> Self {
        CouponView {
            status: c.status.as_of(c.valid_until, now),
            id: c.id,
            template_id: c.template_id,
            store_id: c.store_id,
            user_id: c.user_id,
            code: c.code,
            route: c.route,
            claimed_at: c.claimed_at,
            valid_from: c.valid_from,
            valid_until: c.valid_until,
            order_id: c.order_id,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerView {
    pub seq: i64,
    pub event: String,
    pub from_status: Option<String>,
    pub to_status: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// The API key (or `system`) that made the change.
    pub actor: String,
    pub reason: Option<String>,
    pub order_id: Option<String>,
    /// What the entry changed of the money the coupon gave, minor units: its discount when
    /// redeemed, less what refunds take back.
    pub given: i64,
}

impl From<LedgerEntry> for LedgerView {
    fn from(e: LedgerEntry) -> Self {
        LedgerView {
            seq: e.seq,
            event: e.event,
            from_status: e.from_status,
            to_status: e.to_status,
            at: e.at,
            actor: e.actor,
            reason: e.reason,
            order_id: e.order_id,
            given: e.given,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CouponDetail {
    #[serde(flatten)]
    pub coupon: CouponView,
    /// Every status change, oldest first.
    pub ledger: Vec<LedgerView>,
}

/// What a wallet read filters on.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct WalletParams {
    pub status: Option<CouponStatus>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeBody {
    /// Why, for the ledger (1..500 bytes).
    pub reason: Note,
}

impl App {
    /// A user's coupons, optionally by status; a merchant or guide sees its stores' coupons.
    pub async fn wallet(
        &self,
        principal: &Principal,
        user_id: Id,
        q: WalletParams,
    ) -> Result<PageBody<CouponView>> {
        if !principal.speaks_for(&user_id) {
            return Err(Error::forbidden("a customer key reads its own wallet only"));
        }
        let limit = page::limit(q.limit)?;
        let now = self.now();
        let stores = principal.issuing_stores().map(<[String]>::to_vec);
        let page = self
            .store
            .wallet(WalletQuery {
                user_id: user_id.into_string(),
                status: q.status,
                stores,
                now,
                limit,
                cursor: q.cursor,
            })
            .await?;
        Ok(PageBody::from(page, |c| CouponView::new(c, now)))
    }

    async fn visible_coupon(&self, principal: &Principal, id: &str) -> Result<CouponRecord> {
        match self.store.coupon(id).await? {
            Some(c)
                if principal.role == Role::Customer
                    && principal.user_id.as_deref() == Some(&c.user_id) =>
            {
                Ok(c)
            }
            Some(c)
                if principal.role != Role::Customer
                    && principal.owns_store(c.store_id.as_deref()) =>
            {
                Ok(c)
            }
            _ => Err(Error::not_found("coupon")),
        }
    }

    async fn detail(&self, c: CouponRecord) -> Result<CouponDetail> {
        let ledger = self
            .store
            .ledger(&c.id)
            .await?
            .into_iter()
            .map(LedgerView::from)
            .collect();
        Ok(CouponDetail {
            coupon: CouponView::new(c, self.now()),
            ledger,
        })
    }

    /// One coupon with its ledger.
    pub async fn coupon(&self, principal: &Principal, id: &Id) -> Result<CouponDetail> {
        let c = self.visible_coupon(principal, id).await?;
        self.detail(c).await
    }

    /// Revokes a claimed coupon (operators and the owning merchant).
    pub async fn revoke(
        &self,
        principal: &Principal,
        id: &Id,
        body: RevokeBody,
    ) -> Result<CouponDetail> {
        require(principal, &[Role::Platform, Role::Merchant])?;
        self.visible_coupon(principal, id).await?;
        match self
            .store
            .revoke_coupon(id, &principal.key_id, &body.reason, self.now())
            .await?
        {
            Ok(c) => self.detail(c).await,
            Err(ErrorCode::InvalidState) => Err(Error::new(
                ErrorCode::InvalidState,
                "only a claimed coupon can be revoked",
            )),
            Err(code) => Err(Error::code(code)),
        }
    }
}
