//! Transport settings: everything that decides which pooled client serves a
//! request. Two requests with equal `Transport` share connections.

use std::fmt;
use std::time::Duration;

/// Connection-level settings (the pool key).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Transport {
    /// Verify the server certificate and host name.
    pub verify_tls: bool,
    /// Extra root CAs: a PEM file path or PEM text; empty for none.
    pub trusted_certificates: String,
    /// Client certificate chain and key for mutual TLS: a PEM file path or
    /// PEM text; empty for none.
    pub client_certificate: String,
    /// `http://`, `https://`, `socks5://` or `socks5h://` proxy URL, possibly
    /// with credentials; empty for a direct connection.
    pub proxy: String,
    /// Limit for TCP connect plus TLS handshake; `None` for no limit.
    pub connect_timeout: Option<Duration>,
    /// Follow up to [`super::MAX_REDIRECTS`] redirects.
    pub follow_redirects: bool,
}

impl Default for Transport {
    fn default() -> Self {
        Transport {
            verify_tls: true,
            trusted_certificates: String::new(),
            client_certificate: String::new(),
            proxy: String::new(),
            connect_timeout: Some(Duration::from_secs(10)),
            follow_redirects: true,
        }
    }
}

// Proxy credentials and private keys must not reach logs through `{:?}`.
impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("verify_tls", &self.verify_tls)
            .field(
                "trusted_certificates",
                &!self.trusted_certificates.is_empty(),
            )
            .field("client_certificate", &!self.client_certificate.is_empty())
            .field("proxy", &super::redact_url_str(&self.proxy))
            .field("connect_timeout", &self.connect_timeout)
            .field("follow_redirects", &self.follow_redirects)
            .finish()
    }
}
