//! The rustls client configuration for one transport setting.
//!
//! Verification: the platform verifier (the OS trust store, where corporate
//! and national roots live) by default, the bundled Mozilla roots where the OS
//! store is empty; with TrustedCertificates, rustls's WebPKI verifier over
//! those roots plus the OS (or bundled) roots, which does not depend on the
//! OS's chain engine. VerifySSL = false accepts any certificate but still
//! checks the handshake signatures.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::{Error, Setting, Transport};

/// Builds the TLS configuration a pooled client uses.
pub(crate) fn client_config(transport: &Transport) -> Result<ClientConfig, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| setting_error(Setting::TrustedCertificates, e.to_string()))?;

    let verifier: Arc<dyn ServerCertVerifier> = if !transport.verify_tls {
        Arc::new(AcceptAnyCertificate(provider.clone()))
    } else if transport.trusted_certificates.trim().is_empty() {
        platform_verifier(provider.clone())?
    } else {
        let extra = read_certificates(
            Setting::TrustedCertificates,
            &transport.trusted_certificates,
        )?;
        webpki_verifier(extra, provider.clone())?
    };
    let builder = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier);

    let mut config = if transport.client_certificate.trim().is_empty() {
        builder.with_no_client_auth()
    } else {
        let pem = read_pem(Setting::ClientCertificate, &transport.client_certificate)?;
        let chain = parse_certificates(Setting::ClientCertificate, &pem)?;
        let key = PrivateKeyDer::from_pem_slice(&pem).map_err(|e| {
            setting_error(
                Setting::ClientCertificate,
                format!("no usable private key: {e}"),
            )
        })?;
        builder
            .with_client_auth_cert(chain, key)
            .map_err(|e| setting_error(Setting::ClientCertificate, e.to_string()))?
    };
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

fn setting_error(setting: Setting, detail: impl Into<String>) -> Error {
    Error::Setting {
        setting,
        detail: detail.into(),
    }
}

fn platform_verifier(provider: Arc<CryptoProvider>) -> Result<Arc<dyn ServerCertVerifier>, Error> {
    match rustls_platform_verifier::Verifier::new(provider.clone()) {
        Ok(v) => Ok(Arc::new(v)),
        Err(e) => {
            log::warn!("OS trust store unavailable ({e}); using the bundled roots");
            webpki_verifier(Vec::new(), provider)
        }
    }
}

fn webpki_verifier(
    extra: Vec<CertificateDer<'static>>,
    provider: Arc<CryptoProvider>,
) -> Result<Arc<dyn ServerCertVerifier>, Error> {
    let mut roots = RootCertStore::empty();
    for cert in extra {
        roots
            .add(cert)
            .map_err(|e| setting_error(Setting::TrustedCertificates, e.to_string()))?;
    }
    let native = rustls_native_certs::load_native_certs();
    let (added, _ignored) = roots.add_parsable_certificates(native.certs);
    if added == 0 {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .map(|v| v as Arc<dyn ServerCertVerifier>)
        .map_err(|e| setting_error(Setting::TrustedCertificates, e.to_string()))
}

/// PEM text as given, or the contents of the file it names.
fn read_pem(setting: Setting, value: &str) -> Result<Vec<u8>, Error> {
    if value.contains("-----BEGIN") {
        return Ok(value.as_bytes().to_vec());
    }
    let path = value.trim();
    std::fs::read(path)
        .map_err(|e| setting_error(setting, format!("cannot read the file \"{path}\": {e}")))
}

fn parse_certificates(setting: Setting, pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, Error> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| setting_error(setting, format!("invalid PEM: {e}")))?;
    if certs.is_empty() {
        return Err(setting_error(
            setting,
            "no certificate (-----BEGIN CERTIFICATE-----) found",
        ));
    }
    Ok(certs)
}

fn read_certificates(setting: Setting, value: &str) -> Result<Vec<CertificateDer<'static>>, Error> {
    parse_certificates(setting, &read_pem(setting, value)?)
}

/// VerifySSL = false: any certificate and name, signatures still checked.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
