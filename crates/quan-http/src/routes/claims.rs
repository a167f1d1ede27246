//! Claiming: public claims, grants by service staff, signed links and pre-made claim codes.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use jiff::{SignedDuration, Timestamp};
use quan_core::access::{Principal, Role};
use quan_core::link::{self, LinkClaims};
use quan_core::template::Channel;
use quan_core::ErrorCode;
use quan_store::{new_id, ClaimCommand, ClaimOutcome, ClaimRoute, JobKind, NewJob};
use rand::Rng;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::json::Body;
use crate::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimBody {
    pub user_id: String,
    #[serde(default)]
    pub channel: Option<Channel>,
    /// A region code (province or city, e.g. `44` or `44-03`).
    #[serde(default)]
    pub region: Option<String>,
    /// A signed claim link (from `POST /v1/templates/{id}/links`).
    #[serde(default)]
    pub link: Option<String>,
    /// A pre-made single-use claim code.
    #[serde(default)]
    pub claim_code: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantBody {
    pub user_id: String,
    #[serde(default)]
    pub channel: Option<Channel>,
    #[serde(default)]
    pub region: Option<String>,
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

fn user_id(field: &str, v: &str) -> ApiResult<()> {
    if v.trim().is_empty() || v.len() > 128 {
        return Err(ApiError::field(
            ErrorCode::InvalidValue,
            field,
            "must be 1..128 characters",
        ));
    }
    Ok(())
}

fn answer(outcome: ClaimOutcome, route: &ClaimRoute) -> Response {
    match outcome {
        ClaimOutcome::Claimed(c) => (
            StatusCode::CREATED,
            Json(ClaimedBody {
                coupon_id: c.coupon_id,
                code: c.code,
                template_id: c.template_id,
                user_id: c.user_id,
                valid_from: c.valid_from,
                valid_until: c.valid_until,
            }),
        )
            .into_response(),
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
            match field {
                Some(f) => ApiError::field(code, f, code.meaning()),
                None => ApiError::code(code),
            }
            .into_response()
        }
        ClaimOutcome::NotFound => ApiError::not_found("template").into_response(),
        ClaimOutcome::IdempotencyMismatch => ApiError::field(
            ErrorCode::IdempotencyMismatch,
            "Idempotency-Key",
            "this key was used with another request",
        )
        .into_response(),
    }
}

/// The stores a merchant or guide may issue for; customers and operators are not confined.
fn confined(principal: &Principal) -> Option<Vec<String>> {
    match principal.role {
        Role::Merchant | Role::Guide => Some(principal.store_ids.clone()),
        Role::Platform | Role::Customer => None,
    }
}

async fn run(
    state: &AppState,
    principal: &Principal,
    idem_header: &super::IdempotencyHeader,
    raw: &[u8],
    cmd: ClaimCommand,
) -> ApiResult<Response> {
    let idempotency = if idem_header.is_present() {
        let what = format!("claim {} {}", cmd.template_id, cmd.route.as_str());
        super::idempotency_key(idem_header, &principal.key_id, &what, raw)?
    } else {
        None
    };
    let route = cmd.route.clone();
    let outcome = state
        .store
        .claim(ClaimCommand { idempotency, ..cmd })
        .await?;
    Ok(answer(outcome, &route))
}

/// Claims a coupon for a user: the rules of domain.md section 5, in order.
#[utoipa::path(post, path = "/v1/templates/{id}/claim", tag = "claims", params(("id" = String, Path)), request_body = ClaimBody,
    responses((status = 201, body = ClaimedBody), (status = 404, body = ErrorBody), (status = 409, description = "A claim rule refused it", body = ErrorBody)))]
pub async fn claim(
    State(state): State<AppState>,
    caller: Caller,
    idem_header: super::IdempotencyHeader,
    Path(id): Path<String>,
    Body(body, raw): Body<ClaimBody>,
) -> ApiResult<Response> {
    let principal = caller.require(&[Role::Platform, Role::Merchant, Role::Customer])?;
    user_id("user_id", &body.user_id)?;
    if !principal.speaks_for(&body.user_id) {
        return Err(ApiError::field(
            ErrorCode::Forbidden,
            "user_id",
            "a customer key claims for its own user only",
        ));
    }
    let now = state.now();
    let route = match (body.link, body.claim_code) {
        (Some(_), Some(_)) => {
            return Err(ApiError::field(
                ErrorCode::InvalidValue,
                "claim_code",
                "give a link or a claim code, not both",
            ))
        }
        (Some(l), None) => {
            let valid =
                link::verify(&state.link_secret, &l, &id, &body.user_id, now.as_second()).is_ok();
            ClaimRoute::Link { valid }
        }
        (None, Some(code)) => ClaimRoute::Code(code.trim().to_ascii_uppercase()),
        (None, None) => ClaimRoute::Public,
    };
    let cmd = ClaimCommand {
        template_id: id,
        user_id: body.user_id,
        channel: body.channel,
        region: body.region,
        route,
        idempotency: None,
        actor: principal.key_id.clone(),
        stores: confined(principal),
        now,
    };
    run(&state, principal, &idem_header, &raw, cmd).await
}

/// Grants a coupon to a user as customer service or a store guide (`service_only` templates).
#[utoipa::path(post, path = "/v1/templates/{id}/grant", tag = "claims", params(("id" = String, Path)), request_body = GrantBody,
    responses((status = 201, body = ClaimedBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn grant(
    State(state): State<AppState>,
    caller: Caller,
    idem_header: super::IdempotencyHeader,
    Path(id): Path<String>,
    Body(body, raw): Body<GrantBody>,
) -> ApiResult<Response> {
    let principal = caller.require(&[Role::Platform, Role::Merchant, Role::Guide])?;
    user_id("user_id", &body.user_id)?;
    let cmd = ClaimCommand {
        template_id: id,
        user_id: body.user_id,
        channel: body.channel,
        region: body.region,
        route: ClaimRoute::Service,
        idempotency: None,
        actor: principal.key_id.clone(),
        stores: confined(principal),
        now: state.now(),
    };
    run(&state, principal, &idem_header, &raw, cmd).await
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkBody {
    /// When the link stops working (default: 30 days from now).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
    /// Bind the link to one user (a private message); otherwise anyone holding it may claim.
    #[serde(default)]
    pub user_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LinkAnswer {
    /// The signed token to send as `link` in a claim.
    pub link: String,
    /// A URL carrying it, for an SMS or a post.
    pub url: String,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
}

/// Signs a claim link for a template (the "own channel promotion link").
#[utoipa::path(post, path = "/v1/templates/{id}/links", tag = "claims", params(("id" = String, Path)), request_body = LinkBody,
    responses((status = 201, body = LinkAnswer), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_link(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body, _): Body<LinkBody>,
) -> ApiResult<(StatusCode, Json<LinkAnswer>)> {
    let principal = caller.require(&[Role::Platform, Role::Merchant])?;
    super::templates::visible(&state, principal, &id).await?;
    let now = state.now();
    let expires_at = body
        .expires_at
        .unwrap_or_else(|| now + SignedDuration::from_hours(24 * 30));
    if expires_at <= now {
        return Err(ApiError::field(
            ErrorCode::WindowInverted,
            "expires_at",
            "must be in the future",
        ));
    }
    if let Some(u) = &body.user_id {
        user_id("user_id", u)?;
    }
    let nonce: u64 = rand::rng().random();
    let claims = LinkClaims {
        template_id: id.clone(),
        expires_at: expires_at.as_second(),
        user_id: body.user_id,
        nonce: format!("{nonce:x}"),
    };
    let signed = link::sign(&state.link_secret, &claims);
    let url = format!(
        "{}/claim?template={}&link={}",
        state.public_url.trim_end_matches('/'),
        id,
        signed
    );
    Ok((
        StatusCode::CREATED,
        Json(LinkAnswer {
            link: signed,
            url,
            expires_at,
        }),
    ))
}

/// Counts up to this are made within the call; larger ones by a background job.
pub const CODES_IN_CALL: i64 = 10_000;
/// The largest count one job makes.
pub const CODES_PER_JOB: i64 = 1_000_000;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimCodesBody {
    /// How many codes to make, each taking one unit of stock: up to 10000 within the call
    /// (201), up to 1000000 by a background job (202).
    pub count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimCodesAnswer {
    pub codes: Vec<String>,
}

/// Makes pre-made, single-use claim codes; they count as issued and take stock when made.
///
/// Up to 10000 codes are made at once and answered (201). A larger count (up to 1000000)
/// answers 202 with a job (`Location: /v1/jobs/{job_id}`) that makes the codes in batches of
/// 10000, each batch taking its stock as it commits; a batch the remaining stock cannot cover
/// fails the job (`out_of_stock`) and the batches before it stand. Follow the job with
/// `GET /v1/jobs/{job_id}`, and read its codes with `GET /v1/jobs/{job_id}/codes` or
/// `GET /v1/jobs/{job_id}/codes.csv`.
#[utoipa::path(post, path = "/v1/templates/{id}/claim-codes", tag = "claims", params(("id" = String, Path)), request_body = ClaimCodesBody,
    responses((status = 201, body = ClaimCodesAnswer),
        (status = 202, description = "A job makes the codes", body = super::jobs::JobView,
            headers(("Location" = String, description = "The job: `/v1/jobs/{job_id}`"))),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_claim_codes(
    State(state): State<AppState>,
    caller: Caller,
    idem_header: super::IdempotencyHeader,
    Path(id): Path<String>,
    Body(body, raw): Body<ClaimCodesBody>,
) -> ApiResult<Response> {
    let principal = caller.require(&[Role::Platform, Role::Merchant])?;
    super::templates::visible(&state, principal, &id).await?;
    if body.count < 1 {
        return Err(ApiError::field(
            ErrorCode::NotPositive,
            "count",
            "must be at least 1",
        ));
    }
    if body.count > CODES_PER_JOB {
        return Err(ApiError::field(
            ErrorCode::TooLarge,
            "count",
            format!(
                "must be at most {CODES_PER_JOB} (made by a job; up to {CODES_IN_CALL} are made \
                 within the call)"
            ),
        ));
    }
    let idem = super::idempotency_key(
        &idem_header,
        &principal.key_id,
        &format!("claim-codes {id}"),
        &raw,
    )?;
    if body.count > CODES_IN_CALL {
        let (status, answer) = super::answer_once(&state, idem, || async {
            let now = state.now();
            let lease = state.jobs.new_lease();
            let owner = lease.owner.clone();
            let job = state
                .store
                .insert_job(NewJob {
                    id: new_id("job", now.as_millisecond()),
                    kind: JobKind::ClaimCodes,
                    template_id: id.clone(),
                    total: body.count,
                    created_by: principal.key_id.clone(),
                    now,
                    lease,
                })
                .await?
                .ok_or_else(|| ApiError::not_found("template"))?;
            state.jobs.spawn(job.clone(), owner);
            Ok((
                StatusCode::ACCEPTED,
                serde_json::to_value(super::jobs::JobView::from(job)).expect("serializes"),
            ))
        })
        .await?;
        let location = answer["job_id"]
            .as_str()
            .filter(|_| status == StatusCode::ACCEPTED)
            .map(|job| [(header::LOCATION, format!("/v1/jobs/{job}"))]);
        return Ok((status, location, Json(answer)).into_response());
    }
    Ok(super::once(&state, idem, || async {
        match state
            .store
            .make_claim_codes(&id, body.count as u32, state.now())
            .await?
        {
            Ok(codes) => Ok((
                StatusCode::CREATED,
                serde_json::to_value(ClaimCodesAnswer { codes }).expect("serializes"),
            )),
            Err(code) => Err(ApiError::code(code)),
        }
    })
    .await)
}
