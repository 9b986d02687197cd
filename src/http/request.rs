//! One HTTP exchange: validate, send through the pooled client, read the
//! answer within the size limit.

use std::io::Read;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE};

use super::error::classify;
use super::{pool, Error, Response, TimeoutPhase, Transport};

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

/// A request as the add-in describes it.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: Method,
    pub url: String,
    /// Headers in the order to send; a name given twice is sent twice.
    pub headers: Vec<(String, String)>,
    pub body: Option<Bytes>,
    /// Content-Type to send when `headers` has none.
    pub content_type: Option<String>,
    /// HTTP Basic credentials, used when `headers` has no Authorization.
    pub basic_auth: Option<(String, String)>,
    /// Limit for the whole exchange; `None` for no limit.
    pub timeout: Option<Duration>,
    /// Longest accepted response body; `None` for no limit.
    pub max_response_size: Option<u64>,
}

impl Request {
    pub fn new(method: Method, url: impl Into<String>) -> Request {
        Request {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: None,
            content_type: None,
            basic_auth: None,
            timeout: Some(Duration::from_secs(30)),
            max_response_size: Some(64 * 1024 * 1024),
        }
    }
}

/// Checks one header the way it will be sent: a token name, and a value
/// without control characters (UTF-8 bytes are sent as they are).
pub fn validate_header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), Error> {
    let header_name =
        HeaderName::from_bytes(name.as_bytes()).map_err(|_| Error::InvalidHeaderName {
            name: name.to_string(),
        })?;
    let header_value =
        HeaderValue::from_bytes(value.as_bytes()).map_err(|_| Error::InvalidHeaderValue {
            name: name.to_string(),
        })?;
    Ok((header_name, header_value))
}

/// Sends `request` and reads the whole answer.
pub fn send(transport: &Transport, request: &Request) -> Result<Response, Error> {
    let url = super::parse_url(&request.url)?;
    let shown = super::redact_url(&url);

    let mut headers = HeaderMap::new();
    for (name, value) in &request.headers {
        let (name, value) = validate_header(name, value)?;
        headers.append(name, value);
    }
    if !headers.contains_key(CONTENT_TYPE) {
        if let Some(ct) = request.content_type.as_deref().filter(|ct| !ct.is_empty()) {
            let (name, value) = validate_header("Content-Type", ct)?;
            headers.insert(name, value);
        }
    }
    if !headers.contains_key(AUTHORIZATION) {
        if let Some((user, password)) = &request.basic_auth {
            headers.insert(AUTHORIZATION, basic_auth_value(user, password));
        }
    }

    let client = pool::client(transport)?;
    let mut builder = client
        .request(request.method.to_reqwest(), url)
        .headers(headers);
    if let Some(timeout) = request.timeout {
        builder = builder.timeout(timeout);
    }
    if let Some(body) = &request.body {
        builder = builder.body(body.clone());
    }
    let response = builder
        .send()
        .map_err(|e| classify(&e, &shown, request.timeout, transport.connect_timeout))?;

    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = read_body(response, request, &shown, transport)?;
    Ok(Response {
        status,
        headers,
        body,
    })
}

fn basic_auth_value(user: &str, password: &str) -> HeaderValue {
    let encoded = base64_encode(format!("{user}:{password}").as_bytes());
    let mut value = HeaderValue::from_str(&format!("Basic {encoded}"))
        .unwrap_or_else(|_| HeaderValue::from_static("Basic"));
    value.set_sensitive(true);
    value
}

fn read_body(
    response: reqwest::blocking::Response,
    request: &Request,
    shown: &str,
    transport: &Transport,
) -> Result<Vec<u8>, Error> {
    let limit = request.max_response_size;
    let too_large = |limit: u64| Error::ResponseTooLarge {
        url: shown.to_string(),
        limit,
    };
    if let (Some(limit), Some(length)) = (limit, response.content_length()) {
        if length > limit {
            return Err(too_large(limit));
        }
    }
    let length = response.content_length();
    let mut body = Vec::new();
    let mut reader = response.take(limit.map_or(u64::MAX, |l| l.saturating_add(1)));
    // read_to_end keeps what arrived before an error: the text says how much.
    reader.read_to_end(&mut body).map_err(|e| {
        let got = body.len() as u64;
        if let Some(inner) = e.get_ref().and_then(|i| i.downcast_ref::<reqwest::Error>()) {
            return classify(inner, shown, request.timeout, transport.connect_timeout)
                .with_progress(got, length);
        }
        if e.kind() == std::io::ErrorKind::TimedOut {
            return Error::Timeout {
                url: shown.to_string(),
                phase: TimeoutPhase::Request,
                after: request.timeout,
            };
        }
        super::error::transfer(shown, &e).with_progress(got, length)
    })?;
    match limit {
        Some(limit) if body.len() as u64 > limit => Err(too_large(limit)),
        _ => Ok(body),
    }
}

/// Standard base64 with padding (RFC 4648), for the Basic credentials.
pub(crate) fn base64_encode(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (input, output) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64_encode(input.as_bytes()), output);
        }
    }

    #[test]
    fn methods_and_headers_are_checked() {
        assert_eq!(Method::parse("patch").unwrap(), Method::Patch);
        assert!(matches!(
            Method::parse("TRACE"),
            Err(Error::InvalidMethod { .. })
        ));
        assert!(validate_header("X-Ok", "Привет").is_ok());
        assert!(matches!(
            validate_header("Bad Name", "v"),
            Err(Error::InvalidHeaderName { .. })
        ));
        assert!(matches!(
            validate_header("X", "a\r\nb"),
            Err(Error::InvalidHeaderValue { .. })
        ));
    }
}
