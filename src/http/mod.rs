//! The HTTP core: settings, the process-wide connection pool, TLS, sending a
//! request and reading its answer. No 1C type enters here; this module builds
//! and is tested on its own (see `tests/http_core.rs`).

mod classify;
pub mod cookies;
mod digest;
mod error;
mod headers;
pub mod multipart;
mod pool;
mod redirect;
mod request;
mod response;
pub mod retry;
mod send;
mod settings;
pub mod sign;
mod tls;
mod url;

pub use error::{ConnectCause, Error, Setting, TimeoutPhase, TlsCause, TransferCause};
pub use headers::{basic_auth, is_secret_header, validate_header, Headers};
pub use pool::parse_proxy;
pub use request::{Call, Defaults, Method, Prepared, Request};
pub use response::{decode_text, Response};
pub use settings::Transport;
pub use url::{parse_url, redact_url, redact_url_str};

/// `User-Agent` sent unless the caller sets its own.
pub const USER_AGENT: &str = concat!("Webhook1C/", env!("CARGO_PKG_VERSION"));

/// How many redirects are followed before giving up.
pub const MAX_REDIRECTS: usize = 10;

/// Number of distinct transport settings whose clients stay pooled.
pub const POOL_CAPACITY: usize = 32;

/// Installs the ring crypto provider as the process default, once. reqwest is
/// built without a provider of its own and panics if none is installed, so
/// every path that builds a client calls this first.
pub fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Err means another provider is already the default: fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Prepares and sends `request` (see [`Request::prepare`] and
/// [`Prepared::send`]).
pub fn send(transport: &Transport, request: &Request) -> Result<Response, Error> {
    request.prepare()?.send(transport)
}

/// How many pooled clients exist now (for tests and diagnostics).
pub fn pooled_clients() -> usize {
    pool::len()
}
