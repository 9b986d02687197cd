//! Retries for direct calls: which outcomes deserve another attempt, how
//! long to wait (doubling from the first delay, capped; `Retry-After` wins,
//! at least 1 s),
//! and the loop that signs every attempt with the same message id.

use std::time::{Duration, Instant, SystemTime};

use super::sign::Signer;
use super::{Error, Prepared, Response, Transport};

/// Longest pause between direct-call attempts; the 1C session is waiting.
pub const MAX_DELAY: Duration = Duration::from_secs(60);

/// Shortest pause a `Retry-After` can ask for: `0` or a date in the past
/// would otherwise retry at once, and RetryCount 100 would become a burst
/// of 101 requests.
pub const MIN_RETRY_AFTER: Duration = Duration::from_secs(1);

/// How a direct call retries.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Attempts after the first one.
    pub extra_attempts: u32,
    /// Pause before the second attempt; doubles each time up to [`MAX_DELAY`].
    pub first_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            extra_attempts: 0,
            first_delay: Duration::from_secs(1),
        }
    }
}

/// True for outcomes worth another attempt: no connection, a timeout, a
/// broken transfer, or status 408, 429 or 5xx.
pub fn is_retryable(outcome: &Result<Response, Error>) -> bool {
    match outcome {
        Ok(response) => matches!(response.status, 408 | 429 | 500..=599),
        Err(Error::Connect { .. } | Error::Timeout { .. } | Error::Transfer { .. }) => true,
        Err(_) => false,
    }
}

/// The pause a `Retry-After` header asks for: delta-seconds or an HTTP date.
pub fn retry_after(response: &Response) -> Option<Duration> {
    let value = response.header("retry-after")?;
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// What a retried call ended with.
#[derive(Debug)]
pub struct Outcome {
    pub result: Result<Response, Error>,
    /// Attempts made (1 when the first one settled it).
    pub attempts: u32,
}

/// One attempt as it ended, for whoever records attempts (the audit log).
pub struct Attempt<'a> {
    pub request: &'a Prepared,
    pub result: &'a Result<Response, Error>,
    pub duration: Duration,
    /// 1 for the first attempt.
    pub number: u32,
    pub message_id: &'a str,
}

/// How the attempts of one call are made and recorded.
pub struct Attempts<'a> {
    pub policy: RetryPolicy,
    /// Signs every attempt when set.
    pub signer: Option<&'a Signer>,
    /// `webhook-id` of every attempt (signed calls) and the audit lines.
    pub message_id: &'a str,
    /// Called after every attempt (the LogFile line).
    pub observe: Option<&'a dyn Fn(&Attempt<'_>)>,
    /// How to wait between attempts (the real sleep, or a test's).
    pub sleep: &'a dyn Fn(Duration),
}

/// Sends `request`, retrying per the policy. With a signer every attempt
/// carries the Standard Webhooks headers with the message id and a fresh
/// timestamp.
pub fn send_with_retries(transport: &Transport, request: &Prepared, how: &Attempts<'_>) -> Outcome {
    let mut delay = how.policy.first_delay.min(MAX_DELAY);
    let mut attempts = 0;
    loop {
        attempts += 1;
        let started = Instant::now();
        let result = match how.signer {
            Some(signer) => {
                let mut signed = request.clone();
                signed.stamp(how.message_id, Some(signer));
                signed.send(transport)
            }
            None => request.send(transport),
        };
        if let Some(observe) = how.observe {
            observe(&Attempt {
                request,
                result: &result,
                duration: started.elapsed(),
                number: attempts,
                message_id: how.message_id,
            });
        }
        if attempts > how.policy.extra_attempts || !is_retryable(&result) {
            return Outcome { result, attempts };
        }
        let pause = match result.as_ref().ok().and_then(retry_after) {
            // The server names its time; more than we may block means give
            // the answer back to the 1C code now.
            Some(asked) if asked > MAX_DELAY => return Outcome { result, attempts },
            Some(asked) => asked.max(MIN_RETRY_AFTER),
            None => delay,
        };
        (how.sleep)(pause);
        delay = (delay * 2).min(MAX_DELAY);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, headers: &[(&str, &str)]) -> Result<Response, Error> {
        Ok(Response {
            status,
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            ..Response::default()
        })
    }

    #[test]
    fn retryable_outcomes() {
        for status in [408, 429, 500, 502, 503, 599] {
            assert!(is_retryable(&response(status, &[])), "{status}");
        }
        for status in [200, 201, 301, 400, 401, 404, 410, 422] {
            assert!(!is_retryable(&response(status, &[])), "{status}");
        }
        assert!(!is_retryable(&Err(Error::EmptyUrl)));
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let r = response(429, &[("retry-after", " 7 ")]).unwrap();
        assert_eq!(retry_after(&r), Some(Duration::from_secs(7)));
        let later = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(120));
        let r = response(503, &[("retry-after", later.as_str())]).unwrap();
        let pause = retry_after(&r).unwrap();
        assert!(
            pause > Duration::from_secs(100) && pause <= Duration::from_secs(120),
            "{pause:?}"
        );
        let past = response(503, &[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")]).unwrap();
        assert_eq!(retry_after(&past), Some(Duration::ZERO));
        assert_eq!(
            retry_after(&response(503, &[("retry-after", "soon")]).unwrap()),
            None
        );
    }
}
