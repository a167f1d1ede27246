//! Signed claim links: an HMAC-SHA256 over the template, an expiry and an optional user.
//!
//! A link is `<payload>.<signature>`, both base64url without padding; the payload is compact
//! JSON. Anyone holding the tenant's link secret can mint links, so the secret never leaves the
//! server. A link carries no state: it can be shared in an SMS or a post and used until it expires.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// What a link grants: claims of `template_id` until `expires_at` (Unix seconds), for `user_id`
/// only when one is named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkClaims {
    #[serde(rename = "t")]
    pub template_id: String,
    #[serde(rename = "e")]
    pub expires_at: i64,
    #[serde(rename = "u", default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The campaign whose message carries the link: its opens count in that campaign's funnel.
    #[serde(rename = "c", default, skip_serializing_if = "Option::is_none")]
    pub campaign_id: Option<String>,
    /// Random bytes so that two links with the same content differ.
    #[serde(rename = "n")]
    pub nonce: String,
}

/// Why a link was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("the link is not well formed")]
    Malformed,
    #[error("the link's signature does not match")]
    Forged,
    #[error("the link has expired")]
    Expired,
    #[error("the link is for another template or user")]
    WrongTarget,
}

fn mac(secret: &[u8]) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length")
}

/// Signs `claims` with the tenant's secret.
pub fn sign(secret: &[u8], claims: &LinkClaims) -> String {
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).expect("claims serialize"));
    let mut m = mac(secret);
    m.update(payload.as_bytes());
    let sig = URL_SAFE_NO_PAD.encode(m.finalize().into_bytes());
    format!("{payload}.{sig}")
}

/// Checks a link's signature (in constant time) and reads what it grants, expired or not (the
/// claim page shows an expired link's coupon and says it has expired).
pub fn open(secret: &[u8], link: &str) -> Result<LinkClaims, LinkError> {
    let (payload, sig) = link.split_once('.').ok_or(LinkError::Malformed)?;
    let sig = URL_SAFE_NO_PAD
        .decode(sig)
        .map_err(|_| LinkError::Malformed)?;
    let mut m = mac(secret);
    m.update(payload.as_bytes());
    m.verify_slice(&sig).map_err(|_| LinkError::Forged)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| LinkError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| LinkError::Malformed)
}

/// Checks a link's signature (in constant time), expiry (`now` in Unix seconds) and target.
pub fn verify(
    secret: &[u8],
    link: &str,
    template_id: &str,
    user_id: &str,
    now: i64,
) -> Result<LinkClaims, LinkError> {
    let claims = open(secret, link)?;
    if now >= claims.expires_at {
        return Err(LinkError::Expired);
    }
    if claims.template_id != template_id || claims.user_id.as_deref().is_some_and(|u| u != user_id)
    {
        return Err(LinkError::WrongTarget);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> LinkClaims {
        LinkClaims {
            template_id: "t1".into(),
            expires_at: 1_000,
            user_id: None,
            campaign_id: None,
            nonce: "abc".into(),
        }
    }

    #[test]
    fn a_signed_link_verifies_until_it_expires() {
        let link = sign(b"secret", &claims());
        assert_eq!(verify(b"secret", &link, "t1", "u1", 999), Ok(claims()));
        assert_eq!(
            verify(b"secret", &link, "t1", "u1", 1_000),
            Err(LinkError::Expired)
        );
    }

    #[test]
    fn forged_and_misdirected_links_are_refused() {
        let link = sign(b"secret", &claims());
        assert_eq!(
            verify(b"other", &link, "t1", "u1", 0),
            Err(LinkError::Forged)
        );
        assert_eq!(
            verify(b"secret", &link, "t2", "u1", 0),
            Err(LinkError::WrongTarget)
        );
        // Change the payload (a later expiry) but keep the signature.
        let mut longer = claims();
        longer.expires_at = 9_999;
        let forged_payload = sign(b"x", &longer).split_once('.').unwrap().0.to_string();
        let forged = format!("{forged_payload}.{}", link.split_once('.').unwrap().1);
        assert_eq!(
            verify(b"secret", &forged, "t1", "u1", 0),
            Err(LinkError::Forged)
        );
        assert_eq!(
            verify(b"secret", "garbage", "t1", "u1", 0),
            Err(LinkError::Malformed)
        );
        let bound = sign(
            b"secret",
            &LinkClaims {
                user_id: Some("u1".into()),
                ..claims()
            },
        );
        assert!(verify(b"secret", &bound, "t1", "u1", 0).is_ok());
        assert_eq!(
            verify(b"secret", &bound, "t1", "u2", 0),
            Err(LinkError::WrongTarget)
        );
    }
}
