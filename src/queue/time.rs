//! Wall-clock time as the database stores it (Unix milliseconds, so every
//! process sharing a directory compares the same numbers) and as texts show
//! it (RFC 3339 in UTC).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch (0 if the clock is before it).
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
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
    fn after_saturates() {
        assert_eq!(after(1000, Duration::from_millis(500)), 1500);
        assert_eq!(after(1, Duration::MAX), i64::MAX);
    }
}
