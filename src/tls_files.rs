//! A TLS server's certificate and key from PEM files, reloaded when renewed: what SIP over TLS
//! (`[sip.tls]`) and the web inbox (`[web]`) both need. TLS 1.2 and 1.3 only, rustls's safe
//! suites. The files' modification times are checked at each new connection and the pair
//! reloaded when either changed; a reload that fails keeps the pair that worked, and says why.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use anyhow::{Context, Result, bail};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::{self, ServerConfig};

/// The acceptor, rebuilt when the certificate or key file changes.
pub struct Reloading {
    certificate: PathBuf,
    key: PathBuf,
    /// The config section, for messages ("sip.tls", "web").
    what: &'static str,
    current: Mutex<(TlsAcceptor, (Option<SystemTime>, Option<SystemTime>))>,
}

fn modified(p: &Path) -> Option<SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

fn load(certificate: &Path, key: &Path, what: &str) -> Result<TlsAcceptor> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(certificate)
        .with_context(|| format!("{what}.certificate {}: cannot read it", certificate.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("{what}.certificate {}: not a PEM certificate chain", certificate.display()))?;
    if certs.is_empty() {
        bail!("{what}.certificate {}: no certificate in it (PEM, the server's first, then its chain)", certificate.display());
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("{what}.key {}: no PEM private key in it (or unreadable)", key.display()))?;
    // The crypto provider is the one this build has (ring); versions are named, not defaulted.
    let config = ServerConfig::builder_with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .with_context(|| format!("{what}: the key does not go with the certificate"))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

impl Reloading {
    /// Loads the pair now: a bad file stops the start with its name.
    pub fn new(certificate: &Path, key: &Path, what: &'static str) -> Result<Reloading> {
        let acceptor = load(certificate, key, what)?;
        let stamp = (modified(certificate), modified(key));
        Ok(Reloading { certificate: certificate.to_path_buf(), key: key.to_path_buf(), what, current: Mutex::new((acceptor, stamp)) })
    }

    /// The acceptor for a new connection, reloaded first if a file changed.
    pub fn acceptor(&self) -> TlsAcceptor {
        let mut cur = self.current.lock().unwrap_or_else(|p| p.into_inner());
        let stamp = (modified(&self.certificate), modified(&self.key));
        if stamp != cur.1 {
            cur.1 = stamp;
            match load(&self.certificate, &self.key, self.what) {
                Ok(a) => {
                    tracing::info!(certificate = %self.certificate.display(), "{}: certificate reloaded", self.what);
                    cur.0 = a;
                }
                Err(e) => tracing::error!("{}: the changed certificate cannot be used, keeping the previous one: {e:#}", self.what),
            }
        }
        cur.0.clone()
    }
}
