//! Coupon instances (券实例): statuses, validity windows and the ledger's events.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::template::{Template, Validity};
use crate::zone::TenantZone;

/// Where a coupon stands in its lifecycle (domain.md section 4).
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
}
