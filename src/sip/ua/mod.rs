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

use crate::audio::g711::Law;
use crate::entropy::u32 as rand_u32;
use crate::line::{Answer, CallInfo, LineEvent};
use crate::rtp::session::{MediaChannels, MediaParams, MediaSession, MediaSockets};
use crate::sip::acl::Acl;
use crate::sip::leg::{LegCommand, SipLeg};
use crate::sip::message::{Message, param, response, response_address, uri_of, uri_socket_addr, uri_user};
use crate::sip::sdp::{self, Codec, Direction, LocalMedia, SessionDescription};
use crate::sip::wire::{self, Policy, Transport};

mod incoming;
mod outgoing;
mod tls;
mod transactions;
mod transport;
mod trunk;

pub use tls::TlsListen;
pub use trunk::{TrunkTls, parse_pin, server_name};

use outgoing::Outgoing;
use transactions::{ClientTx, transaction_key};
use transport::{TcpEvent, accept_tcp};

const T1: Duration = Duration::from_millis(500);
const T2: Duration = Duration::from_secs(4);
const TIMER_F: Duration = Duration::from_secs(32);
use crate::sip::{ALLOW, METHODS};
/// Timer B (RFC 3261 17.1.1.2): an INVITE nobody answers, not even with 100 Trying.
const TIMER_B: Duration = Duration::from_secs(32);

#[derive(Clone)]
pub struct UaConfig {
    pub listen: SocketAddr,
    pub public_ip: IpAddr,
    pub allowed_sources: Vec<String>,
    /// Calls in progress on every line of the box, against `max_calls`.
    pub slots: crate::line::CallSlots,
    pub busy_status: u16,
    pub ringing: Duration,
    pub codecs: Vec<Codec>,
    pub rtp_ports: (u16, u16),
    pub user_agent: String,
    pub registration: Option<super::register::RegistrationConfig>,
    pub outbound: OutboundConfig,
    pub jitter: crate::rtp::jitter::JitterDepth,
    /// SIP over TLS (`[sip.tls]`), beside UDP and TCP.
    pub tls: Option<TlsListen>,
    /// SIP over TLS to the registrar (`[registration] transport = "tls"`).
    pub trunk_tls: Option<TrunkTls>,
    /// SRTP: required, used when offered over TLS, or never.
    pub media_encryption: MediaEncryption,
}

pub use crate::sip::settings::MediaEncryption;

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

enum CallState {
    /// Our INVITE is out (a call we placed); see `Call::outgoing`.
    Calling,
    /// 180 sent; answer at this instant.
    Ringing {
        answer_at: Instant,
    },
    /// 200 OK sent, retransmitting until the ACK.
    AwaitingAck {
        response: Vec<u8>,
        next: Instant,
        interval: Duration,
        give_up: Instant,
    },
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
    /// The call's media is SRTP (it stays so across re-INVITEs).
    srtp: bool,
    client: Vec<ClientTx>,
    started: Instant,
    /// For a call we placed: its INVITE transaction, until the final response.
    outgoing: Option<Outgoing>,
    /// The ACK of our answered INVITE, sent again if the 2xx is (RFC 3261 13.2.2.4).
    ack: Option<(Vec<u8>, SocketAddr)>,
    /// The call's place in the box's `max_calls`, given back when the call is dropped.
    _slot: crate::line::CallSlot,
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
    /// Those of them that are TLS.
    tls_peers: std::collections::HashSet<SocketAddr>,
    /// The TLS listener and its certificate, bound at start.
    tls: Option<(tokio::net::TcpListener, Arc<tls::Certificates>)>,
    tcp_in_tx: UnboundedSender<TcpEvent>,
    tcp_in_rx: UnboundedReceiver<TcpEvent>,
    /// Whether the request being handled came over a TLS connection (set per message, from
    /// the transport it arrived on, never from what its headers say).
    request_over_tls: bool,
    /// The TLS client configuration for the registrar, built at start (a bad `tls_ca` stops
    /// it), until `run` starts the connection task.
    trunk_config: Option<Arc<tokio_rustls::rustls::ClientConfig>>,
    /// The registrar's address and the connection task's queue, once running.
    trunk: Option<(SocketAddr, UnboundedSender<Vec<u8>>)>,
    dial_tx: UnboundedSender<Dial>,
    dial_rx: UnboundedReceiver<Dial>,
}

impl UserAgent {
    pub async fn bind(cfg: UaConfig, app: Answer) -> std::io::Result<Self> {
        let socket = Arc::new(UdpSocket::bind(cfg.listen).await?);
        let tcp = tokio::net::TcpListener::bind(socket.local_addr()?).await?;
        let tls = match &cfg.tls {
            Some(t) => {
                let certs = tls::Certificates::new(t.clone()).map_err(|e| std::io::Error::other(format!("{e:#}")))?;
                let listener = tokio::net::TcpListener::bind(t.listen)
                    .await
                    .map_err(|e| std::io::Error::other(format!("sip.tls.listen {}: {e}", t.listen)))?;
                Some((listener, Arc::new(certs)))
            }
            None => None,
        };
        let trunk_config = match &cfg.trunk_tls {
            Some(t) => Some(trunk::client_config(t).map_err(|e| std::io::Error::other(format!("{e:#}")))?),
            None => None,
        };
        let (commands_tx, commands_rx) = unbounded_channel();
        let (tcp_in_tx, tcp_in_rx) = unbounded_channel();
        let (dial_tx, dial_rx) = unbounded_channel();
        Ok(UserAgent {
            dial_tx,
            dial_rx,
            tcp: Some(tcp),
            tcp_conns: HashMap::new(),
            tls_peers: Default::default(),
            tls,
            trunk_config,
            trunk: None,
            request_over_tls: false,
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

    /// Puts the line's phrase in the box's status (`health`): registered or not, or where it
    /// listens when it registers nowhere.
    pub fn publish_status(&self) {
        match &self.registration {
            Some(r) => r.publish(),
            None => crate::health::set_status("sip", format!("listening on {}", self.cfg.listen)),
        }
    }

    /// Serves until `shutdown` resolves, then ends every call with a BYE.
    pub async fn run(mut self, shutdown: impl std::future::Future<Output = ()>) {
        tracing::info!(listen = %self.cfg.listen, "SIP user agent listening (UDP and TCP)");
        // The watchdog's proof that this loop turns: the tick below comes every 10 ms.
        let beat = crate::health::Beat::new("the SIP socket loop", crate::health::Kind::Periodic);
        if let Some(listener) = self.tcp.take() {
            tokio::spawn(accept_tcp(listener, self.tcp_in_tx.clone()));
        }
        if let Some((listener, certs)) = self.tls.take() {
            tracing::info!(listen = %self.cfg.tls.as_ref().map(|t| t.listen.to_string()).unwrap_or_default(), "SIP over TLS listening (TLS 1.2 and 1.3)");
            tokio::spawn(tls::accept_tls(listener, certs, self.tcp_in_tx.clone()));
        }
        if let (Some(t), Some(config)) = (self.cfg.trunk_tls.clone(), self.trunk_config.take()) {
            tracing::info!(registrar = %t.addr, name = %t.server_name, pinned = !t.pins.is_empty(), "SIP over TLS to the registrar");
            let addr = t.addr;
            self.trunk = Some((addr, trunk::start(t, config, self.tcp_in_tx.clone())));
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
                    TcpEvent::Opened(peer, writer, tls) => {
                        self.tcp_conns.insert(peer, writer);
                        if tls {
                            self.tls_peers.insert(peer);
                        }
                    }
                    TcpEvent::Message(bytes, peer) => self.on_message(&bytes, peer, Transport::Tcp).await,
                    TcpEvent::Rejected(bytes, peer) => self.send(&bytes, peer).await,
                    TcpEvent::Closed(peer) => {
                        self.tcp_conns.remove(&peer);
                        self.tls_peers.remove(&peer);
                        self.on_stream_closed(peer);
                    }
                    TcpEvent::Unreachable(peer, why) => self.on_unreachable(peer, why),
                },
                _ = tick.tick() => {
                    beat.tick();
                    self.on_tick().await
                }
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

    async fn on_datagram(&mut self, bytes: &[u8], from: SocketAddr) {
        self.on_message(bytes, from, Transport::Udp).await;
    }

    async fn on_message(&mut self, bytes: &[u8], from: SocketAddr, transport: Transport) {
        // Keep-alive pings (CRLF) are answered by nothing and counted by nobody.
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            return;
        }
        // Over UDP a response goes where RFC 3261 18.2.2 says (the top Via's port unless it
        // asks for rport); over TCP back on the connection it came on.
        self.request_over_tls = matches!(transport, Transport::Tcp) && self.tls_peers.contains(&from);
        let reply_to = |top_via: Option<&str>| match transport {
            Transport::Udp => response_address(top_via, from),
            Transport::Tcp => from,
        };
        let parsed = match wire::parse_parts(bytes, transport, &POLICY) {
            Ok(p) => Message::from_parsed(&p),
            Err(e) => {
                match e.rejection {
                    Some(rej) if rej.method.as_deref() != Some("ACK") => {
                        self.counters.rejected_malformed += 1;
                        tracing::debug!(reason = %e.reason, status = rej.status, "rejected a malformed request");
                        let tag = format!("{:08x}", rand_u32());
                        let resp = wire::rejection_response(&rej, &tag, &self.cfg.user_agent);
                        self.send(&resp, reply_to(rej.echo.via.first().map(String::as_str))).await;
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
            Some(_) => {
                let to = reply_to(parsed.headers_named("Via").next());
                self.on_request(parsed, to).await
            }
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
                let tx = ClientTx {
                    bytes: bytes.clone(),
                    dest: from,
                    next: now + T1,
                    interval: T1,
                    give_up: now + TIMER_F * 2,
                    cseq: 0,
                    method: "INVITE",
                };
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
                let extra =
                    [("Allow", ALLOW.to_string()), ("Accept", "application/sdp".to_string()), ("Server", self.cfg.user_agent.clone())];
                let tag = req.to_tag().is_none().then(|| format!("{:08x}", rand_u32()));
                self.reply(&req, from, 200, "OK", tag.as_deref(), &extra).await;
            }
            "INFO" => self.on_info(req, from, &key).await,
            "NOTIFY" => self.on_notify(req, from, &key).await,
            _ => self.reply(&req, from, 501, "Not Implemented", None, &[("Allow", ALLOW.to_string())]).await,
        }
    }
}

const POLICY: Policy = Policy { methods: METHODS, supported_options: &[], max_message_bytes: 65_535 };
