//! Coupon instances (券实例): statuses, validity windows and the ledger's events.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::template::{Template, Validity};
use crate::zone::TenantZone;

/// Where a coupon stands in its lifecycle (docs/DOMAIN.md section 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CouponStatus {
    Claimed,
    Locked,
    Redeemed,
    Expired,
    Revoked,
}

impl CouponStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CouponStatus::Claimed => "claimed",
            CouponStatus::Locked => "locked",
            CouponStatus::Redeemed => "redeemed",
            CouponStatus::Expired => "expired",
            CouponStatus::Revoked => "revoked",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "claimed" => CouponStatus::Claimed,
            "locked" => CouponStatus::Locked,
            "redeemed" => CouponStatus::Redeemed,
            "expired" => CouponStatus::Expired,
            "revoked" => CouponStatus::Revoked,
            _ => return None,
        })
    }

    /// The status a wallet shows at `now`: a claimed coupon past its validity reads as expired.
    pub fn as_of(self, valid_until: Timestamp, now: Timestamp) -> Self {
        if self == CouponStatus::Claimed && now >= valid_until {
            CouponStatus::Expired
        } else {
            self
        }
    }

    /// Whether a coupon in this status counts as used by its template (`templates.used`).
    pub fn counts_as_used(self) -> bool {
        self == CouponStatus::Redeemed
    }

    /// How a move from `self` to `to` changes its template's used count (-1, 0 or 1).
    pub fn used_delta(self, to: CouponStatus) -> i64 {
        i64::from(to.counts_as_used()) - i64::from(self.counts_as_used())
    }

    /// Which stored coupons a wallet shows as `self` at some time ([`CouponStatus::as_of`]),
    /// for a store to filter on.
    pub fn shown_as(self) -> ShownAs {
        // Stored claimed: shown claimed while valid, expired after; every other status as is.
        ShownAs {
            stored: if self == CouponStatus::Claimed {
                vec![]
            } else {
                vec![self]
            },
            claimed_valid: match self {
                CouponStatus::Claimed => Some(true),
                CouponStatus::Expired => Some(false),
                _ => None,
            },
        }
    }
}

/// The stored coupons a wallet shows in one status ([`CouponStatus::shown_as`]): those stored
/// in one of `stored`, and, with `claimed_valid`, those stored `claimed` whose
/// `valid_until > now` equals it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownAs {
    pub stored: Vec<CouponStatus>,
    pub claimed_valid: Option<bool>,
}

impl ShownAs {
    /// Whether a coupon stored in `status`, valid until `valid_until`, is one of these at `now`.
    pub fn matches(&self, status: CouponStatus, valid_until: Timestamp, now: Timestamp) -> bool {
        self.stored.contains(&status)
            || (status == CouponStatus::Claimed && self.claimed_valid == Some(valid_until > now))
    }
}

/// Whether a coupon may be redeemed at `now` outside checkout: claimed and inside its window.
pub fn redeemable(
    status: CouponStatus,
    valid_from: Timestamp,
    valid_until: Timestamp,
    now: Timestamp,
) -> bool {
    status == CouponStatus::Claimed && valid_from <= now && now < valid_until
}

/// Whether an order may lock a coupon at `now`: the buyer's, not past its end, and claimed, or
/// locked by an order whose lock lapsed (`locked_until <= now`; it is taken over).
pub fn lockable(
    owned_by_buyer: bool,
    status: CouponStatus,
    valid_until: Timestamp,
    locked_until: Option<Timestamp>,
    now: Timestamp,
) -> bool {
    let lapsed = locked_until.is_some_and(|l| l <= now);
    owned_by_buyer
        && valid_until > now
        && (status == CouponStatus::Claimed || (status == CouponStatus::Locked && lapsed))
}

/// The window `[from, until)` in which a coupon claimed at `claimed_at` may be used.
pub fn validity_window(
    template: &Template,
    claimed_at: Timestamp,
    zone: &TenantZone,
) -> (Timestamp, Timestamp) {
    match &template.spec().validity {
        Validity::Fixed {
            valid_from,
            valid_until,
        } => (*valid_from, *valid_until),
        Validity::Relative {
            days,
            from_next_day: false,
        } => {
            let until = claimed_at
                .checked_add(SignedDuration::from_hours(days.saturating_mul(24)))
                .unwrap_or(Timestamp::MAX);
            (claimed_at, until)
        }
        Validity::Relative {
            days,
            from_next_day: true,
        } => {
            let tomorrow = zone
                .local_date(claimed_at)
                .tomorrow()
                .expect("date in range");
            (
                zone.start_of(tomorrow),
                zone.midnight_after(tomorrow, *days),
            )
        }
    }
}

/// Why a coupon changed status, as written in the append-only ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LedgerEvent {
    Claimed,
    Granted,
    Locked,
    Released,
    Redeemed,
    Restored,
    Expired,
    Revoked,
    /// Part of the order it was used in was refunded: the coupon stays redeemed, and the money
    /// it gave shrinks by the entry's `given`.
    Refunded,
}

impl LedgerEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            LedgerEvent::Claimed => "claimed",
            LedgerEvent::Granted => "granted",
            LedgerEvent::Locked => "locked",
            LedgerEvent::Released => "released",
            LedgerEvent::Redeemed => "redeemed",
            LedgerEvent::Restored => "restored",
            LedgerEvent::Expired => "expired",
            LedgerEvent::Revoked => "revoked",
            LedgerEvent::Refunded => "refunded",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::tests::spec;

    fn relative(days: i64, from_next_day: bool) -> Template {
        let mut s = spec();
        s.validity = Validity::Relative {
            days,
            from_next_day,
        };
        Template::parse(s).unwrap()
    }

    #[test]
    fn relative_days_are_24_hour_periods_from_the_claim() {
        let at: Timestamp = "2026-05-10T10:30:00Z".parse().unwrap();
        let (from, until) = validity_window(&relative(3, false), at, &TenantZone::utc());
        assert_eq!(from, at);
        assert_eq!(until, "2026-05-13T10:30:00Z".parse().unwrap());
    }

    #[test]
    fn from_next_day_starts_at_the_next_local_midnight() {
        let zone = TenantZone::parse("Asia/Shanghai").unwrap();
        // 23:30 local on May 10 (15:30 UTC): valid May 11 00:00 .. May 13 00:00 local.
        let at: Timestamp = "2026-05-10T15:30:00Z".parse().unwrap();
        let (from, until) = validity_window(&relative(2, true), at, &zone);
        assert_eq!(from, "2026-05-10T16:00:00Z".parse().unwrap());
        assert_eq!(until, "2026-05-12T16:00:00Z".parse().unwrap());
    }

    #[test]
    fn a_claimed_coupon_past_its_end_reads_expired() {
        let end: Timestamp = "2026-05-10T00:00:00Z".parse().unwrap();
        let before = end - SignedDuration::from_secs(1);
        assert_eq!(
            CouponStatus::Claimed.as_of(end, before),
            CouponStatus::Claimed
        );
        assert_eq!(CouponStatus::Claimed.as_of(end, end), CouponStatus::Expired);
        assert_eq!(
            CouponStatus::Redeemed.as_of(end, end),
            CouponStatus::Redeemed
        );
    }

    const ALL: [CouponStatus; 5] = [
        CouponStatus::Claimed,
        CouponStatus::Locked,
        CouponStatus::Redeemed,
        CouponStatus::Expired,
        CouponStatus::Revoked,
    ];

    #[test]
    fn a_wallet_filter_shows_what_as_of_reads() {
        let end: Timestamp = "2026-05-10T00:00:00Z".parse().unwrap();
        for now in [
            end - SignedDuration::from_secs(1),
            end,
            end + SignedDuration::from_secs(1),
        ] {
            for shown in ALL {
                for stored in ALL {
                    assert_eq!(
                        shown.shown_as().matches(stored, end, now),
                        stored.as_of(end, now) == shown,
                        "{stored:?} shown as {shown:?} at {now}"
                    );
                }
            }
        }
    }

    #[test]
    fn only_redeeming_and_giving_back_move_the_used_count() {
        use CouponStatus::*;
        assert_eq!(Locked.used_delta(Redeemed), 1);
        assert_eq!(Claimed.used_delta(Redeemed), 1);
        assert_eq!(Redeemed.used_delta(Claimed), -1);
        assert_eq!(Redeemed.used_delta(Expired), -1);
        assert_eq!(Claimed.used_delta(Locked), 0);
        assert_eq!(Locked.used_delta(Claimed), 0);
    }

    #[test]
    fn redeemable_inside_the_window_only() {
        let (from, until): (Timestamp, Timestamp) = (
            "2026-05-01T00:00:00Z".parse().unwrap(),
            "2026-05-10T00:00:00Z".parse().unwrap(),
        );
        let s = SignedDuration::from_secs(1);
        assert!(redeemable(CouponStatus::Claimed, from, until, from));
        assert!(!redeemable(CouponStatus::Claimed, from, until, from - s));
        assert!(!redeemable(CouponStatus::Claimed, from, until, until));
        assert!(!redeemable(CouponStatus::Locked, from, until, from + s));
    }

    #[test]
    fn lockable_when_claimed_or_its_lock_lapsed() {
        use CouponStatus::*;
        let now: Timestamp = "2026-05-05T00:00:00Z".parse().unwrap();
        let (later, earlier) = (
            now + SignedDuration::from_secs(60),
            now - SignedDuration::from_secs(60),
        );
        assert!(lockable(true, Claimed, later, None, now));
        assert!(!lockable(false, Claimed, later, None, now));
        assert!(!lockable(true, Claimed, now, None, now));
        assert!(lockable(true, Locked, later, Some(now), now));
        assert!(lockable(true, Locked, later, Some(earlier), now));
        assert!(!lockable(true, Locked, later, Some(later), now));
        assert!(!lockable(true, Locked, later, None, now));
        for s in [Redeemed, Expired, Revoked] {
            assert!(!lockable(true, s, later, Some(earlier), now));
        }
    }
}
