//! What readable properties hide: secret header values, the proxy's
//! password, private keys. The secret-header classifier is the HTTP core's
//! ([`http::is_secret_header`]), the one that also marks them sensitive on
//! the wire.

use super::client::{json_object, Client};
use crate::http;

/// Shown instead of a secret in readable properties.
pub const MASK: &str = "***";

impl Client {
    /// Headers as JSON, secrets masked.
    pub fn headers_shown(&self) -> String {
        json_object(self.headers.iter().map(|(n, v)| {
            let shown = if http::is_secret_header(n) { MASK } else { v };
            (n, shown.to_string())
        }))
    }

    /// Proxy URL with its password masked.
    pub fn proxy_shown(&self) -> String {
        let proxy = &self.transport.proxy;
        match reqwest::Url::parse(proxy) {
            Ok(mut url) if url.password().is_some() => {
                let _ = url.set_password(Some(MASK));
                url.to_string()
            }
            _ => proxy.clone(),
        }
    }

    /// ClientCertificate with any private key block masked.
    pub fn client_certificate_shown(&self) -> String {
        mask_private_keys(&self.transport.client_certificate)
    }
}

/// Replaces the body of every `PRIVATE KEY` PEM block with `***`.
fn mask_private_keys(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_key = false;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        if trimmed.starts_with("-----BEGIN") && trimmed.contains("PRIVATE KEY") {
            in_key = true;
            out.push_str(line);
            out.push_str(MASK);
            out.push('\n');
        } else if trimmed.starts_with("-----END") && trimmed.contains("PRIVATE KEY") {
            in_key = false;
            out.push_str(line);
        } else if !in_key {
            out.push_str(line);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addin::args::Arg;
    use crate::addin::errors::Target;
    use crate::host::Value;

    #[test]
    fn secrets_are_masked_in_readable_values() {
        let mut c = Client::default();
        let headers = Value::string(r#"{"Authorization": "Bearer t0k", "X-Plain": "v"}"#);
        c.set_headers(Arg::property(
            &headers,
            Target::property("Headers", "Заголовки"),
        ))
        .unwrap();
        let shown = c.headers_shown();
        assert!(!shown.contains("t0k"), "{shown}");
        assert!(shown.contains("\"X-Plain\":\"v\""), "{shown}");
        let proxy = Value::string("http://u:pw@127.0.0.1:3128");
        c.set_proxy(Arg::property(&proxy, Target::property("Proxy", "Прокси")))
            .unwrap();
        assert_eq!(c.proxy_shown(), "http://u:***@127.0.0.1:3128/");
        let pem = "-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\nSECRET\n-----END PRIVATE KEY-----\n";
        c.transport.client_certificate = pem.into();
        let shown = c.client_certificate_shown();
        assert!(
            shown.contains("AAA") && !shown.contains("SECRET"),
            "{shown}"
        );
    }
}
