//! SIP over TLS as a client: the box's own connection to its registrar (`[registration]
//! transport = "tls"`), for REGISTER, the calls it places, and whatever the PBX sends back
//! over the same connection (RFC 5923 reuse: our Via carries `alias`).
//!
//! What an installer needs beyond "rustls connects":
//! - The registrar is verified like a browser verifies a site: a chain to the system trust
//!   store or to `tls_ca`, and the name (`tls_server_name`) checked; `tls_pin` narrows it to
//!   the certificates whose SHA-256 fingerprints it lists.
//! - A refusal says why in words an installer can act on (expired, wrong name, unknown CA,
//!   not the pinned certificate, a PBX that only speaks TLS 1.0/1.1), once per attempt.
//! - The connection is opened when there is something to send, and again after it drops; what
//!   was queued while it could not be opened is dropped (the transaction above times out and
//!   says so, as it would on a dead UDP path).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::client::WebPkiServerVerifier;
use tokio_rustls::rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls::{self, CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::transport::{TcpEvent, serve_stream};

/// The longest the TCP connect and the handshake may take together.
pub const CONNECT_LIMIT: Duration = Duration::from_secs(10);
/// A ping not answered within this means the connection is dead (RFC 5626 4.4.1).
pub const PONG_WAIT: Duration = Duration::from_secs(10);

/// The trunk's TLS settings (from `[registration]`).
#[derive(Clone, Debug)]
pub struct TrunkTls {
    /// The registrar: where the connection goes.
    pub addr: SocketAddr,
    /// The name its certificate must carry (a DNS name or an IP address).
    pub server_name: String,
    /// CA certificates to trust instead of the system store.
    pub ca: Option<PathBuf>,
    /// SHA-256 fingerprints of the only certificates accepted (empty: any the CA signed).
    pub pins: Vec<[u8; 32]>,
    /// Nothing heard from the registrar this long: a CRLFCRLF ping (RFC 5626 4.4.1 asks for 95
    /// to 120 s on streams; the default 90 keeps a NAT or firewall in between from dropping
    /// the connection).
    pub keepalive: Duration,
}

/// The TLS stream, noting what is read from it: the keep-alive pings when the registrar has
/// been quiet, and knows from the count whether the ping was answered.
struct Heard<S> {
    inner: S,
    hearing: Arc<Hearing>,
}

/// What has been read from the registrar's connection.
struct Hearing {
    since: std::time::Instant,
    /// Reads so far.
    reads: std::sync::atomic::AtomicU64,
    /// Milliseconds from `since` to the last read.
    last_ms: std::sync::atomic::AtomicU64,
}

impl Hearing {
    fn reads(&self) -> u64 {
        self.reads.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn last(&self) -> std::time::Instant {
        self.since + Duration::from_millis(self.last_ms.load(std::sync::atomic::Ordering::Relaxed))
    }
}

impl<S: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for Heard<S> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, std::task::Poll::Ready(Ok(()))) && buf.filled().len() > before {
            let h = &self.hearing;
            h.last_ms.store(h.since.elapsed().as_millis() as u64, std::sync::atomic::Ordering::Relaxed);
            h.reads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        polled
    }
}

impl<S: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for Heard<S> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// How forwarding to one connection ended.
enum Forwarded {
    /// The user agent is gone: so is the task.
    UaGone,
    /// The connection closed (its writer stopped).
    Closed,
    /// The registrar did not answer a ping: the connection is dead though TCP has not said so.
    Silent,
}

/// `name` as rustls checks it against a certificate, if it is a host name or an IP address.
pub fn server_name(name: &str) -> Option<ServerName<'static>> {
    ServerName::try_from(name.trim_start_matches('[').trim_end_matches(']').to_string()).ok()
}

/// A fingerprint as openssl prints it (`AB:CD:...`, any case, colons optional, an optional
/// `sha256:` or `SHA256 Fingerprint=` in front).
pub fn parse_pin(text: &str) -> Option<[u8; 32]> {
    let t = text.trim();
    let t = t.rsplit_once('=').map_or(t, |(_, v)| v);
    let t = t.strip_prefix("sha256:").or_else(|| t.strip_prefix("SHA256:")).unwrap_or(t);
    let hex: String = t.chars().filter(|c| *c != ':').collect();
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// The trust anchors: `tls_ca`, else the system's store.
fn roots(ca: Option<&PathBuf>) -> Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    match ca {
        Some(path) => {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                .with_context(|| format!("registration.tls_ca {}: cannot read it", path.display()))?
                .collect::<Result<_, _>>()
                .with_context(|| format!("registration.tls_ca {}: not PEM certificates", path.display()))?;
            let (added, _) = roots.add_parsable_certificates(certs);
            anyhow::ensure!(added > 0, "registration.tls_ca {}: no usable CA certificate in it", path.display());
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _) = roots.add_parsable_certificates(found.certs);
            anyhow::ensure!(
                added > 0,
                "registration: TLS to the registrar needs trusted CAs, and the system store is empty (Debian: apt install ca-certificates), or give registration.tls_ca"
            );
        }
    }
    Ok(roots)
}

/// The client configuration: TLS 1.3 and 1.2 only, the chain and name checked, pins on top.
pub(super) fn client_config(trunk: &TrunkTls) -> Result<Arc<ClientConfig>> {
    let roots = Arc::new(roots(trunk.ca.as_ref())?);
    let webpki = WebPkiServerVerifier::builder(roots).build().context("registration: the trusted CAs cannot be used")?;
    let builder = ClientConfig::builder_with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12]);
    let config = if trunk.pins.is_empty() {
        builder.with_webpki_verifier(webpki).with_no_client_auth()
    } else {
        builder.dangerous().with_custom_certificate_verifier(Arc::new(Pinned { webpki, pins: trunk.pins.clone() })).with_no_client_auth()
    };
    Ok(Arc::new(config))
}

/// The CA and name check, then the certificate must be one of the pins.
#[derive(Debug)]
struct Pinned {
    webpki: Arc<WebPkiServerVerifier>,
    pins: Vec<[u8; 32]>,
}

/// Raised by [`Pinned`]: the certificate verified but is not one of the pins.
#[derive(Debug)]
struct NotPinned;

impl std::fmt::Display for NotPinned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the certificate is not one of registration.tls_pin")
    }
}

impl std::error::Error for NotPinned {}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verified = self.webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)?;
        let fingerprint: [u8; 32] = sha2::Sha256::digest(end_entity.as_ref()).into();
        if self.pins.contains(&fingerprint) {
            Ok(verified)
        } else {
            Err(rustls::Error::InvalidCertificate(CertificateError::Other(rustls::OtherError(Arc::new(NotPinned)))))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

use sha2::Digest as _;

/// Why a connection to the registrar failed, in the installer's words.
pub fn explain(e: &std::io::Error, server_name: &str) -> String {
    let Some(tls) = e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) else {
        return format!("cannot connect: {e}");
    };
    use CertificateError as C;
    match tls {
        rustls::Error::InvalidCertificate(c) => match c {
            C::UnknownIssuer => "its certificate is not signed by a CA this box trusts (registration.tls_ca, or the system store)".into(),
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                format!("its certificate is not for {server_name:?} (the name checked is registration.tls_server_name, else domain)")
            }
            C::Expired | C::ExpiredContext { .. } => "its certificate has expired".into(),
            C::NotValidYet | C::NotValidYetContext { .. } => "its certificate is not valid yet (is the box's clock right?)".into(),
            C::Other(o) if o.to_string() == NotPinned.to_string() => {
                "its certificate is valid but not the pinned one (registration.tls_pin): a replaced certificate, or somebody in between"
                    .into()
            }
            other => format!("its certificate is refused: {other:?}"),
        },
        rustls::Error::AlertReceived(rustls::AlertDescription::ProtocolVersion)
        | rustls::Error::PeerIncompatible(rustls::PeerIncompatible::ServerDoesNotSupportTls12Or13) => {
            "it offers no TLS 1.2 or 1.3 (TLS 1.0 and 1.1 are refused)".into()
        }
        other => format!("TLS failed: {other}"),
    }
}

/// Connects and completes the handshake, within [`CONNECT_LIMIT`].
async fn connect(trunk: &TrunkTls, connector: &TlsConnector) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
    let name = server_name(&trunk.server_name).ok_or_else(|| std::io::Error::other("tls_server_name is not a host name"))?;
    let attempt = async {
        let tcp = tokio::net::TcpStream::connect(trunk.addr).await?;
        let _ = tcp.set_nodelay(true);
        connector.connect(name, tcp).await
    };
    tokio::time::timeout(CONNECT_LIMIT, attempt)
        .await
        .unwrap_or_else(|_| Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "no connection and handshake in 10 s")))
}

/// Starts the connection task; what is sent on the returned channel goes to the registrar,
/// what comes back arrives as [`TcpEvent`]s from `trunk.addr` (a TLS peer).
pub(super) fn start(trunk: TrunkTls, config: Arc<ClientConfig>, events: UnboundedSender<TcpEvent>) -> UnboundedSender<Vec<u8>> {
    let (tx, rx) = unbounded_channel();
    tokio::spawn(run(trunk, TlsConnector::from(config), rx, events));
    tx
}

async fn run(trunk: TrunkTls, connector: TlsConnector, mut rx: UnboundedReceiver<Vec<u8>>, events: UnboundedSender<TcpEvent>) {
    // Waits for something to send, so an idle box holds no connection it does not need.
    while let Some(first) = rx.recv().await {
        match connect(&trunk, &connector).await {
            Ok(stream) => {
                let version = stream.get_ref().1.protocol_version().map(|v| format!("{v:?}")).unwrap_or_default();
                tracing::info!(registrar = %trunk.addr, name = %trunk.server_name, version, "sip.tls: connected to the registrar, its certificate verified");
                let (out_tx, out_rx) = unbounded_channel();
                let _ = out_tx.send(first);
                let hearing =
                    Arc::new(Hearing { since: std::time::Instant::now(), reads: Default::default(), last_ms: Default::default() });
                let heard = Heard { inner: stream, hearing: hearing.clone() };
                // What the UA sends goes down this connection while it lasts. When the
                // registrar has been quiet for the keep-alive time it gets a ping; its CRLF pong
                // (framed and dropped by serve_stream) or anything else it sends answers it.
                let forward = async {
                    // When the ping went, and how many reads there had been by then.
                    let mut ping: Option<(std::time::Instant, u64)> = None;
                    let mut answered = false;
                    loop {
                        let wake = match ping {
                            Some((at, _)) => at + PONG_WAIT,
                            None => hearing.last() + trunk.keepalive,
                        };
                        tokio::select! {
                            bytes = rx.recv() => match bytes {
                                Some(bytes) => if out_tx.send(bytes).is_err() { return Forwarded::Closed },
                                None => return Forwarded::UaGone,
                            },
                            _ = tokio::time::sleep_until(wake.into()) => match ping {
                                Some((_, reads)) if hearing.reads() == reads => return Forwarded::Silent,
                                Some(_) => {
                                    if !answered {
                                        answered = true;
                                        tracing::info!(registrar = %trunk.addr, keepalive_s = trunk.keepalive.as_secs(), "sip.tls: the registrar answers keep-alives");
                                    }
                                    ping = None;
                                }
                                // Quiet long enough (not just woken early by rounding): ping.
                                None if hearing.last() + trunk.keepalive <= std::time::Instant::now() + Duration::from_millis(5) => {
                                    let reads = hearing.reads();
                                    let _ = out_tx.send(b"\r\n\r\n".to_vec());
                                    ping = Some((std::time::Instant::now(), reads));
                                }
                                None => {}
                            },
                        }
                    }
                };
                // serve_stream tells the user agent when the connection closes; when forwarding
                // ends first, the connection is dropped here and this task tells it (so that it
                // forgets the connection, and makes the registration made over it again).
                let ended = tokio::select! {
                    _ = serve_stream(heard, trunk.addr, events.clone(), true, (out_tx.clone(), out_rx)) => None,
                    ended = forward => Some(ended),
                };
                match ended {
                    Some(Forwarded::UaGone) => return,
                    None | Some(Forwarded::Closed) => {
                        tracing::info!(registrar = %trunk.addr, "sip.tls: the connection to the registrar closed; it is opened again when needed");
                    }
                    Some(Forwarded::Silent) => {
                        tracing::warn!(
                            registrar = %trunk.addr,
                            "sip.tls: the registrar did not answer a keep-alive within {} s: the connection is dead; it is opened again when needed",
                            PONG_WAIT.as_secs()
                        );
                    }
                }
                if ended.is_some() {
                    let _ = events.send(TcpEvent::Closed(trunk.addr));
                }
            }
            Err(e) => {
                let dropped = std::iter::from_fn(|| rx.try_recv().ok()).count() + 1;
                let why = explain(&e, &trunk.server_name);
                tracing::warn!(registrar = %trunk.addr, dropped, "sip.tls: the registrar refused: {why}");
                let _ = events.send(TcpEvent::Unreachable(trunk.addr, format!("TLS: {why}")));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_are_read_as_openssl_prints_them() {
        let colons = "SHA256 Fingerprint=3A:0B:7C:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD";
        let pin = parse_pin(colons).unwrap();
        assert_eq!(pin[0], 0x3a);
        assert_eq!(pin[31], 0xdd);
        assert_eq!(parse_pin(&colons.replace(':', "").replace("SHA256 Fingerprint=", "").to_lowercase()), Some(pin));
        assert_eq!(parse_pin("sha256:3a0b"), None, "too short");
        assert_eq!(parse_pin(&"zz".repeat(32)), None, "not hex");
    }

    #[test]
    fn names_and_addresses_are_server_names() {
        assert!(server_name("pbx.clinic.local").is_some());
        assert!(server_name("192.168.1.10").is_some());
        assert!(server_name("[::1]").is_some());
        assert!(server_name("not a name").is_none());
    }
}
