//! The records of the outbox: messages to members through a channel's webhook, and the
//! commands that lease, settle and retry them.

use jiff::Timestamp;
use quan_core::campaign::MessageChannel;
use quan_core::outbox::{AfterFailure, MessageStatus};

/// A message to queue, due at once.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub id: String,
    pub campaign_id: Option<String>,
    pub user_id: String,
    pub channel: MessageChannel,
    pub text: String,
    /// Send the member's signed claim link for this template with it.
    pub link_template_id: Option<String>,
    pub now: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRecord {
    pub id: String,
    pub campaign_id: Option<String>,
    pub user_id: String,
    pub channel: MessageChannel,
    pub text: String,
    pub link_template_id: Option<String>,
    pub status: MessageStatus,
    /// Delivery attempts so far; while pending, the failures so far.
    pub attempts: u32,
    pub next_attempt_at: Timestamp,
    /// Until when a sender holds it (the Unix epoch: nobody).
    pub lease_until: Timestamp,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Default)]
pub struct MessageFilter {
    pub status: Option<MessageStatus>,
    pub limit: u32,
    /// The last id of the previous page.
    pub cursor: Option<String>,
}

/// Lease up to `limit` messages of `channels` that are pending, due at `now` and not held
/// by another sender, to `lease_until`.
#[derive(Debug, Clone)]
pub struct DueMessages {
    pub now: Timestamp,
    pub lease_until: Timestamp,
    pub limit: u32,
    pub channels: Vec<MessageChannel>,
}

/// A failed attempt of a leased message, and what it makes of it
/// (`quan_core::outbox::RetryPolicy::after_failure` of the failures so far).
#[derive(Debug, Clone)]
pub struct MessageFailure {
    pub id: String,
    /// The attempts the message had when it was leased (the failure counts only if it still
    /// has them: no one else settled it meanwhile).
    pub attempts: u32,
    pub error: String,
    pub next: AfterFailure,
    pub now: Timestamp,
}
