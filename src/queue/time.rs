//! The queue's clock: times as the database stores them (Unix
//! milliseconds, so every process sharing a directory compares the same
//! numbers) and as texts show them (RFC 3339 in UTC).
//!
//! Within a process the clock is monotonic: the system clock is read once,
//! when the queue first needs the time, and from then on the time is that
//! reading plus the monotonic time elapsed since. A change of the system
//! time (an administrator's correction, a VM restored from a snapshot, a
//! wrong NTP answer) therefore neither makes a lease this process holds look
//! expired to its own scheduler (which would send the message a second time
//! while the first attempt runs) nor moves its retries.
//!
//! Across processes each one keeps the system time of its own first
//! reading, so after a jump of J a process started later disagrees with the
//! older ones by J. Tolerance: a disagreement smaller than the lease margin
//! (`job::LEASE_MARGIN`, 30 s) costs nothing; a larger one can at worst let
//! the process that is ahead take over a message whose lease it thinks
//! expired (a duplicate attempt, with the same `webhook-id`, never a lost
//! message), and a process that is behind by J sees retries J late (those of
//! other processes pick them up on time).

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use once_cell::sync::Lazy;

/// A jump of the system clock that tests apply (milliseconds added to every
/// reading of the system time). Zero outside tests.
static WALL_SKEW_MS: AtomicI64 = AtomicI64::new(0);

/// The system time in Unix milliseconds (0 if the clock is before 1970).
fn wall_ms() -> i64 {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    ms.saturating_add(WALL_SKEW_MS.load(Ordering::Relaxed))
}

/// The system time at the queue's first reading, and the monotonic instant
/// it was taken at.
static ANCHOR: Lazy<(i64, Instant)> = Lazy::new(|| (wall_ms(), Instant::now()));

/// Milliseconds since the Unix epoch, advancing with the monotonic clock.
pub(crate) fn now_ms() -> i64 {
    let (wall, at) = *ANCHOR;
    after(wall, at.elapsed())
}

/// Moves the system clock as this process's readings see it by `ms`
/// (forward when positive), as an administrator's `date -s` would. For
/// tests of clock jumps.
#[doc(hidden)]
pub fn skew_system_clock(ms: i64) {
    Lazy::force(&ANCHOR);
    WALL_SKEW_MS.fetch_add(ms, Ordering::Relaxed);
}

/// The system time as this process reads it now, skew included. For tests.
#[doc(hidden)]
pub fn system_ms() -> i64 {
    wall_ms()
}

/// `ms` plus `pause`, saturating (a pause of centuries stays a big number).
pub(crate) fn after(ms: i64, pause: Duration) -> i64 {
    ms.saturating_add(i64::try_from(pause.as_millis()).unwrap_or(i64::MAX))
}

/// `2024-05-01T12:00:05Z`, or with `.123` milliseconds when `millis`.
pub(crate) fn rfc3339(ms: i64, millis: bool) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let of_day = secs.rem_euclid(86_400);
    let (year, month, day) = crate::calendar::civil_from_days(days);
    let (h, m, s) = (of_day / 3600, of_day % 3600 / 60, of_day % 60);
    if millis {
        let frac = ms.rem_euclid(1000);
        format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{frac:03}Z")
    } else {
        format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}Z")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339(0, false), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_649_367_553_000, false), "2022-04-07T21:39:13Z");
        assert_eq!(rfc3339(951_782_400_007, true), "2000-02-29T00:00:00.007Z");
    }

    #[test]
    fn agrees_with_httpdate_over_centuries() {
        // httpdate formats the same instant independently (RFC 7231 form).
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let mut secs: u64 = 0;
        while secs < 253_402_300_799 {
            let ours = rfc3339(secs as i64 * 1000, false);
            let theirs = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(secs));
            // "Thu, 07 Apr 2022 21:39:13 GMT"
            let parts: Vec<&str> = theirs.split(' ').collect();
            let month = MONTHS.iter().position(|m| *m == parts[2]).unwrap() + 1;
            let expected = format!("{}-{month:02}-{}T{}Z", parts[3], parts[1], parts[4]);
            assert_eq!(ours, expected, "{secs}");
            secs += 7_777_777;
        }
    }

    #[test]
    fn a_jump_of_the_system_clock_does_not_move_the_queue_clock() {
        let before = now_ms();
        skew_system_clock(3_600_000);
        let during = now_ms();
        skew_system_clock(-3_600_000);
        assert!(
            (0..60_000).contains(&(during - before)),
            "{before} -> {during}"
        );
        assert!(now_ms() >= during, "monotonic");
    }

    #[test]
    fn after_saturates() {
        assert_eq!(after(1000, Duration::from_millis(500)), 1500);
        assert_eq!(after(1, Duration::MAX), i64::MAX);
    }
}
