//! The SIP user agent: answers calls, keeps their dialogs, ends and transfers them.
//!
//! One task owns all SIP state, so there are no locks around dialogs: datagrams, commands from
//! call legs and a 10 ms timer tick are handled in turn. Media runs elsewhere (`rtp::session`),
//! one thread per call, so nothing here can disturb the 20 ms clock.
//!
//! Transactions are kept as small as RFC 3261 allows a UAS over UDP: retransmitted requests get
//! the cached response again, 2xx to INVITE is retransmitted until the ACK (13.3.1.4), and our
//! own BYE/REFER are retransmitted on Timer E until a final response or Timer F.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, UdpSocket as StdUdpSocket};
use std::sync::Arc;
use std::sync::mpsc::{Sender, sync_channel};
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use super::acl::Acl;
use super::message::{Message, param, response, uri_of, uri_socket_addr, uri_user};
use super::sdp::{self, Codec, Direction, LocalMedia, SessionDescription};
use super::wire::{self, Policy, Transport};
use crate::audio::g711::Law;
use super::leg::{LegCommand, SipLeg};
use crate::line::{Answer, CallInfo, LineEvent};
use crate::rtp::session::{MediaChannels, MediaParams, MediaSession, MediaSockets};
use crate::entropy::u32 as rand_u32;

const T1: Duration = Duration::from_millis(500);
const T2: Duration = Duration::from_secs(4);
const TIMER_F: Duration = Duration::from_secs(32);
const METHODS: &[&str] = &["INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "INFO", "NOTIFY", "REFER"];
pub(crate) const ALLOW: &str = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, NOTIFY, REFER";
/// Timer B (RFC 3261 17.1.1.2): an INVITE nobody answers, not even with 100 Trying.
const TIMER_B: Duration = Duration::from_secs(32);

#[derive(Clone)]
pub struct UaConfig {
    pub listen: SocketAddr,
    pub public_ip: IpAddr,
    pub allowed_sources: Vec<String>,
    pub max_calls: usize,
    pub busy_status: u16,
    pub ringing: Duration,
    pub codecs: Vec<Codec>,
    pub rtp_ports: (u16, u16),
    pub user_agent: String,
    pub registration: Option<super::register::RegistrationConfig>,
    pub outbound: OutboundConfig,
    pub jitter: crate::rtp::jitter::JitterDepth,
}

/// How calls the box places leave it.
#[derive(Clone, Debug, Default)]
pub struct OutboundConfig {
    /// Where outgoing INVITEs go (the PBX or the trunk's proxy); without one, the target's own
    /// host.
    pub proxy: Option<SocketAddr>,
    /// Our From: the address of record we register, e.g. `sip:frontdesk@pbx.clinic.local`.
    pub from_uri: Option<String>,
    /// Answer a 401/407 to our INVITE with these (the registration account).
    pub credentials: Option<super::digest::Credentials>,
}

/// Asks the UA to place a call. Once answered, the call runs the UA's app like an incoming one.
pub struct Dial {
    /// A SIP URI, or a number or extension to reach through the outbound proxy.
    pub target: String,
    /// How long to let it ring before giving up with CANCEL.
    pub ring_timeout: Duration,
    /// Ok once the far end answered; Err with its final response or why no call was placed.
    pub result: Sender<Result<(), String>>,
}

/// Counters for operators and tests; no caller data.
#[derive(Debug, Default, Clone)]
pub struct UaCounters {
    pub requests: u64,
    pub rejected_malformed: u64,
    pub dropped_malformed: u64,
    pub forbidden: u64,
    pub busy: u64,
    pub calls_answered: u64,
    pub calls_ended: u64,
}

struct ClientTx {
    bytes: Vec<u8>,
    dest: SocketAddr,
    next: Instant,
    interval: Duration,
    give_up: Instant,
    cseq: u32,
    method: &'static str,
}

enum CallState {
    /// Our INVITE is out (a call we placed); see `Call::outgoing`.
    Calling,
    /// 180 sent; answer at this instant.
    Ringing { answer_at: Instant },
    /// 200 OK sent, retransmitting until the ACK.
    AwaitingAck { response: Vec<u8>, next: Instant, interval: Duration, give_up: Instant },
    Confirmed,
}

struct Call {
    log_id: String,
    invite: Message,
    source: SocketAddr,
    local_tag: String,
    state: CallState,
    local_cseq: u32,
    media: Option<MediaSession>,
    events: Sender<LineEvent>,
    local_media: LocalMedia,
    sdp_session: u64,
    sdp_version: u64,
    answer_sdp: Vec<u8>,
    client: Vec<ClientTx>,
    started: Instant,
    /// For a call we placed: its INVITE transaction, until the final response.
    outgoing: Option<Outgoing>,
    /// The ACK of our answered INVITE, sent again if the 2xx is (RFC 3261 13.2.2.4).
    ack: Option<(Vec<u8>, SocketAddr)>,
}

/// The INVITE client transaction of a call we placed (RFC 3261 17.1.1).
struct Outgoing {
    template: super::uac::InviteTemplate,
    /// The INVITE in flight, as sent: its ACK and CANCEL copy it.
    request: Message,
    bytes: Vec<u8>,
    dest: SocketAddr,
    cseq: u32,
    next: Instant,
    interval: Duration,
    /// Timer B until a provisional response, then the ring timeout.
    give_up: Instant,
    ring_timeout: Duration,
    proceeding: bool,
    authenticated: bool,
    cancelled: bool,
    sockets: Option<MediaSockets>,
    /// The leg's end of the event channel, until the leg exists. In a Mutex only so the UA
    /// (held across awaits) stays Sync; it is never contended.
    events_rx: Option<std::sync::Mutex<std::sync::mpsc::Receiver<LineEvent>>>,
    result: Sender<Result<(), String>>,
}

pub struct UserAgent {
    cfg: UaConfig,
    socket: Arc<UdpSocket>,
    acl: Acl,
    calls: HashMap<String, Call>,
    /// Responses to non-INVITE requests and failed INVITEs, by branch, for retransmissions.
    sent: HashMap<String, (Vec<u8>, Instant)>,
    /// Failed INVITEs' final responses, retransmitted until the ACK (Timer G, RFC 3261 17.2.1).
    unacked: HashMap<String, ClientTx>,
    commands_tx: UnboundedSender<(String, LegCommand)>,
    commands_rx: UnboundedReceiver<(String, LegCommand)>,
    app: Answer,
    pub counters: UaCounters,
    next_rtp_port: u16,
    registration: Option<super::register::Registration>,
    tcp: Option<tokio::net::TcpListener>,
    /// Open TCP connections by peer address: a response or in-dialog request to an address with
    /// a connection goes over it (RFC 3261 18.2.2), everything else over UDP.
    tcp_conns: HashMap<SocketAddr, UnboundedSender<Vec<u8>>>,
    tcp_in_tx: UnboundedSender<TcpEvent>,
    tcp_in_rx: UnboundedReceiver<TcpEvent>,
    dial_tx: UnboundedSender<Dial>,
    dial_rx: UnboundedReceiver<Dial>,
}

/// What connection tasks tell the UA task.
enum TcpEvent {
    Opened(SocketAddr, UnboundedSender<Vec<u8>>),
    Message(Vec<u8>, SocketAddr),
    /// A request that could be answered but not framed: answer, then the connection is closed.
    Rejected(Vec<u8>, SocketAddr),
    Closed(SocketAddr),
}

impl UserAgent {
    pub async fn bind(cfg: UaConfig, app: Answer) -> std::io::Result<Self> {
        let socket = Arc::new(UdpSocket::bind(cfg.listen).await?);
        let tcp = tokio::net::TcpListener::bind(socket.local_addr()?).await?;
        let (commands_tx, commands_rx) = unbounded_channel();
        let (tcp_in_tx, tcp_in_rx) = unbounded_channel();
        let (dial_tx, dial_rx) = unbounded_channel();
        Ok(UserAgent {
            dial_tx,
            dial_rx,
            tcp: Some(tcp),
            tcp_conns: HashMap::new(),
            tcp_in_tx,
            tcp_in_rx,
            registration: cfg.registration.clone().map(|r| super::register::Registration::new(r, Instant::now())),
            acl: Acl::new(&cfg.allowed_sources),
            next_rtp_port: cfg.rtp_ports.0,
            cfg,
            socket,
            calls: HashMap::new(),
            sent: HashMap::new(),
            unacked: HashMap::new(),
            commands_tx,
            commands_rx,
            app,
            counters: UaCounters::default(),
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// Where to send `Dial`s: calls for the UA to place.
    pub fn dialer(&self) -> UnboundedSender<Dial> {
        self.dial_tx.clone()
    }

    /// Serves until `shutdown` resolves, then ends every call with a BYE.
    pub async fn run(mut self, shutdown: impl std::future::Future<Output = ()>) {
        tracing::info!(listen = %self.cfg.listen, "SIP user agent listening (UDP and TCP)");
        if let Some(listener) = self.tcp.take() {
            tokio::spawn(accept_tcp(listener, self.tcp_in_tx.clone()));
        }
        let mut buf = vec![0u8; 65_536];
        let mut tick = tokio::time::interval(Duration::from_millis(10));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                r = self.socket.recv_from(&mut buf) => {
                    if let Ok((n, from)) = r {
                        let bytes = buf[..n].to_vec();
                        self.on_datagram(&bytes, from).await;
                    }
                }
                Some((key, cmd)) = self.commands_rx.recv() => self.on_command(&key, cmd).await,
                Some(dial) = self.dial_rx.recv() => self.on_dial(dial).await,
                Some(ev) = self.tcp_in_rx.recv() => match ev {
                    TcpEvent::Opened(peer, writer) => {
                        self.tcp_conns.insert(peer, writer);
                    }
                    TcpEvent::Message(bytes, peer) => self.on_message(&bytes, peer, Transport::Tcp).await,
                    TcpEvent::Rejected(bytes, peer) => self.send(&bytes, peer).await,
                    TcpEvent::Closed(peer) => {
                        self.tcp_conns.remove(&peer);
                    }
                },
                _ = tick.tick() => self.on_tick().await,
                _ = &mut shutdown => break,
            }
        }
        let keys: Vec<String> = self.calls.keys().cloned().collect();
        for k in keys {
            self.on_command(&k, LegCommand::Hangup).await;
        }
        let deadline = Instant::now() + Duration::from_secs(2);
        while self.calls.values().any(|c| !c.client.is_empty()) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
            self.drain_incoming().await;
            self.on_tick().await;
        }
        tracing::info!(?self.counters, "SIP user agent stopped");
    }

    async fn drain_incoming(&mut self) {
        let mut buf = vec![0u8; 65_536];
        while let Ok((n, from)) = self.socket.try_recv_from(&mut buf) {
            let bytes = buf[..n].to_vec();
            self.on_datagram(&bytes, from).await;
        }
    }

    async fn send(&self, bytes: &[u8], to: SocketAddr) {
        if let Some(conn) = self.tcp_conns.get(&to) {
            let _ = conn.send(bytes.to_vec());
            return;
        }
        let _ = self.socket.send_to(bytes, to).await;
    }

    async fn on_datagram(&mut self, bytes: &[u8], from: SocketAddr) {
        self.on_message(bytes, from, Transport::Udp).await;
    }

    async fn on_message(&mut self, bytes: &[u8], from: SocketAddr, transport: Transport) {
        // Keep-alive pings (CRLF) are answered by nothing and counted by nobody.
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            return;
        }
        let parsed = match wire::parse_parts(bytes, transport, &POLICY) {
            Ok(p) => Message::from_parsed(&p),
            Err(e) => {
                match e.rejection {
                    Some(rej) if rej.method.as_deref() != Some("ACK") => {
                        self.counters.rejected_malformed += 1;
                        tracing::debug!(reason = %e.reason, status = rej.status, "rejected a malformed request");
                        let tag = format!("{:08x}", rand_u32());
                        let resp = wire::rejection_response(&rej, &tag, &self.cfg.user_agent);
                        self.send(&resp, from).await;
                    }
                    _ => {
                        self.counters.dropped_malformed += 1;
                        tracing::debug!(reason = %e.reason, "dropped a malformed message");
                    }
                }
                return;
            }
        };
        match parsed.method() {
            Some(_) => self.on_request(parsed, from).await,
            None => self.on_response(parsed).await,
        }
    }

    fn call_key_for(&self, msg: &Message) -> String {
        msg.call_id().to_string()
    }

    async fn reply(&mut self, req: &Message, from: SocketAddr, status: u16, reason: &str, tag: Option<&str>, extra: &[(&str, String)]) {
        let bytes = response(req, from, status, reason, tag, extra, None);
        if status >= 200 {
            let now = Instant::now();
            self.sent.insert(transaction_key(req), (bytes.clone(), now));
            // Not for 403: a scanner refused by the ACL gets one answer, not a stream of them.
            if status >= 300 && status != 403 && req.method() == Some("INVITE") {
                let tx = ClientTx { bytes: bytes.clone(), dest: from, next: now + T1, interval: T1, give_up: now + TIMER_F * 2, cseq: 0, method: "INVITE" };
                self.unacked.insert(transaction_key(req), tx);
            }
        }
        self.send(&bytes, from).await;
    }

    async fn on_request(&mut self, req: Message, from: SocketAddr) {
        self.counters.requests += 1;
        let method = req.method().unwrap_or("").to_string();
        // A retransmission of a request we already answered: the same answer again.
        if method != "ACK"
            && let Some((bytes, _)) = self.sent.get(&transaction_key(&req))
        {
            let bytes = bytes.clone();
            self.send(&bytes, from).await;
            return;
        }
        if !self.acl.allows(from.ip()) {
            self.counters.forbidden += 1;
            tracing::warn!(source = %from.ip(), "request from a source outside sip.allowed_sources refused");
            if method != "ACK" {
                self.reply(&req, from, 403, "Forbidden", Some("fd403"), &[]).await;
            }
            return;
        }
        let key = self.call_key_for(&req);
        match method.as_str() {
            "INVITE" if req.to_tag().is_none() => self.on_new_invite(req, from).await,
            "INVITE" => self.on_reinvite(req, from, &key).await,
            "ACK" => self.on_ack(&req, &key),
            "BYE" => self.on_bye(req, from, &key).await,
            "CANCEL" => self.on_cancel(req, from, &key).await,
            "OPTIONS" => {
                let extra = [("Allow", ALLOW.to_string()), ("Accept", "application/sdp".to_string()), ("Server", self.cfg.user_agent.clone())];
                let tag = req.to_tag().is_none().then(|| format!("{:08x}", rand_u32()));
                self.reply(&req, from, 200, "OK", tag.as_deref(), &extra).await;
            }
            "INFO" => self.on_info(req, from, &key).await,
            "NOTIFY" => self.on_notify(req, from, &key).await,
            _ => self.reply(&req, from, 501, "Not Implemented", None, &[("Allow", ALLOW.to_string())]).await,
        }
    }

    async fn on_new_invite(&mut self, req: Message, from: SocketAddr) {
        let key = self.call_key_for(&req);
        if let Some(call) = self.calls.get(&key) {
            // A retransmitted INVITE while ringing or before our 200 was seen.
            if transaction_key(&call.invite) == transaction_key(&req) {
                let trying = response(&req, from, 100, "Trying", None, &[], None);
                self.send(&trying, from).await;
                return;
            }
            // The same call arriving by a second path (a forking proxy) or a peer reusing a
            // Call-ID: one dialog per Call-ID here (RFC 3261 8.2.2.2, merged requests).
            let tag = format!("{:08x}", rand_u32());
            self.reply(&req, from, 482, "Loop Detected", Some(&tag), &[]).await;
            return;
        }
        let trying = response(&req, from, 100, "Trying", None, &[], None);
        self.send(&trying, from).await;

        if self.calls.len() >= self.cfg.max_calls {
            self.counters.busy += 1;
            tracing::info!(active = self.calls.len(), "call refused: max_calls reached");
            let (status, reason, extra) = if self.cfg.busy_status == 503 {
                (503, "Service Unavailable", vec![("Retry-After", "30".to_string())])
            } else {
                (486, "Busy Here", vec![])
            };
            let tag = format!("{:08x}", rand_u32());
            self.reply(&req, from, status, reason, Some(&tag), &extra).await;
            return;
        }
        let local_tag = format!("{:08x}{:04x}", rand_u32(), rand_u32() & 0xffff);
        let offer = match std::str::from_utf8(&req.body).ok().filter(|b| !b.trim().is_empty()).map(SessionDescription::parse) {
            Some(Ok(o)) => o,
            Some(Err(_)) => {
                self.reply(&req, from, 400, "Bad Request", Some(&local_tag), &[("Warning", "399 frontdesk \"Malformed SDP\"".into())]).await;
                return;
            }
            None => {
                self.reply(&req, from, 488, "Not Acceptable Here", Some(&local_tag), &[("Warning", "304 frontdesk \"An SDP offer is required\"".into())]).await;
                return;
            }
        };
        let Some(rtp_socket) = self.bind_rtp() else {
            tracing::error!("no free RTP port in rtp.port_min..port_max");
            self.reply(&req, from, 503, "Service Unavailable", Some(&local_tag), &[("Retry-After", "5".into())]).await;
            return;
        };
        let local_port = rtp_socket.rtp.local_addr().map(|a| a.port()).unwrap_or(0);
        let local_media = LocalMedia {
            address: self.cfg.public_ip,
            port: local_port,
            codecs: self.cfg.codecs.clone(),
            telephone_event: true,
            ptime_ms: 20,
        };
        let sdp_session = rand_u32() as u64;
        let answer = match sdp::answer(&offer, &local_media, sdp_session, 1) {
            Ok(a) => a,
            Err(e) => {
                tracing::info!("call refused: {e}");
                self.reply(&req, from, 488, "Not Acceptable Here", Some(&local_tag), &[("Warning", "305 frontdesk \"Incompatible media format\"".into())]).await;
                return;
            }
        };

        let log = crate::logging::call_tag(req.call_id());
        let caller = req.header("From").and_then(|f| uri_user(uri_of(f))).map(str::to_string);
        let dialled = req.uri().and_then(uri_user).map(str::to_string);
        let (events_tx, events_rx) = std::sync::mpsc::channel();
        let params = MediaParams {
            law: if answer.codec == Codec::Pcma { Law::Alaw } else { Law::Ulaw },
            payload_type: answer.payload_type,
            telephone_event_pt: answer.telephone_event_pt,
            remote: answer.remote,
            send: matches!(answer.direction, Direction::SendRecv | Direction::SendOnly),
            jitter: self.cfg.jitter,
        };
        tracing::info!(call = %log, codec = ?answer.codec, "incoming call");
        tracing::debug!(call = %log, caller = %caller.as_deref().map(crate::logging::tag).unwrap_or_default(), dialled = ?dialled, "incoming call parties");
        let info = CallInfo { caller, dialled, log_id: log.clone() };
        let media = match self.launch(&key, info, rtp_socket, params, events_tx.clone(), events_rx) {
            Ok(m) => m,
            Err(e) => {
                tracing::error!(call = %log, "cannot start the call: {e}");
                self.reply(&req, from, 500, "Server Internal Error", Some(&local_tag), &[]).await;
                return;
            }
        };

        let mut call = Call {
            log_id: log,
            invite: req.clone(),
            source: from,
            local_tag: local_tag.clone(),
            state: CallState::Confirmed,
            local_cseq: rand_u32() % 10_000,
            media: Some(media),
            events: events_tx,
            local_media,
            sdp_session,
            sdp_version: 1,
            answer_sdp: answer.sdp.into_bytes(),
            client: Vec::new(),
            started: Instant::now(),
            outgoing: None,
            ack: None,
        };
        if self.cfg.ringing > Duration::ZERO {
            let ringing = response(&req, from, 180, "Ringing", Some(&local_tag), &[("Contact", self.contact())], None);
            self.send(&ringing, from).await;
            call.state = CallState::Ringing { answer_at: Instant::now() + self.cfg.ringing };
            self.calls.insert(key, call);
        } else {
            self.calls.insert(key.clone(), call);
            self.answer(&key).await;
        }
    }

    /// Starts a call's media thread and its app (on a thread of its own) on the leg.
    fn launch(
        &self,
        key: &str,
        info: CallInfo,
        sockets: MediaSockets,
        params: MediaParams,
        events_tx: Sender<LineEvent>,
        events_rx: std::sync::mpsc::Receiver<LineEvent>,
    ) -> std::io::Result<MediaSession> {
        let (to_call_tx, to_call_rx) = sync_channel(50);
        let (from_call_tx, from_call_rx) = sync_channel(50);
        let log = info.log_id.clone();
        let media = MediaSession::start(
            sockets,
            params,
            MediaChannels { to_call: to_call_tx, from_call: from_call_rx, events: events_tx },
            format!("rtp-{log}"),
        )?;
        let leg = SipLeg {
            info,
            call_key: key.to_string(),
            from_media: to_call_rx,
            to_media: from_call_tx,
            events: events_rx,
            commands: self.commands_tx.clone(),
            media: media.control.clone(),
            closed: false,
        };
        let app = self.app.clone();
        if let Err(e) = std::thread::Builder::new().name(format!("call-{log}")).spawn(move || app(Box::new(leg))) {
            let _ = media.stop();
            return Err(e);
        }
        Ok(media)
    }

    /// Places a call: an SDP offer in an INVITE to the outbound proxy (or the target's host).
    async fn on_dial(&mut self, dial: Dial) {
        let proxy = self.cfg.outbound.proxy;
        let Some(dest) = proxy.or_else(|| uri_socket_addr(&super::uac::target_uri(&dial.target, "127.0.0.1:5060".parse().expect("literal")))) else {
            let _ = dial.result.send(Err("no sip.outbound_proxy configured and the target has no IP address to send to".into()));
            return;
        };
        if self.calls.len() >= self.cfg.max_calls {
            let _ = dial.result.send(Err("sip.max_calls calls are already in progress".into()));
            return;
        }
        let Some(sockets) = self.bind_rtp() else {
            let _ = dial.result.send(Err("no free RTP port in rtp.port_min..port_max".into()));
            return;
        };
        let Ok(local) = self.socket.local_addr() else { return };
        let local_media = LocalMedia {
            address: self.cfg.public_ip,
            port: sockets.rtp.local_addr().map(|a| a.port()).unwrap_or(0),
            codecs: self.cfg.codecs.clone(),
            telephone_event: true,
            ptime_ms: 20,
        };
        let sdp_session = rand_u32() as u64;
        let offer = sdp::offer(&local_media, sdp_session, 1, Direction::SendRecv);
        let host = match self.cfg.public_ip {
            IpAddr::V6(v6) => format!("[{v6}]"),
            v4 => v4.to_string(),
        };
        let from_tag = format!("{:08x}{:04x}", rand_u32(), rand_u32() & 0xffff);
        let from_uri = self.cfg.outbound.from_uri.clone().unwrap_or_else(|| format!("sip:frontdesk@{host}"));
        let template = super::uac::InviteTemplate {
            target: super::uac::target_uri(&dial.target, dest),
            from: format!("<{from_uri}>;tag={from_tag}"),
            call_id: format!("{:08x}{:08x}@{host}", rand_u32(), rand_u32()),
            contact: self.contact(),
            route: proxy.map(|p| format!("<sip:{p};lr>")),
            via_host: SocketAddr::new(self.cfg.public_ip, local.port()).to_string(),
            user_agent: self.cfg.user_agent.clone(),
            sdp: offer.clone(),
        };
        let branch = format!("z9hG4bK{:08x}{:08x}", rand_u32(), rand_u32());
        let bytes = template.render(1, &branch, None);
        let Ok(parsed) = wire::parse_parts(&bytes, Transport::Udp, &POLICY) else {
            let _ = dial.result.send(Err(format!("cannot make a valid INVITE for {:?}", dial.target)));
            return;
        };
        let request = Message::from_parsed(&parsed);
        let key = template.call_id.clone();
        let log = crate::logging::call_tag(&key);
        let (events_tx, events_rx) = std::sync::mpsc::channel();
        let now = Instant::now();
        tracing::info!(call = %log, "placing a call");
        tracing::debug!(call = %log, target = %template.target, "outgoing call target");
        let call = Call {
            log_id: log,
            invite: request.clone(),
            source: dest,
            local_tag: from_tag,
            state: CallState::Calling,
            local_cseq: 1,
            media: None,
            events: events_tx,
            local_media,
            sdp_session,
            sdp_version: 1,
            answer_sdp: offer.into_bytes(),
            client: Vec::new(),
            started: now,
            outgoing: Some(Outgoing {
                template,
                request,
                bytes: bytes.clone(),
                dest,
                cseq: 1,
                next: now + T1,
                interval: T1,
                give_up: now + TIMER_B,
                ring_timeout: dial.ring_timeout,
                proceeding: false,
                authenticated: false,
                cancelled: false,
                sockets: Some(sockets),
                events_rx: Some(std::sync::Mutex::new(events_rx)),
                result: dial.result,
            }),
            ack: None,
        };
        self.calls.insert(key, call);
        self.send(&bytes, dest).await;
    }

    /// A response to the INVITE of a call we placed.
    async fn on_invite_response(&mut self, key: &str, resp: Message) {
        let status = resp.status().unwrap_or(0);
        let Some(call) = self.calls.get_mut(key) else { return };
        if (200..300).contains(&status)
            && let Some((ack, to)) = call.ack.clone()
        {
            // Our ACK was lost: the 2xx comes again, and so does the ACK.
            self.send(&ack, to).await;
            return;
        }
        let Some(out) = call.outgoing.as_mut() else { return };
        if resp.cseq().0 != out.cseq {
            return;
        }
        let now = Instant::now();
        if status < 200 {
            if !out.proceeding {
                out.proceeding = true;
                if !out.cancelled {
                    out.give_up = now + out.ring_timeout;
                }
            }
            return;
        }
        if status >= 300 {
            let ack = super::uac::ack_for_failure(&out.request, &resp);
            let dest = out.dest;
            self.send(&ack, dest).await;
            let Some(call) = self.calls.get_mut(key) else { return };
            let Some(out) = call.outgoing.as_mut() else { return };
            if matches!(status, 401 | 407)
                && !out.authenticated
                && !out.cancelled
                && let Some(creds) = &self.cfg.outbound.credentials
            {
                let header = if status == 407 { "Proxy-Authenticate" } else { "WWW-Authenticate" };
                let answer = super::digest::Challenge::select(resp.headers_named(header)).and_then(|ch| {
                    let cnonce = format!("{:08x}{:08x}", rand_u32(), rand_u32());
                    creds.authorization(&ch, "INVITE", &out.template.target, &cnonce, 1)
                });
                match answer {
                    Ok(value) => {
                        let name = if status == 407 { "Proxy-Authorization" } else { "Authorization" };
                        out.cseq += 1;
                        let branch = format!("z9hG4bK{:08x}{:08x}", rand_u32(), rand_u32());
                        out.bytes = out.template.render(out.cseq, &branch, Some((name, &value)));
                        if let Ok(p) = wire::parse_parts(&out.bytes, Transport::Udp, &POLICY) {
                            out.request = Message::from_parsed(&p);
                            out.authenticated = true;
                            out.proceeding = false;
                            out.next = now + T1;
                            out.interval = T1;
                            out.give_up = now + TIMER_B;
                            call.local_cseq = out.cseq;
                            let (bytes, dest) = (out.bytes.clone(), out.dest);
                            tracing::debug!(call = %call.log_id, status, "answering the proxy's challenge");
                            self.send(&bytes, dest).await;
                            return;
                        }
                    }
                    Err(e) => tracing::warn!(call = %call.log_id, "cannot answer the challenge to our INVITE: {e}"),
                }
            }
            let reason = match &resp.start {
                super::message::StartLine::Response { reason, .. } => reason.clone(),
                _ => String::new(),
            };
            let why = if matches!(status, 401 | 407) && self.cfg.outbound.credentials.is_some() {
                format!("{status} {reason} (the proxy refused our credentials: check registration.username and password)")
            } else {
                format!("{status} {reason}")
            };
            self.fail_outgoing(key, why);
            return;
        }
        // 2xx: the dialog, the ACK, media and the app.
        let Some(view) = super::uac::dialog_view(&out.request, &resp, call.source) else {
            tracing::warn!(call = %call.log_id, "2xx to our INVITE without a To tag: ignored");
            return;
        };
        let negotiated = std::str::from_utf8(&resp.body)
            .ok()
            .and_then(|b| SessionDescription::parse(b).ok())
            .ok_or_else(|| "the answer has no readable SDP".to_string())
            .and_then(|answer| sdp::accept_answer(&call.local_media, &answer).map_err(|e| e.to_string()));
        let mut out = call.outgoing.take().expect("checked above");
        call.invite = view;
        call.local_cseq = out.cseq;
        call.state = CallState::Confirmed;
        let cseq = out.cseq;
        if let Some((ack, to)) = self.in_dialog_request(key, "ACK", Some(cseq), &[], None) {
            self.send(&ack, to).await;
            if let Some(call) = self.calls.get_mut(key) {
                call.ack = Some((ack, to));
            }
        }
        let negotiated = match negotiated {
            Ok(n) => n,
            Err(e) => {
                // Answered, but with nothing we can play: end it properly with a BYE.
                let _ = out.result.send(Err(format!("answered without usable media: {e}")));
                self.send_in_dialog(key, "BYE", &[], None).await;
                self.end_call(key, "answer without usable media");
                return;
            }
        };
        let (Some(sockets), Some(events_rx)) = (out.sockets.take(), out.events_rx.take()) else { return };
        let events_rx = events_rx.into_inner().unwrap_or_else(|p| p.into_inner());
        let Some(call) = self.calls.get(key) else { return };
        let params = MediaParams {
            law: if negotiated.codec == Codec::Pcma { Law::Alaw } else { Law::Ulaw },
            payload_type: negotiated.payload_type,
            telephone_event_pt: negotiated.telephone_event_pt,
            remote: negotiated.remote,
            send: matches!(negotiated.direction, Direction::SendRecv | Direction::SendOnly),
            jitter: self.cfg.jitter,
        };
        let dialled = uri_user(&out.template.target).map(str::to_string);
        let info = CallInfo { caller: None, dialled, log_id: call.log_id.clone() };
        let events_tx = call.events.clone();
        match self.launch(key, info, sockets, params, events_tx.clone(), events_rx) {
            Ok(media) => {
                let Some(call) = self.calls.get_mut(key) else { return };
                tracing::info!(call = %call.log_id, codec = ?negotiated.codec, "outgoing call answered");
                call.media = Some(media);
                self.counters.calls_answered += 1;
                let _ = events_tx.send(LineEvent::Answered);
                let _ = out.result.send(Ok(()));
            }
            Err(e) => {
                let _ = out.result.send(Err(format!("cannot start the call: {e}")));
                self.send_in_dialog(key, "BYE", &[], None).await;
                self.end_call(key, "cannot start media");
            }
        }
    }

    /// A call we placed did not get through: tell whoever asked, and forget it.
    fn fail_outgoing(&mut self, key: &str, why: String) {
        if let Some(mut call) = self.calls.remove(key)
            && let Some(out) = call.outgoing.take()
        {
            tracing::info!(call = %call.log_id, why = %why, "outgoing call failed");
            let _ = out.result.send(Err(why));
        }
    }

    fn contact(&self) -> String {
        let port = self.socket.local_addr().map(|a| a.port()).unwrap_or(5060);
        let host = match self.cfg.public_ip {
            IpAddr::V6(v6) => format!("[{v6}]"),
            v4 => v4.to_string(),
        };
        format!("<sip:frontdesk@{host}:{port}>")
    }

    async fn answer(&mut self, key: &str) {
        let contact = self.contact();
        let ua = self.cfg.user_agent.clone();
        let Some(call) = self.calls.get_mut(key) else { return };
        let bytes = response(
            &call.invite,
            call.source,
            200,
            "OK",
            Some(&call.local_tag),
            &[("Contact", contact), ("Allow", ALLOW.into()), ("Server", ua)],
            Some(("application/sdp", &call.answer_sdp)),
        );
        let now = Instant::now();
        call.state = CallState::AwaitingAck { response: bytes.clone(), next: now + T1, interval: T1, give_up: now + TIMER_F * 2 };
        let to = call.source;
        self.counters.calls_answered += 1;
        self.send(&bytes, to).await;
    }

    fn on_ack(&mut self, req: &Message, key: &str) {
        // The ACK of a failed INVITE shares the INVITE's branch: it ends Timer G.
        if self.unacked.remove(&transaction_key(req)).is_some() {
            return;
        }
        let Some(call) = self.calls.get_mut(key) else { return };
        if req.to_tag().as_deref() != Some(call.local_tag.as_str()) {
            return;
        }
        if let CallState::AwaitingAck { .. } = call.state {
            let first = call.sdp_version == 1;
            call.state = CallState::Confirmed;
            if first {
                let _ = call.events.send(LineEvent::Answered);
            }
        }
    }

    async fn on_reinvite(&mut self, req: Message, from: SocketAddr, key: &str) {
        let Some(call) = self.calls.get_mut(key) else {
            self.reply(&req, from, 481, "Call/Transaction Does Not Exist", None, &[]).await;
            return;
        };
        if req.to_tag().as_deref() != Some(call.local_tag.as_str()) {
            self.reply(&req, from, 481, "Call/Transaction Does Not Exist", None, &[]).await;
            return;
        }
        let trying = response(&req, from, 100, "Trying", None, &[], None);
        self.send(&trying, from).await;
        let offer = match std::str::from_utf8(&req.body).ok().map(SessionDescription::parse) {
            Some(Ok(o)) => o,
            _ => {
                self.reply(&req, from, 488, "Not Acceptable Here", None, &[]).await;
                return;
            }
        };
        let Some(call) = self.calls.get_mut(key) else { return };
        call.sdp_version += 1;
        let answer = match sdp::answer(&offer, &call.local_media, call.sdp_session, call.sdp_version) {
            Ok(a) => a,
            Err(_) => {
                self.reply(&req, from, 488, "Not Acceptable Here", None, &[]).await;
                return;
            }
        };
        let on_hold = !matches!(answer.direction, Direction::SendRecv | Direction::SendOnly) || answer.remote.is_none();
        if let Some(m) = &call.media {
            m.update(|p| {
                p.send = !on_hold;
                if answer.remote.is_some() {
                    p.remote = answer.remote;
                }
                p.payload_type = answer.payload_type;
                p.law = if answer.codec == Codec::Pcma { Law::Alaw } else { Law::Ulaw };
                p.telephone_event_pt = answer.telephone_event_pt;
            });
        }
        let _ = call.events.send(LineEvent::Hold(on_hold));
        tracing::info!(call = %call.log_id, on_hold, "re-INVITE");
        call.answer_sdp = answer.sdp.into_bytes();
        call.invite = req;
        call.source = from;
        self.answer(key).await;
    }

    async fn on_bye(&mut self, req: Message, from: SocketAddr, key: &str) {
        let matches = self.calls.get(key).is_some_and(|c| req.to_tag().as_deref() == Some(c.local_tag.as_str()));
        if !matches {
            self.reply(&req, from, 481, "Call/Transaction Does Not Exist", None, &[]).await;
            return;
        }
        self.reply(&req, from, 200, "OK", None, &[]).await;
        self.end_call(key, "caller hung up");
    }

    async fn on_cancel(&mut self, req: Message, from: SocketAddr, key: &str) {
        let ringing = match self.calls.get(key) {
            Some(c) if transaction_key(&c.invite).trim_end_matches("INVITE") == transaction_key(&req).trim_end_matches("CANCEL") => {
                Some(matches!(c.state, CallState::Ringing { .. }))
            }
            _ => None,
        };
        match ringing {
            None => self.reply(&req, from, 481, "Call/Transaction Does Not Exist", None, &[]).await,
            Some(still_ringing) => {
                self.reply(&req, from, 200, "OK", None, &[]).await;
                if still_ringing {
                    let (invite, tag) = {
                        let c = &self.calls[key];
                        (c.invite.clone(), c.local_tag.clone())
                    };
                    self.reply(&invite, from, 487, "Request Terminated", Some(&tag), &[]).await;
                    self.end_call(key, "caller cancelled before answer");
                }
            }
        }
    }

    async fn on_info(&mut self, req: Message, from: SocketAddr, key: &str) {
        let Some(call) = self.calls.get(key) else {
            self.reply(&req, from, 481, "Call/Transaction Does Not Exist", None, &[]).await;
            return;
        };
        if req.content_type().as_deref() == Some("application/dtmf-relay") {
            let body = String::from_utf8_lossy(&req.body);
            let digit = body.lines().find_map(|l| {
                let (k, v) = l.split_once('=')?;
                k.trim().eq_ignore_ascii_case("signal").then(|| v.trim().chars().next()).flatten()
            });
            if let Some(d) = digit.filter(|d| d.is_ascii_digit() || matches!(d, '*' | '#' | 'A'..='D')) {
                let _ = call.events.send(LineEvent::Dtmf(d));
            }
        }
        self.reply(&req, from, 200, "OK", None, &[]).await;
    }

    async fn on_notify(&mut self, req: Message, from: SocketAddr, key: &str) {
        let Some(call) = self.calls.get(key) else {
            self.reply(&req, from, 481, "Call/Transaction Does Not Exist", None, &[]).await;
            return;
        };
        let event = req.header("Event").unwrap_or("").split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        if event == "refer" && req.content_type().as_deref() == Some("message/sipfrag") {
            let frag = String::from_utf8_lossy(&req.body);
            let status: Option<u16> = frag.split_whitespace().nth(1).and_then(|s| s.parse().ok());
            match status {
                Some(s) if (200..300).contains(&s) => {
                    let _ = call.events.send(LineEvent::TransferResult(Ok(())));
                }
                Some(s) if s >= 300 => {
                    let _ = call.events.send(LineEvent::TransferResult(Err(format!("transfer target answered {s}"))));
                }
                _ => {}
            }
        }
        self.reply(&req, from, 200, "OK", None, &[]).await;
    }

    async fn on_response(&mut self, resp: Message) {
        let key = resp.call_id().to_string();
        if let Some(reg) = &mut self.registration
            && reg.call_id() == key
        {
            reg.on_response(&resp, Instant::now());
            self.poll_registration().await;
            return;
        }
        let (cseq, method) = resp.cseq();
        let status = resp.status().unwrap_or(0);
        if method == "INVITE" {
            self.on_invite_response(&key, resp).await;
            return;
        }
        let Some(call) = self.calls.get_mut(&key) else { return };
        if status < 200 {
            // Provisional: stop retransmitting on UDP, keep waiting (Timer F still runs).
            for tx in call.client.iter_mut().filter(|t| t.cseq == cseq && t.method == method) {
                tx.next = tx.give_up;
            }
            return;
        }
        call.client.retain(|t| !(t.cseq == cseq && t.method == method));
        match method.as_str() {
            "BYE" => {
                tracing::debug!(call = %call.log_id, status, "BYE answered");
                if call.client.is_empty() {
                    self.forget_call(&key);
                }
            }
            "REFER" if status >= 300 => {
                let _ = call.events.send(LineEvent::TransferResult(Err(format!("REFER refused with {status}"))));
            }
            _ => {}
        }
    }

    async fn on_command(&mut self, key: &str, cmd: LegCommand) {
        match cmd {
            LegCommand::Hangup => {
                let Some(call) = self.calls.get_mut(key) else { return };
                match call.state {
                    CallState::Calling => {
                        // Shutting down while a call we placed rings: CANCEL it.
                        if let Some(out) = call.outgoing.as_mut()
                            && !out.cancelled
                        {
                            out.cancelled = true;
                            let (bytes, dest) = (super::uac::cancel(&out.request), out.dest);
                            self.send(&bytes, dest).await;
                        }
                        self.fail_outgoing(key, "cancelled by us".into());
                    }
                    CallState::Ringing { .. } => {
                        let (invite, tag, source) = (call.invite.clone(), call.local_tag.clone(), call.source);
                        self.reply(&invite, source, 480, "Temporarily Unavailable", Some(&tag), &[]).await;
                        self.end_call(key, "app declined");
                        self.forget_call(key);
                    }
                    _ => {
                        self.send_in_dialog(key, "BYE", &[], None).await;
                        self.end_call(key, "hung up by us");
                    }
                }
            }
            LegCommand::Transfer(target) => {
                let contact = self.contact();
                let uri = if target.starts_with("sip:") || target.starts_with("sips:") || target.starts_with("tel:") {
                    target
                } else {
                    let host = self.calls.get(key).map(|c| c.source.ip().to_string()).unwrap_or_default();
                    format!("sip:{target}@{host}")
                };
                self.send_in_dialog(key, "REFER", &[("Refer-To", format!("<{uri}>")), ("Referred-By", contact)], None).await;
            }
        }
    }

    /// Sends a request inside the dialog of `key` and retransmits it until answered.
    async fn send_in_dialog(&mut self, key: &str, method: &'static str, extra: &[(&str, String)], body: Option<(&str, &[u8])>) {
        let Some((bytes, dest)) = self.in_dialog_request(key, method, None, extra, body) else { return };
        let Some(call) = self.calls.get_mut(key) else { return };
        let now = Instant::now();
        call.client.push(ClientTx { bytes: bytes.clone(), dest, next: now + T1, interval: T1, give_up: now + TIMER_F, cseq: call.local_cseq, method });
        // Over the caller's TCP connection when there is one.
        self.send(&bytes, dest).await;
    }

    /// A request inside the dialog of `key` and where it goes. `cseq` None takes the next
    /// local CSeq; an ACK passes its INVITE's.
    fn in_dialog_request(&mut self, key: &str, method: &'static str, cseq: Option<u32>, extra: &[(&str, String)], body: Option<(&str, &[u8])>) -> Option<(Vec<u8>, SocketAddr)> {
        let local = self.socket.local_addr().ok();
        let contact = self.contact();
        let call = self.calls.get_mut(key)?;
        let cseq = match cseq {
            Some(n) => n,
            None => {
                call.local_cseq += 1;
                call.local_cseq
            }
        };
        let invite = &call.invite;
        let target = invite.header("Contact").map(uri_of).unwrap_or_else(|| invite.header("From").map(uri_of).unwrap_or(""));
        // RFC 3261 12.2.1.1: with a route set, the request goes to its first entry (a proxy that
        // record-routed); without one, to the remote target. A Contact on another host than the
        // one the INVITE came from is taken for a NAT-private address, and the request follows
        // the INVITE's source instead (what symmetric signalling behind NAT needs).
        let first_route = invite.headers_named("Record-Route").flat_map(super::message::split_top_level_commas).next();
        let dest = match first_route {
            Some(route) => uri_socket_addr(uri_of(route)).unwrap_or(call.source),
            None => uri_socket_addr(target).filter(|a| a.ip() == call.source.ip()).unwrap_or(call.source),
        };
        let branch = format!("z9hG4bK{:08x}{:08x}", rand_u32(), rand_u32());
        let via_host = local.map(|a| a.to_string()).unwrap_or_default();
        let transport = if self.tcp_conns.contains_key(&dest) { "TCP" } else { "UDP" };
        let from = invite.header("To").map(|to| if param(to, "tag").is_some() { to.to_string() } else { format!("{to};tag={}", call.local_tag) }).unwrap_or_default();
        let to = invite.header("From").unwrap_or("").to_string();
        let mut text = format!(
            "{method} {target} SIP/2.0\r\nVia: SIP/2.0/{transport} {via_host};branch={branch};rport\r\nMax-Forwards: 70\r\nFrom: {from}\r\nTo: {to}\r\nCall-ID: {}\r\nCSeq: {} {method}\r\nContact: {contact}\r\n",
            invite.call_id(),
            cseq
        );
        for r in invite.headers_named("Record-Route").flat_map(super::message::split_top_level_commas) {
            text.push_str(&format!("Route: {}\r\n", r.trim()));
        }
        for (n, v) in extra {
            text.push_str(&format!("{n}: {v}\r\n"));
        }
        let mut bytes = match body {
            Some((ctype, b)) => {
                text.push_str(&format!("Content-Type: {ctype}\r\nContent-Length: {}\r\n\r\n", b.len()));
                let mut v = text.into_bytes();
                v.extend_from_slice(b);
                v
            }
            None => {
                text.push_str("Content-Length: 0\r\n\r\n");
                text.into_bytes()
            }
        };
        bytes.shrink_to_fit();
        Some((bytes, dest))
    }

    /// Stops media and tells the call's logic; the dialog lives on until our BYE is answered.
    fn end_call(&mut self, key: &str, why: &str) {
        if let Some(call) = self.calls.get_mut(key) {
            if let Some(media) = call.media.take() {
                let stats = media.stop();
                let (p50, p99) = stats.pacing_percentiles();
                tracing::info!(
                    call = %call.log_id,
                    why,
                    seconds = call.started.elapsed().as_secs(),
                    rtp_sent = stats.packets_sent,
                    rtp_received = stats.packets_received,
                    rtp_invalid = stats.packets_invalid,
                    frames_missing = stats.frames_missing,
                    jitter_ms = stats.jitter_ms,
                    dtmf = stats.dtmf_digits,
                    rtcp_sent = stats.rtcp_sent,
                    rtcp_received = stats.rtcp_received,
                    pacing_p50_us = p50,
                    pacing_p99_us = p99,
                    "call ended"
                );
                self.counters.calls_ended += 1;
            }
            let _ = call.events.send(LineEvent::Hangup);
            if call.client.is_empty() {
                self.forget_call(key);
            }
        }
    }

    fn forget_call(&mut self, key: &str) {
        if let Some(mut call) = self.calls.remove(key)
            && let Some(media) = call.media.take()
        {
            let _ = media.stop();
        }
    }

    async fn poll_registration(&mut self) {
        let contact = self.contact();
        let Ok(local) = self.socket.local_addr() else { return };
        if let Some(reg) = &mut self.registration
            && let Some((bytes, to)) = reg.poll(Instant::now(), local, &contact)
        {
            self.send(&bytes, to).await;
        }
    }

    async fn on_tick(&mut self) {
        self.poll_registration().await;
        let now = Instant::now();
        let mut to_send: Vec<(Vec<u8>, SocketAddr)> = Vec::new();
        let mut to_answer = Vec::new();
        let mut to_end = Vec::new();
        let mut to_fail: Vec<(String, &'static str)> = Vec::new();
        for (key, call) in self.calls.iter_mut() {
            match &mut call.state {
                CallState::Ringing { answer_at } if now >= *answer_at => to_answer.push(key.clone()),
                CallState::AwaitingAck { response, next, interval, give_up } => {
                    if now >= *give_up {
                        to_end.push((key.clone(), "no ACK for our 200 OK"));
                    } else if now >= *next {
                        to_send.push((response.clone(), call.source));
                        *interval = (*interval * 2).min(T2);
                        *next = now + *interval;
                    }
                }
                _ => {}
            }
            call.client.retain_mut(|tx| retransmit_if_due(tx, now, &mut to_send));
            if let Some(out) = &mut call.outgoing {
                if now >= out.give_up {
                    if out.proceeding && !out.cancelled {
                        // Rang too long: CANCEL, and wait (Timer F) for the 487 that ends it.
                        to_send.push((super::uac::cancel(&out.request), out.dest));
                        out.cancelled = true;
                        out.give_up = now + TIMER_F;
                    } else {
                        to_fail.push((key.clone(), if out.cancelled { "no answer (cancelled after the ring timeout)" } else { "no response to our INVITE" }));
                    }
                } else if !out.proceeding && now >= out.next {
                    // Timer A doubles without the T2 cap (RFC 3261 17.1.1.2).
                    to_send.push((out.bytes.clone(), out.dest));
                    out.interval *= 2;
                    out.next = now + out.interval;
                }
                continue;
            }
            if call.media.is_none() && call.client.is_empty() {
                to_end.push((key.clone(), "dialog finished"));
            }
        }
        for (key, why) in to_fail {
            self.fail_outgoing(&key, why.to_string());
        }
        self.unacked.retain(|_, tx| retransmit_if_due(tx, now, &mut to_send));
        for (bytes, dest) in to_send {
            self.send(&bytes, dest).await;
        }
        for key in to_answer {
            self.answer(&key).await;
        }
        for (key, why) in to_end {
            if self.calls.get(&key).is_some_and(|c| c.media.is_some()) {
                self.send_in_dialog(&key, "BYE", &[], None).await;
                self.end_call(&key, why);
            } else {
                self.forget_call(&key);
            }
        }
        // Answers to non-INVITE requests are kept for 64*T1 (Timer J) for retransmissions.
        self.sent.retain(|_, (_, at)| now.duration_since(*at) < TIMER_F);
    }

    /// An even RTP port and the RTCP port above it, from the configured range.
    fn bind_rtp(&mut self) -> Option<MediaSockets> {
        let (lo, hi) = self.cfg.rtp_ports;
        let lo = lo + lo % 2;
        let span = (hi.saturating_sub(lo)) / 2 + 1;
        for _ in 0..span {
            let port = self.next_rtp_port.max(lo);
            self.next_rtp_port = if port + 2 > hi { lo } else { port + 2 };
            if let Ok(rtp) = StdUdpSocket::bind(SocketAddr::new(self.cfg.listen.ip(), port)) {
                let rtcp = StdUdpSocket::bind(SocketAddr::new(self.cfg.listen.ip(), port + 1)).ok();
                return Some(MediaSockets { rtp, rtcp });
            }
        }
        None
    }
}

const POLICY: Policy = Policy { methods: METHODS, supported_options: &[], max_message_bytes: 65_535 };

/// Accepts SIP over TCP; each connection gets a task that frames messages (Content-Length, as
/// RFC 3261 18.3 requires on streams) and one that writes what the UA sends back.
async fn accept_tcp(listener: tokio::net::TcpListener, events: UnboundedSender<TcpEvent>) {
    loop {
        let Ok((stream, peer)) = listener.accept().await else { continue };
        let (mut reader, mut writer) = stream.into_split();
        let (out_tx, mut out_rx) = unbounded_channel::<Vec<u8>>();
        if events.send(TcpEvent::Opened(peer, out_tx.clone())).is_err() {
            return;
        }
        tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            while let Some(bytes) = out_rx.recv().await {
                if writer.write_all(&bytes).await.is_err() {
                    break;
                }
            }
        });
        let events = events.clone();
        tokio::spawn(async move {
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
                            tracing::debug!(reason = %e.reason, "closing a TCP connection that cannot be framed");
                            break 'conn;
                        }
                    }
                }
            }
            // Give a rejection time to be written before the writer goes with the connection.
            tokio::time::sleep(Duration::from_millis(50)).await;
            let _ = events.send(TcpEvent::Closed(peer));
        });
    }
}

/// Queues `tx` again when its timer is due, doubling the interval up to T2 (Timers E and G);
/// false once it has been given up, so `retain` drops it.
fn retransmit_if_due(tx: &mut ClientTx, now: Instant, to_send: &mut Vec<(Vec<u8>, SocketAddr)>) -> bool {
    if now >= tx.give_up {
        return false;
    }
    if now >= tx.next {
        to_send.push((tx.bytes.clone(), tx.dest));
        tx.interval = (tx.interval * 2).min(T2);
        tx.next = now + tx.interval;
    }
    true
}

/// Server transaction key (RFC 3261 17.2.3): top Via branch plus method, with ACK matched to
/// its INVITE.
fn transaction_key(req: &Message) -> String {
    let method = match req.method() {
        Some("ACK") => "INVITE",
        Some(m) => m,
        None => "",
    };
    format!("{}{}", req.branch(), method)
}
