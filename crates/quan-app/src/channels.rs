//! Message channels: each channel's webhook (a URL and the secret that signs what quan POSTs
//! to it), set and read by operators; the secret is never shown again.

use std::collections::HashMap;

use jiff::Timestamp;
use quan_core::access::{Principal, Role};
use quan_core::campaign::MessageChannel;
use quan_core::outbox::Webhook;
use quan_core::ErrorCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::page::PageBody;
use crate::{require, App, Error, Result};

/// `PUT /v1/channels/{channel}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelBody {
    /// Where the channel's messages are POSTed: an http:// or https:// URL.
    pub url: String,
    /// Signs each delivery (`X-Quan-Signature`): 16..=256 bytes; never shown again.
    pub secret: String,
}

/// A channel and its webhook (never its secret).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChannelView {
    pub channel: MessageChannel,
    /// Whether a webhook is set; messages of a channel without one stay pending.
    pub configured: bool,
    pub url: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub updated_at: Option<Timestamp>,
}

/// A webhook as kept in the settings.
#[derive(Debug, Serialize, Deserialize)]
struct Stored {
    url: String,
    secret: String,
    updated_at: Timestamp,
}

fn setting_name(channel: MessageChannel) -> String {
    format!("webhook.{}", channel.as_str())
}

/// A channel named in a path.
fn channel(raw: &str) -> Result<MessageChannel> {
    MessageChannel::parse(raw).ok_or_else(|| {
        Error::field(
            ErrorCode::NotFound,
            "channel",
            "no such channel: one of sms, wechat, app_push, email",
        )
    })
}

impl App {
    /// Sets a channel's webhook (operators only).
    pub async fn put_channel(
        &self,
        principal: &Principal,
        name: &str,
        body: ChannelBody,
    ) -> Result<ChannelView> {
        require(principal, &[Role::Platform])?;
        let channel = channel(name)?;
        let hook = Webhook::parse(&body.url, &body.secret)?;
        crate::delivery::reachable(&hook, self.delivery.allow_private(), true)
            .await
            .map_err(|why| Error::field(ErrorCode::InvalidValue, "url", why))?;
        let stored = Stored {
            url: hook.url().to_string(),
            secret: hook.secret().to_string(),
            updated_at: self.now(),
        };
        let raw = serde_json::to_string(&stored).map_err(|_| Error::internal())?;
        self.store.put_setting(&setting_name(channel), raw).await?;
        Ok(view(channel, Some(&stored)))
    }

    /// Every channel with its webhook, if set (operators only).
    pub async fn channels(&self, principal: &Principal) -> Result<PageBody<ChannelView>> {
        require(principal, &[Role::Platform])?;
        let mut items = Vec::with_capacity(MessageChannel::ALL.len());
        for channel in MessageChannel::ALL {
            items.push(view(channel, self.stored_hook(channel).await?.as_ref()));
        }
        Ok(PageBody {
            total: items.len() as i64,
            items,
            next: None,
        })
    }

    /// The webhooks of the channels that have one.
    pub(crate) async fn webhooks(&self) -> Result<HashMap<MessageChannel, Webhook>> {
        let mut hooks = HashMap::new();
        for channel in MessageChannel::ALL {
            if let Some(hook) = self.webhook(channel).await? {
                hooks.insert(channel, hook);
            }
        }
        Ok(hooks)
    }

    /// A channel's webhook, if it has one.
    pub(crate) async fn webhook(&self, channel: MessageChannel) -> Result<Option<Webhook>> {
        self.stored_hook(channel)
            .await?
            .map(|s| Webhook::parse(&s.url, &s.secret).map_err(|_| Error::internal()))
            .transpose()
    }

    async fn stored_hook(&self, channel: MessageChannel) -> Result<Option<Stored>> {
        match self.store.setting(&setting_name(channel)).await? {
            Some(raw) => Ok(Some(
                serde_json::from_str(&raw).map_err(|_| Error::internal())?,
            )),
            None => Ok(None),
        }
    }
}

fn view(channel: MessageChannel, stored: Option<&Stored>) -> ChannelView {
    ChannelView {
        channel,
        configured: stored.is_some(),
        url: stored.map(|s| quan_core::outbox::shown_url(&s.url)),
        updated_at: stored.map(|s| s.updated_at),
    }
}
