//! Message delivery (docs/DOMAIN.md section 8): the outbox's statuses, the retry policy, channel
//! webhooks and the signature that proves a delivery came from quan.
//!
//! A message is `pending` until its channel's webhook answers 2xx (`sent`); a failed attempt is
//! retried with exponential backoff, and after [`RetryPolicy::max_failures`] failures the
//! message is `dead` (a dead letter an operator may send back to `pending` by hand).

use hmac::{Hmac, Mac};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use utoipa::ToSchema;

use crate::{ErrorCode, FieldError};

/// The header carrying `sha256=<lowercase hex HMAC-SHA256 of the body>`.
pub const SIGNATURE_HEADER: &str = "X-Quan-Signature";
/// The header carrying the message's id (receivers deduplicate by it).
pub const MESSAGE_ID_HEADER: &str = "X-Quan-Message-Id";

/// Where a message is in its delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    /// Waiting for its next attempt (or for its channel's webhook to be configured).
    Pending,
    /// Its webhook answered 2xx.
    Sent,
    /// Failed too often; retried only by hand.
    Dead,
}

impl MessageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageStatus::Pending => "pending",
            MessageStatus::Sent => "sent",
            MessageStatus::Dead => "dead",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            MessageStatus::Pending,
            MessageStatus::Sent,
            MessageStatus::Dead,
        ]
        .into_iter()
        .find(|m| m.as_str() == s)
    }
}

/// When a failed message is tried again: `base` after the first failure, doubling with each
/// failure up to `cap`, and never again (dead) once it has failed `max_failures` times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub base: SignedDuration,
    pub cap: SignedDuration,
    pub max_failures: u32,
}

impl Default for RetryPolicy {
    /// 30 s, doubling, at most an hour apart; dead after 5 failures.
    fn default() -> Self {
        RetryPolicy {
            base: SignedDuration::from_secs(30),
            cap: SignedDuration::from_hours(1),
            max_failures: 5,
        }
    }
}

/// What a failed attempt makes of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Pending again, due at this time.
    RetryAt(Timestamp),
    Dead,
}

impl RetryPolicy {
    /// The delay after the `failures`-th failure (1 for the first): `base × 2^(failures−1)`,
    /// at most `cap`.
    pub fn delay(&self, failures: u32) -> SignedDuration {
        let doublings = failures.saturating_sub(1).min(62);
        let factor = 1i64 << doublings;
        let secs = self.base.as_secs().saturating_mul(factor);
        SignedDuration::from_secs(secs).min(self.cap)
    }

    /// A message that had failed `failures_before` times fails again at `now`.
    pub fn after_failure(&self, failures_before: u32, now: Timestamp) -> AfterFailure {
        let failures = failures_before.saturating_add(1);
        if failures >= self.max_failures {
            return AfterFailure::Dead;
        }
        AfterFailure::RetryAt(now.saturating_add(self.delay(failures)).unwrap_or(now))
    }
}

/// The longest webhook URL.
pub const MAX_URL: usize = 2000;
/// A webhook secret's bounds, in bytes.
pub const SECRET_BYTES: std::ops::RangeInclusive<usize> = 16..=256;

/// A channel's webhook: where its messages are POSTed and the secret that signs them. Holding
/// one means the URL is http(s) with a host and the secret is 16..=256 bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    url: String,
    secret: String,
}

impl Webhook {
    /// Checks a webhook, naming `url` or `secret` when one is at fault.
    pub fn parse(url: &str, secret: &str) -> Result<Webhook, FieldError> {
        let bad_url = |message: &str| FieldError::new(ErrorCode::InvalidValue, "url", message);
        if url.len() > MAX_URL {
            return Err(FieldError::new(
                ErrorCode::TooLarge,
                "url",
                format!("at most {MAX_URL} bytes"),
            ));
        }
        let rest = url
            .strip_prefix("http://")
            .or_else(|| url.strip_prefix("https://"))
            .ok_or_else(|| bad_url("must be an http:// or https:// URL"))?;
        if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad_url("must not contain spaces or control characters"));
        }
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host = authority.rsplit('@').next().unwrap_or_default();
        if host.is_empty() || host.starts_with(':') {
            return Err(bad_url("must name a host"));
        }
        if secret.len() < *SECRET_BYTES.start() {
            return Err(FieldError::new(
                ErrorCode::InvalidValue,
                "secret",
                format!("must be at least {} bytes", SECRET_BYTES.start()),
            ));
        }
        if secret.len() > *SECRET_BYTES.end() {
            return Err(FieldError::new(
                ErrorCode::TooLarge,
                "secret",
                format!("must be at most {} bytes", SECRET_BYTES.end()),
            ));
        }
        Ok(Webhook {
            url: url.to_string(),
            secret: secret.to_string(),
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The URL as it may be shown: credentials (`user:password@`) replaced by `***@`.
    pub fn shown_url(&self) -> String {
        shown_url(&self.url)
    }

    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// `SIGNATURE_HEADER`'s value for `body`.
    pub fn sign(&self, body: &[u8]) -> String {
        signature(self.secret.as_bytes(), body)
    }
}

/// `sha256=<lowercase hex HMAC-SHA256 of body with secret>`.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256=");
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_base_up_to_the_cap_then_dies() {
        let p = RetryPolicy::default();
        let now: Timestamp = "2026-03-01T00:00:00Z".parse().unwrap();
        let secs = |n| p.delay(n).as_secs();
        assert_eq!([secs(1), secs(2), secs(3), secs(4)], [30, 60, 120, 240]);
        assert_eq!(secs(8), 3600, "capped at an hour");
        assert_eq!(secs(200), 3600, "no overflow");
        assert_eq!(
            p.after_failure(0, now),
            AfterFailure::RetryAt(now + SignedDuration::from_secs(30))
        );
        assert_eq!(
            p.after_failure(3, now),
            AfterFailure::RetryAt(now + SignedDuration::from_secs(240))
        );
        assert_eq!(
            p.after_failure(4, now),
            AfterFailure::Dead,
            "the fifth failure"
        );
    }

    #[test]
    fn webhooks_need_an_http_url_with_a_host_and_a_secret_of_16_to_256_bytes() {
        let secret = "0123456789abcdef";
        assert!(Webhook::parse("http://127.0.0.1:8080/hook", secret).is_ok());
        assert!(Webhook::parse("https://sms.example.com/send?x=1", secret).is_ok());
        for bad in [
            "ftp://example.com",
            "example.com/hook",
            "http://",
            "http:///path",
            "https://:80/x",
            "http://exa mple.com",
            "javascript:alert(1)",
        ] {
            let e = Webhook::parse(bad, secret).unwrap_err();
            assert_eq!(
                (e.code, e.field.as_str()),
                (ErrorCode::InvalidValue, "url"),
                "{bad}"
            );
        }
        let long = format!("http://h/{}", "x".repeat(MAX_URL));
        assert_eq!(
            Webhook::parse(&long, secret).unwrap_err().code,
            ErrorCode::TooLarge
        );
        let e = Webhook::parse("http://h", "short").unwrap_err();
        assert_eq!(
            (e.code, e.field.as_str()),
            (ErrorCode::InvalidValue, "secret")
        );
        let e = Webhook::parse("http://h", &"s".repeat(257)).unwrap_err();
        assert_eq!((e.code, e.field.as_str()), (ErrorCode::TooLarge, "secret"));
        assert!(Webhook::parse("http://h", &"s".repeat(256)).is_ok());
    }

    #[test]
    fn the_signature_is_the_rfc_4231_hmac_in_lowercase_hex() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}

/// A webhook URL as it may be shown: credentials (`user:password@`) replaced by `***@`.
pub fn shown_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

/// Whether a webhook may be sent to `ip` without `QUAN_WEBHOOK_ALLOW_PRIVATE`: not loopback,
/// link-local (cloud metadata lives there), private, shared (CGNAT), unspecified, broadcast,
/// multicast or reserved, in IPv4 or IPv6 (IPv4-mapped addresses by their IPv4 rule).
pub fn is_public_address(ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_address(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

#[cfg(test)]
mod address_tests {
    use super::*;

    #[test]
    fn internal_addresses_are_not_public() {
        for internal in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
        ] {
            assert!(!is_public_address(internal.parse().unwrap()), "{internal}");
        }
        for public in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public_address(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn credentials_are_never_shown() {
        assert_eq!(
            shown_url("https://user:pw@hooks.example.com/x?a=b@c"),
            "https://***@hooks.example.com/x?a=b@c"
        );
        assert_eq!(shown_url("http://h/x"), "http://h/x");
    }
}
