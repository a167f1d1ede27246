//! The records of store-guide tasks: made by campaigns, listed to their guides, completed
//! once with an outcome, and carrying the coupon their guide granted.

use jiff::Timestamp;
use quan_core::task::TaskStatus;

#[derive(Debug, Clone)]
pub struct NewTask {
    pub id: String,
    pub campaign_id: String,
    pub user_id: String,
    /// The member's guide when the task was made.
    pub guide_id: Option<String>,
    pub title: String,
    /// The coupon the guide may grant.
    pub template_id: Option<String>,
    pub material: Option<String>,
    /// The suggested message.
    pub message: Option<String>,
    pub now: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRecord {
    pub id: String,
    pub campaign_id: String,
    pub user_id: String,
    pub guide_id: Option<String>,
    pub title: String,
    pub template_id: Option<String>,
    pub material: Option<String>,
    pub message: Option<String>,
    pub status: TaskStatus,
    pub outcome: Option<String>,
    /// The coupon the guide granted.
    pub coupon_id: Option<String>,
    /// Grants refused so far (a grant's claim is keyed by the task and this count).
    pub grant_attempts: u32,
    pub created_at: Timestamp,
    pub done_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    /// One guide's tasks; `None`: everyone's.
    pub guide_id: Option<String>,
    pub status: Option<TaskStatus>,
    pub limit: u32,
    /// The last id of the previous page.
    pub cursor: Option<String>,
}
