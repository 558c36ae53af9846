//! Getting SIP messages in and out: UDP datagrams, and TCP connections framed by
//! `sip::wire` (a connection task per peer, feeding the user agent's loop).

use std::net::SocketAddr;
use std::time::Duration;

use super::*;

/// What connection tasks tell the UA task.
pub(super) enum TcpEvent {
    /// A connection is up: what to write to it, and whether it is TLS (its dialogs get a
    /// `transport=tls` Contact).
    Opened(SocketAddr, UnboundedSender<Vec<u8>>, bool),
    Message(Vec<u8>, SocketAddr),
    /// A request that could be answered but not framed: answer, then the connection is closed.
    Rejected(Vec<u8>, SocketAddr),
    Closed(SocketAddr),
    /// A connection the box opens (to the registrar over TLS) could not be made: why, in the
    /// installer's words. What waited for it fails now rather than at its timer.
    Unreachable(SocketAddr, String),
}

/// Accepts SIP over TCP; each connection is served by [`serve_stream`].
pub(super) async fn accept_tcp(listener: tokio::net::TcpListener, events: UnboundedSender<TcpEvent>) {
    loop {
        let Ok((stream, peer)) = listener.accept().await else { continue };
        tokio::spawn(serve_stream(stream, peer, events.clone(), false, unbounded_channel()));
    }
}

/// One stream connection (TCP, or TLS once its handshake is done): a task writes what comes
/// on `out` (the UA's answers and requests; a connection the box opened may have some queued
/// already), this one frames what comes in (Content-Length, as RFC 3261 18.3 requires on
/// streams) until the peer closes or sends what cannot be framed.
pub(super) async fn serve_stream<S>(
    stream: S,
    peer: SocketAddr,
    events: UnboundedSender<TcpEvent>,
    tls: bool,
    out: (UnboundedSender<Vec<u8>>, UnboundedReceiver<Vec<u8>>),
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + 'static,
{
    let (mut reader, mut writer) = tokio::io::split(stream);
    let (out_tx, mut out_rx) = out;
    if events.send(TcpEvent::Opened(peer, out_tx.clone(), tls)).is_err() {
        return;
    }
    tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        while let Some(bytes) = out_rx.recv().await {
            if writer.write_all(&bytes).await.is_err() || writer.flush().await.is_err() {
                break;
            }
        }
        let _ = writer.shutdown().await;
    });
    use tokio::io::AsyncReadExt;
    let mut buf: Vec<u8> = Vec::with_capacity(8192);
    let mut chunk = [0u8; 8192];
    'conn: loop {
        match reader.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        loop {
            match wire::frame_stream(&buf, &POLICY) {
                Ok(wire::Frame::Message(len)) => {
                    let msg: Vec<u8> = buf.drain(..len).collect();
                    let _ = events.send(TcpEvent::Message(msg, peer));
                }
                Ok(wire::Frame::KeepAlive(len)) => {
                    // A ping (CRLFCRLF) gets its pong (CRLF), RFC 5626 3.5.1.
                    if len == 4 {
                        let _ = out_tx.send(b"\r\n".to_vec());
                    }
                    buf.drain(..len);
                }
                Ok(wire::Frame::Incomplete) => break,
                Err(e) => {
                    if let Some(rej) = e.rejection {
                        let tag = format!("{:08x}", rand_u32());
                        let _ = events.send(TcpEvent::Rejected(wire::rejection_response(&rej, &tag, "frontdesk"), peer));
                    }
                    tracing::debug!(reason = %e.reason, "closing a stream connection that cannot be framed");
                    break 'conn;
                }
            }
        }
    }
    // Give a rejection time to be written before the writer goes with the connection.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let _ = events.send(TcpEvent::Closed(peer));
}

impl UserAgent {
    pub(super) async fn drain_incoming(&mut self) {
        let mut buf = vec![0u8; 65_536];
        while let Ok((n, from)) = self.socket.try_recv_from(&mut buf) {
            let bytes = buf[..n].to_vec();
            self.on_datagram(&bytes, from).await;
        }
    }

    /// Over the stream connection to `to` if there is one, else to the registrar over TLS
    /// when the trunk uses it (the connection is opened for it), else over UDP.
    pub(super) async fn send(&self, bytes: &[u8], to: SocketAddr) {
        if let Some(conn) = self.tcp_conns.get(&to) {
            let _ = conn.send(bytes.to_vec());
            return;
        }
        if let Some((addr, trunk)) = &self.trunk
            && *addr == to
        {
            let _ = trunk.send(bytes.to_vec());
            return;
        }
        let _ = self.socket.send_to(bytes, to).await;
    }
}
