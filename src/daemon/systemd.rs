//! What the daemon tells systemd, and the signals it stops on.

/// Tells systemd (Type=notify) how start-up and shutdown go: "READY=1", "STOPPING=1". A no-op
/// outside systemd.
pub fn notify(state: &str) {
    if let Some(path) = std::env::var_os("NOTIFY_SOCKET")
        && let Ok(sock) = std::os::unix::net::UnixDatagram::unbound()
    {
        let _ = sock.send_to(state.as_bytes(), path);
    }
}

/// Resolves at SIGTERM (systemctl stop) or SIGINT (Ctrl-C).
pub async fn termination() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}
