//! Behaviour events (docs/DOMAIN.md section 7), idempotent by id.

use jiff::Timestamp;
use quan_core::access::{Principal, Role};
use quan_core::scrm::event::{refusal, EventKind, EventRefusal};
use quan_core::text::Id;
use quan_core::ErrorCode;
use quan_store::scrm::{EventRecord, Written};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::page::{PageBody, Paging};
use crate::{require, App, Error, Result};

/// The largest `data` object of an event, as JSON.
const MAX_DATA: usize = 16 * 1024;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventBody {
    pub event_id: Id,
    pub user_id: Id,
    /// signup, visit, order_paid, order_confirmed, order_shipped, review, share, check_in,
    /// follow, tier_changed (`data.tier`), coupon_claimed, coupon_redeemed.
    pub kind: String,
    /// When it happened (default now).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub at: Option<Timestamp>,
    pub store_id: Option<Id>,
    pub order_id: Option<Id>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub data: Option<serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub event_id: String,
    pub user_id: String,
    pub kind: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    pub store_id: Option<String>,
    pub order_id: Option<String>,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

impl From<EventRecord> for EventView {
    fn from(e: EventRecord) -> Self {
        EventView {
            event_id: e.id,
            user_id: e.user_id,
            kind: e.kind,
            at: e.at,
            store_id: e.store_id,
            order_id: e.order_id,
            data: e.data,
        }
    }
}

/// A JSON object of at most [`MAX_DATA`] bytes (default `{}`), or the field's refusal.
pub(crate) fn object(field: &str, v: Option<serde_json::Value>) -> Result<serde_json::Value> {
    let v = v.unwrap_or_else(|| serde_json::json!({}));
    if !v.is_object() {
        return Err(Error::field(
            ErrorCode::InvalidType,
            field,
            "must be an object",
        ));
    }
    if v.to_string().len() > MAX_DATA {
        return Err(Error::field(
            ErrorCode::TooLarge,
            field,
            "at most 16 KiB of JSON",
        ));
    }
    Ok(v)
}

/// Checks an event; the error names the field.
pub fn parse_event(body: EventBody, now: Timestamp) -> Result<EventRecord> {
    if EventKind::parse(&body.kind).is_none() {
        let kinds: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
        return Err(Error::field(
            ErrorCode::InvalidValue,
            "kind",
            format!("one of {}", kinds.join(", ")),
        ));
    }
    let data = object("data", body.data)?;
    if refusal(&body.kind, &data) == Some(EventRefusal::MissingTier) {
        return Err(Error::field(
            ErrorCode::MissingField,
            "data.tier",
            "tier_changed carries the new tier",
        ));
    }
    Ok(EventRecord {
        id: body.event_id.into_string(),
        user_id: body.user_id.into_string(),
        kind: body.kind,
        at: crate::input::accepted_opt("at", body.at)?.unwrap_or(now),
        store_id: body.store_id.map(Id::into_string),
        order_id: body.order_id.map(Id::into_string),
        data,
    })
}

impl App {
    /// Records an event: `Inserted` new, `Unchanged` the same event again; the id with other
    /// content is a conflict.
    pub async fn record_event(
        &self,
        principal: &Principal,
        body: EventBody,
    ) -> Result<(Written, EventView)> {
        require(principal, &[Role::Platform])?;
        let now = self.now();
        let timed = body.at.is_some();
        let event = parse_event(body, now)?;
        let written = self.store.put_events(vec![event.clone()], now).await?[0];
        if written == Written::Conflict && !timed {
            // A retry of an event sent without `at` took "now" twice: the same event if all
            // else is equal.
            if let Some(stored) = self.store.event(&event.id).await? {
                let retried = EventRecord {
                    at: stored.at,
                    ..event.clone()
                };
                if retried == stored {
                    return Ok((Written::Unchanged, stored.into()));
                }
            }
        }
        if written == Written::Conflict {
            return Err(Error::field(
                ErrorCode::Conflict,
                "event_id",
                "this id was used for another event",
            ));
        }
        Ok((written, event.into()))
    }

    /// A member's events, in id order.
    pub async fn member_events(
        &self,
        principal: &Principal,
        user_id: &Id,
        paging: Paging,
    ) -> Result<PageBody<EventView>> {
        require(principal, &[Role::Platform])?;
        let page = self
            .store
            .list_events(user_id, paging.limit()?, paging.cursor)
            .await?;
        Ok(PageBody::from(page, EventView::from))
    }
}
