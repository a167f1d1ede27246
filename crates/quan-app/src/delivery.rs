//! Delivery of the outbox: due messages, leased, POSTed to their channel's webhook, signed,
//! settled as sent, retried with backoff, or dead-lettered.
//!
//! A delivery is at least once: a message is sent by one sender at a time (the lease), but a
//! receiver that answers after the timeout, or a sender that dies between the POST and its
//! record, means the message is sent again; receivers deduplicate by `X-Quan-Message-Id`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::SignedDuration;
use quan_core::campaign::MessageChannel;
use quan_core::outbox::{
    is_public_address, AfterFailure, RetryPolicy, Webhook, MESSAGE_ID_HEADER, SIGNATURE_HEADER,
};
use quan_store::{DueMessages, MessageFailure, MessageRecord};
use serde::Serialize;

use crate::{App, Result};

/// How messages are delivered.
#[derive(Debug, Clone)]
pub struct DeliveryConfig {
    /// How long a webhook may take to answer before the attempt counts as failed.
    pub timeout: Duration,
    /// When failed messages are tried again, and when they die.
    pub retry: RetryPolicy,
    /// Messages leased and sent (concurrently) at a time.
    pub batch: u32,
    /// How long a signed link in a message stays valid.
    pub link_validity: SignedDuration,
    /// Whether webhooks may point at loopback, link-local and private addresses
    /// (`QUAN_WEBHOOK_ALLOW_PRIVATE`, for receivers on the same host or network).
    pub allow_private: bool,
}

impl Default for DeliveryConfig {
    /// 5 s timeout; 30 s backoff doubling up to an hour; dead after 5 failures; 16 at a time;
    /// links valid 30 days.
    fn default() -> Self {
        DeliveryConfig {
            timeout: Duration::from_secs(5),
            retry: RetryPolicy::default(),
            batch: 16,
            link_validity: SignedDuration::from_hours(24 * 30),
            allow_private: false,
        }
    }
}

/// The sender: the configuration and one HTTP client (its connections are reused).
pub struct Sender {
    config: DeliveryConfig,
    http: reqwest::Client,
}

impl Sender {
    pub fn new(config: DeliveryConfig) -> Self {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(PublicOnly {
                allow_private: config.allow_private,
            }))
            .build()
            .expect("an HTTP client without TLS always builds");
        Sender { config, http }
    }

    pub fn allow_private(&self) -> bool {
        self.config.allow_private
    }

    /// How long a batch is leased: every send of it runs at once, so one timeout and a margin.
    fn lease(&self) -> SignedDuration {
        SignedDuration::try_from(self.config.timeout).unwrap_or(SignedDuration::MAX)
            + SignedDuration::from_secs(30)
    }
}

/// Resolves webhook hosts, keeping only addresses a webhook may reach
/// ([`quan_core::outbox::is_public_address`], unless private ones are allowed): checked again
/// at every connection, so a name that later resolves inward is refused too.
struct PublicOnly {
    allow_private: bool,
}

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| allow_private || is_public_address(a.ip()))
                .collect();
            if found.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            Ok(Box::new(found.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Whether a webhook's host may be reached: its addresses are all public, unless private ones
/// are allowed. `Err` says why not. An IP literal is checked as it is; a name, with `resolve`,
/// by what it resolves to now (one that does not resolve yet is let through). Every connection
/// resolves a name again through [`PublicOnly`], so sending checks literals only.
pub(crate) async fn reachable(
    hook: &Webhook,
    allow_private: bool,
    resolve: bool,
) -> std::result::Result<(), String> {
    let url = reqwest::Url::parse(hook.url()).map_err(|e| format!("is not a URL: {e}"))?;
    let addresses: Vec<std::net::IpAddr> = match url.host() {
        Some(url::Host::Ipv4(ip)) => vec![ip.into()],
        Some(url::Host::Ipv6(ip)) => vec![ip.into()],
        Some(url::Host::Domain(name)) if resolve => {
            match tokio::net::lookup_host((name, 0)).await {
                Ok(found) => found.map(|a| a.ip()).collect(),
                Err(_) => vec![],
            }
        }
        Some(url::Host::Domain(_)) => vec![],
        None => return Err("must name a host".into()),
    };
    if !allow_private && !addresses.iter().all(|ip| is_public_address(*ip)) {
        return Err(
            "resolves to a loopback, link-local or private address (QUAN_WEBHOOK_ALLOW_PRIVATE=true allows it)"
                .into(),
        );
    }
    Ok(())
}

/// What one [`App::deliver_due`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Answered 2xx.
    pub sent: u64,
    /// Failed and pending again, for a later attempt.
    pub retried: u64,
    /// Failed for the last time.
    pub dead: u64,
    /// Pending messages of channels without a webhook (they wait for one).
    pub unrouted: u64,
}

impl DeliveryReport {
    fn add(&mut self, other: DeliveryReport) {
        self.sent += other.sent;
        self.retried += other.retried;
        self.dead += other.dead;
    }
}

/// The JSON body POSTed to a webhook.
#[derive(Debug, Serialize)]
struct Delivery<'a> {
    id: &'a str,
    channel: MessageChannel,
    user_id: &'a str,
    text: &'a str,
    campaign_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    link: Option<String>,
    /// The same link as a short URL, for channels where characters count (SMS).
    #[serde(skip_serializing_if = "Option::is_none")]
    short_link: Option<String>,
}

/// The longest `last_error` kept.
const MAX_ERROR: usize = 500;
/// Batches per call, so one call ends even while messages keep arriving.
const ROUNDS: u32 = 64;

impl App {
    /// Delivers the messages due now on every channel, each channel on its own (a slow
    /// receiver delays only its channel's messages).
    pub async fn deliver_due(&self) -> Result<DeliveryReport> {
        let hooks = self.webhooks().await?;
        let runs = MessageChannel::ALL
            .into_iter()
            .filter(|c| hooks.contains_key(c))
            .map(|c| self.deliver_with(c, hooks[&c].clone()));
        let mut report = DeliveryReport::default();
        for one in futures::future::join_all(runs).await {
            report.add(one?);
        }
        report.unrouted = self.gauges_with(&hooks).await?;
        Ok(report)
    }

    /// Delivers one channel's messages due now, a batch at a time (nothing for a channel
    /// without a webhook); `quan serve` runs this for each channel every second, in a loop of
    /// its own, and [`App::outbox_gauges`] beside them.
    pub async fn deliver_channel(&self, channel: MessageChannel) -> Result<DeliveryReport> {
        match self.webhook(channel).await? {
            Some(hook) => self.deliver_with(channel, hook).await,
            None => Ok(DeliveryReport::default()),
        }
    }

    async fn deliver_with(&self, channel: MessageChannel, hook: Webhook) -> Result<DeliveryReport> {
        let mut report = DeliveryReport::default();
        for _ in 0..ROUNDS {
            let now = self.now();
            let taken = self
                .store
                .take_due_messages(DueMessages {
                    now,
                    lease_until: now + self.delivery.lease(),
                    limit: self.delivery.config.batch,
                    channels: vec![channel],
                })
                .await?;
            let full = taken.len() == self.delivery.config.batch as usize;
            let mut sends = tokio::task::JoinSet::new();
            for message in taken {
                let (hook, app) = (hook.clone(), self.clone());
                sends.spawn(async move {
                    let outcome = app.send(&message, &hook).await;
                    (message, outcome)
                });
            }
            while let Some(joined) = sends.join_next().await {
                let (message, outcome) = joined.map_err(|_| crate::Error::internal())?;
                self.settle(message, outcome, &mut report).await?;
            }
            if !full {
                break;
            }
        }
        Ok(report)
    }

    /// Sets the pending-messages gauge of every channel; answers the pending messages of
    /// channels without a webhook.
    pub async fn outbox_gauges(&self) -> Result<u64> {
        self.gauges_with(&self.webhooks().await?).await
    }

    async fn gauges_with(&self, hooks: &HashMap<MessageChannel, Webhook>) -> Result<u64> {
        let mut pending = HashMap::new();
        for (channel, n) in self.store.pending_by_channel().await? {
            pending.insert(channel, n);
        }
        let mut unrouted = 0;
        for channel in MessageChannel::ALL {
            let n = pending.get(&channel).copied().unwrap_or(0);
            metrics::gauge!("quan_outbox_pending", "channel" => channel.as_str()).set(n as f64);
            if !hooks.contains_key(&channel) {
                unrouted += n as u64;
            }
        }
        Ok(unrouted)
    }

    /// One attempt: `Err` says why it failed.
    async fn send(&self, message: &MessageRecord, hook: &Webhook) -> Result<(), String> {
        let link = match &message.link_template_id {
            None => None,
            Some(template) => {
                if !self
                    .honours_links(template)
                    .await
                    .map_err(|e| e.to_string())?
                {
                    return Err(format!(
                        "template {template} is missing or its distribution honours no links"
                    ));
                }
                let expires_at = self.now() + self.delivery.config.link_validity;
                let signed = self.sign_link(
                    template,
                    Some(message.user_id.clone()),
                    message.campaign_id.clone(),
                    expires_at,
                );
                Some(
                    self.shorten(template, signed)
                        .await
                        .map_err(|e| e.to_string())?,
                )
            }
        };
        let (link, short_link) = match link {
            Some(l) => (Some(l.url), l.short_url),
            None => (None, None),
        };
        let body = serde_json::to_vec(&Delivery {
            id: &message.id,
            channel: message.channel,
            user_id: &message.user_id,
            text: &message.text,
            campaign_id: message.campaign_id.as_deref(),
            link,
            short_link,
        })
        .map_err(|e| e.to_string())?;
        // An IP literal is not resolved, so the address rule is checked here for it.
        reachable(hook, self.delivery.allow_private(), false)
            .await
            .map_err(|why| format!("address refused: the webhook host {why}"))?;
        let answer = self
            .delivery
            .http
            .post(hook.url())
            .header("content-type", "application/json")
            .header(SIGNATURE_HEADER, hook.sign(&body))
            .header(MESSAGE_ID_HEADER, &message.id)
            .body(body)
            .send()
            .await;
        // Failures are reported by kind, never with the network's own words (which would read
        // like a port scanner's output).
        match answer {
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) if r.status().is_redirection() => Err(format!(
                "the webhook answered {} (redirects are not followed)",
                r.status().as_u16()
            )),
            Ok(r) => Err(format!("the webhook answered {}", r.status().as_u16())),
            Err(e) if e.is_timeout() => Err(format!(
                "timeout: the webhook did not answer within {} ms",
                self.delivery.config.timeout.as_millis()
            )),
            Err(e) if e.is_connect() => {
                Err("unreachable: the webhook could not be connected to".into())
            }
            Err(_) => Err("failed: the request to the webhook did not complete".into()),
        }
    }

    /// Records an attempt's outcome, and counts it.
    async fn settle(
        &self,
        message: MessageRecord,
        outcome: Result<(), String>,
        report: &mut DeliveryReport,
    ) -> Result<()> {
        let channel = message.channel.as_str();
        let now = self.now();
        let error = match outcome {
            Ok(()) => {
                if self.store.mark_sent(&message.id, now).await? {
                    report.sent += 1;
                    metrics::counter!("quan_outbox_sent_total", "channel" => channel).increment(1);
                }
                return Ok(());
            }
            Err(e) => e,
        };
        tracing::info!(message = %message.id, channel, attempts = message.attempts + 1, error = %error, "delivery failed");
        let next = self
            .delivery
            .config
            .retry
            .after_failure(message.attempts, now);
        let failure = MessageFailure {
            id: message.id,
            attempts: message.attempts,
            error: truncate(error),
            next,
            now,
        };
        if self.store.mark_failed(failure).await?.is_some() {
            match next {
                AfterFailure::RetryAt(_) => {
                    report.retried += 1;
                    metrics::counter!("quan_outbox_retries_total", "channel" => channel)
                        .increment(1);
                }
                AfterFailure::Dead => {
                    report.dead += 1;
                    metrics::counter!("quan_outbox_dead_total", "channel" => channel).increment(1);
                }
            }
        }
        Ok(())
    }
}

fn truncate(mut s: String) -> String {
    if s.len() > MAX_ERROR {
        let mut end = MAX_ERROR;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}
