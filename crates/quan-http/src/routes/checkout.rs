//! Checkout quotes: the best combination of a member's wallet coupons for a cart.

use axum::extract::State;
use axum::Json;
use quan_app::checkout::QuoteBody;
use quan_core::checkout::Quote;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Body, Caller};
use crate::AppState;

/// Prices a cart with the member's best legal combination of coupons (docs/DOMAIN.md section 6).
/// Every usable coupon of the wallet is considered.
#[utoipa::path(post, path = "/v1/checkout/quote", tag = "checkout", operation_id = "checkout_quote", request_body = QuoteBody,
    responses((status = 200, body = Quote), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn quote(
    State(state): State<AppState>,
    Caller(p): Caller,
    Body(body, _): Body<QuoteBody>,
) -> ApiResult<Json<Quote>> {
    Ok(Json(state.app.quote(&p, body).await?))
}
