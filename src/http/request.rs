//! The one path from settings and a call to a request on the wire:
//! [`Defaults::shape`] merges the object's and the call's headers, content
//! type and credentials into a [`Request`] (what the queue stores);
//! [`Request::prepare`] parses the URL and validates every header once into
//! a [`Prepared`] request; [`Prepared::stamp`] adds the message id and the
//! signature of one attempt; [`Prepared::send`] sends it. Direct calls,
//! their retries and queued deliveries all take this path.

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::Url;

use super::cookies::Jar;

use super::headers::{basic_auth, Headers};
use super::sign::{unix_now, Signer};
use super::Error;

/// The methods 1C code may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
    Put,
    Patch,
    Delete,
    Options,
    Post,
}

impl Method {
    /// Parses a method name, case-insensitively.
    pub fn parse(name: &str) -> Result<Method, Error> {
        Ok(match name.trim().to_ascii_uppercase().as_str() {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "PUT" => Method::Put,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            "OPTIONS" => Method::Options,
            "POST" => Method::Post,
            _ => {
                return Err(Error::InvalidMethod {
                    method: name.to_string(),
                })
            }
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Options => "OPTIONS",
            Method::Post => "POST",
        }
    }

    fn to_reqwest(self) -> reqwest::Method {
        match self {
            Method::Get => reqwest::Method::GET,
            Method::Head => reqwest::Method::HEAD,
            Method::Put => reqwest::Method::PUT,
            Method::Patch => reqwest::Method::PATCH,
            Method::Delete => reqwest::Method::DELETE,
            Method::Options => reqwest::Method::OPTIONS,
            Method::Post => reqwest::Method::POST,
        }
    }
}

/// A complete request: every header it carries (Content-Type and
/// Authorization included), its body and its limits. This is the form the
/// delivery queue stores.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: Method,
    pub url: String,
    pub headers: Headers,
    pub body: Option<Bytes>,
    /// Limit for the whole exchange; `None` for no limit.
    pub timeout: Option<Duration>,
    /// Longest accepted response body; `None` for no limit.
    pub max_response_size: Option<u64>,
    /// The jar whose cookies go with each hop and which keeps the cookies
    /// each answer sets; `None` keeps none.
    pub cookies: Option<Jar>,
    /// Credentials that answer a `WWW-Authenticate: Digest` challenge of
    /// the request's own origin.
    pub digest: Option<DigestCredentials>,
}

/// User name and password for HTTP Digest. No `Debug` of the password.
#[derive(Clone)]
pub struct DigestCredentials {
    pub user: String,
    pub password: String,
}

impl std::fmt::Debug for DigestCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DigestCredentials({:?}, ***)", self.user)
    }
}

impl Request {
    /// A bodiless request with no headers, a 30 s timeout and a 64 MiB
    /// response limit.
    pub fn new(method: Method, url: impl Into<String>) -> Request {
        Request {
            method,
            url: url.into(),
            headers: Headers::new(),
            body: None,
            timeout: Some(Duration::from_secs(30)),
            max_response_size: Some(64 * 1024 * 1024),
            cookies: None,
            digest: None,
        }
    }

    /// Parses the URL and validates every header: the request as it goes
    /// on the wire.
    pub fn prepare(&self) -> Result<Prepared, Error> {
        let url = super::parse_url(&self.url)?;
        let shown = super::redact_url(&url);
        Ok(Prepared {
            method: self.method,
            url,
            shown,
            headers: self.headers.to_map()?,
            body: self.body.clone(),
            timeout: self.timeout,
            max_response_size: self.max_response_size,
            cookies: self.cookies.clone(),
            digest: self.digest.clone(),
        })
    }
}

/// What an object adds to each of its calls.
#[derive(Clone, Copy, Debug)]
pub struct Defaults<'a> {
    /// The object's headers; a call's headers of the same name win.
    pub headers: &'a Headers,
    /// HTTP credentials: sent as Basic unless a header sets Authorization,
    /// or, with `digest`, only in answer to a Digest challenge.
    pub basic_auth: Option<(&'a str, &'a str)>,
    pub digest: bool,
    pub timeout: Option<Duration>,
    pub max_response_size: Option<u64>,
    /// The object's cookie jar, when it keeps cookies.
    pub cookies: Option<&'a Jar>,
}

/// One call as the caller makes it.
#[derive(Clone, Debug)]
pub struct Call {
    pub method: Method,
    pub url: String,
    pub body: Option<Bytes>,
    /// An explicit content type: wins over any Content-Type header.
    pub content_type: Option<String>,
    /// The content type used when no header names one.
    pub default_content_type: Option<&'static str>,
    /// This call's headers.
    pub headers: Headers,
}

impl Defaults<'_> {
    /// The request `call` describes with these defaults.
    pub fn shape(&self, call: Call) -> Request {
        let mut headers = self.headers.clone();
        headers.merge(call.headers);
        match call.content_type {
            Some(explicit) => headers.set("Content-Type", explicit),
            None => {
                if let Some(default) = call.default_content_type {
                    headers.set_default("Content-Type", default);
                }
            }
        }
        let mut digest = None;
        match self.basic_auth {
            Some((user, password)) if self.digest => {
                digest = Some(DigestCredentials {
                    user: user.to_string(),
                    password: password.to_string(),
                });
            }
            Some((user, password)) => {
                headers.set_default("Authorization", basic_auth(user, password));
            }
            None => {}
        }
        Request {
            method: call.method,
            url: call.url,
            headers,
            body: call.body,
            timeout: self.timeout,
            max_response_size: self.max_response_size,
            cookies: self.cookies.cloned(),
            digest,
        }
    }
}

/// A request checked and ready to send; cheap to clone for an attempt.
#[derive(Clone, Debug)]
pub struct Prepared {
    method: Method,
    url: Url,
    /// The URL as texts and logs show it.
    shown: String,
    headers: HeaderMap,
    body: Option<Bytes>,
    timeout: Option<Duration>,
    max_response_size: Option<u64>,
    cookies: Option<Jar>,
    digest: Option<DigestCredentials>,
}

impl Prepared {
    pub fn method(&self) -> Method {
        self.method
    }

    /// The URL without credentials or secrets (see [`super::redact_url`]).
    pub fn shown_url(&self) -> &str {
        &self.shown
    }

    pub fn cookies(&self) -> Option<&Jar> {
        self.cookies.as_ref()
    }

    pub fn digest(&self) -> Option<&DigestCredentials> {
        self.digest.as_ref()
    }

    pub fn body_len(&self) -> usize {
        self.body.as_ref().map_or(0, Bytes::len)
    }

    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// Sets a different limit for the whole exchange.
    pub fn set_timeout(&mut self, timeout: Option<Duration>) {
        self.timeout = timeout;
    }

    /// The Standard Webhooks headers of one attempt: `webhook-id`, and with
    /// a signer `webhook-timestamp` (now) and `webhook-signature`; they
    /// replace headers of those names the request carried.
    pub fn stamp(&mut self, id: &str, signer: Option<&Signer>) {
        let mut put = |name: &'static str, value: &str| {
            // Ids are checked when they are made or enqueued, timestamps
            // are digits and signatures base64: all valid header values.
            if let Ok(value) = HeaderValue::from_str(value) {
                self.headers.insert(HeaderName::from_static(name), value);
            }
        };
        put("webhook-id", id);
        if let Some(signer) = signer {
            let timestamp = unix_now();
            let body = self.body.as_deref().unwrap_or_default();
            put("webhook-timestamp", &timestamp.to_string());
            put("webhook-signature", &signer.signature(id, timestamp, body));
        }
    }

    /// Sends the request through the pooled client of `transport` and reads
    /// the whole answer.
    pub fn send(&self, transport: &super::Transport) -> Result<super::Response, Error> {
        super::send::send(transport, self, super::send::Read::Whole)
    }

    /// Sends the request for its status: the answer counts once its status
    /// line and headers arrive, and of the body at most `excerpt` bytes are
    /// read, within `wait`. A body that is too large, too slow or cut off
    /// never turns the answer into an error (the queue's deliveries: a 2xx
    /// is a delivery whatever follows it).
    pub fn send_for_status(
        &self,
        transport: &super::Transport,
        excerpt: usize,
        wait: std::time::Duration,
    ) -> Result<super::Response, Error> {
        let read = super::send::Read::Excerpt {
            bytes: excerpt,
            wait,
        };
        super::send::send(transport, self, read)
    }

    pub(crate) fn parts(&self) -> (reqwest::Method, &Url, &HeaderMap, Option<&Bytes>) {
        (
            self.method.to_reqwest(),
            &self.url,
            &self.headers,
            self.body.as_ref(),
        )
    }

    pub(crate) fn max_response_size(&self) -> Option<u64> {
        self.max_response_size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(headers: &[(&str, &str)], content_type: Option<&str>) -> Call {
        Call {
            method: Method::Post,
            url: "http://127.0.0.1:1/hook?token=t".into(),
            body: Some(Bytes::from_static(b"{}")),
            content_type: content_type.map(str::to_string),
            default_content_type: Some("application/json; charset=utf-8"),
            headers: Headers::from(
                headers
                    .iter()
                    .map(|(n, v)| (n.to_string(), v.to_string()))
                    .collect::<Vec<_>>(),
            ),
        }
    }

    #[test]
    fn calls_win_over_objects_and_explicit_types_over_headers() {
        let mut object = Headers::new();
        object.set("X-Object", "1");
        object.set("X-Both", "object");
        object.set("Content-Type", "text/csv");
        let defaults = Defaults {
            headers: &object,
            basic_auth: Some(("Aladdin", "open sesame")),
            digest: false,
            timeout: None,
            max_response_size: Some(5),
            cookies: None,
        };
        let request = defaults.shape(call(&[("x-both", "call")], None));
        assert_eq!(request.headers.get("X-Both"), Some("call"));
        assert_eq!(request.headers.get("content-type"), Some("text/csv"));
        assert_eq!(
            request.headers.get("Authorization"),
            Some("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")
        );
        assert_eq!(
            (request.timeout, request.max_response_size),
            (None, Some(5))
        );

        let explicit = defaults.shape(call(&[("Authorization", "Bearer t")], Some("text/xml")));
        assert_eq!(explicit.headers.get("content-type"), Some("text/xml"));
        assert_eq!(explicit.headers.get("authorization"), Some("Bearer t"));

        let empty = Headers::new();
        let plain = Defaults {
            headers: &empty,
            basic_auth: None,
            digest: false,
            timeout: None,
            max_response_size: None,
            cookies: None,
        };
        let request = plain.shape(call(&[], None));
        assert_eq!(
            request.headers.get("content-type"),
            Some("application/json; charset=utf-8")
        );
        assert_eq!(request.headers.get("authorization"), None);
    }

    #[test]
    fn prepare_checks_once_and_stamp_replaces() {
        let mut request = Request::new(Method::Post, "http://u:pw@127.0.0.1:1/x?token=t");
        request.headers.set("Webhook-Id", "stale");
        request.body = Some(Bytes::from_static(b"{}"));
        let mut prepared = request.prepare().unwrap();
        assert_eq!(prepared.shown_url(), "http://127.0.0.1:1/x?token=***");
        let signer = Signer::new("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap();
        prepared.stamp("m-1", Some(&signer));
        let (_, _, headers, _) = prepared.parts();
        assert_eq!(headers.get_all("webhook-id").iter().count(), 1);
        assert_eq!(headers["webhook-id"], "m-1");
        let ts: u64 = headers["webhook-timestamp"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(
            headers["webhook-signature"],
            signer.signature("m-1", ts, b"{}").as_str()
        );

        request.headers.set("Bad Name", "v");
        assert!(matches!(
            request.prepare(),
            Err(Error::InvalidHeaderName { .. })
        ));
        assert!(matches!(
            Request::new(Method::Get, "ftp://x/").prepare(),
            Err(Error::UnsupportedScheme { .. })
        ));
        assert_eq!(Method::parse("patch").unwrap(), Method::Patch);
        assert!(matches!(
            Method::parse("TRACE"),
            Err(Error::InvalidMethod { .. })
        ));
    }
}
