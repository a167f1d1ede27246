//! Background jobs: a job's progress, and the claim codes it made (a page at a time, or all as CSV).

use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use axum::Json;
use futures::StreamExt;
use quan_app::jobs::JobView;
use quan_app::page::{PageBody, Paging};
use quan_core::text::Id;

use crate::csv_export::{attachment, CsvRows};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Caller, PathIds, QueryParams};
use crate::AppState;

/// A job's progress: `done` of `total`, and its status.
#[utoipa::path(get, path = "/v1/jobs/{id}", tag = "jobs", operation_id = "jobs_get", params(("id" = String, Path)),
    responses((status = 200, body = JobView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Caller(p): Caller,
    PathIds(id): PathIds<Id>,
) -> ApiResult<Json<JobView>> {
    Ok(Json(state.app.job(&p, &id).await?))
}

/// The claim codes a job made so far, in code order.
#[utoipa::path(get, path = "/v1/jobs/{id}/codes", tag = "jobs", operation_id = "jobs_codes", params(("id" = String, Path), Paging),
    responses((status = 200, description = "`total` is the job's `done`", body = PageBody<String>), (status = 404, body = ErrorBody)))]
pub async fn codes(
    State(state): State<AppState>,
    Caller(p): Caller,
    PathIds(id): PathIds<Id>,
    QueryParams(paging): QueryParams<Paging>,
) -> ApiResult<Json<PageBody<String>>> {
    Ok(Json(state.app.job_codes(&p, &id, paging).await?))
}

/// Every claim code a job made so far, as CSV (one column, `code`), streamed.
#[utoipa::path(get, path = "/v1/jobs/{id}/codes.csv", tag = "jobs", operation_id = "jobs_codes_csv", params(("id" = String, Path)),
    responses((status = 200, description = "`code` then one code a line", content_type = "text/csv", body = String), (status = 404, body = ErrorBody)))]
pub async fn codes_csv(
    State(state): State<AppState>,
    Caller(p): Caller,
    PathIds(id): PathIds<Id>,
) -> ApiResult<Response> {
    let reader = state.app.job_code_reader(&p, &id).await?;
    let file = format!("{}-codes.csv", reader.id);
    let head = futures::stream::once(async {
        let mut header = CsvRows::new();
        header.row(["code"]);
        Ok::<_, quan_app::Error>(header.into_bytes())
    });
    // The state is the cursor of the next page, or `None` once the last page is sent.
    let rows = futures::stream::try_unfold(Some(String::new()), move |cursor| {
        let reader = reader.clone();
        async move {
            let Some(cursor) = cursor else {
                return Ok(None);
            };
            let page = reader.page(Some(cursor).filter(|c| !c.is_empty())).await?;
            let mut chunk = CsvRows::new();
            for code in &page.items {
                chunk.row([code]);
            }
            Ok::<_, quan_app::Error>(Some((chunk.into_bytes(), page.next)))
        }
    });
    let body =
        Body::from_stream(head.chain(rows.map(|r| {
            r.inspect_err(|e| tracing::error!(error = %e, "streaming job codes failed"))
        })));
    Ok(attachment(&file, body))
}
