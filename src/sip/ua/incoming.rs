//! Calls the box answers: the dialog from INVITE to BYE, re-INVITEs (hold), CANCEL, key
//! presses by INFO, NOTIFY of a transfer, and what the call's app asks of the user agent.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::*;

impl UserAgent {
    pub(super) async fn on_new_invite(&mut self, req: Message, from: SocketAddr) {
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

        let Some(slot) = self.cfg.slots.take() else {
            self.counters.busy += 1;
            tracing::info!(active = self.cfg.slots.in_use(), "call refused: max_calls reached (calls on every line count)");
            let (status, reason, extra) = if self.cfg.busy_status == 503 {
                (503, "Service Unavailable", vec![("Retry-After", "30".to_string())])
            } else {
                (486, "Busy Here", vec![])
            };
            let tag = format!("{:08x}", rand_u32());
            self.reply(&req, from, status, reason, Some(&tag), &extra).await;
            return;
        };
        let local_tag = format!("{:08x}{:04x}", rand_u32(), rand_u32() & 0xffff);
        let offer = match std::str::from_utf8(&req.body).ok().filter(|b| !b.trim().is_empty()).map(SessionDescription::parse) {
            Some(Ok(o)) => o,
            Some(Err(_)) => {
                self.reply(&req, from, 400, "Bad Request", Some(&local_tag), &[("Warning", "399 frontdesk \"Malformed SDP\"".into())])
                    .await;
                return;
            }
            None => {
                self.reply(
                    &req,
                    from,
                    488,
                    "Not Acceptable Here",
                    Some(&local_tag),
                    &[("Warning", "304 frontdesk \"An SDP offer is required\"".into())],
                )
                .await;
                return;
            }
        };
        let srtp = self.srtp_for(self.request_over_tls);
        if self.cfg.media_encryption == MediaEncryption::Required && srtp.is_none() {
            tracing::info!("call refused: sip.media_encryption is \"required\" and the INVITE did not come over TLS");
            let warning = "399 frontdesk \"SRTP over TLS is required (sips or transport=tls)\"";
            self.reply(&req, from, 488, "Not Acceptable Here", Some(&local_tag), &[("Warning", warning.into())]).await;
            return;
        }
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
            srtp,
        };
        let sdp_session = rand_u32() as u64;
        let answer = match sdp::answer(&offer, &local_media, sdp_session, 1) {
            Ok(a) => a,
            Err(e) => {
                tracing::info!("call refused: {e}");
                let warning = match e {
                    sdp::SdpError::EncryptionRequired | sdp::SdpError::EncryptionRefused => format!("399 frontdesk \"{e}\""),
                    _ => "305 frontdesk \"Incompatible media format\"".into(),
                };
                self.reply(&req, from, 488, "Not Acceptable Here", Some(&local_tag), &[("Warning", warning)]).await;
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
            srtp: answer.srtp.clone(),
        };
        let srtp = answer.srtp.as_ref().map(|k| k.suite.sdes_name()).unwrap_or("off");
        tracing::info!(call = %log, codec = ?answer.codec, srtp, "incoming call");
        tracing::debug!(call = %log, caller = %caller.as_deref().map(crate::logging::tag).unwrap_or_default(), dialled = ?dialled, "incoming call parties");
        let info = CallInfo { caller, caller_name: None, dialled, log_id: log.clone() };
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
            srtp: answer.srtp.is_some(),
            answer_sdp: answer.sdp.into_bytes(),
            client: Vec::new(),
            started: Instant::now(),
            outgoing: None,
            ack: None,
            _slot: slot,
        };
        if self.cfg.ringing > Duration::ZERO {
            let ringing = response(&req, from, 180, "Ringing", Some(&local_tag), &[("Contact", self.contact_for(from))], None);
            self.send(&ringing, from).await;
            call.state = CallState::Ringing { answer_at: Instant::now() + self.cfg.ringing };
            self.calls.insert(key, call);
        } else {
            self.calls.insert(key.clone(), call);
            self.answer(&key).await;
        }
    }

    /// Starts a call's media thread and its app (on a thread of its own) on the leg.
    pub(super) fn launch(
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

    pub(super) fn contact(&self) -> String {
        let port = self.socket.local_addr().map(|a| a.port()).unwrap_or(5060);
        format!("<sip:frontdesk@{}:{port}>", self.public_host())
    }

    fn public_host(&self) -> String {
        match self.cfg.public_ip {
            IpAddr::V6(v6) => format!("[{v6}]"),
            v4 => v4.to_string(),
        }
    }

    /// Our Contact in a dialog with `peer`: over TLS the TLS port with `transport=tls`, so
    /// what the peer sends in the dialog comes over TLS too (RFC 3261 26.2.2 leaves `sips:`
    /// to end-to-end TLS, which a hop to a PBX is not).
    pub(super) fn contact_for(&self, peer: SocketAddr) -> String {
        if self.is_tls_dest(peer) { format!("<sip:frontdesk@{};transport=tls>", self.tls_sent_by()) } else { self.contact() }
    }

    /// SRTP for a call whose signalling is TLS (`over_tls`: SDES keys must never cross the
    /// network in the clear), unless `sip.media_encryption` is "off"; a fresh key per call.
    pub(super) fn srtp_for(&self, over_tls: bool) -> Option<sdp::LocalSrtp> {
        let required = match self.cfg.media_encryption {
            MediaEncryption::Off => return None,
            MediaEncryption::Optional => false,
            MediaEncryption::Required => true,
        };
        over_tls.then(|| sdp::LocalSrtp { key: crate::rtp::srtp::MasterKey::random(), required })
    }

    /// A peer reached over TLS: a connection it opened to `[sip.tls]`, or the registrar when
    /// the trunk uses TLS.
    pub(super) fn is_tls_dest(&self, peer: SocketAddr) -> bool {
        self.tls_peers.contains(&peer) || self.trunk.as_ref().is_some_and(|(a, _)| *a == peer)
    }

    /// Our host and port in a TLS Via or Contact: the `[sip.tls]` listener, or without one
    /// the SIP port (a peer then reaches us over the connection we opened, RFC 5923 alias).
    pub(super) fn tls_sent_by(&self) -> String {
        let port = self.cfg.tls.as_ref().map(|t| t.listen.port()).unwrap_or(self.cfg.listen.port());
        format!("{}:{port}", self.public_host())
    }

    /// Our Via after `SIP/2.0/` for a request to `dest`: TLS (with `alias`, so the peer may
    /// send its requests back over our connection), TCP on a peer's connection, else UDP
    /// from `udp` (our SIP socket's address).
    pub(super) fn via_for(&self, dest: SocketAddr, udp: SocketAddr) -> String {
        if self.is_tls_dest(dest) {
            format!("TLS {};alias", self.tls_sent_by())
        } else if self.tcp_conns.contains_key(&dest) {
            format!("TCP {udp}")
        } else {
            format!("UDP {udp}")
        }
    }

    pub(super) async fn answer(&mut self, key: &str) {
        let Some(source) = self.calls.get(key).map(|c| c.source) else { return };
        let contact = self.contact_for(source);
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

    pub(super) fn on_ack(&mut self, req: &Message, key: &str) {
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

    pub(super) async fn on_reinvite(&mut self, req: Message, from: SocketAddr, key: &str) {
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
        let over_tls = self.request_over_tls;
        let Some(call) = self.calls.get_mut(key) else { return };
        // An SRTP call stays SRTP: the offer must be SRTP and come over TLS (no downgrade, no
        // key of ours in the clear), and our answer carries a fresh key (never the old key on
        // a new context). A plain call stays plain.
        let mut local = call.local_media.clone();
        match (&mut local.srtp, call.srtp) {
            (Some(s), true) if over_tls => {
                s.required = true;
                s.key = crate::rtp::srtp::MasterKey::random();
            }
            (_, true) => {
                tracing::warn!(call = %call.log_id, "re-INVITE refused: an SRTP call's re-INVITE came without TLS");
                self.reply(&req, from, 488, "Not Acceptable Here", None, &[]).await;
                return;
            }
            (_, false) => local.srtp = None,
        }
        call.sdp_version += 1;
        let answer = match sdp::answer(&offer, &local, call.sdp_session, call.sdp_version) {
            Ok(a) => a,
            Err(_) => {
                self.reply(&req, from, 488, "Not Acceptable Here", None, &[]).await;
                return;
            }
        };
        call.local_media = local;
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
                p.srtp = answer.srtp.clone();
            });
        }
        let _ = call.events.send(LineEvent::Hold(on_hold));
        tracing::info!(call = %call.log_id, on_hold, "re-INVITE");
        call.answer_sdp = answer.sdp.into_bytes();
        call.invite = req;
        call.source = from;
        self.answer(key).await;
    }

    pub(super) async fn on_bye(&mut self, req: Message, from: SocketAddr, key: &str) {
        let matches = self.calls.get(key).is_some_and(|c| req.to_tag().as_deref() == Some(c.local_tag.as_str()));
        if !matches {
            self.reply(&req, from, 481, "Call/Transaction Does Not Exist", None, &[]).await;
            return;
        }
        self.reply(&req, from, 200, "OK", None, &[]).await;
        self.end_call(key, "caller hung up");
    }

    pub(super) async fn on_cancel(&mut self, req: Message, from: SocketAddr, key: &str) {
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

    pub(super) async fn on_info(&mut self, req: Message, from: SocketAddr, key: &str) {
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

    pub(super) async fn on_notify(&mut self, req: Message, from: SocketAddr, key: &str) {
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

    pub(super) async fn on_command(&mut self, key: &str, cmd: LegCommand) {
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
                            let (bytes, dest) = (crate::sip::uac::cancel(&out.request), out.dest);
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
                let contact = self.calls.get(key).map(|c| self.contact_for(c.source)).unwrap_or_else(|| self.contact());
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

    /// Stops media and tells the call's logic; the dialog lives on until our BYE is answered.
    pub(super) fn end_call(&mut self, key: &str, why: &str) {
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
                crate::metrics::rtp_call_ended(
                    stats.packets_received,
                    stats.frames_missing,
                    stats.packets_invalid,
                    f64::from(stats.jitter_ms),
                );
                self.counters.calls_ended += 1;
            }
            let _ = call.events.send(LineEvent::Hangup);
            if call.client.is_empty() {
                self.forget_call(key);
            }
        }
    }

    pub(super) fn forget_call(&mut self, key: &str) {
        if let Some(mut call) = self.calls.remove(key)
            && let Some(media) = call.media.take()
        {
            let _ = media.stop();
        }
    }

    /// An even RTP port and the RTCP port above it, from the configured range.
    pub(super) fn bind_rtp(&mut self) -> Option<MediaSockets> {
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
