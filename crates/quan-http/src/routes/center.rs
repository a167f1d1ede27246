//! What members see before they claim: a signed link's coupon, and the coupon center.

use axum::extract::{Path, State};
use axum::Json;
use quan_app::center::{CenterItem, CenterQuery};
use quan_app::links::{LinkQuery, LinkView};
use quan_app::page::PageBody;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Caller, QueryParams};
use crate::AppState;

/// A signed link's coupon, whether the link still works, and, with a customer's key, whether
/// that customer may claim with it (`claimable`, `reason`). No key is needed: holding the link
/// is the right to see its coupon (`claimable` is then `null`). A forged or malformed link is
/// not found; a key that is given but unknown answers 401.
#[utoipa::path(get, path = "/v1/links/{link}", tag = "claims", operation_id = "links_get",
    params(("link" = String, Path, description = "The signed link"), LinkQuery),
    security((), ("api_key" = [])),
    responses((status = 200, body = LinkView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn link(
    State(state): State<AppState>,
    caller: Option<Caller>,
    Path(link): Path<String>,
    QueryParams(q): QueryParams<LinkQuery>,
) -> ApiResult<Json<LinkView>> {
    let caller = caller.map(|Caller(p)| p);
    Ok(Json(state.app.link_view(caller.as_ref(), &link, q).await?))
}

/// The coupon center (领券中心): the active public coupons, each decided for the member as a
/// claim from the center would be; nothing is claimed.
#[utoipa::path(get, path = "/v1/center", tag = "claims", operation_id = "center_list", params(CenterQuery),
    responses((status = 200, body = PageBody<CenterItem>), (status = 403, body = ErrorBody)))]
pub async fn center(
    State(state): State<AppState>,
    Caller(p): Caller,
    QueryParams(q): QueryParams<CenterQuery>,
) -> ApiResult<Json<PageBody<CenterItem>>> {
    Ok(Json(state.app.coupon_center(&p, q).await?))
}
