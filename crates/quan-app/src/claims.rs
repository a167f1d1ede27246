//! Claiming: public claims, grants by service staff, signed links and pre-made claim codes.

use jiff::{SignedDuration, Timestamp};
use quan_core::access::{Principal, Role};
use quan_core::claim::{guide_grant, honours, Route};
use quan_core::link::{self, LinkClaims};
use quan_core::template::Channel;
use quan_core::text::{Id, Label};
use quan_core::ErrorCode;
use quan_store::{
    new_id, ClaimCommand, ClaimOutcome, ClaimRoute, IdempotencyKey, JobKind, NewJob, TemplateRecord,
};
use rand::Rng;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::jobs::JobView;
use crate::keys::Capability;
use crate::{require, App, Error, Result};

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimBody {
    pub user_id: Id,
    #[serde(default)]
    pub channel: Option<Channel>,
    /// A region code (province or city, e.g. `44` or `44-03`).
    #[serde(default)]
    pub region: Option<Label>,
    /// A signed claim link (from `POST /v1/templates/{id}/links`).
    #[serde(default)]
    pub link: Option<Text2k>,
    /// A pre-made single-use claim code.
    #[serde(default)]
    pub claim_code: Option<Id>,
}

/// A signed link token: at most 2,000 bytes.
pub type Text2k = quan_core::text::Text<2000>;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantBody {
    pub user_id: Id,
    #[serde(default)]
    pub channel: Option<Channel>,
    #[serde(default)]
    pub region: Option<Label>,
}

/// A coupon that reached a wallet.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimedBody {
    pub coupon_id: String,
    /// The coupon's own code, for redemption at a counter.
    pub code: String,
    pub template_id: String,
    pub user_id: String,
    #[schema(value_type = String, format = DateTime)]
    pub valid_from: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub valid_until: Timestamp,
}

#[derive(Debug, Default, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkBody {
    /// When the link stops working (default: 30 days from now).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
    /// Bind the link to one user (a private message); otherwise anyone holding it may claim.
    #[serde(default)]
    pub user_id: Option<Id>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LinkAnswer {
    /// The signed token to send as `link` in a claim.
    pub link: String,
    /// A URL carrying it, for an SMS or a post.
    pub url: String,
    /// A short URL under quan's own address that redirects to `url` until the link expires
    /// (for an SMS, where characters count); made by `POST /v1/templates/{id}/links`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub short_url: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
}

/// Counts up to this are made within the call; larger ones by a background job.
pub const CODES_IN_CALL: i64 = 10_000;
/// The largest count one job makes.
pub const CODES_PER_JOB: i64 = 1_000_000;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimCodesBody {
    /// How many codes to make, each taking one unit of stock: up to 10000 within the call
    /// (201), up to 1000000 by a background job (202).
    #[schema(minimum = 1, maximum = 1000000)]
    pub count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimCodesAnswer {
    pub codes: Vec<String>,
}

/// Claim codes made at once, or a job that makes them.
pub enum CodesMade {
    Now(ClaimCodesAnswer),
    ByJob(JobView),
}

/// The stores a merchant or guide may issue for ([`Principal::issuing_stores`]).
fn confined(principal: &Principal) -> Option<Vec<String>> {
    principal.issuing_stores().map(<[String]>::to_vec)
}

/// Whether a stored template's distribution can ever honour `route`.
fn honours_route(record: TemplateRecord, route: Route) -> Result<bool> {
    Ok(honours(&record.template, route))
}

fn answer(outcome: ClaimOutcome, route: &ClaimRoute) -> Result<ClaimedBody> {
    match outcome {
        ClaimOutcome::Claimed(c) => Ok(ClaimedBody {
            coupon_id: c.coupon_id,
            code: c.code,
            template_id: c.template_id,
            user_id: c.user_id,
            valid_from: c.valid_from,
            valid_until: c.valid_until,
        }),
        ClaimOutcome::Refused(code) => {
            let field = match code {
                ErrorCode::ChannelNotAllowed => Some("channel"),
                ErrorCode::RegionNotAllowed => Some("region"),
                ErrorCode::InvalidLink if matches!(route, ClaimRoute::Code(_)) => {
                    Some("claim_code")
                }
                ErrorCode::InvalidLink => Some("link"),
                _ => None,
            };
            Err(match field {
                Some(f) => Error::field(code, f, code.meaning()),
                None => Error::code(code),
            })
        }
        ClaimOutcome::NotFound => Err(Error::not_found("template")),
        ClaimOutcome::IdempotencyMismatch => Err(Error::field(
            ErrorCode::IdempotencyMismatch,
            "Idempotency-Key",
            "this key was used with another request",
        )),
    }
}

impl App {
    async fn run_claim(&self, cmd: ClaimCommand) -> Result<ClaimedBody> {
        let route = cmd.route.clone();
        let outcome = self.store.claim(cmd).await?;
        answer(outcome, &route)
    }

    /// Claims a coupon for a user: the rules of docs/DOMAIN.md section 5, in order. `idempotency`
    /// is decided inside the claim's own transaction.
    pub async fn claim(
        &self,
        principal: &Principal,
        template_id: Id,
        body: ClaimBody,
        idempotency: Option<IdempotencyKey>,
    ) -> Result<ClaimedBody> {
        require(principal, &[Role::Platform, Role::Merchant, Role::Customer])?;
        if !principal.speaks_for(&body.user_id) {
            return Err(Error::field(
                ErrorCode::Forbidden,
                "user_id",
                "a customer key claims for its own user only",
            ));
        }
        let now = self.now();
        let route = match (body.link, body.claim_code) {
            (Some(_), Some(_)) => {
                return Err(Error::field(
                    ErrorCode::InvalidValue,
                    "claim_code",
                    "give a link or a claim code, not both",
                ))
            }
            (Some(l), None) => {
                let valid = link::verify(
                    &self.link_secret,
                    &l,
                    &template_id,
                    &body.user_id,
                    now.as_second(),
                )
                .is_ok();
                ClaimRoute::Link { valid }
            }
            (None, Some(code)) => ClaimRoute::Code(code.to_ascii_uppercase()),
            (None, None) => ClaimRoute::Public,
        };
        self.run_claim(ClaimCommand {
            template_id: template_id.into_string(),
            user_id: body.user_id.into_string(),
            channel: body.channel,
            region: body.region.map(Into::into),
            route,
            idempotency,
            actor: principal.key_id.clone(),
            stores: confined(principal),
            now,
        })
        .await
    }

    /// Grants a coupon as customer service or a store guide (`service_only` templates).
    pub async fn grant(
        &self,
        principal: &Principal,
        template_id: Id,
        body: GrantBody,
        idempotency: Option<IdempotencyKey>,
    ) -> Result<ClaimedBody> {
        require(principal, &[Role::Platform, Role::Merchant, Role::Guide])?;
        let channel = match principal.role {
            Role::Guide => {
                let record = self.visible_template(principal, &template_id).await?;
                Some(guide_grant(&record.template, body.channel)?)
            }
            _ => body.channel,
        };
        self.run_claim(ClaimCommand {
            template_id: template_id.into_string(),
            user_id: body.user_id.into_string(),
            channel,
            region: body.region.map(Into::into),
            route: ClaimRoute::Service,
            idempotency,
            actor: principal.key_id.clone(),
            stores: confined(principal),
            now: self.now(),
        })
        .await
    }

    /// Grants a coupon on a campaign's behalf (`campaign_only` templates), through the store
    /// guide channel: a guide's grant of a task's coupon. `key` makes it at most once.
    pub(crate) async fn grant_for_campaign(
        &self,
        principal: &Principal,
        campaign_id: &str,
        template_id: &str,
        user_id: &str,
        key: IdempotencyKey,
    ) -> Result<ClaimedBody> {
        self.run_claim(ClaimCommand {
            template_id: template_id.to_string(),
            user_id: user_id.to_string(),
            channel: Some(Channel::StoreGuide),
            region: None,
            route: ClaimRoute::Campaign(campaign_id.to_string()),
            idempotency: Some(key),
            actor: principal.key_id.clone(),
            stores: None,
            now: self.now(),
        })
        .await
    }

    /// A granted coupon, answered as its claim was.
    pub(crate) async fn granted(&self, coupon_id: &str) -> Result<ClaimedBody> {
        let c = self
            .store
            .coupon(coupon_id)
            .await?
            .ok_or_else(Error::internal)?;
        Ok(ClaimedBody {
            coupon_id: c.id,
            code: c.code,
            template_id: c.template_id,
            user_id: c.user_id,
            valid_from: c.valid_from,
            valid_until: c.valid_until,
        })
    }

    /// A template the caller may see whose distribution can honour `route`.
    async fn distributed(&self, principal: &Principal, id: &Id, route: Route) -> Result<()> {
        let record = self.visible_template(principal, id).await?;
        if !honours_route(record, route)? {
            return Err(Error::field(
                ErrorCode::RouteNotDistributed,
                "distribution",
                ErrorCode::RouteNotDistributed.meaning(),
            ));
        }
        Ok(())
    }

    /// Signs a claim link for a template (the "own channel promotion link").
    pub async fn create_link(
        &self,
        principal: &Principal,
        template_id: Id,
        body: LinkBody,
    ) -> Result<LinkAnswer> {
        require(principal, Capability::LinksAndCodes.roles())?;
        self.distributed(principal, &template_id, Route::Link { valid: true })
            .await?;
        let now = self.now();
        let expires_at = body
            .expires_at
            .unwrap_or_else(|| now + SignedDuration::from_hours(24 * 30));
        if expires_at <= now {
            return Err(Error::field(
                ErrorCode::WindowInverted,
                "expires_at",
                "must be in the future",
            ));
        }
        let signed = self.sign_link(
            &template_id,
            body.user_id.map(Id::into_string),
            None,
            expires_at,
        );
        self.shorten(&template_id, signed).await
    }

    /// A signed claim link for a template, bound to `user_id` when given, and its URL (the
    /// links of `create_link` and of messages). The caller has checked that the template's
    /// distribution honours links.
    pub(crate) fn sign_link(
        &self,
        template_id: &str,
        user_id: Option<String>,
        campaign_id: Option<String>,
        expires_at: Timestamp,
    ) -> LinkAnswer {
        let nonce: u64 = rand::rng().random();
        let claims = LinkClaims {
            template_id: template_id.to_string(),
            expires_at: expires_at.as_second(),
            user_id,
            campaign_id,
            nonce: format!("{nonce:x}"),
        };
        let signed = link::sign(&self.link_secret, &claims);
        let url = self.claim_url(template_id, &signed);
        LinkAnswer {
            link: signed,
            url,
            short_url: None,
            expires_at,
        }
    }

    /// Whether a template exists and its distribution honours signed links.
    pub(crate) async fn honours_links(&self, template_id: &str) -> Result<bool> {
        match self.store.template(template_id).await? {
            Some(record) => honours_route(record, Route::Link { valid: true }),
            None => Ok(false),
        }
    }

    /// Makes pre-made, single-use claim codes; they count as issued and take stock when made.
    /// Up to [`CODES_IN_CALL`] are made at once; more (up to [`CODES_PER_JOB`]) by a job.
    pub async fn create_claim_codes(
        &self,
        principal: &Principal,
        template_id: Id,
        body: ClaimCodesBody,
    ) -> Result<CodesMade> {
        require(principal, Capability::LinksAndCodes.roles())?;
        self.distributed(principal, &template_id, Route::Code { valid: true })
            .await?;
        if body.count < 1 {
            return Err(Error::field(
                ErrorCode::NotPositive,
                "count",
                "must be at least 1",
            ));
        }
        if body.count > CODES_PER_JOB {
            return Err(Error::field(
                ErrorCode::TooLarge,
                "count",
                format!(
                    "must be at most {CODES_PER_JOB} (made by a job; up to {CODES_IN_CALL} are \
                     made within the call)"
                ),
            ));
        }
        if body.count <= CODES_IN_CALL {
            return match self
                .store
                .make_claim_codes(&template_id, body.count as u32, self.now())
                .await?
            {
                Ok(codes) => Ok(CodesMade::Now(ClaimCodesAnswer { codes })),
                Err(code) => Err(Error::code(code)),
            };
        }
        let now = self.now();
        let lease = self.jobs.new_lease();
        let owner = lease.owner.clone();
        let job = self
            .store
            .insert_job(NewJob {
                id: new_id("job", now.as_millisecond()),
                kind: JobKind::ClaimCodes,
                template_id: template_id.into_string(),
                total: body.count,
                created_by: principal.key_id.clone(),
                now,
                lease,
            })
            .await?
            .ok_or_else(|| Error::not_found("template"))?;
        self.jobs.spawn(job.clone(), owner);
        Ok(CodesMade::ByJob(job.into()))
    }
}
