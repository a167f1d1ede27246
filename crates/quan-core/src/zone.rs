//! The tenant's time zone: local calendar days and midnights, for daily limits and validity.

use jiff::{civil::Date, tz::TimeZone, Timestamp, ToSpan, Zoned};

/// The tenant's zone (`QUAN_TIME_ZONE`, default Asia/Shanghai). "Per day" means its local day.
#[derive(Debug, Clone)]
pub struct TenantZone(TimeZone);

impl TenantZone {
    /// Looks the zone up in the IANA database by name, e.g. `Asia/Shanghai`.
    pub fn parse(name: &str) -> Result<Self, String> {
        TimeZone::get(name)
            .map(Self)
            .map_err(|e| format!("unknown time zone {name:?}: {e}"))
    }

    pub fn utc() -> Self {
        Self(TimeZone::UTC)
    }

    pub fn tz(&self) -> &TimeZone {
        &self.0
    }

    pub fn zoned(&self, at: Timestamp) -> Zoned {
        at.to_zoned(self.0.clone())
    }

    /// The local calendar date of an instant.
    pub fn local_date(&self, at: Timestamp) -> Date {
        self.zoned(at).date()
    }

    /// The local day of an instant as a number (days since 1970-01-01), the key of daily limits.
    pub fn day_number(&self, at: Timestamp) -> i64 {
        let date = self.local_date(at);
        let epoch = Date::constant(1970, 1, 1);
        i64::from((date - epoch).get_days())
    }

    /// The local date of a day number ([`TenantZone::day_number`]'s inverse).
    pub fn date_of_day(day: i64) -> Date {
        Date::constant(1970, 1, 1)
            .checked_add(day.days())
            .unwrap_or(Date::MAX)
    }

    /// The first instant of the local day after the one holding `at`.
    pub fn next_midnight(&self, at: Timestamp) -> Timestamp {
        self.start_of(self.local_date(at).tomorrow().expect("date in range"))
    }

    /// The local midnight `days` local days after the local midnight that starts `date`.
    pub fn midnight_after(&self, date: Date, days: i64) -> Timestamp {
        let target = date.checked_add(days.days()).unwrap_or(Date::MAX);
        self.start_of(target)
    }

    /// The first instant of a local date (a zone may skip midnight: then the first instant after).
    pub fn start_of(&self, date: Date) -> Timestamp {
        date.to_zoned(self.0.clone())
            .and_then(|z| z.start_of_day())
            .map(|z| z.timestamp())
            .unwrap_or(Timestamp::MAX)
    }
}

/// The times quan accepts in its input: from 1970-01-01 to before 2100-01-01, UTC. A year
/// outside (a typo such as `0001` or `9999`, or an order dated 2100) is refused with its field
/// rather than stored or carried into date arithmetic.
pub const ACCEPTED_YEARS: std::ops::Range<i16> = 1970..2100;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shanghai_day_turns_at_16_utc() {
        let z = TenantZone::parse("Asia/Shanghai").unwrap();
        let before: Timestamp = "2026-03-01T15:59:59Z".parse().unwrap();
        let after: Timestamp = "2026-03-01T16:00:00Z".parse().unwrap();
        assert_eq!(z.day_number(before) + 1, z.day_number(after));
        assert_eq!(z.next_midnight(before), after);
        assert_eq!(
            TenantZone::date_of_day(z.day_number(after)),
            Date::constant(2026, 3, 2)
        );
    }

    #[test]
    fn local_days_follow_daylight_saving() {
        let z = TenantZone::parse("America/New_York").unwrap();
        let d = Date::constant(2026, 3, 7);
        let start = z.start_of(d);
        let end = z.midnight_after(d, 2); // across the spring-forward night: 47 hours
        assert_eq!((end.as_second() - start.as_second()) / 3600, 47);
    }
}
