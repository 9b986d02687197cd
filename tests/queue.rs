//! The durable delivery queue on its own (no 1C): durability and idempotent
//! Enqueue, delivery and signatures against local servers, the retry rules,
//! status reporting, listeners, and two workers sharing one queue as two
//! processes would. The store-independent tests run on both stores: the
//! embedded one (a fresh QueueDirectory each) and PostgreSQL (a fresh
//! database of the test cluster each, `support::pg`); the rest concern the
//! SQLite file itself.

mod support;

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::{closed_port, Recorded, Reply, StallServer, TestServer};
use webhook1c::http::sign::{unix_now, Signer};
use webhook1c::http::{Method, Request, Transport};
use webhook1c::queue::{Counts, Job, MessageStatus, Queue, QueueError, State, DATABASE_FILE};

const BODY: &str = r#"{"event":"document_created","number":"00-000123","text":"Привет"}"#;

/// A fresh, empty QueueDirectory for one test.
fn directory(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("queue")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Where a test's queue lives: the embedded store in a fresh directory, or
/// a fresh database of the test PostgreSQL cluster. Every test of the
/// store-independent behaviour runs on both (`on_both_stores!`).
#[derive(Clone, Copy, Debug)]
enum Store {
    Embedded,
    Postgres,
}

struct Place {
    store: Store,
    /// The QueueDirectory (and a folder for the test's other files).
    dir: PathBuf,
    /// The QueueDatabase URL, for `Store::Postgres`.
    url: String,
}

fn place(store: Store, name: &str) -> Place {
    let dir = directory(&format!("{name}-{store:?}"));
    let url = match store {
        Store::Embedded => String::new(),
        Store::Postgres => {
            support::pg::cluster().database(&format!("q_{}", name.replace('-', "_")))
        }
    };
    Place { store, dir, url }
}

impl Place {
    /// This process's shared worker of the place.
    fn open(&self) -> Result<Queue, QueueError> {
        match self.store {
            Store::Embedded => Queue::open(&self.dir),
            Store::Postgres => Queue::open_database(&self.url),
        }
    }

    /// A worker of its own, as another process would have.
    fn open_unshared(&self) -> Result<Queue, QueueError> {
        match self.store {
            Store::Embedded => Queue::open_unshared(&self.dir),
            Store::Postgres => Queue::open_database_unshared(&self.url, None),
        }
    }
}

/// `#[test]`s `NAME::embedded` and `NAME::postgres` for each `fn NAME(Store)`.
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[test]
                fn embedded() {
                    super::$name(super::Store::Embedded)
                }
                #[test]
                fn postgres() {
                    super::$name(super::Store::Postgres)
                }
            }
        )*
    };
}

on_both_stores!(
    a_200_delivers_the_exact_body_with_the_webhook_id,
    a_signed_message_verifies,
    two_500s_then_200_is_delivered_on_attempt_3_with_one_id,
    gone_410_fails_at_once,
    redirects_and_other_4xx_are_retried_and_never_followed,
    a_2xx_with_a_huge_or_stalled_body_is_delivered_once,
    each_attempt_is_signed_with_its_own_timestamp,
    too_many_requests_is_retried_after_retry_after,
    an_exhausted_schedule_fails,
    wait_idle_tells_pending_from_done,
    counts_cover_every_state,
    listeners_hear_each_final_outcome_once,
    two_workers_sharing_a_directory_deliver_each_message_once,
    a_dead_workers_leases_run_out_and_nothing_is_lost,
    mistakes_fail_the_enqueue_call,
    the_audit_log_gets_a_line_per_attempt_and_no_secret,
);

/// A JSON POST to `url` with a short schedule for tests.
fn job(id: &str, url: String, schedule: &[u64]) -> Job {
    let mut request = Request::new(Method::Post, url);
    request.body = Some(BODY.as_bytes().to_vec().into());
    request
        .headers
        .set("Content-Type", "application/json; charset=utf-8");
    request.timeout = Some(Duration::from_secs(5));
    Job {
        id: id.to_string(),
        schedule: schedule.to_vec(),
        ..Job::new(request, Transport::default())
    }
}

/// Waits until `done` holds, for at most `timeout`.
fn eventually(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    done()
}

fn webhook_ids(requests: &[Recorded]) -> Vec<String> {
    requests
        .iter()
        .map(|r| r.header("webhook-id").unwrap_or("").to_string())
        .collect()
}

/// A server answering each path with `plan[path][n]` on its n-th request
/// (the last entry once the plan runs out).
fn planned_server(plan: &[(&str, Vec<Reply>)]) -> TestServer {
    let plan: HashMap<String, Vec<Reply>> = plan
        .iter()
        .map(|(p, r)| (p.to_string(), r.clone()))
        .collect();
    let seen: Mutex<HashMap<String, usize>> = Mutex::new(HashMap::new());
    TestServer::with_handler(None, move |req| {
        let path = req.path().to_string();
        let Some(replies) = plan.get(&path) else {
            return Reply::text(404, "no plan");
        };
        let mut seen = seen.lock().unwrap();
        let n = seen.entry(path).or_insert(0);
        let reply = replies[(*n).min(replies.len() - 1)].clone();
        *n += 1;
        reply
    })
}

#[test]
fn enqueue_is_on_disk_when_it_returns() {
    let dir = directory("durable");
    // A worker that is stopped plays a process that enqueues and dies.
    let queue = Queue::open_unshared(&dir).unwrap();
    queue.stop_worker();
    let url = format!("http://127.0.0.1:{}/hook", closed_port());
    assert_eq!(
        queue.enqueue(job("order-1", url, &[600])).unwrap(),
        "order-1"
    );

    // A plain SQLite connection sees the committed row.
    let conn = rusqlite::Connection::open(dir.join(DATABASE_FILE)).unwrap();
    let (state, body): (String, Vec<u8>) = conn
        .query_row(
            "SELECT state, body FROM messages WHERE id = 'order-1'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(state, "pending");
    assert_eq!(body, BODY.as_bytes());

    // So does a fresh queue with connections of its own (the next process).
    let next = Queue::open_unshared(&dir).unwrap();
    next.stop_worker();
    let status = next.status("order-1").unwrap();
    assert_eq!(status.state, State::Pending);
    assert!(status.next_attempt.is_some());
    assert_eq!(next.counts().unwrap().pending, 1);
}

#[test]
fn enqueue_with_a_known_id_adds_nothing() {
    let dir = directory("idempotent");
    let queue = Queue::open_unshared(&dir).unwrap();
    queue.stop_worker();
    let url = |p: &str| format!("http://127.0.0.1:{}/{p}", closed_port());
    assert_eq!(
        queue.enqueue(job("doc-42", url("a"), &[])).unwrap(),
        "doc-42"
    );
    let mut other = job("doc-42", url("b"), &[]);
    other.request.body = Some(b"{\"changed\":true}".to_vec().into());
    assert_eq!(queue.enqueue(other).unwrap(), "doc-42");
    assert_eq!(queue.counts().unwrap().pending, 1);
    let conn = rusqlite::Connection::open(dir.join(DATABASE_FILE)).unwrap();
    let body: Vec<u8> = conn
        .query_row("SELECT body FROM messages WHERE id = 'doc-42'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(body, BODY.as_bytes(), "the first message stays as it was");

    // No id: the queue makes a fresh one each time.
    let a = queue.enqueue(job("", url("c"), &[])).unwrap();
    let b = queue.enqueue(job("", url("c"), &[])).unwrap();
    assert!(a.starts_with("msg_") && b.starts_with("msg_") && a != b);
    assert_eq!(queue.counts().unwrap().pending, 3);
}

fn a_200_delivers_the_exact_body_with_the_webhook_id(store: Store) {
    let server = TestServer::with_handler(None, |_| Reply::text(200, "thanks"));
    let queue = place(store, "deliver").open().unwrap();
    let mut job = job("doc-1", server.url("/hooks/1c"), &[1, 1, 1]);
    job.request.headers.set("X-Custom", "значение");
    let started = Instant::now();
    let id = queue.enqueue(job).unwrap();
    assert!(queue.wait_idle(Duration::from_secs(10)).unwrap());
    // "The first attempt starts at once": well under a poll interval.
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert!(requests[0].received_at - started < Duration::from_secs(2));
    let r = &requests[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path(), "/hooks/1c");
    assert_eq!(r.body, BODY.as_bytes());
    assert_eq!(r.header("webhook-id"), Some("doc-1"));
    assert_eq!(r.header_all("webhook-id").len(), 1);
    assert_eq!(r.header("webhook-signature"), None, "unsigned");
    assert_eq!(
        r.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(r.header("x-custom"), Some("значение"));

    let status = queue.status(&id).unwrap();
    assert_eq!(
        status,
        MessageStatus {
            id: "doc-1".into(),
            state: State::Delivered,
            attempts: 1,
            status: 200,
            error: String::new(),
            next_attempt: None,
        }
    );
    assert_eq!(
        status.to_json(),
        r#"{"id":"doc-1","state":"delivered","attempts":1,"status":200,"error":"","next_attempt":null}"#
    );
    let attempts = queue.attempts(&id).unwrap();
    assert_eq!(attempts.len(), 1);
    let a = &attempts[0];
    assert_eq!((a.number, a.status, a.error.as_str()), (1, 200, ""));
    assert_eq!(a.response_excerpt, "thanks");
    assert_eq!(a.worker, queue.worker_name());
    assert!(a.time.ends_with('Z') && a.time.len() == "2024-05-01T12:00:05.123Z".len());
}

fn a_signed_message_verifies(store: Store) {
    const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    let server = TestServer::with_handler(None, |_| Reply::new(204));
    let queue = place(store, "signed").open().unwrap();
    let mut job = job("", server.url("/signed"), &[1]);
    job.signer = Some(Signer::new(SECRET).unwrap());
    let id = queue.enqueue(job).unwrap();
    assert!(queue.wait_idle(Duration::from_secs(10)).unwrap());
    let r = server.last().expect("one request");
    assert_eq!(r.header("webhook-id"), Some(id.as_str()));
    let timestamp: u64 = r.header("webhook-timestamp").unwrap().parse().unwrap();
    assert!(unix_now().abs_diff(timestamp) < 60);
    let expected = Signer::new(SECRET)
        .unwrap()
        .signature(&id, timestamp, &r.body);
    assert_eq!(r.header("webhook-signature"), Some(expected.as_str()));
    assert_eq!(queue.status(&id).unwrap().state, State::Delivered);
}

fn two_500s_then_200_is_delivered_on_attempt_3_with_one_id(store: Store) {
    let server = planned_server(&[(
        "/flaky",
        vec![
            Reply::text(500, "down"),
            Reply::text(503, "still down"),
            Reply::text(200, "ok"),
        ],
    )]);
    let queue = place(store, "flaky").open().unwrap();
    let id = queue
        .enqueue(job("flaky-1", server.url("/flaky"), &[1, 1, 1]))
        .unwrap();
    assert!(queue.wait_idle(Duration::from_secs(15)).unwrap());
    let requests = server.requests();
    assert_eq!(
        webhook_ids(&requests),
        vec![id.clone(), id.clone(), id.clone()]
    );
    for pair in requests.windows(2) {
        let gap = pair[1].received_at - pair[0].received_at;
        // 1 s with ±20 % jitter.
        assert!(gap >= Duration::from_millis(750), "{gap:?}");
    }
    let status = queue.status(&id).unwrap();
    assert_eq!(
        (status.state, status.attempts, status.status),
        (State::Delivered, 3, 200)
    );
    let statuses: Vec<u16> = queue
        .attempts(&id)
        .unwrap()
        .iter()
        .map(|a| a.status)
        .collect();
    assert_eq!(statuses, vec![500, 503, 200]);
    assert_eq!(
        queue.attempts(&id).unwrap()[1].response_excerpt,
        "still down"
    );
}

fn gone_410_fails_at_once(store: Store) {
    let server = TestServer::with_handler(None, |_| Reply::text(410, "gone"));
    let queue = place(store, "gone").open().unwrap();
    let id = queue
        .enqueue(job("", server.url("/gone"), &[1, 1, 1]))
        .unwrap();
    assert!(queue.wait_idle(Duration::from_secs(10)).unwrap());
    let status = queue.status(&id).unwrap();
    assert_eq!(
        (status.state, status.attempts, status.status),
        (State::Failed, 1, 410)
    );
    assert_eq!(status.next_attempt, None);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(server.request_count(), 1, "no retry after a final answer");
}

/// The Standard Webhooks rules beside 410: a redirect is an answer to
/// retry, never followed (whatever AllowRedirects says), and so is any other
/// 4xx; the schedule's pause applies.
fn redirects_and_other_4xx_are_retried_and_never_followed(store: Store) {
    let server = planned_server(&[
        (
            "/moved",
            vec![
                Reply::new(302).with_header("Location", "/elsewhere"),
                Reply::new(308).with_header("Location", "/elsewhere"),
                Reply::new(204),
            ],
        ),
        (
            "/strict",
            vec![
                Reply::text(400, "no"),
                Reply::text(404, "not yet"),
                Reply::new(200),
            ],
        ),
        ("/elsewhere", vec![Reply::new(200)]),
    ]);
    let queue = place(store, "redirects").open().unwrap();
    let mut moved = job("moved", server.url("/moved"), &[1, 1]);
    moved.transport.follow_redirects = true;
    queue.enqueue(moved).unwrap();
    queue
        .enqueue(job("strict", server.url("/strict"), &[1, 1]))
        .unwrap();
    assert!(queue.wait_idle(Duration::from_secs(20)).unwrap());
    let paths: Vec<String> = server
        .requests()
        .iter()
        .map(|r| r.path().to_string())
        .collect();
    assert!(!paths.iter().any(|p| p == "/elsewhere"), "{paths:?}");
    for (id, statuses) in [("moved", [302, 308, 204]), ("strict", [400, 404, 200])] {
        let status = queue.status(id).unwrap();
        assert_eq!(
            (status.state, status.attempts),
            (State::Delivered, 3),
            "{id}"
        );
        let seen: Vec<u16> = queue
            .attempts(id)
            .unwrap()
            .iter()
            .map(|a| a.status)
            .collect();
        assert_eq!(seen, statuses, "{id}");
    }
}

/// A 2xx is a delivery once its status arrives: a body over
/// MaxResponseSize, or one that trickles past the attempt's Timeout, is
/// neither a failure nor a reason to send the message again.
fn a_2xx_with_a_huge_or_stalled_body_is_delivered_once(store: Store) {
    let server = TestServer::with_handler(None, |r| match r.path() {
        "/huge" => Reply::new(200).with_body(vec![b'x'; 4 << 20]),
        _ => Reply::text(200, "accepted, details follow").with_body_delay(Duration::from_secs(8)),
    });
    let queue = place(store, "huge-body").open().unwrap();
    let mut huge = job("huge", server.url("/huge"), &[1, 1]);
    huge.request.max_response_size = Some(1000);
    queue.enqueue(huge).unwrap();
    let mut stalled = job("stalled", server.url("/stalled"), &[1, 1]);
    stalled.request.timeout = Some(Duration::from_secs(1));
    let started = Instant::now();
    queue.enqueue(stalled).unwrap();
    assert!(queue.wait_idle(Duration::from_secs(20)).unwrap());
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    for id in ["huge", "stalled"] {
        let status = queue.status(id).unwrap();
        assert_eq!(
            (
                status.state,
                status.attempts,
                status.status,
                status.error.as_str()
            ),
            (State::Delivered, 1, 200, ""),
            "{id}"
        );
    }
    let excerpt = &queue.attempts("huge").unwrap()[0].response_excerpt;
    assert_eq!(excerpt.len(), 1024);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(server.request_count(), 2, "one request per message");
}

/// Every attempt is signed afresh: its own `webhook-timestamp`, and a
/// signature that verifies with it.
fn each_attempt_is_signed_with_its_own_timestamp(store: Store) {
    const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    let server = planned_server(&[("/again", vec![Reply::new(503), Reply::new(200)])]);
    let queue = place(store, "resigned").open().unwrap();
    let mut job = job("", server.url("/again"), &[2]);
    job.signer = Some(Signer::new(SECRET).unwrap());
    let id = queue.enqueue(job).unwrap();
    assert!(queue.wait_idle(Duration::from_secs(15)).unwrap());
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let signer = Signer::new(SECRET).unwrap();
    let stamps: Vec<u64> = requests
        .iter()
        .map(|r| {
            let stamp: u64 = r.header("webhook-timestamp").unwrap().parse().unwrap();
            let expected = signer.signature(&id, stamp, &r.body);
            assert_eq!(r.header("webhook-signature"), Some(expected.as_str()));
            stamp
        })
        .collect();
    // The pause is 2 s ± 20 %: the second stamp is at least a second later.
    assert!(stamps[1] > stamps[0], "{stamps:?}");
}

fn too_many_requests_is_retried_after_retry_after(store: Store) {
    let server = planned_server(&[(
        "/busy",
        vec![
            Reply::text(429, "slow down").with_header("Retry-After", "1"),
            Reply::new(200),
        ],
    )]);
    let queue = place(store, "retry-after").open().unwrap();
    // The schedule alone would wait a minute: only Retry-After explains a
    // second attempt within the test.
    let id = queue.enqueue(job("", server.url("/busy"), &[60])).unwrap();
    assert!(queue.wait_idle(Duration::from_secs(10)).unwrap());
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let gap = requests[1].received_at - requests[0].received_at;
    assert!(gap >= Duration::from_millis(950), "{gap:?}");
    let status = queue.status(&id).unwrap();
    assert_eq!((status.state, status.attempts), (State::Delivered, 2));
}

fn an_exhausted_schedule_fails(store: Store) {
    let server = TestServer::with_handler(None, |_| Reply::text(502, "bad gateway"));
    let stall = StallServer::start();
    let queue = place(store, "exhausted").open().unwrap();
    let answered = queue.enqueue(job("", server.url("/x"), &[1])).unwrap();
    let refused = queue
        .enqueue(job(
            "",
            format!("http://127.0.0.1:{}/x", closed_port()),
            &[1],
        ))
        .unwrap();
    let mut slow = job("", stall.url("/x"), &[1]);
    slow.request.timeout = Some(Duration::from_millis(300));
    let timed_out = queue.enqueue(slow).unwrap();
    assert!(queue.wait_idle(Duration::from_secs(15)).unwrap());

    let status = queue.status(&answered).unwrap();
    assert_eq!(
        (status.state, status.attempts, status.status),
        (State::Failed, 2, 502)
    );
    assert_eq!(server.request_count(), 2);

    let status = queue.status(&refused).unwrap();
    assert_eq!(
        (status.state, status.attempts, status.status),
        (State::Failed, 2, 0)
    );
    assert!(
        status.error.contains("could not connect"),
        "{}",
        status.error
    );

    let status = queue.status(&timed_out).unwrap();
    assert_eq!(
        (status.state, status.attempts, status.status),
        (State::Failed, 2, 0)
    );
    assert!(status.error.contains("timed out"), "{}", status.error);
    assert_eq!(queue.attempts(&timed_out).unwrap().len(), 2);
}

fn wait_idle_tells_pending_from_done(store: Store) {
    let server = TestServer::with_handler(None, |_| Reply::new(503));
    let queue = place(store, "wait-idle").open().unwrap();
    assert!(queue.wait_idle(Duration::ZERO).unwrap(), "empty queue");
    let id = queue.enqueue(job("", server.url("/x"), &[60])).unwrap();
    assert!(eventually(Duration::from_secs(5), || {
        queue.status(&id).unwrap().attempts == 1
    }));
    let started = Instant::now();
    assert!(!queue.wait_idle(Duration::from_millis(500)).unwrap());
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(500) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
    let status = queue.status(&id).unwrap();
    assert_eq!((status.state, status.status), (State::Pending, 503));
    assert!(status.next_attempt.is_some());
}

fn counts_cover_every_state(store: Store) {
    let server = planned_server(&[
        ("/ok", vec![Reply::new(200)]),
        ("/gone", vec![Reply::new(410)]),
        ("/down", vec![Reply::new(503)]),
    ]);
    let queue = place(store, "counts").open().unwrap();
    for path in ["/ok", "/ok", "/gone", "/down"] {
        queue.enqueue(job("", server.url(path), &[60])).unwrap();
    }
    let expected = Counts {
        pending: 1,
        delivered: 2,
        failed: 1,
    };
    assert!(eventually(Duration::from_secs(10), || {
        queue.counts().unwrap() == expected && server.request_count() == 4
    }));
    assert_eq!(
        queue.counts().unwrap().to_json(),
        r#"{"pending":1,"delivered":2,"failed":1}"#
    );
}

fn listeners_hear_each_final_outcome_once(store: Store) {
    let server = planned_server(&[
        ("/ok", vec![Reply::new(200)]),
        ("/gone", vec![Reply::new(410)]),
        ("/late", vec![Reply::new(500), Reply::new(201)]),
    ]);
    let queue = place(store, "listeners").open().unwrap();
    let heard: Arc<Mutex<Vec<MessageStatus>>> = Arc::default();
    let sink = Arc::clone(&heard);
    let subscription = queue.subscribe(Arc::new(move |s: &MessageStatus| {
        sink.lock().unwrap().push(s.clone());
    }));
    // A listener that panics must not disturb the others or the worker.
    let panicky = queue.subscribe(Arc::new(|_: &MessageStatus| panic!("listener bug")));

    let mut expected = HashMap::new();
    for (path, state) in [
        ("/ok", State::Delivered),
        ("/ok", State::Delivered),
        ("/ok", State::Delivered),
        ("/gone", State::Failed),
        ("/late", State::Delivered),
    ] {
        let id = queue.enqueue(job("", server.url(path), &[1])).unwrap();
        expected.insert(id, state);
    }
    assert!(queue.wait_idle(Duration::from_secs(10)).unwrap());
    // The listener runs just after the outcome is committed.
    assert!(eventually(Duration::from_secs(2), || heard
        .lock()
        .unwrap()
        .len()
        >= 5));
    std::thread::sleep(Duration::from_millis(300));
    {
        let heard = heard.lock().unwrap();
        assert_eq!(heard.len(), 5, "one event per message: {heard:?}");
        for status in heard.iter() {
            assert_eq!(expected.get(&status.id), Some(&status.state), "{status:?}");
            assert!(status.next_attempt.is_none());
        }
        let late = heard
            .iter()
            .find(|s| s.attempts == 2)
            .expect("the retried one");
        assert_eq!(late.status, 201);
    }

    drop(subscription);
    drop(panicky);
    queue.enqueue(job("", server.url("/ok"), &[1])).unwrap();
    assert!(queue.wait_idle(Duration::from_secs(10)).unwrap());
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(heard.lock().unwrap().len(), 5, "unsubscribed");
}

fn two_workers_sharing_a_directory_deliver_each_message_once(store: Store) {
    let server = TestServer::with_handler(None, |_| {
        Reply::new(200).with_delay(Duration::from_millis(10))
    });
    let place = place(store, "two-workers");
    // `first` is this process's worker; `second` has its own connections,
    // owner name and threads, as another process sharing the folder would.
    let first = place.open().unwrap();
    let second = place.open_unshared().unwrap();
    assert_ne!(first.worker_name(), second.worker_name());
    let mut ids = Vec::new();
    for n in 0..50 {
        let queue = if n % 2 == 0 { &first } else { &second };
        ids.push(
            queue
                .enqueue(job(&format!("shared-{n}"), server.url("/x"), &[1]))
                .unwrap(),
        );
    }
    assert!(first.wait_idle(Duration::from_secs(20)).unwrap());
    let received = webhook_ids(&server.requests());
    let mut per_id: HashMap<&str, usize> = HashMap::new();
    for id in &received {
        *per_id.entry(id.as_str()).or_default() += 1;
    }
    for id in &ids {
        assert_eq!(per_id.get(id.as_str()), Some(&1), "{id} delivered once");
    }
    assert_eq!(received.len(), 50);
    assert_eq!(
        second.counts().unwrap(),
        Counts {
            pending: 0,
            delivered: 50,
            failed: 0
        }
    );
    let mut by_worker: HashMap<String, usize> = HashMap::new();
    for id in &ids {
        let attempts = first.attempts(id).unwrap();
        assert_eq!(attempts.len(), 1);
        *by_worker.entry(attempts[0].worker.clone()).or_default() += 1;
    }
    eprintln!("deliveries by worker: {by_worker:?}");
    second.stop_worker();
}

fn a_dead_workers_leases_run_out_and_nothing_is_lost(store: Store) {
    let server = TestServer::http();
    let place = place(store, "dead-worker");
    // A process that enqueues five messages, claims them and dies.
    let dead = place.open_unshared().unwrap();
    dead.stop_worker();
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(
            dead.enqueue(job(&format!("orphan-{n}"), server.url("/echo"), &[1]))
                .unwrap(),
        );
    }
    let claimed = dead
        .claim_as("dead-process", 10, Duration::from_millis(1500))
        .unwrap();
    assert_eq!(claimed.len(), 5);
    let claimed_at = Instant::now();

    // The next process starts: it must wait for the leases, then deliver.
    let live = place.open().unwrap();
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(server.request_count(), 0, "leases are respected");
    assert!(live.wait_idle(Duration::from_secs(10)).unwrap());
    let requests = server.requests();
    assert!(requests[0].received_at - claimed_at >= Duration::from_millis(1400));
    let mut received = webhook_ids(&requests);
    received.sort();
    assert_eq!(received, ids);
    for id in &ids {
        let attempts = live.attempts(id).unwrap();
        assert_eq!(attempts.len(), 1);
        assert_eq!(attempts[0].worker, live.worker_name());
        assert_eq!(live.status(id).unwrap().state, State::Delivered);
    }
}

fn mistakes_fail_the_enqueue_call(store: Store) {
    let queue = place(store, "mistakes").open().unwrap();
    let mut bad_url = job("", "htp:/nowhere".into(), &[1]);
    assert!(matches!(
        queue.enqueue(bad_url.clone()),
        Err(QueueError::InvalidRequest(_))
    ));
    bad_url.request.url = String::new();
    assert!(matches!(
        queue.enqueue(bad_url),
        Err(QueueError::InvalidRequest(_))
    ));
    let url = format!("http://127.0.0.1:{}/", closed_port());
    let err = queue
        .enqueue(job("line\nbreak", url.clone(), &[1]))
        .unwrap_err();
    assert!(matches!(err, QueueError::InvalidId { .. }));
    assert!(err.to_string().contains("invalid message id"), "{err}");
    // The Standard Webhooks alphabet: no dots (they separate the signed
    // content's parts), no spaces, nothing beyond 255 characters.
    for id in ["doc.1".to_string(), "doc 1".into(), "x".repeat(256)] {
        assert!(
            matches!(
                queue.enqueue(job(&id, url.clone(), &[1])),
                Err(QueueError::InvalidId { .. })
            ),
            "{id}"
        );
    }
    assert_eq!(queue.counts().unwrap(), Counts::default());
    assert_eq!(
        queue.status("never-seen").unwrap().to_json(),
        r#"{"id":"never-seen","state":"unknown","attempts":0,"status":0,"error":"","next_attempt":null}"#
    );
    assert!(queue.attempts("never-seen").unwrap().is_empty());
}

/// Set for the child processes of `killed_processes_lose_nothing`:
/// `<directory>\n<url>\n<message count>`.
const CHILD_ENV: &str = "WEBHOOK1C_QUEUE_TEST_CHILD";

/// The child process: enqueues `kill-0` … `kill-N` (idempotently, so a
/// restarted child re-offers the same ids), printing each id once Enqueue
/// returned, then delivers until killed.
#[test]
#[ignore = "a child process of killed_processes_lose_nothing"]
fn child_process_enqueues_and_delivers() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let mut lines = spec.lines();
    let (Some(dir), Some(url), Some(count)) = (lines.next(), lines.next(), lines.next()) else {
        panic!("bad {CHILD_ENV}: {spec}");
    };
    let count: usize = count.parse().expect("message count");
    // Short leases: the parent must not wait long for a killed child's.
    let queue =
        Queue::open_unshared_with_lease(Path::new(dir), Some(Duration::from_secs(2))).unwrap();
    for n in 0..count {
        let mut job = job(&format!("kill-{n}"), url.to_string(), &[1, 1, 1, 1, 1]);
        job.request.timeout = Some(Duration::from_secs(1));
        let id = queue.enqueue(job).unwrap();
        println!("accepted {id}");
    }
    queue.wait_idle(Duration::from_secs(60)).unwrap();
    println!("idle");
}

/// Real processes sharing a directory, killed (SIGKILL on Unix) while they
/// enqueue and while they deliver: whatever Enqueue accepted is delivered
/// in the end, duplicates carry one webhook-id, nothing stays pending.
#[test]
fn killed_processes_lose_nothing() {
    const MESSAGES: usize = 200;
    const KILL_AFTER_MS: [u64; 4] = [250, 450, 700, 1000];
    let server = TestServer::with_handler(None, |_| {
        Reply::new(200).with_delay(Duration::from_millis(5))
    });
    let dir = directory("killed");
    let spec = format!("{}\n{}\n{MESSAGES}", dir.display(), server.url("/kill"));
    let exe = std::env::current_exe().unwrap();
    let mut accepted = HashSet::new();
    for (round, kill_after) in KILL_AFTER_MS.iter().enumerate() {
        let mut child = Command::new(&exe)
            .args([
                "child_process_enqueues_and_delivers",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, &spec)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .filter_map(|l| l.strip_prefix("accepted ").map(str::to_string))
                .collect::<Vec<String>>()
        });
        std::thread::sleep(Duration::from_millis(*kill_after));
        child.kill().unwrap();
        child.wait().unwrap();
        let ids = reader.join().unwrap();
        eprintln!(
            "round {round}: killed after {kill_after} ms, {} accepted, {} requests so far",
            ids.len(),
            server.request_count()
        );
        accepted.extend(ids);
    }
    assert!(!accepted.is_empty(), "the children accepted messages");

    // The next process: opens the directory and finishes the work.
    let queue = Queue::open(&dir).unwrap();
    assert!(queue.wait_idle(Duration::from_secs(20)).unwrap());
    let received = webhook_ids(&server.requests());
    let unique: HashSet<&String> = received.iter().collect();
    for id in &accepted {
        assert!(unique.contains(id), "{id} was accepted and never delivered");
        assert_eq!(queue.status(id).unwrap().state, State::Delivered, "{id}");
    }
    let counts = queue.counts().unwrap();
    assert_eq!((counts.pending, counts.failed), (0, 0));
    assert_eq!(counts.delivered as usize, unique.len());
    eprintln!(
        "{} kills: {} accepted, {} in the queue, {} requests, {} duplicates, 0 lost",
        KILL_AFTER_MS.len(),
        accepted.len(),
        counts.delivered,
        received.len(),
        received.len() - unique.len()
    );
}

fn the_audit_log_gets_a_line_per_attempt_and_no_secret(store: Store) {
    const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    let server = planned_server(&[("/audited", vec![Reply::new(500), Reply::new(200)])]);
    let place = place(store, "audit");
    let log_file = place.dir.join("logs").join("audit.log");
    let queue = place.open().unwrap();
    let url = server
        .url("/audited?token=query-secret")
        .replace("http://", "http://alice:url-password@");
    let mut job = job("audited-1", url, &[1]);
    job.signer = Some(Signer::new(SECRET).unwrap());
    job.request.headers.set(
        "Authorization",
        webhook1c::http::basic_auth("bob", "basic-password"),
    );
    job.request.headers.set("X-Api-Key", "Bearer header-token");
    job.log_file = Some(log_file.clone());
    queue.enqueue(job).unwrap();
    assert!(queue.wait_idle(Duration::from_secs(10)).unwrap());
    let text = std::fs::read_to_string(&log_file).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("id=audited-1"))
        .collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].contains("POST ") && lines[0].contains("status=500 "),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("attempt=1 "), "{}", lines[0]);
    assert!(
        lines[1].contains("status=200 ") && lines[1].contains("attempt=2 "),
        "{}",
        lines[1]
    );
    assert!(
        lines[1].contains(&format!("sent={} ", BODY.len())),
        "{}",
        lines[1]
    );
    for secret in [
        "url-password",
        "alice",
        "query-secret",
        "basic-password",
        "header-token",
        SECRET,
        &SECRET[6..],
    ] {
        assert!(!text.contains(secret), "{secret} in the log: {text}");
    }
}

/// The system clock jumps an hour forward while a slow first attempt runs,
/// then two hours back before its retry is due: the worker neither starts a
/// second attempt while the first is in flight (its lease follows the
/// monotonic clock) nor waits an hour for the retry.
#[test]
fn a_jump_of_the_system_clock_neither_repeats_an_attempt_nor_delays_a_retry() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let in_flight = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let ended: Arc<Mutex<Option<Instant>>> = Arc::new(Mutex::new(None));
    let (flying, peak, end) = (in_flight.clone(), most.clone(), ended.clone());
    let server = TestServer::with_handler(None, move |r| {
        let now = flying.fetch_add(1, Ordering::SeqCst) + 1;
        peak.fetch_max(now, Ordering::SeqCst);
        let first = end.lock().unwrap().is_none();
        let reply = if first {
            std::thread::sleep(Duration::from_millis(2500));
            *end.lock().unwrap() = Some(Instant::now());
            Reply::new(503)
        } else {
            Reply::new(200)
        };
        flying.fetch_sub(1, Ordering::SeqCst);
        let _ = r;
        reply
    });
    let queue = Queue::open(&directory("clock-jump")).unwrap();
    let mut slow = job("clock-1", server.url("/slow"), &[1]);
    slow.request.timeout = Some(Duration::from_secs(10));
    queue.enqueue(slow).unwrap();
    assert!(eventually(Duration::from_secs(5), || in_flight
        .load(Ordering::SeqCst)
        == 1));

    let before = webhook1c::queue::system_ms();
    webhook1c::queue::skew_system_clock(3_600_000);
    let moved = webhook1c::queue::system_ms() - before;
    assert!((3_599_000..3_700_000).contains(&moved), "{moved}");
    // The scheduler polls while the first attempt still runs.
    assert!(eventually(Duration::from_secs(5), || ended
        .lock()
        .unwrap()
        .is_some()));
    webhook1c::queue::skew_system_clock(-7_200_000);
    let result = queue.wait_idle(Duration::from_secs(10));
    webhook1c::queue::skew_system_clock(3_600_000);
    assert!(result.unwrap(), "the retry came on time");
    let retried = Instant::now();
    let status = queue.status("clock-1").unwrap();
    assert_eq!((status.state, status.attempts), (State::Delivered, 2));
    assert_eq!(most.load(Ordering::SeqCst), 1, "never two attempts at once");
    assert_eq!(server.request_count(), 2);
    let first_ended = ended.lock().unwrap().unwrap();
    // The retry is due 1 s (±20 %) after the failure.
    assert!(
        retried - first_ended < Duration::from_secs(4),
        "{:?}",
        retried - first_ended
    );
}

/// Another process holds the write lock for longer than two busy
/// timeouts: Enqueue fails with "database is locked" within the stated
/// bound (the batch ahead of it and its own, one busy timeout each), reads
/// keep answering meanwhile, and once the lock is gone Enqueue works.
#[test]
fn a_write_lock_held_elsewhere_bounds_enqueue_and_leaves_reads_free() {
    use webhook1c::queue::BUSY_TIMEOUT;
    let dir = directory("busy-bound");
    let queue = Queue::open(&dir).unwrap();
    let nowhere = format!("http://127.0.0.1:{}/hook", closed_port());
    queue
        .enqueue(job("before-lock", nowhere.clone(), &[600]))
        .unwrap();
    let hold = 2 * BUSY_TIMEOUT + Duration::from_secs(4);
    let (locked, is_locked) = std::sync::mpsc::channel();
    let db = dir.join(DATABASE_FILE);
    let holder = std::thread::spawn(move || {
        let conn = rusqlite::Connection::open(db).unwrap();
        conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        locked.send(()).unwrap();
        std::thread::sleep(hold);
        conn.execute_batch("ROLLBACK").unwrap();
    });
    is_locked.recv().unwrap();

    let started = Instant::now();
    let read = queue.counts().unwrap();
    assert_eq!(read.pending, 1);
    assert!(started.elapsed() < Duration::from_secs(2), "reads are free");
    let started = Instant::now();
    let err = queue
        .enqueue(job("during-lock", nowhere.clone(), &[600]))
        .unwrap_err();
    let waited = started.elapsed();
    assert!(
        matches!(&err, QueueError::Database { .. }) && err.to_string().contains("locked"),
        "{err}"
    );
    assert!(
        waited >= BUSY_TIMEOUT - Duration::from_millis(100)
            && waited <= 2 * BUSY_TIMEOUT + Duration::from_secs(2),
        "{waited:?}"
    );
    let started = Instant::now();
    assert_eq!(queue.status("before-lock").unwrap().state, State::Pending);
    assert!(started.elapsed() < Duration::from_secs(2), "reads are free");
    holder.join().unwrap();
    assert_eq!(
        queue.enqueue(job("after-lock", nowhere, &[600])).unwrap(),
        "after-lock"
    );
    assert_eq!(
        queue.status("during-lock").unwrap().state,
        State::Unknown,
        "nothing half-written"
    );
}
