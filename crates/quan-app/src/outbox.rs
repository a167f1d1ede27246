//! The outbox as operators see it: messages by status, one message, and a dead letter sent
//! back to pending by hand.

use jiff::Timestamp;
use quan_core::access::{Principal, Role};
use quan_core::campaign::MessageChannel;
use quan_core::outbox::MessageStatus;
use quan_core::text::Id;
use quan_core::ErrorCode;
use quan_store::{MessageFilter, MessageRecord};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::page::{self, PageBody};
use crate::{require, App, Error, Result};

/// `GET /v1/outbox?status=&limit=&cursor=`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutboxQuery {
    /// Only messages of this status.
    pub status: Option<MessageStatus>,
    /// At most this many items (1..=500, default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next` of the previous page.
    pub cursor: Option<String>,
}

/// A message and where its delivery is.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MessageView {
    pub id: String,
    pub campaign_id: Option<String>,
    pub user_id: String,
    pub channel: MessageChannel,
    pub text: String,
    /// The template whose signed claim link the message carries.
    pub link_template_id: Option<String>,
    pub status: MessageStatus,
    /// Delivery attempts so far.
    pub attempts: u32,
    /// When a pending message is tried next.
    #[schema(value_type = String, format = DateTime)]
    pub next_attempt_at: Timestamp,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub sent_at: Option<Timestamp>,
}

impl From<MessageRecord> for MessageView {
    fn from(m: MessageRecord) -> Self {
        MessageView {
            id: m.id,
            campaign_id: m.campaign_id,
            user_id: m.user_id,
            channel: m.channel,
            text: m.text,
            link_template_id: m.link_template_id,
            status: m.status,
            attempts: m.attempts,
            next_attempt_at: m.next_attempt_at,
            last_error: m.last_error,
            created_at: m.created_at,
            sent_at: m.sent_at,
        }
    }
}

impl App {
    /// Messages in id order, optionally of one status (operators only).
    pub async fn outbox(
        &self,
        principal: &Principal,
        q: OutboxQuery,
    ) -> Result<PageBody<MessageView>> {
        require(principal, &[Role::Platform])?;
        let page = self
            .store
            .list_messages(MessageFilter {
                status: q.status,
                limit: page::limit(q.limit)?,
                cursor: q.cursor,
            })
            .await?;
        Ok(PageBody::from(page, MessageView::from))
    }

    /// One message (operators only).
    pub async fn message(&self, principal: &Principal, id: &Id) -> Result<MessageView> {
        require(principal, &[Role::Platform])?;
        match self.store.message(id).await? {
            Some(m) => Ok(m.into()),
            None => Err(Error::not_found("message")),
        }
    }

    /// Sends a dead letter back to pending, due now, with a fresh series of attempts
    /// (operators only); `invalid_state` unless it is dead.
    pub async fn retry_message(&self, principal: &Principal, id: &Id) -> Result<MessageView> {
        require(principal, &[Role::Platform])?;
        match self.store.retry_dead(id, self.now()).await? {
            Ok(m) => Ok(m.into()),
            Err(ErrorCode::NotFound) => Err(Error::not_found("message")),
            Err(ErrorCode::InvalidState) => Err(Error::new(
                ErrorCode::InvalidState,
                "only a dead message is retried by hand",
            )),
            Err(code) => Err(Error::code(code)),
        }
    }
}
