//! Proves the test-support servers in `tests/support/` work, using reqwest
//! (blocking, rustls with the ring provider) and hand-written raw clients.

mod support;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, Shutdown, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::blocking::{Client, ClientBuilder};
use support::server::{CHARSET_DEFAULT_TEXT, CHUNKED_TEXT, COMPRESSED_TEXT, JSON_BODY};
use support::{
    basic_auth_value, closed_port, default_routes, tls, HttpProxy, Reply, Socks5Proxy,
    SocksAddressType, StallServer, TestServer, TlsFixtures, CLIENT_CN,
};

fn builder() -> ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
}

fn client() -> Client {
    builder().build().expect("build client")
}

fn tls_builder(fixtures: &TlsFixtures) -> ClientBuilder {
    let ca = reqwest::Certificate::from_pem(fixtures.ca_pem.as_bytes()).expect("CA PEM");
    builder().tls_certs_only([ca])
}

/// A client that trusts the test CA and goes through `proxy`.
fn proxied(proxy: &str) -> Client {
    tls_builder(TlsFixtures::shared())
        .proxy(reqwest::Proxy::all(proxy).expect("proxy URL"))
        .build()
        .expect("build client")
}

/// Polls `condition` for up to two seconds.
fn eventually(condition: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    condition()
}

/// Sends `request` on a fresh connection and reads until the server closes.
fn raw_exchange(port: u16, request: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    stream.write_all(request).expect("write request");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("read response");
    response
}

#[test]
fn echo_round_trip_records_raw_bytes() {
    let server = TestServer::http();
    let response = client()
        .post(server.url("/echo?x=1"))
        .header("X-Custom", "Value")
        .header("Content-Type", "text/plain; charset=utf-8")
        .body("hello")
        .send()
        .expect("send");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; charset=utf-8"
    );
    assert_eq!(response.text().unwrap(), "hello");

    let request = server.last().expect("recorded");
    assert_eq!(request.method, "POST");
    assert_eq!(request.target, "/echo?x=1");
    assert_eq!(request.path(), "/echo");
    assert_eq!(request.query("x").as_deref(), Some("1"));
    assert_eq!(request.header("x-custom"), Some("Value"));
    assert_eq!(request.body, b"hello");
    assert_eq!(request.connection_id, 1);
    assert!(!request.tls);
    assert!(request.raw.starts_with(b"POST /echo?x=1 HTTP/1.1\r\n"));
    assert!(request.raw.ends_with(b"\r\n\r\nhello"));
    assert!(request.raw_head().contains("content-length: 5\r\n"));

    // Default content type and HEAD.
    let response = client()
        .put(server.url("echo"))
        .body(vec![1u8, 2, 3])
        .send()
        .unwrap();
    assert_eq!(
        response.headers()["content-type"],
        "application/octet-stream"
    );
    assert_eq!(response.bytes().unwrap().as_ref(), &[1, 2, 3]);
    let response = client().head(server.url("/echo")).send().unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.bytes().unwrap().is_empty());
    assert_eq!(server.requests().len(), 3);
}

#[test]
fn chunked_upload_is_decoded() {
    let server = TestServer::http();
    let data = b"chunked request body".repeat(100);
    let body = reqwest::blocking::Body::new(std::io::Cursor::new(data.clone()));
    let response = client()
        .post(server.url("/echo"))
        .body(body)
        .send()
        .unwrap();
    assert_eq!(response.bytes().unwrap().as_ref(), data.as_slice());
    let request = server.last().unwrap();
    assert_eq!(request.header("transfer-encoding"), Some("chunked"));
    assert_eq!(request.body, data);
    assert!(request.raw.ends_with(b"\r\n0\r\n\r\n"));
}

#[test]
fn raw_pipelined_requests_keep_original_bytes() {
    let server = TestServer::http();
    let first = b"GET /json HTTP/1.1\r\nHost: a\r\nX-MiXeD-Case: yes\r\n\r\n".to_vec();
    let second =
        b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nTrailer: t\r\n\r\n"
            .to_vec();
    let response = raw_exchange(server.port(), &[first.clone(), second.clone()].concat());
    let text = String::from_utf8_lossy(&response);
    assert_eq!(text.matches("HTTP/1.1 200 OK\r\n").count(), 2, "{text}");
    assert!(text.contains(JSON_BODY));
    assert!(text.ends_with("\r\n\r\nabcde"), "{text}");
    assert!(text.contains("Connection: close\r\n"));

    let requests = server.wait_for(2, Duration::from_secs(2));
    assert_eq!(requests[0].raw, first);
    assert_eq!(requests[1].raw, second);
    assert_eq!(
        requests[0].headers[1],
        ("X-MiXeD-Case".into(), "yes".into())
    );
    assert_eq!(requests[1].body, b"abcde");
    assert_eq!(requests[0].connection_id, requests[1].connection_id);

    // Expect: 100-continue gets an interim response.
    let response = raw_exchange(
        server.port(),
        b"POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
    );
    let text = String::from_utf8_lossy(&response);
    assert!(
        text.starts_with("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"),
        "{text}"
    );
    assert!(text.ends_with("ok"));

    // Garbage gets a 400.
    let response = raw_exchange(server.port(), b"NONSENSE\r\n\r\n");
    assert!(response.starts_with(b"HTTP/1.1 400 "));
}

#[test]
fn default_routes_answer_as_documented() {
    let server = TestServer::http();
    let client = client();
    let get = |path: &str| client.get(server.url(path)).send().expect(path);

    let response = get("/status/418");
    assert_eq!(response.status(), 418);
    assert_eq!(response.text().unwrap(), "status 418");
    assert_eq!(get("/status/503").status(), 503);

    let response = get("/redirect/302?to=/json");
    assert_eq!(response.url().path(), "/json");
    assert_eq!(response.text().unwrap(), JSON_BODY);
    let requests = server.requests();
    let redirect = &requests[requests.len() - 2];
    assert_eq!(redirect.target, "/redirect/302?to=/json");

    let no_redirects = builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = no_redirects
        .get(server.url("/redirect/308?to=%2Fecho%3Fa%3D1"))
        .send()
        .unwrap();
    assert_eq!(response.status(), 308);
    assert_eq!(response.headers()["location"], "/echo?a=1");
    let response = no_redirects
        .get(server.url("/redirect-loop"))
        .send()
        .unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], "/redirect-loop");

    let started = Instant::now();
    assert_eq!(get("/slow/200").text().unwrap(), "slow");
    assert!(started.elapsed() >= Duration::from_millis(200));
    let started = Instant::now();
    assert_eq!(get("/slow-body/100").text().unwrap(), "slow body");
    assert!(started.elapsed() >= Duration::from_millis(100));

    let response = get("/headers");
    assert_eq!(response.headers()["x-test-one"], "1");
    assert_eq!(response.headers()["x-test-two"], "two");
    let cookies: Vec<_> = response.headers().get_all("set-cookie").iter().collect();
    assert_eq!(cookies, ["a=1", "b=2"]);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.text().unwrap(), "{}");

    let response = get("/binary");
    assert_eq!(
        response.headers()["content-type"],
        "application/octet-stream"
    );
    assert_eq!(
        response.bytes().unwrap().to_vec(),
        (0..=255u8).collect::<Vec<_>>()
    );
    assert_eq!(get("/bytes/1000").bytes().unwrap().len(), 1000);

    let response = get("/json");
    assert_eq!(
        response.headers()["content-type"],
        "application/json; charset=utf-8"
    );
    assert_eq!(response.text().unwrap(), JSON_BODY);

    let response = get("/chunked");
    assert_eq!(response.headers()["transfer-encoding"], "chunked");
    assert_eq!(response.text().unwrap(), CHUNKED_TEXT);

    let response = get("/empty");
    assert_eq!(response.status(), 204);
    assert!(response.bytes().unwrap().is_empty());

    let response = get("/nowhere");
    assert_eq!(response.status(), 404);
    assert_eq!(response.text().unwrap(), "not found");
}

#[test]
fn compression_routes_use_matching_encodings() {
    let server = TestServer::http();
    let plain = builder()
        .no_gzip()
        .no_deflate()
        .no_brotli()
        .build()
        .unwrap();
    let fetch = |route: &str| {
        let response = plain.get(server.url(route)).send().unwrap();
        assert_eq!(response.headers()["content-encoding"], &route[1..]);
        assert_eq!(
            response.headers()["content-type"],
            "text/plain; charset=utf-8"
        );
        response.bytes().unwrap().to_vec()
    };
    let mut text = String::new();
    flate2::read::GzDecoder::new(fetch("/gzip").as_slice())
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, COMPRESSED_TEXT);
    text.clear();
    flate2::read::ZlibDecoder::new(fetch("/deflate").as_slice())
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, COMPRESSED_TEXT);
    text.clear();
    brotli::Decompressor::new(fetch("/br").as_slice(), 4096)
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, COMPRESSED_TEXT);
}

#[test]
fn charset_routes_reencode_text() {
    let server = TestServer::http();
    let client = client();
    let fetch = |path: &str| {
        let response = client.get(server.url(path)).send().unwrap();
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_string();
        (content_type, response.bytes().unwrap().to_vec())
    };
    let (content_type, body) = fetch("/charset/windows-1251");
    assert_eq!(content_type, "text/plain; charset=windows-1251");
    assert_eq!(
        body,
        encoding_rs::WINDOWS_1251
            .encode(CHARSET_DEFAULT_TEXT)
            .0
            .as_ref()
    );
    assert_eq!(body[0], 0xCF); // "П" in windows-1251
    let (_, body) = fetch("/charset/koi8-r");
    assert_eq!(
        body,
        encoding_rs::KOI8_R.encode(CHARSET_DEFAULT_TEXT).0.as_ref()
    );
    assert_eq!(body[0], 0xF0); // "П" in KOI8-R
    let (_, body) = fetch("/charset/utf-8");
    assert_eq!(body, CHARSET_DEFAULT_TEXT.as_bytes());
    let (_, body) = fetch("/charset/utf-16le");
    let expected: Vec<u8> = CHARSET_DEFAULT_TEXT
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    assert_eq!(body, expected);
    let (_, body) = fetch("/charset/windows-1251?text=%D0%90%D0%91+x");
    assert_eq!(body, [0xC0, 0xC1, b' ', b'x']);
    let response = client.get(server.url("/charset/nope")).send().unwrap();
    assert_eq!(response.status(), 400);
}

#[test]
fn https_with_test_ca_counts_handshakes() {
    let fixtures = TlsFixtures::shared();
    let server = TestServer::https(fixtures.server_config());
    assert!(server.url("/json").starts_with("https://localhost:"));
    let client = tls_builder(fixtures).build().unwrap();
    for _ in 0..2 {
        let response = client.get(server.url("/json")).send().unwrap();
        assert_eq!(response.text().unwrap(), JSON_BODY);
    }
    assert_eq!(server.tls_handshakes(), 1);
    assert_eq!(server.connections_accepted(), 1);
    let request = server.last().unwrap();
    assert!(request.tls);
    assert!(!request.client_cert_seen);

    // The certificate also carries the IP address.
    let response = tls_builder(fixtures)
        .build()
        .unwrap()
        .get(server.url_ip("/echo"))
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(server.tls_handshakes(), 2);

    // Files on disk match the PEM texts.
    assert_eq!(
        std::fs::read_to_string(&fixtures.ca_path).unwrap(),
        fixtures.ca_pem
    );
    assert!(fixtures.ca_path.ends_with("ca.pem"));
}

#[test]
fn mtls_requires_the_client_identity() {
    let fixtures = TlsFixtures::new();
    let server = TestServer::https(fixtures.mtls_server_config());

    let err = tls_builder(&fixtures)
        .build()
        .unwrap()
        .get(server.url("/json"))
        .send()
        .expect_err("no client cert");
    assert!(!err.is_timeout(), "{err:?}");
    assert!(eventually(|| server.tls_handshake_failures() == 1));
    assert!(server.requests().is_empty());

    let pem = std::fs::read(&fixtures.client_path).unwrap();
    assert_eq!(pem, fixtures.client_pem.as_bytes());
    assert!(fixtures.client_pem.contains("-----BEGIN PRIVATE KEY-----"));
    let identity = reqwest::Identity::from_pem(&pem).expect("identity");
    let response = tls_builder(&fixtures)
        .identity(identity)
        .build()
        .unwrap()
        .get(server.url("/json"))
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    let request = server.last().unwrap();
    assert!(request.client_cert_seen);
    assert_eq!(request.client_cert_cn.as_deref(), Some(CLIENT_CN));
    assert_eq!(server.client_certs_seen(), 1);
    assert_eq!(
        tls::subject_cn(&fixtures.client.chain[0]).as_deref(),
        Some(CLIENT_CN)
    );

    // Optional client auth accepts both.
    let optional = TestServer::https(fixtures.optional_mtls_server_config());
    let response = tls_builder(&fixtures)
        .build()
        .unwrap()
        .get(optional.url("/empty"))
        .send()
        .unwrap();
    assert_eq!(response.status(), 204);
    assert!(!optional.last().unwrap().client_cert_seen);

    let dir = fixtures.dir.clone();
    drop(fixtures);
    assert!(!dir.exists());
}

#[test]
fn bad_server_certificates_are_rejected() {
    let fixtures = TlsFixtures::shared();
    let cases = [
        ("expired", fixtures.expired_server_config()),
        ("wrong name", fixtures.wrong_name_server_config()),
        ("unknown CA", fixtures.unknown_ca_server_config()),
    ];
    for (name, config) in cases {
        let server = TestServer::https(config);
        let err = tls_builder(fixtures)
            .build()
            .unwrap()
            .get(server.url("/json"))
            .send()
            .expect_err(name);
        assert!(!err.is_timeout(), "{name}: {err:?}");
        assert!(
            eventually(|| server.tls_handshake_failures() == 1),
            "{name}"
        );
        assert_eq!(server.tls_handshakes(), 0, "{name}");

        // The server itself works for a client that skips verification.
        let response = tls_builder(fixtures)
            .danger_accept_invalid_certs(true)
            .build()
            .unwrap()
            .get(server.url("/json"))
            .send()
            .unwrap();
        assert_eq!(response.status(), 200, "{name}");
    }
}

#[test]
fn http_proxy_forwards_and_tunnels() {
    let fixtures = TlsFixtures::shared();
    let origin = TestServer::http();
    let secure = TestServer::https(fixtures.server_config());
    let proxy = HttpProxy::start(None);
    let client = proxied(&proxy.url());

    let response = client
        .post(origin.url("/echo"))
        .body("via proxy")
        .send()
        .unwrap();
    assert_eq!(response.text().unwrap(), "via proxy");
    let response = client.get(origin.url("/chunked")).send().unwrap();
    assert_eq!(response.text().unwrap(), CHUNKED_TEXT);
    let response = client.get(secure.url("/json")).send().unwrap();
    assert_eq!(response.text().unwrap(), JSON_BODY);

    let records = proxy.requests();
    assert_eq!(records.len(), 3);
    assert_eq!(records[0].method, "POST");
    assert_eq!(records[0].target, origin.url("/echo"));
    assert_eq!(records[0].proxy_authorization, None);
    assert_eq!(records[2].method, "CONNECT");
    assert_eq!(records[2].target, format!("localhost:{}", secure.port()));
    assert_eq!(origin.requests()[0].target, "/echo");
    assert_eq!(origin.requests()[0].body, b"via proxy");
    assert_eq!(secure.tls_handshakes(), 1);
    assert!(proxy.connections_accepted() >= 2);
}

#[test]
fn http_proxy_enforces_basic_auth() {
    let fixtures = TlsFixtures::shared();
    let origin = TestServer::http();
    let secure = TestServer::https(fixtures.server_config());
    let proxy = HttpProxy::start(Some(("user", "secret")));

    let anonymous = proxied(&proxy.url());
    let response = anonymous.get(origin.url("/json")).send().unwrap();
    assert_eq!(response.status(), 407);
    assert!(response.headers().contains_key("proxy-authenticate"));
    anonymous
        .get(secure.url("/json"))
        .send()
        .expect_err("CONNECT without credentials");
    assert!(origin.requests().is_empty());
    assert!(secure.requests().is_empty());

    let authenticated = proxied(&proxy.url_with_auth("user", "secret"));
    let response = authenticated.get(origin.url("/json")).send().unwrap();
    assert_eq!(response.status(), 200);
    let response = authenticated.get(secure.url("/json")).send().unwrap();
    assert_eq!(response.status(), 200);

    let records = proxy.requests();
    let expected = basic_auth_value("user", "secret");
    let good: Vec<_> = records.iter().filter(|r| r.authorized).collect();
    assert_eq!(good.len(), 2);
    assert!(good
        .iter()
        .all(|r| r.proxy_authorization.as_deref() == Some(expected.as_str())));
    assert!(records
        .iter()
        .any(|r| r.method == "CONNECT" && !r.authorized));
    // The origin never sees the proxy credentials.
    assert_eq!(origin.last().unwrap().header("proxy-authorization"), None);
}

#[test]
fn socks5_proxy_without_auth() {
    let fixtures = TlsFixtures::shared();
    let origin = TestServer::http();
    let secure = TestServer::https(fixtures.server_config());
    let proxy = Socks5Proxy::start(None);

    let local_dns = proxied(&proxy.url());
    let response = local_dns
        .post(origin.url("/echo"))
        .body("socks")
        .send()
        .unwrap();
    assert_eq!(response.text().unwrap(), "socks");

    let remote_dns = proxied(&proxy.url_h());
    let response = remote_dns.get(secure.url("/json")).send().unwrap();
    assert_eq!(response.text().unwrap(), JSON_BODY);

    let connects = proxy.connects();
    assert_eq!(connects.len(), 2);
    assert_eq!(connects[0].target, format!("127.0.0.1:{}", origin.port()));
    assert_eq!(connects[0].address_type, SocksAddressType::Ipv4);
    assert_eq!(connects[0].username, None);
    assert_eq!(connects[1].target, format!("localhost:{}", secure.port()));
    assert_eq!(connects[1].address_type, SocksAddressType::Domain);
    assert_eq!(proxy.connections_accepted(), 2);
}

#[test]
fn socks5_proxy_with_auth() {
    let origin = TestServer::http();
    let proxy = Socks5Proxy::start(Some(("alice", "pw")));
    let via = |url: String| proxied(&url).get(origin.url("/json")).send();
    let response = via(proxy.url_with_auth("socks5", "alice", "pw")).unwrap();
    assert_eq!(response.status(), 200);
    via(proxy.url()).expect_err("no credentials");
    via(proxy.url_with_auth("socks5", "alice", "wrong")).expect_err("wrong password");
    assert_eq!(proxy.auth_failures(), 2);
    let connects = proxy.connects();
    assert_eq!(connects.len(), 1);
    assert_eq!(connects[0].username.as_deref(), Some("alice"));
    assert_eq!(origin.requests().len(), 1);
}

#[test]
fn socks5_raw_client_covers_ipv6_and_refusals() {
    let proxy = Socks5Proxy::start(None);
    let closed = closed_port();
    let ask = |address: &[u8]| -> Vec<u8> {
        let mut stream = TcpStream::connect(proxy.addr()).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        stream.write_all(&[5, 1, 0]).unwrap();
        let mut choice = [0u8; 2];
        stream.read_exact(&mut choice).unwrap();
        assert_eq!(choice, [5, 0]);
        let mut request = vec![5, 1, 0];
        request.extend_from_slice(address);
        request.extend_from_slice(&closed.to_be_bytes());
        stream.write_all(&request).unwrap();
        let mut reply = vec![0u8; 10];
        stream.read_exact(&mut reply).unwrap();
        reply
    };
    let mut ipv6 = vec![4];
    ipv6.extend_from_slice(&std::net::Ipv6Addr::LOCALHOST.octets());
    assert_ne!(ask(&ipv6)[1], 0);
    let mut domain = vec![3, 11];
    domain.extend_from_slice(b"example.com");
    assert_eq!(ask(&domain)[1], 2, "non-loopback names are refused");
    assert_eq!(ask(&[1, 127, 0, 0, 1])[1], 5, "closed port is refused");

    let connects = proxy.connects();
    assert_eq!(connects[0].target, format!("[::1]:{closed}"));
    assert_eq!(connects[0].address_type, SocksAddressType::Ipv6);
    assert_eq!(connects[1].target, format!("example.com:{closed}"));
    assert_eq!(connects[2].reply, 5);
}

#[test]
fn stall_server_triggers_client_timeouts() {
    let stall = StallServer::start();
    let started = Instant::now();
    let err = builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap()
        .get(stall.url("/x"))
        .send()
        .expect_err("read timeout");
    assert!(err.is_timeout(), "{err:?}");

    let fixtures = TlsFixtures::shared();
    let err = tls_builder(fixtures)
        .connect_timeout(Duration::from_millis(300))
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
        .get(stall.https_url("/x"))
        .send()
        .expect_err("handshake timeout");
    assert!(err.is_timeout() || err.is_connect(), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(4));
    assert_eq!(stall.connections_accepted(), 2);
    assert!(eventually(|| stall.bytes_received() > 0));
}

#[test]
fn custom_handlers_and_reply_builders() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let server = TestServer::with_handler(None, move |request| {
        match (counter.fetch_add(1, Ordering::SeqCst), request.path()) {
            (_, "/raw") => Reply::raw("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nraw"),
            (_, "/chunks") => Reply::text(201, "abcdefghij")
                .with_reason("Made")
                .chunked(3),
            (0, _) => Reply::text(503, "try again").with_close(),
            _ => default_routes(request),
        }
    });
    let client = client();
    assert_eq!(
        client.get(server.url("/json")).send().unwrap().status(),
        503
    );
    assert_eq!(
        client.get(server.url("/json")).send().unwrap().status(),
        200
    );
    assert_eq!(server.connections_accepted(), 2, "first reply closed");
    assert_eq!(
        client
            .get(server.url("/raw"))
            .send()
            .unwrap()
            .text()
            .unwrap(),
        "raw"
    );
    let response = raw_exchange(
        server.port(),
        b"GET /chunks HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    );
    let text = String::from_utf8_lossy(&response);
    assert!(text.starts_with("HTTP/1.1 201 Made\r\n"), "{text}");
    assert!(text.contains("Transfer-Encoding: chunked\r\n"));
    assert!(!text.contains("Content-Length"));
    assert!(text.ends_with("\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n3\r\nghi\r\n1\r\nj\r\n0\r\n\r\n"));
    assert_eq!(calls.load(Ordering::SeqCst), 4);
}

#[test]
fn drop_does_not_hang_on_busy_connections() {
    let server = TestServer::http();
    let port = server.port();
    // An idle keep-alive connection and a request waiting on a slow reply.
    let mut idle = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
    idle.write_all(b"GET /json HTTP/1.1\r\nHost: a\r\n\r\n")
        .unwrap();
    let pending = std::thread::spawn(move || {
        builder()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap()
            .get(format!("http://127.0.0.1:{port}/slow/20000"))
            .send()
    });
    server.wait_for(2, Duration::from_secs(5));
    let started = Instant::now();
    drop(server);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(pending.join().unwrap().is_err());
    let mut rest = Vec::new();
    let _ = idle.read_to_end(&mut rest);
    let _ = idle.shutdown(Shutdown::Both);
    assert!(TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err());

    let stall = StallServer::start();
    let _held = TcpStream::connect(stall.addr()).unwrap();
    assert!(eventually(|| stall.connections_accepted() == 1));
    let started = Instant::now();
    drop(stall);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn only_32_bit_wines_own_crash_after_a_clean_exit_is_read_as_exit_0() {
    use support::host::exit_code_of;
    let clean = "> get Version\n= string \"0.1.0\"\n# abi errors: 0\n# exit 0";
    assert_eq!(exit_code_of(true, None, Some(11), clean), Some(0));
    assert_eq!(exit_code_of(true, Some(0), None, clean), Some(0));
    // Any other signal, platform, exit status or an unfinished host counts.
    assert_eq!(exit_code_of(true, None, Some(6), clean), None);
    assert_eq!(exit_code_of(false, None, Some(11), clean), None);
    assert_eq!(
        exit_code_of(true, None, Some(11), "# abi errors: 0\n# exit 1"),
        None
    );
    assert_eq!(
        exit_code_of(true, None, Some(11), "> call PostJson\n"),
        None
    );
    assert_eq!(exit_code_of(true, Some(1), None, clean), Some(1));
}
