//! The queue in PostgreSQL (QueueDatabase) against a real server: a
//! throwaway cluster started by `support::pg` (initdb and pg_ctl on a free
//! port of 127.0.0.1). Two workers on one database stand for two servers
//! of a 1C cluster.

mod support;

use std::collections::HashMap;
use std::time::Duration;

use support::{closed_port, pg, Reply, TestServer};
use webhook1c::http::{Method, Request, Transport};
use webhook1c::queue::{Counts, Job, Queue, State};

fn job(id: &str, url: String) -> Job {
    let mut request = Request::new(Method::Post, url);
    request.body = Some(format!(r#"{{"id":"{id}"}}"#).into_bytes().into());
    request
        .headers
        .set("Content-Type", "application/json; charset=utf-8");
    Job {
        id: id.to_string(),
        schedule: vec![1, 1],
        ..Job::new(request, Transport::default())
    }
}

/// Processes starting at once on a new database create the schema once:
/// the migration runs under an advisory lock.
#[test]
fn workers_starting_at_once_create_the_schema_once() {
    let url = pg::cluster().database("migrate_at_once");
    let opened: Vec<_> = (0..6)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || {
                Queue::open_database_unshared(&url, None).map(|q| q.stop_worker())
            })
        })
        .collect();
    for t in opened {
        t.join().unwrap().expect("every worker opens the database");
    }
    let mut admin = pg::cluster().admin("migrate_at_once");
    let versions: Vec<i32> = admin
        .query("SELECT version FROM webhook1c.migrations", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(versions, [1]);
    let owner: String = admin
        .query_one(
            "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'webhook1c'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(owner, pg::USER, "the schema belongs to the role of the URL");
}

/// Messages enqueued through two workers (two servers) are each delivered
/// once, with their webhook-id, and each worker sees every message.
#[test]
fn two_workers_share_one_queue_and_see_every_message() {
    let url = pg::cluster().database("two_workers");
    let server = TestServer::with_handler(None, |_| Reply::new(200));
    let a = Queue::open_database_unshared(&url, None).unwrap();
    let b = Queue::open_database_unshared(&url, None).unwrap();
    for n in 0..60 {
        let queue = if n % 2 == 0 { &a } else { &b };
        let id = format!("doc-{n}");
        assert_eq!(queue.enqueue(job(&id, server.url("/hook"))).unwrap(), id);
    }
    assert_eq!(
        a.enqueue(job("doc-0", server.url("/hook"))).unwrap(),
        "doc-0",
        "an id already there adds nothing"
    );
    assert!(a.wait_idle(Duration::from_secs(30)).unwrap());
    let mut seen = HashMap::<String, usize>::new();
    for r in server.requests() {
        *seen
            .entry(r.header("webhook-id").unwrap().to_string())
            .or_default() += 1;
    }
    assert_eq!(seen.len(), 60);
    assert!(seen.values().all(|&n| n == 1), "{seen:?}");
    for n in 0..60 {
        let status = b.status(&format!("doc-{n}")).unwrap();
        assert_eq!(
            status.state,
            State::Delivered,
            "doc-{n} seen from the other worker"
        );
    }
    assert_eq!(
        a.counts().unwrap(),
        Counts {
            pending: 0,
            delivered: 60,
            failed: 0
        }
    );
    assert_eq!(b.messages(State::Delivered, 5).unwrap().len(), 5);
    // Delivered messages keep no request: URL, headers and body are erased.
    let mut admin = pg::cluster().admin("two_workers");
    let kept: i64 = admin
        .query_one(
            "SELECT COUNT(*) FROM webhook1c.messages WHERE job <> '' OR body IS NOT NULL",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(kept, 0);
    a.stop_worker();
    b.stop_worker();
}

/// A failure answer is retried and then failed; Requeue starts again; the
/// other worker sees it all.
#[test]
fn retries_failures_and_requeue_behave_as_in_the_embedded_queue() {
    let url = pg::cluster().database("retries");
    let server = TestServer::with_handler(None, |_| Reply::text(503, "busy"));
    let a = Queue::open_database_unshared(&url, None).unwrap();
    let b = Queue::open_database_unshared(&url, None).unwrap();
    a.enqueue(job("flaky", server.url("/hook"))).unwrap();
    assert!(b.wait_idle(Duration::from_secs(30)).unwrap());
    let status = b.status("flaky").unwrap();
    assert_eq!(
        (status.state, status.attempts, status.status),
        (State::Failed, 3, 503)
    );
    assert_eq!(a.attempts("flaky").unwrap().len(), 3);
    assert!(b.requeue("flaky").unwrap());
    assert!(!b.requeue("flaky").unwrap(), "pending now, not failed");
    assert!(a.wait_idle(Duration::from_secs(30)).unwrap());
    assert_eq!(server.requests().len(), 6);
    assert_eq!(a.attempts("flaky").unwrap().len(), 6);
    a.stop_worker();
    b.stop_worker();
}

/// Bad input gets a clear error that never shows the password.
#[test]
fn bad_urls_refused_connections_and_wrong_passwords_are_clear_errors() {
    let cluster = pg::cluster();
    let refused = format!("postgresql://u:pw-refused@127.0.0.1:{}/db", closed_port());
    let wrong = format!(
        "postgresql://{}:wrong-s3cret@127.0.0.1:{}/postgres?sslmode=disable",
        pg::USER,
        cluster.port
    );
    for (url, expected) in [
        (refused.as_str(), "Connection refused"),
        (wrong.as_str(), "password authentication failed"),
        ("postgresql://u:pw@127.0.0.1:notaport/db", "invalid"),
    ] {
        let err = Queue::open_database_unshared(url, None)
            .unwrap_err()
            .to_string();
        assert!(err.contains(expected), "{url}: {err}");
        assert!(
            !err.contains("s3cret") && !err.contains("pw-refused"),
            "{err}"
        );
    }
}

/// TLS to PostgreSQL: with `sslmode=verify-full` and the test CA in
/// `sslrootcert` the queue works over TLS; without the CA the certificate
/// is refused (verification is on whenever TLS is used), and so it is with
/// the default `prefer` against a server that offers TLS.
#[test]
fn tls_verify_full_against_the_test_ca() {
    let cluster = pg::cluster();
    cluster.database("over_tls");
    let base = cluster.url_without_options("over_tls");
    let ca = support::TlsFixtures::shared().ca_path.display().to_string();
    let verified = format!("{base}?sslmode=verify-full&sslrootcert={ca}");
    let server = TestServer::with_handler(None, |_| Reply::new(200));
    let queue = Queue::open_database_unshared(&verified, None).expect("TLS with the test CA");
    queue.enqueue(job("over-tls", server.url("/hook"))).unwrap();
    assert!(queue.wait_idle(Duration::from_secs(30)).unwrap());
    assert_eq!(queue.status("over-tls").unwrap().state, State::Delivered);
    queue.stop_worker();
    let mut admin = cluster.admin("postgres");
    let encrypted: i64 = admin
        .query_one(
            "SELECT COUNT(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
             WHERE a.usename = $1 AND a.datname = 'over_tls' AND s.ssl",
            &[&pg::USER],
        )
        .unwrap()
        .get(0);
    assert!(encrypted > 0, "the queue's connections use TLS");

    for url in [format!("{base}?sslmode=verify-full"), base.clone()] {
        let err = Queue::open_database_unshared(&url, None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("UnknownIssuer") || err.contains("certificate"),
            "{url}: {err}"
        );
    }
    let err = Queue::open_database_unshared(&format!("{base}?sslmode=sometimes"), None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown sslmode \"sometimes\""), "{err}");
}

/// PostgreSQL restarts (`pg_ctl restart -m fast`) while messages are being
/// delivered: none is lost, delivery resumes on new connections.
#[test]
fn a_database_restart_during_delivery_loses_nothing() {
    let cluster = pg::own_cluster();
    let url = cluster.database("restart");
    let server = TestServer::with_handler(None, |_| {
        std::thread::sleep(Duration::from_millis(20));
        Reply::new(200)
    });
    let queue = Queue::open_database_unshared(&url, Some(Duration::from_secs(3))).unwrap();
    const N: usize = 300;
    for n in 0..N {
        queue
            .enqueue(job(&format!("r-{n}"), server.url("/hook")))
            .unwrap();
    }
    // Restart once some are delivered and many are not.
    let started = std::time::Instant::now();
    while server.requests().len() < 20 && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(10));
    }
    let before = server.requests().len();
    cluster.pg_ctl(&["-w", "-m", "fast", "restart"]);
    let restarted_at = server.requests().len();
    // Calls fail while the server is down; the queue's own threads retry.
    let idle = (0..120).any(|_| {
        std::thread::sleep(Duration::from_millis(500));
        matches!(queue.wait_idle(Duration::from_secs(1)), Ok(true))
    });
    assert!(idle, "delivery did not resume after the restart");
    let mut seen = HashMap::<String, usize>::new();
    for r in server.requests() {
        *seen
            .entry(r.header("webhook-id").unwrap().to_string())
            .or_default() += 1;
    }
    assert_eq!(seen.len(), N, "every message was delivered");
    let duplicates: usize = seen.values().map(|n| n - 1).sum();
    assert_eq!(queue.counts().unwrap().delivered, N as u64);
    println!(
        "restart: {N} messages, {before} received before the restart, {restarted_at} by its end, \
         {duplicates} duplicates, 0 lost, idle {:.1} s after the start",
        started.elapsed().as_secs_f64()
    );
    queue.stop_worker();
}

/// A database that is read-only refuses Enqueue with a clear error, and
/// what was enqueued before stays readable.
#[test]
fn a_read_only_database_is_a_clear_error() {
    let cluster = pg::cluster();
    let url = cluster.database("read_only");
    let queue = Queue::open_database_unshared(&url, None).unwrap();
    queue.stop_worker();
    queue
        .enqueue(job("before", "http://127.0.0.1:9/".into()))
        .unwrap();
    cluster
        .admin("postgres")
        .batch_execute("ALTER DATABASE read_only SET default_transaction_read_only = on")
        .unwrap();
    // Settings apply to new sessions: a fresh worker.
    let fresh = Queue::open_database_unshared(&url, None).unwrap();
    fresh.stop_worker();
    let err = fresh
        .enqueue(job("after", "http://127.0.0.1:9/".into()))
        .unwrap_err()
        .to_string();
    assert!(err.contains("read-only transaction"), "{err}");
    assert!(!err.contains(pg::PASSWORD), "{err}");
    assert_eq!(fresh.status("before").unwrap().state, State::Pending);
}

/// QueueRetention on PostgreSQL: a retention of zero deletes a final
/// message with its attempts at once; a short one hides it when it passes,
/// and the next worker's purge deletes the row.
#[test]
fn retention_removes_final_messages_from_the_database() {
    let cluster = pg::cluster();
    let url = cluster.database("retention");
    let server = TestServer::with_handler(None, |_| Reply::new(200));
    let queue = Queue::open_database_unshared(&url, None).unwrap();
    let mut gone = job("gone-at-once", server.url("/hook"));
    gone.retention = Duration::ZERO;
    let mut brief = job("kept-briefly", server.url("/hook"));
    brief.retention = Duration::from_millis(800);
    queue.enqueue(gone).unwrap();
    queue.enqueue(brief).unwrap();
    assert!(queue.wait_idle(Duration::from_secs(20)).unwrap());
    assert_eq!(queue.status("gone-at-once").unwrap().state, State::Unknown);
    assert_eq!(
        queue.status("kept-briefly").unwrap().state,
        State::Delivered
    );
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(queue.status("kept-briefly").unwrap().state, State::Unknown);
    queue.stop_worker();
    // A new worker purges at its start.
    let next = Queue::open_database_unshared(&url, None).unwrap();
    let mut admin = cluster.admin("retention");
    let rows = |admin: &mut postgres::Client| -> i64 {
        admin
            .query_one(
                "SELECT (SELECT COUNT(*) FROM webhook1c.messages) + (SELECT COUNT(*) FROM webhook1c.attempts)",
                &[],
            )
            .unwrap()
            .get(0)
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while rows(&mut admin) > 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(rows(&mut admin), 0, "no row or attempt is left");
    next.stop_worker();
}
