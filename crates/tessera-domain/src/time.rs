//! Time as Tessera sees it: whole Unix seconds, and a clock that tests can set.

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A point in time, in whole seconds since the Unix epoch (UTC). This is the stored form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct UnixTime(i64);

impl UnixTime {
    /// The Unix epoch.
    pub const EPOCH: UnixTime = UnixTime(0);

    /// The time `secs` seconds after the epoch.
    pub const fn from_secs(secs: i64) -> Self {
        Self(secs)
    }

    /// Seconds since the epoch.
    pub const fn as_secs(self) -> i64 {
        self.0
    }

    /// This time plus `secs` seconds (negative goes back), saturating at the `i64` range.
    #[must_use]
    pub const fn plus_secs(self, secs: i64) -> Self {
        Self(self.0.saturating_add(secs))
    }

    /// Seconds from `earlier` to `self` (negative if `earlier` is later), saturating.
    pub const fn secs_since(self, earlier: UnixTime) -> i64 {
        self.0.saturating_sub(earlier.0)
    }

    /// The calendar date and time of this instant shifted by `offset_secs` from UTC:
    /// `(year, month, day, hour, minute, second)`.
    #[must_use]
    pub fn civil(self, offset_secs: i64) -> (i64, u32, u32, u32, u32, u32) {
        let secs = self.0.saturating_add(offset_secs);
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        // Howard Hinnant's days-to-civil algorithm.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        (year, month, day, (rem / 3600) as u32, (rem % 3600 / 60) as u32, (rem % 60) as u32)
    }

    /// Midnight starting the calendar day `year-month-day` at `offset_secs` from UTC (the
    /// inverse of [`civil`](Self::civil) for a whole day). The date must be valid.
    #[must_use]
    pub fn from_civil_date(year: i64, month: u32, day: u32, offset_secs: i64) -> Self {
        // Howard Hinnant's days-from-civil algorithm.
        let y = year - i64::from(month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (i64::from(month) + 9) % 12;
        let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        Self(days.saturating_mul(86_400).saturating_sub(offset_secs))
    }

    /// RFC 3339 in UTC, e.g. `2024-02-29T16:30:05Z`.
    #[must_use]
    pub fn rfc3339(self) -> String {
        let (y, mo, d, h, mi, s) = self.civil(0);
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
    }
}

impl fmt::Display for UnixTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// Where "now" comes from. Protocol logic takes `now` as a parameter; services get it here.
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> UnixTime;
}

/// The operating system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    /// The system time in whole seconds; a clock set before 1970 reads as the epoch.
    fn now(&self) -> UnixTime {
        let secs =
            SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        UnixTime(secs)
    }
}

/// A clock that reads whatever it was last set to. Shareable across threads (`&self` setters).
#[derive(Debug, Default)]
pub struct FixedClock(AtomicI64);

impl FixedClock {
    /// A clock stopped at `at`.
    pub const fn new(at: UnixTime) -> Self {
        Self(AtomicI64::new(at.0))
    }

    /// Moves the clock to `at`.
    pub fn set(&self, at: UnixTime) {
        self.0.store(at.0, Ordering::SeqCst);
    }

    /// Moves the clock forward by `secs` seconds (back if negative).
    pub fn advance(&self, secs: i64) {
        let _ = self.0.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |t| Some(t.saturating_add(secs)));
    }
}

impl Clock for FixedClock {
    fn now(&self) -> UnixTime {
        UnixTime(self.0.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod civil_tests {
    use super::UnixTime;

    #[test]
    fn rfc3339_is_utc_and_handles_leap_days() {
        assert_eq!(UnixTime::EPOCH.rfc3339(), "1970-01-01T00:00:00Z");
        assert_eq!(UnixTime::from_secs(1_709_224_205).rfc3339(), "2024-02-29T16:30:05Z");
        assert_eq!(UnixTime::from_secs(1_709_224_205).civil(8 * 3600), (2024, 3, 1, 0, 30, 5));
        let day = |d: i64| UnixTime::from_secs(d * 86_400).civil(0);
        assert_eq!(day(-1), (1969, 12, 31, 0, 0, 0));
        assert_eq!(day(11_016), (2000, 2, 29, 0, 0, 0));
        assert_eq!(day(20_818), (2026, 12, 31, 0, 0, 0));
        for d in [-1, 0, 11_016, 19_782, 20_818] {
            let (y, m, dd, ..) = day(d);
            assert_eq!(UnixTime::from_civil_date(y, m, dd, 0), UnixTime::from_secs(d * 86_400));
        }
        assert_eq!(UnixTime::from_civil_date(1970, 1, 2, 8 * 3600), UnixTime::from_secs(86_400 - 8 * 3600));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_time_arithmetic_saturates() {
        let t = UnixTime::from_secs(100);
        assert_eq!(t.plus_secs(20).as_secs(), 120);
        assert_eq!(t.plus_secs(-200).as_secs(), -100);
        assert_eq!(UnixTime::from_secs(i64::MAX).plus_secs(1).as_secs(), i64::MAX);
        assert_eq!(t.plus_secs(30).secs_since(t), 30);
        assert!(t < t.plus_secs(1));
        assert_eq!(t.to_string(), "100");
    }

    #[test]
    fn fixed_clock_is_settable() {
        let clock = FixedClock::new(UnixTime::from_secs(1_000));
        assert_eq!(clock.now(), UnixTime::from_secs(1_000));
        clock.advance(60);
        assert_eq!(clock.now(), UnixTime::from_secs(1_060));
        clock.set(UnixTime::from_secs(5));
        assert_eq!(clock.now().as_secs(), 5);
    }

    #[test]
    fn system_clock_is_after_2024() {
        assert!(SystemClock.now() > UnixTime::from_secs(1_704_067_200));
    }

    #[test]
    fn clocks_are_object_safe() {
        let clocks: Vec<Box<dyn Clock>> = vec![Box::new(SystemClock), Box::new(FixedClock::new(UnixTime::EPOCH))];
        assert_eq!(clocks[1].now(), UnixTime::EPOCH);
    }
}
