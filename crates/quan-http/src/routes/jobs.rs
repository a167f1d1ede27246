//! Background jobs: a job's progress, and the claim codes it made (a page at a time, or all as CSV).

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::StreamExt;
use jiff::Timestamp;
use quan_core::access::{Principal, Role};
use quan_core::ErrorCode;
use quan_store::{JobRecord, Store};
use serde::Serialize;
use utoipa::ToSchema;

use super::{PageBody, Paging, Q};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::AppState;

/// A background job and its progress.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobView {
    pub job_id: String,
    /// What the job does: `claim_codes`.
    #[schema(example = "claim_codes")]
    pub kind: String,
    pub template_id: String,
    /// `running`, then `succeeded`, or `failed` when a batch was refused (see `error`).
    #[schema(example = "running")]
    pub status: String,
    /// Codes asked for.
    pub total: i64,
    /// Codes made so far, a committed batch at a time. They are valid and took stock at once,
    /// and stay so if the job fails later.
    pub done: i64,
    /// Why the job failed; `null` unless `failed`.
    pub error: Option<JobErrorView>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// When `done` last moved (or the job ended).
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<Timestamp>,
}

/// A failed job's reason: a code of the error table and a sentence.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobErrorView {
    pub code: ErrorCode,
    pub message: String,
}

impl From<JobRecord> for JobView {
    fn from(j: JobRecord) -> Self {
        JobView {
            job_id: j.id,
            kind: j.kind.as_str().to_string(),
            template_id: j.template_id,
            status: j.status.as_str().to_string(),
            total: j.total,
            done: j.done,
            error: j.error.map(|e| JobErrorView {
                code: e.code,
                message: e.message,
            }),
            created_at: j.created_at,
            updated_at: j.updated_at,
            finished_at: j.finished_at,
        }
    }
}

/// Loads a job the caller may see: one of a template of its stores (operators: any).
async fn visible(state: &AppState, caller: &Caller, id: &str) -> ApiResult<JobRecord> {
    let principal: &Principal = caller.require(&[Role::Platform, Role::Merchant])?;
    match state.store.job(id).await? {
        Some(j) if principal.owns_store(j.store_id.as_deref()) => Ok(j),
        _ => Err(ApiError::not_found("job")),
    }
}

/// A job's progress: `done` of `total`, and its status.
#[utoipa::path(get, path = "/v1/jobs/{id}", tag = "jobs", params(("id" = String, Path)),
    responses((status = 200, body = JobView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<JobView>> {
    Ok(Json(visible(&state, &caller, &id).await?.into()))
}

/// The claim codes a job made so far, in code order.
#[utoipa::path(get, path = "/v1/jobs/{id}/codes", tag = "jobs", params(("id" = String, Path), Paging),
    responses((status = 200, description = "`total` is the job's `done`", body = PageBody<String>), (status = 404, body = ErrorBody)))]
pub async fn codes(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Q(paging): Q<Paging>,
) -> ApiResult<Json<PageBody<String>>> {
    let limit = paging.limit()?;
    visible(&state, &caller, &id).await?;
    let page = state.store.job_codes(&id, limit, paging.cursor).await?;
    Ok(PageBody::from(page, |c| c))
}

/// Codes per read while streaming the CSV.
const CSV_PAGE: u32 = 5_000;

/// Every claim code a job made so far, as CSV (one column, `code`), streamed.
#[utoipa::path(get, path = "/v1/jobs/{id}/codes.csv", tag = "jobs", params(("id" = String, Path)),
    responses((status = 200, description = "`code` then one code a line", content_type = "text/csv", body = String), (status = 404, body = ErrorBody)))]
pub async fn codes_csv(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let job = visible(&state, &caller, &id).await?;
    let store: Arc<dyn Store> = state.store.clone();
    let head = futures::stream::once(async {
        Ok::<_, quan_store::StoreError>(Bytes::from_static(b"code\r\n"))
    });
    // The state is the cursor of the next page, or `None` once the last page is sent.
    let rows = futures::stream::try_unfold(Some(String::new()), move |cursor| {
        let (store, id) = (store.clone(), id.clone());
        async move {
            let Some(cursor) = cursor else {
                return Ok(None);
            };
            let page = store
                .job_codes(&id, CSV_PAGE, Some(cursor).filter(|c| !c.is_empty()))
                .await?;
            let mut chunk = String::with_capacity(page.items.len() * 20);
            for code in &page.items {
                chunk.push_str(code);
                chunk.push_str("\r\n");
            }
            Ok::<_, quan_store::StoreError>(Some((Bytes::from(chunk), page.next)))
        }
    });
    let body =
        Body::from_stream(head.chain(rows.map(|r| {
            r.inspect_err(|e| tracing::error!(error = %e, "streaming job codes failed"))
        })));
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}-codes.csv\"", job.id),
            ),
        ],
        body,
    )
        .into_response())
}
