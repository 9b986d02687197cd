//! What an attempt's outcome means for the message: delivered, failed for
//! good, or another attempt after the schedule's pause (±20 % jitter so that
//! messages that failed together do not all retry in the same second) or
//! after the pause the server asked for with `Retry-After`.

use std::time::Duration;

use ring::rand::{SecureRandom, SystemRandom};

use crate::http::retry::retry_after;
use crate::http::{Error, Response};

/// Spread of a scheduled pause: ±20 %.
pub const JITTER: f64 = 0.2;

/// Longest pause honoured from `Retry-After` or a schedule entry, so a broken
/// header or setting cannot park a message for years.
pub const MAX_PAUSE: Duration = Duration::from_secs(7 * 24 * 3600);

/// What an attempt's outcome does to the message; the store applies it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Verdict {
    Delivered,
    /// Pending again, due after this pause.
    Retry(Duration),
    Failed,
}

/// Shortest pause honoured from `Retry-After`: "0" or a date in the past
/// would otherwise retry in a tight loop.
pub const MIN_RETRY_AFTER: Duration = Duration::from_secs(1);

/// True for failures no later attempt can change: the request itself is
/// malformed (checked at Enqueue, so only a row from an older version can
/// get here). Everything else that kept an answer from arriving, TLS
/// included (a certificate gets renewed), may pass later.
fn hopeless(error: &Error) -> bool {
    matches!(
        error,
        Error::EmptyUrl
            | Error::InvalidUrl { .. }
            | Error::UnsupportedScheme { .. }
            | Error::InvalidMethod { .. }
            | Error::InvalidHeaderName { .. }
            | Error::InvalidHeaderValue { .. }
    )
}

/// The verdict after `attempts_made` attempts (this one included) ended
/// with `outcome`, by the Standard Webhooks specification's rules: only a
/// 2xx is a delivery; 410 Gone fails at once; every other answer (3xx,
/// 4xx, 5xx) and every failure to get an answer is retried on the
/// schedule. `Retry-After` replaces the scheduled pause, but never beyond
/// the schedule's longest pause and never under [`MIN_RETRY_AFTER`].
/// `unit` in [0, 1] places the pause within the jitter band.
pub(crate) fn decide(
    outcome: &Result<Response, Error>,
    attempts_made: u32,
    schedule: &[u64],
    unit: f64,
) -> Verdict {
    match outcome {
        Ok(response) if (200..300).contains(&response.status) => return Verdict::Delivered,
        Ok(response) if response.status == 410 => return Verdict::Failed,
        Err(error) if hopeless(error) => return Verdict::Failed,
        _ => {}
    }
    let index = usize::try_from(attempts_made.saturating_sub(1)).unwrap_or(usize::MAX);
    let Some(&pause) = schedule.get(index) else {
        return Verdict::Failed;
    };
    if let Some(asked) = outcome.as_ref().ok().and_then(retry_after) {
        let longest = schedule
            .iter()
            .copied()
            .max()
            .map_or(MAX_PAUSE, |s| Duration::from_secs(s).min(MAX_PAUSE));
        return Verdict::Retry(asked.clamp(MIN_RETRY_AFTER, longest.max(MIN_RETRY_AFTER)));
    }
    Verdict::Retry(jittered(pause, unit))
}

/// `seconds` scaled into [1 - JITTER, 1 + JITTER] by `unit`.
pub(crate) fn jittered(seconds: u64, unit: f64) -> Duration {
    let base = Duration::from_secs(seconds).min(MAX_PAUSE).as_secs_f64();
    let factor = 1.0 - JITTER + 2.0 * JITTER * unit.clamp(0.0, 1.0);
    Duration::from_secs_f64(base * factor)
}

/// A uniform number in [0, 1] for the jitter.
pub(crate) fn random_unit() -> f64 {
    let mut bytes = [0u8; 4];
    match SystemRandom::new().fill(&mut bytes) {
        Ok(()) => f64::from(u32::from_le_bytes(bytes)) / f64::from(u32::MAX),
        // No OS randomness: no jitter is still a correct schedule.
        Err(_) => 0.5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::ConnectCause;

    fn answer(status: u16, headers: &[(&str, &str)]) -> Result<Response, Error> {
        Ok(Response {
            status,
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            body: Vec::new(),
            ..Response::default()
        })
    }

    fn refused() -> Result<Response, Error> {
        Err(Error::Connect {
            url: "http://127.0.0.1:1/".into(),
            cause: ConnectCause::Refused,
        })
    }

    const SCHEDULE: [u64; 3] = [5, 300, 1800];

    #[test]
    fn only_2xx_delivers_only_410_fails_at_once_and_the_rest_is_retried() {
        for status in [200, 201, 204, 299] {
            assert_eq!(
                decide(&answer(status, &[]), 1, &SCHEDULE, 0.5),
                Verdict::Delivered
            );
        }
        assert_eq!(
            decide(&answer(410, &[]), 1, &SCHEDULE, 0.5),
            Verdict::Failed
        );
        for status in [
            100, 301, 302, 304, 307, 400, 401, 403, 404, 409, 422, 451, 501, 599,
        ] {
            assert_eq!(
                decide(&answer(status, &[]), 1, &SCHEDULE, 0.5),
                Verdict::Retry(Duration::from_secs(5)),
                "{status}"
            );
        }
        let tls = Err(Error::Tls {
            url: "https://x/".into(),
            cause: crate::http::TlsCause::UnknownIssuer,
        });
        assert_eq!(
            decide(&tls, 1, &SCHEDULE, 0.5),
            Verdict::Retry(Duration::from_secs(5))
        );
        let malformed = Err(Error::InvalidHeaderValue { name: "X-A".into() });
        assert_eq!(decide(&malformed, 1, &SCHEDULE, 0.5), Verdict::Failed);
    }

    #[test]
    fn retryable_outcomes_follow_the_schedule_until_it_runs_out() {
        for outcome in [
            answer(408, &[]),
            answer(429, &[]),
            answer(500, &[]),
            answer(503, &[]),
            refused(),
        ] {
            assert_eq!(
                decide(&outcome, 1, &SCHEDULE, 0.5),
                Verdict::Retry(Duration::from_secs(5))
            );
            assert_eq!(
                decide(&outcome, 3, &SCHEDULE, 0.5),
                Verdict::Retry(Duration::from_secs(1800))
            );
            assert_eq!(decide(&outcome, 4, &SCHEDULE, 0.5), Verdict::Failed);
            assert_eq!(decide(&outcome, 1, &[], 0.5), Verdict::Failed);
        }
    }

    #[test]
    fn jitter_stays_within_twenty_percent() {
        assert_eq!(jittered(300, 0.0), Duration::from_secs(240));
        assert_eq!(jittered(300, 1.0), Duration::from_secs(360));
        assert_eq!(jittered(300, 7.0), Duration::from_secs(360));
        for _ in 0..100 {
            let unit = random_unit();
            assert!((0.0..=1.0).contains(&unit));
            let pause = jittered(5, unit);
            assert!(pause >= Duration::from_secs(4) && pause <= Duration::from_secs(6));
        }
        assert_eq!(jittered(u64::MAX, 0.5), MAX_PAUSE);
    }

    #[test]
    fn retry_after_wins_within_one_second_and_the_longest_pause() {
        let seconds = answer(429, &[("Retry-After", "1")]);
        assert_eq!(
            decide(&seconds, 1, &SCHEDULE, 0.0),
            Verdict::Retry(Duration::from_secs(1))
        );
        let date = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(90));
        match decide(&answer(503, &[("retry-after", &date)]), 2, &SCHEDULE, 0.0) {
            Verdict::Retry(pause) => {
                assert!(pause > Duration::from_secs(85) && pause <= Duration::from_secs(90))
            }
            other => panic!("{other:?}"),
        }
        // Capped at the schedule's longest pause, and never under 1 s.
        let forever = answer(503, &[("Retry-After", "999999999")]);
        assert_eq!(
            decide(&forever, 1, &SCHEDULE, 0.0),
            Verdict::Retry(Duration::from_secs(1800))
        );
        for now in ["0", &httpdate::fmt_http_date(std::time::SystemTime::now())] {
            assert_eq!(
                decide(&answer(429, &[("Retry-After", now)]), 1, &SCHEDULE, 0.0),
                Verdict::Retry(MIN_RETRY_AFTER),
                "{now}"
            );
        }
        assert_eq!(decide(&seconds, 4, &SCHEDULE, 0.0), Verdict::Failed);
        // A 2xx with Retry-After is still delivered.
        assert_eq!(
            decide(&answer(200, &[("Retry-After", "5")]), 1, &SCHEDULE, 0.0),
            Verdict::Delivered
        );
    }
}
