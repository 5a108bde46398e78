//! `[tls]` checked at construction: the files are read and parsed here, once, so a missing CA
//! file, an unreadable key or a key that does not belong to its certificate fails when the
//! client is built, naming the key. The connection layer builds its TLS client from the
//! material kept here (fresh per process, so a forked child never shares the parent's TLS
//! session cache or its locks).

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

use super::spec::TlsSpec;
use crate::error::{Error, Result};

/// Certificates the client trusts.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum TrustRoots {
    /// The platform's root certificates (`rustls-native-certs`).
    Platform,
    /// The certificates of `tls.ca_file` only.
    File {
        /// The configured path.
        path: String,
        /// The certificates read from it (DER).
        certs: Vec<Vec<u8>>,
    },
}

/// A client certificate chain and its key (mutual TLS).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ClientIdentity {
    /// `tls.cert_file`.
    pub cert_file: String,
    /// `tls.key_file`.
    pub key_file: String,
    pub(crate) chain: Vec<Vec<u8>>,
    key: KeyBytes,
}

/// A private key's DER bytes: never printed.
#[derive(Clone, PartialEq, Eq, Hash)]
struct KeyBytes(Vec<u8>);

impl ClientIdentity {
    /// The chain and key in rustls' types.
    pub(crate) fn material(
        &self,
    ) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
        let chain = self
            .chain
            .iter()
            .map(|c| CertificateDer::from(c.clone()))
            .collect();
        let key = PrivateKeyDer::try_from(self.key.0.clone())
            .map_err(|_| Error::config("tls.key_file", "not a private key"))?;
        Ok((chain, key))
    }
}

impl fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientIdentity")
            .field("cert_file", &self.cert_file)
            .field("key_file", &self.key_file)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for TrustRoots {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrustRoots::Platform => f.write_str("Platform"),
            TrustRoots::File { path, certs } => {
                write!(f, "File({path:?}, {} certificates)", certs.len())
            }
        }
    }
}

/// Checked TLS settings: applied to every node, the ones learned from the cluster included.
#[derive(Debug, Clone)]
pub struct TlsConfig {
    /// Whom to trust.
    pub roots: TrustRoots,
    /// The client certificate, for mutual TLS.
    pub identity: Option<ClientIdentity>,
    /// Verify every node against this name instead of its host (also sent as SNI).
    pub server_name: Option<ServerName<'static>>,
    /// Certificates and names are not verified.
    pub insecure_skip_verify: bool,
}

impl PartialEq for TlsConfig {
    fn eq(&self, other: &Self) -> bool {
        self.roots == other.roots
            && self.identity == other.identity
            && self.server_name.as_ref().map(|n| n.to_str())
                == other.server_name.as_ref().map(|n| n.to_str())
            && self.insecure_skip_verify == other.insecure_skip_verify
    }
}

impl Eq for TlsConfig {}

impl Hash for TlsConfig {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.roots.hash(state);
        self.identity.hash(state);
        self.server_name.as_ref().map(|n| n.to_str()).hash(state);
        self.insecure_skip_verify.hash(state);
    }
}

/// Turn `[tls]` into a [`TlsConfig`] (None: plaintext; `rediss://` URLs set `tls.enabled`).
pub(super) fn validate(spec: Option<&TlsSpec>) -> Result<Option<TlsConfig>> {
    let Some(spec) = spec else {
        return Ok(None);
    };
    if spec.enabled == Some(false) {
        return Ok(None);
    }
    let roots = match &spec.ca_file {
        None => TrustRoots::Platform,
        Some(path) => TrustRoots::File {
            path: path.clone(),
            certs: read_certs(path, "tls.ca_file")?,
        },
    };
    let identity = match (&spec.cert_file, &spec.key_file) {
        (None, None) => None,
        (Some(_), None) => {
            return Err(Error::config(
                "tls.key_file",
                "missing (tls.cert_file needs its private key)",
            ));
        }
        (None, Some(_)) => {
            return Err(Error::config(
                "tls.cert_file",
                "missing (tls.key_file needs its certificate)",
            ));
        }
        (Some(cert), Some(key)) => Some(ClientIdentity {
            cert_file: cert.clone(),
            key_file: key.clone(),
            chain: read_certs(cert, "tls.cert_file")?,
            key: KeyBytes(read_key(key)?),
        }),
    };
    let server_name = match &spec.server_name {
        None => None,
        Some(name) => Some(ServerName::try_from(name.clone()).map_err(|_| {
            Error::config(
                "tls.server_name",
                format!("{name:?} is neither a DNS name nor an IP address"),
            )
        })?),
    };
    let tls = TlsConfig {
        roots,
        identity,
        server_name,
        insecure_skip_verify: spec.insecure_skip_verify.unwrap_or(false),
    };
    // A key that does not match its certificate, or a CA file rustls cannot use, fails here
    // rather than on the first connection: build the client once now. With the platform's
    // roots and no client certificate there is nothing to check but that roots exist, and
    // building the root store costs ~150 µs, which PHP would pay on every request (it
    // constructs its client per request; the core behind it is built once).
    if tls.identity.is_some() || matches!(tls.roots, TrustRoots::File { .. }) {
        client_config(&tls)?;
    } else if !tls.insecure_skip_verify {
        platform_roots()?;
    }
    Ok(Some(tls))
}

fn read_file(path: &str, key: &str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::config(key, format!("cannot read {path}: {e}")))
}

fn read_certs(path: &str, key: &str) -> Result<Vec<Vec<u8>>> {
    let bytes = read_file(path, key)?;
    let mut certs = Vec::new();
    for cert in CertificateDer::pem_slice_iter(&bytes) {
        let cert = cert.map_err(|e| {
            Error::config(
                key,
                format!("{path} is not a valid PEM certificate file: {e}"),
            )
        })?;
        certs.push(cert.as_ref().to_vec());
    }
    if certs.is_empty() {
        return Err(Error::config(
            key,
            format!("{path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)"),
        ));
    }
    Ok(certs)
}

fn read_key(path: &str) -> Result<Vec<u8>> {
    let bytes = read_file(path, "tls.key_file")?;
    // The parser's own error text is not shown: it could quote the file.
    let key = PrivateKeyDer::from_pem_slice(&bytes).map_err(|_| {
        Error::config(
            "tls.key_file",
            format!("{path} holds no PEM private key (PKCS#8, PKCS#1 or SEC1)"),
        )
    })?;
    Ok(key.secret_der().to_vec())
}

/// The platform's roots, read once per process.
pub(crate) fn platform_roots() -> Result<&'static [CertificateDer<'static>]> {
    static ROOTS: std::sync::OnceLock<Vec<CertificateDer<'static>>> = std::sync::OnceLock::new();
    let roots = ROOTS.get_or_init(|| rustls_native_certs::load_native_certs().certs);
    if roots.is_empty() {
        return Err(Error::config(
            "tls.ca_file",
            "missing: the platform has no root certificates (set tls.ca_file)",
        ));
    }
    Ok(roots)
}

/// The rustls client for `tls`: a new one per call (and so a new session cache).
pub(crate) fn client_config(tls: &TlsConfig) -> Result<Arc<rustls::ClientConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::config("tls", format!("TLS set-up: {e}")))?;
    let builder = if tls.insecure_skip_verify {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(super::insecure::SkipVerify(provider)))
    } else {
        let mut store = rustls::RootCertStore::empty();
        match &tls.roots {
            TrustRoots::Platform => {
                // Some platform roots may not parse; the ones that do are enough.
                store.add_parsable_certificates(platform_roots()?.iter().cloned());
            }
            TrustRoots::File { path, certs } => {
                for cert in certs {
                    store.add(CertificateDer::from(cert.clone())).map_err(|e| {
                        Error::config(
                            "tls.ca_file",
                            format!("{path}: not a usable CA certificate: {e}"),
                        )
                    })?;
                }
            }
        }
        builder.with_root_certificates(store)
    };
    let config = match &tls.identity {
        None => builder.with_no_client_auth(),
        Some(id) => {
            let (chain, key) = id.material()?;
            builder.with_client_auth_cert(chain, key).map_err(|e| {
                let why = match e {
                    rustls::Error::InconsistentKeys(_) => {
                        format!("{} is not the key of {}", id.key_file, id.cert_file)
                    }
                    _ => format!("{} cannot be used with {}", id.key_file, id.cert_file),
                };
                Error::config("tls.key_file", why)
            })?
        }
    };
    Ok(Arc::new(config))
}

/// A client for [`crate::conn`]'s TLS probe: it only sends a ClientHello to see whether a
/// port speaks TLS, so nothing is verified and no session is kept (no lock to inherit).
pub(crate) fn probe_client_config() -> Option<Arc<rustls::ClientConfig>> {
    static PROBE: std::sync::OnceLock<Option<Arc<rustls::ClientConfig>>> =
        std::sync::OnceLock::new();
    PROBE
        .get_or_init(|| {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let mut config = rustls::ClientConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()
                .ok()?
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(super::insecure::SkipVerify(provider)))
                .with_no_client_auth();
            config.resumption = rustls::client::Resumption::disabled();
            Some(Arc::new(config))
        })
        .clone()
}
