//! The HTTP core on its own, without the ABI: pooling by transport setting,
//! the response size limit on every framing, and error classification.

mod support;

use std::time::Duration;

use support::{closed_port, Reply, Socks5Proxy, TestServer, TlsFixtures};
use webhook1c::http::{
    self, ConnectCause, Error, Method, Request, TimeoutPhase, TlsCause, Transport,
};

fn get(url: String) -> Request {
    Request::new(Method::Get, url)
}

#[test]
fn equal_transports_share_connections_and_different_ones_do_not() {
    let server = TestServer::http();
    let first = Transport {
        connect_timeout: Some(Duration::from_secs(7)),
        ..Transport::default()
    };
    let same = first.clone();
    let other = Transport {
        follow_redirects: false,
        ..first.clone()
    };
    for transport in [&first, &same, &first] {
        assert_eq!(
            http::send(transport, &get(server.url("/echo")))
                .unwrap()
                .status,
            200
        );
    }
    assert_eq!(server.connections_accepted(), 1);
    http::send(&other, &get(server.url("/echo"))).unwrap();
    assert_eq!(
        server.connections_accepted(),
        2,
        "a different setting gets its own pool"
    );
    assert!(http::pooled_clients() >= 2);
}

#[test]
fn the_size_limit_holds_with_and_without_content_length() {
    let server = TestServer::with_handler(None, |r| {
        let body = vec![b'x'; 5000];
        match r.path() {
            "/chunked" => Reply::new(200).with_body(body).chunked(700),
            _ => Reply::new(200).with_body(body),
        }
    });
    for path in ["/sized", "/chunked"] {
        let mut request = get(server.url(path));
        request.max_response_size = Some(4999);
        match http::send(&Transport::default(), &request) {
            Err(Error::ResponseTooLarge { limit: 4999, .. }) => {}
            other => panic!("{path}: {other:?}"),
        }
        request.max_response_size = Some(5000);
        assert_eq!(
            http::send(&Transport::default(), &request)
                .unwrap()
                .body
                .len(),
            5000,
            "{path}"
        );
    }
}

#[test]
fn failures_are_classified() {
    let closed = closed_port();
    let refused = http::send(
        &Transport::default(),
        &get(format!("http://127.0.0.1:{closed}/")),
    );
    assert!(
        matches!(
            refused,
            Err(Error::Connect {
                cause: ConnectCause::Refused,
                ..
            })
        ),
        "{refused:?}"
    );

    let server = TestServer::http();
    let mut slow = get(server.url("/slow/10000"));
    slow.timeout = Some(Duration::from_millis(300));
    let timed_out = http::send(&Transport::default(), &slow);
    assert!(
        matches!(
            timed_out,
            Err(Error::Timeout {
                phase: TimeoutPhase::Request,
                ..
            })
        ),
        "{timed_out:?}"
    );

    let tls = TlsFixtures::shared();
    let secure = TestServer::https(tls.server_config());
    let untrusted = http::send(&Transport::default(), &get(secure.url("/echo")));
    assert!(
        matches!(
            untrusted,
            Err(Error::Tls {
                cause: TlsCause::UnknownIssuer,
                ..
            })
        ),
        "{untrusted:?}"
    );
    let trusted = Transport {
        trusted_certificates: tls.ca_pem.clone(),
        ..Transport::default()
    };
    assert_eq!(
        http::send(&trusted, &get(secure.url("/echo")))
            .unwrap()
            .status,
        200
    );

    let looping = http::send(&Transport::default(), &get(server.url("/redirect-loop")));
    assert!(
        matches!(looping, Err(Error::TooManyRedirects { .. })),
        "{looping:?}"
    );

    let bad_proxy = Transport {
        proxy: "gopher://127.0.0.1:70".into(),
        ..Transport::default()
    };
    let err = http::send(&bad_proxy, &get(server.url("/echo"))).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("Proxy: unsupported proxy scheme"),
        "{err}"
    );
}

#[test]
fn socks5h_resolves_names_at_the_proxy() {
    let server = TestServer::http();
    let socks = Socks5Proxy::start(None);
    let transport = Transport {
        proxy: socks.url_h(),
        ..Transport::default()
    };
    let response =
        http::send(&transport, &get(server.url_with_host("localhost", "/echo"))).unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(
        socks.connects()[0].target,
        format!("localhost:{}", server.port())
    );
}

#[test]
fn response_text_follows_the_declared_charset() {
    let server = TestServer::http();
    let response = http::send(
        &Transport::default(),
        &get(server.url("/charset/windows-1251")),
    )
    .unwrap();
    assert_ne!(
        response.body,
        "Привет, мир".as_bytes(),
        "the wire carries windows-1251"
    );
    assert_eq!(response.text(), "Привет, мир");
    assert_eq!(
        response.header("Content-Type").as_deref(),
        Some("text/plain; charset=windows-1251")
    );
}

#[test]
fn retries_sign_every_attempt_with_one_id_and_follow_retry_after() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    use webhook1c::http::retry::{send_with_retries, Attempts, RetryPolicy};
    use webhook1c::http::sign::Signer;

    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let server =
        TestServer::with_handler(None, move |_| match seen.fetch_add(1, Ordering::SeqCst) {
            0 => Reply::text(503, "busy"),
            1 => Reply::text(429, "slow down").with_header("Retry-After", "2"),
            2 => Reply::text(500, "oops"),
            _ => Reply::text(200, "ok"),
        });
    let mut request = Request::new(Method::Post, server.url("/hook"));
    request.body = Some(br#"{"a":1}"#.to_vec().into());
    let signer = Signer::new("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap();
    let pauses = Mutex::new(Vec::new());
    let policy = RetryPolicy {
        extra_attempts: 5,
        first_delay: Duration::from_millis(500),
    };
    let log = std::env::temp_dir().join(format!("webhook1c-retry-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&log);
    let record = |d| pauses.lock().unwrap().push(d);
    let audit = |attempt: &webhook1c::http::retry::Attempt<'_>| {
        webhook1c::audit::record_attempt(&log, attempt)
    };
    let how = Attempts {
        policy,
        signer: Some(&signer),
        message_id: "msg_test",
        observe: Some(&audit),
        sleep: &record,
    };
    let request = request.prepare().unwrap();
    let outcome = send_with_retries(&Transport::default(), &request, &how);
    assert_eq!(outcome.result.unwrap().status, 200);
    assert_eq!(outcome.attempts, 4);
    assert_eq!(
        *pauses.lock().unwrap(),
        [
            Duration::from_millis(500),
            Duration::from_secs(2),
            Duration::from_secs(2)
        ],
        "doubling from 500 ms, with Retry-After taking precedence once"
    );
    for r in server.requests() {
        assert_eq!(r.header("webhook-id"), Some("msg_test"));
        let ts: u64 = r.header("webhook-timestamp").unwrap().parse().unwrap();
        assert_eq!(
            r.header("webhook-signature").unwrap(),
            signer.signature("msg_test", ts, &r.body)
        );
    }

    // One audit line per attempt, in order.
    let lines = std::fs::read_to_string(&log).unwrap();
    let statuses: Vec<&str> = lines
        .lines()
        .map(|l| {
            l.split_whitespace()
                .find(|w| w.starts_with("status="))
                .unwrap()
        })
        .collect();
    assert_eq!(
        statuses,
        ["status=503", "status=429", "status=500", "status=200"],
        "{lines}"
    );
    assert!(lines
        .lines()
        .all(|l| l.contains(" id=msg_test") && l.contains(&server.url("/hook"))));
    let _ = std::fs::remove_file(&log);

    // No retries left: the last answer is what the caller gets.
    calls.store(0, Ordering::SeqCst);
    let policy = RetryPolicy {
        extra_attempts: 1,
        first_delay: Duration::from_millis(1),
    };
    let how = Attempts {
        policy,
        signer: None,
        message_id: "x",
        observe: None,
        sleep: &|_| {},
    };
    let outcome = send_with_retries(&Transport::default(), &request, &how);
    assert_eq!((outcome.result.unwrap().status, outcome.attempts), (429, 2));
}

/// `Retry-After: 0` and a date in the past ask for no pause at all; each
/// counts as 1 s, so a large RetryCount cannot turn into a burst.
#[test]
fn a_retry_after_of_zero_or_in_the_past_waits_one_second() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    use webhook1c::http::retry::{send_with_retries, Attempts, RetryPolicy, MIN_RETRY_AFTER};

    let calls = AtomicUsize::new(0);
    let server =
        TestServer::with_handler(None, move |_| match calls.fetch_add(1, Ordering::SeqCst) {
            0 => Reply::text(503, "busy").with_header("Retry-After", "0"),
            1 => Reply::text(429, "later")
                .with_header("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT"),
            _ => Reply::text(200, "ok"),
        });
    let request = Request::new(Method::Post, server.url("/hook"))
        .prepare()
        .unwrap();
    let pauses = Mutex::new(Vec::new());
    let record = |d| pauses.lock().unwrap().push(d);
    let how = Attempts {
        policy: RetryPolicy {
            extra_attempts: 100,
            first_delay: Duration::from_millis(10),
        },
        signer: None,
        message_id: "x",
        observe: None,
        sleep: &record,
    };
    let outcome = send_with_retries(&Transport::default(), &request, &how);
    assert_eq!((outcome.result.unwrap().status, outcome.attempts), (200, 3));
    assert_eq!(MIN_RETRY_AFTER, Duration::from_secs(1));
    assert_eq!(*pauses.lock().unwrap(), [MIN_RETRY_AFTER, MIN_RETRY_AFTER]);
}

/// A Content-Length (or Transfer-Encoding) set by the caller is not sent:
/// the body goes out whole, framed by its real length.
#[test]
fn a_content_length_set_by_the_caller_gives_way_to_the_real_length() {
    let server = TestServer::http();
    let body = br#"{"text":"the whole body"}"#;
    for (name, value) in [
        ("Content-Length", "3"),
        ("content-length", "999"),
        ("Transfer-Encoding", "chunked"),
    ] {
        let mut request = Request::new(Method::Post, server.url("/echo"));
        request.headers.set(name, value);
        request.body = Some(body.to_vec().into());
        let response = request
            .prepare()
            .unwrap()
            .send(&Transport::default())
            .unwrap();
        assert_eq!(response.status, 200, "{name}: {value}");
        assert_eq!(response.body, body, "{name}: {value}");
    }
    for r in server.requests() {
        assert_eq!(r.body, body);
        assert_eq!(r.header("content-length"), Some("25"));
        assert_eq!(r.header("transfer-encoding"), None);
    }
}

/// A server that closes a kept-alive connection after it sat idle (as
/// nginx, Node and most gateways do after their keep-alive timeout): the
/// next call, made after the close, must go out on a new connection and
/// succeed, not fail on the dead one. The pooled connection is not watched
/// between calls, so this is the case that shows whether a closed one is
/// noticed before reuse.
#[test]
fn a_connection_the_server_closed_while_idle_is_not_reused() {
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let served = Arc::new(AtomicUsize::new(0));
    let counter = served.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let counter = counter.clone();
            std::thread::spawn(move || {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    match stream.read(&mut byte) {
                        Ok(1) => head.push(byte[0]),
                        _ => return,
                    }
                }
                counter.fetch_add(1, Ordering::SeqCst);
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok",
                );
                // The keep-alive timeout: idle for 100 ms, then closed.
                std::thread::sleep(Duration::from_millis(100));
            });
        }
    });
    let transport = Transport {
        connect_timeout: Some(Duration::from_secs(5)),
        ..Transport::default()
    };
    let url = format!("http://127.0.0.1:{port}/idle");
    for call in 0..3 {
        let response = http::send(&transport, &get(url.clone()))
            .unwrap_or_else(|e| panic!("call {call} after the idle close: {e}"));
        assert_eq!(response.body, b"ok");
        std::thread::sleep(Duration::from_millis(400));
    }
    assert_eq!(served.load(Ordering::SeqCst), 3);
}
