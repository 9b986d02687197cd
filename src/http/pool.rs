//! The process-wide pool: one reqwest client (with its keep-alive connection
//! pool and its I/O thread) per distinct [`Transport`]. A fresh 1C object per
//! call therefore still finds a warm connection.

use std::sync::Mutex;

use once_cell::sync::Lazy;
use reqwest::blocking::Client;
use reqwest::redirect::Policy;

use super::{tls, Error, Setting, Transport, MAX_REDIRECTS, POOL_CAPACITY, USER_AGENT};

/// Most recently used last; a linear scan is cheap for a few dozen entries.
static POOL: Lazy<Mutex<Vec<(Transport, Client)>>> = Lazy::new(|| Mutex::new(Vec::new()));

fn lock() -> std::sync::MutexGuard<'static, Vec<(Transport, Client)>> {
    // A panic elsewhere cannot leave the list half-updated: recover it.
    POOL.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The pooled client for `transport`, built on first use.
pub(crate) fn client(transport: &Transport) -> Result<Client, Error> {
    {
        let mut pool = lock();
        if let Some(pos) = pool.iter().position(|(t, _)| t == transport) {
            let entry = pool.remove(pos);
            let client = entry.1.clone();
            pool.push(entry);
            return Ok(client);
        }
    }
    // Built outside the lock: building loads certificates and starts a thread.
    let client = build(transport)?;
    let evicted = {
        let mut pool = lock();
        if let Some(pos) = pool.iter().position(|(t, _)| t == transport) {
            // Another thread built the same one meanwhile: keep theirs.
            return Ok(pool[pos].1.clone());
        }
        pool.push((transport.clone(), client.clone()));
        if pool.len() > POOL_CAPACITY {
            Some(pool.remove(0))
        } else {
            None
        }
    };
    // Dropping a client joins its thread: do it outside the lock.
    drop(evicted);
    Ok(client)
}

pub(crate) fn len() -> usize {
    lock().len()
}

fn build(transport: &Transport) -> Result<Client, Error> {
    super::install_crypto_provider();
    let tls = tls::client_config(transport)?;
    let redirects = if transport.follow_redirects {
        Policy::limited(MAX_REDIRECTS)
    } else {
        Policy::none()
    };
    let mut builder = Client::builder()
        .user_agent(USER_AGENT)
        // The whole-request limit is set per request (Timeout may differ
        // between objects that share this client).
        .timeout(None)
        .connect_timeout(transport.connect_timeout)
        .redirect(redirects)
        .tls_backend_preconfigured(tls);
    builder = if transport.proxy.trim().is_empty() {
        // Environment proxies are not used unless the 1C code sets Proxy.
        builder.no_proxy()
    } else {
        builder.proxy(proxy(&transport.proxy)?)
    };
    builder.build().map_err(|e| Error::Setting {
        setting: Setting::Proxy,
        detail: format!("cannot create the HTTP client: {e}"),
    })
}

/// Checks a Proxy value: a URL with an http, https, socks5 or socks5h
/// scheme. Used when the 1C code sets Proxy and when a client is built.
pub fn parse_proxy(value: &str) -> Result<reqwest::Url, Error> {
    let bad = |detail: String| Error::Setting {
        setting: Setting::Proxy,
        detail,
    };
    let url = reqwest::Url::parse(value.trim()).map_err(|e| {
        bad(format!(
            "invalid proxy URL \"{}\": {e}",
            super::redact_url_str(value.trim())
        ))
    })?;
    if !matches!(url.scheme(), "http" | "https" | "socks5" | "socks5h") {
        return Err(bad(format!(
            "unsupported proxy scheme \"{}\": use http, https, socks5 or socks5h",
            url.scheme()
        )));
    }
    Ok(url)
}

fn proxy(value: &str) -> Result<reqwest::Proxy, Error> {
    let url = parse_proxy(value)?;
    reqwest::Proxy::all(url).map_err(|e| Error::Setting {
        setting: Setting::Proxy,
        detail: format!(
            "invalid proxy \"{}\": {e}",
            super::redact_url_str(value.trim())
        ),
    })
}
