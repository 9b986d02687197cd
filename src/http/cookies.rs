//! Cookies an object keeps between its calls: stored from the `Set-Cookie`
//! headers of every answer (redirect hops included) and sent back by
//! domain, path, `Secure` and expiry (RFC 6265, matched by the
//! `cookie_store` crate). The jar moves between 1C server calls as JSON
//! text, since an add-in object does not outlive one.

use std::sync::{Arc, Mutex, PoisonError};

use cookie_store::{CookieStore, RawCookie};
use reqwest::header::{HeaderMap, HeaderValue, SET_COOKIE};
use reqwest::Url;

/// A cookie jar shared by an object and the requests it sends.
#[derive(Clone, Default)]
pub struct Jar(Arc<Mutex<CookieStore>>);

impl std::fmt::Debug for Jar {
    // Cookie values are credentials: only their number is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Jar({} cookies)", self.store().iter_any().count())
    }
}

impl Jar {
    fn store(&self) -> std::sync::MutexGuard<'_, CookieStore> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The `Cookie` header for a request to `url`, if any cookie matches.
    pub fn header_for(&self, url: &Url) -> Option<HeaderValue> {
        let store = self.store();
        let mut pairs: Vec<String> = store
            .get_request_values(url)
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        // The store keeps no order; sorted, the same jar sends the same bytes.
        pairs.sort();
        if pairs.is_empty() {
            return None;
        }
        HeaderValue::from_str(&pairs.join("; ")).ok()
    }

    /// Keeps the cookies that `headers` (an answer from `url`) set.
    pub fn store_from(&self, url: &Url, headers: &HeaderMap) {
        let cookies: Vec<RawCookie<'static>> = headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|text| RawCookie::parse(text.to_string()).ok())
            .filter(|cookie| !for_a_whole_zone(cookie))
            .collect();
        if !cookies.is_empty() {
            self.store()
                .store_response_cookies(cookies.into_iter(), url);
        }
    }

    /// Every cookie, session cookies included, as a JSON array.
    pub fn to_json(&self) -> String {
        let mut out = Vec::new();
        match cookie_store::serde::json::save_incl_expired_and_nonpersistent(
            &self.store(),
            &mut out,
        ) {
            Ok(()) => {
                String::from_utf8(out).map_or_else(|_| "[]".into(), |s| s.trim_end().to_string())
            }
            Err(_) => "[]".into(),
        }
    }

    /// Replaces the cookies with those of `json` (as [`Jar::to_json`]
    /// wrote them); "" empties the jar. The error names what is wrong.
    pub fn load_json(&self, json: &str) -> Result<(), String> {
        let store = if json.trim().is_empty() {
            CookieStore::default()
        } else {
            cookie_store::serde::json::load_all(json.as_bytes()).map_err(|e| e.to_string())?
        };
        *self.store() = store;
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.store().iter_any().next().is_none()
    }
}

/// A `Domain` of one label (`Domain=ru`, `Domain=com`) would send the cookie
/// to every host of that zone. The jar has no public suffix list, so it
/// refuses at least these (a browser would refuse `co.uk` too).
fn for_a_whole_zone(cookie: &RawCookie<'_>) -> bool {
    cookie
        .domain()
        .is_some_and(|domain| !domain.trim_matches('.').contains('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(set_cookies: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for c in set_cookies {
            headers.append(SET_COOKIE, HeaderValue::from_str(c).unwrap());
        }
        headers
    }

    #[test]
    fn cookies_go_back_by_domain_path_and_scheme_and_survive_json() {
        let jar = Jar::default();
        let login = Url::parse("https://shop.example/api/login").unwrap();
        jar.store_from(
            &login,
            &answer(&[
                "session=s1; Path=/api; Secure; HttpOnly",
                "lang=ru",
                "wide=1; Domain=example",
                "gone=x; Max-Age=0",
            ]),
        );
        let header = |url: &str| {
            jar.header_for(&Url::parse(url).unwrap())
                .map(|v| v.to_str().unwrap().to_string())
        };
        let mut api: Vec<String> = header("https://shop.example/api/orders")
            .unwrap()
            .split("; ")
            .map(String::from)
            .collect();
        api.sort();
        assert_eq!(api, ["lang=ru", "session=s1"], "Domain=example is refused");
        // lang's default path is the login's directory, /api.
        assert_eq!(header("https://shop.example/"), None);
        assert_eq!(
            header("http://shop.example/api/x").as_deref(),
            Some("lang=ru"),
            "Secure"
        );
        assert_eq!(header("https://other.example/api/x"), None);

        let copy = Jar::default();
        copy.load_json(&jar.to_json()).unwrap();
        let orders = Url::parse("https://shop.example/api/orders").unwrap();
        assert!(copy.header_for(&orders).is_some());
        assert_eq!(copy.header_for(&orders), jar.header_for(&orders));
        assert!(copy.load_json("{not json").is_err());
        copy.load_json("").unwrap();
        assert!(copy.is_empty());
        assert!(!format!("{jar:?}").contains("s1"), "Debug shows no values");
    }
}
