//! What can go wrong before a response arrives. Every variant names the
//! (redacted) URL it concerns where there is one. The texts (English for
//! `Display` and logs, Russian for 1C users) live in the add-in's message
//! catalog beside each kind's error code; this module imports nothing of it.

use std::error::Error as StdError;
use std::time::Duration;

/// A setting that could not be applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setting {
    TrustedCertificates,
    ClientCertificate,
    Proxy,
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
    /// A redirect from https to http, not followed.
    InsecureRedirect { url: String, to: String },
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

impl StdError for Error {}
