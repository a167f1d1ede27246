//! The web front end quan serves itself: the console under `/console`, the member claim page
//! at `/claim` (where signed links' `url`s point), the coupon center at `/center`, their
//! assets, and short links at `/s/{code}`.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

use crate::error::ApiError;
use crate::AppState;

/// What every page may load: only quan's own scripts and styles (no CDN), images from itself
/// and data URLs (QR codes), and no framing; links carry no referrer (a claim URL holds its
/// signed token).
const POLICY: &str =
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; \
                      object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// The front end's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/console/") }))
        .route("/console", get(|| async { Redirect::to("/console/") }))
        .route("/console/", get(console))
        .route("/console/{*rest}", get(console))
        .route("/claim", get(claim))
        .route("/center", get(center))
        .route("/assets/{*file}", get(asset))
        .route("/s/{code}", get(short_link))
}

async fn console(headers: HeaderMap) -> Response {
    page("console.html", StatusCode::OK, &headers)
}

async fn claim(headers: HeaderMap) -> Response {
    page("claim.html", StatusCode::OK, &headers)
}

async fn center(headers: HeaderMap) -> Response {
    page("center.html", StatusCode::OK, &headers)
}

/// A short link: a redirect to its claim page, or (unknown or expired) the claim page itself
/// with 404, which tells the member so.
async fn short_link(
    State(state): State<AppState>,
    Path(code): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    Ok(match state.app.resolve_short_link(&code).await? {
        Some(url) => Redirect::to(&url).into_response(),
        None => page("claim.html", StatusCode::NOT_FOUND, &headers),
    })
}

/// A hashed asset of the build: cached for a year, since its name changes with its content.
async fn asset(Path(file): Path<String>, headers: HeaderMap) -> Response {
    send(
        &format!("assets/{file}"),
        StatusCode::OK,
        &headers,
        "public, max-age=31536000, immutable",
    )
    .unwrap_or_else(crate::routes::system::not_found_response)
}

fn page(name: &str, status: StatusCode, headers: &HeaderMap) -> Response {
    send(name, status, headers, "no-cache").unwrap_or_else(|| {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "the web front end was not built into this binary",
        )
            .into_response()
    })
}

fn send(
    path: &str,
    status: StatusCode,
    headers: &HeaderMap,
    cache: &'static str,
) -> Option<Response> {
    let accepts_gzip = headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    let file = quan_web::asset(path, accepts_gzip)?;
    let mut response = (status, axum::body::Body::from(file.body)).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&file.mime)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if file.gzipped {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    Some(response)
}
