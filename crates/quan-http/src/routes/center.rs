//! What members see before they claim: a signed link's coupon, and the coupon center.

use axum::extract::{Path, State};
use axum::Json;
use quan_app::center::{CenterItem, CenterQuery};
use quan_app::links::LinkView;
use quan_app::page::PageBody;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Caller, Q};
use crate::AppState;

/// A signed link's coupon and whether the link still works. No key: holding the link is the
/// right to see its coupon. A forged or malformed link is not found.
#[utoipa::path(get, path = "/v1/links/{link}", tag = "claims", operation_id = "links_get", params(("link" = String, Path, description = "The signed link")),
    security(()),
    responses((status = 200, body = LinkView), (status = 404, body = ErrorBody)))]
pub async fn link(
    State(state): State<AppState>,
    Path(link): Path<String>,
) -> ApiResult<Json<LinkView>> {
    Ok(Json(state.app.link_view(&link).await?))
}

/// The coupon center (领券中心): the active public coupons, each decided for the member as a
/// claim from the center would be; nothing is claimed.
#[utoipa::path(get, path = "/v1/center", tag = "claims", operation_id = "center_list", params(CenterQuery),
    responses((status = 200, body = PageBody<CenterItem>), (status = 403, body = ErrorBody)))]
pub async fn center(
    State(state): State<AppState>,
    Caller(p): Caller,
    Q(q): Q<CenterQuery>,
) -> ApiResult<Json<PageBody<CenterItem>>> {
    Ok(Json(state.app.coupon_center(&p, q).await?))
}
