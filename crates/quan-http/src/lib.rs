//! quan's HTTP API: a thin axum layer over the use cases of `quan-app`. Handlers parse the
//! request (path, query, body) into typed values, call one use case, and render its view.
//!
//! - [`csv_export`]: the one writer of the CSV files the API hands out (CSV-injection safe).
//! - [`error`]: the one error body; statuses come from the code table.
//! - [`extract`]: the caller, bodies, paths and queries, every failure in the error shape.
//! - [`layers`]: what every request goes through: long URIs refused, the per-key rate limit,
//!   the body read whole, idempotency keys.
//! - [`metrics`]: Prometheus metrics of requests and the store, at `GET /metrics`.
//! - [`routes`]: the handlers, one module per resource.
//! - [`openapi`]: the OpenAPI 3 document, generated from the handlers' annotations.

pub mod csv_export;
pub mod error;
pub mod extract;
pub mod layers;
pub mod metrics;
pub mod openapi;
pub mod routes;

use std::sync::Arc;

use axum::Router;
use quan_app::App;

/// The largest request body accepted (bigger ones get 413 `payload_too_large`).
pub const MAX_BODY: usize = 256 * 1024;

/// What every handler shares: the use cases and the rate limiter.
#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub limiter: Option<Arc<layers::RateLimiter>>,
}

impl AppState {
    /// The state over `app`, limiting each API key to `rate_limit` requests a second (0: off).
    pub fn new(app: App, rate_limit: u32) -> Self {
        Self {
            app,
            limiter: layers::RateLimiter::new(rate_limit).map(Arc::new),
        }
    }
}

/// The whole API as one router.
pub fn router(state: AppState) -> Router {
    metrics::handle();
    routes::routes()
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            layers::idempotency,
        ))
        .merge(routes::keyed_in_transaction())
        .route_layer(axum::middleware::from_fn(metrics::record))
        .merge(routes::web::routes())
        .fallback(routes::system::not_found)
        .method_not_allowed_fallback(routes::system::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            layers::front,
        ))
        .with_state(state)
        .layer(tower_http::trace::TraceLayer::new_for_http())
}
