//! Metrics in the Prometheus text format: every request counted and timed by route and status,
//! with what the store records (claim group sizes, fsync and batch times); `GET /metrics`
//! answers them to platform keys only.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use quan_core::access::Role;

use crate::error::ApiResult;
use crate::extract::Caller;

/// Bucket bounds of the `_seconds` histograms: 100 µs to 10 s.
const SECONDS: &[f64] = &[
    0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];
/// Bucket bounds of claim group sizes.
const SIZES: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process's recorder, installed on first use (one per process: every router of a test
/// binary shares it).
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let installed = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS)
                .and_then(|b| b.set_buckets_for_metric(Matcher::Suffix("_size".into()), SIZES))
                .map_err(|e| e.to_string())
                .and_then(|b| b.install_recorder().map_err(|e| e.to_string()));
            installed
                .inspect_err(|e| tracing::warn!(error = %e, "metrics recorder not installed"))
                .ok()
        })
        .as_ref()
}

/// Counts and times each request of a matched route by its route template, method and status.
pub async fn record(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = req.method().as_str().to_string();
    let started = Instant::now();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    metrics::histogram!("quan_http_request_duration_seconds", "route" => route.clone(), "method" => method.clone())
        .record(started.elapsed().as_secs_f64());
    metrics::counter!("quan_http_requests_total", "route" => route, "method" => method, "status" => status)
        .increment(1);
    response
}

/// The metrics, in the Prometheus text format (platform keys only).
#[utoipa::path(get, path = "/metrics", tag = "system", operation_id = "system_metrics",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String),
        (status = 403, body = crate::error::ErrorBody)))]
pub async fn metrics(Caller(p): Caller) -> ApiResult<Response> {
    quan_app::require(&p, &[Role::Platform])?;
    let body = handle().map_or_else(String::new, |h| {
        h.run_upkeep();
        h.render()
    });
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response())
}
