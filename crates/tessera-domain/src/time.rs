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
