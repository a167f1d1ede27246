//! Store-guide tasks: a guide's list (their own members' tasks only), completing a task with its
//! outcome, and granting the task's coupon to its member, once.
//!
//! A guide's key carries the guide's id as its `user_id`; a task's `guide_id` is the member's
//! guide when the campaign made it. Another guide's task answers 404, as if it did not exist.

use jiff::Timestamp;
use quan_core::access::{Principal, Role};
use quan_core::task::TaskStatus;
use quan_core::text::{Id, Note};
use quan_core::ErrorCode;
use quan_store::{IdempotencyKey, TaskFilter, TaskRecord};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::claims::ClaimedBody;
use crate::page::{self, PageBody};
use crate::{require, App, Error, Result};

/// `GET /v1/tasks?status=&guide_id=&limit=&cursor=`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaskQuery {
    pub status: Option<TaskStatus>,
    /// One guide's tasks (operators; a guide sees only their own whatever this says).
    pub guide_id: Option<Id>,
    /// At most this many items (1..=500, default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next` of the previous page.
    pub cursor: Option<String>,
}

/// `POST /v1/tasks/{id}/complete`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteBody {
    /// What came of it (a call's result): 1..=500 bytes.
    #[schema(value_type = String)]
    pub outcome: Note,
}

/// A task, with its material, the suggested message and the coupon the guide may grant.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TaskView {
    pub id: String,
    pub campaign_id: String,
    /// The member.
    pub user_id: String,
    pub guide_id: Option<String>,
    pub title: String,
    /// The coupon's template the guide may grant.
    pub template_id: Option<String>,
    pub material: Option<String>,
    /// The suggested message.
    pub message: Option<String>,
    pub status: TaskStatus,
    pub outcome: Option<String>,
    /// The coupon the guide granted.
    pub coupon_id: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub done_at: Option<Timestamp>,
}

impl From<TaskRecord> for TaskView {
    fn from(t: TaskRecord) -> Self {
        TaskView {
            id: t.id,
            campaign_id: t.campaign_id,
            user_id: t.user_id,
            guide_id: t.guide_id,
            title: t.title,
            template_id: t.template_id,
            material: t.material,
            message: t.message,
            status: t.status,
            outcome: t.outcome,
            coupon_id: t.coupon_id,
            created_at: t.created_at,
            done_at: t.done_at,
        }
    }
}

/// The guide a caller is: `None` for an operator (who sees every task).
fn guide_of(principal: &Principal) -> Result<Option<&str>> {
    require(principal, &[Role::Platform, Role::Guide])?;
    match principal.role {
        Role::Guide => principal.user_id.as_deref().map(Some).ok_or_else(|| {
            Error::forbidden("this guide key names no guide: make guide keys with a user_id")
        }),
        _ => Ok(None),
    }
}

impl App {
    /// A guide's tasks, or (operators) everyone's, in id order.
    pub async fn tasks(&self, principal: &Principal, q: TaskQuery) -> Result<PageBody<TaskView>> {
        let guide = guide_of(principal)?;
        let limit = page::limit(q.limit)?;
        let asked = q.guide_id.map(Id::into_string);
        let guide_id = match (guide, asked) {
            (Some(own), Some(other)) if own != other => {
                return Ok(PageBody {
                    items: vec![],
                    total: 0,
                    next: None,
                })
            }
            (Some(own), _) => Some(own.to_string()),
            (None, asked) => asked,
        };
        let page = self
            .store
            .list_tasks(TaskFilter {
                guide_id,
                status: q.status,
                limit,
                cursor: q.cursor,
            })
            .await?;
        Ok(PageBody::from(page, TaskView::from))
    }

    /// One task: the guide's own, or any for an operator (another guide's is not found).
    pub async fn task(&self, principal: &Principal, id: &Id) -> Result<TaskView> {
        Ok(self.own_task(principal, id).await?.into())
    }

    /// Completes a task with its outcome, once; the same outcome again answers the task as it
    /// is, another one is refused (`invalid_state`).
    pub async fn complete_task(
        &self,
        principal: &Principal,
        id: &Id,
        body: CompleteBody,
    ) -> Result<TaskView> {
        self.own_task(principal, id).await?;
        match self
            .store
            .complete_task(id, &body.outcome, self.now())
            .await?
        {
            Ok(t) => Ok(t.into()),
            Err(ErrorCode::NotFound) => Err(Error::not_found("task")),
            Err(ErrorCode::InvalidState) => Err(Error::field(
                ErrorCode::InvalidState,
                "outcome",
                "the task is done already, with another outcome",
            )),
            Err(code) => Err(Error::code(code)),
        }
    }

    /// Grants the task's coupon to its member through the campaign route, at most once per
    /// task: a second call answers the same coupon. A refused grant (the claim rules' reason,
    /// 409) may be tried again.
    pub async fn grant_task(&self, principal: &Principal, id: &Id) -> Result<ClaimedBody> {
        let task = self.own_task(principal, id).await?;
        let Some(template_id) = task.template_id.as_deref() else {
            return Err(Error::new(
                ErrorCode::InvalidState,
                "this task names no coupon to grant",
            ));
        };
        if let Some(coupon) = &task.coupon_id {
            return self.granted(coupon).await;
        }
        // The claim is keyed by the task and its refused grants, inside the claim's own
        // transaction: concurrent or repeated grants make one coupon.
        let key = IdempotencyKey {
            key_id: "task-grant".into(),
            key: format!("{}:{}", task.id, task.grant_attempts),
            request_hash: task.id.clone(),
        };
        match self
            .grant_for_campaign(
                principal,
                &task.campaign_id,
                template_id,
                &task.user_id,
                key,
            )
            .await
        {
            Ok(coupon) => {
                let kept = self
                    .store
                    .record_task_coupon(&task.id, &coupon.coupon_id)
                    .await?
                    .and_then(|t| t.coupon_id)
                    .ok_or_else(Error::internal)?;
                if kept == coupon.coupon_id {
                    Ok(coupon)
                } else {
                    self.granted(&kept).await
                }
            }
            Err(e) => {
                // Only a refusal by the rules is counted: after a store failure the claim may
                // have committed, and a retry must find it under the same key.
                if e.code.status() == 409 && e.code != ErrorCode::InFlight {
                    self.store
                        .count_refused_grant(&task.id, task.grant_attempts)
                        .await?;
                }
                Err(e)
            }
        }
    }

    /// A task the caller may see: any for an operator, a guide's own; else not found.
    async fn own_task(&self, principal: &Principal, id: &str) -> Result<TaskRecord> {
        let guide = guide_of(principal)?;
        match self.store.task(id).await? {
            Some(t) if guide.is_none() || t.guide_id.as_deref() == guide => Ok(t),
            _ => Err(Error::not_found("task")),
        }
    }
}
