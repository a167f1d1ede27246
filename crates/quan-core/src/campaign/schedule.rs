//! The ticks of a weekly schedule trigger, in the tenant's local time.

use jiff::civil::Time;
use jiff::{Timestamp, ToSpan};

use crate::zone::TenantZone;

/// The first tick strictly after `after`: the next listed ISO weekday (Monday = 1) at local
/// time `at`. A local time a zone skips (a spring-forward gap) fires at the first instant
/// after the gap; `None` when `weekdays` lists no weekday.
pub fn next_tick(
    weekdays: &[u8],
    at: Time,
    after: Timestamp,
    zone: &TenantZone,
) -> Option<Timestamp> {
    let start = zone.local_date(after);
    for d in 0..=7 {
        let date = start.checked_add(d.days()).ok()?;
        let weekday = date.weekday().to_monday_one_offset() as u8;
        if !weekdays.contains(&weekday) {
            continue;
        }
        let tick = date
            .to_datetime(at)
            .to_zoned(zone.tz().clone())
            .ok()?
            .timestamp();
        if tick > after {
            return Some(tick);
        }
    }
    None
}

/// The occurrence key of a tick, so a member enters once per tick.
pub fn tick_occurrence(tick: Timestamp) -> String {
    format!("tick:{tick}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shanghai() -> TenantZone {
        TenantZone::parse("Asia/Shanghai").unwrap()
    }

    #[test]
    fn thursday_ten_local() {
        let z = shanghai();
        let at = Time::constant(10, 0, 0, 0);
        // 2026-03-02 is a Monday; 10:00 Shanghai is 02:00 UTC.
        let monday: Timestamp = "2026-03-02T02:00:00Z".parse().unwrap();
        let t = next_tick(&[4], at, monday, &z).unwrap();
        assert_eq!(t.to_string(), "2026-03-05T02:00:00Z");
        // Exactly at a tick, the next one is a week later.
        let t2 = next_tick(&[4], at, t, &z).unwrap();
        assert_eq!(t2.to_string(), "2026-03-12T02:00:00Z");
        // Just before it, the tick itself.
        let just_before = t - 1.second();
        assert_eq!(next_tick(&[4], at, just_before, &z), Some(t));
    }

    #[test]
    fn the_same_day_later_and_several_weekdays() {
        let z = shanghai();
        let at = Time::constant(20, 30, 0, 0);
        let monday_morning: Timestamp = "2026-03-02T01:00:00Z".parse().unwrap();
        let t = next_tick(&[1, 3], at, monday_morning, &z).unwrap();
        assert_eq!(t.to_string(), "2026-03-02T12:30:00Z");
        let t = next_tick(&[1, 3], at, t, &z).unwrap();
        assert_eq!(t.to_string(), "2026-03-04T12:30:00Z");
        assert_eq!(next_tick(&[], at, t, &z), None);
    }

    #[test]
    fn a_skipped_local_time_fires_after_the_gap() {
        let z = TenantZone::parse("America/New_York").unwrap();
        // 2026-03-08 (a Sunday) skips 02:00..03:00 local.
        let at = Time::constant(2, 30, 0, 0);
        let before: Timestamp = "2026-03-07T12:00:00Z".parse().unwrap();
        let t = next_tick(&[7], at, before, &z).unwrap();
        assert_eq!(t.to_string(), "2026-03-08T07:30:00Z");
    }
}
