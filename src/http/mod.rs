//! The HTTP core: settings, the process-wide connection pool, TLS, sending a
//! request and reading its answer. No 1C type enters here; this module builds
//! and is tested on its own (see `tests/http_core.rs`).

mod error;
mod pool;
mod request;
mod response;
pub mod retry;
mod settings;
pub mod sign;
mod tls;
mod url;

pub use error::{
    progress as transfer_progress, seconds as format_seconds, ConnectCause, Error, Setting,
    TimeoutPhase, TlsCause, TransferCause,
};
pub use pool::parse_proxy;
pub use request::{send, validate_header, Method, Request};
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

/// How many pooled clients exist now (for tests and diagnostics).
pub fn pooled_clients() -> usize {
    pool::len()
}
