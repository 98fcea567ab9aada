//! Deadlines counted in working days on the Beijing calendar, as 12345 and
//! 接诉即办 offices count them: a request received on a Friday afternoon with
//! one working day to answer is due at the end of Monday, not on Saturday.
//! Weekends only: public holidays and the weekends worked in their place
//! (调休) change every year and are not modelled yet.

use crate::clock::DAY_MS;
use crate::policy::{BEIJING_OFFSET_MS, beijing_day};

/// Monday to Friday, for a day numbered from 1970-01-01 (a Thursday).
pub fn is_working_day(epoch_day: i64) -> bool {
    (epoch_day + 3).rem_euclid(7) < 5
}

/// The end (24:00 Beijing time) of the `days`-th working day after the
/// Beijing day of `from_ms`; with `days` 0, the end of that day itself.
pub fn due_after_working_days(from_ms: i64, days: i64) -> i64 {
    let mut day = beijing_day(from_ms);
    let mut left = days.max(0);
    while left > 0 {
        day += 1;
        if is_working_day(day) {
            left -= 1;
        }
    }
    (day + 1) * DAY_MS - BEIJING_OFFSET_MS
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Epoch ms of a Beijing wall-clock time.
    fn beijing(date: &str, hour: i64, minute: i64) -> i64 {
        let day = crate::domain::CivilDate::parse(date).unwrap().epoch_day();
        day * DAY_MS + (hour * 60 + minute) * 60_000 - BEIJING_OFFSET_MS
    }

    #[test]
    fn weekends_are_not_counted() {
        // 2026-12-04 is a Friday.
        assert!(is_working_day(
            crate::domain::CivilDate::parse("2026-12-04").unwrap().epoch_day()
        ));
        assert!(!is_working_day(
            crate::domain::CivilDate::parse("2026-12-05").unwrap().epoch_day()
        ));
        let friday = beijing("2026-12-04", 16, 0);
        assert_eq!(
            due_after_working_days(friday, 1),
            beijing("2026-12-08", 0, 0),
            "end of Monday"
        );
        assert_eq!(
            due_after_working_days(friday, 7),
            beijing("2026-12-16", 0, 0),
            "end of next Tuesday"
        );
        // Received on a Saturday: the first working day is Monday.
        let saturday = beijing("2026-12-05", 10, 0);
        assert_eq!(due_after_working_days(saturday, 1), beijing("2026-12-08", 0, 0));
    }

    #[test]
    fn the_day_turns_at_beijing_midnight_not_utc() {
        // 23:30 on Monday in Beijing is 15:30 UTC the same day; 00:30 on
        // Tuesday is 16:30 UTC on Monday — one UTC day, two Beijing days.
        let monday_late = beijing("2026-12-07", 23, 30);
        let tuesday_early = beijing("2026-12-08", 0, 30);
        assert_eq!(monday_late.div_euclid(DAY_MS), tuesday_early.div_euclid(DAY_MS));
        assert_eq!(due_after_working_days(monday_late, 1), beijing("2026-12-09", 0, 0));
        assert_eq!(due_after_working_days(tuesday_early, 1), beijing("2026-12-10", 0, 0));
        assert_eq!(due_after_working_days(monday_late, 0), beijing("2026-12-08", 0, 0));
    }
}
