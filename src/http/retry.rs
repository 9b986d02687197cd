//! Retries for direct calls: which outcomes deserve another attempt, how
//! long to wait (doubling from the first delay, capped; `Retry-After` wins),
//! and the loop that signs every attempt with the same message id.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use super::sign::{unix_now, Signer};
use super::{send, Error, Request, Response, Transport};

/// Longest pause between direct-call attempts; the 1C session is waiting.
pub const MAX_DELAY: Duration = Duration::from_secs(60);

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

/// How the attempts of one call are made and recorded.
pub struct Attempts<'a> {
    pub policy: RetryPolicy,
    /// Signs every attempt when set.
    pub signer: Option<&'a Signer>,
    /// `webhook-id` of every attempt (signed calls) and the audit lines.
    pub message_id: &'a str,
    /// LogFile: one audit line per attempt when set.
    pub log_file: Option<&'a Path>,
    /// How to wait between attempts (the real sleep, or a test's).
    pub sleep: &'a dyn Fn(Duration),
}

/// Sends `request`, retrying per the policy. With a signer every attempt
/// carries the Standard Webhooks headers with the message id and a fresh
/// timestamp.
pub fn send_with_retries(transport: &Transport, request: &Request, how: &Attempts<'_>) -> Outcome {
    let (policy, signer, message_id) = (how.policy, how.signer, how.message_id);
    let mut delay = policy.first_delay.min(MAX_DELAY);
    let mut attempts = 0;
    loop {
        attempts += 1;
        let started = Instant::now();
        let result = match signer {
            Some(signer) => {
                let mut signed = request.clone();
                let body = signed.body.as_deref().unwrap_or_default();
                let headers = signer.headers(message_id, unix_now(), body);
                signed
                    .headers
                    .retain(|(n, _)| !headers.iter().any(|(h, _)| h.eq_ignore_ascii_case(n)));
                signed.headers.extend(headers);
                send(transport, &signed)
            }
            None => send(transport, request),
        };
        if let Some(file) = how.log_file {
            audit_attempt(
                file,
                request,
                &result,
                started.elapsed(),
                attempts,
                message_id,
            );
        }
        if attempts > policy.extra_attempts || !is_retryable(&result) {
            return Outcome { result, attempts };
        }
        let pause = match result.as_ref().ok().and_then(retry_after) {
            // The server names its time; more than we may block means give
            // the answer back to the 1C code now.
            Some(asked) if asked > MAX_DELAY => return Outcome { result, attempts },
            Some(asked) => asked,
            None => delay,
        };
        (how.sleep)(pause);
        delay = (delay * 2).min(MAX_DELAY);
    }
}

/// Writes the audit line of one attempt: redacted URL, status or error
/// text, sizes, timing; never headers, bodies or secrets.
pub fn audit_attempt(
    file: &Path,
    request: &Request,
    result: &Result<Response, Error>,
    duration: Duration,
    attempt: u32,
    message_id: &str,
) {
    let url = super::parse_url(&request.url)
        .map(|u| super::redact_url(&u))
        .unwrap_or_else(|_| super::redact_url_str(&request.url));
    let error = result.as_ref().err().map(ToString::to_string);
    crate::audit::record(
        file,
        &crate::audit::Attempt {
            method: request.method.as_str(),
            url: &url,
            status: result.as_ref().ok().map(|r| r.status),
            error: error.as_deref(),
            duration,
            bytes_sent: request.body.as_ref().map_or(0, |b| b.len()),
            bytes_received: result.as_ref().map_or(0, |r| r.body.len()),
            attempt,
            message_id,
        },
    );
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
            body: vec![],
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
