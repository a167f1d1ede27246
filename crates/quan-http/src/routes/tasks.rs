//! Store-guide tasks: a guide's list, one task, completing it, and granting its coupon.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use quan_app::claims::ClaimedBody;
use quan_app::page::PageBody;
use quan_app::tasks::{CompleteBody, TaskQuery, TaskView};
use quan_core::text::Id;

use super::created;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Body, Caller, PathIds, QueryParams};
use crate::AppState;

/// A guide's own tasks (platform keys: everyone's), in id order.
#[utoipa::path(get, path = "/v1/tasks", tag = "tasks", operation_id = "tasks_list", params(TaskQuery),
    responses((status = 200, body = PageBody<TaskView>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Caller(p): Caller,
    QueryParams(q): QueryParams<TaskQuery>,
) -> ApiResult<Json<PageBody<TaskView>>> {
    Ok(Json(state.app.tasks(&p, q).await?))
}

/// One task (another guide's answers 404).
#[utoipa::path(get, path = "/v1/tasks/{id}", tag = "tasks", operation_id = "tasks_get", params(("id" = String, Path)),
    responses((status = 200, body = TaskView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Caller(p): Caller,
    PathIds(id): PathIds<Id>,
) -> ApiResult<Json<TaskView>> {
    Ok(Json(state.app.task(&p, &id).await?))
}

/// Completes a task with its outcome, once (the same outcome again answers the task; another
/// one is 409 `invalid_state`).
#[utoipa::path(post, path = "/v1/tasks/{id}/complete", tag = "tasks", operation_id = "tasks_complete", params(("id" = String, Path)), request_body = CompleteBody,
    responses((status = 200, body = TaskView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn complete(
    State(state): State<AppState>,
    Caller(p): Caller,
    PathIds(id): PathIds<Id>,
    Body(body, _): Body<CompleteBody>,
) -> ApiResult<Json<TaskView>> {
    Ok(Json(state.app.complete_task(&p, &id, body).await?))
}

/// Grants the task's coupon to its member (the campaign route), at most once: a second call
/// answers the same coupon.
#[utoipa::path(post, path = "/v1/tasks/{id}/grant", tag = "tasks", operation_id = "tasks_grant", params(("id" = String, Path)),
    responses((status = 201, body = ClaimedBody), (status = 404, body = ErrorBody), (status = 409, description = "A claim rule refused it, or the task names no coupon", body = ErrorBody)))]
pub async fn grant(
    State(state): State<AppState>,
    Caller(p): Caller,
    PathIds(id): PathIds<Id>,
) -> ApiResult<(StatusCode, Json<ClaimedBody>)> {
    Ok(created(state.app.grant_task(&p, &id).await?))
}
