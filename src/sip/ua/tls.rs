//! SIP over TLS, the server side (`[sip.tls]`, RFC 3261 26.2, port 5061): the clinic's PBX or
//! trunk connects, and what comes through the tunnel is framed like TCP.
//!
//! What a box on a clinic network needs beyond "rustls accepts":
//! - TLS 1.2 and 1.3 only, rustls's safe cipher suites; anything older is refused in the
//!   handshake and said so in the log with the peer's address.
//! - A renewed certificate is taken without a restart: the files' modification times are
//!   checked at each new connection and the pair reloaded when either changed (a reload that
//!   fails keeps the pair that worked, and says why).
//! - A slow or half-open client cannot hold the box: a handshake must finish within
//!   `HANDSHAKE_LIMIT`, and one source address may hold at most `PER_SOURCE` connections
//!   (`TOTAL` in all); beyond that a connection is closed at once, logged once.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;

use super::transport::{TcpEvent, serve_stream};
use super::*;

/// The longest a client may take to finish the handshake.
pub const HANDSHAKE_LIMIT: Duration = Duration::from_secs(5);
/// Connections one address may hold at once (a PBX needs one or two).
pub const PER_SOURCE: usize = 8;
/// Connections in all.
pub const TOTAL: usize = 64;

/// Where the box listens for TLS and the certificate it shows.
#[derive(Clone, Debug)]
pub struct TlsListen {
    pub listen: SocketAddr,
    pub certificate: PathBuf,
    pub key: PathBuf,
}

/// The certificate pair, reloaded when renewed (`crate::tls_files`).
pub(super) struct Certificates(crate::tls_files::Reloading);

impl Certificates {
    /// Loads the pair now: a bad file stops the start with its name.
    pub(super) fn new(files: TlsListen) -> Result<Certificates> {
        Ok(Certificates(crate::tls_files::Reloading::new(&files.certificate, &files.key, "sip.tls")?))
    }

    fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        self.0.acceptor()
    }
}

/// Connections held, by source address.
#[derive(Default)]
struct Held(Mutex<HashMap<IpAddr, usize>>);

impl Held {
    fn take(&self, ip: IpAddr) -> bool {
        let mut m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let total: usize = m.values().sum();
        let n = m.entry(ip).or_default();
        if *n >= PER_SOURCE || total >= TOTAL {
            return false;
        }
        *n += 1;
        true
    }

    fn give_back(&self, ip: IpAddr) {
        let mut m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = m.get_mut(&ip) {
            *n -= 1;
            if *n == 0 {
                m.remove(&ip);
            }
        }
    }
}

/// Accepts SIP over TLS until the listener fails; each connection, once its handshake is
/// done, is served like a TCP one.
pub(super) async fn accept_tls(listener: tokio::net::TcpListener, certs: Arc<Certificates>, events: UnboundedSender<TcpEvent>) {
    let held = Arc::new(Held::default());
    loop {
        let Ok((stream, peer)) = listener.accept().await else { continue };
        if !held.take(peer.ip()) {
            tracing::warn!(source = %peer.ip(), per_source = PER_SOURCE, total = TOTAL, "sip.tls: too many connections, this one closed");
            drop(stream);
            continue;
        }
        let acceptor = certs.acceptor();
        let (events, held) = (events.clone(), held.clone());
        tokio::spawn(async move {
            match tokio::time::timeout(HANDSHAKE_LIMIT, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => {
                    let version = tls.get_ref().1.protocol_version().map(|v| format!("{v:?}")).unwrap_or_default();
                    tracing::debug!(%peer, version, "sip.tls: connection");
                    serve_stream(tls, peer, events, true, unbounded_channel()).await;
                }
                Ok(Err(e)) => tracing::warn!(source = %peer.ip(), "sip.tls: handshake refused: {e}"),
                Err(_) => tracing::warn!(source = %peer.ip(), limit_s = HANDSHAKE_LIMIT.as_secs(), "sip.tls: no handshake in time, closed"),
            }
            held.give_back(peer.ip());
        });
    }
}
