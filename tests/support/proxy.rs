//! An HTTP forward proxy (absolute-form requests and CONNECT tunnels) and a
//! SOCKS5 proxy (RFC 1928 CONNECT, RFC 1929 username/password), both on
//! 127.0.0.1 and both stopping on drop.
//!
//! For safety both proxies only reach loopback targets: IP literals must be
//! loopback, and the names `localhost`, `*.localhost` and `*.test` resolve to
//! 127.0.0.1 (handy for proving that a name was resolved by the proxy, as
//! with `socks5h://`). Anything else is refused (HTTP 403 / SOCKS reply 2).

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::net::{self, Acceptor, BodyKind, Conn, Wire, WireRequest};
use super::server::{serve_requests, write_reply, Reply};

/// One request as the HTTP proxy received it.
#[derive(Debug, Clone)]
pub struct ProxyRecord {
    pub method: String,
    /// Absolute URL for forwarded requests, `host:port` for CONNECT.
    pub target: String,
    /// The `Proxy-Authorization` header, if sent.
    pub proxy_authorization: Option<String>,
    /// Whether the request passed the proxy's auth check.
    pub authorized: bool,
    /// All request headers as received (including `Proxy-Authorization`).
    pub headers: Vec<(String, String)>,
    /// Client connection number on the proxy (1, 2, … in accept order).
    pub connection_id: u64,
}

struct HttpProxyState {
    expected_auth: Option<String>,
    records: Mutex<Vec<ProxyRecord>>,
}

/// HTTP forward proxy: relays `GET http://host:port/path HTTP/1.1`-style
/// requests (one upstream connection per request, client side keep-alive)
/// and tunnels `CONNECT host:port`. With `require_auth`, requests without the
/// right `Proxy-Authorization: Basic …` get 407.
pub struct HttpProxy {
    acceptor: Acceptor,
    state: Arc<HttpProxyState>,
}

impl HttpProxy {
    pub fn start(require_auth: Option<(&str, &str)>) -> Self {
        let state = Arc::new(HttpProxyState {
            expected_auth: require_auth.map(|(user, pass)| net::basic_auth_value(user, pass)),
            records: Mutex::new(Vec::new()),
        });
        let conn_state = Arc::clone(&state);
        let acceptor = Acceptor::start("http-proxy", move |stream, conn| {
            serve_http_proxy(stream, conn, &conn_state)
        })
        .expect("start HTTP proxy on 127.0.0.1");
        HttpProxy { acceptor, state }
    }

    pub fn port(&self) -> u16 {
        self.acceptor.port()
    }

    pub fn addr(&self) -> SocketAddr {
        self.acceptor.addr()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port())
    }

    /// `http://user:pass@127.0.0.1:PORT` (no percent-encoding is applied).
    pub fn url_with_auth(&self, user: &str, pass: &str) -> String {
        format!("http://{user}:{pass}@127.0.0.1:{}", self.port())
    }

    /// Every request received so far (also the rejected ones).
    pub fn requests(&self) -> Vec<ProxyRecord> {
        net::lock(&self.state.records).clone()
    }

    pub fn connections_accepted(&self) -> usize {
        self.acceptor.accepted()
    }
}

/// Answers with `status` and a short text body of the proxy's own.
fn send_simple(stream: &mut TcpStream, status: u16, close: bool, conn: &Conn) -> io::Result<()> {
    let body = format!("proxy: {}", net::reason_phrase(status));
    let mut reply = Reply::new(status)
        .with_header("Content-Type", "text/plain")
        .with_body(body);
    if status == 407 {
        reply = reply.with_header("Proxy-Authenticate", r#"Basic realm="test-proxy""#);
    }
    write_reply(stream, "GET", &reply, !close, conn)
}

fn serve_http_proxy(stream: TcpStream, conn: &Conn, state: &HttpProxyState) {
    let mut wire = Wire::new(stream);
    serve_requests(&mut wire, conn, |wire, request| {
        proxy_request(wire, &request, conn, state)
    });
    let _ = wire.stream.shutdown(Shutdown::Write);
}

/// Records, checks and serves one proxy request; returns whether the client
/// connection stays open for another.
fn proxy_request(
    wire: &mut Wire<TcpStream>,
    request: &WireRequest,
    conn: &Conn,
    state: &HttpProxyState,
) -> bool {
    let proxy_authorization = request.header("proxy-authorization").map(str::to_string);
    let authorized = state.expected_auth.as_deref().is_none_or(|expected| {
        proxy_authorization
            .as_deref()
            .is_some_and(|value| net::basic_auth_matches(value, expected))
    });
    net::lock(&state.records).push(ProxyRecord {
        method: request.method.clone(),
        target: request.target.clone(),
        proxy_authorization,
        authorized,
        headers: request.headers.clone(),
        connection_id: conn.id,
    });
    let keep_alive = !request.wants_close();
    if !authorized {
        return send_simple(&mut wire.stream, 407, !keep_alive, conn).is_ok() && keep_alive;
    }
    if request.method.eq_ignore_ascii_case("CONNECT") {
        let Some(addr) = net::split_host_port(&request.target, None)
            .and_then(|(host, port)| net::resolve_loopback(&host, port))
        else {
            let _ = send_simple(&mut wire.stream, 403, true, conn);
            return false;
        };
        let upstream = match net::connect(addr) {
            Ok(upstream) => upstream,
            Err(err) => {
                conn.log(format_args!("CONNECT {addr} failed: {err}"));
                let _ = send_simple(&mut wire.stream, 502, true, conn);
                return false;
            }
        };
        let established = wire
            .stream
            .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
            .and_then(|()| wire.stream.flush());
        if established.is_ok() {
            let leftover = wire.take_buffered();
            net::tunnel(&wire.stream, &leftover, upstream, conn);
        }
        return false;
    }
    match forward(request, &mut wire.stream, conn) {
        Ok(relayed) => relayed && keep_alive,
        Err(err) => {
            if !net::is_disconnect(&err) {
                conn.log(format_args!("relay failed: {err}"));
            }
            false
        }
    }
}

/// Forwards one absolute-form request and relays the answer. Returns whether
/// the client connection may be kept alive. Failures before anything was
/// relayed are answered with 400/403/502.
fn forward(request: &WireRequest, client: &mut TcpStream, conn: &Conn) -> io::Result<bool> {
    let target = &request.target;
    let rest = match target.get(..7) {
        Some(scheme) if scheme.eq_ignore_ascii_case("http://") => &target[7..],
        _ => {
            send_simple(client, 400, true, conn)?;
            return Ok(false);
        }
    };
    let split = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(split);
    let path = match path {
        "" => "/".to_string(),
        p if p.starts_with('?') => format!("/{p}"),
        p => p.to_string(),
    };
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let Some(addr) = net::split_host_port(authority, Some(80))
        .and_then(|(host, port)| net::resolve_loopback(&host, port))
    else {
        send_simple(client, 403, true, conn)?;
        return Ok(false);
    };
    let mut upstream = match net::connect(addr) {
        Ok(upstream) => upstream,
        Err(err) => {
            conn.log(format_args!("connect to {addr} failed: {err}"));
            send_simple(client, 502, true, conn)?;
            return Ok(false);
        }
    };
    let _tracked = conn.track(&upstream);

    let mut head = format!("{} {path} {}\r\n", request.method, request.version);
    for (name, value) in &request.headers {
        let hop = ["proxy-authorization", "proxy-connection", "expect"];
        if !hop.iter().any(|h| name.eq_ignore_ascii_case(h)) {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(&request.raw[request.head_len..]);
    if let Err(err) = upstream.write_all(&out).and_then(|()| upstream.flush()) {
        conn.log(format_args!("write to {addr} failed: {err}"));
        send_simple(client, 502, true, conn)?;
        return Ok(false);
    }

    let is_head = request.method.eq_ignore_ascii_case("HEAD");
    let mut upstream = Wire::new(upstream);
    for _ in 0..16 {
        let Ok(Some((head, status, headers))) = upstream.read_response_head() else {
            send_simple(client, 502, true, conn)?;
            return Ok(false);
        };
        client.write_all(&head)?;
        if (100..200).contains(&status) && status != 101 {
            client.flush()?;
            continue;
        }
        let framed = net::header(&headers, "content-length").is_some()
            || net::header(&headers, "transfer-encoding").is_some();
        let kind = if is_head || net::status_has_no_body(status) {
            BodyKind::None
        } else {
            BodyKind::ResponseUntilClose
        };
        let (_, raw) = upstream.read_body(&headers, kind)?;
        client.write_all(&raw)?;
        client.flush()?;
        let until_close = kind == BodyKind::ResponseUntilClose && !framed;
        return Ok(!until_close && !net::has_token(&headers, "connection", "close"));
    }
    Ok(false)
}

/// The address type a SOCKS5 client used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocksAddressType {
    Ipv4,
    Domain,
    Ipv6,
}

/// One SOCKS5 request as received.
#[derive(Debug, Clone)]
pub struct SocksRecord {
    /// `host:port` as requested (`[v6]:port` for IPv6, the name for domains).
    pub target: String,
    /// Username from RFC 1929 authentication, if used.
    pub username: Option<String>,
    pub address_type: SocksAddressType,
    /// SOCKS command (1 = CONNECT; others are refused with reply 7).
    pub command: u8,
    /// Reply code sent (0 = succeeded).
    pub reply: u8,
    pub connection_id: u64,
}

struct SocksState {
    auth: Option<(String, String)>,
    records: Mutex<Vec<SocksRecord>>,
    auth_failures: AtomicUsize,
}

/// SOCKS5 proxy: CONNECT only; method 0x00 (no auth) or 0x02
/// (username/password, RFC 1929); IPv4, domain and IPv6 addresses.
/// With `require_auth` only method 0x02 with those credentials is accepted;
/// without it, 0x00 is preferred and 0x02 accepts any credentials.
pub struct Socks5Proxy {
    acceptor: Acceptor,
    state: Arc<SocksState>,
}

impl Socks5Proxy {
    pub fn start(require_auth: Option<(&str, &str)>) -> Self {
        let state = Arc::new(SocksState {
            auth: require_auth.map(|(u, p)| (u.to_string(), p.to_string())),
            records: Mutex::new(Vec::new()),
            auth_failures: AtomicUsize::new(0),
        });
        let conn_state = Arc::clone(&state);
        let acceptor = Acceptor::start("socks5-proxy", move |stream, conn| {
            serve_socks(stream, conn, &conn_state)
        })
        .expect("start SOCKS5 proxy on 127.0.0.1");
        Socks5Proxy { acceptor, state }
    }

    pub fn port(&self) -> u16 {
        self.acceptor.port()
    }

    pub fn addr(&self) -> SocketAddr {
        self.acceptor.addr()
    }

    /// `socks5://127.0.0.1:PORT` (client resolves names).
    pub fn url(&self) -> String {
        format!("socks5://127.0.0.1:{}", self.port())
    }

    /// `socks5h://127.0.0.1:PORT` (proxy resolves names).
    pub fn url_h(&self) -> String {
        format!("socks5h://127.0.0.1:{}", self.port())
    }

    /// `{scheme}://user:pass@127.0.0.1:PORT`, scheme `socks5` or `socks5h`.
    pub fn url_with_auth(&self, scheme: &str, user: &str, pass: &str) -> String {
        format!("{scheme}://{user}:{pass}@127.0.0.1:{}", self.port())
    }

    /// Every CONNECT (or other command) request received after a successful
    /// method negotiation, in order.
    pub fn connects(&self) -> Vec<SocksRecord> {
        net::lock(&self.state.records).clone()
    }

    pub fn connections_accepted(&self) -> usize {
        self.acceptor.accepted()
    }

    /// Clients rejected for missing or wrong credentials.
    pub fn auth_failures(&self) -> usize {
        self.state.auth_failures.load(Ordering::SeqCst)
    }
}

fn serve_socks(mut stream: TcpStream, conn: &Conn, state: &SocksState) {
    match negotiate(&mut stream, conn, state) {
        Ok(Some(upstream)) => net::tunnel(&stream, &[], upstream, conn),
        Ok(None) => {
            let _ = stream.shutdown(Shutdown::Write);
        }
        Err(err) => {
            if !net::is_disconnect(&err) {
                conn.log(format_args!("SOCKS negotiation failed: {err}"));
            }
        }
    }
}

fn read_bytes(stream: &mut TcpStream, n: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; n];
    stream.read_exact(&mut buf)?;
    Ok(buf)
}

fn read_array<const N: usize>(stream: &mut TcpStream) -> io::Result<[u8; N]> {
    let mut buf = [0u8; N];
    stream.read_exact(&mut buf)?;
    Ok(buf)
}

/// RFC 1929 sub-negotiation: returns (username, password).
fn read_user_pass(stream: &mut TcpStream) -> io::Result<(String, String)> {
    let [version, ulen] = read_array::<2>(stream)?;
    if version != 1 {
        return Err(net::invalid("bad username/password version"));
    }
    let user = read_bytes(stream, usize::from(ulen))?;
    let [plen] = read_array::<1>(stream)?;
    let pass = read_bytes(stream, usize::from(plen))?;
    Ok((
        String::from_utf8_lossy(&user).into_owned(),
        String::from_utf8_lossy(&pass).into_owned(),
    ))
}

fn send_reply(stream: &mut TcpStream, code: u8, bound: Option<SocketAddr>) -> io::Result<()> {
    let mut reply = vec![5, code, 0];
    match bound {
        Some(SocketAddr::V6(addr)) => {
            reply.push(4);
            reply.extend_from_slice(&addr.ip().octets());
            reply.extend_from_slice(&addr.port().to_be_bytes());
        }
        Some(SocketAddr::V4(addr)) => {
            reply.push(1);
            reply.extend_from_slice(&addr.ip().octets());
            reply.extend_from_slice(&addr.port().to_be_bytes());
        }
        None => reply.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0]),
    }
    stream.write_all(&reply)?;
    stream.flush()
}

/// Runs the SOCKS5 handshake; returns the upstream connection on success.
fn negotiate(
    stream: &mut TcpStream,
    conn: &Conn,
    state: &SocksState,
) -> io::Result<Option<TcpStream>> {
    let [version, nmethods] = read_array::<2>(stream)?;
    if version != 5 {
        return Ok(None);
    }
    let methods = read_bytes(stream, usize::from(nmethods))?;
    let username = match &state.auth {
        Some((user, pass)) => {
            if !methods.contains(&2) {
                state.auth_failures.fetch_add(1, Ordering::SeqCst);
                stream.write_all(&[5, 0xFF])?;
                return Ok(None);
            }
            stream.write_all(&[5, 2])?;
            let (got_user, got_pass) = read_user_pass(stream)?;
            if &got_user != user || &got_pass != pass {
                state.auth_failures.fetch_add(1, Ordering::SeqCst);
                stream.write_all(&[1, 1])?;
                return Ok(None);
            }
            stream.write_all(&[1, 0])?;
            Some(got_user)
        }
        None if methods.contains(&0) => {
            stream.write_all(&[5, 0])?;
            None
        }
        None if methods.contains(&2) => {
            stream.write_all(&[5, 2])?;
            let (got_user, _) = read_user_pass(stream)?;
            stream.write_all(&[1, 0])?;
            Some(got_user)
        }
        None => {
            stream.write_all(&[5, 0xFF])?;
            return Ok(None);
        }
    };

    let [version, command, _reserved, atyp] = read_array::<4>(stream)?;
    if version != 5 {
        return Ok(None);
    }
    let (host, address_type) = match atyp {
        1 => {
            let octets = read_array::<4>(stream)?;
            (Ipv4Addr::from(octets).to_string(), SocksAddressType::Ipv4)
        }
        3 => {
            let [len] = read_array::<1>(stream)?;
            let name = read_bytes(stream, usize::from(len))?;
            (
                String::from_utf8_lossy(&name).into_owned(),
                SocksAddressType::Domain,
            )
        }
        4 => {
            let octets = read_array::<16>(stream)?;
            (Ipv6Addr::from(octets).to_string(), SocksAddressType::Ipv6)
        }
        _ => {
            send_reply(stream, 8, None)?;
            return Ok(None);
        }
    };
    let [hi, lo] = read_array::<2>(stream)?;
    let port = u16::from_be_bytes([hi, lo]);
    let target = if address_type == SocksAddressType::Ipv6 {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };

    let (reply, upstream) = if command != 1 {
        (7, None)
    } else {
        match net::resolve_loopback(&host, port) {
            None => (2, None),
            Some(addr) => match net::connect(addr) {
                Ok(upstream) => (0, Some(upstream)),
                Err(err) => {
                    conn.log(format_args!("SOCKS connect to {addr} failed: {err}"));
                    let code = match err.kind() {
                        io::ErrorKind::ConnectionRefused => 5,
                        io::ErrorKind::TimedOut => 6,
                        _ if addr.ip() == IpAddr::V6(Ipv6Addr::LOCALHOST) => 4,
                        _ => 1,
                    };
                    (code, None)
                }
            },
        }
    };
    net::lock(&state.records).push(SocksRecord {
        target,
        username,
        address_type,
        command,
        reply,
        connection_id: conn.id,
    });
    let bound = upstream.as_ref().and_then(|s| s.local_addr().ok());
    send_reply(stream, reply, bound)?;
    Ok(upstream)
}
