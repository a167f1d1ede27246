//! Templates: create, read with live counters, list, edit while draft, and status changes.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use quan_core::access::{Principal, Role};
use quan_core::template::{StatusAction, Template, TemplateSpec, TemplateStatus};
use quan_core::ErrorCode;
use quan_store::{new_id, NewTemplate, TemplateFilter, TemplateRecord, TemplateUpdate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{PageBody, Paging, Q};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::json::Body;
use crate::AppState;

/// A template with its status and live counters.
#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateView {
    pub id: String,
    pub status: TemplateStatus,
    /// Coupons created for members: claims, grants and pre-made claim codes.
    pub issued: i64,
    /// Coupons that reached a wallet.
    pub claimed: i64,
    /// Coupons redeemed.
    pub used: i64,
    /// Stock not yet issued; `null` when the stock is unlimited.
    pub remaining: Option<i64>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: jiff::Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: jiff::Timestamp,
    #[serde(flatten)]
    pub spec: TemplateSpec,
}

impl From<TemplateRecord> for TemplateView {
    fn from(t: TemplateRecord) -> Self {
        TemplateView {
            id: t.id,
            status: t.status,
            issued: t.issued,
            claimed: t.claimed,
            used: t.used,
            remaining: t.remaining,
            created_at: t.created_at,
            updated_at: t.updated_at,
            spec: t.spec,
        }
    }
}

fn view(t: TemplateRecord) -> serde_json::Value {
    serde_json::to_value(TemplateView::from(t)).expect("serializes")
}

/// Checks that `principal` may create or edit a template of this spec.
fn may_author(principal: &Principal, template: &Template) -> ApiResult<()> {
    let scope = &template.spec().scope;
    match principal.role {
        Role::Platform => Ok(()),
        Role::Merchant if scope.is_platform() => Err(ApiError::field(
            ErrorCode::Forbidden,
            "scope.kind",
            "a merchant cannot create platform coupons",
        )),
        Role::Merchant if principal.owns_store(scope.store_id()) => Ok(()),
        Role::Merchant => Err(ApiError::field(
            ErrorCode::Forbidden,
            "scope.store_id",
            "not one of this key's stores",
        )),
        _ => Err(ApiError::forbidden(
            "only operators and merchants author templates",
        )),
    }
}

/// Loads a template the caller may see; another merchant's reads as not found.
pub(crate) async fn visible(
    state: &AppState,
    principal: &Principal,
    id: &str,
) -> ApiResult<TemplateRecord> {
    match state.store.template(id).await? {
        Some(t) if principal.owns_store(t.store_id.as_deref()) => Ok(t),
        _ => Err(ApiError::not_found("template")),
    }
}

/// Creates a template as a draft.
#[utoipa::path(post, path = "/v1/templates", tag = "templates", request_body = TemplateSpec,
    responses((status = 201, body = TemplateView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    idem_header: super::IdempotencyHeader,
    Body(spec, raw): Body<TemplateSpec>,
) -> ApiResult<Response> {
    let principal = caller.require(&[Role::Platform, Role::Merchant])?.clone();
    let template = Template::parse(spec)?;
    may_author(&principal, &template)?;
    let idem = super::idempotency_key(&idem_header, &principal.key_id, "POST /v1/templates", &raw)?;
    Ok(super::once(&state, idem, || async {
        let now = state.now();
        let record = state
            .store
            .insert_template(NewTemplate {
                id: new_id("tpl", now.as_millisecond()),
                template,
                created_by: principal.key_id.clone(),
                now,
            })
            .await?;
        Ok((StatusCode::CREATED, view(record)))
    })
    .await)
}

/// A template with its live counters.
#[utoipa::path(get, path = "/v1/templates/{id}", tag = "templates", params(("id" = String, Path)),
    responses((status = 200, body = TemplateView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<TemplateView>> {
    let principal = caller.require(&[Role::Platform, Role::Merchant, Role::Guide])?;
    Ok(Json(visible(&state, principal, &id).await?.into()))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TemplateQuery {
    pub status: Option<TemplateStatus>,
    /// `platform`, `store`, `category` or `product`.
    pub scope: Option<String>,
    pub store_id: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Lists templates, newest last, filtered by status, scope kind and store.
#[utoipa::path(get, path = "/v1/templates", tag = "templates", params(TemplateQuery),
    responses((status = 200, body = PageBody<TemplateView>)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Q(q): Q<TemplateQuery>,
) -> ApiResult<Json<PageBody<TemplateView>>> {
    let principal = caller.require(&[Role::Platform, Role::Merchant, Role::Guide])?;
    let limit = Paging {
        limit: q.limit,
        cursor: None,
    }
    .limit()?;
    if let Some(kind) = &q.scope {
        if !["platform", "store", "category", "product"].contains(&kind.as_str()) {
            return Err(ApiError::field(
                ErrorCode::InvalidValue,
                "scope",
                "one of platform, store, category, product",
            ));
        }
    }
    let stores = match (principal.store_filter(), q.store_id) {
        (None, None) => None,
        (None, Some(s)) => Some(vec![s]),
        (Some(own), None) => Some(own.to_vec()),
        (Some(own), Some(s)) => Some(if own.contains(&s) { vec![s] } else { vec![] }),
    };
    let page = state
        .store
        .list_templates(TemplateFilter {
            stores,
            status: q.status,
            scope_kind: q.scope,
            limit,
            cursor: q.cursor,
        })
        .await?;
    Ok(PageBody::from(page, TemplateView::from))
}

/// Replaces a draft template's content.
#[utoipa::path(put, path = "/v1/templates/{id}", tag = "templates", params(("id" = String, Path)), request_body = TemplateSpec,
    responses((status = 200, body = TemplateView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(spec, _): Body<TemplateSpec>,
) -> ApiResult<Json<TemplateView>> {
    let principal = caller.require(&[Role::Platform, Role::Merchant])?;
    visible(&state, principal, &id).await?;
    let template = Template::parse(spec)?;
    may_author(principal, &template)?;
    match state
        .store
        .update_template(TemplateUpdate {
            id,
            template,
            now: state.now(),
        })
        .await?
    {
        Ok(t) => Ok(Json(t.into())),
        Err(ErrorCode::InvalidState) => Err(ApiError::new(
            ErrorCode::InvalidState,
            "only a draft template can be edited",
        )),
        Err(code) => Err(ApiError::code(code)),
    }
}

async fn change(
    state: AppState,
    caller: Caller,
    id: String,
    action: StatusAction,
) -> ApiResult<Json<TemplateView>> {
    let principal = caller.require(&[Role::Platform, Role::Merchant])?;
    visible(&state, principal, &id).await?;
    match state
        .store
        .set_template_status(&id, action, state.now())
        .await?
    {
        Ok(t) => Ok(Json(t.into())),
        Err(ErrorCode::InvalidState) => Err(ApiError::new(
            ErrorCode::InvalidState,
            format!("cannot {action:?} from this status").to_lowercase(),
        )),
        Err(code) => Err(ApiError::code(code)),
    }
}

/// Makes a template claimable (from draft or paused).
#[utoipa::path(post, path = "/v1/templates/{id}/activate", tag = "templates", params(("id" = String, Path)),
    responses((status = 200, body = TemplateView), (status = 409, body = ErrorBody)))]
pub async fn activate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<TemplateView>> {
    change(state, caller, id, StatusAction::Activate).await
}

/// Stops claims for a while.
#[utoipa::path(post, path = "/v1/templates/{id}/pause", tag = "templates", params(("id" = String, Path)),
    responses((status = 200, body = TemplateView), (status = 409, body = ErrorBody)))]
pub async fn pause(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<TemplateView>> {
    change(state, caller, id, StatusAction::Pause).await
}

/// Ends a template for good; coupons already claimed stay usable.
#[utoipa::path(post, path = "/v1/templates/{id}/end", tag = "templates", params(("id" = String, Path)),
    responses((status = 200, body = TemplateView), (status = 409, body = ErrorBody)))]
pub async fn end(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<TemplateView>> {
    change(state, caller, id, StatusAction::End).await
}
