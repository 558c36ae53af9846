//! The media of one call: a thread that keeps the 20 ms clock.
//!
//! Each tick it drains the RTP socket into the jitter buffer, hands one frame of the caller's
//! audio to the call, and sends one frame of ours. Deadlines are absolute (start + n * 20 ms), so
//! a late tick does not push every later packet back; a thread of its own (not a task on the
//! async reactor) keeps that pace whatever whisper or the voice are doing on other cores.

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::dtmf::{DtmfReceiver, DtmfSender, TelephoneEvent};
use super::jitter::{JitterBuffer, JitterDepth, Playout, conceal};
use super::pacing::PacingStats;
use super::packet::{RtpHeader, RtpPacket};
use super::srtp::Srtp;
use crate::audio::g711::Law;
use crate::line::{FRAME_SAMPLES, Frame, LineEvent};

const TICK: Duration = Duration::from_millis(20);
/// How long a key press we send lasts, and the audio between two (what PBX IVRs accept).
const DTMF_MS: u32 = 100;
const DTMF_GAP_TICKS: u32 = 3;

/// What the SIP side negotiated; may change mid-call (re-INVITE: hold, new address).
#[derive(Clone, Debug)]
pub struct MediaParams {
    pub law: Law,
    pub payload_type: u8,
    pub telephone_event_pt: Option<u8>,
    /// Where the peer said to send; replaced by where its packets really come from (symmetric
    /// RTP), because a phone behind NAT announces an address nobody can reach.
    pub remote: Option<SocketAddr>,
    /// False while the peer has us on hold (it sent sendonly or inactive).
    pub send: bool,
    /// Read when the session starts; a re-INVITE does not change it.
    pub jitter: JitterDepth,
    /// SRTP keys when the call's media is encrypted; a re-INVITE with new keys re-keys.
    pub srtp: Option<super::srtp::Keys>,
}

/// Counters a test or an operator can read; no caller data.
#[derive(Clone, Debug, Default)]
pub struct MediaStats {
    pub packets_sent: u64,
    pub packets_received: u64,
    pub packets_invalid: u64,
    pub frames_missing: u64,
    /// The jitter buffer's delay when the call ended (it grows on a late network).
    pub jitter_ms: u32,
    pub dtmf_digits: u64,
    pub rtcp_sent: u64,
    pub rtcp_received: u64,
    /// |actual send interval - 20 ms|, microseconds, one count per packet sent after the first.
    pub pacing: PacingStats,
}

impl MediaStats {
    /// (p50, p99) of the pacing deviation in microseconds.
    pub fn pacing_percentiles(&self) -> (u32, u32) {
        (self.pacing.percentile_us(50), self.pacing.percentile_us(99))
    }
}

pub struct MediaControl {
    stop: AtomicBool,
    params: Mutex<MediaParams>,
    /// Bumped by every `update`, so the 20 ms loop takes the lock and copies the parameters
    /// only when they changed (a re-INVITE), not on every tick.
    params_version: AtomicU64,
    /// Bumped by `clear_output`: frames written before it are dropped, not played.
    pub output_generation: AtomicU64,
    stats: Mutex<MediaStats>,
    /// Key presses to send as RFC 4733 events, in order; `dtmf_pending` lets the 20 ms loop
    /// skip the lock when there are none (nearly always).
    dtmf_queue: Mutex<std::collections::VecDeque<char>>,
    dtmf_pending: AtomicBool,
}

impl MediaControl {
    /// Queues key presses (0-9, *, #, A-D) to send to the peer; other characters are skipped.
    pub fn queue_dtmf(&self, digits: &str) {
        let mut q = self.dtmf_queue.lock().unwrap_or_else(|p| p.into_inner());
        q.extend(digits.chars().filter(|c| super::dtmf::digit_to_event(*c).is_some()));
        self.dtmf_pending.store(!q.is_empty(), Ordering::SeqCst);
    }

    /// Whether the peer negotiated telephone-events, without which key presses cannot be sent.
    pub fn can_send_dtmf(&self) -> bool {
        self.params.lock().unwrap_or_else(|p| p.into_inner()).telephone_event_pt.is_some()
    }

    fn next_dtmf(&self) -> Option<char> {
        if !self.dtmf_pending.load(Ordering::Relaxed) {
            return None;
        }
        let mut q = self.dtmf_queue.lock().unwrap_or_else(|p| p.into_inner());
        let d = q.pop_front();
        self.dtmf_pending.store(!q.is_empty(), Ordering::SeqCst);
        d
    }
}

/// The UA's handle on a call's media thread.
pub struct MediaSession {
    pub control: Arc<MediaControl>,
    pub local_port: u16,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Channels between the media thread and the call leg.
pub struct MediaChannels {
    pub to_call: SyncSender<Frame>,
    pub from_call: Receiver<(u64, Frame)>,
    pub events: Sender<LineEvent>,
}

/// The call's RTP socket and, on the next port up, its RTCP socket (RFC 3550 11).
pub struct MediaSockets {
    pub rtp: UdpSocket,
    pub rtcp: Option<UdpSocket>,
}

impl MediaSession {
    pub fn start(sockets: MediaSockets, params: MediaParams, channels: MediaChannels, name: String) -> std::io::Result<Self> {
        let MediaSockets { rtp: socket, rtcp } = sockets;
        let local_port = socket.local_addr()?.port();
        socket.set_nonblocking(true)?;
        if let Some(r) = &rtcp {
            r.set_nonblocking(true)?;
        }
        let control = Arc::new(MediaControl {
            stop: AtomicBool::new(false),
            params: Mutex::new(params),
            params_version: AtomicU64::new(0),
            output_generation: AtomicU64::new(0),
            stats: Mutex::new(MediaStats::default()),
            dtmf_queue: Mutex::new(std::collections::VecDeque::new()),
            dtmf_pending: AtomicBool::new(false),
        });
        let c = control.clone();
        let thread = std::thread::Builder::new().name(name).spawn(move || media_loop(socket, rtcp, c, channels))?;
        Ok(MediaSession { control, local_port, thread: Some(thread) })
    }

    pub fn update(&self, f: impl FnOnce(&mut MediaParams)) {
        let mut params = self.control.params.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut params);
        // Under the lock, after the change: a loop that sees the new version reads the new values.
        self.control.params_version.fetch_add(1, Ordering::Release);
    }

    pub fn stats(&self) -> MediaStats {
        self.control.stats.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Stops the thread and returns the final counters.
    pub fn stop(mut self) -> MediaStats {
        self.control.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.stats()
    }
}

impl Drop for MediaSession {
    fn drop(&mut self) {
        self.control.stop.store(true, Ordering::SeqCst);
    }
}

/// What stands between the call's packets and its sockets.
enum Crypto {
    Clear,
    Srtp(Srtp),
    /// Keys that cannot be used: the call goes silent rather than into the clear.
    Broken,
}

impl Crypto {
    fn new(keys: &Option<super::srtp::Keys>) -> Crypto {
        match keys.as_ref().map(Srtp::new) {
            None => Crypto::Clear,
            Some(Ok(s)) => Crypto::Srtp(s),
            Some(Err(e)) => {
                tracing::error!("SRTP keys unusable, the call's media is stopped: {e}");
                Crypto::Broken
            }
        }
    }

    /// New keys from a re-INVITE re-key the side that changed; SRTP is never turned off
    /// mid-call (the UA refuses such an offer), nor on.
    fn rekey(&mut self, keys: &Option<super::srtp::Keys>) {
        if let (Crypto::Srtp(s), Some(keys)) = (&mut *self, keys)
            && let Err(e) = s.rekey(keys)
        {
            tracing::error!("SRTP re-key failed, the call's media is stopped: {e}");
            *self = Crypto::Broken;
        }
    }

    /// Sends `packet` to `to`, through `protect` (SRTP or SRTCP) when the media is encrypted.
    fn send(&mut self, socket: &UdpSocket, packet: &[u8], to: SocketAddr, protect: fn(&mut Srtp, &[u8]) -> Option<bytes::Bytes>) -> bool {
        match self {
            Crypto::Clear => socket.send_to(packet, to).is_ok(),
            Crypto::Srtp(s) => protect(s, packet).is_some_and(|p| socket.send_to(&p, to).is_ok()),
            Crypto::Broken => false,
        }
    }
}

fn media_loop(socket: UdpSocket, rtcp: Option<UdpSocket>, control: Arc<MediaControl>, ch: MediaChannels) {
    if !crate::line::clock::realtime_thread() {
        tracing::debug!("media thread runs without real-time priority (no CAP_SYS_NICE)");
    }
    // The watchdog's proof that this call's media clock turns (see `health`).
    let port = socket.local_addr().map(|a| a.port()).unwrap_or(0);
    let beat = crate::health::Beat::new(format!("the RTP media thread on port {port}"), crate::health::Kind::Periodic);
    let wedge = crate::health::fault("wedge-media");
    let ssrc: u32 = crate::entropy::u32();
    let mut sequence: u16 = (crate::entropy::u32() & 0x7fff) as u16;
    let mut timestamp: u32 = crate::entropy::u32();
    let mut params_version = control.params_version.load(Ordering::Acquire);
    let mut params = control.params.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let depth = params.jitter;
    let mut jitter = JitterBuffer::adaptive(depth.min_frames, depth.max_frames);
    let mut dtmf = DtmfReceiver::new();
    let mut latched: Option<SocketAddr> = None;
    let mut recv_buf = [0u8; 1500];
    let mut send_buf = [0u8; 12 + FRAME_SAMPLES];
    let mut payload = [0u8; FRAME_SAMPLES];
    let mut heard: Frame = [0; FRAME_SAMPLES];
    let mut last_heard: Frame = [0; FRAME_SAMPLES];
    let mut losses = 0u32;
    let mut first_packet = true;
    let start = Instant::now();
    let mut tick: u64 = 0;
    let mut last_send: Option<Instant> = None;
    let mut local_stats = MediaStats::default();
    let mut rtcp_latched: Option<SocketAddr> = None;
    let mut octets_sent: u32 = 0;
    // A key press being sent, and the ticks of audio still to send before the next one (a
    // receiver needs a gap to tell "1 1" from one long "1").
    let mut dtmf_out: Option<DtmfSender> = None;
    let mut dtmf_gap: u32 = 0;
    let mut crypto = Crypto::new(&params.srtp);

    while !control.stop.load(Ordering::Relaxed) {
        beat.tick();
        if wedge {
            crate::health::wedge("an RTP media thread");
        }
        let version = control.params_version.load(Ordering::Acquire);
        if version != params_version {
            let fresh = control.params.lock().unwrap_or_else(|p| p.into_inner()).clone();
            if fresh.srtp != params.srtp {
                crypto.rekey(&fresh.srtp);
            }
            params = fresh;
            params_version = version;
        }

        // Receive everything that arrived since the last tick.
        loop {
            match socket.recv_from(&mut recv_buf) {
                Ok((n, from)) => {
                    // RTCP multiplexed on the RTP port (RFC 5761) is not an invalid packet.
                    if super::rtcp::is_rtcp(&recv_buf[..n]) {
                        local_stats.rtcp_received += 1;
                        continue;
                    }
                    // SRTP: only what authenticates (and is no replay) is heard, or latched to.
                    let clear;
                    let data: &[u8] = match &mut crypto {
                        Crypto::Clear => &recv_buf[..n],
                        Crypto::Srtp(s) => match s.unprotect_rtp(&recv_buf[..n]) {
                            Some(c) => {
                                clear = c;
                                &clear
                            }
                            None => {
                                local_stats.packets_invalid += 1;
                                continue;
                            }
                        },
                        Crypto::Broken => continue,
                    };
                    let Ok(pkt) = RtpPacket::new_checked(data) else {
                        local_stats.packets_invalid += 1;
                        continue;
                    };
                    local_stats.packets_received += 1;
                    if latched != Some(from) {
                        latched = Some(from);
                    }
                    if Some(pkt.payload_type()) == params.telephone_event_pt {
                        if let Ok(ev) = TelephoneEvent::parse(pkt.payload())
                            && let Some(d) = dtmf.on_packet(pkt.timestamp(), pkt.marker(), ev)
                        {
                            local_stats.dtmf_digits += 1;
                            let _ = ch.events.send(LineEvent::Dtmf(d.digit));
                        }
                    } else if pkt.payload_type() == params.payload_type {
                        jitter.push(pkt.sequence(), pkt.timestamp(), pkt.payload());
                        // A key press whose end packets were all lost is reported once audio
                        // resumes rather than never.
                        if let Some(d) = dtmf.poll(pkt.timestamp()) {
                            local_stats.dtmf_digits += 1;
                            let _ = ch.events.send(LineEvent::Dtmf(d.digit));
                        }
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(_) => break,
            }
        }

        // One frame of the caller to the call.
        let to_call = match jitter.pop() {
            Playout::Frame(bytes) => {
                let n = bytes.len().min(FRAME_SAMPLES);
                params.law.decode(&bytes[..n], &mut heard[..n]);
                heard[n..].fill(0);
                losses = 0;
                last_heard = heard;
                Some(heard)
            }
            Playout::Missing => {
                losses += 1;
                local_stats.frames_missing += 1;
                conceal(&last_heard, &mut heard, losses);
                Some(heard)
            }
            Playout::Empty => None,
        };
        if let Some(f) = to_call
            && let Err(TrySendError::Disconnected(_)) = ch.to_call.try_send(f)
        {
            // The call's side is gone; keep the clock running until the UA stops us.
        }

        // One frame of ours to the caller: queued audio of the current generation, else silence.
        let generation = control.output_generation.load(Ordering::Relaxed);
        let mut frame: Option<Frame> = None;
        while let Ok((g, f)) = ch.from_call.try_recv() {
            if g == generation {
                frame = Some(f);
                break;
            }
        }
        let out = frame.unwrap_or([0; FRAME_SAMPLES]);
        params.law.encode(&out, &mut payload);
        let destination = latched.or(params.remote);
        // A queued key press replaces audio for its duration (RFC 4733 2.5.1), when the peer
        // takes telephone-events; otherwise it is dropped (logged by the leg).
        if dtmf_out.is_none() {
            if dtmf_gap > 0 {
                dtmf_gap -= 1;
            } else if params.telephone_event_pt.is_some()
                && let Some(d) = control.next_dtmf()
            {
                dtmf_out = DtmfSender::new(d, DTMF_MS, timestamp);
            }
        }
        let event = match (&mut dtmf_out, params.telephone_event_pt) {
            (Some(sender), Some(pt)) => match sender.next() {
                Some(p) => Some((p, pt)),
                None => {
                    dtmf_out = None;
                    dtmf_gap = DTMF_GAP_TICKS;
                    None
                }
            },
            _ => None,
        };
        let mut event_payload = [0u8; super::dtmf::EVENT_LEN];
        let (header, body): (RtpHeader, &[u8]) = match event {
            Some((p, pt)) => {
                p.event.write(&mut event_payload);
                (RtpHeader { marker: p.marker, payload_type: pt, sequence, timestamp: p.timestamp, ssrc }, &event_payload)
            }
            None => (RtpHeader { marker: first_packet, payload_type: params.payload_type, sequence, timestamp, ssrc }, &payload),
        };
        if params.send
            && let Some(dest) = destination
        {
            if let Ok(n) = super::packet::build(&header, body, &mut send_buf) {
                let now = Instant::now();
                if crypto.send(&socket, &send_buf[..n], dest, Srtp::protect_rtp) {
                    local_stats.packets_sent += 1;
                    octets_sent = octets_sent.wrapping_add(payload.len() as u32);
                    if let Some(prev) = last_send {
                        let dev = (now - prev).as_micros() as i64 - TICK.as_micros() as i64;
                        local_stats.pacing.record(dev.unsigned_abs().min(u64::from(u32::MAX)) as u32);
                    }
                    last_send = Some(now);
                }
            }
            first_packet = false;
        } else {
            last_send = None;
        }
        sequence = sequence.wrapping_add(1);
        timestamp = timestamp.wrapping_add(FRAME_SAMPLES as u32);

        // RTCP: drain what the peer reports, and send a sender report every 5 s.
        if let Some(r) = &rtcp {
            while let Ok((k, from)) = r.recv_from(&mut recv_buf) {
                // Over SRTP only an authenticated report counts, or moves where ours go.
                let authentic = match &mut crypto {
                    Crypto::Clear => true,
                    Crypto::Srtp(s) => s.unprotect_rtcp(&recv_buf[..k]).is_some(),
                    Crypto::Broken => false,
                };
                if !authentic {
                    continue;
                }
                local_stats.rtcp_received += 1;
                rtcp_latched = Some(from);
            }
            let to = rtcp_latched.or_else(|| destination.map(|d| SocketAddr::new(d.ip(), d.port().wrapping_add(1))));
            if tick % 250 == 125
                && params.send
                && let Some(to) = to
            {
                let wall = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
                let info = super::rtcp::SenderInfo {
                    ntp_timestamp: super::rtcp::ntp_timestamp(wall),
                    rtp_timestamp: timestamp,
                    packet_count: local_stats.packets_sent as u32,
                    octet_count: octets_sent,
                };
                let mut out = [0u8; 128];
                if let Ok(n) = super::rtcp::build_sender_report(ssrc, &info, &[], &mut out)
                    && let Ok(m) = super::rtcp::build_sdes_cname(ssrc, b"frontdesk", &mut out[n..])
                {
                    // SRTCP when the media is SRTP (RFC 3711 3.4: its authentication is mandatory).
                    if crypto.send(r, &out[..n + m], to, Srtp::protect_rtcp) {
                        local_stats.rtcp_sent += 1;
                    }
                }
            }
        }

        // Counters for readers twice a second; the pacing histogram (3.5 KB) is handed over
        // once, at the end, so the 20 ms loop does not copy it.
        if tick.is_multiple_of(25) {
            let mut shared = control.stats.lock().unwrap_or_else(|p| p.into_inner());
            shared.packets_sent = local_stats.packets_sent;
            shared.packets_received = local_stats.packets_received;
            shared.packets_invalid = local_stats.packets_invalid;
            shared.frames_missing = local_stats.frames_missing;
            shared.jitter_ms = jitter.depth() as u32 * 20;
            shared.dtmf_digits = local_stats.dtmf_digits;
            shared.rtcp_sent = local_stats.rtcp_sent;
            shared.rtcp_received = local_stats.rtcp_received;
        }
        tick += 1;
        let deadline = start + TICK * tick as u32;
        let now = Instant::now();
        if deadline > now {
            std::thread::sleep(deadline - now);
        } else if now - deadline > Duration::from_millis(200) {
            // Suspended or starved for long: start a new schedule rather than burst packets.
            tick = ((now - start).as_millis() / TICK.as_millis()) as u64;
        }
    }
    local_stats.jitter_ms = jitter.depth() as u32 * 20;
    *control.stats.lock().unwrap_or_else(|p| p.into_inner()) = local_stats;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtp::dtmf::DtmfReceiver;

    /// A media session on a loopback socket with μ-law audio, and the call side of its
    /// channels (kept alive for the test's length).
    #[allow(clippy::type_complexity)]
    fn start(
        remote: Option<SocketAddr>,
        send: bool,
        telephone_event_pt: Option<u8>,
    ) -> (MediaSession, (std::sync::mpsc::Receiver<Frame>, std::sync::mpsc::SyncSender<(u64, Frame)>, std::sync::mpsc::Receiver<LineEvent>))
    {
        let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let (to_call, from_media) = std::sync::mpsc::sync_channel(50);
        let (to_media, from_call) = std::sync::mpsc::sync_channel(50);
        let (events, events_rx) = std::sync::mpsc::channel();
        let params =
            MediaParams { law: Law::Ulaw, payload_type: 0, telephone_event_pt, remote, send, jitter: JitterDepth::default(), srtp: None };
        let media =
            MediaSession::start(MediaSockets { rtp, rtcp: None }, params, MediaChannels { to_call, from_call, events }, "rtp-test".into())
                .unwrap();
        (media, (from_media, to_media, events_rx))
    }

    /// Key presses queued on a running media thread arrive at a peer socket as RFC 4733
    /// events that a receiver decodes to the same keys, between ordinary audio packets.
    #[test]
    fn queued_key_presses_go_out_as_telephone_events() {
        let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
        peer.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
        let (media, _call) = start(Some(peer.local_addr().unwrap()), true, Some(101));
        assert!(media.control.can_send_dtmf());
        media.control.queue_dtmf("1x#");
        let mut receiver = DtmfReceiver::new();
        let mut digits = String::new();
        let (mut audio, mut ssrcs) = (0, std::collections::HashSet::new());
        let mut buf = [0u8; 1500];
        let started = Instant::now();
        while started.elapsed() < Duration::from_millis(1500) && digits.len() < 2 {
            let Ok(n) = peer.recv(&mut buf) else { continue };
            let pkt = RtpPacket::new_checked(&buf[..n]).unwrap();
            ssrcs.insert(pkt.ssrc());
            match pkt.payload_type() {
                101 => {
                    let ev = TelephoneEvent::parse(pkt.payload()).unwrap();
                    if let Some(d) = receiver.on_packet(pkt.timestamp(), pkt.marker(), ev) {
                        digits.push(d.digit);
                    }
                }
                0 => audio += 1,
                other => panic!("unexpected payload type {other}"),
            }
        }
        media.stop();
        assert_eq!(digits, "1#", "'x' is not a key and is skipped");
        assert!(audio >= 3, "audio keeps flowing between key presses");
        assert_eq!(ssrcs.len(), 1, "events and audio share one RTP stream");
    }

    /// A re-INVITE's new parameters reach the running loop (it re-reads them only when
    /// `update` bumped their version): a session started on hold with nowhere to send starts
    /// sending to the new address, and every packet after the first is in the pacing counts.
    #[test]
    fn updated_parameters_take_effect_mid_call() {
        let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
        peer.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let (media, _call) = start(None, false, None);
        let to = peer.local_addr().unwrap();
        media.update(|p| {
            p.remote = Some(to);
            p.send = true;
            p.payload_type = 8;
            p.law = Law::Alaw;
        });
        // Waits for packets, not for time: five A-law packets at the new address.
        let mut buf = [0u8; 1500];
        for i in 0..5 {
            let n = peer.recv(&mut buf).unwrap_or_else(|e| panic!("packet {i} once the peer's address is known: {e}"));
            assert_eq!(RtpPacket::new_checked(&buf[..n]).unwrap().payload_type(), 8);
        }
        let stats = media.stop();
        assert!(stats.packets_sent >= 5, "{stats:?}");
        assert_eq!(stats.pacing.count(), stats.packets_sent - 1, "{stats:?}");
    }

    #[test]
    fn no_telephone_event_means_no_key_presses() {
        let (media, _call) = start(None, true, None);
        assert!(!media.control.can_send_dtmf());
        media.stop();
    }
}
