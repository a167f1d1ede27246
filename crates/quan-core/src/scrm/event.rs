//! The kinds of member event quan knows, and what an event does to its member's row.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Every kind of member event (docs/DOMAIN.md section 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Signup,
    Visit,
    OrderPaid,
    OrderConfirmed,
    OrderShipped,
    Review,
    Share,
    CheckIn,
    Follow,
    TierChanged,
    CouponClaimed,
    CouponRedeemed,
}

impl EventKind {
    pub const ALL: [EventKind; 12] = [
        EventKind::Signup,
        EventKind::Visit,
        EventKind::OrderPaid,
        EventKind::OrderConfirmed,
        EventKind::OrderShipped,
        EventKind::Review,
        EventKind::Share,
        EventKind::CheckIn,
        EventKind::Follow,
        EventKind::TierChanged,
        EventKind::CouponClaimed,
        EventKind::CouponRedeemed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Signup => "signup",
            EventKind::Visit => "visit",
            EventKind::OrderPaid => "order_paid",
            EventKind::OrderConfirmed => "order_confirmed",
            EventKind::OrderShipped => "order_shipped",
            EventKind::Review => "review",
            EventKind::Share => "share",
            EventKind::CheckIn => "check_in",
            EventKind::Follow => "follow",
            EventKind::TierChanged => "tier_changed",
            EventKind::CouponClaimed => "coupon_claimed",
            EventKind::CouponRedeemed => "coupon_redeemed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// What an event does to its member's row, beyond being stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberEffect<'a> {
    /// The user joins at `at`: a new customer is created joined then, a buyer who never joined
    /// joins then, and a member keeps its join time.
    Join { at: Timestamp },
    /// The member's tier becomes `data.tier` (none when absent); a user with no row is left
    /// without one.
    SetTier(Option<&'a str>),
}

/// What an event of `kind` at `at` carrying `data` does to its member (the one place this is
/// decided): a `signup` joins, a `tier_changed` sets the tier; any other kind (and a kind quan
/// does not know) only records the event.
pub fn member_effect<'d>(
    kind: &str,
    at: Timestamp,
    data: &'d serde_json::Value,
) -> Option<MemberEffect<'d>> {
    match EventKind::parse(kind)? {
        EventKind::Signup => Some(MemberEffect::Join { at }),
        EventKind::TierChanged => Some(MemberEffect::SetTier(
            data.get("tier").and_then(|t| t.as_str()),
        )),
        _ => None,
    }
}

/// Why an event of `kind` carrying `data` cannot be stored, if it cannot: the kind is unknown,
/// or a `tier_changed` does not carry its new tier.
pub fn refusal(kind: &str, data: &serde_json::Value) -> Option<EventRefusal> {
    match EventKind::parse(kind) {
        None => Some(EventRefusal::UnknownKind),
        Some(EventKind::TierChanged) if !data.get("tier").is_some_and(|t| t.is_string()) => {
            Some(EventRefusal::MissingTier)
        }
        Some(_) => None,
    }
}

/// Why an event is refused ([`refusal`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventRefusal {
    UnknownKind,
    MissingTier,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_kind_parses_back() {
        for k in EventKind::ALL {
            assert_eq!(EventKind::parse(k.as_str()), Some(k));
            assert_eq!(
                serde_json::to_value(k).unwrap(),
                json!(k.as_str()),
                "serde agrees"
            );
        }
        assert_eq!(EventKind::parse("signed_up"), None);
    }

    #[test]
    fn signup_joins_and_tier_changed_sets_the_tier() {
        let at = Timestamp::UNIX_EPOCH;
        assert_eq!(
            member_effect("signup", at, &json!({"source": "qr"})),
            Some(MemberEffect::Join { at })
        );
        let gold = json!({"tier": "gold"});
        assert_eq!(
            member_effect("tier_changed", at, &gold),
            Some(MemberEffect::SetTier(Some("gold")))
        );
        assert_eq!(
            member_effect("tier_changed", at, &json!({})),
            Some(MemberEffect::SetTier(None))
        );
        for quiet in [
            "visit",
            "order_paid",
            "review",
            "coupon_claimed",
            "nonsense",
        ] {
            assert_eq!(member_effect(quiet, at, &gold), None, "{quiet}");
        }
    }

    #[test]
    fn refuses_unknown_kinds_and_tierless_tier_changes() {
        assert_eq!(refusal("signup", &json!({})), None);
        assert_eq!(
            refusal("nonsense", &json!({})),
            Some(EventRefusal::UnknownKind)
        );
        assert_eq!(
            refusal("tier_changed", &json!({"tier": 3})),
            Some(EventRefusal::MissingTier)
        );
        assert_eq!(refusal("tier_changed", &json!({"tier": "gold"})), None);
    }
}
