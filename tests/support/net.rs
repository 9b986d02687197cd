//! Plumbing shared by the test servers: an accept loop that stops cleanly on
//! drop, a buffered HTTP/1.1 wire reader, a byte tunnel and small helpers.
//!
//! Nothing here panics on network errors: a failing connection is logged to
//! stderr (visible with `--nocapture`) and dropped.

use std::collections::HashMap;
use std::fmt::Display;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

/// Read/write timeout applied to every accepted (and every outgoing) socket.
pub const IO_TIMEOUT: Duration = Duration::from_secs(30);
/// Timeout for connections a proxy opens to its targets.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Upper bound for one request or response head.
pub const MAX_HEAD: usize = 64 * 1024;
/// Upper bound for the header fields of one head (or trailer section).
pub const MAX_HEADERS: usize = 256;
/// Upper bound for one request or response body.
pub const MAX_BODY: usize = 256 * 1024 * 1024;
/// Upper bound for requests served on one keep-alive connection.
pub const MAX_REQUESTS_PER_CONNECTION: usize = 10_000;
/// Header fields in order, with their original case.
pub type Headers = Vec<(String, String)>;

/// How long `Drop` waits for threads before detaching them.
const STOP_WAIT: Duration = Duration::from_secs(3);

/// Locks a mutex, ignoring poisoning (a panicking handler must not wedge the
/// whole server).
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Logs a diagnostic line for a test server.
pub fn log(name: &str, msg: impl Display) {
    eprintln!("[test-support {name}] {msg}");
}

/// True for errors that just mean "the peer went away" or "idle timeout".
pub fn is_disconnect(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::NotConnected
            | io::ErrorKind::TimedOut
            | io::ErrorKind::WouldBlock
    )
}

/// Binds a listener on 127.0.0.1:0, reads its port and closes it again, so
/// that connecting to the port is refused (ECONNREFUSED).
pub fn closed_port() -> u16 {
    let listener =
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0 for closed_port");
    listener
        .local_addr()
        .expect("local_addr of closed_port listener")
        .port()
}

/// Waits for a thread to finish for at most `timeout`, then detaches it.
pub fn join_bounded(handle: JoinHandle<()>, timeout: Duration, name: &str) {
    let deadline = Instant::now() + timeout;
    while !handle.is_finished() {
        if Instant::now() >= deadline {
            log(name, "thread did not stop in time; detaching it");
            return;
        }
        thread::sleep(Duration::from_millis(5));
    }
    if handle.join().is_err() {
        log(name, "thread panicked");
    }
}

struct Shared {
    name: &'static str,
    stop: AtomicBool,
    accepted: AtomicUsize,
    active: AtomicUsize,
    next_conn: AtomicU64,
    next_track: AtomicU64,
    streams: Mutex<HashMap<u64, TcpStream>>,
}

/// Per-connection context handed to an [`Acceptor`]'s handler.
pub struct Conn {
    /// Connection number on this server, starting at 1 in accept order.
    pub id: u64,
    shared: Arc<Shared>,
}

impl Conn {
    /// True once the owning server is being dropped.
    pub fn stopping(&self) -> bool {
        self.shared.stop.load(Ordering::SeqCst)
    }

    /// Sleeps for `duration`, waking early when the server stops. Returns
    /// `false` if interrupted.
    pub fn sleep(&self, duration: Duration) -> bool {
        let deadline = Instant::now() + duration;
        loop {
            if self.stopping() {
                return false;
            }
            let now = Instant::now();
            if now >= deadline {
                return true;
            }
            thread::sleep((deadline - now).min(Duration::from_millis(10)));
        }
    }

    /// Registers a clone of `stream` so that it is shut down when the server
    /// stops; the registration ends when the returned guard drops.
    pub fn track(&self, stream: &TcpStream) -> Option<Tracked> {
        let clone = stream.try_clone().ok()?;
        let key = self.shared.next_track.fetch_add(1, Ordering::SeqCst);
        lock(&self.shared.streams).insert(key, clone);
        if self.stopping() {
            let _ = stream.shutdown(Shutdown::Both);
        }
        Some(Tracked {
            key,
            shared: Arc::clone(&self.shared),
        })
    }

    /// Logs a diagnostic line tagged with the server name and connection id.
    pub fn log(&self, msg: impl Display) {
        log(self.shared.name, format_args!("conn {}: {msg}", self.id));
    }
}

/// Guard returned by [`Conn::track`].
pub struct Tracked {
    key: u64,
    shared: Arc<Shared>,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        lock(&self.shared.streams).remove(&self.key);
    }
}

struct ActiveGuard(Arc<Shared>);

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A listener on 127.0.0.1:0 whose accept loop runs `handler` on its own
/// thread for every connection, and which stops everything on drop: it sets a
/// flag, wakes the accept loop by connecting to itself, shuts down every
/// tracked socket and waits (bounded) for the threads.
pub struct Acceptor {
    shared: Arc<Shared>,
    addr: SocketAddr,
    thread: Option<JoinHandle<()>>,
}

impl Acceptor {
    pub fn start<F>(name: &'static str, handler: F) -> io::Result<Acceptor>
    where
        F: Fn(TcpStream, &Conn) + Send + Sync + 'static,
    {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            name,
            stop: AtomicBool::new(false),
            accepted: AtomicUsize::new(0),
            active: AtomicUsize::new(0),
            next_conn: AtomicU64::new(1),
            next_track: AtomicU64::new(1),
            streams: Mutex::new(HashMap::new()),
        });
        let handler = Arc::new(handler);
        let loop_shared = Arc::clone(&shared);
        let thread = thread::Builder::new()
            .name(format!("{name}-accept"))
            .spawn(move || accept_loop(listener, loop_shared, handler))?;
        Ok(Acceptor {
            shared,
            addr,
            thread: Some(thread),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Number of TCP connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.shared.accepted.load(Ordering::SeqCst)
    }
}

fn accept_loop<F>(listener: TcpListener, shared: Arc<Shared>, handler: Arc<F>)
where
    F: Fn(TcpStream, &Conn) + Send + Sync + 'static,
{
    for incoming in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let stream = match incoming {
            Ok(stream) => stream,
            Err(err) => {
                log(shared.name, format_args!("accept failed: {err}"));
                thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        shared.accepted.fetch_add(1, Ordering::SeqCst);
        let id = shared.next_conn.fetch_add(1, Ordering::SeqCst);
        let _ = stream.set_read_timeout(Some(IO_TIMEOUT));
        let _ = stream.set_write_timeout(Some(IO_TIMEOUT));
        let _ = stream.set_nodelay(true);
        shared.active.fetch_add(1, Ordering::SeqCst);
        let conn = Conn {
            id,
            shared: Arc::clone(&shared),
        };
        let handler = Arc::clone(&handler);
        let spawned = thread::Builder::new()
            .name(format!("{}-conn-{id}", shared.name))
            .spawn(move || {
                let _active = ActiveGuard(Arc::clone(&conn.shared));
                let _tracked = conn.track(&stream);
                handler(stream, &conn);
            });
        if let Err(err) = spawned {
            shared.active.fetch_sub(1, Ordering::SeqCst);
            log(shared.name, format_args!("cannot spawn thread: {err}"));
        }
    }
}

impl Drop for Acceptor {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept() so the loop sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(thread) = self.thread.take() {
            join_bounded(thread, STOP_WAIT, self.shared.name);
        }
        for stream in lock(&self.shared.streams).values() {
            let _ = stream.shutdown(Shutdown::Both);
        }
        let deadline = Instant::now() + STOP_WAIT;
        while self.shared.active.load(Ordering::SeqCst) > 0 {
            if Instant::now() >= deadline {
                log(
                    self.shared.name,
                    "connection threads did not stop in time; detaching them",
                );
                break;
            }
            thread::sleep(Duration::from_millis(5));
        }
    }
}

/// A parsed HTTP/1.x request, with the exact bytes it arrived as.
#[derive(Debug, Clone)]
pub struct WireRequest {
    pub method: String,
    pub target: String,
    pub version: String,
    pub headers: Headers,
    /// Decoded body (chunked framing removed).
    pub body: Vec<u8>,
    /// Request line + headers + body exactly as received.
    pub raw: Vec<u8>,
    /// Length of the head (request line and headers, including the blank line) in `raw`.
    pub head_len: usize,
    /// The last request the server takes on this connection
    /// ([`MAX_REQUESTS_PER_CONNECTION`]): its answer says `Connection:
    /// close`, as a real server's does, so that no client sends another
    /// request into a connection that is closing.
    pub last_on_connection: bool,
}

impl WireRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// True if the client asked to close the connection after this request.
    pub fn wants_close(&self) -> bool {
        if self.last_on_connection || has_token(&self.headers, "connection", "close") {
            return true;
        }
        self.version.eq_ignore_ascii_case("HTTP/1.0")
            && !has_token(&self.headers, "connection", "keep-alive")
    }
}

/// A buffered reader/writer over a byte stream that understands HTTP/1.1
/// framing (heads and chunk sizes parsed by `httparse`). Bytes read past the
/// current message stay buffered.
pub struct Wire<S> {
    pub stream: S,
    buf: Vec<u8>,
}

impl<S: Read + Write> Wire<S> {
    pub fn new(stream: S) -> Self {
        Wire {
            stream,
            buf: Vec::new(),
        }
    }

    /// Hands over whatever was read but not consumed yet.
    pub fn take_buffered(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }

    fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk)?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    /// Waits for the start of the next message. False if the peer closed
    /// (or went idle) before sending anything.
    fn next_message(&mut self) -> io::Result<bool> {
        loop {
            // Tolerate stray CRLFs between messages (RFC 9112 section 2.2).
            while self.buf.starts_with(b"\r\n") {
                self.buf.drain(..2);
            }
            if !self.buf.is_empty() {
                return Ok(true);
            }
            match self.fill() {
                Ok(0) => return Ok(false),
                Ok(_) => {}
                Err(err) if is_disconnect(&err) => return Ok(false),
                Err(err) => return Err(err),
            }
        }
    }

    /// Reads until `parse` finds a complete item at the start of the buffer
    /// and tells its length; consumes and returns those bytes with the item.
    fn read_parsed<T>(
        &mut self,
        mut parse: impl FnMut(&[u8]) -> io::Result<Option<(usize, T)>>,
    ) -> io::Result<(Vec<u8>, T)> {
        loop {
            if let Some((len, item)) = parse(&self.buf)? {
                return Ok((self.buf.drain(..len).collect(), item));
            }
            if self.buf.len() > MAX_HEAD {
                return Err(invalid("message head too large"));
            }
            if self.fill()? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
    }

    /// Reads exactly `n` bytes.
    pub fn read_n(&mut self, n: usize) -> io::Result<Vec<u8>> {
        if n > MAX_BODY {
            return Err(invalid("body too large"));
        }
        while self.buf.len() < n {
            if self.fill()? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
        Ok(self.buf.drain(..n).collect())
    }

    /// Reads a chunked body; returns (decoded, raw bytes including framing
    /// and trailers).
    pub fn read_chunked(&mut self) -> io::Result<(Vec<u8>, Vec<u8>)> {
        let mut decoded = Vec::new();
        let mut raw = Vec::new();
        loop {
            let (line, size) = self.read_parsed(|buf| match httparse::parse_chunk_size(buf) {
                Ok(httparse::Status::Complete(found)) => Ok(Some(found)),
                Ok(httparse::Status::Partial) => Ok(None),
                Err(_) => Err(invalid("bad chunk size")),
            })?;
            raw.extend_from_slice(&line);
            if size == 0 {
                // The trailer section, ending with an empty line.
                let (trailers, ()) = self.read_parsed(|buf| {
                    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
                    match httparse::parse_headers(buf, &mut slots).map_err(malformed)? {
                        httparse::Status::Complete((len, _)) => Ok(Some((len, ()))),
                        httparse::Status::Partial => Ok(None),
                    }
                })?;
                raw.extend_from_slice(&trailers);
                return Ok((decoded, raw));
            }
            let size = usize::try_from(size).map_err(|_| invalid("chunk too large"))?;
            if decoded.len().saturating_add(size) > MAX_BODY {
                return Err(invalid("chunked body too large"));
            }
            let data = self.read_n(size + 2)?;
            if !data.ends_with(b"\r\n") {
                return Err(invalid("chunk not followed by CRLF"));
            }
            decoded.extend_from_slice(&data[..size]);
            raw.extend_from_slice(&data);
        }
    }

    /// Reads until the peer closes.
    pub fn read_to_end(&mut self) -> io::Result<Vec<u8>> {
        loop {
            if self.buf.len() > MAX_BODY {
                return Err(invalid("body too large"));
            }
            match self.fill() {
                Ok(0) => break,
                Ok(_) => {}
                Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => break,
                Err(err) => return Err(err),
            }
        }
        Ok(std::mem::take(&mut self.buf))
    }

    /// Reads one request, answering `Expect: 100-continue` with an interim
    /// `100 Continue` before reading the body. Returns `None` when the peer
    /// closed the connection cleanly.
    pub fn read_request(&mut self) -> io::Result<Option<WireRequest>> {
        if !self.next_message()? {
            return Ok(None);
        }
        let (head, (method, target, version, headers)) = self.read_parsed(|buf| {
            let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut request = httparse::Request::new(&mut slots);
            let httparse::Status::Complete(len) = request.parse(buf).map_err(malformed)? else {
                return Ok(None);
            };
            let method = request.method.unwrap_or_default().to_string();
            let target = request.path.unwrap_or_default().to_string();
            let version = format!("HTTP/1.{}", request.version.unwrap_or_default());
            Ok(Some((
                len,
                (method, target, version, owned(request.headers)),
            )))
        })?;
        if header(&headers, "expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue")) {
            self.stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
            self.stream.flush()?;
        }
        let (body, body_raw) = self.read_body(&headers, BodyKind::Request)?;
        let head_len = head.len();
        let mut raw = head;
        raw.extend_from_slice(&body_raw);
        Ok(Some(WireRequest {
            method,
            target,
            version,
            headers,
            body,
            raw,
            head_len,
            last_on_connection: false,
        }))
    }

    /// Reads one response head: its bytes, the status code and the headers.
    /// Returns `None` when the peer closed before answering.
    pub fn read_response_head(&mut self) -> io::Result<Option<(Vec<u8>, u16, Headers)>> {
        if !self.next_message()? {
            return Ok(None);
        }
        let (head, (status, headers)) = self.read_parsed(|buf| {
            let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut response = httparse::Response::new(&mut slots);
            let httparse::Status::Complete(len) = response.parse(buf).map_err(malformed)? else {
                return Ok(None);
            };
            let status = response.code.unwrap_or_default();
            Ok(Some((len, (status, owned(response.headers)))))
        })?;
        Ok(Some((head, status, headers)))
    }

    /// Reads a message body framed by `headers`; returns (decoded, raw).
    pub fn read_body(
        &mut self,
        headers: &[(String, String)],
        kind: BodyKind,
    ) -> io::Result<(Vec<u8>, Vec<u8>)> {
        if kind == BodyKind::None {
            return Ok((Vec::new(), Vec::new()));
        }
        if let Some(te) = header(headers, "transfer-encoding") {
            let last = te.rsplit(',').next().unwrap_or("").trim();
            if last.eq_ignore_ascii_case("chunked") {
                return self.read_chunked();
            }
            if kind == BodyKind::Request {
                return Err(invalid("request transfer-encoding is not chunked"));
            }
            let body = self.read_to_end()?;
            return Ok((body.clone(), body));
        }
        if let Some(len) = header(headers, "content-length") {
            let len: usize = len
                .trim()
                .parse()
                .map_err(|_| invalid("bad content-length"))?;
            let body = self.read_n(len)?;
            return Ok((body.clone(), body));
        }
        match kind {
            BodyKind::ResponseUntilClose => {
                let body = self.read_to_end()?;
                Ok((body.clone(), body))
            }
            _ => Ok((Vec::new(), Vec::new())),
        }
    }
}

/// How a message body is delimited when neither Transfer-Encoding nor
/// Content-Length say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// A request: no framing header means no body.
    Request,
    /// A response that may run until the connection closes.
    ResponseUntilClose,
    /// No body at all (HEAD responses, 1xx, 204, 304).
    None,
}

/// Header fields as owned pairs, values without surrounding blanks.
fn owned(headers: &[httparse::Header<'_>]) -> Headers {
    headers
        .iter()
        .map(|h| {
            let value = String::from_utf8_lossy(h.value);
            (
                h.name.to_string(),
                value.trim_matches([' ', '\t']).to_string(),
            )
        })
        .collect()
}

fn malformed(err: httparse::Error) -> io::Error {
    invalid(format!("malformed message head: {err}"))
}

/// First header called `name` (case-insensitive).
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// True if any `name` header lists `token` in its comma-separated value.
pub fn has_token(headers: &[(String, String)], name: &str, token: &str) -> bool {
    headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .flat_map(|(_, v)| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

pub fn invalid(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

/// The `Proxy-Authorization`/`Authorization` value for HTTP Basic credentials.
pub fn basic_auth_value(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

/// True if `value` is a Basic credential equal to `expected` (as built by
/// [`basic_auth_value`]); the scheme name is case-insensitive.
pub fn basic_auth_matches(value: &str, expected: &str) -> bool {
    match (value.trim().split_once(' '), expected.split_once(' ')) {
        (Some((scheme, cred)), Some((_, want))) => {
            scheme.eq_ignore_ascii_case("basic") && cred.trim() == want
        }
        _ => false,
    }
}

/// Resolves a proxy target, allowing loopback only: IP literals must be
/// loopback; `localhost`, `*.localhost` and `*.test` map to 127.0.0.1. Any
/// other name is refused, so a proxy can never reach outside this machine.
pub fn resolve_loopback(host: &str, port: u16) -> Option<SocketAddr> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = host.parse::<IpAddr>() {
        return ip.is_loopback().then_some(SocketAddr::new(ip, port));
    }
    let lower = host.to_ascii_lowercase();
    let lower = lower.trim_end_matches('.');
    (lower == "localhost" || lower.ends_with(".localhost") || lower.ends_with(".test"))
        .then_some(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port))
}

/// Splits `host:port` / `[v6]:port` (port required unless `default_port`).
pub fn split_host_port(authority: &str, default_port: Option<u16>) -> Option<(String, u16)> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        (host, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let port = match port {
        Some(p) => p.parse().ok()?,
        None => default_port?,
    };
    (!host.is_empty()).then(|| (host.to_string(), port))
}

/// Opens a connection to `addr` with the standard timeouts.
pub fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
    let stream = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT)?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

/// Relays bytes both ways between `client` and `target` until both directions
/// finish. `leftover` (bytes already read from the client) goes first.
pub fn tunnel(client: &TcpStream, leftover: &[u8], target: TcpStream, conn: &Conn) {
    let _tracked = conn.track(&target);
    if let Err(err) = (&target).write_all(leftover) {
        conn.log(format_args!("tunnel write failed: {err}"));
        return;
    }
    thread::scope(|scope| {
        scope.spawn(|| pump(client, &target));
        pump(&target, client);
    });
}

/// Copies `from` → `to`; on EOF half-closes `to`, on error closes both.
fn pump(mut from: &TcpStream, mut to: &TcpStream) {
    if io::copy(&mut from, &mut to).is_ok() {
        let _ = to.shutdown(Shutdown::Write);
    } else {
        let _ = from.shutdown(Shutdown::Both);
        let _ = to.shutdown(Shutdown::Both);
    }
}

/// The standard reason phrase for `status`.
pub fn reason_phrase(status: u16) -> &'static str {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|code| code.canonical_reason())
        .unwrap_or("Status")
}

/// True for statuses whose responses never carry a body.
pub fn status_has_no_body(status: u16) -> bool {
    (100..200).contains(&status) || status == 204 || status == 304
}
