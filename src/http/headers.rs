//! Request header lines: the one place where headers are merged (replace by
//! name, [`Headers::set`]), validated ([`validate_header`]) and classified as
//! secret ([`is_secret_header`]).

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::Error;

/// Header lines in the order they are sent, at most one per name (names
/// compare ASCII case-insensitively, as HTTP does).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers(Vec<(String, String)>);

impl Headers {
    pub fn new() -> Headers {
        Headers::default()
    }

    /// Adds `name`, replacing any line of that name. Every merge of headers
    /// (object, call, content type, credentials, signatures) goes through
    /// here, so a name is never sent twice.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let name = name.into();
        self.remove(&name);
        self.0.push((name, value.into()));
    }

    /// Adds `name` only when no line of that name exists: for values that a
    /// header the caller set explicitly overrides.
    pub fn set_default(&mut self, name: &str, value: impl Into<String>) {
        if self.get(name).is_none() {
            self.set(name, value);
        }
    }

    /// Sets every line of `other` here, `other` winning.
    pub fn merge(&mut self, other: Headers) {
        for (name, value) in other.0 {
            self.set(name, value);
        }
    }

    pub fn remove(&mut self, name: &str) {
        self.0.retain(|(n, _)| !n.eq_ignore_ascii_case(name.trim()));
    }

    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// The value of `name`, case-insensitively.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The lines as a header map, each one validated; secret values are
    /// marked sensitive (never indexed by HTTP/2 header compression).
    pub(crate) fn to_map(&self) -> Result<HeaderMap, Error> {
        let mut map = HeaderMap::with_capacity(self.0.len());
        for (name, value) in &self.0 {
            if is_framing_header(name) {
                continue;
            }
            let (header, mut value) = validate_header(name, value)?;
            value.set_sensitive(is_secret_header(name));
            map.insert(header, value);
        }
        Ok(map)
    }
}

impl From<Vec<(String, String)>> for Headers {
    /// Lines as given; a repeated name keeps its last value.
    fn from(lines: Vec<(String, String)>) -> Headers {
        let mut headers = Headers::new();
        for (name, value) in lines {
            headers.set(name, value);
        }
        headers
    }
}

impl From<Headers> for Vec<(String, String)> {
    fn from(headers: Headers) -> Vec<(String, String)> {
        headers.0
    }
}

/// Content-Length and Transfer-Encoding describe how the body is framed on
/// the wire, which the HTTP client decides from the body it sends. One set
/// by the caller is left out rather than refused: 1C code written for
/// HTTPСоединение often sets Content-Length by hand, and a wrong value
/// would cut the body short or leave the server waiting for more. The real
/// length is always sent.
pub(crate) fn is_framing_header(name: &str) -> bool {
    name.eq_ignore_ascii_case("content-length") || name.eq_ignore_ascii_case("transfer-encoding")
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

/// Header names whose values are secrets: masked when read back, marked
/// sensitive when sent.
pub fn is_secret_header(name: &str) -> bool {
    const NAMES: [&str; 3] = ["authorization", "proxy-authorization", "cookie"];
    const PARTS: [&str; 6] = [
        "token",
        "secret",
        "api-key",
        "apikey",
        "password",
        "signature",
    ];
    let name = name.as_bytes();
    NAMES
        .iter()
        .any(|n| name.eq_ignore_ascii_case(n.as_bytes()))
        || PARTS.iter().any(|part| {
            name.windows(part.len())
                .any(|w| w.eq_ignore_ascii_case(part.as_bytes()))
        })
}

/// Whether a header may follow a redirect to another origin: not when its
/// value is a secret (the same test that masks it when read back) and not
/// the Standard Webhooks headers, whose signature was made for the first
/// receiver.
pub(crate) fn stays_with_origin(name: &str) -> bool {
    let webhook = name
        .get(..8)
        .is_some_and(|p| p.eq_ignore_ascii_case("webhook-"));
    !webhook && !is_secret_header(name)
}

/// The `Authorization` value of HTTP Basic credentials.
pub fn basic_auth(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_replaces_by_name_and_defaults_yield() {
        let mut h = Headers::from(vec![("X-A".into(), "1".into()), ("x-a".into(), "2".into())]);
        assert_eq!(h.iter().collect::<Vec<_>>(), vec![("x-a", "2")]);
        h.set_default("X-A", "3");
        h.set_default("Content-Type", "text/plain");
        let mut call = Headers::new();
        call.set("CONTENT-TYPE", "application/json");
        h.merge(call);
        assert_eq!(h.get("content-type"), Some("application/json"));
        h.remove(" x-a ");
        assert_eq!(h.iter().count(), 1);
    }

    #[test]
    fn lines_are_validated_and_secrets_marked() {
        assert!(validate_header("X-Ok", "Привет").is_ok());
        assert!(matches!(
            validate_header("Bad Name", "v"),
            Err(Error::InvalidHeaderName { .. })
        ));
        assert!(matches!(
            validate_header("X", "a\r\nb"),
            Err(Error::InvalidHeaderValue { .. })
        ));
        let mut h = Headers::new();
        h.set("X-Api-Key", "k");
        h.set("X-Plain", "p");
        let map = h.to_map().unwrap();
        assert!(map["x-api-key"].is_sensitive() && !map["x-plain"].is_sensitive());
        assert!(is_secret_header("Authorization") && !is_secret_header("Content-Type"));
    }

    #[test]
    fn credentials_and_webhook_headers_stay_with_their_origin() {
        for name in [
            "Authorization",
            "Proxy-Authorization",
            "Cookie",
            "X-Api-Key",
            "X-Auth-Token",
            "Webhook-Id",
            "webhook-timestamp",
            "WEBHOOK-SIGNATURE",
        ] {
            assert!(!stays_with_origin(name), "{name}");
        }
        for name in [
            "Content-Type",
            "Accept",
            "X-Request-Id",
            "Webhook",
            "User-Agent",
        ] {
            assert!(stays_with_origin(name), "{name}");
        }
    }

    #[test]
    fn basic_credentials_are_base64() {
        // RFC 7617's example.
        assert_eq!(
            basic_auth("Aladdin", "open sesame"),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
    }
}
