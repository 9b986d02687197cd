//! The process-wide pool: one reqwest client (with its keep-alive connection
//! pool) per distinct [`Transport`]. A fresh 1C object per call therefore
//! still finds a warm connection.
//!
//! Each client comes with a single-threaded runtime that the calling thread
//! drives itself for the length of one exchange ([`Pooled::run`]): no call is
//! handed to another thread and back. Several threads may drive the same
//! runtime at once; one of them polls the sockets and wakes the others.

use std::future::Future;
use std::sync::{Arc, Mutex};

use once_cell::sync::Lazy;
use reqwest::redirect::Policy;
use reqwest::Client;
use tokio::runtime::Runtime;

use super::{tls, Error, Setting, Transport, POOL_CAPACITY, USER_AGENT};

/// A pooled client and the runtime its connections live on.
#[derive(Clone)]
pub(crate) struct Pooled {
    pub(crate) client: Client,
    runtime: Arc<Driver>,
}

impl Pooled {
    /// Runs one exchange to completion on the calling thread.
    ///
    /// Between calls nobody drives the runtime, so the connections' own
    /// work waits for the next call: a server's close of an idle kept-alive
    /// connection, or the close of one whose answer was dropped half-read
    /// (too large, timed out). So the runtime is let to turn before the
    /// exchange, where a connection closed meanwhile leaves the pool before
    /// a request could be written into it, and after it, where a connection
    /// the exchange gave up is closed now rather than at the next call.
    /// An exchange that read its whole answer gave nothing up, so `clean`
    /// says when the turns after it can be spared (each turn is a poll of
    /// the sockets: a system call on every PostJson).
    pub(crate) fn run<F: Future>(
        &self,
        exchange: F,
        clean: impl FnOnce(&F::Output) -> bool,
    ) -> F::Output {
        let Some(rt) = self.runtime.0.as_ref() else {
            unreachable!("the runtime is only taken when the driver drops")
        };
        rt.block_on(async {
            settle().await;
            let out = exchange.await;
            if !clean(&out) {
                settle().await;
            }
            out
        })
    }
}

/// Two turns of the runtime: the first polls the sockets and wakes the
/// connections that have news, the second runs them.
async fn settle() {
    tokio::task::yield_now().await;
    tokio::task::yield_now().await;
}

/// Owns the runtime; dropping it never waits for a name lookup still running
/// on the runtime's blocking threads.
struct Driver(Option<Runtime>);

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

/// Most recently used last; a linear scan is cheap for a few dozen entries.
static POOL: Lazy<Mutex<Vec<(Transport, Pooled)>>> = Lazy::new(|| Mutex::new(Vec::new()));

fn lock() -> std::sync::MutexGuard<'static, Vec<(Transport, Pooled)>> {
    // A panic elsewhere cannot leave the list half-updated: recover it.
    POOL.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The pooled client for `transport`, built on first use.
pub(crate) fn client(transport: &Transport) -> Result<Pooled, Error> {
    {
        let mut pool = lock();
        if let Some(pos) = pool.iter().position(|(t, _)| t == transport) {
            let entry = pool.remove(pos);
            let client = entry.1.clone();
            pool.push(entry);
            return Ok(client);
        }
    }
    // Built outside the lock: building loads certificates.
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
    // Dropped outside the lock: the client may hold many connections.
    drop(evicted);
    Ok(client)
}

pub(crate) fn len() -> usize {
    lock().len()
}

fn build(transport: &Transport) -> Result<Pooled, Error> {
    super::install_crypto_provider();
    let tls = tls::client_config(transport)?;
    let mut builder = Client::builder()
        .user_agent(USER_AGENT)
        // The whole-request limit is set per request (Timeout may differ
        // between objects that share this client).
        // Redirects are followed by `send`, hop by hop (see `redirect`).
        .redirect(Policy::none())
        // A redirect never tells the next server where it came from: the
        // URL may carry a secret path or token (reqwest sends Referer by
        // default).
        .referer(false)
        .tls_backend_preconfigured(tls);
    if let Some(limit) = transport.connect_timeout {
        builder = builder.connect_timeout(limit);
    }
    builder = if transport.proxy.trim().is_empty() {
        // Environment proxies are not used unless the 1C code sets Proxy.
        builder.no_proxy()
    } else {
        builder.proxy(proxy(&transport.proxy)?)
    };
    let failed = |e: &dyn std::fmt::Display| Error::Setting {
        setting: Setting::Proxy,
        detail: format!("cannot create the HTTP client: {e}"),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        // Name lookups run on blocking threads: few, and not kept long.
        .max_blocking_threads(8)
        .thread_keep_alive(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| failed(&e))?;
    let client = builder.build().map_err(|e| failed(&e))?;
    Ok(Pooled {
        client,
        runtime: Arc::new(Driver(Some(runtime))),
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
