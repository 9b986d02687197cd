//! Sorting what reqwest, rustls, the OS and the Windows certificate
//! verifier report into the causes of [`Error`]: refused, reset, DNS,
//! unreachable, proxy, timeout phase, TLS trust, expiry, names, alerts, and
//! broken transfers.

use std::error::Error as StdError;
use std::io;
use std::time::Duration;

use super::{ConnectCause, Error, TimeoutPhase, TlsCause, TransferCause};

/// Why a transfer broke, from the I/O error kind or the library's text.
fn transfer_cause(kind: Option<io::ErrorKind>, chain: String) -> TransferCause {
    match kind {
        Some(
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe,
        ) => TransferCause::Reset,
        Some(io::ErrorKind::UnexpectedEof) => TransferCause::Closed,
        _ if chain.contains("connection closed before message completed")
            || chain.contains("end of file before message length reached") =>
        {
            TransferCause::Closed
        }
        _ => TransferCause::Other(chain),
    }
}

/// Turns a reqwest failure into our structure by walking its causes.
pub(crate) fn classify(
    err: &reqwest::Error,
    url: &str,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
) -> Error {
    let url = url.to_string();
    if let Some(cause) = tls_cause(err) {
        return Error::Tls { url, cause };
    }
    if err.is_timeout() {
        return if err.is_connect() {
            Error::Timeout {
                url,
                phase: TimeoutPhase::Connect,
                after: connect_timeout,
            }
        } else {
            Error::Timeout {
                url,
                phase: TimeoutPhase::Request,
                after: timeout,
            }
        };
    }
    let io_kind = io_error_kind(err);
    if err.is_connect() {
        let chain = chain_text(err);
        let cause = match io_kind {
            Some(io::ErrorKind::ConnectionRefused) => ConnectCause::Refused,
            Some(io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted) => {
                ConnectCause::Reset
            }
            Some(io::ErrorKind::HostUnreachable | io::ErrorKind::NetworkUnreachable) => {
                ConnectCause::Unreachable
            }
            _ if chain.contains("dns error") || chain.contains("failed to lookup address") => {
                ConnectCause::Dns
            }
            _ if chain.contains("proxy") || chain.contains("socks") => ConnectCause::Proxy(chain),
            _ => ConnectCause::Other(chain),
        };
        return Error::Connect { url, cause };
    }
    Error::Transfer {
        url,
        cause: transfer_cause(io_kind, chain_text(err)),
        received: None,
        expected: None,
    }
}

/// Every cause in the chain, including the ones hidden inside `io::Error`
/// (whose `source()` skips its own payload).
fn causes<'a>(err: &'a (dyn StdError + 'static)) -> Vec<&'a (dyn StdError + 'static)> {
    let mut out = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        out.push(e);
        next = match e.downcast_ref::<io::Error>().and_then(|io| io.get_ref()) {
            // The payload is visited as a node of its own, so an io::Error
            // wrapping another io::Error is unwrapped too.
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => e.source(),
        };
        if out.len() > 32 {
            break;
        }
    }
    out
}

/// "The signature of the certificate cannot be verified": what Windows'
/// chain policy reports for a chain it cannot verify up to a trusted root.
const TRUST_E_CERT_SIGNATURE: u32 = 0x8009_6004;

/// The HRESULT in the Windows verifier's text for a code it does not map,
/// which reads `... (os error -2146869244)`; failure HRESULTs are negative
/// as an i32, errno values are not.
fn windows_error(text: &str) -> Option<u32> {
    let (_, rest) = text.rsplit_once("(os error ")?;
    let code: i32 = rest.strip_suffix(')')?.parse().ok()?;
    (code < 0).then_some(code as u32)
}

fn tls_cause(err: &reqwest::Error) -> Option<TlsCause> {
    use rustls::CertificateError as C;
    for e in causes(err) {
        let Some(tls) = e.downcast_ref::<rustls::Error>() else {
            continue;
        };
        return Some(match tls {
            rustls::Error::InvalidCertificate(cert) => match cert {
                // A signature no trusted key verifies: path building met a
                // root of the same name, but it is not the issuer.
                C::UnknownIssuer
                | C::BadSignature
                | C::UnsupportedSignatureAlgorithmContext { .. }
                | C::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => {
                    TlsCause::UnknownIssuer
                }
                C::Expired | C::NotValidYet => TlsCause::Expired,
                C::ExpiredContext { .. } | C::NotValidYetContext { .. } => TlsCause::Expired,
                C::NotValidForName | C::NotValidForNameContext { .. } => TlsCause::NameMismatch,
                C::Other(other) => match windows_error(&other.0.to_string()) {
                    // TRUST_E_CERT_SIGNATURE: as BadSignature above.
                    Some(TRUST_E_CERT_SIGNATURE) => TlsCause::UnknownIssuer,
                    Some(code) => TlsCause::Other(format!(
                        "the system could not verify the server certificate (Windows error 0x{code:08X})"
                    )),
                    None => TlsCause::Other(format!("invalid server certificate: {other}")),
                },
                other => TlsCause::Other(format!("invalid server certificate: {other:?}")),
            },
            rustls::Error::AlertReceived(alert) => {
                TlsCause::HandshakeRejected(format!("TLS alert {alert:?}"))
            }
            other => TlsCause::Other(other.to_string()),
        });
    }
    None
}

fn io_error_kind(err: &reqwest::Error) -> Option<io::ErrorKind> {
    causes(err)
        .into_iter()
        .find_map(|e| e.downcast_ref::<io::Error>().map(io::Error::kind))
}

/// The causes' texts joined, without reqwest's own "error sending request
/// for url (...)" line, which repeats the unredacted URL.
fn chain_text(err: &reqwest::Error) -> String {
    let mut parts: Vec<String> = causes(err)
        .into_iter()
        .skip(1)
        .map(|e| e.to_string())
        .filter(|s| !s.is_empty())
        .collect();
    // An io::Error displays its payload, which is also the next cause.
    parts.dedup();
    let mut text = parts.join(": ");
    if text.is_empty() {
        text = "unknown error".into();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_error_reads_the_hresult_of_the_verifier_text() {
        let text =
            "OS Error -2146869244 (FormatMessageW() returned error 317) (os error -2146869244)";
        assert_eq!(windows_error(text), Some(TRUST_E_CERT_SIGNATURE));
        assert_eq!(
            windows_error("Ошибка (os error -2146762482)"),
            Some(0x800B_010E)
        );
        // errno values and texts without a code are not HRESULTs.
        assert_eq!(windows_error("Permission denied (os error 13)"), None);
        assert_eq!(windows_error("bad certificate"), None);
    }
}
