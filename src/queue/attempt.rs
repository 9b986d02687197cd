//! One delivery attempt of one claimed message: load it, send it stamped
//! and signed, judge the outcome, record it (leasing the next due message in
//! the same transaction) and tell the listeners when it is final.

use std::time::Instant;

use super::backend::Outcome;
use super::job::{self, Loaded};
use super::schedule::{self, Verdict};
use super::store::{AttemptRecord, Claimed, Finished, BUSY_TIMEOUT};
use super::time;
use super::worker::{backoff, Shared, EXCERPT_BYTES, EXCERPT_WAIT};
use crate::audit;
use crate::http::{self, Prepared, Response};

/// One attempt of one claimed message, recorded. Returns the next message
/// this thread leased with the outcome, if it took one.
pub(super) fn deliver(shared: &Shared, mut claimed: Claimed) -> Option<Claimed> {
    let number = claimed.attempts.saturating_add(1);
    // The message's own LogFile: its warnings go there and nowhere else.
    let (record, verdict, last_error, log_file) = match job::load(&claimed.job, claimed.body.take())
    {
        // Unreadable rows fail at once: no later attempt could read them.
        Err(reason) => {
            audit::warn(None, format_args!("message {}: {reason}", claimed.id));
            (None, Verdict::Failed, reason, None)
        }
        Ok(loaded) => {
            let (record, verdict, error) = attempt(shared, &loaded, &claimed.id, number);
            (record, verdict, error, loaded.log_file.clone())
        }
    };
    // Only when nothing claimed is waiting: a message taken now is
    // attempted at once, well inside its lease.
    let take_next = !shared.stopping() && !shared.claimed_waiting();
    let (finished, next) = record_outcome(
        shared,
        &claimed,
        (record, verdict, &last_error),
        log_file.as_deref(),
        take_next,
    );
    if finished.erased {
        shared.note_erased();
    }
    if let Some(status) = finished.final_status {
        shared.notify(&status);
    }
    next
}

/// Sends one attempt and judges it.
fn attempt(
    shared: &Shared,
    loaded: &Loaded,
    id: &str,
    number: u32,
) -> (Option<AttemptRecord>, Verdict, String) {
    let request = match attempt_request(loaded, id) {
        Ok(request) => request,
        // Checked at Enqueue; a row that no longer prepares never will.
        Err(e) => return (None, Verdict::Failed, e.to_string()),
    };
    let started_at = time::now_ms();
    let clock = Instant::now();
    // A 2xx is a delivery once its status arrives: of the body only the
    // excerpt kept with the attempt is read, so a large or slow body never
    // turns an accepted message into a failure or a duplicate.
    let outcome = request.send_for_status(&loaded.transport, EXCERPT_BYTES, EXCERPT_WAIT);
    let elapsed = clock.elapsed();
    let duration_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
    let verdict = schedule::decide(&outcome, number, &loaded.schedule, schedule::random_unit());
    let (status, error, response) = match &outcome {
        Ok(r) => (r.status, String::new(), excerpt(r)),
        Err(e) => (0, e.to_string(), String::new()),
    };
    log::debug!(
        "{} {} -> {} in {duration_ms} ms, attempt {number}, message {id}, {verdict:?}",
        request.method().as_str(),
        request.shown_url(),
        if error.is_empty() {
            status.to_string()
        } else {
            error.clone()
        },
    );
    if let Some(file) = &loaded.log_file {
        audit::record_attempt(
            file,
            &http::retry::Attempt {
                request: &request,
                result: &outcome,
                duration: elapsed,
                number,
                message_id: id,
            },
        );
    }
    let record = AttemptRecord {
        started_at,
        duration_ms,
        status,
        error: error.clone(),
        response,
        worker: shared.owner.clone(),
    };
    (Some(record), verdict, error)
}

/// The request of one attempt: the stored one, stamped with our
/// `webhook-id` (and signed with a fresh timestamp when the job is signed),
/// with a bounded timeout.
fn attempt_request(loaded: &Loaded, id: &str) -> Result<Prepared, http::Error> {
    let mut request = loaded.request.prepare()?;
    request.set_timeout(Some(job::attempt_timeout(&loaded.request)));
    request.stamp(id, loaded.signer.as_ref());
    Ok(request)
}

/// The first [`EXCERPT_BYTES`] of the body as text.
fn excerpt(response: &Response) -> String {
    // The body was read up to EXCERPT_BYTES: one that long may go on.
    let cut = response.body.len().min(EXCERPT_BYTES);
    let mut text = http::decode_text(
        &response.body[..cut],
        response.header("content-type").as_deref(),
    )
    .into_owned();
    if cut == EXCERPT_BYTES && text.ends_with('\u{fffd}') {
        // A character split by the cut, not one the server sent.
        text.pop();
    }
    text
}

/// Writes the outcome, retrying while the database is busy or failing, and
/// with `take_next` leases the next due message in the same transaction.
/// Returns what the write did and the message leased. Giving up is safe:
/// the lease runs out and the message is attempted again (at least once,
/// never lost).
///
/// Bound: a write may wait for the batch ahead of it and then for its own
/// lock, each at most [`BUSY_TIMEOUT`], so no write starts once less than
/// twice that is left of the lease. The record therefore ends inside the
/// lease, and no other worker can take the message over while this one is
/// still recording it.
fn record_outcome(
    shared: &Shared,
    claimed: &Claimed,
    (record, verdict, last_error): (Option<AttemptRecord>, Verdict, &str),
    log_file: Option<&std::path::Path>,
    take_next: bool,
) -> (Finished, Option<Claimed>) {
    let give_up = claimed
        .deadline
        .checked_sub(BUSY_TIMEOUT * 2)
        .unwrap_or(claimed.deadline);
    let mut failures = 0u32;
    loop {
        let outcome = Outcome {
            id: &claimed.id,
            token: claimed.token,
            attempt: record.as_ref(),
            verdict,
            last_error,
        };
        let next_for = take_next.then_some((shared.owner.as_str(), shared.lease_override));
        let result = shared.store.finish(&outcome, next_for);
        match result {
            Ok(done) => return done,
            Err(e) => {
                failures += 1;
                let pause = backoff(failures);
                if Instant::now() + pause >= give_up || shared.stopping() {
                    audit::warn(
                        log_file,
                        format_args!(
                            "message {}: cannot record the attempt ({e}); it will be attempted again when its lease runs out",
                            claimed.id
                        ),
                    );
                    return (Finished::default(), None);
                }
                audit::warn(
                    log_file,
                    format_args!(
                        "message {}: cannot record the attempt ({e}); trying again in {pause:?}",
                        claimed.id
                    ),
                );
                std::thread::sleep(pause);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{sign::Signer, Method, Request, Transport};

    fn loaded(signer: Option<Signer>) -> Loaded {
        let mut request = Request::new(Method::Post, "http://127.0.0.1:1/hook");
        request.headers.set("X-Keep", "1");
        request.headers.set("Webhook-Id", "stale");
        request.body = Some(bytes::Bytes::from_static(b"{}"));
        request.timeout = None;
        Loaded {
            request,
            transport: Transport::default(),
            signer,
            schedule: vec![1],
            log_file: None,
        }
    }

    #[test]
    fn every_attempt_carries_our_id_once() {
        let request = attempt_request(&loaded(None), "m-1").unwrap();
        let (_, _, headers, _) = request.parts();
        let ids: Vec<_> = headers.get_all("webhook-id").iter().collect();
        assert_eq!(ids, vec!["m-1"]);
        assert_eq!(headers["x-keep"], "1");
        assert!(headers.get("webhook-signature").is_none());
        assert_eq!(request.timeout(), Some(job::MAX_ATTEMPT_TIMEOUT));

        // A signed job's attempts are stamped and signed (the signature
        // itself: http::request's tests).
        let signer = Signer::new("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap();
        let signed = attempt_request(&loaded(Some(signer)), "m-1").unwrap();
        let (_, _, headers, _) = signed.parts();
        assert_eq!(headers["webhook-id"], "m-1");
        assert!(headers["webhook-signature"]
            .to_str()
            .unwrap()
            .starts_with("v1,"));
        assert!(headers.contains_key("webhook-timestamp"));
    }

    #[test]
    fn excerpts_are_short_and_whole_characters() {
        let body = "я".repeat(EXCERPT_BYTES); // two bytes each
        let response = Response {
            status: 200,
            headers: vec![("content-type".into(), "text/plain; charset=utf-8".into())],
            body: format!("x{body}").into_bytes(),
            ..Response::default()
        };
        let text = excerpt(&response);
        assert!(text.len() <= EXCERPT_BYTES);
        assert!(text.starts_with("xя") && !text.ends_with('\u{fffd}'));
        let short = Response {
            body: b"ok".to_vec(),
            ..response
        };
        assert_eq!(excerpt(&short), "ok");
    }
}
