//! Calls the box places (`frontdesk dial`, transfers by a new call): the INVITE, digest
//! challenges, provisional and final responses, and the ACK.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::*;

/// The INVITE client transaction of a call we placed (RFC 3261 17.1.1).
pub(super) struct Outgoing {
    pub(super) template: crate::sip::uac::InviteTemplate,
    /// The INVITE in flight, as sent: its ACK and CANCEL copy it.
    pub(super) request: Message,
    pub(super) bytes: Vec<u8>,
    pub(super) dest: SocketAddr,
    pub(super) cseq: u32,
    pub(super) next: Instant,
    pub(super) interval: Duration,
    /// Timer B until a provisional response, then the ring timeout.
    pub(super) give_up: Instant,
    pub(super) ring_timeout: Duration,
    pub(super) proceeding: bool,
    pub(super) authenticated: bool,
    pub(super) cancelled: bool,
    pub(super) sockets: Option<MediaSockets>,
    /// The leg's end of the event channel, until the leg exists. In a Mutex only so the UA
    /// (held across awaits) stays Sync; it is never contended.
    pub(super) events_rx: Option<std::sync::Mutex<std::sync::mpsc::Receiver<LineEvent>>>,
    pub(super) result: Sender<Result<(), String>>,
}

impl UserAgent {
    /// Places a call: an SDP offer in an INVITE to the outbound proxy (or the target's host).
    pub(super) async fn on_dial(&mut self, dial: Dial) {
        let proxy = self.cfg.outbound.proxy;
        let Some(dest) =
            proxy.or_else(|| uri_socket_addr(&crate::sip::uac::target_uri(&dial.target, "127.0.0.1:5060".parse().expect("literal"))))
        else {
            let _ = dial.result.send(Err("no sip.outbound_proxy configured and the target has no IP address to send to".into()));
            return;
        };
        let Some(slot) = self.cfg.slots.take() else {
            let _ = dial.result.send(Err("sip.max_calls calls are already in progress (on every line)".into()));
            return;
        };
        let srtp = self.srtp_for(self.is_tls_dest(dest));
        if self.cfg.media_encryption == MediaEncryption::Required && srtp.is_none() {
            let _ = dial.result.send(Err(
                "sip.media_encryption is \"required\": calls go out with SRTP, over TLS only ([registration] transport = \"tls\")".into(),
            ));
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
            srtp,
        };
        let sdp_session = rand_u32() as u64;
        let offer = sdp::offer(&local_media, sdp_session, 1, Direction::SendRecv);
        let host = match self.cfg.public_ip {
            IpAddr::V6(v6) => format!("[{v6}]"),
            v4 => v4.to_string(),
        };
        let from_tag = format!("{:08x}{:04x}", rand_u32(), rand_u32() & 0xffff);
        let from_uri = self.cfg.outbound.from_uri.clone().unwrap_or_else(|| format!("sip:frontdesk@{host}"));
        let template = crate::sip::uac::InviteTemplate {
            target: crate::sip::uac::target_uri(&dial.target, dest),
            from: format!("<{from_uri}>;tag={from_tag}"),
            call_id: format!("{:08x}{:08x}@{host}", rand_u32(), rand_u32()),
            contact: self.contact_for(dest),
            route: proxy.map(|p| format!("<sip:{p};lr>")),
            via: self.via_for(dest, SocketAddr::new(self.cfg.public_ip, local.port())),
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
            srtp: false,
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
            _slot: slot,
        };
        self.calls.insert(key, call);
        self.send(&bytes, dest).await;
    }

    /// A response to the INVITE of a call we placed.
    pub(super) async fn on_invite_response(&mut self, key: &str, resp: Message) {
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
            let ack = crate::sip::uac::ack_for_failure(&out.request, &resp);
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
                let answer = crate::sip::digest::Challenge::select(resp.headers_named(header)).and_then(|ch| {
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
                crate::sip::message::StartLine::Response { reason, .. } => reason.clone(),
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
        let Some(view) = crate::sip::uac::dialog_view(&out.request, &resp, call.source) else {
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
            srtp: negotiated.srtp.clone(),
        };
        let dialled = uri_user(&out.template.target).map(str::to_string);
        let info = CallInfo { caller: None, caller_name: None, dialled, log_id: call.log_id.clone() };
        let events_tx = call.events.clone();
        match self.launch(key, info, sockets, params, events_tx.clone(), events_rx) {
            Ok(media) => {
                let Some(call) = self.calls.get_mut(key) else { return };
                let srtp = negotiated.srtp.as_ref().map(|k| k.suite.sdes_name()).unwrap_or("off");
                tracing::info!(call = %call.log_id, codec = ?negotiated.codec, srtp, "outgoing call answered");
                call.media = Some(media);
                call.srtp = negotiated.srtp.is_some();
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

    /// A connection to `peer` could not be made: the registration and the calls we are
    /// placing there fail now, with the reason.
    pub(super) fn on_unreachable(&mut self, peer: SocketAddr, why: String) {
        if let Some(reg) = &mut self.registration
            && self.cfg.registration.as_ref().is_some_and(|r| r.registrar == peer)
        {
            reg.unreachable(Instant::now(), why.clone());
        }
        let calling: Vec<String> =
            self.calls.iter().filter(|(_, c)| matches!(c.state, CallState::Calling) && c.source == peer).map(|(k, _)| k.clone()).collect();
        for key in calling {
            self.fail_outgoing(&key, why.clone());
        }
    }

    /// The stream connection to `peer` closed: if the registration was made over it (TLS), it
    /// is made again over a new one.
    pub(super) fn on_stream_closed(&mut self, peer: SocketAddr) {
        if let Some(reg) = &mut self.registration
            && self.cfg.registration.as_ref().is_some_and(|r| r.registrar == peer && r.reliable)
        {
            reg.flow_lost(Instant::now());
        }
    }

    /// A call we placed did not get through: tell whoever asked, and forget it.
    pub(super) fn fail_outgoing(&mut self, key: &str, why: String) {
        if let Some(mut call) = self.calls.remove(key)
            && let Some(out) = call.outgoing.take()
        {
            tracing::info!(call = %call.log_id, why = %why, "outgoing call failed");
            let _ = out.result.send(Err(why));
        }
    }
}
