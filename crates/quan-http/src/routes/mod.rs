//! The handlers, one module per resource: each parses, calls one use case, and renders.

pub mod campaigns;
pub mod catalog;
pub mod center;
pub mod channels;
pub mod checkout;
pub mod claims;
pub mod dashboard;
pub mod events;
pub mod history;
pub mod jobs;
pub mod keys;
pub mod members;
pub mod orders;
pub mod outbox;
pub mod planning;
pub mod rfm;
pub mod segments;
pub mod system;
pub mod tasks;
pub mod templates;
pub mod wallet;
pub mod web;

use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use quan_store::scrm::Written;

use crate::AppState;

/// The routes that decide their idempotency key inside their own transaction (the record and
/// the coupon commit together), so they are kept out of the idempotency layer.
pub fn keyed_in_transaction() -> Router<AppState> {
    Router::new()
        .route("/v1/templates/{id}/claim", post(claims::claim))
        .route("/v1/templates/{id}/grant", post(claims::grant))
}

/// Every other route.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(system::healthz))
        .route("/openapi.json", get(system::openapi))
        .route("/metrics", get(crate::metrics::metrics))
        .route("/v1/keys", post(keys::create).get(keys::list))
        .route("/v1/keys/{id}/revoke", post(keys::revoke))
        .route("/v1/me", get(keys::me))
        .route("/v1/links/{link}", get(center::link))
        .route("/v1/center", get(center::center))
        .route("/v1/dashboard", get(dashboard::dashboard))
        .route(
            "/v1/templates",
            post(templates::create).get(templates::list),
        )
        .route(
            "/v1/templates/{id}",
            get(templates::get).put(templates::update),
        )
        .route("/v1/templates/{id}/review", get(templates::review))
        .route("/v1/templates/{id}/activate", post(templates::activate))
        .route("/v1/templates/{id}/pause", post(templates::pause))
        .route("/v1/templates/{id}/end", post(templates::end))
        .route("/v1/templates/{id}/links", post(claims::create_link))
        .route(
            "/v1/templates/{id}/claim-codes",
            post(claims::create_claim_codes),
        )
        .route("/v1/jobs/{id}", get(jobs::get))
        .route("/v1/jobs/{id}/codes", get(jobs::codes))
        .route("/v1/jobs/{id}/codes.csv", get(jobs::codes_csv))
        .route("/v1/checkout/quote", post(checkout::quote))
        .route("/v1/orders", post(orders::create).get(history::list))
        .route("/v1/orders/{order_id}", get(orders::get).put(history::put))
        .route("/v1/orders/{order_id}/pay", post(orders::pay))
        .route("/v1/orders/{order_id}/cancel", post(orders::cancel))
        .route("/v1/orders/{order_id}/refund", post(orders::refund))
        .route("/v1/users/{user_id}/coupons", get(wallet::wallet))
        .route("/v1/coupons/redeem", post(wallet::redeem_by_code))
        .route("/v1/coupons/{id}", get(wallet::coupon))
        .route("/v1/coupons/{id}/revoke", post(wallet::revoke))
        .route("/v1/members", post(members::create).get(members::list))
        .route("/v1/members/{id}", put(members::put).get(members::get))
        .route("/v1/members/{id}/360", get(members::view_360))
        .route("/v1/members/{id}/events", get(events::list))
        .route("/v1/events", post(events::create))
        .route("/v1/stores", get(catalog::list_stores))
        .route(
            "/v1/stores/{id}",
            put(catalog::put_store).get(catalog::get_store),
        )
        .route("/v1/products", get(catalog::list_products))
        .route(
            "/v1/products/{sku}",
            put(catalog::put_product).get(catalog::get_product),
        )
        .route("/v1/segments", post(segments::create).get(segments::list))
        .route("/v1/segments/preview", post(segments::preview))
        .route("/v1/segments/{id}", put(segments::put).get(segments::get))
        .route("/v1/segments/{id}/members", get(segments::members))
        .route("/v1/segments/{id}/members.csv", get(segments::members_csv))
        .route("/v1/scrm/config", get(rfm::get_config).put(rfm::put_config))
        .route("/v1/rfm/recompute", post(rfm::recompute))
        .route(
            "/v1/campaigns",
            post(campaigns::create).get(campaigns::list),
        )
        .route("/v1/campaigns/{id}", get(campaigns::get))
        .route("/v1/playbooks", post(campaigns::apply_playbook))
        .route("/v1/campaigns/{id}/members", get(campaigns::members))
        .route("/v1/campaigns/{id}/review", get(campaigns::review))
        .route("/v1/campaigns/{id}/review.csv", get(campaigns::review_csv))
        .route("/v1/campaigns/{id}/slices", get(campaigns::slices))
        .route("/v1/campaigns/{id}/activate", post(campaigns::activate))
        .route("/v1/campaigns/{id}/pause", post(campaigns::pause))
        .route("/v1/campaigns/{id}/resume", post(campaigns::resume))
        .route("/v1/campaigns/{id}/end", post(campaigns::end))
        .route("/v1/forecasts", post(planning::forecast))
        .route(
            "/v1/economics",
            get(planning::get_economics).put(planning::put_economics),
        )
        .route(
            "/v1/programme",
            get(planning::get_programme).put(planning::put_programme),
        )
        .route("/v1/programme/review", get(planning::programme_review))
        .route("/v1/calculators/ltv", get(planning::ltv))
        .route("/v1/calculators/cac", get(planning::cac))
        .route("/v1/calculators/threshold", post(planning::threshold))
        .route("/v1/calculators/pack", post(planning::pack))
        .route("/v1/calculators/lottery", post(planning::lottery))
        .route("/v1/outbox", get(outbox::list))
        .route("/v1/outbox/{id}", get(outbox::get))
        .route("/v1/outbox/{id}/retry", post(outbox::retry))
        .route("/v1/channels", get(channels::list))
        .route("/v1/channels/{channel}", put(channels::put))
        .route("/v1/tasks", get(tasks::list))
        .route("/v1/tasks/{id}", get(tasks::get))
        .route("/v1/tasks/{id}/complete", post(tasks::complete))
        .route("/v1/tasks/{id}/grant", post(tasks::grant))
}

/// 201 with the view.
pub fn created<T>(v: T) -> (StatusCode, Json<T>) {
    (StatusCode::CREATED, Json(v))
}

/// 201 for a new record, 200 for an updated or unchanged one.
pub fn written<T>(w: Written, v: T) -> (StatusCode, Json<T>) {
    let status = if w == Written::Inserted {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (status, Json(v))
}
