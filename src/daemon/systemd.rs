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

use crate::config::Config;
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

/// What the shipped unit's `IPAddressAllow=` lets through besides `localhost`: the networks a
/// clinic's PBX and phones live on. Keep in step with `systemd/frontdesk.service`
/// (tests/unit_file.rs checks).
pub const UNIT_ALLOWED: &[&str] = &[
    "127.0.0.0/8",
    "::1/128",
    "169.254.0.0/16",
    "fe80::/10",
    "224.0.0.0/4",
    "ff00::/8",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "fc00::/7",
];

/// `frontdesk unit network`: a drop-in adding to the unit's `IPAddressAllow=` the peers of the
/// config it does not already allow (a trunk or PBX on a public address: `[registration]
/// registrar`, `[sip] outbound_proxy` and `allowed_sources`) and the `also` networks (a trunk's
/// media servers, which the config cannot know).
pub fn network_dropin(config: &Config, also: &[String]) -> anyhow::Result<String> {
    use crate::sip::acl::Cidr;
    let mut peers: Vec<(Cidr, String)> = Vec::new();
    if let Some(sip) = &config.sip {
        for s in &sip.allowed_sources {
            peers.extend(Cidr::parse(s).map(|c| (c, "[sip] allowed_sources".to_string())));
        }
        if let Some(p) = sip.outbound_proxy {
            peers.extend(Cidr::parse(&p.ip().to_string()).map(|c| (c, "[sip] outbound_proxy".to_string())));
        }
    }
    if let Some(addr) = config.registration.as_ref().and_then(|r| r.registrar_addr()) {
        peers.extend(Cidr::parse(&addr.ip().to_string()).map(|c| (c, "[registration] registrar".to_string())));
    }
    for a in also {
        let c = Cidr::parse(a).ok_or_else(|| anyhow::anyhow!("--also {a:?} is not an address or network (CIDR)"))?;
        peers.push((c, "--also".to_string()));
    }
    let allowed: Vec<Cidr> = UNIT_ALLOWED.iter().filter_map(|s| Cidr::parse(s)).collect();
    let mut add: Vec<(Cidr, String)> = Vec::new();
    for (c, from) in peers {
        if !allowed.iter().any(|a| c.within(a)) && !add.iter().any(|(x, _)| *x == c) {
            add.push((c, from));
        }
    }
    let mut out = format!(
        "# /etc/systemd/system/frontdesk.service.d/network.conf, from {} by `frontdesk unit network`.\n\
         # Then: systemctl daemon-reload && systemctl restart frontdesk\n",
        config.path.display()
    );
    if add.is_empty() {
        out.push_str("# Every peer of the config is on loopback or a private network, which the unit allows already.\n");
        return Ok(out);
    }
    for (c, from) in &add {
        out.push_str(&format!("#   {c}: {from}\n"));
    }
    let list: Vec<String> = add.iter().map(|(c, _)| c.to_string()).collect();
    out.push_str(&format!("[Service]\nIPAddressAllow={}\n", list.join(" ")));
    Ok(out)
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
