//! Following redirects by hand, so that each hop is decided here and not by
//! the HTTP library: which answers are followed, what method and body the
//! next hop keeps, and which headers may travel to another origin.
//!
//! - 301, 302, 303, 307 and 308 with a usable `Location` are followed; any
//!   other answer (or a `Location` that does not resolve to an http(s) URL)
//!   is returned to the caller as it came.
//! - 303 turns any method but HEAD into a bodiless GET; 301 and 302 do so
//!   for POST, as browsers do; 307 and 308 keep method and body.
//! - A hop to another origin (scheme, host or port) carries no credential:
//!   see [`stays_with_origin`].
//! - A hop from https to http is refused: what the caller sent over TLS is
//!   not sent in clear text.
//! - `Referer` is never sent (the client is built with it off).

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE, LOCATION};
use reqwest::{Method, Url};

use super::headers::stays_with_origin;
use super::Error;

/// A request that a redirect made: owned, unlike the first one.
#[derive(Clone, Debug)]
pub(crate) struct Hop {
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Option<Bytes>,
}

impl Hop {
    pub fn at(&self) -> At<'_> {
        At {
            method: &self.method,
            url: &self.url,
            headers: &self.headers,
            body: self.body.as_ref(),
        }
    }
}

/// One request on the wire, borrowed: the first one (from the prepared
/// request, so a call without redirects copies nothing) or a [`Hop`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct At<'a> {
    pub method: &'a Method,
    pub url: &'a Url,
    pub headers: &'a HeaderMap,
    pub body: Option<&'a Bytes>,
}

/// What to do with an answer to `hop`: `Ok(None)` when it is the answer to
/// return, `Ok(Some(next))` when `next` is to be sent, and an error when the
/// redirect must not be followed.
pub(crate) fn next(hop: At<'_>, status: u16, answer: &HeaderMap) -> Result<Option<Hop>, Error> {
    if !matches!(status, 301 | 302 | 303 | 307 | 308) {
        return Ok(None);
    }
    let Some(url) = answer.get(LOCATION).and_then(|l| target(hop.url, l)) else {
        return Ok(None);
    };
    if hop.url.scheme() == "https" && url.scheme() == "http" {
        return Err(Error::InsecureRedirect {
            url: super::redact_url(hop.url),
            to: super::redact_url(&url),
        });
    }
    let becomes_get = match status {
        303 => *hop.method != Method::HEAD,
        301 | 302 => *hop.method == Method::POST,
        _ => false,
    };
    let mut next = Hop {
        method: hop.method.clone(),
        url,
        headers: hop.headers.clone(),
        body: hop.body.cloned(),
    };
    if becomes_get {
        next.method = Method::GET;
        next.body = None;
        next.headers.remove(CONTENT_TYPE);
    }
    if next.url.origin() != hop.url.origin() {
        let names: Vec<_> = next.headers.keys().cloned().collect();
        for name in names {
            if !stays_with_origin(name.as_str()) {
                next.headers.remove(&name);
            }
        }
    }
    Ok(Some(next))
}

/// The absolute http(s) URL a `Location` value names, relative to `base`.
fn target(base: &Url, location: &HeaderValue) -> Option<Url> {
    let text = std::str::from_utf8(location.as_bytes()).ok()?;
    let url = base.join(text.trim()).ok()?;
    let usable = matches!(url.scheme(), "http" | "https") && url.host_str().is_some();
    usable.then_some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hop(method: Method, url: &str) -> Hop {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("authorization", "Basic x"),
            ("proxy-authorization", "Basic y"),
            ("cookie", "a=1"),
            ("x-api-key", "k"),
            ("webhook-id", "msg_1"),
            ("webhook-timestamp", "1"),
            ("webhook-signature", "v1,s"),
            ("content-type", "application/json"),
            ("x-plain", "p"),
        ] {
            headers.insert(name, HeaderValue::from_static(value));
        }
        Hop {
            method,
            url: Url::parse(url).unwrap(),
            headers,
            body: Some(Bytes::from_static(b"{}")),
        }
    }

    fn to(location: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(LOCATION, HeaderValue::from_str(location).unwrap());
        h
    }

    fn names(hop: &Hop) -> Vec<&str> {
        let mut names: Vec<_> = hop.headers.keys().map(|n| n.as_str()).collect();
        names.sort_unstable();
        names
    }

    #[test]
    fn same_origin_keeps_everything_and_other_origins_only_plain_headers() {
        let first = hop(Method::POST, "http://127.0.0.1:1/a?token=t");
        let same = next(first.at(), 307, &to("/b")).unwrap().unwrap();
        assert_eq!(same.url.as_str(), "http://127.0.0.1:1/b");
        assert_eq!(same.headers, first.headers);
        assert_eq!((same.method, same.body), (Method::POST, first.body.clone()));

        for other in [
            "http://localhost:1/b",
            "http://127.0.0.1:2/b",
            "https://127.0.0.1:1/b",
        ] {
            let moved = next(first.at(), 308, &to(other)).unwrap().unwrap();
            assert_eq!(names(&moved), ["content-type", "x-plain"], "{other}");
            assert_eq!(moved.body, first.body);
        }
    }

    #[test]
    fn methods_change_as_browsers_do() {
        let post = hop(Method::POST, "http://h/a");
        for (status, method) in [
            (301, Method::GET),
            (302, Method::GET),
            (303, Method::GET),
            (307, Method::POST),
            (308, Method::POST),
        ] {
            let n = next(post.at(), status, &to("/b")).unwrap().unwrap();
            assert_eq!(n.method, method, "{status}");
            assert_eq!(n.body.is_none(), method == Method::GET);
            assert_eq!(n.headers.contains_key(CONTENT_TYPE), method != Method::GET);
        }
        let put = hop(Method::PUT, "http://h/a");
        assert_eq!(
            next(put.at(), 302, &to("/b")).unwrap().unwrap().method,
            Method::PUT
        );
        assert_eq!(
            next(put.at(), 303, &to("/b")).unwrap().unwrap().method,
            Method::GET
        );
        let head = hop(Method::HEAD, "http://h/a");
        assert_eq!(
            next(head.at(), 303, &to("/b")).unwrap().unwrap().method,
            Method::HEAD
        );
    }

    #[test]
    fn other_answers_and_unusable_locations_are_returned() {
        let first = hop(Method::GET, "http://h/a");
        assert!(next(first.at(), 300, &to("/b")).unwrap().is_none());
        assert!(next(first.at(), 304, &to("/b")).unwrap().is_none());
        assert!(next(first.at(), 302, &HeaderMap::new()).unwrap().is_none());
        assert!(next(first.at(), 302, &to("ftp://h/b")).unwrap().is_none());
        assert!(next(first.at(), 302, &to("http://[::1/"))
            .unwrap()
            .is_none());
    }

    #[test]
    fn https_to_http_is_refused_with_both_urls_redacted() {
        let first = hop(Method::POST, "https://h/services/T/B/SECRET");
        let err = next(first.at(), 302, &to("http://other/x?token=t")).unwrap_err();
        match err {
            Error::InsecureRedirect { url, to } => {
                assert_eq!(url, "https://h/services/***");
                assert_eq!(to, "http://other/x?token=***");
            }
            other => panic!("{other:?}"),
        }
        let first = hop(Method::POST, "http://h/a");
        assert!(next(first.at(), 302, &to("https://h/b")).unwrap().is_some());
    }
}
