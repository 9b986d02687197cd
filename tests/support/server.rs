//! A recording HTTP/1.1 (optionally TLS) test server with keep-alive, plus a
//! server that accepts connections and never answers.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use percent_encoding::percent_decode_str;
use rustls::{ServerConfig, ServerConnection, StreamOwned};
use socket2::SockRef;

use super::net::{self, Acceptor, Conn, Wire, WireRequest};

pub use super::net::closed_port;

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Request target as sent: path and query for origin-form requests.
    pub target: String,
    /// Protocol version from the request line, e.g. `HTTP/1.1`.
    pub version: String,
    /// Headers in the order received, with their original case.
    pub headers: Vec<(String, String)>,
    /// Body with any chunked framing removed.
    pub body: Vec<u8>,
    /// Request line + headers + body exactly as received on the wire.
    pub raw: Vec<u8>,
    /// Length of the head (request line, headers, blank line) in `raw`.
    pub head_len: usize,
    /// Connection number on this server (1, 2, … in accept order).
    pub connection_id: u64,
    /// True if the request arrived over TLS.
    pub tls: bool,
    /// True if the TLS client presented a certificate.
    pub client_cert_seen: bool,
    /// Subject CN of the client certificate, when one was presented.
    pub client_cert_cn: Option<String>,
    /// When the request was fully read.
    pub received_at: Instant,
}

impl Recorded {
    fn new(request: WireRequest, connection_id: u64, peer: &PeerInfo) -> Self {
        Recorded {
            method: request.method,
            target: request.target,
            version: request.version,
            headers: request.headers,
            body: request.body,
            raw: request.raw,
            head_len: request.head_len,
            connection_id,
            tls: peer.tls,
            client_cert_seen: peer.client_cert_seen,
            client_cert_cn: peer.client_cert_cn.clone(),
            received_at: Instant::now(),
        }
    }

    /// First header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        net::header(&self.headers, name)
    }

    /// Every header called `name` (case-insensitive), in order.
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The target without its query string.
    pub fn path(&self) -> &str {
        self.target.split(['?', '#']).next().unwrap_or("")
    }

    /// A percent-decoded query parameter (`+` decodes to a space), as lossy UTF-8.
    pub fn query(&self, key: &str) -> Option<String> {
        let decode = |s: &str| {
            let s = s.replace('+', " ");
            percent_decode_str(&s).decode_utf8_lossy().into_owned()
        };
        let query = self.target.split_once('?')?.1;
        let query = query.split('#').next().unwrap_or("");
        query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k) == key).then(|| decode(v))
        })
    }

    /// The decoded body as lossy UTF-8.
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Request line and headers as received (lossy UTF-8), without the body.
    pub fn raw_head(&self) -> String {
        String::from_utf8_lossy(&self.raw[..self.head_len]).into_owned()
    }
}

/// What a handler answers. Build with [`Reply::new`] and the `with_*` methods.
///
/// The server adds `Content-Length` unless the handler set `Content-Length`
/// or `Transfer-Encoding` itself (then `body` is sent as is, so a chunked
/// body must already be encoded: see [`Reply::chunked`]). It always answers
/// `HTTP/1.1`, sends no body for HEAD requests, 1xx, 204 and 304, and adds
/// `Connection: close` when it is going to close the connection.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    /// Reason phrase; `None` uses the standard one.
    pub reason: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Wait this long before writing anything.
    pub delay_before: Duration,
    /// Wait this long between writing the head and writing the body.
    pub body_delay: Duration,
    /// Close the connection after this response.
    pub close: bool,
    /// If set, these exact bytes are written instead of a formatted response
    /// and the connection is closed afterwards (empty = hang up without answering).
    pub raw: Option<Vec<u8>>,
}

impl Default for Reply {
    fn default() -> Self {
        Reply::new(200)
    }
}

impl Reply {
    /// A response with `status`, no headers and no body.
    pub fn new(status: u16) -> Self {
        Reply {
            status,
            reason: None,
            headers: Vec::new(),
            body: Vec::new(),
            delay_before: Duration::ZERO,
            body_delay: Duration::ZERO,
            close: false,
            raw: None,
        }
    }

    /// `status` with a `text/plain; charset=utf-8` body.
    pub fn text(status: u16, body: impl Into<String>) -> Self {
        Reply::new(status)
            .with_header("Content-Type", "text/plain; charset=utf-8")
            .with_body(body.into())
    }

    /// `status` with an `application/json` body.
    pub fn json(status: u16, body: impl Into<String>) -> Self {
        Reply::new(status)
            .with_header("Content-Type", "application/json")
            .with_body(body.into())
    }

    /// Writes `bytes` verbatim instead of a formatted response, then closes.
    pub fn raw(bytes: impl Into<Vec<u8>>) -> Self {
        Reply {
            raw: Some(bytes.into()),
            close: true,
            ..Reply::new(0)
        }
    }

    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    pub fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay_before = delay;
        self
    }

    pub fn with_body_delay(mut self, delay: Duration) -> Self {
        self.body_delay = delay;
        self
    }

    pub fn with_close(mut self) -> Self {
        self.close = true;
        self
    }

    /// Re-encodes the current body with chunked framing (chunks of at most
    /// `chunk_size` bytes) and sets `Transfer-Encoding: chunked`.
    pub fn chunked(mut self, chunk_size: usize) -> Self {
        let chunk_size = chunk_size.max(1);
        let mut encoded = Vec::with_capacity(self.body.len() + 32);
        for chunk in self.body.chunks(chunk_size) {
            encoded.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            encoded.extend_from_slice(chunk);
            encoded.extend_from_slice(b"\r\n");
        }
        encoded.extend_from_slice(b"0\r\n\r\n");
        self.body = encoded;
        self.headers
            .retain(|(n, _)| !n.eq_ignore_ascii_case("content-length"));
        self.headers
            .push(("Transfer-Encoding".into(), "chunked".into()));
        self
    }

    fn header(&self, name: &str) -> Option<&str> {
        net::header(&self.headers, name)
    }
}

type Handler = dyn Fn(&Recorded) -> Reply + Send + Sync;

struct State {
    tls: Option<Arc<ServerConfig>>,
    handler: Box<Handler>,
    requests: Mutex<Vec<Recorded>>,
    arrived: Condvar,
    handshakes: AtomicUsize,
    handshake_failures: AtomicUsize,
    client_certs: AtomicUsize,
}

impl State {
    fn record(&self, request: Recorded) {
        net::lock(&self.requests).push(request);
        self.arrived.notify_all();
    }
}

/// A recording HTTP/1.1 server on 127.0.0.1 (plain or TLS). Stops on drop.
pub struct TestServer {
    acceptor: Acceptor,
    state: Arc<State>,
}

impl TestServer {
    /// Plain HTTP with the default routes (see [`default_routes`]).
    pub fn http() -> Self {
        Self::with_handler(None, default_routes)
    }

    /// HTTPS with `config` and the default routes.
    pub fn https(config: Arc<ServerConfig>) -> Self {
        Self::with_handler(Some(config), default_routes)
    }

    /// A server with a custom handler (which may fall back to
    /// [`default_routes`]). Panics in the handler become a 500 response.
    pub fn with_handler(
        tls: Option<Arc<ServerConfig>>,
        handler: impl Fn(&Recorded) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let state = Arc::new(State {
            tls,
            handler: Box::new(handler),
            requests: Mutex::new(Vec::new()),
            arrived: Condvar::new(),
            handshakes: AtomicUsize::new(0),
            handshake_failures: AtomicUsize::new(0),
            client_certs: AtomicUsize::new(0),
        });
        let conn_state = Arc::clone(&state);
        let name = if state.tls.is_some() {
            "https-server"
        } else {
            "http-server"
        };
        let acceptor = Acceptor::start(name, move |stream, conn| serve(stream, conn, &conn_state))
            .expect("start test server on 127.0.0.1");
        TestServer { acceptor, state }
    }

    pub fn port(&self) -> u16 {
        self.acceptor.port()
    }

    pub fn addr(&self) -> SocketAddr {
        self.acceptor.addr()
    }

    pub fn is_tls(&self) -> bool {
        self.state.tls.is_some()
    }

    /// `http://127.0.0.1:PORT/path`, or `https://localhost:PORT/path` for TLS
    /// (so the certificate's DNS name matches). A missing leading `/` is added.
    pub fn url(&self, path: &str) -> String {
        let host = if self.is_tls() {
            "localhost"
        } else {
            "127.0.0.1"
        };
        self.url_with_host(host, path)
    }

    /// Like [`url`](Self::url) but always with the IP `127.0.0.1` as host.
    pub fn url_ip(&self, path: &str) -> String {
        self.url_with_host("127.0.0.1", path)
    }

    /// The URL with a host name of your choice (e.g. `localhost`).
    pub fn url_with_host(&self, host: &str, path: &str) -> String {
        let scheme = if self.is_tls() { "https" } else { "http" };
        let slash = if path.starts_with('/') { "" } else { "/" };
        format!("{scheme}://{host}:{}{slash}{path}", self.port())
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        net::lock(&self.state.requests).clone()
    }

    pub fn last(&self) -> Option<Recorded> {
        net::lock(&self.state.requests).last().cloned()
    }

    /// Number of requests received so far.
    pub fn request_count(&self) -> usize {
        net::lock(&self.state.requests).len()
    }

    /// Forgets the requests recorded so far (counters are kept).
    pub fn clear_requests(&self) {
        net::lock(&self.state.requests).clear();
    }

    /// Waits until at least `n` requests arrived or `timeout` passed, and
    /// returns all requests recorded by then (possibly fewer than `n`).
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Recorded> {
        let deadline = Instant::now() + timeout;
        let mut requests = net::lock(&self.state.requests);
        while requests.len() < n {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            requests = match self.state.arrived.wait_timeout(requests, deadline - now) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        requests.clone()
    }

    /// TCP connections accepted so far.
    pub fn connections_accepted(&self) -> usize {
        self.acceptor.accepted()
    }

    /// TLS handshakes completed successfully so far.
    pub fn tls_handshakes(&self) -> usize {
        self.state.handshakes.load(Ordering::SeqCst)
    }

    /// TLS handshakes that failed (bad client cert, client rejected ours, …).
    pub fn tls_handshake_failures(&self) -> usize {
        self.state.handshake_failures.load(Ordering::SeqCst)
    }

    /// Completed TLS handshakes in which the client presented a certificate.
    pub fn client_certs_seen(&self) -> usize {
        self.state.client_certs.load(Ordering::SeqCst)
    }
}

impl fmt::Debug for TestServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestServer")
            .field("addr", &self.addr())
            .field("tls", &self.is_tls())
            .finish()
    }
}

/// A stream the server can close politely.
trait HttpStream: Read + Write {
    fn finish(&mut self);
}

impl HttpStream for TcpStream {
    fn finish(&mut self) {
        let _ = self.flush();
        let _ = self.shutdown(Shutdown::Write);
    }
}

impl HttpStream for StreamOwned<ServerConnection, TcpStream> {
    fn finish(&mut self) {
        self.conn.send_close_notify();
        let _ = self.flush();
        let _ = self.sock.shutdown(Shutdown::Write);
    }
}

#[derive(Default)]
struct PeerInfo {
    tls: bool,
    client_cert_seen: bool,
    client_cert_cn: Option<String>,
}

fn serve(mut tcp: TcpStream, conn: &Conn, state: &State) {
    let Some(config) = &state.tls else {
        serve_http(Wire::new(tcp), conn, state, &PeerInfo::default());
        return;
    };
    let mut tls = match ServerConnection::new(Arc::clone(config)) {
        Ok(tls) => tls,
        Err(err) => {
            conn.log(format_args!("cannot create TLS connection: {err}"));
            return;
        }
    };
    for _ in 0..64 {
        if !tls.is_handshaking() {
            break;
        }
        if let Err(err) = tls.complete_io(&mut tcp) {
            state.handshake_failures.fetch_add(1, Ordering::SeqCst);
            conn.log(format_args!("TLS handshake failed: {err}"));
            return;
        }
    }
    if tls.is_handshaking() {
        state.handshake_failures.fetch_add(1, Ordering::SeqCst);
        conn.log("TLS handshake did not complete");
        return;
    }
    state.handshakes.fetch_add(1, Ordering::SeqCst);
    let client_cert = tls.peer_certificates().and_then(|certs| certs.first());
    let peer = PeerInfo {
        tls: true,
        client_cert_seen: client_cert.is_some(),
        client_cert_cn: client_cert.and_then(|der| super::tls::subject_cn(der)),
    };
    if peer.client_cert_seen {
        state.client_certs.fetch_add(1, Ordering::SeqCst);
    }
    serve_http(Wire::new(StreamOwned::new(tls, tcp)), conn, state, &peer);
}

fn serve_http<S: HttpStream>(mut wire: Wire<S>, conn: &Conn, state: &State, peer: &PeerInfo) {
    serve_requests(&mut wire, conn, |wire, request| {
        let keep_alive_requested = !request.wants_close();
        let recorded = Recorded::new(request, conn.id, peer);
        state.record(recorded.clone());
        let reply = catch_unwind(AssertUnwindSafe(|| (state.handler)(&recorded)))
            .unwrap_or_else(|_| Reply::text(500, "test handler panicked").with_close());
        if !reply.delay_before.is_zero() && !conn.sleep(reply.delay_before) {
            return false;
        }
        let keep_alive = keep_alive_requested && !reply.close && reply.raw.is_none();
        if let Err(err) = write_reply(&mut wire.stream, &recorded.method, &reply, keep_alive, conn)
        {
            if !net::is_disconnect(&err) {
                conn.log(format_args!("write failed: {err}"));
            }
            return false;
        }
        keep_alive
    });
    wire.stream.finish();
}

/// The request loop of the origin server and the HTTP proxy: reads the
/// requests of one connection in turn and hands each to `handle`, until the
/// peer closes, the server stops, `handle` returns false (close), or a
/// request is malformed (answered with 400).
pub(super) fn serve_requests<S: Read + Write>(
    wire: &mut Wire<S>,
    conn: &Conn,
    mut handle: impl FnMut(&mut Wire<S>, WireRequest) -> bool,
) {
    for served in 1..=net::MAX_REQUESTS_PER_CONNECTION {
        if conn.stopping() {
            break;
        }
        let request = match wire.read_request() {
            Ok(Some(request)) => WireRequest {
                last_on_connection: served == net::MAX_REQUESTS_PER_CONNECTION,
                ..request
            },
            Ok(None) => break,
            Err(err) => {
                if !net::is_disconnect(&err) {
                    conn.log(format_args!("bad request: {err}"));
                    let reply = Reply::text(400, format!("bad request: {err}"));
                    let _ = write_reply(&mut wire.stream, "GET", &reply, false, conn);
                }
                break;
            }
        };
        if !handle(wire, request) {
            break;
        }
    }
}

/// Writes `reply` as the answer to a `method` request.
pub(super) fn write_reply<S: Write>(
    stream: &mut S,
    method: &str,
    reply: &Reply,
    keep_alive: bool,
    conn: &Conn,
) -> io::Result<()> {
    if let Some(raw) = &reply.raw {
        stream.write_all(raw)?;
        return stream.flush();
    }
    let reason = reply
        .reason
        .as_deref()
        .unwrap_or_else(|| net::reason_phrase(reply.status));
    let mut head = format!("HTTP/1.1 {} {reason}\r\n", reply.status);
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    let no_body = net::status_has_no_body(reply.status);
    let framed =
        reply.header("content-length").is_some() || reply.header("transfer-encoding").is_some();
    if !framed && !no_body {
        head.push_str(&format!("Content-Length: {}\r\n", reply.body.len()));
    }
    if !keep_alive && reply.header("connection").is_none() {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    let send_body = !no_body && !method.eq_ignore_ascii_case("HEAD") && !reply.body.is_empty();
    if send_body {
        if !reply.body_delay.is_zero() {
            stream.flush()?;
            if !conn.sleep(reply.body_delay) {
                return Err(io::ErrorKind::Interrupted.into());
            }
        }
        stream.write_all(&reply.body)?;
    }
    stream.flush()
}

/// The text the compression routes send (before compression).
pub const COMPRESSED_TEXT: &str = "compressed hello";
/// Default text for `/charset/{label}`.
pub const CHARSET_DEFAULT_TEXT: &str = "Привет, мир";
/// Body of `/json`.
pub const JSON_BODY: &str = r#"{"success":true,"html_url":"https://example.invalid/1"}"#;
/// Body of `/chunked` (sent in chunks of 5 bytes).
pub const CHUNKED_TEXT: &str = "chunked hello";

/// The default routes:
///
/// | route | answer |
/// | --- | --- |
/// | `/echo` (any method) | 200, body = request body, Content-Type = request's or `application/octet-stream` |
/// | `/status/{code}` | that status, body `status {code}` |
/// | `/redirect/{code}?to=/path` | that status, `Location: /path` (default `/echo`) |
/// | `/redirect-loop` | 302 to `/redirect-loop` |
/// | `/slow/{ms}` | waits, then 200 `slow` |
/// | `/slow-body/{ms}` | head at once, body `slow body` after ms |
/// | `/gzip`, `/deflate`, `/br` | [`COMPRESSED_TEXT`] compressed, matching Content-Encoding |
/// | `/charset/{label}?text=…` | text (default [`CHARSET_DEFAULT_TEXT`]) in that charset |
/// | `/headers` | `X-Test-One: 1`, `X-Test-Two: two`, `Set-Cookie: a=1`, `Set-Cookie: b=2`, body `{}` |
/// | `/binary` | bytes 0..=255, application/octet-stream |
/// | `/bytes/{n}` | n bytes (`i % 256`), application/octet-stream |
/// | `/json` | [`JSON_BODY`], `application/json; charset=utf-8` |
/// | `/chunked` | [`CHUNKED_TEXT`] with `Transfer-Encoding: chunked` |
/// | `/empty` | 204 |
/// | anything else | 404 `not found` |
pub fn default_routes(req: &Recorded) -> Reply {
    let path = req.path();
    let (first, rest) = match path.trim_start_matches('/').split_once('/') {
        Some((first, rest)) => (first, Some(rest)),
        None => (path.trim_start_matches('/'), None),
    };
    match (first, rest) {
        ("echo", None) => {
            let content_type = req
                .header("content-type")
                .unwrap_or("application/octet-stream");
            Reply::new(200)
                .with_header("Content-Type", content_type)
                .with_body(req.body.clone())
        }
        ("status", Some(code)) => match code.parse::<u16>() {
            Ok(code @ 100..=999) => {
                let reply = Reply::new(code);
                if net::status_has_no_body(code) {
                    reply
                } else {
                    reply
                        .with_header("Content-Type", "text/plain; charset=utf-8")
                        .with_body(format!("status {code}"))
                }
            }
            _ => Reply::text(400, "bad status code"),
        },
        ("redirect", Some(code)) => match code.parse::<u16>() {
            Ok(code @ 300..=399) => {
                let to = req.query("to").unwrap_or_else(|| "/echo".into());
                Reply::text(code, "redirect").with_header("Location", to)
            }
            _ => Reply::text(400, "bad redirect code"),
        },
        ("redirect-loop", None) => {
            Reply::text(302, "redirect loop").with_header("Location", "/redirect-loop")
        }
        ("slow", Some(ms)) => match ms.parse::<u64>() {
            Ok(ms) => Reply::text(200, "slow").with_delay(Duration::from_millis(ms)),
            Err(_) => Reply::text(400, "bad delay"),
        },
        ("slow-body", Some(ms)) => match ms.parse::<u64>() {
            Ok(ms) => Reply::text(200, "slow body").with_body_delay(Duration::from_millis(ms)),
            Err(_) => Reply::text(400, "bad delay"),
        },
        ("gzip" | "deflate" | "br", None) => match compress(first, COMPRESSED_TEXT.as_bytes()) {
            Ok(body) => Reply::new(200)
                .with_header("Content-Type", "text/plain; charset=utf-8")
                .with_header("Content-Encoding", first)
                .with_body(body),
            Err(err) => Reply::text(500, format!("compression failed: {err}")),
        },
        ("charset", Some(label)) => {
            let text = req
                .query("text")
                .unwrap_or_else(|| CHARSET_DEFAULT_TEXT.into());
            match encode_text(label, &text) {
                Some(body) => Reply::new(200)
                    .with_header("Content-Type", format!("text/plain; charset={label}"))
                    .with_body(body),
                None => Reply::text(400, format!("unknown charset {label}")),
            }
        }
        ("headers", None) => Reply::json(200, "{}")
            .with_header("X-Test-One", "1")
            .with_header("X-Test-Two", "two")
            .with_header("Set-Cookie", "a=1")
            .with_header("Set-Cookie", "b=2"),
        ("binary", None) => Reply::new(200)
            .with_header("Content-Type", "application/octet-stream")
            .with_body((0..=255u8).collect::<Vec<u8>>()),
        ("bytes", Some(n)) => match n.parse::<usize>() {
            Ok(n) if n <= 64 * 1024 * 1024 => Reply::new(200)
                .with_header("Content-Type", "application/octet-stream")
                .with_body((0..n).map(|i| (i % 256) as u8).collect::<Vec<u8>>()),
            _ => Reply::text(400, "bad size"),
        },
        ("json", None) => Reply::new(200)
            .with_header("Content-Type", "application/json; charset=utf-8")
            .with_body(JSON_BODY),
        ("chunked", None) => Reply::text(200, CHUNKED_TEXT).chunked(5),
        ("empty", None) => Reply::new(204),
        _ => Reply::text(404, "not found"),
    }
}

/// Compresses `data` for the given Content-Encoding (`gzip`, `deflate` as a
/// zlib stream, or `br`).
pub fn compress(encoding: &str, data: &[u8]) -> io::Result<Vec<u8>> {
    use flate2::write::{GzEncoder, ZlibEncoder};
    use flate2::Compression;
    match encoding {
        "gzip" => {
            let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
            encoder.write_all(data)?;
            encoder.finish()
        }
        "deflate" => {
            let mut encoder = ZlibEncoder::new(Vec::new(), Compression::default());
            encoder.write_all(data)?;
            encoder.finish()
        }
        "br" => {
            let mut encoder = brotli::CompressorWriter::new(Vec::new(), 4096, 5, 22);
            encoder.write_all(data)?;
            encoder.flush()?;
            Ok(encoder.into_inner())
        }
        other => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("unknown encoding {other}"),
        )),
    }
}

/// Encodes `text` in the charset called `label` (any WHATWG label known to
/// encoding_rs, plus `utf-16le`/`utf-16be` done by hand since encoding_rs
/// only decodes UTF-16). `None` for unknown labels.
pub fn encode_text(label: &str, text: &str) -> Option<Vec<u8>> {
    let lower = label.trim().to_ascii_lowercase();
    match lower.as_str() {
        "utf-16le" | "utf-16" => Some(text.encode_utf16().flat_map(u16::to_le_bytes).collect()),
        "utf-16be" => Some(text.encode_utf16().flat_map(u16::to_be_bytes).collect()),
        _ => {
            let encoding = encoding_rs::Encoding::for_label(lower.as_bytes())?;
            let (bytes, _, _) = encoding.encode(text);
            Some(bytes.into_owned())
        }
    }
}

/// Accepts TCP connections, reads and discards what arrives, and never
/// writes: connections stay open until the client gives up or the server is
/// dropped. Use it for connect / TLS-handshake / read timeouts.
pub struct StallServer {
    acceptor: Acceptor,
    bytes: Arc<AtomicUsize>,
}

impl StallServer {
    pub fn start() -> Self {
        let bytes = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&bytes);
        let acceptor = Acceptor::start("stall-server", move |mut stream, conn| {
            let mut buf = [0u8; 16 * 1024];
            while !conn.stopping() {
                match stream.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        counter.fetch_add(n, Ordering::SeqCst);
                    }
                    // Idle read timeouts just mean "keep holding".
                    Err(err)
                        if matches!(
                            err.kind(),
                            io::ErrorKind::Interrupted
                                | io::ErrorKind::WouldBlock
                                | io::ErrorKind::TimedOut
                        ) => {}
                    Err(_) => break,
                }
            }
        })
        .expect("start stall server on 127.0.0.1");
        StallServer { acceptor, bytes }
    }

    pub fn port(&self) -> u16 {
        self.acceptor.port()
    }

    pub fn addr(&self) -> SocketAddr {
        self.acceptor.addr()
    }

    /// `http://127.0.0.1:PORT/path`.
    pub fn url(&self, path: &str) -> String {
        let slash = if path.starts_with('/') { "" } else { "/" };
        format!("http://127.0.0.1:{}{slash}{path}", self.port())
    }

    /// `https://localhost:PORT/path` (the handshake will stall).
    pub fn https_url(&self, path: &str) -> String {
        let slash = if path.starts_with('/') { "" } else { "/" };
        format!("https://localhost:{}{slash}{path}", self.port())
    }

    pub fn connections_accepted(&self) -> usize {
        self.acceptor.accepted()
    }

    /// Total bytes received (and discarded) on all connections.
    pub fn bytes_received(&self) -> usize {
        self.bytes.load(Ordering::SeqCst)
    }
}

/// How one [`RawServer`] connection ended.
#[derive(Debug, Clone)]
pub struct RawOutcome {
    /// Connection number on this server (1, 2, … in accept order).
    pub connection_id: u64,
    /// Bytes the handler wrote.
    pub bytes_written: u64,
    /// The error that stopped the handler (the client closed or reset the
    /// connection, a write timed out), or None when it finished on its own.
    pub error: Option<io::ErrorKind>,
    /// When the handler stopped.
    pub ended_at: Instant,
}

/// The socket a [`RawServer`] handler writes to: counts the bytes written
/// and can end the connection with a TCP reset instead of a FIN.
pub struct RawWriter<'a> {
    stream: &'a mut TcpStream,
    conn: &'a Conn,
    written: u64,
}

impl RawWriter<'_> {
    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// True once the server is being dropped.
    pub fn stopping(&self) -> bool {
        self.conn.stopping()
    }

    /// Sleeps, waking early (false) when the server stops.
    pub fn sleep(&self, duration: Duration) -> bool {
        self.conn.sleep(duration)
    }

    /// Makes closing the connection send a TCP RST (SO_LINGER with a zero
    /// timeout), as a server process that crashes mid-response does.
    pub fn reset_on_close(&mut self) -> io::Result<()> {
        SockRef::from(&*self.stream).set_linger(Some(Duration::ZERO))
    }
}

impl Write for RawWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.stream.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

type RawHandler = dyn Fn(&Recorded, &mut RawWriter<'_>) -> io::Result<()> + Send + Sync;

struct RawState {
    handler: Box<RawHandler>,
    requests: Mutex<Vec<Recorded>>,
    outcomes: Mutex<Vec<RawOutcome>>,
    ended: Condvar,
}

/// A plain HTTP server for answers the formatted [`TestServer`] cannot give:
/// it reads one request per connection, records it, and hands the socket to
/// a handler that writes whatever bytes it likes (a body without end, half a
/// body and a reset). Each connection's outcome (bytes written, the error
/// that stopped the handler) is recorded. Stops on drop.
pub struct RawServer {
    acceptor: Acceptor,
    state: Arc<RawState>,
}

impl RawServer {
    pub fn start(
        handler: impl Fn(&Recorded, &mut RawWriter<'_>) -> io::Result<()> + Send + Sync + 'static,
    ) -> Self {
        let state = Arc::new(RawState {
            handler: Box::new(handler),
            requests: Mutex::new(Vec::new()),
            outcomes: Mutex::new(Vec::new()),
            ended: Condvar::new(),
        });
        let conn_state = Arc::clone(&state);
        let acceptor = Acceptor::start("raw-server", move |stream, conn| {
            serve_raw(stream, conn, &conn_state)
        })
        .expect("start raw server on 127.0.0.1");
        RawServer { acceptor, state }
    }

    pub fn port(&self) -> u16 {
        self.acceptor.port()
    }

    /// `http://127.0.0.1:PORT/path`.
    pub fn url(&self, path: &str) -> String {
        let slash = if path.starts_with('/') { "" } else { "/" };
        format!("http://127.0.0.1:{}{slash}{path}", self.port())
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        net::lock(&self.state.requests).clone()
    }

    /// Waits until `n` handlers have ended or `timeout` passed, and returns
    /// the outcomes recorded by then (possibly fewer than `n`).
    pub fn wait_for_outcomes(&self, n: usize, timeout: Duration) -> Vec<RawOutcome> {
        let deadline = Instant::now() + timeout;
        let mut outcomes = net::lock(&self.state.outcomes);
        while outcomes.len() < n {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            outcomes = match self.state.ended.wait_timeout(outcomes, deadline - now) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        outcomes.clone()
    }
}

fn serve_raw(mut tcp: TcpStream, conn: &Conn, state: &RawState) {
    let request = match Wire::new(&mut tcp).read_request() {
        Ok(Some(request)) => request,
        Ok(None) => return,
        Err(err) => {
            conn.log(format_args!("bad request: {err}"));
            return;
        }
    };
    let recorded = Recorded::new(request, conn.id, &PeerInfo::default());
    net::lock(&state.requests).push(recorded.clone());
    let mut writer = RawWriter {
        stream: &mut tcp,
        conn,
        written: 0,
    };
    let result = catch_unwind(AssertUnwindSafe(|| {
        (state.handler)(&recorded, &mut writer).and_then(|()| writer.flush())
    }))
    .unwrap_or_else(|_| Err(io::Error::other("raw handler panicked")));
    let outcome = RawOutcome {
        connection_id: conn.id,
        bytes_written: writer.written,
        error: result.err().map(|e| e.kind()),
        ended_at: Instant::now(),
    };
    net::lock(&state.outcomes).push(outcome);
    state.ended.notify_all();
}
