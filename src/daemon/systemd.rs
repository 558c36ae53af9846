//! What the daemon tells systemd (`sd_notify`), the watchdog, and the signals it stops on.
//!
//! The protocol is a datagram of `KEY=value` lines to the socket named by `NOTIFY_SOCKET`
//! (sd_notify(3)); outside systemd every call here is a no-op. What is sent, and when:
//!
//! - `STATUS=` as start-up goes ("verifying models", "loading models") and then every few
//!   seconds when it changes: calls in progress and each line's phrase (`health::status`).
//! - `READY=1` when every line is ready; `RELOADING=1` + `MONOTONIC_USEC=` before a reload
//!   and `READY=1` after it; `STOPPING=1` at SIGTERM.
//! - `WATCHDOG=1` every half of `WatchdogSec=` (`WATCHDOG_USEC`), but only while no loop of
//!   the box is stuck (`health::stalled`). A stuck loop is named in the journal and in
//!   `STATUS=`, and the pings stop: systemd restarts the service.

use std::time::Duration;

use crate::line::CallSlots;

/// Sends one notification. A no-op outside systemd.
pub fn notify(state: &str) {
    if let Some(path) = std::env::var_os("NOTIFY_SOCKET")
        && let Ok(sock) = std::os::unix::net::UnixDatagram::unbound()
    {
        // An abstract socket ("@name") is named with a leading NUL byte.
        let sent = match path.to_str().and_then(|p| p.strip_prefix('@')) {
            Some(name) => abstract_addr(name).and_then(|a| sock.send_to_addr(state.as_bytes(), &a)),
            None => sock.send_to(state.as_bytes(), path),
        };
        if let Err(e) = sent {
            tracing::debug!("cannot notify systemd: {e}");
        }
    }
}

fn abstract_addr(name: &str) -> std::io::Result<std::os::unix::net::SocketAddr> {
    use std::os::linux::net::SocketAddrExt;
    std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())
}

/// `STATUS=` with a phrase for `systemctl status`.
pub fn status(phrase: &str) {
    notify(&format!("STATUS={phrase}"));
}

/// `RELOADING=1` with the monotonic time systemd wants beside it (systemd 253 and later check
/// it; older ones ignore it).
pub fn reloading() {
    notify(&format!("RELOADING=1\nMONOTONIC_USEC={}\nSTATUS=reloading the configuration", monotonic_usec()));
}

fn monotonic_usec() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes only the timespec we pass, which lives across the call.
    unsafe {
        libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts);
    }
    ts.tv_sec as u64 * 1_000_000 + ts.tv_nsec as u64 / 1000
}

/// `WatchdogSec=` as systemd passes it: `WATCHDOG_USEC`, for this process (`WATCHDOG_PID`,
/// when set, must be ours).
pub fn watchdog_interval() -> Option<Duration> {
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.trim().parse().ok()?;
    if let Ok(pid) = std::env::var("WATCHDOG_PID")
        && pid.trim().parse::<u32>().ok() != Some(std::process::id())
    {
        return None;
    }
    (usec > 0).then(|| Duration::from_micros(usec))
}

/// A loop stuck for this long (or half the watchdog interval, if longer) stops the pings.
/// Below it, a busy box's slow transcription is not mistaken for a wedged one.
const MIN_STALL: Duration = Duration::from_secs(2);
/// How often the status line is refreshed when there is no watchdog.
const STATUS_EVERY: Duration = Duration::from_secs(5);

/// The thread that feeds the watchdog and keeps `STATUS=` current, from READY=1 on.
pub fn start_watchdog(slots: CallSlots) {
    let interval = watchdog_interval();
    let (period, limit) = match interval {
        Some(i) => ((i / 2).min(STATUS_EVERY), (i / 2).max(MIN_STALL)),
        None => (STATUS_EVERY, Duration::MAX),
    };
    if let Some(i) = interval {
        tracing::info!(interval_s = i.as_secs_f32(), stall_s = limit.as_secs_f32(), "watchdog on: pinged while every loop makes progress");
    }
    let _ = std::thread::Builder::new().name("watchdog".into()).spawn(move || {
        let mut last_status = String::new();
        let mut stalled_before = false;
        loop {
            let stalls = if interval.is_some() { crate::health::stalled(limit) } else { Vec::new() };
            let mut phrase = box_status(&slots);
            if let Some(first) = stalls.first() {
                if !stalled_before {
                    tracing::error!("watchdog: {first}: no longer telling systemd the service is alive, so it will be restarted");
                }
                phrase = format!("stalled: {first}");
            } else if stalled_before {
                tracing::warn!("watchdog: every loop is making progress again");
            }
            stalled_before = !stalls.is_empty();
            let mut message = String::new();
            if phrase != last_status {
                message = format!("STATUS={phrase}");
                last_status = phrase;
            }
            if interval.is_some() && stalls.is_empty() {
                if !message.is_empty() {
                    message.push('\n');
                }
                message.push_str("WATCHDOG=1");
            }
            if !message.is_empty() {
                notify(&message);
            }
            std::thread::sleep(period);
        }
    });
}

/// "2 calls; sip: registered to pbx.example; fxo front: on hook".
pub fn box_status(slots: &CallSlots) -> String {
    let calls = match slots.in_use() {
        0 => "no calls".to_string(),
        1 => "1 call".to_string(),
        n => format!("{n} calls"),
    };
    std::iter::once(calls).chain(crate::health::status()).collect::<Vec<_>>().join("; ")
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
