//! What can go wrong before a response arrives. Every variant names the
//! (redacted) URL it concerns where there is one; `Display` gives the English
//! text, and the add-in's message table translates the same structure.

use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::time::Duration;

/// A setting that could not be applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setting {
    TrustedCertificates,
    ClientCertificate,
    Proxy,
}

impl Setting {
    pub fn name(self) -> &'static str {
        match self {
            Setting::TrustedCertificates => "TrustedCertificates",
            Setting::ClientCertificate => "ClientCertificate",
            Setting::Proxy => "Proxy",
        }
    }
}

/// Which limit ran out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeoutPhase {
    /// `ConnectTimeout`: TCP connect plus TLS handshake.
    Connect,
    /// `Timeout`: the whole request.
    Request,
}

/// Why a connection could not be made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnectCause {
    Refused,
    Reset,
    Dns,
    Unreachable,
    Proxy(String),
    Other(String),
}

/// Why TLS failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TlsCause {
    UnknownIssuer,
    Expired,
    NameMismatch,
    /// The server rejected us, e.g. it wants a client certificate.
    HandshakeRejected(String),
    Other(String),
}

/// An HTTP core failure.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The URL is empty.
    EmptyUrl,
    /// The URL does not parse or has no host.
    InvalidUrl { url: String, reason: String },
    /// Only http and https are sent.
    UnsupportedScheme { url: String, scheme: String },
    /// The method is not one of GET, HEAD, PUT, PATCH, DELETE, OPTIONS, POST.
    InvalidMethod { method: String },
    /// A header name is not a valid token.
    InvalidHeaderName { name: String },
    /// A header value has a control character or a non-Latin-1 byte.
    InvalidHeaderValue { name: String },
    /// A setting (certificates, proxy) cannot be used.
    Setting { setting: Setting, detail: String },
    /// No connection could be made.
    Connect { url: String, cause: ConnectCause },
    /// A limit ran out.
    Timeout {
        url: String,
        phase: TimeoutPhase,
        after: Option<Duration>,
    },
    /// TLS handshake or certificate verification failed.
    Tls { url: String, cause: TlsCause },
    /// More than [`super::MAX_REDIRECTS`] redirects.
    TooManyRedirects { url: String },
    /// The response body is longer than the limit.
    ResponseTooLarge { url: String, limit: u64 },
    /// The connection broke while the body was being read or sent.
    Transfer {
        url: String,
        cause: TransferCause,
        /// Response body bytes that arrived before it broke, when the
        /// response had begun.
        received: Option<u64>,
        /// The response's Content-Length, when it announced one.
        expected: Option<u64>,
    },
}

/// Why a transfer broke.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransferCause {
    /// The server reset the connection (or the pipe broke under us).
    Reset,
    /// The server closed the connection before the whole message.
    Closed,
    /// Anything else, in the HTTP library's words.
    Other(String),
}

impl TransferCause {
    fn of(kind: Option<io::ErrorKind>, chain: String) -> TransferCause {
        match kind {
            Some(
                io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::BrokenPipe,
            ) => TransferCause::Reset,
            Some(io::ErrorKind::UnexpectedEof) => TransferCause::Closed,
            _ if chain.contains("connection closed before message completed")
                || chain.contains("end of file before message length reached") =>
            {
                TransferCause::Closed
            }
            _ => TransferCause::Other(chain),
        }
    }
}

/// How much of the response arrived, for transfer texts: `1000 of 100000`,
/// or `1000` without a Content-Length.
pub fn progress(received: Option<u64>, expected: Option<u64>, of: &str) -> Option<String> {
    match (received, expected) {
        (Some(r), Some(e)) => Some(format!("{r} {of} {e}")),
        (Some(r), None) => Some(r.to_string()),
        _ => None,
    }
}

impl Error {
    /// Adds how much of the body had arrived to a transfer failure.
    pub(crate) fn with_progress(self, got: u64, length: Option<u64>) -> Error {
        match self {
            Error::Transfer { url, cause, .. } => Error::Transfer {
                url,
                cause,
                received: Some(got),
                expected: length,
            },
            other => other,
        }
    }
}

/// Seconds as texts show them: `30`, `1.5`, `?` when there is no limit.
pub fn seconds(d: Option<Duration>) -> String {
    match d {
        Some(d) => {
            let s = d.as_secs_f64();
            if s.fract() == 0.0 {
                format!("{s:.0}")
            } else {
                format!("{s}")
            }
        }
        None => "?".into(),
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::EmptyUrl => write!(f, "the URL is empty"),
            Error::InvalidUrl { url, reason } => write!(f, "invalid URL \"{url}\": {reason}"),
            Error::UnsupportedScheme { url, scheme } => write!(
                f,
                "unsupported URL scheme \"{scheme}\" in {url}: only http and https are supported"
            ),
            Error::InvalidMethod { method } => write!(
                f,
                "unsupported HTTP method \"{method}\": use GET, HEAD, PUT, PATCH, DELETE, OPTIONS or POST"
            ),
            Error::InvalidHeaderName { name } => write!(f, "invalid header name \"{name}\""),
            Error::InvalidHeaderValue { name } => write!(
                f,
                "invalid value of header \"{name}\": line breaks and control characters are not allowed"
            ),
            Error::Setting { setting, detail } => write!(f, "{}: {detail}", setting.name()),
            Error::Connect { url, cause } => {
                write!(f, "could not connect to {url}: ")?;
                match cause {
                    ConnectCause::Refused => write!(f, "connection refused"),
                    ConnectCause::Reset => write!(f, "connection reset by the server"),
                    ConnectCause::Dns => write!(f, "the host name could not be resolved"),
                    ConnectCause::Unreachable => write!(f, "the network or host is unreachable"),
                    ConnectCause::Proxy(d) => write!(f, "proxy error: {d}"),
                    ConnectCause::Other(d) => write!(f, "{d}"),
                }
            }
            Error::Timeout { url, phase, after } => match phase {
                TimeoutPhase::Connect => write!(
                    f,
                    "could not connect to {url} within {} s (ConnectTimeout)",
                    seconds(*after)
                ),
                TimeoutPhase::Request => write!(
                    f,
                    "request to {url} timed out after {} s (Timeout)",
                    seconds(*after)
                ),
            },
            Error::Tls { url, cause } => {
                write!(f, "TLS error with {url}: ")?;
                match cause {
                    TlsCause::UnknownIssuer => write!(
                        f,
                        "the server certificate is not trusted (unknown issuer); add its CA with TrustedCertificates"
                    ),
                    TlsCause::Expired => write!(f, "the server certificate has expired or is not yet valid"),
                    TlsCause::NameMismatch => {
                        write!(f, "the server certificate is not valid for this host name")
                    }
                    TlsCause::HandshakeRejected(d) => write!(
                        f,
                        "the server rejected the connection ({d}); check ClientCertificate"
                    ),
                    TlsCause::Other(d) => write!(f, "{d}"),
                }
            }
            Error::TooManyRedirects { url } => write!(
                f,
                "too many redirects (more than {}) starting at {url}",
                super::MAX_REDIRECTS
            ),
            Error::ResponseTooLarge { url, limit } => write!(
                f,
                "the response from {url} is larger than MaxResponseSize ({limit} bytes); raise MaxResponseSize, or set it to 0 for no limit"
            ),
            Error::Transfer {
                url,
                cause,
                received,
                expected,
            } => {
                write!(f, "the connection to {url} broke during the transfer: ")?;
                let done = progress(*received, *expected, "of");
                match (cause, done) {
                    (TransferCause::Reset, Some(done)) => write!(
                        f,
                        "the server reset the connection after {done} bytes of the response"
                    ),
                    (TransferCause::Reset, None) => f.write_str("the server reset the connection"),
                    (TransferCause::Closed, Some(done)) => write!(
                        f,
                        "the server closed the connection before the whole response arrived ({done} bytes)"
                    ),
                    (TransferCause::Closed, None) => f.write_str(
                        "the server closed the connection before the whole response arrived",
                    ),
                    (TransferCause::Other(detail), _) => f.write_str(detail),
                }
            }
        }
    }
}

impl StdError for Error {}

/// Turns a reqwest failure into our structure by walking its causes.
pub(crate) fn classify(
    err: &reqwest::Error,
    url: &str,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
) -> Error {
    let url = url.to_string();
    if err.is_redirect() {
        return Error::TooManyRedirects { url };
    }
    if let Some(cause) = tls_cause(err) {
        return Error::Tls { url, cause };
    }
    if err.is_timeout() {
        return if err.is_connect() {
            Error::Timeout {
                url,
                phase: TimeoutPhase::Connect,
                after: connect_timeout,
            }
        } else {
            Error::Timeout {
                url,
                phase: TimeoutPhase::Request,
                after: timeout,
            }
        };
    }
    let io_kind = io_error_kind(err);
    if err.is_connect() {
        let chain = chain_text(err);
        let cause = match io_kind {
            Some(io::ErrorKind::ConnectionRefused) => ConnectCause::Refused,
            Some(io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted) => {
                ConnectCause::Reset
            }
            Some(io::ErrorKind::HostUnreachable | io::ErrorKind::NetworkUnreachable) => {
                ConnectCause::Unreachable
            }
            _ if chain.contains("dns error") || chain.contains("failed to lookup address") => {
                ConnectCause::Dns
            }
            _ if chain.contains("proxy") || chain.contains("socks") => ConnectCause::Proxy(chain),
            _ => ConnectCause::Other(chain),
        };
        return Error::Connect { url, cause };
    }
    Error::Transfer {
        url,
        cause: TransferCause::of(io_kind, chain_text(err)),
        received: None,
        expected: None,
    }
}

/// A transfer failure from a plain I/O error of the body reader.
pub(crate) fn transfer(url: &str, err: &io::Error) -> Error {
    Error::Transfer {
        url: url.to_string(),
        cause: TransferCause::of(Some(err.kind()), err.to_string()),
        received: None,
        expected: None,
    }
}

/// Every cause in the chain, including the ones hidden inside `io::Error`
/// (whose `source()` skips its own payload).
fn causes<'a>(err: &'a (dyn StdError + 'static)) -> Vec<&'a (dyn StdError + 'static)> {
    let mut out = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        out.push(e);
        next = match e.downcast_ref::<io::Error>().and_then(|io| io.get_ref()) {
            // The payload is visited as a node of its own, so an io::Error
            // wrapping another io::Error is unwrapped too.
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => e.source(),
        };
        if out.len() > 32 {
            break;
        }
    }
    out
}

/// "The signature of the certificate cannot be verified": what Windows'
/// chain policy reports for a chain it cannot verify up to a trusted root.
const TRUST_E_CERT_SIGNATURE: u32 = 0x8009_6004;

/// The HRESULT in the Windows verifier's text for a code it does not map,
/// which reads `... (os error -2146869244)`; failure HRESULTs are negative
/// as an i32, errno values are not.
fn windows_error(text: &str) -> Option<u32> {
    let (_, rest) = text.rsplit_once("(os error ")?;
    let code: i32 = rest.strip_suffix(')')?.parse().ok()?;
    (code < 0).then_some(code as u32)
}

fn tls_cause(err: &reqwest::Error) -> Option<TlsCause> {
    use rustls::CertificateError as C;
    for e in causes(err) {
        let Some(tls) = e.downcast_ref::<rustls::Error>() else {
            continue;
        };
        return Some(match tls {
            rustls::Error::InvalidCertificate(cert) => match cert {
                // A signature no trusted key verifies: path building met a
                // root of the same name, but it is not the issuer.
                C::UnknownIssuer
                | C::BadSignature
                | C::UnsupportedSignatureAlgorithmContext { .. }
                | C::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => {
                    TlsCause::UnknownIssuer
                }
                C::Expired | C::NotValidYet => TlsCause::Expired,
                C::ExpiredContext { .. } | C::NotValidYetContext { .. } => TlsCause::Expired,
                C::NotValidForName | C::NotValidForNameContext { .. } => TlsCause::NameMismatch,
                C::Other(other) => match windows_error(&other.0.to_string()) {
                    // TRUST_E_CERT_SIGNATURE: as BadSignature above.
                    Some(TRUST_E_CERT_SIGNATURE) => TlsCause::UnknownIssuer,
                    Some(code) => TlsCause::Other(format!(
                        "the system could not verify the server certificate (Windows error 0x{code:08X})"
                    )),
                    None => TlsCause::Other(format!("invalid server certificate: {other}")),
                },
                other => TlsCause::Other(format!("invalid server certificate: {other:?}")),
            },
            rustls::Error::AlertReceived(alert) => {
                TlsCause::HandshakeRejected(format!("TLS alert {alert:?}"))
            }
            other => TlsCause::Other(other.to_string()),
        });
    }
    None
}

fn io_error_kind(err: &reqwest::Error) -> Option<io::ErrorKind> {
    causes(err)
        .into_iter()
        .find_map(|e| e.downcast_ref::<io::Error>().map(io::Error::kind))
}

/// The causes' texts joined, without reqwest's own "error sending request
/// for url (...)" line, which repeats the unredacted URL.
fn chain_text(err: &reqwest::Error) -> String {
    let mut parts: Vec<String> = causes(err)
        .into_iter()
        .skip(1)
        .map(|e| e.to_string())
        .filter(|s| !s.is_empty())
        .collect();
    // An io::Error displays its payload, which is also the next cause.
    parts.dedup();
    let mut text = parts.join(": ");
    if text.is_empty() {
        text = "unknown error".into();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_error_reads_the_hresult_of_the_verifier_text() {
        let text =
            "OS Error -2146869244 (FormatMessageW() returned error 317) (os error -2146869244)";
        assert_eq!(windows_error(text), Some(TRUST_E_CERT_SIGNATURE));
        assert_eq!(
            windows_error("Ошибка (os error -2146762482)"),
            Some(0x800B_010E)
        );
        // errno values and texts without a code are not HRESULTs.
        assert_eq!(windows_error("Permission denied (os error 13)"), None);
        assert_eq!(windows_error("bad certificate"), None);
    }
}
