//! Test certificates made with rcgen, written to a per-process temp
//! directory, and rustls server configs (ring provider, ALPN `http/1.1`).

use std::fs;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// Subject CN of the client certificate.
pub const CLIENT_CN: &str = "webhook1c-test-client";
/// Subject CN of the test root CA that signs the server certificates.
pub const CA_CN: &str = "Webhook1C Test Root CA";
/// Subject CN of the CA that signs the client certificate.
pub const CLIENT_CA_CN: &str = "Webhook1C Test Client CA";

static DIR_COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A certificate chain (leaf first) and its PKCS#8 private key.
#[derive(Debug)]
pub struct CertKey {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivatePkcs8KeyDer<'static>,
    /// Leaf certificate as PEM.
    pub cert_pem: String,
    /// Private key as PKCS#8 PEM.
    pub key_pem: String,
}

impl CertKey {
    fn key_der(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(self.key.clone_key())
    }
}

/// Every certificate the tests need. Cheap to make (ECDSA P-256 keys), but
/// [`TlsFixtures::shared`] gives one per process when files need not differ.
#[derive(Debug)]
pub struct TlsFixtures {
    /// Unique temp directory holding the PEM files below.
    pub dir: PathBuf,
    /// Test root CA certificate (signs all server certs except the unknown-CA one).
    pub ca_pem: String,
    /// `dir/ca.pem`.
    pub ca_path: PathBuf,
    /// Client certificate chain (leaf, then client CA) followed by the
    /// client's PKCS#8 private key, in one PEM text.
    pub client_pem: String,
    /// `dir/client.pem`.
    pub client_path: PathBuf,
    /// Client leaf certificate only (PEM).
    pub client_cert_pem: String,
    /// Client private key only (PKCS#8 PEM).
    pub client_key_pem: String,
    /// `dir/client-cert.pem` and `dir/client-key.pem`.
    pub client_cert_path: PathBuf,
    pub client_key_path: PathBuf,
    /// The CA that signs client certificates (PEM) and `dir/client-ca.pem`.
    pub client_ca_pem: String,
    pub client_ca_path: PathBuf,
    /// The self-signed "unknown CA" server certificate (PEM) and
    /// `dir/unknown-ca.pem`, should a test want to trust it explicitly.
    pub unknown_ca_pem: String,
    pub unknown_ca_path: PathBuf,
    /// Server cert for DNS `localhost` + IP 127.0.0.1, signed by the test CA.
    pub server: CertKey,
    /// Same names, signed by the test CA, valid 2020-01-01..2021-01-01.
    pub expired: CertKey,
    /// Signed by the test CA for DNS `wrong.example` only.
    pub wrong_name: CertKey,
    /// Self-signed for `localhost` + 127.0.0.1 (no known CA).
    pub unknown_ca: CertKey,
    /// Client leaf + client CA chain and key.
    pub client: CertKey,
    ca_der: CertificateDer<'static>,
    client_ca_der: CertificateDer<'static>,
    remove_dir_on_drop: bool,
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn ca_params(cn: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    dn.push(DnType::OrganizationName, "Webhook1C tests");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
}

fn leaf_params(cn: &str, names: &[&str], purpose: ExtendedKeyUsagePurpose) -> CertificateParams {
    let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    let mut params = CertificateParams::new(names).expect("valid subject alt names");
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    params.distinguished_name = dn;
    params.is_ca = IsCa::NoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![purpose];
    params.use_authority_key_identifier_extension = true;
    params
}

fn issue(params: CertificateParams, issuer: Option<&CertifiedIssuer<'static, KeyPair>>) -> CertKey {
    let key = KeyPair::generate().expect("generate key pair");
    let cert = match issuer {
        Some(issuer) => params.signed_by(&key, &**issuer),
        None => params.self_signed(&key),
    }
    .expect("sign certificate");
    let mut chain = vec![cert.der().clone()];
    if let Some(issuer) = issuer {
        chain.push(issuer.der().clone());
    }
    CertKey {
        chain,
        key: PrivatePkcs8KeyDer::from(key.serialize_der()),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    }
}

impl TlsFixtures {
    /// Generates a fresh set of certificates and writes them to a new temp
    /// directory (removed again when this value drops).
    pub fn new() -> Self {
        let ca = CertifiedIssuer::self_signed(
            ca_params(CA_CN),
            KeyPair::generate().expect("generate CA key"),
        )
        .expect("self-sign test CA");
        let client_ca = CertifiedIssuer::self_signed(
            ca_params(CLIENT_CA_CN),
            KeyPair::generate().expect("generate client CA key"),
        )
        .expect("self-sign client CA");

        let server_names = ["localhost", "127.0.0.1"];
        let server = issue(
            leaf_params(
                "localhost",
                &server_names,
                ExtendedKeyUsagePurpose::ServerAuth,
            ),
            Some(&ca),
        );
        let mut expired_params = leaf_params(
            "localhost",
            &server_names,
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        expired_params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        expired_params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        let expired = issue(expired_params, Some(&ca));
        let wrong_name = issue(
            leaf_params(
                "wrong.example",
                &["wrong.example"],
                ExtendedKeyUsagePurpose::ServerAuth,
            ),
            Some(&ca),
        );
        let unknown_ca = issue(
            leaf_params(
                "localhost",
                &server_names,
                ExtendedKeyUsagePurpose::ServerAuth,
            ),
            None,
        );
        let client = issue(
            leaf_params(CLIENT_CN, &[], ExtendedKeyUsagePurpose::ClientAuth),
            Some(&client_ca),
        );

        let ca_pem = ca.pem();
        let client_ca_pem = client_ca.pem();
        let client_pem = format!("{}{}{}", client.cert_pem, client_ca_pem, client.key_pem);

        let n = DIR_COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("webhook1c-tls-{}-{n}", std::process::id()));
        fs::create_dir_all(&dir).expect("create TLS fixture directory");
        let write = |name: &str, text: &str| {
            let path = dir.join(name);
            fs::write(&path, text).expect("write TLS fixture file");
            path
        };
        let ca_path = write("ca.pem", &ca_pem);
        let client_path = write("client.pem", &client_pem);
        let client_cert_path = write("client-cert.pem", &client.cert_pem);
        let client_key_path = write("client-key.pem", &client.key_pem);
        let client_ca_path = write("client-ca.pem", &client_ca_pem);
        let unknown_ca_path = write("unknown-ca.pem", &unknown_ca.cert_pem);

        TlsFixtures {
            ca_pem,
            ca_path,
            client_cert_pem: client.cert_pem.clone(),
            client_key_pem: client.key_pem.clone(),
            client_pem,
            client_path,
            client_cert_path,
            client_key_path,
            client_ca_pem,
            client_ca_path,
            unknown_ca_pem: unknown_ca.cert_pem.clone(),
            unknown_ca_path,
            server,
            expired,
            wrong_name,
            unknown_ca,
            client,
            ca_der: ca.der().clone(),
            client_ca_der: client_ca.der().clone(),
            dir,
            remove_dir_on_drop: true,
        }
    }

    /// One set of fixtures per test process (its directory is left in the
    /// temp dir when the process exits).
    pub fn shared() -> &'static TlsFixtures {
        static SHARED: OnceLock<TlsFixtures> = OnceLock::new();
        SHARED.get_or_init(|| {
            let mut fixtures = TlsFixtures::new();
            fixtures.remove_dir_on_drop = false;
            fixtures
        })
    }

    /// The test root CA certificate (DER).
    pub fn ca_der(&self) -> CertificateDer<'static> {
        self.ca_der.clone()
    }

    /// The client CA certificate (DER).
    pub fn client_ca_der(&self) -> CertificateDer<'static> {
        self.client_ca_der.clone()
    }

    /// localhost / 127.0.0.1 certificate from the test CA, no client auth.
    pub fn server_config(&self) -> Arc<ServerConfig> {
        config_without_client_auth(&self.server)
    }

    /// Like [`server_config`](Self::server_config) but requires a client
    /// certificate chaining to the client CA; without one the handshake fails.
    pub fn mtls_server_config(&self) -> Arc<ServerConfig> {
        self.client_auth_config(false)
    }

    /// Asks for a client certificate but also accepts clients without one.
    pub fn optional_mtls_server_config(&self) -> Arc<ServerConfig> {
        self.client_auth_config(true)
    }

    /// Certificate from the test CA whose validity ended on 2021-01-01.
    pub fn expired_server_config(&self) -> Arc<ServerConfig> {
        config_without_client_auth(&self.expired)
    }

    /// Certificate from the test CA for `wrong.example` only.
    pub fn wrong_name_server_config(&self) -> Arc<ServerConfig> {
        config_without_client_auth(&self.wrong_name)
    }

    /// Self-signed certificate for localhost that no test CA vouches for.
    pub fn unknown_ca_server_config(&self) -> Arc<ServerConfig> {
        config_without_client_auth(&self.unknown_ca)
    }

    fn client_auth_config(&self, optional: bool) -> Arc<ServerConfig> {
        let mut roots = RootCertStore::empty();
        roots
            .add(self.client_ca_der())
            .expect("add client CA to root store");
        let builder = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider());
        let builder = if optional {
            builder.allow_unauthenticated()
        } else {
            builder
        };
        let verifier = builder.build().expect("build client verifier");
        let mut config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_client_cert_verifier(verifier)
            .with_single_cert(self.server.chain.clone(), self.server.key_der())
            .expect("server certificate and key");
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Arc::new(config)
    }
}

impl Default for TlsFixtures {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TlsFixtures {
    fn drop(&mut self) {
        if self.remove_dir_on_drop {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

fn config_without_client_auth(cert: &CertKey) -> Arc<ServerConfig> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(cert.chain.clone(), cert.key_der())
        .expect("server certificate and key");
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

/// The subject common name of a DER certificate, found by scanning for the
/// last `id-at-commonName` attribute (the subject follows the issuer in the
/// TBS certificate). Good enough for the certificates made here.
pub fn subject_cn(der: &[u8]) -> Option<String> {
    const CN_OID: [u8; 5] = [0x06, 0x03, 0x55, 0x04, 0x03];
    let pos = der.windows(CN_OID.len()).rposition(|w| w == CN_OID)?;
    let rest = der.get(pos + CN_OID.len()..)?;
    let (&_tag, rest) = rest.split_first()?;
    let (&len, rest) = rest.split_first()?;
    let (len, rest) = if len < 0x80 {
        (usize::from(len), rest)
    } else if len == 0x81 {
        let (&len, rest) = rest.split_first()?;
        (usize::from(len), rest)
    } else {
        return None;
    };
    rest.get(..len)
        .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
}
